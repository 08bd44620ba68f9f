"""Session 53 (2026-12-08): ``railwatch ingest-stac`` took an asset's georeferencing
on trust. A NaN origin or a local (engineering) CRS failed the item as "unexpected
error: GEOSException" / "CPLE_NotSupportedError", 0 m pixels as "holds no data over
the site", and a grid of 1e12 m pixels was registered at the item's gsd. Each item
now fails with ``imagery.inspect.grid_problem``'s words, as ``railwatch ingest`` says
them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from pyproj import CRS, Transformer
from rasterio.transform import Affine

from railwatch.cli.main import main

X0, Y0 = 634358.54, 4684372.18  # UTM 52N, near Tumangang
LOCAL = CRS.from_wkt(
    'ENGCRS["site grid",EDATUM["local"],CS[Cartesian,2],'
    'AXIS["x",east,ORDER[1],LENGTHUNIT["metre",1]],AXIS["y",north,ORDER[2],LENGTHUNIT["metre",1]]]'
)
GRIDS: dict[str, tuple[Any, Affine]] = {
    "zero": ("EPSG:32652", Affine(0, 0, X0, 0, 0, Y0)),
    "nan": ("EPSG:32652", Affine(0.5, 0, float("nan"), 0, -0.5, float("nan"))),
    "local": (LOCAL, Affine(0.5, 0, 100, 0, -0.5, 200)),
    "huge": ("EPSG:32652", Affine(1e12, 0, X0, 0, -1e12, Y0)),
    "good": ("EPSG:32652", Affine(0.5, 0, X0, 0, -0.5, Y0)),
}
SAID = {
    "zero": "zero.tif's geotransform (0, 0, 634359, 0, 0, 4.68437e+06",
    "nan": "nan.tif's geotransform (0.5, 0, nan, 0, -0.5, nan",
    "local": "is a local (engineering) grid tied to no place on the Earth",
    "huge": "have no longitude and latitude",
}


def _item(name: str, box: tuple[float, float, float, float]) -> dict[str, Any]:
    w, s, e, n = box
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": name,
        "collection": "yards",
        "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
        "bbox": [w, s, e, n],
        "properties": {"datetime": "2023-10-05T02:30:00Z", "gsd": 0.5},
        "assets": {"image": {"href": f"{name}.tif", "type": "image/tiff", "roles": ["data"]}},
        "links": [],
    }


def test_an_asset_whose_grid_places_nothing_on_the_earth_fails_its_item(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pystac")
    pixels = np.random.default_rng(53).integers(20, 200, (3, 128, 128), dtype=np.uint8)
    for name, (crs, transform) in GRIDS.items():
        profile = {"driver": "GTiff", "width": 128, "height": 128, "count": 3, "dtype": "uint8"}
        with rasterio.open(
            tmp_path / f"{name}.tif", "w", crs=crs, transform=transform, **profile
        ) as ds:
            ds.write(pixels)
    lon, lat = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True).transform(
        X0 + 32, Y0 - 32
    )
    footprint = (lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)
    items = {"type": "FeatureCollection", "features": [_item(n, footprint) for n in GRIDS]}
    (tmp_path / "items.json").write_text(json.dumps(items))
    site = f"{lon - 0.0002},{lat - 0.0002},{lon + 0.0002},{lat + 0.0002}"
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--bbox", site]) == 0
    capsys.readouterr()
    argv = ["--db", tmp_db_url, "ingest-stac", "yard", "--stac", str(tmp_path / "items.json")]
    assert main([*argv, "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert [Path(s["uri"]).name for s in summary["ingested"]] == ["good.tif"]
    failed = {f["file"].split("/")[-1]: " ".join(f["reason"].split()) for f in summary["failed"]}
    assert set(failed) == set(SAID), summary
    for name, words in SAID.items():
        assert words in failed[name], failed[name]
        assert "unexpected error" not in failed[name]
        assert f"gdal_translate -a_srs EPSG:CODE -a_ullr ULX ULY LRX LRY {name}.tif" in failed[name]
