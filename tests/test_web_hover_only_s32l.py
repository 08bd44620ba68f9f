"""Nothing on the dashboard is said on hover only (session 32).

The count chart's "10 m" row label explained the presence row (▲ long train seen, ○ none,
an unreliable flag) in an SVG ``<title>``: a tooltip for the mouse alone. Now the
explanation is a note under the chart, its description (``aria-describedby``). Other
explanations were ``title`` attributes on elements the keyboard never reaches (the site
list's trend arrow and alert badges, the site page's day of an image and of a silence,
the legend's occupied track, the day inside an image's list entry): each is now a tab
stop that shows its title while it has the keyboard focus (``.tip``), or folded into the
focusable element around it, or dropped where the page says it already (the badges).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from railwatch.storage import Database

SITE = "wellington"
TOKEN = "hover-token-s32l"
JS = Path(__file__).resolve().parents[1] / "src" / "railwatch" / "web" / "static" / "js"

pytestmark = [pytest.mark.slow, pytest.mark.services]

#: every visible element whose title the keyboard cannot reach: an HTML element with a
#: title that is no tab stop (a title inside a button is the button's secret too), and
#: an SVG <title> whose element is no mark of the chart (the marks show their details
#: on focus); Leaflet's own controls are links with titles (tab stops)
HOVER_ONLY = r"""() => {
  const stop = (n) =>
    n.matches("a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])")
    || n.closest(".chart-svg .mark") !== null;
  const shown = (n) => { const r = n.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const bad = [];
  for (const n of document.querySelectorAll("body [title]")) {
    if (n instanceof SVGElement || !shown(n)) continue;
    if (!stop(n)) bad.push(`${n.tagName}.${n.className} ${n.title.slice(0, 40)}`);
  }
  for (const t of document.querySelectorAll("svg title")) {
    const n = t.parentElement;
    if (n && shown(n) && !stop(n))
      bad.push(`svg ${n.tagName}.${n.getAttribute("class")} ${t.textContent.slice(0, 40)}`);
  }
  return bad;
}"""

#: what a .tip shows beside it: its ::after's content (none when it shows nothing)
AFTER = "(n) => getComputedStyle(n, '::after').content"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A UTC+12 site of 121 counted images with its alerts (a silence among them),
    served with an API token."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from helpers import add_analysed_wellington, serve_db

    tmp = tmp_path_factory.mktemp("hover")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    try:
        add_analysed_wellington(db, SITE, analysed_after=timedelta(days=120))
        with serve_db(db, tmp / "cache", token=TOKEN) as url:
            yield url
    finally:
        db.dispose()


def _shows_on_keyboard_focus(page: Any, selector: str) -> None:
    """The first element of ``selector`` is a tab stop and shows its title (nothing
    before) while it has the keyboard's focus."""
    node = page.locator(selector).first
    title = node.get_attribute("title") or ""
    assert title and node.evaluate(AFTER) in ("none", "normal")
    page.keyboard.press("Shift+Tab")  # the keyboard in use: a focus then is :focus-visible
    node.evaluate("(n) => n.focus()")
    assert node.evaluate("(n) => n === document.activeElement && n.matches(':focus-visible')")
    assert node.evaluate(AFTER) == '"' + title.replace('"', '\\"') + '"'
    box = page.evaluate(
        "(n) => { const b = n.getBoundingClientRect(); return [b.width, b.height]; }",
        node.element_handle(),
    )
    assert box[0] > 0 and box[1] > 0


def test_the_10_m_row_is_explained_under_the_chart(browser: Any) -> None:
    """Before: only the "10 m" label's <title> said what ▲ and ○ are (hover only)."""
    page = browser.new_page(viewport={"width": 900, "height": 500})
    page.set_content("<html><body><div id='c' style='width:760px'></div></body></html>")
    page.add_script_tag(path=str(JS / "chart.js"))
    page.evaluate(
        """() => RWChart.draw(document.getElementById("c"), [
          {when: "2024-01-10T00:00:00+00:00", day: "2024-01-10", count: 10, low: 8, high: 12,
           usable: true, scene_id: 1, long_train_present: null},
          {when: "2024-01-30T00:00:00+00:00", day: "2024-01-30", count: null, low: null,
           high: null, usable: true, scene_id: 2, long_train_present: true},
        ], {zone: "UTC+12"})"""
    )
    note = page.locator("#c .chart-note")
    assert note.is_visible()
    words = note.inner_text()
    assert "▲ long train seen" in words and "○ no long train" in words
    assert "right about three times in four" in words
    assert page.get_attribute(".chart-svg", "aria-describedby") == note.get_attribute("id")
    assert page.evaluate(HOVER_ONLY) == []
    # without presence images, no note
    page.evaluate(
        """() => RWChart.draw(document.getElementById("c"), [
          {when: "2024-01-10T00:00:00+00:00", day: "2024-01-10", count: 10, low: 8, high: 12,
           usable: true, scene_id: 1, long_train_present: null}])"""
    )
    assert page.locator("#c .chart-note").count() == 0
    assert page.get_attribute(".chart-svg", "aria-describedby") is None
    page.close()


def test_no_title_on_the_site_page_is_for_the_mouse_only(world: str, browser: Any) -> None:
    """Before: the image's day under the map, a silence's day in the alerts, the legend's
    occupied track and the day in each image's entry had titles the keyboard never
    reached."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(f"{world}/sites/{SITE}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(".alert")
    assert page.evaluate(HOVER_ONLY) == []
    _shows_on_keyboard_focus(page, "#scene-info .scene-day")
    assert "the day at the site (UTC+12 nominal)" in (
        page.get_attribute("#scene-info .scene-day", "title") or ""
    )
    _shows_on_keyboard_focus(page, "span.alert-day")  # a silence: no image to open
    _shows_on_keyboard_focus(page, ".legend .lg.tip")
    # the day's words are in its entry's title (the button, a tab stop)
    entry = page.locator("button.scene").first
    assert "the day at the site (UTC+12 nominal)" in (entry.get_attribute("title") or "")
    page.close()


def test_no_title_on_the_site_list_is_for_the_mouse_only(world: str, browser: Any) -> None:
    """Before: the trend arrow's words (hover; a screen reader had them) and the alert
    badges' titles were out of the keyboard's reach."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{world}/")
    page.wait_for_selector(".site-row .badge")
    assert page.evaluate(HOVER_ONLY) == []
    _shows_on_keyboard_focus(page, ".site-row .trend-tip")
    trend = page.get_attribute(".site-row .trend-tip", "title") or ""
    assert trend.startswith("trend: up from 9")
    assert page.locator(".site-row .trend").inner_text().strip() == "▲"
    page.close()


@pytest.fixture(scope="module")
def coarse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A read-only server (no API token) of a site with 0.5 m counts, a 3 m estimate
    and two 10 m presence images, the newest with a long train."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from datetime import UTC, datetime

    from helpers import serve_db
    from railwatch.sites import SiteSpec
    from railwatch.storage import repo
    from report_db import SITE_UTM, FakeCount, add_counted_scene, to_wgs84

    tmp = tmp_path_factory.mktemp("hover_coarse")
    db = Database(f"sqlite:///{tmp / 'coarse.db'}")
    t0 = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)
    plan = (
        (1, 0.5, FakeCount(10.0, 9.0, 12.0, {"railcar": (10, 9, 12)}, 0)),
        (2, 10.0, FakeCount(0.0, 0.0, 0.0, {}, 0, method="presence")),
        (3, 3.0, FakeCount(20.0, 15.0, 30.0, {}, 0, method="length")),
        (4, 10.0, FakeCount(1.0, 1.0, 1.0, {}, 0, method="presence")),
    )
    try:
        with db.session() as s:
            site = repo.add_site(s, SiteSpec(name="coarse", geometry=to_wgs84(SITE_UTM)))
            for d, gsd, c in plan:
                add_counted_scene(s, site, t0 + timedelta(days=d), gsd, c, d)
        with serve_db(db, tmp / "cache") as url:
            yield url
    finally:
        db.dispose()


def test_presence_and_read_only_words_reach_the_keyboard(coarse: str, browser: Any) -> None:
    """Before: the site list's 10 m line and the header's "read-only" said why in a
    title the keyboard never reached; the site page's 10 m row was explained on hover."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(f"{coarse}/")
    page.wait_for_selector(".site-row .presence")
    assert page.evaluate(HOVER_ONLY) == []
    _shows_on_keyboard_focus(page, ".site-row .presence")
    _shows_on_keyboard_focus(page, "#auth .tip")
    page.goto(f"{coarse}/sites/coarse")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(".chart-svg .pt-presence")
    assert page.evaluate(HOVER_ONLY) == []
    note = page.locator("#chart .chart-note")
    assert note.is_visible() and "right about three times in four" in note.inner_text()
    # the note is under the plot, inside the page's layout (not over the plot)
    svg_box = page.locator(".chart-svg").bounding_box()
    note_box = note.bounding_box()
    assert svg_box and note_box and note_box["y"] >= svg_box["y"] + svg_box["height"] - 1
    page.close()
