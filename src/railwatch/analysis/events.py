"""Link alerts to the most recent event before them ("18 days after: Kim–Putin summit").

Events are dated by the analysts' local day at the site (``railwatch event add``), so an
alert is related to them from the local day of its image at the site, not the UTC day
of its time: at a site at UTC+12 an image taken at 22:30 UTC on 2024-02-04 is of the
local 2024-02-05. The site's offset from UTC is its nominal solar zone
(:func:`nominal_utc_offset`); hand counts (a CSV) are taken on the days they give. Since
session 31 the analysis judges a site at its local time, so alert keys, the dates in
alert texts and a shift's ``change_date`` are local days too (session 30 kept them UTC).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from railwatch.analysis.series import as_utc
from railwatch.analysis.types import Alert, Event
from railwatch.sites import nominal_utc_offset as nominal_utc_offset  # its home since session 32
from railwatch.sites import site_longitude

if TYPE_CHECKING:
    from railwatch.storage.models import Site
    from railwatch.storage.repo import SiteStats

#: How an explanation names the other events of its event's day.
ALSO = "; also that day: "

#: The metric of a linked alert whose local day at the site (the day its event link is
#: counted from) is not the UTC day of its image (of its change image for a shift):
#: that local day, YYYY-MM-DD. Absent where the two are the same day.
LOCAL_DAY = "local_day"


def local_day(when: datetime, utc_offset: timedelta) -> date:
    """The day at the site, ``utc_offset`` east of UTC, of the instant ``when`` (naive
    values are taken as UTC)."""
    return (as_utc(when) + utc_offset).date()


def alert_day(when: datetime, utc_offset: timedelta) -> date:
    """The day at its site (``utc_offset`` east of UTC) of a stored alert at ``when``: the
    day its key and text name, the local day of ``when`` (an image's UTC time; a
    silence's, the UTC instant of local midnight of its day). What the API's ``day`` and
    ``railwatch alerts`` give (session 31). Until 2026-12-05 (session 32) a silence's
    ``when`` was its local day written as if it were UTC and was taken as it was here;
    storage migration 0005 moved the stored ones, and every kind is dated alike, so the
    ``kind`` parameter it took until then is gone (session 32)."""
    return local_day(when, utc_offset)


def offset_text(utc_offset: timedelta) -> str:
    """``UTC+12``, ``UTC-10``, ``UTC+5:30``; ``UTC`` for none."""
    minutes = round(utc_offset.total_seconds() / 60)
    if not minutes:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def site_utc_offset(site: Site) -> timedelta:
    """A stored site's local time east of UTC, its nominal solar zone
    (:func:`railwatch.sites.nominal_utc_offset` of :func:`site_longitude`): the
    offset whose days the analysis groups its images, keys its alerts and dates them by
    (since session 31), and whose days the reviews, reports and dashboard name.
    (In :mod:`railwatch.analysis.store` until session 39, which still gives it.)"""
    return nominal_utc_offset(site_longitude(site.geometry))


def site_local_days(site: Site, stats: SiteStats) -> dict[str, str | None]:
    """The site's nominal zone (``local_zone``, ``UTC+12``: the zone of
    :func:`site_utc_offset`, whose days the analysis groups its images by and its alerts
    name) and the ISO dates at the site of its first and last images (``first_day``,
    ``last_day``; None without images), as the API's sites and `railwatch site list` /
    `site show` give them (session 31: they showed the UTC days)."""
    offset = site_utc_offset(site)
    return {
        "local_zone": offset_text(offset),
        "first_day": None if stats.first is None else local_day(stats.first, offset).isoformat(),
        "last_day": None if stats.last is None else local_day(stats.last, offset).isoformat(),
    }


def _order(event: Event) -> tuple[str, str]:
    """Events of one day in a fixed order, whatever order the database returned them in
    (PostgreSQL gives rows of equal date in any order)."""
    return (event.label.casefold(), event.label)


def latest_event(day: date, events: Iterable[Event], window_days: int) -> tuple[Event, int] | None:
    """The latest event on or before ``day`` and at most ``window_days`` before it, with the
    gap; of several events that day, the first by label (:func:`events_of_day` has all)."""
    best: tuple[Event, int] | None = None
    for event in events:
        gap = (day - event.when).days
        if 0 <= gap <= window_days and (
            best is None or gap < best[1] or (gap == best[1] and _order(event) < _order(best[0]))
        ):
            best = (event, gap)
    return best


def events_of_day(day: date, events: Iterable[Event]) -> list[Event]:
    """The events dated ``day``, by label, each label once."""
    seen: dict[str, Event] = {}
    for event in sorted((e for e in events if e.when == day), key=_order):
        seen.setdefault(event.label, event)
    return list(seen.values())


def event_phrase(
    event: Event,
    days: int,
    others: Sequence[Event] = (),
    *,
    site_day: tuple[date, timedelta] | None = None,
) -> str:
    """'22 days after: Kim–Putin summit (2023-09-13).', naming ``others`` of that day too
    ('… (2023-09-13); also that day: Flood.'). ``site_day``: the local day at the site
    the days are counted from and the site's offset, said first where that day is not
    the UTC day the alert's own text gives ('2024-02-05 at the site (nominal UTC+12):
    same day as: Flood (2024-02-05).')."""
    same = "Same day as" if site_day is None else "same day as"
    if days == 0:
        text = f"{same}: {event.label} ({event.when.isoformat()})"
    else:
        unit = "day" if days == 1 else "days"
        text = f"{days} {unit} after: {event.label} ({event.when.isoformat()})"
    if site_day is not None:
        day, offset = site_day
        text = f"{day.isoformat()} at the site (nominal {offset_text(offset)}): {text}"
    if others:
        text += ALSO + "; ".join(e.label for e in others)
    return text + "."


def anchor_day(alert: Alert) -> date:
    """The day a stored alert is dated by without its local day: a shift's change date,
    else its time's UTC day (:func:`local_anchor_day` is the day events are related to
    it from)."""
    return stored_anchor_day(alert.when, alert.metrics)


def local_anchor_day(alert: Alert, utc_offset: timedelta = timedelta(0)) -> date:
    """The local day at the site, ``utc_offset`` east of UTC, that an alert is related to
    events from: its shift's change date (``metrics["change_date"]``, the change image's
    local day: the analysis judges at the site's time since session 31), else the local
    day of its own image (its ``when``, in UTC)."""
    if isinstance((alert.metrics or {}).get("change_date"), str):
        return anchor_day(alert)
    return local_day(alert.when, utc_offset)


def stored_anchor_day(when: datetime, metrics: Mapping[str, object] | None) -> date:
    """:func:`anchor_day` of an alert given by its time (UTC) and metrics, as stored."""
    start = (metrics or {}).get("change_date")
    when = as_utc(when)  # a time in another zone is dated by its UTC day
    if isinstance(start, str):
        try:
            return date.fromisoformat(start)
        except ValueError:
            pass
    return when.date()


def names_event(
    when: datetime,
    metrics: Mapping[str, object] | None,
    event_days: int | None,
    event_label: str | None,
    explanation: str,
    event: Event,
) -> bool:
    """Whether a stored alert (its time, metrics, ``event_days``, ``event_label`` and
    explanation) names ``event``: it was linked to that event's day and names its label,
    as its event or as another event of that day. An event of the same label on another
    day is another event. Another event of that day is named when its label is one of
    the labels :func:`event_phrase` lists after :data:`ALSO` ("; also that day: A; B."),
    whole: before, a label found anywhere in that list counted, so "summit" was named
    by an alert that named "summit follow-up" only. Labels are compared in NFC (a label
    stored before labels were normalised may be in NFD)."""
    if event_days is None or event_label is None:
        return False
    if linked_day(when, metrics).toordinal() - event_days != event.when.toordinal():
        return False
    label = _nfc(event.label)
    if _nfc(event_label) == label:
        return True
    _, also, rest = explanation.rpartition(ALSO)
    if not also or not rest.endswith("."):
        return False
    # the list is the labels joined by "; ", closed by ".": bounded by "; " on both sides,
    # a label is one of them whole. A label holding "; " itself still matches; its parts
    # do too ("x" of "x; y"), the list's separator being "; " as well: counted once too
    # often rather than missed
    return f"; {label}; " in f"; {_nfc(rest[:-1])}; "


def linked_day(when: datetime, metrics: Mapping[str, object] | None) -> date:
    """The day a stored alert's ``event_days`` are counted from: its local day at the
    site (:data:`LOCAL_DAY`) where that is not the UTC day :func:`stored_anchor_day`
    gives, else that day (also for alerts linked before session 30, by the UTC day)."""
    local = (metrics or {}).get(LOCAL_DAY)
    if isinstance(local, str):
        try:
            return date.fromisoformat(local)
        except ValueError:
            pass
    return stored_anchor_day(when, metrics)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def link_events(
    alerts: Sequence[Alert],
    events: Iterable[Event],
    window_days: int,
    *,
    utc_offset: timedelta = timedelta(0),
) -> list[Alert]:
    """Alerts with ``event_label``/``event_days`` set and the event named in the explanation
    (quality alerts are left as they are). Several events on the latest day are all named;
    ``event_label`` is the first of them by label.

    Days are counted from the alert's local day at the site (:func:`local_anchor_day`,
    ``utc_offset`` east of UTC), events being dated by local days. Where that day is not
    the UTC day of the alert's time, the explanation says so and ``metrics[LOCAL_DAY]``
    keeps it. With no offset (hand counts) the days are those the counts give."""
    events = tuple(events)
    out: list[Alert] = []
    for alert in alerts:
        if alert.kind == "quality":  # a silence is about imagery, not about events
            out.append(alert)
            continue
        day = local_anchor_day(alert, utc_offset)
        found = latest_event(day, events, window_days)
        if found is None:
            out.append(alert)
            continue
        event, days = found
        others = [e for e in events_of_day(event.when, events) if e.label != event.label]
        shifted = day != anchor_day(alert)
        phrase = event_phrase(event, days, others, site_day=(day, utc_offset) if shifted else None)
        out.append(
            replace(
                alert,
                event_label=event.label,
                event_days=days,
                explanation=f"{alert.explanation} {phrase}",
                metrics={**alert.metrics, LOCAL_DAY: day.isoformat()} if shifted else alert.metrics,
            )
        )
    return out
