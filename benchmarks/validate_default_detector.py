"""Validate the default detector: F1 (IoU 0.3), count error and covered accuracy on
held-out simulator styles and on procedural yards at 0.3/0.5/0.75/1 m, plus counts on
the real development images. Prints a table; ``--json PATH`` also writes the figures.

    .venv/bin/python benchmarks/validate_default_detector.py --scenes 8 [--styles arid,winter]
        [--verify card|true|false]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np
from _images import read_rgb
from shapely.geometry import Polygon

from railwatch.detect.base import Detection
from railwatch.detect.default import DefaultDetector
from railwatch.detect.eval import match, without_matches
from railwatch.detect.geojson import box_from_polygon
from railwatch.imagery.scale import estimate_gsd_from_rails

REAL = Path("/work/shared/data/real")
GSDS = (0.3, 0.5, 0.75, 1.0)


def run_detector(det: DefaultDetector, image: np.ndarray, gsd: float) -> list[Detection]:
    """Tiled through the framework when it is there, else the whole image at once."""
    try:
        from railwatch.detect.api import detect_array
    except ImportError:
        return det.detect(image, gsd)
    return detect_array(image, gsd, detector=det)


def _truth(poly: np.ndarray, cls: str, covered: bool) -> Detection:
    """A true car (four corners in pixels) as a detection, for the product's matcher."""
    return Detection(box=box_from_polygon(Polygon(poly)), cls=cls, covered=covered)


Scene = tuple[np.ndarray, list[Detection], list[Detection]]


def sim_scenes(n: int, gsd: float, styles: tuple[str, ...] | None, seed0: int) -> Iterator[Scene]:
    from railwatch import sim

    for k in range(n):
        params = sim.random_params(seed0 + k, gsd, styles=styles)
        scene = sim.render_scene(params)
        truth: list[Detection] = []
        hidden: list[Detection] = []
        for t in scene.truth:
            poly = np.asarray(t.polygon_px.exterior.coords)[:4]
            visible = t.clear_fraction >= 0.6 and t.valid_fraction >= 0.6
            (truth if visible else hidden).append(_truth(poly, t.cls, bool(t.covered)))
        yield np.ascontiguousarray(np.asarray(scene.image)[..., :3]), truth, hidden


def synth_scenes(n: int, gsd: float, seed0: int) -> Iterator[Scene]:
    from railwatch.detect.model_synth import draw_yard

    for k in range(n):
        rng = np.random.default_rng(10_000 + seed0 + k)
        img, cars = draw_yard(rng, 300.0, gsd / 2)
        m = round(300.0 / gsd)
        img = cv2.resize(img, (m, m), interpolation=cv2.INTER_AREA)
        truth = []
        for c in cars:
            a = np.deg2rad(c.angle)
            u = np.array([np.cos(a), np.sin(a)]) * c.length / 2
            v = np.array([-np.sin(a), np.cos(a)]) * c.width / 2
            ctr = np.array([c.cx, c.cy])
            poly = np.stack([ctr - u - v, ctr + u - v, ctr + u + v, ctr - u + v]) / gsd
            if (poly >= 0).all() and (poly < m).all():
                truth.append(_truth(poly, c.cls, c.covered))
        yield img, truth, []


def score_set(det: DefaultDetector, scenes: Iterable[Scene], gsd: float) -> dict[str, float]:
    tp = fp = fn = cov_ok = matched = 0
    errs = []
    t0 = time.time()
    mp = 0.0
    for img, truth, hidden in scenes:
        h, w = img.shape[:2]
        dets = run_detector(det, img, gsd)
        # cars under opaque cloud or outside the data: neither hits nor misses
        dets = without_matches(dets, hidden)
        # ignore detections whose centre is within 8 m of the border (cars cut there)
        mpx = 8.0 / gsd
        dets = [d for d in dets if mpx <= d.box.cx <= w - mpx and mpx <= d.box.cy <= h - mpx]
        truth_in = [t for t in truth if mpx <= t.box.cx <= w - mpx and mpx <= t.box.cy <= h - mpx]
        m = match(truth_in, dets, 0.3)
        tp, fp, fn, matched = tp + m.tp, fp + m.fp, fn + m.fn, matched + m.tp
        cov_ok += sum(truth_in[a].covered == dets[b].covered for a, b, _ in m.pairs)
        if truth_in:
            errs.append(abs(len(dets) - len(truth_in)) / len(truth_in))
        mp += h * w / 1e6
    prec = tp / max(tp + fp, 1)
    rec = tp / max(tp + fn, 1)
    return {
        "gsd": gsd,
        "precision": prec,
        "recall": rec,
        "f1": 2 * prec * rec / max(prec + rec, 1e-9),
        "count_mape": float(np.mean(errs)) if errs else float("nan"),
        "covered_acc": cov_ok / max(matched, 1),
        "cars": tp + fn,
        "mp_per_s": mp / max(time.time() - t0, 1e-9),
    }


def real_counts(det: DefaultDetector) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    mz = REAL / "muttenz_10cm.png"
    if mz.is_file():
        img = read_rgb(mz)
        for g in (0.3, 0.5, 1.0):
            n = round(img.shape[1] * 0.1 / g)
            small = cv2.resize(img, (n, n), interpolation=cv2.INTER_AREA)
            dets = run_detector(det, small, g)
            rows.append(
                {"image": f"muttenz@{g}m", "count": len(dets), "truth": "23 (21±3 + 2 loco)"}
            )
    cp = REAL / "china_freight_panel.png"
    if cp.is_file():
        img = read_rgb(cp)
        # its README says 0.8-1.0 m; its rails show about 0.235 m (docs/detection.md)
        scale = estimate_gsd_from_rails(img)
        if scale.measured and scale.gsd is not None:
            g = round(float(scale.gsd), 3)
            dets = run_detector(det, img, g)
            rows.append({"image": f"china_panel@{g}m", "count": len(dets), "truth": "6±2"})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenes", type=int, default=6, help="scenes per resolution and source")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--styles", default=None, help="held-out simulator styles, comma separated")
    ap.add_argument("--seed", type=int, default=900_000)
    ap.add_argument("--json", default=None)
    ap.add_argument(
        "--verify",
        choices=("card", "true", "false"),
        default="card",
        help="the second-stage verifier (detect.verify): as the card says, on or off",
    )
    args = ap.parse_args()
    verify = None if args.verify == "card" else args.verify == "true"
    det = DefaultDetector(args.weights, verify=verify)
    print(f"detector {det.version}")
    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    from railwatch.detect.train import sim_available

    sets: list[tuple[str, object]] = []
    for g in GSDS:
        sets.append((f"synth@{g}", score_set(det, synth_scenes(args.scenes, g, args.seed), g)))
        if sim_available():
            styles = tuple(args.styles.split(",")) if args.styles else None
            sets.append(
                (f"sim@{g}", score_set(det, sim_scenes(args.scenes, g, styles, args.seed), g))
            )
    print(f"{'set':<14}{'P':>6}{'R':>6}{'F1':>6}{'cntErr':>8}{'covAcc':>8}{'cars':>6}{'MP/s':>7}")
    for name, r in sets:
        assert isinstance(r, dict)
        print(
            f"{name:<14}{r['precision']:6.3f}{r['recall']:6.3f}{r['f1']:6.3f}"
            f"{r['count_mape']:8.3f}{r['covered_acc']:8.3f}{r['cars']:6d}{r['mp_per_s']:7.1f}"
        )
    real = real_counts(det)
    for row in real:
        print(f"{row['image']:<20} count {row['count']:>3}  (by eye: {row['truth']})")
    results["sets"] = dict(sets)
    results["real"] = real
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
