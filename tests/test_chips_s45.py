"""The report's image chips, looked at (2026-12-07, session 45).

- A chip showed the cars padded, and of a yard whose cars stood at one end cut off the
  rest of the site's boundary: it shows the whole site now, or, for a site much larger
  than the cars' extent, the part around the cars with a caption line saying so.
- A PDF page's legend stood at the page's foot, some 300 px (at 90 dpi) below its chips:
  it hangs right under their captions now, the notes under it.
- The north arrow stood on the image 9 % in from its right edge, on the site's boundary
  line of a whole site: it stands in a dark box in the upper right corner, over the line.
- The chip's grey where it has no image was explained nowhere: the legend names it.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from shapely.geometry import box

from railwatch.detect.base import Detection, OrientedBox
from railwatch.report import chips as C
from railwatch.report import pdf as P
from railwatch.report.builder import _region, _SiteInfo
from railwatch.report.charts import layout_quiet, new_figure, timeseries_figure
from railwatch.report.chips import chip_figure, draw_chip, pair_figure
from railwatch.report.fonts import drawing
from railwatch.report.model import (
    AlertRow,
    ChipImage,
    Evidence,
    Headline,
    ReportData,
    SceneRow,
)

NOW = datetime(2024, 6, 10, 3, tzinfo=UTC)
SQUARE = ((10.0, 10.0), (190.0, 10.0), (190.0, 140.0), (10.0, 140.0), (10.0, 10.0))


def _site(geom: Any) -> _SiteInfo:
    return _SiteInfo("s", "", geom, "EPSG:32652")


def _bounds_contain(outer: Any, inner: Any) -> bool:
    ox0, oy0, ox1, oy1 = outer.bounds
    ix0, iy0, ix1, iy1 = inner.bounds
    return ox0 <= ix0 and oy0 <= iy0 and ox1 >= ix1 and oy1 >= iy1


def test_a_chip_shows_the_whole_site_not_only_the_cars_at_one_end() -> None:
    # a yard 300 x 200 m, its cars in a string 80 m long at its west end
    site = box(500_000, 4_000_000, 500_300, 4_000_200)
    cars = [box(500_010 + 10 * i, 4_000_090, 500_018 + 10 * i, 4_000_093) for i in range(8)]
    found: Any = _region(_site(site), cars, site)
    region = found[0] if isinstance(found, tuple) else found  # (a geometry alone before)
    assert _bounds_contain(region, site)  # was cut at x = 500 124: the east half
    assert found[1] == ""


def test_a_site_much_larger_than_its_cars_shows_their_part_and_says_so() -> None:
    site = box(500_000, 4_000_000, 503_000, 4_002_000)  # 3 x 2 km
    cars = [box(501_000 + 10 * i, 4_001_000, 501_008 + 10 * i, 4_001_003) for i in range(8)]
    region, words = _region(_site(site), cars, site)
    x0, y0, x1, y1 = region.bounds
    assert max(x1 - x0, y1 - y0) < 400  # the cars' part: a chip where they show
    assert words.startswith("shows the part around the cars:")
    assert "of the site's 3.0 km × 2.0 km" in words


def test_a_site_without_cars_is_shown_whole() -> None:
    site = box(500_000, 4_000_000, 500_600, 4_000_100)
    region, words = _region(_site(site), [], site)
    assert _bounds_contain(region, site) and words == ""


def _chip(valid: np.ndarray | None = None, outline: tuple[Any, ...] = SQUARE) -> ChipImage:
    dets = tuple(
        Detection(OrientedBox(60 + 12 * i, 70, 10, 3, 0.3), cls="railcar") for i in range(5)
    )
    return ChipImage(
        image=np.full((150, 200, 3), 120, dtype=np.uint8),
        valid=valid,
        gsd=0.5,
        detections=dets,
        title="Alert image: 2024-06-10",
        caption=("SkySat-sim · GSD 0.50 m", "clear 100 %", "count 5"),
        window=(0, 150, 0, 200),
        site_outline=outline,
        site_rings=(outline,),
    )


def _legend_texts(fig: Figure) -> list[str]:
    legends = [c for c in fig.get_children() if isinstance(c, Legend)]
    return [t.get_text() for leg in legends for t in leg.get_texts()]


def test_the_legend_names_the_grey_where_a_chip_has_no_image() -> None:
    valid = np.ones((150, 200), dtype=bool)
    valid[:30] = False  # the image's footprint ends 15 m below the chip's top
    assert C.NODATA_LABEL in _legend_texts(chip_figure(_chip(valid)))
    assert C.NODATA_LABEL in _legend_texts(pair_figure(_chip(), _chip(valid)))
    assert C.NODATA_LABEL not in _legend_texts(chip_figure(_chip()))  # no grey: not named
    assert C.NODATA_LABEL not in _legend_texts(chip_figure(_chip(np.ones((150, 200), bool))))


def _north(ax: Axes) -> tuple[Any, Any]:
    """The north arrow's "N" and the box behind it (display coordinates)."""
    fig = ax.get_figure(root=True)
    assert fig is not None
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    n = next(t for t in ax.texts if t.get_text() == "N")
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert boxes, "no box behind the north arrow"
    back = boxes[0]
    return n.get_window_extent(renderer), back


def test_the_north_arrow_stands_in_a_box_over_the_boundary_in_the_corner() -> None:
    # a site boundary running 9 % in from the right edge, where the arrow stood
    edge = ((10.0, 5.0), (182.0, 5.0), (182.0, 145.0), (10.0, 145.0), (10.0, 5.0))
    fig = new_figure(6, 5)
    ax = fig.add_subplot()
    draw_chip(ax, _chip(outline=edge))
    with layout_quiet():
        fig.canvas.draw()
    n_box, back = _north(ax)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    back_box = back.get_window_extent(renderer)
    ax_box = ax.get_window_extent(renderer)
    # the N and the arrow within the box, the box in the axes' upper right corner
    assert back_box.x0 <= n_box.x0 and n_box.x1 <= back_box.x1
    assert back_box.y0 <= n_box.y0 and n_box.y1 <= back_box.y1
    arrow = next(c for c in ax.get_children() if type(c).__name__ == "Annotation")
    a_box = arrow.get_window_extent(renderer)
    assert back_box.x0 <= a_box.x0 and a_box.x1 <= back_box.x1 + 1
    assert back_box.y0 - 1 <= a_box.y0 and a_box.y1 <= back_box.y1 + 1
    assert ax_box.x1 - 20 < back_box.x1 <= ax_box.x1
    assert ax_box.y1 - 20 < back_box.y1 <= ax_box.y1
    # a background drawn over the boundary line
    assert back.get_facecolor()[3] > 0.4
    outline = [ln for ln in ax.lines if isinstance(ln, Line2D) and ln.get_color() == "white"]
    assert outline and back.get_zorder() > max(ln.get_zorder() for ln in outline)


def _page(evidence: Evidence) -> Figure:
    headline = Headline("s", (None, None), None, None, None, None, None, None, "x")
    kw: dict[str, Any] = {"scenes": (), "baseline": (), "events": (), "caveats": (), "method": ()}
    data = ReportData(
        site="s", description="", generated=NOW, headline=headline,
        alerts=(evidence.alert,), evidence=(evidence,), classes=(), **kw,
    )  # fmt: skip
    with drawing(), drawing(P._pdf_rc()):
        fig = P._evidence_page(data, evidence)
        with layout_quiet():
            fig.canvas.draw()
    return fig


def test_a_pdf_pages_legend_stands_right_under_its_chips() -> None:
    alert = AlertRow("k", "spike", "high", NOW, "all", 33.0, "33 railcars on 2024-06-10.")
    valid = np.ones((150, 200), dtype=bool)
    valid[:30] = False
    fig = _page(Evidence(alert=alert, after=_chip(valid), before=_chip(valid)))
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    chips = [ax for ax in fig.get_axes() if ax.images]
    assert len(chips) == 2
    captions_low = min(b.y0 for ax in chips if (b := ax.get_tightbbox(renderer)) is not None)
    legend = next(c for c in fig.get_children() if isinstance(c, Legend))
    leg_box = legend.get_window_extent(renderer)
    gap = captions_low - leg_box.y1
    # right under the captions (it stood ~300 px at 90 dpi below them, at the foot)
    assert 0 <= gap < 0.03 * fig.bbox.height
    assert C.NODATA_LABEL in [t.get_text() for t in legend.get_texts()]
    # the notes under the legend, not over it
    note = next(t for t in fig.texts if t.get_text().startswith("Left: before"))
    assert note.get_window_extent(renderer).y1 <= leg_box.y0 + 1
    assert note.get_window_extent(renderer).y0 > 0


# --- the HTML chart on a phone ---------------------------------------------------------

PHONE_PX = 334  # the chart's width on a 390 px phone (the report's margins off)


def _scenes(n: int = 40) -> list[SceneRow]:
    t0 = datetime(2024, 1, 5, 3, tzinfo=UTC)
    return [
        SceneRow(
            scene_id=i, when=t0 + timedelta(days=7 * i), sensor="S", gsd=0.5, usable=True,
            total=10.0 + i % 7, low=8.0 + i % 7, high=13.0 + i % 7,
            by_class={"tank": 3.0, "railcar": 7.0 + i % 7},
        )
        for i in range(n)
    ]  # fmt: skip


def _smallest_text_px(fig: Figure, shown_px: float) -> float:
    """The smallest visible text's size (CSS px) with ``fig`` (SVG, 72 pt an inch = 96
    px) shown ``shown_px`` wide."""
    with layout_quiet():
        fig.canvas.draw()
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.get_window_extent().width > 0
    ]
    return float(min(sizes)) * 96 / 72 * shown_px / (fig.get_figwidth() * 96)


def test_the_charts_narrow_rendering_reads_on_a_phone() -> None:
    rows = _scenes()
    with drawing():
        wide = timeseries_figure(rows, title="Railcars at yard")
        narrow = timeseries_figure(rows, title="Railcars at yard", narrow=True)
        assert _smallest_text_px(wide, PHONE_PX) < 3.5  # the 1056 px chart on a phone
        assert _smallest_text_px(narrow, PHONE_PX) >= 8.0
        ax = narrow.get_axes()[0]
        ticks = [t for t in ax.get_xticklabels() if t.get_text()]
        assert 2 <= len(ticks) <= 4
        # the legend under the axes, within the figure's width
        legend = next(c for c in narrow.get_children() if isinstance(c, Legend))
        box_ = legend.get_window_extent()
        assert box_.x0 >= 0 and box_.x1 <= narrow.bbox.width + 1
        assert box_.y1 <= ax.get_window_extent().y0
        # the axes take most of the width (a legend beside them shrank them to a third)
        assert ax.get_window_extent().width > 0.7 * narrow.bbox.width


NARROW_URI = "data:image/svg+xml;base64,"


def _html_data() -> ReportData:
    headline = Headline("s", (None, None), None, None, None, None, None, None, "x")
    kw: dict[str, Any] = {"scenes": tuple(_scenes()), "baseline": (), "events": ()}
    return ReportData(
        site="s", description="", generated=NOW, headline=headline, alerts=(),
        evidence=(), classes=(), caveats=(), method=(), **kw,
    )  # fmt: skip


def test_the_html_report_offers_the_narrow_chart_to_a_phone() -> None:
    from railwatch.report.html import render_html

    html = render_html(_html_data())
    source = re.search(r'<source media="\(max-width: 640px\)" srcset="([^"]+)">', html)
    assert source is not None and source.group(1).startswith(NARROW_URI)
    # before the wide chart's img, in one picture: the report stays one file
    assert html.index("<source") < html.index('<img class="chart"')


@pytest.mark.slow
@pytest.mark.services
def test_a_phone_shows_the_narrow_chart_a_desktop_the_wide_one(
    browser: Any, tmp_path: Path
) -> None:
    from railwatch.report.html import render_html

    out = tmp_path / "r.html"
    out.write_text(render_html(_html_data()), encoding="utf-8")
    shown = {}
    for width in (390, 1440):
        page = browser.new_page(viewport={"width": width, "height": 844})
        try:
            page.goto(out.as_uri())
            shown[width] = page.evaluate(
                """() => { const i = document.querySelector('#chart img.chart');
                  return [i.currentSrc.length, i.naturalWidth,
                          i.getBoundingClientRect().width]; }"""
            )
        finally:
            page.close()
    (_, phone_natural, phone_width), (_, desk_natural, _) = shown[390], shown[1440]
    assert phone_natural < 500 < desk_natural  # the narrow SVG (~422 px), the wide 1056 px
    # drawn at about its own size: its text at about its points (was 1056 px at 334 px)
    assert phone_width / phone_natural > 0.7


def test_a_lone_chips_legend_of_six_entries_stays_within_its_figure() -> None:
    valid = np.ones((150, 200), dtype=bool)
    valid[:30] = False
    chip = _chip(valid)
    dets = (
        *chip.detections,
        Detection(OrientedBox(60, 100, 10, 3, 0.3), cls="tank"),
        Detection(OrientedBox(80, 100, 10, 3, 0.3), cls="container", covered=True),
    )
    with drawing():
        fig = chip_figure(dataclasses.replace(chip, detections=dets))
        with layout_quiet():
            fig.canvas.draw()
    legend = next(c for c in fig.get_children() if isinstance(c, Legend))
    assert len(legend.get_texts()) == 6
    box_ = legend.get_window_extent()
    assert box_.x0 >= 0 and box_.x1 <= fig.bbox.width and box_.y0 >= 0
    (ax,) = fig.get_axes()
    assert ax.title.get_window_extent().y1 <= fig.bbox.height  # its title not cut off
