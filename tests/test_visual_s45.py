"""What analysts look at, looked at (2026-12-07, session 45): the report's HTML on a phone,
the PDF's first page, and the dashboard's chart, legend, side column and map, each
checked on the geometry the browser (or matplotlib) lays out.

- The report's alert table ran 100 px past a 390 px phone's edge (its date, severity,
  kind and series kept on one line each; at 320 px its year's heading too), and the
  method's settings 66 px (``quality_presence_ends_silence=False`` unbroken); an
  unusable image's reasons were a column 66 px wide, its row 280 px tall and blank where
  the table of images scrolls sideways.
- The HTML chart cut the latest alert's label "record + shift" at its right edge.
- The caveat on types said "96 of the 96 cars ... the rest are 'railcar'".
- The PDF's "Alerts in period" ("8 (+1 class repeats, not listed), 1 acknowledged, 1
  changed since") ran off the page's right edge, its last words cut.
- The dashboard chart's month ticks ran into each other on a phone
  ("2024-022024-03..."), and the year ticks of a long history too.
- The map's grey track centrelines were not in the legend; the side column hid what
  outgrew the window (the legend's last row, below the window's edge at 1440 x 900 with
  many alerts); an image whose file was moved after ingest left the map black without a
  word (its tiles' 404s said why); counts by occupied track length (car equivalents)
  were the dots of cars seen one by one, where the report's chart draws them apart.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import MultiLineString, box

from railwatch.analysis.types import Alert
from railwatch.storage import Database, repo


def _overflowing(page: Any) -> list[list[Any]]:
    """The elements whose right edge stands past the window's (none inside a scrolled
    box): [tag, class, right]."""
    return list(
        page.evaluate(
            """() => {
              const W = document.documentElement.clientWidth, out = [];
              for (const e of document.querySelectorAll('body *')) {
                const r = e.getBoundingClientRect();
                if (!r.width || r.right <= W + 1) continue;
                let p = e.parentElement, scrolled = false;
                for (; p; p = p.parentElement)
                  if (getComputedStyle(p).overflowX !== 'visible') { scrolled = true; break; }
                if (!scrolled) out.push([e.tagName, e.className, Math.round(r.right)]);
              }
              return out;
            }"""
        )
    )


# --- the report ----------------------------------------------------------------------


LONG_REASON = (
    "cloud covers 80 % of the site, haze covers 20 % of the site, only 0 % of the site "
    "is clear (needs 80 %), cloud and haze hide 100 % of the site's tracks"
)


@pytest.fixture(scope="module")
def report_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, str]]:
    """report_db's site with info alerts listed in the report's table (one of the untyped
    railcars, the widest series name) instead of its high alert."""
    from railwatch.storage.models import Scene
    from report_db import T0, populate

    tmp = tmp_path_factory.mktemp("visual-report")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    info = populate(db, tmp, with_alert=False)
    last = info["scene_ids"][-1]
    with db.session() as s:  # an unusable image's reasons as long as process writes them
        for scene in s.query(Scene).filter_by(usable=False):
            scene.reasons = [LONG_REASON]
    words = (
        "18 railcars (interval 17-19) on 2023-02-04, against a record of 8 set on "
        "2022-02-09: 2.2x the record, the highest in all the history there is."
    )
    with db.session() as s:
        site = repo.get_site(s, info["site"])
        repo.replace_alerts(
            s,
            site,
            [
                Alert(
                    key=f"record:{cls}", kind="record", severity="info",
                    when=T0 + timedelta(days=390), cls=cls, value=value, explanation=words,
                    metrics={"record": 8.0}, scene_id=last,
                )
                for cls, value in (("all", 18.0), ("railcar", 12.0), ("covered", 6.0))
            ]
            + [
                Alert(
                    key="quality:gap", kind="quality", severity="medium",
                    when=T0 + timedelta(days=480), cls="all", value=90.0,
                    explanation="No usable image of this site since 2023-02-04: 90 days.",
                    metrics={},
                )
            ],
        )  # fmt: skip
    try:
        yield db, info["site"]
    finally:
        db.dispose()


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.parametrize("width", [320, 390])
def test_the_report_fits_a_phone(
    report_site: tuple[Database, str], browser: Any, tmp_path: Path, width: int
) -> None:
    from railwatch.report import build_report

    db, site = report_site
    out = build_report(db, site, tmp_path / "r.html")
    page = browser.new_page(viewport={"width": width, "height": 844})
    try:
        page.goto(out.resolve().as_uri())
        assert page.locator("table.alerts tr[id^='alert-']").count() >= 3
        assert _overflowing(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # each alert's explanation still reads across the width, below its date
        text = page.locator("table.alerts td.text").first.bounding_box()
        day = page.locator("table.alerts tr[id^='alert-'] td").first.bounding_box()
        assert text["width"] > width - 140 and text["y"] >= day["y"] + day["height"] - 1
        # an unusable image's row in the table of images: a few lines, not a tall blank
        heights = page.eval_on_selector_all(
            "#table tbody tr", "rs => rs.map(r => r.getBoundingClientRect().height)"
        )
        assert max(heights) < 5 * min(heights), heights
    finally:
        page.close()
    wide = browser.new_page(viewport={"width": 1440, "height": 900})
    try:  # on a wide screen the table is a table: date and explanation on one row
        wide.goto(out.resolve().as_uri())
        text = wide.locator("table.alerts td.text").first.bounding_box()
        day = wide.locator("table.alerts tr[id^='alert-'] td").first.bounding_box()
        assert abs(text["y"] - day["y"]) < 2 and text["x"] > day["x"] + day["width"]
    finally:
        wide.close()


def test_the_pdf_first_page_keeps_its_facts_on_the_page(
    report_site: tuple[Database, str],
) -> None:
    from matplotlib.text import Text

    from railwatch.report import build_report_data
    from railwatch.report import pdf as pdf_mod
    from railwatch.report.fonts import drawing

    db, site = report_site
    data = build_report_data(db, site)
    alerts = tuple(
        dataclasses.replace(
            a,
            acknowledged=True,
            changed_since="changed since acknowledged: was 17 (info)" if k else None,
        )
        for k, a in enumerate(data.alerts)
    )
    data = dataclasses.replace(data, alerts=alerts, repeats=1)
    with drawing(), drawing(pdf_mod._pdf_rc()):
        fig = pdf_mod._first_page(data)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        right = 0.965 * fig.bbox.width
        texts = [t for t in fig.findobj(Text) if isinstance(t, Text) and t.get_text()]
        words = " ".join(t.get_text() for t in texts).replace("\n", " ")
        assert "3 changed since" in words, words
        out = [
            (t.get_text(), t.get_window_extent(renderer).x1)
            for t in texts
            if t.get_visible() and t.get_window_extent(renderer).x1 > right
        ]
        assert out == [], f"past the page's right margin ({right:.0f} px): {out}"
        # the value's second line stands under its first, above the chart's legend
        ax = fig.axes[0]
        legend = ax.get_legend()
        low = min(t.get_window_extent(renderer).y0 for t in texts if "acknowledged" in t.get_text())
        assert legend is None or legend.get_window_extent(renderer).y1 <= low


# --- the dashboard ------------------------------------------------------------------

TRACKS = MultiLineString([[(175.001, -41.295), (175.009, -41.295)]])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Two counted sites (their image files nowhere): "months", an image every 20 days
    for 8 months, with track centrelines, its last two counted by occupied track length;
    "years", one every 60 days for 12 years."""
    from counted_site import add_counted_site
    from helpers import serve_db
    from railwatch.storage.models import Count, Scene, Site, to_wkb

    tmp = tmp_path_factory.mktemp("visual-web")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    start = datetime(2024, 1, 10, 22, 30, tzinfo=UTC)
    add_counted_site(
        db,
        "months",
        box(175.0, -41.3, 175.01, -41.29),
        [(start + timedelta(days=20 * k), 10.0 + k % 3) for k in range(13)],
    )
    add_counted_site(
        db,
        "years",
        box(130.6, 42.42, 130.61, 42.43),
        [(start - timedelta(days=60 * k), 10.0 + k % 4) for k in range(73)][::-1],
    )
    with db.session() as s:
        site = s.query(Site).filter_by(name="months").one()
        site.tracks_wkb = to_wkb(TRACKS)
        # its last two images counted by occupied track length (car equivalents)
        last_two = [sc.id for sc in s.query(Scene).filter_by(site_id=site.id)][-2:]
        for count in s.query(Count).filter(Count.scene_id.in_(last_two)):
            count.method = "length"
    try:
        with serve_db(db, tmp / "cache") as url:
            yield url
    finally:
        db.dispose()


def _site(browser: Any, url: str, width: int, height: int) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(".chart-svg")
    return page


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.parametrize("site", ["months", "years"])
@pytest.mark.parametrize("width", [390, 1440])
def test_the_chart_time_ticks_do_not_overlap(
    served: str, browser: Any, site: str, width: int
) -> None:
    page = _site(browser, f"{served}/sites/{site}", width, 900)
    try:
        boxes = page.eval_on_selector_all(
            ".chart-svg text.tick",
            """ns => ns.filter(n => /^\\d{4}(-\\d\\d)?$/.test(n.textContent))
                      .map(n => { const b = n.getBBox();
                                  return [b.x, b.x + b.width, n.textContent]; })""",
        )
        assert len(boxes) >= 3, boxes
        boxes.sort()
        for (_, right, a), (left, _, b) in itertools.pairwise(boxes):
            assert right + 4 <= left, f"tick {a} runs into {b} at {width} px: {boxes}"
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.services
def test_the_legend_names_the_track_centrelines(served: str, browser: Any) -> None:
    page = _site(browser, f"{served}/sites/months", 1440, 900)
    try:
        assert "track centreline" in (page.locator("#legend").text_content() or "")
    finally:
        page.close()
    page = _site(browser, f"{served}/sites/years", 1440, 900)
    try:  # a site without track centrelines has no such entry
        assert "track centreline" not in (page.locator("#legend").text_content() or "")
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.services
def test_a_blank_map_says_why(served: str, browser: Any) -> None:
    page = _site(browser, f"{served}/sites/months", 1440, 900)
    try:
        note = page.wait_for_selector("#tile-error", timeout=20_000)
        assert note is not None
        words = note.text_content() or ""
        assert "image not shown" in words and "no longer where it was ingested" in words
        # under the map, in the line of the image it is about
        assert page.locator("#scene-info #tile-error").count() == 1
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.services
def test_the_side_column_scrolls_to_its_legend_in_a_short_window(served: str, browser: Any) -> None:
    page = _site(browser, f"{served}/sites/months", 1440, 560)
    try:
        side = page.locator(".side").bounding_box()
        assert page.evaluate(
            "(() => { const s = document.querySelector('.side'); "
            "return s.scrollHeight > s.clientHeight; })()"
        ), "the window is meant to be too short for the side column"
        # the wheel over the legend's first row (no scrolled box of its own)
        legend = page.locator("#legend").bounding_box()
        assert legend["y"] + 8 < side["y"] + side["height"], (legend, side)
        page.mouse.move(legend["x"] + 20, legend["y"] + 8)
        page.mouse.wheel(0, 3000)
        page.wait_for_timeout(300)
        legend = page.locator("#legend").bounding_box()
        side = page.locator(".side").bounding_box()
        assert legend["y"] + legend["height"] <= side["y"] + side["height"] + 1, (legend, side)
    finally:
        page.close()


def test_every_car_typed_has_no_rest_of_railcars(report_site: tuple[Database, str]) -> None:
    """report_db's detector names a type for every car: the caveat said "96 of the 96
    cars ... were given a type (...); the rest are 'railcar'"."""
    from railwatch.report import build_report_data

    db, site = report_site
    (typed,) = [c for c in build_report_data(db, site).caveats if "given a type" in c]
    assert typed.startswith("All 96 cars counted one by one were given a type ("), typed
    assert "the rest" not in typed and "lower bound" in typed


def test_the_latest_alerts_label_stays_within_the_html_chart(
    report_site: tuple[Database, str],
) -> None:
    """A record and a shift on the latest image: their label "record + shift" stood up
    right of its circle, past the figure's right edge, cut to "record + sh" in the HTML
    report (tumangang's 2023-09-25)."""
    from matplotlib.text import Annotation

    from railwatch.report import build_report_data
    from railwatch.report.charts import chart_title, timeseries_figure
    from railwatch.report.fonts import drawing

    db, site = report_site
    data = build_report_data(db, site)
    (latest,) = [a for a in data.alerts if a.cls == "all" and a.scene_id is not None]
    alerts = (
        dataclasses.replace(latest, severity="high"),
        dataclasses.replace(latest, key="shift:all", kind="shift", severity="medium"),
    )
    with drawing():
        fig = timeseries_figure(
            data.scenes,
            data.baseline,
            data.events,
            alerts,
            title=chart_title(data.site),
            utc_offset=data.utc_offset,
            period=data.headline.period,
        )
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        (label,) = [t for t in fig.findobj(Annotation) if t.get_text() == "record + shift"]
        assert label.get_visible()
        box = label.get_window_extent(renderer)
        assert box.x1 <= fig.bbox.x1, (box, fig.bbox)


@pytest.mark.slow
@pytest.mark.services
def test_the_chart_draws_car_equivalents_apart(served: str, browser: Any) -> None:
    """The report's chart draws counts by occupied track length as hollow circles of
    their own; the dashboard drew them as the dots of cars seen one by one."""
    page = _site(browser, f"{served}/sites/months", 1440, 900)
    try:
        lengths = page.locator(".chart-svg circle.pt-length")
        assert lengths.count() == 2
        assert "car equivalents" in (lengths.first.locator("title").text_content() or "")
        fill = lengths.first.evaluate("n => getComputedStyle(n).fill")
        dot = page.locator(".chart-svg circle.pt:not(.pt-length)").first
        assert fill != dot.evaluate("n => getComputedStyle(n).fill")
        key = page.locator(".chart-key").text_content() or ""
        assert "car equivalents (occupied track length)" in key, key
    finally:
        page.close()
    page = _site(browser, f"{served}/sites/months", 320, 640)
    try:  # its words in the key keep a 320 px phone from scrolling sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.services
def test_the_map_legend_has_the_reports_colours(served: str, browser: Any) -> None:
    """One palette (report.style, served as /style.js): the dashboard had its own, pink a
    car of unsure type in a report's chips and a container on the map."""
    from railwatch.report.style import CLASS_COLOURS, OCCUPIED_COLOUR

    page = _site(browser, f"{served}/sites/months", 1440, 900)
    try:
        shown = page.eval_on_selector_all(
            "#legend .lg",
            """ns => ns.map(n => [n.textContent.trim(),
                                  (n.querySelector('i') || {}).style?.borderColor || ''])""",
        )
    finally:
        page.close()

    def rgb(hex_colour: str) -> str:
        r, g, b = (int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))
        return f"rgb({r}, {g}, {b})"

    legend = dict(shown)
    for cls, colour in CLASS_COLOURS.items():
        assert legend.get(cls) == rgb(colour), (cls, shown)
    assert legend.get("track read as occupied") == rgb(OCCUPIED_COLOUR), shown


def test_style_js_is_the_reports_palette(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from railwatch.report.style import CLASS_COLOURS, OCCUPIED_COLOUR, OTHER_COLOUR
    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    client = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))
    r = client.get("/style.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    head, _, body = r.text.partition("Object.freeze(")
    assert head == "const RW_STYLE = "
    palette = json.loads(body.rstrip().removesuffix(");"))
    assert palette["classes"] == dict(CLASS_COLOURS)
    assert palette["occupied"] == OCCUPIED_COLOUR and palette["other"] == OTHER_COLOUR
