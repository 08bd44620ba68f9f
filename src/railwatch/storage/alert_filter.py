"""Which stored alerts a list shows: the filters of ``railwatch alerts`` and of the web
API's alert lists (``GET /api/alerts``, ``GET /api/sites/{site}/alerts``), read by one
set of rules and applied in SQL.

The CLI's options (``--since``, ``--until``, ``--min-severity``, ``--class``,
``--kind``) and the API's query parameters (``since``, ``until``, ``min_severity``,
``class``, ``kind``) mean the same and are refused with the same words, naming the
option or parameter (``what``), the value and what it may be: both read them here
(2026-12-06, session 35; the CLI read them itself, and the API had none of them). The
conditions are SQL (:func:`alert_conditions`, used by
:func:`railwatch.storage.repo.list_alerts` and :func:`~railwatch.storage.repo.alert_page`),
so a page of the API's list and its ``total`` count only the alerts that match.

A date alone (``2023-10-05``) is a day at each alert's site: the day its key and text
name, its image's local day in the site's nominal zone
(:func:`railwatch.sites.site_utc_offset_of`); a date and time (``2023-10-05T00:00Z``;
without a zone, UTC) is an instant. ``since`` keeps the alerts on or after it, ``until``
those on or before it (a day: to its end, the day included).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from railwatch.errors import InputError
from railwatch.limits import parse_time

__all__ = [
    "AlertFilter",
    "alert_conditions",
    "check_min_severity",
    "check_series",
    "check_when_range",
    "parse_changed_since",
    "parse_kinds",
    "parse_when",
]

#: A date alone (a day at each alert's site), not a time.
_DAY_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")

#: What a since or until that is no date is told it should be (the CLI's words for
#: ``--since`` since session 28; the time it also takes named since 2026-12-07, session
#: 49: ``2023-10-05T25:00`` was told it is "not a date YYYY-MM-DD" alone).
WHEN_EXPECTED = (
    "a date YYYY-MM-DD (a day at each alert's site) or a date and time "
    "YYYY-MM-DDTHH:MM[:SS] (UTC unless it gives its zone, e.g. Z or +09:00)"
)


@dataclass(frozen=True)
class AlertFilter:
    """The filters of an alert list beyond its site and state (active, open): each
    left at its default keeps every alert.

    ``since``/``until``: a :class:`~datetime.date` is a day at each alert's site, an aware
    :class:`~datetime.datetime` an instant (both ends included); ``min_severity``: a
    severity of :data:`railwatch.analysis.types.SEVERITIES`, the alerts from it up;
    ``cls``: one series (``all``, ``covered`` or a car class); ``kinds``: the alert kinds
    kept (:data:`railwatch.analysis.types.ALERT_KINDS`; empty: every kind);
    ``changed_since``: an aware instant, the alerts `railwatch analyze` stored (raised,
    or changed: another count, explanation, severity or image) at or after it, whatever
    day their image is of (a daily job's "new alerts", those of images delivered late
    too; 2026-12-07, session 47)."""

    since: datetime | date | None = None
    until: datetime | date | None = None
    min_severity: str = "info"
    cls: str | None = None
    kinds: tuple[str, ...] = ()
    changed_since: datetime | None = None

    @property
    def narrows(self) -> bool:
        """Whether any filter is set (a list may then be empty for that reason)."""
        return (
            self.since is not None
            or self.until is not None
            or self.min_severity != "info"
            or self.cls is not None
            or bool(self.kinds)
            or self.changed_since is not None
        )


def parse_when(text: str | None, what: str) -> datetime | date | None:
    """A since or until (the value of ``what``): a :class:`~datetime.date` for a date
    alone, a day at each alert's site (session 31); an aware UTC datetime for a date and
    time (:func:`railwatch.limits.parse_time`: YYYY-MM-DD only, an impossible date said
    as such); None when not given."""
    if text is None:
        return None
    at = parse_time(text, what, WHEN_EXPECTED)
    return at.date() if _DAY_ONLY.fullmatch(text.strip()) else at


def parse_changed_since(text: str | None, what: str) -> datetime | None:
    """A ``changed_since`` (the value of ``what``): an aware UTC instant, a date alone
    being its midnight UTC (:func:`railwatch.limits.parse_time`); None when not given."""
    if text is None:
        return None
    return parse_time(text, what, "ISO 8601, e.g. 2026-12-06T06:30:00Z")


def check_when_range(
    since: datetime | date | None, until: datetime | date | None, names: tuple[str, str]
) -> None:
    """Refuse a ``since`` after ``until`` when both are days or both instants (nothing
    could be listed); ``names`` are theirs in messages (``("--since", "--until")``). A
    day and an instant are not compared: which is first depends on each site's zone."""
    if since is None or until is None or isinstance(since, datetime) != isinstance(until, datetime):
        return
    if since > until:  # both dates or both datetimes
        raise InputError(
            f"{names[0]} {since.isoformat()} is after {names[1]} {until.isoformat()}: no "
            f"alert can be both; give {names[0]} on or before {names[1]}"
        )


def check_min_severity(value: str, what: str) -> str:
    """``value`` when it is a severity (info, low, medium, high); else an
    :class:`~railwatch.errors.InputError` naming ``what`` and the severities."""
    from railwatch.analysis.types import SEVERITIES

    if value not in SEVERITIES:
        raise InputError(f"{what} {value!r}: use one of {', '.join(SEVERITIES)}")
    return value


def check_series(cls: str | None, what: str) -> str | None:
    """``cls`` when it is None or a series alerts are raised on (``all``: the site
    total, ``covered`` or a car class); else an :class:`~railwatch.errors.InputError`
    naming ``what`` and the series."""
    from railwatch.detect.base import ALL_CLASSES

    if cls is not None and cls not in ("all", "covered", *ALL_CLASSES):
        raise InputError(
            f"{what} {cls!r} is not a railcar class: use all (the total), covered or one of "
            f"{', '.join(ALL_CLASSES)}"
        )
    return cls


def parse_kinds(values: Iterable[str], what: str) -> tuple[str, ...]:
    """The alert kinds of ``values``, each one kind or a comma-separated list of them
    (``record,shift``; the option or parameter may also be repeated), in the order
    given, each once; an unknown or empty kind is an :class:`~railwatch.errors.InputError`
    naming ``what``, the value and the kinds."""
    from railwatch.analysis.types import ALERT_KINDS

    kinds: list[str] = []
    for value in values:
        for part in value.split(","):
            kind = part.strip()
            if kind not in ALERT_KINDS:
                shown = f"{kind!r} (in {value!r})" if kind != value else repr(kind)
                raise InputError(
                    f"{what} {shown} is not an alert kind: use one or more of "
                    f"{', '.join(ALERT_KINDS)} (repeat {what} or separate them with commas)"
                )
            if kind not in kinds:
                kinds.append(kind)
    return tuple(kinds)


def _day_start(day: date, offset: timedelta) -> datetime | None:
    """The UTC instant local ``day`` begins at a site ``offset`` east of UTC; None
    before the first representable instant (no bound)."""
    try:
        return datetime.combine(day, time(), UTC) - offset
    except OverflowError:
        return None


def _day_bounds(
    since: date | None, until: date | None, offset: timedelta
) -> list[ColumnElement[bool]]:
    from railwatch.storage.models import Alert

    out: list[ColumnElement[bool]] = []
    if since is not None and (start := _day_start(since, offset)) is not None:
        out.append(Alert.when >= start)
    if until is not None and until < date.max:
        end = _day_start(until + timedelta(days=1), offset)
        if end is not None:
            out.append(Alert.when < end)
    return out


def _offsets(session: Session, site_id: int | None) -> dict[timedelta, list[int]]:
    """The sites (only ``site_id``'s when given) by their nominal zone."""
    from railwatch.sites import site_utc_offset_of
    from railwatch.storage.models import Site, from_wkb

    q = select(Site.id, Site.geometry_wkb)
    if site_id is not None:
        q = q.where(Site.id == site_id)
    groups: dict[timedelta, list[int]] = {}
    for sid, wkb in session.execute(q):
        groups.setdefault(site_utc_offset_of(from_wkb(wkb)), []).append(int(sid))
    return groups


def alert_conditions(
    session: Session, filters: AlertFilter, site_id: int | None = None
) -> list[ColumnElement[bool]]:
    """SQL conditions on :class:`~railwatch.storage.models.Alert` for ``filters`` (of the
    site ``site_id``'s alerts, or every site's). A day bound is each alert's local day at
    its site: the sites are grouped by their nominal zone, each group with the bounds of
    its zone (at most 25 zones, whatever the number of sites)."""
    from railwatch.analysis.types import SEVERITIES
    from railwatch.storage.models import Alert

    cond: list[ColumnElement[bool]] = []
    floor = SEVERITIES.index(filters.min_severity)
    if floor:
        cond.append(Alert.severity.in_(SEVERITIES[floor:]))
    if filters.cls is not None:
        cond.append(Alert.cls == filters.cls)
    if filters.kinds:
        cond.append(Alert.kind.in_(filters.kinds))
    if isinstance(filters.since, datetime):
        cond.append(Alert.when >= filters.since)
    if isinstance(filters.until, datetime):
        cond.append(Alert.when <= filters.until)
    if filters.changed_since is not None:
        cond.append(Alert.updated_at >= filters.changed_since)
    since_day = None if isinstance(filters.since, datetime) else filters.since
    until_day = None if isinstance(filters.until, datetime) else filters.until
    if since_day is not None or until_day is not None:
        zones: list[ColumnElement[bool]] = []
        for offset, ids in _offsets(session, site_id).items():
            zones.append(and_(Alert.site_id.in_(ids), *_day_bounds(since_day, until_day, offset)))
        cond.append(or_(*zones) if zones else false())
    return cond
