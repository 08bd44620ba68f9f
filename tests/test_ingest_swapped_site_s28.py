"""An image that misses a site drawn as lat,lon says so (session 28).

A site whose longitude and latitude are both within ±90° passes ``site add`` when
given as lat,lon (Amsterdam's yard, 4.90 E 52.38 N, lands in the Indian Ocean at
52.38 E 4.90 N). Every image of the yard then "does not overlap" and the hint
named only the image's CRS and geotransform, which are right; it now says that the
site's numbers look exchanged and how to redo it. An image that is simply elsewhere
keeps the CRS hint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer

from helpers import make_geotiff
from railwatch.cli.main import main

UTM31 = "EPSG:32631"
LON, LAT = 4.90, 52.38
SWAPPED_BBOX = f"{LAT - 0.002},{LON - 0.002},{LAT + 0.002},{LON + 0.002}"  # lat,lon order


def _image(path: Path, lon: float, lat: float) -> Path:
    x, y = Transformer.from_crs("EPSG:4326", UTM31, always_xy=True).transform(lon, lat)
    return make_geotiff(
        path,
        crs=UTM31,
        origin=(x - 300.0, y + 300.0),
        gsd=1.0,
        width=600,
        height=600,
        tags={"TIFFTAG_DATETIME": "2023:10:05 02:30:00"},
    )


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, json.loads(out), err


@pytest.fixture
def db(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--db", tmp_db_url, "site", "add", "ams", "--bbox", SWAPPED_BBOX]) == 0
    capsys.readouterr()
    return tmp_db_url


def test_ingest_of_the_yard_names_the_swapped_site(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tif = _image(tmp_path / "ams.tif", LON, LAT)
    code, summary, _ = _run(capsys, "--db", db, "ingest", "ams", str(tif), "--json")
    assert code == 1 and not summary["ingested"]
    reason = summary["skipped"][0]["reason"]
    assert "does not overlap site ams" in reason
    assert "longitude and latitude were exchanged" in reason
    # add it anew first (session 32: "remove it" would delete a site's stored data)
    assert "add it again under a new name" in reason and "site remove" not in reason
    assert "check its CRS" not in reason  # the image is right; the site is not


def test_image_elsewhere_keeps_the_crs_hint(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tif = _image(tmp_path / "rotterdam.tif", 4.47, 51.92)  # swapping the site does not help
    code, summary, _ = _run(capsys, "--db", db, "ingest", "ams", str(tif), "--json")
    assert code == 1
    reason = summary["skipped"][0]["reason"]
    assert "check its CRS (EPSG:32631) and geotransform" in reason
    assert "exchanged" not in reason


def test_stac_item_over_the_yard_names_the_swapped_site(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pystac")
    _image(tmp_path / "ams.tif", LON, LAT)
    d = 0.004
    ring = [[LON - d, LAT - d], [LON + d, LAT - d], [LON + d, LAT + d], [LON - d, LAT + d]]
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "ams",
        "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
        "bbox": [LON - d, LAT - d, LON + d, LAT + d],
        "properties": {"datetime": "2023-10-05T02:30:00Z", "gsd": 1.0},
        "assets": {"image": {"href": "ams.tif", "type": "image/tiff", "roles": ["data"]}},
        "links": [],
    }
    path = tmp_path / "item.json"
    path.write_text(json.dumps(item))
    code, summary, _ = _run(capsys, "--db", db, "ingest-stac", "ams", "--stac", str(path), "--json")
    assert code == 0 and not summary["ingested"]
    reason = summary["skipped"][0]["reason"]
    assert reason.startswith("outside the site")
    assert "longitude and latitude were exchanged" in reason
