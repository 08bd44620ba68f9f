"""A period of the report's chart with alerts but no image and no event (session 32,
2026-12-05): the silence's triangle (or an alert's ring whose image is out of the
period) was drawn on an axis without a date tick, as the axis range and its ticks were
taken from the images and events only. The alerts' marks now count in the time axis
(at least a month around them), which has its local-day ticks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import matplotlib.dates as mdates
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from railwatch.report.charts import MIN_SPAN_DAYS, timeseries_figure
from railwatch.report.model import AlertRow


def _silence(offset: timedelta) -> AlertRow:
    # local midnight of 2024-03-01 at the site, as a UTC instant (since session 32)
    when = datetime(2024, 3, 1, tzinfo=UTC) - offset
    return AlertRow(
        key="q", kind="quality", severity="info", when=when, cls="all", value=None,
        explanation="No usable image of this site for 54 days", scene_id=None,
        utc_offset=offset,
    )  # fmt: skip


def _tick_labels(fig: Figure) -> list[str]:
    FigureCanvasAgg(fig).draw()
    return [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]


def _marks_x(fig: Figure, marker: str) -> list[float]:
    return [
        float(x)
        for line in fig.axes[0].get_lines()
        if line.get_marker() == marker
        for x in np.asarray(line.get_xdata(), dtype=float)
    ]


@pytest.mark.parametrize("hours", [0, 12, -5])
def test_a_period_with_only_a_silence_has_date_ticks_around_its_triangle(hours: int) -> None:
    offset = timedelta(hours=hours)
    fig = timeseries_figure([], alerts=[_silence(offset)], utc_offset=offset)
    ax = fig.axes[0]
    assert _tick_labels(fig), "no date tick under the silence"
    (x,) = _marks_x(fig, "v")
    lo, hi = ax.get_xlim()
    assert lo < x < hi
    assert hi - lo >= MIN_SPAN_DAYS - 1e-6  # a month around it, not hours
    # the triangle stands on its local day (noon there), between that day's ticks
    day = mdates.date2num(datetime(2024, 3, 1, tzinfo=UTC) - offset)
    assert day < x < day + 1.0


def test_a_period_with_only_an_alert_whose_image_is_out_of_it_has_date_ticks() -> None:
    when = datetime(2024, 3, 1, 1, 30, tzinfo=UTC)
    alert = AlertRow(
        key="r", kind="record", severity="high", when=when, cls="all", value=40.0,
        explanation="x", scene_id=7,
    )  # fmt: skip
    fig = timeseries_figure([], alerts=[alert])
    ax = fig.axes[0]
    assert _tick_labels(fig), "no date tick under the alert"
    (x,) = _marks_x(fig, "o")
    lo, hi = ax.get_xlim()
    assert lo < x < hi
    assert x == pytest.approx(mdates.date2num(when))


def test_a_period_with_nothing_keeps_its_bare_axis() -> None:
    """No image, event or alert: still no axis of 1 January 1970."""
    fig = timeseries_figure([])
    assert _tick_labels(fig) == []
