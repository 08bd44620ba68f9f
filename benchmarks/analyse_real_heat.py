"""The heat the default detector gives real cars, and what changes it (2026-12-07,
session 47).

``analyse_view_agreement.py`` found the network's heat on Muttenz's vehicles at the
detection threshold (medians 0.46-0.47) against 0.53-0.58 on renders. Two questions:

1. Is it the label patches? Half of the 18 labelled vehicles lie partly under the blurred
   patches that replaced the published copy's labels (``bench_real_boxes.
   inpainted_patches``). The plain view's heat at each car's centre is given for the
   vehicles with under 5 % of their box on a patch ("clean") and the others, at 0.3,
   0.5, 0.75 and 1 m.
2. Is it the image's tone? The same heat on Muttenz at 0.3 / 0.5 m and on development
   renders (k = ``--k-start`` on, ``--n`` of them at 0.3 and 0.5 m) after global changes:
   contrast, gamma, saturation, Gaussian blur, unsharp masking, noise, darkening.

    python benchmarks/analyse_real_heat.py [--k-start 1000] [--n 8] [--real DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _images import read_rgb
from analyse_view_agreement import car_heats
from bench_detect_accuracy import GSDS, scene_params, visible_truth
from bench_real_boxes import (
    IMAGE,
    LABEL_GSD,
    LABELS,
    REAL_DEFAULT,
    downsample,
    inpainted_patches,
    load_labels,
    share_on,
)

from railwatch.detect.default import DefaultDetector
from railwatch.detect.registry import get_detector
from railwatch.sim.scene import render_scene

Transform = Callable[[np.ndarray], np.ndarray]
#: A car with at least this share of its box on a label patch is "patched".
PATCHED = 0.05


def _blur(sigma: float) -> Transform:
    return lambda im: cv2.GaussianBlur(im.astype(np.float32), (0, 0), sigma)


def _sharpen(amount: float) -> Transform:
    def f(im: np.ndarray) -> np.ndarray:
        im = im.astype(np.float32)
        return im + amount * (im - cv2.GaussianBlur(im, (0, 0), 1.0))

    return f


def _saturation(a: float) -> Transform:
    def f(im: np.ndarray) -> np.ndarray:
        im = im.astype(np.float32)
        grey = im.mean(axis=2, keepdims=True)
        return grey + a * (im - grey)

    return f


def _gamma(g: float) -> Transform:
    return lambda im: 255.0 * (np.clip(im.astype(np.float32), 0, 255) / 255.0) ** g


def _contrast(a: float) -> Transform:
    return lambda im: (im.astype(np.float32) - im.mean()) * a + im.mean()


def _noise(sd: float) -> Transform:
    rng = np.random.default_rng(0)
    return lambda im: im.astype(np.float32) + rng.normal(0, sd, im.shape)


TRANSFORMS: dict[str, Transform] = {
    "none": lambda im: im,
    "contrast x0.6": _contrast(0.6),
    "contrast x1.5": _contrast(1.5),
    "gamma 0.7": _gamma(0.7),
    "gamma 1.4": _gamma(1.4),
    "saturation 0": _saturation(0.0),
    "saturation 1.6": _saturation(1.6),
    "blur 0.7 px": _blur(0.7),
    "blur 1.2 px": _blur(1.2),
    "unsharp 0.5": _sharpen(0.5),
    "unsharp 1.0": _sharpen(1.0),
    "noise 6": _noise(6.0),
    "darker x0.6": lambda im: im.astype(np.float32) * 0.6,
}


def _as_image(x: np.ndarray, like: np.ndarray) -> np.ndarray:
    return np.clip(x, 0, 255).astype(like.dtype)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--k-start", type=int, default=1000)
    ap.add_argument("--n", type=int, default=8, help="renders per resolution")
    ap.add_argument("--real", type=Path, default=REAL_DEFAULT)
    args = ap.parse_args()
    det = get_detector("default")
    assert isinstance(det, DefaultDetector)
    if not (args.real / IMAGE).is_file():
        raise SystemExit(f"{args.real / IMAGE} not found: give --real DIR")
    img = read_rgb(args.real / IMAGE)
    truth, _ = load_labels(LABELS)
    patches = inpainted_patches(args.real)
    if patches is None:
        raise SystemExit("the published copy is needed to find the label patches")
    patched = np.array([share_on(patches, t) >= PATCHED for t in truth])
    print(f"detector {det.version}, threshold {det.threshold}; {patched.sum()} of {len(truth)}")
    print("vehicles with 5 % or more of their box on a label patch\n")
    print("| Muttenz | clean: n, median heat, found | patched: n, median heat, found |")
    print("|---|---|---|")
    for gsd in (0.3, 0.5, 0.75, 1.0):
        f = LABEL_GSD / gsd
        centres = [(t.box.cx * f, t.box.cy * f) for t in truth]
        h = car_heats(det, downsample(img, gsd), gsd, centres)[:, 0]
        cells = [
            f"{int(m.sum())}, {np.median(h[m]):.3f}, {np.mean(h[m] >= det.threshold):.2f}"
            for m in (~patched, patched)
        ]
        print(f"| {gsd} m | {cells[0]} | {cells[1]} |")
    sets: list[tuple[str, np.ndarray, float, list[tuple[float, float]], np.ndarray | None]] = []
    for gsd in (0.3, 0.5):
        f = LABEL_GSD / gsd
        centres = [(t.box.cx * f, t.box.cy * f) for t in truth]
        sets.append((f"Muttenz {gsd} m", downsample(img, gsd), gsd, centres, None))
    for gsd in (0.3, 0.5):
        ks = [
            k for k in range(args.k_start, args.k_start + 40 * args.n) if GSDS[k % len(GSDS)] == gsd
        ]
        for k in ks[: args.n]:
            sc = render_scene(scene_params(k, gsd))
            centres = [(t.box.cx, t.box.cy) for t in visible_truth(sc)]
            sets.append((f"renders {gsd} m", sc.image, gsd, centres, sc.valid))
    names = list(dict.fromkeys(s[0] for s in sets))
    print("\nMedian plain-view heat at the true cars (share found at the threshold)\n")
    print("| change | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, tf in TRANSFORMS.items():
        heats: dict[str, list[np.ndarray]] = {n: [] for n in names}
        for name, im, gsd, centres, valid in sets:
            heats[name].append(car_heats(det, _as_image(tf(im), im), gsd, centres, valid)[:, 0])
        cells = []
        for name in names:
            h = np.concatenate(heats[name])
            cells.append(f"{np.median(h):.3f} ({np.mean(h >= det.threshold):.2f})")
        print(f"| {label} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
