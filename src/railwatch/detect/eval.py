"""Detection evaluation: oriented-polygon IoU matching, P/R/F1, count errors.

Truth and predictions are FeatureCollections in the same coordinate frame (the
simulator's ``NAME.truth.geojson`` and ``railwatch detect``'s output). Matching is
one-to-one, maximising total IoU (Hungarian assignment; greedy by IoU for very large
scenes) among pairs with IoU at or above the threshold. Reported per IoU threshold
(0.3 and 0.5): precision, recall, F1. Per scene: count error (predicted minus true);
summarised as mean absolute error and mean absolute percentage error (scenes with
no cars are left out of the percentage), per class and per resolution; and the
accuracy of the ``covered`` attribute on matched pairs (IoU 0.3). Coarse scenes
(``method`` length, 1.5-5 m) are scored on car equivalents only. A presence scene
(``method`` presence, 10 m and coarser) tells no count at all, only whether a long train
is present: it is scored on that flag (its ``presence`` block: right, wrong, accuracy),
against the truth's flag: a string of coupled cars (boxes less than
:data:`STRING_GAP_M` apart) of :data:`~railwatch.detect.coarse.LONG_TRAIN_M` metres or
more, its cars' lengths summed (the gaps between them are not counted, so a string just
over 300 m end to end may read a few metres under). It is in no count error.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from scipy.optimize import linear_sum_assignment
from shapely import STRtree

from railwatch.detect.base import GENERIC_CLASS, Detection, is_presence
from railwatch.detect.geojson import (
    WGS84,
    FeatureSet,
    from_feature_collection,
    is_geographic,
    read_geojson,
    read_geojson_object,
)
from railwatch.detect.merge import box_array, polygons_of
from railwatch.errors import ImageryError, InputError, some

if TYPE_CHECKING:
    from railwatch.imagery.read import Radiometry

#: IoU thresholds reported.
IOU_THRESHOLDS: tuple[float, ...] = (0.3, 0.5)
#: Coarse scenes count as right when within this relative error.
COARSE_TOLERANCE = 0.15
_HUNGARIAN_MAX = 4_000_000


@dataclass(frozen=True)
class Matching:
    """One-to-one matches ``(truth_index, pred_index, iou)`` at a threshold."""

    pairs: tuple[tuple[int, int, float], ...]
    n_truth: int
    n_pred: int

    @property
    def tp(self) -> int:
        return len(self.pairs)

    @property
    def fp(self) -> int:
        return self.n_pred - self.tp

    @property
    def fn(self) -> int:
        return self.n_truth - self.tp


def iou_pairs(
    truth: Sequence[Detection], pred: Sequence[Detection]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersecting (truth, pred) index pairs and their polygon IoU."""
    if not truth or not pred:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0)
    tp, pp = polygons_of(box_array(truth)), polygons_of(box_array(pred))
    tree = STRtree(pp)
    ti, pi = tree.query(tp, predicate="intersects")
    inter = shapely.area(shapely.intersection(tp[ti], pp[pi]))
    union = shapely.area(tp[ti]) + shapely.area(pp[pi]) - inter
    iou = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
    return ti.astype(np.int64), pi.astype(np.int64), iou


def match(
    truth: Sequence[Detection], pred: Sequence[Detection], iou_threshold: float = 0.5
) -> Matching:
    """One-to-one matching of ``pred`` to ``truth`` at ``iou_threshold``."""
    ti, pi, iou = iou_pairs(truth, pred)
    keep = iou >= iou_threshold
    ti, pi, iou = ti[keep], pi[keep], iou[keep]
    pairs: list[tuple[int, int, float]] = []
    if len(ti):
        if len(truth) * len(pred) <= _HUNGARIAN_MAX:
            m = np.zeros((len(truth), len(pred)))
            m[ti, pi] = iou
            rows, cols = linear_sum_assignment(m, maximize=True)
            pairs = [
                (int(r), int(c), float(m[r, c]))
                for r, c in zip(rows, cols, strict=True)
                if m[r, c] >= iou_threshold
            ]
        else:
            used_t: set[int] = set()
            used_p: set[int] = set()
            for k in np.argsort(-iou, kind="stable"):
                a, b = int(ti[k]), int(pi[k])
                if a not in used_t and b not in used_p:
                    used_t.add(a)
                    used_p.add(b)
                    pairs.append((a, b, float(iou[k])))
    return Matching(tuple(sorted(pairs)), len(truth), len(pred))


def without_matches(
    pred: Sequence[Detection], ignored: Sequence[Detection], iou_threshold: float = 0.3
) -> list[Detection]:
    """``pred`` minus the detections matched (one to one) to ``ignored`` objects: cars
    the truth leaves out (under cloud or haze, outside the data) are neither hits nor
    false alarms."""
    if not pred or not ignored:
        return list(pred)
    hit = {b for _, b, _ in match(ignored, pred, iou_threshold).pairs}
    return [d for i, d in enumerate(pred) if i not in hit]


@dataclass(frozen=True)
class PRF:
    """Precision, recall, F1 and the counts they come from. A figure with nothing to
    measure is None: precision where nothing was detected, recall where the truth has no
    car, F1 where neither (no box matched, found or missed: a scene reviewed by count
    only, an empty yard read as empty). They read 1.0 before session 30, so that
    `eval --site` on counts-only reviews reported a perfect detector."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:  # no hit: 0 if a box was found or missed
            return 0.0 if self.fp + self.fn else None
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | None]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "f1": _round(self.f1),
        }

    def __add__(self, other: PRF) -> PRF:
        return PRF(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


@dataclass(frozen=True)
class SceneEval:
    """Evaluation of one scene."""

    name: str
    gsd: float | None
    method: str
    n_truth: int
    n_pred: float  #: detections, or car equivalents for coarse scenes
    prf: dict[float, PRF] = field(default_factory=dict)  #: by IoU threshold
    truth_by_class: dict[str, int] = field(default_factory=dict)
    pred_by_class: dict[str, int] = field(default_factory=dict)
    class_correct: int = 0  #: matched pairs (IoU 0.3) with the right class
    covered_correct: int = 0  #: matched pairs (IoU 0.3) with the right covered flag
    matched: int = 0
    #: matched pairs whose prediction names a type (not the generic ``railcar``), and
    #: how many of those name the right one
    typed: int = 0
    typed_correct: int = 0
    #: of the typed pairs, those whose truth names a type too (a car labelled
    #: ``railcar``, type unknown, cannot say whether a type is right)
    typed_judged: int = 0
    #: For a presence scene (10 m and coarser): the predicted long-train flag (None when
    #: the prediction gives none), the truth's flag, the truth's occupied length
    #: (metres of truth boxes, :func:`truth_length_m`) and its longest string of coupled
    #: cars (:func:`truth_longest_string_m`, what the flag is about); None where they
    #: cannot be measured.
    long_train_pred: bool | None = None
    long_train_truth: bool | None = None
    truth_length_m: float | None = None
    truth_longest_string_m: float | None = None
    #: False for a 1.5-5 m estimate that read no track (its centrelines under cloud,
    #: or no line found): nothing was measured, so the scene is in no count error (a 0
    #: there would be scored as a miss of every car).
    measured: bool = True
    #: The files the scene was read from: its truth, and its prediction file or the
    #: image a detector ran on; None when evaluated from objects in memory.
    truth_file: Path | None = None
    pred_file: Path | None = None
    image_file: Path | None = None
    #: The labels' format for a scene read from a training-labels folder (``dota``,
    #: ``coco``...), None for a truth file.
    truth_format: str | None = None
    #: False when the truth's format has no covered flag (DOTA, YOLO-OBB): the scene is
    #: in no covered accuracy (its cars read as not covered, which judges nothing).
    covered_known: bool = True
    #: Whether the truth's labels are verified (a training-labels folder: True an
    #: analyst's, False the detector's as export-labels cut them); None: not said.
    truth_verified: bool | None = None
    #: How a detector read the image's 16-bit or float pixels (``linear``/``display``;
    #: None for 8-bit images, or predictions from files) and what said so:
    #: ``image`` (its label or truth file, or its sidecar), ``--radiometry`` or ``default``.
    radiometry: str | None = None
    radiometry_from: str | None = None
    #: What was moved out of pixels into the image's CRS to score the scene, e.g.
    #: "predictions in pixels of X.png placed in EPSG:32652 by its world file X.pgw"
    #: (:func:`same_frame`); None when truth and prediction came in one frame.
    frame_moved: str | None = None

    @property
    def is_presence(self) -> bool:
        """A presence scene: scored on its long-train flag, never as a count."""
        return is_presence(self.method)

    @property
    def count_error(self) -> float:
        return float(self.n_pred) - self.n_truth


def truth_length_m(truth: FeatureSet, gsd: float | None = None) -> float | None:
    """The occupied track length of a truth: the total length of its boxes (long sides)
    in metres. Pixel boxes are scaled by ``gsd`` (or the truth's); boxes in a
    geographic CRS are measured on the ellipsoid; None where the scale is unknown."""
    boxes = [d.box for d in truth.detections]
    if not boxes:
        return 0.0
    if truth.crs is None:
        scale = gsd if gsd is not None else truth.gsd
        if scale is None or not scale > 0:
            return None
        return float(sum(b.length for b in boxes)) * float(scale)
    from pyproj import CRS, Geod
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_user_input(truth.crs)
    except CRSError:
        return None
    if crs.is_geographic:
        geod = Geod(ellps="WGS84")
        total = 0.0
        for b in boxes:
            a = np.deg2rad(b.angle)
            dx, dy = np.cos(a) * b.length / 2.0, np.sin(a) * b.length / 2.0
            _, _, dist = geod.inv(b.cx - dx, b.cy - dy, b.cx + dx, b.cy + dy)
            total += float(dist)
        return total
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return float(sum(b.length for b in boxes)) * float(unit or 1.0)


#: Cars of a truth are coupled in one string when they lie end to end on one track:
#: axes within STRING_ANGLE_DEG, centres within STRING_ACROSS_M of each other's axis
#: line and their ends less than STRING_GAP_M apart.
STRING_GAP_M = 2.0
STRING_ACROSS_M = 1.5
STRING_ANGLE_DEG = 15.0


def truth_longest_string_m(truth: FeatureSet, gsd: float | None = None) -> float | None:
    """The length (metres) of a truth's longest string of coupled cars (end to end on
    one track; a string on the next track is another string), its cars' lengths summed.
    Pixel boxes are scaled by ``gsd`` (or the truth's); boxes in a geographic CRS are
    measured in a local azimuthal equidistant projection; None where the scale is
    unknown."""
    boxes = [d.box for d in truth.detections]
    if not boxes:
        return 0.0
    corners = np.array([b.corners() for b in boxes], dtype=np.float64)  # (n, 4, 2)
    if truth.crs is None:
        scale = gsd if gsd is not None else truth.gsd
        if scale is None or not scale > 0:
            return None
        corners = corners * float(scale)
    else:
        from pyproj import CRS, Transformer
        from pyproj.exceptions import CRSError

        try:
            crs = CRS.from_user_input(truth.crs)
        except CRSError:
            return None
        if crs.is_geographic:
            lon, lat = corners[..., 0].mean(), corners[..., 1].mean()
            local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +units=m")
            to_m = Transformer.from_crs(crs, local, always_xy=True)
            x, y = to_m.transform(corners[..., 0], corners[..., 1])
            corners = np.stack([np.asarray(x), np.asarray(y)], axis=-1)
        else:
            unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
            corners = corners * float(unit or 1.0)
    centre = corners.mean(axis=1)
    side_a = corners[:, 1] - corners[:, 0]
    side_b = corners[:, 2] - corners[:, 1]
    long_a = np.hypot(*side_a.T) >= np.hypot(*side_b.T)
    axis = np.where(long_a[:, None], side_a, side_b)
    length = np.hypot(*axis.T)
    axis = axis / np.maximum(length, 1e-9)[:, None]
    # pairs end to end on one track (candidates from a spatial index, not all n x n),
    # then strings as connected groups (union-find)
    from shapely import STRtree, polygons

    shapes = np.asarray(polygons(corners), dtype=object)
    tree = STRtree(shapes)
    i, j = tree.query(shapes, predicate="dwithin", distance=STRING_GAP_M)
    keep = i < j
    i, j = i[keep], j[keep]
    d = centre[j] - centre[i]
    along = np.abs((d * axis[i]).sum(axis=1))
    across = np.abs(d[:, 0] * axis[i, 1] - d[:, 1] * axis[i, 0])
    parallel = np.abs((axis[i] * axis[j]).sum(axis=1)) >= math.cos(math.radians(STRING_ANGLE_DEG))
    gap = along - (length[i] + length[j]) / 2.0
    coupled = parallel & (across <= STRING_ACROSS_M) & (gap < STRING_GAP_M)
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in zip(i[coupled], j[coupled], strict=True):
        parent[root(int(a))] = root(int(b))
    totals: dict[int, float] = {}
    for i, n in enumerate(length):
        totals[root(i)] = totals.get(root(i), 0.0) + float(n)
    return max(totals.values())


def _predicted_presence(pred: FeatureSet, present: bool | None) -> bool | None:
    """The long-train flag of a presence prediction: ``present`` as the detector or the
    file's ``coarse`` block gave it; else from its car equivalents (the occupied length
    over the conventional car's); None when it has neither."""
    if present is not None:
        return bool(present)
    if pred.car_equivalents is None:
        return None
    from railwatch.detect.coarse import CONVENTIONAL_CAR_M, LONG_TRAIN_M

    return bool(pred.car_equivalents * CONVENTIONAL_CAR_M >= LONG_TRAIN_M)


def evaluate_scene(
    name: str,
    truth: FeatureSet,
    pred: FeatureSet,
    *,
    gsd: float | None = None,
    present: bool | None = None,
    measured: bool = True,
) -> SceneEval:
    """Compare the predictions of one scene with its truth. ``present`` is the long-train
    flag of a presence prediction (10 m and coarser; the ``coarse.present`` of
    ``railwatch detect``'s GeoJSON), taken from its car equivalents when not given.
    ``measured`` False marks a 1.5-5 m estimate that read no track: it is in no count
    error (:attr:`SceneEval.measured`)."""
    scene_gsd = gsd if gsd is not None else (truth.gsd if truth.gsd is not None else pred.gsd)
    t, p = truth.detections, pred.detections
    tcls = dict(sorted(_count(d.cls for d in t).items()))
    if is_presence(pred.method):
        from railwatch.detect.coarse import LONG_TRAIN_M

        length = truth_length_m(truth, scene_gsd)
        longest = truth_longest_string_m(truth, scene_gsd)
        est = pred.car_equivalents if pred.car_equivalents is not None else float(len(p))
        return SceneEval(
            name,
            scene_gsd,
            pred.method,
            len(t),
            est,
            {},
            tcls,
            {},
            long_train_pred=_predicted_presence(pred, present),
            long_train_truth=None if longest is None else bool(longest >= LONG_TRAIN_M),
            truth_length_m=None if length is None else round(length, 1),
            truth_longest_string_m=None if longest is None else round(longest, 1),
        )
    if pred.method != "objects":
        est = pred.car_equivalents if pred.car_equivalents is not None else float(len(p))
        return SceneEval(name, scene_gsd, pred.method, len(t), est, {}, tcls, {}, measured=measured)
    prf: dict[float, PRF] = {}
    m03: Matching | None = None
    for thr in IOU_THRESHOLDS:
        mm = match(t, p, thr)
        prf[thr] = PRF(mm.tp, mm.fp, mm.fn)
        if thr == IOU_THRESHOLDS[0]:
            m03 = mm
    pairs = m03.pairs if m03 is not None else ()
    cls_ok = sum(1 for a, b, _ in pairs if t[a].cls == p[b].cls)
    cov_ok = sum(1 for a, b, _ in pairs if t[a].covered == p[b].covered)
    typed = [(a, b) for a, b, _ in pairs if p[b].cls != GENERIC_CLASS]
    judged = [(a, b) for a, b in typed if t[a].cls != GENERIC_CLASS]
    return SceneEval(
        name,
        scene_gsd,
        "objects",
        len(t),
        float(len(p)),
        prf,
        tcls,
        dict(sorted(_count(d.cls for d in p).items())),
        cls_ok,
        cov_ok,
        len(pairs),
        len(typed),
        sum(1 for a, b in judged if t[a].cls == p[b].cls),
        len(judged),
    )


def _count(items: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for k in items:
        out[k] += 1
    return dict(out)


def _count_errors(scenes: Sequence[SceneEval]) -> dict[str, float | int | None]:
    errs = np.array([s.count_error for s in scenes], dtype=np.float64)
    truths = np.array([s.n_truth for s in scenes], dtype=np.float64)
    pos = truths > 0
    return {
        "scenes": len(scenes),
        "mae": round(float(np.abs(errs).mean()), 3) if len(errs) else None,
        "mape": round(float((np.abs(errs[pos]) / truths[pos]).mean()), 4) if pos.any() else None,
        # the scenes' absolute errors summed, over the truth: never negative
        "total_relative_error": (
            round(float(np.abs(errs).sum() / truths.sum()), 4) if truths.sum() else None
        ),
        # signed: (all predicted - all truth) / all truth, the count's net bias
        "net_relative_error": (
            round(float(errs.sum() / truths.sum()), 4) if truths.sum() else None
        ),
        "bias": round(float(errs.mean()), 3) if len(errs) else None,
        "within_15pct": (
            round(float((np.abs(errs[pos]) <= COARSE_TOLERANCE * truths[pos]).mean()), 4)
            if pos.any()
            else None
        ),
        # the scenes `mape` and `within_15pct` are over: those with cars in the truth (a
        # relative error is undefined at 0); the others, and what was predicted in them,
        # said beside them (until session 39 an empty yard given 21 false cars left MAPE
        # 0 % and within ±15 % 100 % over "4 scenes" without a word)
        "relative_scenes": int(pos.sum()),
        "empty_truth_scenes": int((~pos).sum()),
        "empty_truth_with_predictions": int((errs[~pos] > 0).sum()),
        "empty_truth_predicted": round(float(errs[~pos].sum()), 3),
    }


def _presence_summary(scenes: Sequence[SceneEval]) -> dict[str, Any]:
    """Long-train flags scored: right, wrong (``missed``: a long train said absent;
    ``false_alarms``: said present where the truth has none) and ``unknown`` (no flag
    predicted, or no truth length); ``accuracy`` over the right and wrong."""
    known = [s for s in scenes if s.long_train_pred is not None and s.long_train_truth is not None]
    right = sum(1 for s in known if s.long_train_pred == s.long_train_truth)
    return {
        "scenes": len(scenes),
        "right": right,
        "wrong": len(known) - right,
        "missed": sum(1 for s in known if s.long_train_truth and not s.long_train_pred),
        "false_alarms": sum(1 for s in known if s.long_train_pred and not s.long_train_truth),
        "unknown": len(scenes) - len(known),
        "accuracy": round(right / len(known), 4) if known else None,
    }


def _group_summary(scenes: Sequence[SceneEval]) -> dict[str, Any]:
    objects = [s for s in scenes if s.method == "objects"]
    presence = [s for s in scenes if s.is_presence]
    # a presence scene tells no count: it is scored on its flag, in no count error
    out: dict[str, Any] = {
        "scenes": len(scenes),
        "count": _count_errors([s for s in scenes if not s.is_presence and s.measured]),
    }
    unmeasured = sum(1 for s in scenes if not s.is_presence and not s.measured)
    if unmeasured:
        out["count"]["not_measured"] = unmeasured
    if presence:
        out["presence"] = _presence_summary(presence)
    # the scenes matched box by box: not those of objects reviewed by count only
    # (``railwatch eval --site``), which have no box to match
    boxed = [s for s in objects if s.prf]
    for thr in IOU_THRESHOLDS:
        total = PRF(0, 0, 0)
        for s in boxed:
            total = total + s.prf.get(thr, PRF(0, 0, 0))
        if objects:
            out[f"iou{thr:g}"] = {"scenes": len(boxed), **total.as_dict()}
    matched = sum(s.matched for s in objects)
    cov = [s for s in objects if s.covered_known]
    if sum(s.matched for s in cov):
        out["covered_accuracy"] = round(
            sum(s.covered_correct for s in cov) / sum(s.matched for s in cov), 4
        )
    if matched:
        out["class_accuracy"] = round(sum(s.class_correct for s in objects) / matched, 4)
        typed = sum(s.typed for s in objects)
        out["typed_share"] = round(typed / matched, 4)
        # right among the typed cars whose truth has a type (untyped labels cannot judge)
        judged = sum(s.typed_judged for s in objects)
        if judged:
            out["typed_accuracy"] = round(sum(s.typed_correct for s in objects) / judged, 4)
    return out


def summarise(scenes: Sequence[SceneEval]) -> dict[str, Any]:
    """Overall, per-resolution and per-class summary (a JSON-ready dict)."""
    by_res: dict[str, list[SceneEval]] = defaultdict(list)
    for s in scenes:
        by_res[resolution_group(s.gsd)].append(s)
    classes = sorted({c for s in scenes for c in (*s.truth_by_class, *s.pred_by_class)})
    per_class: dict[str, Any] = {}
    # only cars counted one by one have a type: a 3 m length or 10 m presence scene
    # tells none, so its truth is in no class's figures, and a class seen only there
    # has none at all (null, not a truth of 0)
    objects = [s for s in scenes if s.method == "objects"]
    for c in classes:
        errs = np.array(
            [s.pred_by_class.get(c, 0) - s.truth_by_class.get(c, 0) for s in objects],
            dtype=np.float64,
        )
        truth_n = sum(s.truth_by_class.get(c, 0) for s in objects)
        per_class[c] = {
            "truth": truth_n if objects else None,
            "pred": sum(s.pred_by_class.get(c, 0) for s in objects) if objects else None,
            "count_mae": round(float(np.abs(errs).mean()), 3) if len(errs) else None,
            "total_relative_error": (
                round(float(np.abs(errs).sum() / truth_n), 4) if truth_n else None
            ),
        }
    return {
        "overall": _group_summary(scenes),
        "by_resolution": {
            k: _group_summary(v) for k, v in sorted(by_res.items(), key=lambda kv: _sort_key(kv[0]))
        },
        "by_class": per_class,
        "scenes": [_scene_row(s) for s in scenes],
    }


def _scene_row(s: SceneEval) -> dict[str, Any]:
    """One scene of the report; a presence scene gives its flags, no count."""
    row: dict[str, Any] = {
        "name": s.name,
        "gsd": s.gsd,
        "method": s.method,
        "truth": s.n_truth,
        "pred": None if s.is_presence else s.n_pred,
        "count_error": None if s.is_presence else round(s.count_error, 3),
        **{f"f1_iou{t:g}": _round(p.f1) for t, p in s.prf.items()},
    }
    if s.truth_file is not None:
        row["truth_file"] = str(s.truth_file)
    if s.pred_file is not None:
        row["pred_file"] = str(s.pred_file)
    if s.image_file is not None:
        row["image_file"] = str(s.image_file)
    if s.truth_format is not None:
        row["truth_format"] = s.truth_format
    if not s.covered_known:
        row["covered_known"] = False
    if s.truth_format is not None:  # a training-labels folder: said or not (null)
        row["truth_verified"] = s.truth_verified
    elif s.truth_verified is False:  # a truth file that is `detect`'s output (session 49)
        row["truth_verified"] = False
    if s.radiometry is not None:
        row["radiometry"] = s.radiometry
        row["radiometry_from"] = s.radiometry_from
    if s.frame_moved is not None:
        row["frame_moved"] = s.frame_moved
    if s.is_presence:
        row["long_train_present"] = s.long_train_pred
        row["long_train_truth"] = s.long_train_truth
        row["truth_length_m"] = s.truth_length_m
        row["truth_longest_string_m"] = s.truth_longest_string_m
    return row


def resolution_group(gsd: float | None) -> str:
    """The ``by_resolution`` group of a scene of ``gsd`` metres: the GSD to two significant
    digits ("0.3", "0.75", "10"; "unknown" without one). A scene's GSD as `detect` wrote
    it (an image in degrees: 0.3003408 m) made a group of its own until 2026-12-06
    (session 39): a table row per scene of real images instead of one per resolution."""
    if gsd is None or not math.isfinite(gsd) or gsd <= 0:
        return "unknown"
    return f"{float(f'{gsd:.2g}'):g}"


def _sort_key(label: str) -> float:
    try:
        return float(label)
    except ValueError:
        return float("inf")


#: Truth file names, the first found for a scene wins (as ``railwatch train`` reads
#: label files); suffixes matched ignoring case.
TRUTH_SUFFIXES: tuple[str, ...] = (".truth.geojson", ".labels.geojson")
#: Prediction file names tried for scene ``NAME``, in this order.
PRED_SUFFIXES: tuple[str, ...] = (".detections.geojson", ".geojson", ".pred.geojson")
_IMAGE_SUFFIXES: tuple[str, ...] = (".tif", ".tiff", ".png", ".jpg", ".jpeg")
#: Why a prediction file found under ``--pred`` is not evaluated, when it pairs with no
#: truth (:attr:`Pairing.pred_left_out`).
NO_TRUTH = "matches no truth file"
#: ``.geojson`` files beside images that are neither truth nor predictions.
_NOT_PRED_SUFFIXES: tuple[str, ...] = (*TRUTH_SUFFIXES, ".tracks.geojson")


@dataclass(frozen=True)
class ImageGeoref:
    """Where an image's pixels lie on the ground: ``crs`` (``EPSG:n``, else WKT) and the
    affine ``transform`` ``(a, b, c, d, e, f)`` of its pixels (x = a * col + b * row + c,
    y = d * col + e * row + f; (0, 0) the top-left corner of the top-left pixel), its
    size in pixels and what gives it (``source``: its world file, or its own
    geotransform), as GDAL reads it (:func:`image_georef`)."""

    image: Path
    crs: str
    transform: tuple[float, float, float, float, float, float]
    width: int
    height: int
    source: str


#: World files GDAL reads beside a PNG or JPEG (``NAME.pgw`` as export-labels writes it),
#: which holds no geotransform of its own.
_WORLD_FILE_SUFFIXES = (".pgw", ".pngw", ".wld", ".jgw", ".jpgw")


def _crs_text(crs: Any) -> str:
    """A rasterio CRS as eval names frames: ``EPSG:n``, else its WKT
    (:func:`railwatch.imagery.inspect.crs_text`)."""
    from railwatch.imagery.inspect import crs_text

    return crs_text(crs)


def _georef_of(path: Path, crs: Any, transform: Any, width: int, height: int) -> ImageGeoref:
    source = "geotransform"
    if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
        world = [w for w in (path.with_suffix(x) for x in _WORLD_FILE_SUFFIXES) if w.is_file()]
        source = f"world file {world[0].name}" if world else f"{path.name}.aux.xml"
    a, b, c, d, e, f = (float(v) for v in tuple(transform)[:6])
    return ImageGeoref(path, _crs_text(crs), (a, b, c, d, e, f), width, height, source)


def image_georef(path: Path) -> ImageGeoref | None:
    """Where the pixels of the image ``path`` lie (:class:`ImageGeoref`), read as GDAL
    (QGIS, rasterio) reads it, its world file and ``NAME.aux.xml`` included; None when it
    is not georeferenced (or cannot be opened: the caller says what is missing)."""
    from railwatch.detect import labels as lab

    try:
        raster = lab._open(path)
    except InputError:
        return None
    if raster.crs is None:
        return None
    return _georef_of(path, raster.crs, raster.transform, raster.width, raster.height)


@dataclass(frozen=True)
class TruthFile:
    """One truth file found under ``--truth`` and what it pairs with: ``scene`` is its
    path relative to the truth folder without the suffix (``siteA/yard1``), ``pred``
    its prediction file or ``image`` the image a detector runs on (None when missing).
    A labelled image of a training-labels folder (:func:`read_labelled_truth`) has its
    cars read already (``features``), ``truth`` is the file they were read from (an
    import-labels ``railwatch_labels.json`` holds many images) and ``source`` the
    labels' format (``dota``, ``coco``...: :attr:`railwatch.detect.labels.LabelledImage.
    source`)."""

    scene: str
    truth: Path
    pred: Path | None = None
    image: Path | None = None
    features: FeatureSet | None = field(default=None, compare=False)
    source: str | None = None
    #: Whether the labels are verified (:attr:`railwatch.detect.labels.LabelledImage.
    #: verified`; None: not said, or a truth file)
    verified: bool | None = None
    #: How the image's 16-bit or float pixels are to be read, as its label or truth file
    #: or its sidecar says (None: they say nothing)
    radiometry: Radiometry | None = None
    #: Where the pixels of a training-labels folder's image lie on the ground (None: not
    #: georeferenced, or a truth file, whose image is looked for when needed)
    georef: ImageGeoref | None = field(default=None, compare=False)
    #: The image a training-labels folder's labels were read with (kept when ``image``
    #: is not, with predictions from files): where pixel coordinates lie
    labelled_image: Path | None = None

    @property
    def covered_known(self) -> bool:
        """False for labels in a format that has no covered flag (DOTA, YOLO-OBB): their
        cars read as not covered, which says nothing of a tarpaulin."""
        from railwatch.detect.labels import NO_COVERED_FLAG

        return self.source not in NO_COVERED_FLAG


@dataclass(frozen=True)
class Pairing:
    """How the files of a truth folder (and a prediction folder) pair up, worked out
    before anything is read: ``scenes`` (sorted), and the files found but not evaluated
    as ``(file, reason)``: ``truth_left_out`` (a ``.labels`` file beside the scene's
    ``.truth`` file) and ``pred_left_out`` (prediction files that match no truth)."""

    scenes: tuple[TruthFile, ...]
    truth_left_out: tuple[tuple[Path, str], ...] = ()
    pred_left_out: tuple[tuple[Path, str], ...] = ()
    #: What a training-labels folder gave (None for a folder of truth files).
    labelled: LabelledTruth | None = None
    #: Whether each scene's ``radiometry`` has been read (:func:`with_radiometry`).
    radiometry_read: bool = False

    @property
    def unmatched(self) -> tuple[TruthFile, ...]:
        """Scenes with no prediction file (or no image for a detector)."""
        return tuple(t for t in self.scenes if t.pred is None and t.image is None)


@dataclass(frozen=True)
class LabelledTruth:
    """What :func:`read_labelled_truth` read from a training-labels folder: the labelled
    images with their cars (``scenes``), each format's number of images
    (``sources``: ``import-labels (coco)``, ``dota``, ``geojson``), the images found
    but not evaluated with why (``left_out``: no ground sample distance, no label),
    and the cars by class."""

    root: Path
    scenes: tuple[TruthFile, ...]
    sources: dict[str, int]
    left_out: tuple[tuple[Path, str], ...] = ()
    by_class: dict[str, int] = field(default_factory=dict)
    #: The images read by where their labels come from (``verified``, ``detector``,
    #: ``unknown``), those left out by ``verified_only`` included
    provenance: dict[str, int] = field(default_factory=dict)
    #: Whether only the verified images are scored, and the others, left out
    verified_only: bool = False
    unverified: tuple[TruthFile, ...] = ()

    @property
    def cars(self) -> int:
        return sum(self.by_class.values())

    def as_dict(self) -> dict[str, Any]:
        """The report's ``truth`` block."""
        out = {
            "dir": str(self.root),
            "read_as": "labels (as railwatch train --labels reads them)",
            "images": len(self.scenes),
            "cars": self.cars,
            "by_class": dict(self.by_class),
            "sources": dict(self.sources),
            "covered_known": sum(1 for t in self.scenes if t.covered_known),
            "provenance": dict(self.provenance),
        }
        if self.verified_only:
            out["verified_only"] = True
            out["unverified_left_out"] = len(self.unverified)
        return out


def is_labels_folder(folder: str | Path) -> bool:
    """Whether ``folder`` (or a subfolder, hidden ones left out) holds labels in a
    training layout that has no per-image truth file: an import-labels
    ``railwatch_labels.json`` or a DOTA ``labelTxt/`` folder (export-labels)."""
    from railwatch.detect.labels import MANIFEST

    base = Path(folder)
    if not base.is_dir():
        return False
    for _here, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if MANIFEST in files or "labelTxt" in dirs:
            return True
    return False


def read_labelled_truth(root: str | Path, *, verified_only: bool = False) -> LabelledTruth:
    """The labelled images of a training-labels folder as truth, read by the loader
    ``railwatch train --labels`` uses (:mod:`railwatch.detect.labels`: import-labels
    ``railwatch_labels.json``, DOTA ``labelTxt/``, GeoJSON label files; subfolders
    too), so that a file means here what it means to training: classes, covered flags,
    pixel corners, each image's gsd, the same checks (a polygon that is not one car, an
    image of another size...), all problems raised together as an :class:`InputError`.

    Each image's cars are in its file's pixels (column, row) with its gsd, or, for a
    georeferenced image, in its CRS (what ``railwatch detect`` writes for it). An image
    without a ground sample distance cannot be scored (the detector cannot scale it):
    it is left out, with why and how to give one; so are images no label names.

    Each image's ``verified`` and ``radiometry`` are what its files say. With
    ``verified_only`` only the images whose labels are verified are scored, the others
    left out with why (none verified: an :class:`InputError` saying how to get some)."""
    from railwatch.detect import labels as lab

    base = Path(root)
    problems = lab._Problems()
    entries = lab._discover(base, problems)
    scenes: list[TruthFile] = []
    left_out: list[tuple[Path, str]] = []
    sources: dict[str, int] = defaultdict(int)
    by_class: dict[str, int] = defaultdict(int)
    provenance = dict.fromkeys(lab.PROVENANCE, 0)
    unverified: list[TruthFile] = []
    seen: set[Path] = set()
    for e in entries:
        short = e.name.rsplit("/", 1)[-1]
        if e.image_path is None:
            problems.add(
                e.label_path,
                f"no image {short}.tif/.png/.jpg beside the label file (image {short!r} missing)",
            )
            continue
        seen.add(e.image_path.resolve())
        label = e.label
        if label is None and e.kind == "manifest":
            continue  # its problem is recorded
        if label is None:
            read = lab._read_geojson if e.kind == "geojson" else lab._read_dota
            label = read(e.label_path, problems)
            if label is None:
                continue
        try:
            raster = lab._open(e.image_path)
            gsd = label.gsd or lab._sidecar_gsd(e.image_path) or raster.gsd
        except InputError as err:
            problems.add(e.image_path, str(err))
            continue
        if gsd is None:
            where = (
                f"{lab.MANIFEST} gives none for it ({label.source} labels carry none: run "
                'railwatch import-labels again with --gsd METRES, or add "gsd": METRES to '
                "its entry)"
                if e.kind == "manifest"
                else f"{e.label_path.name} gives none and the image is not georeferenced "
                + (
                    "(add a line 'gsd:METRES' at its top"
                    if e.kind == "dota"
                    else '(add a top-level "gsd": METRES member'
                )
                + f', or a sidecar {e.image_path.stem}.json {{"gsd": METRES}})'
            )
            left_out.append(
                (e.image_path, f"no ground sample distance, so no detector can scale it: {where}")
            )
            continue
        item = lab._load_one(
            e.name,
            e.label_path,
            e.image_path,
            e.kind,
            problems,
            label,
            e.verified,
            command="railwatch eval",
        )
        if item is None:
            continue
        sh, sw = item.image.shape[:2]
        scale = np.array([raster.width / sw, raster.height / sh])
        rings = [car.polygon * scale for car in item.cars]  # the file's pixels
        crs: str | None = None
        georef: ImageGeoref | None = None
        if raster.crs is not None:
            t = raster.transform
            rings = [
                np.column_stack(
                    [t.a * r[:, 0] + t.b * r[:, 1] + t.c, t.d * r[:, 0] + t.e * r[:, 1] + t.f]
                )
                for r in rings
            ]
            georef = _georef_of(e.image_path, raster.crs, t, raster.width, raster.height)
            crs = georef.crs
        from shapely.geometry import Polygon

        from railwatch.detect.geojson import box_from_polygon

        dets = tuple(
            Detection(box_from_polygon(Polygon(r)), cls=car.cls, covered=car.covered)
            for r, car in zip(rings, item.cars, strict=True)
        )
        provenance[item.provenance] += 1
        tfile = TruthFile(
            e.name,
            e.label_path,
            image=e.image_path,
            features=FeatureSet(dets, crs, item.native_gsd),
            source=item.source,
            verified=item.verified,
            radiometry=item.radiometry,
            georef=georef,
            labelled_image=e.image_path,
        )
        if verified_only and item.verified is not True:
            unverified.append(tfile)
            why = "their files do not say"
            if item.verified is False:
                why = "the detector's"
            reason = f"its labels are not verified ({why}): left out by --verified-only"
            left_out.append((e.image_path, reason))
            continue
        for car in item.cars:
            by_class[car.cls] += 1
        kind = f"import-labels ({item.source})" if e.kind == "manifest" else item.source
        sources[kind] += 1
        scenes.append(tfile)
    problems.raise_if_any(base)
    if verified_only and not scenes and unverified:
        raise InputError(
            f"--verified-only: no labelled image in {base} is verified "
            f"({lab.describe_provenance(provenance)}): " + lab.HOW_TO_VERIFY
        )
    for folder in lab._folders(base):
        for p in sorted(folder.iterdir()):
            if p.suffix.lower() in lab.IMAGE_SUFFIXES and p.is_file() and p.resolve() not in seen:
                left_out.append((p, "no label file names this image"))
    if not scenes:
        raise InputError(
            f"no labelled image in {base} can be scored"
            + (
                f": {_names([f'{f.name} ({why})' for f, why in left_out])}"
                if left_out
                else " (no label names an image)"
            )
        )
    scenes.sort(key=lambda t: t.scene)
    return LabelledTruth(
        base,
        tuple(scenes),
        dict(sorted(sources.items())),
        tuple(left_out),
        dict(sorted(by_class.items())),
        provenance,
        verified_only,
        tuple(unverified),
    )


def _names(items: Sequence[str], shown: int = 10) -> str:
    return some(items, shown)


def _suffix_of(name: str, suffixes: Sequence[str]) -> str | None:
    low = name.lower()
    return next((x for x in suffixes if low.endswith(x) and len(low) > len(x)), None)


def _files_under(folder: Path) -> list[Path]:
    """Files under ``folder`` and its subfolders (hidden ones left out), sorted."""
    return sorted(
        f
        for f in folder.rglob("*")
        if f.is_file() and not any(part.startswith(".") for part in f.relative_to(folder).parts)
    )


def _lookup(index: dict[str, list[Path]], exact: dict[str, Path], key: str) -> Path | None:
    """``key`` (a relative path) in a folder's files: as written, else ignoring case
    when that names one file only."""
    if key in exact:
        return exact[key]
    found = index.get(key.lower(), [])
    return found[0] if len(found) == 1 else None


def pair_files(
    truth_dir: str | Path, pred_dir: str | Path | None = None, *, verified_only: bool = False
) -> Pairing:
    """Find the truth files under ``truth_dir`` (``NAME.truth.geojson`` or
    ``NAME.labels.geojson``, in subfolders too) and pair each with its prediction in
    ``pred_dir`` (``NAME.detections.geojson``, ``NAME.geojson`` or ``NAME.pred.geojson``
    in the same subfolder, or at the top of ``pred_dir`` when no other truth file has
    that name) or, without ``pred_dir``, with its image beside it (``NAME.tif``,
    ``.tiff``, ``.png``, ``.jpg``, ``.jpeg``). Names and suffixes are matched as written,
    else ignoring case where that names one file.

    A folder of training labels (:func:`is_labels_folder`: what ``railwatch
    import-labels`` or ``export-labels --format dota`` writes) is read as ``railwatch
    train --labels`` reads it (:func:`read_labelled_truth`), each labelled image a
    scene named by its path without suffix, paired with its prediction as above or
    with itself for a detector; ``verified_only`` scores only its images whose labels
    are verified (:func:`read_labelled_truth`; refused for a folder of truth files,
    which says nothing of it)."""
    tdir = Path(truth_dir)
    if is_labels_folder(tdir):
        labelled = read_labelled_truth(tdir, verified_only=verified_only)
        return _pair_labelled(labelled, pred_dir)
    if verified_only:
        raise InputError(
            f"--verified-only keeps the verified images of a training-labels folder (what "
            f"import-labels writes, or an export-labels DOTA folder); {tdir} holds truth "
            "files, which say nothing of it: leave out --verified-only"
        )
    truth_files = _files_under(tdir)
    found: dict[str, list[tuple[int, Path]]] = defaultdict(list)
    for f in truth_files:
        suffix = _suffix_of(f.name, TRUTH_SUFFIXES)
        if suffix is not None:
            scene = f.relative_to(tdir).as_posix()[: -len(suffix)]
            found[scene].append((TRUTH_SUFFIXES.index(suffix), f))
    if not found:
        from railwatch.detect.labels import other_layout_hint

        raise InputError(
            f"no NAME.truth.geojson files in {tdir}{other_layout_hint(tdir, '--truth')}: point "
            "--truth at a folder of simulator "
            "output (`railwatch simulate --scene ... --out DIR` or `railwatch simulate "
            "--scenario NAME --out DIR`) or of hand-made truth files (name each after its "
            "image: yard1.tif, yard1.truth.geojson)"
        )
    left_out: list[tuple[Path, str]] = []
    chosen: dict[str, Path] = {}
    for scene, files in sorted(found.items()):
        files.sort(key=lambda kf: (kf[0], kf[1].name))
        chosen[scene] = files[0][1]
        for _, other in files[1:]:
            left_out.append((other, f"{files[0][1].name} is the truth of this scene"))
    if pred_dir is None:
        images = _folder_index(tdir, truth_files)
        scenes = tuple(
            TruthFile(scene, tf, image=_find(images, scene, _IMAGE_SUFFIXES))
            for scene, tf in chosen.items()
        )
        return Pairing(scenes, tuple(left_out))
    scenes, pred_left_out = _pair_pred([TruthFile(s, tf) for s, tf in chosen.items()], pred_dir)
    return Pairing(scenes, tuple(left_out), pred_left_out)


def _pair_labelled(labelled: LabelledTruth, pred_dir: str | Path | None) -> Pairing:
    """:func:`pair_files` for a training-labels folder (its scenes' radiometry read; the
    predictions of images left out by ``verified_only`` left out with them)."""
    if pred_dir is None:
        return Pairing(labelled.scenes, labelled.left_out, labelled=labelled, radiometry_read=True)
    n = len(labelled.scenes)
    paired, pred_left_out = _pair_pred([*labelled.scenes, *labelled.unverified], pred_dir)
    dropped = tuple(
        (t.pred, f"its image {t.scene}'s labels are not verified: left out by --verified-only")
        for t in paired[n:]
        if t.pred is not None
    )
    return Pairing(paired[:n], labelled.left_out, pred_left_out + dropped, labelled, True)


def _pair_pred(
    truths: Sequence[TruthFile], pred_dir: str | Path
) -> tuple[tuple[TruthFile, ...], tuple[tuple[Path, str], ...]]:
    """Each truth with its prediction file in ``pred_dir`` (see :func:`pair_files`),
    and the prediction files that match none."""
    pdir = Path(pred_dir)
    pred_files = [
        f
        for f in _files_under(pdir)
        if _suffix_of(f.name, PRED_SUFFIXES) and not _suffix_of(f.name, _NOT_PRED_SUFFIXES)
    ]
    index = _folder_index(pdir, pred_files)
    base_count: dict[str, int] = defaultdict(int)
    for t in truths:
        base_count[t.scene.rsplit("/", 1)[-1].lower()] += 1
    paired: list[TruthFile] = []
    for t in truths:
        pf = _find(index, t.scene, PRED_SUFFIXES)
        base = t.scene.rsplit("/", 1)[-1]
        if pf is None and base != t.scene and base_count[base.lower()] == 1:
            pf = _find(index, base, PRED_SUFFIXES)  # `detect --out-dir` writes flat
        paired.append(replace(t, pred=pf, image=None))
    used = {t.pred for t in paired}
    pred_left_out = tuple((f, NO_TRUTH) for f in pred_files if f not in used)
    return tuple(paired), pred_left_out


def _folder_index(
    folder: Path, files: Iterable[Path]
) -> tuple[dict[str, Path], dict[str, list[Path]]]:
    exact: dict[str, Path] = {}
    low: dict[str, list[Path]] = defaultdict(list)
    for f in files:
        rel = f.relative_to(folder).as_posix()
        exact[rel] = f
        low[rel.lower()].append(f)
    return exact, low


def _find(
    index: tuple[dict[str, Path], dict[str, list[Path]]], name: str, suffixes: Sequence[str]
) -> Path | None:
    exact, low = index
    for suffix in suffixes:
        for cand in (f"{name}{suffix}", f"{name}{suffix.upper()}"):
            if (hit := _lookup(low, exact, cand)) is not None:
                return hit
    return None


def _stac_gsd(truth_file: Path, scene: str) -> float | None:
    """The ``gsd`` of the STAC item ``NAME.json`` beside a truth file (the simulator's), or
    the top-level ``gsd`` of a sidecar ``{"gsd": METRES}`` as label reading takes it
    (since session 49),
    by the one rule of every reader of a file beside an image
    (:func:`railwatch.imagery.inspect.sidecar_json`, :func:`~railwatch.imagery.inspect.
    is_stac_item`): another tool's JSON (no ``"type": "Feature"`` nor ``stac_version``)
    is left alone; one that is not valid JSON but names a STAC item's keys is refused
    (an :class:`InputError` saying to fix or remove it). Until session 31 any JSON's
    ``properties.gsd`` was read and a broken item was taken for no gsd."""
    from railwatch.imagery.inspect import ITEM_MARKS, is_stac_item, sidecar_json

    name = scene.rsplit("/", 1)[-1]
    try:
        doc = sidecar_json(
            truth_file.parent / f"{name}.json", truth_file.name, keys=(*ITEM_MARKS, "gsd")
        )
    except ImageryError as err:
        raise InputError(f"scene {scene}: {err}") from err
    if is_stac_item(doc):
        gsd = doc["properties"].get("gsd")
    elif isinstance(doc, dict):
        # label reading's own sidecar {"gsd": 0.3}, as `train --labels` reads it: a PNG's
        # truth saved by QGIS keeps no "gsd" of its own (session 49: eval --detector said
        # to give --gsd, an option eval has not)
        gsd = doc.get("gsd")
    else:
        return None
    if isinstance(gsd, bool) or not isinstance(gsd, int | float):
        return None
    return float(gsd) if math.isfinite(gsd) and gsd > 0 else None


def reproject(features: FeatureSet, to_crs: str) -> FeatureSet:
    """``features`` with every box moved into ``to_crs`` (corners transformed, the
    oriented box refitted to them)."""
    from pyproj import Transformer
    from pyproj.exceptions import CRSError
    from shapely.geometry import Polygon

    from railwatch.detect.geojson import box_from_polygon

    if features.crs is None or features.crs == to_crs:
        return features
    try:
        tr = Transformer.from_crs(features.crs, to_crs, always_xy=True)
    except CRSError as err:
        raise InputError(f"cannot transform {features.crs} to {to_crs}: {err}") from err
    moved = []
    for det in features.detections:
        xy = det.box.corners()
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        moved.append(replace(det, box=box_from_polygon(Polygon(np.column_stack([x, y])))))
    return replace(features, detections=tuple(moved), crs=to_crs)


@dataclass(frozen=True)
class Prediction:
    """What a detector run for :func:`evaluate_dirs` may return: its detections and,
    for a presence result (10 m and coarser), its long-train flag
    (:attr:`railwatch.detect.coarse.CoarseEstimate.present`)."""

    features: FeatureSet
    present: bool | None = None
    #: False when a 1.5-5 m estimate read no track (:attr:`SceneEval.measured`).
    measured: bool = True
    #: How the image's 16-bit or float pixels were read (None: an 8-bit image, read as
    #: it is; :attr:`railwatch.detect.api.DetectResult.radiometry`)
    radiometry: str | None = None


def _file_coarse(path: Path) -> tuple[bool | None, bool, bool]:
    """From a prediction file's ``coarse`` block (as ``railwatch detect`` writes it),
    read once: its long-train flag (``present``; None when it has none), whether its
    estimate measured anything (False when ``track_m`` is 0: no track was read) and
    whether it has the block at all."""
    try:
        coarse = json.loads(path.read_text(encoding="utf-8-sig")).get("coarse")
    except (OSError, ValueError, AttributeError):
        coarse = None
    if not isinstance(coarse, dict):
        return None, True, False
    flag, track_m = coarse.get("present"), coarse.get("track_m")
    unread = isinstance(track_m, int | float) and track_m == 0
    return (flag if isinstance(flag, bool) else None), not unread, True


def _check_dir(folder: Path, option: str, holding: str) -> None:
    """An :class:`InputError` unless ``folder`` is a folder, saying what it should hold."""
    if folder.is_dir():
        return
    state = "is a file" if folder.exists() else "does not exist"
    raise InputError(f"{option} {folder} {state}: give a folder of {holding}")


def _check_lonlat(features: FeatureSet, path: Path) -> None:
    """An :class:`InputError` when a file read as longitude/latitude (no ``crs`` member,
    RFC 7946, or one naming a geographic CRS: EPSG:4326, NAD83's EPSG:4269,
    ``OGC:CRS84``, ...) has coordinates that cannot be: compared as degrees, nothing
    would match (F1 0) and no error would say why. Until 2026-12-05 (session 34) only
    EPSG:4326 was checked: metres under EPSG:4269 or OGC:CRS84 ended in an internal
    error ('getX called on empty Point')."""
    if not is_geographic(features.crs) or not features.detections:
        return
    xy = np.concatenate([d.box.corners() for d in features.detections])
    if np.isfinite(xy).all() and np.abs(xy[:, 1]).max() <= 90 and np.abs(xy[:, 0]).max() <= 360:
        return  # (a car across 180 deg is joined with longitudes beyond 180)
    said = (
        "which a GeoJSON file without a 'crs' member (RFC 7946) or with one naming "
        "EPSG:4326 must have"
        if features.crs == WGS84
        else f"which its 'crs' member names ({features.crs}, a longitude/latitude CRS)"
    )
    raise InputError(
        f"{path}: its coordinates (e.g. {xy[0, 0]:.6g}, {xy[0, 1]:.6g}) are not longitude/"
        f"latitude, {said}: give the 'crs' member of the CRS they are in, e.g. "
        '"crs": {"type": "name", "properties": {"name": "EPSG:32652"}} (QGIS writes it when '
        'the layer is saved in that CRS), or "crs": null for pixel coordinates'
    )


def _metric_crs(truth: FeatureSet, pred: FeatureSet) -> str | None:
    """Where boxes in longitude/latitude are compared: the prediction's projected CRS,
    else the UTM zone of the truth's cars (None when the truth is not in lon/lat).
    Degrees are not the same length east and north, so a car at an angle is a
    parallelogram there, and its fitted box (and every IoU) is off."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if truth.crs is None or not truth.detections:
        return None
    try:
        if not CRS.from_user_input(truth.crs).is_geographic:
            return None
        if pred.crs is not None and not CRS.from_user_input(pred.crs).is_geographic:
            return pred.crs
    except CRSError as err:
        raise InputError(f"unknown CRS {truth.crs!r} or {pred.crs!r}: {err}") from err
    # the circular mean: a yard across 180° (cars at 179.99° and -179.99°) has its
    # plain mean near 0°, the UTM zone of the other side of the Earth, where a
    # 14 m car measures 40 m or more
    rad = np.radians([d.box.cx for d in truth.detections])
    lon = math.degrees(math.atan2(float(np.mean(np.sin(rad))), float(np.mean(np.cos(rad)))))
    lat = float(np.mean([d.box.cy for d in truth.detections]))
    zone = int(((lon + 180.0) % 360.0) // 6.0) + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def _truth_radiometry(tfile: TruthFile) -> Radiometry | None:
    """What a truth file's top-level ``radiometry`` (what ``railwatch detect`` writes),
    else its image's sidecar ``NAME.json``, says of how to read the image (None:
    nothing), as ``train --labels`` reads a label file; an :class:`InputError` naming the
    file for a value that is neither ``linear`` nor ``display``."""
    from railwatch.detect import labels as lab

    try:
        doc = json.loads(tfile.truth.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        doc = None  # read_geojson says what is wrong with it
    value = doc.get("radiometry") if isinstance(doc, dict) else None
    try:
        own = lab.radiometry_member(value, "its top-level")
    except InputError as err:
        raise InputError(f"{tfile.truth}: {err}") from err
    if own is not None or tfile.image is None:
        return own
    try:
        return lab.radiometry_member(lab.sidecar_value(tfile.image, "radiometry"), "its")
    except InputError as err:
        raise InputError(f"{tfile.image.with_suffix('.json')}: {err}") from err


def with_radiometry(pairing: Pairing) -> Pairing:
    """``pairing`` with each scene a detector runs on (its ``image``) given the
    radiometry its files state (:attr:`TruthFile.radiometry`): a training-labels
    folder's were read with its labels; a truth file's top-level ``radiometry``, else
    the image's sidecar's. Every file is read before any detector runs."""
    if pairing.radiometry_read:
        return pairing
    scenes = tuple(
        replace(t, radiometry=_truth_radiometry(t)) if t.image is not None else t
        for t in pairing.scenes
    )
    return replace(pairing, scenes=scenes, radiometry_read=True)


def evaluate_dirs(
    truth_dir: str | Path,
    *,
    pred_dir: str | Path | None = None,
    predict: Callable[[Path, float | None, FeatureSet, Radiometry], FeatureSet | Prediction]
    | None = None,
    on_scene: Callable[[str], None] | None = None,
    pairing: Pairing | None = None,
    radiometry: Radiometry | None = None,
) -> list[SceneEval]:
    """Evaluate every truth file of ``truth_dir`` (:func:`pair_files`: ``NAME.truth.geojson``
    or ``NAME.labels.geojson``, subfolders too) against its prediction file in
    ``pred_dir``, or against ``predict(image_path, gsd, truth)`` run on the image beside
    it (``gsd`` is given for non-georeferenced truth; ``truth.tracks`` may guide coarse
    scenes; a :class:`Prediction` carries a presence result's long-train flag), the
    fourth argument saying how to read the image's 16-bit or float pixels: its own
    radiometry where its files state one (:func:`with_radiometry`), else
    ``radiometry`` (the caller's default), else ``linear``. A truth
    file with no features is a scene with no cars. Every truth (and prediction) file is
    read before the first scene is evaluated, so a bad file stops nothing half-way; a
    scene without its prediction or image is an :class:`InputError` naming it.
    ``pairing`` is :func:`pair_files`'s result when the caller has it already."""
    tdir = Path(truth_dir)
    _check_dir(tdir, "--truth", "NAME.truth.geojson files (simulator output)")
    if (pred_dir is None) == (predict is None):
        raise InputError("give either a prediction directory or a detector, not both/neither")
    if pred_dir is not None:
        _check_dir(Path(pred_dir), "--pred", "NAME.detections.geojson (railwatch detect --out-dir)")
    pairs = pairing if pairing is not None else pair_files(tdir, pred_dir)
    if predict is not None:
        pairs = with_radiometry(pairs)
    if pairs.unmatched:
        first = pairs.unmatched[0]
        raise InputError(
            f"no prediction for scene {first.scene} in {pred_dir}: expected "
            f"{first.scene}.detections.geojson (railwatch detect --out-dir)"
            if pred_dir is not None
            else f"no image {first.scene}.tif/.png beside {first.truth} for the detector"
        )
    read: list[tuple[TruthFile, FeatureSet, FeatureSet | None, FrameMove | None]] = []
    from railwatch.detect.labels import is_detect_output

    other_image: list[str] = []
    no_scale: list[TruthFile] = []  # images a detector cannot be run on without a gsd
    detector_truth: set[str] = set()  # scenes whose truth is `detect`'s output
    for tfile in pairs.scenes:
        if tfile.features is not None:
            truth = tfile.features  # read from a labels folder (pixels or the image's CRS)
        else:
            data = _read_scene_file(tfile.truth, "truth")
            truth = from_feature_collection(data, source=str(tfile.truth))
            _check_lonlat(truth, tfile.truth)
            other_image += _made_on_other(data, tfile.truth, tfile)
            if isinstance(data, dict) and is_detect_output(data):
                detector_truth.add(tfile.scene)
        pred_fs = None
        moved = None
        if tfile.pred is not None:
            data = _read_scene_file(tfile.pred, "prediction")
            pred_fs = from_feature_collection(data, source=str(tfile.pred))
            _check_lonlat(pred_fs, tfile.pred)
            other_image += _made_on_other(data, tfile.pred, tfile)
            truth, pred_fs, moved = same_frame(tfile, truth, pred_fs)
        read.append((tfile, truth, pred_fs, moved))
        if (
            predict is not None
            and tfile.image is not None
            and truth.gsd is None
            and _stac_gsd(tfile.truth, tfile.scene) is None
            and image_georef(tfile.image) is None
        ):
            no_scale.append(tfile)
    if no_scale:
        n = len(no_scale)
        first = no_scale[0]
        raise InputError(
            f"{n} image{'s' if n != 1 else ''} {'are' if n != 1 else 'is'} not georeferenced "
            "and no ground sample distance is given for "
            f"{'them' if n != 1 else 'it'}: "
            + _names([t.image.name for t in no_scale if t.image is not None])
            + f'. Add a top-level "gsd": METRES to each truth file (e.g. {first.truth.name}) '
            f'or a sidecar {first.scene.rsplit("/", 1)[-1]}.json {{"gsd": METRES}} beside '
            "it, as `railwatch train --labels` reads them (QGIS's Save As drops the "
            '"gsd" railwatch detect wrote); nothing was evaluated'
        )
    if other_image:
        n = len(other_image)
        raise InputError(
            f"{n} file{'s' if n != 1 else ''} {'were' if n != 1 else 'was'} made on another "
            f"image than the scene {'they are' if n != 1 else 'it is'} paired with by name "
            f"(the top-level 'source', as railwatch detect writes it): "
            + some(other_image, 10, sep="; ")
            + ". Give each scene its own files (NAME.truth.geojson and "
            "NAME.detections.geojson for image NAME), or, where a file is right after all, "
            "set its 'source' to the scene's image or remove it; nothing was evaluated"
        )
    out: list[SceneEval] = []
    for tfile, truth, pred_fs, moved in read:
        name = tfile.scene
        gsd = truth.gsd if truth.gsd is not None else _stac_gsd(tfile.truth, name)
        present: bool | None = None
        measured = True
        read_as: str | None = None
        read_from: str | None = None
        if pred_fs is None or tfile.pred is None:
            if predict is None or tfile.image is None:  # (pairs.unmatched refused above)
                raise InputError(f"scene {name}: no prediction and no image to run on")
            # the image's own word wins; the caller's --radiometry is the default
            radio: Radiometry = "linear"
            read_from = "default"
            if tfile.radiometry is not None:
                radio, read_from = tfile.radiometry, "image"
            elif radiometry is not None:
                radio, read_from = radiometry, "--radiometry"
            got = predict(tfile.image, gsd if truth.crs is None else None, truth, radio)
            pred, present, measured = (
                (got.features, got.present, got.measured)
                if isinstance(got, Prediction)
                else (got, None, True)
            )
            read_as = got.radiometry if isinstance(got, Prediction) else None
            truth, pred, moved = same_frame(tfile, truth, pred)
        else:
            pred = pred_fs
            flag, read_any, has_block = _file_coarse(tfile.pred)
            present = flag if is_presence(pred.method) else None
            if is_presence(pred.method) and has_block and flag is None:
                # `railwatch detect` gave no flag (at 10 m one is read along given
                # centrelines only): not one made up from its car equivalents
                pred = replace(pred, car_equivalents=None)
            measured = pred.method != "length" or read_any
        # one frame for both: the truth's, or metres where it is lon/lat (outlines moved
        # before their boxes are fitted, :func:`~railwatch.detect.geojson.read_geojson`)
        # (a side moved out of pixels by :func:`same_frame` is reprojected as it is now:
        # its file holds pixels)
        metric = _metric_crs(truth, pred) if pred.method == "objects" else None
        if metric is not None:
            truth = (
                reproject(truth, metric)
                if tfile.features is not None or (moved is not None and moved.side == "truth")
                else read_geojson(tfile.truth, to_crs=metric)
            )
        target = metric or truth.crs
        if target is not None and pred.crs is not None and pred.crs != target:
            # e.g. `railwatch detect --wgs84` output against the simulator's UTM truth:
            # compared as they were, lon/lat against metres, nothing matched (F1 0)
            pred = (
                replace(
                    read_geojson(tfile.pred, to_crs=target), car_equivalents=pred.car_equivalents
                )
                if tfile.pred is not None and (moved is None or moved.side != "pred")
                else reproject(pred, target)
            )
        scene = evaluate_scene(name, truth, pred, gsd=gsd, present=present, measured=measured)
        out.append(
            replace(
                scene,
                truth_file=tfile.truth,
                pred_file=tfile.pred,
                image_file=tfile.image,
                truth_format=tfile.source,
                covered_known=tfile.covered_known,
                truth_verified=False if name in detector_truth else tfile.verified,
                radiometry=read_as,
                radiometry_from=read_from if read_as is not None else None,
                frame_moved=moved.note if moved is not None else None,
            )
        )
        if on_scene:
            on_scene(name)
    return out


def _read_scene_file(path: Path, what: str) -> Mapping[str, Any]:
    """The GeoJSON object of a truth or prediction file (``what``), refused with what to
    do where it is empty or holds no ``features`` list (2026-12-07, session 49: an empty
    file said only "Expecting value: line 1 column 1 (char 0)", and a FeatureCollection
    without ``features`` was scored as a scene of 0 cars)."""
    try:
        empty = not path.read_bytes().strip()
    except OSError:
        empty = False  # read_geojson_object says why it cannot be read
    if empty:
        raise InputError(
            f"{what} file {path} is empty: save the FeatureCollection there (a scene "
            'without cars is {"type": "FeatureCollection", "features": []}), or move the '
            "file out of the folder; nothing was evaluated"
        )
    data = read_geojson_object(path)
    if data.get("type") == "FeatureCollection" and not isinstance(data.get("features"), list):
        raise InputError(
            f"{what} file {path} is a FeatureCollection without a 'features' list, not a "
            'scene of 0 cars: give it its features (an empty yard: "features": []); '
            "nothing was evaluated"
        )
    return data


def _made_on_other(data: Any, path: Path, tfile: TruthFile) -> list[str]:
    """``[why]`` when the GeoJSON object ``data`` of ``path`` (a truth or prediction
    file of ``tfile``'s scene) names another image as its ``source`` than the scene's
    (``railwatch detect`` output of one image copied as another's: scored against the
    wrong boxes, F1 0 where the images differ, a wrong score where they show one yard;
    2026-12-07, session 49), else ``[]``."""
    from railwatch.detect.labels import made_from, same_image

    made_on = made_from(data.get("source")) if isinstance(data, dict) else None
    stem = tfile.scene.rsplit("/", 1)[-1]
    if made_on is None or same_image(made_on, stem):
        return []
    return [f"{path} was made on {made_on}, not on scene {tfile.scene}'s image"]


@dataclass(frozen=True)
class FrameMove:
    """What :func:`same_frame` did for a scene: which ``side`` (``pred`` or ``truth``) was
    moved from its image's pixels into the image's CRS, and a ``note`` saying so."""

    side: str
    note: str


#: How far (pixels) outside its image a box centre in pixel coordinates may lie and still
#: be read as that image's pixels (a box at the edge has its centre just inside).
_PIXEL_MARGIN = 2.0


def _image_for(tfile: TruthFile) -> Path | None:
    """The image of a scene: the one paired with it or its labels were read with, else
    one beside its truth file (``NAME.tif``, ``.png``...)."""
    if tfile.image is not None or tfile.labelled_image is not None:
        return tfile.image or tfile.labelled_image
    name = tfile.scene.rsplit("/", 1)[-1]
    for suffix in _IMAGE_SUFFIXES:
        for candidate in (suffix, suffix.upper()):
            path = tfile.truth.parent / f"{name}{candidate}"
            if path.is_file():
                return path
    return None


def _moved(features: FeatureSet, georef: ImageGeoref) -> FeatureSet:
    """``features`` in pixels of ``georef``'s image moved into its CRS (corners by the
    image's transform, the oriented box refitted to them)."""
    from shapely.geometry import Polygon

    from railwatch.detect.geojson import box_from_polygon

    a, b, c, d, e, f = georef.transform
    dets = []
    for det in features.detections:
        xy = det.box.corners()
        ring = np.column_stack([a * xy[:, 0] + b * xy[:, 1] + c, d * xy[:, 0] + e * xy[:, 1] + f])
        dets.append(replace(det, box=box_from_polygon(Polygon(ring))))
    return replace(features, detections=tuple(dets), crs=georef.crs)


def same_frame(
    tfile: TruthFile, truth: FeatureSet, pred: FeatureSet
) -> tuple[FeatureSet, FeatureSet, FrameMove | None]:
    """Truth and prediction in one frame: as they are when both are in pixels or both in
    a CRS; else the side in pixels moved into the CRS of the scene's image, which must
    be georeferenced (its world file, its ``.aux.xml`` or its own geotransform, as GDAL
    reads it: an export-labels chip), the move said in the returned :class:`FrameMove`.
    Until 2026-12-06 (session 35) pixels against a CRS were always refused ("different
    frames"), so pixel predictions of export-labels chips, georeferenced since then
    (``railwatch detect chip.png --gsd``, chips exported before, the plain copies
    import-labels writes), could no longer be scored against the export. Refused, with
    what to do: an image that is not georeferenced (or not found), and pixel coordinates
    that lie outside the image (not its pixels)."""
    if (truth.crs is None) == (pred.crs is None):
        return truth, pred, None
    side, pixels, other = ("pred", pred, truth) if pred.crs is None else ("truth", truth, pred)
    if not pixels.detections:
        return truth, pred, None  # nothing to place
    where = tfile.pred if side == "pred" else tfile.truth
    image = _image_for(tfile)
    georef = tfile.georef
    if georef is None and image is not None:
        georef = image_georef(image)
    frames = f"({truth.crs or 'pixels'} vs {pred.crs or 'pixels'})"
    if georef is None and not other.detections:
        return truth, pred, None  # nothing to compare them with: scored as they are
    if georef is None:
        why = (
            f"its image {image.name} is not georeferenced"
            if image is not None
            else f"no image {tfile.scene}.tif/.png is beside {tfile.truth.name}"
        )
        raise InputError(
            f"scene {tfile.scene}: truth and prediction are in different frames {frames}, "
            f"and {why}, so its pixels cannot be placed in {other.crs}: give both in pixels "
            f"or both in a CRS (railwatch detect writes the image's CRS by default), or put "
            "the image's world file and CRS beside it (export-labels writes NAME.pgw and "
            "NAME.png.aux.xml beside each chip) for its pixels to be placed. A GeoJSON file "
            "without a 'crs' member is read as longitude/latitude (RFC 7946): add "
            '"crs": null to one in pixel coordinates'
        )
    centres = np.array([[det.box.cx, det.box.cy] for det in pixels.detections])
    m = _PIXEL_MARGIN
    outside = (
        (centres[:, 0] < -m)
        | (centres[:, 0] > georef.width + m)
        | (centres[:, 1] < -m)
        | (centres[:, 1] > georef.height + m)
    )
    if outside.any():
        x, y = centres[int(np.argmax(outside))]
        raise InputError(
            f"scene {tfile.scene}: {where.name if where is not None else side} is in pixel "
            f"coordinates, but a box centre ({x:.6g}, {y:.6g}) lies outside "
            f"{georef.image.name} ({georef.width} x {georef.height} pixels): they are not "
            f"this image's pixels (of another image, or of the whole scene?), so they "
            f"cannot be placed in {other.crs} by its {georef.source}: give the "
            f"{'predictions' if side == 'pred' else 'truth'} of {georef.image.name} itself, "
            "or both in a CRS"
        )
    what = "predictions" if side == "pred" else "truth"
    crs_name = georef.crs if georef.crs.startswith("EPSG:") else "its CRS (WKT)"
    note = f"{what} in pixels of {georef.image.name} placed in {crs_name} by its {georef.source}"

    moved = _moved(pixels, georef)
    if side == "pred":
        return truth, moved, FrameMove(side, note)
    return moved, pred, FrameMove(side, note)


def report_json(scenes: Sequence[SceneEval]) -> str:
    """The summary as indented JSON."""
    return json.dumps(summarise(scenes), indent=2)


__all__ = [
    "IOU_THRESHOLDS",
    "PRF",
    "FrameMove",
    "ImageGeoref",
    "LabelledTruth",
    "Matching",
    "Pairing",
    "Prediction",
    "SceneEval",
    "evaluate_dirs",
    "evaluate_scene",
    "image_georef",
    "is_labels_folder",
    "match",
    "pair_files",
    "read_labelled_truth",
    "report_json",
    "same_frame",
    "summarise",
    "truth_length_m",
    "truth_longest_string_m",
    "with_radiometry",
    "without_matches",
]
