"""The dashboard's pages, scripts and styles are revalidated at each use (session 24):
they were sent with Last-Modified and no Cache-Control, which a browser may keep for a
tenth of the file's age without asking (days for an installed package's files), so a
server upgraded under an open browser ran the old script against the new API."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    return TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/sites/tumangang",
        "/static/js/site.js",
        "/static/js/common.js",
        "/static/app.css",
        "/static/vendor/leaflet/leaflet.js",
    ],
)
def test_dashboard_files_are_revalidated_at_each_use(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["etag"] and r.headers["last-modified"]


def test_an_unchanged_script_is_a_bodiless_304(client: TestClient) -> None:
    first = client.get("/static/js/site.js")
    again = client.get("/static/js/site.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["cache-control"] == "no-cache"
