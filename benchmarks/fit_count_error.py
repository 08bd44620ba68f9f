"""Fit the alerts benchmark's detector count-error models to measured per-scene counts.

Reads the report that ``bench_detect_accuracy.py --json PATH`` writes (its
``objects.calibrated_counts``: per scene gsd, style, true count, detected count,
calibrated estimate, stored low, stored high) and fits, per resolution band
(0.3-0.5 m -> ``measured``, 0.75-1 m -> ``measured-coarse``), the parameters of
``bench_alerts.NoiseModel``:

    log(detected / true) = site bias + slope * log(true / 40) + image error

* One maximum-likelihood fit (scipy: ``stats.t.fit`` for the start, ``optimize`` for
  the fit) with a location per resolution (the site biases: each resolution's mean),
  a common ``slope`` and a common Student-t image error (``scale``, ``df`` in 1-200),
  so that the image error is measured within each resolution and the spread between
  them is not counted twice. ``df_ci95`` is its profile-likelihood 95 % interval.
* ``bias_mean``: the mean of the per-resolution means; ``bias_sd``: their spread (sd,
  ddof 1). Beside it (diagnostics, not used): the sd such means would have from the
  image error alone (``group_mean_sampling_sd``), what is left beyond it, and the
  spread of per-style means from the same fit with a location per style.
  ``bias_mean_se``, ``slope_se``, ``scale_se``: bootstrap standard errors (scenes
  resampled within each resolution).
* ``low_ratio``, ``high_ratio``: the median of stored low / detected count and of stored
  high / detected count (the calibrated 90 % interval widened to hold the count, as the
  pipeline stores it).

Scenes with no true cars are left out; scenes with cars but no detection (log ratio
undefined) are left out and counted (``excluded_zero_detections``). As a check, the
fitted model is simulated on the band's true counts (each scene a site) and its mean
absolute percentage error and total error (medians over 400 simulated benchmarks) are
reported next to the measured ones.

Writes the parameters with provenance (detector and version, benchmark date, source file
and its SHA-256, number of scenes) to ``benchmarks/results/count_error.json``, which
``bench_alerts.py`` reads.

Run (from the repository root):

    python benchmarks/bench_detect_accuracy.py --coarse 60 \\
        --json benchmarks/results/detect_accuracy.json
    python benchmarks/fit_count_error.py [benchmarks/results/detect_accuracy.json] \\
        [--out benchmarks/results/count_error.json] [--bootstrap 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, special, stats

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
SOURCE_DEFAULT = RESULTS / "detect_accuracy.json"
OUT_DEFAULT = RESULTS / "count_error.json"
#: model name -> (lowest, highest) ground sample distance in metres
BANDS: dict[str, tuple[float, float]] = {
    "measured": (0.3, 0.5),
    "measured-coarse": (0.75, 1.0),
}
REF_COUNT = 40.0  # the slope's pivot: log(true / 40)
DF_BOUNDS = (1.0, 200.0)  # df at the upper bound: the error is as good as Gaussian
PRODUCE_CMD = (
    "python benchmarks/bench_detect_accuracy.py --coarse 60 "
    "--json benchmarks/results/detect_accuracy.json"
)
#: The 3 m model: car equivalents from occupied track length (``coarse.counts`` of the
#: report, along the scenes' centrelines), one resolution, so its per-site bias spread is
#: measured between the scenes' styles (a site keeps its look) instead of resolutions.
LENGTH_MODEL = "measured-3m"


@dataclass(frozen=True)
class SceneCount:
    gsd: float
    style: str
    true: int
    detected: int
    estimate: float
    low: float
    high: float
    #: At least 80 % clear: a scene the pipeline counts (reports from before 2026-12-02
    #: 11:30 UTC do not say; their scenes are taken as usable).
    usable: bool = True


def load_scenes(report: dict[str, Any], usable_only: bool = True) -> list[SceneCount]:
    """The per-scene counts of a ``bench_detect_accuracy.py --json`` report; by default
    only the usable scenes (the pipeline stores the others as unusable, so they never
    reach a count series)."""
    objects = report.get("objects")
    rows = objects.get("calibrated_counts") if isinstance(objects, dict) else None
    if not rows:
        raise SystemExit(
            "the report has no objects.calibrated_counts (object scenes not run, or a "
            f"detector without a count calibration); produce it with: {PRODUCE_CMD}"
        )
    scenes = [
        SceneCount(
            float(r[0]),
            str(r[1]),
            int(r[2]),
            int(r[3]),
            float(r[4]),
            float(r[5]),
            float(r[6]),
            bool(r[7]) if len(r) > 7 else True,
        )
        for r in rows
    ]
    return [c for c in scenes if c.usable or not usable_only]


def t_nll(
    params: np.ndarray, y: np.ndarray, x: np.ndarray, g: np.ndarray
) -> tuple[float, np.ndarray]:
    """Negative log-likelihood of y = loc[g] + slope x + scale * t(df), and its gradient.

    ``params`` = (loc[0], ..., loc[G-1], slope, log scale, log df); ``g`` holds each
    observation's group index. The density is Student-t's (``scipy.stats.t.logpdf``
    gives the same value; the tests check it and the gradient)."""
    n_groups = len(params) - 3
    loc, b = params[:n_groups], params[n_groups]
    s, nu = np.exp(params[n_groups + 1]), np.exp(params[n_groups + 2])
    z = (y - loc[g] - b * x) / s
    q = z * z / nu
    ll = (
        special.gammaln((nu + 1) / 2)
        - special.gammaln(nu / 2)
        - 0.5 * np.log(nu * np.pi)
        - np.log(s)
        - (nu + 1) / 2 * np.log1p(q)
    )
    w = (nu + 1) / (nu + z * z)
    d_nu = (
        0.5 * special.digamma((nu + 1) / 2)
        - 0.5 * special.digamma(nu / 2)
        - 1 / (2 * nu)
        - 0.5 * np.log1p(q)
        + (nu + 1) * z * z / (2 * nu * (nu + z * z))
    )
    grad = np.concatenate(
        [
            np.bincount(g, weights=w * z / s, minlength=n_groups),
            [np.sum(w * z * x / s), np.sum(w * z * z - 1), nu * np.sum(d_nu)],
        ]
    )
    return -float(np.sum(ll)), -grad


def fit_t_groups(
    y: np.ndarray,
    x: np.ndarray,
    g: np.ndarray,
    *,
    df: float | None = None,
    start: np.ndarray | None = None,
) -> dict[str, Any]:
    """Maximum likelihood y = loc[g] + slope x + scale * t(df) with one location per
    group (the site biases) and a common slope, scale and df (the image error), df in
    [1, 200] or held at ``df``. Started from least squares and ``scipy.stats.t.fit`` of
    its residuals (or from ``start``, a previous fit's ``params``); then all parameters
    together (truncated Newton, ``TNC``: no BLAS, quick on small problems)."""
    n_groups = int(g.max()) + 1
    # least squares with a location per group: the slope from within-group deviations
    n = np.bincount(g, minlength=n_groups)
    dx = x - (np.bincount(g, weights=x, minlength=n_groups) / n)[g]
    dy = y - (np.bincount(g, weights=y, minlength=n_groups) / n)[g]
    ols_slope = float(dx @ dy / (dx @ dx))
    ols_loc = np.bincount(g, weights=y - ols_slope * x, minlength=n_groups) / n
    log_df = (np.log(DF_BOUNDS[0]), np.log(DF_BOUNDS[1])) if df is None else (np.log(df),) * 2
    if start is None:
        df0, _, scale0 = stats.t.fit(y - ols_loc[g] - ols_slope * x, floc=0.0)
        start = np.concatenate([ols_loc, [ols_slope, np.log(max(scale0, 1e-3)), np.log(df0)]])
    start = start.copy()
    start[-1] = np.clip(start[-1], *log_df)
    res = optimize.minimize(
        t_nll,
        start,
        args=(y, x, g),
        jac=True,
        method="TNC",
        bounds=[(None, None)] * (n_groups + 2) + [log_df],
        options={"maxfun": 5000},
    )
    return {
        "loc": res.x[:n_groups].copy(),
        "slope": float(res.x[n_groups]),
        "scale": float(np.exp(res.x[n_groups + 1])),
        "df": float(np.clip(np.exp(res.x[n_groups + 2]), *DF_BOUNDS)),
        "nll": float(res.fun),
        "params": res.x,
        "ols_loc": ols_loc,
        "ols_slope": ols_slope,
    }


def df_interval(
    y: np.ndarray, x: np.ndarray, g: np.ndarray, best: dict[str, Any]
) -> tuple[float, float]:
    """Profile-likelihood 95 % interval of df: where the likelihood with df held (the
    locations, slope and scale refitted) falls 1.92 below its best; an end at 1 or 200
    means the data do not bound it on that side."""
    limit = best["nll"] + 0.5 * float(stats.chi2.ppf(0.95, 1))

    def excess(log_df: float) -> float:
        return fit_t_groups(y, x, g, df=float(np.exp(log_df)), start=best["params"])["nll"] - limit

    lo, hi, mid = np.log(DF_BOUNDS[0]), np.log(DF_BOUNDS[1]), np.log(best["df"])
    ends = []
    for edge, bound in ((lo, DF_BOUNDS[0]), (hi, DF_BOUNDS[1])):
        if abs(edge - mid) < 1e-9 or excess(edge) <= 0:
            ends.append(bound)
        else:
            root = optimize.brentq(excess, min(mid, edge), max(mid, edge), xtol=1e-3)
            ends.append(float(np.exp(root)))
    return ends[0], ends[1]


def _codes(keys: Sequence[object]) -> tuple[list[str], np.ndarray]:
    def order(key: str) -> tuple[float, str]:
        try:
            return float(key), key
        except ValueError:
            return float("inf"), key

    names = sorted({str(k) for k in keys}, key=order)
    index = {n: i for i, n in enumerate(names)}
    return names, np.array([index[str(k)] for k in keys], dtype=int)


def t_sd(df: float, scale: float) -> float | None:
    """Standard deviation of a Student-t (None where df <= 2: infinite)."""
    return float(scale * np.sqrt(df / (df - 2))) if df > 2 else None


def simulate_check(
    true: np.ndarray, fit: dict[str, Any], reps: int = 400, seed: int = 0
) -> dict[str, float]:
    """MAPE and total error of the fitted model on these true counts, each scene a site
    (bias drawn per scene), rounded counts as in ``NoiseModel``: the median over ``reps``
    simulated benchmarks (a mean would follow the rare huge reads that exp of a
    Student-t error gives)."""
    rng = np.random.default_rng(seed)
    t = np.tile(true.astype(float), (reps, 1))
    bias = rng.normal(fit["bias_mean"], fit["bias_sd"], t.shape)
    eps = fit["scale"] * rng.standard_t(fit["df"], t.shape)
    log_gain = bias + fit["slope"] * np.log(np.maximum(t, 1.0) / REF_COUNT) + eps
    det = np.maximum(0.0, np.round(t * np.exp(log_gain)))
    mape = np.mean(np.abs(det - t) / t, axis=1)
    total = (det.sum(axis=1) - t.sum(axis=1)) / t.sum(axis=1)
    return {"mape": float(np.median(mape)), "total_error": float(np.median(total))}


def fit_band(
    true: np.ndarray,
    detected: np.ndarray,
    groups: Sequence[object],
    low: np.ndarray,
    high: np.ndarray,
    *,
    styles: Sequence[object] | None = None,
    bootstrap: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """The NoiseModel parameters of one band's scenes (see the module docstring).

    ``groups`` holds each scene's resolution, or its style for the one-resolution 3 m
    model (the per-site bias spread is the spread of the per-group means); ``styles``, if
    given, each scene's style (diagnostic only)."""
    true = np.asarray(true, float)
    detected = np.asarray(detected, float)
    low, high = np.asarray(low, float), np.asarray(high, float)
    with_cars = true > 0
    used = with_cars & (detected > 0)
    y = np.log(detected[used] / true[used])
    x = np.log(true[used] / REF_COUNT)
    names, g = _codes([k for k, u in zip(groups, used, strict=True) if u])
    if len(names) < 2:
        raise ValueError("need scenes in two or more groups to measure the bias spread")
    fit = fit_t_groups(y, x, g)
    df, scale = fit["df"], fit["scale"]
    bias_mean = float(np.mean(fit["loc"]))
    bias_sd = float(np.std(fit["loc"], ddof=1))
    sd = t_sd(df, scale)
    sizes = np.bincount(g)
    sampling = float(sd / np.sqrt(sizes.mean())) if sd is not None else None
    out: dict[str, Any] = {
        "bias_mean": bias_mean,
        "bias_sd": bias_sd,
        "slope": fit["slope"],
        "df": df,
        "df_ci95": list(df_interval(y, x, g, fit)),
        "scale": scale,
        "image_sd": sd,
        "low_ratio": float(np.median(low[used] / detected[used])),
        "high_ratio": float(np.median(high[used] / detected[used])),
        "scenes": len(true),
        "scenes_with_cars": int(with_cars.sum()),
        "scenes_used": int(used.sum()),
        "excluded_zero_detections": int((with_cars & ~used).sum()),
        "true_count_range": [int(true[used].min()), int(true[used].max())],
        "group_means": dict(zip(names, map(float, fit["loc"]), strict=True)),
        "group_sizes": dict(zip(names, map(int, sizes), strict=True)),
        "group_mean_sampling_sd": sampling,
        "bias_sd_beyond_sampling": (
            float(np.sqrt(max(0.0, bias_sd**2 - sampling**2))) if sampling is not None else None
        ),
        "least_squares": {
            "bias_mean": float(np.mean(fit["ols_loc"])),
            "slope": fit["ols_slope"],
        },
    }
    if styles is not None:
        snames, sg = _codes([s for s, u in zip(styles, used, strict=True) if u])
        if len(snames) >= 2:
            sfit = fit_t_groups(y, x, sg)
            out["style_means"] = dict(zip(snames, map(float, sfit["loc"]), strict=True))
            out["style_sizes"] = dict(zip(snames, map(int, np.bincount(sg)), strict=True))
            out["style_mean_sd"] = float(np.std(sfit["loc"], ddof=1))
    if bootstrap > 0:
        # scenes resampled within each resolution (every group keeps its size)
        rng = np.random.default_rng(seed)
        members = [np.flatnonzero(g == k) for k in range(len(names))]
        boot = []
        for _ in range(bootstrap):
            k = np.concatenate([rng.choice(m, len(m)) for m in members])
            boot.append(fit_t_groups(y[k], x[k], g[k], start=fit["params"]))
        out["bias_mean_se"] = float(np.std([np.mean(b["loc"]) for b in boot], ddof=1))
        out["slope_se"] = float(np.std([b["slope"] for b in boot], ddof=1))
        out["scale_se"] = float(np.std([b["scale"] for b in boot], ddof=1))
        out["bootstrap"] = bootstrap
    t_all, d_all = true[with_cars], detected[with_cars]
    out["measured"] = {
        "mape": float(np.mean(np.abs(d_all - t_all) / t_all)),
        "total_error": float((d_all.sum() - t_all.sum()) / t_all.sum()),
    }
    out["simulated"] = simulate_check(t_all, out, seed=seed)
    return out


def fit_report(
    report: dict[str, Any], *, bootstrap: int = 200, seed: int = 0, usable_only: bool = True
) -> dict[str, dict[str, Any]]:
    """Every band's fit from a ``bench_detect_accuracy.py --json`` report."""
    scenes = load_scenes(report, usable_only)
    models: dict[str, dict[str, Any]] = {}
    for name, (lo, hi) in BANDS.items():
        band = [s for s in scenes if lo - 1e-9 <= s.gsd <= hi + 1e-9]
        if not band:
            continue
        fitted = fit_band(
            np.array([s.true for s in band]),
            np.array([s.detected for s in band]),
            [s.gsd for s in band],
            np.array([s.low for s in band]),
            np.array([s.high for s in band]),
            styles=[s.style for s in band],
            bootstrap=bootstrap,
            seed=seed,
        )
        models[name] = {"band_m": [lo, hi], "groups": "resolution", **fitted}
    coarse = report.get("coarse")
    rows = coarse.get("counts") if isinstance(coarse, dict) else None
    if rows:  # [gsd, style, true, car equivalents, low, high] of the usable 3 m scenes
        fitted = fit_band(
            np.array([r[2] for r in rows]),
            np.array([r[3] for r in rows]),
            [r[1] for r in rows],
            np.array([r[4] for r in rows]),
            np.array([r[5] for r in rows]),
            bootstrap=bootstrap,
            seed=seed,
        )
        gsd = float(rows[0][0])
        models[LENGTH_MODEL] = {"band_m": [gsd, gsd], "groups": "style", **fitted}
    return models


def _installed_detector_version(name: str) -> str | None:
    try:
        from railwatch.detect.registry import get_detector

        version = getattr(get_detector(name), "version", None)
    except Exception:  # weights missing, optional dependency absent
        return None
    return str(version) if version is not None else None


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", nargs="?", type=Path, default=SOURCE_DEFAULT)
    ap.add_argument("--out", type=Path, default=OUT_DEFAULT)
    ap.add_argument("--bootstrap", type=int, default=200, help="resamples for the SEs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--all-scenes",
        action="store_true",
        help="fit on every scene, also those under 80 %% clear that the pipeline never counts",
    )
    args = ap.parse_args(argv)
    if not args.source.is_file():
        raise SystemExit(f"{args.source} not found; produce it with: {PRODUCE_CMD}")
    raw = args.source.read_bytes()
    report = json.loads(raw)
    meta = report.get("meta") if isinstance(report.get("meta"), dict) else {}
    detector = str(meta.get("detector", "default"))
    version = meta.get("detector_version")
    version_note = "recorded in the source report"
    if version is None:
        version = _installed_detector_version(detector)
        version_note = "not in the source report: the version installed when fitting"
    usable_only = not args.all_scenes
    models = fit_report(report, bootstrap=args.bootstrap, seed=args.seed, usable_only=usable_only)
    try:
        source_name = str(args.source.resolve().relative_to(ROOT))
    except ValueError:
        source_name = str(args.source)
    out = {
        "fitted_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "fitted_by": "benchmarks/fit_count_error.py",
        "model": "log(detected/true) = N(bias_mean, bias_sd) per site + slope*log(true/40) "
        "+ scale*t(df) per image; stored interval = (low_ratio, high_ratio) x count",
        "source": {
            "file": source_name,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "produced_by": PRODUCE_CMD,
            "detector": detector,
            "detector_version": version,
            "detector_version_note": version_note,
            "benchmark_date": meta.get("date"),
            "scenes": len(load_scenes(report, usable_only)),
            "scenes_used": "usable only (>= 80 % clear)" if usable_only else "all",
        },
        "models": models,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    for name, m in models.items():
        print(
            f"{name}: {m['scenes_used']}/{m['scenes']} scenes, bias N({m['bias_mean']:.3f}, "
            f"{m['bias_sd']:.3f}), slope {m['slope']:.3f} (+-{m.get('slope_se', np.nan):.3f}), "
            f"t df {m['df']:.1f} scale {m['scale']:.3f}, intervals {m['low_ratio']:.2f}x-"
            f"{m['high_ratio']:.2f}x; MAPE / total error measured {m['measured']['mape']:.3f} / "
            f"{m['measured']['total_error']:+.3f}, simulated {m['simulated']['mape']:.3f} / "
            f"{m['simulated']['total_error']:+.3f}"
        )
    print(f"wrote {args.out} (load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
