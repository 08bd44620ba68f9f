"""Fit the second-stage verifier (``railwatch.detect.verify``) of the default detector.

Development scenes drawn like the accuracy benchmark's (``bench_detect_accuracy.
scene_params(k)``, resolution ``GSDS[k % 5]``), by default k = 1120–1479: never the
benchmark's own (k < 210) nor the error analysis' sets A and B (k = 1000–1119), on which
the verifier's thresholds are chosen and it is measured. Each scene runs through the
default detector's network once; every decoded peak down to ``--min-peak`` that passes
the size and valid filters is a candidate, labelled 1 when it is a visible truth car
(``verify.candidate_labels``: the candidates string support keeps matched first, one to
one at IoU 0.3, then the others, then the rest at IoU 0.1, which the across refinement
can still reach; candidates on cars the truth leaves out, ``without_hidden``, are left
out). The same from ``--drawn`` yards of the network's second source of training images
(``detect.model_synth.draw_yard``, 220 m, drawn at half the resolution and
area-averaged; resolutions 0.3, 0.4, 0.5, 0.75, 1 m in turn; seeds from
``--drawn-seed``), as ``train_refine.py`` does. Writes the verifier weights (JSON) that
the weights' card names under ``verify``.

    python benchmarks/train_verify.py [--k-start 1120] [--n 360] [--drawn 240]
        [--min-peak 0.2] [--trackside 0] [--track-detail 0] [--drawn-empty 0]
        [--out src/railwatch/detect/weights/railwatch_verify.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_detect_accuracy import GSDS, scene_params, visible_truth, without_hidden
from train_refine import drawn_scene

from railwatch.detect.base import Detection
from railwatch.detect.default import DefaultDetector
from railwatch.detect.verify import candidate_labels, features, fit
from railwatch.sim.scene import render_scene

OUT = Path(__file__).resolve().parents[1] / "src/railwatch/detect/weights/railwatch_verify.json"


def augment(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A photometric variant of ``image`` (another sensor, season or processing): gain
    per channel 0.85–1.15, gamma 0.7–1.4, contrast 0.7–1.3 about the mean, a blur of up
    to 1 pixel and noise of up to 5 grey levels. The network sees it too."""
    x = image.astype(np.float32) / 255.0
    x = x * rng.uniform(0.85, 1.15, 3).astype(np.float32)
    x = np.clip(x, 0.0, 1.0) ** np.float32(rng.uniform(0.7, 1.4))
    m = x.mean(axis=(0, 1), keepdims=True)
    x = m + (x - m) * np.float32(rng.uniform(0.7, 1.3))
    sigma = rng.uniform(0.0, 1.0)
    if sigma > 0.3:
        x = cv2.GaussianBlur(x, (0, 0), sigma)
    x = x * 255.0 + rng.normal(0.0, rng.uniform(0.0, 5.0), x.shape).astype(np.float32)
    return np.clip(x, 0, 255).astype(np.uint8)


def scene_examples(
    det: DefaultDetector,
    image: np.ndarray,
    gsd: float,
    truth: list[Detection],
    min_peak: float,
    valid: np.ndarray | None = None,
    hidden: object | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels and scores of one scene's candidates (``hidden``: the rendered
    scene, whose cars the truth leaves out are dropped from the candidates)."""
    out, scale = det.predict_maps(image, gsd, valid)
    cands, kept = det.candidates(image, gsd, out, scale, valid, low=min_peak)
    if not cands:
        return np.zeros((0, 0), np.float32), np.zeros(0), np.zeros(0)
    f = features(image, gsd, cands, kept, det.network_maps(out, scale))
    y = candidate_labels(cands, truth, kept)
    if hidden is not None:  # candidates on cars the truth leaves out: neither 1 nor 0
        keep_ids = {id(d) for d in without_hidden(hidden, cands)}  # type: ignore[arg-type]
        sel = np.array([id(d) in keep_ids for d in cands], dtype=bool)
        f, y = f[sel], y[sel]
        cands = [d for d, s in zip(cands, sel, strict=True) if s]
    return f, y, np.array([d.score for d in cands])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k-start", type=int, default=1120)
    ap.add_argument("--n", type=int, default=360)
    ap.add_argument("--drawn", type=int, default=240)
    ap.add_argument("--drawn-seed", type=int, default=770_000)
    ap.add_argument("--min-peak", type=float, default=0.2)
    ap.add_argument(
        "--trackside",
        type=float,
        default=0.0,
        help="chance that a drawn yard also gets track-side clutter (draw_yard(trackside=))",
    )
    ap.add_argument(
        "--track-detail",
        type=float,
        default=0.0,
        help="chance that a drawn yard's track is drawn in detail (draw_yard(track_detail=))",
    )
    ap.add_argument(
        "--drawn-empty",
        type=float,
        default=0.0,
        help="share of the drawn yards whose tracks stay empty, with track-side clutter "
        "(negatives only)",
    )
    ap.add_argument("--hidden", type=int, default=24)
    ap.add_argument("--weight-decay", type=float, default=1e-3)
    ap.add_argument(
        "--augment",
        type=float,
        default=0.0,
        help="share of scenes also used as a photometric variant (augment())",
    )
    ap.add_argument(
        "--cache",
        type=Path,
        help="keep the simulator scenes' examples in this .npz and reuse them (the drawn "
        "yards are always drawn)",
    )
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if args.k_start < 210:
        print("warning: k < 210 are the benchmark's own scenes", file=sys.stderr)
    if args.k_start < 1120 and args.k_start + args.n > 1000:
        print("warning: k 1000-1119 are the error analysis' sets A and B", file=sys.stderr)
    t0 = time.perf_counter()
    det = DefaultDetector(verify=False)

    def examples_of(
        scenes: Iterator[tuple[np.ndarray, float, list[Detection], Any]], seed: int
    ) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)  # photometric variants (--augment)
        xs, ys = [np.zeros((0, 0), np.float32)], [np.zeros(0)]
        for img, gsd, truth, sc in scenes:
            valid = None if sc is None else sc.valid
            variants = [img]
            if rng.random() < args.augment:
                variants.append(augment(img, rng))
            for im in variants:
                f, lab, _ = scene_examples(det, im, gsd, truth, args.min_peak, valid, sc)
                if len(lab):
                    xs.append(f)
                    ys.append(lab)
        return np.concatenate([v for v in xs if v.size] or xs), np.concatenate(ys)

    def simulator() -> Iterator[tuple[np.ndarray, float, list[Detection], Any]]:
        for k in range(args.k_start, args.k_start + args.n):
            gsd = GSDS[k % len(GSDS)]
            sc = render_scene(scene_params(k, gsd))
            yield sc.image, gsd, visible_truth(sc), sc

    def drawn() -> Iterator[tuple[np.ndarray, float, list[Detection], Any]]:
        n_empty = round(args.drawn_empty * args.drawn)
        for i in range(args.drawn):
            gsd = GSDS[i % len(GSDS)]
            empty = i < n_empty
            img, truth = drawn_scene(
                args.drawn_seed + i,
                gsd,
                trackside=1.0 if empty else args.trackside,
                track_detail=args.track_detail,
                occupied=not empty,
            )
            yield img, gsd, truth, None

    if args.cache is not None and args.cache.is_file():
        z = np.load(args.cache)
        x_sim, y_sim = z["x"], z["y"]
        print(f"simulator examples from {args.cache}")
    else:
        x_sim, y_sim = examples_of(simulator(), args.drawn_seed)
        if args.cache is not None:
            np.savez_compressed(args.cache, x=x_sim, y=y_sim)
    x_dr, y_dr = examples_of(drawn(), args.drawn_seed + 1)
    n_sim = len(y_sim)
    x = np.concatenate([v for v in (x_sim, x_dr) if v.size])
    y = np.concatenate([y_sim, y_dr])
    print(
        f"{len(y)} candidates ({int(y.sum())} cars): {n_sim} from {args.n} simulator "
        f"scenes, {len(y) - n_sim} from {args.drawn} drawn yards "
        f"({time.perf_counter() - t0:.0f} s)"
    )
    ver = fit(x, y, hidden=args.hidden, weight_decay=args.weight_decay)
    p = ver.probabilities(x)
    print(
        f"training log loss {-np.mean(y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9)):.3f}"
    )
    data = {
        "source": f"python benchmarks/train_verify.py --k-start {args.k_start} --n {args.n} "
        f"--drawn {args.drawn} --drawn-seed {args.drawn_seed} --min-peak {args.min_peak} "
        f"--trackside {args.trackside} --track-detail {args.track_detail} "
        f"--drawn-empty {args.drawn_empty} "
        f"--augment {args.augment} "
        f"--hidden {args.hidden} --weight-decay {args.weight_decay}",
        "examples": len(y),
        "cars": int(y.sum()),
        **ver.to_dict(),
    }
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
