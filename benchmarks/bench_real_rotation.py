"""Does the default detector hold on real imagery under rotation and resampling?

``bench_real_boxes.py`` reads the Muttenz 10 cm yard in its one orientation, area-averaged
to 0.3-1 m. An analyst's image comes at any angle and from any resampling. This script
turns the 10 cm image, and its hand labels with the same affine transform, by each angle
of ``--rotate`` (about the image centre, on a canvas large enough to hold all of it; the
corners it adds are no-data, passed to the detector as invalid), resamples it to each
ground sample distance with each method of ``--resample`` (``area``: OpenCV's area
average, as ``bench_real_boxes.py``; ``bilinear``, ``cubic``, ``lanczos``: OpenCV's
interpolating resize, which does not low-pass first, so fine detail aliases as it does in
a naively resampled product), runs the detector and matches its boxes one to one with the
turned labels (IoU 0.3 and 0.5, the ignore rule of ``bench_real_boxes.py``).

The turn itself is bilinear at 10 cm, 3 to 10 times finer than any resolution read, so
its own blur is averaged away by the resampling that follows (angle 0 is the untouched
image: its ``area`` rows are ``bench_real_boxes.py``'s, up to the boxes' scale back to the
10 cm frame, here exact per axis). The China panel (no labels) is turned at its own
scale, with each interpolating method of ``--resample`` (``area`` has no rotation
counterpart and is left out there), and counted at the scale its rails measure
(``railwatch.imagery.scale``, about 0.235 m): counts only.

``--canvas fit`` (the default) puts each turned image on the smallest canvas that holds
it; ``--canvas fixed`` puts every angle on the canvas of the image's diagonal, so that
every angle has the same no-data area around the yard (a no-data margin alone changes
the result on this 100 m image: the network's receptive field is about 130 m).
``--nodata invalid`` (the default) passes the margins to the detector as invalid pixels,
as the tiled API does with a scene's no-data; ``--nodata nearest`` fills them with the
nearest valid pixel's colour instead, passes the image as all valid and drops the
detections centred on them (a candidate change to the detector, measured from here).

``--shift 0,0.5,...`` also moves each turned image right and down by so many metres
(the same yard on another pixel grid): the spread over shifts at angle 0 is what the count
does without any turn, the yardstick for the spread over angles.

``--diagnose`` says, for each labelled vehicle missed at IoU 0.3, where the pipeline lost
it on that image (one tile at these sizes, so no seam merge): weak heat on its box, heat
with no decoded centre on the box, a peak centred on the box whose box is off the car, a
peak that string support dropped, or one it kept that the later steps moved or dropped
(:func:`diagnose`).

    python benchmarks/bench_real_rotation.py [--rotate 0,15,30,45,60,90,135]
        [--resample area,bilinear,cubic,lanczos] [--gsd 0.3,0.5,0.75,1]
        [--shift 0,0.5,1] [--canvas fit|fixed] [--nodata invalid|nearest]
        [--detector NAME] [--no-china] [--overlays DIR] [--diagnose] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import shapely
from bench_detect_accuracy import fig
from bench_real_boxes import (
    GSDS,
    IMAGE,
    LABEL_GSD,
    LABELS,
    REAL_DEFAULT,
    draw,
    inpainted_patches,
    load_labels,
    score,
    without_ignored,
)
from shapely.geometry import Point

from railwatch.detect.api import detect_array
from railwatch.detect.base import Detection, Detector
from railwatch.detect.registry import get_detector

CHINA = "china_freight_panel.png"
ANGLES = (0.0, 15.0, 30.0, 45.0, 60.0, 90.0, 135.0)
#: OpenCV's resize methods by name; every one maps pixel centres the same way.
RESAMPLE = {
    "area": cv2.INTER_AREA,
    "bilinear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "lanczos": cv2.INTER_LANCZOS4,
}


def fixed_canvas(shape: tuple[int, ...]) -> tuple[int, int]:
    """A (width, height) that holds an image of ``shape`` turned by any angle: its
    diagonal, grown to the parity of each side so that the unturned image sits on whole
    pixels in the middle."""
    h, w = shape[:2]
    d = math.hypot(w, h)
    return w + 2 * math.ceil((d - w) / 2), h + 2 * math.ceil((d - h) / 2)


def rotation(
    shape: tuple[int, ...],
    angle: float,
    shift: float = 0.0,
    canvas: tuple[int, int] | None = None,
) -> tuple[np.ndarray, tuple[int, int]]:
    """The 2 x 3 affine matrix that turns an image of ``shape`` by ``angle`` degrees
    counter-clockwise as seen on screen (OpenCV's sense) about its centre onto the middle
    of a canvas, then moves it ``shift`` pixels right and down (the canvas grows by as
    much), and that canvas's (width, height). The canvas is ``canvas`` (width, height)
    when given (:func:`fixed_canvas`: the same for every angle), else the smallest that
    holds the turned image. In OpenCV's pixel-centre coordinates (pixel i at i); see
    :func:`rotate_boxes` for the boxes' frame."""
    if not (math.isfinite(angle) and math.isfinite(shift) and shift >= 0):
        raise ValueError(f"angle {angle} and shift {shift}: give finite numbers, shift >= 0")
    h, w = shape[:2]
    a = math.radians(angle)
    c, s = abs(math.cos(a)), abs(math.sin(a))
    if canvas is not None:
        cw, ch = canvas
        if w * c + h * s > cw + 1e-6 or w * s + h * c > ch + 1e-6:
            raise ValueError(f"a canvas of {cw} x {ch} px cannot hold {w} x {h} turned {angle}")
    else:
        # the exact canvas at multiples of 90 degrees, where cos/sin are 1e-16 off
        cw = w if s < 1e-9 else h if c < 1e-9 else math.ceil(w * c + h * s - 1e-9)
        ch = h if s < 1e-9 else w if c < 1e-9 else math.ceil(w * s + h * c - 1e-9)
    m = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), angle, 1.0)
    m[0, 2] += (cw - w) / 2.0 + shift
    m[1, 2] += (ch - h) / 2.0 + shift
    grow = math.ceil(shift - 1e-9)
    return m, (cw + grow, ch + grow)


def rotate_image(
    img: np.ndarray,
    angle: float,
    interpolation: int = cv2.INTER_LINEAR,
    shift: float = 0.0,
    canvas: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``img`` turned by ``angle`` and moved by ``shift`` pixels onto ``canvas``
    (:func:`rotation`), its valid mask (pixels whose whole interpolation support lies
    inside the source image; the added corners and margins are black and invalid) and
    the affine matrix used."""
    m, size = rotation(img.shape, angle, shift, canvas)
    out = cv2.warpAffine(
        img, m, size, flags=interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    ones = np.full(img.shape[:2], 255, np.uint8)
    cover = cv2.warpAffine(
        ones, m, size, flags=interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    # a pixel is valid where the turned all-255 image is still 255: no weight came from
    # outside the source (lanczos' and cubic's negative lobes give >= 255 there too)
    valid = cover >= 255
    return np.ascontiguousarray(out), valid, m


def rotate_boxes(dets: list[Detection], m: np.ndarray) -> list[Detection]:
    """``dets`` (pixel corner frame: pixel i covers [i, i+1), as the detector and the
    labels use) moved by the affine ``m`` of :func:`rotate_image` (pixel-centre frame)."""
    lin = m[:, :2]
    out = []
    for d in dets:
        b = d.box
        cx, cy = lin @ np.array([b.cx - 0.5, b.cy - 0.5]) + m[:, 2] + 0.5
        a = math.radians(b.angle)
        ux, uy = lin @ np.array([math.cos(a), math.sin(a)])
        angle = math.degrees(math.atan2(uy, ux)) % 180.0
        out.append(replace(d, box=replace(b, cx=float(cx), cy=float(cy), angle=angle)))
    return out


def resample(
    img: np.ndarray, valid: np.ndarray, factor: float, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """``img`` made ``factor`` times coarser with ``method`` (a key of :data:`RESAMPLE`),
    and its valid mask: a coarse pixel is valid only when every fine pixel under it is."""
    size = (max(1, round(img.shape[1] / factor)), max(1, round(img.shape[0] / factor)))
    small = cv2.resize(img, size, interpolation=RESAMPLE[method])
    cover = cv2.resize(valid.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small), cover >= 1.0 - 1e-6


def nearest_fill(img: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``img`` with each invalid pixel given the colour of the nearest valid one
    (Euclidean distance transform with labels); ``img`` itself when all or none is valid."""
    if valid.all() or not valid.any():
        return img
    _, lab = cv2.distanceTransformWithLabels(
        (~valid).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    ys, xs = np.nonzero(valid)
    # each valid pixel is its own label; a pixel's label is that of its nearest valid one
    index = np.zeros(int(lab.max()) + 1, np.int64)
    index[lab[valid]] = np.arange(len(ys))
    near = index[lab]
    return np.ascontiguousarray(img[ys[near], xs[near]])


def detect_with_nodata(
    det: Detector, img: np.ndarray, valid: np.ndarray, gsd: float, nodata: str
) -> tuple[list[Detection], np.ndarray, np.ndarray | None]:
    """The detections on ``img`` with its no-data handled as ``nodata`` says: ``invalid``
    (the valid mask goes to the detector, which fills and zeroes those pixels after its
    contrast normalisation) or ``nearest`` (the no-data is filled with the nearest valid
    pixel's colour and the image passed as all valid; detections centred on no-data are
    then dropped, as the detector drops them). Also what the detector was given (image,
    valid mask), for :func:`diagnose`."""
    if nodata == "invalid":
        return detect_array(img, gsd, detector=det, valid=valid), img, valid
    if nodata != "nearest":
        raise ValueError(f"no-data handling {nodata!r}: use invalid or nearest")
    filled = nearest_fill(img, valid)
    found = detect_array(filled, gsd, detector=det)
    h, w = valid.shape
    keep = [
        d
        for d in found
        if valid[min(max(int(d.box.cy), 0), h - 1), min(max(int(d.box.cx), 0), w - 1)]
    ]
    return keep, filled, None


def to_frame(
    dets: list[Detection], small: tuple[int, ...], big: tuple[int, ...]
) -> list[Detection]:
    """Boxes found on an image of shape ``small`` in the pixel frame of the image of shape
    ``big`` it was resized from (exact per axis: a resize maps x to x * W / w in the corner
    frame, whatever the rounding of the small size)."""
    sx, sy = big[1] / small[1], big[0] / small[0]
    out = []
    for d in dets:
        b = d.box
        a = math.radians(b.angle)
        ca, sa = math.cos(a), math.sin(a)
        # the length runs along (cos a, sin a), the width across it
        along = math.hypot(sx * ca, sy * sa)
        across = math.hypot(sx * sa, sy * ca)
        angle = math.degrees(math.atan2(sy * sa, sx * ca)) % 180.0
        box = replace(
            b,
            cx=b.cx * sx,
            cy=b.cy * sy,
            length=b.length * along,
            width=b.width * across,
            angle=angle,
        )
        out.append(replace(d, box=box))
    return out


def diagnose(
    det: Detector,
    small: np.ndarray,
    valid: np.ndarray | None,
    gsd: float,
    truth_small: list[Detection],
    missed: list[int],
) -> list[dict[str, Any]]:
    """Where each missed label (boxes in ``small``'s frame) was lost, from the tile's own
    maps and candidates (one tile at these sizes): ``weak heat`` (the heat map stays
    under the lowest string threshold everywhere on the label's box), ``no centre on box``
    (heat at or over it there, but no decoded candidate centred on the box: a higher
    cell next to it took the 3 x 3 maximum, the peak's centre offset put the box off the
    car, or the size filter dropped it), ``box off``
    (a candidate centred on the box, at IoU under 0.3: its offsets along and across the
    car in metres and its length and width ratios are given), ``string support`` (a
    candidate at IoU 0.3 or more that string support did not keep) or ``after support``
    (kept, then moved or dropped by the verifier or the across refinement). ``heat``
    is the highest heat on the box."""
    predict = getattr(det, "predict_maps", None)
    candidates = getattr(det, "candidates", None)
    if predict is None or candidates is None:
        return [{"label": i, "where": "not a DefaultDetector: no maps"} for i in missed]
    out, scale = predict(small, gsd, valid)
    cands, kept = candidates(small, gsd, out, scale, valid)
    heat = 1.0 / (1.0 + np.exp(-np.clip(out[0], -30.0, 30.0)))
    cell = 4.0 / scale  # input pixels per output cell (stride 4 at working scale)
    low = min((c.score for c in cands), default=0.3)
    gy, gx = np.mgrid[0 : heat.shape[0], 0 : heat.shape[1]]
    centres = np.stack([(gx.ravel() + 0.5) * cell, (gy.ravel() + 0.5) * cell], axis=1)
    rows = []
    for i in missed:
        t = truth_small[i]
        inside = shapely.contains_xy(t.box.polygon(), centres[:, 0], centres[:, 1])
        on_box = heat.ravel()[inside]
        h = float(on_box.max()) if on_box.size else 0.0
        row: dict[str, Any] = {"label": i, "heat": round(h, 2)}
        ious = [_iou(t, c) for c in cands]
        best = int(np.argmax(ious)) if ious else -1
        centred = [
            k for k, c in enumerate(cands) if t.box.polygon().contains(Point(c.box.cx, c.box.cy))
        ]
        if best >= 0 and ious[best] >= 0.3:
            row["peak"] = round(cands[best].score, 2)
            row["iou"] = round(ious[best], 2)
            row["where"] = "after support" if kept[best] else "string support"
        elif centred:
            k = max(centred, key=lambda k: ious[k])
            c = cands[k]
            a = math.radians(t.box.angle)
            dx, dy = c.box.cx - t.box.cx, c.box.cy - t.box.cy
            row.update(
                where="box off",
                peak=round(c.score, 2),
                iou=round(ious[k], 2),
                along_m=round(abs(dx * math.cos(a) + dy * math.sin(a)) * gsd, 1),
                across_m=round(abs(-dx * math.sin(a) + dy * math.cos(a)) * gsd, 1),
                length_ratio=round(c.box.length / t.box.length, 2),
                width_ratio=round(c.box.width / t.box.width, 2),
                kept=bool(kept[k]),
            )
        else:
            row["where"] = "no centre on box" if h >= low else "weak heat"
        rows.append(row)
    return rows


def _iou(a: Detection, b: Detection) -> float:
    pa, pb = a.box.polygon(), b.box.polygon()
    inter = pa.intersection(pb).area
    return float(inter / max(pa.area + pb.area - inter, 1e-9))


def run_muttenz(
    det: Detector,
    real: Path,
    angles: list[float],
    methods: list[str],
    gsds: list[float],
    *,
    shifts: tuple[float, ...] = (0.0,),
    fixed: bool = False,
    nodata: str = "invalid",
    overlays: Path | None = None,
    diag: bool = False,
) -> list[dict[str, Any]]:
    """One row per angle, shift (metres), resampling and resolution on the Muttenz yard;
    with ``fixed`` every angle on the same canvas (:func:`fixed_canvas`)."""
    from _images import read_rgb  # a sibling script: imported here so that tests can load this one

    img = read_rgb(real / IMAGE)
    truth0, ignored0 = load_labels(LABELS)
    patches0 = inpainted_patches(real)
    rows: list[dict[str, Any]] = []
    for angle in angles:
        for shift in shifts:
            canvas = fixed_canvas(img.shape) if fixed else None
            rot, valid, m = rotate_image(img, angle, shift=shift / LABEL_GSD, canvas=canvas)
            truth, ignored = rotate_boxes(truth0, m), rotate_boxes(ignored0, m)
            patches = None
            if patches0 is not None:
                size = (rot.shape[1], rot.shape[0])
                patches = cv2.warpAffine(patches0, m, size, flags=cv2.INTER_NEAREST)
            for method in methods:
                for gsd in gsds:
                    rows.append(
                        _muttenz_row(
                            det,
                            rot,
                            valid,
                            truth,
                            ignored,
                            patches,
                            (angle, shift, method, gsd),
                            overlays,
                            diag,
                            nodata,
                        )
                    )
    return rows


def _muttenz_row(
    det: Detector,
    rot: np.ndarray,
    valid: np.ndarray,
    truth: list[Detection],
    ignored: list[Detection],
    patches: np.ndarray | None,
    case: tuple[float, float, str, float],
    overlays: Path | None,
    diag: bool,
    nodata: str,
) -> dict[str, Any]:
    angle, shift, method, gsd = case
    t0 = time.perf_counter()
    small, vsmall = resample(rot, valid, gsd / LABEL_GSD, method)
    found, seen, vseen = detect_with_nodata(det, small, vsmall, gsd, nodata)
    dets = without_ignored(to_frame(list(found), small.shape, rot.shape), ignored)
    row: dict[str, Any] = {
        "angle": angle,
        "shift": shift,
        "resample": method,
        "gsd": gsd,
        "detected": len(found),
        "scored": len(dets),
        "truth": len(truth),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    scores, hit_p = score(truth, dets, patches)
    row.update(scores)
    if diag and row["missed"]:
        back = to_frame(truth, rot.shape, small.shape)
        row["diagnosis"] = diagnose(det, seen, vseen, gsd, back, row["missed"])
    if overlays is not None:
        overlays.mkdir(parents=True, exist_ok=True)
        name = f"muttenz_{angle:g}deg_{shift:g}m_{method}_{gsd}m.png"
        cv2.imwrite(str(overlays / name), draw(rot, truth, dets, hit_p))
    a = row["iou0.3"]
    print(
        f"muttenz {angle:g} deg +{shift:g} m {method} {gsd} m: {len(found)} boxes, "
        f"{a['tp']}/{a['fp']}/{a['fn']}, F1 {fig(a['f1'], 2)} ({row['seconds']} s)",
        file=sys.stderr,
    )
    return row


def run_china(
    det: Detector,
    real: Path,
    angles: list[float],
    methods: list[str],
    *,
    shifts: tuple[float, ...] = (0.0,),
    fixed: bool = False,
    nodata: str = "invalid",
) -> tuple[list[dict[str, Any]], float | None]:
    """The China panel's count per interpolating method, angle and shift (metres) at the
    scale its rails measure; no rows (and None) without the panel or a measured scale."""
    from _images import read_rgb

    from railwatch.imagery.scale import estimate_gsd_from_rails

    path = real / CHINA
    if not path.is_file():
        return [], None
    img = read_rgb(path)
    scale = estimate_gsd_from_rails(img)
    if not (scale.measured and scale.gsd is not None):
        print(f"{CHINA}: no scale measured from its rails; left out", file=sys.stderr)
        return [], None
    gsd = round(float(scale.gsd), 3)
    rows = []
    for method in (m for m in methods if m != "area"):
        for angle in angles:
            for shift in shifts:
                canvas = fixed_canvas(img.shape) if fixed else None
                rot, valid, _ = rotate_image(img, angle, RESAMPLE[method], shift / gsd, canvas)
                found, _, _ = detect_with_nodata(det, rot, valid, gsd, nodata)
                rows.append(
                    {
                        "angle": angle,
                        "shift": shift,
                        "resample": method,
                        "gsd": gsd,
                        "count": len(found),
                    }
                )
                print(f"china {angle:g} deg +{shift:g} m {method}: {len(found)}", file=sys.stderr)
    return rows, gsd


def _range(vals: list[Any], digits: int | None = None) -> str:
    lo, hi = min(vals), max(vals)
    if digits is not None:
        lo, hi = fig(lo, digits), fig(hi, digits)
    return f"{lo}–{hi}" if lo != hi else f"{lo}"


def summary(rows: list[dict[str, Any]]) -> list[str]:
    """Per resampling and resolution: the spread of the boxes and of F1 @0.3 across
    angles (unshifted), across shifts (unturned) and across everything, and the worst
    case by F1."""
    out = []
    for method in dict.fromkeys(r["resample"] for r in rows):
        for gsd in dict.fromkeys(r["gsd"] for r in rows):
            sel = [r for r in rows if r["resample"] == method and r["gsd"] == gsd]
            turned = [r for r in sel if r["shift"] == 0]
            moved = [r for r in sel if r["angle"] == 0]
            worst = min(sel, key=lambda r: r["iou0.3"]["f1"])
            parts = [f"- {method} {gsd} m:"]
            for what, part in (("by angle", turned), ("by shift", moved), ("all", sel)):
                if len(part) > 1 and (what != "all" or len(sel) > max(len(turned), len(moved))):
                    boxes = _range([r["detected"] for r in part])
                    f1 = _range([r["iou0.3"]["f1"] for r in part], 2)
                    parts.append(f"{what} ({len(part)}) boxes {boxes}, F1 {f1};")
            parts.append(f"worst {worst['angle']:g}° +{worst['shift']:g} m")
            out.append(" ".join(parts))
    return out


def table(
    rows: list[dict[str, Any]],
    china: list[dict[str, Any]],
    china_gsd: float | None,
    detector: str,
    version: str,
    command: str,
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    lines = [
        f"`{command}` (detector {detector} {version}), {now}, commit {commit or '?'}, "
        f"{platform.machine()}, CPython {platform.python_version()}.",
        "",
        "| angle (°) | shift (m) | resample | GSD (m) | boxes (scored) | TP / FP / FN @0.3 "
        "| FP on patches | F1 @0.3 | F1 @0.5 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        a, b = r["iou0.3"], r["iou0.5"]
        lines.append(
            f"| {r['angle']:g} | {r['shift']:g} | {r['resample']} | {r['gsd']} "
            f"| {r['detected']} ({r['scored']}) | {a['tp']} / {a['fp']} / {a['fn']} "
            f"| {r.get('fp_on_patches', '–')} | {fig(a['f1'], 2)} | {fig(b['f1'], 2)} |"
        )
    lines += ["", "Spread (boxes; F1 @0.3):", "", *summary(rows)]
    if china:
        lines += ["", f"China panel at {china_gsd} m (its rails' scale), boxes:", ""]
        angles = list(dict.fromkeys(r["angle"] for r in china))
        lines.append("| rotation, shift | " + " | ".join(f"{a:g}°" for a in angles) + " |")
        lines.append("|---|" + "---|" * len(angles))
        for method in dict.fromkeys(r["resample"] for r in china):
            for shift in dict.fromkeys(r["shift"] for r in china):
                counts = {
                    r["angle"]: r["count"]
                    for r in china
                    if r["resample"] == method and r["shift"] == shift
                }
                cells = " | ".join(str(counts[a]) for a in angles)
                lines.append(f"| {method}, +{shift:g} m | {cells} |")
    return "\n".join(lines)


def _floats(text: str) -> list[float]:
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, e.g. 0,15,30: {text!r}"
        ) from err
    if not vals or not all(math.isfinite(v) for v in vals):
        raise argparse.ArgumentTypeError(f"expected finite numbers, e.g. 0,15,30: {text!r}")
    return vals


def _methods(text: str) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    bad = [n for n in names if n not in RESAMPLE]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown resampling {', '.join(bad) or '(none)'}: choose from {', '.join(RESAMPLE)}"
        )
    return names


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default="default")
    ap.add_argument("--real", type=Path, default=REAL_DEFAULT)
    ap.add_argument(
        "--rotate", type=_floats, default=list(ANGLES), help="angles in degrees, e.g. 0,15,30"
    )
    ap.add_argument(
        "--resample", type=_methods, default=["area"], help=f"any of {','.join(RESAMPLE)}"
    )
    ap.add_argument("--gsd", type=_floats, default=list(GSDS), help="e.g. 0.3,0.5,0.75,1")
    ap.add_argument(
        "--shift",
        type=_floats,
        default=[0.0],
        help="move each turned image right and down by these many metres, e.g. 0,0.5,1 "
        "(the same yard on another pixel grid: how much the count moves without a turn)",
    )
    ap.add_argument(
        "--canvas",
        choices=("fit", "fixed"),
        default="fit",
        help="fit: each turned image on the smallest canvas that holds it (angle 0 is the "
        "image itself); fixed: every angle on the canvas of the image's diagonal, so that "
        "every angle has the same no-data area around the yard",
    )
    ap.add_argument(
        "--nodata",
        choices=("invalid", "nearest"),
        default="invalid",
        help="invalid: the margins go to the detector as invalid pixels (what the tiled API "
        "does with no-data); nearest: filled with the nearest valid pixel's colour and "
        "passed as data, detections centred on them dropped (a candidate fix, measured here)",
    )
    ap.add_argument("--no-china", action="store_true", help="leave the China panel out")
    ap.add_argument("--overlays", type=Path, help="write the boxes over each turned image here")
    ap.add_argument("--diagnose", action="store_true", help="say where each miss was lost")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    if not (args.real / IMAGE).is_file():
        print(f"{args.real / IMAGE} not found: pass --real DIR with {IMAGE}", file=sys.stderr)
        return 2
    bad = [g for g in args.gsd if not 0.1 <= g < 1.5]
    if bad:
        print(f"--gsd {bad}: give 0.1 to 1.5 m (the box detector's range)", file=sys.stderr)
        return 2
    if any(s < 0 for s in args.shift):
        print(f"--shift {args.shift}: give shifts of 0 m or more", file=sys.stderr)
        return 2
    det = get_detector(args.detector)
    shifts = tuple(args.shift)
    rows = run_muttenz(
        det,
        args.real,
        args.rotate,
        args.resample,
        args.gsd,
        shifts=shifts,
        fixed=args.canvas == "fixed",
        nodata=args.nodata,
        overlays=args.overlays,
        diag=args.diagnose,
    )
    china, china_gsd = (
        ([], None)
        if args.no_china
        else run_china(
            det,
            args.real,
            args.rotate,
            args.resample,
            shifts=shifts,
            fixed=args.canvas == "fixed",
            nodata=args.nodata,
        )
    )
    version = str(getattr(det, "version", "?"))
    command = "python benchmarks/bench_real_rotation.py " + " ".join(sys.argv[1:])
    print(table(rows, china, china_gsd, args.detector, version, command.strip()))
    for r in rows:
        if r["missed"]:
            print(
                f"{r['angle']:g} deg +{r['shift']:g} m {r['resample']} {r['gsd']} m: "
                f"missed {r['missed']}"
            )
        for d in r.get("diagnosis", []):
            print(f"    {d}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"version": version, "rows": rows, "china": china, "china_gsd": china_gsd},
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
