"""A chart whose decorations leave its axes no room prints no bare matplotlib warning
(session 28). Matplotlib's constrained layout warns "constrained_layout not applied
because axes sizes collapsed to zero" from the report's own draw calls (seen in the
middle of `railwatch report SITE --from 2024-07-01`'s output); the figure is drawn
all the same, so the report's drawing functions now keep that one warning quiet."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import pytest
from matplotlib.figure import Figure

from railwatch.report.charts import layout_quiet, timeseries_figure, to_jpeg, to_png, to_svg
from railwatch.report.model import AlertRow, SceneRow

T = datetime(2024, 7, 7, tzinfo=UTC)
#: Wider than the figure: constrained layout collapses the axes under it.
TITLE = "Railcars at " + "x" * 300


def _one_image_chart(title: str = TITLE) -> Figure:
    scene = SceneRow(
        scene_id=1, when=T, sensor="sim", gsd=0.5, usable=True, total=12.0, low=10.0,
        high=14.0, by_class={"tank": 6.0, "boxcar": 6.0}, method="objects",
    )  # fmt: skip
    alert = AlertRow(
        key="r", kind="record", severity="high", when=T, cls="all", value=12.0,
        explanation="12 railcars", scene_id=1,
    )  # fmt: skip
    return timeseries_figure([scene], alerts=[alert], title=title)


def test_a_collapsed_layout_is_drawn_without_a_warning(recwarn: pytest.WarningsRecorder) -> None:
    warnings.simplefilter("always")
    fig = _one_image_chart()
    svg = to_svg(fig)
    png = to_png(fig)
    jpeg = to_jpeg(fig)
    assert svg.startswith(b"<?xml") and png.startswith(b"\x89PNG") and jpeg[:2] == b"\xff\xd8"
    assert not [str(w.message) for w in recwarn.list]


def test_the_collapse_still_happens_without_the_guard() -> None:
    """The figure above does make matplotlib warn (so the test above tests something)."""
    fig = _one_image_chart()
    with pytest.warns(UserWarning, match="constrained_layout not applied"):
        fig.canvas.draw()


def test_other_warnings_still_show() -> None:
    with pytest.warns(UserWarning, match="something else"), layout_quiet():
        warnings.warn("something else", UserWarning, stacklevel=1)
