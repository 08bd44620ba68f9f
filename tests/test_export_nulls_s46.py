"""What is unknown in a site's export is null, not an empty string (2026-12-07,
session 46).

Before, a scene without a sensor, error, quality source or detector, an image without a
count's ``method``, a counted image's ``no_count_reason``, a site without tags and a
scene without reasons were written as ``""``: GeoJSON ``""``, GeoPackage ``''``, which
QGIS and pandas read as a value (``"sensor" IS NULL`` found none). Now GeoJSON null, a
GeoPackage / GeoParquet NULL (columns of text kept String, also when no row has a
value), an empty CSV cell. What is known and empty stays "": a site's description and
tags as stored, a judged image's reasons when it has none (tests/test_outputs_consistency_s38.py).
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from railwatch.export.gis import export_site
from railwatch.export.layers import site_layers
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import SITE_UTM, FakeCount, FakeInfo, add_counted_scene, to_wgs84

T0 = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)
#: Columns of text that are null where nothing is known, by layer.
UNKNOWN = {
    "scenes": ("sensor", "reasons", "error", "quality_source", "detector", "detector_version"),
    "occupied_track": (),
    "detections": (),
    "counts": ("sensor", "method"),
    "sites": (),
}


def _pending(session: Any, site: Any, day: int) -> int:
    """An ingested scene (not processed) without a sensor."""
    from shapely.geometry import box

    info = FakeInfo(
        uri=f"/nowhere/n{day}.tif",
        content_hash=f"{day + 4600:064d}",
        acquired=T0 + timedelta(days=day),
        crs="EPSG:32652",
        footprint=to_wgs84(box(550_000, 4_694_800, 550_400, 4_695_000)),
        gsd=0.5,
        width=800,
        height=400,
        sensor=None,
    )
    scene, _ = repo.add_scene(session, site, info, 1.0)
    return int(scene.id)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("nulls46")
    database = Database(f"sqlite:///{tmp / 'rw.db'}")
    with database.session() as s:
        # a site of ingested images only, none with a sensor: every such column empty
        bare = repo.add_site(s, SiteSpec(name="bare", geometry=to_wgs84(SITE_UTM)))
        _pending(s, bare, 1)
        _pending(s, bare, 2)
        mixed = repo.add_site(
            s, SiteSpec(name="mixed", geometry=to_wgs84(SITE_UTM), description="Khasan side")
        )
        add_counted_scene(s, mixed, T0, 0.5, FakeCount(10.0, 9.0, 12.0, {}, 3), 4601)
        _pending(s, mixed, 3)
    yield database
    database.dispose()


def test_layers_hold_none_for_what_is_unknown(db: Database) -> None:
    with db.session() as s:
        layers = site_layers(s, "bare")
        mixed = site_layers(s, "mixed")
    for name, columns in UNKNOWN.items():
        for rec in layers[name].records:
            for col in columns:
                assert rec[col] is None, (name, col, rec[col])
    assert layers["sites"].records[0]["description"] == ""  # as stored: none given
    counted, pending = mixed["counts"].records
    assert counted["sensor"] == "TestSat" and counted["method"] == "objects"
    assert counted["no_count_reason"] is None  # it has a count: no reason to give
    assert pending["no_count_reason"] == "not processed yet (railwatch process)"
    assert pending["method"] is None and pending["sensor"] is None
    assert mixed["sites"].records[0]["description"] == "Khasan side"


def test_geojson_writes_null(db: Database, tmp_path: Path) -> None:
    out = export_site(db, "bare", "geojson", tmp_path / "bare")
    for name, columns in UNKNOWN.items():
        doc = json.loads((out / f"{name}.geojson").read_text(encoding="utf-8"))
        for feature in doc["features"]:
            for col in columns:
                assert col in feature["properties"] and feature["properties"][col] is None


def test_csv_writes_empty_cells(db: Database, tmp_path: Path) -> None:
    out = export_site(db, "mixed", "csv", tmp_path / "mixed.csv")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["no_count_reason"] == "" and rows[0]["method"] == "objects"
    assert rows[1]["sensor"] == rows[1]["method"] == ""


def test_geopackage_writes_null_in_string_fields(db: Database, tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    for site in ("bare", "mixed"):
        path = export_site(db, site, "gpkg", tmp_path / f"{site}.gpkg")
        for name, columns in UNKNOWN.items():
            if not columns:
                continue
            info = pyogrio.read_info(path, layer=name)
            types = dict(zip(info["fields"], info["ogr_types"], strict=True))
            frame = pyogrio.read_dataframe(path, layer=name)
            for col in columns:
                assert types[col] == "OFTString", (site, name, col, types[col])
                if site == "bare":  # no row has a value: each is NULL, none ''
                    assert frame[col].isna().all(), (name, col)
        if site == "mixed":
            counts = pyogrio.read_dataframe(path, layer="counts")
            assert counts["no_count_reason"].isna().tolist() == [True, False]
            assert counts["sensor"].isna().tolist() == [False, True]
            scenes = pyogrio.read_dataframe(path, layer="scenes")
            # judged usable: no reasons (""); not judged yet: unknown (NULL)
            assert scenes["reasons"].tolist()[0] == "" and scenes["reasons"].isna().tolist()[1]


def test_geoparquet_writes_null_in_string_columns(db: Database, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    out = export_site(db, "bare", "geoparquet", tmp_path / "bare_pq")
    for name, columns in UNKNOWN.items():
        table = pq.read_table(out / f"{name}.parquet")
        for col in columns:
            field = table.schema.field(col)
            assert pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
            assert table.column(col).null_count == table.num_rows, (name, col)
