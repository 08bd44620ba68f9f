"""An alert's "usual" is the median it says it is (session 24).

A spike or drop names its baseline as "the usual 14 (median of 7 usable images over
the previous 106 days ...)". Once a site has a year of history the window's counts are
each taken out of their own month's season before the median; the text said so only
when the judged month's own factor was not 1, so an analyst who took the median of the
seven counts by hand found 16, not 14.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import numpy as np

from railwatch.analysis import CountPoint, analyze_series

T0 = datetime(2017, 3, 1, 9, tzinfo=UTC)
USUAL = re.compile(
    r"the usual ([\d.]+) \(median of (\d+) usable images? over the previous (\d+) days"
)


def noisy_site(seed: int) -> list[CountPoint]:
    """Six years of one site: a level that now and then jumps, log-normal noise, some
    spikes and a fifth of the images unusable."""
    rng = random.Random(seed)
    level = rng.choice([5.0, 15.0, 40.0])
    points, day = [], 0
    while day < 6 * 365:
        day += rng.choice([5, 8, 12, 20])
        if rng.random() < 0.01:
            level *= rng.choice([0.3, 2.5, 4.0])
        v = float(max(0, round(level * rng.lognormvariate(0, 0.25))))
        v += 4 * level * (rng.random() < 0.03)
        usable = rng.random() > 0.2
        points.append(
            CountPoint(
                when=T0 + timedelta(days=day),
                count=v if usable else None,
                usable=usable,
                low=0.85 * v,
                high=1.4 * v,
            )
        )
    return points


def test_a_usual_said_to_be_a_plain_median_is_the_median_of_its_images() -> None:
    adjusted = 0
    for seed in range(16):
        points = noisy_site(seed)
        usable = [p for p in points if p.is_usable]
        for alert in analyze_series(points, as_of=points[-1].when):
            found = USUAL.search(alert.explanation)
            if alert.kind not in ("spike", "drop") or found is None:
                continue
            usual, n, days = float(found[1]), int(found[2]), int(found[3])
            window = [
                float(p.count or 0.0)
                for p in usable
                if alert.when - timedelta(days=days) <= p.when < alert.when
            ]
            assert len(window) == n, alert.explanation
            if "season" in alert.explanation or "lull" in alert.explanation:
                adjusted += "each taken out of its own month's season" in alert.explanation
                continue
            median = float(np.median(window))
            # the text rounds to 3 significant digits
            assert abs(median - usual) <= 0.01 * max(usual, 1.0), (median, alert.explanation)
    assert adjusted, "some window was adjusted for the season under a month factor of 1"
