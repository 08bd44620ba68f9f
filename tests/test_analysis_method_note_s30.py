"""The sentence on counts made another way, only where there were some (session 30).

A series that holds two methods ended every alert with "Judged against the N earlier
counts of the same kind (...) only; M earlier counts made another way were not
compared": also "0 earlier counts made another way" on every alert before the first
count made another way, and on every alert of a type's series (tank) that held a 3 m
image, which cannot tell types and is no count of the type at all; and "1 earlier
counts ... were".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from railwatch.analysis import CountPoint, analyze_series

START = datetime(2020, 1, 1, 10, tzinfo=UTC)
THREE_M_DAY = START + timedelta(days=10 * 70)


def _site() -> list[CountPoint]:
    """70 images at 0.5 m (15-18 railcars, 5-6 tank cars, 25 tank cars on image 60),
    then a day whose 0.5 m image is cloudy and whose 3 m image reads 60 (no tank count:
    a 3 m image cannot tell types), then 0.5 m images again: 16, 40, 42, 41."""
    points = []
    for k in range(70):
        when = START + timedelta(days=10 * k)
        points.append(CountPoint(when=when, count=15.0 + k % 4, gsd=0.5, method="objects"))
        tanks = 25.0 if k == 60 else 5.0 + k % 2
        points.append(CountPoint(when=when, count=tanks, gsd=0.5, method="objects", cls="tank"))
    later = THREE_M_DAY + timedelta(hours=2)
    for cls in ("all", "tank"):
        points.append(
            CountPoint(
                when=THREE_M_DAY,
                count=None,
                usable=False,
                cls=cls,
                gsd=0.5,
                method="objects",
                clear_fraction=0.1,
            )
        )
    points.append(
        CountPoint(when=later, count=60.0, low=35.0, high=110.0, gsd=3.0, method="length")
    )
    points.append(CountPoint(when=later, count=None, cls="tank", gsd=3.0, method="length"))
    for k, c in enumerate([16.0, 40.0, 42.0, 41.0], start=1):
        when = THREE_M_DAY + timedelta(days=10 * k)
        points.append(CountPoint(when=when, count=c, gsd=0.5, method="objects"))
    return points


def test_no_sentence_before_the_first_count_made_another_way() -> None:
    alerts = analyze_series(_site())
    early = [a for a in alerts if a.cls == "all" and a.when < THREE_M_DAY]
    assert early  # (records of the first images at least)
    for alert in early:
        assert "made another way" not in alert.explanation, alert.explanation
        assert alert.metrics["method"] == "objects"


def test_no_sentence_on_a_type_series_whose_other_images_cannot_tell_types() -> None:
    alerts = analyze_series(_site())
    (spike,) = [a for a in alerts if a.cls == "tank" and a.kind == "spike"]
    assert spike.severity != "info"
    assert "made another way" not in spike.explanation
    assert "Judged against the" not in spike.explanation


def test_one_earlier_count_made_another_way_in_the_singular() -> None:
    alerts = analyze_series(_site())
    (spike,) = [a for a in alerts if a.cls == "all" and a.kind == "spike"]
    assert spike.when > THREE_M_DAY
    assert (
        "Judged against the 71 earlier counts of the same kind (cars detected one by one in "
        "0.3–1.5 m imagery) only; 1 earlier count made another way was not compared."
    ) in spike.explanation
