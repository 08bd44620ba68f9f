"""The trailing-slash redirect's ``Location`` is relative (2026-12-06, session 38, web
review).

Starlette answers ``/api/sites/`` with a 307 to ``/api/sites`` and wrote the target as
an absolute URL of the request's scheme: behind a reverse proxy that ends TLS and hands
the app plain http (``railwatch serve`` runs uvicorn with ``proxy_headers=False``), a
browser that asked for ``https://host/api/sites/`` was sent to ``http://host/api/sites``.
The ``Location`` is now an absolute-path reference, resolved against the URL the client
asked for, https included; it never becomes a network-path reference (``//host``).
"""

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
from web_db import populate


@pytest.fixture()
def app_and_site(tmp_path: Path) -> tuple[object, str]:
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "cache")
    return create_app(settings, db), ids["site"]


def test_the_trailing_slash_redirect_is_relative(app_and_site: tuple[object, str]) -> None:
    app, site = app_and_site
    # as a TLS proxy hands it on: the client asked for https, the app hears http
    plain = TestClient(app, base_url="http://yard.example.org")  # type: ignore[arg-type]
    r = plain.get("/api/sites/?limit=2", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == "/api/sites?limit=2"
    r = plain.get(f"/api/sites/{site}/scenes/?offset=1", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == f"/api/sites/{site}/scenes?offset=1"
    # followed from an https address, it stays https
    tls = TestClient(app, base_url="https://yard.example.org")  # type: ignore[arg-type]
    r = tls.get("/api/sites/?limit=2")
    assert r.status_code == 200 and r.json()["limit"] == 2
    assert [str(h.url) for h in r.history] == ["https://yard.example.org/api/sites/?limit=2"]
    assert str(r.url) == "https://yard.example.org/api/sites?limit=2"


def test_a_redirect_never_names_another_host(app_and_site: tuple[object, str]) -> None:
    """The request ``GET //evil.example/`` (the path as sent; httpx would read it as a
    host) redirects to the path ``//evil.example``: as a relative reference that is a
    URL of another host, so it keeps its absolute URL."""
    import asyncio

    app, _ = app_and_site
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    for path in ("//evil.example/", "//evil.example/api/sites/", "/\\evil.example/"):
        sent.clear()
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
            "root_path": "", "query_string": b"", "server": ("testserver", 80),
            "client": ("127.0.0.1", 5000), "headers": [(b"host", b"testserver")],
        }  # fmt: skip
        asyncio.run(app(scope, receive, send))  # type: ignore[operator]
        start = next(m for m in sent if m["type"] == "http.response.start")
        headers = dict(start["headers"])  # type: ignore[call-overload]
        location = headers.get(b"location", b"").decode()
        assert not location.startswith("//") and not location.startswith("/\\"), location
        if location:
            assert location.startswith("http://testserver/"), (path, location)


def test_relative_location() -> None:
    from starlette.datastructures import URL

    from railwatch.web.redirects import relative_location

    own = URL("http://yard.example.org:8000/api/sites/")
    assert relative_location("http://yard.example.org:8000/a?b=1#c", own) == "/a?b=1#c"
    assert relative_location("http://YARD.example.org:8000/a", own) == "/a"
    # another host's, another port's, or already relative: as they are
    for other in ("http://else.example/a", "http://yard.example.org:9000/a", "/a", "a"):
        assert relative_location(other, own) == other
    assert relative_location("http://yard.example.org:8000//evil.example", own) == (
        "http://yard.example.org:8000//evil.example"
    )
