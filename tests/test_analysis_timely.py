"""Session 10, issue 5 (a shift alerted within 2 usable images): two images in a row on
average at least ``shift_pair_ratio`` (1.8; coarse 2.0) x their baseline signal a change
in the two-image level test, and their streak's level test asks
``shift_pair_ratio_level_z`` (2.5) times the series' own noise instead of
``shift_level_z`` (3); not under ``shift_pair_ratio_min_level`` (5 cars). Hand-made
series, images every 10 days, at a site whose counts swing within exp(±0.42) of its
level."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from railwatch.analysis import Alert, AlertSettings, CountPoint, analyze_series
from test_analysis_noise import points

BEFORE = AlertSettings(shift_pair_ratio=0, coarse_shift_pair_ratio=0)  # before session 10
PATTERN = [0.0, 0.3, -0.24, 0.42, -0.36, 0.12, -0.12, 0.36, -0.3, 0.18, -0.42, 0.06]


def site(n: int, level: float) -> list[float]:
    """``n`` images at about ``level`` railcars, ``level`` x exp(±0.42) (a noisy site)."""
    return [float(round(level * math.exp(PATTERN[k % len(PATTERN)]))) for k in range(n)]


def series(first: float, second: float, after: float = 40.0) -> list[float]:
    """100 images (2.7 years) at about 20 railcars, the last of them 16; then ``first`` and
    ``second`` (images 100 and 101), then 8 images at about ``after``."""
    values = site(100, 20.0)
    values[99] = 16.0
    return [*values, first, second, *site(8, after)]


def raised_shifts(alerts: list[Alert]) -> list[tuple[int, str, str]]:
    """(image index, severity, level test) of each shift above info."""
    t0 = points([0.0])[0].when
    return [
        ((a.when - t0).days // 10, a.severity, str(a.metrics["test"]))
        for a in alerts
        if a.kind == "shift" and a.severity != "info"
    ]


def test_a_doubling_is_raised_at_its_second_image() -> None:
    values = series(44.0, 42.0)  # a step to about 40 (2x) seen as 44 and 42
    alerts = analyze_series(points(values))
    assert raised_shifts(alerts)[0] == (101, "medium", "two-image")
    shift = next(a for a in alerts if a.kind == "shift")
    assert shift.metrics["change_date"] == points(values)[100].when.date().isoformat()
    assert "on average 2.1× it, a doubling seen in two images" in shift.explanation
    # before: the two images' z-scores (3.5 spreads together) and their level (2.8 times
    # the noise) were short of 3, and the step waited for its third image
    assert raised_shifts(analyze_series(points(values), settings=BEFORE))[0][0] == 102


@pytest.mark.parametrize(("first", "second"), [(46.0, 40.0), (50.0, 36.0), (42.0, 44.0)])
def test_any_order_of_a_doubled_pair_is_raised_at_the_second_image(
    first: float, second: float
) -> None:
    assert raised_shifts(analyze_series(points(series(first, second))))[0][:2] == (101, "medium")
    before = raised_shifts(analyze_series(points(series(first, second)), settings=BEFORE))
    assert before[0][0] == 102


def test_a_smaller_step_keeps_the_stricter_test() -> None:
    # 1.7x: not a doubling, so the two images are judged as before (raised later, by the
    # segment test)
    values = series(34.0, 34.0, after=34.0)
    alerts = analyze_series(points(values))
    assert raised_shifts(alerts)[0][0] > 101
    assert alerts == analyze_series(points(values), settings=BEFORE)


@pytest.mark.parametrize(("first", "second"), [(80.0, 22.0), (60.0, 24.0)])
def test_one_far_out_image_is_not_a_doubled_pair(first: float, second: float) -> None:
    # a spike followed by an ordinary image: the second is not beyond the usual range
    values = series(first, second, after=20.0)
    alerts = analyze_series(points(values))
    assert raised_shifts(alerts) == []
    assert [a.kind for a in alerts if a.kind == "spike"] == ["spike"]
    assert alerts == analyze_series(points(values), settings=BEFORE)


def test_the_doubled_pair_rule_can_be_switched_off() -> None:
    values = series(44.0, 42.0)
    off = analyze_series(points(values), settings=BEFORE)
    strict = AlertSettings(shift_pair_ratio_level_z=3.0)  # the usual level test for the pair
    assert raised_shifts(off)[0][0] == 102
    assert raised_shifts(analyze_series(points(values), settings=strict))[0][0] == 102


def at_gsd(values: list[float], gsd: float) -> list[CountPoint]:
    """``points(values)`` with every image at ground sample distance ``gsd``."""
    return [replace(p, gsd=gsd) for p in points(values)]


def test_the_pair_ratio_has_a_value_per_resolution_band() -> None:
    # 1.9x in two images: a doubling by the fine band's 1.8, not by the coarse band's 2.0
    values = series(38.0, 38.0)
    before = AlertSettings(shift_pair_ratio=0, coarse_shift_pair_ratio=0)
    assert raised_shifts(analyze_series(at_gsd(values, 0.5)))[0] == (101, "low", "two-image")
    assert raised_shifts(analyze_series(at_gsd(values, 0.5), settings=before))[0][0] == 102
    coarse = analyze_series(at_gsd(values, 1.0))
    assert raised_shifts(coarse)[0][0] == 102
    assert raised_shifts(analyze_series(at_gsd(values, 1.0), settings=before))[0][0] == 102


def test_a_doubled_pair_needs_a_baseline_of_five_cars() -> None:
    # a site of about 3 railcars: its image 99 reads 5 (an ordinary high), then 9 and 12.
    # 5 and 9 are 1.9x a baseline of 3 cars: a few cars of counting noise, not a doubling
    values = [*site(100, 3.0), 9.0, 12.0, *site(8, 9.0)]
    assert raised_shifts(analyze_series(points(values)))[0][0] == 101  # (the CUSUM)
    loose = AlertSettings(shift_pair_ratio_min_level=0)
    assert raised_shifts(analyze_series(points(values), settings=loose))[0] == (
        100,
        "medium",
        "two-image",
    )
