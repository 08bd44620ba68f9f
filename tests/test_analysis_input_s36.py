"""``analyze_series`` checks its points (session 36).

Plain ``(date, count)`` pairs failed deep in NumPy ("ufunc 'isfinite' not supported"),
and a ``date`` as a point's ``when`` with ``AttributeError: tzinfo``; each is now a
:class:`railwatch.errors.InputError` that says what is wrong and what to pass.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.types import CountPoint
from railwatch.errors import InputError, RailwatchError


def _points() -> list[CountPoint]:
    return [
        CountPoint(when=datetime(2018 + k // 12, k % 12 + 1, 15, tzinfo=UTC), count=8 + k % 5)
        for k in range(40)
    ] + [CountPoint(when=datetime(2021, 6, 1, tzinfo=UTC), count=60.0)]


def test_plain_pairs_are_refused_saying_what_to_pass() -> None:
    pairs: Any = [(date(2020, 1, k), 10) for k in range(1, 6)]
    with pytest.raises(InputError) as err:
        analyze_series(pairs)
    text = str(err.value)
    assert text.startswith(
        "points[0]: (datetime.date(2020, 1, 1), 10) is a tuple, not a CountPoint"
    )
    assert "railwatch.CountPoint" in text
    assert "railwatch.analyze_counts" in text
    assert isinstance(err.value, RailwatchError)


def test_a_date_as_when_is_refused() -> None:
    points: list[CountPoint] = _points()
    points.append(CountPoint(when=date(2021, 7, 1), count=9.0))  # type: ignore[arg-type]
    with pytest.raises(
        InputError,
        match=r"^points\[41\]: when datetime.date\(2021, 7, 1\) is a "
        r"date, not a datetime; give a datetime",
    ):
        analyze_series(points)


def test_a_date_as_as_of_is_refused() -> None:
    with pytest.raises(InputError, match=r"as_of datetime.date\(2021, 1, 1\) is a date, not a "):
        analyze_series(_points(), as_of=date(2021, 1, 1))  # type: ignore[arg-type]


def test_valid_points_from_a_generator_give_the_same_alerts() -> None:
    points = _points()
    alerts = analyze_series(iter(points))
    assert alerts == analyze_series(points)
    assert any(a.kind == "record" and a.severity != "info" for a in alerts)
