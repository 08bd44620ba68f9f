"""Error anatomy of the default detector: where the F1 (IoU 0.3) is lost, by band.

Development scenes drawn like the benchmark's (``bench_detect_accuracy.scene_params``,
resolution ``GSDS[k % 5]``) but never its own (``k`` < 210): by default k = 1000–1059.
Each scene runs through ``detect_array`` with the named detector; truth, hidden cars
and usable scenes as in the benchmark (``visible_truth``, ``without_hidden``, at least
80 % clear). Matching at IoU 0.3 (``detect.eval.match``). Then:

* each **missed** visible car is put in the first class that applies:
  (a) ``loc``: an unmatched detection overlaps it with IoU 0.1–0.3 (localisation; its
  centre offset along and across the car's axis, length ratio and angle error are
  recorded, and which single correction would bring the IoU to 0.3);
  (a2) ``box-on-neighbour``: only a detection matched to another car overlaps it
  (IoU >= 0.1);
  (b) ``weak-peak``: a heat-map peak of 0.3–threshold within 4 m of its centre that
  string support did not keep;
  (c) ``filtered``: a peak >= 0.3 whose box the size filter or the valid mask dropped;
  (e) ``kept-elsewhere``: a kept peak within 4 m whose box overlaps the car by less
  than 0.1 or was dropped as a hidden car's;
  (d) ``no-peak``: no peak >= 0.3 within 4 m (binned by the heat at the car's centre);
  with the car's condition: local haze, scene blur and noise, share inside the data and
  clear, trees over it, its place in a string of truth cars (isolated, string end, inside
  a string; string length), class and covered;
* each **false** detection: ``loc-partner`` (overlaps a missed car with IoU 0.1–0.3, or
  is the displaced box of a ``kept-elsewhere`` miss), ``duplicate`` (a second box on a
  car already found), ``hidden-car`` (on a car the truth leaves out: less than half
  clear or inside the data), ``beside-car`` (centre within half a length along and 5 m
  across a visible car, no overlap), or ``clutter`` with what lies under its centre in
  the scene's layout (shed/house/container/truck/trailer/tank box, empty track within
  2.5 m of a centreline, tree or mast, other ground);
* the peaks decoded (>= 0.3) but not output, by score and by why string support left
  them out, with the share that lie on a visible car (what a lower threshold would add).

A missed car's "towards the footprint" and "towards its shadow" offsets come from the
scene's view and sun geometry (``sim.render.make_light``) and the car's height.
``--option key=value`` builds ``DefaultDetector(key=value)`` instead of ``--detector``
(``a,b`` gives a tuple, e.g. ``--option string_thresholds=0.3,0.3``; ``--option
refine=false`` runs v2.5 without its across-track refinement, i.e. as v2.4; ``--option
verify=true`` with the second-stage verifier, ``detect.verify``).

    python benchmarks/analyse_detection_errors.py [--k-start 1000] [--n 60]
        [--detector default] [--option key=value] [--json out.json]

Prints a compact markdown table per band (0.3–0.5 m, 0.75–1 m).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import LineString, Point, Polygon

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_detect_accuracy import (
    GSDS,
    scene_params,
    visible_truth,
    without_hidden,
)

from railwatch.detect.api import _alignment, _pad_tile, _tile_size, detect_array
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.default import DefaultDetector
from railwatch.detect.eval import iou_pairs, match
from railwatch.detect.geojson import box_from_polygon
from railwatch.detect.model_core import decode
from railwatch.detect.registry import get_detector
from railwatch.detect.strings import string_neighbours, support_strings
from railwatch.detect.tiling import plan_tiles
from railwatch.sim.conditions import MASK_CLEAR, MASK_SNOW
from railwatch.sim.render import Projection, make_light
from railwatch.sim.scene import RenderedScene, render_scene, scene_cars, scene_yard

IOU = 0.3
LOC_MIN = 0.1
PEAK_RADIUS_M = 4.0
LOW_PEAK = 0.3
MISS_KINDS = (
    "loc",
    "box-on-neighbour",
    "weak-peak",
    "filtered",
    "merged-away",
    "kept-elsewhere",
    "no-peak",
)
FP_KINDS = ("loc-partner", "duplicate", "beside-car", "hidden-car", "clutter")


def band_of(gsd: float) -> str:
    return "0.3–0.5 m" if gsd <= 0.5 else "0.75–1 m"


def _poly(b: OrientedBox) -> Polygon:
    return Polygon(b.corners())


def _iou(a: OrientedBox, b: OrientedBox) -> float:
    pa, pb = _poly(a), _poly(b)
    inter = pa.intersection(pb).area
    union = pa.area + pb.area - inter
    return float(inter / union) if union > 0 else 0.0


def localisation(truth: OrientedBox, pred: OrientedBox, gsd: float) -> dict[str, Any]:
    """How ``pred`` is off ``truth`` (metres, along/across the truth's axis), and which
    single correction of the prediction would bring the IoU to the match threshold."""
    a = np.deg2rad(truth.angle)
    u = np.array([np.cos(a), np.sin(a)])
    v = np.array([-np.sin(a), np.cos(a)])
    d = np.array([pred.cx - truth.cx, pred.cy - truth.cy])
    along, across = float(d @ u) * gsd, float(d @ v) * gsd
    dang = float((pred.angle - truth.angle + 90.0) % 180.0 - 90.0)
    ratio = pred.length / truth.length if truth.length > 0 else float("nan")
    fixes = {
        "along": OrientedBox(
            pred.cx - along / gsd * u[0],
            pred.cy - along / gsd * u[1],
            pred.length,
            pred.width,
            pred.angle,
        ),
        "across": OrientedBox(
            pred.cx - across / gsd * v[0],
            pred.cy - across / gsd * v[1],
            pred.length,
            pred.width,
            pred.angle,
        ),
        "length": OrientedBox(pred.cx, pred.cy, truth.length, pred.width, pred.angle),
        "angle": OrientedBox(pred.cx, pred.cy, pred.length, pred.width, truth.angle),
        "width": OrientedBox(pred.cx, pred.cy, pred.length, truth.width, pred.angle),
    }
    gains = {k: _iou(truth, b) for k, b in fixes.items()}
    best = max(gains, key=lambda k: gains[k])
    return {
        "iou": _iou(truth, pred),
        "along_m": along,
        "across_m": across,
        "length_ratio": ratio,
        "angle_err_deg": dang,
        "fixed_by": best if gains[best] >= IOU else "none-alone",
        "iou_fixed": gains,
    }


def _string_info(truth_boxes: Sequence[OrientedBox], gsd: float) -> list[tuple[str, int]]:
    """For each truth car: its place in a string of truth cars (isolated, end, inner)
    and the length of that string (connected neighbours)."""
    dets = [Detection(b) for b in truth_boxes]
    nb = string_neighbours(dets, gsd)
    parent = list(range(len(dets)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, ns in enumerate(nb):
        for j, _ in ns:
            parent[find(i)] = find(j)
    size = Counter(find(i) for i in range(len(dets)))
    out = []
    for i, ns in enumerate(nb):
        sides = {ahead for _, ahead in ns}
        place = "isolated" if not sides else ("end" if len(sides) == 1 else "inner")
        out.append((place, size[find(i)]))
    return out


def _layout(sc: RenderedScene) -> dict[str, Any]:
    """The scene's static layout in pixel coordinates: boxes, track lines, trees, masts."""
    p = sc.params
    w, h = p.size_px
    dx, dy = p.misregistration_m
    proj = Projection(w * p.gsd, h * p.gsd, p.gsd, dx, dy)
    yard = scene_yard(p)
    boxes = [(Polygon(proj.px(b.corners())), b.kind) for b in yard.boxes]
    tracks = [LineString(proj.px(t.line)) for t in yard.tracks if len(t.line) >= 2]
    trees = [Point(*proj.px(np.array([x, y]))[0]).buffer(r / p.gsd) for x, y, r in yard.trees]
    masts = [Point(*proj.px(np.array([x, y]))[0]).buffer(1.0 / p.gsd) for x, y, _ in yard.masts]
    return {"boxes": boxes, "tracks": tracks, "trees": trees, "masts": masts}


def _under(lay: dict[str, Any], pt: Point, gsd: float) -> str:
    for poly, kind in lay["boxes"]:
        if poly.contains(pt):
            return f"box:{kind}"
    if any(t.distance(pt) * gsd <= 2.5 for t in lay["tracks"]):
        return "empty track"
    if any(t.contains(pt) for t in lay["trees"]):
        return "tree"
    if any(m.contains(pt) for m in lay["masts"]):
        return "mast"
    return "other ground"


def _beside(car: OrientedBox, box: OrientedBox, gsd: float) -> bool:
    """``box``'s centre lies beside ``car``: within half its length along its axis and
    5 m across (a box displaced across the track, e.g. onto the car's shadow)."""
    a = np.deg2rad(car.angle)
    off = np.array([box.cx - car.cx, box.cy - car.cy])
    along = abs(float(off @ np.array([np.cos(a), np.sin(a)])))
    across = abs(float(off @ np.array([-np.sin(a), np.cos(a)]))) * gsd
    return along <= car.length / 2.0 and across <= 5.0


SIDE_BINS = ((0.0, 2.0), (2.0, 3.0), (3.0, 3.5), (3.5, 4.0), (4.0, 5.5))


def _side_pairs(
    dets: Sequence[Detection], hit: dict[int, int], gsd: float
) -> list[tuple[float, str]]:
    """Pairs of parallel boxes (axes within 15 degrees) side by side (centres less than
    half the longer length apart along the stronger's axis, 5.5 m across): the across
    distance (m) and whether the weaker and the stronger box are true (T) or false (F),
    e.g. ``"F<T"`` (a false box beside a true, stronger one)."""
    out = []
    for i in range(len(dets)):
        for j in range(i + 1, len(dets)):
            a, b = (i, j) if dets[i].score >= dets[j].score else (j, i)
            ba, bb = dets[a].box, dets[b].box
            if abs((ba.angle - bb.angle + 90.0) % 180.0 - 90.0) > 15.0:
                continue
            t = np.deg2rad(ba.angle)
            off = np.array([bb.cx - ba.cx, bb.cy - ba.cy])
            along = abs(float(off @ np.array([np.cos(t), np.sin(t)])))
            across = abs(float(off @ np.array([-np.sin(t), np.cos(t)]))) * gsd
            if along > max(ba.length, bb.length) / 2.0 or across > 5.5:
                continue
            out.append((across, f"{'T' if b in hit else 'F'}<{'T' if a in hit else 'F'}"))
    return out


def _why_weak(pk: dict[str, Any], final: Sequence[Detection], gsd: float, det: Any) -> str:
    """Why string support did not keep the peak ``pk``: its kept string neighbours
    (sides), or a kept car near it that fails the string geometry test."""
    d = pk["det"]
    if pk["kept"]:
        return "kept"
    nb = string_neighbours([d, *final], gsd)[0]
    sides = len({ahead for _, ahead in nb})
    if sides == 2:
        return "two sides, < two-side threshold"
    if sides == 1:
        return "one side, < one-side threshold"
    # a kept car roughly on its line (3 m, 30 degrees, 0.5-1.6 spacings): which of the
    # string tests (1.5 m, 15 degrees, 0.75-1.35 spacings) does it fail?
    a = np.deg2rad(d.box.angle)
    u = np.array([np.cos(a), np.sin(a)])
    fails: list[str] = []
    for f in final:
        off = np.array([f.box.cx - d.box.cx, f.box.cy - d.box.cy])
        along = abs(float(off @ u))
        lateral = abs(float(off[0] * u[1] - off[1] * u[0])) * gsd
        dth = abs((f.box.angle - d.box.angle + 90.0) % 180.0 - 90.0)
        expected = (d.box.length + f.box.length) / 2.0 + 1.0 / gsd
        if along == 0 or lateral > 3.0 or dth > 30.0:
            continue
        if not 0.5 * expected <= along <= 1.6 * expected:
            continue
        if dth > 15.0:
            fails.append("angle")
        elif lateral > 1.5:
            fails.append("lateral")
        elif along < 0.75 * expected:
            fails.append("spacing short")
        else:
            fails.append("spacing long")
    if fails:
        return "kept car on its line fails: " + Counter(fails).most_common(1)[0][0]
    return "no kept car on its line"


def replay_tile(
    det: DefaultDetector, image: np.ndarray, valid: np.ndarray, gsd: float
) -> tuple[np.ndarray, np.ndarray, int, int] | None:
    """The tile ``detect_array`` hands ``det`` for a scene that its plan covers with one
    tile (``None`` for several): the image and valid mask padded with no data to the
    anchored grid as ``detect.api`` pads them (since v2.9), and the tile's pixel (0, 0) in
    the scene's pixels. Replaying the decoding on the scene itself puts every peak on
    another phase of the working grid than the detector's (from v2.9 on, "decode replay
    finds 0 of the N boxes" on 24 of 60 scenes)."""
    h, w = valid.shape
    align, multiple = _alignment(det, gsd)
    # as detect.api._run_tiles plans (the default detector names its alignment, so its
    # edge tiles are clipped, not shifted; sides rounded up to ``multiple`` since ba3771a)
    plan = plan_tiles(w, h, gsd, tile_px=_tile_size(det, None), align=align, multiple=multiple)
    if len(plan.windows) != 1:
        return None
    win = plan.windows[0]
    rows, cols = win.slices()
    img, v = image[rows, cols], valid[rows, cols]
    left, top = win.col_off % align, win.row_off % align
    right, bottom = -(left + win.width) % multiple, -(top + win.height) % multiple
    if left or top or right or bottom:
        img, v = _pad_tile(img, v, left, top, right, bottom)
    return img, v, win.col_off - left, win.row_off - top


def _moved(d: Detection, dx: float, dy: float) -> Detection:
    """``d`` moved by (``dx``, ``dy``) pixels."""
    if dx == 0 and dy == 0:
        return d
    return replace(d, box=replace(d.box, cx=d.box.cx + dx, cy=d.box.cy + dy))


def analyse_scene(k: int, det: Any) -> dict[str, Any]:
    """Error anatomy of scene ``k`` (see the module docstring)."""
    gsd = GSDS[k % len(GSDS)]
    params = scene_params(k, gsd)
    sc = render_scene(params)
    final = detect_array(sc.image, gsd, detector=det, valid=sc.valid)
    dets = without_hidden(sc, final)
    truth = visible_truth(sc)
    clear = sc.valid & np.isin(sc.mask, (MASK_CLEAR, MASK_SNOW))
    usable = bool(clear.sum() >= 0.8 * sc.valid.sum())

    # which TruthCar each visible truth box is (visible_truth keeps sc.truth's order)
    all_boxes = [box_from_polygon(t.polygon_px) for t in sc.truth]
    vis_idx: list[int] = []
    j = 0
    for tb in truth:
        while all_boxes[j] != tb.box:
            j += 1
        vis_idx.append(j)
        j += 1
    hidden_idx = [i for i in range(len(sc.truth)) if i not in set(vis_idx)]
    strings = _string_info(all_boxes, gsd)

    # the decoding, step by step (the default detector's own path, on the tile that
    # detect_array hands it: since v2.9 padded with no data to the anchored grid)
    peaks: list[dict[str, Any]] = []
    heat = None
    scale = 1.0
    ox, oy = 0, 0  # the tile's pixel (0, 0) in the scene's pixels
    tile = replay_tile(det, sc.image, sc.valid, gsd) if isinstance(det, DefaultDetector) else None
    if isinstance(det, DefaultDetector) and tile is None:
        print(f"  scene {k}: several tiles, no decode replay (peaks not listed)")
    if isinstance(det, DefaultDetector) and tile is not None:
        t_img, t_valid, ox, oy = tile
        out, scale = det.predict_maps(t_img, gsd, t_valid)
        heat = 1.0 / (1.0 + np.exp(-np.clip(out[0], -30, 30)))
        raw = decode(out, LOW_PEAK)
        one, two = det.string_thresholds_at(gsd)
        conv = [det._to_detection(r, scale, gsd, t_img.shape, t_valid) for r in raw]
        cand = [d for d in conv if d is not None]
        kept = support_strings(
            cand,
            gsd,
            threshold=det.threshold,
            one_side=one,
            two_sides=two,
            pairs=det.string_pairs_at(gsd),
        )
        if det.verifier is not None:  # the verifier's choice among all its candidates
            vc, vk = det.candidates(t_img, gsd, out, scale, t_valid)
            chosen = det.verifier.select(t_img, gsd, vc, vk, det.network_maps(out, scale))
            boxes = {d.box for d in chosen}
            kept = [d for d in cand if d.box in boxes]  # (those >= 0.3: peaks listed here)
        kept_ids = {id(d) for d in kept}
        if det.refiner is not None and kept:  # the boxes as output: moved across
            moved = dict(zip(map(id, kept), det.refiner.refine(t_img, gsd, kept), strict=True))
            conv = [moved.get(id(d), d) if d is not None else None for d in conv]
            kept_ids = {id(d) for d in moved.values()}
        # back to the scene's pixels (kept_ids holds the tile-frame objects' ids)
        kept_flags = [d is not None and id(d) in kept_ids for d in conv]
        conv = [None if d is None else _moved(d, ox, oy) for d in conv]
        final_xy = {(round(d.box.cx, 3), round(d.box.cy, 3)) for d in final}
        for r, d, is_kept in zip(raw, conv, kept_flags, strict=True):
            wb = r.box
            why = None
            if d is None:
                ln, wd = wb.length / scale * gsd, wb.width / scale * gsd
                if not 8.0 <= ln <= 27.0:
                    why = f"length {ln:.0f} m"
                elif not 2.0 <= wd <= 4.2:
                    why = f"width {wd:.1f} m"
                else:
                    why = "outside valid data"
            peaks.append(
                {
                    "x": wb.cx / scale + ox,
                    "y": wb.cy / scale + oy,
                    "score": r.score,
                    "det": d,
                    "kept": is_kept,
                    "final": d is not None and (round(d.box.cx, 3), round(d.box.cy, 3)) in final_xy,
                    "dropped": why,
                }
            )
        n_final = sum(pk["final"] for pk in peaks)
        if n_final != len(final) and det.verifier is None:
            print(f"  scene {k}: decode replay finds {n_final} of the {len(final)} boxes")

    m = match(truth, dets, IOU)
    t_hit = {a: b for a, b, _ in m.pairs}
    p_hit = {b: a for a, b, _ in m.pairs}
    ti, pi, iou = iou_pairs(truth, dets)
    ov: dict[int, list[tuple[int, float]]] = defaultdict(list)  # truth -> (pred, iou)
    ovp: dict[int, list[tuple[int, float]]] = defaultdict(list)  # pred -> (truth, iou)
    for a, b, v in zip(ti.tolist(), pi.tolist(), iou.tolist(), strict=True):
        ov[a].append((b, v))
        ovp[b].append((a, v))

    rad = PEAK_RADIUS_M / gsd
    light = make_light(params)
    lean_vec = np.array([light.lean[0], -light.lean[1]]) / gsd  # px per metre of height
    cars = scene_cars(params, scene_yard(params))
    lean_px = {c.id: lean_vec * c.height for c in cars}
    shadow_dir = np.array([-light.to_sun[0], light.to_sun[1]])  # unit, pixel frame
    shadow_len = {c.id: c.height / np.tan(light.elevation) for c in cars}  # metres
    haze = sc.layers.get("haze")
    lay = _layout(sc)
    misses, fps, tps = [], [], []
    partner_of: dict[int, int] = {}
    for a, tb in enumerate(truth):
        tc = sc.truth[vis_idx[a]]
        place, slen = strings[vis_idx[a]]
        car_px = sc.labels == tc.id
        cond = {
            "haze": float(haze[car_px].mean()) if haze is not None and car_px.any() else 0.0,
            "scene_haze": params.haze,
            "style": params.style,
            "off_nadir": params.off_nadir,
            "blur": params.blur,
            "noise": params.noise,
            "jpeg": params.jpeg_quality,
            "valid": tc.valid_fraction,
            "clear": tc.clear_fraction,
            "tree": any(t.intersects(tc.polygon_px) for t in lay["trees"]),
            "place": place,
            "string_len": slen,
            "cls": tc.cls,
            "covered": tc.covered,
            "length_m": tc.length_m,
        }
        if a in t_hit:
            tps.append({**cond, **localisation(tb.box, dets[t_hit[a]].box, gsd)})
            continue
        rec: dict[str, Any] = dict(cond)
        free = [(b, v) for b, v in ov[a] if b not in p_hit and LOC_MIN <= v < IOU]
        taken = [(b, v) for b, v in ov[a] if b in p_hit and v >= LOC_MIN]
        near = [
            pk
            for pk in peaks
            if (pk["x"] - tb.box.cx) ** 2 + (pk["y"] - tb.box.cy) ** 2 <= rad * rad
        ]
        best = max(near, key=lambda pk: pk["score"]) if near else None
        if free:
            b, _ = max(free, key=lambda bv: bv[1])
            partner_of[b] = a
            rec.update(kind="loc", **localisation(tb.box, dets[b].box, gsd))
            lean = lean_px.get(tc.id)
            if lean is not None:
                # offset of the box centre towards the car's footprint (the roof is the
                # truth; an off-nadir view shows the side faces between them)
                n = float(np.hypot(*lean))
                off = np.array([dets[b].box.cx - tb.box.cx, dets[b].box.cy - tb.box.cy])
                rec["lean_m"] = n * gsd
                rec["to_foot_m"] = float(-(off @ lean) / n) * gsd if n > 0 else 0.0
                rec["to_shadow_m"] = float(off @ shadow_dir) * gsd
                rec["shadow_m"] = shadow_len.get(tc.id, 0.0)
        elif taken:
            rec["kind"] = "box-on-neighbour"
        elif best is not None and best["dropped"]:
            rec.update(kind="filtered", why=best["dropped"], peak=best["score"])
        elif best is not None and not best["kept"]:
            rec.update(kind="weak-peak", peak=best["score"], why=_why_weak(best, final, gsd, det))
        elif best is not None and not best["final"]:
            rec.update(kind="merged-away", peak=best["score"])
        elif best is not None:
            d = best["det"]
            in_dets = [b for b, x in enumerate(dets) if x.box == d.box]
            if in_dets and in_dets[0] not in p_hit:
                partner_of[in_dets[0]] = a
            rec.update(
                kind="kept-elsewhere",
                peak=best["score"],
                why=(
                    "dropped as a hidden car's box"
                    if not in_dets
                    else ("matched to another car" if in_dets[0] in p_hit else "IoU < 0.1")
                ),
                **{f"box_{k}": v for k, v in localisation(tb.box, d.box, gsd).items()},
            )
        else:
            hc = 0.0
            if heat is not None:
                gy = int((tb.box.cy - oy) * scale / 4)
                gx = int((tb.box.cx - ox) * scale / 4)
                if 0 <= gy < heat.shape[0] and 0 <= gx < heat.shape[1]:
                    hc = float(heat[gy, gx])
            rec.update(kind="no-peak", heat_centre=hc)
        misses.append(rec)

    # every decoded peak not in the output: on a visible car (within 4 m) or not
    weak_stats = []
    for pk in peaks:
        if pk["final"] or pk["det"] is None:
            continue
        on_car = any(
            (pk["x"] - t.box.cx) ** 2 + (pk["y"] - t.box.cy) ** 2 <= rad * rad for t in truth
        )
        weak_stats.append(
            {"score": pk["score"], "on_car": on_car, "why": _why_weak(pk, final, gsd, det)}
        )

    hidden_boxes = [all_boxes[i] for i in hidden_idx]
    for b, d in enumerate(dets):
        if b in p_hit:
            continue
        pt = Point(d.box.cx, d.box.cy)
        rec = {"score": d.score, "string_kept": d.score < getattr(det, "threshold", 0.0)}
        over = ovp.get(b, [])
        if b in partner_of or any(a not in t_hit and v >= LOC_MIN for a, v in over):
            rec["kind"] = "loc-partner"
        elif any(v >= LOC_MIN for _, v in over) or any(
            _poly(truth[a].box).contains(pt) for a in t_hit
        ):
            rec["kind"] = "duplicate"
        elif any(_poly(hb).contains(pt) or _iou(hb, d.box) >= LOC_MIN for hb in hidden_boxes):
            rec["kind"] = "hidden-car"
        elif beside := [a for a, t in enumerate(truth) if _beside(t.box, d.box, gsd)]:
            a = beside[0]
            off = np.array([d.box.cx - truth[a].box.cx, d.box.cy - truth[a].box.cy])
            rec.update(
                kind="beside-car",
                car_found=a in t_hit,
                to_shadow_m=float(off @ shadow_dir) * gsd,
            )
        else:
            rec.update(kind="clutter", under=_under(lay, pt, gsd))
        fps.append(rec)
    return {
        "side_pairs": _side_pairs(dets, p_hit, gsd),
        "truth_side_pairs": [c for c, _ in _side_pairs(truth, {}, gsd)],
        "k": k,
        "gsd": gsd,
        "usable": usable,
        "n_truth": len(truth),
        "n_det": len(dets),
        "tp": m.tp,
        "misses": misses,
        "fps": fps,
        "tps": tps,
        "unkept_peaks": weak_stats,
    }


def _pct(a: float, b: float) -> str:
    return f"{100 * a / b:.0f} %" if b else "-"


def _med(xs: list[float]) -> str:
    return f"{np.median(xs):.2f}" if xs else "-"


def summarise_band(scenes: list[dict[str, Any]]) -> list[str]:
    tp = sum(s["tp"] for s in scenes)
    fn = sum(len(s["misses"]) for s in scenes)
    fp = sum(len(s["fps"]) for s in scenes)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    use = [s for s in scenes if s["usable"] and s["n_truth"] > 0]
    ape = [abs(s["n_det"] - s["n_truth"]) / s["n_truth"] for s in use]
    tot_t = sum(s["n_truth"] for s in use)
    tot_d = sum(s["n_det"] for s in use)
    misses = [m for s in scenes for m in s["misses"]]
    fps = [f for s in scenes for f in s["fps"]]
    tps = [t for s in scenes for t in s["tps"]]
    lines = [
        f"{len(scenes)} scenes, {tp + fn} visible cars: TP {tp}, FN {fn}, FP {fp}; "
        f"P {p:.3f}, R {r:.3f}, **F1 {f1:.3f}**; usable scenes ({len(use)}): count MAPE "
        f"{100 * np.mean(ape) if ape else 0:.1f} %, total "
        f"{100 * (tot_d - tot_t) / tot_t if tot_t else 0:+.1f} %.",
        "",
        "| missed cars | n | share of FN | detail |",
        "|---|---|---|---|",
    ]
    by = defaultdict(list)
    for mm in misses:
        by[mm["kind"]].append(mm)
    for kind in MISS_KINDS:
        g = by.get(kind, [])
        if kind == "loc" and g:
            fixed = Counter(x["fixed_by"] for x in g)
            detail = (
                "median |along| {} m, |across| {} m, length ratio {} "
                "(< 0.8: {}, > 1.25: {}), |angle| {}°; single fix that reaches 0.3: {}".format(
                    _med([abs(x["along_m"]) for x in g]),
                    _med([abs(x["across_m"]) for x in g]),
                    _med([x["length_ratio"] for x in g]),
                    sum(x["length_ratio"] < 0.8 for x in g),
                    sum(x["length_ratio"] > 1.25 for x in g),
                    _med([abs(x["angle_err_deg"]) for x in g]),
                    ", ".join(f"{k} {v}" for k, v in fixed.most_common()),
                )
            )
            foot = [x for x in g if "to_foot_m" in x]
            if foot:
                detail += (
                    "; towards the footprint: median {} m (roof-to-footprint lean median {} m), "
                    "{} of {} shifted >= half the lean towards it".format(
                        _med([x["to_foot_m"] for x in foot]),
                        _med([x["lean_m"] for x in foot]),
                        sum(x["to_foot_m"] >= 0.5 * x["lean_m"] > 0.2 for x in foot),
                        len(foot),
                    )
                )
                detail += "; towards its shadow: median {} m (shadow length median {} m)".format(
                    _med([x["to_shadow_m"] for x in foot]), _med([x["shadow_m"] for x in foot])
                )
        elif (kind == "weak-peak" and g) or (kind == "kept-elsewhere" and g):
            detail = f"peak median {_med([x['peak'] for x in g])}; " + ", ".join(
                f"{w} {n}" for w, n in Counter(x["why"] for x in g).most_common()
            )
        elif kind == "merged-away" and g:
            detail = f"peak median {_med([x['peak'] for x in g])}"
        elif kind == "filtered" and g:
            detail = ", ".join(
                f"{w} {n}" for w, n in Counter(x["why"].split()[0] for x in g).most_common()
            )
        elif kind == "no-peak" and g:
            hc = np.array([x["heat_centre"] for x in g])
            detail = (
                f"heat at centre < 0.1: {(hc < 0.1).sum()}, 0.1–0.2: "
                f"{((hc >= 0.1) & (hc < 0.2)).sum()}, 0.2–0.3: {(hc >= 0.2).sum()}"
            )
        else:
            detail = ""
        lines.append(f"| {kind} | {len(g)} | {_pct(len(g), fn)} | {detail} |")
    lines += ["", "| false detections | n | share of FP | detail |", "|---|---|---|---|"]
    byf = defaultdict(list)
    for f in fps:
        byf[f["kind"]].append(f)
    for kind in FP_KINDS:
        g = byf.get(kind, [])
        sk = sum(x["string_kept"] for x in g)
        detail = f"{sk} kept by string support only"
        if kind == "beside-car" and g:
            detail += "; beside a car that was found: {}; towards its shadow (> 0.5 m): {}".format(
                sum(x["car_found"] for x in g), sum(x["to_shadow_m"] > 0.5 for x in g)
            )
        if kind == "clutter" and g:
            detail += "; under: " + ", ".join(
                f"{w} {n}" for w, n in Counter(x["under"] for x in g).most_common()
            )
        lines.append(f"| {kind} | {len(g)} | {_pct(len(g), fp)} | {detail} |")

    # conditions: miss rate per condition and the kinds of its misses
    allc = tps + misses

    def row(label: str, sel: Any) -> str:
        cars = [c for c in allc if sel(c)]
        mi = [c for c in misses if sel(c)]
        kinds = Counter(c["kind"] for c in mi)
        top = ", ".join(f"{k} {v}" for k, v in kinds.most_common(3))
        return f"| {label} | {len(cars)} | {len(mi)} | {_pct(len(mi), len(cars))} | {top} |"

    lines += [
        "",
        "| car condition | cars | missed | miss rate | main kinds of miss |",
        "|---|---|---|---|---|",
        row("isolated (no truth neighbour)", lambda c: c["place"] == "isolated"),
        row("end of a string", lambda c: c["place"] == "end"),
        row("inside a string", lambda c: c["place"] == "inner"),
        row("string of >= 6 cars", lambda c: c["string_len"] >= 6),
        row("local haze >= 0.2", lambda c: c["haze"] >= 0.2),
        row("local haze < 0.2", lambda c: c["haze"] < 0.2),
        row("partly hazed/clouded (clear < 0.9)", lambda c: c["clear"] < 0.9),
        row("partly outside data (valid < 1)", lambda c: c["valid"] < 0.999),
        row("under a tree crown", lambda c: c["tree"]),
        row("scene blur >= 0.7", lambda c: c["blur"] >= 0.7),
        row("scene noise >= 3", lambda c: c["noise"] >= 3.0),
        row("JPEG", lambda c: c["jpeg"] is not None),
        row("covered", lambda c: c["covered"]),
        row("off-nadir >= 10°", lambda c: c["off_nadir"] >= 10.0),
        *(
            row(f"style {st}", lambda c, st=st: c["style"] == st)
            for st in sorted({c["style"] for c in allc})
        ),
        *(
            row(f"class {cl}", lambda c, cl=cl: c["cls"] == cl)
            for cl in sorted({c["cls"] for c in allc})
        ),
    ]
    pairs = [p for s in scenes for p in s["side_pairs"]]
    tpairs = [c for s in scenes for c in s["truth_side_pairs"]]
    lines += [
        "",
        "| parallel boxes side by side, centres across | output pairs | weaker false, "
        "stronger true | both true | other | visible truth cars side by side |",
        "|---|---|---|---|---|---|",
    ]
    for lo, hi in SIDE_BINS:
        g = [kind for c, kind in pairs if lo <= c < hi]
        lines.append(
            f"| {lo:g}–{hi:g} m | {len(g)} | {g.count('F<T')} | {g.count('T<T')} | "
            f"{len(g) - g.count('F<T') - g.count('T<T')} | "
            f"{sum(lo <= c < hi for c in tpairs)} |"
        )
    unkept = [u for s in scenes for u in s.get("unkept_peaks", [])]
    if unkept:
        lines += [
            "",
            "| peaks decoded (>= 0.3) but not output | peaks | on a visible car | share on a car |",
            "|---|---|---|---|",
        ]
        for lo, hi in ((0.3, 0.35), (0.35, 0.4), (0.4, 0.45), (0.45, 2.0)):
            g = [u for u in unkept if lo <= u["score"] < hi]
            on = sum(u["on_car"] for u in g)
            label = f"score {lo:.2f}–{hi:.2f}" if hi < 2 else f"score >= {lo:.2f} (merged away)"
            lines.append(f"| {label} | {len(g)} | {on} | {_pct(on, len(g))} |")
        for why in sorted({u["why"] for u in unkept} - {"kept"}):
            g = [u for u in unkept if u["why"] == why]
            on = sum(u["on_car"] for u in g)
            lines.append(f"| {why} | {len(g)} | {on} | {_pct(on, len(g))} |")
    if tps:
        lines += [
            "",
            "Matched cars for comparison: median |along| {} m, |across| {} m, length ratio {}, "
            "|angle| {}°; length ratio < 0.8 for {} of {}, > 1.25 for {}.".format(
                _med([abs(x["along_m"]) for x in tps]),
                _med([abs(x["across_m"]) for x in tps]),
                _med([x["length_ratio"] for x in tps]),
                _med([abs(x["angle_err_deg"]) for x in tps]),
                sum(x["length_ratio"] < 0.8 for x in tps),
                len(tps),
                sum(x["length_ratio"] > 1.25 for x in tps),
            ),
        ]
    return lines


def parse_options(opts: Sequence[str]) -> dict[str, Any]:
    """``key=value`` detector options (true/false, numbers, else strings)."""
    out: dict[str, Any] = {}
    for o in opts:
        key, sep, val = o.partition("=")
        if not sep:
            raise SystemExit(f"--option wants key=value, got {o!r}")
        low = val.lower()
        if "," in val:
            out[key] = tuple(float(x) for x in val.split(","))
        elif low in ("true", "false"):
            out[key] = low == "true"
        else:
            try:
                out[key] = float(val)
            except ValueError:
                out[key] = val
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k-start", type=int, default=1000)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--detector", default="default")
    ap.add_argument(
        "--option",
        action="append",
        default=[],
        help="key=value passed to DefaultDetector (only with --detector default)",
    )
    ap.add_argument("--json", type=Path, help="write the per-car records here")
    args = ap.parse_args()
    if args.k_start < 210:
        print("warning: k < 210 are the benchmark's own scenes", file=sys.stderr)
    opts = parse_options(args.option)
    det = DefaultDetector(**opts) if opts else get_detector(args.detector)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    scenes = []
    for i, k in enumerate(range(args.k_start, args.k_start + args.n)):
        scenes.append(analyse_scene(k, det))
        if (i + 1) % 10 == 0:
            print(f"  {i + 1}/{args.n} scenes, {time.perf_counter() - t0:.0f} s", flush=True)
    cmd = "python benchmarks/analyse_detection_errors.py " + " ".join(sys.argv[1:])
    print(
        f"\nError anatomy, detector {getattr(det, 'version', '?')}, k = {args.k_start}–"
        f"{args.k_start + args.n - 1}, IoU {IOU}; {stamp}, {platform.machine()} "
        f"{os.cpu_count()} cores, load {load0:.1f} at the start; {time.perf_counter() - t0:.0f} "
        f"s; `{cmd}`\n"
    )
    for band in ("0.3–0.5 m", "0.75–1 m"):
        group = [s for s in scenes if band_of(s["gsd"]) == band]
        if group:
            print(f"### {band}\n")
            print("\n".join(summarise_band(group)) + "\n")
    if args.json:
        args.json.write_text(json.dumps(scenes, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
