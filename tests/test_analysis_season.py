"""Month-of-year factors: robust to uneven revisits, shrunk when thin, need enough years."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from railwatch.analysis import AlertSettings, CountPoint, analyze_series
from railwatch.analysis.baseline import month_of, robust_baseline, seasonal_factors, year_of


def _days(dates: list[datetime]) -> np.ndarray:
    return np.array([d.timestamp() / 86400.0 for d in dates])


def _ratios(
    per_month: dict[tuple[int, int], list[float]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ratios, months 0-11, years) from {(year, month 1-12): [ratio, ...]}."""
    ratios, months, years = [], [], []
    for (y, m), values in sorted(per_month.items()):
        for v in values:
            ratios.append(v)
            months.append(m - 1)
            years.append(y)
    return np.array(ratios), np.array(months), np.array(years)


def test_a_busy_year_does_not_outvote_quiet_ones() -> None:
    """March seen 20 times in 2019 (ratio 2, e.g. a campaign) and 3 times in each of
    2020-2022 (ratio 1): the median of yearly medians keeps March near 1."""
    data: dict[tuple[int, int], list[float]] = {}
    for y in (2019, 2020, 2021, 2022):
        for m in range(1, 13):
            data[(y, m)] = [1.0, 1.02, 0.98]
    data[(2019, 3)] = [2.0] * 20
    r, mo, yr = _ratios(data)
    factors = seasonal_factors(r, mo, AlertSettings(), yr)
    assert factors[2] == pytest.approx(1.0, abs=0.05)
    # pooled without years, the 20 images would have made March a factor near 2
    pooled = seasonal_factors(r, mo, AlertSettings())
    assert pooled[2] > 1.4


def test_flat_series_gets_factors_near_one() -> None:
    rng = np.random.default_rng(5)
    data = {
        (y, m): list(rng.lognormal(0, 0.15, int(rng.integers(1, 9))))
        for y in (2019, 2020, 2021)
        for m in range(1, 13)
    }
    r, mo, yr = _ratios(data)
    factors = seasonal_factors(r, mo, AlertSettings(), yr)
    assert np.all(np.abs(factors - 1.0) < 0.06), factors


def test_strong_season_is_kept() -> None:
    season = [0.5, 0.5, 0.7, 1.0, 1.3, 1.5, 1.5, 1.5, 1.3, 1.0, 0.7, 0.5]
    data = {(y, m): [season[m - 1]] * 4 for y in (2019, 2020, 2021) for m in range(1, 13)}
    r, mo, yr = _ratios(data)
    factors = seasonal_factors(r, mo, AlertSettings(), yr)
    assert factors[0] < 0.7 and factors[6] > 1.35  # January low, July high
    assert np.all(np.diff(factors[:7]) >= -1e-9)  # rising to July


def test_thin_months_and_single_years_keep_one() -> None:
    season = [0.5] * 6 + [1.5] * 6
    data = {(y, m): [season[m - 1]] * 4 for y in (2019, 2020) for m in range(1, 13)}
    data[(2019, 1)] = [0.2, 0.2]  # January: 2 + 4 images, enough
    data[(2020, 2)] = [0.2]
    del data[(2019, 2)]  # February: seen in one year only
    r, mo, yr = _ratios(data)
    settings = AlertSettings()
    factors = seasonal_factors(r, mo, settings, yr)
    assert factors[1] == 1.0  # one calendar year is not a season
    assert factors[0] < 0.8
    thin = seasonal_factors(r, mo, settings.model_copy(update={"seasonal_min_points": 5}), yr)
    assert thin[1] == 1.0


def test_more_images_pull_a_month_further_from_one() -> None:
    """Shrinkage: the same ratio seen in fewer images moves the factor less."""
    noise = [0.9, 1.0, 1.1, 1.0]
    base = {(y, m): noise for y in (2019, 2020, 2021) for m in range(1, 13)}
    base.update({(y, 7): [1.6 * v for v in noise] for y in (2019, 2020, 2021)})
    base.update({(y, 1): [0.6 * v for v in noise] for y in (2019, 2020, 2021)})
    few = dict(base)
    few.update({(y, 7): [1.6 * 0.9, 1.6 * 1.1] for y in (2019, 2020, 2021)})
    f_many = seasonal_factors(*_ratios(base)[:2], AlertSettings(), _ratios(base)[2])
    f_few = seasonal_factors(*_ratios(few)[:2], AlertSettings(), _ratios(few)[2])
    assert 1.0 < f_few[6] < f_many[6]


def test_uneven_revisits_seasonal_baseline_follows_the_season() -> None:
    """Three years of a site at 10 (Nov-Apr) and 30 (May-Oct) with 1-8 images a month:
    the baseline for a July image is near 30, for a January image near 10."""
    rng = np.random.default_rng(3)
    dates: list[datetime] = []
    for month in range(40):
        first = datetime(2019 + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        for d in sorted(rng.choice(28, size=int(rng.integers(1, 9)), replace=False)):
            dates.append(first + timedelta(days=int(d)))
    counts = np.array([30.0 if 5 <= d.month <= 10 else 10.0 for d in dates])
    counts = np.round(counts * rng.lognormal(0, 0.1, len(counts)))
    days = _days(dates)
    months, years = month_of(days), year_of(days)
    level = np.array(
        [np.median(counts[max(0, i - 60) : i]) if i >= 3 else np.nan for i in range(len(days))]
    )
    ratios = (counts + 1) / (level + 1)
    settings = AlertSettings()
    cases = ((datetime(2022, 1, 15, tzinfo=UTC), 10), (datetime(2021, 7, 15, tzinfo=UTC), 30))
    for target, expected in cases:
        i = int(np.searchsorted(days, target.timestamp() / 86400.0))
        factors = seasonal_factors(ratios[:i], months[:i], settings, years[:i])
        base = robust_baseline(days, counts, i, 0, 5, settings, factors, months)
        assert base is not None
        assert base.centre == pytest.approx(expected, rel=0.3), (target, base)


def test_seasonal_site_has_no_spike_or_drop_at_the_turn_of_seasons() -> None:
    rng = np.random.default_rng(9)
    pts: list[CountPoint] = []
    when = datetime(2018, 1, 2, tzinfo=UTC)
    while when < datetime(2023, 1, 1, tzinfo=UTC):
        level = 40.0 if 5 <= when.month <= 10 else 15.0
        pts.append(CountPoint(when=when, count=float(rng.poisson(level))))
        when += timedelta(days=int(rng.integers(3, 20)))
    alerts = analyze_series(pts)
    late = [a for a in alerts if a.when >= datetime(2019, 3, 1, tzinfo=UTC)]
    assert [a for a in late if a.severity != "info" and a.kind in ("spike", "drop")] == []


def test_same_weeks_are_named_by_the_year_their_images_lie_in() -> None:
    """Weeks around New Year: a change on 2020-12-20..28 looked for three years back
    spans 2017-11-20 to 2018-01-27, but the series starts on 2018-01-03, so the images
    quoted are of January 2018 and the explanation must say 2018 (it said 2017, the year
    of the window's centre, where there are no images at all)."""
    from railwatch.analysis.baseline import same_season

    dates = [datetime(2018, 1, 3, tzinfo=UTC) + timedelta(days=4 * i) for i in range(5)]
    dates += [datetime(2020, 12, 20, tzinfo=UTC), datetime(2020, 12, 28, tzinfo=UTC)]
    days = _days(dates)
    counts = np.array([30.0, 31, 29, 30, 32, 40, 41])
    refs = same_season(days, counts, days[5], days[6], 5, AlertSettings())
    assert [(r.year, r.n_points) for r in refs] == [(2018, 5)]
    assert refs[0].median == 30.0
