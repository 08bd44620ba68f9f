"""Session 29: paging links from a page past the end of a list, and the OpenAPI
document's word for a scene's missing analyst cars."""

from __future__ import annotations

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
from web_db import populate


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, Any]:
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "cache")
    ids["client"] = TestClient(create_app(settings, db))
    return ids


def _links(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(", "):
        url, rel = part.split("; ")
        out[rel.removeprefix('rel="').removesuffix('"')] = url.strip("<>")
    return out


def test_prev_from_a_page_past_the_end_is_the_last_page(world: dict[str, Any]) -> None:
    """From ``offset=50`` of six scenes by two, ``prev`` was ``offset=48``: another empty
    page past the end, and the one before that, 23 requests before any scene."""
    c = world["client"]
    r = c.get(f"/api/sites/{world['site']}/scenes?limit=2&offset=50")
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == 6
    links = _links(r.headers["link"])
    assert links["last"].endswith("limit=2&offset=4")
    assert links["prev"] == links["last"]
    assert "next" not in links
    prev = c.get(links["prev"]).json()
    assert [s["id"] for s in prev["items"]] == world["scene_ids"][4:]
    # within the list, prev is the page before, as it was
    inside = _links(c.get(f"/api/sites/{world['site']}/scenes?limit=2&offset=3").headers["link"])
    assert inside["prev"].endswith("limit=2&offset=1")
    assert inside["next"].endswith("limit=2&offset=5")
    # an empty list: first and last are offset 0, and so is prev
    empty = _links(
        c.get("/api/alerts?open_only=true&site=tumangang-test&limit=5&offset=10").headers["link"]
    )
    assert empty["prev"].endswith("offset=0") and empty["last"].endswith("offset=0")


def test_the_openapi_document_says_a_missing_analyst_cars_file_is_a_404(
    world: dict[str, Any],
) -> None:
    """Its ``source`` parameter said a 422, where the endpoint answers 404."""
    c = world["client"]
    scene = world["scene_ids"][0]
    assert c.get(f"/api/scenes/{scene}/cars?source=analyst").status_code == 404
    op = c.get("/openapi.json").json()["paths"]["/api/scenes/{scene_id}/cars"]["get"]
    source = next(p for p in op["parameters"] if p["name"] == "source")
    assert "a 404 when the scene has none" in source["description"]
    assert "422 when the scene has none" not in source["description"]
