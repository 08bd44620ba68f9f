"""``/docs`` says what values a parameter or body member takes, not its type alone
(2026-12-06, session 38, web review).

The page is rendered from the OpenAPI document, which declares the bounds of ``limit``
(1 to 1000 on a list, up to 100,000 for a count series and 50,000 for detections), the
values of ``format`` (``json`` or ``csv``), ``status``, ``source`` and ``min_severity``,
and the lengths of names and labels; the page gave ``integer (default 100)`` and
``string (default "json")``, so a client author reading it could not learn that the
counts come as CSV or how large a page may be.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp: Path = tmp_path_factory.mktemp("apidocs-s38")
    db = Database(f"sqlite:///{tmp / 'd.db'}")
    try:
        app = create_app(Settings(db=db.url, cache_dir=tmp / "cache"), db)
        with TestClient(app) as client:
            r = client.get("/docs")
            assert r.status_code == 200, r.text
            return r.text
    finally:
        db.dispose()


def _operation(page: str, method: str, path: str) -> str:
    """The text of one operation's section (tags removed, entities read)."""
    for section in re.findall(r'<section class="op".*?</section>', page, flags=re.S):
        text = unescape(re.sub(r"<[^>]+>", " ", section))
        if re.search(rf"\b{method}\s+{re.escape(path)}\s", text):
            return " ".join(text.split())
    raise AssertionError(f"no {method} {path} on /docs")


def test_query_parameters_name_their_values_and_bounds(page: str) -> None:
    counts = _operation(page, "GET", "/api/sites/{site}/counts")
    assert 'format query optional string (one of "json", "csv", default "json")' in counts
    assert "limit query optional integer (1 to 100000, default 10000)" in counts
    sites = _operation(page, "GET", "/api/sites")
    assert "limit query optional integer (1 to 1000, default 100)" in sites
    assert "offset query optional integer (0 to 1000000000, default 0)" in sites
    detections = _operation(page, "GET", "/api/scenes/{scene_id}/detections")
    assert "integer (1 to 50000, default 10000)" in detections
    scenes = _operation(page, "GET", "/api/sites/{site}/scenes")
    assert '(one of "ingested", "processed", "unusable", "failed")' in scenes
    alerts = _operation(page, "GET", "/api/alerts")
    assert 'one of "info", "low", "medium", "high", default "info"' in alerts
    tile = _operation(page, "GET", "/api/scenes/{scene_id}/tiles/{z}/{x}/{y}.png")
    assert "z path required integer (0 to 24)" in tile


def test_body_members_name_their_bounds(page: str) -> None:
    event = _operation(page, "POST", "/api/sites/{site}/events")
    assert "label string (1 to 200 characters) (required)" in event, event
    site = _operation(page, "POST", "/api/sites")
    assert "name string (1 to 64 characters) (required)" in site, site
