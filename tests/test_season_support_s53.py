"""Session 53 (2026-12-08): a spike's or drop's explanation says what the judged
month's seasonal factor rests on ("seasonal factor 2.37 for July, from 10 July images
in 3 years"); it gave the factor alone, so a factor of a few images over two years read
as firmly as one of twenty over six."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.series import CountPoint
from railwatch.analysis.settings import AlertSettings


def _seasonal(spike_on: datetime, spike: float) -> list[CountPoint]:
    """An image every 10 days from 2019 until ``spike_on``: 6 cars in winter, 18 in
    summer (May to September), never 0; then ``spike`` cars on ``spike_on``."""
    points, when, k = [], datetime(2019, 1, 3, 10, tzinfo=UTC), 0
    while when < spike_on - timedelta(days=1):
        c = 18.0 if 5 <= when.month <= 9 else 6.0
        c += (k % 3) - 1  # a little noise: 5-7 and 17-19
        points.append(CountPoint(when=when, count=c, low=c - 1, high=c + 1, scene_id=k + 1))
        when += timedelta(days=10)
        k += 1
    points.append(
        CountPoint(when=spike_on, count=spike, low=spike - 4, high=spike + 4, scene_id=k + 1)
    )
    return points


def test_a_spike_says_how_many_images_and_years_its_months_factor_rests_on() -> None:
    spike_on = datetime(2022, 7, 20, 10, tzinfo=UTC)
    points = _seasonal(spike_on, 120.0)
    alerts = analyze_series(points, settings=AlertSettings())
    spikes = [a for a in alerts if a.kind == "spike" and a.when.date() == spike_on.date()]
    assert spikes, "no spike on a count of 120 at a site of 18"
    spike = spikes[0]
    # the July images before July 2022 (the factors are taken once a calendar month,
    # from the images before it), and their years, counted by hand
    july = [p for p in points if p.when.month == 7 and p.when < datetime(2022, 7, 1, tzinfo=UTC)]
    years = {p.when.year for p in july}
    found = re.search(
        r"seasonal factor (\d\.\d\d) for July, from (\d+) July images in (\d+) years",
        spike.explanation,
    )
    assert found, spike.explanation
    assert float(found[1]) > 1.2  # a summer month: the factor is the season's
    assert (int(found[2]), int(found[3])) == (len(july), len(years)) == (10, 3)
    assert spike.metrics["seasonal_images"] == 10 and spike.metrics["seasonal_years"] == 3


def test_no_support_is_said_before_the_month_has_a_factor_of_its_own() -> None:
    """Within the first year no month has a factor: nothing is said of one."""
    spike_on = datetime(2019, 11, 20, 10, tzinfo=UTC)
    points = _seasonal(spike_on, 80.0)
    alerts = analyze_series(points, settings=AlertSettings())
    spikes = [a for a in alerts if a.kind == "spike" and a.when.date() == spike_on.date()]
    assert spikes
    assert "seasonal factor" not in spikes[-1].explanation
    assert " images in " not in spikes[-1].explanation
    assert spikes[-1].metrics["seasonal_images"] == 0
