"""`railwatch export` of a site with an analyst's review of a scene: the counts say which
count is an analyst's with the detector's beside it, and the detections layer holds the
analyst's outlines (``source`` analyst) beside the detector's boxes, alike in every
format; the CSV still reads back in `railwatch analyze --counts`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import box, mapping, shape

from railwatch.analysis import csvio
from railwatch.export.gis import export_site
from railwatch.export.layers import REVIEW_COLUMNS
from railwatch.review import cars_from_feature_collection
from railwatch.storage import Database, repo
from report_db import CAR_LEN, CAR_STEP, PLANS, SITE_NAME, TRACK_Y, X0, populate, to_wgs84

N_DETECTED = PLANS[-1].n  # the last image's cars the detector found (18)


def _outlines(n: int) -> dict[str, Any]:
    """``n`` cars along the yard's track (past the 18th on a line 20 m south), lon/lat."""
    features = []
    for k in range(n):
        x = X0 + 60.0 + CAR_LEN / 2 + (k % 18) * CAR_STEP
        y = TRACK_Y - 20.0 * (k // 18)
        body = to_wgs84(box(x - 7.0, y - 1.5, x + 7.0, y + 1.5))
        props = {"class": "tank" if k % 2 else "boxcar", "covered": k < 3}
        features.append({"type": "Feature", "geometry": mapping(body), "properties": props})
    return {"type": "FeatureCollection", "features": features}


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, list[int]]:
    tmp = tmp_path_factory.mktemp("export_review")
    db = Database(f"sqlite:///{tmp / 'r.db'}")
    ids = populate(db, tmp / "scenes")["scene_ids"]
    with db.session() as s:
        scene = repo.get_scene(s, ids[-1])
        cars = cars_from_feature_collection(_outlines(20), scene, scene.site)
        repo.set_scene_review(s, ids[-1], cars=cars)
        repo.set_scene_review(s, ids[0], {"all": 6})  # a count alone, no outlines
    return db, ids


def _features(folder: Path, layer: str) -> list[dict[str, Any]]:
    doc = json.loads((folder / f"{layer}.geojson").read_text())
    return list(doc["features"])


def test_geojson_counts_say_which_count_is_an_analysts(
    reviewed: tuple[Database, list[int]], tmp_path: Path
) -> None:
    db, ids = reviewed
    out = export_site(db, SITE_NAME, "geojson", tmp_path / "yard")
    rows = {f["properties"]["scene_id"]: f["properties"] for f in _features(out, "counts")}
    last, first = rows[ids[-1]], rows[ids[0]]
    assert (last["count"], last["low"], last["high"]) == (20.0, 20.0, 20.0)
    assert last["reviewed"] is True and last["detector_count"] == float(N_DETECTED)
    assert first["count"] == 6.0 and first["reviewed"] is True
    assert first["detector_count"] == float(PLANS[0].n)
    other = rows[ids[1]]
    assert other["reviewed"] is False and other["detector_count"] is None
    unusable = [r for r in rows.values() if r["usable"] is False]
    # no count and no one's review: false, as the API says (session 37: it was null)
    assert unusable and all(r["reviewed"] is False for r in unusable)


def test_geojson_detections_hold_the_analysts_outlines_beside_the_detectors(
    reviewed: tuple[Database, list[int]], tmp_path: Path
) -> None:
    db, ids = reviewed
    out = export_site(db, SITE_NAME, "geojson", tmp_path / "yard")
    feats = [f for f in _features(out, "detections") if f["properties"]["scene_id"] == ids[-1]]
    by_source: dict[str, list[dict[str, Any]]] = {}
    for f in feats:
        by_source.setdefault(f["properties"]["source"], []).append(f)
    assert len(by_source["detector"]) == N_DETECTED and len(by_source["analyst"]) == 20
    # the detector's rows first, as the scene's cars always came, then the analyst's
    assert [f["properties"]["source"] for f in feats] == ["detector"] * 18 + ["analyst"] * 20
    analyst = by_source["analyst"]
    assert all(f["properties"]["detection_id"] is None for f in analyst)
    assert all(f["properties"]["score"] is None for f in analyst)
    assert sum(f["properties"]["covered"] for f in analyst) == 3
    assert {f["properties"]["cls"] for f in analyst} == {"boxcar", "tank"}
    props = analyst[0]["properties"]
    assert props["native_crs"] == "EPSG:32652" and props["inside"] is True
    assert props["length_m"] == pytest.approx(14.0, abs=1e-3)
    assert props["width_m"] == pytest.approx(3.0, abs=1e-3)
    expected = _outlines(20)["features"][0]["geometry"]
    # to the export's rounding: 8 decimals of a degree (since 2026-12-06, session 35)
    assert shapely.normalize(shape(analyst[0]["geometry"])).equals_exact(
        shapely.normalize(shape(expected)), 1e-8
    )
    # a review of counts alone adds no outlines; other scenes are the detector's only
    sources = {f["properties"]["source"] for f in _features(out, "detections")
               if f["properties"]["scene_id"] != ids[-1]}  # fmt: skip
    assert sources == {"detector"}


def test_geopackage_and_geoparquet_carry_the_same_columns(
    reviewed: tuple[Database, list[int]], tmp_path: Path
) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    db, ids = reviewed
    path = export_site(db, SITE_NAME, "gpkg", tmp_path / "yard.gpkg")
    counts = pyogrio.read_dataframe(path, layer="counts").set_index("scene_id")
    assert bool(counts.loc[ids[-1], "reviewed"]) is True
    assert counts.loc[ids[-1], "detector_count"] == float(N_DETECTED)
    assert bool(counts.loc[ids[1], "reviewed"]) is False
    dets = pyogrio.read_dataframe(path, layer="detections")
    assert (dets["source"] == "analyst").sum() == 20
    assert (dets["source"] == "detector").sum() == sum(p.n for p in PLANS if p.usable)
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    folder = export_site(db, SITE_NAME, "geoparquet", tmp_path / "yard-parquet")
    table = pd.read_parquet(folder / "counts.parquet").set_index("scene_id")
    assert bool(table.loc[ids[-1], "reviewed"]) and table.loc[ids[-1], "detector_count"] == 18.0
    dets = pd.read_parquet(folder / "detections.parquet")
    assert (dets["source"] == "analyst").sum() == 20


def test_the_csv_reads_back_in_analyze_with_the_analysts_counts(
    reviewed: tuple[Database, list[int]], tmp_path: Path
) -> None:
    db, ids = reviewed
    path = export_site(db, SITE_NAME, "csv", tmp_path / "yard.csv")
    with path.open(newline="") as fh:
        rows = {int(r["scene_id"]): r for r in csv.DictReader(fh)}
    assert all(c in rows[ids[-1]] for c in REVIEW_COLUMNS)
    assert rows[ids[-1]]["reviewed"] == "true" and rows[ids[-1]]["detector_count"] == "18.0"
    assert rows[ids[1]]["reviewed"] == "false" and rows[ids[1]]["detector_count"] == ""
    series = csvio.read_counts_csv(path)
    (points,) = series.values()  # one series (the export has no site column)
    points = [p for p in points if p.usable and p.count is not None]
    assert points[-1].count == 20.0 and points[0].count == 6.0
    assert points[-1].reviewed
    with db.session(readonly=True) as s:
        stored = repo.count_series(s, SITE_NAME)
    assert [(p.count, p.reviewed) for p in points] == [
        (p.count, p.reviewed) for p in stored if p.count is not None
    ]
