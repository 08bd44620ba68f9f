"""The dashboard as an analyst sees it, in Chromium at 1366×768, a short laptop window and a
390×844 phone (session 33, after screenshots of the demo's Tumangang site).

What it found, each fixed and checked here: a 3 m image's count (by occupied track
length) read "161 railcars" under the map and "161 cars" in the list of images, where its
alerts and the report say "161 car equivalents"; the chart's titles gave a count's stored
decimals ("31.82 railcars (16.97–63.9)" where the line under the map said 31.8); the
line under the map of a 3 m image (two or three lines with its occupied stretches)
shrank to one line's height and ran over the review form when the window was short; a
description on two lines made the header taller than the 40 px the grid's height
allowed for, and the side column cut its legend's last rows (covered load, occupied
track, site) at the window's edge; on a phone the header's sign-in box lay past the
screen's right edge (the page scrolled sideways, the site's description was a column
80 px wide), the site list's table was wider than the screen, and the page opened
scrolled 337 px down (bringing the open image's entry into view scrolled the page to the
list of images under the chart; opening the demo's 2024-01-22, which has alerts,
jumped the page 3,738 px down to the first of them).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from helpers import serve_db

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from railwatch.storage import Database
from test_web_occupied_s30 import build

pytestmark = [pytest.mark.slow, pytest.mark.services]

TOKEN = "views-s33"
#: the demo site's description
DESCRIPTION = (
    "Tumangang rail facility (DPRK–Russia border), simulated after the reported counts: "
    "<=20 cars for five years, ~73 on 2023-10-05, ~261 on 2024-06-17."
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("views-s33")
    db = Database(f"sqlite:///{tmp / 'views.db'}")
    ids = build(db, tmp)
    try:
        with serve_db(db, tmp / "cache", token=TOKEN) as url:
            # a description as long as the demo's (the header's longest item)
            r = httpx.patch(
                f"{url}/api/sites/yard",
                json={"description": DESCRIPTION},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            assert r.status_code == 200, r.text
            yield {**ids, "url": url}
    finally:
        db.dispose()


def _open(browser: Any, url: str, width: int, height: int) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(60_000)
    page.goto(url)
    return page


def _site_page(browser: Any, world: dict[str, Any], width: int, height: int) -> Any:
    sid = world["yard"]["runs"]
    page = _open(browser, f"{world['url']}/sites/yard#{sid}", width, height)
    page.wait_for_selector("body[data-ready='1']")
    # the occupied stretches are written into the line under the map once read
    page.wait_for_function(
        "document.getElementById('scene-info').textContent.includes('track read as occupied')"
    )
    return page


def test_a_length_count_is_of_car_equivalents_everywhere_on_the_page(
    browser: Any, world: dict[str, Any]
) -> None:
    page = _site_page(browser, world, 1366, 768)
    try:
        info = page.locator("#scene-info").text_content() or ""
        assert "car equivalents (" in info, info
        assert "railcars" not in info, info
        entry = page.locator("#scenes button.scene.active .c").text_content() or ""
        assert entry.endswith("car equivalents"), entry
        # the chart's points (every image of this yard is counted by length)
        titles: list[str] = page.eval_on_selector_all(
            "#chart circle.pt > title", "ts => ts.map(t => t.textContent)"
        )
        assert titles, "no counted point in the chart"
        for t in titles:
            assert " car equivalents" in t and "railcars" not in t, t
            # the count and its interval with one decimal at most, as under the map
            assert not re.search(r"\d\.\d\d", t.split(")")[0]), t
        # the axis holds car equivalents: its title says so
        title = page.locator("#chart-title").text_content() or ""
        assert "3 m images: car equivalents" in title, title
    finally:
        page.close()
    # a count car by car stays "railcars"
    page = _open(browser, f"{world['url']}/sites/{world['objects']['site']}", 1366, 768)
    try:
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_function(
            "/railcars \\(/.test(document.getElementById('scene-info').textContent)"
        )
        assert "car equivalents" not in (page.locator("#scenes").text_content() or "")
        assert page.locator("#chart-title").text_content() == "Railcars per image"
    finally:
        page.close()


def test_the_line_under_the_map_never_runs_over_the_review_form(
    browser: Any, world: dict[str, Any]
) -> None:
    # a short laptop window: the column is taller than the window
    page = _site_page(browser, world, 1000, 600)
    try:
        page.wait_for_selector("#review-total")
        boxes: list[dict[str, float]] = page.evaluate(
            """() => [...document.querySelector('.mapcol').children]
                 .filter(e => e.getBoundingClientRect().height > 0)
                 .map(e => { const r = e.getBoundingClientRect();
                   return {id: e.id || e.className, top: r.top, bottom: r.bottom,
                           content: e.scrollHeight, height: r.height}; })"""
        )
        info = next(b for b in boxes if b["id"] == "scene-info")
        assert info["content"] <= info["height"] + 1, boxes  # its text fits its box
        for above, below in itertools.pairwise(boxes):
            assert above["bottom"] <= below["top"] + 0.5, (above, below)
    finally:
        page.close()


@pytest.mark.parametrize("where", ["/", "/sites/yard"])
def test_a_phone_sees_the_whole_page_width_and_the_sign_in_box(
    browser: Any, world: dict[str, Any], where: str
) -> None:
    page = _open(browser, world["url"] + where, 390, 844)
    try:
        page.wait_for_selector("#token")
        if where == "/":
            page.wait_for_selector("#sites-body tr")
        else:
            page.wait_for_selector("body[data-ready='1']")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide on a 390 px screen"
        for sel in ("#token", "#signin button"):
            box = page.locator(sel).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (sel, box)
        head = page.locator("header.top").bounding_box()
        assert head is not None and head["height"] < 200, head
    finally:
        page.close()


def test_the_side_column_ends_at_the_window_s_bottom_edge(
    browser: Any, world: dict[str, Any]
) -> None:
    # the description takes two lines of the header at 1366 px: the grid under it kept
    # the height of 100% - 40 px, ran 28 px past the window and the side column (which
    # clips what does not fit) cut its legend's last rows at the window's bottom edge
    page = _site_page(browser, world, 1366, 768)
    try:
        head = page.locator("header.top").bounding_box()
        assert head is not None and head["height"] > 50, head  # two lines
        page.evaluate("window.scrollTo(0, 0)")
        side = page.evaluate(
            "(() => { const r = document.querySelector('.side').getBoundingClientRect();"
            " return {top: r.top, bottom: r.bottom, vh: innerHeight}; })()"
        )
        assert side["bottom"] <= side["vh"] + 0.5, side
        legend = page.locator("#legend").bounding_box()
        assert legend is not None and legend["y"] + legend["height"] <= side["bottom"] + 0.5
    finally:
        page.close()


def test_opening_an_image_scrolls_its_list_not_the_page(
    browser: Any, world: dict[str, Any]
) -> None:
    # the list of images lies under the chart on a phone: bringing the open image's entry
    # into view (scrollIntoView) scrolled the whole page down to it, past the header
    sid = world["yard"]["runs"]
    page = _open(browser, f"{world['url']}/sites/yard#{sid}", 390, 844)
    try:
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector(f"#scenes button.scene.active[data-scene='{sid}']")
        page.wait_for_timeout(300)  # any scrolling after the entry is marked
        assert page.evaluate("window.scrollY") == 0
        # the next image (→; a click on ▶ would scroll to the button first): the page
        # stays where the analyst is
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"!location.hash.endsWith('#{sid}')")
        page.wait_for_timeout(300)
        assert page.evaluate("window.scrollY") == 0
    finally:
        page.close()
    # on a laptop the list still scrolls itself to the open image's entry (the last one)
    page = _open(browser, f"{world['url']}/sites/{world['objects']['site']}", 1366, 400)
    try:
        page.wait_for_selector("body[data-ready='1']")
        page.evaluate("document.getElementById('scenes').style.maxHeight = '60px'")
        page.locator("#prev").click()
        page.locator("#next").click()
        page.wait_for_timeout(300)
        inside = page.evaluate(
            """() => { const l = document.getElementById('scenes').getBoundingClientRect();
                 const e = document.querySelector('#scenes button.scene.active')
                   .getBoundingClientRect();
                 return e.top >= l.top - 0.5 && e.bottom <= l.bottom + 0.5; }"""
        )
        assert inside
    finally:
        page.close()
