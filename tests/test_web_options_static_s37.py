"""``OPTIONS`` of a dashboard file that does not exist is the 404 a ``GET`` of it gets
(session 37's review r2: it answered 204 with ``Allow: GET, HEAD, OPTIONS`` for any path
under ``/static``, a folder and a missing file alike, while ``GET`` said 404)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from railwatch.web.methods import resource_methods


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        yield TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "c"), db))
    finally:
        db.dispose()


@pytest.mark.parametrize("path", ["/static/nope.css", "/static/", "/static/js", "/static/%00"])
def test_options_of_no_file_is_the_404_of_a_get(client: TestClient, path: str) -> None:
    got = client.get(path)
    asked = client.options(path)
    assert got.status_code == 404
    assert asked.status_code == 404, asked.headers
    assert "allow" not in asked.headers
    assert asked.json()["detail"] == got.json()["detail"]
    assert resource_methods(client.app, path) == []


def test_options_of_a_file_lists_its_methods(client: TestClient) -> None:
    asked = client.options("/static/app.css")
    assert asked.status_code == 204
    assert asked.headers["allow"] == "GET, HEAD, OPTIONS"
    assert client.post("/static/app.css").headers["allow"] == "GET, HEAD, OPTIONS"
