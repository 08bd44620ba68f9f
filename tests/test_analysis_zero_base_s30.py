"""Explanations against a level under one car give no ratio (session 30).

A ratio is taken against at least one car (so nothing divides by zero), and a record's
explanation already gave no ratio against a record of 0; a spike said "12.0× the usual
0", a shift "from about 0 to about 10.5 (10.5×)" and a 3 m count judged against the
other counts' record "5.0× the record of 0": numbers an analyst reads as a ratio that
is none.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from railwatch.analysis import CountPoint, analyze_series


def _points(counts: list[float], start: datetime, **kw: object) -> list[CountPoint]:
    return [
        CountPoint(when=start + timedelta(days=14 * k), count=c, **kw)  # type: ignore[arg-type]
        for k, c in enumerate(counts)
    ]


START = datetime(2020, 1, 1, 10, tzinfo=UTC)


def test_spike_against_an_empty_yard_gives_no_ratio() -> None:
    alerts = analyze_series(_points([0.0] * 40 + [12.0], START))
    (spike,) = [a for a in alerts if a.kind == "spike"]
    assert "12 railcars on 2021-07-14, against the usual 0 (median of" in spike.explanation
    assert "×" not in spike.explanation
    assert spike.metrics["ratio"] == 12.0  # the metric keeps the ratio to one car
    (record,) = [a for a in alerts if a.kind == "record"]
    assert "×" not in record.explanation


def test_shift_from_an_empty_yard_gives_no_ratio() -> None:
    alerts = analyze_series(_points([0.0] * 80 + [10.0, 11.0, 10.0, 12.0, 10.0, 11.0], START))
    (shift,) = [a for a in alerts if a.kind == "shift"]
    assert shift.severity == "high"
    assert "shifted up from about 0 to about 10.5 (from under one car: no ratio)" in (
        shift.explanation
    )
    assert "10.5×" not in shift.explanation


def test_shift_from_a_level_of_one_car_keeps_its_ratio() -> None:
    alerts = analyze_series(_points([1.0] * 80 + [10.0, 11.0, 10.0, 12.0, 10.0, 11.0], START))
    (shift,) = [a for a in alerts if a.kind == "shift"]
    assert "from about 1 to about 10.5 (10.5×)" in shift.explanation


def test_length_count_against_the_other_counts_record_of_zero_gives_no_ratio() -> None:
    objects = _points([0.0] * 30, START, gsd=0.5, method="objects")
    first_3m = START + timedelta(days=14 * 30)
    length = [CountPoint(when=first_3m, count=8.0, low=5.0, high=12.0, gsd=3.0, method="length")]
    alerts = analyze_series(objects + length)
    (record,) = [a for a in alerts if a.kind == "record" and "across_methods" in a.metrics]
    assert "even its interval's lower end, 5, is above the record of 0 set on 2020-01-01" in (
        record.explanation
    )
    assert "×" not in record.explanation
