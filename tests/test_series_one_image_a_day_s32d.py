"""Every class of a day keeps the image the day's total keeps (session 32).

Found end to end at a yard at 118.2°W (nominal UTC-8): two images of the local
2024-03-05 (00:30 and 23:30 there, two UTC days), both reviewed, totals 5 and 7. The
total kept the 23:30 image (7, the higher count), the railcar series the 00:30 one (its
4 railcars against 1), so the analysis raised "4 railcars ... on 2024-03-05" from an
image that was not the day's, and the report said 7 railcars and "no load of the 5 cars"
for the same day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from railwatch.analysis import CountPoint, analyze_series, build_series

EARLY = datetime(2024, 3, 5, 8, 30, tzinfo=UTC)  # 00:30 at UTC-8
LATE = datetime(2024, 3, 6, 7, 30, tzinfo=UTC)  # 23:30 at UTC-8, the same local day


def _point(when: datetime, cls: str, count: float, scene_id: int | None) -> CountPoint:
    return CountPoint(when=when, count=count, cls=cls, scene_id=scene_id, reviewed=True)


def _day(scene_ids: tuple[int | None, int | None]) -> list[CountPoint]:
    a, b = scene_ids
    return [
        _point(EARLY, "all", 5.0, a),
        _point(EARLY, "railcar", 4.0, a),
        _point(EARLY, "covered", 0.0, a),
        _point(LATE, "all", 7.0, b),
        _point(LATE, "railcar", 1.0, b),
        _point(LATE, "covered", 0.0, b),
    ]


def _one_utc_day(scene_ids: tuple[int | None, int | None]) -> list[CountPoint]:
    """The two images two hours apart on one UTC day (``build_series`` takes days as
    given; the analysis moves a stored site's times to the site's first)."""
    return [
        p
        if p.when == EARLY
        else _point(EARLY + timedelta(hours=2), p.cls, p.count or 0.0, p.scene_id)
        for p in _day(scene_ids)
    ]


def test_each_class_keeps_the_image_of_the_days_total() -> None:
    series = build_series(_one_utc_day((11, 12)))
    assert [p.scene_id for p in series["all"].points] == [12]
    assert [(p.scene_id, p.count) for p in series["railcar"].points] == [(12, 1.0)]
    assert [p.scene_id for p in series["covered"].points] == [12]
    # hand counts name no image: each class keeps its best, as before
    series = build_series(_one_utc_day((None, None)))
    assert [p.count for p in series["all"].points] == [7.0]
    assert [p.count for p in series["railcar"].points] == [4.0]


def test_no_class_alert_comes_from_another_image_of_the_day() -> None:
    """Eight steady weeks, then the two images of one local day at UTC-8: the railcar
    series' record at 4 came from the 00:30 image while the day's total was the 23:30
    image's."""
    steady: list[CountPoint] = []
    for k in range(8):
        when = datetime(2024, 1, 1, 19, tzinfo=UTC) + timedelta(days=7 * k)
        steady += [_point(when, "all", 3.0, 100 + k), _point(when, "railcar", 3.0, 100 + k)]
    alerts = analyze_series(steady + _day((11, 12)), [], utc_offset=timedelta(hours=-8))
    railcar = [a for a in alerts if a.cls == "railcar"]
    assert all(a.scene_id != 11 for a in alerts), [a.key for a in alerts]
    assert not [a for a in railcar if a.kind == "record" and a.value == 4.0]
