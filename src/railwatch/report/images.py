"""Which images a printed report lists one by one, and the summary of the others.

A site watched for ten years has 2,000+ images: a table of every one ran the PDF to
100+ pages. The PDF lists every image only when the period holds a few pages of them
(:data:`FULL_LIST_MAX`); otherwise it gives one row per month, quarter or year (how
many images, how many counted, why the others could not be, the counts' median and
highest) and lists in full only the images an analyst needs (:func:`key_images`): the
latest, those behind each alert above info and each alert shown with images, the
highest count and the headline's record. The full list stays in the HTML report (and
``railwatch export SITE --format csv``). Pure functions of :class:`ReportData`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from railwatch.report.caveats import reason_kind
from railwatch.report.model import SEVERITY_RANK, ReportData, SceneRow

#: A period of at most this many images is listed whole in the PDF (two pages).
FULL_LIST_MAX = 56
#: At most this many images are listed one by one otherwise (three pages).
KEY_IMAGES_MAX = 84
#: The images of the period's last this many days are listed (at least the last
#: :data:`LATEST_MIN` images, at most :data:`LATEST_MAX`).
LATEST_DAYS = 31
LATEST_MIN = 5
LATEST_MAX = 28
#: The summary has one row per month, else per quarter, else per year: the finest that
#: keeps it within this many rows.
SUMMARY_ROWS_MAX = 48


@dataclass(frozen=True)
class KeyImage:
    """An image the printed report lists, and why (``why``: short reasons, most
    important first)."""

    row: SceneRow
    why: tuple[str, ...]


@dataclass(frozen=True)
class ImageBin:
    """The images of one month, quarter or year of the period."""

    label: str
    images: int
    counted: int
    #: Images that could not be counted, by short reason ("cloud 3, haze 1").
    not_counted: str
    #: Median and highest count of the main method's counts (None without any), and
    #: the date of the highest.
    median: float | None
    highest: float | None
    highest_when: datetime | None
    #: Alerts of the bin above info (as "1 high, 2 low"), or "" when there are none.
    alerts: str


def lists_every_image(data: ReportData) -> bool:
    """Whether the printed report lists every image of the period (few enough)."""
    return len(data.scenes) <= FULL_LIST_MAX


def main_method(rows: Sequence[SceneRow]) -> str | None:
    """The counting method of most counted images (``objects``, ``length``), as the
    chart's baseline band; None without a count of cars."""
    methods = Counter(r.method or "objects" for r in rows if r.counts_cars)
    return max(sorted(methods), key=lambda m: methods[m]) if methods else None


def _latest(rows: Sequence[SceneRow]) -> list[SceneRow]:
    """The images of the period's last :data:`LATEST_DAYS` days (at least
    :data:`LATEST_MIN`, at most :data:`LATEST_MAX` of them, the newest)."""
    if not rows:
        return []
    ordered = sorted(rows, key=lambda r: r.when, reverse=True)
    start = ordered[0].when - timedelta(days=LATEST_DAYS)
    recent = [r for r in ordered if r.when >= start]
    return (recent if len(recent) >= LATEST_MIN else ordered[:LATEST_MIN])[:LATEST_MAX]


def record_image(data: ReportData) -> SceneRow | None:
    """The image that set the headline's previous record (the newest earlier image of the
    latest image's method with that count), when the headline gives one."""
    h = data.headline
    if h.latest is None or h.record is None:
        return None
    method = h.latest.method or "objects"
    same = [
        r
        for r in data.scenes
        if r.counts_cars
        and (r.method or "objects") == method
        and r.when < h.latest.when
        and r.total is not None
        and abs(r.total - h.record) < 1e-6
    ]
    return max(same, key=lambda r: r.when) if same else None


def key_images(data: ReportData, limit: int = KEY_IMAGES_MAX) -> tuple[list[KeyImage], int]:
    """The images the printed report lists one by one, newest first, and how many more
    would have been listed past ``limit``: the latest images of the period, the
    headline's latest usable image and the image of its record, the period's highest
    count, the images of each alert shown with images (alert and before image) and of
    each alert above info. When there are more than ``limit``, the most important are
    kept (in that order; alerts by severity, then newest)."""
    by_id = {r.scene_id: r for r in data.scenes}
    why: dict[int, list[str]] = {}
    rank: dict[int, tuple[int, float]] = {}

    def add(row: SceneRow | None, reason: str, priority: int) -> None:
        if row is None or row.scene_id not in by_id:
            return
        reasons = why.setdefault(row.scene_id, [])
        if reason not in reasons:
            reasons.append(reason)
        key = (priority, -row.when.timestamp())
        rank[row.scene_id] = min(rank.get(row.scene_id, key), key)

    for row in _latest(data.scenes):
        add(row, "latest images", 0)
    add(data.headline.latest, "latest usable", 0)
    cars = [r for r in data.scenes if r.counts_cars]
    method = main_method(cars)
    main = [r for r in cars if (r.method or "objects") == method]
    if main:
        add(max(main, key=lambda r: (r.total or 0.0, r.when)), "highest count", 1)
    add(record_image(data), "previous record", 1)
    for ev in data.evidence:
        if ev.after is not None:
            day = f"{ev.alert.day}"
            add(ev.after_row, f"{ev.alert.kind} {ev.alert.severity}", 2)
            add(ev.before_row, f"before image of {day}", 2)
    for a in sorted(data.alerts, key=lambda a: -SEVERITY_RANK.get(a.severity, 0)):
        if a.scene_id is not None and a.severity != "info":
            add(by_id.get(a.scene_id), f"{a.kind} {a.severity}", 5 - SEVERITY_RANK[a.severity])
    chosen = sorted(rank, key=lambda sid: rank[sid])
    kept = sorted(chosen[:limit], key=lambda sid: by_id[sid].when, reverse=True)
    return [KeyImage(by_id[sid], tuple(why[sid])) for sid in kept], max(len(chosen) - limit, 0)


def _bin_key(when: date, step: str) -> tuple[int, int]:
    if step == "month":
        return (when.year, when.month)
    if step == "quarter":
        return (when.year, (when.month - 1) // 3 + 1)
    return (when.year, 0)


def _bin_label(key: tuple[int, int], step: str) -> str:
    year, part = key
    return {"month": f"{year}-{part:02d}", "quarter": f"{year} Q{part}"}.get(step, f"{year}")


def _next_key(key: tuple[int, int], step: str) -> tuple[int, int]:
    year, part = key
    last = {"month": 12, "quarter": 4}.get(step, 0)
    if step == "year" or part == last:
        return (year + 1, 1 if step != "year" else 0)
    return (year, part + 1)


def summary_step(rows: Sequence[SceneRow]) -> str:
    """``month``, ``quarter`` or ``year``: the finest whose rows from the first image to
    the last number at most :data:`SUMMARY_ROWS_MAX`."""
    if not rows:
        return "month"
    first, last = min(r.day for r in rows), max(r.day for r in rows)
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months <= SUMMARY_ROWS_MAX:
        return "month"
    if months / 3 + 1 <= SUMMARY_ROWS_MAX:
        return "quarter"
    return "year"


def image_summary(data: ReportData) -> tuple[str, list[ImageBin]]:
    """The period's images by month, quarter or year (:func:`summary_step`), oldest
    first, every bin from the first image's to the last's (a bin without an image says
    0: a gap the analyst should see)."""
    rows = sorted(data.scenes, key=lambda r: r.when)
    step = summary_step(rows)
    if not rows:
        return step, []
    method = main_method(rows)
    groups: dict[tuple[int, int], list[SceneRow]] = {}
    for r in rows:
        groups.setdefault(_bin_key(r.day, step), []).append(r)
    alerts: dict[tuple[int, int], Counter[str]] = {}
    for a in data.alerts:
        if a.severity != "info":
            alerts.setdefault(_bin_key(a.day, step), Counter())[a.severity] += 1
    key, last = _bin_key(rows[0].day, step), _bin_key(rows[-1].day, step)
    out = []
    while key <= last:
        group = groups.get(key, [])
        counted = [r for r in group if r.counted]
        why = Counter(reason_kind(r.reasons) for r in group if not r.counted)
        values = [r for r in counted if r.counts_cars and (r.method or "objects") == method]
        top = max(values, key=lambda r: (r.total or 0.0, r.when)) if values else None
        sev = alerts.get(key, Counter())
        out.append(
            ImageBin(
                label=_bin_label(key, step),
                images=len(group),
                counted=len(counted),
                not_counted=", ".join(f"{k} {n}" for k, n in why.most_common()),
                median=median(r.total or 0.0 for r in values) if values else None,
                highest=top.total if top else None,
                highest_when=top.when if top else None,
                alerts=", ".join(
                    f"{sev[s]} {s}" for s in sorted(sev, key=lambda s: -SEVERITY_RANK[s])
                ),
            )
        )
        key = _next_key(key, step)
    return step, out
