"""The count time-series chart.

Matplotlib is used through :class:`matplotlib.figure.Figure` with its own Agg
canvas, never through pyplot, so importing or calling this module changes no
global state (no backend switch, no rcParams edits outside a ``rc_context``).
"""

from __future__ import annotations

import functools
import io
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, cast

import matplotlib
import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.container import Container
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerLine2D, HandlerPatch
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator, NullLocator
from matplotlib.transforms import Bbox

from railwatch.analysis.types import whole_car_bounds
from railwatch.limits import EARLIEST_YEAR
from railwatch.report import fonts
from railwatch.report.format import fmt_num
from railwatch.report.model import SEVERITY_RANK, AlertRow, BaselinePoint, EventRow, SceneRow
from railwatch.report.style import (
    ALERT_COLOUR,
    ANALYST_COLOUR,
    BASELINE_COLOUR,
    EVENT_COLOUR,
    INFO_ALERT_COLOUR,
    LENGTH_COLOUR,
    RECORD_COLOUR,
    UNUSABLE_COLOUR,
    bar_colour,
    class_order,
    length_range,
)

UNCLASSIFIED = "unclassified"
#: Legend entry of an alert that is no image's (a silence: no count for long, no usable
#: image or, at a site with 10 m images, none able to count cars), drawn as a triangle on
#: the chart's top edge at its day. It said "no usable image for long" until 2026-12-07
#: (session 48), also beside the usable 10 m image of a silence of counts.
SILENCE_LABEL = "no count for long"
#: The room (display pixels) the legend above the chart leaves at the figure's left edge.
LEGEND_EDGE_PX = 4.0
#: Unusable images are marked this far under the time axis (axes fraction) ...
UNUSABLE_Y = -0.018
#: ... as short ticks instead of crosses when there are more than this many.
UNUSABLE_DENSE = 150
#: The y axis reaches at least this many cars; the time axis spans at least this many days.
MIN_Y_TOP = 5.0
MIN_SPAN_DAYS = 30.0
#: Room above the highest count, baseline or trailing record (a fraction of it) for the
#: alert circles and their labels ...
Y_HEADROOM = 0.1
#: ... and the most the intervals' whiskers may raise the axis above it (a fraction): an
#: ordinary interval (a count of 20 up to 24) is drawn whole, the widest are cut.
Y_WHISKER_ROOM = 0.25
#: Legend entry of the open arrow on the top edge where a count's interval goes on above
#: the y axis (:func:`y_top`); the interval is given in full in the per-image table.
CLIPPED_LABEL = "interval goes on above the axis"
_RC: dict[str, Any] = {"svg.hashsalt": "railwatch", "svg.fonttype": "path", "pdf.fonttype": 42}
#: Text drawn as written: matplotlib reads a string with two ``$`` as mathtext, so an
#: event label, note or sensor name such as "fine of $2bn, then $5bn" was drawn garbled
#: (italics, spaces lost) and "$x_$" stopped the whole report with a parse error.
PLAIN_TEXT: dict[str, Any] = {"text.parse_math": False}


def plain_text() -> AbstractContextManager[None]:
    """A context in which the text artists created are drawn as written (no mathtext);
    it holds :func:`railwatch.report.fonts.drawing` (matplotlib's settings are the
    process's: another thread's drawing waits)."""
    return fonts.drawing(PLAIN_TEXT)


#: The warning matplotlib's constrained layout gives when the decorations (title, legend,
#: tick labels) leave the axes no room: the figure is then drawn without that layout
#: pass, which is all there is to do; the bare ``UserWarning`` it printed in the middle
#: of ``railwatch report`` said nothing a user could act on.
LAYOUT_COLLAPSED = r"constrained_layout not applied"


@contextmanager
def layout_quiet() -> Iterator[None]:
    """A context in which drawing a figure gives no :data:`LAYOUT_COLLAPSED` warning
    (that warning only: every other one still shows)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=LAYOUT_COLLAPSED, category=UserWarning)
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure attached to its own Agg canvas (no pyplot, no global backend)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_svg(fig: Figure) -> bytes:
    """The figure as a deterministic SVG document (text as paths: no fonts needed)."""
    buf = io.BytesIO()
    with fonts.drawing(_RC), layout_quiet():
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def to_png(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    with fonts.drawing(), layout_quiet():
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def to_jpeg(fig: Figure, dpi: int = 110, quality: int = 85) -> bytes:
    """The figure as JPEG bytes (image chips: several times smaller than PNG)."""
    from PIL import Image

    canvas = fig.canvas
    with fonts.drawing(), layout_quiet():
        fig.set_dpi(dpi)
        canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())  # type: ignore[attr-defined]
    buf = io.BytesIO()
    Image.fromarray(rgba[:, :, :3]).save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def _as_datetime(day: date) -> datetime:
    if isinstance(day, datetime):
        return day if day.tzinfo else day.replace(tzinfo=UTC)
    return datetime.combine(day, time(12), tzinfo=UTC)


def on_chart(when: date) -> bool:
    """Whether the chart draws something dated ``when``: not before
    :data:`~railwatch.limits.EARLIEST_YEAR`. Such dates are refused at input as a
    mistyped year, but older databases may hold one; matplotlib cannot place year 23,
    and an axis stretched over centuries would hide the real series."""
    return when.year >= EARLIEST_YEAR


def _x(whens: Sequence[datetime | date]) -> np.ndarray:
    """Matplotlib date numbers (days) for datetimes (UTC) or dates."""
    return np.asarray(mdates.date2num([_as_datetime(w) for w in whens]), dtype=float)


def _drawn_counts(scenes: Sequence[SceneRow]) -> list[SceneRow]:
    """The images the chart draws a count of (with its interval): counted, on the chart."""
    return [s for s in scenes if s.counts_cars and on_chart(s.when)]


def y_top(scenes: Sequence[SceneRow], baseline: Sequence[BaselinePoint] = ()) -> float:
    """The top of the count chart's y axis (which starts at 0): the highest count, the
    detector's count an analyst replaced, the baseline's centre and the trailing record
    drawn, with :data:`Y_HEADROOM` above, and at least :data:`MIN_Y_TOP`. The intervals'
    whiskers and the baseline band's top raise it by :data:`Y_WHISKER_ROOM` of that
    highest value at most: whiskers that reach higher are cut at the top edge and marked
    there (:func:`beyond_axis`), the band is cut at the edge.

    Until 2026-12-05 matplotlib scaled the axis to the whiskers: on the demo the 2024
    intervals reached 395 while the counts were at most 231 and under 20 for five years,
    which were drawn in the bottom twentieth of the axis."""
    values = [0.0]
    whiskers = [0.0]
    for s in _drawn_counts(scenes):
        values.append(float(s.total or 0.0))
        whiskers.append(float(s.high if s.high is not None else s.total or 0.0))
        if s.reviewed and s.detector_total is not None:
            values.append(float(s.detector_total))
    for b in baseline:
        if on_chart(b.when):
            values += [float(v) for v in (b.centre, b.record) if v is not None]
            if b.low is not None and b.high is not None:
                # the band raises the axis as a whisker does, within Y_WHISKER_ROOM: since
                # the band is the analysis's (session 45) it takes in the series' noise,
                # and on the demo its top, 700 after the rise, put the axis at 770 over
                # counts of at most 230 (session 46)
                whiskers.append(float(b.high))
    highest = max(values)
    top = max(highest * (1.0 + Y_HEADROOM), min(max(whiskers), highest * (1 + Y_WHISKER_ROOM)))
    return max(top, MIN_Y_TOP)


def beyond_axis(
    scenes: Sequence[SceneRow], baseline: Sequence[BaselinePoint] = ()
) -> list[SceneRow]:
    """The images whose interval reaches above the chart's y axis (:func:`y_top`), in
    time order: their whiskers are cut at the top edge with an open arrow."""
    top = y_top(scenes, baseline)
    rows = [s for s in _drawn_counts(scenes) if s.high is not None and float(s.high) > top]
    return sorted(rows, key=lambda s: s.when)


def beyond_axis_words(
    scenes: Sequence[SceneRow], baseline: Sequence[BaselinePoint] = ()
) -> str | None:
    """The chart caption's words for the intervals cut at its top edge; None when none is."""
    rows = beyond_axis(scenes, baseline)
    if not rows:
        return None
    highest = max(rows, key=lambda s: float(s.high or 0.0))
    top = float(highest.high or 0.0)
    if highest.total is not None and highest.low is not None:  # as the table gives it
        top = whole_car_bounds(float(highest.total), float(highest.low), top, highest.method)[1]
    n = len(rows)
    return (
        "The y axis is scaled to the counts, baseline and record, not to the intervals: "
        f"{n} interval{'s' if n != 1 else ''} reach{'es' if n == 1 else ''} above it, "
        f"{'its whisker' if n == 1 else 'their whiskers'} cut at the top edge with an open "
        f"arrow (the highest to {fmt_num(top)}, {highest.day}; every "
        "interval is in the per-image table)."
    )


#: An event more than this many days before the chart's first image or after its last
#: (and as far outside the report's period) is left off the time axis and named under the
#: chart (:func:`events_on_axis`, :func:`events_off_axis_words`), as the dashboard's chart
#: does (web/static/js/chart.js, session 38). Until 2026-12-06 (session 39) every event
#: of the period stretched the axis: a site with one image drew an event a year later,
#: its one bar a sliver at the axis's left edge.
EVENT_AXIS_DAYS = 60
#: At most this many events off the time axis are named in the chart's caption.
EVENTS_OFF_NAMED = 5


def _axis_days(
    scenes: Sequence[SceneRow], period: tuple[date | None, date | None]
) -> tuple[date, date] | None:
    """The first and last (local) day of the chart's images and of the report's period
    (None: open); None when it has neither."""
    days = [s.day for s in scenes if on_chart(s.when)]
    days += [d for d in period if d is not None and on_chart(d)]
    return (min(days), max(days)) if days else None


def events_on_axis(
    scenes: Sequence[SceneRow],
    events: Sequence[EventRow],
    period: tuple[date | None, date | None] = (None, None),
) -> tuple[list[EventRow], list[EventRow]]:
    """The events the chart draws on its time axis, and those it leaves off: more than
    :data:`EVENT_AXIS_DAYS` days from its images and from the report's ``period`` (local
    days; None: open); without an image or a period bound every event is drawn."""
    events = [e for e in events if on_chart(e.when)]
    span = _axis_days(scenes, period)
    if span is None:
        return events, []
    lo, hi = span[0] - timedelta(days=EVENT_AXIS_DAYS), span[1] + timedelta(days=EVENT_AXIS_DAYS)
    return [e for e in events if lo <= e.when <= hi], [e for e in events if not lo <= e.when <= hi]


def events_off_axis_words(
    scenes: Sequence[SceneRow],
    events: Sequence[EventRow],
    period: tuple[date | None, date | None] = (None, None),
    listed: str = "below",
) -> str | None:
    """The chart caption's line naming the events left off its time axis
    (:func:`events_on_axis`), with whether each lies before or after the images shown;
    None when none is. ``listed``: where every event is listed (named when more than
    :data:`EVENTS_OFF_NAMED` are off the axis)."""
    _on, off = events_on_axis(scenes, events, period)
    span = _axis_days(scenes, period)
    if not off or span is None:
        return None
    off = sorted(off, key=lambda e: e.when)
    named = [
        f"{e.when.isoformat()} {event_label([e.label])} "
        f"({'before' if e.when < span[0] else 'after'} the images shown)"
        for e in off[:EVENTS_OFF_NAMED]
    ]
    more = len(off) - len(named)
    return (
        f"Events off the chart's time span (more than {EVENT_AXIS_DAYS} days from its images "
        "and period): "
        + "; ".join(named)
        + (f"; and {more} more (every event is listed {listed})" if more else "")
        + "."
    )


def _alert_marks(
    alerts: Sequence[AlertRow], counted: Sequence[SceneRow], utc_offset: timedelta
) -> dict[tuple[float, float | None], list[AlertRow]]:
    """The site total's alerts grouped by the mark the chart draws for them: its time
    (matplotlib days) and height (None: a silence, a triangle on the top edge)."""
    by_scene = {s.scene_id: s for s in counted}
    marks: dict[tuple[float, float | None], list[AlertRow]] = {}
    for alert in (a for a in alerts if a.cls == "all" and on_chart(a.when)):
        row = by_scene.get(alert.scene_id) if alert.scene_id is not None else None
        y = row.total if row is not None else alert.value
        # a silence's (quality) when is its day's local midnight, no image's time: drawn
        # at noon of that day at the site, as an event (until 2026-12-05 its midnight as UTC)
        when = _as_datetime(alert.day) - utc_offset if alert.kind == "quality" else alert.when
        key = (float(_x([when])[0]), None if y is None else float(y))
        marks.setdefault(key, []).append(alert)
    return marks


def chart_marks(
    scenes: Sequence[SceneRow],
    baseline: Sequence[BaselinePoint] = (),
    events: Sequence[EventRow] = (),
    alerts: Sequence[AlertRow] = (),
    *,
    period: tuple[date | None, date | None] = (None, None),
    stacked: bool = True,
    utc_offset: timedelta = timedelta(0),
) -> frozenset[str]:
    """The kinds of mark :func:`draw_timeseries` draws for these rows, for the caption to
    name those alone (until 2026-12-06, session 39, it named red circles, triangles and
    crosses under a chart of one bar): ``bars`` (stacked by class), ``counts`` (points
    with whiskers), ``length`` (car equivalents), ``reviewed`` (an analyst's counts),
    ``band`` and ``median`` (the baseline), ``record`` (the trailing record), ``events``
    (on the time axis), ``unusable``, ``alerts``, ``info`` (small grey rings),
    ``silence``, ``silence-alert`` (triangles) and ``class-alerts`` (alerts of one class,
    which are not marked)."""
    scenes = [s for s in scenes if on_chart(s.when)]
    counted = [s for s in scenes if s.counts_cars]
    by_length = [s for s in counted if (s.method or "objects") == "length"]
    objects = [s for s in counted if (s.method or "objects") != "length"]
    marks: set[str] = set()
    classes = class_order({c for s in objects for c in s.by_class})
    if stacked and classes and any(any(_stack_parts(s, classes).values()) for s in objects):
        marks.add("bars")
    if any(not s.reviewed for s in objects):
        marks.add("counts")
    if any(not s.reviewed for s in by_length):
        marks.add("length")
    if any(s.reviewed for s in counted):
        marks.add("reviewed")
    drawn = [b for b in baseline if on_chart(b.when)]
    if any(b.low is not None and b.high is not None for b in drawn):
        marks.add("band")
    if any(b.centre is not None for b in drawn):
        marks.add("median")
    if any(b.record_line is not None for b in drawn):
        marks.add("record")
    if events_on_axis(scenes, events, period)[0]:
        marks.add("events")
    if any(not s.counted for s in scenes):
        marks.add("unusable")
    for (_x_day, y), group in _alert_marks(alerts, counted, utc_offset).items():
        info = all(a.severity == "info" for a in group)
        if y is None:
            marks.add("silence" if info else "silence-alert")
        else:
            marks.add("info" if info else "alerts")
    if any(a.cls != "all" for a in alerts if on_chart(a.when)):
        marks.add("class-alerts")
    return frozenset(marks)


def _stack_parts(row: SceneRow, classes: Sequence[str]) -> dict[str, float]:
    """Per-class counts of a row, with the part of the total no class explains."""
    parts = {c: float(row.by_class.get(c, 0.0)) for c in classes if c != UNCLASSIFIED}
    rest = float(row.total or 0.0) - sum(parts.values())
    parts[UNCLASSIFIED] = max(rest, 0.0)
    return parts


#: Longest event label drawn on the chart, in characters (the full label is listed under
#: the chart): a long label drawn down the chart covered it, and in the HTML report its
#: layout shrank the axes to a strip to make room for it.
EVENT_LABEL_CHARS = 32
#: An event label whose characters the chart's font cannot draw reads this on the chart.
UNDRAWABLE_LABEL = "(label: see the events list)"


@functools.lru_cache(maxsize=1)
def _font_chars() -> frozenset[int]:
    """The characters (code points) the chart's default font can draw."""
    from matplotlib.font_manager import FontProperties, findfont, get_font

    return frozenset(get_font(findfont(FontProperties())).get_charmap())


def _can_draw(c: str, chars: frozenset[int], cjk: frozenset[int]) -> bool:
    return ord(c) in chars or ord(c) in cjk or c.isspace()


def _cjk_chars() -> frozenset[int]:
    """The characters of the CJK font when text created now falls back to it
    (:func:`railwatch.report.fonts.cjk_text`, with the ``cjk`` extra), else none."""
    font = fonts.in_effect()
    return font.chars if font is not None else frozenset()


def drawable(text: str) -> bool:
    """Whether matplotlib draws every character of ``text``: in its default font
    (DejaVu Sans has Latin, Greek and Cyrillic but no Chinese, Japanese or Korean: those
    were drawn as empty boxes, with a warning per character on the terminal) or, inside
    :func:`railwatch.report.fonts.cjk_text` with the ``cjk`` extra installed, in the CJK
    font (since 2026-12-06, session 36)."""
    chars, cjk = _font_chars(), _cjk_chars()
    return all(_can_draw(c, chars, cjk) for c in text)


def pdf_text(text: str) -> str:
    """``text`` with each character the fonts cannot draw (see :func:`drawable`)
    replaced by ``?`` (the PDF embeds only those fonts; the HTML report shows such text
    as typed)."""
    chars, cjk = _font_chars(), _cjk_chars()
    return "".join(c if _can_draw(c, chars, cjk) else "?" for c in text)


def chart_title(site: str) -> str:
    """The chart's title: "Railcars at SITE", or "Railcars" when the font cannot draw the
    site's name (a Korean name was a row of empty boxes; the page's heading names it)."""
    return f"Railcars at {site}" if drawable(site) else "Railcars"


def event_label(labels: Sequence[str], limit: int = EVENT_LABEL_CHARS) -> str:
    """The chart's label for the events of one day: their labels joined by "; ", cut to
    ``limit`` characters with an ellipsis; :data:`UNDRAWABLE_LABEL` when the font cannot
    draw them."""
    text = "; ".join(labels)
    if not drawable(text):
        return UNDRAWABLE_LABEL
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


#: Where an alert's label may stand, tried in this order: (offset in points, horizontal
#: and vertical alignment): up right of its circle, up left, down right, down left, right,
#: left; each only where the label is nearer its own circle than any other.
LABEL_SPOTS: tuple[tuple[tuple[float, float], str, str], ...] = (
    ((8.0, 8.0), "left", "baseline"),
    ((-8.0, 8.0), "right", "baseline"),
    ((8.0, -8.0), "left", "top"),
    ((-8.0, -8.0), "right", "top"),
    # level with the circle, right then left (since 2026-12-05: where the y axis follows
    # the counts, circles on a steep rise stand closer and a label up or down of its own
    # was nearer its neighbour's)
    ((10.0, 0.0), "left", "center_baseline"),
    ((-10.0, 0.0), "right", "center_baseline"),
)


def _unstack(
    ax: Axes,
    notes: Sequence[Any],
    rings: Sequence[tuple[float, float, float]] = (),
    gap: float = 1.0,
) -> list[Any]:
    """Place alert labels so that none covers an earlier one or an alert's circle
    (``rings``: data x, data y and radius in points of every alert mark): at the first
    of :data:`LABEL_SPOTS` around its circle that is clear, else up right and moved up
    until clear, with a thin line to its circle (:func:`_leader`); a label that would
    leave the axes is hidden (its circle stays): on a busy site they were piled up far
    above the chart. ``notes`` come in order of importance. Laid out once at the
    figure's size; returns the labels kept.

    Until 2026-12-05 a label was only moved up, with no line, and circles were not
    avoided: on the demo's rise the label of 2023-10-23 covered the circle of
    2023-11-25, that of 2023-09-20 stood above that of 2023-09-25, and none said which
    circle it was."""
    if not notes:
        return []
    fig = ax.get_figure(root=True)
    if fig is None:
        return list(notes)
    with layout_quiet():
        fig.canvas.draw()  # the final layout (constrained) places the axes
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    points = fig.dpi / 72.0  # display pixels per point
    frame = ax.get_window_extent(renderer)
    placed: list[Any] = []
    centres: list[tuple[float, float]] = []
    for x, y, radius in rings:
        cx, cy = ax.transData.transform((x, y))
        r = radius * points
        placed.append(Bbox.from_extents(cx - r, cy - r, cx + r, cy + r))
        centres.append((float(cx), float(cy)))

    # a label may stand in the figure's margin right of the axes, not past its edge: the
    # HTML chart cut the latest alert's "record + shift" to "record + sh" (2026-12-07,
    # session 45)
    right = fig.bbox.x1

    def inside(box: Any) -> bool:
        return bool(
            box.x0 >= frame.x0 and box.x1 <= right and frame.y0 <= box.y0 and box.y1 <= frame.y1
        )

    def away(box: Any, p: tuple[float, float]) -> float:
        return float(
            np.hypot(max(box.x0 - p[0], 0.0, p[0] - box.x1), max(box.y0 - p[1], 0.0, p[1] - box.y1))
        )

    def nearest_own(box: Any, own: tuple[float, float]) -> bool:
        """The label is nearer its own circle than any other (it read as the next one's
        where the chart is taller: since 2026-12-05 the y axis follows the counts)."""
        others = [c for c in centres if np.hypot(c[0] - own[0], c[1] - own[1]) > 0.5]
        return all(away(box, own) < away(box, c) for c in others)

    kept: list[Any] = []
    for note in notes:
        spot = None
        cx, cy = ax.transData.transform(note.xy)
        own = (float(cx), float(cy))
        for offset, ha, va in LABEL_SPOTS:
            note.xyann = offset
            note.set_horizontalalignment(ha)
            note.set_verticalalignment(va)
            box = note.get_window_extent(renderer)
            if inside(box) and not any(box.overlaps(p) for p in placed) and nearest_own(box, own):
                spot = box
                break
        if spot is not None:
            placed.append(spot)
            kept.append(note)
            continue
        # up right, else up left where up right would leave the figure
        for (dx, dy), ha, va in LABEL_SPOTS[:2]:
            note.xyann = (dx, dy)
            note.set_horizontalalignment(ha)
            note.set_verticalalignment(va)
            box = note.get_window_extent(renderer)  # measured once, then moved with the label
            if box.x1 <= right:
                break
        near = [p for p in placed if p.x0 < box.x1 and p.x1 > box.x0]  # same columns
        lifted = 0.0
        for _ in range(40):
            hit = next((p for p in near if box.overlaps(p)), None)
            if hit is None or box.y1 > frame.y1:
                break
            lift = (hit.y1 - box.y0) / points + gap
            lifted += lift
            box = box.translated(0.0, lift * points)
        if box.y1 > frame.y1 or box.x1 > right or any(box.overlaps(p) for p in near):
            note.set_visible(False)
            continue
        note.xyann = (dx, dy + lifted)
        if lifted > 0.0:
            _leader(ax, note)
        placed.append(box)
        kept.append(note)
    return kept


#: Radius (points) of an alert's circle on the chart: its marker is 15 points across.
ALERT_RADIUS = 7.5


def _leader(ax: Axes, note: Any) -> None:
    """A thin line from an alert's circle to its label, drawn when the label was moved
    up away from it (:func:`_unstack`). Not in the layout and not part of the label's
    extent (the stacking measures labels alone); over the labels it passes, which stay
    readable under a line this thin, where under them it could not be seen."""
    x, y = note.xy
    dx, dy = note.xyann
    line = ax.annotate(
        "",
        xy=(x, y),
        xytext=(dx, dy),
        textcoords="offset points",
        arrowprops={
            "arrowstyle": "-",
            "color": ALERT_COLOUR,
            "linewidth": 0.7,
            "shrinkA": 0.0,
            "shrinkB": ALERT_RADIUS,
        },
        zorder=7.5,
    )
    line.set_in_layout(False)
    line.set_gid("alert-leader")


#: Points between the chart's legend and its title when the title is moved above it.
TITLE_GAP = 2.0
#: The gid of the chart's title (a :class:`~matplotlib.text.Text`), to find it by.
TITLE_GID = "chart-title"


def chart_heading(ax: Axes) -> Any | None:
    """The chart's title artist (left, above the axes); None when it has none."""
    found = ax.findobj(lambda a: a.get_gid() == TITLE_GID)
    return found[0] if found else None


def _title_clear(ax: Axes, heading: Any) -> None:
    """Move the chart's title (left, above the axes) up above its legend (right, above
    the axes) when the two would overlap: a wide legend reached over the title (14
    entries since 2026-12-05, when a cut interval's arrow got its own, drew "trailing
    record" over "Railcars at tumangang")."""
    fig = ax.get_figure(root=True)
    legend = ax.get_legend()
    if fig is None or legend is None:
        return
    with layout_quiet():
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    title = heading.get_window_extent(renderer)
    box = legend.get_window_extent(renderer)
    if not title.overlaps(box):
        return
    # up by as much as its lowest point is under the legend's top (the title was set with
    # matplotlib's default pad)
    lift = (box.y1 - title.y0) / (fig.dpi / 72.0) + TITLE_GAP
    moved = ax.set_title(
        heading.get_text(),
        loc="left",
        fontsize=heading.get_fontsize(),
        pad=float(matplotlib.rcParams["axes.titlepad"]) + lift,
    )
    moved.set_parse_math(False)
    moved.set_gid(TITLE_GID)


def _thin_events(ax: Axes, texts: Sequence[Any], keep_clear: Sequence[Any]) -> None:
    """Hide the event labels that would overlap an earlier one or a kept alert label
    (their dashed lines stay; every event is listed under the chart)."""
    fig = ax.get_figure(root=True)
    if fig is None or not texts:
        return
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    placed = [n.get_window_extent(renderer) for n in keep_clear]
    for text in texts:
        box = text.get_window_extent(renderer)
        if any(box.overlaps(p) for p in placed):
            text.set_visible(False)
        else:
            placed.append(box)


def timeseries_figure(
    scenes: Sequence[SceneRow],
    baseline: Sequence[BaselinePoint] = (),
    events: Sequence[EventRow] = (),
    alerts: Sequence[AlertRow] = (),
    *,
    stacked: bool = True,
    title: str | None = None,
    width: float = 11.0,
    height: float = 4.8,
    utc_offset: timedelta = timedelta(0),
    period: tuple[date | None, date | None] = (None, None),
    narrow: bool = False,
) -> Figure:
    """The time-series chart as its own figure (see :func:`draw_timeseries`; Chinese,
    Japanese and Korean text in the CJK font when it is installed:
    :func:`~railwatch.report.fonts.cjk_text`). ``narrow``: the phone's rendering,
    :data:`NARROW_SIZE` (``width`` and ``height`` left aside), larger text, fewer ticks
    and the legend under the axes (:func:`draw_timeseries`)."""
    if narrow:
        width, height = NARROW_SIZE
    with fonts.cjk_text():
        fig = new_figure(width, height)
        draw_timeseries(
            fig.add_subplot(),
            scenes,
            baseline,
            events,
            alerts,
            stacked=stacked,
            title=title,
            utc_offset=utc_offset,
            period=period,
            narrow=narrow,
        )
    return fig


#: The size (inches) of the chart's narrow rendering, which an HTML report shows on a
#: screen at most 640 px wide (``report.html.j2``): drawn at about a phone's
#: width, its text stays about its size in points. Until 2026-12-07 (session 45) a phone
#: showed the 11-inch chart (1056 px) at 334 px, its text about 3 px high.
NARROW_SIZE = (4.4, 4.8)
#: How much larger the narrow rendering's text is than the wide one's (points).
NARROW_TEXT = 1.3
#: At most this many date ticks on the narrow rendering's time axis.
NARROW_DATE_TICKS = 4


def draw_timeseries(
    ax: Axes,
    scenes: Sequence[SceneRow],
    baseline: Sequence[BaselinePoint] = (),
    events: Sequence[EventRow] = (),
    alerts: Sequence[AlertRow] = (),
    *,
    stacked: bool = True,
    title: str | None = None,
    utc_offset: timedelta = timedelta(0),
    period: tuple[date | None, date | None] = (None, None),
    narrow: bool = False,
    placed: Callable[[Axes], None] | None = None,
) -> None:
    """Draw counts per date with intervals (per-class stacked bars when ``stacked``),
    the baseline band, the trailing record, events as labelled vertical lines,
    unusable images as marks on the time axis and the site total's alerts circled
    (info-only ones small and grey, unlabelled). Anything dated before
    :data:`~railwatch.limits.EARLIEST_YEAR` is left off (see :func:`on_chart`). Labels
    are drawn as written (:func:`plain_text`). Each image is drawn at its instant; the
    axis's ticks and dates are the site's local days (``utc_offset`` east of UTC, since
    2026-12-05; UTC days before). An event, dated by the site's local day, is drawn at
    noon of that day at the site, ``utc_offset`` east of UTC
    (:attr:`ReportData.utc_offset <railwatch.report.model.ReportData.utc_offset>`),
    so it falls among the images of its local day (until 2026-12-05 at noon UTC); so is
    a silence (a ``quality`` alert, dated by a local day, not an image's time; until
    2026-12-05 at that day's midnight taken as UTC). An event more than
    :data:`EVENT_AXIS_DAYS` days from the images and the report's ``period`` (local days,
    None: open) is left off the time axis (:func:`events_on_axis`): the caption names it
    (:func:`events_off_axis_words`). ``narrow``: for a phone (:data:`NARROW_SIZE`): text
    :data:`NARROW_TEXT` times larger, at most :data:`NARROW_DATE_TICKS` date ticks, the
    legend in two columns under the axes. ``placed(ax)`` is called once the legend and
    the title are placed, before the alert and event labels are laid out at the axes'
    size: it may move the axes (the PDF's first page moves them clear of its facts,
    where it drew the whole chart a second time until 2026-12-07, session 49)."""
    with plain_text():
        _draw_timeseries(
            ax,
            scenes,
            baseline,
            events,
            alerts,
            stacked=stacked,
            title=title,
            utc_offset=utc_offset,
            period=period,
            narrow=narrow,
            placed=placed,
        )


#: The time axis's labels at each of matplotlib's concise levels (years, months, days,
#: hours, minutes, seconds): as matplotlib's, but ticks a few days apart are whole dates,
#: 2023-09-08, with no offset beside them (:func:`date_formatter`).
DAY_LEVEL = 2
DAY_FORMAT = "%Y-%m-%d"
#: Space between the axes' top edge and the legend above them, in the legend's font
#: sizes: the marks on the top edge (up to 9 points high, half of it above) stay clear.
LEGEND_AXES_PAD = 1.0
#: Most ticks on a time axis labelled by days (whole dates are wider than a day's number).
DAY_TICKS_MAX = 9


def date_formatter(locator: mdates.DateLocator, tz: tzinfo) -> mdates.ConciseDateFormatter:
    """The time axis's labels: matplotlib's concise dates (years; months with the year at
    January and beside the axis), except ticks days apart (a period of a few weeks or
    months, or a site with one image), which read as whole dates as the report writes
    them, 2023-09-08. Until 2026-12-06 (session 38) they were bare days of the month
    with the year and month of the last tick beside the axis: the rise of 2023-09-01 to
    2023-10-31 read "08 15 22 Oct 08 15 22" over "2023-Oct", its September days
    unnamed, so the summit of the 13th read as in October."""
    formatter = mdates.ConciseDateFormatter(locator, tz=tz)
    formatter.formats[DAY_LEVEL] = DAY_FORMAT
    formatter.zero_formats[DAY_LEVEL] = DAY_FORMAT
    formatter.offset_formats[DAY_LEVEL] = ""
    return formatter


class StackedBars(Container):
    """One class's bars of the stacked chart, drawn as one :class:`PolyCollection`
    (:func:`stacked_bars`): the legend's entry (a patch of the class's colour, as a
    :class:`~matplotlib.container.BarContainer`'s) and the bars' numbers."""

    def __new__(cls, collection: PolyCollection, *args: Any, **kwargs: Any) -> StackedBars:
        return tuple.__new__(cls, (collection,))

    def __init__(
        self,
        collection: PolyCollection,
        template: Rectangle,
        x: np.ndarray,
        heights: np.ndarray,
        bottoms: np.ndarray,
        width: float,
        label: str,
    ) -> None:
        super().__init__([collection], label=label)
        self.collection = collection
        #: a bar as ``ax.bar`` made it (never drawn): what the legend's patch copies
        self.template = template
        self.x = x  #: the bars' centres (matplotlib date numbers)
        self.heights = heights
        self.bottoms = bottoms
        self.width = width  #: of each bar, in days


def _legend_patch(legend_handle: Rectangle, bars: StackedBars) -> None:
    legend_handle.update_from(bars.template)


#: The legend's handler of :class:`StackedBars`: a patch like a bar's (the handler
#: matplotlib gives a ``BarContainer``, from its first bar).
BAR_HANDLERS: dict[type, Any] = {StackedBars: HandlerPatch(update_func=_legend_patch)}

#: The largest marker (points) a legend entry draws: a row of the chart's legend is about
#: 10 points high (7-point text), and the 15-point ring of an alert reached into the row
#: under it, where with "no count for long (alert)" below it the two read as one red pin
#: (2026-12-07, session 50). The chart keeps its marks' sizes.
LEGEND_MARKER_MAX = 8.0


def _legend_line(legend_handle: Line2D, orig_handle: Line2D) -> None:
    legend_handle.update_from(orig_handle)
    if legend_handle.get_markersize() > LEGEND_MARKER_MAX:
        legend_handle.set_markersize(LEGEND_MARKER_MAX)


#: The chart legend's handlers: the stacked bars' patches, and markers no larger than
#: :data:`LEGEND_MARKER_MAX`.
LEGEND_HANDLERS: dict[type, Any] = {
    **BAR_HANDLERS,
    Line2D: HandlerLine2D(update_func=_legend_line),
}


def stacked_bars(
    ax: Axes,
    x: np.ndarray,
    heights: np.ndarray,
    bottoms: np.ndarray,
    width: float,
    colour: str,
    label: str,
) -> StackedBars:
    """One class's bars, ``heights`` on ``bottoms`` centred on ``x``, as one collection:
    as ``ax.bar(x, heights, width, bottoms, color=colour, edgecolor="none", zorder=2)``
    draws them to the eye, each bar a rectangle of the collection, and in the axes'
    limits (a zero-height bar too), with the same legend entry, in the same place
    among the legend's entries (a container). ``ax.bar`` made a patch of every bar,
    each measured into the axes' limits and drawn on its own: 7,000 of them for 1,000
    images counted in 7 classes, most of the time of a report's chart (2026-12-07,
    session 49)."""
    half = width / 2.0
    left, right = x - half, x + half
    tops = bottoms + heights
    verts = np.stack(
        [
            np.column_stack([left, bottoms]),
            np.column_stack([left, tops]),
            np.column_stack([right, tops]),
            np.column_stack([right, bottoms]),
        ],
        axis=1,
    )
    # one (n, 4, 2) array: matplotlib's fast path for polygons of one size (typed as a
    # sequence of polygons in its stubs)
    collection = PolyCollection(
        cast("Sequence[Any]", verts),
        facecolors=colour,
        edgecolors="none",
        label="_nolegend_",
        zorder=2,
    )
    ax.add_collection(collection)  # autolim: the bars' corners, as ax.bar's patches
    template = Rectangle((0.0, 0.0), 1.0, 1.0, facecolor=colour, edgecolor="none", zorder=2)
    bars = StackedBars(collection, template, x, heights, bottoms, width, label)
    ax.add_container(bars)
    return bars


def _held(xs: np.ndarray, half: float) -> np.ndarray:
    """The x positions of a step line or band: ``xs`` as they are, or for one point (a
    value known at one image only) a short segment ``half`` days either side of it. A
    step of one point has no length: a site whose trailing record (or band) was known
    at its latest image only listed "trailing record" in the legend with no line drawn."""
    return xs if len(xs) != 1 else np.array([xs[0] - half, xs[0] + half])


def _runs(
    points: Sequence[BaselinePoint], has: Callable[[BaselinePoint], bool]
) -> list[tuple[list[BaselinePoint], datetime | None]]:
    """The runs of consecutive ``points`` (in time order) that ``has`` a value (a band, a
    centre), each with the date of the point without one that ends it (None: the run goes
    on to the last point), to which its last value is held."""
    runs: list[tuple[list[BaselinePoint], datetime | None]] = []
    run: list[BaselinePoint] = []
    for b in points:
        if has(b):
            run.append(b)
        elif run:
            runs.append((run, b.when))
            run = []
    if run:
        runs.append((run, None))
    return runs


def _step(
    ax: Axes, points: Sequence[tuple[datetime, float]], half: float = 1.0, **style: Any
) -> None:
    """A line of the baseline (its centre, its trailing record) through ``points``
    (date, value), each value held until the next date (a single point as a segment
    ``half`` days either side of its date); nothing when there are none."""
    if points:
        xs = _held(_x([when for when, _ in points]), half)
        values = [float(value) for _, value in points]
        ax.step(
            xs,
            values * len(xs) if len(values) == 1 else values,
            where="post",
            linewidth=1.2,
            **style,
        )


def _draw_timeseries(
    ax: Axes,
    scenes: Sequence[SceneRow],
    baseline: Sequence[BaselinePoint],
    events: Sequence[EventRow],
    alerts: Sequence[AlertRow],
    *,
    stacked: bool,
    title: str | None,
    utc_offset: timedelta = timedelta(0),
    period: tuple[date | None, date | None] = (None, None),
    narrow: bool = False,
    placed: Callable[[Axes], None] | None = None,
) -> None:
    grow = NARROW_TEXT if narrow else 1.0  # the text's sizes, larger on a phone

    def event_at(day: date) -> datetime:
        return _as_datetime(day) - utc_offset  # noon at the site

    def alert_at(alert: AlertRow) -> datetime:
        # a silence's (quality) when is its day's local midnight, no image's time: drawn
        # at noon of that day at the site, as an event (until 2026-12-05 its midnight as UTC)
        return event_at(alert.day) if alert.kind == "quality" else alert.when

    scenes = [s for s in scenes if on_chart(s.when)]
    baseline = [b for b in baseline if on_chart(b.when)]
    # events far from the images and the period are named under the chart, not drawn
    events, _off = events_on_axis(scenes, events, period)
    alerts = [a for a in alerts if on_chart(a.when)]
    # a presence image (10 m and coarser) has a long-train flag, not a count: not a bar
    # or a point of 0 or 1 cars, and not a gap either
    counted = sorted((s for s in scenes if s.counts_cars), key=lambda s: s.when)
    # a count by occupied track length (1.5-10 m) is car equivalents, not cars seen one by
    # one: its own marker, never a grey bar like the cars of unsure type
    by_length = [s for s in counted if (s.method or "objects") == "length"]
    objects = [s for s in counted if (s.method or "objects") != "length"]
    # an analyst's count (a scene review) is their own marker, with the detector's count
    # it replaced beside it: a corrected point never reads as the detector's
    reviewed = [s for s in counted if s.reviewed]
    unusable = sorted((s for s in scenes if not s.counted), key=lambda s: s.when)
    images_events = [s.when for s in scenes] + [event_at(e.when) for e in events]
    dated = bool(images_events)  # an image or an event in the period
    # the alerts marked on the chart (the total's) count in the time axis: a period with
    # a silence and no image drew its triangle on an axis without a date tick (until
    # 2026-12-05, session 32), as one with an alert whose image is out of the period
    all_when = images_events + [alert_at(a) for a in alerts if a.cls == "all"]
    # ticks at the site's local midnights, labelled by its local days, as the alerts, the
    # images and the events are dated (until 2026-12-05 at UTC midnights: at a site far
    # from Greenwich an image of the 5th local day stood before the tick "05"). Set before
    # anything is drawn: set after, it measured every bar, line and band again
    # (matplotlib's relim on a change of units; 1,000 images: 5.4-7.8 s a chart, now
    # 5.0-6.6 s; 2026-12-07, session 48)
    local = timezone(utc_offset)
    ax.xaxis_date(local if all_when else None)  # nothing dated: matplotlib's bare axis
    span_days = (max(images_events) - min(images_events)).days if len(images_events) > 1 else 30
    gaps = np.diff(_x([s.when for s in counted])) if len(counted) > 1 else np.array([30.0])
    positive = gaps[gaps > 0]
    min_gap = float(positive.min()) if positive.size else 30.0
    # wide enough to see on long series, narrow enough not to hide neighbours on short ones
    bar_width = min(max(0.7 * min_gap, span_days / 300.0, 1.0), max(span_days / 80.0, 1.0))

    if baseline:
        pts = sorted(baseline, key=lambda b: b.when)
        # drawn in runs of images with a baseline: none is drawn over images the
        # analysis judged without one (a new level after a raised shift, too few images
        # yet; until 2026-12-07, session 45, the band before such a gap was held across it)
        for k, (run, end) in enumerate(
            _runs(pts, lambda b: b.low is not None and b.high is not None)
        ):
            held = [*run, replace(run[-1], when=end)] if end is not None else run
            xs = _held(_x([b.when for b in held]), bar_width)
            lows = [float(b.low or 0.0) for b in held]
            highs = [float(b.high or 0.0) for b in held]
            ax.fill_between(
                xs,
                lows * len(xs) if len(held) == 1 else lows,
                highs * len(xs) if len(held) == 1 else highs,
                color=BASELINE_COLOUR,
                alpha=0.22,
                linewidth=0,
                step="post",
                label="baseline band" if k == 0 else "_nolegend_",
            )
        for k, (run, end) in enumerate(_runs(pts, lambda b: b.centre is not None)):
            centre = [(b.when, float(b.centre or 0.0)) for b in run]
            if end is not None:
                centre.append((end, centre[-1][1]))
            _step(
                ax,
                centre,
                bar_width,
                color=BASELINE_COLOUR,
                label="baseline (median)" if k == 0 else "_nolegend_",
            )
        # the record the alerts compare with: within a run of records, the one before it
        record = [(b.when, b.record_line) for b in pts if b.record_line is not None]
        _step(
            ax,
            record,
            bar_width,
            color=RECORD_COLOUR,
            linestyle=(0, (4, 2)),
            label="trailing record",
        )

    classes = class_order({c for s in objects for c in s.by_class})
    if stacked and objects and classes:
        xs = _x([s.when for s in objects])
        bottoms = np.zeros(len(objects))
        parts = [_stack_parts(s, classes) for s in objects]
        for cls in [*classes, UNCLASSIFIED]:
            heights = np.array([p.get(cls, 0.0) for p in parts], dtype=float)
            if not heights.any():
                continue
            stacked_bars(ax, xs, heights, bottoms, bar_width, bar_colour(cls), cls)
            bottoms = bottoms + heights
    styles: tuple[tuple[list[SceneRow], dict[str, Any]], ...] = (
        (
            [s for s in objects if not s.reviewed],
            {"fmt": "o", "color": "black", "label": "count (interval)"},
        ),
        (
            [s for s in by_length if not s.reviewed],
            {
                "fmt": "o",
                "color": LENGTH_COLOUR,
                "markerfacecolor": "white",
                "label": f"car equivalents, {length_range()} (interval)",
            },
        ),
    )
    machine = [s for s in reviewed if s.detector_total is not None]
    if machine:
        ax.plot(
            _x([s.when for s in machine]),
            [float(s.detector_total or 0.0) for s in machine],
            linestyle="none",
            marker="x",
            markersize=5,
            color=BASELINE_COLOUR,
            zorder=4,
            label="detector's count (replaced)",
        )
    styles += (
        (
            reviewed,
            {
                "fmt": "D",
                "color": ANALYST_COLOUR,
                "markeredgecolor": "black",
                "markersize": 5,
                "label": "analyst's count (scene review)",
            },
        ),
    )
    top = y_top(counted, baseline)
    clipped: set[str] = set()
    for series, style in styles:
        if not series:
            continue
        totals = [float(s.total or 0.0) for s in series]
        lows = [float(s.low if s.low is not None else s.total or 0.0) for s in series]
        highs = [float(s.high if s.high is not None else s.total or 0.0) for s in series]
        ax.errorbar(
            _x([s.when for s in series]),
            totals,
            yerr=[
                [max(t - lo, 0.0) for t, lo in zip(totals, lows, strict=True)],
                [max(h - t, 0.0) for t, h in zip(totals, highs, strict=True)],
            ],
            **{"markersize": 3, **style},
            linewidth=0.8,
            capsize=2,
            zorder=4,
        )
        # a whisker above the axis is cut at its top edge (the axis is the counts', not
        # the widest interval's) and ends in an open arrow there
        cut = [s for s, h in zip(series, highs, strict=True) if h > top]
        if cut:
            (arrows,) = ax.plot(
                _x([s.when for s in cut]),
                [top] * len(cut),
                linestyle="none",
                marker="^",
                markersize=5,
                markerfacecolor="white",
                markeredgecolor=style["color"],
                markeredgewidth=1.0,
                clip_on=False,
                zorder=5,
                label=None if CLIPPED_LABEL in clipped else CLIPPED_LABEL,
            )
            arrows.set_gid("interval-clipped")
            clipped.add(CLIPPED_LABEL)

    if unusable:
        # just under the time axis, not on the zero line: hundreds of them merged into a
        # band along 0 that read as counts of 0 (a ten-year site with 600 unusable images)
        dense = len(unusable) > UNUSABLE_DENSE
        ax.plot(
            _x([s.when for s in unusable]),
            [UNUSABLE_Y] * len(unusable),
            linestyle="none",
            marker="|" if dense else "x",
            markersize=5,
            color=UNUSABLE_COLOUR,
            clip_on=False,
            zorder=5,
            transform=ax.get_xaxis_transform(),
            label="unusable image",
        )

    # one line and one label per day (events of one day joined), the label cut short and
    # kept out of the layout: the chart never shrinks to make room for it
    days: dict[date, list[str]] = {}
    for event in sorted(events, key=lambda e: e.when):
        days.setdefault(event.when, []).append(event.label)
    event_texts = []
    for day, labels in days.items():
        x = float(_x([event_at(day)])[0])
        ax.axvline(x, color=EVENT_COLOUR, linestyle="--", linewidth=1.0, zorder=3)
        text = ax.text(
            x,
            0.97,
            f" {event_label(labels)}",
            transform=ax.get_xaxis_transform(),
            rotation=90,
            va="top",
            ha="right",
            fontsize=8 * grow,
            color=EVENT_COLOUR,
            clip_on=True,
        )
        text.set_in_layout(False)
        event_texts.append(text)

    labelled: set[str] = set()
    # The chart is the site total: only the total's alerts are marked on it (a tank
    # record circled on the total bar would read as a record of the total; per-class
    # alerts are listed under the chart). Info-only alerts get a small grey ring and no
    # label, so the red, labelled circles are the alerts an analyst acts on. One mark and
    # one label per point: a record and a shift of one image (the demo's 2023-09-25) were
    # two labels drawn over each other ("secord").
    marks = _alert_marks(alerts, counted, utc_offset)
    notes: list[tuple[tuple[int, float], Any]] = []
    rings: list[tuple[float, float, float]] = []  # every circle, kept clear of labels
    for (x, y), group in sorted(marks.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0.0)):
        acted = sorted(
            (a for a in group if a.severity != "info"),
            key=lambda a: (-SEVERITY_RANK.get(a.severity, 0), a.kind),
        )
        info = not acted
        colour = INFO_ALERT_COLOUR if info else ALERT_COLOUR
        label = "info alert" if info else "alert"
        if y is None:
            # a silence (no usable image for long): a triangle on the top edge, its own
            # legend entry (until 2026-12-05 it shared the rings' and was explained nowhere)
            label = SILENCE_LABEL if info else f"{SILENCE_LABEL} (alert)"
            ax.plot(
                [x],
                [1.0],
                marker="v",
                color=colour,
                markersize=6 if info else 9,
                transform=ax.get_xaxis_transform(),
                clip_on=False,
                linestyle="none",
                label=None if label in labelled else label,
            )
        else:
            rings.append((x, y, (8 if info else 15) / 2.0))
            ax.plot(
                [x],
                [y],
                marker="o",
                markersize=8 if info else 15,
                markerfacecolor="none",
                markeredgecolor=colour,
                markeredgewidth=1.2 if info else 2.0,
                linestyle="none",
                zorder=6,
                label=None if label in labelled else label,
            )
            if not info:
                note = ax.annotate(
                    " + ".join(dict.fromkeys(a.kind for a in acted)),
                    (x, y),
                    xytext=(8, 8),
                    textcoords="offset points",
                    color=ALERT_COLOUR,
                    fontsize=8 * grow,
                    fontweight="bold",
                    zorder=7,  # over the circles and whiskers of the next images
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
                )
                note.set_in_layout(False)
                notes.append(((SEVERITY_RANK.get(acted[0].severity, 0), x), note))
        labelled.add(label)

    # from 0 to the counts, baseline and record (y_top; at least 0-5 cars: without a count
    # matplotlib scaled it 0-0.05 with decimal ticks), not to the widest interval
    ax.set_ylim(0.0, top)
    if all_when:
        # at least a month around the images, events and alerts: one image was a bar as
        # wide as the axis, under a time axis in hours
        lo, hi = float(min(_x(all_when))), float(max(_x(all_when)))
        if hi - lo < MIN_SPAN_DAYS:
            mid = (lo + hi) / 2.0
            ax.set_xlim(mid - MIN_SPAN_DAYS / 2.0, mid + MIN_SPAN_DAYS / 2.0)
    if not counted:
        ax.text(
            0.5,
            0.5,
            "no count of cars in this period" if dated else "no image in this period",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=10 * grow,
            color="#5f6b76",
        )
    ax.yaxis.set_major_locator(
        MaxNLocator(nbins=5, integer=True) if narrow else MaxNLocator(integer=True)
    )
    # a chart of occupied-length counts alone is one of car equivalents (length / 14 m),
    # not railcars told one by one (2026-12-07, session 48: it said "railcars per image")
    only_length = bool(counted) and all(s.method == "length" for s in counted)
    ax.set_ylabel("car equivalents per image" if only_length else "railcars per image")
    if narrow:
        ax.yaxis.label.set_fontsize(10 * grow)
        ax.tick_params(labelsize=9 * grow)
    # ticks days apart at most DAY_TICKS_MAX: 7, 14 or 21 days, a week or more between
    # whole dates (every 4 days put 2023-12-29 against 2024-01-01)
    locator = (
        mdates.AutoDateLocator(tz=local, minticks=2, maxticks=NARROW_DATE_TICKS)
        if narrow
        else mdates.AutoDateLocator(tz=local, maxticks={mdates.DAILY: DAY_TICKS_MAX})
    )
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(date_formatter(locator, local))
    if not all_when:  # no image, event or alert: not an axis of 1 January 1970
        ax.xaxis.set_major_locator(NullLocator())
        ax.xaxis.set_minor_locator(NullLocator())
    ax.grid(axis="y", color="#dddddd", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        # the axes' title text exists before plain_text(): set it on the artist
        heading = ax.set_title(title, loc="left", fontsize=11 * grow)
        heading.set_parse_math(False)
        heading.set_gid(TITLE_GID)
    handles, labels = ax.get_legend_handles_labels()
    if handles and narrow:
        # under the axes and their dates, two columns: a phone's width holds no row of six
        fig = ax.get_figure(root=True)
        assert fig is not None
        legend = fig.legend(
            handles,
            labels,
            loc="outside lower center",
            fontsize=7 * grow,
            ncols=2,
            frameon=False,
            handler_map=LEGEND_HANDLERS,
        )
        # one column where two would not fit the width, the figure taller by the rows
        # added (2026-12-07, session 46: "no usable image for long (alert)" beside
        # "analyst's count (scene review)" ran 71 px past both edges of a 440 px figure,
        # the symbols on the left cut off and the last label "(scene rev")
        if legend.get_window_extent().width > fig.bbox.width:
            legend.remove()
            rows = len(handles) - math.ceil(len(handles) / 2)
            row_in = 7 * grow * (1 + matplotlib.rcParams["legend.labelspacing"]) / 72
            fig.set_figheight(fig.get_figheight() + rows * row_in)
            fig.legend(
                handles,
                labels,
                loc="outside lower center",
                fontsize=7 * grow,
                ncols=1,
                frameon=False,
                handler_map=LEGEND_HANDLERS,
            )
    elif handles:
        # above the axes, right of the title: inside them it covered the first years' data;
        # in as many columns (six at most) as keep it within the figure's left edge
        # (2026-12-07, session 48: ten entries of a 3 m site with an analyst's count ran
        # 43 px past the PDF page's left edge, "aseline band", and the HTML chart's axes
        # shrank to the right two thirds of the figure to make room for it)
        for ncols in range(min(6, len(handles)), 0, -1):
            legend = ax.legend(
                handles,
                labels,
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                fontsize=7,
                ncols=ncols,
                frameon=False,
                # above the marks on the top edge (a silence's triangle, a cut interval's
                # arrow; 0.2 until 2026-12-06, session 38: an ongoing silence, the newest
                # mark, stood on the legend's "count (interval)")
                borderaxespad=LEGEND_AXES_PAD,
                handler_map=LEGEND_HANDLERS,
            )
            if legend.get_window_extent().width <= ax.bbox.x1 - LEGEND_EDGE_PX:
                break
    if title:
        _title_clear(ax, heading)
    if placed is not None:  # the axes may move: the labels are laid out where they end
        placed(ax)
    # the labels that can be read: the most severe alerts first (then the newest), then
    # the events, each hidden where it would cover one already placed
    kept = _unstack(ax, [n for _, n in sorted(notes, key=lambda kn: kn[0], reverse=True)], rings)
    _thin_events(ax, event_texts, kept)
