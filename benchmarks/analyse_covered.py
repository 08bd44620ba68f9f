"""Where the covered (tarpaulin) attribute goes wrong, on development scenes.

Renders scenes drawn like the detection benchmark's (``bench_detect_accuracy.scene_params``:
every style incl. the held-out *arid* and *winter*, season, paint, haze, blur, noise, JPEG)
but from other indices (default k = 1000-1149, seeds 7_001_000+; the benchmark uses
k < 210), runs the named detector through the tiled API, matches detections to the visible
truth (IoU 0.3, as the benchmark) and reports for the matched cars:

- covered accuracy at the shipped 0.5 and at other thresholds,
- the confusion (covered missed / false covered),
- accuracy and errors by true class, resolution band, style (trained / held out), haze,
- the distribution of ``covered_score`` for covered and uncovered cars.

    python benchmarks/analyse_covered.py [--detector default] [--start 1000] [--scenes 150]
        [--json out.json] [--compare other.json]

``--json`` keeps every matched pair (scene, gsd, style, class, truth, score) so that two
detectors can be compared pair by pair on the same scenes (``--compare``: the detections
of both must be the same, which they are when only the covered output changed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

from bench_detect_accuracy import (
    GSDS,
    scene_params,
    visible_truth,
    without_hidden,
)

from railwatch.detect.api import detect_array
from railwatch.detect.eval import match
from railwatch.detect.registry import get_detector
from railwatch.detect.train import HELD_OUT_STYLES
from railwatch.sim.scene import render_scene

#: Benchmark scenes are k < 210; development scenes must stay clear of them.
FIRST_BENCHMARK_FREE = 210
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def collect(detector: str, start: int, n: int) -> dict[str, Any]:
    """Matched pairs and per-scene detection counts on scenes ``start .. start + n - 1``."""
    if start < FIRST_BENCHMARK_FREE:
        raise SystemExit(f"--start must be >= {FIRST_BENCHMARK_FREE}: k < 210 is the benchmark")
    det = get_detector(detector)
    pairs: list[dict[str, Any]] = []
    counts: list[int] = []
    t0 = time.perf_counter()
    for k in range(start, start + n):
        gsd = GSDS[k % len(GSDS)]
        p = scene_params(k, gsd)
        sc = render_scene(p)
        dets = without_hidden(sc, detect_array(sc.image, gsd, detector=det, valid=sc.valid))
        truth = visible_truth(sc)
        counts.append(len(dets))
        for a, b, iou in match(truth, dets, 0.3).pairs:
            pairs.append(
                {
                    "k": k,
                    "gsd": gsd,
                    "style": p.style,
                    "season": p.season,
                    "haze": p.haze,
                    "blur": p.blur,
                    "cls": truth[a].cls,
                    "covered": bool(truth[a].covered),
                    "score": float(dets[b].covered_score),
                    "pred_cls": dets[b].cls,
                    "iou": float(iou),
                    "cx": float(dets[b].box.cx),
                    "cy": float(dets[b].box.cy),
                    "angle": float(dets[b].box.angle),
                    "length": float(dets[b].box.length),
                }
            )
        if (k - start + 1) % 25 == 0:
            print(f"  {k - start + 1}/{n} scenes ({time.perf_counter() - t0:.0f} s)", flush=True)
    return {
        "meta": {
            "detector": detector,
            "version": str(getattr(det, "version", "")),
            "start": start,
            "scenes": n,
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average_start": os.getloadavg()[0],
            "seconds": round(time.perf_counter() - t0, 1),
        },
        "counts": counts,
        "pairs": pairs,
    }


def _acc(rows: list[dict[str, Any]], thr: float = 0.5) -> tuple[float, int, int, int]:
    """Accuracy, covered missed, false covered, cars."""
    if not rows:
        return float("nan"), 0, 0, 0
    truth = np.array([r["covered"] for r in rows])
    pred = np.array([r["score"] for r in rows]) >= thr
    return (
        float((truth == pred).mean()),
        int((truth & ~pred).sum()),
        int((~truth & pred).sum()),
        len(rows),
    )


def report(data: dict[str, Any]) -> list[str]:
    rows = data["pairs"]
    m = data["meta"]
    out = [
        f"detector {m['detector']} (version {m['version']}), scenes k = {m['start']}.."
        f"{m['start'] + m['scenes'] - 1}, {m['date']}, load {m['load_average_start']:.1f}, "
        f"{m['seconds']} s; {len(rows)} matched cars, "
        f"{sum(r['covered'] for r in rows)} covered",
        "",
        "| group | cars | covered | accuracy @0.5 | covered missed | false covered |",
        "|---|---|---|---|---|---|",
    ]
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        band = "0.3-0.5 m" if r["gsd"] <= 0.5 else "0.75-1 m"
        groups["all"].append(r)
        groups[f"band {band}"].append(r)
        groups[f"gsd {r['gsd']}"].append(r)
        groups[f"class {r['cls']}"].append(r)
        held = "held-out" if r["style"] in HELD_OUT_STYLES else "trained"
        groups[f"styles {held}"].append(r)
        groups[f"style {r['style']}"].append(r)
        groups[f"haze {r['haze']:g}"].append(r)
        groups[f"band {band}, styles {held}"].append(r)
    for name in sorted(groups, key=lambda s: (s != "all", s)):
        g = groups[name]
        acc, miss, false, n = _acc(g)
        out.append(
            f"| {name} | {n} | {sum(r['covered'] for r in g)} | {100 * acc:.1f} % | "
            f"{miss} | {false} |"
        )
    out += ["", "| threshold | " + " | ".join(f"{t:g}" for t in THRESHOLDS) + " |"]
    out.append("|---" * (len(THRESHOLDS) + 1) + "|")
    for band in ("band 0.3-0.5 m", "band 0.75-1 m", "all"):
        accs = [f"{100 * _acc(groups[band], t)[0]:.1f} %" for t in THRESHOLDS]
        out.append(f"| {band} | " + " | ".join(accs) + " |")
    edges = np.linspace(0, 1, 11)
    out += [
        "",
        "| covered_score | "
        + " | ".join(f"{a:.1f}-{b:.1f}" for a, b in itertools.pairwise(edges))
        + " |",
    ]
    out.append("|---" * 11 + "|")
    for lab, want in (("covered cars", True), ("uncovered cars", False)):
        s = np.array([r["score"] for r in rows if r["covered"] == want])
        h, _ = np.histogram(s, edges)
        out.append(f"| {lab} | " + " | ".join(str(int(x)) for x in h) + " |")
    return out


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Pair-by-pair comparison of two runs on the same scenes."""
    if a["counts"] != b["counts"]:
        return ["detections differ between the runs: not comparable pair by pair"]
    ra, rb = a["pairs"], b["pairs"]
    if len(ra) != len(rb) or any(
        (x["k"], round(x["cx"], 3), round(x["cy"], 3))
        != (y["k"], round(y["cx"], 3), round(y["cy"], 3))
        for x, y in zip(ra, rb, strict=True)
    ):
        return ["matched pairs differ between the runs"]
    ta = np.array([r["covered"] for r in ra])
    pa = np.array([r["score"] for r in ra]) >= 0.5
    pb = np.array([r["score"] for r in rb]) >= 0.5
    fixed = int(((pa != ta) & (pb == ta)).sum())
    broken = int(((pa == ta) & (pb != ta)).sum())
    return [
        f"same detections in all {len(a['counts'])} scenes; covered flag: {fixed} cars fixed, "
        f"{broken} broken ({a['meta']['detector']} -> {b['meta']['detector']})"
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default="default")
    ap.add_argument("--start", type=int, default=1000)
    ap.add_argument("--scenes", type=int, default=150)
    ap.add_argument("--json", type=Path, help="write the matched pairs here")
    ap.add_argument("--load", type=Path, help="report on a --json file instead of running")
    ap.add_argument("--compare", type=Path, help="a --json run on the same scenes to compare")
    args = ap.parse_args()
    if args.load:
        data = json.loads(args.load.read_text())
    else:
        data = collect(args.detector, args.start, args.scenes)
    if args.json:
        args.json.write_text(json.dumps(data))
    print("\n".join(report(data)))
    if args.compare:
        print("\n".join(compare(json.loads(args.compare.read_text()), data)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
