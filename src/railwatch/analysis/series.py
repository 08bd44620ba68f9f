"""Count series per class: one point per day, unusable scenes kept as gaps.

A day is the calendar day of the points' times as given: :func:`analyze_series
<railwatch.analysis.alerts.analyze_series>` gives a stored site's images at the site's
local time (:func:`at_site`), so its day is the **local day at the site**; hand counts
(a CSV) are taken on the days they give. Since session 31; before, a stored site's
images were grouped by UTC day, so at Tumangang (UTC+9) two images of one local morning
(23:30 and 00:30 UTC) were two days, and two of different local days one.

Several images on one day are combined by keeping the **best usable image**: the
one counted by the finest method (cars one by one or by hand, then occupied track
length, then presence: :data:`METHOD_RANK`), then an analyst's count (a scene review,
``CountPoint.reviewed``: the analyst looked at that image and corrected it), then the
highest clear fraction x coverage
(a missing value counts as 1), ties broken by the higher count, then the lower scene
id. Overlapping partial images are not summed, because their cars may be the same cars.
A day with no usable image is a gap (``count`` None), never a zero. Every class keeps the
image the day's total (``all``) keeps, where its points name their scenes (a stored
site's); hand counts without scene ids keep each class's best. (Until 2026-12-05,
session 32, each class chose on its own, and the ties broken by the higher count could
give one day's total from one image and a type or the covered loads from another: at a
yard at 118.2°W, 7 railcars on the local 2024-03-05 from its 23:30 image and a railcar
record "4 railcars on 2024-03-05" from its 00:30 image, whose total was 5.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import numpy as np

from railwatch.analysis.types import CountPoint
from railwatch.errors import InputError


@dataclass(frozen=True)
class CountSeries:
    """The daily series of one class: ``points`` sorted by time, one per day."""

    cls: str
    points: tuple[CountPoint, ...]

    @property
    def usable(self) -> tuple[CountPoint, ...]:
        """The points that may be judged (usable, with a count)."""
        return tuple(p for p in self.points if p.is_usable)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Usable points as (day number since 1970-01-01 as float, count) arrays."""
        usable = self.usable
        days = np.array([day_number(p.when) for p in usable], dtype=float)
        counts = np.array([float(p.count) for p in usable if p.count is not None], dtype=float)
        return days, counts


def as_utc(when: datetime) -> datetime:
    """A timezone-aware UTC datetime (naive values are taken as UTC)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def at_site(points: Iterable[CountPoint], utc_offset: timedelta) -> list[CountPoint]:
    """``points`` with their times moved ``utc_offset`` east of UTC: the local time at the
    site, still marked UTC, so that every day taken from them (a series' days, alert keys
    and dates, the months of the seasons) is the site's local day. The analysis moves its
    alerts' image times back (:func:`railwatch.analysis.alerts.analyze_series`)."""
    if not utc_offset:
        return list(points)
    return [replace(p, when=as_utc(p.when) + utc_offset) for p in points]


def day_number(when: datetime) -> float:
    """Days since 1970-01-01 UTC, fractional."""
    return as_utc(when).timestamp() / 86400.0


def quality_score(point: CountPoint) -> float:
    """How much of the site a count saw: clear fraction x coverage (1 for an unknown
    one); of a day's counts by one method, none reviewed, the series keeps the highest."""
    clear = 1.0 if point.clear_fraction is None else point.clear_fraction
    cover = 1.0 if point.coverage is None else point.coverage
    return clear * cover


#: Which method's count a day keeps when several images were counted that day, finest
#: first: a 3 m estimate (often tens of per cent off) or a 10 m presence flag (0 or 1, no
#: count at all) never displaces a count of cars one by one made the same day, whatever
#: its quality or its higher number. Other methods rank with ``length``.
METHOD_RANK: dict[str, int] = {"objects": 0, "manual": 0, "length": 1, "presence": 2}


def _best(points: list[CountPoint]) -> CountPoint:
    usable = [p for p in points if p.is_usable]
    if not usable:
        # A gap: keep the best-quality unusable scene as the record of the attempt.
        first = max(points, key=lambda p: (quality_score(p), -(p.scene_id or 0)))
        return CountPoint(
            when=first.when,
            count=None,
            low=None,
            high=None,
            usable=False,
            cls=first.cls,
            clear_fraction=first.clear_fraction,
            coverage=first.coverage,
            method=first.method,
            scene_id=first.scene_id,
            gsd=first.gsd,
        )
    return max(
        usable,
        key=lambda p: (
            -METHOD_RANK.get(p.method, 1),
            p.reviewed,  # an analyst's count of one of them is the day's count
            quality_score(p),
            float(p.count or 0.0),
            -(p.scene_id or 0),
        ),
    )


def validate_point(point: CountPoint) -> None:
    """Raise :class:`InputError` for a count that cannot be analysed."""
    if point.count is not None:
        if not np.isfinite(point.count) or point.count < 0:
            raise InputError(f"count {point.count} on {point.when:%Y-%m-%d} must be a number >= 0")
        if point.low is not None and point.high is not None and point.low > point.high:
            raise InputError(
                f"interval low {point.low} > high {point.high} on {point.when:%Y-%m-%d}"
            )


def build_series(points: Iterable[CountPoint]) -> dict[str, CountSeries]:
    """Group points by class and combine each day into one point (see module doc)."""
    by_cls: dict[str, dict[date, list[CountPoint]]] = {}
    for point in points:
        validate_point(point)
        when = as_utc(point.when)
        if when is not point.when:
            point = CountPoint(**{**point.__dict__, "when": when})
        by_cls.setdefault(point.cls, {}).setdefault(when.date(), []).append(point)
    # the image each day's total keeps: every class of that day keeps the same image
    kept = {
        day: best.scene_id
        for day, pts in by_cls.get("all", {}).items()
        if (best := _best(pts)).is_usable and best.scene_id is not None
    }
    out: dict[str, CountSeries] = {}
    for cls, days in sorted(by_cls.items()):
        combined = [_of_day(days[d], kept.get(d)) for d in sorted(days)]
        out[cls] = CountSeries(cls=cls, points=tuple(combined))
    return out


def _of_day(points: list[CountPoint], scene_id: int | None) -> CountPoint:
    """The point a class keeps of one day: that of the image the day's total keeps
    (``scene_id``) where the class has one, else its own best (:func:`_best`)."""
    same = [p for p in points if scene_id is not None and p.scene_id == scene_id]
    return same[0] if len(same) == 1 and same[0].usable else _best(points)


#: What each counting method means, for explanations.
METHOD_WORDS: dict[str, str] = {
    "objects": "cars detected one by one in 0.3–1.5 m imagery",
    "length": "car equivalents from occupied track length in 1.5–10 m imagery",
    "manual": "manual counts",
}


def split_by_method(series: CountSeries) -> dict[str, CountSeries]:
    """The series' points grouped by the method that made each count.

    Counts made by different methods have different errors (objects at 0.3–1.5 m;
    car equivalents from occupied track length at coarser resolution, biased and far
    noisier), so a count is judged against earlier counts of its own method only.
    ``presence`` points (10 m and coarser: a long train present or not) carry no count
    to judge and are left out. Gaps (unusable scenes) go with their method too.
    """
    groups: dict[str, list[CountPoint]] = {}
    for p in series.points:
        if p.method == "presence":
            continue
        groups.setdefault(p.method, []).append(p)
    return {m: CountSeries(cls=series.cls, points=tuple(ps)) for m, ps in sorted(groups.items())}
