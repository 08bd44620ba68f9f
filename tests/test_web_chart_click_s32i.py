"""A mouse click on a point of the dashboard's chart opens its image and leaves ←/→ to
step the images (session 32, review of 2f6899f).

2f6899f made the chart one tab stop whose arrow keys move between its marks. A mouse
click also gave the point the focus, so → after a click moved the chart's focus ring
instead of opening the next image, as it did before. Now a press with the mouse takes
no focus (the click still opens the image); the keyboard that comes in by Tab keeps
the arrows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from railwatch.storage import Database
from test_web_chart_keyboard_s32 import POINTS, SILENCE, SPIKE, STATE, _chart_page

SITE = "wellington"

pytestmark = [pytest.mark.slow, pytest.mark.services]


def test_a_click_takes_no_focus_and_the_page_gets_the_arrows(browser: Any) -> None:
    page = _chart_page(browser)
    assert len(POINTS) == 4 and SPIKE and SILENCE
    page.locator(".chart-svg [data-key='scene:3']").click()
    assert page.evaluate("window.picked") == [3]  # the click opens it
    page.keyboard.press("ArrowRight")
    st = page.evaluate(STATE)
    assert st["key"] is None and not st["ring"], st  # no mark has the focus
    assert page.evaluate("window.pageKeys") == ["ArrowRight"]  # the page's →
    assert st["stops"] == ["scene:3"]  # Tab comes in on the point clicked
    # a click while the keyboard is in the chart: the focus leaves it
    page.focus("#before")
    page.keyboard.press("Tab")
    assert page.evaluate(STATE)["key"] == "scene:3"  # the tab stop: the point clicked
    page.keyboard.press("ArrowRight")
    assert page.evaluate(STATE)["key"] == "event:2024-02-01:Flood"  # → walks the marks
    assert page.evaluate("window.pageKeys") == ["ArrowRight"]  # the one before the Tab
    page.evaluate("window.pageKeys = []")
    page.locator(".chart-svg [data-key='scene:4']").click()
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(STATE)["key"] is None
    assert page.evaluate("window.pageKeys") == ["ArrowLeft"]
    assert page.evaluate("window.picked") == [3, 4]
    page.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A UTC+12 site of 121 counted images, the last a rise (a spike alert)."""
    pytest.importorskip("fastapi")
    from helpers import add_analysed_wellington
    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    tmp = tmp_path_factory.mktemp("chart-click")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    try:
        add_analysed_wellington(db, SITE, analysed_after=timedelta(days=1))
        yield create_app(Settings(db=db.url, cache_dir=tmp / "cache"), db)
    finally:
        db.dispose()


def test_site_page_click_a_point_then_arrows_step_images(world: Any, browser: Any) -> None:
    """On the site page a click on a point opens its image, then → opens the next image
    and ← the one before, as before the chart took the keyboard; Tab still brings the
    keyboard into the chart, where → moves between marks without opening."""
    pytest.importorskip("uvicorn")
    from helpers import live_server

    with live_server(world) as url:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/sites/{SITE}")
        page.wait_for_selector("body[data-ready='1']")
        assert page.evaluate("location.hash") == "#121"
        page.locator(".chart-svg [data-key='scene:60']").click()
        page.wait_for_function("location.hash === '#60'")
        page.keyboard.press("ArrowRight")
        page.wait_for_function("location.hash === '#61'")
        page.keyboard.press("ArrowRight")
        page.wait_for_function("location.hash === '#62'")
        page.keyboard.press("ArrowLeft")
        page.wait_for_function("location.hash === '#61'")
        st = page.evaluate(STATE)
        assert st["key"] is None and not st["ring"], st
        # the keyboard's way in stays: Tab from the class menu lands on the image shown
        page.focus("#cls")
        page.keyboard.press("Tab")
        assert page.evaluate(STATE)["key"] == "scene:61"
        page.keyboard.press("ArrowRight")
        assert page.evaluate(STATE)["key"] == "scene:62"
        assert page.evaluate("location.hash") == "#61"  # moving is not opening
        assert not errors, errors
        page.close()
