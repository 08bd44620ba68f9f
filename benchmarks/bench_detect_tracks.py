"""``railwatch detect --tracks`` at 0.3-1 m: each scene detected without and with its own
track centrelines (session 44, 2026-12-07).

Scenes are drawn as the accuracy benchmark draws its 0.3-1 m scenes
(:func:`railwatch.sim.params.random_params`), from development seeds (9_100_000 on, never
the benchmark's), with cloud and haze removed so that every car is visible; each is
written as ``railwatch simulate`` writes it (the image, ``NAME.truth.geojson`` and
``NAME.tracks.geojson``) and read by :func:`railwatch.detect.api.detect_file` without
and with ``tracks``. Boxes are matched one to one to the truth at IoU 0.3
(:func:`railwatch.detect.eval.match`, in the image's CRS).

    python benchmarks/bench_detect_tracks.py --n 40 --out /tmp/tracks_scenes
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from shapely.geometry import Polygon, shape

from railwatch.detect.api import detect_file
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.eval import match
from railwatch.detect.registry import get_detector
from railwatch.sim.io import write_scene
from railwatch.sim.params import random_params
from railwatch.sim.scene import render_scene
from railwatch.sites import load_tracks


def _box(poly: Polygon) -> Detection:
    """A truth polygon as a detection (its minimum rotated rectangle)."""
    import math

    rect = poly.minimum_rotated_rectangle
    xs, ys = rect.exterior.coords.xy
    e1 = (xs[1] - xs[0], ys[1] - ys[0])
    e2 = (xs[2] - xs[1], ys[2] - ys[1])
    a, b = math.hypot(*e1), math.hypot(*e2)
    long_edge = e1 if a >= b else e2
    angle = math.degrees(math.atan2(long_edge[1], long_edge[0]))
    c = rect.centroid
    return Detection(OrientedBox(c.x, c.y, max(a, b), min(a, b), angle))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--start", type=int, default=9_100_000)
    ap.add_argument("--out", type=Path, required=True, help="scene folder (kept, reused)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    det = get_detector("default")
    totals = {"without": [0, 0], "with": [0, 0]}  # hits, boxes
    cars = 0
    print("| seed | gsd | cars | boxes / hits without | boxes / hits with | left out |")
    print("|---|---|---|---|---|---|")
    for k in range(args.start, args.start + args.n):
        name = f"s{k}"
        if not (args.out / f"{name}.tif").exists():
            params = random_params(k).with_(cloud_cover=0.0, haze=0.0)
            write_scene(render_scene(params), args.out, name)
        truth_fc = json.loads((args.out / f"{name}.truth.geojson").read_text())
        truth = [_box(shape(f["geometry"])) for f in truth_fc["features"]]
        tracks = load_tracks(args.out / f"{name}.tracks.geojson", what="--tracks")
        cars += len(truth)
        cells = []
        left_out = None
        for key, lines in (("without", None), ("with", tracks)):
            res = detect_file(args.out / f"{name}.tif", detector=det, tracks=lines)
            hits = match(truth, res.detections, 0.3).tp
            totals[key][0] += hits
            totals[key][1] += res.total
            cells.append(f"{res.total} / {hits}")
            left_out = res.off_track if lines is not None else left_out
        gsd = truth_fc.get("gsd", "")
        print(f"| {k} | {gsd} | {len(truth)} | {cells[0]} | {cells[1]} | {left_out} |")
    print()
    print("| | hits | false boxes | precision | recall | F1 @0.3 |")
    print("|---|---|---|---|---|---|")
    for key, (hits, boxes) in totals.items():
        p, r = hits / max(boxes, 1), hits / max(cars, 1)
        f1 = 2 * p * r / max(p + r, 1e-12)
        print(f"| {key} --tracks | {hits} | {boxes - hits} | {p:.3f} | {r:.3f} | {f1:.3f} |")
    print(f"\n{args.n} scenes, {cars} cars")


if __name__ == "__main__":
    main()
