"""Link alerts to the most recent event before them ("18 days after: Kim–Putin summit")."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime

from railwatch.analysis.types import Alert, Event

#: How an explanation names the other events of its event's day.
ALSO = "; also that day: "


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


def event_phrase(event: Event, days: int, others: Sequence[Event] = ()) -> str:
    """'22 days after: Kim–Putin summit (2023-09-13).', naming ``others`` of that day too
    ('… (2023-09-13); also that day: Flood.')."""
    if days == 0:
        text = f"Same day as: {event.label} ({event.when.isoformat()})"
    else:
        unit = "day" if days == 1 else "days"
        text = f"{days} {unit} after: {event.label} ({event.when.isoformat()})"
    if others:
        text += ALSO + "; ".join(e.label for e in others)
    return text + "."


def anchor_day(alert: Alert) -> date:
    """The day an alert is related to events from: a shift's change date, else its own date."""
    return stored_anchor_day(alert.when, alert.metrics)


def stored_anchor_day(when: datetime, metrics: Mapping[str, object] | None) -> date:
    """:func:`anchor_day` of an alert given by its time (UTC) and metrics, as stored."""
    start = (metrics or {}).get("change_date")
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
    if stored_anchor_day(when, metrics).toordinal() - event_days != event.when.toordinal():
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


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def link_events(alerts: Sequence[Alert], events: Iterable[Event], window_days: int) -> list[Alert]:
    """Alerts with ``event_label``/``event_days`` set and the event named in the explanation
    (quality alerts are left as they are). Several events on the latest day are all named;
    ``event_label`` is the first of them by label."""
    events = tuple(events)
    out: list[Alert] = []
    for alert in alerts:
        if alert.kind == "quality":  # a silence is about imagery, not about events
            out.append(alert)
            continue
        found = latest_event(anchor_day(alert), events, window_days)
        if found is None:
            out.append(alert)
            continue
        event, days = found
        others = [e for e in events_of_day(event.when, events) if e.label != event.label]
        out.append(
            replace(
                alert,
                event_label=event.label,
                event_days=days,
                explanation=f"{alert.explanation} {event_phrase(event, days, others)}",
            )
        )
    return out
