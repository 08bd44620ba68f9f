"""The dashboard's sign-in (session 22 QA).

On a server whose reads need the token (a non-loopback address without
``--public-reads``) the dashboard could not be used at all: the site list had no token
field (401, "Cannot load sites") and map tiles, loaded by ``<img>`` elements that
cannot carry an ``Authorization`` header, were always a 401. The dashboard now posts
the token once to ``/api/session`` and gets a random session id in an ``HttpOnly``,
``SameSite=Strict`` cookie (``Secure`` over https) that stands for the token on reads
and, from the server's own pages (``Origin``), on writes.

Also: scenes show their full file paths only to the token or a session (file names
otherwise)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from railwatch.web.security import SessionStore
from web_db import populate

TOKEN = "qa22-session-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COOKIE = "railwatch_session_80"  # TestClient's server is testserver:80
ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("session")
    db = Database(f"sqlite:///{tmp / 's.db'}")
    ids = populate(db, tmp / "img")
    ids["tmp"] = tmp
    ids["db"] = db
    ids["cfg"] = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    return ids


def closed(world: dict[str, Any], **kwargs: Any) -> TestClient:
    """A client of a server whose reads need the token (as on 0.0.0.0)."""
    app = create_app(world["cfg"], world["db"], open_reads=False)
    return TestClient(app, **kwargs)


def centre_tile(c: TestClient, scene_id: int, headers: dict[str, str] | None = None) -> str:
    scene = c.get(f"/api/scenes/{scene_id}", headers=headers or AUTH).json()
    ring = scene["footprint"]["coordinates"][0]
    lon = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
    lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    z = 17
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    return f"/api/scenes/{scene_id}/tiles/{z}/{x}/{y}.png"


def sign_in(c: TestClient, token: str = TOKEN, **headers: str) -> Any:
    return c.post("/api/session", json={"token": token}, headers=headers)


def set_cookie(r: Any) -> str:
    cookies = [v for k, v in r.headers.multi_items() if k.lower() == "set-cookie"]
    assert len(cookies) == 1, cookies
    return str(cookies[0])


def test_closed_reads_sign_in_gives_a_session_cookie_for_reads_and_tiles(
    world: dict[str, Any],
) -> None:
    c = closed(world)
    tile = centre_tile(c, world["scene_ids"][4])
    # without credentials: 401 that says how a browser gets in
    r = c.get("/api/sites")
    assert r.status_code == 401 and "sign in on the dashboard" in r.json()["detail"]
    assert c.get(tile).status_code == 401  # an <img> cannot send the header
    state = c.get("/api/session").json()  # open to everyone: the page asks it first
    assert state["signed_in"] is False and state["reads"] == "token"
    assert state["writes"] == "token" and "RAILWATCH_API_TOKEN" in state["token_from"]

    r = sign_in(c, "not-the-token")
    assert r.status_code == 403 and "token is wrong" in r.json()["detail"]
    assert "set-cookie" not in r.headers

    r = sign_in(c)
    assert r.status_code == 200, r.text
    assert r.json()["signed_in"] is True
    header = set_cookie(r)
    attrs = {a.strip().split("=")[0].lower() for a in header.split(";")}
    assert {"httponly", "path", "max-age"} <= attrs and "secure" not in attrs  # http
    assert "samesite=strict" in header.lower()
    value = c.cookies.get(COOKIE)
    assert value and len(value) >= 40 and TOKEN not in header  # a random id, not the token

    # the cookie (and nothing else) now reads the API and the map tiles
    assert c.get("/api/sites").status_code == 200
    r = c.get(tile)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert c.get("/api/session").json()["signed_in"] is True


def test_cookie_is_secure_over_https_and_behind_a_tls_proxy(world: dict[str, Any]) -> None:
    c = closed(world, base_url="https://testserver")
    header = set_cookie(sign_in(c))
    assert "secure" in header.lower() and "railwatch_session_443=" in header
    plain = closed(world)
    header = set_cookie(sign_in(plain, **{"X-Forwarded-Proto": "https"}))
    assert "; secure" in header.lower()


def test_writes_by_cookie_need_this_servers_origin(world: dict[str, Any]) -> None:
    c = closed(world)
    alert = f"/api/alerts/{world['alert_id']}/acknowledge"
    assert sign_in(c).status_code == 200
    # another site's page, or no Origin at all: refused (cross-site request forgery)
    r = c.post(alert, json={"note": "x"}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "Origin" in r.json()["detail"]
    r = c.post(alert, json={"note": "x"})
    assert r.status_code == 403
    body = c.get(f"/api/alerts/{world['alert_id']}").json()
    assert body["acknowledged"] is False
    # from the dashboard's own page
    r = c.post(alert, json={"note": "seen from the dashboard"}, headers=ORIGIN)
    assert r.status_code == 200, r.text
    assert r.json()["ack_note"] == "seen from the dashboard"
    # scripts: the bearer token as before, no cookie, no Origin
    r = TestClient(c.app).post(alert, json={"note": "seen from the dashboard"}, headers=AUTH)
    assert r.status_code == 200
    # behind a reverse proxy that rewrites Host and says the original in X-Forwarded-Host
    proxied = {"Origin": "https://rail.example", "X-Forwarded-Host": "rail.example"}
    r = c.post(alert, json={"note": "via the proxy"}, headers=proxied)
    assert r.status_code == 200, r.text
    # a wrong bearer is not rescued by a valid cookie
    r = c.post(alert, json={}, headers={**ORIGIN, "Authorization": "Bearer wrong"})
    assert r.status_code == 403


def test_sign_out_ends_the_session_server_side(world: dict[str, Any]) -> None:
    c = closed(world)
    sign_in(c)
    old = c.cookies.get(COOKIE)
    assert old
    r = c.delete("/api/session", headers=ORIGIN)
    assert r.status_code == 204
    assert f"{COOKIE}=" in set_cookie(r) and "max-age=0" in set_cookie(r).lower()
    assert c.get("/api/sites").status_code == 401
    # the old id, replayed by hand, is dead too
    fresh = TestClient(c.app)
    fresh.cookies.set(COOKIE, old)
    assert fresh.get("/api/sites").status_code == 401
    assert c.delete("/api/session").status_code == 204  # again: nothing to end, still 204


def test_forged_and_expired_sessions_are_refused(world: dict[str, Any]) -> None:
    c = closed(world)
    c.cookies.set(COOKIE, TOKEN)  # the token itself is not a session id
    assert c.get("/api/sites").status_code == 401
    now = [1000.0]
    c.app.state.sessions = SessionStore(lifetime_s=60, clock=lambda: now[0])  # type: ignore[attr-defined]
    c.cookies.clear()
    sign_in(c)
    assert c.get("/api/sites").status_code == 200
    now[0] += 61
    assert c.get("/api/sites").status_code == 401
    assert c.get("/api/session").json()["signed_in"] is False


def test_sign_in_refused_from_another_site_and_without_a_server_token(
    world: dict[str, Any],
) -> None:
    c = closed(world)
    r = sign_in(c, **{"Origin": "https://evil.example"})
    assert r.status_code == 403 and "set-cookie" not in r.headers
    assert sign_in(c, **ORIGIN).status_code == 200
    r = c.post("/api/session", json={"token": 12345})  # strict JSON: a string
    assert r.status_code == 422
    none = TestClient(
        create_app(Settings(db=world["db"].url, cache_dir=world["tmp"] / "c2"), world["db"])
    )
    r = sign_in(none)
    assert r.status_code == 403 and "RAILWATCH_API_TOKEN" in r.json()["detail"]
    assert none.get("/api/session").json()["writes"] == "disabled"


def test_loopback_reads_stay_open_and_writes_still_need_credentials(
    world: dict[str, Any],
) -> None:
    c = TestClient(create_app(world["cfg"], world["db"]))  # open reads (loopback)
    assert c.get("/api/sites").status_code == 200
    assert c.get("/api/session").json()["reads"] == "open"
    r = c.post(f"/api/sites/{world['site']}/analyze", headers=ORIGIN)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    sign_in(c)  # then the dashboard's own writes go through
    event = {"date": "2023-01-02", "label": "x"}
    r = c.post(f"/api/sites/{world['site']}/events", json=event, headers=ORIGIN)
    assert r.status_code == 201, r.text


def test_scene_file_paths_only_to_the_token_or_a_session(world: dict[str, Any]) -> None:
    """GET /api/scenes/{id} and the scenes list gave everyone the server's full paths
    (uri, mask_uri): with --public-reads, the server's directory layout to the world."""
    scene_id = world["scene_ids"][4]
    folder = str(world["tmp"])
    public = TestClient(create_app(world["cfg"], world["db"]))  # open reads
    site = world["site"]
    for url in (f"/api/scenes/{scene_id}", f"/api/sites/{site}/scenes?footprint=true"):
        r = public.get(url)
        assert r.status_code == 200 and folder not in r.text, url
    body = public.get(f"/api/scenes/{scene_id}").json()
    assert body["uri"] is None and body["mask_uri"] is None and body["file"] == "scene_4.tif"
    full = public.get(f"/api/scenes/{scene_id}", headers=AUTH).json()
    assert full["uri"].startswith(folder) and full["file"] == "scene_4.tif"
    listed = public.get(f"/api/sites/{site}/scenes", headers=AUTH).json()["items"]
    assert all(s["uri"].startswith(folder) for s in listed)
    assert (
        public.get(f"/api/scenes/{scene_id}", headers={"Authorization": "Bearer no"}).json()["uri"]
        is None
    )  # a wrong token on open reads: read, but as anyone
    c = closed(world)
    sign_in(c)
    assert c.get(f"/api/scenes/{scene_id}").json()["uri"].startswith(folder)


def test_scene_error_names_only_the_file_for_anonymous_readers(
    world: dict[str, Any], tmp_path: Path
) -> None:
    from railwatch.storage import repo

    db = Database(f"sqlite:///{tmp_path / 'e.db'}")
    ids = populate(db, tmp_path / "img")
    with db.session() as s:
        scene = repo.get_scene(s, ids["scene_ids"][1])
        scene.status = "failed"
        scene.error = f"{scene.uri}: file changed since ingest (its hash differs)"
    c = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "c"), db))
    body = c.get(f"/api/scenes/{ids['scene_ids'][1]}").json()
    assert body["error"] == "scene_1.tif: file changed since ingest (its hash differs)"
    db.dispose()


def test_hide_paths_keeps_file_names_and_drops_directories_and_queries() -> None:
    from railwatch.web.routes.scenes import hide_paths

    assert hide_paths("/srv/imagery/yard/x.tif: no such file") == "x.tif: no such file"
    assert (
        hide_paths("cannot read https://b.s3.amazonaws.com/d/x.tif?X-Amz-Signature=abc: 403")
        == "cannot read x.tif: 403"
    )
    assert (
        hide_paths("quality mask file:///srv/m/x.mask.tif: gone") == "quality mask x.mask.tif: gone"
    )
    assert hide_paths("3/4 scenes, ratio 1/2") == "3/4 scenes, ratio 1/2"
    assert hide_paths(None) is None


def test_a_failed_jobs_error_shows_paths_only_to_the_token(world: dict[str, Any]) -> None:
    """A job's error is the library's message, which names the server's files: readers
    without the token or a session see file names only, as for scenes."""
    from datetime import UTC, datetime

    from railwatch.web.jobs import Job

    app = create_app(world["cfg"], world["db"])  # loopback: reads open
    c = TestClient(app)
    job = Job(
        id="f" * 32,
        site="testyard",
        reprocess=False,
        status="failed",
        error="/srv/data/yard/scene_3.tif: no such file",
        created_at=datetime.now(UTC),
    )
    app.state.jobs._jobs[job.id] = job  # a job that failed so (none is run here)
    anonymous = c.get(f"/api/jobs/{job.id}").json()
    assert anonymous["error"] == "scene_3.tif: no such file"
    listed = c.get("/api/jobs").json()["items"]
    assert [j["error"] for j in listed if j["id"] == job.id] == ["scene_3.tif: no such file"]
    full = c.get(f"/api/jobs/{job.id}", headers=AUTH).json()
    assert full["error"] == "/srv/data/yard/scene_3.tif: no such file"
