"""An alert gives the interval of a count of whole cars in whole cars (session 39).

The demo's 2023-10-23 record read "92 railcars (interval 84–169.4)": haze had widened
the upper bound by a fraction of a car, and the text showed it to a tenth of a car beside
a whole lower bound. A count of cars one by one now has its bounds rounded outward to
whole cars ("84–170"); car equivalents (counts by track length) and hand counts that are
not whole keep one decimal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from railwatch.analysis import CountPoint, analyze_series

START = datetime(2018, 1, 1, 2, tzinfo=UTC)


def _series(last: CountPoint) -> list[CountPoint]:
    quiet = [
        CountPoint(
            when=START + timedelta(days=10 * k),
            count=float(8 + k % 5),
            low=6.0 + k % 5,
            high=11.0 + k % 5,
            method=last.method,
        )
        for k in range(200)
    ]
    return [*quiet, last]


def _record_text(last: CountPoint) -> str:
    alerts = analyze_series(_series(last), [])
    record = [a for a in alerts if a.kind == "record" and a.when == last.when]
    assert record, [a.kind for a in alerts]
    return record[0].explanation


def test_whole_car_bounds_for_a_count_by_objects() -> None:
    when = START + timedelta(days=2000)
    text = _record_text(CountPoint(when=when, count=92.0, low=84.3, high=169.4))
    assert "92 railcars (interval 84–170) on" in text
    assert "169.4" not in text


def test_car_equivalents_keep_a_decimal() -> None:
    when = START + timedelta(days=2000)
    last = CountPoint(when=when, count=65.5, low=38.3, high=126.7, method="length", gsd=3.0)
    text = _record_text(last)
    assert "(interval 38.3–126.7)" in text


def test_a_hand_count_that_is_not_whole_keeps_its_bounds() -> None:
    when = START + timedelta(days=2000)
    text = _record_text(CountPoint(when=when, count=92.5, low=84.3, high=169.4))
    assert "(interval 84.3–169.4)" in text
