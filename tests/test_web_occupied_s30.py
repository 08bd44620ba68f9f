"""``GET /api/scenes/{id}/occupied``: the stretches of track a 3 m count by occupied
track length read as occupied (session 30), as GeoJSON lines an analyst can check the
count on; ``recorded`` tells none kept (a count car by car, one made before session 30)
from none read. Before, the API served a 3 m scene's count with nothing to check it on
(its detections are empty). The scene's detections, their filters and counts are
unchanged: runs are not cars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr
from shapely.geometry import LineString, box, shape
from sqlalchemy import func, select

from railwatch.imagery import inspect_scene
from railwatch.ingest import ingest_paths
from railwatch.pipeline import process_site
from railwatch.settings import Settings
from railwatch.sim import SceneParams, render_scene, write_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import Detection, Scene
from railwatch.web.app import create_app
from test_detect_fakes import BrightBlobDetector
from test_imagery_register import _site_tracks
from web_db import populate

TOKEN = "occupied-s30-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GSD = 3.0
#: the 3 m images of the yard: what each becomes in the database
KINDS = ("runs", "none_read", "before_s30", "reviewed")


def build(db: Database, folder: Path) -> dict[str, Any]:
    """A 3 m yard (site ``yard``, its centrelines given) of four images processed by
    the real pipeline (length counts with their runs), one then marked as reading no
    occupied track (what the pipeline stores for such a count: an empty list) and one
    as counted before session 30 (no runs kept); plus web_db's site of 0.5 m images
    counted car by car. Returns the scene ids by kind, the yard's AOI and tracks."""
    base = SceneParams(seed=20, layout_seed=7, size_px=(200, 200), gsd=GSD, n_cars=30)
    first = None
    for i, _ in enumerate(KINDS):
        p = base.with_(
            seed=20 + i, date=datetime(2023, 6, 1, 2, tzinfo=UTC) + timedelta(days=9 * i)
        )
        path = write_scene(render_scene(p), folder / "yard", f"v{i}", preview=False).image
        first = first or path
    assert first is not None
    aoi = box(*inspect_scene(first).footprint.buffer(-0.001).bounds)
    tracks = _site_tracks(base)
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi, tracks=tracks))
    assert len(ingest_paths(db, "yard", [folder / "yard"]).ingested) == len(KINDS)
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    assert len(process_site(db, "yard", detector=det).processed) == len(KINDS)
    with db.session() as s:
        scenes = repo.list_scenes(s, "yard")
        ids = dict(zip(KINDS, [sc.id for sc in scenes], strict=True))
        for sc in scenes:
            assert repo.occupied_runs_of(sc), f"scene {sc.id} read no occupied track"
        for kind, runs in (("none_read", []), ("before_s30", None)):
            row = s.get(Scene, ids[kind])
            assert row is not None
            coarse = dict(row.meta[repo.COARSE_KEY])
            if runs is None:
                del coarse["occupied"]
            else:
                coarse["occupied"] = runs
            row.meta = {**row.meta, repo.COARSE_KEY: coarse}
    objects = populate(db, folder / "objects")
    return {"yard": ids, "aoi": aoi, "tracks": tracks, "objects": objects}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("occupied")
    db = Database(f"sqlite:///{tmp / 'web.db'}")
    ids = build(db, tmp)
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    ids["client"] = TestClient(create_app(settings, db))
    ids["db"] = db
    return ids


def _occupied(world: dict[str, Any], kind: str) -> dict[str, Any]:
    r = world["client"].get(f"/api/scenes/{world['yard'][kind]}/occupied")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection"
    return body


def test_a_length_scene_serves_its_runs_as_lines_that_add_up_to_its_count(
    world: dict[str, Any],
) -> None:
    body = _occupied(world, "runs")
    assert body["recorded"] is True and body["reason"] is None
    assert body["status"] == "processed" and body["count"]["method"] == "length"
    feats = body["features"]
    assert feats and body["numberMatched"] == body["numberReturned"] == len(feats)
    assert [f["id"] for f in feats] == list(range(1, len(feats) + 1))
    aoi = world["aoi"].buffer(0.01)
    for f in feats:
        assert f["type"] == "Feature" and f["geometry"]["type"] == "LineString"
        p = f["properties"]
        assert p["method"] == "length" and p["length_m"] > 0
        assert p["car_equivalents"] == pytest.approx(p["length_m"] / 14.0, abs=0.005)
        line = shape(f["geometry"])
        assert aoi.contains(line)  # lon/lat over the yard, not pixels or UTM metres
        # each coordinate with at most 6 decimals (as the detections)
        assert all(round(c, 6) == c for xy in f["geometry"]["coordinates"] for c in xy)
    total = sum(f["properties"]["length_m"] for f in feats)
    assert body["occupied_length_m"] == pytest.approx(total, abs=0.1)
    assert body["car_equivalents"] == pytest.approx(body["count"]["total"], abs=0.05)
    assert sum(f["properties"]["car_equivalents"] for f in feats) == pytest.approx(
        body["count"]["total"], abs=0.05
    )
    for f in feats:  # on the site's centrelines (1e-4 degrees is about 8 m)
        assert world["tracks"].distance(LineString(f["geometry"]["coordinates"])) < 1e-4


def test_none_read_and_none_recorded_are_told_apart(world: dict[str, Any]) -> None:
    empty = _occupied(world, "none_read")
    assert empty["recorded"] is True and empty["reason"] is None
    assert empty["features"] == [] and empty["numberMatched"] == 0
    assert empty["occupied_length_m"] == 0 and empty["car_equivalents"] == 0
    old = _occupied(world, "before_s30")
    assert old["recorded"] is False and old["features"] == []
    assert old["occupied_length_m"] is None and old["car_equivalents"] is None
    assert "railwatch process yard" in old["reason"] and "--reprocess" not in old["reason"]
    assert old["count"]["method"] == "length"  # its count is still served


def test_scenes_not_counted_by_length_say_why(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    ids = world["objects"]["scene_ids"]
    counted = c.get(f"/api/scenes/{ids[4]}/occupied").json()
    assert counted["recorded"] is False and counted["features"] == []
    assert f"/api/scenes/{ids[4]}/detections" in counted["reason"]
    unusable = c.get(f"/api/scenes/{ids[2]}/occupied").json()
    assert unusable["status"] == "unusable" and unusable["recorded"] is False
    assert "unusable" in unusable["reason"]
    r = c.get("/api/scenes/999999/occupied")
    assert r.status_code == 404 and "no scene with id 999999" in r.json()["detail"]


def test_runs_leave_the_detections_their_filters_and_counts_alone(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    sid = world["yard"]["runs"]
    with world["db"].session(readonly=True) as s:
        stored = s.scalar(select(func.count(Detection.id)).where(Detection.scene_id == sid))
    r = c.get(f"/api/scenes/{sid}/detections")
    fc = r.json()
    assert fc["numberMatched"] == stored and r.headers["X-Total-Count"] == str(stored)
    assert all(f["geometry"]["type"] != "LineString" for f in fc["features"])
    assert all(f["properties"]["source"] == "detector" for f in fc["features"])
    assert c.get(f"/api/scenes/{sid}/detections?class=tank").json()["numberMatched"] == 0
    assert c.get(f"/api/scenes/{sid}/detections?source=analyst").status_code == 404
    # the runs of the detector's count stay with an analyst's count of the scene
    rid = world["yard"]["reviewed"]
    before = _occupied(world, "reviewed")
    put = c.put(f"/api/scenes/{rid}/review", json={"counts": {"all": 40}}, headers=AUTH)
    assert put.status_code == 201, put.text
    after = _occupied(world, "reviewed")
    assert after["reviewed"] is True and after["count"]["total"] == 40
    assert after["features"] == before["features"]
    assert after["car_equivalents"] == pytest.approx(after["detector_count"]["total"], abs=0.05)


def test_the_api_description_documents_the_runs(world: dict[str, Any]) -> None:
    spec = world["client"].get("/openapi.json").json()
    op = spec["paths"]["/api/scenes/{scene_id}/occupied"]["get"]
    text = op["description"]
    for word in ("LineString", "length_m", "car_equivalents", "recorded", "railwatch process"):
        assert word in text
    assert "application/geo+json" in op["responses"]["200"]["content"]
    detections = spec["paths"]["/api/scenes/{scene_id}/detections"]["get"]["description"]
    assert "/occupied" in detections


def test_a_run_across_180_degrees_is_split_there() -> None:
    from railwatch.web.routes.detections import _run_geometry

    geom = _run_geometry(((179.9999, -16.8), (-179.9998, -16.8), (-179.9997, -16.8001)))
    assert geom["type"] == "MultiLineString" and len(geom["coordinates"]) == 2
    lons = [x for part in geom["coordinates"] for x, _ in part]
    assert min(lons) >= -180 and max(lons) <= 180
    west, east = geom["coordinates"]
    assert west[0] == [179.9999, -16.8] and west[-1][0] == 180.0
    assert east[0][0] == -180.0 and east[-1] == [-179.9997, -16.8001]
    plain = _run_geometry(((130.1234567, 42.5), (130.2, 42.6)))
    assert plain == {"type": "LineString", "coordinates": [[130.123457, 42.5], [130.2, 42.6]]}
