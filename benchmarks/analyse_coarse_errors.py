"""Where the 3 m estimate's error comes from, scene by scene, on DEVELOPMENT scenes
(session 44, 2026-12-07).

The simulator's development 3 m scenes (seeds 7_050_000 + k, drawn as
``bench_detect_accuracy.py --coarse`` draws its benchmark scenes, which start at
7_010_000) are read along their centrelines with the sun's position, as the pipeline
reads them. Per scene the error against the visible car count is split into:

- **conversion**: the cars' own length along the lines (samples in a car's body
  extended by half the coupler gap, as the classifier's labels) / 14 m, against the
  count: what a perfect per-sample decision would still be off by (car lengths of the
  types mix, coupler gaps, cars the lines miss or cut at the image's edge);
- **missed**: the cars' samples not taken as occupied, split by their evidence (faint:
  under 2 noise units; weak: 2-4; strong: 4 or more, which the classifier or the
  side rule dropped) and by whether a car stands on a neighbouring line at the same
  place (a dense block);
- **false**: occupied samples off the cars, beside a string (spill or shadow on the next
  line), at a string's ends, elsewhere (as ``bench_detect_accuracy.length_breakdown``);
- **rest**: what is left (samples without data, rounding).

``python benchmarks/analyse_coarse_errors.py --n 120 --out /tmp/coarse_errors.json``
(``--start 60000`` for the second development set, 7_060_000 + k) prints a line per
scene, the tabulation by cause (and by sun, paint and haze) and, per paint and car
class, the share of cars wholly missed. About 2 minutes for 120 scenes on the 2-core VM.
Nothing here changes the estimator (docs/detection-history.md, "Where the 3 m error
comes from, scene by scene", session 44).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_detect_accuracy import (
    _coarse_scenes,
    _visible,
    car_samples,
    false_samples,
    truth_equivalents,
)

from railwatch.detect.coarse import (
    CONVENTIONAL_CAR_M,
    TRACK_SPACING_M,
    LineProfile,
    estimate_occupancy,
)
from railwatch.sim.cars import COUPLER_GAP
from railwatch.sim.scene import RenderedScene

GSD = 3.0
PARTS = (
    "found",
    "miss_faint",
    "miss_weak",
    "miss_strong",
    "miss_beside_car",
    "miss_strong_beside_car",
    "beside",
    "ends",
    "elsewhere",
)


def split(sc: RenderedScene, profiles: list[LineProfile]) -> dict[str, float]:
    """Metres of each part of :data:`PARTS` along the scene's centrelines (the miss
    parts by evidence add up to all missed length; ``miss_beside_car`` is the missed
    length with a car on a neighbouring line at the same place, a subset)."""
    out = dict.fromkeys(PARTS, 0.0)
    union = car_samples(sc, GSD)
    for prof in profiles:
        if len(prof.points) < 2:
            continue
        step_m = float(np.linalg.norm(prof.points[1] - prof.points[0])) * GSD
        ok = prof.valid
        pts = np.asarray(shapely.points(prof.points))
        if union is None:
            on = np.zeros(len(pts), dtype=bool)
            nb = np.zeros(len(pts), dtype=bool)
        else:
            on = np.asarray(shapely.contains(union, pts), dtype=bool)
            off = TRACK_SPACING_M / GSD
            normal = np.stack([-prof.tangents[:, 1], prof.tangents[:, 0]], axis=1)
            nb = np.zeros(len(pts), dtype=bool)
            for sgn in (-1.0, 1.0):
                q = shapely.points(prof.points + sgn * off * normal)
                nb |= np.asarray(shapely.contains(union, q), dtype=bool)
        occ = prof.occupied & ok
        ev = prof.evidence
        out["found"] += step_m * float((occ & on).sum())
        miss = ~occ & on & ok
        out["miss_faint"] += step_m * float((miss & (ev < 2)).sum())
        out["miss_weak"] += step_m * float((miss & (ev >= 2) & (ev < 4)).sum())
        out["miss_strong"] += step_m * float((miss & (ev >= 4)).sum())
        out["miss_beside_car"] += step_m * float((miss & nb).sum())
        out["miss_strong_beside_car"] += step_m * float((miss & nb & (ev >= 4)).sum())
        for key, n in false_samples(prof, pts, occ & ~on, union, GSD).items():
            out[key] += step_m * n
    return out


def car_misses(sc: RenderedScene, profiles: list[LineProfile]) -> list[tuple[str, bool, float]]:
    """Per visible car with samples along the lines: (class, covered, share of its
    samples taken as occupied)."""
    if not profiles:
        return []
    pts = np.concatenate([q.points for q in profiles])
    occ = np.concatenate([q.occupied & q.valid for q in profiles])
    val = np.concatenate([q.valid for q in profiles])
    tree = shapely.STRtree(np.asarray(shapely.points(pts)))
    pad = 0.5 * COUPLER_GAP / GSD
    out = []
    for t in _visible(sc):
        idx = tree.query(t.polygon_px.buffer(pad, join_style="mitre"), predicate="contains")
        idx = idx[val[idx]]
        if len(idx):
            out.append((t.cls, t.covered, float(occ[idx].mean())))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=120, help="development scenes")
    ap.add_argument("--start", type=int, default=50_000, help="first index (7_000_000 + it)")
    ap.add_argument("--out", type=Path, default=None, help="per-scene JSON")
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    cars: dict[tuple[str, str], list[float]] = {}
    for item in _coarse_scenes(args.n, args.start):
        if item is None:
            continue
        p, sc, clear, truth, tracks = item
        profiles: list[LineProfile] = []
        est = estimate_occupancy(
            sc.image, GSD, clear, tracks, sun=(p.sun_azimuth, p.sun_elevation), diagnostics=profiles
        )
        found_lines = estimate_occupancy(sc.image, GSD, clear).car_equivalents
        parts = split(sc, profiles)
        for cls, covered, share in car_misses(sc, profiles):
            cars.setdefault((p.paint, cls + (" covered" if covered else "")), []).append(share)
        vis = _visible(sc)
        rows.append(
            {
                "seed": p.seed,
                "style": p.style,
                "paint": p.paint,
                "sun": round(p.sun_elevation, 1),
                "haze": p.haze,
                "noise": round(p.noise, 2),
                "blur": round(p.blur, 2),
                "covered": round(p.covered_fraction, 2),
                "truth": truth,
                "truth_eq": round(truth_equivalents(sc), 2),
                "mean_len": round(float(np.mean([t.length_m for t in vis])), 2) if vis else 0.0,
                "est": est.car_equivalents,
                "low": est.low,
                "high": est.high,
                "empty_from": est.empty_from,
                "found_lines": found_lines,
                **{k: round(v, 1) for k, v in parts.items()},
            }
        )
        r = rows[-1]
        print(
            f"{r['seed']} {r['style']:>15} sun {r['sun']:5.1f} truth {truth:4d} "
            f"eq {r['truth_eq']:6.1f} est {r['est']:6.1f} ({r['low']:.0f}-{r['high']:.0f}) "
            f"found-lines {found_lines:6.1f}",
            flush=True,
        )
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    tabulate(rows)
    print("\n| paint | class | cars | wholly missed | missed length in found cars |")
    print("|---|---|---|---|---|")
    for (paint, cls), v in sorted(cars.items()):
        a = np.asarray(v)
        part = float(np.mean(1 - a[a > 0])) if (a > 0).any() else 0.0
        print(f"| {paint} | {cls} | {len(a)} | {np.mean(a == 0):.0%} | {part:.0%} |")
    for paint in sorted({k[0] for k in cars}):
        a = np.concatenate([np.asarray(v) for k, v in cars.items() if k[0] == paint])
        print(f"| {paint} | all | {len(a)} | {np.mean(a == 0):.0%} | {np.mean(1 - a[a > 0]):.0%} |")
    return 0


def tabulate(rows: list[dict[str, Any]]) -> None:
    """The error split by cause (in car equivalents over the truth), scene by scene and
    pooled, and which cause is the largest in each scene outside ±15 %."""
    causes = (
        "conversion",
        "miss_faint",
        "miss_weak",
        "miss_strong",
        "beside",
        "ends",
        "elsewhere",
        "rest",
    )
    per: list[dict[str, float]] = []
    for r in rows:
        t = max(float(r["truth"]), 1.0)
        g = {k: float(r[k]) for k in PARTS}
        car_len = g["found"] + g["miss_faint"] + g["miss_weak"] + g["miss_strong"]
        est = float(r["est"])
        d = {
            "err": (est - t) / t,
            "conversion": (car_len / CONVENTIONAL_CAR_M - t) / t,
            "miss_faint": -g["miss_faint"] / CONVENTIONAL_CAR_M / t,
            "miss_weak": -g["miss_weak"] / CONVENTIONAL_CAR_M / t,
            "miss_strong": -g["miss_strong"] / CONVENTIONAL_CAR_M / t,
            "beside": g["beside"] / CONVENTIONAL_CAR_M / t,
            "ends": g["ends"] / CONVENTIONAL_CAR_M / t,
            "elsewhere": g["elsewhere"] / CONVENTIONAL_CAR_M / t,
        }
        d["rest"] = d["err"] - sum(d[c] for c in causes if c != "rest")
        d["sun"] = float(r["sun"])
        per.append(d)
    err = np.array([d["err"] for d in per])
    print(
        f"\n{len(per)} scenes: within ±15 % {np.mean(np.abs(err) <= 0.15):.1%}, "
        f"median abs {np.median(np.abs(err)):.1%}, bias {np.median(err):+.1%}, "
        f"interval holds {np.mean([r['low'] <= r['truth'] <= r['high'] for r in rows]):.1%}"
    )
    print(
        "\n| cause | mean share of truth | median | mean abs "
        "| largest in n of the scenes off ±15 % |"
    )
    print("|---|---|---|---|---|")
    bad = [d for d in per if abs(d["err"]) > 0.15]
    for c in causes:
        v = np.array([d[c] for d in per])
        n_top = sum(1 for d in bad if max(causes, key=lambda k: abs(d[k])) == c)
        print(
            f"| {c} | {v.mean():+.1%} | {np.median(v):+.1%} | {np.abs(v).mean():.1%} "
            f"| {n_top} of {len(bad)} |"
        )
    # what a per-scene error would be with one cause removed
    print("\n| with this cause taken out | within ±15 % | median abs |")
    print("|---|---|---|")
    for c in causes:
        e2 = np.array([d["err"] - d[c] for d in per])
        print(f"| {c} | {np.mean(np.abs(e2) <= 0.15):.1%} | {np.median(np.abs(e2)):.1%} |")
    e4 = np.array([d["conversion"] + d["rest"] for d in per])
    print(
        f"| every sample decided right (only the conversion left) "
        f"| {np.mean(np.abs(e4) <= 0.15):.1%} | {np.median(np.abs(e4)):.1%} |"
    )
    for lo, hi in ((0, 30), (30, 90)):
        sub = [d for d in per if lo <= d["sun"] < hi]
        if sub:
            es = np.array([d["err"] for d in sub])
            missed = np.mean([d["miss_faint"] + d["miss_weak"] + d["miss_strong"] for d in sub])
            print(
                f"sun {lo}-{hi}: {len(sub)} scenes, "
                f"within ±15 % {np.mean(np.abs(es) <= 0.15):.1%}, bias {np.median(es):+.1%}, "
                f"beside {np.mean([d['beside'] for d in sub]):+.1%}, missed {missed:+.1%}"
            )
    for key in ("paint", "haze"):
        for val in sorted({r[key] for r in rows}):
            idx = [i for i, r in enumerate(rows) if r[key] == val]
            es = np.array([per[i]["err"] for i in idx])
            car = sum(float(rows[i]["found"]) for i in idx) + sum(
                float(rows[i][k]) for i in idx for k in ("miss_faint", "miss_weak", "miss_strong")
            )
            miss = sum(
                float(rows[i][k]) for i in idx for k in ("miss_faint", "miss_weak", "miss_strong")
            )
            false = sum(float(rows[i][k]) for i in idx for k in ("beside", "ends", "elsewhere"))
            print(
                f"{key} {val}: {len(idx)} scenes, within ±15 % {np.mean(np.abs(es) <= 0.15):.0%}, "
                f"bias {np.median(es):+.1%}, under -15 % {int(np.sum(es < -0.15))}, "
                f"over +15 % {int(np.sum(es > 0.15))}; of the cars' length missed "
                f"{miss / max(car, 1):.0%}, false {false / max(car, 1):.0%}"
            )


if __name__ == "__main__":
    raise SystemExit(main())
