"""A history of exactly N calendar years is an N-year history for the record (session 30).

Five calendar years are 1,826 or 1,827 days, the record window 5 x 365.25 = 1,826.25:
a site seen from 2019-01-01 (or from 2024-02-29) had its record on 2024-01-01 (on
2029-02-28) judged against a window holding every image since, yet called "the history
(5.0 years) is shorter than the 5-year window" and lowered a step.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from railwatch.analysis import CountPoint, analyze_series


def _site(first: datetime, last: datetime) -> list[CountPoint]:
    """A record of 20 on the first day, 10-12 railcars every 14 days, 45 on the last day."""
    points = [CountPoint(when=first, count=20.0)]
    when = first + timedelta(days=14)
    while when < last - timedelta(days=7):
        points.append(CountPoint(when=when, count=10.0 + when.toordinal() % 3))
        when += timedelta(days=14)
    points.append(CountPoint(when=last, count=45.0))
    return points


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (datetime(2019, 1, 1, 10, tzinfo=UTC), datetime(2024, 1, 1, 10, tzinfo=UTC)),
        (datetime(2024, 2, 29, 10, tzinfo=UTC), datetime(2029, 2, 28, 10, tzinfo=UTC)),
    ],
)
def test_exactly_n_calendar_years_is_a_full_record_window(first: datetime, last: datetime) -> None:
    alerts = analyze_series(_site(first, last))
    (record,) = [a for a in alerts if a.kind == "record" and a.when == last]
    assert record.severity == "high"
    assert f"against a 5-year record of 20 set on {first:%Y-%m-%d}: 2.2× the record" in (
        record.explanation
    )
    assert "the first time above it in 5 years" in record.explanation
    assert "shorter than" not in record.explanation


def test_a_day_short_of_n_calendar_years_is_still_short() -> None:
    first = datetime(2019, 1, 2, 10, tzinfo=UTC)
    last = datetime(2024, 1, 1, 10, tzinfo=UTC)
    alerts = analyze_series(_site(first, last))
    (record,) = [a for a in alerts if a.kind == "record" and a.when == last]
    assert record.severity == "medium"
    assert "the history (5.0 years) is shorter than the 5-year window" in record.explanation


def test_across_methods_exactly_n_calendar_years_is_not_short() -> None:
    first = datetime(2019, 1, 1, 10, tzinfo=UTC)
    last = datetime(2024, 1, 1, 10, tzinfo=UTC)
    objects = [
        CountPoint(when=p.when, count=p.count, gsd=0.5, method="objects")
        for p in _site(first, last)[:-1]
    ]
    length = CountPoint(when=last, count=60.0, low=45.0, high=90.0, gsd=3.0, method="length")
    alerts = analyze_series([*objects, length])
    (record,) = [a for a in alerts if a.kind == "record" and "across_methods" in a.metrics]
    assert "2.2× the record of 20 set on 2019-01-01" in record.explanation
    assert record.metrics["unconfirmed_severity"] == "high"  # one 3 m image: a note
    assert "shorter than" not in record.explanation


def test_a_history_that_ends_in_9999() -> None:
    first = datetime(9997, 1, 1, 10, tzinfo=UTC)
    alerts = analyze_series(_site(first, datetime(9999, 12, 1, 10, tzinfo=UTC)))
    (record,) = [a for a in alerts if a.kind == "record" and a.when.year == 9999]
    assert "shorter than the 5-year window" in record.explanation
