"""Value types of the analysis: count points, events and alerts (see docs/alerts.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

#: Alert kinds, in the order they are documented.
ALERT_KINDS: Final[tuple[str, ...]] = ("record", "spike", "shift", "drop", "quality")
#: Severities, lowest first. "info" is a note, not an alarm.
SEVERITIES: Final[tuple[str, ...]] = ("info", "low", "medium", "high")
#: The metrics of a silence (a "quality" alert) that tally the site's images within it
#: (unusable, presence, failed, not processed yet; the latest one's day): its
#: explanation names them too. A change to them alone is not a change to what an analyst
#: acknowledged (the silence, its length, dates and severity): an acknowledged silence
#: is not marked changed since acknowledged when a later image fails, waits for
#: processing or is unusable (2026-12-07, session 50; docs/alerts.md).
SILENCE_TALLY_METRICS: Final[frozenset[str]] = frozenset(
    {"unusable_images", "presence_images", "failed_images", "unprocessed_images", "latest_image"}
)


def whole_car_bounds(
    value: float, low: float, high: float, method: str | None = "objects"
) -> tuple[float, float]:
    """A count's interval as every output words it: a whole count of cars seen one by one
    (``method`` "objects", or None) has its bounds rounded outward to whole cars (62-87.6
    is 62-88); car equivalents (``method`` "length") keep theirs. One rule for the alerts'
    texts (since 2026-12-06, session 39), the report and ``railwatch scene show`` (since
    2026-12-07, session 45: until then they printed "73 [62-87.6]" beside an alert's
    "73 railcars (interval 62-88)")."""
    if (method or "objects") == "objects" and abs(value - round(value)) < 1e-9:
        return float(math.floor(low + 1e-9)), float(math.ceil(high - 1e-9))
    return low, high


@dataclass(frozen=True)
class CountPoint:
    """One count of one class in one scene; ``count`` is None for an unusable scene (a gap).

    ``gsd`` is the scene's ground sample distance (m/pixel): it picks the alert thresholds
    the count is judged with (``AlertSettings.coarse_from_gsd``); None (unknown) is judged
    as a fine image. ``reviewed``: the count is an analyst's (a scene review,
    ``railwatch scene review``), not the detector's. ``date_only``: a CSV line's date
    cell gave a date alone (``when`` is 00:00 UTC of that date), not a time; ``railwatch
    scene import-reviews`` takes such a date as the site's local day as written. The
    analysis does not read it, and it is not compared (a point equals one made without it).
    """

    when: datetime
    count: float | None
    low: float | None = None
    high: float | None = None
    usable: bool = True
    cls: str = "all"
    clear_fraction: float | None = None
    coverage: float | None = None
    method: str = "objects"
    scene_id: int | None = None
    gsd: float | None = None
    reviewed: bool = False
    date_only: bool = field(default=False, compare=False)

    @property
    def is_usable(self) -> bool:
        """True when this point may be judged: a usable scene with a count."""
        return self.usable and self.count is not None


@dataclass(frozen=True)
class Event:
    """A dated happening analysts relate counts to (a summit, a sanction, a flood)."""

    when: date
    label: str


@dataclass(frozen=True)
class Alert:
    """An explained alert. ``key`` is stable for the same input (idempotent storage)."""

    key: str
    kind: str
    severity: str
    when: datetime
    cls: str
    value: float | None
    explanation: str
    metrics: dict[str, float | str] = field(default_factory=dict, hash=False)
    event_label: str | None = None
    event_days: int | None = None
    scene_id: int | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (dates in ISO 8601)."""
        return {
            "key": self.key,
            "kind": self.kind,
            "severity": self.severity,
            "when": self.when.isoformat(),
            # as the filters name it (since 2026-12-06, session 38); `cls`, its name
            # before, kept beside it for scripts that read it
            "class": self.cls,
            "cls": self.cls,
            "value": self.value,
            "explanation": self.explanation,
            "metrics": dict(self.metrics),
            "event_label": self.event_label,
            "event_days": self.event_days,
            "scene_id": self.scene_id,
        }


def severity_rank(severity: str) -> int:
    """Position of a severity in :data:`SEVERITIES` (info = 0)."""
    return SEVERITIES.index(severity)


def lower_severity(severity: str, steps: int = 1) -> str:
    """The severity ``steps`` levels lower, never below "info"."""
    return SEVERITIES[max(0, severity_rank(severity) - steps)]
