"""The shipped detector on the benchmark's scenes drawn both ways: default paint and exact.

The simulator's default drawing paints about 0.7 canvas pixels past every outline
(docs/simulator.md, "Known bias"); ``render_scene(..., exact_paint=True)`` draws every
shape at its true area. Both renderers the default detector learned from spill, so this
measures how much it leans on the spill (docs/detection.md, "Limits (honest)").

1. Objects: the held-out scenes of ``bench_detect_accuracy.py`` (``scene_params(k,
   GSDS[k % 5])``, seeds 7_000_000 + k, k < ``--scenes``), each drawn both ways; visible
   truth and hidden cars as there. Per band: precision, recall, F1 at IoU 0.3 and 0.5,
   count errors, and the length, width and area of the boxes matched at IoU 0.3 over
   their truth box's; false boxes by where they lie (overlapping a car, within 3 m of
   one, elsewhere); a paired bootstrap interval of the F1 difference over scenes.
2. Coarse: the 3 m scenes of ``run_coarse`` (seeds 7_010_000 + k, 512 px), both ways:
   car equivalents along the scene's track centrelines with the sun, against the
   visible truth count and its car equivalents.

    python benchmarks/bench_exact_paint.py [--scenes 210] [--coarse 60] [--json OUT]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from bench_detect_accuracy import (
    GSDS,
    clear_and_truth,
    scene_params,
    truth_equivalents,
    visible_truth,
    without_hidden,
)
from shapely.geometry import LineString, MultiLineString

from railwatch.detect.api import detect_array
from railwatch.detect.coarse import estimate_occupancy
from railwatch.detect.eval import iou_pairs, match
from railwatch.detect.registry import get_detector
from railwatch.sim.scene import render_scene

#: A false box whose outline lies within this of a car (metres) is "beside a car".
NEAR_M = 3.0
BANDS = {"0.3–0.5 m": lambda g: g <= 0.5, "0.75–1 m": lambda g: g > 0.5}


def object_scenes(k: int, exact: bool, detectors: dict[str, Any]) -> list[dict[str, Any]]:
    """One held-out scene drawn one way, read by each detector (by name): counts,
    matches and where the false boxes lie."""
    gsd = GSDS[k % len(GSDS)]
    sc = render_scene(scene_params(k, gsd), exact_paint=exact)
    return [
        {"detector": name, **object_scene(sc, k, gsd, exact, detector)}
        for name, detector in detectors.items()
    ]


def object_scene(sc: Any, k: int, gsd: float, exact: bool, detector: Any) -> dict[str, Any]:
    """One rendered scene read by one detector."""
    dets = without_hidden(sc, detect_array(sc.image, gsd, detector=detector, valid=sc.valid))
    truth = visible_truth(sc)
    m3, m5 = match(truth, dets, 0.3), match(truth, dets, 0.5)
    hit = {b for _, b, _ in m3.pairs}
    _, pi, iou = iou_pairs(truth, dets)
    cars = shapely.union_all([t.polygon_px for t in sc.truth]) if sc.truth else None
    on = near = off = 0
    for j, d in enumerate(dets):
        if j in hit:
            continue
        if np.any(iou[pi == j] > 0):
            on += 1
        elif cars is not None and d.box.polygon().distance(cars) * gsd < NEAR_M:
            near += 1
        else:
            off += 1
    pairs = [
        [truth[a].box.length, truth[a].box.width, dets[b].box.length, dets[b].box.width]
        for a, b, _ in m3.pairs
    ]
    return {
        "k": k,
        "gsd": gsd,
        "exact": exact,
        "truth": len(truth),
        "dets": len(dets),
        "tp0.3": m3.tp,
        "tp0.5": m5.tp,
        "fp_on_car": on,
        "fp_near_car": near,
        "fp_elsewhere": off,
        "pairs": pairs,
    }


def _f1(rows: list[dict[str, Any]], key: str) -> float:
    n = sum(r["truth"] + r["dets"] for r in rows)
    return 2.0 * sum(r[key] for r in rows) / n if n else 0.0


def object_rows(recs: list[dict[str, Any]], seed: int = 0) -> list[str]:
    by: dict[int, dict[bool, dict[str, Any]]] = {}
    for r in recs:
        by.setdefault(r["k"], {})[r["exact"]] = r
    out = [
        "| band | paint | scenes | cars | boxes | P @0.3 | R @0.3 | F1 @0.3 | F1 @0.5 | "
        "count MAPE | total | length | width | area | false: on a car / beside / elsewhere |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    diffs = []
    rng = np.random.default_rng(seed)
    for band, sel in BANDS.items():
        ks = [k for k, v in sorted(by.items()) if len(v) == 2 and sel(v[False]["gsd"])]
        if not ks:
            continue
        for exact in (False, True):
            rows = [by[k][exact] for k in ks]
            nt = sum(r["truth"] for r in rows)
            nd = sum(r["dets"] for r in rows)
            tp = sum(r["tp0.3"] for r in rows)
            mape = np.mean([abs(r["dets"] - r["truth"]) / r["truth"] for r in rows if r["truth"]])
            pr = np.array([p for r in rows for p in r["pairs"]], dtype=np.float64).reshape(-1, 4)
            lr, wr = pr[:, 2] / pr[:, 0], pr[:, 3] / pr[:, 1]
            out.append(
                f"| {band} | {'exact' if exact else 'default'} | {len(rows)} | {nt} | {nd} | "
                f"{tp / max(nd, 1):.3f} | {tp / max(nt, 1):.3f} | {_f1(rows, 'tp0.3'):.3f} | "
                f"{_f1(rows, 'tp0.5'):.3f} | {100 * mape:.1f} % | "
                f"{100 * (nd - nt) / max(nt, 1):+.1f} % | {np.median(lr):.3f} | "
                f"{np.median(wr):.3f} | {np.median(lr * wr):.3f} | "
                f"{sum(r['fp_on_car'] for r in rows)} / {sum(r['fp_near_car'] for r in rows)} / "
                f"{sum(r['fp_elsewhere'] for r in rows)} |"
            )
        for key in ("tp0.3", "tp0.5"):
            base = _f1([by[k][True] for k in ks], key) - _f1([by[k][False] for k in ks], key)
            boot = []
            for _ in range(2000):
                s = rng.choice(ks, len(ks))
                boot.append(
                    _f1([by[k][True] for k in s], key) - _f1([by[k][False] for k in s], key)
                )
            lo, hi = np.percentile(boot, [2.5, 97.5])
            diffs.append(
                f"{band}, F1 @{key[2:]}: exact − default {base:+.3f} "
                f"(95 % paired bootstrap over scenes {lo:+.3f} to {hi:+.3f})"
            )
    out.append("")
    out.append(
        "Length, width, area: medians over the boxes matched at IoU 0.3 of box / truth box. "
        f"False boxes: overlapping a car (IoU below 0.3), within {NEAR_M:.0f} m of one, "
        "elsewhere."
    )
    out.append("")
    out += [f"- {d}" for d in diffs]
    return out


def coarse_scene(k: int, exact: bool) -> dict[str, Any]:
    p = scene_params(10_000 + k, 3.0).with_(
        size_px=(512, 512), n_cars=int(20 + (k * 37) % 130), cloud_cover=0.0
    )
    sc = render_scene(p, exact_paint=exact)
    usable = clear_and_truth(sc)
    if usable is None:
        return {"k": k, "exact": exact, "usable": False}
    clear, truth = usable
    inv = ~sc.transform
    tracks = MultiLineString(
        [LineString([inv @ xy for xy in t.coords]) for t in sc.tracks if len(t.coords) >= 2]
    )
    est = estimate_occupancy(sc.image, 3.0, clear, tracks, sun=(p.sun_azimuth, p.sun_elevation))
    return {
        "k": k,
        "exact": exact,
        "usable": True,
        "truth": truth,
        "equivalents": truth_equivalents(sc),
        "estimate": est.car_equivalents,
        "low": est.low,
        "high": est.high,
    }


def coarse_rows(recs: list[dict[str, Any]]) -> list[str]:
    by: dict[int, dict[bool, dict[str, Any]]] = {}
    for r in recs:
        by.setdefault(r["k"], {})[r["exact"]] = r
    ks = [k for k, v in sorted(by.items()) if len(v) == 2 and all(x["usable"] for x in v.values())]
    out = [
        f"3 m scenes usable both ways: {len(ks)} of {len(by)}.",
        "",
        "| 3 m, car equivalents along the centrelines, sun known | paint | within ±15 % | "
        "median abs. error | bias (median) | vs. car equivalents: within ±15 % | bias | "
        "truth inside the interval | summed estimate / truth |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for exact in (False, True):
        xs = [by[k][exact] for k in ks]
        err = np.array([(x["estimate"] - x["truth"]) / max(x["truth"], 1) for x in xs])
        erq = np.array([(x["estimate"] - x["equivalents"]) / max(x["equivalents"], 1) for x in xs])
        inside = np.mean([x["low"] <= x["truth"] <= x["high"] for x in xs])
        out.append(
            f"| {len(xs)} scenes | {'exact' if exact else 'default'} | "
            f"{100 * np.mean(np.abs(err) <= 0.15):.0f} % | {100 * np.median(np.abs(err)):.0f} % | "
            f"{100 * np.median(err):+.0f} % | {100 * np.mean(np.abs(erq) <= 0.15):.0f} % | "
            f"{100 * np.median(erq):+.0f} % | {100 * inside:.0f} % | "
            f"{sum(x['estimate'] for x in xs):.0f} / {sum(x['truth'] for x in xs)} |"
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=210, help="held-out object scenes (k < N)")
    ap.add_argument("--coarse", type=int, default=60, help="3 m scenes")
    ap.add_argument("--json", type=Path, help="write every scene's figures here")
    ap.add_argument(
        "--detector",
        action="append",
        help="detector to read the object scenes with (repeat to compare several on the same "
        "renders, e.g. --detector default --detector default:new.onnx); default: default",
    )
    args = ap.parse_args()
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    detectors = {name: get_detector(name) for name in args.detector or ["default"]}
    objects = [
        rec
        for k in range(args.scenes)
        for exact in (False, True)
        for rec in object_scenes(k, exact, detectors)
    ]
    coarse = [coarse_scene(k, exact) for k in range(args.coarse) for exact in (False, True)]
    print(
        f"{started:%Y-%m-%d %H:%M} UTC, {platform.machine()}, CPython "
        f"{platform.python_version()}, {time.perf_counter() - t0:.0f} s"
    )
    print()
    for name in detectors:
        recs = [r for r in objects if r["detector"] == name]
        if recs:
            print(f"detector {name}:")
            print("\n".join(object_rows(recs)))
            print()
    if coarse:
        print("\n".join(coarse_rows(coarse)))
    if args.json:
        args.json.write_text(json.dumps({"objects": objects, "coarse": coarse}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
