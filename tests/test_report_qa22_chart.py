"""The chart's alert labels can be read: one label per image, none over another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from railwatch.report.charts import timeseries_figure
from railwatch.report.model import AlertRow, SceneRow

T0 = datetime(2018, 1, 1, tzinfo=UTC)


def _row(i: int, day: int, total: float) -> SceneRow:
    return SceneRow(
        scene_id=i,
        when=T0 + timedelta(days=day),
        sensor="S",
        gsd=0.5,
        usable=True,
        total=total,
        low=total - 2,
        high=total + 2,
    )


def test_alerts_of_one_image_share_one_label_and_neighbours_do_not_overlap() -> None:
    """The demo's rise: a record every few days, a record and a shift on one image.
    The two labels of one image were drawn over each other ('secord') and the labels of
    neighbouring images over one another."""
    rows = [_row(i, 10 * i, 8.0) for i in range(150)]  # four years of a quiet yard
    rise = [(1500, 30.0), (1505, 40.0), (1515, 68.0), (1533, 92.0), (1550, 111.0)]
    rows += [_row(200 + k, day, n) for k, (day, n) in enumerate(rise)]
    alerts = [
        AlertRow(
            f"r{k}", "record", "high", T0 + timedelta(days=day), "all", n, "x", scene_id=200 + k
        )
        for k, (day, n) in enumerate(rise)
    ]
    alerts.append(AlertRow("s1", "shift", "high", alerts[1].when, "all", 40.0, "x", scene_id=201))
    alerts.append(AlertRow("i1", "spike", "info", alerts[2].when, "all", 68.0, "x", scene_id=202))
    fig = timeseries_figure(rows, alerts=alerts)
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text() in ("record", "record + shift", "shift")]
    assert sorted(t.get_text() for t in labels) == ["record"] * 4 + ["record + shift"]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    fig.canvas.draw()
    boxes = [t.get_window_extent(renderer) for t in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    # one circle per image: the record and the shift of scene 201 are one mark
    circles = [ln for ln in ax.lines if ln.get_marker() == "o" and ln.get_markersize() == 15]
    assert len(circles) == len(rise)
