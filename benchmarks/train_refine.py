"""Fit the across-track refiner (``railwatch.detect.refine``) of the default detector.

Development scenes drawn like the accuracy benchmark's (``bench_detect_accuracy.
scene_params(k)``, resolution ``GSDS[k % 5]``), by default k = 1120–1479: never the
benchmark's own (k < 210) nor the error analysis' sets A and B (k = 1000–1119), on which
the refiner is measured. Each scene is detected by the default detector without
refinement; every detection that overlaps a visible truth car (IoU >= 0.1) no more than
2.7 m across from it becomes a training example (its profile features and the truth's
offset). The same from ``--drawn`` yards of the network's second source of training
images (``detect.model_synth.draw_yard``, 220 m, drawn at half the resolution and
area-averaged; resolutions 0.3, 0.4, 0.5, 0.75, 1 m in turn; seeds from
``--drawn-seed``): with simulator scenes alone the scorer moved boxes that lean onto a
drawn car's shadow further onto it, and boxes off a dark drawn car away from it.
Writes the refiner weights (JSON) that the weights' card names under ``refine``.

    python benchmarks/train_refine.py [--k-start 1120] [--n 360] [--drawn 240]
        [--out src/railwatch/detect/weights/railwatch_refine.json]

About 5 minutes on 2 cores (298 s on 2026-12-03 at load 3-4, the fit about half of it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_detect_accuracy import GSDS, scene_params, visible_truth, without_hidden

from railwatch.detect.api import detect_array
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.default import DefaultDetector
from railwatch.detect.merge import box_array
from railwatch.detect.model_synth import draw_yard
from railwatch.detect.refine import RANGE_M, features, fit, target_offsets
from railwatch.sim.scene import render_scene

OUT = Path(__file__).resolve().parents[1] / "src/railwatch/detect/weights/railwatch_refine.json"
DRAWN_SIZE_M = 220.0


def drawn_scene(
    seed: int,
    gsd: float,
    *,
    trackside: float = 0.0,
    track_detail: float = 0.0,
    occupied: bool = True,
) -> tuple[np.ndarray, list[Detection]]:
    """A drawn yard (``draw_yard``, :data:`DRAWN_SIZE_M` wide, drawn at half the
    resolution and area-averaged) at ``gsd`` and its cars as truth boxes (pixels).
    ``trackside``, ``track_detail`` and ``occupied`` are ``draw_yard``'s (at their
    defaults the yards drawn before the options existed)."""
    rng = np.random.default_rng(seed)
    img, cars = draw_yard(
        rng,
        DRAWN_SIZE_M,
        gsd / 2,
        occupied=occupied,
        trackside=trackside,
        track_detail=track_detail,
    )
    n = round(DRAWN_SIZE_M / gsd)
    img = cv2.resize(img, (n, n), interpolation=cv2.INTER_AREA)
    truth = [
        Detection(OrientedBox(c.cx / gsd, c.cy / gsd, c.length / gsd, c.width / gsd, c.angle))
        for c in cars
    ]
    return img, truth


def examples(
    image: np.ndarray, gsd: float, dets: list[Detection], truth: list[Detection]
) -> tuple[np.ndarray, np.ndarray]:
    """Features and true offsets (metres towards the shadow side) of the detections that
    overlap a truth car and lie within reach of it."""
    feats, side, _ = features(image, box_array(dets), gsd)
    t = target_offsets(dets, truth, gsd) * side
    keep = np.isfinite(t) & (np.abs(t) <= RANGE_M + 0.2)
    return feats[keep], t[keep]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k-start", type=int, default=1120)
    ap.add_argument("--n", type=int, default=360)
    ap.add_argument("--drawn", type=int, default=240)
    ap.add_argument("--drawn-seed", type=int, default=770_000)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--weight-decay", type=float, default=1e-3)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if args.k_start < 210:
        print("warning: k < 210 are the benchmark's own scenes", file=sys.stderr)
    if args.k_start < 1120 and args.k_start + args.n > 1000:
        print("warning: k 1000-1119 are the error analysis' sets A and B", file=sys.stderr)
    det = DefaultDetector(refine=False)
    t0 = time.perf_counter()
    xs, ts = [], []
    for k in range(args.k_start, args.k_start + args.n):
        gsd = GSDS[k % len(GSDS)]
        sc = render_scene(scene_params(k, gsd))
        dets = without_hidden(sc, detect_array(sc.image, gsd, detector=det, valid=sc.valid))
        if dets:
            x, t = examples(sc.image, gsd, dets, visible_truth(sc))
            xs.append(x)
            ts.append(t)
    n_sim = sum(len(t) for t in ts)
    for i in range(args.drawn):
        gsd = GSDS[i % len(GSDS)]
        img, truth = drawn_scene(args.drawn_seed + i, gsd)
        dets = det.detect(img, gsd)
        if dets:
            x, t = examples(img, gsd, dets, truth)
            xs.append(x)
            ts.append(t)
    x, t = np.concatenate(xs), np.concatenate(ts)
    print(
        f"{len(t)} examples ({(np.abs(t) > 1).sum()} more than 1 m off): {n_sim} from "
        f"{args.n} simulator scenes, {len(t) - n_sim} from {args.drawn} drawn yards"
    )
    ref = fit(x, t, hidden=args.hidden, weight_decay=args.weight_decay)
    data = {
        "source": f"python benchmarks/train_refine.py --k-start {args.k_start} --n {args.n} "
        f"--drawn {args.drawn} --drawn-seed {args.drawn_seed} --hidden {args.hidden} "
        f"--weight-decay {args.weight_decay}",
        "examples": len(t),
        **ref.to_dict(),
    }
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
