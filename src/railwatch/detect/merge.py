"""Merging detections across tile seams by oriented-polygon overlap.

Two detections are the same car when their oriented polygons overlap enough:
intersection over union (the same car seen whole by two tiles) or intersection
over the smaller polygon (a truncated piece of a car, cut by a seam, lying
inside the whole car seen by the neighbouring tile). Axis-aligned boxes are
never used: two cars touching end to end at 30 degrees have overlapping
axis-aligned boxes but polygons that only touch, so they stay two cars.

Among duplicates the kept one is, in order: complete (not touching a seam),
higher score, farther from its tile's seams. Polygons are built and intersected
in bulk with shapely 2 and an STRtree, so 10k+ detections merge in well under
a second; there is no cap on the count.

Detections of a model that removes its own duplicates as its trainer does (``onnx:``,
``ultralytics:``: Ultralytics' per-class NMS) carry the run (one model call on one tile
or window) that found them in ``extra[RUN_KEY]`` (2026-12-06, session 36). Two
detections of one run are never merged here: the model's NMS kept both (two overlapping
cars of different classes, or of one class below its IoU). Across runs the merge is the
same, except that two detections of different classes are not one car when either run
holds a detection of the other's class on the other one (that run saw both cars). The
default detector sets no run: its merge is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely import STRtree

from railwatch.detect.base import Detection
from railwatch.detect.tiling import Window, interior_edges

#: IoU at or above which two detections are the same car.
IOU_THRESHOLD = 0.5
#: Intersection over the smaller polygon at or above which they are the same car.
IOS_THRESHOLD = 0.6
#: A detection whose polygon comes closer than this (pixels) to a seam may be truncated.
EDGE_MARGIN_PX = 2.0
#: Key of :attr:`Detection.extra` naming the model run that found a detection, set by
#: detectors whose own NMS is final within a run (see module docs); unique in a process.
RUN_KEY = "nms_run"


def box_array(detections: Sequence[Detection]) -> np.ndarray:
    """``(N, 5)`` array of ``cx, cy, length, width, angle_deg``."""
    if not detections:
        return np.zeros((0, 5), dtype=np.float64)
    return np.array(
        [(d.box.cx, d.box.cy, d.box.length, d.box.width, d.box.angle) for d in detections],
        dtype=np.float64,
    )


def corners_of(boxes: np.ndarray) -> np.ndarray:
    """Corners ``(N, 4, 2)`` of ``(N, 5)`` oriented boxes, in the order of
    :meth:`railwatch.detect.base.OrientedBox.corners`."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 5)
    a = np.deg2rad(boxes[:, 4])
    u = np.stack([np.cos(a), np.sin(a)], axis=1) * (boxes[:, 2:3] / 2.0)
    v = np.stack([-np.sin(a), np.cos(a)], axis=1) * (boxes[:, 3:4] / 2.0)
    c = boxes[:, 0:2]
    return np.stack([c - u - v, c + u - v, c + u + v, c - u + v], axis=1)


def polygons_of(boxes: np.ndarray) -> np.ndarray:
    """Shapely polygons (object array) of ``(N, 5)`` oriented boxes."""
    corners = corners_of(boxes)
    if len(corners) == 0:
        return np.empty(0, dtype=object)
    return np.asarray(shapely.polygons(corners), dtype=object)


def seam_distance(boxes: np.ndarray, window: Window, width: int, height: int) -> np.ndarray:
    """Distance in pixels from each box (image pixel coordinates) to the nearest seam
    of ``window`` (a side shared with another tile; image borders are not seams).
    ``inf`` when the window has no seam."""
    corners = corners_of(boxes)
    n = len(corners)
    left, top, right, bottom = interior_edges(window, width, height)
    dist = np.full(n, np.inf)
    if n == 0:
        return dist
    x, y = corners[:, :, 0], corners[:, :, 1]
    if left:
        dist = np.minimum(dist, (x - window.col_off).min(axis=1))
    if top:
        dist = np.minimum(dist, (y - window.row_off).min(axis=1))
    if right:
        dist = np.minimum(dist, (window.col_end - x).min(axis=1))
    if bottom:
        dist = np.minimum(dist, (window.row_end - y).min(axis=1))
    return dist


def overlap_pairs(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``i < j`` of intersecting polygons with their IoU and intersection
    over the smaller area: ``(i, j, iou, ios)``."""
    empty = np.zeros(0, dtype=np.int64)
    if len(polygons) < 2:
        return empty, empty, np.zeros(0), np.zeros(0)
    tree = STRtree(polygons)
    i, j = tree.query(polygons, predicate="intersects")
    keep = i < j
    i, j = i[keep].astype(np.int64), j[keep].astype(np.int64)
    if len(i) == 0:
        return i, j, np.zeros(0), np.zeros(0)
    area = shapely.area(polygons)
    inter = shapely.area(shapely.intersection(polygons[i], polygons[j]))
    union = area[i] + area[j] - inter
    smaller = np.minimum(area[i], area[j])
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
        ios = np.where(smaller > 0, inter / smaller, 0.0)
    return i, j, iou, ios


def merge_detections(
    detections: Sequence[Detection],
    seam_dist: np.ndarray | None = None,
    *,
    iou_threshold: float = IOU_THRESHOLD,
    ios_threshold: float = IOS_THRESHOLD,
    edge_margin_px: float = EDGE_MARGIN_PX,
) -> list[Detection]:
    """One detection per car from detections of overlapping tiles (same pixel frame).

    ``seam_dist`` gives, per detection, its distance to the nearest seam of the
    tile that produced it (see :func:`seam_distance`); detections closer than
    ``edge_margin_px`` are treated as possibly truncated and lose to a complete
    duplicate. Without it every detection counts as complete (plain rotated NMS).
    The result keeps the input order of the survivors.
    """
    n = len(detections)
    if n == 0:
        return []
    boxes = box_array(detections)
    polys = polygons_of(boxes)
    dist = np.full(n, np.inf) if seam_dist is None else np.asarray(seam_dist, dtype=np.float64)
    if dist.shape != (n,):
        raise ValueError(f"seam_dist has shape {dist.shape}, expected ({n},)")
    i, j, iou, ios = overlap_pairs(polys)
    dup = (iou >= iou_threshold) | (ios >= ios_threshold)
    i, j = i[dup], j[dup]
    runs = np.array([d.extra.get(RUN_KEY, np.nan) for d in detections], dtype=np.float64)
    if len(i) and not np.isnan(runs).all():
        apart = _apart_by_runs(i, j, runs, [d.cls for d in detections])
        i, j = i[~apart], j[~apart]
    if len(i) == 0:
        return list(detections)
    scores = np.array([d.score for d in detections], dtype=np.float64)
    complete = dist >= edge_margin_px
    # lexsort: last key is primary -> complete first, then score, then seam distance.
    order = np.lexsort((-np.minimum(dist, 1e9), -scores, ~complete))
    # adjacency lists in CSR form (both directions)
    src = np.concatenate([i, j])
    dst = np.concatenate([j, i])
    by_src = np.argsort(src, kind="stable")
    src, dst = src[by_src], dst[by_src]
    start = np.searchsorted(src, np.arange(n + 1))
    suppressed = np.zeros(n, dtype=bool)
    kept = np.zeros(n, dtype=bool)
    for k in order:
        if suppressed[k]:
            continue
        kept[k] = True
        suppressed[dst[start[k] : start[k + 1]]] = True
    return [d for d, keep in zip(detections, kept, strict=True) if keep]


def _apart_by_runs(
    i: np.ndarray, j: np.ndarray, runs: np.ndarray, classes: list[str]
) -> np.ndarray:
    """Which duplicate pairs ``(i, j)`` stay two cars by their model runs (``runs``, NaN
    for a detection without one; module docs): both of one run (its NMS kept both), or
    of different classes where the run of one holds a duplicate of the other of that
    other's class (tile A kept a tank and a boxcar over each other, tile B saw only the
    boxcar: B's boxcar is A's boxcar, not A's tank)."""
    tagged = ~np.isnan(runs[i]) & ~np.isnan(runs[j])
    apart = tagged & (runs[i] == runs[j])
    cls = np.asarray(classes, dtype=object)
    across = tagged & ~apart
    other = across & (cls[i] != cls[j])
    if not other.any():
        return apart
    # (detection, run, class) of each duplicate it has in another run
    seen: set[tuple[int, float, str]] = set()
    for a, b in zip(i[across].tolist(), j[across].tolist(), strict=True):
        seen.add((a, float(runs[b]), str(cls[b])))
        seen.add((b, float(runs[a]), str(cls[a])))
    for k in np.flatnonzero(other).tolist():
        a, b = int(i[k]), int(j[k])
        if (b, float(runs[a]), str(cls[b])) in seen or (a, float(runs[b]), str(cls[a])) in seen:
            apart[k] = True
    return apart
