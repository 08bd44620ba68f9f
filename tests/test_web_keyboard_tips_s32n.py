"""The last two hover-only texts of the dashboard reach the keyboard (session 32).

1. Buttons with a tooltip (the image list's entries, the "Images to check" entries, ◀ /
   ▶ and the "Download cars" link) were read by a screen reader, but a sighted keyboard
   user saw nothing on focus. Now each shows its title while it has the keyboard's focus
   (``:focus-visible``; a mouse click shows nothing): a list entry grows by its title's
   lines (it covers no other entry), ◀ / ▶ show theirs beside them over the slider.
2. Each stretch of track a 3 m length count read as occupied said its length in a map
   tooltip (mouse only). Now the line under the map names the stretches' lengths,
   longest first, after their sum, and the legend says so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from railwatch.storage import Database

SITE = "wellington"
TOKEN = "tips-token-s32n"

#: where the site page test leaves pictures of the focused entries (to look at)
SHOT = os.environ.get("RW_TIPS_SHOT")

pytestmark = [pytest.mark.slow, pytest.mark.services]

#: what an element shows after it: its ::after's content (none when it shows nothing)
AFTER = "(n) => getComputedStyle(n, '::after').content"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A UTC+12 site of 121 counted images with its alerts, served with an API token."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from helpers import add_analysed_wellington, serve_db

    tmp = tmp_path_factory.mktemp("tips")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    try:
        add_analysed_wellington(db, SITE, analysed_after=timedelta(days=120))
        with serve_db(db, tmp / "cache", token=TOKEN) as url:
            yield url
    finally:
        db.dispose()


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return dict(box)


def _keyboard_focus(page: Any, selector: str) -> str:
    """Give the first element of ``selector`` the keyboard's focus; return its title,
    after checking it showed nothing before."""
    node = page.locator(selector).first
    title = node.get_attribute("title") or ""
    assert title, selector
    assert node.evaluate(AFTER) in ("none", "normal"), selector
    page.keyboard.press("Shift+Tab")  # the keyboard in use: a focus then is :focus-visible
    node.evaluate("(n) => n.focus()")
    assert node.evaluate("(n) => n === document.activeElement && n.matches(':focus-visible')")
    return title


def _shows(page: Any, selector: str) -> None:
    node = page.locator(selector).first
    title = _keyboard_focus(page, selector)
    assert node.evaluate(AFTER) == '"' + title.replace('"', '\\"') + '"', selector


def _grows_over_nothing(page: Any, selector: str) -> None:
    """A list entry shows its title inside itself: it grows, and the next entry moves
    down under it (nothing covered)."""
    before = _box(page, selector)
    _shows(page, selector)
    after = _box(page, selector)
    assert after["height"] > before["height"] + 10, (selector, before, after)
    below = page.evaluate(
        """(sel) => { const li = document.querySelector(sel).closest("li").nextElementSibling;
                      return li ? li.getBoundingClientRect().top : null; }""",
        selector,
    )
    assert below is not None and below >= after["y"] + after["height"] - 1


def test_buttons_show_their_title_on_keyboard_focus(world: str, browser: Any) -> None:
    """Before: each of these had a title (a screen reader's description, the mouse's
    tooltip) and showed nothing on keyboard focus."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(f"{world}/sites/{SITE}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(".to-review-item")
    page.wait_for_selector("#review-download")

    # a mouse click shows nothing (its tooltip is the mouse's)
    page.locator("button.scene").nth(1).click()
    assert page.locator("button.scene").nth(1).evaluate(AFTER) in ("none", "normal")

    _grows_over_nothing(page, "button.scene")
    assert "the day at the site (UTC+12 nominal)" in page.locator("button.scene").first.evaluate(
        AFTER
    )
    if SHOT:
        page.screenshot(path=f"{SHOT}_scene.png")
    _grows_over_nothing(page, ".to-review-item")
    if SHOT:
        page.screenshot(path=f"{SHOT}_to_review.png")
    # an entry struck through (an unusable image; none in this world: one marked so here)
    page.locator("button.scene").nth(2).evaluate("(n) => n.classList.add('unusable')")
    _grows_over_nothing(page, "button.scene.unusable")
    # the line through is on its day and count, not on the button (a decoration drawn
    # through its title too: looked at in a screenshot)
    decor = page.locator("button.scene.unusable").first.evaluate(
        """(n) => [n, ...n.querySelectorAll(":scope > span")]
                    .map((m) => getComputedStyle(m).textDecorationLine)"""
    )
    assert decor == ["none", "line-through", "line-through"]
    if SHOT:
        page.screenshot(path=f"{SHOT}_unusable.png")

    # ◀ / ▶: beside the button, the stepper keeps its height (the list does not move)
    list_top = _box(page, "#scenes")["y"]
    for sel in ("#prev", "#next"):
        _shows(page, sel)
        assert _box(page, "#scenes")["y"] == list_top
        assert page.locator(sel).evaluate(AFTER.replace("content", "position")) == "absolute"
        if SHOT:
            page.screenshot(path=f"{SHOT}_{sel[1:]}.png")

    _shows(page, "#review-download")
    if SHOT:
        page.screenshot(path=f"{SHOT}_download.png")
    page.close()


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The 3 m yard of test_web_occupied_s30 (length counts with their runs)."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from fastapi.testclient import TestClient

    from helpers import live_server
    from railwatch.settings import Settings
    from railwatch.web.app import create_app
    from test_web_occupied_s30 import build

    tmp = tmp_path_factory.mktemp("tips-yard")
    db = Database(f"sqlite:///{tmp / 'yard.db'}")
    ids = build(db, tmp)
    settings = Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp / "cache")
    app = create_app(settings, db)
    try:
        with live_server(app) as url:
            yield {**ids, "url": url, "client": TestClient(app)}
    finally:
        db.dispose()


def test_the_stretches_lengths_are_said_under_the_map(yard: dict[str, Any], browser: Any) -> None:
    """Before: the line under the map gave the stretches' sum; each one's length was in
    its map tooltip (mouse only), which the legend told to hover."""
    sid = yard["yard"]["runs"]
    fc = yard["client"].get(f"/api/scenes/{sid}/occupied").json()
    runs = sorted((f["properties"] for f in fc["features"]), key=lambda p: -p["length_m"])
    assert 2 <= len(runs) <= 8
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(f"{yard['url']}/sites/yard#{sid}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(f"body[data-occupied='{sid}:{len(runs)}']")
    info = page.locator("#occ-info").text_content() or ""
    assert f"car equivalents, in {len(runs)} stretches: " in info
    # each stretch within a unit of its own length (rounded so that they add up to the
    # sum shown: tests/test_api_report_s46.py, session 46), longest first
    named = re.findall(r"([\d,]+) m ≈ ([\d.]+)", info.split("stretches: ", 1)[1])
    assert len(named) == len(runs), info
    for (m, k), p in zip(named, runs, strict=True):
        assert abs(float(m.replace(",", "")) - p["length_m"]) < 1, (info, p)
        assert abs(float(k) - p["car_equivalents"]) < 0.1 + 1e-9, (info, p)
    # in the page's live region: said when the image opens
    assert page.locator("#scene-info #occ-info").count() == 1
    if SHOT:
        page.screenshot(path=f"{SHOT}_occupied.png")
    assert page.get_attribute("#scene-info", "role") == "status"
    legend = page.get_attribute("#legend .lg.tip", "title") or ""
    assert "listed under the map" in legend
    page.close()
