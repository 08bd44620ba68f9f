"""The count chart read as an analyst reads it (session 32, 2026-12-05).

- Every alert label stands nearer its own circle than any other alert's circle, and
  covers no circle: on the demo's rise the label of 2023-10-23 covered the circle of
  2023-11-25, and a label moved up read as the next image's.
- A label that had to be moved up away from its circle is joined to it by a line.
- The time axis's ticks are the site's local midnights (they were UTC midnights: at a
  site 12 hours east of Greenwich an image of the 5th local day stood left of "05").
- The legend names the triangle of a silence (no usable image for long), and the
  length counts' resolutions as the counter uses them (1.5-10 m, not 1.5-5 m).
- The y axis of counts starts at 0.
- On the PDF's first page a legend of three rows stays clear of the facts above it.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import matplotlib.dates as mdates
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Annotation

from railwatch.detect.coarse import LENGTH_GSD, PRESENCE_GSD
from railwatch.report import build_report_data
from railwatch.report import pdf as pdf_mod
from railwatch.report.charts import SILENCE_LABEL, timeseries_figure
from railwatch.report.model import AlertRow, SceneRow
from railwatch.storage import Database
from report_db import populate

T0 = datetime(2023, 6, 1, 1, 0, tzinfo=UTC)


def _scene(i: int, when: datetime, total: float, method: str = "objects") -> SceneRow:
    return SceneRow(
        scene_id=i, when=when, sensor="sim", gsd=0.5 if method == "objects" else 3.0,
        usable=True, total=total, low=total * 0.9, high=total * 1.6, by_class={},
        method=method,
    )  # fmt: skip


def _alert(i: int, when: datetime, value: float, kind: str = "record") -> AlertRow:
    return AlertRow(
        key=f"a{i}", kind=kind, severity="high", when=when, cls="all", value=value,
        explanation="x", scene_id=i,
    )  # fmt: skip


def _demo_like_rise() -> tuple[list[SceneRow], list[AlertRow]]:
    """The demo's rise: five years near 10, then records a few days apart, a 3 m record
    between two fine ones, then the yard fills (the figures of the demo's alerts)."""
    scenes = [_scene(i + 1, T0 - timedelta(days=10 * (150 - i)), 10.0) for i in range(150)]
    rise = [
        (datetime(2023, 9, 20, 1, 28, tzinfo=UTC), 30.0, "objects", "record"),
        (datetime(2023, 9, 25, 1, 33, tzinfo=UTC), 40.0, "objects", "shift"),
        (datetime(2023, 10, 5, 1, 5, tzinfo=UTC), 68.0, "objects", "record"),
        (datetime(2023, 10, 23, 1, 20, tzinfo=UTC), 92.0, "objects", "record"),
        (datetime(2023, 11, 10, 2, 20, tzinfo=UTC), 65.46, "length", "record"),
        (datetime(2023, 11, 25, 1, 3, tzinfo=UTC), 111.0, "objects", "shift"),
        (datetime(2024, 2, 25, 1, 54, tzinfo=UTC), 161.04, "length", "record"),
    ]
    alerts = []
    for j, (when, total, method, kind) in enumerate(rise):
        i = 1000 + j
        scenes.append(_scene(i, when, total, method))
        alerts.append(_alert(i, when, total, kind))
    for k in range(12):  # the yard keeps filling, no alert
        when = datetime(2024, 3, 1, 1, 0, tzinfo=UTC) + timedelta(days=10 * k)
        scenes.append(_scene(2000 + k, when, 165.0 + 6.0 * k))
    return scenes, alerts


def _labels(fig: Figure) -> tuple[Axes, list[Annotation]]:
    ax = fig.axes[0]
    notes = [
        n for n in ax.get_children()
        if isinstance(n, Annotation) and n.get_text() and n.get_visible()
    ]  # fmt: skip
    return ax, notes


def test_each_alert_label_is_nearest_its_own_circle_and_covers_none() -> None:
    scenes, alerts = _demo_like_rise()
    fig = timeseries_figure(scenes, alerts=alerts)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax, notes = _labels(fig)
    assert len(notes) == len(alerts)  # every label fits on this chart
    radius = 7.5 * fig.dpi / 72.0  # the alert circle: 15 points across
    centres = [ax.transData.transform(n.xy) for n in notes]
    for j, note in enumerate(notes):
        box = note.get_window_extent(renderer)

        def distance(p: np.ndarray, box: object = box) -> float:
            dx = max(box.x0 - p[0], 0.0, p[0] - box.x1)  # type: ignore[attr-defined]
            dy = max(box.y0 - p[1], 0.0, p[1] - box.y1)  # type: ignore[attr-defined]
            return float(np.hypot(dx, dy))

        own = distance(centres[j])
        others = [distance(c) for k, c in enumerate(centres) if k != j]
        assert own < min(others), (note.get_text(), note.xy)
        assert min(others) >= radius, f"label of {note.xy} covers another alert's circle"


def test_a_label_moved_up_is_joined_to_its_circle() -> None:
    """Five alerts on five images a day apart at the same count: the labels cannot all
    stand beside their circles, so some are moved up, each with a line to its circle."""
    scenes = [_scene(i + 1, T0 - timedelta(days=10 * (60 - i)), 10.0) for i in range(60)]
    alerts = []
    for k in range(5):
        when = T0 + timedelta(days=k)
        scenes.append(_scene(100 + k, when, 50.0))
        alerts.append(_alert(100 + k, when, 50.0))
    fig = timeseries_figure(scenes, alerts=alerts)
    fig.canvas.draw()
    ax, notes = _labels(fig)
    leaders = [
        n for n in ax.get_children()
        if isinstance(n, Annotation) and not n.get_text() and n.arrow_patch is not None
    ]  # fmt: skip
    moved = [n for n in notes if abs(n.xyann[1]) > 8.0 + 1e-6]
    assert moved, "expected at least one label moved up on this chart"
    for note in moved:
        assert any(
            line.xy == note.xy and tuple(line.xyann) == tuple(note.xyann) for line in leaders
        ), f"label of {note.xy} moved up without a line to its circle"


def test_the_time_axis_ticks_are_the_sites_local_midnights() -> None:
    """Images at 10:00 local time on 1-20 March 2024, 12 hours east of Greenwich (22:00
    UTC the day before): each tick stands at a local midnight and each image after the
    tick of its own local day, within a day of it."""
    offset = timedelta(hours=12)
    local_days = [date(2024, 3, 1) + timedelta(days=d) for d in range(20)]
    scenes = [
        _scene(i + 1, datetime(d.year, d.month, d.day, 10, tzinfo=UTC) - offset, 20.0)
        for i, d in enumerate(local_days)
    ]
    fig = timeseries_figure(scenes, utc_offset=offset)
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks
    for tick in ticks:
        when = mdates.num2date(tick) + offset  # the tick as a local clock time
        assert (when.hour, when.minute) == (0, 0), when
    labels = {
        t.get_text(): t.get_position()[0] for t in ax.get_xticklabels() if t.get_text()
    }  # fmt: skip
    by_day = {d.day: s for s, d in zip(scenes, local_days, strict=True)}

    def day_of(text: str) -> int | None:  # "2024-03-05" since session 38 ("05" before)
        try:
            return date.fromisoformat(text).day
        except ValueError:
            return None

    shown = [(n, v) for k, v in labels.items() if (n := day_of(k)) is not None and n in by_day]
    assert shown
    for day_number, x in shown:
        image = by_day[day_number]
        image_x = float(mdates.date2num(image.when))
        assert 0.0 < image_x - x < 1.0, (day_number, image.when)


def test_the_legend_names_the_silence_and_the_length_counts_resolutions() -> None:
    scenes = [_scene(i + 1, T0 + timedelta(days=10 * i), 10.0) for i in range(10)]
    scenes.append(_scene(50, T0 + timedelta(days=200), 12.0, method="length"))
    silence = AlertRow(
        key="q", kind="quality", severity="info", when=T0 + timedelta(days=150), cls="all",
        value=None, explanation="No usable image of this site for 54 days", scene_id=None,
    )  # fmt: skip
    fig = timeseries_figure(scenes, alerts=[silence])
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert SILENCE_LABEL in texts
    assert "info alert" not in texts  # no ring was drawn: the triangle is not called one
    span = f"{LENGTH_GSD:g}\u2013{PRESENCE_GSD:g} m"
    assert any(span in t for t in texts if t.startswith("car equivalents")), texts
    assert ax.get_ylim()[0] == 0.0


def test_the_pdf_first_page_keeps_a_three_row_legend_clear_of_the_facts(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """With every kind of mark (13 legend entries, three rows) and the demo's four-line
    headline, the chart's legend on the PDF's first page touched the last row of facts
    ("173 usable of 223": 0.6 points apart)."""
    tmp = tmp_path_factory.mktemp("s32pdf")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    data = build_report_data(Database(url), "testyard")
    first = min(s.when for s in data.scenes)
    extra = [
        _scene(9000 + k, first + timedelta(days=3 + 11 * k), 12.0, method="length")
        for k in range(2)
    ]
    typed = dataclasses.replace(
        _scene(9100, first + timedelta(days=20), 9.0),
        by_class={"gondola": 2.0, "hopper": 3.0, "flat": 4.0},
    )
    extra.append(typed)
    silence = AlertRow(
        key="q", kind="quality", severity="info", when=first + timedelta(days=40), cls="all",
        value=None, explanation="No usable image of this site for 54 days", scene_id=None,
    )  # fmt: skip
    summary = (  # the demo's headline: four lines on the page
        "219 railcars at tumangang on 2024-07-28 (latest usable image; interval 185–367). "
        "Most significant recent alert (record, high, 2024-02-25): 161 railcars (interval "
        "93.4–312.4) on 2024-02-25, against a 5-year record of 65.5 set on 2023-11-10: 2.5× "
        "the record, the first time above it in 5 years (history: 5.1 years, 22 usable "
        "images). Judged against the 22 earlier counts of the same kind (car equivalents "
        "from occupied track length in 1.5–10 m imagery) only; 137 earlier counts made "
        "another way were not compared."
    )
    data = dataclasses.replace(
        data,
        scenes=(*data.scenes, *extra),
        alerts=(*data.alerts, silence),
        headline=dataclasses.replace(data.headline, summary=summary),
    )
    fig = pdf_mod._first_page(data)
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    legend = fig.axes[0].get_legend()
    assert legend is not None
    assert len(legend.get_texts()) >= 13
    box = legend.get_window_extent(renderer)
    facts = [
        t for t in fig.texts
        if t.get_fontweight() == "bold" and t.get_fontsize() == 10 and t.get_text()
    ]  # fmt: skip
    assert facts
    gap = 2.0 * fig.dpi / 72.0  # two points: the legend's top row did touch them
    for text in facts:
        fact = text.get_window_extent(renderer)
        assert fact.y0 - box.y1 >= gap or fact.y1 < box.y0, (text.get_text(), fact, box)
