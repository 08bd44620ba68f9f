"""A quality alert's median gap in words: half days kept (2026-12-07, session 47: a
median gap of 12.5 days read "usually seen every 12 days (median gap), so more than 45
days of silence is unexpected", where 45 is 3.6 times 12.5)."""

from __future__ import annotations

import pytest

from railwatch.analysis.alerts import _every


@pytest.mark.parametrize(
    ("gap", "words"),
    [
        (0.2, "more than once a day"),
        (0.5, "more than once a day"),
        (0.8, "every day"),
        (1.0, "every day"),
        (1.2, "every day"),
        (7.0, "every 7 days"),
        (12.5, "every 12.5 days"),
        (12.4, "every 12.5 days"),
        (12.2, "every 12 days"),
        (30.0, "every 30 days"),
    ],
)
def test_every_keeps_half_days(gap: float, words: str) -> None:
    assert _every(gap) == words
