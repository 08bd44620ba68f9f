"""The detector on a third renderer it never saw (``third_renderer.py``): held-out drawings.

The default detector learned from two renderers (``railwatch.sim`` and
``railwatch.detect.model_synth``); the accuracy benchmark holds out their seeds and two
of the simulator's styles, but not the renderers themselves. ``third_renderer.py`` was
written without either's code, from DOMAIN.md's dimensions alone, and is used for
nothing but this check. Each scene (300 m square, 0.3–1 m, seeds 26_000_000 + k) runs
through ``detect_array`` with the named detector; the truth is every car whose body lies
wholly in the image (detections on cars cut by the edge are dropped, as the accuracy
benchmark drops those on hidden cars). Scored with ``railwatch.detect.eval`` (oriented
polygon IoU) by resolution band, by sun elevation and by ground palette; a false box
with more than half its area in a car's cast shadow is counted as "on a shadow"; and the
share of scenes whose count interval (``counting.count_interval`` with the detector's
calibration, as the pipeline stores it for a clear image) holds the true number of cars.

``--coarse N`` also draws N scenes at 3 m (768 m square, drawn at 0.25 m so the rails are
not drawn metres wide; seeds 26_000_000 + 10_000 + k, k from ``--coarse-start``, 100 by
default: k = 0-39 were looked at while estimator 7 was built) and reads them as the pipeline does
at 3 m: ``coarse.estimate_occupancy`` along the scene's true track centrelines with the
sun's position (and without it, and along lines found in the image), against the number
of cars at least half in the image (their centre inside it) and against their car
equivalents (each car's length plus a 1 m coupler gap, / 14 m); the issue's 3 m target
is 90 % of scenes within ±15 %.

``--coarse-model FILE [FILE ...]`` (session 43) also reads every 3 m scene with each of
these per-sample classifier files (``coarse_model.load_model``; e.g. a refit of
``benchmarks/fit_coarse_occupancy.py`` written elsewhere), on the same render, along the
true centrelines with the sun, two ways: the file deciding every yard (as that script's
checks read a model), and the file with yards read as crowded left to the shipped
classifier for crowded yards (as the pipeline pairs its two). Printed after the tables
above (a table per file and the summed estimates), never written into the docs.

    python benchmarks/bench_third_renderer.py [--scenes 200] [--detector default]
        [--coarse 0] [--coarse-start 100] [--coarse-model FILE ...] [--write-docs]
        [--json OUT.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from bench_detect_accuracy import fig, update_docs
from shapely.geometry import LineString, MultiLineString, box
from third_renderer import SEED0, Scene, render

from railwatch.counting import count_interval
from railwatch.detect.api import detect_array
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.coarse import CONVENTIONAL_CAR_M, CROWDED_READS, estimate_occupancy
from railwatch.detect.coarse_model import OccupancyModel, load_crowded_model, load_model
from railwatch.detect.eval import SceneEval, evaluate_scene, match, summarise, without_matches
from railwatch.detect.geojson import FeatureSet
from railwatch.detect.registry import get_detector

ELEVATION_BINS = ((15, 25), (25, 35), (35, 45), (45, 55), (55, 65))
COARSE_GSD = 3.0
COARSE_SIZE_M = 768.0  # 256 px at 3 m
COARSE_FINE_M = 0.25
COARSE_K0 = 10_000  # coarse scenes are k = COARSE_K0 + i, apart from the object scenes
COUPLER_GAP_M = 1.0  # the renderer's gaps are 0.8-1.4 m


def split_truth(scene: Scene) -> tuple[list[Detection], list[Detection]]:
    """(cars wholly in the image, cars cut by its edge)."""
    h, w = scene.image.shape[:2]
    whole: list[Detection] = []
    cut: list[Detection] = []
    for car in scene.cars:
        d = Detection(OrientedBox(*car.box), cls=car.cls, covered=car.covered)
        c = d.box.corners()
        inside = (c[:, 0] >= 0).all() and (c[:, 1] >= 0).all()
        inside = inside and (c[:, 0] < w).all() and (c[:, 1] < h).all()
        (whole if inside else cut).append(d)
    return whole, cut


def false_on_shadow(scene: Scene, truth: Sequence[Detection], pred: Sequence[Detection]) -> int:
    """False boxes (matched to no car at IoU 0.3) with more than half their area in shadow."""
    hit = {p for _, p, _ in match(truth, pred, 0.3).pairs}
    h, w = scene.image.shape[:2]
    n = 0
    for i, d in enumerate(pred):
        if i in hit:
            continue
        m = np.zeros((h, w), np.uint8)
        cv2.fillPoly(m, [np.round(d.box.corners()).astype(np.int32)], 1)
        area = int(m.sum())
        if area and float(scene.shadow[m > 0].sum()) > 0.5 * area:
            n += 1
    return n


def _row(label: str, group: Sequence[SceneEval], shadow_fp: int, holds: float) -> str:
    if not group:
        return f"| {label} | 0 | | | | | | | | | | |"
    o = summarise(group)["overall"]
    i3, i5, c = o["iou0.3"], o.get("iou0.5", {}), o["count"]
    cars = i3["tp"] + i3["fn"]
    extra = f"{shadow_fp} of {i3['fp']}"
    return (
        f"| {label} | {c['scenes']} | {cars} | {fig(i3['precision'])} | {fig(i3['recall'])} | "
        f"**{fig(i3['f1'])}** | {fig(i5.get('f1'))} | {100 * (c['mape'] or 0):.1f} % | "
        f"{100 * (c['net_relative_error'] or 0):+.1f} % | "
        f"{100 * o.get('covered_accuracy', 0):.1f} % | {extra} | {100 * holds:.0f} % |"
    )


def coarse_truth(scene: Scene) -> tuple[int, float]:
    """(cars whose centre lies in the image, their car equivalents)."""
    h, w = scene.image.shape[:2]
    inside = [c for c in scene.cars if 0 <= c.box[0] < w and 0 <= c.box[1] < h]
    length_m = sum(c.box[2] * scene.gsd + COUPLER_GAP_M for c in inside)
    return len(inside), length_m / CONVENTIONAL_CAR_M


def run_coarse(
    n: int, first: int = 100, models: Sequence[tuple[str, OccupancyModel]] = ()
) -> tuple[list[dict[str, float]], float]:
    """Per 3 m scene ``first`` .. ``first + n - 1``: truth, equivalents and the estimates
    (see the module docstring); with ``models`` ((name, classifier) pairs) also each
    one's estimate along the true centrelines with the sun, under ``model:NAME`` (the
    classifier decides every yard) and ``model+crowded:NAME`` (yards read as crowded
    decided by the shipped classifier for crowded yards), and under
    ``model_crowded:NAME`` whether the yard was read as crowded (1) or not (0)."""
    rows: list[dict[str, float]] = []
    crowded = load_crowded_model() if models else None
    t0 = time.perf_counter()
    for i in range(first, first + n):
        sc = render(COARSE_K0 + i, COARSE_GSD, COARSE_SIZE_M, COARSE_FINE_M)
        h, w = sc.image.shape[:2]
        frame = box(0, 0, w, h)
        lines = [frame.intersection(LineString(t)) for t in sc.tracks]
        tracks = MultiLineString([g for g in lines if isinstance(g, LineString) and g.length])
        sun = (sc.sun_azimuth, sc.sun_elevation)
        est = estimate_occupancy(sc.image, sc.gsd, None, tracks, sun=sun)
        no_sun = estimate_occupancy(sc.image, sc.gsd, None, tracks)
        found = estimate_occupancy(sc.image, sc.gsd, None)
        truth, equiv = coarse_truth(sc)
        rows.append(
            {
                "k": COARSE_K0 + i,
                "sun_elevation": round(sc.sun_elevation, 1),
                "palette": sc.palette,  # type: ignore[dict-item]
                "tracks": len(sc.tracks),
                "truth": truth,
                "equivalents": round(equiv, 2),
                "estimate": round(est.car_equivalents, 2),
                "low": round(est.low, 2),
                "high": round(est.high, 2),
                "no_sun": round(no_sun.car_equivalents, 2),
                "found_lines": round(found.car_equivalents, 2),
            }
        )
        for name, m in models:
            alone = estimate_occupancy(
                sc.image, sc.gsd, None, tracks, sun=sun, learned=True, model=m
            )
            paired = estimate_occupancy(
                sc.image,
                sc.gsd,
                None,
                tracks,
                sun=sun,
                learned=True,
                model=m,
                crowded_model=crowded,
            )
            rows[-1][f"model:{name}"] = round(alone.car_equivalents, 2)
            rows[-1][f"model+crowded:{name}"] = round(paired.car_equivalents, 2)
            rows[-1][f"model_crowded:{name}"] = float(alone.empty_from in CROWDED_READS)
        if (i - first + 1) % 20 == 0:
            print(f"  {i - first + 1}/{n} 3 m scenes", flush=True)
    return rows, time.perf_counter() - t0


def _coarse_row(label: str, rows: Sequence[dict[str, float]], key: str, against: str) -> str:
    if not rows:
        return f"| {label} | 0 | | | | | |"
    est = np.array([r[key] for r in rows], float)
    ref = np.array([r[against] for r in rows], float)
    err = (est - ref) / np.maximum(ref, 1.0)
    holds = "–"
    if key == "estimate" and against == "truth":
        inside = [r["low"] <= r["truth"] <= r["high"] for r in rows]
        holds = f"{100 * float(np.mean(inside)):.0f} %"
    within = 100 * float(np.mean(np.abs(err) <= 0.15))
    med, mean = 100 * float(np.median(np.abs(err))), 100 * float(np.mean(np.abs(err)))
    return (
        f"| {label} | {len(rows)} | **{within:.0f} %** | {med:.0f} % | {mean:.0f} % | "
        f"{100 * float(np.median(err)):+.0f} % | {holds} |"
    )


def coarse_table(rows: Sequence[dict[str, float]]) -> str:
    head = (
        "| 3 m, car equivalents | scenes | within ±15 % | median abs. error | "
        "mean abs. error | bias (median) | 90 % interval holds the truth |\n"
        "|---|---|---|---|---|---|---|"
    )
    out = [
        head,
        _coarse_row("along the true centrelines, with the sun", rows, "estimate", "truth"),
        _coarse_row(
            "the same, against the true car equivalents (length + 1 m gap, / 14 m)",
            rows,
            "estimate",
            "equivalents",
        ),
        _coarse_row("along the true centrelines, without the sun", rows, "no_sun", "truth"),
        _coarse_row("along lines found in the image", rows, "found_lines", "truth"),
    ]
    for lo, hi in ((15, 35), (35, 65)):
        pick = [r for r in rows if lo <= r["sun_elevation"] < hi]
        out.append(_coarse_row(f"with the sun, sun {lo}–{hi}°", pick, "estimate", "truth"))
    for pal in sorted({str(r["palette"]) for r in rows}):
        pick = [r for r in rows if r["palette"] == pal]
        out.append(_coarse_row(f"with the sun, ground {pal}", pick, "estimate", "truth"))
    return "\n".join(out)


def models_table(rows: Sequence[dict[str, float]], names: Sequence[str]) -> str:
    """Each classifier of ``--coarse-model`` (its ``names``) on the 3 m ``rows``: the
    shipped estimate's rows for comparison, then the file's two readings, against the
    car count and the car equivalents, and the summed estimates."""
    head = (
        "| 3 m, car equivalents, along the true centrelines with the sun | scenes | "
        "within ±15 % | median abs. error | mean abs. error | bias (median) | "
        "90 % interval holds the truth (shipped estimate) |\n"
        "|---|---|---|---|---|---|---|"
    )
    out = [head]
    keys = [("shipped estimator", "estimate")]
    for name in names:
        keys += [
            (f"{name}, alone", f"model:{name}"),
            (f"{name} + shipped crowded", f"model+crowded:{name}"),
        ]
    for against in ("truth", "equivalents"):
        for label, key in keys:
            out.append(_coarse_row(f"{label}, against {against}", rows, key, against))
    truth = sum(r["truth"] for r in rows)
    equiv = sum(r["equivalents"] for r in rows)
    out.append("")
    for label, key in keys:
        est = sum(r[key] for r in rows)
        out.append(
            f"{label}: summed {est:.1f} car equivalents, truth {truth:.0f} "
            f"({(est - truth) / max(truth, 1):+.1%}), equivalents {equiv:.1f} "
            f"({(est - equiv) / max(equiv, 1):+.1%})"
        )
    for name in names:
        n_crowded = sum(int(r[f"model_crowded:{name}"]) for r in rows)
        out.append(f"{name}: {n_crowded} of {len(rows)} yards read as crowded")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=200)
    ap.add_argument("--detector", default="default")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the per-scene rows here")
    ap.add_argument("--coarse", type=int, default=0, help="also this many 3 m scenes")
    ap.add_argument(
        "--coarse-start",
        type=int,
        default=100,
        help="first 3 m scene (k from COARSE_K0 + this): 0-39 were looked at while "
        "estimator 7 was built, 100 on were not",
    )
    ap.add_argument(
        "--coarse-model",
        type=Path,
        nargs="+",
        default=[],
        metavar="FILE",
        help="also read the 3 m scenes with these classifier files (see the docstring)",
    )
    args = ap.parse_args()
    models = [(str(f), load_model(f)) for f in args.coarse_model]
    det = get_detector(args.detector)
    scenes: list[SceneEval] = []
    meta: list[dict[str, object]] = []
    t_render = t_detect = 0.0
    for k in range(args.scenes):
        t0 = time.perf_counter()
        sc = render(k)
        t1 = time.perf_counter()
        whole, cut = split_truth(sc)
        pred = without_matches(detect_array(sc.image, sc.gsd, detector=det), cut)
        t2 = time.perf_counter()
        t_render += t1 - t0
        t_detect += t2 - t1
        _, low, high = count_interval(
            [d.score for d in pred], gsd=sc.gsd, calibration=getattr(det, "calibration", None)
        )
        ev = evaluate_scene(
            f"third{k}",
            FeatureSet(tuple(whole), None, sc.gsd),
            FeatureSet(tuple(pred), None, sc.gsd),
        )
        scenes.append(ev)
        meta.append(
            {
                "k": k,
                "gsd": sc.gsd,
                "palette": sc.palette,
                "sun_elevation": round(sc.sun_elevation, 1),
                "truth": len(whole),
                "pred": len(pred),
                "tp": ev.prf[0.3].tp,
                "shadow_fp": false_on_shadow(sc, whole, pred),
                "low": low,
                "high": high,
                "holds": bool(low <= len(whole) <= high),
            }
        )
        if (k + 1) % 20 == 0:
            print(f"  {k + 1}/{args.scenes} scenes", flush=True)

    def pick(cond: object) -> tuple[list[SceneEval], int, float]:
        idx = [i for i, m in enumerate(meta) if cond(m)]  # type: ignore[operator]
        shadow = sum(int(meta[i]["shadow_fp"]) for i in idx)  # type: ignore[call-overload]
        holds = sum(bool(meta[i]["holds"]) for i in idx) / max(len(idx), 1)
        return [scenes[i] for i in idx], shadow, holds

    head = (
        "| scenes | n | cars | P @0.3 | R @0.3 | F1 @0.3 | F1 @0.5 | count MAPE | "
        "net count error (Σ pred − Σ truth) | covered acc. | false boxes on shadows | "
        "90 % interval holds the truth |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = [head]
    for label, lo, hi in (("0.3–0.5 m", 0.0, 0.6), ("0.75–1 m", 0.6, 2.0)):
        rows.append(_row(label, *pick(lambda m, lo=lo, hi=hi: lo < m["gsd"] < hi)))
    rows.append(_row("all", *pick(lambda m: True)))
    for lo, hi in ELEVATION_BINS:
        rows.append(
            _row(f"sun {lo}–{hi}°", *pick(lambda m, lo=lo, hi=hi: lo <= m["sun_elevation"] < hi))
        )
    for pal in sorted({str(m["palette"]) for m in meta}):
        rows.append(_row(f"ground {pal}", *pick(lambda m, p=pal: m["palette"] == p)))
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cmd = (
        "python benchmarks/bench_third_renderer.py "
        f"--scenes {args.scenes} --detector {args.detector}"
    )
    body = (
        f"Third renderer (`{cmd}`), {when}, {platform.machine()} {os.cpu_count()} cores, "
        f"CPython {platform.python_version()}: {args.scenes} scenes drawn by "
        f"`benchmarks/third_renderer.py` (seeds {SEED0} + k, 0.3–1 m, 300 m square; "
        "written without the code of either renderer the detector learned from, used for "
        "nothing but this check). Render "
        f"{t_render:.0f} s, detection {t_detect:.0f} s.\n\n" + "\n".join(rows)
    )
    if args.scenes:
        print(body)
    coarse_rows: list[dict[str, float]] = []
    if args.coarse:
        coarse_rows, took = run_coarse(args.coarse, args.coarse_start, models)
        coarse_body = (
            f"Third renderer at 3 m (`python benchmarks/bench_third_renderer.py --scenes 0 "
            f"--coarse {args.coarse} --coarse-start {args.coarse_start}`), "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
            f"{platform.machine()} {os.cpu_count()} cores: {args.coarse} scenes (seeds "
            f"{SEED0} + {COARSE_K0} + k, k = {args.coarse_start}-"
            f"{args.coarse_start + args.coarse - 1}, {COARSE_SIZE_M:.0f} m square, drawn at "
            f"{COARSE_FINE_M} m and area-averaged to 3 m; no cloud or haze), read as the "
            "pipeline reads a 3 m image (`coarse.estimate_occupancy`, shipped estimator); "
            f"truth = cars whose centre lies in the image. Run time {took:.0f} s.\n\n"
            + coarse_table(coarse_rows)
        )
        print(coarse_body)
        if models:
            print("\nClassifier files (--coarse-model), on the same scenes:\n")
            print(models_table(coarse_rows, [name for name, _ in models]))
        if args.write_docs:
            update_docs("third-renderer-coarse", coarse_body)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"summary": summarise(scenes), "scenes": meta, "coarse": coarse_rows}, indent=1
            )
        )
    if args.write_docs and args.scenes:
        update_docs("third-renderer", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
