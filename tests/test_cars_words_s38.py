"""A class's cars in words (2026-12-06, session 38): the alerts said "1 boxcar car"
and "2 locomotive cars", and the CSV's warnings "boxcar cars"; a class whose name is a
vehicle is its own noun. ``railwatch.detect.base.cars_words``, used by the alerts'
texts and the hand-count reader's warnings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from railwatch.analysis import analyze_series
from railwatch.analysis.types import CountPoint
from railwatch.detect.base import cars_words


@pytest.mark.parametrize(
    ("cls", "one", "many"),
    [
        ("all", "railcar", "railcars"),
        ("railcar", "untyped railcar", "untyped railcars"),  # session 40: as the total
        ("boxcar", "boxcar", "boxcars"),
        ("locomotive", "locomotive", "locomotives"),
        ("tank", "tank car", "tank cars"),
        ("flat", "flat car", "flat cars"),
        ("covered", "covered car", "covered cars"),
    ],
)
def test_words(cls: str, one: str, many: str) -> None:
    assert cars_words(cls, one=True) == one
    assert cars_words(cls) == many


def test_an_alert_on_boxcars_says_boxcars() -> None:
    points = [
        CountPoint(
            when=datetime(2020 + i // 12, i % 12 + 1, 5, tzinfo=UTC), count=1.0, cls="boxcar"
        )
        for i in range(36)
    ]
    points.append(CountPoint(when=datetime(2023, 1, 20, tzinfo=UTC), count=12.0, cls="boxcar"))
    alerts = analyze_series(points)
    texts = [a.explanation for a in alerts]
    assert texts, "a 12x rise of boxcars raises an alert"
    assert any("12 boxcars" in t for t in texts), texts
    assert not any("boxcar car" in t for t in texts), texts
