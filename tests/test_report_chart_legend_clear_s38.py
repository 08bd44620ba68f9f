"""The chart's legend stays clear of the marks on the axes' top edge (session 38).

A silence still going on is the newest thing on a site's chart: its triangle stands on
the top edge at the right, under the legend (above the axes, right). The report of a
site with one image, 2023-10-05, and a silence raised on 2023-11-19 drew the triangle
over the legend's "count (interval)"; a cut interval's open arrow stands there too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from railwatch.report.charts import timeseries_figure
from railwatch.report.model import AlertRow, SceneRow

NINE = timedelta(hours=9)
T0 = datetime(2023, 10, 5, 2, 5, tzinfo=UTC)


def _overlaps(fig: Figure, marker: str) -> list[str]:
    """The labels of the top-edge marks (``marker``) that overlap the legend."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None
    box = legend.get_window_extent(renderer)
    marks = [
        line for line in ax.get_lines() if isinstance(line, Line2D) and line.get_marker() == marker
    ]
    assert marks, f"no {marker!r} mark drawn"
    return [
        str(line.get_label()) for line in marks if line.get_window_extent(renderer).overlaps(box)
    ]


def test_a_silence_at_the_right_end_is_clear_of_the_legend() -> None:
    one = SceneRow(
        1, T0, "SkySat", 0.5, True, 1.0, 1.0, 68.0, 61.0, 124.0, {"railcar": 68.0}, 40,
        "objects", utc_offset=NINE,
    )  # fmt: skip
    silence = AlertRow(
        key="q", kind="quality", severity="medium", when=T0 + timedelta(days=45), cls="all",
        value=None, explanation="No usable image of this site since 2023-10-05", scene_id=None,
        utc_offset=NINE,
    )  # fmt: skip
    fig = timeseries_figure([one], alerts=[silence], title="Railcars at one", utc_offset=NINE)
    assert _overlaps(fig, "v") == []


def test_cut_intervals_at_the_right_end_are_clear_of_the_legend() -> None:
    rows = [
        SceneRow(
            i, T0 + timedelta(days=30 * i), "SkySat", 0.5, True, 1.0, 1.0, 20.0 + i,
            10.0, 20.0 + i + (400.0 if i > 6 else 5.0), {"railcar": 20.0 + i}, 0, "objects",
            utc_offset=NINE,
        )
        for i in range(10)
    ]  # fmt: skip
    fig = timeseries_figure(rows, title="Railcars at cut", utc_offset=NINE)
    assert _overlaps(fig, "^") == []
