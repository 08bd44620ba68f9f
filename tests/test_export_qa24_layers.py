"""What a GIS analyst reads in the exported layers (session 24 QA), opened with GDAL
(pyogrio) and pandas as QGIS or a notebook would.

Before: a scene that failed (a 3 m image in which no track was read, a file changed
since ingest) had its error in no layer, and its counts row read exactly as one not
processed yet (``usable`` and ``count`` empty, nothing saying why); the number of cars
of a type and of covered loads, always whole, were Real columns (``6.0``).
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from railwatch.export.gis import export_site
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import SITE_UTM, FakeCount, FakeInfo, FakeQuality, add_counted_scene, to_wgs84

T0 = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)


def _scene(session: Any, site: Any, day: int) -> int:
    from shapely.geometry import box

    info = FakeInfo(
        uri=f"/nowhere/q{day}.tif",
        content_hash=f"{day + 900:064d}",
        acquired=T0 + timedelta(days=day),
        crs="EPSG:32652",
        footprint=to_wgs84(box(550_000, 4_694_800, 550_400, 4_695_000)),
        gsd=0.5,
        width=800,
        height=400,
    )
    scene, _ = repo.add_scene(session, site, info, 1.0)
    return int(scene.id)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("qa24layers")
    database = Database(f"sqlite:///{tmp / 'rw.db'}")
    with database.session() as s:
        site = repo.add_site(
            s, SiteSpec(name="mixed", geometry=to_wgs84(SITE_UTM), description="Хасан 豆满江")
        )
        count = FakeCount(10.0, 9.0, 12.0, {"tank": (4, 4, 4), "railcar": (6, 6, 6)}, 3)
        add_counted_scene(s, site, T0, 0.5, count, 1)
        cloudy = _scene(s, site, 1)
        repo.record_scene_result(
            s, cloudy, FakeQuality(0.2, cloud_fraction=0.8, usable=False,
                                   reasons=("cloud 80% of the site",)), [], None, "t", "1",
        )  # fmt: skip
        failed = _scene(s, site, 2)
        repo.mark_scene_failed(s, failed, "no track was read at 3 m: give the site centrelines")
        _scene(s, site, 3)  # ingested, not processed
    yield database
    database.dispose()


ROWS = ("counted", "cloudy", "failed", "pending")


def _check_rows(rows: list[dict[str, Any]]) -> None:
    by = dict(zip(ROWS, rows, strict=True))
    assert [r["status"] for r in rows] == ["processed", "unusable", "failed", "ingested"]
    assert by["counted"]["no_count_reason"] in ("", None)
    assert by["cloudy"]["no_count_reason"] == "unusable: cloud 80% of the site"
    assert by["failed"]["no_count_reason"] == (
        "processing failed: no track was read at 3 m: give the site centrelines"
    )
    assert by["pending"]["no_count_reason"] == "not processed yet (railwatch process)"
    for name in ("cloudy", "failed", "pending"):
        assert by[name]["count"] in (None, "") and by[name]["count_tank"] in (None, "")


def test_geopackage_counts_say_why_an_image_has_no_count(db: Database, tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    path = export_site(db, "mixed", "gpkg", tmp_path / "mixed.gpkg")
    info = pyogrio.read_info(path, layer="counts")
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    # whole numbers of cars are integer fields; count may be car equivalents (3 m)
    for name in ("count_tank", "count_railcar", "covered"):
        assert types[name].startswith("OFTInteger"), name
    assert types["count"] == "OFTReal"
    assert types["status"] == types["no_count_reason"] == "OFTString"
    frame = pyogrio.read_dataframe(path, layer="counts")
    rows = [
        {k: (None if v is None or v != v else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]
    _check_rows(rows)
    assert rows[0]["count_tank"] == 4 and rows[0]["covered"] == 3
    scenes = pyogrio.read_dataframe(path, layer="scenes")
    assert list(scenes["error"])[2] == "no track was read at 3 m: give the site centrelines"
    sites = pyogrio.read_dataframe(path, layer="sites")
    assert list(sites["description"]) == ["Хасан 豆满江"]


def test_geojson_and_csv_counts_are_whole_and_say_why(db: Database, tmp_path: Path) -> None:
    out = export_site(db, "mixed", "geojson", tmp_path / "gj")
    doc = json.loads((out / "counts.geojson").read_text(encoding="utf-8"))
    rows = [f["properties"] for f in doc["features"]]
    _check_rows(rows)
    assert rows[0]["count_tank"] == 4 and isinstance(rows[0]["count_tank"], int)
    assert isinstance(rows[0]["covered"], int)
    scenes = json.loads((out / "scenes.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["error"] for f in scenes["features"]][2].startswith("no track")

    path = export_site(db, "mixed", "csv", tmp_path / "counts.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    _check_rows(table)
    assert table[0]["count_tank"] == "4" and table[0]["covered"] == "3"
    assert table[0]["count"] == "10.0"
