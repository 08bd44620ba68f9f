"""A JSON body nested deeper than Python's parser goes (2026-12-06, session 36, r3's
review of 3ef43b9): the check for a member given twice parses every JSON body again,
also on routes that take none (``DELETE``), where FastAPI leaves the body unread; 5,000
``[`` (10 KB, under the 1 MiB limit) raised a RecursionError there, a 500 with a
traceback in the server log. On a route that reads a body FastAPI answers 400, which
said only that the body "is not UTF-8 text"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app

TOKEN = "deep-bodies-s36"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
DEEP = b"[" * 5000 + b"]" * 5000


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("deep-bodies-s36")
    db = Database(f"sqlite:///{tmp / 'w.db'}")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as c:
        yield c


def _site(client: TestClient, name: str) -> None:
    r = client.post(
        "/api/sites",
        json={"name": name, "bbox": [130.6, 42.41, 130.61, 42.42]},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert r.status_code == 201, r.text


def test_a_deep_body_on_a_route_without_one_is_ignored(client: TestClient) -> None:
    """``DELETE /api/sites/{site}`` takes no body: a deep one is left unread, as any
    other body there, and the site is removed (a 500 before)."""
    _site(client, "deep-delete")
    r = client.request("DELETE", "/api/sites/deep-delete", content=DEEP, headers=AUTH)
    assert r.status_code == 200, r.text
    assert client.get("/api/sites/deep-delete").status_code == 404


def test_a_member_given_twice_is_still_refused_there(client: TestClient) -> None:
    """The check itself still runs on such a route (the answer of 3ef43b9)."""
    _site(client, "twice-delete")
    r = client.request(
        "DELETE", "/api/sites/twice-delete", content=b'{"a": 1, "a": 2}', headers=AUTH
    )
    assert r.status_code == 422, r.text
    assert client.get("/api/sites/twice-delete").status_code == 200


def test_a_deep_body_where_one_is_read_says_it_nests_too_deeply(client: TestClient) -> None:
    r = client.post("/api/sites", content=DEEP, headers=AUTH)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "nests arrays or objects too deeply" in r.json()["detail"]
