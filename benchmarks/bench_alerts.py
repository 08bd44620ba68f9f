"""Benchmark of the alert rules on simulated count series (issue 5 targets).

Simulates >= 1,000 site-years of counts: irregular revisits (1-8 usable images a
month), 10-40 % unusable scenes, seasonal patterns, natural day-to-day variation
(Poisson on a lognormal level, CV 15 %) and the detector's count error. Injected
events: single-image spikes of 2, 3, 5 and 10x the baseline, sustained level shifts
(x1.5, x2, x3, x0.5), drops (activity stops: x0.05) and Tumangang-like ramps (to
x3.6 over 18 days, then stays). Event sizes are in true cars; the detector sees them
through its error.

Detector error models (``--noise``, several may be given; the same true series are
used for each):

* ``measured`` (default): the default detector's measured per-scene count error at
  0.3-0.5 m, read from ``benchmarks/results/count_error.json``. ``fit_count_error.py``
  fits it to the per-scene counts that ``bench_detect_accuracy.py --coarse 60 --json
  benchmarks/results/detect_accuracy.json`` writes, and records the detector version,
  date, source file and number of scenes with it. The model:
  log(detected / true) = site bias + slope x log(true / 40) + image error: a per-site
  bias N(mean, sd) in log (sd = spread of the per-resolution means), a density slope
  (crowded yards are under-counted more, so a true 3x spike reads as less), and a
  per-image Student-t error (df, scale) measured within each resolution (maximum
  likelihood). Intervals as the pipeline stores them: the calibrated 90 % interval
  widened to hold the count, at the median low/count and high/count ratios. The current
  fit (its detector version, date and scenes are recorded in the file's ``source``;
  detector 2.7 and coarse estimator 4 since session 15) is described in
  docs/alerts.md; earlier fits: detector 2.2 (82 usable scenes at 0.3-0.5 m and 55 at
  0.75-1 m), detector 1.3.2 (119 scenes, clear or not): bias
  N(-0.02, 0.02), slope -0.17, Student-t df 5.2, scale 0.188; detector 1.3.1 (by hand):
  N(-0.20, 0.08), slope -0.18, df 7.5, scale 0.236.
* ``measured-coarse``: the same at 0.75-1 m (detector 2.2: an under-count of about
  20 %, Gaussian-like tails; since 2.3's coarse string threshold a bias of -0.11 in log;
  1.3.2: N(-0.23, 0.08), slope -0.39, scale 0.302).
* ``measured-3m`` (since 2026-12-03): the same model fitted to the 3 m benchmark scenes'
  car equivalents from occupied track length along the scenes' centrelines (the coarse
  part of the same report; one resolution, so the per-site bias spread is that between
  the scenes' styles). Its images are at 3 m and carry the ``length`` method, so they
  are judged as the pipeline's 3 m counts are: with the coarse band's thresholds and,
  since session 9, the occupied-length thresholds (``AlertSettings.length_*``: a shift
  needs three images, a drop two), and a record or spike is a note unless the image
  before it stood out too (``AlertSettings.confirm_methods``).
* ``gauss``: the earlier setting, 7.5 % Gaussian relative error and a +-15 % interval
  (the detector's 5-10 % target, not its measured error).

Each simulated image carries a ground sample distance consistent with its error model,
so railwatch picks its thresholds per resolution band itself
(``AlertSettings.coarse_from_gsd``): ``measured`` images are at one of the resolutions
the model was fitted on (0.3, 0.4 or 0.5 m, drawn per image), ``measured-coarse`` ones at
0.75 or 1.0 m, ``measured-3m`` ones at 3 m (``length`` counts), ``gauss`` ones at 0.5 m.
The Tumangang visits keep their scenario gsd (0.3 or 0.5 m) from true counts and under
``measured``; seen through ``measured-coarse`` they are taken as imaged at 0.75 or 1.0 m
(drawn per visit), through ``measured-3m`` at 3 m, like that error.

Reports recall per event kind and size, false alarms (alerts of severity >= low) per
site-year on event-free stretches, and delay to the first alert in usable images, for
railwatch and for two naive rules (3-sigma on the trailing mean/std; trailing maximum
alone) in the same run; railwatch's goal figures per site level (10-20, 20-40, 40-80
true cars); oracle references that know each site's true level (a single-image spike
test and a two-image shift test at 0.2 false alarms per site-year, the latter with a
null of spike-free runs, optimistic, and with the fair null of every run that ends where
a rule's false alarm counts; and an "every image high" two-image test at the rule's own
shift false-alarm rate); then the Tumangang scenario's goals on 12 scenario seeds, from
its true counts (objects-method visits, <= 1.5 m) seen through the same detector error
(no rendering, no detector run). Thresholds were tuned with ``--seed 7`` (under the
detector 1.3.1 error model; ``spike_log_z`` and ``shift_pair_z`` retuned on 2026-12-02
under detector 2.0's measured error), later on seeds 7, 11 and 12 (the segment test,
``spike_log_z`` 2.5, in session 8 the fine band's spike and segment thresholds, in
session 9 the occupied-length thresholds under ``measured-3m``, in session 14 the fine
band's ``spike_log_z`` and ``spike_z`` for detector 2.6); the reported figures use
``--seed 2026`` (the default).

Run: ``python benchmarks/bench_alerts.py [--sites 400] [--years 6] [--seed 2026]
[--noise measured gauss] [--set KEY=VALUE ...] [--no-write]`` (the measured models
need ``benchmarks/results/count_error.json``: see above); writes between
``<!-- alerts:start -->`` and ``<!-- alerts:end -->`` in ``docs/benchmarks.md``
unless ``--no-write`` (or ``--set``) is given.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from railwatch.analysis import Alert, AlertSettings, CountPoint, Event, analyze_series
from railwatch.detect.coarse import method_for_gsd

START = datetime(2018, 1, 1, 6, tzinfo=UTC)
NATURAL_CV = 0.15
POST_EVENT_DAYS = 180
#: Chance that a site gets no sustained event, a shift, a drop or a ramp.
EVENT_MIX = (0.3, 0.4, 0.15, 0.15)
FIRST_IMAGES = 4  # a sustained event counts as found if alerted within this many images
#: Site levels (true cars before any event) the goals are also reported for.
LEVEL_BANDS = ((10.0, 20.0), (20.0, 40.0), (40.0, 80.0))
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
START_MARK, END_MARK = "<!-- alerts:start -->", "<!-- alerts:end -->"
TUMANGANG_SEEDS = tuple(range(2020, 2032))


#: Bound of one image's log error in :meth:`NoiseModel.observe` (a factor of 20).
MAX_LOG_ERROR = float(np.log(20.0))


@dataclass(frozen=True)
class NoiseModel:
    """How the detector sees a true count (see the module docstring for the figures)."""

    name: str
    label: str
    gauss_rel: float = 0.0  # > 0: Gaussian relative error (the earlier setting)
    bias_mean: float = 0.0  # per-site log bias
    bias_sd: float = 0.0
    slope: float = 0.0  # log(detected/true) per log(true/40)
    scale: float = 0.0  # per-image Student-t scale (log)
    df: float = 5.0
    low_ratio: float = 0.85  # stored interval as multiples of the count
    high_ratio: float = 1.15
    gsds: tuple[float, ...] = (0.5,)  # resolutions (m/pixel) the error applies at

    def gsd_of(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Ground sample distances of ``n`` images under this error (drawn per image)."""
        return rng.choice(np.array(self.gsds, dtype=float), size=n)

    def covers(self, gsd: float) -> bool:
        """Is ``gsd`` within the band this error was measured at?"""
        return min(self.gsds) <= gsd <= max(self.gsds)

    def site_bias(self, rng: np.random.Generator) -> float:
        return float(rng.normal(self.bias_mean, self.bias_sd)) if self.bias_sd else self.bias_mean

    def observe(self, true: np.ndarray, bias: float, rng: np.random.Generator) -> np.ndarray:
        """Detected counts for true counts ``true`` at a site with log bias ``bias``."""
        t = np.asarray(true, dtype=float)
        if self.gauss_rel > 0:
            return np.maximum(0.0, np.round(t * (1 + rng.normal(0, self.gauss_rel, len(t)))))
        # the per-image error in log, bounded at a factor of 20 either way: a no-op for the
        # object models, but the 3 m fit's tails (df about 1.4) otherwise overflow
        eps = np.clip(self.scale * rng.standard_t(self.df, len(t)), -MAX_LOG_ERROR, MAX_LOG_ERROR)
        log_gain = bias + self.slope * np.log(np.maximum(t, 1.0) / 40.0) + eps
        return np.maximum(0.0, np.round(t * np.exp(log_gain)))

    def expected(self, level: np.ndarray, bias: float) -> np.ndarray:
        """The count the detector gives on average for a true level (no image error)."""
        if self.gauss_rel > 0:
            return level
        return level * np.exp(bias + self.slope * np.log(np.maximum(level, 1.0) / 40.0))

    def intervals(
        self, counts: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Stored (low, high) intervals: the model's ratios, jittered +-10 % per image."""
        jitter = rng.uniform(0.9, 1.1, (2, len(counts)))
        low = np.floor(counts * np.minimum(1.0, self.low_ratio * jitter[0]))
        high = np.ceil(counts * np.maximum(1.0, self.high_ratio * jitter[1]))
        return low, high


GAUSS = NoiseModel(
    "gauss",
    "7.5 % Gaussian relative error, +-15 % interval (the earlier setting; the detector's "
    "target, not its measured error)",
    gauss_rel=0.075,
    low_ratio=0.85,
    high_ratio=1.15,
    gsds=(0.5,),
)
#: The measured models' parameters, written by ``fit_count_error.py``.
COUNT_ERROR = Path(__file__).resolve().parent / "results" / "count_error.json"
MEASURED = {
    "measured": "0.3-0.5 m",
    "measured-coarse": "0.75-1 m",
    # car equivalents from occupied track length (since 2026-12-03; optional in the file)
    "measured-3m": "3 m (occupied track length)",
}
#: Measured models an older count_error.json may lack (then only run when asked for).
OPTIONAL_MODELS = ("measured-3m",)
NOISE_NAMES = ("gauss", *MEASURED)


def _fitted_gsds(model: dict[str, Any]) -> tuple[float, ...]:
    """The resolutions a fitted model was measured at: its groups when they are
    resolutions, else (older fits; models grouped by style) the ends of its band."""
    groups = None if model.get("groups") == "style" else model.get("group_sizes")
    return tuple(sorted({float(g) for g in (groups or model["band_m"])}))


def load_noise_models(path: Path = COUNT_ERROR) -> dict[str, NoiseModel]:
    """The measured models from ``path`` (``fit_count_error.py``'s output) and ``gauss``."""
    if not path.is_file():
        raise SystemExit(
            f"{path} not found: the measured detector error models are fitted by "
            "`python benchmarks/bench_detect_accuracy.py --coarse 60 --json "
            "benchmarks/results/detect_accuracy.json` then `python "
            "benchmarks/fit_count_error.py` (or use --noise gauss)"
        )
    data = json.loads(path.read_text())
    src = data["source"]
    out: dict[str, NoiseModel] = {}
    for name, band in MEASURED.items():
        m = data["models"].get(name)
        if m is None:
            if name in OPTIONAL_MODELS:
                continue
            raise SystemExit(f"{path} has no {name!r} model; re-run fit_count_error.py")
        df = f"{m['df']:.0f} (Gaussian-like)" if m["df"] >= 100 else f"{m['df']:.1f}"
        label = (
            f"measured detector error at {band} (detector {src['detector_version']}, "
            f"{m['scenes_used']} scenes with cars, fitted {data['fitted_at'][:10]}: per-site "
            f"bias N({m['bias_mean']:.2f}, {m['bias_sd']:.2f}) in log, density slope "
            f"{m['slope']:.2f}, per-image Student-t df {df} scale {m['scale']:.3f}; "
            f"MAPE {100 * m['measured']['mape']:.0f} %, total "
            f"{100 * m['measured']['total_error']:+.0f} %; intervals "
            f"{m['low_ratio']:.2f}x-{m['high_ratio']:.2f}x)"
        )
        out[name] = NoiseModel(
            name,
            label,
            bias_mean=m["bias_mean"],
            bias_sd=m["bias_sd"],
            slope=m["slope"],
            scale=m["scale"],
            df=m["df"],
            low_ratio=m["low_ratio"],
            high_ratio=m["high_ratio"],
            gsds=_fitted_gsds(m),
        )
    out["gauss"] = GAUSS
    return out


@dataclass(frozen=True)
class Injected:
    kind: str  # spike | shift | drop | ramp
    size: str  # e.g. "3x"
    start: float  # day number (days since START)
    first_index: int  # index of the first usable image affected


@dataclass
class Site:
    days: np.ndarray  # usable image days (float, days since START)
    counts: np.ndarray  # detected counts
    unusable_days: np.ndarray
    events: list[Injected]
    years: float
    level: float
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    expected: np.ndarray | None = None  # true level (season, sustained events; no spikes)
    quiet: np.ndarray | None = None  # true level without any event (season only)
    gsd: np.ndarray | None = None  # ground sample distance (m) of each usable image
    unusable_gsd: np.ndarray | None = None  # ... and of each unusable one


def simulate(rng: np.random.Generator, years: int) -> tuple[Site, np.ndarray]:
    """One site's usable and unusable image days, injected events and TRUE counts."""
    level = float(np.exp(rng.uniform(np.log(10), np.log(80))))
    amp = rng.uniform(0.0, 0.3)
    phase = rng.uniform(0, 2 * np.pi)
    unusable_frac = rng.uniform(0.1, 0.4)
    usable_days: list[float] = []
    unusable_days: list[float] = []
    for month in range(12 * years):
        k = int(rng.integers(1, 9))
        total = round(k / (1 - unusable_frac))
        days = np.sort(rng.choice(30, size=min(total, 30), replace=False)) + month * 30.44
        flags = np.zeros(len(days), bool)
        flags[rng.choice(len(days), size=min(k, len(days)), replace=False)] = True
        usable_days += list(days[flags])
        unusable_days += list(days[~flags])
    days = np.array(sorted(usable_days))
    season = 1 + amp * np.sin(2 * np.pi * days / 365.25 + phase)
    mult = np.ones_like(days)
    events: list[Injected] = []
    # one sustained event (or none) in years 2.5 .. years-1
    kind = rng.choice(["none", "shift", "drop", "ramp"], p=EVENT_MIX)
    t0 = rng.uniform(2.5 * 365.25, (years - 1) * 365.25)
    i0 = int(np.searchsorted(days, t0))
    if kind == "shift":
        factor = float(rng.choice([1.5, 2.0, 3.0, 0.5]))
        mult[i0:] = factor
        events.append(Injected("shift", f"{factor:g}x", days[i0], i0))
    elif kind == "drop":
        mult[i0:] = 0.05
        events.append(Injected("drop", "to 5%", days[i0], i0))
    elif kind == "ramp":
        ramp = np.clip((days - days[i0]) / 18.0, 0, 1)
        mult = np.where(days >= days[i0], 1 + 2.6 * ramp, 1.0)
        mult[i0] = max(mult[i0], 1.3)
        events.append(Injected("ramp", "to 3.6x", days[i0], i0))
    # two isolated single-image spikes after the first year, before any sustained event
    # (a spike of 3x a stopped site's few cars is not what the goal is about)
    last = i0 - 3 if kind != "none" else len(days)
    first = int(np.searchsorted(days, 400.0))
    for _ in range(2):
        if last <= first:
            break
        j = int(rng.integers(first, last))
        factor = float(rng.choice([2.0, 3.0, 5.0, 10.0]))
        mult[j] *= factor
        events.append(Injected("spike", f"{factor:g}x", days[j], j))
    expected = level * season * _sustained(mult, events)
    lam = level * season * mult * rng.lognormal(-(NATURAL_CV**2) / 2, NATURAL_CV, len(days))
    true = rng.poisson(lam).astype(float)
    site = Site(days, true, np.array(sorted(unusable_days)), events, float(years), level)
    site.expected = expected
    site.quiet = level * season
    return site, true


def _sustained(mult: np.ndarray, events: list[Injected]) -> np.ndarray:
    """``mult`` without the single-image spikes."""
    out = mult.copy()
    for ev in events:
        if ev.kind == "spike":
            out[ev.first_index] /= float(ev.size.rstrip("x"))
    return out


def observe(
    site: Site,
    true: np.ndarray,
    noise: NoiseModel,
    rng: np.random.Generator,
    gsd_rng: np.random.Generator | None = None,
) -> Site:
    """The site as the detector sees it under ``noise`` (counts and stored intervals;
    each image's gsd within the error's band, drawn with ``gsd_rng`` so that the counts'
    draws do not depend on it)."""
    bias = noise.site_bias(rng)
    counts = noise.observe(true, bias, rng)
    low, high = noise.intervals(counts, rng)
    expected = site.expected if site.expected is not None else true
    quiet = site.quiet if site.quiet is not None else expected
    gsd_rng = gsd_rng or np.random.default_rng(0)
    gsd = noise.gsd_of(len(site.days), gsd_rng)
    unusable_gsd = noise.gsd_of(len(site.unusable_days), gsd_rng)
    return Site(
        site.days,
        counts,
        site.unusable_days,
        site.events,
        site.years,
        site.level,
        low,
        high,
        noise.expected(expected, bias),
        noise.expected(quiet, bias),
        gsd,
        unusable_gsd,
    )


def make_sites(seed: int, n: int, years: int, noise: NoiseModel) -> list[Site]:
    """``n`` sites: the true series depend on (seed, site) only, the detector error on the
    noise model too, so each noise model sees the same true series."""
    out = []
    for k in range(n):
        site, true = simulate(np.random.default_rng([seed, k]), years)
        out.append(
            observe(
                site,
                true,
                noise,
                np.random.default_rng([seed, k, 1]),
                np.random.default_rng([seed, k, 2]),
            )
        )
    return out


def _method(gsd: float) -> str:
    """The count method the pipeline uses at ``gsd`` (``objects`` when unknown): images of
    1.5 m and coarser are counted from occupied track length, whose alerts the rules treat
    apart (``AlertSettings.confirm_methods``)."""
    return "objects" if np.isnan(gsd) else method_for_gsd(gsd)


def to_points(site: Site) -> list[CountPoint]:
    """The site's images as count points, each with its gsd (None when the site has none)
    and the count method of that gsd."""
    low = site.low if site.low is not None else site.counts
    high = site.high if site.high is not None else site.counts
    gsd = site.gsd if site.gsd is not None else np.full(len(site.days), np.nan)
    gaps = site.unusable_gsd
    gaps = gaps if gaps is not None else np.full(len(site.unusable_days), np.nan)
    pts = [
        CountPoint(
            when=START + timedelta(days=float(d)),
            count=float(c),
            low=float(lo),
            high=float(hi),
            gsd=None if np.isnan(g) else float(g),
            method=_method(g),
        )
        for d, c, lo, hi, g in zip(site.days, site.counts, low, high, gsd, strict=True)
    ]
    pts += [
        CountPoint(
            when=START + timedelta(days=float(d)),
            count=None,
            usable=False,
            gsd=None if np.isnan(g) else float(g),
            method=_method(g),
        )
        for d, g in zip(site.unusable_days, gaps, strict=True)
    ]
    return pts


def railwatch_rule(site: Site, settings: AlertSettings) -> dict[int, set[str]]:
    """Usable-image index -> alert kinds (severity >= low) from railwatch."""
    alerts = analyze_series(to_points(site), settings=settings)
    index = {(START + timedelta(days=float(d))).date(): i for i, d in enumerate(site.days)}
    out: dict[int, set[str]] = defaultdict(set)
    for a in alerts:
        if a.kind == "quality" or a.severity == "info":
            continue
        i = index.get(a.when.date())
        if i is not None:
            out[i].add(a.kind)
    return out


def three_sigma_rule(site: Site, settings: AlertSettings) -> dict[int, set[str]]:
    """Naive: |x - mean| > 3 std of the trailing window (same window, >= 5 images)."""
    out: dict[int, set[str]] = defaultdict(set)
    d, c = site.days, site.counts
    for i in range(len(d)):
        lo = int(np.searchsorted(d, d[i] - settings.baseline_window_days))
        w = c[lo:i]
        if len(w) < 5:
            continue
        m, s = float(w.mean()), float(w.std(ddof=1))
        if s > 0 and abs(c[i] - m) > 3 * s:
            out[i].add("spike" if c[i] > m else "drop")
    return out


def trailing_max_rule(site: Site, settings: AlertSettings) -> dict[int, set[str]]:
    """Naive: count above the maximum of the previous N years (>= 5 images)."""
    out: dict[int, set[str]] = defaultdict(set)
    d, c = site.days, site.counts
    for i in range(5, len(d)):
        lo = int(np.searchsorted(d, d[i] - settings.record_years * 365.25))
        if c[i] > c[lo:i].max():
            out[i].add("record")
    return out


def _oracle_site(site: Site) -> tuple[np.ndarray, np.ndarray, float]:
    """What the oracles know of one site: per image log((count + 1) / (expected count
    + 1)); which images are events (spikes, and the post-event window of sustained ones);
    and the event-free span in years (as :func:`score` counts it)."""
    assert site.expected is not None
    stat = np.log((site.counts + 1.0) / (site.expected + 1.0))
    busy = np.zeros(len(site.days), bool)
    span = site.years * 365.25
    for ev in site.events:
        if ev.kind == "spike":
            busy[ev.first_index] = True
        else:
            busy |= (site.days >= ev.start) & (site.days < ev.start + POST_EVENT_DAYS)
            span -= min(POST_EVENT_DAYS, span - ev.start)
    return stat, busy, span / 365.25


def _oracle_recall(
    null: list[float], hits: dict[str, list[float]], years: float, target: float
) -> tuple[float, str, float]:
    """The threshold that ``target`` false alarms per site-year of ``null`` statistics
    allow, the recall per event size at it, and the pooled recall."""
    n_false = int(target * years)
    threshold = float(np.sort(null)[-n_false - 1]) if 0 < n_false < len(null) else float("inf")
    sizes = sorted(hits, key=_size_key)
    recall = ", ".join(f"{k} {np.mean(np.array(hits[k]) > threshold):.3f}" for k in sizes)
    pooled = np.concatenate([np.array(hits[k]) for k in sizes]) if sizes else np.array([])
    return threshold, recall, float(np.mean(pooled > threshold)) if len(pooled) else 0.0


def oracle_spikes(sites: list[Site], target: float) -> str:
    """Recall of an oracle single-image test that knows each site's true level, season and
    detector bias: log((count + 1) / (expected count + 1)) above the threshold that gives
    ``target`` false alarms per event-free site-year in this run (an upper reference for
    any rule that judges one image: no rule knows the level this well)."""
    if any(site.expected is None for site in sites):
        return ""
    null: list[float] = []
    hits: dict[str, list[float]] = defaultdict(list)
    years = 0.0
    for site in sites:
        stat, busy, free_years = _oracle_site(site)
        for ev in site.events:
            if ev.kind == "spike":
                hits[ev.size].append(float(stat[ev.first_index]))
        null.extend(stat[~busy].tolist())
        years += free_years
    threshold, recall, _ = _oracle_recall(null, hits, years, target)
    return (
        f"Oracle single-image spike test (knows each site's true level, season and detector "
        f"bias; threshold log ratio {threshold:.2f}, set for {target} false alarms per "
        f"event-free site-year in this run): recall {recall}. No rule that judges one image "
        f"can do much better at that false-alarm rate."
    )


def oracle_shifts(
    sites: list[Site], target: float, images: int = 2, every_target: float | None = None
) -> str:
    """Share of upward shifts >= 2x that an oracle test of ``images`` images finds at the
    last of the first ``images`` images after the change: the mean of their
    log((count + 1) / (expected count + 1)), with the expected count before the change
    (true level, season, detector bias), above the threshold that gives ``target`` false
    alarms per event-free site-year in this run. With 2 images it is the earliest a change
    confirmed by more than one image can be raised; with :data:`FIRST_IMAGES` it is a
    reference for the shift recall, which counts an alert within that many images. Every
    run above the threshold counts as a false alarm (a rule that raises once would count
    overlapping runs once), so the threshold is on the strict side.

    Two nulls: runs of ``images`` event-free images (the first figure: it leaves out every
    run with an injected spike in it, so it is optimistic), and every run that ends on an
    event-free image, as :func:`score` counts a rule's alert there (a spike followed by
    an ordinary image is a false alarm for a rule too): the fair figure. With
    ``every_target`` (the rule's own shift false alarms per site-year) a third test
    requires every one of the images to be high: the smallest log ratio of the run above
    the threshold of the fair null at that rate."""
    if any(site.expected is None for site in sites):
        return ""
    clean: list[float] = []  # means of event-free runs
    fair: list[float] = []  # means of runs ending on an event-free image
    fair_min: list[float] = []  # ... and their smallest log ratio
    hits: dict[str, list[float]] = defaultdict(list)
    hits_min: dict[str, list[float]] = defaultdict(list)
    years = 0.0
    for site in sites:
        stat, busy, free_years = _oracle_site(site)
        years += free_years
        quiet = site.quiet if site.quiet is not None else site.expected
        assert quiet is not None
        for ev in site.events:
            j = ev.first_index
            if ev.kind == "shift" and _size_key(ev.size) >= 2 and j + images <= len(site.days):
                # against the level before the change (season and bias, no event)
                run = np.log((site.counts[j : j + images] + 1.0) / (quiet[j : j + images] + 1.0))
                hits[ev.size].append(float(run.mean()))
                hits_min[ev.size].append(float(run.min()))
        if len(stat) < images:
            continue
        runs = np.lib.stride_tricks.sliding_window_view(stat, images)
        busy_runs = np.lib.stride_tricks.sliding_window_view(busy, images)
        clean.extend(runs.mean(axis=1)[~busy_runs.any(axis=1)].tolist())
        fair.extend(runs.mean(axis=1)[~busy_runs[:, -1]].tolist())
        fair_min.extend(runs.min(axis=1)[~busy_runs[:, -1]].tolist())
    threshold, recall, pooled = _oracle_recall(clean, hits, years, target)
    fair_threshold, fair_recall, fair_pooled = _oracle_recall(fair, hits, years, target)
    n = "two" if images == 2 else str(images)
    if images == 2:
        meaning = (
            "A rule must also pass runs with an injected spike in them, so this figure is "
            "optimistic (until session 16 it was read as a bound; it is not one)."
        )
    else:
        meaning = (
            f"A reference for the shift recall above, which counts an alert within the first "
            f"{images} usable images."
        )
    text = (
        f"Oracle {n}-image shift test (knows each site's true level before the change, its "
        f"season and detector bias; mean log ratio of the first {n} images after the change "
        f"above {threshold:.2f}, set for {target} false alarms per event-free site-year on "
        f"runs of {n} consecutive event-free images, none an injected spike, in this run): "
        f"upward shifts found at image {images} {recall} (pooled {pooled:.3f}). {meaning} "
        f"Fair null (every run of {n} images that ends on an event-free image, spikes "
        f"included, as the rules' false alarms are counted): the same mean test's threshold "
        f"at {target} is {fair_threshold:.2f} and it finds {fair_recall} (fair pooled "
        f"{fair_pooled:.3f}). Like the others, a reference: a test of another form can do "
        f"better."
    )
    if every_target is not None:
        t_min, recall_min, pooled_min = _oracle_recall(fair_min, hits_min, years, every_target)
        text += (
            f" Oracle 'every image high' test (the smallest of the {n} log ratios above "
            f"{t_min:.2f}, set on the fair null for {every_target:.3f} false alarms per "
            f"event-free site-year, the railwatch rule's own shift false alarms in this run): "
            f"finds {recall_min} (every-high pooled {pooled_min:.3f})."
        )
    return text


RULES: dict[str, Callable[[Site, AlertSettings], dict[int, set[str]]]] = {
    "railwatch": railwatch_rule,
    "3-sigma (trailing mean/std)": three_sigma_rule,
    "trailing max": trailing_max_rule,
}


@dataclass
class Tally:
    found: int = 0
    total: int = 0
    within2: int = 0
    delays: list[int] | None = None

    def add(self, found: bool, delay: int | None, within2: bool) -> None:
        self.total += 1
        self.found += int(found)
        self.within2 += int(within2)
        if self.delays is None:
            self.delays = []
        if delay is not None:
            self.delays.append(delay)


def score(sites: list[Site], rule_alerts: list[dict[int, set[str]]]) -> dict[str, object]:
    """Recall per kind/size, delays, and false alarms per event-free site-year."""
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    by_level: dict[tuple[str, str, int], Tally] = defaultdict(Tally)
    false_alarms = 0
    by_kind: Counter[str] = Counter()  # alerts on event-free images, per kind
    free_days = 0.0
    for site, alerts in zip(sites, rule_alerts, strict=True):
        busy = np.zeros(len(site.days), bool)
        band = next(
            (b for b, (lo, hi) in enumerate(LEVEL_BANDS) if lo <= site.level < hi),
            len(LEVEL_BANDS) - 1,
        )
        for ev in site.events:
            if ev.kind == "spike":
                busy[ev.first_index] = True
                continue
            busy |= (site.days >= ev.start) & (site.days < ev.start + POST_EVENT_DAYS)
            fired = [
                k for k in range(FIRST_IMAGES)
                if ev.first_index + k < len(site.days) and alerts.get(ev.first_index + k)
            ]  # fmt: skip
            shift_k = [
                k for k in range(FIRST_IMAGES)
                if ev.first_index + k < len(site.days)
                and alerts.get(ev.first_index + k, set()) & {"shift", "drop"}
            ]  # fmt: skip
            delay = fired[0] + 1 if fired else None
            within2 = bool(shift_k) and shift_k[0] + 1 <= 2
            tallies[(ev.kind, ev.size)].add(bool(fired), delay, within2)
            by_level[(ev.kind, ev.size, band)].add(bool(fired), delay, within2)
        for ev in site.events:
            if ev.kind == "spike":
                found = bool(alerts.get(ev.first_index))
                tallies[(ev.kind, ev.size)].add(found, 1 if found else None, False)
                by_level[(ev.kind, ev.size, band)].add(found, 1 if found else None, False)
        false_alarms += sum(1 for i in alerts if not busy[i])
        by_kind.update(k for i, kinds in alerts.items() if not busy[i] for k in kinds)
        # event-free time: the span of the series minus post-event windows
        span = site.years * 365.25
        for ev in site.events:
            if ev.kind != "spike":
                span -= min(POST_EVENT_DAYS, site.years * 365.25 - ev.start)
        free_days += span
    return {
        "tallies": dict(tallies),
        "by_level": dict(by_level),
        "false_alarms": false_alarms,
        "false_alarms_by_kind": dict(by_kind),
        "free_years": free_days / 365.25,
    }


def fmt_table(results: dict[str, dict[str, object]], n_sites: int, years: float) -> str:
    rules = list(results)
    keys = sorted(
        {k for r in results.values() for k in r["tallies"]},  # type: ignore[attr-defined]
        key=lambda k: (["spike", "shift", "drop", "ramp"].index(k[0]), _size_key(k[1])),
    )
    lines = [
        "| event | size | n | " + " | ".join(f"recall: {r}" for r in rules) + " |",
        "|---|---|---|" + "---|" * len(rules),
    ]
    for key in keys:
        cells = []
        n = 0
        for r in rules:
            t = results[r]["tallies"].get(key)  # type: ignore[attr-defined]
            n = t.total
            cells.append(f"{t.found / t.total:.3f}")
        lines.append(f"| {key[0]} | {key[1]} | {n} | " + " | ".join(cells) + " |")
    lines += ["", "| figure | " + " | ".join(rules) + " |", "|---|" + "---|" * len(rules)]
    fa = []
    for r in rules:
        res = results[r]
        fa.append(f"{res['false_alarms'] / res['free_years']:.3f}")  # type: ignore[operator]
    lines.append("| false alarms per event-free site-year | " + " | ".join(fa) + " |")
    kinds = []
    for r in rules:
        res = results[r]
        per: dict[str, int] = res["false_alarms_by_kind"]  # type: ignore[assignment]
        years = float(res["free_years"])  # type: ignore[arg-type]
        kinds.append(", ".join(f"{k} {c / years:.3f}" for k, c in sorted(per.items())) or "-")
    lines.append("| of which, by alert kind (an image may raise two) | " + " | ".join(kinds) + " |")
    for kind in ("shift", "drop", "ramp"):
        med, w2 = [], []
        for r in rules:
            ts = [t for k, t in results[r]["tallies"].items() if k[0] == kind]  # type: ignore[attr-defined]
            delays = [d for t in ts for d in (t.delays or [])]
            med.append(f"{np.median(delays):.1f}" if delays else "-")
            big = [t for k, t in results[r]["tallies"].items()  # type: ignore[attr-defined]
                   if k[0] == kind and _size_key(k[1]) >= 2]  # fmt: skip
            if kind != "shift":
                big = ts
            tot = sum(t.total for t in big)
            w2.append(f"{sum(t.within2 for t in big) / tot:.3f}" if tot else "-")
        lines.append(
            f"| {kind}: median delay to first alert (usable images) | " + " | ".join(med) + " |"
        )
        label = "shift ≥ 2x" if kind == "shift" else kind
        lines.append(
            f"| {label}: shift/drop alert within 2 usable images | " + " | ".join(w2) + " |"
        )
    return "\n".join(lines)


def goals_line(res: dict[str, object]) -> str:
    """The issue's goals next to the measured railwatch figures (pooled over sizes)."""
    tallies: dict[tuple[str, str], Tally] = res["tallies"]  # type: ignore[assignment]

    def pooled(kind: str, sizes: tuple[str, ...], field: str = "found") -> tuple[int, int]:
        ts = [t for k, t in tallies.items() if k[0] == kind and k[1] in sizes]
        return sum(getattr(t, field) for t in ts), sum(t.total for t in ts)

    sp, sp_n = pooled("spike", ("3x", "5x", "10x"))
    s3, s3_n = pooled("spike", ("3x",))
    sh, sh_n = pooled("shift", ("2x", "3x"))
    w2, w2_n = pooled("shift", ("2x", "3x"), "within2")
    n_fa, years = int(res["false_alarms"]), float(res["free_years"])  # type: ignore[call-overload,arg-type]
    fa_lo, fa_hi = poisson_interval(n_fa)
    return (
        f"Goals (railwatch, this run; 95 % intervals in brackets, Wilson for recalls and "
        f"exact Poisson for false alarms, over this run's events alone): recall for spikes "
        f">= 3x (3x, 5x, 10x pooled) {sp}/{sp_n} = {sp / sp_n:.3f} {_ci(sp, sp_n)}, for 3x "
        f"spikes alone {s3}/{s3_n} = {s3 / s3_n:.3f} {_ci(s3, s3_n)} (goal >= 0.95); for "
        f"upward shifts >= 2x {sh}/{sh_n} = {sh / sh_n:.3f} {_ci(sh, sh_n)} (goal >= "
        f"0.95; halvings, 0.5x, in the table); false alarms {n_fa / years:.3f} "
        f"[{fa_lo / years:.3f}, {fa_hi / years:.3f}] per event-free site-year (goal <= 0.2); "
        f"shifts >= 2x with a shift/drop alert within 2 usable images {w2}/{w2_n} = "
        f"{w2 / w2_n:.3f} {_ci(w2, w2_n)} (goal: all)."
    )


def wilson_interval(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``hits`` of ``n`` (95 % by default):
    unlike the normal approximation it stays inside [0, 1] and is not empty at 0 or n."""
    if n <= 0:
        return 0.0, 1.0
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def poisson_interval(count: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Garwood) interval of a Poisson mean from one observed ``count``."""
    from scipy.stats import chi2

    a = 1.0 - level
    lo = 0.0 if count == 0 else float(chi2.ppf(a / 2, 2 * count)) / 2
    return lo, float(chi2.ppf(1 - a / 2, 2 * count + 2)) / 2


def _ci(hits: int, n: int) -> str:
    lo, hi = wilson_interval(hits, n)
    return f"[{lo:.3f}, {hi:.3f}]"


def level_line(res: dict[str, object]) -> str:
    """The goals' figures per site level band (railwatch, this run)."""
    by_level: dict[tuple[str, str, int], Tally] = res["by_level"]  # type: ignore[assignment]

    def frac(kind: str, sizes: tuple[str, ...], band: int, field: str) -> str:
        ts = [t for k, t in by_level.items() if k[0] == kind and k[1] in sizes and k[2] == band]
        n = sum(t.total for t in ts)
        hit = sum(getattr(t, field) for t in ts)
        return f"{hit}/{n} = {hit / n:.3f}" if n else "-"

    cells = []
    for b, (lo, hi) in enumerate(LEVEL_BANDS):
        cells.append(
            f"sites of {lo:.0f}-{hi:.0f} cars: 3x spikes {frac('spike', ('3x',), b, 'found')}, "
            f"upward shifts >= 2x {frac('shift', ('2x', '3x'), b, 'found')}, within 2 images "
            f"{frac('shift', ('2x', '3x'), b, 'within2')}"
        )
    return (
        "By site level (true cars before any event; railwatch, this run): " + "; ".join(cells) + "."
    )


def _size_key(size: str) -> float:
    try:
        return float(size.rstrip("x"))
    except ValueError:
        return 0.0


def _memory_gb() -> str:
    try:
        return f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f}"
    except (ValueError, OSError, AttributeError):
        return "?"


RISE_START, RISE_PEAK = date(2023, 9, 18), date(2023, 10, 5)
QUIET_END, AUTUMN_END = datetime(2023, 9, 1, tzinfo=UTC), date(2023, 11, 30)


def tumangang_points(seed: int, noise: NoiseModel | None) -> tuple[list[CountPoint], list[Event]]:
    """The Tumangang scenario's object-method visits (<= 1.5 m): true totals, or seen
    through ``noise`` (seeded by the scenario seed); expected-unusable visits are gaps.
    Coarser visits (3 m: a separate 'length' series in the demo, not judged here) only
    show that the site was seen (``presence`` points: the quality rule only)."""
    from railwatch.sim.scenario import tumangang

    sc = tumangang(seed)
    visits = [v for v in sc.visits if v.gsd <= 1.5]
    true = np.array([float(v.total) for v in visits])
    low = high = counts = true
    gsd = np.array([v.gsd for v in visits], dtype=float)
    if noise is not None:
        rng = np.random.default_rng([seed, 5])
        counts = noise.observe(true, noise.site_bias(rng), rng)
        low, high = noise.intervals(counts, rng)
        # seen through an error measured at another resolution: imaged at that one
        drawn = noise.gsd_of(len(visits), np.random.default_rng([seed, 6]))
        gsd = np.where([noise.covers(g) for g in gsd], gsd, drawn)
    pts = [
        CountPoint(
            when=v.when,
            count=float(c) if v.usable_expected else None,
            low=float(lo) if v.usable_expected else None,
            high=float(hi) if v.usable_expected else None,
            usable=v.usable_expected,
            gsd=float(g),
            method=_method(g),
        )
        for v, c, lo, hi, g in zip(visits, counts, low, high, gsd, strict=True)
    ]
    pts += [
        CountPoint(
            when=v.when,
            count=float(v.total) if v.usable_expected else None,
            usable=v.usable_expected,
            method="presence",
            gsd=v.gsd,
        )
        for v in sc.visits
        if v.gsd > 1.5
    ]
    return pts, [Event(d, label) for d, label in sc.events]


@dataclass(frozen=True)
class TumangangResult:
    seed: int
    early: tuple[Alert, ...]  # above info before September 2023
    first_record: date | None  # first record alarm (above info) from the rise on
    oct5_record: bool
    shift: date | None  # first upward shift alarm in autumn 2023

    @property
    def ok(self) -> bool:
        # a record alarm on 2023-10-05, or earlier in the rise (records of one rise after
        # the first alarm are notes unless they beat the rise's latest record by 1.2x)
        record = self.first_record is not None and self.first_record <= RISE_PEAK
        return not self.early and record and self.shift is not None


def tumangang_check(
    seed: int, noise: NoiseModel | None, settings: AlertSettings
) -> TumangangResult:
    """The issue's Tumangang goals on one scenario seed."""
    pts, events = tumangang_points(seed, noise)
    alerts = analyze_series(pts, events, settings)
    early = tuple(a for a in alerts if a.when < QUIET_END and a.severity != "info")
    rec = {
        a.when.date()
        for a in alerts
        if a.kind == "record" and a.severity != "info" and a.when.date() >= RISE_START
    }
    shifts = [
        a.when.date() for a in alerts
        if a.kind == "shift" and a.severity != "info" and a.metrics.get("direction") == "up"
        and QUIET_END.date() <= a.when.date() <= AUTUMN_END
    ]  # fmt: skip
    return TumangangResult(
        seed=seed,
        early=early,
        first_record=min(rec) if rec else None,
        oct5_record=RISE_PEAK in rec,
        shift=min(shifts) if shifts else None,
    )


def tumangang_table(noise: NoiseModel | None, settings: AlertSettings, seeds: Sequence[int]) -> str:
    """Markdown rows for the Tumangang goals on ``seeds``."""
    results = [tumangang_check(s, noise, settings) for s in seeds]
    source = "true counts" if noise is None else f"counts through the {noise.name} error"
    lines = [
        f"Tumangang scenario, object-method visits (<= 1.5 m; 3 m visits only as presence for "
        f"the quality rule), {source}, scenario seeds {seeds[0]}-{seeds[-1]} (the demo uses "
        f"2023). Goals: nothing above info before September 2023, a record alarm by "
        f"2023-10-05 (first one of the rise), an upward shift alarm in autumn 2023:",
        "",
        "| seed | above info before Sep 2023 | first record alarm of the rise "
        "| record alarm on 2023-10-05 | first up-shift alarm (autumn 2023) | goals |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        early = ", ".join(f"{a.kind} {a.when:%Y-%m-%d} ({a.severity})" for a in r.early) or "none"
        lines.append(
            f"| {r.seed} | {early} | {r.first_record or '-'} | {'yes' if r.oct5_record else 'no'} "
            f"| {r.shift or '-'} | {'met' if r.ok else 'not met'} |"
        )
    n_ok = sum(r.ok for r in results)
    n_quiet = sum(not r.early for r in results)
    lines += [
        "",
        f"Tumangang goals met on {n_ok}/{len(results)} seeds ({source}); nothing above info "
        f"before September 2023 on {n_quiet}/{len(results)}.",
    ]
    return "\n".join(lines)


def tuning_setup(
    parser: argparse.ArgumentParser,
) -> tuple[argparse.Namespace, AlertSettings, list[Site]]:
    """The options the miss analyses share (``analyse_shift_misses.py``,
    ``analyse_spike_misses.py``: ``--sites``, ``--years``, ``--seed``, ``--noise``,
    ``--set KEY=VALUE``, ``--quiet``) added to ``parser`` and parsed, with the settings
    and the simulated sites. Seed 2026, the reported one, is refused: they study the
    tuning seeds only."""
    parser.add_argument("--sites", type=int, default=400)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--noise", default="measured")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--quiet", action="store_true", help="the summary only")
    args = parser.parse_args()
    if args.seed == 2026:
        raise SystemExit("seed 2026 is the reported seed: study the tuning seeds (7, 11, 12)")
    settings = AlertSettings.model_validate(parse_overrides(args.set))
    noise = load_noise_models()[args.noise]
    return args, settings, make_sites(args.seed, args.sites, args.years, noise)


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` pairs for :class:`AlertSettings` (for tuning runs)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in AlertSettings.model_fields:
            raise SystemExit(f"--set {item!r}: use KEY=VALUE with a field of AlertSettings")
        out[key] = value
    return out


def run_noise(
    noise: NoiseModel, args: argparse.Namespace, settings: AlertSettings
) -> tuple[str, float]:
    """One noise model's section: the table and the goals line; and its run time."""
    t0 = time.perf_counter()
    sites = make_sites(args.seed, args.sites, args.years, noise)
    n_images = sum(len(s.days) + len(s.unusable_days) for s in sites)
    n_usable = sum(len(s.days) for s in sites)
    results: dict[str, dict[str, object]] = {}
    for name, rule in RULES.items():
        results[name] = score(sites, [rule(s, settings) for s in sites])
    elapsed = time.perf_counter() - t0
    title = (
        f"**Detector error: {noise.label}.** {args.sites} sites x {args.years} years = "
        f"{args.sites * args.years} site-years, {n_images} images ({n_usable} usable)."
    )
    parts = [
        title,
        fmt_table(results, args.sites, args.years),
        goals_line(results["railwatch"]),
        level_line(results["railwatch"]),
    ]
    by_kind: dict[str, int] = results["railwatch"]["false_alarms_by_kind"]  # type: ignore[assignment]
    shift_fa = by_kind.get("shift", 0) / float(results["railwatch"]["free_years"])  # type: ignore[arg-type]
    oracles = (
        oracle_spikes(sites, 0.2),
        oracle_shifts(sites, 0.2, 2, shift_fa),
        oracle_shifts(sites, 0.2, FIRST_IMAGES),
    )
    for oracle in oracles:
        if oracle:
            parts.append(oracle)
    text = "\n\n".join(parts)
    return text, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=400)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--noise",
        nargs="+",
        choices=sorted(NOISE_NAMES),
        default=["measured", "measured-coarse", "measured-3m", "gauss"],
        help="detector error model(s), in this order in the output",
    )
    parser.add_argument(
        "--set", nargs="*", default=[], metavar="KEY=VALUE", help="AlertSettings overrides"
    )
    parser.add_argument("--no-tumangang", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    settings = AlertSettings.model_validate(parse_overrides(args.set))
    noises = load_noise_models() if set(args.noise) & set(MEASURED) else {"gauss": GAUSS}
    missing = [n for n in args.noise if n not in noises]
    if missing:
        raise SystemExit(
            f"{COUNT_ERROR} has no {', '.join(missing)} model: re-run "
            "`python benchmarks/bench_detect_accuracy.py --coarse 60 --json "
            "benchmarks/results/detect_accuracy.json` and `python benchmarks/fit_count_error.py`"
        )
    t0 = time.perf_counter()
    sections: list[str] = []
    for name in args.noise:
        text, elapsed = run_noise(noises[name], args, settings)
        print(text + f"\n(run time {elapsed:.0f} s)\n", flush=True)
        sections.append(text)
    if not args.no_tumangang:
        for noise in [None, *(noises[n] for n in args.noise if n != "gauss")]:
            text = tumangang_table(noise, settings, TUMANGANG_SEEDS)
            print(text + "\n", flush=True)
            sections.append(text)
    elapsed = time.perf_counter() - t0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    header = (
        f"Alerts benchmark (`benchmarks/bench_alerts.py --seed {args.seed}`), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()} "
        f"{os.cpu_count()}-core machine (load {load:.1f} at the end), {_memory_gb()} GB, "
        f"{platform.python_implementation()} {platform.python_version()}, one process. "
        f"True counts: Poisson x lognormal natural variation CV {NATURAL_CV:.0%}; the "
        f"same true series under each detector error model. Alert = severity >= low. "
        f"Thresholds tuned on seed 7 (spike and shift thresholds retuned 2026-12-02 for "
        f"detector 2.0's measured error; the segment shift test added and tuned on seeds 7, "
        f"11 and 12 for 2.2's, and spike_log_z lowered to 2.5 on the same seeds; since "
        f"session 8 spike_z, spike_strong_z and shift_segment_z have a value per resolution "
        f"band, each image judged with its own gsd's: under 0.75 m lowered on seeds 7, 11 "
        f"and 12 for the 0.3-0.5 m error, 0.75 m and coarser the earlier values; since "
        f"session 9 occupied-length counts have shift and drop thresholds of their own, "
        f"tuned on seeds 7, 11 and 12 under the measured-3m error; since session 10 two "
        f"images at 1.8x their baseline or more, 2.0x for coarse images, are a shift at once, "
        f"shift_pair_ratio, tuned on seeds 7, 11 and 12; since session 14 spike_log_z also "
        f"has a value per band, the fine band's spike_log_z and spike_z lowered on seeds 7, "
        f"11 and 12 for detector 2.6's 0.3-0.5 m error), reported "
        f"on seed {args.seed}. "
        f"Run time {elapsed:.0f} s."
    )
    if args.set:
        header += f" Settings overridden: {', '.join(args.set)}."
    print(header)
    if not args.no_write and not args.set:
        write_docs(header + "\n\n" + "\n\n".join(sections))


def write_docs(text: str) -> None:
    block = f"{START_MARK}\n{text}\n{END_MARK}"
    if DOCS.exists():
        doc = DOCS.read_text()
        if START_MARK in doc and END_MARK in doc:
            before, rest = doc.split(START_MARK, 1)
            _, after = rest.split(END_MARK, 1)
            DOCS.write_text(before + block + after)
            return
        DOCS.write_text(doc.rstrip() + "\n\n## Alerts\n\n" + block + "\n")
    else:
        DOCS.write_text("# Benchmarks\n\n## Alerts\n\n" + block + "\n")


if __name__ == "__main__":
    main()
