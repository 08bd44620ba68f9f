"""benchmarks/bench_alerts.py: the oracle reference tests and the per-level figures
measure what they say on hand-made sites."""

from __future__ import annotations

import re

import numpy as np
import pytest

from helpers import load_benchmark

bench = load_benchmark("bench_alerts")


def _site(level: float, counts: np.ndarray, events: list, expected: np.ndarray):  # type: ignore[no-untyped-def]
    days = np.arange(len(counts), dtype=float) * 7.0
    site = bench.Site(days, counts, np.array([]), events, len(days) * 7 / 365.25, level)
    site.expected = expected
    site.quiet = np.full(len(counts), level)
    return site


def _shift_site(rng: np.random.Generator, factor: float, noise: float):  # type: ignore[no-untyped-def]
    n, j = 300, 200
    expected = np.full(n, 40.0)
    expected[j:] *= factor
    counts = np.round(expected * np.exp(rng.normal(0, noise, n)))
    ev = bench.Injected("shift", f"{factor:g}x", float(j * 7), j)
    return _site(40.0, counts, [ev], expected)


def _pooled(text: str) -> float:
    match = re.search(r"pooled ([0-9.]+)", text)
    assert match, text
    return float(match.group(1))


def test_oracle_shifts_finds_clear_shifts_and_misses_those_in_the_noise() -> None:
    rng = np.random.default_rng(3)
    clear = [_shift_site(rng, 3.0, 0.05) for _ in range(20)]
    assert _pooled(bench.oracle_shifts(clear, 0.2)) == 1.0
    # a doubling buried in 60 % per-image noise: the two-image mean is often below
    # the threshold that chance pairs reach 0.2 times a site-year
    noisy = [_shift_site(rng, 2.0, 0.6) for _ in range(40)]
    two = _pooled(bench.oracle_shifts(noisy, 0.2))
    assert two < 0.8
    # four images average the noise down: the same doublings are found more often
    four = bench.oracle_shifts(noisy, 0.2, 4)
    assert "Oracle 4-image shift test" in four and "found at image 4" in four
    assert _pooled(four) > two


def _spiky_shift_site(factor: float):  # type: ignore[no-untyped-def]
    """No noise; two 10x spikes, each followed by an ordinary-day image at 2.5x (no event),
    then a clean step of ``factor`` at image 200."""
    n, j = 300, 200
    expected = np.full(n, 40.0)
    expected[j:] *= factor
    counts = expected.copy()
    events = [bench.Injected("shift", f"{factor:g}x", float(j * 7), j)]
    for k in (50, 120):
        counts[k], counts[k + 1] = 400.0, 100.0
        events.append(bench.Injected("spike", "10x", float(k * 7), k))
    return _site(40.0, counts, events, expected)


def _figure(name: str, text: str) -> float:
    match = re.search(rf"{name} ([0-9.]+)", text)
    assert match, text
    return float(match.group(1))


def test_fair_shift_oracles_count_pairs_that_hold_a_spike() -> None:
    """40 spike pairs in 105 event-free site-years: at 0.2 false alarms per site-year (21
    allowed) the fair null's threshold is a spike pair's mean, (log(401/41) +
    log(101/41)) / 2 = 1.59, above a 3x step's log(121/41) = 1.08; at 0.08 (8 allowed) the
    'every image high' threshold is the 2.5x image after a spike, log(101/41) = 0.90,
    between a 2x step (0.68) and a 3x one. Leaving the spike pairs out of the null (the
    first figure) lets every step through."""
    sites = [_spiky_shift_site(f) for f in (2.0, 3.0) for _ in range(10)]
    text = bench.oracle_shifts(sites, 0.2, 2, 0.08)
    assert _figure("pooled", text) == 1.0  # spike-free runs only: the optimistic figure
    assert "at 0.2 is 1.59" in text
    assert _figure("fair pooled", text) == 0.0
    assert "above 0.90" in text
    assert _figure("every-high pooled", text) == 0.5  # the 3x steps, not the 2x ones
    assert "2x 0.000, 3x 1.000" in text.split("every image high")[1]


def test_level_line_splits_by_site_level() -> None:
    small, big = bench.Tally(), bench.Tally()
    small.add(False, None, False)
    small.add(True, 1, False)
    big.add(True, 1, True)
    res = {
        "by_level": {
            ("spike", "3x", 0): small,
            ("spike", "3x", 2): big,
            ("shift", "2x", 2): big,
        }
    }
    line = bench.level_line(res)
    assert "sites of 10-20 cars: 3x spikes 1/2 = 0.500" in line
    assert "sites of 40-80 cars: 3x spikes 1/1 = 1.000" in line
    assert "within 2 images 1/1 = 1.000" in line
    assert "sites of 20-40 cars: 3x spikes -" in line


def test_false_alarms_are_counted_by_kind_outside_events() -> None:
    """Alerts on event-free images count as false alarms, per kind (an image with two
    kinds counts once in the total and once per kind); alerts on a spike's image or in a
    sustained event's window do not."""
    n = 200
    counts = np.full(n, 20.0)
    spike = bench.Injected("spike", "3x", 7.0 * 50, 50)
    shift = bench.Injected("shift", "2x", 7.0 * 150, 150)
    site = _site(20.0, counts, [spike, shift], counts.copy())
    alerts = {10: {"spike"}, 20: {"record", "spike"}, 50: {"spike"}, 151: {"shift"}}
    res = bench.score([site], [alerts])
    assert res["false_alarms"] == 2
    assert res["false_alarms_by_kind"] == {"spike": 2, "record": 1}
    table = bench.fmt_table({"railwatch": res}, 1, site.years)
    years = res["free_years"]
    assert f"record {1 / years:.3f}, spike {2 / years:.3f}" in table


def test_wilson_interval_matches_known_values_and_stays_in_unit_range() -> None:
    lo, hi = bench.wilson_interval(75, 79)
    assert abs(lo - 0.8769) < 1e-3 and abs(hi - 0.9801) < 1e-3
    assert bench.wilson_interval(0, 10)[0] == 0.0 and 0.27 < bench.wilson_interval(0, 10)[1] < 0.28
    assert bench.wilson_interval(10, 10)[1] == 1.0
    assert bench.wilson_interval(0, 0) == (0.0, 1.0)


def test_poisson_interval_is_the_exact_garwood_interval() -> None:
    assert bench.poisson_interval(0) == (0.0, pytest.approx(3.6889, abs=1e-3))
    lo, hi = bench.poisson_interval(10)
    assert lo == pytest.approx(4.7954, abs=1e-3) and hi == pytest.approx(18.3904, abs=1e-3)
