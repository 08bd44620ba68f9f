"""The site page asks for its lists together (session 24, web speed), in Chromium.

Before, the page asked for the scene list, then the alerts, then the counts, then the
classes, then the detections, each once the one before had arrived and been drawn: on
a site of 5,000 images the page was ready after 5-6 s. The scene list came with every
scene's footprint, a quarter of its size, used only for the image shown. Here the
scene list is held back by the test until the page has asked for the rest (before, it
never did: it waited for the list), and the image tiles still come with each image.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import serve_db

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from railwatch.storage import Database  # noqa: E402
from web_db import populate  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.services]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The six-image site of the API tests on a server of its own (open reads)."""
    db = Database(f"sqlite:///{tmp_path / 'speed-e2e.db'}")
    ids = populate(db, tmp_path / "img")
    try:
        with serve_db(db, tmp_path / "cache") as url:
            yield {**ids, "url": url}
    finally:
        db.dispose()


def test_the_page_asks_for_its_lists_together(world: dict[str, Any], browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(60_000)
    errors: list[str] = []
    asked: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: asked.append(r.url))
    held: list[Any] = []
    site = world["site"]
    page.route(f"**/api/sites/{site}/scenes*", lambda route: held.append(route))
    page.goto(f"{world['url']}/sites/{site}")
    # while the scene list is held back, the page asks for its alerts, counts and classes
    parts = ("/alerts?", "/counts?class=all", "/counts?limit=1")
    wanted = [f"/api/sites/{site}{part}" for part in parts]
    deadline = time.monotonic() + 30  # a bound on the wait, not a measure
    while not all(any(w in u for u in asked) for w in wanted) and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # lets Playwright deliver the page's requests
    assert all(any(w in u for u in asked) for w in wanted), asked
    assert len(held) == 1 and not page.locator("body[data-ready='1']").count()
    assert "footprint" not in held[0].request.url  # read for the image shown only
    held[0].continue_()
    page.unroute(f"**/api/sites/{site}/scenes*")
    page.wait_for_selector("body[data-ready='1']")
    latest, before = world["scene_ids"][5], world["scene_ids"][4]
    page.wait_for_selector(f"body[data-tiles='{latest}']")  # its image, from its footprint
    assert "6 detections" in page.locator("#det-count").inner_text()
    page.click("#prev")
    page.wait_for_selector(f"body[data-tiles='{before}']")
    page.wait_for_function(
        "document.getElementById('det-count').textContent.includes('18 detections')"
    )
    # each list once, the first image's detections once (asked for beside the lists)
    api = [u.split("/api/", 1)[1] for u in asked if "/api/" in u and "/tiles/" not in u]
    assert api.count(f"scenes/{latest}/detections?limit=50000") == 1
    assert sum(u.startswith(f"sites/{site}/scenes") for u in api) == 1
    assert errors == []
    assert all(u.startswith(world["url"]) for u in asked)
    page.close()
