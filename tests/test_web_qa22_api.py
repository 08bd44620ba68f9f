"""Session 22 QA of the REST API: bugs found by a user and an attacker, each with the
test that would have caught it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app

TOKEN = "qa22-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def empty_app(tmp_path: Path) -> TestClient:
    db = Database(f"sqlite:///{tmp_path / 'qa22.db'}")
    cfg = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    return TestClient(create_app(cfg, db), raise_server_exceptions=False)


def test_lists_of_a_site_named_in_another_script_are_served(empty_app: TestClient) -> None:
    """Site names may be in any script; every list under such a site's path was a 500
    (its Link header held the decoded path, and a header is Latin-1)."""
    c = empty_app
    name = "Туманган"
    bbox = [130.6, 42.4, 130.62, 42.42]
    r = c.post("/api/sites", headers=AUTH, json={"name": name, "bbox": bbox})
    assert r.status_code == 201, r.text
    r = c.post(f"/api/sites/{name}/events", headers=AUTH, json={"date": "2023-09-13", "label": "x"})
    assert r.status_code == 201, r.text
    encoded = "%D0%A2%D1%83%D0%BC%D0%B0%D0%BD%D0%B3%D0%B0%D0%BD"
    for path in ("scenes", "events", "alerts", "counts", "counts?format=csv"):
        r = c.get(f"/api/sites/{name}/{path}")
        assert r.status_code == 200, (path, r.text)
        link = r.headers["link"]
        assert link.isascii()
        assert f"/api/sites/{encoded}/{path.split('?')[0]}?" in link
    assert c.get(f"/api/sites/{name}/events").json()["items"][0]["label"] == "x"
    # following the Link header leads back to the same list
    first = c.get(f"/api/sites/{name}/events?limit=1").headers["link"].split(">")[0][1:]
    assert c.get(first).json()["total"] == 1
    disposition = c.get(f"/api/sites/{name}/counts?format=csv").headers["content-disposition"]
    assert disposition.endswith(f"filename*=utf-8''{encoded}-all-counts.csv")


def test_head_is_answered_like_get_without_a_body(empty_app: TestClient) -> None:
    """HEAD (curl -I, uptime monitors) was a 405 on every page and endpoint."""
    c = empty_app
    for path in ("/", "/sites/anything", "/docs", "/api/health", "/api/sites", "/openapi.json"):
        get = c.get(path)
        head = c.head(path)
        assert head.status_code == get.status_code == 200, (path, head.text)
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["content-length"] == str(len(get.content))
    head = c.head("/api/sites/nope")  # errors too: status and headers of the GET
    assert head.status_code == 404 and head.content == b""
    assert head.headers["content-type"] == "application/problem+json"


def test_method_not_allowed_lists_every_method_of_the_resource(empty_app: TestClient) -> None:
    """A 405 named only the methods of the first route with that path: ``Allow: GET``
    for PUT /api/sites (which takes POST too) and for /api/events/1 (PATCH, DELETE)."""
    c = empty_app
    cases = {  # OPTIONS too since session 37 (answered: tests/test_web_options_s37.py)
        "/api/sites": "GET, HEAD, OPTIONS, POST",
        "/api/sites/x": "DELETE, GET, HEAD, OPTIONS, PATCH",
        "/api/events/1": "DELETE, GET, HEAD, OPTIONS, PATCH",
        "/api/alerts/1/acknowledge": "OPTIONS, POST",
        "/api/health": "GET, HEAD, OPTIONS",
    }
    for path, allow in cases.items():
        r = c.put(path, headers=AUTH, json={})
        assert r.status_code == 405, path
        assert r.headers["allow"] == allow, path
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == f"PUT is not allowed here: use {allow}"
    assert c.options("/api/sites").headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_openapi_declares_the_problem_details_every_error_is(empty_app: TestClient) -> None:
    """The document declared a 422 of FastAPI's ``application/json`` validation shape,
    which the API never sends, and no other error: clients generated from it could not
    read a 404 or a 401. Now every operation declares 4XX and 5XX problem details, and
    the errors sent match that schema."""
    c = empty_app
    spec = c.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec.get("components", {}).get("schemas", {})
    schema = None
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if path == "/api/health":
                continue
            codes = set(op["responses"])
            assert {"4XX", "5XX"} <= codes, (method, path, codes)
            assert "422" not in codes, (method, path)
            schema = op["responses"]["4XX"]["content"]["application/problem+json"]["schema"]
    assert schema is not None
    answers = [
        c.get("/api/sites/nope"),  # 404 from the core
        c.get("/api/sites?limit=0"),  # 422 validation
        c.post("/api/sites", json={"name": "x", "bbox": [1, 2, 3, 4]}),  # 401
        c.post("/api/sites", headers=AUTH, json={"name": "x"}),  # 422 from the core
        c.put("/api/sites", headers=AUTH),  # 405
        c.post("/api/sites", headers={**AUTH, "content-length": "99999999"}),  # 413
    ]
    for r in answers:
        assert r.status_code >= 400
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert set(schema["required"]) <= set(body) <= set(schema["properties"]), body
        types = {"string": str, "integer": int, "array": list}
        for key, value in body.items():
            assert isinstance(value, types[schema["properties"][key]["type"]]), (key, body)


def test_a_body_that_is_not_utf8_says_so(empty_app: TestClient) -> None:
    """A body of bytes that are not UTF-8 was a 400 'There was an error parsing the body'."""
    r = empty_app.post(
        "/api/sites",
        headers={**AUTH, "content-type": "application/json"},
        content=b'{"name": "\xff\xfe"}',
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    detail = r.json()["detail"]
    assert "not UTF-8" in detail and "Content-Type: application/json" in detail


def test_a_site_being_processed_cannot_be_deleted_under_its_job(tmp_path: Path) -> None:
    """DELETE of a site while a job processed it deleted the scenes under the job, which
    then failed with 'no scene with id 5: see `railwatch scene list SITE`'. Now 409
    naming the job; once the job has ended the site is deleted."""
    import threading

    from test_web_api import GatedDetector, _clear_yard, _wait_job

    db = _clear_yard(tmp_path)
    gate = threading.Event()
    cfg = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    app = create_app(cfg, db, detector_factory=lambda: GatedDetector(gate))
    with TestClient(app) as c:
        job = c.post("/api/sites/yard/jobs", json={}, headers=AUTH).json()
        _wait_job(c, job["id"], lambda j: j["status"] == "running")
        r = c.delete("/api/sites/yard", headers=AUTH)
        assert r.status_code == 409, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert f"/api/jobs/{job['id']}" in r.json()["detail"]
        assert c.get("/api/sites/yard").json()["scenes"] == 3  # nothing deleted
        gate.set()
        done = _wait_job(c, job["id"], lambda j: j["status"] not in ("queued", "running"))
        assert done["status"] == "succeeded", done
        r = c.delete("/api/sites/yard", headers=AUTH)
        assert r.status_code == 200 and r.json()["scenes"] == 3
        assert c.get("/api/sites/yard").status_code == 404
    db.dispose()


def test_tile_of_a_scene_whose_file_is_gone_is_a_404_that_says_so(tmp_path: Path) -> None:
    """A scene whose image was moved or deleted after ingest answered every tile of the
    map with a 500 naming the server's path (and a traceback in the log for each)."""
    import math

    from web_db import populate

    db = Database(f"sqlite:///{tmp_path / 'gone.db'}")
    ids = populate(db, tmp_path / "img")
    cfg = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    c = TestClient(create_app(cfg, db), raise_server_exceptions=False)
    scene = c.get(f"/api/scenes/{ids['scene_ids'][4]}", headers=AUTH).json()  # full path
    ring = scene["footprint"]["coordinates"][0]
    lon = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
    lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    z = 17
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    url = f"/api/scenes/{scene['id']}/tiles/{z}/{x}/{y}.png"
    assert c.get(url).status_code == 200
    Path(scene["uri"]).rename(tmp_path / "elsewhere.tif")
    for zoom_url in (url, f"/api/scenes/{scene['id']}/tiles/3/7/2.png"):
        r = c.get(zoom_url)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"] == "application/problem+json"
        detail = r.json()["detail"]
        assert "scene_4.tif" in detail and "no longer where it was ingested" in detail
        assert str(tmp_path) not in detail
    db.dispose()
