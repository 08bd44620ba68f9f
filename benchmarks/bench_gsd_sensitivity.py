"""How much a wrong hand-given ground sample distance changes the count.

A PNG or JPEG carries no scale: ``railwatch detect IMG.png --gsd G`` (``detect_file(png,
gsd=G)``) takes the user's G. This renders simulator scenes (``railwatch.sim``, ``--cars``
asked, 40 by default, fewer where the yard holds fewer) at 0.3, 0.5 and 0.75 m per pixel,
writes each as a PNG (no georeference, as a screenshot), detects it with the default
detector with the gsd given at 0.7, 0.8, 0.9, 1.0, 1.1, 1.2 and 1.4 times the truth, and
prints, per true gsd and factor, the ratio of the count to the true number of cars: mean
and range over the scenes. The scale check against the rails is switched off here
(``check_scale=False``): only the count is measured.

    nice -n 15 .venv/bin/python benchmarks/bench_gsd_sensitivity.py [--scenes 8] [--cars 40]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

GSDS = (0.3, 0.5, 0.75)
FACTORS = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4)
FIRST_SEED = 4


def _scene_png(gsd: float, seed: int, cars: int, folder: Path) -> tuple[Path, int]:
    """A rendered scene written as a PNG, and its true number of cars."""
    from railwatch.sim import SceneParams, render_scene

    side = min(round(600 / gsd), 1200)
    scene = render_scene(SceneParams(seed=seed, gsd=gsd, size_px=(side, side), n_cars=cars))
    path = folder / f"sim_{gsd:g}_{seed}.png"
    cv2.imwrite(str(path), cv2.cvtColor(np.asarray(scene.image), cv2.COLOR_RGB2BGR))
    return path, len(scene.truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=8, help="scenes per true gsd")
    parser.add_argument("--cars", type=int, default=40, help="cars asked per scene")
    args = parser.parse_args()

    from railwatch.detect.api import detect_file
    from railwatch.detect.registry import get_detector

    det = get_detector("default")
    start = time.perf_counter()
    ratios: dict[tuple[float, float], list[float]] = {}
    truths: dict[float, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for gsd in GSDS:
            for seed in range(FIRST_SEED, FIRST_SEED + args.scenes):
                png, truth = _scene_png(gsd, seed, args.cars, Path(tmp))
                truths.setdefault(gsd, []).append(truth)
                for f in FACTORS:
                    res = detect_file(png, gsd=gsd * f, detector=det, check_scale=False)
                    ratios.setdefault((gsd, f), []).append(res.total / max(truth, 1))
    took = time.perf_counter() - start

    print(
        f"# count / truth, gsd given as factor x truth; {args.scenes} simulator scenes per "
        f"true gsd (seeds {FIRST_SEED}-{FIRST_SEED + args.scenes - 1}, {args.cars} cars asked), "
        "PNG, default detector"
    )
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{took:.0f} s in all; true cars per scene: "
        + "; ".join(f"{g:g} m {min(t)}-{max(t)}" for g, t in truths.items())
    )
    print()
    print("| true gsd | " + " | ".join(f"given {f:g}x" for f in FACTORS) + " |")
    print("|---|" + "---|" * len(FACTORS))
    for gsd in GSDS:
        cells = []
        for f in FACTORS:
            r = ratios[(gsd, f)]
            cells.append(f"{np.mean(r):.2f} ({min(r):.2f}-{max(r):.2f})")
        print(f"| {gsd:g} m | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
