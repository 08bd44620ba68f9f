"""The alert loop's fast window baselines give exactly what the plain computations give.

Session 23: ``analyze --counts`` on 100,000 rows took half a minute, because every image
recomputed its trailing baseline, the month factors (from the whole history, once a
month) and the series' noise (filtering the whole history) from scratch. The loop now
keeps them as it goes (:class:`WindowBaselines`, :class:`SeasonalFactors`,
:class:`SeriesNoise`); these tests hold every value, and every alert of a long series,
to the plain computations kept here. No test measures time.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

import railwatch.analysis.alerts as alerts_module
import railwatch.analysis.baseline as baseline_module
from railwatch.analysis import AlertSettings, CountPoint, analyze_series
from railwatch.analysis.baseline import (
    DAYS_PER_YEAR,
    MAD_TO_SIGMA,
    SEASON_OFFSET,
    Baseline,
    SeasonalFactors,
    SeriesNoise,
    WindowBaselines,
    median_of,
    month_of,
    quietest,
    robust_baseline,
    rolling_medians,
    seasonal_factors,
    series_noise,
    spread_floor,
    trailing_level,
    trailing_levels,
    trailing_record,
    trailing_records,
    year_of,
)

START = datetime(2012, 1, 3, 9, tzinfo=UTC)


def _same(a: float | None, b: float | None) -> bool:
    """Equal bit for bit (the sign of a zero too)."""
    if a is None or b is None:
        return a is b
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _series(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Irregular days (gaps, several weeks without images) and counts with a season,
    ties, zeros, spikes and a shift."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(2.5, n) + 0.5
    gaps[rng.random(n) < 0.01] += 90.0
    days = 15000.0 + np.cumsum(gaps)
    season = 1 + 0.5 * np.sin(2 * np.pi * days / 365.25)
    level = np.where(np.arange(n) > n // 2, 40.0, 15.0)
    counts = rng.poisson(level * season).astype(float)
    counts[rng.random(n) < 0.03] *= 4
    counts[rng.random(n) < 0.03] = 0.0
    return days, counts


# --------------------------------------------------------------------------- pieces


def test_median_of_is_numpys_median_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    for t in range(3000):
        values = rng.normal(0, 1, int(rng.integers(1, 300))) * 10 ** rng.uniform(-3, 3)
        if t % 3 == 0:
            values = np.round(values)  # ties and zeros of both signs
        if t % 5 == 0:
            values = -np.abs(np.round(values / 100))  # mostly -0.0
        assert _same(median_of(values), float(np.median(values))), values


def test_window_baselines_equal_robust_baseline() -> None:
    """Every image, several first images (regimes) and minimum sizes, without month
    factors and with a new factor array every 30 images (as the loop passes them)."""
    days, counts = _series(2, 1200)
    months = month_of(days)
    rng = np.random.default_rng(3)
    for window in (14, 120, 365):
        settings = AlertSettings(baseline_window_days=window)
        windows = WindowBaselines(days, counts, months, settings)
        factors: np.ndarray | None = None
        for i in range(len(days)):
            if i >= 300 and i % 30 == 0:
                factors = np.exp(rng.normal(0, 0.3, 12))
            for first, min_points in ((0, 5), (max(0, i - 7), 3), (max(0, i - 2), 2)):
                got = windows.at(i, first, min_points, factors)
                want = robust_baseline(
                    days, counts, i, first, min_points, settings, factors, months
                )
                assert got == want, (window, i, first, min_points)
                centre = windows.centre(i, first, min_points, factors)
                assert _same(centre, None if want is None else want.centre)


def test_window_baselines_along_the_series_equal_robust_baseline() -> None:
    """As the loop asks: image after image, a new level (first image) now and then, a
    new factor array every month."""
    days, counts = _series(8, 3000)
    months = month_of(days)
    settings = AlertSettings()
    windows = WindowBaselines(days, counts, months, settings)
    rng = np.random.default_rng(9)
    factors: np.ndarray | None = None
    regime = 0
    for i in range(len(days)):
        if i >= 200 and months[i] != months[i - 1]:
            factors = np.exp(rng.normal(0, 0.3, 12))
        if i % 250 == 0 and i:
            regime = i - 2
        min_points = 5 if regime == 0 else 3
        want = robust_baseline(days, counts, i, regime, min_points, settings, factors, months)
        assert windows.at(i, regime, min_points, factors) == want, i


def test_trailing_levels_and_records_equal_the_plain_functions() -> None:
    days, counts = _series(10, 2000)
    levels = trailing_levels(days, counts)
    records = trailing_records(days, counts, 2)
    for i in range(len(days)):
        assert _same(levels[i], trailing_level(days, counts, i, 0)), i
        assert records[i] == trailing_record(days, counts, i, 2), i


def test_rolling_medians_pass_over_what_is_not_finite() -> None:
    rng = np.random.default_rng(11)
    values = np.round(rng.normal(0, 2, 500))
    values[rng.random(500) < 0.2] = np.nan
    values[rng.random(500) < 0.05] = np.inf
    starts = [max(0, i - 20) for i in range(500)]
    for i, got in enumerate(rolling_medians(values, starts, 3)):
        window = values[starts[i] : i]
        window = window[np.isfinite(window)]
        want = float(np.median(window)) if len(window) >= 3 else None
        assert _same(got, want), i


def _plain_quietest(
    days: np.ndarray, counts: np.ndarray, stop: int, settings: AlertSettings
) -> tuple[float, float, int] | None:
    """The quietest stretch as it reads: every image's +-season_window_days, its median."""
    if stop <= 0:
        return None
    w = float(settings.season_window_days)
    horizon = days[stop - 1] - settings.record_years * DAYS_PER_YEAR
    best: tuple[float, float, int] | None = None
    for j in range(stop):
        if days[j] < horizon:
            continue
        near = [c for d, c in zip(days[:stop], counts[:stop], strict=True) if abs(d - days[j]) <= w]
        if len(near) < 2:
            continue
        med = float(np.median(near))
        if best is None or med < best[0]:
            best = (med, float(days[j]), len(near))
    return best


def test_quietest_stretch_equals_the_plain_search() -> None:
    """The quietest stretch (a fall's precedent) from sorted windows moved along."""
    days, counts = _series(12, 900)
    days = np.round(days)  # whole days: stretches that end exactly w days away
    settings = AlertSettings(record_years=2)
    for stop in range(0, 900, 37):
        assert quietest(days, counts, stop, settings) == _plain_quietest(
            days, counts, stop, settings
        ), stop


def test_seasonal_factors_grow_as_the_plain_function() -> None:
    """Ratios with gaps (NaN), at every few images and at the same image twice."""
    days, counts = _series(4, 2500)
    months, years = month_of(days), year_of(days)
    rng = np.random.default_rng(5)
    ratios = np.full(len(days), np.nan)
    for settings in (AlertSettings(), AlertSettings(seasonal_month_years=2, seasonal_min_points=6)):
        seasons = SeasonalFactors(months, years, settings)
        for i in range(len(days)):
            if i % 17 == 0 or i % 17 == 1 or i == len(days) - 1:
                got = seasons.at(ratios, i)
                want = seasonal_factors(ratios[:i], months[:i], settings, years[:i])
                assert got.tobytes() == want.tobytes(), i
            if rng.random() < 0.9:
                ratios[i] = (counts[i] + 1) / (rng.uniform(5, 40) + 1)
        ratios[:] = np.nan
    with pytest.raises(ValueError, match="only forwards"):
        seasons.at(ratios, 10)


def test_series_noise_as_it_comes_equals_the_plain_function() -> None:
    rng = np.random.default_rng(6)
    settings = AlertSettings(noise_history=20, noise_min_points=5)
    resid = np.full(400, np.nan)
    noise = SeriesNoise(settings)
    for i in range(400):
        assert _same(noise.value(), series_noise(resid[:i], settings)) or (
            noise.value() is None and series_noise(resid[:i], settings) is None
        ), i
        if rng.random() < 0.8:
            resid[i] = float(rng.normal(0, 0.3))
        noise.add(float(resid[i]))


# --------------------------------------------------------------------------- the loop


class _PlainWindows:
    """The window baseline as it reads in docs/alerts.md: the images ``first..i-1`` within
    the window before image i (or the last ``min_points`` within twice it), deseasonalised,
    their median and MAD."""

    def __init__(
        self, days: np.ndarray, counts: np.ndarray, months: np.ndarray, settings: AlertSettings
    ):
        self.days, self.counts, self.months, self.settings = days, counts, months, settings

    def at(
        self,
        i: int,
        first: int,
        min_points: int,
        factors: np.ndarray | None = None,
        support: tuple[int, int] = (0, 0),
    ) -> Baseline | None:
        window = float(self.settings.baseline_window_days)
        idx = [j for j in range(first, i) if self.days[j] >= self.days[i] - window]
        if len(idx) < min_points:
            idx = list(range(i - min_points, i))
            if i - min_points < first or self.days[i] - self.days[idx[0]] > 2 * window:
                return None
        values = self.counts[idx]
        factor = 1.0
        if factors is not None:
            values = (values + SEASON_OFFSET) / factors[self.months[idx]] - SEASON_OFFSET
            factor = float(factors[self.months[i]])
        centre_d = float(np.median(values))
        mad = float(np.median(np.abs(values - centre_d))) * MAD_TO_SIGMA
        centre = max((centre_d + SEASON_OFFSET) * factor - SEASON_OFFSET, 0.0)
        spread = max(mad * float(np.sqrt(factor)), spread_floor(centre, self.settings))
        return Baseline(
            centre=centre,
            spread=spread,
            n_points=len(idx),
            window_days=float(self.days[i] - self.days[idx[0]]),
            seasonal_factor=factor,
            season_images=support[0],
            season_years=support[1],
        )

    def centre(
        self, i: int, first: int, min_points: int, factors: np.ndarray | None = None
    ) -> float | None:
        base = self.at(i, first, min_points, factors)
        return None if base is None else base.centre


class _PlainSeasons:
    """The month factors from the whole history before image i, every time."""

    def __init__(self, months: np.ndarray, years: np.ndarray, settings: AlertSettings):
        self.months, self.years, self.settings = months, years, settings
        self.ratios = np.empty(0)

    def at(self, ratios: np.ndarray, i: int) -> np.ndarray:
        self.ratios = ratios[:i]
        return seasonal_factors(ratios[:i], self.months[:i], self.settings, self.years[:i])

    def support(self, month: int) -> tuple[int, int]:
        """The month's images of a positive ratio before the last ``at`` and their
        years, (0, 0) where too few for a factor (``seasonal_factors``' rule)."""
        r = self.ratios
        mine = (self.months[: len(r)] == month) & np.isfinite(r) & (r > 0)
        n, years = int(mine.sum()), len(set(self.years[: len(r)][mine].tolist()))
        s = self.settings
        if n < s.seasonal_min_points or years < s.seasonal_month_years:
            return (0, 0)
        return (n, years)


class _PlainNoise:
    """The series' noise from all residuals so far, filtered every time."""

    def __init__(self, settings: AlertSettings):
        self.settings = settings
        self.resid: list[float] = []

    def add(self, resid: float) -> None:
        self.resid.append(resid)

    def value(self) -> float | None:
        finite = [r for r in self.resid if math.isfinite(r)][-self.settings.noise_history :]
        if len(finite) < self.settings.noise_min_points:
            return None
        mid = float(np.median(finite))
        return MAD_TO_SIGMA * float(np.median(np.abs(np.array(finite) - mid)))


def _long_points(seed: int, n_days: int) -> list[CountPoint]:
    """About ``n_days`` days with images: a season, spikes, a doubling, a stop, silences,
    unusable images, intervals, fine and coarse images."""
    rng = np.random.default_rng(seed)
    pts: list[CountPoint] = []
    day = 0.0
    for k in range(n_days):
        day += float(rng.choice([1.0, 1.0, 2.0, 3.0]))
        if k % 700 == 350:
            day += 80.0  # a silence
        level = 20.0 * (1 + 0.4 * np.sin(2 * np.pi * day / 365.25))
        if k > n_days // 2:
            level *= 2.0
        if 0.8 * n_days < k < 0.8 * n_days + 12:
            level *= 0.05
        count = float(rng.poisson(level * rng.lognormal(0, 0.15)))
        if rng.random() < 0.01:
            count *= float(rng.choice([3, 5, 10]))
        when = START + timedelta(days=day, hours=float(rng.uniform(0, 5)))
        gsd = float(rng.choice([0.3, 0.5, 1.0]))
        if rng.random() < 0.15:
            pts.append(CountPoint(when=when, count=None, usable=False, gsd=gsd))
            continue
        low = high = None
        if rng.random() < 0.7:
            low, high = count * 0.8, count * 1.3 + 1.0
        pts.append(CountPoint(when=when, count=count, low=low, high=high, gsd=gsd))
        if rng.random() < 0.3:
            pts.append(CountPoint(when=when, count=float(rng.binomial(int(count), 0.4)),
                                  cls="tank", gsd=gsd))  # fmt: skip
    return pts


def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alerts_module, "WindowBaselines", _PlainWindows)
    monkeypatch.setattr(alerts_module, "SeasonalFactors", _PlainSeasons)
    monkeypatch.setattr(alerts_module, "SeriesNoise", _PlainNoise)


def test_long_series_gives_the_alerts_of_the_plain_computation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """3,500 days with images over about 16 years: every alert (kind, date, severity,
    numbers, explanation) as the plain window baseline, month factors and noise give."""
    pts = _long_points(7, 3500)
    fast = [a.to_dict() for a in analyze_series(pts)]
    with monkeypatch.context() as m:
        _plain(m)
        plain = [a.to_dict() for a in analyze_series(pts)]
    assert fast == plain
    raised = {a["kind"] for a in fast if a["severity"] != "info"}
    assert {"record", "spike", "shift", "drop"} <= raised, raised
    assert any(a["kind"] == "quality" for a in fast)
    assert len(fast) > 40


def test_the_loop_never_hands_the_whole_history_to_series_noise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The series' noise rests on the last ``noise_history`` residuals: the loop filtered
    all residuals so far at every image (quadratic in the series' length)."""
    seen: list[int] = []
    plain = baseline_module.series_noise

    def counting(resid: np.ndarray, settings: AlertSettings) -> float | None:
        seen.append(len(resid))
        return plain(resid, settings)

    monkeypatch.setattr(baseline_module, "series_noise", counting)
    monkeypatch.setattr(alerts_module, "series_noise", counting, raising=False)
    analyze_series(_long_points(8, 600))
    assert seen and max(seen) <= AlertSettings().noise_history


def _count_sorted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the values handed to ``statistics.median`` (each call sorts them)."""
    counted = [0]
    plain: Callable[..., Any] = statistics.median

    def counting(data: Any) -> Any:
        values = list(data)
        counted[0] += len(values)
        return plain(values)

    monkeypatch.setattr(statistics, "median", counting)
    return counted


def test_month_factors_do_not_sort_the_whole_history_every_month(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Values the count rules hand to ``statistics.median`` over 3,000 days with images
    (12 years): the month factors sorted all the history's ratios and their residuals
    again every month, about 350 x the series' length here (and growing with it); now
    each month sorts its new images' year and the years' medians."""
    pts = _long_points(9, 3000)
    n = sum(1 for p in pts if p.count is not None and p.cls == "all")
    monkeypatch.setattr(alerts_module, "quality_alerts", lambda *a, **k: [])
    counted = _count_sorted(monkeypatch)
    analyze_series(pts)
    assert counted[0] < 30 * n, counted[0] / n


def test_silence_rule_does_not_sort_all_gaps_at_every_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The silence rule keeps the gaps sorted and took their median with
    ``statistics.median``, sorting them again at every usable day (1,300 x the series'
    length over 12 years); it now reads the middle of the sorted list."""
    pts = _long_points(9, 3000)
    n = sum(1 for p in pts if p.count is not None and p.cls == "all")
    counted = _count_sorted(monkeypatch)
    alerts = alerts_module.quality_alerts(pts, AlertSettings())
    assert alerts and counted[0] < n, counted[0] / n
