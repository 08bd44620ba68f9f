"""A 404 tells an API client where to look in the API, the same for every method
(2026-12-05, session 34). The library's messages point a CLI user to a command, and the
API passed them on: ``GET /api/events/9`` said "list them at /api/sites/SITE/events",
``PATCH`` and ``DELETE`` of the same id "see `railwatch event list SITE`"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "words-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("words-s34")
    db = Database(f"sqlite:///{tmp / 'w.db'}")
    populate(db, tmp / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    yield TestClient(create_app(settings, db))
    db.dispose()


def _detail(r: Any) -> str:
    assert r.status_code == 404, (r.status_code, r.text)
    detail: str = r.json()["detail"]
    assert "railwatch " not in detail, detail  # no CLI command for an API client
    return detail


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_missing_event_is_said_alike_by_every_method(client: TestClient, method: str) -> None:
    body = {"label": "x"} if method == "PATCH" else None
    r = client.request(method, "/api/events/9999", json=body, headers=AUTH)
    assert _detail(r) == "no event with id 9999: list a site's events at /api/sites/SITE/events"


@pytest.mark.parametrize(
    ("method", "path", "words"),
    [
        ("GET", "/api/scenes/9999", "list a site's scenes at /api/sites/SITE/scenes"),
        ("GET", "/api/scenes/9999/quality", "list a site's scenes at /api/sites/SITE/scenes"),
        ("GET", "/api/scenes/9999/detections", "list a site's scenes at /api/sites/SITE/scenes"),
        ("GET", "/api/alerts/9999", "list them at /api/alerts"),
        ("POST", "/api/alerts/9999/acknowledge", "reload the alerts (/api/alerts)"),
        ("GET", "/api/sites/nope", "add one with POST /api/sites"),
        ("GET", "/api/sites/nope/counts", "add one with POST /api/sites"),
    ],
)
def test_a_missing_resource_points_to_the_api(
    client: TestClient, method: str, path: str, words: str
) -> None:
    assert words in _detail(client.request(method, path, headers=AUTH))
