"""A file's CRS is named by an EPSG code only where that code is the same CRS
(2026-12-06, session 40): rasterio's ``to_epsg()`` matches at 70 % confidence, so a UTM
zone on the Bessel ellipsoid without a datum was stored and written as EPSG:3093 (Tokyo
datum) and one on the WGS84 ellipsoid without a datum as EPSG:23872 (DGN95): another
datum, which a GIS then shifts by up to hundreds of metres. Such CRSs are written as
their WKT; CRSs that are an EPSG code keep it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin

from railwatch.cli.main import main
from railwatch.imagery.inspect import crs_text, inspect_scene


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("EPSG:32652", "EPSG:32652"),
        ("+proj=utm +zone=52 +datum=WGS84 +units=m +no_defs", "EPSG:32652"),
        ("EPSG:2056", "EPSG:2056"),
        ("EPSG:4326", "EPSG:4326"),
        ("+proj=utm +zone=52 +ellps=bessel +units=m", None),
        ("+proj=utm +zone=52 +ellps=WGS84 +units=m", None),
    ],
)
def test_crs_text_names_an_epsg_code_only_for_the_same_crs(given: str, code: str | None) -> None:
    crs = CRS.from_user_input(given)
    text = crs_text(crs)
    if code is not None:
        assert text == code
    else:
        assert not text.startswith("EPSG:")
        assert CRS.from_user_input(text) == crs  # the WKT is the file's own CRS


def _image(path: Path, crs: str) -> Path:
    rng = np.random.default_rng(0)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=64,
        height=64,
        count=3,
        dtype="uint8",
        crs=crs,
        transform=from_origin(600000, 4700000, 0.5, 0.5),
    ) as dst:
        dst.write(rng.integers(60, 90, (3, 64, 64), dtype=np.uint8))
    return path


def test_detect_and_ingest_name_a_bessel_utm_image_by_its_own_crs(tmp_path: Path) -> None:
    img = _image(tmp_path / "20240501_bessel.tif", "+proj=utm +zone=52 +ellps=bessel +units=m")
    out = tmp_path / "bessel.geojson"
    assert main(["detect", str(img), "-o", str(out)]) == 0
    name = json.loads(out.read_text())["crs"]["properties"]["name"]
    assert not name.startswith("EPSG:") and "Bessel" in name
    assert not inspect_scene(str(img)).crs.startswith("EPSG:")
    utm = _image(tmp_path / "20240501_utm.tif", "EPSG:32652")
    assert inspect_scene(str(utm)).crs == "EPSG:32652"
