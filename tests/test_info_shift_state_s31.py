"""What a shift noted as info leaves in the shift detector (session 31, issue 5).

A rise noted as info (its season has a precedent) keeps the baseline (no new regime) and
holds the upward direction so that the same seasonal rise is not noted again. The hold
must not hide a real step that follows: until session 31 it stopped the CUSUM and the
segment test outright, and a doubling right after a noted seasonal rise went unraised for
many images (on tuning seed 12 until its 16th image).
"""

from __future__ import annotations

from railwatch.analysis import analyze_series
from test_analysis_noise import num, text
from test_analysis_shift import day, flat, shifts, wavy


def seasonal_rise(step: float | None) -> list[float]:
    """About 30 cars (± 20 %) for four years; the same weeks of 2019 busier (45); in
    May 2022 four images as busy as then (44-47, noted: not new for the season); from
    image 127 on ``step`` x 30 (None: back to about 30)."""
    values = wavy(146, 30.0)
    values[13:25] = [45.0] * 12
    values[123:127] = [44.0, 47.0, 43.0, 46.0]
    if step is not None:
        values[127:] = [round(v * step) for v in wavy(19, 30.0)]
    return values


def test_a_doubling_after_a_noted_seasonal_rise_is_raised_within_four_images() -> None:
    alerts = analyze_series(flat(seasonal_rise(2.2)))
    found = shifts(alerts, above_info=False)
    noted = [a for a in found if a.severity == "info"]
    assert len(noted) == 1, "the seasonal rise is noted once"
    assert "not new for the season" in noted[0].explanation
    assert noted[0].when.date().isoformat() == day(126)
    assert num(noted[0], "new_level") < 50
    raised = [a for a in found if a.severity != "info"]
    assert raised, "the step above the noted rise is raised (before session 31: image 16)"
    first = raised[0]
    # raised by its 4th image (127 is the first), not noted again in between
    assert day(127) <= first.when.date().isoformat() <= day(130)
    assert num(first, "new_level") > 60  # the new level, not the seasonal one
    assert text(first, "change_date") >= day(126)
    assert "Raised once" in first.explanation
    assert len(raised) == 1


def test_a_noted_seasonal_rise_that_stays_is_noted_once_and_not_raised() -> None:
    """The hold still does its work: the seasonal level held for a while is one note,
    no shift above info."""
    values = seasonal_rise(None)
    values[127:131] = [45.0, 44.0, 47.0, 43.0]  # the season goes on a little
    found = shifts(analyze_series(flat(values)), above_info=False)
    in_2022 = [a for a in found if a.when.year == 2022]
    assert [a.severity for a in in_2022] == ["info"]
    assert "not new for the season" in in_2022[0].explanation
