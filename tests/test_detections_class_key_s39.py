"""The detections layer of ``railwatch export`` names a car's class ``class``, as the
GeoJSON of ``railwatch detect`` and ``scene cars``, the web API's detections and (since
session 38) the alerts and counts do; ``cls``, its name before, stays beside it for one
release (2026-12-06, session 39). Both for the detector's boxes and an analyst's outlines,
in every format that holds the layer (GeoJSON, GeoPackage, GeoParquet); an export read
back by ``scene review --cars`` gives the same cars."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box, mapping

from railwatch.detect.geojson import from_feature_collection
from railwatch.export.gis import export_site
from railwatch.export.layers import DETECTION_SCHEMA
from railwatch.review import cars_from_feature_collection
from railwatch.storage import Database, repo
from report_db import CAR_LEN, CAR_STEP, PLANS, SITE_NAME, TRACK_Y, X0, populate, to_wgs84

N_DETECTIONS = sum(p.n for p in PLANS if p.usable)
N_OUTLINES = 4


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """The report database with an analyst's outlines of its last scene (tank, boxcar)."""
    tmp = tmp_path_factory.mktemp("class_key")
    db = Database(f"sqlite:///{tmp / 'r.db'}")
    ids = populate(db, tmp / "scenes")["scene_ids"]
    features = []
    for k in range(N_OUTLINES):
        x = X0 + 60.0 + CAR_LEN / 2 + k * CAR_STEP
        body = to_wgs84(box(x - 7.0, TRACK_Y - 1.5, x + 7.0, TRACK_Y + 1.5))
        props = {"class": "tank" if k % 2 else "boxcar", "covered": False}
        features.append({"type": "Feature", "geometry": mapping(body), "properties": props})
    with db.session() as s:
        scene = repo.get_scene(s, ids[-1])
        fc = {"type": "FeatureCollection", "features": features}
        repo.set_scene_review(s, ids[-1], cars=cars_from_feature_collection(fc, scene, scene.site))
    return db


def test_the_layer_has_class_with_cls_right_after_it() -> None:
    columns = [name for name, _ in DETECTION_SCHEMA]
    assert "class" in columns
    assert columns.index("cls") == columns.index("class") + 1
    assert dict(DETECTION_SCHEMA)["class"] == "str"


def test_geojson_detections_give_class_and_cls_alike(reviewed: Database, tmp_path: Path) -> None:
    out = export_site(reviewed, SITE_NAME, "geojson", tmp_path / "yard")
    doc = json.loads((out / "detections.geojson").read_text())
    props: list[dict[str, Any]] = [f["properties"] for f in doc["features"]]
    assert len(props) == N_DETECTIONS + N_OUTLINES
    for p in props:
        assert p["class"] == p["cls"]
        keys = list(p)
        assert keys.index("cls") == keys.index("class") + 1
    by_source = {
        src: {p["class"] for p in props if p["source"] == src} for src in ("detector", "analyst")
    }
    assert by_source == {"detector": {"gondola", "tank", "boxcar"}, "analyst": {"tank", "boxcar"}}


def test_an_exported_detection_reads_back_as_its_class(reviewed: Database, tmp_path: Path) -> None:
    """``scene review --cars`` reads ``class`` (then ``cls``): an exported car read back
    is of its class, with ``cls`` gone from the file too."""
    out = export_site(reviewed, SITE_NAME, "geojson", tmp_path / "yard")
    doc = json.loads((out / "detections.geojson").read_text())
    analyst = [f for f in doc["features"] if f["properties"]["source"] == "analyst"]
    for f in analyst:
        del f["properties"]["cls"]
    fc = {"type": "FeatureCollection", "features": analyst}
    cars = from_feature_collection(fc)
    assert sorted(d.cls for d in cars.detections) == ["boxcar", "boxcar", "tank", "tank"]


def test_geopackage_and_geoparquet_columns(reviewed: Database, tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    pq = pytest.importorskip("pyarrow.parquet")
    gpkg = export_site(reviewed, SITE_NAME, "gpkg", tmp_path / "yard.gpkg")
    dets = pyogrio.read_dataframe(gpkg, layer="detections")
    assert list(dets["class"]) == list(dets["cls"])
    assert set(dets["class"]) == {"gondola", "tank", "boxcar"}
    folder = export_site(reviewed, SITE_NAME, "geoparquet", tmp_path / "yard_pq")
    table = pq.read_table(folder / "detections.parquet")
    assert table.column("class").to_pylist() == table.column("cls").to_pylist()
    names = table.column_names
    assert names.index("cls") == names.index("class") + 1
