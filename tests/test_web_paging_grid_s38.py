"""Paging links from an odd offset (2026-12-06, session 38, web review).

``last`` was the last multiple of ``limit`` whatever the current offset (223 items by
2 from offset 221: ``last`` offset 222, a page ``next`` never reaches, overlapping the
current one), and ``prev`` from an offset under ``limit`` was a whole page from 0 over
the current one. Now ``last`` is the final page on the current offset's grid, ``prev``
the items just before the current page (fewer than ``limit`` where fewer are left),
and following ``next`` from any page visits each item once and ends on ``last``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.requests import Request

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from railwatch.web.pagination import page_links
from web_db import populate


def _links(header: str) -> dict[str, tuple[int, int]]:
    """``rel`` → (limit, offset) of a Link header's URLs."""
    out = {}
    for part in header.split(", "):
        url, rel = part.split("; ")
        query = dict(q.split("=") for q in url.strip("<>").split("?", 1)[1].split("&"))
        out[rel.removeprefix('rel="').removesuffix('"')] = (
            int(query["limit"]),
            int(query["offset"]),
        )
    return out


def _header(total: int, limit: int, offset: int) -> dict[str, tuple[int, int]]:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/alerts",
        "query_string": f"limit={limit}&offset={offset}".encode(),
        "headers": [(b"host", b"testserver")],
        "scheme": "http",
        "server": ("testserver", 80),
    }
    return _links(page_links(Request(scope), total, limit, offset))


def test_the_reviews_example() -> None:
    links = _header(223, 2, 221)
    assert links["last"] == (2, 221)  # the current page is the last: 221 and 222
    assert links["prev"] == (2, 219)
    assert "next" not in links
    assert links["first"] == (2, 0)
    # from an offset under limit, prev is the items before it alone
    assert _header(223, 2, 1)["prev"] == (1, 0)
    assert _header(223, 10, 7)["prev"] == (7, 0)
    # on the grid of 0, as before
    assert _header(223, 2, 0)["last"] == (2, 222)
    assert _header(223, 2, 220)["prev"] == (2, 218)


@pytest.mark.parametrize("total", [0, 1, 5, 6, 7, 223])
@pytest.mark.parametrize("limit", [1, 2, 3, 4, 10])
@pytest.mark.parametrize("offset", [0, 1, 2, 3, 5, 9, 221])
def test_prev_and_next_never_overlap_and_next_ends_on_last(
    total: int, limit: int, offset: int
) -> None:
    links = _header(total, limit, offset)
    here = set(range(offset, min(offset + limit, total)))
    if "prev" in links:
        size, off = links["prev"]
        before = set(range(off, min(off + size, total)))
        assert not before & here, (links, here)
        if offset < total:  # the items just before the current page
            assert before == set(range(max(0, offset - limit), offset))
    seen, at = set(here), offset
    links_at = links
    while "next" in links_at:
        size, at = links_at["next"]
        assert size == limit
        page = set(range(at, min(at + limit, total)))
        assert page and not page & seen
        seen |= page
        links_at = _header(total, limit, at)
    if offset < total:
        assert seen == set(range(offset, total))
        assert links["last"] == (limit, at), links
        _, last_off = links["last"]
        assert 0 <= last_off < total and last_off % limit == offset % limit


@pytest.fixture()
def client(tmp_path: Path) -> TestClient:
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db))
    client.site = ids["site"]  # type: ignore[attr-defined]
    return client


def test_the_api_follows_them(client: Any) -> None:
    r = client.get(f"/api/sites/{client.site}/scenes?limit=4&offset=1")
    assert r.json()["total"] == 6
    links = _links(r.headers["link"])
    assert links["prev"] == (1, 0) and links["next"] == (4, 5) and links["last"] == (4, 5)
    ids = [s["id"] for s in r.json()["items"]]
    prev = client.get(f"/api/sites/{client.site}/scenes?limit=1&offset=0").json()["items"]
    last = client.get(f"/api/sites/{client.site}/scenes?limit=4&offset=5").json()["items"]
    assert len(ids) == 4 and len(prev) == 1 and len(last) == 1
    assert not {s["id"] for s in prev + last} & set(ids)
