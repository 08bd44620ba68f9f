"""The site page's *My count* form in headless Chromium: an analyst signs in, gives their
count of the image shown, sees it marked as theirs (list, line under the map, chart)
with the detector's beside it, then removes it and sees the detector's count again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import chromium, serve_db

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from sqlalchemy import select  # noqa: E402

from railwatch.storage import Database  # noqa: E402
from railwatch.storage.models import ANALYST, Count  # noqa: E402
from web_db import populate  # noqa: E402

TOKEN = "review-e2e-token"

pytestmark = [pytest.mark.slow, pytest.mark.services]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'e2e.db'}")
    ids = populate(db, tmp_path / "img")
    try:
        with serve_db(db, tmp_path / "cache", token=TOKEN) as url:
            yield {**ids, "db": db, "url": url}
    finally:
        db.dispose()


def _total(db: Database, scene_id: int) -> tuple[float, str]:
    with db.session(readonly=True) as s:
        row = s.scalar(select(Count).where(Count.scene_id == scene_id, Count.cls == "all"))
        assert row is not None
        return row.count, row.detector


def test_an_analyst_gives_and_removes_their_count(world: dict[str, Any]) -> None:
    sid = world["scene_ids"][4]  # 18 cars found by the detector
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        away: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "request", lambda r: away.append(r.url) if not r.url.startswith(world["url"]) else None
        )
        page.goto(f"{world['url']}/sites/{world['site']}#{sid}")
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector("#review-form")
        entry = page.locator(f"button.scene[data-scene='{sid}'] .c")
        assert entry.text_content() == "18 cars"
        assert page.locator(".chart-svg circle.pt-reviewed").count() == 0
        # the alerts panel ends with its alert (a null child read "null" under it)
        alerts = page.locator("#alerts").text_content() or ""
        assert "Kim-Putin" in alerts and "null" not in alerts

        # not signed in: the write is refused, and the form says how to sign in
        page.fill("#review-total", "20")
        page.click("#review-save")
        page.wait_for_selector(".review-msg:has-text('sign in')")
        assert _total(world["db"], sid) == (18.0, "test")

        page.fill("#token", TOKEN)
        page.click("#signin button[type=submit]")
        page.wait_for_selector("#auth[data-signed-in='1']")
        page.fill("#review-total", "20")
        page.fill("#review-covered", "5")
        page.fill("#review-note", "counted by eye")
        page.click("#review-save")
        page.wait_for_selector(f"body[data-review-changed^='{sid}:20']")
        assert _total(world["db"], sid) == (20.0, ANALYST)
        assert entry.text_content() == "20 ✓ analyst"
        title = page.locator(f"button.scene[data-scene='{sid}']").get_attribute("title") or ""
        assert "the detector's: 18 (17–19)" in title
        info = page.locator("#scene-info").text_content() or ""
        assert "20 railcars ✓ analyst's count" in info and "the detector's: 18" in info
        assert "counted by eye" in (page.locator(".review-state").text_content() or "")
        point = page.locator(f".chart-svg circle.pt-reviewed[data-scene='{sid}']")
        assert point.count() == 1
        assert page.locator(".chart-svg circle.pt-reviewed").count() == 1

        page.click("#review-remove")
        page.wait_for_selector(f"body[data-review-changed='{sid}:none']")
        assert _total(world["db"], sid) == (18.0, "test")
        assert entry.text_content() == "18 cars"
        assert page.locator(".chart-svg circle.pt-reviewed").count() == 0
        assert page.locator("#review-remove").count() == 0
        assert errors == [] and away == []
