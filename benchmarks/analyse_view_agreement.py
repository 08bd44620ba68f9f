"""How far the default detector's eight views agree at true cars: renders against the
real yard (2026-12-07, session 46).

The detector's count on real images depends on their orientation ("Turned and
resampled" in docs/detection.md). For every true car this reads the heat each of the
network's eight views (quarter turns and mirrors, ``DefaultDetector.view_maps``) gives
at its centre (the highest of the 3 x 3 output cells around it) and reports, per set:
the plain view's median heat, the spread between the views (highest minus lowest:
median and mean), the share of cars whose views straddle the detection threshold (one
below, one at or above), and the share found by the plain view, by any view and by the
views' mean. Sets: the development scenes of ``analyse_detection_errors.py`` (k =
``--k-start`` on, ``--n`` scenes, by band; never the benchmark's k < 210) and Muttenz
at 0.3, 0.5, 0.75 and 1 m (area-averaged from 0.1 m, the 18 labelled vehicles of
``benchmarks/data/muttenz_10cm.labels.geojson``; skipped without ``--real``'s image).

    python benchmarks/analyse_view_agreement.py [--detector default] [--k-start 1000]
        [--n 60] [--real ../shared/data/real] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_detect_accuracy import GSDS, scene_params, visible_truth
from bench_real_boxes import IMAGE, LABEL_GSD, LABELS, REAL_DEFAULT, downsample, load_labels

from railwatch.detect.default import DefaultDetector
from railwatch.detect.model_core import STRIDE, sigmoid
from railwatch.detect.registry import get_detector
from railwatch.sim.scene import render_scene

BANDS = {"0.3-0.5 m": (0.3, 0.4, 0.5), "0.75-1 m": (0.75, 1.0)}


def car_heats(
    det: DefaultDetector,
    image: np.ndarray,
    gsd: float,
    centres: list[tuple[float, float]],
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """(cars, 8): each view's heat at each car centre (input pixels of ``image``)."""
    maps, scale = det.view_maps(image, gsd, valid)
    heats = np.stack([sigmoid(m[0]) for m in maps])
    gh, gw = heats.shape[1:]
    rows = []
    for cx, cy in centres:
        i, j = int(cy * scale / STRIDE), int(cx * scale / STRIDE)
        a, b, c, d = max(i - 1, 0), min(i + 2, gh), max(j - 1, 0), min(j + 2, gw)
        if a < b and c < d:
            rows.append(heats[:, a:b, c:d].reshape(len(maps), -1).max(axis=1))
    return np.array(rows).reshape(-1, len(maps))


def summary(heats: np.ndarray, threshold: float) -> dict[str, Any]:
    spread = heats.max(axis=1) - heats.min(axis=1)
    straddle = (heats.min(axis=1) < threshold) & (heats.max(axis=1) >= threshold)
    return {
        "cars": len(heats),
        "plain_heat_median": round(float(np.median(heats[:, 0])), 3),
        "spread_median": round(float(np.median(spread)), 3),
        "spread_mean": round(float(spread.mean()), 3),
        "straddle": round(float(straddle.mean()), 3),
        "found_plain": round(float((heats[:, 0] >= threshold).mean()), 3),
        "found_any_view": round(float((heats.max(axis=1) >= threshold).mean()), 3),
        "found_mean_of_views": round(float((heats.mean(axis=1) >= threshold).mean()), 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--detector", default="default")
    ap.add_argument("--k-start", type=int, default=1000)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--real", type=Path, default=REAL_DEFAULT)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    det = get_detector(args.detector)
    if not isinstance(det, DefaultDetector):
        raise SystemExit(f"--detector {args.detector}: only the default detector has views")
    threshold = det.threshold
    per_band: dict[str, list[np.ndarray]] = {band: [] for band in BANDS}
    for k in range(args.k_start, args.k_start + args.n):
        gsd = GSDS[k % len(GSDS)]
        band = next((b for b, gs in BANDS.items() if gsd in gs), None)
        if band is None:
            continue
        sc = render_scene(scene_params(k, gsd))
        centres = [(t.box.cx, t.box.cy) for t in visible_truth(sc)]
        per_band[band].append(car_heats(det, sc.image, gsd, centres, sc.valid))
    rows = [
        {"set": f"renders k={args.k_start}-{args.k_start + args.n - 1}, {band}"}
        | summary(np.concatenate(h), threshold)
        for band, h in per_band.items()
        if h
    ]
    if (args.real / IMAGE).is_file():
        from _images import read_rgb

        img = read_rgb(args.real / IMAGE)
        truth, _ = load_labels(LABELS)
        for gsd in (0.3, 0.5, 0.75, 1.0):
            f = LABEL_GSD / gsd
            centres = [(t.box.cx * f, t.box.cy * f) for t in truth]
            heats = car_heats(det, downsample(img, gsd), gsd, centres)
            rows.append({"set": f"Muttenz {gsd} m"} | summary(heats, threshold))
    print(f"detector {args.detector} ({det.version}), threshold {threshold}\n")
    print(
        "| set | cars | plain view's heat (median) | views' spread (median / mean) | "
        "straddle the threshold | found: plain / any view / mean of views |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['set']} | {r['cars']} | {r['plain_heat_median']:.2f} | "
            f"{r['spread_median']:.2f} / {r['spread_mean']:.2f} | {r['straddle']:.2f} | "
            f"{r['found_plain']:.2f} / {r['found_any_view']:.2f} / {r['found_mean_of_views']:.2f} |"
        )
    if args.json is not None:
        args.json.write_text(json.dumps({"detector": args.detector, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
