"""The count chart draws a baseline value known at one image only (session 28).

A site whose trailing record (or baseline band) was known at one image only, e.g. its
second counted image, listed "trailing record" in the chart's legend with nothing drawn:
a step line of one point has no length, a band of one point no area."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from matplotlib.collections import Collection
from matplotlib.lines import Line2D

from railwatch.report.charts import timeseries_figure
from railwatch.report.model import BaselinePoint, SceneRow

T0 = datetime(2024, 1, 5, 2, tzinfo=UTC)


def _row(k: int, day: int, total: float) -> SceneRow:
    return SceneRow(
        scene_id=k, when=T0 + timedelta(days=day), sensor="sim", gsd=0.5, usable=True,
        total=total, low=total - 2, high=total + 5, by_class={"railcar": total},
        method="objects",
    )  # fmt: skip


def _drawn(baseline: list[BaselinePoint]) -> tuple[Line2D, Collection | None]:
    """The chart's trailing-record line and baseline band, drawn at the figure's size."""
    rows = [_row(1, 0, 16.0), _row(2, 31, 31.0)]
    fig = timeseries_figure(rows, baseline)
    fig.canvas.draw()
    ax = fig.axes[0]
    (record,) = [ln for ln in ax.get_lines() if ln.get_label() == "trailing record"]
    bands = [c for c in ax.collections if c.get_label() == "baseline band"]
    return record, (bands[0] if bands else None)


def test_a_record_known_at_one_image_is_drawn() -> None:
    record, _ = _drawn([
        BaselinePoint(when=T0, centre=None, low=None, high=None, record=None),
        BaselinePoint(when=T0 + timedelta(days=31), centre=None, low=None, high=None,
                      record=16.0),
    ])  # fmt: skip
    fig = record.get_figure(root=True)
    assert fig is not None
    width = record.get_window_extent(fig.canvas.get_renderer()).width  # type: ignore[attr-defined]
    assert width >= 10.0  # pixels: a visible mark, not a point of no length
    assert set(np.asarray(record.get_ydata(), dtype=float)) == {16.0}
    # centred on the image's date
    xs = np.asarray(record.get_xdata(), dtype=float)
    day = float(np.mean([xs.min(), xs.max()]))
    from matplotlib.dates import date2num

    assert abs(day - float(date2num(T0 + timedelta(days=31)))) < 1e-6


def test_a_band_known_at_one_image_has_an_area() -> None:
    _, band = _drawn([
        BaselinePoint(when=T0 + timedelta(days=31), centre=12.0, low=8.0, high=16.0,
                      record=16.0),
    ])  # fmt: skip
    assert band is not None
    (path,) = band.get_paths()
    vertices = np.asarray(path.vertices, dtype=float)
    xs, ys = vertices[:, 0], vertices[:, 1]
    assert np.ptp(xs) > 0.0 and np.ptp(ys) == 8.0


def test_a_record_of_several_images_is_the_step_line_it_was() -> None:
    record, _ = _drawn([
        BaselinePoint(when=T0, centre=None, low=None, high=None, record=10.0),
        BaselinePoint(when=T0 + timedelta(days=31), centre=None, low=None, high=None,
                      record=16.0),
    ])  # fmt: skip
    from matplotlib.dates import date2num

    xs = np.asarray(record.get_xdata(), dtype=float)
    assert xs.min() == float(date2num(T0))
    assert xs.max() == float(date2num(T0 + timedelta(days=31)))
