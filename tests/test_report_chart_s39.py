"""The site report's chart and alert pages (2026-12-06, session 39).

* An event far from the images stretched the chart's time axis: a site with one image
  drew the test yard's "Summit", a year later, and its one bar stood at the axis's left
  edge. An event more than ``EVENT_AXIS_DAYS`` days from the images and the report's
  period is now left off the axis and named under the chart, as the dashboard does.
* The chart's caption named every kind of mark (red circles, triangles, orange
  crosses...) under a chart of one bar: it names those drawn.
* A wide image pair on an alert's page was centred in its box, an empty band between
  the alert's text and the images: the images stand at the top of the box.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import report_db
from railwatch.report import build_report, build_report_data
from railwatch.report import pdf as pdf_mod
from railwatch.report.charts import (
    EVENT_AXIS_DAYS,
    SILENCE_LABEL,
    chart_marks,
    events_on_axis,
    timeseries_figure,
)
from railwatch.report.model import EventRow, ReportData
from railwatch.storage import Database
from report_db import T0, Plan, populate

SUMMIT = (T0 + timedelta(days=375)).date()


def _pages(data: ReportData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The PDF's pages as the figures write_pdf saves (none written)."""
    figures: list[Figure] = []

    class Pages:
        def __init__(self, *_: object, **__: object) -> None:
            pass

        def __enter__(self) -> Pages:
            return self

        def __exit__(self, *_: object) -> None:
            pass

        def savefig(self, fig: Any) -> None:
            fig.canvas.draw()  # as PdfPages draws it
            figures.append(fig)

    monkeypatch.setattr(pdf_mod, "PdfPages", Pages)
    pdf_mod.write_pdf(data, tmp_path / "r.pdf")
    return figures


def _caption(fig: Figure) -> str:
    (text,) = [t.get_text() for t in fig.texts if "Dates on the time axis" in t.get_text()]
    return " ".join(text.split())


def _chart(fig: Figure) -> Axes:
    return next(ax for ax in fig.axes if ax.get_ylabel() == "railcars per image")


@pytest.fixture
def one_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setattr(report_db, "PLANS", (Plan(day=0, n=6),))
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes", with_alert=False)
    return db


def test_an_event_far_from_the_one_image_is_named_not_drawn(
    one_image: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = build_report_data(one_image, report_db.SITE_NAME)
    assert [e.label for e in data.events] == ["Summit"]  # in the (open) period
    first = _pages(data, tmp_path, monkeypatch)[0]
    lo, hi = _chart(first).get_xlim()
    image = float(mdates.date2num(data.scenes[0].when))
    # the axis is the image's month, the bar in its middle (it reached to the Summit,
    # the bar at its left edge)
    assert hi - lo < 40.0, (lo, hi)
    assert abs((lo + hi) / 2.0 - image) < 2.0
    assert not [ln for ln in _chart(first).lines if ln.get_linestyle() == "--"]
    caption = _caption(first)
    assert f"{SUMMIT.isoformat()} Summit (after the images shown)" in caption, caption
    assert f"more than {EVENT_AXIS_DAYS} days" in caption

    html = build_report(one_image, report_db.SITE_NAME, tmp_path / "r.html").read_text()
    figcaption = re.search(r"<figcaption>(.*?)</figcaption>", html, re.S)
    assert figcaption is not None
    assert "Summit (after the images shown)" in figcaption.group(1)
    assert "Summit" in html.split('class="events"')[1]  # still in the list of events


def test_events_near_the_images_or_in_the_period_stay_on_the_axis() -> None:
    rows = build_rows()
    near = EventRow(rows[-1].day + timedelta(days=EVENT_AXIS_DAYS), "near")
    far = EventRow(rows[-1].day + timedelta(days=EVENT_AXIS_DAYS + 1), "far")
    before = EventRow(rows[0].day - timedelta(days=400), "before")
    on, off = events_on_axis(rows, [before, near, far])
    assert on == [near] and off == [before, far]
    # a report period that reaches the event keeps it on the axis
    on, off = events_on_axis(rows, [before, near, far], (before.when, None))
    assert on == [before, near] and off == [far]
    # nothing to be far from: every event is drawn
    assert events_on_axis([], [before, far]) == ([before, far], [])


def build_rows() -> list[Any]:
    from railwatch.report.model import SceneRow

    def row(i: int) -> SceneRow:
        return SceneRow(
            scene_id=i, when=T0 + timedelta(days=10 * i), sensor="S", gsd=0.5, usable=True,
            total=5.0, low=4.0, high=6.0, by_class={"tank": 5.0},
        )  # fmt: skip

    return [row(i) for i in range(3)]


def test_the_caption_names_only_the_marks_drawn(
    one_image: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = build_report_data(one_image, report_db.SITE_NAME)
    caption = _caption(_pages(data, tmp_path, monkeypatch)[0]).lower()
    assert caption.startswith("bars: count per usable image by class")
    for absent in (
        "red circles",
        "grey rings",
        "triangles",
        "orange crosses",
        "dashed purple",
        "grey band",
        "dashed lines",
        "green hollow circles",
        "diamonds",
    ):
        assert absent not in caption, (absent, caption)
    html = build_report(one_image, report_db.SITE_NAME, tmp_path / "r.html").read_text()
    figcaption = re.search(r"<figcaption>(.*?)</figcaption>", html, re.S)
    assert figcaption is not None
    words = figcaption.group(1).lower()
    assert "bars: railcars per usable image" in words
    for absent in ("red circles", "triangles", "orange crosses", "dashed purple", "grey band"):
        assert absent not in words, (absent, words)


def test_the_full_caption_names_what_the_busy_chart_draws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard: the test yard's year, with its record alert, draws bars, baseline, record,
    the Summit, unusable images and an alert circle: the caption names each, and the
    marks the caption is made from are those the chart's legend shows."""
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    data = build_report_data(db, report_db.SITE_NAME)
    marks = chart_marks(
        data.scenes, data.baseline, data.events, data.alerts,
        period=data.headline.period, utc_offset=data.utc_offset,
    )  # fmt: skip
    assert {"bars", "counts", "band", "record", "events", "unusable", "alerts"} <= marks
    assert not marks & {"info", "silence", "silence-alert", "length", "reviewed"}
    fig = timeseries_figure(
        data.scenes, data.baseline, data.events, data.alerts,
        utc_offset=data.utc_offset, period=data.headline.period,
    )  # fmt: skip
    _handles, labels = fig.axes[0].get_legend_handles_labels()
    legend = {
        "band": "baseline band", "median": "baseline (median)", "record": "trailing record",
        "unusable": "unusable image", "alerts": "alert", "info": "info alert",
        "silence": SILENCE_LABEL, "count": "count (interval)",
    }  # fmt: skip
    for mark, label in legend.items():
        assert (mark in marks or (mark == "count" and "counts" in marks)) == (label in labels)
    caption = _caption(_pages(data, tmp_path, monkeypatch)[0]).lower()
    for present in ("bars:", "grey band", "dashed purple", "dashed lines", "orange crosses"):
        assert present in caption, (present, caption)
    assert "red circles: alerts of the site total (labels left off" in caption
    assert "triangles" not in caption and "grey rings" not in caption


def test_a_wide_pair_stands_right_under_the_alerts_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    data = build_report_data(db, report_db.SITE_NAME)
    (page,) = [
        f for f in _pages(data, tmp_path, monkeypatch) if f.texts[1].get_text().startswith("Alert:")
    ]
    images = [ax for ax in page.axes if ax.images]
    assert len(images) == 2
    (text,) = [t for t in page.texts if t.get_text().startswith("18 railcars")]
    renderer = page.canvas.get_renderer()  # type: ignore[attr-defined]
    text_bottom = text.get_window_extent(renderer).y0 / page.bbox.height
    for ax in images:
        box, drawn = ax.get_position(original=True), ax.get_position()
        assert drawn.height < 0.7 * box.height  # wide: the box is much taller than it
        # at the top of its box, under the text and its title (it was centred in the box)
        assert drawn.y1 == pytest.approx(box.y1, abs=1e-6)
        title = ax.title.get_window_extent(renderer).y1 / page.bbox.height
        assert 0.0 < text_bottom - title < 0.045, (text_bottom, title)
    # the note on the pair right under their captions, not far down by the legend (since
    # 2026-12-07, session 45, the legend stands between them, right under the captions)
    (note,) = [t for t in page.texts if t.get_text().startswith("Left: before")]
    boxes = [ax.get_tightbbox(renderer) for ax in images]
    under = min(b.y0 for b in boxes if b is not None) / page.bbox.height
    note_top = note.get_window_extent(renderer).y1 / page.bbox.height
    legend = page.legends[0].get_window_extent(renderer)
    legend_top, legend_bottom = legend.y1 / page.bbox.height, legend.y0 / page.bbox.height
    assert 0.0 < under - legend_top < 0.03, (under, legend_top)
    assert 0.0 < legend_bottom - note_top < 0.03, (legend_bottom, note_top)


def test_a_long_alert_text_pushes_the_images_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The box of the images starts under the alert's text however many lines it takes:
    the images' titles never run into it."""
    import dataclasses

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    data = build_report_data(db, report_db.SITE_NAME)
    (ev,) = data.evidence
    long = "Long explanation " + "of the record alert, " * 40 + "end."
    ev = dataclasses.replace(ev, alert=dataclasses.replace(ev.alert, explanation=long))
    (page,) = [
        f
        for f in _pages(dataclasses.replace(data, evidence=(ev,)), tmp_path, monkeypatch)
        if f.texts[1].get_text().startswith("Alert:")
    ]
    (text,) = [t for t in page.texts if t.get_text().startswith("Long explanation")]
    assert text.get_text().count("\n") >= 4
    renderer = page.canvas.get_renderer()  # type: ignore[attr-defined]
    text_bottom = text.get_window_extent(renderer).y0
    for ax in (ax for ax in page.axes if ax.images):
        assert ax.title.get_window_extent(renderer).y1 < text_bottom
