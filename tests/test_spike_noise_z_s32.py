"""A spike far beyond the series' own noise needs no spike_z (session 32, issue 5).

The spike z-score's spread is the baseline window's (the MAD of its 5 to 20-odd images,
floored), which by chance can be far wider than the site's long-run image-to-image
noise; on the tuning seeds most 3x spikes still missed at 10-40-car sites were stopped
by spike_z alone. Since session 32 a fine image whose log ratio to the usual is at least
``spike_noise_z`` (3) times that noise is a spike whatever the window's spread (the ratio
and excess gates still apply, and the count must still be ``spike_z`` spreads above the
spread without the window's: the count floor or the series' noise, whichever is larger);
coarse images have ``coarse_spike_noise_z`` (3.5).
"""

from __future__ import annotations

from dataclasses import replace

from railwatch.analysis import Alert, AlertSettings, CountPoint, analyze_series
from test_analysis_shift import day, flat

#: about 20 cars that vary by a few per cent for three years and more (the series' noise
#: about ±7 %), then 120 days alternating 26 and 14 (the window's spread ±8.9), then 45
CALM = [20, 21, 19, 22, 18, 20, 21, 19, 20, 22, 18, 21, 19, 20]


def series(gsd: float | None = None) -> list[CountPoint]:
    values = [float(CALM[k % len(CALM)]) for k in range(130)]
    values[118:130] = [26.0, 14.0] * 6
    values.append(45.0)
    points = flat(values)
    return points if gsd is None else [replace(p, gsd=gsd) for p in points]


def spikes_at_the_end(
    points: list[CountPoint], settings: AlertSettings | None = None
) -> list[Alert]:
    alerts = analyze_series(points, settings=settings or AlertSettings())
    return [a for a in alerts if a.kind == "spike" and a.when.date().isoformat() == day(130)]


def test_a_count_far_beyond_the_series_noise_is_a_spike_under_spike_z() -> None:
    found = spikes_at_the_end(series())
    assert [a.severity for a in found] == ["low"], "before session 32: no spike (z 2.8 < 3.4)"
    spike = found[0]
    assert spike.metrics["z"] < AlertSettings().spike_z  # 2.8 spreads of a wide window
    assert spike.metrics["noise_z"] >= 3.0  # 10.8 x the series' noise
    assert spike.metrics["baseline"] == 20.0
    assert spike.metrics["steady_spread"] < spike.metrics["spread"]
    assert (
        "2.8 spreads above normal, under the 3.4 a spike needs; but the spread of those 12 "
        "images is wider than this site's image-to-image variation of ±7 %: against that, or "
        "the count floor at this level (±4.9), it is 5.1 spreads above, and its log ratio (on "
        "count + 1) is 10.8 times the variation (3 needed)" in spike.explanation
    )
    # the same count at 0.5 m likewise, and at 1 m with the coarse band's value, named
    assert [a.severity for a in spikes_at_the_end(series(0.5))] == ["low"]
    coarse = spikes_at_the_end(series(1.0))
    assert [a.severity for a in coarse] == ["low"]
    assert coarse[0].explanation.endswith(
        "spike_z 4.5, spike_strong_z 4, spike_log_z 2.5, spike_noise_z 3.5."
    )
    # switched off, the window's spread decides (as before session 32)
    off = AlertSettings(spike_noise_z=0.0, coarse_spike_noise_z=0.0)
    assert spikes_at_the_end(series(), off) == []
    assert spikes_at_the_end(series(1.0), off) == []

    # the count floor still holds: 20 cars at a site of 8-12 (±14 %) is twice the usual
    # and 4.6 x the series' noise, but 3.0 spreads of the floor at 10 cars (±3.3)
    pattern = [0.0, 0.1, -0.1, 0.2, -0.2, 0.05, -0.05, 0.15, -0.15]
    calm: list[float | None] = [round(10 * (1 + pattern[k % 9])) for k in range(150)]
    found = analyze_series(flat([*calm, 20.0]))
    assert [a for a in found if a.kind == "spike" and a.when.date().isoformat() == day(150)] == []
