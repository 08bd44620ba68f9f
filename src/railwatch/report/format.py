"""Small number formatters shared by the HTML and PDF renderers."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from railwatch.analysis.types import whole_car_bounds

if TYPE_CHECKING:
    from railwatch.report.model import AlertRow, SceneRow

DASH = "–"


def is_limit_note(note: str) -> bool:
    """Whether an evidence note is the one saying which alerts have images ("Images are
    shown for alerts above info only.", "... for the 10 most severe alerts above info
    only."): said once in the HTML, left out of the PDF's alert lists."""
    return note.startswith("Images are shown for ") and note.endswith(" only.")


def fmt_num(value: float | None) -> str:
    """A count: whole numbers without decimals, others with one; a dash for None."""
    if value is None:
        return DASH
    v = float(value)
    return f"{v:.0f}" if abs(v - round(v)) < 0.05 else f"{v:.1f}"


def fmt_count(
    value: float | None,
    low: float | None = None,
    high: float | None = None,
    method: str | None = "objects",
) -> str:
    """A count with its interval, e.g. ``73 [70–76]`` (bounds as
    :func:`railwatch.analysis.types.whole_car_bounds` gives them for ``method``)."""
    if value is None:
        return DASH
    if low is None or high is None or (low == value and high == value):
        return fmt_num(value)
    low, high = whole_car_bounds(float(value), float(low), float(high), method)
    return f"{fmt_num(value)} [{fmt_num(low)}{DASH}{fmt_num(high)}]"


def fmt_scene_count(row: SceneRow) -> str:
    """An image's count for the scene tables: its count with the interval, or for a
    presence image (10 m and coarser: no count) whether a long train is present."""
    if not row.counted:
        return DASH
    if row.presence:
        return "long train present" if row.long_train else "no long train"
    if row.reviewed:
        return f"{fmt_num(row.total)} ({reviewed_words(row)})"
    return fmt_count(row.total, row.low, row.high, row.method)


def fmt_class_count(row: SceneRow, cls: str) -> str:
    """An image's count of one car type (or ``covered``) for the scene tables: empty for
    an image not counted (its count cell says why), a dash where its method cannot tell
    the type (occupied track length at 1.5-10 m, a long-train flag at 10 m), else the
    number, 0 included: a type the detector named on none of the cars of an image counted
    one by one is 0 there (:func:`railwatch.report.data.count_of`, as the export's
    ``count_<class>`` columns give it). Until 2026-12-06 (session 38) the tables printed a
    dash for it too, so "0 tank cars" and "types not told" read the same."""
    if not row.counted:
        return ""
    from railwatch.report.data import count_of

    return fmt_num(count_of(row, cls))


def reviewed_words(row: SceneRow) -> str:
    """'analyst; detector 61' for an image whose count is an analyst's, with the
    detector's count it replaced."""
    return f"analyst; detector {fmt_num(row.detector_total)}"


def covered_share(row: SceneRow) -> str:
    """The share of an image's count whose loads are under tarpaulins or sheets (contents
    not identifiable), ``59 %``; empty where it is not known (no cars counted one by
    one, or none counted)."""
    if row.covered is None or (row.method or "objects") != "objects" or not row.total:
        return ""
    return fmt_pct(row.covered / row.total)


def covered_words(row: SceneRow) -> str:
    """``40 covered (59 %)`` for an image counted car by car (empty where not known): the
    headline's current count carries it (session 35: the covered share of the latest
    image was nowhere on the first page)."""
    share = covered_share(row)
    return f"{row.covered} covered ({share})" if share else ""


def quality_words(row: SceneRow) -> str:
    """``clear 100 % · coverage 100 %``: an image's quality over the site, as its chips'
    captions give it."""
    return f"clear {fmt_pct(row.clear_fraction)} · coverage {fmt_pct(row.coverage)}"


def fmt_pct(value: float | None) -> str:
    """A fraction as a whole percentage, e.g. ``97 %``."""
    return DASH if value is None else f"{100.0 * float(value):.0f} %"


def fmt_period(period: tuple[date | None, date | None]) -> str:
    """A period such as ``2019-01-01 to 2023-12-31`` (open ends say so); one day is that
    day, ``2023-10-05`` (a site with one image read "2023-10-05 to 2023-10-05" until
    2026-12-06, session 38)."""
    start, end = period
    if start is None and end is None:
        return "all images"
    if start is not None and start == end:
        return start.isoformat()
    a = start.isoformat() if start else "first image"
    b = end.isoformat() if end else "latest image"
    return f"{a} to {b}"


def acknowledged_text(alert: AlertRow) -> str:
    """'Acknowledged: NOTE.' for an acknowledged alert (its notes on one line), and what
    was acknowledged when it has changed since ('Acknowledged: NOTE; changed since
    acknowledged: was 40 (medium).', :attr:`AlertRow.changed_since`)."""
    note = "; ".join(line.strip() for line in alert.ack_lines if line.strip())
    return "Acknowledged" + (f": {note}" if note else "") + ("" if note.endswith(".") else ".")
