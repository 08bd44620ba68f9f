"""``/docs`` names the guide as the project's documentation, not as a path to open
(2026-12-06, session 38, web review): it ended "The whole guide: docs/web.md.", a path
of the source tree that a reader of a served API cannot open."""

from __future__ import annotations

from html import unescape
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app


def test_the_docs_page_says_what_it_serves_and_where_the_guide_is(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    c = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))
    page = unescape(c.get("/docs").text)
    described = c.get("/openapi.json").json()["info"]["description"]
    for text in (page, described):
        assert "The whole guide: docs/web.md" not in text
        assert "not served here" in text
        assert "railwatch's documentation" in text
    # what it names as served is served
    assert "`/openapi.json` are the reference this server serves" in described
    assert c.get("/openapi.json").status_code == 200 and c.get("/docs").status_code == 200
