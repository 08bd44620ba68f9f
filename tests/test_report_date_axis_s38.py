"""The chart's time axis names whole dates when its ticks are days apart (session 38).

The report of the rise at Tumangang, ``--since 2023-09-01 --until 2023-10-31``, labelled
its time axis "08 15 22 Oct 08 15 22" over "2023-Oct" (matplotlib's concise dates: the
month and year of the last tick beside the axis): its September days had no month,
and the summit of 13 September stood between "08" and "15" under "2023-Oct".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from matplotlib.figure import Figure

from railwatch.report.charts import timeseries_figure
from railwatch.report.model import EventRow, SceneRow

NINE = timedelta(hours=9)


def _row(i: int, day: date, count: float) -> SceneRow:
    when = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)
    return SceneRow(
        i, when, "SkySat", 0.5, True, 1.0, 1.0, count, count, count, {}, 0, "objects",
        utc_offset=NINE,
    )  # fmt: skip


def _labels(fig: Figure) -> tuple[list[str], str]:
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    return ticks, ax.xaxis.get_offset_text().get_text()


def test_ticks_days_apart_are_whole_dates_and_name_every_month() -> None:
    days = [date(2023, 9, 9), date(2023, 9, 18), date(2023, 9, 20), date(2023, 10, 5)]
    days += [date(2023, 10, 23), date(2023, 10, 24)]
    rows = [_row(i, d, 10.0 + 10 * i) for i, d in enumerate(days)]
    events = [EventRow(date(2023, 9, 13), "Kim-Putin summit")]
    ticks, offset = _labels(timeseries_figure(rows, events=events, utc_offset=NINE))
    shown = [date.fromisoformat(t) for t in ticks]  # every label a whole date
    assert offset == ""  # no month and year of the last tick beside the axis
    assert {d.month for d in shown} == {9, 10}
    assert shown == sorted(shown) and shown[0] <= date(2023, 9, 13) <= shown[-1]


def test_ticks_across_new_year_are_a_week_or_more_apart() -> None:
    days = [date(2023, 12, 21), date(2023, 12, 28), date(2024, 1, 19), date(2024, 1, 22)]
    rows = [_row(i, d, 130.0 + i) for i, d in enumerate(days)]
    ticks, offset = _labels(timeseries_figure(rows, utc_offset=NINE))
    shown = [date.fromisoformat(t) for t in ticks]
    assert offset == "" and {d.year for d in shown} == {2023, 2024}
    # whole dates are wide: ticks 4 days apart put 2023-12-29 against 2024-01-01
    assert all((b - a).days >= 7 for a, b in pairwise(shown))


def test_one_image_gets_dated_ticks() -> None:
    ticks, offset = _labels(timeseries_figure([_row(1, date(2023, 10, 5), 68.0)], utc_offset=NINE))
    shown = [date.fromisoformat(t) for t in ticks]
    assert offset == "" and len(shown) >= 3
    assert shown[0] <= date(2023, 10, 5) + timedelta(days=7)


def test_years_apart_keep_year_labels() -> None:
    rows = [_row(i, date(2018 + i, 6, 1), 10.0) for i in range(6)]
    ticks, _ = _labels(timeseries_figure(rows, utc_offset=NINE))
    assert ticks and all(t.isdigit() and len(t) == 4 for t in ticks)
