"""Render a :class:`ReportData` as a PDF with matplotlib's ``PdfPages``.

Same content as the HTML report, in the same order: headline and chart (vector),
the alerts newest first (a page per alert with its before/after chips, the alerts
without images between them listed several to a page), the per-date table, caveats and
method. Needs nothing beyond matplotlib (no browser, no system library).
"""

from __future__ import annotations

import functools
import math
import re
import textwrap
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Annotation, Text

from railwatch import __version__
from railwatch.detect.base import series_label
from railwatch.errors import plural
from railwatch.report.charts import (
    PLAIN_TEXT,
    beyond_axis_words,
    chart_heading,
    chart_marks,
    chart_title,
    draw_timeseries,
    drawable,
    events_off_axis_words,
    layout_quiet,
    new_figure,
    pdf_text,
)
from railwatch.report.chips import draw_chip, draw_legend, has_nodata, has_outline
from railwatch.report.fonts import drawing, font_rc
from railwatch.report.format import (
    acknowledged_text,
    covered_words,
    fmt_class_count,
    fmt_num,
    fmt_pct,
    fmt_period,
    fmt_scene_count,
    is_limit_note,
    quality_words,
)
from railwatch.report.images import image_summary, key_images, lists_every_image, main_method
from railwatch.report.model import (
    Evidence,
    ReportData,
    SceneRow,
    acknowledged_words,
    clock_words,
    lone_image_words,
    shown_before,
    site_day,
)
from railwatch.report.style import length_range

PAGE = (11.69, 8.27)  # A4 landscape, inches
ROWS_PER_PAGE = 28


def _page() -> Figure:
    fig = new_figure(*PAGE)
    fig.set_layout_engine("none")
    return fig


#: The spans a line never breaks inside (unless one alone is wider than a line, then only
#: where :class:`_PathWrapper` allows): a command as the report quotes it (`...`, with
#: a bracket or punctuation written against it), a URL and a file path, with a folder
#: name holding a space (``/data/My Reports/site.html``: a following word that holds a
#: ``/``, not after a comma or the like); and a number with its unit ("(6-7 %)", "3 m").
#: Each from the start to the end of its words. Until 2026-12-05 (session 33) ``textwrap``
#: broke a path at a space or a hyphen inside it, or anywhere in a token longer than a
#: line, and began a line with the "% off" of "10 % off".
_UNBROKEN = re.compile(
    r"[^\s`]*`[^`\n]*`[^\s`]*"
    r"|[A-Za-z][A-Za-z0-9+.-]*://[^\s`]+"
    r"|[^\s`]*[/\\][^\s`]*(?:(?<![,;:)]) +[^\s/\\`]+[/\\][^\s`]*)*"
    r"|(?<!\S)[^\s`\d]*\d[\d.,]*(?:[-–]\d[\d.,]*)? (?:%|km²|km|m²|m|°)(?!\w)[^\s`]*"
)


class _Span(str):
    """A chunk of text from :data:`_UNBROKEN` (what is left of it once broken too);
    ``command``: a quoted command, which may also break at a space."""

    command: bool = False


def _span(text: str, command: bool) -> _Span:
    out = _Span(text)
    out.command = command
    return out


class _PathWrapper(textwrap.TextWrapper):
    """``textwrap`` with :data:`_UNBROKEN` spans kept whole on one line. A span wider
    than a line starts a line and is broken after a ``/`` (or ``\\``; in a URL not
    inside its ``//``), in a quoted command also after a space; at the line's width only
    where none of those is within it (one file name wider than the line). No character
    is lost: a span's spaces stay inside its lines."""

    def _split(self, text: str) -> list[str]:
        chunks: list[str] = []
        at = 0
        for m in _UNBROKEN.finditer(text):
            chunks += super()._split(text[at : m.start()])
            chunks.append(_span(m.group(), "`" in m.group()))
            at = m.end()
        return [c for c in chunks + super()._split(text[at:]) if c]

    def _handle_long_word(
        self, reversed_chunks: list[str], cur_line: list[str], cur_len: int, width: int
    ) -> None:
        chunk = reversed_chunks[-1]
        if not isinstance(chunk, _Span):
            super()._handle_long_word(reversed_chunks, cur_line, cur_len, width)
            return
        if cur_line:
            return  # the span starts the next line, with the whole width for it
        ends = [
            i + 1
            for i, c in enumerate(chunk[:width])
            if (c in "/\\" and chunk[i + 1 : i + 2] not in ("/", "\\"))
            or (c == " " and chunk.command)
        ]
        end = ends[-1] if ends else max(width, 1)  # no '/' in the width: broken at it
        cur_line.append(chunk[:end])
        reversed_chunks[-1] = _span(chunk[end:], chunk.command)


def _wrap(text: str, width: int, fontsize: float | None = None, room: float | None = None) -> str:
    """``text`` wrapped at ``width`` characters, each character the PDF's font cannot draw
    (Chinese, Korean...) as ``?``: they were empty boxes, with a warning each on the
    terminal. With ``fontsize`` (points) a paragraph is wrapped narrower until each of
    its lines fits the page's text width (:data:`TEXT_WIDTH_PT`): digits and capitals
    are wide, and a headline wrapped at 150 characters ran off the page's right edge.
    Commands, URLs and file paths are not broken at a space or hyphen inside them
    (:class:`_PathWrapper`). ``room``: the width in points the lines must fit instead of
    the page's text width."""
    room = TEXT_WIDTH_PT if room is None else room
    out = []
    for para in pdf_text(text).split("\n"):
        n = width
        lines = _PathWrapper(n).wrap(para) or [""]
        while (
            fontsize is not None
            and n > 40
            and any(_width_pt(line, fontsize) > room for line in lines)
        ):
            n = int(n * 0.93)
            lines = _PathWrapper(n).wrap(para) or [""]
        out += lines
    return "\n".join(out)


#: Width of the text on a page, in points (0.04 to 0.95 of A4 landscape).
TEXT_WIDTH_PT = 0.91 * PAGE[0] * 72.0


def _width_pt(line: str, fontsize: float) -> float:
    """The width of ``line`` in points as matplotlib lays it out in the PDF's font (at
    the screen's 100 dpi, whose hinted glyphs are the widest of the usual resolutions)."""
    from matplotlib.font_manager import FontProperties

    width = _measure().get_text_width_height_descent(line, FontProperties(size=fontsize), False)[0]
    return float(width) * 72.0 / 100.0


#: The width of a column of the first page's facts, in points (three columns 0.31 of the
#: page apart, the last ending at 0.95).
FACT_COLUMN_PT = 0.29 * PAGE[0] * 72.0


def _fit_words(text: str, fontsize: float, room: float, weight: str = "normal") -> list[str]:
    """``text`` in lines of whole words, each at most ``room`` points wide at ``fontsize``
    in ``weight`` (a word wider than that alone on its line)."""
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(size=fontsize, weight=weight)

    def width(line: str) -> float:
        return float(_measure().get_text_width_height_descent(line, prop, False)[0]) * 0.72

    lines: list[str] = []
    for word in text.split(" "):
        if lines and width(f"{lines[-1]} {word}") <= room:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines or [""]


@functools.lru_cache(maxsize=1)
def _measure() -> Any:
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(100, 100, 100)


def _site_title(data: ReportData) -> tuple[str, str]:
    """The site's name as the page header shows it, and a note when the PDF's font cannot
    draw it (a Korean or Chinese name was a row of empty boxes on every page, with a
    warning per character on the terminal): the document's title and the HTML report
    show it as typed."""
    if drawable(data.site):
        return data.site, ""
    return pdf_text(data.site), (
        "The site's name is in a script this PDF's font lacks:\nthe document's title and "
        "the HTML report show it."
    )


def _header(fig: Figure, data: ReportData, subtitle: str) -> None:
    title, note = _site_title(data)
    fig.text(0.04, 0.955, title, fontsize=18, fontweight="bold", va="top")
    if note:
        fig.text(0.96, 0.95, note, fontsize=7.5, color="#5f6b76", va="top", ha="right")
    fig.text(0.04, 0.912, pdf_text(subtitle), fontsize=9, color="#5f6b76", va="top")
    fig.add_artist(Line2D([0.04, 0.96], [0.895, 0.895], color="#1d2329", linewidth=1.5))


#: The first page's chart caption: its font size (points) and the figure fraction under
#: the chart's axes with a caption of :data:`CAPTION_LINES` lines; each further line
#: raises the axes by one line.
CAPTION_FONT = 7.5
CHART_BOTTOM = 0.125
CAPTION_LINES = 4


def _chart(
    fig: Figure,
    data: ReportData,
    chart_top: float,
    bottom: float = CHART_BOTTOM,
    floor: Callable[[], float] | None = None,
) -> Axes:
    """The count chart on the first page, from ``bottom`` (above the caption) up to
    ``chart_top`` (figure fractions) with its title and legend above that; ``floor()``:
    the lowest the legend and the title may reach (display pixels), where they are moved
    down to, the axes' top with them, before the chart's labels are laid out."""

    def clear_of_floor(ax: Axes) -> None:
        if floor is None:
            return
        # a legend of three rows (13 entries: a silence's triangle has its own since
        # 2026-12-05) reached into the facts: the axes' top moves that much lower. Until
        # 2026-12-07 (session 49) the whole chart was drawn again there: twice the time
        # of the first page's chart (a second or more at 1,000 images)
        with layout_quiet():
            fig.canvas.draw()  # places the legend and the title
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        legend = ax.get_legend()
        tops = [a.get_window_extent(renderer).y1 for a in (legend, chart_heading(ax)) if a]
        lowest = floor()
        if tops and max(tops) > lowest:
            over = (max(tops) - lowest) / fig.bbox.height
            ax.set_position((0.06, bottom, 0.9, chart_top - over - bottom))

    ax = fig.add_axes((0.06, bottom, 0.9, chart_top - bottom))  # clear of the caption
    draw_timeseries(
        ax,
        data.scenes,
        data.baseline,
        data.events,
        data.alerts,
        title=chart_title(data.site),
        utc_offset=data.utc_offset,
        period=data.headline.period,
        placed=clear_of_floor,
    )
    return ax


def chart_caption(data: ReportData) -> str:
    """The first page's words under the chart: what each kind of mark drawn means
    (:func:`~railwatch.report.charts.chart_marks`), the intervals cut at its top edge
    and the events left off its time axis, wrapped to the page. Until 2026-12-06
    (session 39) it named every kind of mark, those the chart did not draw too."""
    marks = chart_marks(
        data.scenes,
        data.baseline,
        data.events,
        data.alerts,
        period=data.headline.period,
        utc_offset=data.utc_offset,
    )
    parts = []
    if "bars" in marks:
        parts.append("bars: count per usable image by class")
    if "counts" in marks:
        parts.append("points with whiskers: count and its interval")
    if "length" in marks:
        parts.append(
            "green hollow circles: car equivalents from occupied track length "
            f"({length_range()} images)"
        )
    if "reviewed" in marks:
        parts.append(
            "cyan diamonds: an analyst's count (scene review), the detector's count it "
            "replaced a grey cross"
        )
    # seasonal: the demo's band stood at 0-46 around 17 in August 2023, above the 5-year
    # record of 15, under a caption that read as a plain median (2026-12-07, session 50)
    seasonal = (
        "as the alerts judged each image, times the month's seasonal factor once the site "
        f"has {data.seasonal_from} of images"
    )
    if "band" in marks:
        parts.append(f"grey band: robust baseline ({seasonal}; ± 2 spreads)")
    elif "median" in marks:
        parts.append(f"grey line: robust baseline ({seasonal})")
    if "record" in marks:
        parts.append(
            "dashed purple: trailing record (within a rise of records, the record before "
            "the rise, which its record alerts compare with)"
        )
    if "events" in marks:
        parts.append(
            "dashed lines: events (labels cut short, left off where they would overlap: all "
            "are listed after the caveats)"
        )
    if "unusable" in marks:
        parts.append("orange crosses: images that could not be counted")
    labels = (
        "labels left off where they would not fit; a thin line joins a label moved up to its circle"
    )
    if "alerts" in marks:
        info = "small grey rings: info only; " if "info" in marks else ""
        parts.append(f"red circles: alerts of the site total ({info}{labels})")
    elif "info" in marks:
        parts.append("small grey rings: info-only alerts of the site total")
    if "class-alerts" in marks:
        parts.append("alerts of single classes are not marked on the total")
    if "silence" in marks or "silence-alert" in marks:
        parts.append("triangles on the top edge: no count for long (a silence)")
    text = "; ".join(parts)
    text = (text[:1].upper() + text[1:] + ". ") if text else ""
    text += "Dates on the time axis are local days at the site."
    for extra in (
        beyond_axis_words(data.scenes, data.baseline),
        events_off_axis_words(
            data.scenes, data.events, data.headline.period, listed="after the caveats"
        ),
    ):
        if extra:
            text += "\n" + extra
    return _wrap(text, 200, CAPTION_FONT)


#: The most lines of the site's description the PDF's first page gives (9 pt); a longer
#: one ends in :data:`DESCRIPTION_CUT`.
DESCRIPTION_LINES = 2
DESCRIPTION_CUT = " … (whole in the HTML report)"


def description_lines(description: str) -> list[str]:
    """The site's description in the lines the PDF's first page gives it under its header
    (at most :data:`DESCRIPTION_LINES`, the page's width; its line breaks as spaces), cut
    with :data:`DESCRIPTION_CUT` where it is longer; none for a site without one."""
    text = pdf_text(" ".join(description.split()))
    if not text:
        return []
    room = 0.92 * PAGE[0] * 72.0
    lines = _fit_words(text, 9, room)
    if len(lines) <= DESCRIPTION_LINES:
        return lines
    kept = lines[:DESCRIPTION_LINES]
    words = kept[-1].split(" ")
    while len(words) > 1 and len(_fit_words(" ".join(words) + DESCRIPTION_CUT, 9, room)) > 1:
        words.pop()
    kept[-1] = " ".join(words) + DESCRIPTION_CUT
    return kept


def _first_page(data: ReportData) -> Figure:
    h = data.headline
    fig = _page()
    _header(
        fig,
        data,
        f"Railcar count report · {fmt_period(h.period)} · generated "
        f"{data.generated:%Y-%m-%d %H:%M} UTC",
    )
    # the site's description, as the HTML report's header gives it (session 50: the PDF
    # had none); the headline under it
    head = 0.87
    described = description_lines(data.description)
    if described:
        fig.text(0.04, head, "\n".join(described), fontsize=9, color="#5f6b76", va="top")
        head -= _text_height("\n".join(described), 9) + 0.012
    summary = _wrap(h.summary, 150, 10.5)
    fig.text(0.04, head, summary, fontsize=10.5, va="top", linespacing=1.2)
    # The facts start below the headline, however many lines it takes (a four-line
    # headline ran over them), and the chart takes the height that is left.
    line = 10.5 * 1.2 / 72.0 / PAGE[1]  # one headline line, in figure fractions
    top = min(0.8, head - (summary.count("\n") + 1) * line - 0.035)
    latest = (
        f"{h.latest.day} · {h.latest.sensor or 'unknown sensor'} · {h.latest.gsd:.2g} m"
        if h.latest
        else "none"
    )
    # its quality and covered share, as its chips' captions give them (session 35)
    quality = f" ({quality_words(h.latest).replace(' ·', ',')})" if h.latest else ""
    covered = covered_words(h.latest) if h.latest else ""
    facts = [
        (h.latest_words.capitalize(), latest),
        (
            "Current count",
            h.current_words + (f" · {covered}" if covered else ""),
        ),
        ("Previous record", fmt_num(None) if h.record is None else h.record_words),
        ("Baseline", h.baseline_words),
        ("Images", f"{sum(1 for s in data.scenes if s.counted)} usable of {len(data.scenes)}"),
        (
            "Alerts in period",
            f"{len(data.alerts)}"
            # "+1 class repeat" (it read "+1 class repeats"; session 50)
            + (f" (+{plural(data.repeats, 'class repeat')}, not listed)" if data.repeats else "")
            + (f", {words}" if (words := acknowledged_words(data)) else ""),
        ),
    ]
    values = []
    for i, (k, v) in enumerate(facts):
        x, y = 0.04 + 0.31 * (i % 3), top - 0.06 * (i // 3)
        label = fig.text(x, y, k.upper(), fontsize=7, color="#5f6b76")
        if i == 0 and quality:  # after its label, where the value has no room for it
            fig.add_artist(
                Annotation(
                    quality.strip(),
                    xy=(1.0, 0.0),
                    xycoords=label,
                    xytext=(4.0, 0.0),
                    textcoords="offset points",
                    fontsize=7,
                    color="#5f6b76",
                )
            )
        # within its column, the lines after the first under it: "8 (+1 class repeats, not
        # listed), 1 acknowledged, 1 changed since" ran off the page's right edge, its
        # last words cut (2026-12-07, session 45)
        first, *more = _fit_words(v, 10, FACT_COLUMN_PT, "bold")
        value = fig.text(x, y - 0.024, first, fontsize=10, fontweight="bold")
        if more:
            values.append(
                fig.add_artist(
                    Annotation(
                        "\n".join(more),
                        xy=(0.0, 0.0),
                        xycoords=value,
                        xytext=(0.0, -2.0),
                        textcoords="offset points",
                        fontsize=10,
                        fontweight="bold",
                        va="top",
                    )
                )
            )
        why = {
            "Previous record": h.no_record if h.record is None else "",
            "Baseline": h.no_baseline if h.baseline is None else "",
        }.get(k, "")
        if why:
            # why there is none, beside the dash in the labels' size (session 39: the dash
            # stood alone); wrapped within its column
            fig.add_artist(
                Annotation(
                    _wrap(why, 60, 8, room=0.29 * PAGE[0] * 72.0 - 12.0),
                    xy=(1.0, 1.0),
                    xycoords=value,
                    xytext=(4.0, 0.0),
                    textcoords="offset points",
                    fontsize=8,
                    color="#5f6b76",
                    va="top",
                )
            )
        values.append(value)
    caption = chart_caption(data)
    # the axes stand clear of a caption longer than its usual four lines (the line on
    # intervals cut at the top edge, since 2026-12-05)
    extra = max(caption.count("\n") + 1 - CAPTION_LINES, 0)
    bottom = CHART_BOTTOM + extra * CAPTION_FONT * 1.2 / 72.0 / PAGE[1]
    # below the facts and the chart's title and legend (above the axes since 2026-12-04)
    chart_top = min(0.64, top - 0.06 - 0.09)

    def floor() -> float:
        # the facts' lowest text, 4 px clear (the title too stays above it: it stands
        # above the legend where the legend would cover it)
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        return min(t.get_window_extent(renderer).y0 for t in values) - 4.0

    _chart(fig, data, chart_top, bottom, floor)
    fig.text(0.04, 0.02, caption, fontsize=CAPTION_FONT, color="#5f6b76")
    return fig


def _evidence_page(
    data: ReportData,
    ev: Evidence,
    foot: _AlertList | None = None,
    head: _AlertList | None = None,
) -> Figure:
    """An alert's page with its images; ``foot``: the alerts without images that follow
    it (older), listed under its images when they fit there (:data:`FOOT_LINES`);
    ``head``: those before it (newer: the report's newest alerts), listed above it."""
    a = ev.alert
    fig = _page()
    series = series_label(a.cls)
    title = f"Alert: {a.kind} · {a.severity} · {a.day} · {series}"
    _header(fig, data, title)
    drop = 0.0  # what the alert's text and images stand below the list at the head
    if head is not None:
        fig.text(0.04, 0.87, pdf_text(head.heading), fontsize=8, color="#5f6b76", va="top")
        fig.text(0.04, 0.87 - LIST_LINE, head.text, fontsize=8, va="top", linespacing=1.3)
        drop = _list_height(head)
        rule = 0.87 - drop + FOOT_GAP
        fig.add_artist(Line2D([0.04, 0.96], [rule, rule], color="#d8dde2", linewidth=0.8))
        # the alert named again under the list, its page's subtitle far above
        fig.text(0.04, 0.87 - drop, pdf_text(title), fontsize=10, fontweight="bold", va="top")
        drop += 10 * 1.3 / 72.0 / PAGE[1]
    # the analyst's acknowledgement and note were on the list pages only, not on an
    # alert's own page
    text = _wrap(a.explanation + ("\n" + acknowledged_text(a) if a.acknowledged else ""), 150, 10)
    fig.text(0.04, 0.87 - drop, text, fontsize=10, va="top")
    # the chips, their notes and legend stand above the list at the foot
    lift = _foot_height(foot) if foot is not None else 0.0
    chips = [c for c in (ev.before, ev.after) if c is not None]
    chip_axes: list[Axes] = []
    legend: Legend | None = None
    if chips:
        width = 0.92 / len(chips)  # a landscape page holds even wide pairs side by side
        # the chips' box starts under the alert's text and their titles, however many
        # lines it takes
        top = 0.87 - _text_height(text, 10) - CHIP_TITLE
        for i, chip in enumerate(chips):
            # (a box at least 0.15 high: an alert with a page of text overlaps it, as
            # a long text did before)
            height = max(top - 0.2 - lift - drop, 0.15)
            ax = fig.add_axes((0.04 + i * width + 0.01, 0.2 + lift, width - 0.02, height))
            # at the top of their box, right under the alert's text: a wide pair was
            # centred in it, an empty band between text and images (session 39)
            ax.set_anchor("N")
            chip_axes.append(ax)
            # thin outlines: at about 5 inches for 800 m a car is 1.5 pt wide
            draw_chip(ax, chip, fit_outlines=True, palette=True)
        legend = draw_legend(
            fig,
            [d for c in chips for d in c.detections],
            [d for c in chips for d in c.analyst],
            occupied=any(c.occupied for c in chips),
            outline=any(has_outline(c) for c in chips),
            nodata=any(has_nodata(c) for c in chips),
            top=0.2 + lift,  # moved right under the chips' captions below
        )
    notes = list(ev.notes)
    if ev.before is not None:
        # "near the baseline" only when it was: else the note below says it was not
        which = (
            "most recent usable image near the baseline"
            if ev.before_near
            else "most recent earlier usable image, counted another way: not comparable"
            if ev.before_counted_otherwise
            else "most recent earlier usable image counted the same way"
            if ev.before_passed
            else "most recent earlier usable image"
        )
        notes.insert(
            0,
            f"Left: before ({which}); right: alert image; same site grid, same ground extent.",
        )
    note = None
    if notes:
        wrapped = _wrap("\n".join(notes), 170, 8)
        note = fig.text(0.04, 0.1 + lift, wrapped, fontsize=8, color="#5f6b76", va="bottom")
    if chip_axes:
        _stack_under(fig, chip_axes, legend, note, lift + FLOOR)
    _draw_foot(fig, foot, head)
    return fig


#: Space between the chips' captions and their legend (figure fraction).
LEGEND_GAP = 0.01
#: The lowest the chips' notes reach (figure fraction above the list at the page's foot).
FLOOR = 0.035


def _stack_under(
    fig: Figure, chip_axes: Sequence[Axes], legend: Legend | None, note: Text | None, floor: float
) -> None:
    """Hang the legend right under the chips' captions and the notes right under it;
    where the notes would reach below ``floor``, raise the chips' box's lower edge by
    as much (the chips stand at its top, smaller). Until 2026-12-07 (session 45) the
    legend stood at the page's foot, some 300 px at 90 dpi below a pair of chips."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    height = fig.bbox.height
    for _ in range(4):
        boxes = [b for ax in chip_axes if (b := ax.get_tightbbox(renderer)) is not None]
        y = min((b.y0 for b in boxes), default=0.0) / height - LEGEND_GAP
        if legend is not None:
            legend.set_bbox_to_anchor((0.5, y), transform=fig.transFigure)
            y = legend.get_window_extent(renderer).y0 / height - NOTE_GAP
        low = y
        if note is not None:
            note.set_y(y)
            note.set_verticalalignment("top")
            low = note.get_window_extent(renderer).y0 / height
        over = floor - low
        if over <= 1e-3:
            return
        for ax in chip_axes:
            x0, y0, w, h = ax.get_position(original=True).bounds
            if h - over < 0.1:
                return
            ax.set_position((x0, y0 + over, w, h - over))


#: Room between an alert's text and the top of its images' box (figure fraction): their
#: titles (10 pt) and a gap. The box started at 0.78 (under a list at the page's head
#: lowered by its height) whatever the text's lines, and a wide pair was centred in it.
CHIP_TITLE = 0.042


#: Space between an alert's images' captions and the notes under them (figure fraction).
NOTE_GAP = 0.015


def _text_height(text: str, fontsize: float) -> float:
    """The height (figure fraction) of ``text``'s lines at ``fontsize`` (matplotlib's
    line spacing, 1.2)."""
    return (text.count("\n") + 1) * fontsize * 1.2 / 72.0 / PAGE[1]


def _draw_foot(fig: Figure, foot: _AlertList | None, head: _AlertList | None = None) -> None:
    """The list of alerts without images at a page's foot (:func:`_foot_height` high),
    and the note on where the info alerts' whole explanations are (of ``head`` too)."""
    if foot is not None:
        top = _foot_height(foot) - FOOT_GAP
        fig.add_artist(Line2D([0.04, 0.96], [top, top], color="#d8dde2", linewidth=0.8))
        fig.text(0.04, top - 0.008, pdf_text(foot.heading), fontsize=8, color="#5f6b76", va="top")
        fig.text(0.04, top - 0.008 - LIST_LINE, foot.text, fontsize=8, va="top", linespacing=1.3)
    note = next((x.info_note for x in (head, foot) if x is not None and x.info_note), "")
    if note:
        fig.text(0.96, 0.012, note, fontsize=7, color="#5f6b76", ha="right")


def _lone_page(data: ReportData, foot: _AlertList | None = None) -> Figure:
    """The latest usable image with its cars drawn, for a report none of whose alerts
    has images (:attr:`ReportData.lone_image`; a site with one image: session 39);
    ``foot``: the report's alerts, when they fit under it (:data:`FOOT_LINES`)."""
    fig = _page()
    latest = data.headline.latest
    title = data.headline.latest_words.capitalize()
    _header(fig, data, title + (f" · {latest.day}" if latest else ""))
    fig.text(0.04, 0.87, _wrap(lone_image_words(data), 150, 10), fontsize=10, va="top")
    lift = _foot_height(foot) if foot is not None else 0.0
    chip = data.lone_image
    legend: Legend | None = None
    if chip is not None:
        ax = fig.add_axes((0.05, 0.2 + lift, 0.9, 0.58 - lift))
        ax.set_anchor("N")  # under the words above it, as an alert's images (session 39)
        draw_chip(ax, chip, fit_outlines=True, palette=True)
        legend = draw_legend(
            fig,
            chip.detections,
            chip.analyst,
            occupied=bool(chip.occupied),
            outline=has_outline(chip),
            nodata=has_nodata(chip),
            top=0.2 + lift,  # moved right under the chip's caption below
        )
    note = None
    if data.lone_notes:
        note = fig.text(
            0.04,
            0.1 + lift,
            _wrap("\n".join(data.lone_notes), 170, 8),
            fontsize=8,
            color="#5f6b76",
            va="bottom",
        )
    if chip is not None:
        _stack_under(fig, [ax], legend, note, lift + FLOOR)
    _draw_foot(fig, foot)
    return fig


def _lone_and_alert_pages(data: ReportData) -> list[Figure]:
    """The page of the latest usable image, when the report draws it, and the alerts'
    pages; alerts short enough to stand under that image are listed there (none of them
    has images when it is drawn: a two-image site's one info alert had a page of its own
    after it)."""
    if data.lone_image is None and not data.lone_notes:
        return _alert_pages(data)
    blocks = _alert_blocks(data, data.evidence)
    if blocks and all(ev.after is None for ev in data.evidence) and _lines(blocks) <= FOOT_LINES:
        return [_lone_page(data, _alert_list(data, blocks, 0, len(blocks)))]
    return [_lone_page(data), *_alert_pages(data, first_page=3)]


#: Lines of alert text on one landscape page (8 pt).
ALERT_LINES_PER_PAGE = 46
#: Lines of alerts without images (blank lines between them included) that may stand at
#: the foot of the page of the alert with images before them, under its images (which
#: shrink to make room); a longer run has pages of its own.
FOOT_LINES = 8
#: Lines of alerts without images at the head and the foot of one page together.
HEAD_AND_FOOT_LINES = 12
#: One line of the alert lists (8 pt, line spacing 1.3), in figure fractions.
LIST_LINE = 8 * 1.3 / 72.0 / PAGE[1]
#: Space between the images' legend and the list at the foot (figure fraction).
FOOT_GAP = 0.012


@dataclass(frozen=True)
class _AlertList:
    """Alerts without images as one page or one page's foot lists them: the line above
    them (which they are, of how many), their text, and where the info alerts' whole
    explanations are (when one is listed by its first sentence)."""

    heading: str
    text: str
    lines: int
    info_note: str


def _foot_height(foot: _AlertList) -> float:
    """The height (figure fraction) the list at an evidence page's foot takes: its
    heading, its lines and the line of the info note, from the page's bottom edge."""
    return FOOT_GAP + 0.008 + (foot.lines + 2) * LIST_LINE + 0.02


def _list_height(head: _AlertList) -> float:
    """The height (figure fraction) the list at an evidence page's head takes: its
    heading and its lines, and the space to the rule under it."""
    return (head.lines + 1) * LIST_LINE + 2 * FOOT_GAP


def alert_title(ev: Evidence) -> str:
    """An alert as its page names it: "record · high · 2023-09-25 · site total"."""
    a = ev.alert
    return f"{a.kind} · {a.severity} · {a.day} · {series_label(a.cls)}"


def _alert_pages(data: ReportData, first_page: int = 2) -> list[Figure]:
    """The alerts' pages in the report's order (newest first, as in the HTML): a page
    for each alert with images, the alerts without images between them several to a
    page. Before, every alert with images came first, so a newer alert without images
    (e.g. the latest image's) followed every older, more severe one. A short run of
    alerts without images (up to :data:`FOOT_LINES` lines) after an alert with images
    is listed at the foot of that alert's page, and a short run of the newest alerts,
    before the first alert with images, at the head of its page: until 2026-12-06 (session
    39) each run had pages of its own, and the one info alert between two alerts with
    images stood alone on an empty page. An alert whose images an earlier page shows
    (:func:`shown_before`) is listed as those without images are, with the page
    (``first_page``: the number of the first page these pages follow) and the alert they
    are shown with."""
    pages: list[Figure] = []
    repeats = shown_before(data.evidence)
    own = {
        id(ev) for i, ev in enumerate(data.evidence) if ev.after is not None and i not in repeats
    }
    refs: dict[int, str] = {}  # a listed alert's images: where they are (id of its evidence)
    total = sum(1 for ev in data.evidence if id(ev) not in own)
    # the alerts in order, each with images of its own alone, the others in runs
    parts: list[list[Evidence]] = []
    for ev in data.evidence:
        if id(ev) not in own and parts and id(parts[-1][0]) not in own:
            parts[-1].append(ev)
        else:
            parts.append([ev])
    listed = 0
    k = 0
    head: _AlertList | None = None
    while k < len(parts):
        part = parts[k]
        if id(part[0]) not in own:
            blocks = _alert_blocks(data, part, refs)
            if k == 0 and len(parts) > 1 and _lines(blocks) <= FOOT_LINES:
                # the newest alerts, before the first with images: above it on its page
                head = _alert_list(data, blocks, listed, total)
            else:
                pages += _alert_list_pages(data, part, total=total, first=listed, refs=refs)
            listed += len(part)
            k += 1
            continue
        # the alerts shown on this page's images, listed here or later, say so
        here = first_page + len(pages)
        for i, j in repeats.items():
            if data.evidence[j] is part[0]:
                refs[id(data.evidence[i])] = (
                    f"Its images are on page {here}, drawn for the alert {alert_title(part[0])}."
                )
        run = parts[k + 1] if k + 1 < len(parts) and id(parts[k + 1][0]) not in own else None
        blocks = _alert_blocks(data, run, refs) if run else []
        # a page with a list at its head and its foot keeps room for its images
        room = FOOT_LINES if head is None else HEAD_AND_FOOT_LINES - head.lines
        foot = None
        if run and _lines(blocks) <= room:
            # listed at this page's foot: its images are "above", not "on page N" of
            # the page it is on (review of session 50)
            on_page = f"Its images are on page {here}, "
            for ev in run:
                said = refs.get(id(ev))
                if said is not None and said.startswith(on_page):
                    refs[id(ev)] = "Its images are above, " + said[len(on_page) :]
            blocks = _alert_blocks(data, run, refs)
            foot = _alert_list(data, blocks, listed, total)
            listed += len(run)
            k += 1
        pages.append(_evidence_page(data, part[0], foot, head))
        head = None
        k += 1
    return pages


def first_sentence(text: str) -> str:
    """The first sentence of an alert's explanation (what was seen, against what), with
    an ellipsis when more follows (kept on the sentence's last line)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text.strip(), maxsplit=1)
    # a no-break space: the ellipsis was wrapped onto a line of its own (session 33)
    return parts[0] + ("\u00a0…" if len(parts) > 1 else "")


def _alert_blocks(
    data: ReportData, evidence: Sequence[Evidence], refs: Mapping[int, str] | None = None
) -> list[tuple[str, bool]]:
    """Each alert's text in a list of alerts without images, and whether it is an info
    alert's one paragraph: date, severity, kind, series, the explanation and the
    evidence's notes; an info alert's first sentence after its date, kind and series.
    ``refs``: where the images are of an alert shown on another alert's (by the ``id``
    of its evidence; :func:`shown_before`)."""
    blocks: list[tuple[str, bool]] = []  # (text, an info alert's one paragraph)
    for ev in evidence:
        a = ev.alert
        series = series_label(a.cls)
        said = "\n".join(a.ack_lines)  # the analyst's notes, then what changed since
        ack = " (acknowledged" + (f": {said})" if said else ")") if a.acknowledged else ""
        head = f"{a.day} · {a.severity} · {a.kind} · {series}{ack}"
        if a.severity == "info":
            line = f"{head}: {first_sentence(a.explanation)}"
            blocks.append((_wrap(line, 170, 8).replace("\n", "\n    "), True))
            continue
        notes = [n for n in ev.notes if not is_limit_note(n)]
        ref = (refs or {}).get(id(ev))
        text = "\n".join([a.explanation, *notes, *([ref] if ref else [])])
        blocks.append((f"{_wrap(head, 170, 8)}\n{_wrap(text, 170, 8)}", False))
    return blocks


def _gap(blocks: Sequence[tuple[str, bool]], k: int) -> int:
    """Blank lines before block ``k`` of a list: none between two info alerts' paragraphs
    (and before the first), one before any other."""
    if k == 0:
        return 0
    return 0 if blocks[k][1] and blocks[k - 1][1] else 1


def _lines(blocks: Sequence[tuple[str, bool]]) -> int:
    """The lines ``blocks`` take listed together, blank lines included."""
    return sum(b.count("\n") + 1 + _gap(blocks, k) for k, (b, _) in enumerate(blocks))


def _alert_list_pages(
    data: ReportData,
    evidence: Sequence[Evidence],
    *,
    total: int | None = None,
    first: int = 0,
    refs: Mapping[int, str] | None = None,
) -> list[Figure]:
    """Alerts without images, several to a page, in the order given (newest first): date,
    severity, kind, series, the explanation and the evidence's notes. One page each made
    the demo's PDF 84 pages of a paragraph each. An info alert (nothing to act on) is one
    paragraph, its first sentence after its date, kind and series (a ten-year site's 97
    info alerts took 17 of its pages; `railwatch alerts` and the HTML report give them
    whole). ``total`` is the number of alerts without images in the report (default:
    those given), ``first`` how many of them came before these. The last page never
    holds one alert alone where the page before it can give it one (session 39). ``refs``
    as :func:`_alert_blocks`'s."""
    blocks = _alert_blocks(data, evidence, refs)
    n_total = len(blocks) if total is None else total
    chunks: list[list[tuple[str, bool]]] = [[]]
    for block in blocks:
        if chunks[-1] and _lines([*chunks[-1], block]) > ALERT_LINES_PER_PAGE:
            chunks.append([])
        chunks[-1].append(block)
    if len(chunks) > 1 and len(chunks[-1]) == 1 and len(chunks[-2]) > 2:
        # the page break left one alert alone on the last page: the one before it joins it
        moved = [chunks[-2][-1], *chunks[-1]]
        if _lines(moved) <= ALERT_LINES_PER_PAGE:
            chunks[-2], chunks[-1] = chunks[-2][:-1], moved
    pages: list[Figure] = []
    start = first
    for chunk in chunks:
        if chunk:
            pages.append(_alert_list_page(data, _alert_list(data, chunk, start, n_total)))
            start += len(chunk)
    return pages


def _alert_list(
    data: ReportData, blocks: Sequence[tuple[str, bool]], start: int, total: int
) -> _AlertList:
    """Alerts without images numbered ``start + 1`` to ``start + len(blocks)`` of
    ``total``, as a page or a page's foot lists them; an info alert's one paragraph
    follows another without a blank line."""
    # an alert on the images of an earlier one is shown with them too (they are drawn
    # once, and it names their page), as the HTML counts it
    shown = sum(1 for ev in data.evidence if ev.after is not None)
    # alerts on the images of an earlier page are listed too (session 50)
    elsewhere = bool(shown_before(data.evidence))
    span = f"{start + 1}" if len(blocks) == 1 else f"{start + 1}–{start + len(blocks)}"
    info = "; info alerts by their first sentence" if any(compact for _, compact in blocks) else ""
    # images go to alerts above info only (builder._with_images)
    which = (
        "images are shown for alerts above info only"
        if not shown
        else "images are shown for the most severe alert above info"
        if shown == 1
        else f"images are shown for the {shown} most severe alerts above info"
    )
    text = ""
    for k, (block, _) in enumerate(blocks):
        text += "\n" * (_gap(blocks, k) + (1 if k else 0)) + block
    note = (
        f"Whole explanations of the info alerts: `railwatch alerts {pdf_text(data.site)}` "
        "or the HTML report."
        if info
        else ""
    )
    # (each alert on another's images names their page: the heading ran off the page
    # saying so too)
    listed = "Alerts without images of their own" if elsewhere else "Alerts without images"
    return _AlertList(
        heading=f"{listed}, newest first: {span} of {total} ({which}{info})",
        text=text,
        lines=_lines(blocks),
        info_note=note,
    )


def _alert_list_page(data: ReportData, listed: _AlertList) -> Figure:
    """A page of alerts without images."""
    fig = _page()
    _header(fig, data, listed.heading)
    fig.text(0.04, 0.87, listed.text, fontsize=8, va="top", linespacing=1.3)
    if listed.info_note:
        fig.text(0.04, 0.02, listed.info_note, fontsize=7, color="#5f6b76")
    return fig


def _table_rows(data: ReportData, scenes: Sequence[SceneRow]) -> list[list[str]]:
    rows = []
    for s in scenes:
        usable = "yes" if s.usable else ("no: " + ", ".join(s.reasons) if s.reasons else "no")
        rows.append(
            [
                s.clock,
                s.sensor or "",
                f"{s.gsd:.2f}",
                fmt_scene_count(s),
                *[fmt_class_count(s, c) for c in data.classes],
                fmt_class_count(s, "covered"),
                s.method or "",
                fmt_pct(s.clear_fraction),
                fmt_pct(s.coverage),
                _cut(usable, 28),  # cut with an ellipsis: "no: haze covers 99 % of the"
            ]
        )
    return rows


def _image_header(data: ReportData) -> list[str]:
    """The image table's columns, in the HTML report's order (its ``#table``): the PDF
    put usable, clear and coverage before the count until 2026-12-07 (session 46), so
    the two tables of one report read differently; every column is as wide in either
    order (the reasons are cut at 28 characters)."""
    return [
        f"date ({clock_words(data.utc_offset)})",
        "sensor",
        "GSD m",
        "count [interval]",
        *data.classes,
        "covered",
        "method",
        "clear",
        "coverage",
        "usable",
    ]


def _image_left(data: ReportData) -> frozenset[int]:
    """The columns of :func:`_image_header` aligned left, as the HTML report's (its
    ``td.l``): the text ones (date, sensor, method, usable); the numbers are aligned right.
    Until 2026-12-07 (session 46) every column of the PDF's tables was aligned right."""
    n = len(_image_header(data))
    return frozenset({0, 1, n - 4, n - 1})


#: A table's font size (points), and the smallest it is made to fit a page's width.
TABLE_FONT = 7.0
TABLE_FONT_MIN = 5.0
#: Space (points) between a table cell's text and its side.
CELL_PAD_PT = 3.0


def _column_widths(
    header: Sequence[str], text: Sequence[Sequence[str]], room: float
) -> tuple[list[float], float]:
    """The widths (points) of a table's columns within ``room`` points, and its font
    size: each column as wide as its widest text as drawn (with :data:`CELL_PAD_PT` either
    side), the room left over shared in proportion; a table wider than ``room`` in
    :data:`TABLE_FONT` gets a smaller font, down to :data:`TABLE_FONT_MIN`. Until
    2026-12-05 (session 33) the widths went by the number of characters, and a column of
    digits or capitals ran into the next one ("100 %149.1 [82.3–307.1]", "objects"
    written over the reasons an image was listed for)."""
    fontsize = TABLE_FONT
    for _ in range(4):
        widths = [
            max(_width_pt(str(r[i]), fontsize) for r in [header, *text]) + 2 * CELL_PAD_PT
            for i in range(len(header))
        ]
        if sum(widths) <= room or fontsize <= TABLE_FONT_MIN:
            break
        fontsize = max(fontsize * room / sum(widths), TABLE_FONT_MIN)
    scale = room / sum(widths)  # > 1: the room left over; < 1 only below the smallest font
    return [w * scale for w in widths], fontsize


def _draw_table(
    fig: Figure,
    header: Sequence[str],
    cells: Sequence[Sequence[str]],
    shaded: Sequence[bool],
    top: float = 0.87,
    *,
    left: Collection[int] = (),
) -> None:
    """A table from ``top`` (figure fraction) down, the page's width: columns as wide as
    their text (:func:`_column_widths`), the rows of ``shaded`` (images that could not
    be counted) tinted. The columns numbered in ``left`` (text: dates, names, reasons)
    are aligned left, header included, as in the HTML report; the others (numbers) right."""
    ax = fig.add_axes((0.04, 0.05, 0.92, top - 0.05))
    ax.axis("off")
    if not cells:
        return
    text = [[pdf_text(str(c)) for c in row] for row in cells]
    table = ax.table(
        cellText=text, colLabels=list(header), loc="upper center", cellLoc="right", colLoc="right"
    )
    table.auto_set_font_size(False)
    room = 0.92 * fig.get_figwidth() * 72.0
    widths, fontsize = _column_widths(header, text, room)
    table.set_fontsize(fontsize)
    for (row, col), cell in table.get_celld().items():
        if col in left:
            cell.get_text().set_horizontalalignment("left")  # where Cell draws it, too
        cell.set_width(widths[col] / room)
        cell.PAD = CELL_PAD_PT / widths[col]  # a fraction of the cell's width
        cell.set_edgecolor("#d8dde2")
        if row == 0:
            cell.set_facecolor("#f0f2f4")
        elif shaded[row - 1]:
            cell.set_facecolor("#fff6ef")


def _table_pages(data: ReportData) -> list[Figure]:
    """Every image of the period, :data:`ROWS_PER_PAGE` to a page (a period of few
    images: :func:`~railwatch.report.images.lists_every_image`)."""
    header = _image_header(data)
    scenes = list(data.scenes)
    if not scenes:  # a page titled "Images 1–0 of 0" with an empty table
        fig = _page()
        _header(fig, data, "Images")
        fig.text(0.04, 0.87, _wrap(data.headline.summary, 150, 10), fontsize=10, va="top")
        return [fig]
    pages = []
    for start in range(0, len(scenes), ROWS_PER_PAGE):
        chunk = scenes[start : start + ROWS_PER_PAGE]
        fig = _page()
        _header(fig, data, f"Images {start + 1}–{start + len(chunk)} of {len(scenes)}")
        _draw_table(
            fig,
            header,
            _table_rows(data, chunk),
            [not s.counted for s in chunk],
            left=_image_left(data),
        )
        pages.append(fig)
    return pages


def full_list_text(data: ReportData, full_list: str | None) -> str:
    """Where the list of every image is, for a PDF that lists only some of them."""
    if full_list:
        return full_list
    start, end = data.headline.period
    # the options' names since session 36 (--from/--to, still accepted, until session 38)
    span = "".join(
        f" {opt} {day.isoformat()}" for opt, day in (("--since", start), ("--until", end)) if day
    )
    return (
        f"the HTML report of the same period (`railwatch report {data.site}{span}`, section "
        f"Images), or as CSV with `railwatch export {data.site} --format csv --out FILE.csv` "
        "(every image of the site, one row each)"
    )


#: The columns of the table of images by month, quarter or year aligned left: the text
#: ones (the month, why images were not counted, the day of the highest count, the
#: alerts); the numbers are aligned right.
SUMMARY_LEFT = frozenset({0, 3, 6, 7})


def _summary_pages(data: ReportData, full_list: str | None) -> list[Figure]:
    """The period's images by month, quarter or year (:func:`images.image_summary`)."""
    step, bins = image_summary(data)
    method = main_method(data.scenes)
    what = "car equivalents" if method == "length" else "railcars"
    header = [
        step,
        "images",
        "counted",
        "not counted (why)",
        f"{what}: median",
        "highest",
        "highest on",
        "alerts above info",
    ]
    cells = [
        [
            b.label,
            str(b.images),
            str(b.counted),
            b.not_counted,
            fmt_num(b.median),
            fmt_num(b.highest),
            f"{site_day(b.highest_when, data.utc_offset)}" if b.highest_when else "",
            b.alerts,
        ]
        for b in bins
    ]
    n, counted = len(data.scenes), sum(1 for s in data.scenes if s.counted)
    intro = _wrap(
        f"{n} images in this period, {counted} counted: too many to print one by one. "
        f"Below, the images by {step}; after it, the images an analyst needs one by one (the "
        "latest, those behind the alerts, the highest count). Every image is listed in "
        f"{full_list_text(data, full_list)}.",
        170,
        8,
    )
    first_top = 0.87 - (intro.count("\n") + 2) * 8 * 1.3 / 72.0 / PAGE[1]
    chunks = [cells[: rows_fitting(first_top)]]
    rest = cells[len(chunks[0]) :]
    chunks += [rest[i : i + rows_fitting()] for i in range(0, len(rest), rows_fitting())]
    pages = []
    for k, chunk in enumerate(chunks):
        fig = _page()
        more = f" ({k + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        _header(fig, data, f"Images by {step}{more}")
        if k == 0:
            fig.text(0.04, 0.87, intro, fontsize=8, va="top")
        # a bin whose images could none be counted is tinted, as such an image is
        shaded = [c[1] != "0" and c[2] == "0" for c in chunk]
        _draw_table(fig, header, chunk, shaded, first_top if k == 0 else 0.87, left=SUMMARY_LEFT)
        pages.append(fig)
    return pages


#: Height of a table row (figure fraction): matplotlib's tables make each row 1.2 lines
#: of 10 pt whatever their font size.
ROW_HEIGHT = 10.0 * 1.2 / 72.0 / PAGE[1]


def rows_fitting(top: float = 0.87, bottom: float = 0.05) -> int:
    """How many rows of a table (under its header row) fit between ``top`` and
    ``bottom`` (figure fractions)."""
    return max(int((top - bottom) / ROW_HEIGHT) - 1, 1)


def _key_image_pages(data: ReportData, full_list: str | None) -> list[Figure]:
    """The images an analyst needs one by one (:func:`images.key_images`), newest first,
    with why each is listed."""
    chosen, left_out = key_images(data)
    header = [*_image_header(data), "listed for"]
    rows = _table_rows(data, [k.row for k in chosen])
    cells = [[*row, listed_for(k.why)] for row, k in zip(rows, chosen, strict=True)]
    n = len(data.scenes)
    more = f"; {left_out} more behind alerts are left out here" if left_out else ""
    pages = []
    per_page = rows_fitting(bottom=0.06)  # above the note at the foot
    for start in range(0, max(len(cells), 1), per_page):
        chunk = cells[start : start + per_page]
        fig = _page()
        _header(
            fig,
            data,
            f"Images listed one by one, newest first: {start + 1}–{start + len(chunk)} of "
            f"{len(cells)} (of the period's {n}: the latest, those behind the alerts, the "
            f"highest count{more})",
        )
        shaded = [not k.row.counted for k in chosen[start : start + per_page]]
        # the image columns, then "listed for" (text)
        left = {*_image_left(data), len(header) - 1}
        _draw_table(fig, header, chunk, shaded, left=left)
        fig.text(
            0.04,
            0.02,
            _wrap(
                f"Every image of the period is listed in {full_list_text(data, full_list)}.", 190, 7
            ),
            fontsize=7,
            color="#5f6b76",
        )
        pages.append(fig)
    return pages


#: Longest "listed for" cell of the table of key images (longer ones end in an ellipsis).
LISTED_FOR_MAX = 64
BEFORE_IMAGE = "before image of "


def listed_for(why: Sequence[str]) -> str:
    """The "listed for" cell of a key image: its reasons (:attr:`images.KeyImage.why`),
    the alerts it is the before image of said once ("before image of 5 alerts, 2023-09-20
    to 2023-12-02"), cut at :data:`LISTED_FOR_MAX` characters. Until 2026-12-06 (session
    38) each reason was written out and the whole cut at 44: the demo's table read
    "before image of 2023-12-02; before image of…" for the image before the whole rise,
    and "latest images; highest count; previous reco…" for the record's own image."""
    days = sorted({r.removeprefix(BEFORE_IMAGE) for r in why if r.startswith(BEFORE_IMAGE)})
    before = (
        f"{BEFORE_IMAGE}{days[0]}"
        if len(days) == 1
        else f"{BEFORE_IMAGE}{len(days)} alerts, {days[0]} to {days[-1]}"
        if days
        else ""
    )
    parts: list[str] = []
    for reason in why:
        if not reason.startswith(BEFORE_IMAGE):
            parts.append(reason)
        elif before not in parts:
            parts.append(before)
    return _cut("; ".join(parts), LISTED_FOR_MAX)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _image_pages(data: ReportData, full_list: str | None) -> list[Figure]:
    """The images of the period: every one when they fit a few pages; else a summary by
    month, quarter or year and the images the report needs one by one, saying where
    the full list is (a table of every image ran a ten-year site's PDF to 100+ pages)."""
    if lists_every_image(data):
        return _table_pages(data)
    return _summary_pages(data, full_list) + _key_image_pages(data, full_list)


#: Lines of caveats and method on one landscape page (8.5 pt, line spacing 1.35).
TEXT_LINES_PER_PAGE = 42


#: The indent of an item's further lines on the caveats and method pages: about the
#: width of its "• ".
HANGING = "   "


def _hanging(text: str) -> str:
    """A caveat, event or method item wrapped (8.5 pt) with its further lines indented
    under its first: they began at the margin, as the next item does, and a caveat of
    three lines read as three (session 33)."""
    return _wrap(text, 140 - len(HANGING), 8.5).replace("\n", "\n" + HANGING)


def _headed(heading: str, items: list[str]) -> list[str]:
    """The blocks of a section of the caveats pages: its heading with its first item (a
    blank line between, as before), then the others."""
    if not items:
        return [heading]
    return [f"{heading}\n{items[0]}", *items[1:]]


def _text_pages(data: ReportData) -> list[Figure]:
    """Caveats and method, as many pages as they take: one page held about 40 lines,
    and the demo's 45 caveats ran off its foot, the method with them."""
    # each heading in one block with its first item: a heading was left alone at the foot
    # of a page, its items on the next (the demo's "Events", session 35)
    sections = [("Caveats", [_hanging("• " + c) for c in data.caveats] or ["• none"])]
    if data.events:
        sections.append(
            ("Events", [_hanging(f"{e.when.isoformat()}  {e.label}") for e in data.events])
        )
    sections.append(("Method", [_hanging(f"{k}: {v}") for k, v in data.method]))
    blocks = [
        (name, block, j == 0)
        for k, (name, items) in enumerate(sections)
        for j, block in enumerate(_headed(("\n" if k else "") + name + "\n", items))
    ]
    chunks: list[list[str]] = [[]]
    used = 0
    for name, block, first in blocks:
        n = block.count("\n") + 1
        if chunks[-1] and used + n > TEXT_LINES_PER_PAGE:
            chunks.append([])
            used = 0
        if not chunks[-1] and not first:
            # a page that goes on with a section says which (session 39: the method's
            # alert thresholds stood at the top of the last page under no heading)
            block = f"{name} (continued)\n\n{block}"
            n += 2
        chunks[-1].append(block.lstrip("\n") if not chunks[-1] else block)
        used += n
    pages = []
    for i, chunk in enumerate(chunks):
        fig = _page()
        more = f" ({i + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        _header(fig, data, f"Caveats and method{more}")
        fig.text(0.04, 0.87, "\n".join(chunk), fontsize=8.5, va="top", linespacing=1.35)
        fig.text(0.04, 0.02, f"Generated by railwatch {__version__}.", fontsize=7, color="#5f6b76")
        pages.append(fig)
    return pages


def _pdf_rc() -> dict[str, Any]:
    # text as written: a '$' pair in a label or note is not mathtext (charts.PLAIN_TEXT);
    # Chinese, Japanese and Korean in the CJK font when it is installed (fonts.font_rc:
    # its glyphs embedded as a subset, with their Unicode, since 2026-12-06); font_rc
    # reads the settings, so it is called with fonts.drawing held
    return {"pdf.fonttype": 3, **PLAIN_TEXT, **font_rc()}


#: The resolution (dots per inch) at which a page's pictures are stored without chips:
#: matplotlib's default, at which every page was stored until 2026-12-07 (session 50).
PAGE_DPI = 100.0
#: The most a page with chips is stored at (a chip drawn very small).
CHIP_DPI_MAX = 600.0


def page_dpi(fig: Figure) -> float:
    """The resolution to store ``fig``'s page at: where it draws chips, that at which each
    is stored at its own pixels (the largest a chip of the page needs, its columns over its
    width on the page, at most :data:`CHIP_DPI_MAX`), else :data:`PAGE_DPI`. matplotlib
    stores a PDF's images resampled to the page's resolution: at its default 100 dpi a
    chip of 1,400 columns (0.65 m) drawn 5.2 inches wide was stored 515 pixels wide, at
    1.6 m a pixel, where its caption said "shown at 0.65 m": cars 2 pixels wide, the gaps
    between them gone, in print and zoomed in alike (2026-12-07, session 50). The chips'
    pictures are drawn in 256 colours (``chips.draw_chip(palette=True)``), stored indexed,
    so the demo's PDF is about as large as before."""
    need = PAGE_DPI
    for ax in fig.axes:
        for image in ax.get_images():
            columns = image.get_array().shape[1]  # type: ignore[union-attr]
            ax.apply_aspect()
            width_in = ax.get_position().width * fig.get_figwidth()
            if columns and width_in > 0:
                need = max(need, columns / width_in)
    return min(math.ceil(need), CHIP_DPI_MAX)


#: The steps :func:`write_pdf` tells its ``on_step`` of (``builder.StepCallback``).
STEP_LAYOUT = "laying out the PDF"
STEP_PAGES = "writing the PDF's pages"


def write_pdf(
    data: ReportData,
    path: str | Path,
    *,
    full_list: str | None = None,
    on_step: Callable[[str, int, int], None] | None = None,
) -> Path:
    """Write the PDF report to ``path`` (parent directories are created). ``full_list``
    says where every image is listed when the PDF lists only some (by default the
    commands that write the HTML report and the CSV). An earlier file at ``path`` is
    replaced once the new one is whole. ``on_step(step, done, total)`` is told how far
    it got (:data:`STEP_LAYOUT`, then :data:`STEP_PAGES` page by page)."""
    from railwatch.report.output import written

    out = Path(path)
    metadata = {
        "Title": f"railwatch report: {data.site}",
        "Creator": f"railwatch {__version__}",
        "CreationDate": data.generated.astimezone(UTC)
        if data.generated.tzinfo
        else data.generated.replace(tzinfo=UTC),
    }
    # drawn holding fonts.drawing (matplotlib's settings this thread's alone), in the
    # settings of _pdf_rc, read once the lock is held (the second drawing() is entered
    # after the first); written whole or not at all: a failure half way left a
    # truncated PDF in place of the earlier report
    with (
        written(out) as (tmp,),
        drawing(),
        drawing(_pdf_rc()),
        PdfPages(tmp, metadata=metadata) as pdf,
    ):
        if on_step is not None:
            on_step(STEP_LAYOUT, 0, 1)
        pages = [_first_page(data), *_lone_and_alert_pages(data)]
        pages += _image_pages(data, full_list)
        pages += _text_pages(data)
        if on_step is not None:
            on_step(STEP_LAYOUT, 1, 1)
        for n, fig in enumerate(pages, 1):
            # the page's pictures stored at its resolution (page_dpi; session 50)
            with layout_quiet(), matplotlib.rc_context({"savefig.dpi": page_dpi(fig)}):
                pdf.savefig(fig)
            if on_step is not None:
                on_step(STEP_PAGES, n, len(pages))
    return out
