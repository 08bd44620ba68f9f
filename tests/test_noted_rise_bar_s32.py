"""Past a rise noted as info, the image that signals a shift clears the same bar as the
streak before it (session 32, issue 5).

While upward changes are held after a rise noted as info, a confirming streak takes only
images at or above ``shift_each_ratio`` x the noted level (:meth:`_Cusum.past_noted`).
Until session 32 that bar held the streak's earlier images but not the image that
signals (``_shift``'s image ``i``), so one spike followed by an image at the noted
seasonal level was raised as a shift to a level neither image shows.
"""

from __future__ import annotations

from railwatch.analysis import analyze_series
from test_analysis_shift import day, flat, shifts
from test_info_shift_state_s31 import seasonal_rise


def spike_then_season(second: float) -> list[float]:
    """About 30 cars; a rise to about 45 in May-June 2022 noted for its season (the same
    weeks of 2019 had 45); then one image of 90 (image 127) and ``second`` (image 128)."""
    values = seasonal_rise(None)
    values[127:133] = [90.0, second, 44.0, 31.0, 27.0, 33.0]
    return values


def test_a_spike_then_an_image_at_the_noted_level_is_not_a_shift() -> None:
    alerts = analyze_series(flat(spike_then_season(55.0)))
    found = shifts(alerts, above_info=False)
    noted = [a for a in found if a.severity == "info" and a.when.year == 2022]
    assert len(noted) == 1 and "not new for the season" in noted[0].explanation
    assert noted[0].metrics["new_level"] == 45.0  # the bar past it: 1.5 x 45 = 67.5
    # 55 is beyond the usual range (about 34 ± 11) but under the bar: before session 32
    # a medium shift "from about 34 to about 72.5" was raised at it, from the 90
    raised = [a for a in found if a.severity != "info"]
    assert raised == [], [a.explanation for a in raised]
    spikes = [a for a in alerts if a.kind == "spike" and a.severity != "info"]
    assert [a.when.date().isoformat() for a in spikes] == [day(127)]
    # the bar does not stop a real step past the noted rise: 90 then 80 (both >= 67.5)
    found = shifts(analyze_series(flat(spike_then_season(80.0))))
    assert len(found) == 1
    assert found[0].when.date().isoformat() == day(128)
    assert found[0].metrics["change_date"] == day(127)
    assert found[0].metrics["new_level"] == 85.0
