"""Link alerts to the most recent event before them ("18 days after: Kim–Putin summit")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date

from railwatch.analysis.types import Alert, Event


def latest_event(day: date, events: Iterable[Event], window_days: int) -> tuple[Event, int] | None:
    """The latest event on or before ``day`` and at most ``window_days`` before it, with the gap."""
    best: tuple[Event, int] | None = None
    for event in events:
        gap = (day - event.when).days
        if 0 <= gap <= window_days and (best is None or gap < best[1]):
            best = (event, gap)
    return best


def event_phrase(event: Event, days: int) -> str:
    """'22 days after: Kim–Putin summit (2023-09-13).'"""
    if days == 0:
        return f"Same day as: {event.label} ({event.when.isoformat()})."
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} after: {event.label} ({event.when.isoformat()})."


def anchor_day(alert: Alert) -> date:
    """The day an alert is related to events from: a shift's change date, else its own date."""
    start = alert.metrics.get("change_date")
    if isinstance(start, str):
        return date.fromisoformat(start)
    return alert.when.date()


def link_events(alerts: Sequence[Alert], events: Iterable[Event], window_days: int) -> list[Alert]:
    """Alerts with ``event_label``/``event_days`` set and the event named in the explanation
    (quality alerts are left as they are)."""
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
        out.append(
            replace(
                alert,
                event_label=event.label,
                event_days=days,
                explanation=f"{alert.explanation} {event_phrase(event, days)}",
            )
        )
    return out
