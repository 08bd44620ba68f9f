"""Render a :class:`ReportData` as a PDF with matplotlib's ``PdfPages``.

Same content as the HTML report, in the same order: headline and chart (vector),
the alerts newest first (a page per alert with its before/after chips, the alerts
without images between them listed several to a page), the per-date table, caveats and
method. Needs nothing beyond matplotlib (no browser, no system library).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from railwatch import __version__
from railwatch.report.charts import PLAIN_TEXT, draw_timeseries, new_figure, pdf_text
from railwatch.report.chips import draw_chip, draw_legend
from railwatch.report.format import (
    fmt_count,
    fmt_num,
    fmt_pct,
    fmt_period,
    fmt_scene_count,
)
from railwatch.report.model import Evidence, ReportData, SceneRow

PAGE = (11.69, 8.27)  # A4 landscape, inches
ROWS_PER_PAGE = 28


def _page() -> Figure:
    fig = new_figure(*PAGE)
    fig.set_layout_engine("none")
    return fig


def _wrap(text: str, width: int) -> str:
    """``text`` wrapped at ``width``, each character the PDF's font cannot draw (Chinese,
    Korean...) as ``?``: they were empty boxes, with a warning each on the terminal."""
    return "\n".join(textwrap.fill(p, width) for p in pdf_text(text).split("\n"))


def _header(fig: Figure, data: ReportData, subtitle: str) -> None:
    fig.text(0.04, 0.955, data.site, fontsize=18, fontweight="bold", va="top")
    fig.text(0.04, 0.912, subtitle, fontsize=9, color="#5f6b76", va="top")
    fig.add_artist(Line2D([0.04, 0.96], [0.895, 0.895], color="#1d2329", linewidth=1.5))


def _first_page(data: ReportData) -> Figure:
    h = data.headline
    fig = _page()
    _header(
        fig,
        data,
        f"Railcar count report · {fmt_period(h.period)} · generated "
        f"{data.generated:%Y-%m-%d %H:%M} UTC",
    )
    summary = _wrap(h.summary, 150)
    fig.text(0.04, 0.87, summary, fontsize=10.5, va="top", linespacing=1.2)
    # The facts start below the headline, however many lines it takes (a four-line
    # headline ran over them), and the chart takes the height that is left.
    line = 10.5 * 1.2 / 72.0 / PAGE[1]  # one headline line, in figure fractions
    top = min(0.8, 0.87 - (summary.count("\n") + 1) * line - 0.035)
    latest = (
        f"{h.latest.when:%Y-%m-%d} · {h.latest.sensor or 'unknown sensor'} · {h.latest.gsd:.2g} m"
        if h.latest
        else "none"
    )
    facts = [
        ("Latest usable image", latest),
        ("Current count", fmt_count(h.current, h.current_low, h.current_high)),
        ("Previous record", fmt_num(h.record)),
        ("Baseline", fmt_num(h.baseline)),
        ("Images", f"{sum(1 for s in data.scenes if s.counted)} usable of {len(data.scenes)}"),
        (
            "Alerts in period",
            f"{len(data.alerts)}"
            + (f" (+{data.repeats} class repeats, not listed)" if data.repeats else ""),
        ),
    ]
    for i, (k, v) in enumerate(facts):
        x, y = 0.04 + 0.31 * (i % 3), top - 0.06 * (i // 3)
        fig.text(x, y, k.upper(), fontsize=7, color="#5f6b76")
        fig.text(x, y - 0.024, v, fontsize=10, fontweight="bold")
    # below the facts and the chart's title and legend (above the axes since 2026-12-04)
    chart_top = min(0.64, top - 0.06 - 0.09)
    ax = fig.add_axes((0.06, 0.125, 0.9, chart_top - 0.125))  # clear of the caption
    draw_timeseries(
        ax, data.scenes, data.baseline, data.events, data.alerts, title=f"Railcars at {data.site}"
    )
    fig.text(
        0.04,
        0.02,
        "Bars: count per usable image by class; whiskers: interval; green hollow circles: car "
        "equivalents from occupied track length (1.5-5 m images). Grey band: robust baseline; "
        "dashed purple: trailing record;\ndashed lines: events (labels cut short, left off "
        "where they would overlap: all are listed after the caveats); orange crosses: images "
        "that could not be counted; red circles: alerts of the site total\n(small grey rings: "
        "info only; alerts of single classes are not marked on the total; labels left off "
        "where they would not fit).",
        fontsize=7.5,
        color="#5f6b76",
    )
    return fig


def _evidence_page(data: ReportData, ev: Evidence) -> Figure:
    a = ev.alert
    fig = _page()
    series = "site total" if a.cls == "all" else a.cls
    _header(fig, data, f"Alert: {a.kind} · {a.severity} · {a.when:%Y-%m-%d} · {series}")
    fig.text(0.04, 0.87, _wrap(a.explanation, 150), fontsize=10, va="top")
    chips = [c for c in (ev.before, ev.after) if c is not None]
    if chips:
        width = 0.92 / len(chips)  # a landscape page holds even wide pairs side by side
        for i, chip in enumerate(chips):
            rect = (0.04 + i * width + 0.01, 0.2, width - 0.02, 0.58)
            draw_chip(fig.add_axes(rect), chip)
        draw_legend(fig, [d for c in chips for d in c.detections])
    notes = list(ev.notes)
    if ev.before is not None:
        notes.insert(
            0,
            "Left: before (most recent usable image near the baseline); right: alert "
            "image; same site grid, same ground extent.",
        )
    if notes:
        fig.text(0.04, 0.1, _wrap("\n".join(notes), 170), fontsize=8, color="#5f6b76", va="bottom")
    return fig


#: Lines of alert text on one landscape page (8 pt).
ALERT_LINES_PER_PAGE = 46


def _alert_pages(data: ReportData) -> list[Figure]:
    """The alerts' pages in the report's order (newest first, as in the HTML): a page
    for each alert with images, the alerts without images between them several to a
    page. Before, every alert with images came first, so a newer alert without images
    (e.g. the latest image's) followed every older, more severe one."""
    pages: list[Figure] = []
    total = sum(1 for ev in data.evidence if ev.after is None)
    run: list[Evidence] = []
    listed = 0
    for ev in data.evidence:
        if ev.after is None:
            run.append(ev)
            continue
        if run:
            listed += len(run)
            pages += _alert_list_pages(data, run, total=total, first=listed - len(run))
            run = []
        pages.append(_evidence_page(data, ev))
    if run:
        pages += _alert_list_pages(data, run, total=total, first=listed)
    return pages


def _alert_list_pages(
    data: ReportData, evidence: Sequence[Evidence], *, total: int | None = None, first: int = 0
) -> list[Figure]:
    """Alerts without images, several to a page, in the order given (newest first): date,
    severity, kind, series, the explanation and the evidence's notes. One page each made
    the demo's PDF 84 pages of a paragraph each. ``total`` is the number of alerts
    without images in the report (default: those given), ``first`` how many of them
    came before these."""
    blocks = []
    for ev in evidence:
        a = ev.alert
        series = "site total" if a.cls == "all" else a.cls
        ack = " (acknowledged" + (f": {a.note})" if a.note else ")") if a.acknowledged else ""
        head = f"{a.when:%Y-%m-%d} · {a.severity} · {a.kind} · {series}{ack}"
        notes = [n for n in ev.notes if "most severe alerts only" not in n]
        text = "\n".join([a.explanation, *notes])
        blocks.append(f"{_wrap(head, 170)}\n{_wrap(text, 170)}")
    n_total = len(blocks) if total is None else total
    pages: list[Figure] = []
    chunk: list[str] = []
    used = start = 0
    for i, block in enumerate(blocks):
        n = block.count("\n") + 2
        if chunk and used + n > ALERT_LINES_PER_PAGE:
            pages.append(_alert_list_page(data, chunk, first + start, n_total))
            chunk, used, start = [], 0, i
        chunk.append(block)
        used += n
    if chunk:
        pages.append(_alert_list_page(data, chunk, first + start, n_total))
    return pages


def _alert_list_page(data: ReportData, blocks: list[str], start: int, total: int) -> Figure:
    """A page of alerts without images: numbers ``start + 1`` to ``start + len(blocks)``
    of ``total``."""
    fig = _page()
    shown = sum(1 for ev in data.evidence if ev.after is not None)
    span = f"{start + 1}" if len(blocks) == 1 else f"{start + 1}–{start + len(blocks)}"
    _header(
        fig,
        data,
        f"Alerts without images, newest first: {span} of {total} "
        f"(images are shown for the {shown} most severe)",
    )
    fig.text(0.04, 0.87, "\n\n".join(blocks), fontsize=8, va="top", linespacing=1.3)
    return fig


def _table_rows(data: ReportData, scenes: Sequence[SceneRow]) -> list[list[str]]:
    rows = []
    for s in scenes:
        usable = "yes" if s.usable else ("no: " + ", ".join(s.reasons) if s.reasons else "no")
        rows.append(
            [
                f"{s.when:%Y-%m-%d %H:%M}",
                s.sensor or "",
                f"{s.gsd:.2f}",
                usable[:28],
                fmt_pct(s.clear_fraction),
                fmt_pct(s.coverage),
                fmt_scene_count(s),
                *[fmt_num(s.by_class.get(c)) if s.counted else "" for c in data.classes],
                fmt_num(s.covered) if s.counted else "",
                s.method or "",
            ]
        )
    return rows


def _table_pages(data: ReportData) -> list[Figure]:
    header = [
        "date (UTC)",
        "sensor",
        "GSD m",
        "usable",
        "clear",
        "coverage",
        "count",
        *data.classes,
        "covered",
        "method",
    ]
    pages = []
    scenes = list(data.scenes)
    for start in range(0, max(len(scenes), 1), ROWS_PER_PAGE):
        chunk = scenes[start : start + ROWS_PER_PAGE]
        fig = _page()
        _header(fig, data, f"Images {start + 1}–{start + len(chunk)} of {len(scenes)}")
        ax = fig.add_axes((0.04, 0.05, 0.92, 0.82))
        ax.axis("off")
        if chunk:
            table = ax.table(
                cellText=_table_rows(data, chunk),
                colLabels=header,
                loc="upper center",
                cellLoc="right",
                colLoc="right",
            )
            table.auto_set_font_size(False)
            table.set_fontsize(7)
            cells = [header, *_table_rows(data, chunk)]
            chars = [max(len(str(r[i])) for r in cells) + 2 for i in range(len(header))]
            total = float(sum(chars))
            for (_row, col), cell in table.get_celld().items():
                cell.set_width(min(chars[col] / total, 0.3))
            for (row, _col), cell in table.get_celld().items():
                cell.set_edgecolor("#d8dde2")
                if row == 0:
                    cell.set_facecolor("#f0f2f4")
                elif not chunk[row - 1].counted:
                    cell.set_facecolor("#fff6ef")
        pages.append(fig)
    return pages


#: Lines of caveats and method on one landscape page (8.5 pt, line spacing 1.35).
TEXT_LINES_PER_PAGE = 42


def _text_pages(data: ReportData) -> list[Figure]:
    """Caveats and method, as many pages as they take: one page held about 40 lines,
    and the demo's 45 caveats ran off its foot, the method with them."""
    blocks = ["Caveats\n"]
    blocks += [_wrap("• " + c, 140) for c in data.caveats] or ["• none"]
    if data.events:
        blocks += ["\nEvents\n"]
        blocks += [_wrap(f"{e.when.isoformat()}  {e.label}", 140) for e in data.events]
    blocks += ["\nMethod\n"]
    blocks += [_wrap(f"{k}: {v}", 140) for k, v in data.method]
    chunks: list[list[str]] = [[]]
    used = 0
    for block in blocks:
        n = block.count("\n") + 1
        if chunks[-1] and used + n > TEXT_LINES_PER_PAGE:
            chunks.append([])
            used = 0
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


def write_pdf(data: ReportData, path: str | Path) -> Path:
    """Write the PDF report to ``path`` (parent directories are created)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    metadata = {
        "Title": f"railwatch report: {data.site}",
        "Creator": f"railwatch {__version__}",
        "CreationDate": data.generated.astimezone(UTC)
        if data.generated.tzinfo
        else data.generated.replace(tzinfo=UTC),
    }
    # text as written: a '$' pair in a label or note is not mathtext (charts.PLAIN_TEXT)
    rc: Any = {"pdf.fonttype": 3, **PLAIN_TEXT}
    with matplotlib.rc_context(rc), PdfPages(out, metadata=metadata) as pdf:
        pages = [_first_page(data)]
        pages += _alert_pages(data)
        pages += _table_pages(data)
        pages += _text_pages(data)
        for fig in pages:
            pdf.savefig(fig)
    return out
