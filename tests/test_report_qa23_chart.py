"""The count chart of a site watched for years stays legible: event labels short, thinned
and out of the layout, alert labels inside the axes and apart, the legend off the data,
car equivalents from 3 m images told apart from cars counted one by one."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from railwatch.report import fonts
from railwatch.report.charts import (
    EVENT_LABEL_CHARS,
    UNDRAWABLE_LABEL,
    StackedBars,
    timeseries_figure,
    to_svg,
)
from railwatch.report.model import AlertRow, EventRow, SceneRow

T0 = datetime(2015, 1, 1, 3, tzinfo=UTC)


def _rows(n: int = 400, step: float = 9.0) -> list[SceneRow]:
    """``n`` counted images over ten years, a fifth of them 3 m length counts."""
    rows = []
    for i in range(n):
        length = i % 5 == 4
        total = 10.0 + (i * 7) % 13
        rows.append(
            SceneRow(
                scene_id=i,
                when=T0 + timedelta(days=step * i),
                sensor="S",
                gsd=3.0 if length else 0.5,
                usable=True,
                total=total,
                low=total - 3,
                high=total + (12 if length else 3),
                by_class={} if length else {"tank": 3.0, "railcar": total - 3.0},
                method="length" if length else "objects",
            )
        )
    return rows


def _draw(fig: Figure) -> RendererAgg:
    """Draw ``fig`` (made on an Agg canvas by the chart code) and give its renderer."""
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    return canvas.get_renderer()


def _visible_event_texts(ax: Axes) -> list[Text]:
    return [t for t in ax.texts if t.get_rotation() == 90 and t.get_visible()]


def test_a_long_event_label_neither_shrinks_the_chart_nor_runs_over_it() -> None:
    """A 130-character label drawn down the chart was laid out by the HTML chart's
    constrained layout: the axes shrank to a strip a few pixels high."""
    rows = _rows(60)
    long = "The ministry announced a new freight corridor agreement covering coal, " * 2
    plain = timeseries_figure(rows)
    with_event = timeseries_figure(rows, events=[EventRow(date(2015, 6, 1), long)])
    h0 = plain.axes[0].get_window_extent(_draw(plain)).height
    h1 = with_event.axes[0].get_window_extent(_draw(with_event)).height
    assert h1 > 0.9 * h0
    (text,) = _visible_event_texts(with_event.axes[0])
    assert len(text.get_text().strip()) <= EVENT_LABEL_CHARS
    assert text.get_text().strip().endswith("…")


def test_event_labels_of_a_busy_decade_do_not_overlap_and_one_day_is_one_label() -> None:
    rows = _rows()
    first = date(2015, 1, 10)
    events = [EventRow(first + timedelta(days=20 * k), f"Event {k}") for k in range(150)]
    events.append(EventRow(events[3].when, "Second of that day"))
    fig = timeseries_figure(rows, events=events)
    renderer = _draw(fig)
    ax = fig.axes[0]
    shown = _visible_event_texts(ax)
    all_texts = [t for t in ax.texts if t.get_rotation() == 90]
    assert len(all_texts) == 150  # one label (and one line) per day
    assert any("Event 3; Second of that day" in t.get_text() for t in all_texts)
    assert 10 < len(shown) < 150  # thinned, not all dropped
    boxes = [t.get_window_extent(renderer) for t in shown]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)


def test_a_label_the_font_cannot_draw_is_named_not_drawn_as_boxes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Korean and Chinese labels were empty boxes on the chart, with a warning per
    character printed by `railwatch report`. Without the CJK font (the ``cjk`` extra;
    with it: tests/test_cjk_fonts_s36.py)."""
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    events = [
        EventRow(date(2015, 3, 1), "김정은-푸틴 정상회담"),
        EventRow(date(2016, 3, 1), "Визит"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = timeseries_figure(_rows(60), events=events)
        to_svg(fig)
    texts = [t.get_text().strip() for t in fig.axes[0].texts if t.get_rotation() == 90]
    assert texts == [UNDRAWABLE_LABEL, "Визит"]  # Cyrillic is in the font


def test_alert_labels_stay_inside_the_axes_and_apart() -> None:
    """Seven hundred alerts: the labels were lifted one over the other far above the
    chart. Those that cannot be placed are hidden (their circles stay)."""
    rows = _rows(700, 5.2)
    kinds = ("record", "spike", "shift", "drop")
    alerts = [
        AlertRow(
            f"a{k}",
            kinds[k % 4],
            ("low", "medium", "high")[k % 3],
            rows[k].when,
            "all",
            rows[k].total,
            "x",
            scene_id=rows[k].scene_id,
        )
        for k in range(700)
    ]
    fig = timeseries_figure(rows, alerts=alerts)
    renderer = _draw(fig)
    ax = fig.axes[0]
    top = ax.get_window_extent(renderer).y1
    notes = [t for t in ax.texts if t.get_text() in kinds]
    shown = [t for t in notes if t.get_visible()]
    assert 0 < len(shown) < len(notes)
    boxes = [t.get_window_extent(renderer) for t in shown]
    assert all(b.y1 <= top + 0.5 for b in boxes)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    circles = [ln for ln in ax.lines if ln.get_marker() == "o" and ln.get_markersize() == 15]
    assert len(circles) == len(alerts)


def test_the_most_severe_alert_keeps_its_label() -> None:
    rows = _rows(60)
    alerts = [
        AlertRow(f"a{k}", "spike", "low", rows[k].when, "all", rows[k].total, "x", scene_id=k)
        for k in range(20, 40)
    ]
    alerts.append(
        AlertRow("top", "record", "high", rows[30].when, "all", rows[30].total, "x", scene_id=30)
    )
    fig = timeseries_figure(rows, alerts=alerts)
    _draw(fig)
    record = [t for t in fig.axes[0].texts if "record" in t.get_text()]
    assert record and record[0].get_visible()


def test_the_legend_is_off_the_data() -> None:
    fig = timeseries_figure(_rows())
    renderer = _draw(fig)
    ax = fig.axes[0]
    drawn = ax.get_legend()
    assert drawn is not None
    legend = drawn.get_window_extent(renderer)
    assert legend.y0 >= ax.get_window_extent(renderer).y1 - 1


def test_car_equivalents_are_their_own_marks_not_bars() -> None:
    """A 3 m count (occupied track length) was a grey bar like the cars of unsure type."""
    rows = _rows(50)
    fig = timeseries_figure(rows)
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert "count (interval)" in labels
    assert any(lb.startswith("car equivalents") for lb in labels)
    # each class's bars one collection since session 49 (StackedBars: their numbers)
    n_bars = {c.get_label(): len(c.heights) for c in ax.containers if isinstance(c, StackedBars)}
    objects = sum(1 for r in rows if r.method == "objects")
    assert n_bars and all(n == objects for n in n_bars.values())


def test_pdf_lists_every_event_and_draws_no_empty_boxes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF had no list of events (only the chart's labels, now thinned), and a Korean
    label was empty boxes on its pages with a warning per character on the terminal.
    Without the CJK font (with it: tests/test_cjk_fonts_s36.py)."""
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    from railwatch.report import build_pdf_report
    from railwatch.report.builder import build_report_data
    from railwatch.report.pdf import _text_pages
    from railwatch.storage import Database, repo
    from report_db import populate

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    with db.session() as s:
        site = repo.get_site(s, "testyard")
        repo.add_event(s, site, date(2022, 6, 1), "김정은 visit")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_pdf_report(db, "testyard", tmp_path / "r.pdf")
    text = "\n".join(
        t.get_text() for fig in _text_pages(build_report_data(db, "testyard")) for t in fig.texts
    )
    assert "Events" in text
    assert "2022-06-01  ??? visit" in text
    assert "Summit" in text


def test_one_image_no_usable_image_and_no_image_give_sensible_axes() -> None:
    """One image was a bar as wide as the chart under a time axis in hours; without a
    usable image the y axis ran 0-0.05 with decimal ticks; without any image the time
    axis showed 1 January 1970."""
    import matplotlib.dates as mdates

    one = _rows(1)
    fig = timeseries_figure(one)
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert hi - lo >= 30
    bars = [c for c in ax.containers if isinstance(c, StackedBars)]
    assert bars and all(c.width < 0.1 * (hi - lo) for c in bars)

    cloudy = [
        SceneRow(i, T0 + timedelta(days=i), "S", 0.5, usable=False, reasons=("cloud",))
        for i in range(3)
    ]
    fig = timeseries_figure(cloudy)
    ax = fig.axes[0]
    assert ax.get_ylim() == (0.0, 5.0)
    assert any(t.get_text() == "no count of cars in this period" for t in ax.texts)

    fig = timeseries_figure([])
    ax = fig.axes[0]
    _draw(fig)
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels == [] and ax.xaxis.get_offset_text().get_text() == ""
    assert any(t.get_text() == "no image in this period" for t in ax.texts)
    assert mdates.num2date(ax.get_xlim()[0]).year == 1970  # matplotlib's default, unlabelled
