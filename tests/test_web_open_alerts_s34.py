"""The site list's open alerts (every class) are given back on the site page, above its
alerts panel (2026-12-05, session 34).

Before, the site list's badges counted the open alerts of every class (the demo's
Tumangang: 26 high, 5 medium, 4 low, 55 info) while the page the site's name leads to
listed the site total's alerts only, acknowledged ones too (8 high, 1 medium, 24 info),
with a line "57 alerts on single classes": no number on the page matched the list's.
Now the page says the list's numbers, each class's open alerts as a button that shows
that class, and what the panel lists below. Chromium (Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import serve_db

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from railwatch.analysis.types import Alert
from railwatch.storage import Database, repo
from web_db import populate

pytestmark = [pytest.mark.slow, pytest.mark.services]


def _alert(key: str, sev: str, day: int, cls: str, scene: int) -> Alert:
    kind = key.split(":")[0]
    when = datetime(2023, 10, day, 2, 30, tzinfo=UTC)
    return Alert(key, kind, sev, when, cls, 5.0, f"{cls} {kind}", scene_id=scene)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("open-s34")
    db = Database(f"sqlite:///{tmp / 'open.db'}")
    ids = populate(db, tmp / "img")
    sc = ids["scene_ids"]
    with db.session() as s:
        repo.replace_alerts(
            s,
            ids["site"],
            [
                _alert("record:all:2023-10-05", "high", 5, "all", sc[4]),
                _alert("spike:tank:2023-10-05", "medium", 5, "tank", sc[4]),
                _alert("drop:tank:2023-10-06", "low", 6, "tank", sc[5]),
                _alert("record:covered:2023-10-05", "info", 5, "covered", sc[4]),
            ],
        )
        acked = next(a for a in repo.list_alerts(s, ids["site"]) if a.cls == "covered")
        repo.acknowledge_alert(s, acked.id, "checked")
    try:
        with serve_db(db, tmp / "cache") as url:
            yield {"url": url, "site": ids["site"]}
    finally:
        db.dispose()


def test_the_site_page_gives_the_site_lists_open_alerts_back(
    browser: Any, world: dict[str, Any]
) -> None:
    url, site = world["url"], world["site"]
    summary = httpx.get(f"{url}/api/sites/{site}").json()["summary"]
    # open: not acknowledged (the covered one is), of every class
    assert summary["open_by_severity"] == {"high": 1, "medium": 1, "low": 1, "info": 0}
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url + "/")
        page.wait_for_selector(".site-row")
        listed = page.locator(".alerts-cell .badge").all_inner_texts()
        assert listed == ["1 high", "1 medium", "1 low"]
        assert "(all classes)" in (page.locator("table.sites thead").inner_text())

        page.goto(f"{url}/sites/{site}")
        page.wait_for_selector("body[data-ready='1']")
        box = page.locator("#alerts-open")
        # the list's badges, the same words
        assert box.locator(".open-total .badge").all_inner_texts() == listed
        # each class's open alerts, adding up to them; the acknowledged one is not open
        buttons = box.locator("button.open-cls")
        by_cls = {
            b.get_attribute("data-cls"): int(b.get_attribute("data-open") or -1)
            for b in buttons.all()
        }
        assert by_cls == {"all": 1, "tank": 2, "covered": 0}
        assert sum(by_cls.values()) == summary["open_alerts"]
        assert "site total" in box.inner_text()
        assert page.locator("#alerts .alert").count() == 1  # the total's, as before
        assert "3 alerts of other classes" in page.locator("#alerts").inner_text()

        # a class's button shows that class, in the chart's selector and the panel
        box.locator("button.open-cls[data-cls='tank']").click()
        page.wait_for_function("document.getElementById('cls').value === 'tank'")
        page.wait_for_function("document.querySelectorAll('#alerts .alert').length === 2")
        shown = box.locator(".open-shown").inner_text()
        assert "tank, 2 alerts; open: 1 medium, 1 low" in shown, shown
        pressed = box.locator("button.open-cls[aria-pressed='true']")
        assert pressed.get_attribute("data-cls") == "tank"
        # with a class chosen, the site total's alert is among the others (the total's
        # and the covered one; it said "on single classes")
        assert "2 alerts of other classes" in page.locator("#alerts").inner_text()

        box.locator("button.open-cls[data-cls='covered']").click()
        page.wait_for_function("document.querySelectorAll('#alerts .alert.acked').length === 1")
        assert "covered, 1 alert; open: none" in box.locator(".open-shown").inner_text()
        assert errors == []
    finally:
        page.close()
