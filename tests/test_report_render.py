"""Charts, chips, caveats and formatters of the report, without a database."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from affine import Affine
from matplotlib.patches import Polygon as PolygonPatch

from railwatch.detect.base import Detection, OrientedBox
from railwatch.report.caveats import build_caveats, covered_caveat, gap_caveats
from railwatch.report.charts import (
    StackedBars,
    draw_timeseries,
    new_figure,
    timeseries_figure,
    to_svg,
)
from railwatch.report.chips import (
    chip_figure,
    crop_window,
    draw_chip,
    estimate_shift,
    nice_length,
    north_vector,
    pair_figure,
)
from railwatch.report.format import fmt_count, fmt_num, fmt_pct
from railwatch.report.model import AlertRow, BaselinePoint, ChipImage, EventRow, SceneRow

T0 = datetime(2023, 1, 1, tzinfo=UTC)


def _row(
    i: int, total: float | None, *, usable: bool = True, gsd: float = 0.5, **kw: object
) -> SceneRow:
    return SceneRow(
        scene_id=i,
        when=T0 + timedelta(days=10 * i),
        sensor="S",
        gsd=gsd,
        usable=usable,
        clear_fraction=0.95 if usable else 0.2,
        coverage=1.0,
        total=total if usable else None,
        low=None if total is None else total - 1,
        high=None if total is None else total + 1,
        **kw,  # type: ignore[arg-type]
    )


def _chip(image: np.ndarray, dets: tuple[Detection, ...] = (), **kw: object) -> ChipImage:
    h, w = image.shape[:2]
    return ChipImage(
        image=image,
        gsd=0.5,
        detections=dets,
        title="t",
        caption=("a", "b"),
        window=(0, h, 0, w),
        **kw,  # type: ignore[arg-type]
    )


def test_formatters() -> None:
    assert fmt_num(None) == "–"
    assert fmt_num(73.0) == "73"
    assert fmt_num(2.45) == "2.5" or fmt_num(2.45) == "2.4"
    assert fmt_count(73, 70, 76) == "73 [70–76]"
    assert fmt_count(5, 5, 5) == "5"
    assert fmt_pct(0.974) == "97 %"


def test_chart_draws_every_element() -> None:
    rows = [_row(i, 5.0 + i, by_class={"gondola": 3.0, "tank": 2.0}) for i in range(8)]
    rows.insert(3, _row(99, None, usable=False))
    base = [BaselinePoint(r.when, 6.0, 4.0, 8.0, 9.0) for r in rows if r.counted]
    events = [EventRow(date(2023, 2, 1), "Summit")]
    alerts = [AlertRow("k", "record", "high", rows[-1].when, "all", 12.0, "x", scene_id=7)]
    fig = new_figure(8, 4)
    ax = fig.add_subplot()
    draw_timeseries(ax, rows, base, events, alerts)
    labels = ax.get_legend_handles_labels()[1]
    for expected in (
        "baseline band",
        "trailing record",
        "unusable image",
        "alert",
        "gondola",
        "tank",
        "count (interval)",
    ):
        assert expected in labels
    unusable = [ln for ln in ax.lines if ln.get_label() == "unusable image"]
    # one unusable image, drawn as a mark not a zero
    assert len(np.asarray(unusable[0].get_xdata())) == 1
    assert any(t.get_text().strip() == "Summit" for t in ax.texts)
    assert any(t.get_text() == "record" for t in ax.texts)  # alert annotated
    # the stacked bars add up to the counted total
    heights = [
        float(h)
        for c in ax.containers
        if isinstance(c, StackedBars) and c.get_label() in ("gondola", "tank")
        for h in c.heights
    ]
    assert sum(heights) == pytest.approx(8 * 5.0)


def test_chart_svg_is_deterministic_and_self_contained() -> None:
    rows = [_row(i, float(i)) for i in range(5)]
    a = to_svg(timeseries_figure(rows))
    b = to_svg(timeseries_figure(rows))
    assert a == b
    assert a.lstrip().startswith(b"<?xml") and b"<svg" in a
    assert b"<text" not in a  # text drawn as paths: renders without fonts


def test_chart_without_usable_images() -> None:
    rows = [_row(0, None, usable=False), _row(1, None, usable=False)]
    fig = timeseries_figure(rows)
    assert len(to_svg(fig)) > 1000


def test_crop_window_contains_detections_and_site() -> None:
    inside = np.zeros((200, 300), dtype=bool)
    inside[50:100, 60:120] = True
    det = Detection(OrientedBox(250.0, 150.0, 28.0, 6.0, 30.0))
    r0, r1, c0, c1 = crop_window(inside.shape, inside=inside, detections=[det])
    assert r0 <= 50 and r1 >= 100 and c0 <= 60
    corners = det.box.corners()
    assert c1 >= corners[:, 0].max() or c1 == 300
    assert r1 >= corners[:, 1].max()
    assert crop_window((10, 20)) == (0, 10, 0, 20)


def test_nice_length() -> None:
    assert nice_length(200.0) == 20.0
    assert nice_length(1000.0) == 200.0
    assert nice_length(26.0) == 5.0


def test_north_vector_follows_utm_convergence() -> None:
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    # east of the zone's central meridian (129E for zone 52) true north tilts left (west)
    east = _chip(image, crs="EPSG:32652", transform=Affine(0.5, 0, 550_000, 0, -0.5, 4_695_000))
    d_col, d_row = north_vector(east)
    assert d_row < -0.99 and d_col < 0
    west = _chip(image, crs="EPSG:32652", transform=Affine(0.5, 0, 450_000, 0, -0.5, 4_695_000))
    assert north_vector(west)[0] > 0
    assert north_vector(_chip(image)) == (0.0, -1.0)
    assert math.hypot(*north_vector(east)) == pytest.approx(1.0)


def test_chip_draws_detections_with_class_colours_and_covered_style() -> None:
    image = np.full((120, 160, 3), 128, dtype=np.uint8)
    dets = (
        Detection(OrientedBox(40, 60, 28, 6, 0), cls="tank"),
        Detection(OrientedBox(80, 60, 28, 6, 0), cls="gondola", covered=True),
    )
    fig = new_figure(5, 4)
    ax = fig.add_subplot()
    draw_chip(ax, _chip(image, dets))
    polys = [p for p in ax.patches if isinstance(p, PolygonPatch)]
    assert len(polys) == 2
    tank, gondola = polys
    assert tank.get_hatch() is None and tank.get_linestyle() == "-"
    assert gondola.get_hatch() == "////" and gondola.get_linestyle() == "--"
    assert tank.get_edgecolor() != gondola.get_edgecolor()
    assert ax.get_aspect() == 1.0  # square pixels: correct aspect
    assert any(t.get_text() == "N" for t in ax.texts)
    assert ax.get_xlabel() == "a\nb"


def test_pair_figure_shows_the_same_extent() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (80, 120, 3), dtype=np.uint8)
    before, after = _chip(image), _chip(np.roll(image, 3, axis=1))
    fig = pair_figure(before, after)
    axes = fig.get_axes()
    assert len(axes) == 2
    assert axes[0].get_xlim() == axes[1].get_xlim()
    assert axes[0].get_ylim() == axes[1].get_ylim()
    assert chip_figure(after).get_axes()


def test_estimate_shift_measures_misregistration() -> None:
    rng = np.random.default_rng(2)
    base = rng.integers(0, 255, (128, 128), dtype=np.uint8)
    image = np.dstack([base] * 3)
    a = _chip(image)
    b = _chip(np.roll(image, (2, 5), axis=(0, 1)))
    found = estimate_shift(a, b)
    assert found is not None
    dx, dy, response = found
    assert dx == pytest.approx(5 * 0.5, abs=0.3) and dy == pytest.approx(2 * 0.5, abs=0.3)
    assert response > 0.5
    small = _chip(image[:8, :8])
    assert estimate_shift(small, small) is None


def test_covered_caveat_wording() -> None:
    row = _row(1, 73.0, covered=41)
    text = covered_caveat(row)
    assert text is not None and "contents cannot be identified for 41 of 73 cars" in text
    assert covered_caveat(_row(2, None, usable=False)) is None
    assert "no load" in (covered_caveat(_row(3, 5.0, covered=0)) or "")


def test_gap_and_unusable_caveats() -> None:
    rows = [_row(i, 5.0) for i in range(6)]
    later = SceneRow(50, T0 + timedelta(days=200), "S", 0.5, True, 0.9, 1.0, 6.0, 5.0, 7.0)
    lost = SceneRow(51, T0 + timedelta(days=120), "S", 0.5, False, 0.1, 1.0, reasons=("cloud 90%",))
    gaps = gap_caveats([*rows, lost, later])
    assert len(gaps) == 1 and "(150 days, in which 1 image could not be counted)" in gaps[0]
    caveats = build_caveats([*rows, lost, later])
    assert any("1 of 8 images could not be counted (cloud 1)" in c for c in caveats)
    assert any("never as zero" in c for c in caveats)


def test_resolution_and_method_caveats() -> None:
    rows = [_row(0, 5.0), _row(1, 6.0, gsd=3.0, method="length"), _row(2, 4.0)]
    caveats = build_caveats(rows)
    assert any("coarser than 1 m" in c for c in caveats)
    assert any("STANAG" in c for c in caveats)
    assert any("occupied track length" in c for c in caveats)


def test_partial_coverage_caveat() -> None:
    row = SceneRow(1, T0, "S", 0.5, True, 0.9, 0.6, 5.0, 4.0, 6.0)
    assert any(
        "1 count covers only part of the site (60 %); it is a lower bound" in c
        for c in build_caveats([row])
    )
    two = [row, SceneRow(2, T0 + timedelta(days=3), "S", 0.5, True, 0.9, 0.7, 5.0, 4.0, 6.0)]
    assert any(
        "2 counts cover only part of the site (down to 60 %)" in c for c in build_caveats(two)
    )


def test_wide_pairs_are_stacked() -> None:
    wide = np.zeros((40, 160, 3), dtype=np.uint8)
    fig = pair_figure(_chip(wide), _chip(wide))
    top, bottom = fig.get_axes()
    fig.canvas.draw()
    assert top.get_position().y0 > bottom.get_position().y1 - 1e-6
    square = np.zeros((80, 100, 3), dtype=np.uint8)
    fig = pair_figure(_chip(square), _chip(square))
    fig.canvas.draw()
    left, right = fig.get_axes()
    assert left.get_position().x1 <= right.get_position().x0 + 1e-6


def test_chart_marks_only_the_totals_alerts_and_info_ones_quietly() -> None:
    """The chart is the site total: a tank record is not circled on the total bar as if
    the total had set one, and info-only alerts are small grey rings without a label."""
    from matplotlib.colors import to_hex

    from railwatch.report.style import ALERT_COLOUR, INFO_ALERT_COLOUR

    rows = [_row(i, 5.0 + i) for i in range(8)]
    alerts = [
        AlertRow("a", "spike", "high", rows[-1].when, "all", 12.0, "x", scene_id=7),
        AlertRow("b", "record", "high", rows[5].when, "tank", 3.0, "x", scene_id=5),
        AlertRow("c", "shift", "info", rows[2].when, "all", 7.0, "x", scene_id=2),
    ]
    fig = new_figure(8, 4)
    ax = fig.add_subplot()
    draw_timeseries(ax, rows, (), (), alerts)
    rings = {ln.get_label(): ln for ln in ax.lines if ln.get_marker() == "o"}
    red = [ln for ln in ax.lines if ln.get_markeredgecolor() == ALERT_COLOUR]
    grey = [ln for ln in ax.lines if to_hex(ln.get_markeredgecolor()) == INFO_ALERT_COLOUR.lower()]
    # the total's spike only
    assert len(red) == 1 and np.asarray(red[0].get_ydata()).tolist() == [12.0]
    assert len(grey) == 1 and np.asarray(grey[0].get_ydata()).tolist() == [7.0]
    assert "alert" in rings and "info alert" in rings
    assert [t.get_text() for t in ax.texts] == ["spike"]  # no "record" (tank), no "shift" (info)


def test_class_alerts_that_repeat_the_total_are_dropped() -> None:
    from railwatch.report.builder import drop_echoes

    when = T0
    a = AlertRow("a", "record", "high", when, "all", 18.0, "x", scene_id=3)
    echo = AlertRow("b", "record", "high", when, "railcar", 18.0, "x", scene_id=3)
    own = AlertRow("c", "spike", "low", when, "tank", 9.0, "y", scene_id=3)
    assert drop_echoes([a, echo, own]) == [a, own]


def test_coarse_alert_images_share_one_covered_caveat() -> None:
    from railwatch.report.model import Evidence

    rows = [_row(i, 20.0 + i, gsd=3.0, method="length") for i in range(3)]
    chip = _chip(np.zeros((8, 8, 3), np.uint8))  # shown with images (since session 41)
    evidence = [
        Evidence(AlertRow(f"k{i}", "record", "low", r.when, "all", r.total, "x"), chip, None,
                 after_row=r)
        for i, r in enumerate(rows)
    ]  # fmt: skip
    caveats = build_caveats(rows, evidence)
    coarse = [c for c in caveats if "too coarse to see single cars" in c]
    assert len(coarse) == 1 and rows[2].when.strftime("%Y-%m-%d") in coarse[0]
    assert not any("contents cannot be identified" in c for c in caveats)


def test_headline_alert_is_the_most_severe_of_the_last_year() -> None:
    from railwatch.report.builder import top_alert

    latest = T0 + timedelta(days=800)
    old_high = AlertRow("a", "shift", "high", T0, "all", 40.0, "old")
    recent_low = AlertRow("b", "record", "low", T0 + timedelta(days=700), "all", 78.0, "new")
    recent_info = AlertRow("c", "record", "info", T0 + timedelta(days=790), "all", 80.0, "x")
    assert top_alert([old_high, recent_low, recent_info], latest) == recent_low
    assert top_alert([old_high], latest) == old_high
    assert top_alert([], latest) is None


def test_headline_leads_with_the_site_total() -> None:
    """The headline led with the most severe alert of any class: on the demo a gondola
    record (high, 2024-04-05) while the site total had a high record on 2024-03-18. It
    leads with the site total's alert; one class's only when the total has none, and
    then says which class."""
    from railwatch.report.builder import _headline, top_alert

    rows = [_row(i, 10.0 + i) for i in range(40)]
    latest = rows[-1].when
    total = AlertRow("a", "record", "low", latest - timedelta(days=30), "all", 40.0, "total rec")
    older = AlertRow("o", "shift", "low", latest - timedelta(days=90), "all", 30.0, "older")
    gondola = AlertRow("b", "record", "high", latest - timedelta(days=10), "gondola", 9.0, "gon")
    info = AlertRow("c", "record", "info", latest, "all", 49.0, "info rec")
    assert top_alert([older, total, gondola, info], latest) == total
    assert top_alert([info, gondola], latest) == info
    assert top_alert([gondola], latest) == gondola

    text = _headline("yard", (None, None), rows, (), [total, gondola]).summary
    assert "(record, high" not in text and "total rec" in text and "gondola" not in text
    text = _headline("yard", (None, None), rows, (), [gondola]).summary
    assert "no recent alert on the site total" in text.lower() and "gondola (record" in text
    assert "gon" in text.split("):", 1)[1]


def test_headline_sees_an_ongoing_silence() -> None:
    """A silence that goes on after the latest usable image is dated after it (the day
    it became unexpected); the headline's year ended at that image, so an info record
    led and the medium 'no usable image for 858 days' of the site total was left out
    (analyze as of today on the demo's database)."""
    from railwatch.report.builder import top_alert

    latest = T0 + timedelta(days=800)
    record = AlertRow("r", "record", "info", latest, "all", 80.0, "info record")
    silence = AlertRow(
        "q", "quality", "medium", latest + timedelta(days=45), "all", None, "no usable image"
    )
    assert top_alert([record, silence], latest) == silence


def test_baseline_track_follows_the_main_method_only() -> None:
    from railwatch.report.data import baseline_track

    objects = [
        SceneRow(i, T0 + timedelta(days=14 * i), "S", 0.5, True, 1.0, 1.0, 10.0 + i % 3,
                 method="objects")
        for i in range(40)
    ]  # fmt: skip
    coarse = [
        SceneRow(100 + i, T0 + timedelta(days=14 * i + 7), "P", 3.0, True, 1.0, 1.0, 45.0,
                 method="length")
        for i in range(5)
    ]  # fmt: skip
    track = baseline_track([*objects, *coarse])
    assert [b.when for b in track] == [r.when for r in objects]
    assert max(b.record or 0.0 for b in track) == 12.0  # the 45s of 3 m never set it


def test_types_caveat_says_how_many_cars_have_a_type() -> None:
    from dataclasses import replace

    from railwatch.report.caveats import types_caveat

    a = replace(_row(1, 10.0), by_class={"railcar": 7.0, "tank": 2.0, "boxcar": 1.0})
    b = replace(_row(2, 5.0), by_class={"railcar": 4.0, "tank": 1.0})
    coarse = replace(_row(3, 30.0, gsd=3.0, method="length"), by_class={"railcar": 30.0})
    text = types_caveat([a, b, coarse])
    assert text is not None and "4 of the 15 cars counted one by one" in text
    assert "(tank 3, boxcar 1)" in text and "lower bound" in text
    untyped = types_caveat([replace(b, by_class={"railcar": 5.0})])
    assert untyped is not None and "None of the 5 cars" in untyped
    assert types_caveat([coarse]) is None  # car-equivalents have no types
    assert any("given a type" in c for c in build_caveats([a, b]))
