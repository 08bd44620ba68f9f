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
