"""Derive the coarse estimate's interval widths from development scenes.

Renders the 3 m development scenes (seeds 7_050_000 + k and 7_060_000 + k, never the
benchmark's 7_010_000 + k; same protocol as ``bench_detect_accuracy.py --coarse``:
512 x 512 px, pixels under haze or cloud shadow not read, scenes under 80 % clear left
out), runs ``coarse.estimate_occupancy`` along the scenes' centrelines and along lines
found in the image, and prints, for each, the relative widths ``REL_*_LOW`` and
``REL_*_HIGH`` that put the truth inside the interval on 90 % of the scenes with 5 %
missed on either side. Along centrelines the estimate is the default one, the learned
classifier since 2026-12-02 evening (``REL_LEARNED_*``; ``--rules`` for the hand-set
rules, ``REL_GIVEN_*``); along found lines the rules (``REL_FOUND_*``). The interval is::

    low  = est - (1 + REL_LOW * est + ends) * (1 + nodata)
    high = est + (1 + REL_HIGH * est + ends) * (1 + nodata)

(``ends`` = a pixel per occupied string end, in car equivalents; ``nodata`` = share of
pixels without data). A scene needs ``REL_HIGH >= (truth - est) / (1 + nodata) - 1 - ends``
divided by ``est``, and likewise on the low side; the widths are the 95th percentiles of
these needs. It also derives them on one seed range and reports the coverage on the
other (an honest check of how well the widths carry over), and the coverage of the
module's current constants.

Each seed is rendered twice (``--renders both``, the default): with the benchmark's
``scene_params`` and with the style and paint it drew before 2026-12-02 10:23 (style
cycled with the seed index mod 5, paint with index // 5 mod 3). The upper width moved
from 1.19 to 0.73 between the two on the same 315 scenes, so the shipped widths are
taken over both (630 renders); ``--renders current`` uses the benchmark's only.

``--renders current,synth`` (any comma list of ``current``, ``earlier``, ``synth``) adds
the project's second renderer: ``--n-synth`` yards drawn by ``detect.model_synth.draw_yard``
(seeds 7_400_000 + k, 768 m, flat shapes at 1.5 m area-averaged to 3 m plus 2 DN noise,
the tracks replayed from its random stream: ``fit_coarse_occupancy.synth_scene``), along
their centrelines only, every pixel read. With more than one render the widths are
weighted quantiles in which every render weighs the same in all (so a render with fewer
scenes is not outvoted; with one render, the plain 95th percentile without interpolation),
rounded up to the hundredth, and the script also derives them on each render alone and
reports the coverage on the others. ``--save FILE`` keeps the per-scene needs (npz) and
``--load FILE ...`` reports from saved files without rendering (to combine runs).

    python benchmarks/derive_coarse_interval.py [--n 200] [--renders both|current|LIST]
        [--n-synth 200] [--no-found] [--rules] [--no-sun] [--save FILE] [--load FILE ...]

The simulator's scenes are read with the sun's position from their parameters, as the
pipeline reads it from the image's metadata (since 2026-12-04; ``--no-sun`` reads them
without it, as every derivation before did).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
from shapely.geometry import LineString, MultiLineString

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_detect_accuracy import scene_params
from fit_coarse_occupancy import synth_scene

from railwatch.detect import coarse
from railwatch.sim.conditions import MASK_CLEAR, MASK_SNOW
from railwatch.sim.params import PAINTS, STYLES
from railwatch.sim.scene import render_scene

STARTS = (50_000, 60_000)
SYNTH_START = 400_000  # synth_scene's seeds are 7_000_000 + SYNTH_START + k
GSD = 3.0
RENDERS = ("current", "earlier", "synth")
#: Columns of a per-scene row: render (index into ``RENDERS``), seed range start, need
#: low, need high, inside with the module's current constants, relative error.
Row = tuple[int, int, float, float, float, float]


def _needs(truth: float, est: float, ends: float, nodata: float) -> tuple[float, float]:
    """Smallest (REL_LOW, REL_HIGH) that keep ``truth`` inside the interval."""
    over = (truth - est) / (1.0 + nodata) - 1.0 - ends
    under = (est - truth) / (1.0 + nodata) - 1.0 - ends
    hi = 0.0 if over <= 0 else (over / est if est > 0 else np.inf)
    lo = 0.0 if under <= 0 else under / est
    return lo, hi


def _row(
    render: int,
    start: int,
    image: np.ndarray,
    clear: np.ndarray | None,
    tracks: MultiLineString | None,
    truth: int,
    nodata: float,
    learned: bool | None,
    sun: tuple[float, float] | None = None,
) -> Row:
    diag: list[coarse.LineProfile] = []
    est = coarse.estimate_occupancy(
        image, GSD, clear, tracks, diagnostics=diag, learned=learned, sun=sun
    )
    n_strings = sum(len(coarse._runs(lp.occupied)) for lp in diag)
    ends = n_strings * GSD / coarse.CONVENTIONAL_CAR_M
    lo, hi = _needs(truth, est.car_equivalents, ends, nodata)
    inside = float(est.low <= truth <= est.high)
    rel = (est.car_equivalents - truth) / max(truth, 1)
    return render, start, lo, hi, inside, rel


def parse_renders(renders: str) -> tuple[str, ...]:
    if renders == "both":
        return ("current", "earlier")
    out = tuple(r.strip() for r in renders.split(","))
    bad = [r for r in out if r not in RENDERS]
    if bad or not out:
        raise SystemExit(f"unknown render(s) {bad}; use both or a list of {RENDERS}")
    return out


def collect(
    n: int,
    found: bool,
    renders: str = "both",
    learned: bool | None = None,
    n_synth: int = 200,
    use_sun: bool = True,
) -> dict[str, list[Row]]:
    """Per scene a ``Row``, along centrelines ("given") and found lines ("found"; the
    simulator's renders only). With ``use_sun`` the simulator's scenes are read with the
    sun's position from their parameters, as the pipeline reads it from the metadata
    (the second renderer draws no shadows and has none)."""
    out: dict[str, list[Row]] = {"given": [], "found": []}
    chosen = parse_renders(renders)
    variants = [v for v in ("current", "earlier") if v in chosen]
    for start, k, variant in itertools.product(STARTS, range(n), variants):
        p = scene_params(start + k, GSD).with_(
            size_px=(512, 512), n_cars=int(20 + (k * 37) % 130), cloud_cover=0.0
        )
        if variant == "earlier":
            idx = start + k
            p = p.with_(
                style=sorted(STYLES)[idx % len(STYLES)],
                paint=sorted(PAINTS)[(idx // len(STYLES)) % len(PAINTS)],
            )
        sc = render_scene(p)
        clear = sc.valid & np.isin(sc.mask, (MASK_CLEAR, MASK_SNOW))
        if clear.sum() < 0.8 * sc.valid.sum():
            continue
        truth = sum(1 for t in sc.truth if t.valid_fraction >= 0.5 and t.clear_fraction >= 0.5)
        inv = ~sc.transform
        tracks = MultiLineString(
            [LineString([inv @ xy for xy in t.coords]) for t in sc.tracks if len(t.coords) >= 2]
        )
        nodata = 1.0 - float(clear.mean())
        r = RENDERS.index(variant)
        sun = (p.sun_azimuth, p.sun_elevation) if use_sun else None
        out["given"].append(_row(r, start, sc.image, clear, tracks, truth, nodata, learned, sun))
        if found:
            out["found"].append(_row(r, start, sc.image, clear, None, truth, nodata, learned, sun))
    if "synth" in chosen:
        for k in range(n_synth):
            yard = synth_scene(k)
            if yard is None:
                continue
            img, tracks, truth = yard
            r = RENDERS.index("synth")
            out["given"].append(_row(r, SYNTH_START, img, None, tracks, truth, 0.0, learned))
    return out


def wquantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Smallest value with at least ``q`` of the weight at or below it."""
    o = np.argsort(x, kind="stable")
    c = np.cumsum(w[o]) / w.sum()
    return float(x[o][min(int(np.searchsorted(c, q - 1e-12)), len(x) - 1)])


def widths(a: np.ndarray) -> tuple[float, float]:
    """(REL_LOW, REL_HIGH): 95th percentiles of the needs, every render weighing the same,
    rounded up to the hundredth (the module's constants are these, so they cover at least
    what the percentiles cover)."""
    counts = {r: np.sum(a[:, 0] == r) for r in np.unique(a[:, 0])}
    w = np.array([1.0 / counts[r] for r in a[:, 0]])
    lo, hi = wquantile(a[:, 2], w, 0.95), wquantile(a[:, 3], w, 0.95)
    return max(0.0, np.ceil(lo * 100 - 1e-9) / 100), max(0.0, np.ceil(hi * 100 - 1e-9) / 100)


def coverage(a: np.ndarray, lo: float, hi: float) -> float:
    return float(np.mean((a[:, 2] <= lo) & (a[:, 3] <= hi)))


def report(kind: str, rows: list[Row]) -> None:
    a = np.array(rows, dtype=np.float64)
    if not len(a):
        return
    lo, hi = widths(a)
    present = [int(r) for r in np.unique(a[:, 0])]
    per = ", ".join(f"{RENDERS[r]} {coverage(a[a[:, 0] == r], lo, hi):.1%}" for r in present)
    counts = ", ".join(f"{RENDERS[r]} {np.sum(a[:, 0] == r)}" for r in present)
    print(
        f"{kind}: {len(a)} scenes ({counts}); "
        f"REL_LOW {lo:.2f}, REL_HIGH {hi:.2f} (coverage {coverage(a, lo, hi):.1%}: {per})"
    )
    for r in present:
        s = a[a[:, 0] == r]
        rel = np.abs(s[:, 5])
        print(
            f"  {RENDERS[r]}: current constants coverage {s[:, 4].mean():.1%}; within ±15 % "
            f"{np.mean(rel <= 0.15):.1%}, median abs. error {np.median(rel):.1%}, "
            f"bias (median) {np.median(s[:, 5]):+.1%}"
        )
    if len(present) > 1:
        for r in present:
            fit, other = a[a[:, 0] == r], a[a[:, 0] != r]
            flo, fhi = widths(fit)
            cov = ", ".join(
                f"{RENDERS[o]} {coverage(other[other[:, 0] == o], flo, fhi):.1%}"
                for o in present
                if o != r
            )
            print(
                f"  derived on {RENDERS[r]} only: REL_LOW {flo:.2f}, REL_HIGH {fhi:.2f} "
                f"-> coverage on {cov}"
            )
    for s in STARTS:
        fit = a[a[:, 1] == s]
        other = a[(a[:, 1] != s) & (a[:, 1] != SYNTH_START)]
        if not len(fit) or not len(other):
            continue
        flo, fhi = widths(fit)
        print(
            f"  derived on seeds {7_000_000 + s}+k only (simulator): "
            f"REL_LOW {flo:.2f}, REL_HIGH {fhi:.2f} -> coverage on the other range "
            f"{coverage(other, flo, fhi):.1%}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="scenes per seed range")
    ap.add_argument("--n-synth", type=int, default=200, help="second-renderer yards")
    ap.add_argument("--no-found", action="store_true", help="only along centrelines")
    ap.add_argument("--renders", default="both", help="both, or a list of " + ",".join(RENDERS))
    ap.add_argument("--rules", action="store_true", help="the hand-set rules everywhere")
    ap.add_argument(
        "--no-sun", action="store_true", help="read the simulator's scenes without the sun"
    )
    ap.add_argument("--save", type=Path, default=None, help="keep the per-scene rows (npz)")
    ap.add_argument("--load", type=Path, nargs="+", default=None, help="report saved rows")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.load:
        out: dict[str, list[Row]] = {"given": [], "found": []}
        for f in args.load:
            d = np.load(f)
            for kind in out:
                out[kind] += [
                    (int(r[0]), int(r[1]), *(float(x) for x in r[2:]))  # type: ignore[misc]
                    for r in d[kind].reshape(-1, 6)
                ]
    else:
        out = collect(
            args.n,
            not args.no_found,
            args.renders,
            False if args.rules else None,
            args.n_synth,
            use_sun=not args.no_sun,
        )
        if args.save is not None:
            np.savez(
                args.save,
                given=np.array(out["given"], dtype=np.float64),
                found=np.array(out["found"], dtype=np.float64),
            )
    for kind, rows in out.items():
        report(kind, rows)
    print(f"run time {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
