"""The dashboard as an analyst opens it each morning, in Chromium (session 35, after
screenshots of the demo's Tumangang site at 1366×768, 1920×1080 and 200 % zoom, a new
site, a site of unusable images only, 52 sites with Korean, Cyrillic and 64-character
names, and the server down or failing).

What it found, each fixed in the static files and checked here: the chart drew an
unusable image's × on its zero line (beside counts near 0 it read as a count of 0) and
ran its line through unusable images as if they had been counted; a point whose alerts
were all info only was as red as a high record (the demo's five quiet years were dotted
red); the chart's marks were explained in tooltips only; a site whose images were all
unusable showed an empty plot, "0 detections" alone under the map, and "no processed
images" was black on the dark page (1.1:1); the arrow keys on the focused map panned it and
opened the previous image too; the server down read "Failed to fetch", a proxy's 502
"502 Bad Gateway", with nothing to do; a mistyped site address said the site was
"removed since this page was opened"; beside a long site name the site list broke its
dates ("2024-07-" over "28"); the keyboard's focus was Chromium's 1 px ring, faint on
the dark panels; the line under the map did not say how much of the site the image
covers (the report does); an analyst's green point and an alert's red one differed by
colour only (one colour to a deuteranope).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from helpers import serve_db

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from shapely.geometry import box

from railwatch.analysis.types import Alert
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import (
    CRS,
    IMG_H_M,
    IMG_W_M,
    SITE_UTM,
    X0,
    Y0,
    FakeInfo,
    FakeQuality,
    to_wgs84,
    write_scene,
)
from web_db import populate

pytestmark = [pytest.mark.slow, pytest.mark.services]

TOKEN = "dashboard-s35"
CLOUDY = "cloudy-yard"
EMPTY = "두만강역"
#: 64 characters, the longest name there may be
LONG = "Rajin_port_container_and_ore_transshipment_yard_northern_sectio"
#: the demo site's description (the site list's widest cell)
DESCRIPTION = (
    "Tumangang rail facility (DPRK–Russia border), simulated after the reported counts: "
    "<=20 cars for five years, ~73 on 2023-10-05, ~261 on 2024-06-17."
)
YELLOW = "rgb(255, 225, 77)"

#: WCAG contrast of a colour with the page's background
CONTRAST = """(colour) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const a = lum(rgb(colour)), b = lum(rgb(getComputedStyle(document.body).backgroundColor));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The six-image site of the API tests (its 2023-08-02 image unusable, between
    counted ones; a high record on 2023-10-05 and an info one on 2023-07-03), a site of
    three cloudy images (one covering 40 % of the site), a site with no image and one
    with a 64-character name, served with a token."""
    tmp = tmp_path_factory.mktemp("dashboard-s35")
    db = Database(f"sqlite:///{tmp / 'dash.db'}")
    ids = populate(db, tmp / "img")
    scenes = ids["scene_ids"]
    with db.session() as s:
        repo.replace_alerts(
            s,
            ids["site"],
            [
                Alert(
                    "record:all:2023-10-05", "record", "high",
                    datetime(2023, 10, 5, 2, 30, tzinfo=UTC), "all", 18.0,
                    "18 railcars, 2.6x the record", scene_id=scenes[4],
                ),
                Alert(
                    "record:all:2023-07-03", "record", "info",
                    datetime(2023, 7, 3, 2, 30, tzinfo=UTC), "all", 6.0,
                    "6 railcars: barely above the record of 5", scene_id=scenes[1],
                ),
            ],
        )  # fmt: skip
        geom = to_wgs84(SITE_UTM)
        site = repo.add_site(s, SiteSpec(name=CLOUDY, geometry=geom))
        for i, cover in enumerate((1.0, 1.0, 0.4)):
            path = write_scene(tmp / f"cloudy_{i}.tif", 0, 0.5, seed=i, cloudy=True)
            info = FakeInfo(
                uri=str(path),
                content_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
                acquired=datetime(2024, 3 + i, 1, 2, 30, tzinfo=UTC),
                crs=CRS,
                footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
                gsd=0.5,
                width=int(IMG_W_M / 0.5),
                height=int(IMG_H_M / 0.5),
            )
            scene, _ = repo.add_scene(s, site, info, cover)
            quality = FakeQuality(
                clear_fraction=0.2, coverage=cover, cloud_fraction=0.8, usable=False,
                reasons=("cloud covers 80% of the site",),
            )  # fmt: skip
            repo.record_scene_result(s, scene.id, quality, [], None, "test", "1.0")
        repo.add_site(s, SiteSpec(name=EMPTY, geometry=box(130.6, 42.41, 130.61, 42.42)))
        repo.add_site(
            s,
            SiteSpec(name=LONG, geometry=box(130.5, 42.2, 130.51, 42.21), description=DESCRIPTION),
        )
    try:
        with serve_db(db, tmp / "cache", token=TOKEN) as url:
            # an analyst's count of 2023-09-01 (the green point)
            r = httpx.put(
                f"{url}/api/scenes/{scenes[3]}/review",
                json={"counts": {"all": 7}, "note": "counted by eye"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            assert r.status_code in (200, 201), r.text
            yield {**ids, "url": url}
    finally:
        db.dispose()


def _open(browser: Any, url: str, *, width: int = 1366, height: int = 768) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.errors = errors
    return page


def _site(browser: Any, world: dict[str, Any], name: str, fragment: str = "") -> Any:
    page = _open(browser, f"{world['url']}/sites/{name}{fragment}")
    page.wait_for_selector("body[data-ready='1']")
    return page


def test_unusable_images_are_gaps_under_the_axis_never_zeros(
    browser: Any, world: dict[str, Any]
) -> None:
    page = _site(browser, world, world["site"])
    try:
        unusable = world["scene_ids"][2]
        geo = page.evaluate(
            """(id) => {
              const svg = document.querySelector("#chart svg");
              const ticks = [...svg.querySelectorAll("text.tick")];
              const zero = ticks.find((t) => t.textContent === "0");
              const x = svg.querySelector(`.pt-unusable[data-scene="${id}"]`);
              const b = x.getBBox();
              const runs = [...svg.querySelectorAll("polyline.series")].map((l) =>
                l.getAttribute("points").split(" ").map((p) => Number(p.split(",")[0])));
              const zeroY = Number(zero.getAttribute("y")) - 4;
              return { zeroY, top: b.y, x: b.x + b.width / 2, runs };
            }""",
            unusable,
        )
        # the × (its whole line box) lies under the zero line, not on it
        assert geo["top"] >= geo["zeroY"], geo
        # no stretch of the line passes over the unusable image: a gap
        assert geo["runs"], geo
        for xs in geo["runs"]:
            assert not (min(xs) < geo["x"] < max(xs)), geo
        # the chart says what its marks are
        key = page.locator("#chart .chart-key").inner_text()
        assert "unusable image: not counted" in key, key
        assert "alert (high, medium or low)" in key and "event" in key, key
        assert page.errors == []
    finally:
        page.close()


def test_info_only_alert_points_are_grey_and_analyst_points_have_their_own_ring(
    browser: Any, world: dict[str, Any]
) -> None:
    page = _site(browser, world, world["site"])
    try:
        ids = world["scene_ids"]
        look = page.evaluate(
            """(ids) => Object.fromEntries(ids.map((id) => {
              const n = document.querySelector(`#chart circle.pt[data-scene="${id}"]`);
              const cs = getComputedStyle(n);
              return [id, { cls: n.getAttribute("class"), fill: cs.fill, stroke: cs.stroke }];
            }))""",
            [ids[1], ids[3], ids[4]],
        )
        info, reviewed, high = (look[str(i)] for i in (ids[1], ids[3], ids[4]))
        assert "pt-alert" in high["cls"].split(), high
        # the info alert's point: not the high one's red
        assert "pt-alert" not in info["cls"].split(), info
        assert info["fill"] != high["fill"], (info, high)
        # an analyst's count: a ring unlike an alert's (red and green: one colour to a
        # deuteranope)
        assert "pt-reviewed" in reviewed["cls"], reviewed
        assert reviewed["stroke"] != high["stroke"], (reviewed, high)
        assert "info alert only" in page.locator("#chart .chart-key").inner_text()
    finally:
        page.close()


def test_a_site_of_unusable_images_only_says_so(browser: Any, world: dict[str, Any]) -> None:
    page = _site(browser, world, CLOUDY)
    try:
        empty = page.locator("#chart .chart-empty")
        assert "all 3 images are unusable" in empty.inner_html(), empty.inner_html()
        assert page.evaluate(CONTRAST, empty.evaluate("e => getComputedStyle(e).fill")) >= 4.5
        page.wait_for_function(
            "!document.getElementById('det-count').textContent.includes('loading')"
        )
        info = page.locator("#scene-info").inner_text()
        assert "(not counted: missing data, not 0 cars)" in info, info
        # the image shown (the latest) covers 40 % of the site: said, as a warning
        assert "covers 40% of the site" in info, info
        assert page.locator("#scene-info .coverage.partial").count() == 1
        assert page.errors == []
    finally:
        page.close()
    page = _site(browser, world, world["site"])
    try:
        assert "covers 100% of the site" in page.locator("#scene-info").inner_text()
    finally:
        page.close()


def test_no_image_yet_is_said_readably(browser: Any, world: dict[str, Any]) -> None:
    page = _site(browser, world, EMPTY)
    try:
        assert "No images of this site yet" in page.locator("#scene-info").inner_text()
        empty = page.locator("#chart .chart-empty")
        assert page.evaluate(CONTRAST, empty.evaluate("e => getComputedStyle(e).fill")) >= 4.5
        assert page.title() == f"railwatch · {EMPTY}"
        assert page.errors == []
    finally:
        page.close()


def test_arrows_on_the_map_pan_it_and_keep_the_image(browser: Any, world: dict[str, Any]) -> None:
    shown = world["scene_ids"][4]
    page = _site(browser, world, world["site"], f"#{shown}")
    try:
        pane = "document.querySelector('.leaflet-map-pane').style.transform"
        before = page.evaluate(pane)
        page.focus("#map")
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(f"{pane} !== {before!r}")
        # (the page's ← handler, had it run, changed the address in the same key press)
        assert page.evaluate("location.hash") == f"#{shown}"
        assert page.locator("#scenes button.scene.active").get_attribute("data-scene") == str(shown)
        # elsewhere the arrows still step the images
        page.focus("#prev")
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(f"location.hash !== '#{shown}'")
    finally:
        page.close()


def test_the_server_down_or_failing_is_said_with_what_to_do(
    browser: Any, world: dict[str, Any]
) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.set_default_timeout(60_000)
    loaded = "document.getElementById('status').textContent !== 'Loading…'"
    try:
        page.route("**/api/sites?*", lambda route: route.abort())
        page.goto(world["url"] + "/")
        page.wait_for_function(loaded)
        said = page.locator("#status").inner_text()
        assert "no answer from the railwatch server" in said, said
        assert "railwatch serve" in said and "reload" in said, said
        page.unroute("**/api/sites?*")
        page.route(
            "**/api/sites?*",
            lambda route: route.fulfill(
                status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>"
            ),
        )
        page.goto(world["url"] + "/")
        page.wait_for_function(loaded)
        said = page.locator("#status").inner_text()
        assert said.startswith("Cannot load sites: 502"), said
        assert "reload the page" in said and "server's log" in said, said
    finally:
        page.close()


def test_a_mistyped_site_address_names_the_sites(browser: Any, world: dict[str, Any]) -> None:
    page = _site(browser, world, world["site"] + "x")
    try:
        info = page.locator("#scene-info").inner_text()
        assert "no site named" in info and world["site"] in info, info
        assert "removed since" not in info, info
    finally:
        page.close()


def test_a_long_site_name_leaves_the_dates_whole(browser: Any, world: dict[str, Any]) -> None:
    page = _open(browser, world["url"] + "/")
    try:
        row = page.locator(f'tr.site-row[data-site="{world["site"]}"]')
        row.wait_for()
        lines = row.evaluate(
            """(tr) => [
              tr.querySelector("td.latest > div.muted"), tr.children[1].querySelector("span"),
            ].map((e) => {
              const r = document.createRange();
              r.selectNodeContents(e);
              return new Set([...r.getClientRects()].map((q) => Math.round(q.top))).size;
            })"""
        )
        # the latest count's day and "(5 usable)" on one line each
        assert lines == [1, 1], lines
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    finally:
        page.close()


def test_the_keyboard_focus_is_a_yellow_ring(browser: Any, world: dict[str, Any]) -> None:
    page = _site(browser, world, world["site"])
    try:
        seen = []
        for _ in range(12):
            page.keyboard.press("Tab")
            seen.append(
                page.evaluate(
                    """() => { const e = document.activeElement, cs = getComputedStyle(e);
                      return [e.tagName + (e.id ? "#" + e.id : ""), cs.outlineStyle,
                              cs.outlineWidth, cs.outlineColor]; }"""
                )
            )
        controls = [s for s in seen if s[0] in ("A", "INPUT#token", "DIV#map", "SELECT#cls")]
        assert controls, seen
        for what, style, width, colour in controls:
            assert (style, width, colour) == ("solid", "2px", YELLOW), (what, style, width, colour)
    finally:
        page.close()
