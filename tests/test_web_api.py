"""REST API: every resource, auth (401/403), pagination, bad ids, body limits, problem details."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from helpers import statements
from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from railwatch.web.errors import STATUS_FOR, status_for
from railwatch.web.security import check_serve_host, is_loopback
from web_db import ALERT_DAY, populate, populate_many

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class NoCarDetector:
    """A detector that finds nothing (jobs test)."""

    name = "none"
    version = "0"

    def detect(self, image: Any, gsd: float, valid: Any = None) -> list[Any]:
        return []


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("web")
    db = Database(f"sqlite:///{tmp / 'web.db'}")
    ids = populate(db, tmp / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    app = create_app(settings, db, detector_factory=NoCarDetector)
    ids["client"] = TestClient(app)
    ids["db"] = db
    return ids


@pytest.fixture(scope="module")
def client(world: dict[str, Any]) -> TestClient:
    c = world["client"]
    assert isinstance(c, TestClient)
    return c


def is_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return dict(body)


# ----------------------------------------------------------------------------- sites


def test_site_list_has_summary_and_pagination(client: TestClient, world: dict[str, Any]) -> None:
    r = client.get("/api/sites")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 1 and body["limit"] == 100 and body["offset"] == 0
    site = body["items"][0]
    assert site["name"] == world["site"]
    assert site["summary"]["latest_count"] == 6.0
    assert site["summary"]["trend"] == "down"  # 18 -> 6
    assert site["summary"]["open_alerts"] == 1
    assert site["summary"]["open_by_severity"] == {"high": 1, "medium": 0, "low": 0, "info": 0}
    assert r.headers["X-Total-Count"] == "1"
    assert 'rel="first"' in r.headers["Link"]


def test_site_trend_compares_counts_made_the_same_way(tmp_path: Path) -> None:
    """A 3 m occupied-length estimate between two object counts is not the previous
    count: 234 cars, then 76 car equivalents at 3 m, then 225 cars reads down (the
    demo's last three usable images), not up from 76."""
    from railwatch.sites import SiteSpec
    from railwatch.storage import repo
    from railwatch.web.routes.sites import summary
    from report_db import SITE_UTM, FakeCount, add_counted_scene, to_wgs84

    db = Database(f"sqlite:///{tmp_path / 'trend.db'}")
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="mixed", geometry=to_wgs84(SITE_UTM)))
        for day, total, gsd, method in (
            (1, 234.0, 0.5, "objects"),
            (2, 76.0, 3.0, "length"),
            (3, 225.0, 0.5, "objects"),
        ):
            count = FakeCount(total, total - 1, total + 1, {}, 0, method=method)
            add_counted_scene(s, site, datetime(2024, 7, day, 2, 0, tzinfo=UTC), gsd, count, day)
        got = summary(s, repo.get_site(s, "mixed"))
    assert got["latest_count"] == 225.0
    assert got["previous_count"] == 234.0
    assert got["trend"] == "down"


def test_site_crud(client: TestClient) -> None:
    bbox = [130.60, 42.28, 130.61, 42.29]
    assert client.post("/api/sites", json={"name": "crud", "bbox": bbox}).status_code == 401
    r = client.post(
        "/api/sites",
        json={"name": "crud", "bbox": bbox},
        headers={"Authorization": "Bearer wrong"},
    )
    is_problem(r, 403)
    r = client.post("/api/sites", json={"name": "crud", "bbox": bbox, "tags": ["a"]}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == "/api/sites/crud"
    assert r.json()["geometry"]["type"] == "Polygon"
    is_problem(client.post("/api/sites", json={"name": "crud", "bbox": bbox}, headers=AUTH), 409)
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[130.6, 42.28], [130.61, 42.28], [130.61, 42.29], [130.6, 42.28]]],
        },
    }
    r = client.post("/api/sites", json={"name": "crud2", "geometry": feature}, headers=AUTH)
    assert r.status_code == 201, r.text
    r = client.patch("/api/sites/crud", json={"description": "new"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["description"] == "new"
    assert client.get("/api/sites/crud").json()["tags"] == ["a"]
    for name in ("crud", "crud2"):
        assert client.delete(f"/api/sites/{name}", headers=AUTH).status_code == 200
    is_problem(client.get("/api/sites/crud"), 404)


def test_site_bad_geometry_is_422(client: TestClient) -> None:
    r = client.post("/api/sites", json={"name": "bad", "bbox": [200, 0, 201, 1]}, headers=AUTH)
    is_problem(r, 422)
    r = client.post("/api/sites", json={"name": "bad"}, headers=AUTH)
    is_problem(r, 422)
    bad = {"type": "Polygon", "coordinates": [[1, 2]]}
    is_problem(client.post("/api/sites", json={"name": "b", "geometry": bad}, headers=AUTH), 422)


def test_site_bbox_with_tracks_keeps_or_rejects_them(client: TestClient) -> None:
    """Tracks given with a bbox were dropped without a word (201, site without tracks)."""
    bbox = [130.60, 42.28, 130.61, 42.29]
    line = {"type": "LineString", "coordinates": [[130.601, 42.285], [130.609, 42.285]]}
    r = client.post("/api/sites", json={"name": "bt", "bbox": bbox, "tracks": line}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert client.get("/api/sites/bt").json()["tracks"] is not None
    assert client.delete("/api/sites/bt", headers=AUTH).status_code == 200
    poly = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    r = client.post("/api/sites", json={"name": "bt", "bbox": bbox, "tracks": poly}, headers=AUTH)
    assert "LineString" in is_problem(r, 422)["detail"]
    is_problem(client.get("/api/sites/bt"), 404)


def test_body_that_is_not_json_says_so(client: TestClient) -> None:
    """A body that is not JSON was 'invalid request: body.1: JSON decode error'; JSON sent
    as text/plain was 'body: Input should be a valid dictionary' without the cause."""
    headers = {**AUTH, "Content-Type": "application/json"}
    r = client.post("/api/sites", content="{not json", headers=headers)
    assert "the body is not valid JSON (at character 1: Expecting" in is_problem(r, 422)["detail"]
    body = '{"name": "t", "bbox": [130.60, 42.28, 130.61, 42.29]}'
    r = client.post("/api/sites", content=body, headers={**AUTH, "Content-Type": "text/plain"})
    assert "Content-Type: application/json" in is_problem(r, 422)["detail"]
    is_problem(client.get("/api/sites/t"), 404)


def test_site_geometry_string_is_never_read_as_a_path(client: TestClient) -> None:
    r = client.post("/api/sites", json={"name": "p", "geometry": "/etc/passwd"}, headers=AUTH)
    body = is_problem(r, 422)
    assert "root:" not in str(body)


# ---------------------------------------------------------------------------- scenes


def test_scenes_list_metadata_quality(client: TestClient, world: dict[str, Any]) -> None:
    r = client.get(f"/api/sites/{world['site']}/scenes")
    items = r.json()["items"]
    assert [i["acquired_at"][:10] for i in items][4] == ALERT_DAY.isoformat()
    assert [i["quality"]["usable"] for i in items] == [True, True, False, True, True, True]
    assert items[4]["count"]["total"] == 18.0 and items[2]["count"] is None
    unusable = client.get(f"/api/sites/{world['site']}/scenes", params={"usable": "false"})
    assert unusable.json()["total"] == 1
    sid = world["scene_ids"][4]
    scene = client.get(f"/api/scenes/{sid}").json()
    assert scene["footprint"]["type"] == "Polygon" and scene["counts"]["all"]["count"] == 18.0
    q = client.get(f"/api/scenes/{world['scene_ids'][2]}/quality").json()
    assert q["usable"] is False and q["reasons"] == ["cloud covers 70% of the site"]
    is_problem(client.get("/api/scenes/999999"), 404)
    is_problem(client.get("/api/scenes/abc"), 422)
    is_problem(client.get("/api/sites/nope/scenes"), 404)


def test_pagination_links(client: TestClient, world: dict[str, Any]) -> None:
    r = client.get(f"/api/sites/{world['site']}/scenes", params={"limit": 2, "offset": 2})
    body = r.json()
    assert body["total"] == 6 and len(body["items"]) == 2 and body["offset"] == 2
    link = r.headers["Link"]
    assert 'offset=0>; rel="prev"' in link and 'offset=4>; rel="next"' in link
    assert 'offset=4>; rel="last"' in link
    is_problem(client.get("/api/sites", params={"limit": 0}), 422)
    is_problem(client.get("/api/sites", params={"limit": 100000}), 422)


# ------------------------------------------------------------------------ detections


def test_detections_geojson_and_filters(client: TestClient, world: dict[str, Any]) -> None:
    sid = world["scene_ids"][4]
    r = client.get(f"/api/scenes/{sid}/detections")
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["numberMatched"] == 18
    f0 = fc["features"][0]
    assert f0["geometry"]["type"] == "Polygon"
    lon, lat = f0["geometry"]["coordinates"][0][0]
    assert 129 < lon < 132 and 41 < lat < 44
    tanks = client.get(f"/api/scenes/{sid}/detections", params={"class": "tank"}).json()
    assert tanks["numberMatched"] == 6
    assert {f["properties"]["class"] for f in tanks["features"]} == {"tank"}
    cov = client.get(f"/api/scenes/{sid}/detections", params={"covered": "true"}).json()
    assert cov["numberMatched"] == 6 and all(f["properties"]["covered"] for f in cov["features"])
    page = client.get(f"/api/scenes/{sid}/detections", params={"limit": 5, "offset": 15})
    assert page.json()["numberReturned"] == 3 and 'rel="prev"' in page.headers["Link"]
    is_problem(client.get("/api/scenes/424242/detections"), 404)


def test_detections_class_is_checked_like_the_counts(
    client: TestClient, world: dict[str, Any]
) -> None:
    """class=bogus was a 200 with no feature (counts?class=bogus is a 422 listing the
    classes): a typo looked like an empty yard."""
    sid = world["scene_ids"][4]
    url = f"/api/scenes/{sid}/detections"
    for bad in ({"class": "bogus"}, {"class": "TANK"}, {"class": ["tank", "spaceship"]}):
        detail = is_problem(client.get(url, params=bad), 422)["detail"]
        assert "is not a railcar class" in detail and "tank" in detail and "boxcar" in detail
    assert client.get(url, params={"class": "all"}).json()["numberMatched"] == 18
    assert client.get(url, params={"class": "tank"}).json()["numberMatched"] == 6
    # a railcar class with no detection in this scene is an empty collection, not an error
    assert client.get(url, params={"class": "locomotive"}).json()["numberMatched"] == 0


# ---------------------------------------------------------------------------- counts


def test_counts_json_and_csv(client: TestClient, world: dict[str, Any]) -> None:
    body = client.get(f"/api/sites/{world['site']}/counts").json()
    counts = [p["count"] for p in body["items"]]
    assert counts == [5.0, 6.0, None, 7.0, 18.0, 6.0]
    assert "tank" in body["classes"]
    tank = client.get(f"/api/sites/{world['site']}/counts", params={"class": "tank"}).json()
    assert tank["items"][4]["count"] == 6.0
    r = client.get(f"/api/sites/{world['site']}/counts", params={"format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("when,day,local_zone,scene_id,gsd,class,count") and len(lines) == 7
    assert ",all,,,," in lines[3]  # the unusable scene is a gap, not a zero
    is_problem(client.get("/api/sites/nope/counts"), 404)
    is_problem(client.get(f"/api/sites/{world['site']}/counts", params={"format": "xml"}), 422)
    # a class no detector reports was a 200 with a count of 0 on every usable scene
    r = client.get(f"/api/sites/{world['site']}/counts", params={"class": "spaceship"})
    assert "not a railcar class" in is_problem(r, 422)["detail"]


def test_counts_of_unusable_images_have_no_method(
    client: TestClient, world: dict[str, Any]
) -> None:
    """An unusable image was never counted: its method is null, as the CSV leaves it
    empty (the JSON said "objects" for every unusable image, even at 3 m)."""
    for cls in ("all", "tank"):
        items = client.get(f"/api/sites/{world['site']}/counts", params={"class": cls}).json()
        gaps = [p for p in items["items"] if not p["usable"]]
        assert len(gaps) == 1 and gaps[0]["count"] is None and gaps[0]["method"] is None
        assert all(p["method"] == "objects" for p in items["items"] if p["usable"])
    r = client.get(f"/api/sites/{world['site']}/counts", params={"format": "csv"})
    rows = r.text.strip().splitlines()
    header = rows[0].split(",")
    cells = [dict(zip(header, x.split(","), strict=True)) for x in rows[1:]]
    gaps = [c for c in cells if c["usable"] == "false"]
    assert len(gaps) == 1 and gaps[0]["method"] == "" and gaps[0]["count"] == ""


# ---------------------------------------------------------------------------- alerts


def test_alerts_list_and_acknowledge(client: TestClient, world: dict[str, Any]) -> None:
    aid = world["alert_id"]
    items = client.get("/api/alerts").json()["items"]
    assert [a["id"] for a in items] == [aid] and items[0]["when"].startswith("2023-10-05")
    assert client.get(f"/api/sites/{world['site']}/alerts").json()["total"] == 1
    url = f"/api/alerts/{aid}/acknowledge"
    r = client.post(url, json={"note": "x"})
    assert is_problem(r, 401) and r.headers["WWW-Authenticate"] == "Bearer"
    is_problem(client.post(url, json={"note": "x"}, headers={"Authorization": "Bearer no"}), 403)
    r = client.post(url, json={"note": "checked imagery"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["acknowledged"] is True
    got = client.get(f"/api/alerts/{aid}").json()
    assert got["ack_note"] == "checked imagery"
    assert client.get("/api/alerts", params={"open_only": "true"}).json()["total"] == 0
    is_problem(client.post("/api/alerts/9999/acknowledge", json={}, headers=AUTH), 404)
    is_problem(client.post(url, json={"bogus": 1}, headers=AUTH), 422)


# ---------------------------------------------------------------------------- events


def test_events_crud(client: TestClient, world: dict[str, Any]) -> None:
    site = world["site"]
    base = f"/api/sites/{site}/events"
    assert client.get(base).json()["items"][0]["label"] == "Kim-Putin summit"
    body = {"date": "2023-10-01", "label": "Flood"}
    assert client.post(base, json=body).status_code == 401
    r = client.post(base, json=body, headers=AUTH)
    assert r.status_code == 201
    eid = r.json()["id"]
    is_problem(client.post(base, json=body, headers=AUTH), 409)
    is_problem(client.post(base, json={"date": "2023-13-01", "label": "x"}, headers=AUTH), 422)
    r = client.patch(f"/api/events/{eid}", json={"label": "Big flood"}, headers=AUTH)
    assert r.json()["label"] == "Big flood"
    assert client.get(f"/api/events/{eid}").json()["date"] == "2023-10-01"
    assert client.delete(f"/api/events/{eid}").status_code == 401
    assert client.delete(f"/api/events/{eid}", headers=AUTH).status_code == 200
    is_problem(client.get(f"/api/events/{eid}"), 404)
    is_problem(client.delete(f"/api/events/{eid}", headers=AUTH), 404)


# ---------------------------------------------------------------------------- tiles


def test_tiles_render_png_inside_and_404_outside(client: TestClient, world: dict[str, Any]) -> None:
    import math

    scene = client.get(f"/api/scenes/{world['scene_ids'][4]}").json()
    w, s, e, n = scene_bounds(scene)
    lon, lat, z = (w + e) / 2, (s + n) / 2, 17
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    r = client.get(f"/api/scenes/{scene['id']}/tiles/{z}/{x}/{y}.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
    is_problem(client.get(f"/api/scenes/{scene['id']}/tiles/{z}/0/0.png"), 404)
    is_problem(client.get(f"/api/scenes/{scene['id']}/tiles/2/9/9.png"), 404)
    is_problem(client.get(f"/api/scenes/777/tiles/{z}/{x}/{y}.png"), 404)


def scene_bounds(scene: dict[str, Any]) -> tuple[float, float, float, float]:
    ring = scene["footprint"]["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


# --------------------------------------------------------------------- jobs, reports


def test_job_processes_site_and_reports_progress(
    client: TestClient, world: dict[str, Any], tmp_path: Path
) -> None:
    r = client.post(
        "/api/sites", json={"name": "jobyard", "bbox": [1, 1, 1.01, 1.01]}, headers=AUTH
    )
    assert r.status_code == 201
    assert client.post("/api/sites/jobyard/jobs", json={}).status_code == 401
    r = client.post("/api/sites/jobyard/jobs", json={"reprocess": False}, headers=AUTH)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert r.headers["Location"] == f"/api/jobs/{job_id}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.05)
    assert job["status"] == "succeeded", job
    assert job["result"]["processed"] == 0 and job["result"]["skipped"] == 0
    assert client.get("/api/jobs").json()["total"] >= 1
    is_problem(client.get("/api/jobs/" + "0" * 32), 404)
    is_problem(client.post("/api/sites/nope/jobs", json={}, headers=AUTH), 404)
    client.delete("/api/sites/jobyard", headers=AUTH)


class GatedDetector:
    """Finds nothing, but only once ``gate`` is open: the job is held mid-run."""

    name = "gated"
    version = "1"

    def __init__(self, gate: threading.Event) -> None:
        self.gate = gate

    def detect(self, image: Any, gsd: float, valid: Any = None) -> list[Any]:
        if not self.gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")
        return []


def _wait_job(c: TestClient, job_id: str, until: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = dict(c.get(f"/api/jobs/{job_id}").json())
        if until(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never reached the state: {job}")


def _clear_yard(tmp_path: Path, sites: tuple[str, ...] = ("yard",)) -> Database:
    """A database with ``sites`` over one small simulated yard, three clear images each."""
    from pyproj import Transformer
    from shapely.geometry import Polygon

    from railwatch.ingest import ingest_paths
    from railwatch.sim.io import write_scene
    from railwatch.sim.params import SceneParams
    from railwatch.sim.scene import render_scene
    from railwatch.sites import SiteSpec
    from railwatch.storage import repo

    db = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    tifs = []
    for i in range(3):
        when = datetime(2023, 9, 1 + 10 * i, 2, 0, tzinfo=UTC)
        scene = render_scene(SceneParams(seed=i, size_px=(320, 240), n_cars=4 + i, date=when))
        tifs.append(write_scene(scene, tmp_path, f"scene_{i}", preview=False).image)
    x0, y0 = scene.transform.c, scene.transform.f
    to_ll = Transformer.from_crs(scene.crs, "EPSG:4326", always_xy=True)
    xs, ys = [x0 + 10, x0 + 150, x0 + 150, x0 + 10], [y0 - 10, y0 - 10, y0 - 110, y0 - 110]
    lon, lat = to_ll.transform(xs, ys)
    for name in sites:
        with db.session() as s:
            repo.add_site(s, SiteSpec(name=name, geometry=Polygon(zip(lon, lat, strict=True))))
        assert len(ingest_paths(db, name, tifs).ingested) == 3
    return db


def test_job_runs_in_the_background_with_readable_progress(tmp_path: Path) -> None:
    db = _clear_yard(tmp_path)
    gate = threading.Event()
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    app = create_app(settings, db, detector_factory=lambda: GatedDetector(gate))
    with TestClient(app) as c:
        r = c.post("/api/sites/yard/jobs", json={}, headers=AUTH)
        # the request returned while the detector is still held: the job runs elsewhere
        assert r.status_code == 202 and r.json()["status"] in ("queued", "running")
        job_id = r.json()["id"]
        held = _wait_job(c, job_id, lambda j: j["status"] == "running" and j["total"] == 3)
        assert held["done"] == 0 and held["current"] == "scene_0.tif"
        assert held["progress"] == 0.0 and held["started_at"] and not held["finished_at"]
        assert "/" not in held["current"]  # a file name, never the server's path
        is_problem(c.post("/api/sites/yard/jobs", json={}, headers=AUTH), 409)
        assert c.get("/api/jobs").json()["items"][0]["id"] == job_id
        gate.set()
        final = _wait_job(c, job_id, lambda j: j["status"] not in ("queued", "running"))
        assert final["status"] == "succeeded", final
        assert final["done"] == final["total"] == 3 and final["progress"] == 1.0
        result = final["result"]
        assert result["detector"] == "gated" and result["processed"] == 3, result
        counts = c.get("/api/sites/yard/counts").json()["items"]
        assert [p["count"] for p in counts] == [0.0, 0.0, 0.0]
        # nothing pending: a second job processes nothing; reprocess=true does all again
        again = c.post("/api/sites/yard/jobs", json={}, headers=AUTH).json()
        done = _wait_job(c, again["id"], lambda j: j["status"] == "succeeded")
        assert done["result"]["processed"] == 0 and done["result"]["skipped"] == 3
        assert done["total"] == 0 and done["progress"] == 1.0
        redo = c.post("/api/sites/yard/jobs", json={"reprocess": True}, headers=AUTH).json()
        done = _wait_job(c, redo["id"], lambda j: j["status"] == "succeeded")
        assert done["result"]["processed"] == 3 and done["reprocess"] is True
    db.dispose()


def test_stopping_server_finishes_the_running_job_and_drops_queued_ones(tmp_path: Path) -> None:
    db = _clear_yard(tmp_path, ("yard", "yard2"))
    gate = threading.Event()
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    app = create_app(settings, db, detector_factory=lambda: GatedDetector(gate))
    with TestClient(app) as c:
        first = c.post("/api/sites/yard/jobs", json={}, headers=AUTH).json()
        _wait_job(c, first["id"], lambda j: j["status"] == "running")
        second = c.post("/api/sites/yard2/jobs", json={}, headers=AUTH).json()
        assert c.get(f"/api/jobs/{second['id']}").json()["status"] == "queued"  # one at a time
        stopper = threading.Thread(target=app.state.jobs.wait, kwargs={"cancel_queued": True})
        stopper.start()
        dropped = _wait_job(c, second["id"], lambda j: j["status"] == "failed")
        assert "server stopped" in dropped["error"]
        assert c.get(f"/api/jobs/{first['id']}").json()["status"] == "running"
        gate.set()
        stopper.join(timeout=30)
        assert not stopper.is_alive()
        assert c.get(f"/api/jobs/{first['id']}").json()["status"] == "succeeded"
        assert c.get(f"/api/jobs/{second['id']}").json()["status"] == "failed"
    db.dispose()


def test_failed_job_reports_its_error(tmp_path: Path) -> None:
    class Broken:
        name = "broken"
        version = "0"

        def detect(self, image: Any, gsd: float, valid: Any = None) -> list[Any]:
            return []

    def factory() -> Any:
        from railwatch.errors import DetectionError

        raise DetectionError("default detector weights not found: reinstall railwatch")

    db = Database(f"sqlite:///{tmp_path / 'f.db'}")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path)
    with TestClient(create_app(settings, db, detector_factory=factory)) as c:
        c.post("/api/sites", json={"name": "y", "bbox": [1, 1, 1.01, 1.01]}, headers=AUTH)
        job = c.post("/api/sites/y/jobs", json={}, headers=AUTH).json()
        final = _wait_job(c, job["id"], lambda j: j["status"] not in ("queued", "running"))
        assert final["status"] == "failed" and "weights not found" in final["error"]
        assert final["finished_at"] and final["result"] is None
    db.dispose()


def test_analyze_keeps_acknowledgements(client: TestClient, world: dict[str, Any]) -> None:
    r = client.post(f"/api/sites/{world['site']}/analyze", headers=AUTH)
    assert r.status_code == 200 and r.json()["points"] == 6


@pytest.mark.slow
def test_report_generate_and_download(client: TestClient, world: dict[str, Any]) -> None:
    url = f"/api/sites/{world['site']}/reports"
    assert client.post(url, json={}).status_code == 401
    r = client.post(url, json={"date_from": "2023-07-01", "date_to": "2023-12-31"}, headers=AUTH)
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["formats"] == ["html"] and meta["site"] == world["site"]
    assert meta["date_from"] == "2023-07-01" and r.headers["Location"].endswith(meta["id"])
    html = client.get(meta["links"]["html"])
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "<html" in html.text.lower() and world["site"] in html.text
    assert "2023-10-05" in html.text  # the alert day is inside the range
    assert "attachment" in html.headers["content-disposition"]
    listed = client.get("/api/reports", params={"site": world["site"]}).json()
    assert meta["id"] in [m["id"] for m in listed["items"]]
    assert client.get(f"/api/reports/{meta['id']}").json() == meta
    body = {"date_from": "2023-12-01", "date_to": "2023-01-01"}
    is_problem(client.post(url, json=body, headers=AUTH), 422)
    is_problem(client.get(f"/api/reports/{meta['id']}/pdf"), 404)
    is_problem(client.get("/api/reports/" + "a" * 32), 404)
    # an unknown site is a 404, as for /api/alerts?site= (it was a 200 with no report)
    assert "no site named 'nope'" in is_problem(client.get("/api/reports?site=nope"), 404)["detail"]
    is_problem(client.get("/api/alerts?site=nope"), 404)
    is_problem(client.get("/api/reports/..%2F..%2Fetc"), 404)


# ---------------------------------------------------------------------- performance


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """300 images over six years; 5,000 detections on the last one; and a 10-image site."""
    tmp = tmp_path_factory.mktemp("big")
    db = Database(f"sqlite:///{tmp / 'big.db'}")
    ids = populate_many(db, tmp, n_scenes=300, n_dets=5000, dense_last=1, site="big")
    populate_many(db, tmp, n_scenes=10, n_dets=0, dense_last=0, site="small")
    app = create_app(Settings(db=db.url, cache_dir=tmp / "cache"), db)
    return {"db": db, "client": TestClient(app), "ids": ids}


def test_5000_detections_in_one_scene(big: dict[str, Any]) -> None:
    c, db, sid = big["client"], big["db"], big["ids"][-1]
    c.get(f"/api/scenes/{sid}/detections")  # warm up
    with statements(db) as sql:
        r = c.get(f"/api/scenes/{sid}/detections", params={"limit": 50000})
    fc = r.json()
    assert fc["numberMatched"] == fc["numberReturned"] == 5000
    assert len({f["id"] for f in fc["features"]}) == 5000
    assert sum(f["properties"]["covered"] for f in fc["features"]) == 1250
    # scene check, count, rows: not one query per detection (its time is
    # benchmarks/bench_web.py's, never a test's)
    assert len(sql) <= 3
    half = c.get(f"/api/scenes/{sid}/detections", params={"limit": 2500, "offset": 2500}).json()
    assert half["numberReturned"] == 2500
    assert half["features"][0]["id"] == fc["features"][2500]["id"]


def test_counts_of_300_images_take_a_constant_number_of_queries(big: dict[str, Any]) -> None:
    c, db = big["client"], big["db"]
    with statements(db) as small_sql:
        small = c.get("/api/sites/small/counts").json()
    with statements(db) as big_sql:
        r = c.get("/api/sites/big/counts")
    body = r.json()
    assert small["total"] == 10 and body["total"] == 300 and len(body["items"]) == 300
    assert body["items"][-1]["count"] == 5000.0
    # site, scenes, their counts, the class list: the same four statements for 10
    # images as for 300 (no statement per image)
    assert len(big_sql) == len(small_sql) == 4, big_sql
    series = [q for q in big_sql if "JOIN" in q.upper() and "counts" in q.lower()]
    assert series, big_sql


# ------------------------------------------------------------------------- security


def test_oversized_body_is_413(client: TestClient, world: dict[str, Any]) -> None:
    big = {"note": "x" * 2_000_000}
    r = client.post(f"/api/alerts/{world['alert_id']}/acknowledge", json=big, headers=AUTH)
    is_problem(r, 413)

    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 50_000

    r = client.post(
        f"/api/sites/{world['site']}/events",
        content=chunks(),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    is_problem(r, 413)


def test_writes_disabled_without_token_and_closed_reads(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app(Settings(db=db.url, cache_dir=tmp_path), db)
    c = TestClient(app)
    assert c.get("/api/sites").status_code == 200
    body = is_problem(c.post("/api/sites", json={}, headers=AUTH), 403)
    assert "RAILWATCH_API_TOKEN" in body["detail"]
    closed = TestClient(
        create_app(
            Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path),
            db,
            open_reads=False,
        )
    )
    is_problem(closed.get("/api/sites"), 401)
    assert closed.get("/api/sites", headers=AUTH).status_code == 200


def test_serve_host_policy() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    check_serve_host("127.0.0.1", None)
    check_serve_host("0.0.0.0", "tok")
    from railwatch.errors import ConfigError

    with pytest.raises(ConfigError, match="RAILWATCH_API_TOKEN"):
        check_serve_host("0.0.0.0", None)


def test_error_table_maps_library_errors() -> None:
    from railwatch.errors import (
        AlreadyExistsError,
        GeometryError,
        NotFoundError,
        RailwatchError,
        StorageError,
    )

    assert status_for(NotFoundError("x")) == 404
    assert status_for(AlreadyExistsError("x")) == 409
    assert status_for(GeometryError("x")) == 422
    assert status_for(StorageError("x")) == 503
    assert status_for(RailwatchError("x")) == 500
    assert STATUS_FOR[-1][0] is RailwatchError


def test_dashboard_pages_and_openapi(client: TestClient) -> None:
    assert "railwatch" in client.get("/").text
    assert "site.js" in client.get("/sites/anything").text
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    doc = client.get("/openapi.json").json()
    assert "/api/scenes/{scene_id}/tiles/{z}/{x}/{y}.png" in doc["paths"]


def test_api_docs_page_works_offline(client: TestClient) -> None:
    """/docs was a 404 (Swagger UI and ReDoc need a CDN, so they are off): the API had
    no readable reference in the server. Now a plain page from the OpenAPI document:
    every operation, its parameters and body fields, no script, nothing from the net."""
    import re

    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    doc = client.get("/openapi.json").json()
    for path, item in doc["paths"].items():
        for method in item:
            assert f'<span class="method">{method.upper()}</span> <code>{path}</code>' in page
    assert "<code>active_only</code>" in page  # a query parameter of GET /api/alerts
    assert "<code>bbox</code>" in page  # a body field of POST /api/sites
    assert "<script" not in page
    urls = re.findall(r"(?:src|href)=\"([^\"]+)\"", page)
    assert urls and all(u.startswith("/") for u in urls)
    assert 'href="/docs"' in client.get("/").text


def test_pages_have_an_icon_so_browsers_do_not_ask_for_favicon_ico(client: TestClient) -> None:
    """Every page load logged 'GET /favicon.ico 404' (and a console error)."""
    for path in ("/", "/sites/anything", "/docs"):
        assert '<link rel="icon" href="/static/favicon.svg"' in client.get(path).text, path
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.text.startswith("<svg")


def test_allowed_hosts_block_dns_rebinding(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'h.db'}")
    app = create_app(
        Settings(db=db.url, cache_dir=tmp_path), db, allowed_hosts=["127.0.0.1", "localhost"]
    )
    c = TestClient(app, base_url="http://127.0.0.1:8000")
    assert c.get("/api/sites").status_code == 200
    # a problem-details document like every other error (it was text/plain)
    body = is_problem(c.get("/api/sites", headers={"Host": "evil.example:8000"}), 400)
    assert "evil.example" in body["detail"] and "127.0.0.1, localhost" in body["detail"]
    assert body["instance"] == "/api/sites"
    is_problem(c.get("/", headers={"Host": "127.0.0.1.evil.example"}), 400)
    assert c.get("/api/sites", headers={"Host": "localhost:8000"}).status_code == 200
    v6 = TestClient(
        create_app(Settings(db=db.url, cache_dir=tmp_path), db, allowed_hosts=["[::1]"]),
        base_url="http://[::1]:8000",
    )
    assert v6.get("/api/sites").status_code == 200
    is_problem(v6.get("/api/sites", headers={"Host": "[::2]:8000"}), 400)


def test_request_bodies_are_strict_json(client: TestClient, world: dict[str, Any]) -> None:
    """Bodies were parsed loosely: {"reprocess": "yes"} started a reprocessing job, a
    bbox of strings and an event dated by a Unix time were accepted."""
    site = world["site"]
    jobs_before = client.get("/api/jobs").json()["total"]
    for value in ("yes", "true", 1, 0, None):
        r = client.post(f"/api/sites/{site}/jobs", json={"reprocess": value}, headers=AUTH)
        assert "true or false" in is_problem(r, 422)["detail"], value
    assert client.get("/api/jobs").json()["total"] == jobs_before  # no job started
    for body in ({"pdf": "false"}, {"pdf": 1}, {"date_from": 1694563200}):
        is_problem(client.post(f"/api/sites/{site}/reports", json=body, headers=AUTH), 422)
    events = f"/api/sites/{site}/events"
    for when in (1694563200, "1694563200", "2023-09-13T00:00:00", "13/09/2023"):
        r = client.post(events, json={"date": when, "label": "strict"}, headers=AUTH)
        assert "YYYY-MM-DD" in is_problem(r, 422)["detail"], when
    is_problem(client.post(events, json={"date": "2023-02-30", "label": "x"}, headers=AUTH), 422)
    for bbox in (["130.6", "42.42", "130.61", "42.43"], [True, 42.42, 130.61, 42.43]):
        r = client.post("/api/sites", json={"name": "strict", "bbox": bbox}, headers=AUTH)
        assert "must be a number" in is_problem(r, 422)["detail"]
    # JSON numbers (integers too) and YYYY-MM-DD dates still work
    r = client.post(
        "/api/sites", json={"name": "strict", "bbox": [130, 42, 130.01, 42.01]}, headers=AUTH
    )
    assert r.status_code == 201, r.text
    assert client.delete("/api/sites/strict", headers=AUTH).status_code == 200
    r = client.post(events, json={"date": "2023-09-14", "label": "strict"}, headers=AUTH)
    assert r.status_code == 201 and r.json()["date"] == "2023-09-14"
    assert client.delete(f"/api/events/{r.json()['id']}", headers=AUTH).status_code == 200
