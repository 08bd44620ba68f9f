"""A noisy detector: the series' own noise, usual interval widths, the two-image level
test and level changes while each season has been seen only once."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from railwatch.analysis import Alert, AlertSettings, CountPoint, analyze_series

T0 = datetime(2019, 1, 3, 2, 30, tzinfo=UTC)
#: Log deviations of a detector with about 30 % image-to-image error (deterministic).
NOISE = (0.0, 0.4, -0.4, 0.2, -0.2, 0.55, -0.55, 0.1, -0.1, 0.35, -0.35, 0.15, -0.15)


def points(
    values: list[float], step: int = 10, interval: tuple[float, float] | None = None
) -> list[CountPoint]:
    """Points every ``step`` days from T0; ``interval`` = (low, high) as multiples of each count."""
    out = []
    for k, v in enumerate(values):
        low = high = None
        if interval is not None:
            low, high = math.floor(v * interval[0]), math.ceil(v * interval[1])
        out.append(CountPoint(when=T0 + timedelta(days=step * k), count=v, low=low, high=high))
    return out


def num(alert: Alert, key: str) -> float:
    """The number ``alert.metrics[key]`` (a text there fails the test)."""
    value = alert.metrics[key]
    assert not isinstance(value, str), f"{key} = {value!r}: a number expected"
    return value


def text(alert: Alert, key: str) -> str:
    """The text ``alert.metrics[key]`` (a number there fails the test)."""
    value = alert.metrics[key]
    assert isinstance(value, str), f"{key} = {value!r}: a text expected"
    return value


def calm(n: int, base: float) -> list[float]:
    """A steady series: base ± 20 %."""
    pattern = [0.0, 0.1, -0.1, 0.2, -0.2, 0.05, -0.05, 0.15, -0.15]
    return [float(round(base * (1 + pattern[k % len(pattern)]))) for k in range(n)]


def noisy(n: int, base: float) -> list[float]:
    """A steady series seen by a noisy detector: base x exp(±0.55)."""
    return [float(round(base * math.exp(NOISE[k % len(NOISE)]))) for k in range(n)]


def kind(alerts: list[Alert], name: str) -> list[Alert]:
    return [a for a in alerts if a.kind == name]


def at(alerts: list[Alert], k: int, step: int = 10) -> list[Alert]:
    when = (T0 + timedelta(days=step * k)).date()
    return [a for a in alerts if a.when.date() == when]


def test_a_count_within_the_series_own_noise_is_not_a_spike() -> None:
    quiet = calm(120, 20.0)
    quiet[100] = 44.0  # 2.3x a calm site: a spike
    assert kind(at(analyze_series(points(quiet)), 100), "spike")
    loud = noisy(120, 20.0)
    loud[100] = 44.0  # 2.3x a site whose counts swing by ±30-70 %: within its noise
    assert not kind(at(analyze_series(points(loud)), 100), "spike")
    loud[100] = 120.0  # 6x is beyond it, and the explanation says how noisy the site is
    spike = kind(at(analyze_series(points(loud)), 100), "spike")
    assert spike and spike[0].severity == "high"
    assert "from this site's own image-to-image variation of ±" in spike[0].explanation


def test_the_series_noise_needs_enough_judged_images() -> None:
    loud = noisy(120, 20.0)
    loud[100] = 44.0
    few = AlertSettings(noise_min_points=200)  # never known: the fixed floors only
    assert kind(at(analyze_series(points(loud), settings=few), 100), "spike")


def test_an_interval_as_wide_as_usual_does_not_lower_the_severity() -> None:
    # the detector's intervals are always about 0.5x-2x the count (its usual error)
    values = calm(120, 10.0)
    values[100] = 60.0
    pts = points(values, interval=(0.5, 2.0))
    spike = kind(at(analyze_series(pts), 100), "spike")[0]
    assert spike.severity == "high"
    assert "lowered" not in spike.explanation
    # the same count with an interval far wider than the site's usual one is lowered
    pts[100] = CountPoint(when=pts[100].when, count=60.0, low=5.0, high=400.0)
    wide = kind(at(analyze_series(pts), 100), "spike")[0]
    assert wide.severity == "medium"
    assert "against a usual 1" in wide.explanation  # 100-150 % for this site
    assert "Severity lowered to medium because" in wide.explanation


def test_hand_counts_without_intervals_judge_a_whole_interval() -> None:
    values = calm(120, 10.0)
    values[100] = 60.0
    pts = points(values)
    pts[100] = CountPoint(when=pts[100].when, count=60.0, low=10.0, high=110.0)
    spike = kind(at(analyze_series(pts), 100), "spike")[0]
    assert spike.severity == "medium"  # no usual width: the whole interval counts
    assert "uncertain" in spike.explanation


def test_a_record_within_the_series_noise_is_a_note() -> None:
    values = noisy(200, 20.0)  # 5.5 years; the record is 35 (20 x e^0.55)
    values[199] = 42.0  # 1.2x the record, well within the site's own variation
    rec = kind(at(analyze_series(points(values)), 199), "record")
    assert rec and rec[0].severity == "info"
    assert "image-to-image variation" in rec[0].explanation
    values[199] = 105.0  # 3x the record: high
    rec = kind(at(analyze_series(points(values)), 199), "record")
    assert rec and rec[0].severity == "high"


def test_two_image_level_test_raises_a_step_at_its_second_image() -> None:
    # a step from about 8 to 12 cars whose first image is far out (30): the CUSUM clips
    # that image to 4 spreads, so with a modest second image it needs a third one; the
    # two-image test adds the two z-scores unclipped and raises it at the second
    values = [*calm(120, 8.0), 30.0, 12.0, 12.0, 12.0, 12.0, 12.0]
    with_pair = kind(analyze_series(points(values)), "shift")
    off = AlertSettings(shift_pair_z=0)
    cusum_only = kind(analyze_series(points(values), settings=off), "shift")
    assert len(with_pair) == 1 and len(cusum_only) == 1
    assert with_pair[0].when.date() == (T0 + timedelta(days=1210)).date()  # second image
    assert with_pair[0].metrics["test"] == "two-image"
    assert "two-image level test" in with_pair[0].explanation
    assert cusum_only[0].when > with_pair[0].when  # the CUSUM alone needs a third image
    assert cusum_only[0].metrics["test"] == "cusum"


def test_two_image_test_needs_both_images_beyond_the_usual_range() -> None:
    values = [*calm(120, 20.0), 60.0, 21.0, 20.0, 19.0]  # one high image, then usual
    assert not kind(analyze_series(points(values)), "shift")


def test_a_level_change_before_two_years_is_a_note() -> None:
    young = calm(60, 10.0) + calm(10, 30.0)  # 1.6 years of history, then 3x
    shift = kind(analyze_series(points(young)), "shift")
    assert shift and shift[0].severity == "info"
    assert "each season has been seen only once" in shift[0].explanation
    old = calm(80, 10.0) + calm(10, 30.0)  # 2.2 years
    shift = kind(analyze_series(points(old)), "shift")
    assert shift and shift[0].severity == "high"
    earlier = AlertSettings(shift_season_days=365)
    shift = kind(analyze_series(points(young), settings=earlier), "shift")
    assert shift and shift[0].severity == "high"


def test_a_rise_back_from_a_lull_is_a_note() -> None:
    # about 10 cars for three years, a quiet month at 1-2, then back to about 10; the
    # same-season precedent is narrowed away (1 day) so the lull rule itself is tested
    values = [*calm(110, 10.0), 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 10.0, 11.0, 9.0, 10.0]
    narrow = AlertSettings(season_window_days=1)

    def ups(vals: list[float]) -> list[Alert]:
        found = kind(analyze_series(points(vals), settings=narrow), "shift")
        return [a for a in found if a.when.year == 2022 and a.metrics["direction"] == "up"]

    back = ups(values)
    assert back and all(a.severity == "info" for a in back)
    assert "back from a lull" in back[0].explanation
    # a rise beyond the past year's upper quartile is news
    values[-4:] = [30.0, 31.0, 29.0, 30.0]
    assert [a.severity for a in ups(values)] == ["high"]


def test_a_drop_is_measured_on_logs_once_the_noise_is_known() -> None:
    # about 6 cars seen with ±30-70 % error, then an empty yard: 0 is only 2-3 linear
    # spreads below 6, but far below on logs (1 against 7 on count + 1)
    values = [*noisy(120, 6.0), 0.0]
    drop = kind(at(analyze_series(points(values)), 120), "drop")
    assert drop and drop[0].severity == "high"
    unknown = AlertSettings(noise_min_points=200)  # the series' noise never known
    assert not kind(at(analyze_series(points(values), settings=unknown), 120), "drop")


def test_a_noisy_site_needs_more_images_to_show_a_new_level() -> None:
    values = [*noisy(120, 20.0), 46.0, 44.0, 48.0, 45.0, 47.0, 44.0]  # about 2.3x
    # without the doubled-pair rule (session 10), which raises this step at its second image
    plain = AlertSettings(shift_pair_ratio=0)
    found = kind(analyze_series(points(values), settings=plain), "shift")
    loose = kind(
        analyze_series(points(values), settings=AlertSettings(shift_pair_ratio=0, shift_level_z=0)),
        "shift",
    )
    doubled = kind(analyze_series(points(values)), "shift")
    assert doubled and doubled[0].metrics["confirm_images"] == 2
    assert found and loose
    assert num(found[0], "confirm_images") > num(loose[0], "confirm_images")
    assert found[0].when > loose[0].when
