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

    python benchmarks/bench_third_renderer.py [--scenes 200] [--detector default]
        [--write-docs] [--json OUT.json]
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
from bench_detect_accuracy import update_docs
from third_renderer import SEED0, Scene, render

from railwatch.counting import count_interval
from railwatch.detect.api import detect_array
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.eval import SceneEval, evaluate_scene, match, summarise, without_matches
from railwatch.detect.geojson import FeatureSet
from railwatch.detect.registry import get_detector

ELEVATION_BINS = ((15, 25), (25, 35), (35, 45), (45, 55), (55, 65))


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
        f"| {label} | {c['scenes']} | {cars} | {i3['precision']:.3f} | {i3['recall']:.3f} | "
        f"**{i3['f1']:.3f}** | {i5.get('f1', 0):.3f} | {100 * (c['mape'] or 0):.1f} % | "
        f"{100 * (c['net_relative_error'] or 0):+.1f} % | "
        f"{100 * o.get('covered_accuracy', 0):.1f} % | {extra} | {100 * holds:.0f} % |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=200)
    ap.add_argument("--detector", default="default")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the per-scene rows here")
    args = ap.parse_args()
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
    print(body)
    if args.json:
        args.json.write_text(json.dumps({"summary": summarise(scenes), "scenes": meta}, indent=1))
    if args.write_docs:
        update_docs("third-renderer", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
