"""Robust baselines computed only from data strictly before the judged image.

* centre and spread: median and MAD (x 1.4826) over a trailing window, floored by
  the detector's relative error and Poisson noise added in quadrature, and one car;
* seasonal factor: with at least ``seasonal_min_years`` of history, per calendar
  month the median over years of each year's median ratio of an image to the level of
  the year before it, shrunk toward 1 when the month has few images;
* trailing record: the maximum over the previous N years, with its date.

All functions are pure and work on numpy arrays of day numbers and counts;
:class:`SeasonalFactors` gives :func:`seasonal_factors` of a growing prefix of a series
without recomputing it from scratch (the alert loop asks for it once a month).
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from railwatch.analysis.settings import AlertSettings

DAYS_PER_YEAR = 365.25
#: :data:`DAYS_PER_YEAR` in whole seconds (365.25 x 86,400, exact): the record window's year.
SECONDS_PER_YEAR = 31_557_600
MAD_TO_SIGMA = 1.4826
#: Cars added before seasonal ratios are taken: (count + 1) / (level + 1).
SEASON_OFFSET = 1.0


@dataclass(frozen=True)
class Baseline:
    """The usual count at one moment, with its spread and what it rests on."""

    centre: float
    spread: float
    n_points: int
    window_days: float
    seasonal_factor: float = 1.0
    note: str = ""  # why the centre is not the plain median (e.g. a lull floor)
    series_noise: float = 0.0  # relative noise of the series when it set the spread, else 0
    #: The window's counts were taken out of their months' seasons (some of their month
    #: factors are not 1) before the median, so the centre is not their plain median,
    #: whatever the judged month's own factor.
    adjusted: bool = False
    #: The window's own (MAD) spread when the spike test pooled it with the series' noise
    #: (:func:`pooled_spike_spread`), else 0.
    window_spread: float = 0.0
    #: What the window's spread was pooled with (0 when not pooled): the larger of the
    #: series' noise in cars (``pool_noise``: noise x (centre + 1) x series_noise_factor)
    #: and the count floor (an explanation named the series' noise alone until session 47,
    #: also where the floor was larger).
    pool_ref: float = 0.0
    pool_noise: float = 0.0
    #: What the judged month's seasonal factor rests on: that month's usable images and
    #: the years they fall in, before the judged image's calendar month (whence the
    #: factors are taken; 0, 0: no factor of its own; session 53).
    season_images: int = 0
    season_years: int = 0

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


def median_of(values: np.ndarray) -> float:
    """``float(np.median(values))`` of a non-empty 1-d float array without NaN, without
    its overhead (the alert loop takes several medians per image): the same value, bit
    for bit, a zero always +0.0 as numpy gives it."""
    n = values.shape[0]
    k = n // 2
    if n % 2:
        return float(np.partition(values, k)[k]) + 0.0
    part = np.partition(values, (k - 1, k))
    return float((part[k - 1] + part[k]) / 2) + 0.0


def _statistics_median(values: np.ndarray) -> float:
    """``statistics.median(values.tolist())`` of a non-empty 1-d float array without NaN."""
    n = values.shape[0]
    k = n // 2
    if n % 2:
        return float(np.partition(values, k)[k])
    part = np.partition(values, (k - 1, k))
    return (float(part[k - 1]) + float(part[k])) / 2


def spread_floor(centre: float, settings: AlertSettings) -> float:
    """Least spread the counts can have: sqrt((rel x c)^2 + c) (detector error and Poisson
    noise in quadrature), at least ``min_spread``."""
    c = max(centre, 0.0)
    variance = (settings.relative_noise * c) ** 2 + (c if settings.poisson_noise else 0.0)
    return max(settings.min_spread, math.sqrt(variance))  # (as np.sqrt: exactly rounded)


def whole_seconds(days: np.ndarray | float) -> np.ndarray:
    """Day numbers (days since 1970-01-01 UTC, as :func:`railwatch.analysis.series.day_number`
    gives them) as whole seconds since then (int64): exact for an image's time in whole
    seconds (a day number's rounding error is far below half a second up to the year
    9999), a fraction of a second rounded."""
    return np.rint(np.asarray(days, dtype=float) * 86_400.0).astype(np.int64)


def years_before(days: np.ndarray, ends: np.ndarray | float, years: int) -> np.ndarray:
    """For each of ``ends``, the index of the first of ``days`` (sorted) within ``years``
    record-window years (``years`` x 365.25 days) before it, an image exactly that long
    before included. Counted in whole seconds (:func:`whole_seconds`), never in float days:
    ``days[i] - years * 365.25`` rounds, so an image exactly on the window's edge was in it
    or not by the float rounding of the day numbers (judged 2019-10-17 05:55:10 UTC, one of
    2014-10-16 23:55:10 was left out of the 5-year window), where the record across
    methods (``alerts._across_methods``), comparing the times, kept it. The one rule of
    the record window (before 2026-12-05, session 31, the two disagreed)."""
    first = whole_seconds(ends) - years * SECONDS_PER_YEAR
    return np.searchsorted(whole_seconds(days), first, side="left")


def spans_years(first: float, day: float, years: int) -> bool:
    """Is day number ``day`` at least ``years`` record-window years (``years`` x 365.25
    days) after ``first``, to the second (:func:`years_before`'s rule)?"""
    span = int(whole_seconds(day)) - int(whole_seconds(first))
    return span >= years * SECONDS_PER_YEAR


def trailing_record(days: np.ndarray, counts: np.ndarray, i: int, years: int) -> Record | None:
    """Maximum of ``counts[:i]`` within ``years`` before ``days[i]`` (first time it was set;
    the window as :func:`years_before` counts it)."""
    start = int(years_before(days[:i], days[i], years))
    if start >= i:
        return None
    j = start + int(np.argmax(counts[start:i]))
    return Record(value=float(counts[j]), index=j, day=float(days[j]), n_points=i - start)


def trailing_level(days: np.ndarray, counts: np.ndarray, i: int, first: int) -> float | None:
    """Median of the year before ``days[i]`` (from index ``first``), used for seasonal ratios."""
    start = max(first, int(np.searchsorted(days[:i], days[i] - DAYS_PER_YEAR, side="left")))
    if i - start < 3:
        return None
    return median_of(counts[start:i])


def month_of(days: np.ndarray) -> np.ndarray:
    """Calendar month (0-11) of each day number (its day: the floor, also before 1970,
    where a cast alone rounds toward zero, to the next day: until session 40 an image of
    1969-12-31 12:00 was of January 1970)."""
    months = np.floor(days).astype("datetime64[D]").astype("datetime64[M]").astype(int) % 12
    return np.asarray(months, dtype=int)


def year_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day number (its day's, as :func:`month_of`)."""
    years = np.floor(days).astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    return np.asarray(years, dtype=int)


def seasonal_factors(
    ratios: np.ndarray,
    months: np.ndarray,
    settings: AlertSettings,
    years: np.ndarray | None = None,
) -> np.ndarray:
    """Month-of-year factors (12,) from ratios (count + 1) / (trailing-year level + 1).

    Robust to the revisit pattern: within a month, each calendar year (``years``) first
    gives one median (log ratio), so a year with many images there weighs as much as a
    year with few; the month's raw factor is the median of those yearly medians. A
    month keeps 1 with fewer than ``seasonal_min_points`` images or images from fewer
    than ``seasonal_month_years`` calendar years. Raw factors are then shrunk toward 1
    (empirical Bayes): weight tau^2 / (tau^2 + se^2), where se is the standard error of
    the month's median (1.2533 sigma / sqrt(n), sigma from the MAD of all months'
    residuals) and tau^2 the spread of the raw factors beyond that noise. A flat series
    thus gets factors near 1, a thinly observed month is pulled toward 1, and a strong
    season is kept. Each month is smoothed with its neighbours (1/4, 1/2, 1/4) before
    shrinking; factors are clipped to [1/``seasonal_clip``, ``seasonal_clip``].
    """
    ok = np.isfinite(ratios) & (ratios > 0)
    logs = np.log(ratios[ok])
    mon = months[ok]
    yrs = years[ok] if years is not None else np.zeros(len(logs), dtype=int)
    groups: dict[int, dict[int, list[float]]] = {}
    for m, y, v in zip(mon.tolist(), yrs.tolist(), logs.tolist(), strict=True):
        groups.setdefault(m, {}).setdefault(y, []).append(v)
    raw: dict[int, tuple[float, int]] = {}
    residuals: list[float] = []
    for m, by_year in groups.items():
        values = [v for vs in by_year.values() for v in vs]
        n = len(values)
        if n < settings.seasonal_min_points:
            continue
        if years is not None:
            if len(by_year) < settings.seasonal_month_years:
                continue
            centre = statistics.median(statistics.median(vs) for vs in by_year.values())
        else:
            centre = statistics.median(values)
        raw[m] = (centre, n)
        residuals.extend(v - centre for v in values)
    if not raw:
        return np.ones(12)
    mid = statistics.median(residuals)
    sigma = MAD_TO_SIGMA * statistics.median(abs(r - mid) for r in residuals)
    return _shrunk(raw, sigma, settings)


def _shrunk(raw: dict[int, tuple[float, int]], sigma: float, settings: AlertSettings) -> np.ndarray:
    """The month factors from the raw ones (month: (log centre, images), in the order the
    months first appear in the series) and the sigma of the residuals about them."""
    factors = np.ones(12)
    se2 = {m: (1.2533 * sigma) ** 2 / n for m, (_, n) in raw.items()}
    tau2 = max(
        0.0, float(np.mean([c * c for c, _ in raw.values()])) - float(np.mean(list(se2.values())))
    )
    clip = float(np.log(settings.seasonal_clip))
    for m, (centre, _) in raw.items():
        # smoothed with the neighbouring months that have a raw factor (1/4, 1/2, 1/4)
        near = [(0.5, centre)] + [
            (0.25, raw[k][0]) for k in ((m - 1) % 12, (m + 1) % 12) if k in raw
        ]
        smooth = sum(w * c for w, c in near) / sum(w for w, _ in near)
        weight = tau2 / (tau2 + se2[m]) if tau2 + se2[m] > 0 else 0.0
        factors[m] = float(np.exp(min(max(weight * smooth, -clip), clip)))  # (np.clip)
    return factors


class SeasonalFactors:
    """:func:`seasonal_factors` (with years) of a growing prefix of one series.

    ``at(ratios, i)`` equals ``seasonal_factors(ratios[:i], months[:i], settings,
    years[:i])`` bit for bit, provided ``ratios[:i]`` only grows between calls (entries
    before the previous call's ``i`` never change). It keeps each month's log ratios and
    each (month, year)'s median, so a call costs the new ratios plus a few array
    operations on the residuals, instead of grouping and sorting the whole history in
    Python again: on 70 years of daily counts the alert loop asks 840 times.
    """

    def __init__(self, months: np.ndarray, years: np.ndarray, settings: AlertSettings):
        self._months = months.tolist()
        self._years = years.tolist()
        self._settings = settings
        self._seen = 0  # ratios[:_seen] are taken in
        # month -> year -> log ratios, both in the order they first appear (as in
        # seasonal_factors, whose raw factors keep that order of the months)
        self._groups: dict[int, dict[int, list[float]]] = {}
        self._year_medians: dict[tuple[int, int], tuple[int, float]] = {}
        # month -> (its images, median of its years' medians), and its log ratios (caches)
        self._centres: dict[int, tuple[int, float]] = {}
        self._arrays: dict[int, np.ndarray] = {}
        self._counts: dict[int, int] = {}  # month -> its images

    def at(self, ratios: np.ndarray, i: int) -> np.ndarray:
        """The month factors (12,) from ``ratios[:i]``."""
        if i < self._seen:
            raise ValueError(f"SeasonalFactors.at({i}) after at({self._seen}): only forwards")
        new = ratios[self._seen : i]
        ok = np.isfinite(new) & (new > 0)
        # np.log of an array, as seasonal_factors takes it (element by element the same)
        logs = np.log(new[ok]).tolist()
        for j, v in zip((np.flatnonzero(ok) + self._seen).tolist(), logs, strict=True):
            m = self._months[j]
            self._groups.setdefault(m, {}).setdefault(self._years[j], []).append(v)
            self._counts[m] = self._counts.get(m, 0) + 1
            self._arrays.pop(m, None)
        self._seen = i
        settings = self._settings
        raw: dict[int, tuple[float, int]] = {}
        residuals: list[np.ndarray] = []
        for m, by_year in self._groups.items():
            n = self._counts[m]
            if n < settings.seasonal_min_points or len(by_year) < settings.seasonal_month_years:
                continue
            cached = self._centres.get(m)
            if cached is not None and cached[0] == n:
                centre = cached[1]  # no new image in that month
            else:
                centre = statistics.median(self._year_median(m, y, vs) for y, vs in by_year.items())
                self._centres[m] = (n, centre)
            raw[m] = (centre, n)
            if m not in self._arrays:
                self._arrays[m] = np.array([v for vs in by_year.values() for v in vs])
            residuals.append(self._arrays[m] - centre)
        if not raw:
            return np.ones(12)
        resid = np.concatenate(residuals)
        mid = _statistics_median(resid)
        sigma = MAD_TO_SIGMA * _statistics_median(np.abs(resid - mid))
        return _shrunk(raw, sigma, settings)

    def support(self, month: int) -> tuple[int, int]:
        """What ``month``'s factor rests on as of the last :meth:`at`: its images (those
        of a positive ratio) and the years they fall in; (0, 0) where the month has too
        few of either for a factor of its own (it is then 1)."""
        by_year = self._groups.get(month)
        if by_year is None:
            return (0, 0)
        n, years = self._counts[month], len(by_year)
        settings = self._settings
        if n < settings.seasonal_min_points or years < settings.seasonal_month_years:
            return (0, 0)
        return (n, years)

    def _year_median(self, m: int, y: int, values: list[float]) -> float:
        key = (m, y)
        cached = self._year_medians.get(key)
        if cached is None or cached[0] != len(values):
            cached = (len(values), statistics.median(values))
            self._year_medians[key] = cached
        return cached[1]


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
    adjusted = False
    if factors is not None and months is not None:
        # (count + 1) is seasonal, so empty winters do not break the ratios
        values = (values + SEASON_OFFSET) / factors[months[start:i]] - SEASON_OFFSET
        factor = float(factors[months[i]])
        adjusted = _adjusted(factors[months[start:i]])
    return _median_baseline(
        values, factor, i - start, float(days[i] - days[start]), settings, adjusted=adjusted
    )


def _adjusted(window_factors: np.ndarray) -> bool:
    """Do these month factors (of a window's images) change its counts by more than the
    explanations' rounding (half a per cent)?"""
    return bool(np.any(np.abs(window_factors - 1.0) > 0.005))


def _median_baseline(
    values: np.ndarray,
    factor: float,
    n_points: int,
    window_days: float,
    settings: AlertSettings,
    centre_d: float | None = None,
    *,
    adjusted: bool = False,
    support: tuple[int, int] = (0, 0),
) -> Baseline:
    """The baseline of a window's (deseasonalised) ``values``, reseasonalised by ``factor``
    (``centre_d``: their median, when known; ``adjusted``: see :attr:`Baseline.adjusted`;
    ``support``: what ``factor`` rests on, :attr:`Baseline.season_images` and years)."""
    if centre_d is None:
        centre_d = median_of(values)
    mad = median_of(np.abs(values - centre_d)) * MAD_TO_SIGMA
    centre = max((centre_d + SEASON_OFFSET) * factor - SEASON_OFFSET, 0.0)
    # count noise grows like the square root of the level (Poisson-like), not in proportion
    spread = max(mad * math.sqrt(factor), spread_floor(centre, settings))
    return Baseline(
        centre=centre,
        spread=spread,
        n_points=n_points,
        window_days=window_days,
        seasonal_factor=factor,
        adjusted=adjusted,
        season_images=support[0],
        season_years=support[1],
    )


def _sorted_median(values: list[float]) -> float:
    """:func:`median_of` of the values of a non-empty sorted list."""
    n = len(values)
    k = n // 2
    if n % 2:
        return values[k] + 0.0
    return (values[k - 1] + values[k]) / 2 + 0.0


class WindowBaselines:
    """:func:`robust_baseline` of every image of one series, without its per-call work.

    ``at(i, first, min_points, factors)`` equals ``robust_baseline(days, counts, i, first,
    min_points, settings, factors, months)`` bit for bit, and ``centre(...)`` its centre.
    The windows' first images are found once for the whole series, the deseasonalised
    counts once per ``factors`` array (the alert loop passes the same array for a whole
    month; an array passed again must not have changed in between), and the window's
    values are kept sorted as it moves on (rebuilt when the factors change or the window
    moves back), so its median is read, not searched for.
    """

    def __init__(
        self, days: np.ndarray, counts: np.ndarray, months: np.ndarray, settings: AlertSettings
    ):
        self._days = days.tolist()
        self._counts = counts
        self._months = months
        self._settings = settings
        self._window = float(settings.baseline_window_days)
        # robust_baseline's searchsorted(days[:i], days[i] - window), for every i at once
        # (the same index: it is at most i, as days[i] is in the window)
        starts = np.searchsorted(days, days - self._window, side="left")
        self._starts = starts.tolist()
        self._factors: np.ndarray | None = None
        # counts deseasonalised by _factors, valid in [_from, _to) (a month's factors are
        # used for a few windows only: deseasonalising the whole series each month made
        # 70 years of daily counts quadratic again)
        self._seasonal = counts.copy()
        self._seasonal_list: list[float] = counts.tolist()
        self._from, self._to = 0, len(counts)
        # the values of _seasonal[_lo:_hi], sorted
        self._sorted: list[float] = []
        self._lo = self._hi = 0

    def at(
        self,
        i: int,
        first: int,
        min_points: int,
        factors: np.ndarray | None = None,
        support: tuple[int, int] = (0, 0),
    ) -> Baseline | None:
        """The baseline of image ``i`` from images ``first..i-1`` (see the class;
        ``support``: what the judged month's factor rests on, kept with it)."""
        found = self._window_of(i, first, min_points, factors)
        if found is None:
            return None
        start, factor, centre_d = found
        adjusted = factors is not None and _adjusted(factors[self._months[start:i]])
        return _median_baseline(
            self._seasonal[start:i],
            factor,
            i - start,
            self._days[i] - self._days[start],
            self._settings,
            centre_d,
            adjusted=adjusted,
            support=support,
        )

    def centre(
        self, i: int, first: int, min_points: int, factors: np.ndarray | None = None
    ) -> float | None:
        """``at(...).centre`` (None where ``at`` is None), without the spread."""
        found = self._window_of(i, first, min_points, factors)
        if found is None:
            return None
        _, factor, centre_d = found
        return max((centre_d + SEASON_OFFSET) * factor - SEASON_OFFSET, 0.0)

    def _window_of(
        self, i: int, first: int, min_points: int, factors: np.ndarray | None
    ) -> tuple[int, float, float] | None:
        """(first image of the window, month factor of image i, median of the window's
        deseasonalised counts), or None where there is no baseline."""
        days = self._days
        start = max(first, self._starts[i])
        if i - start < min_points:
            start = i - min_points
            if start < first or days[i] - days[start] > 2 * self._window:
                return None
        factor = 1.0
        if factors is not self._factors:
            self._factors = factors
            self._from = self._to = 0
            self._lo = self._hi = 0
            self._sorted = []
        if start < self._from or i > self._to:
            self._deseasonalise(start, i)
        if factors is not None:
            factor = float(factors[self._months[i]])
        return start, factor, _sorted_median(self._slide(start, i))

    def _deseasonalise(self, start: int, end: int) -> None:
        """Make ``_seasonal[start:end]`` valid, and a little after it for the images to
        come (with what was valid, when the two join)."""
        joins = self._from <= start <= self._to
        lo = self._from if joins else start
        hi = min(len(self._counts), max(end + 64, self._to) if joins else end + 64)
        counts = self._counts[lo:hi]
        if self._factors is None:
            part = counts
        else:
            # (count + 1) is seasonal, so empty winters do not break the ratios
            part = (counts + SEASON_OFFSET) / self._factors[self._months[lo:hi]] - SEASON_OFFSET
        self._seasonal[lo:hi] = part
        self._seasonal_list[lo:hi] = part.tolist()
        self._from, self._to = lo, hi

    def _slide(self, start: int, end: int) -> list[float]:
        """The values of ``_seasonal[start:end]``, sorted (from those of the last call)."""
        values = self._seasonal_list
        window = self._sorted
        if start < self._lo or end < self._hi or start >= self._hi:
            window[:] = sorted(values[start:end])
        else:
            for v in values[self._hi : end]:
                bisect.insort(window, v)
            for v in values[self._lo : start]:
                del window[bisect.bisect_left(window, v)]
        self._lo, self._hi = start, end
        return window


def rolling_medians(
    values: np.ndarray,
    starts: Sequence[int],
    min_points: int,
    ends: Sequence[int] | None = None,
) -> list[float | None]:
    """For every k, :func:`median_of` the finite values of ``values[starts[k]:ends[k]]``
    (``ends`` by default 0, 1, 2, ...: the values before each), or None with fewer than
    ``min_points`` of them; from one sorted window moved along the series, so neither
    ``starts`` nor ``ends`` may decrease."""
    vals = values.tolist()
    window: list[float] = []
    lo = hi = 0
    out: list[float | None] = []
    for k, start in enumerate(starts):
        end = k if ends is None else ends[k]
        for v in vals[hi:end]:
            if math.isfinite(v):
                bisect.insort(window, v)
        for v in vals[lo : min(start, end)]:
            if math.isfinite(v):
                del window[bisect.bisect_left(window, v)]
        lo, hi = max(lo, min(start, end)), max(hi, end)
        out.append(_sorted_median(window) if len(window) >= min_points else None)
    return out


def trailing_levels(days: np.ndarray, counts: np.ndarray) -> list[float | None]:
    """``trailing_level(days, counts, i, 0)`` for every image i."""
    starts = np.searchsorted(days, days - DAYS_PER_YEAR, side="left").tolist()
    return rolling_medians(counts, starts, 3)


def trailing_records(days: np.ndarray, counts: np.ndarray, years: int) -> list[Record | None]:
    """``trailing_record(days, counts, i, years)`` for every image i (a running maximum
    over the moving window: a queue of the images that may still become its maximum)."""
    starts = years_before(days, days, years).tolist()
    vals, day_list = counts.tolist(), days.tolist()
    queue: deque[int] = deque()  # indices, counts not increasing: the first is the maximum
    out: list[Record | None] = []
    for i, start in enumerate(starts):
        if i > 0:
            while queue and vals[queue[-1]] < vals[i - 1]:
                queue.pop()  # (an equal earlier count stays first: the first time it was set)
            queue.append(i - 1)
        while queue and queue[0] < start:
            queue.popleft()
        if start >= i:
            out.append(None)
            continue
        j = queue[0]
        out.append(Record(value=vals[j], index=j, day=day_list[j], n_points=i - start))
    return out


def series_noise(resid: np.ndarray, settings: AlertSettings) -> float | None:
    """The series' own relative image-to-image noise: 1.4826 x the MAD of the log residuals
    log((count + 1) / (centre + 1)) of its last ``noise_history`` judged images (None with
    fewer than ``noise_min_points``). It holds the detector's error at this site as well
    as the coming and going of trains, over a longer stretch than the baseline window."""
    finite = resid[np.isfinite(resid)][-settings.noise_history :]
    if len(finite) < settings.noise_min_points:
        return None
    mid = median_of(finite)
    return MAD_TO_SIGMA * median_of(np.abs(finite - mid))


class SeriesNoise:
    """:func:`series_noise` of a series' residuals as they come, one image at a time.

    After ``add`` of the residuals of images 0..i-1 (NaN for an image not judged),
    ``value()`` equals ``series_noise(resid[:i], settings)`` bit for bit; it keeps only the
    last ``noise_history`` finite residuals and recomputes only after one was added (the
    alert loop filtered the whole history at every image).
    """

    def __init__(self, settings: AlertSettings):
        self._settings = settings
        # the last noise_history finite residuals, the oldest overwritten (their order
        # does not matter to medians)
        self._recent = np.zeros(settings.noise_history)
        self._count = 0
        self._value: float | None = None
        self._stale = False

    def add(self, resid: float) -> None:
        """Take in the next image's residual (NaN or inf are passed over)."""
        if math.isfinite(resid):
            self._recent[self._count % len(self._recent)] = resid
            self._count += 1
            self._stale = True

    def value(self) -> float | None:
        """The series' noise from the residuals added so far (None: too few)."""
        if self._stale:
            recent = self._recent[: min(self._count, len(self._recent))]
            self._value = series_noise(recent, self._settings)
            self._stale = False
        return self._value


def with_series_noise(base: Baseline, noise: float | None, settings: AlertSettings) -> Baseline:
    """``base`` with its spread floored at the series' own noise (:func:`series_noise`)
    x (centre + 1) x ``series_noise_factor``."""
    if noise is None:
        return base
    floor = settings.series_noise_factor * noise * (base.centre + SEASON_OFFSET)
    if floor <= base.spread:
        return base
    return Baseline(  # (dataclasses.replace, without its cost at every image)
        centre=base.centre,
        spread=floor,
        n_points=base.n_points,
        window_days=base.window_days,
        seasonal_factor=base.seasonal_factor,
        note=base.note,
        series_noise=noise,
        adjusted=base.adjusted,
        season_images=base.season_images,
        season_years=base.season_years,
    )


def pooled_spike_spread(base: Baseline, noise: float | None, settings: AlertSettings) -> Baseline:
    """The baseline the spike test judges with (session 43): when the window's MAD set
    ``base.spread`` above both the count floor (:func:`spread_floor`) and the series' own
    noise x (centre + 1) x ``series_noise_factor``, the MAD of the window's few images is
    one noisy estimate of the same spread (often inflated at small counts), so it is
    pooled with the larger of those two as variances weighted by images: the window's
    ``n_points`` against ``spike_pool_images`` for the series' noise. Otherwise (no
    noise yet, the rule off, a usual count under ``spike_pool_min_centre``, or a spread
    the floor or the noise set) ``base`` as it is."""
    k = settings.spike_pool_images
    if k <= 0 or noise is None or noise <= 0 or base.centre < settings.spike_pool_min_centre:
        return base
    floor = spread_floor(base.centre, settings)
    by_noise = settings.series_noise_factor * noise * (base.centre + SEASON_OFFSET)
    ref = max(floor, by_noise)
    if base.spread <= ref:
        return base
    n = base.n_points
    pooled = math.sqrt((n * base.spread**2 + k * ref**2) / (n + k))
    return replace(
        base,
        spread=pooled,
        series_noise=noise,
        window_spread=base.spread,
        pool_ref=ref,
        pool_noise=by_noise,
    )


@dataclass(frozen=True)
class SeasonRef:
    """The same weeks of one earlier year: median, lowest and highest usable count."""

    year: int
    median: float
    low: float
    high: float
    n_points: int


def same_season(
    days: np.ndarray,
    counts: np.ndarray,
    first_day: float,
    last_day: float,
    stop: int,
    settings: AlertSettings,
) -> list[SeasonRef]:
    """Images of ``counts[:stop]`` in the same weeks of each of the N earlier years
    (N = ``record_years``): from ``first_day`` - ``season_window_days`` to ``last_day``
    + ``season_window_days``, moved back 1..N years; summarised per year, latest first.
    Each summary is named by the year of its images' median day (weeks around New Year
    can lie in either year; the images are what the explanation quotes)."""
    out: list[SeasonRef] = []
    w = float(settings.season_window_days)
    for k in range(1, settings.record_years + 1):
        back = k * DAYS_PER_YEAR
        lo = int(np.searchsorted(days[:stop], first_day - back - w, side="left"))
        hi = int(np.searchsorted(days[:stop], last_day - back + w, side="right"))
        if hi <= lo:
            continue
        seg = counts[lo:hi]
        out.append(
            SeasonRef(
                year=int(year_of(np.array([np.median(days[lo:hi])]))[0]),
                median=float(np.median(seg)),
                low=float(seg.min()),
                high=float(seg.max()),
                n_points=hi - lo,
            )
        )
    return out


def quietest(
    days: np.ndarray, counts: np.ndarray, stop: int, settings: AlertSettings
) -> tuple[float, float, int] | None:
    """The quietest stretch of ``counts[:stop]`` within the previous N years: the lowest
    median of the images within ``season_window_days`` of an image (2 images at least),
    as (median, day of that image, images in the stretch); None when there is none."""
    if stop <= 0:
        return None
    w = float(settings.season_window_days)
    first = int(years_before(days[:stop], days[stop - 1], settings.record_years))
    lo = np.searchsorted(days[:stop], days[first:stop] - w, side="left").tolist()
    hi = np.searchsorted(days[:stop], days[first:stop] + w, side="right").tolist()
    # the stretches' medians from one sorted window moved along (both ends only move on)
    medians = rolling_medians(counts, lo, 2, hi)
    best: tuple[float, float, int] | None = None
    for j, (a, b) in enumerate(zip(lo, hi, strict=True)):
        med = medians[j]
        if med is None:  # fewer than 2 images
            continue
        if best is None or med < best[0]:
            best = (med, float(days[first + j]), int(b - a))
    return best
