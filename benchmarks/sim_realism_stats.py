"""Compare simple image statistics of simulated yards with real overhead images.

    .venv/bin/python benchmarks/sim_realism_stats.py [REAL_DIR]

REAL_DIR (default ../shared/data/real) holds ``muttenz_10cm.png`` (0.1 m aerial,
resampled here by area averaging to 0.3/0.5/1 m). Statistics on luminance: mean,
standard deviation, mean Sobel gradient magnitude ("grad", texture and edges), share
of dark pixels (< 50, mostly shadows); and mean saturation (max-min)/max.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from _images import read_rgb

from railwatch.sim import random_params, render_scene, tumangang


def stats(img: np.ndarray) -> dict[str, float]:
    f = img.astype(np.float32)
    lum = f.mean(axis=2)
    sat = (f.max(axis=2) - f.min(axis=2)) / np.maximum(f.max(axis=2), 1.0)
    gx = cv2.Sobel(lum, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(lum, cv2.CV_32F, 0, 1)
    return {
        "mean": round(float(lum.mean()), 1),
        "std": round(float(lum.std()), 1),
        "sat": round(float(sat.mean()), 3),
        "grad": round(float(np.hypot(gx, gy).mean()), 1),
        "dark": round(float((lum < 50).mean()), 3),
    }


def main() -> int:
    real_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/real")
    real = real_dir / "muttenz_10cm.png"
    if real.exists():
        a = read_rgb(real)
        for gsd in (0.3, 0.5, 1.0):
            k = 0.1 / gsd
            print(
                f"real Muttenz {gsd} m",
                stats(cv2.resize(a, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)),
            )
    else:
        print(f"({real} not found: real statistics skipped)")
    sc = tumangang()
    i = next(k for k, v in enumerate(sc.visits) if v.when.date().isoformat() == "2024-06-17")
    for gsd in (0.3, 0.5, 1.0):
        p = sc.params(i).with_(gsd=gsd, size_px=(round(900 / gsd), round(540 / gsd)))
        s = render_scene(p)
        ys, xs = np.nonzero(s.labels > 0)
        cy, cx, r = int(np.median(ys)), int(np.median(xs)), int(50 / gsd)
        print(f"sim Tumangang yard {gsd} m", stats(s.image[cy - r : cy + r, cx - r : cx + r]))
    vals = [
        stats(render_scene(random_params(seed, gsd=0.5, size_px=(600, 600))).image)
        for seed in range(8)
    ]
    print(
        "sim random scenes 0.5 m (mean of 8)",
        {k: round(float(np.mean([v[k] for v in vals])), 3) for k in vals[0]},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
