"""Render a :class:`ReportData` as one self-contained HTML file.

Every image is embedded as a ``data:`` URI (the chart as SVG, chips as PNG), the
CSS is inline and nothing refers to the network, so the file opens offline and
can be mailed as it is.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from railwatch import __version__
from railwatch.detect.base import series_label
from railwatch.report.charts import (
    beyond_axis_words,
    chart_marks,
    chart_title,
    events_off_axis_words,
    timeseries_figure,
    to_jpeg,
    to_svg,
)
from railwatch.report.chips import chip_figure, is_wide, pair_figure
from railwatch.report.fonts import cjk_text, drawing
from railwatch.report.format import (
    covered_words,
    fmt_class_count,
    fmt_count,
    fmt_num,
    fmt_pct,
    fmt_period,
    fmt_scene_count,
    is_limit_note,
    quality_words,
)
from railwatch.report.model import (
    SEVERITY_RANK,
    AlertRow,
    Evidence,
    ReportData,
    acknowledged_words,
    clock_words,
    lone_image_words,
    shown_before,
)
from railwatch.report.style import car_equivalent_m, length_range


def data_uri(payload: bytes, mime: str) -> str:
    """A base64 ``data:`` URI."""
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def chart_svg(data: ReportData, *, narrow: bool = False) -> bytes:
    """The report's time-series chart as SVG (its title in the CJK font too, when that
    is installed: :func:`~railwatch.report.fonts.cjk_text`); ``narrow``: the rendering a
    phone shows (:func:`~railwatch.report.charts.timeseries_figure`)."""
    with cjk_text():  # made and written under its lock (fonts.drawing)
        fig = timeseries_figure(
            data.scenes,
            data.baseline,
            data.events,
            data.alerts,
            title=chart_title(data.site),
            utc_offset=data.utc_offset,
            period=data.headline.period,
            narrow=narrow,
        )
        return to_svg(fig)


def evidence_image(evidence: Evidence, dpi: int = 130) -> bytes | None:
    """The before/after pair (or the alert image alone) as JPEG; None without images."""
    if evidence.after is None:
        return None
    with drawing():  # made and drawn with no other thread's settings in between
        if evidence.before is None:
            return to_jpeg(chip_figure(evidence.after), dpi=dpi)
        return to_jpeg(pair_figure(evidence.before, evidence.after), dpi=dpi)


def lone_image_jpeg(data: ReportData, dpi: int = 130) -> bytes | None:
    """The report's lone image (:attr:`ReportData.lone_image`) as JPEG; None without one."""
    if data.lone_image is None:
        return None
    with drawing():
        return to_jpeg(chip_figure(data.lone_image), dpi=dpi)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("railwatch.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        fmt_num=fmt_num,
        fmt_count=fmt_count,
        fmt_class_count=fmt_class_count,
        fmt_pct=fmt_pct,
        fmt_scene_count=fmt_scene_count,
        covered_words=covered_words,
        quality_words=quality_words,
        year_summary=year_summary,
        length_range=length_range,
        car_equivalent_m=car_equivalent_m,
        series_label=series_label,
    )
    return env


#: The steps :func:`render_html` tells its ``on_step`` of (``builder.StepCallback``).
STEP_IMAGES = "drawing the HTML's images"
STEP_CHART = "drawing the chart"


def render_html(data: ReportData, on_step: Callable[[str, int, int], None] | None = None) -> str:
    """The report as an HTML document (a string); ``on_step(step, done, total)`` is told
    how far it got (:data:`STEP_IMAGES` image by image, then :data:`STEP_CHART`)."""
    template = _environment().get_template("report.html.j2")
    evidence_uris: list[str] = []
    # alerts on the same images (by scene, whatever their class: pdf.pair_key) point to
    # the first one; until 2026-12-07 (session 50) a class's alert drew the site total's
    # images again, its chips' captions adding the class's count
    earlier = shown_before(data.evidence)
    same_as: list[int | None] = [earlier.get(i) for i in range(len(data.evidence))]
    n_images = sum(1 for i, ev in enumerate(data.evidence) if ev.after and i not in earlier)
    drawn = 0
    if on_step is not None and n_images:
        on_step(STEP_IMAGES, 0, n_images)
    for i, ev in enumerate(data.evidence):
        if i in earlier:
            evidence_uris.append("")
            continue
        jpeg = evidence_image(ev)
        if on_step is not None and ev.after is not None:
            drawn += 1
            on_step(STEP_IMAGES, drawn, n_images)
        evidence_uris.append(data_uri(jpeg, "image/jpeg") if jpeg is not None else "")
    # "Images are shown for alerts above info only." once under the heading, not
    # under each of the other alerts (84 times on the demo)
    limit = next((n for ev in data.evidence for n in ev.notes if is_limit_note(n)), None)
    notes = [tuple(n for n in ev.notes if not is_limit_note(n)) for ev in data.evidence]
    if on_step is not None:
        on_step(STEP_CHART, 0, 1)
    chart_uri = data_uri(chart_svg(data), "image/svg+xml")
    chart_narrow_uri = data_uri(chart_svg(data, narrow=True), "image/svg+xml")
    lone = lone_image_jpeg(data)
    if on_step is not None:
        on_step(STEP_CHART, 1, 1)
    return template.render(
        blocks=alert_blocks(data.evidence),
        d=data,
        h=data.headline,
        limit_note=limit,
        notes=notes,
        version=__version__,
        period=fmt_period(data.headline.period),
        chart_uri=chart_uri,
        chart_narrow_uri=chart_narrow_uri,
        lone_uri=data_uri(lone, "image/jpeg") if lone is not None else "",
        lone_words=lone_image_words(data),
        beyond_axis=beyond_axis_words(data.scenes, data.baseline),
        # the kinds of mark the chart draws, for its caption to name those alone, and
        # the events it leaves off its time axis (session 39)
        marks=chart_marks(
            data.scenes,
            data.baseline,
            data.events,
            data.alerts,
            period=data.headline.period,
            utc_offset=data.utc_offset,
        ),
        events_off=events_off_axis_words(data.scenes, data.events, data.headline.period),
        evidence_uris=evidence_uris,
        same_as=same_as,
        wide=[ev.after is not None and is_wide(ev.after) for ev in data.evidence],
        n_usable=sum(1 for s in data.scenes if s.counted),
        alerted={a.scene_id for a in data.alerts if a.scene_id is not None},
        acked_words=acknowledged_words(data),
        clock=clock_words(data.utc_offset),
    )


#: A run of alerts without images longer than this is folded under a summary line (the
#: newest run open): a site watched for years has hundreds of them.
FOLD_ALERTS = 12


@dataclass(frozen=True)
class AlertBlock:
    """A part of the alerts section: one alert with its images (``items`` is its index in
    ``ReportData.evidence``), or a run of alerts without images listed as table rows,
    grouped by year (``years``: (year, indices)), folded when long."""

    items: tuple[int, ...]
    listed: bool
    years: tuple[tuple[int, tuple[int, ...]], ...] = ()
    summary: str = ""
    folded: bool = False
    open: bool = True


def _severity_counts(alerts: Sequence[AlertRow]) -> str:
    counts = Counter(a.severity for a in alerts)
    order = sorted(counts, key=lambda s: -SEVERITY_RANK.get(s, 0))
    return ", ".join(f"{counts[s]} {s}" for s in order)


def alert_blocks(evidence: Sequence[Evidence], fold: int = FOLD_ALERTS) -> list[AlertBlock]:
    """The alerts section in the report's order (newest first): each alert with images as
    its own block, the alerts without images between them as one table per run, its rows
    grouped by year under a line that counts them by severity; a run of more than
    ``fold`` alerts is folded under its summary, the newest such run open. Before, each
    alert was a paragraph of its own: 250 on a site watched for ten years."""
    blocks: list[AlertBlock] = []
    run: list[int] = []
    folded_runs = 0

    def close() -> None:
        nonlocal folded_runs
        if not run:
            return
        alerts = [evidence[i].alert for i in run]
        years: dict[int, list[int]] = {}
        for i in run:
            years.setdefault(evidence[i].alert.day.year, []).append(i)
        first, last = alerts[-1].day, alerts[0].day
        span = f"{first}" if first == last else f"{first} to {last}"
        n = len(run)
        folded = n > fold
        blocks.append(
            AlertBlock(
                items=tuple(run),
                listed=True,
                years=tuple((y, tuple(ix)) for y, ix in years.items()),
                summary=f"{n} alert{'s' if n != 1 else ''} without images, {span} "
                f"({_severity_counts(alerts)})",
                folded=folded,
                open=not folded or folded_runs == 0,
            )
        )
        folded_runs += folded
        run.clear()

    for i, ev in enumerate(evidence):
        if ev.after is None:
            run.append(i)
            continue
        close()
        blocks.append(AlertBlock(items=(i,), listed=False))
    close()
    return blocks


def year_summary(evidence: Sequence[Evidence], items: Sequence[int]) -> str:
    """'7 alerts: 1 high, 6 info' for the alerts ``items`` of ``evidence``."""
    alerts = [evidence[i].alert for i in items]
    return f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}: {_severity_counts(alerts)}"


def write_html(
    data: ReportData,
    path: str | Path,
    *,
    on_step: Callable[[str, int, int], None] | None = None,
) -> Path:
    """Write the HTML report to ``path`` (parent directories are created; an earlier file
    there is replaced once the new one is whole, :func:`railwatch.report.output.written`);
    ``on_step`` as :func:`render_html`'s."""
    from railwatch.report.output import written

    out = Path(path)
    page = render_html(data, on_step)
    with written(out) as (tmp,):
        tmp.write_text(page, encoding="utf-8")
    return out
