"""The count chart's y axis is scaled to the counts, not to the widest interval
(session 32, 2026-12-05).

On the demo the 2024 intervals' whiskers reached 395 while the counts were at most 231
and under 20 for five years: matplotlib scaled the axis to the whiskers, and those five
years were drawn in its bottom twentieth. The axis now runs from 0 to the counts,
baseline and record (plus a little room); a whisker above that is cut at the top edge,
ends in an open arrow there, and the captions (HTML and PDF) say so with the highest.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.lines import Line2D

from railwatch.report import build_report_data
from railwatch.report import pdf as pdf_mod
from railwatch.report.charts import (
    CLIPPED_LABEL,
    beyond_axis,
    beyond_axis_words,
    chart_heading,
    timeseries_figure,
)
from railwatch.report.html import render_html
from railwatch.report.model import BaselinePoint, ReportData, SceneRow
from railwatch.storage import Database
from report_db import populate

T0 = datetime(2019, 1, 1, 1, 0, tzinfo=UTC)
HUGE = 1000.0  # one interval reaching far above every count


def _scene(i: int, total: float, high: float | None = None, method: str = "objects") -> SceneRow:
    return SceneRow(
        scene_id=i, when=T0 + timedelta(days=10 * i), sensor="sim",
        gsd=0.5 if method == "objects" else 3.0, usable=True, total=total,
        low=total * 0.8, high=total * 1.2 if high is None else high, by_class={},
        method=method,
    )  # fmt: skip


def _series() -> list[SceneRow]:
    """Forty quiet images of 5-20 cars, then a rise to 60 whose interval reaches 1000."""
    rows = [_scene(i, 5.0 + (i % 16)) for i in range(40)]
    rows.append(_scene(40, 60.0, high=HUGE))
    rows.append(_scene(41, 55.0))
    return rows


def _arrows(ax: object) -> list[Line2D]:
    return [
        line
        for line in ax.get_lines()  # type: ignore[attr-defined]
        if line.get_gid() == "interval-clipped"
    ]


def test_the_y_axis_follows_the_counts_not_the_widest_whisker() -> None:
    fig = timeseries_figure(_series())
    lo, hi = fig.axes[0].get_ylim()
    assert lo == 0.0
    # the counts (at most 60) set it, with a little room above: not the 1000 whisker
    assert 60.0 <= hi <= 60.0 * 1.25, hi
    assert hi < HUGE / 4


def test_the_baseline_and_record_are_kept_on_the_axis() -> None:
    rows = _series()
    baseline = [BaselinePoint(r.when, centre=10.0, low=5.0, high=30.0, record=100.0) for r in rows]
    fig = timeseries_figure(rows, baseline)
    hi = fig.axes[0].get_ylim()[1]
    assert 100.0 <= hi <= 100.0 * 1.25, hi


def test_a_cut_whisker_ends_in_an_arrow_at_the_top_edge() -> None:
    rows = _series()
    fig = timeseries_figure(rows)
    ax = fig.axes[0]
    top = ax.get_ylim()[1]
    (arrows,) = _arrows(ax)
    assert arrows.get_marker() == "^"
    assert np.asarray(arrows.get_ydata(), dtype=float).tolist() == [top]
    (x,) = np.asarray(arrows.get_xdata(), dtype=float).tolist()
    assert mdates.num2date(x) == rows[40].when  # the image whose whisker is cut
    legend = ax.get_legend()
    assert legend is not None
    assert CLIPPED_LABEL in [t.get_text() for t in legend.get_texts()]
    assert [r.scene_id for r in beyond_axis(rows)] == [40]
    # ordinary intervals (up to a fifth above their count) are drawn whole: no arrow
    quiet = rows[:40]
    assert _arrows(timeseries_figure(quiet).axes[0]) == []
    assert beyond_axis(quiet) == [] and beyond_axis_words(quiet) is None


def test_the_title_stays_clear_of_a_wide_legend() -> None:
    """A legend grown wide (the cut interval's own entry among 14 on the demo) covered
    "Railcars at tumangang"; the title stands above it instead. (Passes on the code
    before the arrows, whose legend was narrower; fails with them and without
    ``charts._title_clear``.)"""
    rows = _series()
    rows += [_scene(50 + k, 12.0, method="length") for k in range(3)]
    rows.append(dataclasses.replace(_scene(60, 9.0), by_class={"tank": 3.0, "boxcar": 2.0}))
    rows.append(SceneRow(70, T0 + timedelta(days=700), "sim", 0.5, usable=False))
    baseline = [BaselinePoint(r.when, 10.0, 5.0, 15.0, 20.0) for r in rows]
    fig = timeseries_figure(rows, baseline, title="Railcars at tumangang")
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    legend = ax.get_legend()
    heading = chart_heading(ax)
    assert legend is not None and heading is not None
    assert heading.get_text() == "Railcars at tumangang"
    assert not heading.get_window_extent(renderer).overlaps(legend.get_window_extent(renderer))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    tmp: Path = tmp_path_factory.mktemp("s32b")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    data = build_report_data(Database(url), "testyard")
    last = max(s.when for s in data.scenes)
    wide = dataclasses.replace(
        data.scenes[0], scene_id=9000, when=last + timedelta(days=1), high=HUGE, low=1.0
    )
    assert wide.counts_cars
    return dataclasses.replace(data, scenes=(*data.scenes, wide))


def test_the_captions_say_which_intervals_are_cut(report: ReportData) -> None:
    words = beyond_axis_words(report.scenes, report.baseline)
    assert words is not None
    assert "1 interval reaches above it" in words and "1000" in words
    assert words in render_html(report)
    fig = pdf_mod._first_page(report)
    caption = " ".join(t.get_text().replace("\n", " ") for t in fig.texts)
    assert "1 interval reaches above it" in caption and "the highest to 1000" in caption


def test_the_pdf_chart_stands_clear_of_a_longer_caption(report: ReportData) -> None:
    """The caption's extra line (the cut intervals) ran over the time axis's labels.
    (Passes on the code before that line; fails with it and without the chart raised
    above it.)"""
    fig = pdf_mod._first_page(report)
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    caption = next(t for t in fig.texts if t.get_text().startswith("Bars:"))
    ticks = [t for t in ax.get_xticklabels() if t.get_text()]
    assert ticks
    top = caption.get_window_extent(renderer).y1
    assert all(t.get_window_extent(renderer).y0 > top for t in ticks)
