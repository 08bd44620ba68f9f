"""Coarse counts (occupied length at 3 m, presence at 10 m) in the count series and
alerts: QA session 22."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from railwatch.analysis import CountPoint, analyze_series, build_series
from railwatch.analysis.series import split_by_method

T0 = datetime(2023, 6, 10, 2, 0, tzinfo=UTC)


def test_a_coarse_image_of_the_same_day_never_displaces_the_object_count() -> None:
    # a 0.5 m image counted 15 cars one by one; the same day a clearer 3 m image read
    # 17.8 car equivalents and a 10 m image saw a long train (presence 1): the day keeps
    # the count of cars one by one, whatever the coarse images' quality or number
    fine = CountPoint(T0, 15.0, 12.0, 28.0, clear_fraction=0.85, method="objects", scene_id=1)
    length = CountPoint(
        T0 + timedelta(hours=1), 17.8, 8.9, 36.0, clear_fraction=1.0, method="length", scene_id=2
    )
    presence = CountPoint(
        T0 + timedelta(hours=2), 1.0, 1.0, 1.0, clear_fraction=1.0, method="presence", scene_id=3
    )
    day = build_series([length, presence, fine])["all"].points
    assert [p.scene_id for p in day] == [1]
    # an empty yard at 0.5 m (0 cars) is not replaced by the 10 m flag "1" either
    empty = CountPoint(T0, 0.0, 0.0, 2.0, clear_fraction=0.9, method="objects", scene_id=4)
    assert build_series([presence, empty])["all"].points[0].scene_id == 4
    # without a fine image the length count beats the presence flag
    kept = build_series([presence, length])["all"].points[0]
    assert kept.method == "length"
    assert "length" in split_by_method(build_series([presence, length])["all"])


def test_same_day_object_count_is_judged_not_lost() -> None:
    # two years of 0.5 m counts near 15, then a day with a 0.5 m image of 60 cars and a
    # 3 m image of the same day: the object count is judged (a record), not dropped
    # because the 3 m estimate read higher
    pts = [
        CountPoint(T0 + timedelta(days=12 * k), 14.0 + k % 4, method="objects", gsd=0.5)
        for k in range(60)
    ]
    day = T0 + timedelta(days=12 * 60)
    pts.append(CountPoint(day, 60.0, 55.0, 70.0, method="objects", gsd=0.5, scene_id=99))
    pts.append(CountPoint(day + timedelta(hours=1), 75.0, 40.0, 140.0, method="length", gsd=3.0))
    records = [a for a in analyze_series(pts) if a.kind == "record" and a.when.date() == day.date()]
    assert records and all(a.scene_id == 99 for a in records)


def _fine_years(level: float = 15.0) -> list[CountPoint]:
    """Two years of 0.5 m counts around ``level`` (12 days apart)."""
    return [
        CountPoint(T0 + timedelta(days=12 * k), level - 2 + k % 5, method="objects", gsd=0.5)
        for k in range(60)
    ]


def _coarse_visits(levels: list[float]) -> list[CountPoint]:
    start = T0 + timedelta(days=12 * 60)
    return [
        CountPoint(start + timedelta(days=10 * j), v, 0.6 * v, 1.9 * v, method="length", gsd=3.0)
        for j, v in enumerate(levels)
    ]


def test_a_rise_seen_only_after_a_switch_to_3m_is_raised() -> None:
    """Two years of 0.5 m counts near 15 (record 17), then only 3 m images reading 60
    and 63 car equivalents: each was judged against the 3 m counts alone, of which
    there were none, and no alert said anything. Now the 3 m count whose interval's
    lower end beats the 0.5 m record is a record, confirmed by the next image as the
    length rules ask, and explained."""
    pts = _fine_years() + _coarse_visits([60.0, 63.0])
    records = [a for a in analyze_series(pts) if a.kind == "record" and a.when > pts[59].when]
    assert [a.cls for a in records] == ["all", "all"]
    first, second = records
    assert first.severity == "info"
    # the next image confirmed it: said since session 48 (it said "it would be 'medium' if
    # the next image confirms it" after that image too)
    assert "it would have been 'medium': the next image, of " in first.explanation
    assert "confirmed it and raised its own record alert ('medium')" in first.explanation
    assert second.severity in ("medium", "high")
    assert "lower end, 37.8, is 2.2× the record of 17" in second.explanation
    assert "cars detected one by one" in second.explanation
    assert second.metrics["across_methods"] == "objects"


def test_a_switch_to_3m_at_the_same_level_raises_nothing() -> None:
    # 3 m estimates a little above the 0.5 m counts (their bias) are no record
    pts = _fine_years() + _coarse_visits([18.0, 21.0, 19.5, 24.0])
    late = [a for a in analyze_series(pts) if a.when > pts[59].when and a.kind != "quality"]
    assert all(a.severity == "info" for a in late)
    assert not any("across_methods" in a.metrics for a in late)
    # a 10 m presence flag is never compared with car counts
    flags = [
        CountPoint(p.when + timedelta(days=1), 1.0, 1.0, 1.0, method="presence", gsd=10.0)
        for p in pts[:60:6]
    ]
    assert not any("across_methods" in a.metrics for a in analyze_series(pts + flags))
