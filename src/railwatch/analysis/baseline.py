"""Robust baselines computed only from data strictly before the judged image.

* centre and spread: median and MAD (x 1.4826) over a trailing window, floored by
  the detector's relative error and Poisson noise added in quadrature, and one car;
* seasonal factor: with at least ``seasonal_min_years`` of history, the median
  ratio of each image to the level of the year before it, per calendar month;
* trailing record: the maximum over the previous N years, with its date.

All functions are pure and work on numpy arrays of day numbers and counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from railwatch.analysis.settings import AlertSettings

DAYS_PER_YEAR = 365.25
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Baseline:
    """The usual count at one moment, with its spread and what it rests on."""

    centre: float
    spread: float
    n_points: int
    window_days: float
    seasonal_factor: float = 1.0

    def z(self, value: float) -> float:
        """Robust z-score of a value against this baseline."""
        return (value - self.centre) / self.spread


@dataclass(frozen=True)
class Record:
    """The trailing record: the highest count of the previous N years, and when it was set."""

    value: float
    index: int
    day: float
    n_points: int


def spread_floor(centre: float, settings: AlertSettings) -> float:
    """Least spread the counts can have: sqrt((rel x c)^2 + c) (detector error and Poisson
    noise in quadrature), at least ``min_spread``."""
    c = max(centre, 0.0)
    variance = (settings.relative_noise * c) ** 2 + (c if settings.poisson_noise else 0.0)
    return max(settings.min_spread, float(np.sqrt(variance)))


def trailing_record(days: np.ndarray, counts: np.ndarray, i: int, years: int) -> Record | None:
    """Maximum of ``counts[:i]`` within ``years`` before ``days[i]`` (first time it was set)."""
    start = int(np.searchsorted(days[:i], days[i] - years * DAYS_PER_YEAR, side="left"))
    if start >= i:
        return None
    window = counts[start:i]
    j = start + int(np.argmax(window))
    return Record(value=float(counts[j]), index=j, day=float(days[j]), n_points=i - start)


def trailing_level(days: np.ndarray, counts: np.ndarray, i: int, first: int) -> float | None:
    """Median of the year before ``days[i]`` (from index ``first``), used for seasonal ratios."""
    start = max(first, int(np.searchsorted(days[:i], days[i] - DAYS_PER_YEAR, side="left")))
    if i - start < 3:
        return None
    return float(np.median(counts[start:i]))


def month_of(days: np.ndarray) -> np.ndarray:
    """Calendar month (0-11) of each day number."""
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(int) % 12
    return np.asarray(months, dtype=int)


def year_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day number."""
    years = days.astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    return np.asarray(years, dtype=int)


def seasonal_factors(ratios: np.ndarray, months: np.ndarray, settings: AlertSettings) -> np.ndarray:
    """Month-of-year factors (12,) from ratios of images to their trailing level.

    A month gets a factor only with ``seasonal_min_points`` ratios and a median that differs
    from 1 by more than ``seasonal_significance`` standard errors; otherwise its factor is 1.
    """
    factors = np.ones(12)
    ok = np.isfinite(ratios)
    for m in range(12):
        sel = ok & (months == m)
        n = int(sel.sum())
        if n >= settings.seasonal_min_points:
            month = ratios[sel]
            med = float(np.median(month))
            # standard error of a median: 1.2533 sigma / sqrt(n), sigma from the MAD
            se = 1.2533 * MAD_TO_SIGMA * float(np.median(np.abs(month - med))) / np.sqrt(n)
            if abs(med - 1.0) > settings.seasonal_significance * se:
                factors[m] = med
    clip = settings.seasonal_clip
    return np.clip(factors, 1.0 / clip, clip)


def robust_baseline(
    days: np.ndarray,
    counts: np.ndarray,
    i: int,
    first: int,
    min_points: int,
    settings: AlertSettings,
    factors: np.ndarray | None = None,
    months: np.ndarray | None = None,
) -> Baseline | None:
    """Median/MAD baseline for image ``i`` from images ``first..i-1`` in the trailing window.

    With fewer than ``min_points`` images in the window, the last ``min_points`` images
    since ``first`` are used if they lie within twice the window; otherwise None.
    ``factors``/``months`` (seasonal) deseasonalise the window and reseasonalise the centre.
    """
    window = float(settings.baseline_window_days)
    start = max(first, int(np.searchsorted(days[:i], days[i] - window, side="left")))
    if i - start < min_points:
        start = i - min_points
        if start < first or days[i] - days[start] > 2 * window:
            return None
    values = counts[start:i]
    factor = 1.0
    if factors is not None and months is not None:
        values = values / factors[months[start:i]]
        factor = float(factors[months[i]])
    centre_d = float(np.median(values))
    mad = float(np.median(np.abs(values - centre_d))) * MAD_TO_SIGMA
    centre = centre_d * factor
    spread = max(mad * factor, spread_floor(centre, settings))
    return Baseline(
        centre=centre,
        spread=spread,
        n_points=i - start,
        window_days=float(days[i] - days[start]),
        seasonal_factor=factor,
    )
