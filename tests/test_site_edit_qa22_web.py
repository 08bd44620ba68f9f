"""QA (session 22): ``PATCH /api/sites/{site}`` takes ``tracks`` (GeoJSON centrelines, or
null to remove them), as ``railwatch site edit --tracks`` does: the site's counted scenes
are marked to be counted again by the next run (``recount`` in the reply), their counts
kept until then. Before, the PATCH changed only the description and tags (``tracks``
was a 422, an unknown field)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from pydantic import SecretStr
from shapely.geometry import MultiLineString, Polygon, mapping

from railwatch.pipeline import processing_lock
from railwatch.settings import Settings
from railwatch.storage import Database, repo
from railwatch.web.app import create_app
from test_pipeline import _tracks_wgs84
from test_site_edit_qa22_tracks import _detector, _pending, _scenes, _site

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _client(db: Database, tmp_path: Path) -> TestClient:
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    return TestClient(create_app(settings, db, detector_factory=_detector))


def _stored_tracks(db: Database) -> Any:
    with db.session(readonly=True) as s:
        return repo.site_spec(repo.get_site(s, "yard")).tracks


def test_patch_tracks_marks_the_counted_scenes(tmp_path: Path) -> None:
    db = _site(tmp_path, tracks=_tracks_wgs84())
    before = _scenes(db)
    client = _client(db, tmp_path)
    fewer = MultiLineString(list(_tracks_wgs84().geoms)[1:6])

    r = client.patch("/api/sites/yard", json={"tracks": mapping(fewer)}, headers=AUTH)

    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["tracks"]["coordinates"]) == 5
    recount = body["recount"]
    assert (recount["changed"], recount["scenes"], recount["coarse"], recount["finer"]) == (
        True,
        2,
        1,
        1,
    )
    assert sorted(recount["scene_ids"]) == sorted([before["fine"]["id"], before["coarse"]["id"]])
    assert _stored_tracks(db) == fewer
    assert _pending(db) == ["coarse", "fine"]
    assert all(_scenes(db)[k]["counts"] == before[k]["counts"] for k in before)

    # left out, the lines stay; null removes them
    r = client.patch("/api/sites/yard", json={"description": "d"}, headers=AUTH)
    assert r.status_code == 200 and "recount" not in r.json()
    assert _stored_tracks(db) == fewer
    r = client.patch("/api/sites/yard", json={"tracks": None}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["tracks"] is None and r.json()["recount"]["changed"] is True
    assert _stored_tracks(db) is None
    db.dispose()


def test_patch_bad_tracks_is_422_and_changes_nothing(tmp_path: Path) -> None:
    db = _site(tmp_path, tracks=_tracks_wgs84())
    before = _scenes(db)
    client = _client(db, tmp_path)
    far = MultiLineString([[(x + 1.0, y) for x, y in ln.coords] for ln in _tracks_wgs84().geoms])
    polygon = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    for tracks in (mapping(far), polygon, {"type": "LineString", "coordinates": [[1]]}):
        r = client.patch(
            "/api/sites/yard", json={"tracks": tracks, "description": "new"}, headers=AUTH
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (
        "none of the track lines touch the site polygon"
        in client.patch("/api/sites/yard", json={"tracks": mapping(far)}, headers=AUTH).json()[
            "detail"
        ]
    )
    assert _scenes(db) == before and _stored_tracks(db) == _tracks_wgs84()
    with db.session(readonly=True) as s:
        assert repo.get_site(s, "yard").description == ""
    db.dispose()


def test_patch_tracks_while_the_site_is_processed_is_409(tmp_path: Path) -> None:
    db = _site(tmp_path, tracks=_tracks_wgs84())
    before = _scenes(db)
    client = _client(db, tmp_path)
    fewer = MultiLineString(list(_tracks_wgs84().geoms)[1:6])
    with processing_lock(db, ["yard"]):  # another process runs it
        r = client.patch("/api/sites/yard", json={"tracks": mapping(fewer)}, headers=AUTH)
        assert r.status_code == 409, r.text
        assert "cannot be changed while a railwatch run processes it" in r.json()["detail"]
    assert _scenes(db) == before and _stored_tracks(db) == _tracks_wgs84()
    db.dispose()


def test_patch_tracks_while_a_job_of_the_server_processes_the_site_is_409(
    tmp_path: Path,
) -> None:
    """The job counts along the lines it read when it began: new lines are refused
    until it ends (naming it), then taken."""
    import threading

    from test_web_api import GatedDetector, _clear_yard, _wait_job

    db = _clear_yard(tmp_path)
    gate = threading.Event()
    cfg = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    app = create_app(cfg, db, detector_factory=lambda: GatedDetector(gate))
    with db.session(readonly=True) as s:
        site = repo.get_site(s, "yard")
        assert isinstance(site.geometry, Polygon)
        line = {
            "type": "LineString",
            "coordinates": [list(p) for p in site.geometry.exterior.coords[:2]],
        }
    with TestClient(app) as c:
        job = c.post("/api/sites/yard/jobs", json={}, headers=AUTH).json()
        _wait_job(c, job["id"], lambda j: j["status"] == "running")
        r = c.patch("/api/sites/yard", json={"tracks": line}, headers=AUTH)
        assert r.status_code == 409, r.text
        assert f"/api/jobs/{job['id']}" in r.json()["detail"]
        assert c.get("/api/sites/yard").json()["tracks"] is None
        gate.set()
        done = _wait_job(c, job["id"], lambda j: j["status"] not in ("queued", "running"))
        assert done["status"] == "succeeded", done
        r = c.patch("/api/sites/yard", json={"tracks": line}, headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.json()["recount"]["changed"] is True
    db.dispose()
