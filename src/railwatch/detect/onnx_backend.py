"""Oriented-box ONNX models in the Ultralytics YOLO-OBB output layouts.

The model takes ``(B, 3, H, W)`` RGB in 0–1 (float32, or float16 for a ``half=True``
export; ``(B, 1, H, W)`` grey for a one-band model) and returns one of the layouts
Ultralytics exports (``ultralytics/nn/modules/head.py``, ``engine/exporter.py``):

* ``raw``: ``(B, 4 + nc + 1, N)`` (``yolo export model=best.pt format=onnx``): per
  candidate ``cx, cy, w, h`` (input pixels), ``nc`` class scores, and the angle in
  radians (the ``w`` side points along ``(cos a, sin a)`` in image coordinates, y down,
  as Ultralytics' ``xywhr2xyxyxyxy``);
* ``rows``: the same transposed, ``(B, N, 4 + nc + 1)``;
* ``end2end``: ``(B, max_det, 7)`` rows of ``cx, cy, w, h, score, class index, angle``,
  an export with NMS built in (``nms=True``) or a YOLO26 end-to-end head; told by the
  metadata Ultralytics writes (``end2end``, ``args`` ``nms``), else by the shape.

Only the first image of a fixed batch above 1 is used (the rest are zeros). Each tile
is first resampled to the model's ground sample distance when it is known (``?gsd=``
or the sidecar's ``gsd``), then put at that scale, never enlarged, into the model's
input (centred on grey 114, as Ultralytics' letterbox); a tile larger than the input
is run in overlapping windows of the input's size and merged as the tiled API merges
its tiles (2026-12-06, session 35: a small image was scaled up to the input and a
large tile shrunk into it, the cars drawn at another size than the model learned).
Boxes are mapped back to tile pixels and ``w``/``h`` become car length/width.
Duplicates are removed as Ultralytics' ``predict`` removes them
(``ultralytics/utils/nms.py``, 8.4.190; 2026-12-06, session 36): scores above ``conf``
(0.25), "fast NMS" on probabilistic IoU above ``iou`` (0.7) within each class (across
classes with ``agnostic``), the ``max_det`` (300) best per model run; an end-to-end
output is not NMS-ed again (its NMS is built in), only cut to ``max_det``. Until
session 36 railwatch used greedy NMS on polygon IoU 0.5 across classes, which kept
other boxes than Ultralytics where a car was found twice. Each detection carries its
run in ``extra`` (:data:`railwatch.detect.merge.RUN_KEY`): the seam merge leaves the
boxes of one run as the model's NMS left them.

Class names come, in order of preference, from the ``classes`` argument (``?classes=``),
a JSON sidecar ``MODEL.json`` (``{"names": [...]}`` or ``{"names": {"0": ...}}``), or
the model's ``names`` metadata (written by Ultralytics' exporter); a model with one
class and no names is taken as a railcar detector, one of several classes without names
is refused (its classes cannot be told apart). Names are mapped to
railwatch classes (``tank car`` → ``tank``, ``wagon`` → ``railcar``, ...); detections
of classes that are not railcars (a DOTA model's ``plane``) are dropped. The input size
of a model with a dynamic input is the sidecar's ``imgsz``, else the metadata's
``imgsz``, else 1024. The sidecar may also give ``conf``, ``gsd`` and (since session
37) the NMS settings ``iou``, ``agnostic`` and ``max_det``, each checked as the spec's
``?iou=&agnostic=&max_det=``; a value the spec gives wins over the sidecar's.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from railwatch.detect.base import ALL_CLASSES, Detection, OrientedBox, model_file_name
from railwatch.detect.merge import RUN_KEY
from railwatch.errors import DetectionError, InputError, some

#: Default confidence threshold (Ultralytics' ``conf``): a box is kept when its score
#: is above it.
SCORE_THRESHOLD = 0.25
#: Default NMS threshold (Ultralytics' ``iou``): a box is dropped when its probabilistic
#: IoU with a higher-scored box (of its class, unless agnostic) is above it. 0.5 on
#: polygon IoU across classes until 2026-12-06 (session 36).
NMS_IOU = 0.7
#: Default most detections kept per model run (Ultralytics' ``max_det``).
MAX_DET = 300
#: Most candidates (the highest-scored) NMS-ed per model run (Ultralytics' ``max_nms``).
MAX_NMS = 30000
#: Input size used when the model's input has dynamic height/width.
DEFAULT_INPUT = 1024

_ALIASES: dict[str, str] = {
    "box car": "boxcar",
    "box": "boxcar",
    "covered wagon": "boxcar",
    "gondola car": "gondola",
    "open wagon": "gondola",
    "open car": "gondola",
    "hopper car": "hopper",
    "ore car": "hopper",
    "ore": "hopper",
    "tank car": "tank",
    "tanker": "tank",
    "tank wagon": "tank",
    "cistern": "tank",
    "flat car": "flat",
    "flatcar": "flat",
    "platform": "flat",
    "container car": "container",
    "container flat": "container",
    "loco": "locomotive",
    "engine": "locomotive",
    "wagon": "railcar",
    "rail car": "railcar",
    "car": "railcar",
    "train car": "railcar",
    "freight car": "railcar",
    "train": "railcar",
    # xView's rail family (2026-12-07, session 50: "Railway Vehicle" and "Cargo Car"
    # were dropped as not railcars; "Passenger Car": :data:`RAIL_ONLY_IN_RAIL_MODELS`)
    "railway vehicle": "railcar",
    "railway vehicles": "railcar",
    "rail vehicle": "railcar",
    "rail vehicles": "railcar",
    "railroad vehicle": "railcar",
    "railroad vehicles": "railcar",
}


#: Words that name a railcar only before ``car`` or ``wagon`` (``Cargo Car``, xView's;
#: ``passenger_wagon``, ``railway car``, ``goods wagons``): alone they name no railcar
#: ("cargo" may be a ship's, "passenger" a person), so they are looked up only after a
#: car word is dropped (:func:`railwatch_class`; session 50).
_BEFORE_CAR_WORD: dict[str, str] = {
    "cargo": "railcar",
    "goods": "railcar",
    "freight": "railcar",
    "passenger": "railcar",
    "railway": "railcar",
    "railroad": "railcar",
    "rail": "railcar",
}


#: Words a model's class name may end in after its type (``hopper_wagon``,
#: ``tanker car``): dropped before the name is looked up again.
_CAR_WORDS: tuple[str, ...] = (" cars", " car", " wagons", " wagon")


def railwatch_class(name: str) -> str | None:
    """The railwatch class for a model class name, or None when it is not a railcar.
    Case, ``_`` and ``-`` do not matter, nor a trailing ``car`` or ``wagon`` after a type
    or an alias (``hopper_wagon``, ``Tanker car``; until 2026-12-07, session 49, such
    classes were taken as not railcars and their boxes dropped without a word)."""
    key = _key(name)
    found = _class_of(key)
    if found is None:
        for word in _CAR_WORDS:
            if key.endswith(word) and key != word.strip():
                stem = key[: -len(word)].strip()
                found = _class_of(stem) or _BEFORE_CAR_WORD.get(stem)
                break
    return found


def _class_of(key: str) -> str | None:
    compact = key.replace(" ", "")
    if compact in ALL_CLASSES:
        return compact
    return _ALIASES.get(key)


def _mapped_before_s49(name: str) -> str | None:
    """:func:`railwatch_class` as it was until session 49 (no trailing car or wagon
    dropped): a model whose classes it maps otherwise gets another version."""
    key = name.strip().lower().replace("_", " ").replace("-", " ")
    compact = key.replace(" ", "")
    return compact if compact in ALL_CLASSES else _ALIASES.get(key)


#: Class names of road vehicles and people, ships, aircraft and animals (COCO's, DOTA's,
#: xView's): a model that has one of them is a general model, whose bare "car" is an
#: automobile, not a railcar (:func:`class_map_of`).
GENERAL_CLASSES = frozenset(
    {
        "truck",
        "bus",
        "van",
        "motorcycle",
        "motorbike",
        "bicycle",
        "person",
        "pedestrian",
        "people",
        "pickup truck",
        "small vehicle",
        "large vehicle",
        "vehicle",
        "passenger vehicle",
        "tractor",
        # ships, aircraft, animals and port or airfield objects (COCO, DOTA, xView): a
        # model with them is no railcar model either, and its bare "container", "tanker"
        # or "wagon" a ship's, a port's or a horse's (review of session 50)
        "ship",
        "boat",
        "vessel",
        "airplane",
        "aeroplane",
        "aircraft",
        "plane",
        "helicopter",
        "container crane",
        "crane",
        "harbor",
        "harbour",
        "storage tank",
        "horse",
        "cow",
        "sheep",
        "cart",
    }
)


#: The names that mean a railcar in a railcar model but not in a general one.
GENERAL_WORDS = frozenset({"car", "cars", "train", "trains"})

#: Names that mean a railcar in a railcar model, and in a general one only where it also
#: names rail vehicles (another class that maps to a railwatch class): xView's "Passenger
#: Car" is a railway coach (its family: Railway Vehicle, Passenger Car, Cargo Car, Flat
#: Car, Tank car, Locomotive; its automobiles are "Small Car" and "Passenger Vehicle"),
#: but a road model's "passenger car" is an automobile (session 50).
RAIL_ONLY_IN_RAIL_MODELS = frozenset(
    {"passenger car", "passenger cars", "passenger wagon", "passenger wagons"}
)

#: Bare names that map to a railwatch class but in a general model (one with road
#: vehicles or people) may name something else: a shipping container, a road or sea
#: tanker, a military tank, a horse wagon. Like :data:`RAIL_ONLY_IN_RAIL_MODELS` they are
#: railcars there only beside a name that is clearly rail (a locomotive, a boxcar, a
#: "tank car", a "railway vehicle"): a port model's "container" was counted as railcars
#: (2026-12-07, session 50, review).
AMBIGUOUS_IN_GENERAL_MODELS = frozenset(
    {
        "container",
        "containers",
        "tank",
        "tanks",
        "tanker",
        "tankers",
        "hopper",
        "hoppers",
        "flat",
        "flats",
        "wagon",
        "wagons",
    }
)

#: What is dropped in a general model without a clearly rail class.
_NEEDS_RAIL = RAIL_ONLY_IN_RAIL_MODELS | AMBIGUOUS_IN_GENERAL_MODELS


def _key(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").replace("-", " ").split())


def general_model(names: Sequence[str]) -> bool:
    """Whether a model's class names include road vehicles or people
    (:data:`GENERAL_CLASSES`): a general model, whose ``car`` and ``train`` are no railcars."""
    return any(_key(n) in GENERAL_CLASSES for n in names)


def general_words(names: Sequence[str], dropped: Sequence[str]) -> list[str]:
    """Of the ``dropped`` class names, those dropped only because the model is a general
    one (:func:`class_map_of`): ``car``, ``train`` and their plurals, and the names a
    general model uses for other things where it has no clearly rail class
    (:data:`RAIL_ONLY_IN_RAIL_MODELS`, :data:`AMBIGUOUS_IN_GENERAL_MODELS`), where
    :func:`railwatch_class` alone would keep them; none otherwise."""
    if not general_model(names):
        return []
    return [
        n
        for n in dropped
        if _key(n) in GENERAL_WORDS | _NEEDS_RAIL and railwatch_class(n) is not None
    ]


def _clearly_rail(key: str) -> bool:
    """Whether the class name ``key`` (:func:`_key`) is a railcar or locomotive in any
    model: mapped by :func:`railwatch_class` and none of the names a general model uses
    for other things."""
    return key not in GENERAL_WORDS and key not in _NEEDS_RAIL and railwatch_class(key) is not None


def class_map_of(names: Sequence[str]) -> tuple[str | None, ...]:
    """The railwatch class of each of a model's class names (:func:`railwatch_class`),
    but in a model that also has road vehicles or people (:data:`GENERAL_CLASSES`: COCO's
    80 names, which an Ultralytics export of a model built from its YAML carries, or a
    DOTA or xView model) a bare ``car`` is an automobile and a bare ``train`` a whole
    train, not a railcar: their boxes are dropped, and ``detect`` says so (2026-12-07,
    session 49: they were counted as railcars). xView's rail family maps (Railway
    Vehicle, Passenger Car and Cargo Car to ``railcar``, Flat Car, Tank car, Locomotive
    to their types) while its "Small Car" stays dropped; a "passenger car" is a railcar
    in a general model only beside such rail classes (:data:`RAIL_ONLY_IN_RAIL_MODELS`;
    2026-12-07, session 50: xView's Passenger Car and Cargo Car were dropped), and so
    are a bare container, tank(er), hopper, flat or wagon
    (:data:`AMBIGUOUS_IN_GENERAL_MODELS`: a port model's containers were railcars)."""
    general = general_model(names)
    keys = [_key(n) for n in names]
    rail = not general or any(_clearly_rail(k) for k in keys)
    return tuple(
        None
        if general and (k in GENERAL_WORDS or (k in _NEEDS_RAIL and not rail))
        else railwatch_class(n)
        for n, k in zip(names, keys, strict=True)
    )


def not_railcars(names: Sequence[str], class_map: Sequence[str | None]) -> list[str]:
    """The model's class names that are taken as not railcars (their boxes dropped), for
    the note ``detect`` and ``eval`` print once."""
    return [n for n, c in zip(names, class_map, strict=False) if c is None]


def _few(names: Sequence[str], shown: int = 8) -> str:
    """``names`` joined, the first ``shown`` of a longer list and how many more (an
    80-class list filled the terminal; session 49)."""
    return some(names, shown)


def _names_from(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return tuple(s.strip() for s in value.split(",") if s.strip()) or None
    if isinstance(value, Mapping):
        items = sorted(((int(k), str(v)) for k, v in value.items()), key=lambda kv: kv[0])
        return tuple(v for _, v in items)
    if isinstance(value, Sequence):
        return tuple(str(v) for v in value)
    return None


def letterbox(
    image: np.ndarray, size: tuple[int, int], *, scaleup: bool = True
) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize ``image`` (H, W, 3) uint8 into ``size`` (h, w) keeping its aspect,
    centred on grey; returns the ``(1, 3, h, w)`` float32 0–1 tensor, the scale
    and the ``(pad_x, pad_y)`` offset. Without ``scaleup`` a smaller image is only
    padded, never enlarged."""
    h, w = image.shape[:2]
    th, tw = size
    r = min(th / h, tw / w)
    if not scaleup:
        r = min(r, 1.0)
    nh, nw = max(1, round(h * r)), max(1, round(w * r))
    resized = (
        image
        if (nh, nw) == (h, w)
        else cv2.resize(
            image, (nw, nh), interpolation=cv2.INTER_AREA if r < 1 else cv2.INTER_LINEAR
        )
    )
    top, left = (th - nh) // 2, (tw - nw) // 2
    canvas = np.full((th, tw, 3), 114, dtype=np.uint8)
    canvas[top : top + nh, left : left + nw] = resized
    tensor = canvas.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255.0)
    return np.ascontiguousarray(tensor), r, (float(left), float(top))


def probiou(b1: np.ndarray, b2: np.ndarray, eps: float = 1e-7) -> np.ndarray:
    """Probabilistic IoU of the pairs of oriented boxes ``b1[k]``, ``b2[k]`` (``(N, 5)``
    ``cx, cy, w, h, angle_rad``): one minus the Hellinger distance of the Gaussians of
    the boxes, as Ultralytics' ``batch_probiou`` (``ultralytics/utils/metrics.py``)
    computes it, term by term, for pairs instead of a matrix."""

    def cov(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, bb = b[:, 2] ** 2 / 12, b[:, 3] ** 2 / 12
        cos, sin = np.cos(b[:, 4]), np.sin(b[:, 4])
        return a * cos**2 + bb * sin**2, a * sin**2 + bb * cos**2, (a - bb) * cos * sin

    b1 = np.asarray(b1, dtype=np.float64).reshape(-1, 5)
    b2 = np.asarray(b2, dtype=np.float64).reshape(-1, 5)
    x1, y1, x2, y2 = b1[:, 0], b1[:, 1], b2[:, 0], b2[:, 1]
    a1, bb1, c1 = cov(b1)
    a2, bb2, c2 = cov(b2)
    den = (a1 + a2) * (bb1 + bb2) - (c1 + c2) ** 2 + eps
    t1 = ((a1 + a2) * (y1 - y2) ** 2 + (bb1 + bb2) * (x1 - x2) ** 2) / den * 0.25
    t2 = ((c1 + c2) * (x2 - x1) * (y1 - y2)) / den * 0.5
    det1 = np.clip(a1 * bb1 - c1**2, 0, None)
    det2 = np.clip(a2 * bb2 - c2**2, 0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        t3 = np.log((den - eps) / (4 * np.sqrt(det1 * det2) + eps) + eps) * 0.5
    bd = np.clip(np.nan_to_num(t1 + t2 + t3, nan=100.0), eps, 100.0)
    return 1.0 - np.sqrt(1.0 - np.exp(-bd) + eps)


#: Boxes whose neighbours are looked up at once in :func:`ultralytics_nms` (bounds memory
#: where a badly trained model gives thousands of boxes over each other).
_NMS_CHUNK = 512


def _near_pairs(xywhr: np.ndarray, iou: float) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs ``(a, b)``, ``a < b``, of boxes whose probabilistic IoU may be above
    ``iou`` (every other pair's is not), in chunks, some pairs twice. The Bhattacharyya
    distance of two boxes is at least 1.5 |centre offset|² / L² (L: the longer side of
    the two), and a probabilistic IoU above ``iou`` needs a distance below
    -ln(1 - (1 - iou)²) (at most 16.2): each box looks within that of its own longer
    side, widened by 10 % and 1 px, so that the larger box of a pair finds it."""
    from scipy.spatial import cKDTree

    n = len(xywhr)
    if n < 2:
        return
    bound = max(-math.log(max(1.0 - (1.0 - iou) ** 2 + 1e-7, 1e-7)), 0.0)
    side = np.maximum(np.abs(xywhr[:, 2]), np.abs(xywhr[:, 3]))
    radius = np.sqrt(bound / 1.5) * side * 1.1 + 1.0
    tree = cKDTree(xywhr[:, :2])
    for start in range(0, n, _NMS_CHUNK):
        stop = min(start + _NMS_CHUNK, n)
        found = tree.query_ball_point(xywhr[start:stop, :2], r=radius[start:stop])
        a = np.repeat(np.arange(start, stop), [len(f) for f in found])
        b = np.fromiter(itertools.chain.from_iterable(found), dtype=np.int64, count=len(a))
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        yield lo[lo < hi], hi[lo < hi]


def ultralytics_nms(
    xywhr: np.ndarray,
    scores: np.ndarray,
    classes: np.ndarray,
    *,
    iou: float = NMS_IOU,
    agnostic: bool = False,
    max_det: int = MAX_DET,
) -> np.ndarray:
    """Indices of the boxes Ultralytics' rotated ``non_max_suppression`` keeps, highest
    score first (``ultralytics/utils/nms.py``, ``TorchNMS.fast_nms`` with
    ``batch_probiou``): of the ``MAX_NMS`` best, a box is dropped when any higher-scored
    box of its class (any class with ``agnostic``), kept or not, has a probabilistic IoU
    with it above ``iou``; then the ``max_det`` best. ``xywhr``: ``(N, 5)`` centre, sides,
    angle in radians, as the model outputs them; the boxes are already above ``conf``."""
    scores = np.asarray(scores, dtype=np.float64)
    if len(scores) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(-scores, kind="stable")[:MAX_NMS]
    boxes = np.asarray(xywhr, dtype=np.float64)[order]
    cls = np.asarray(classes)[order]
    dropped = np.zeros(len(order), dtype=bool)
    for a, b in _near_pairs(boxes, iou):  # a < b: a is the higher-scored
        if not agnostic:
            same = cls[a] == cls[b]
            a, b = a[same], b[same]
        if len(a):
            dropped[b[probiou(boxes[a], boxes[b]) > iou]] = True
    return order[~dropped][:max_det]


_RUNS = itertools.count(1)


def new_run() -> float:
    """A number naming one model run (one call on one tile or window), unique in this
    process: detections carry it in ``extra[RUN_KEY]`` for the seam merge."""
    return float(next(_RUNS))


#: Output layouts (see module docs).
RAW, ROWS, END2END = "raw", "rows", "end2end"
LAYOUTS: tuple[str, ...] = (RAW, ROWS, END2END)


def decode_obb(
    output: np.ndarray,
    class_map: Sequence[str | None],
    *,
    scale: float,
    pad: tuple[float, float],
    score_threshold: float = SCORE_THRESHOLD,
    nms_iou: float = NMS_IOU,
    layout: str = RAW,
    agnostic: bool = False,
    max_det: int = MAX_DET,
    run: float | None = None,
) -> list[Detection]:
    """Detections in tile pixels from a YOLO-OBB output of ``layout`` (``raw``
    ``(1, 4 + nc + 1, N)``, ``rows`` ``(1, N, 4 + nc + 1)`` or ``end2end``
    ``(1, max_det, 7)``; the first image of a batch is read), highest score first.

    Kept as Ultralytics' ``predict`` keeps them (module docs): scores above
    ``score_threshold``, :func:`ultralytics_nms` at ``nms_iou`` (per class unless
    ``agnostic``) and the ``max_det`` best, over all the model's classes; an end-to-end
    output only cut to its first ``max_det`` rows above the threshold. Then
    ``class_map[k]`` is the railwatch class of model class ``k`` (None: not a railcar,
    dropped); ``scale`` and ``pad`` undo the letterbox; ``run`` (see :func:`new_run`) is
    put in each detection's ``extra`` under :data:`~railwatch.detect.merge.RUN_KEY`.
    """
    out = np.asarray(output, dtype=np.float32)
    if out.ndim == 3:
        out = out[0]
    nc = len(class_map)
    if layout == END2END:
        if out.ndim != 2 or out.shape[1] != 7:
            raise DetectionError(
                f"ONNX model output has shape {np.shape(output)}, expected (1, max_det, 7) "
                "rows of cx, cy, w, h, score, class, angle for an end-to-end (nms=True) export"
            )
        score = out[:, 4]
        cls_f = out[:, 5]
        live = score > score_threshold
        bad = live & (
            (cls_f < 0) | (cls_f > nc - 1 + 1e-3) | (np.abs(cls_f - np.round(cls_f)) > 1e-3)
        )
        if bad.any():
            raise DetectionError(
                f"ONNX model output gives class {float(cls_f[bad][0]):g} but {nc} class names "
                "were given: give the model's class names in order (?classes= or the sidecar)"
            )
        cls = np.round(cls_f).astype(np.int64).clip(0, max(nc - 1, 0))
        cx, cy, w, h, ang = out[:, 0], out[:, 1], out[:, 2], out[:, 3], out[:, 6]
        # Ultralytics: its NMS is in the export (or the head is one-to-one): none again
        keep = np.flatnonzero(live)[:max_det]
    else:
        if layout == ROWS and out.ndim == 2:
            out = out.T
        if out.ndim != 2 or out.shape[0] != 5 + nc:
            want = f"(1, {5 + nc}, N)" if layout == RAW else f"(1, N, {5 + nc})"
            raise DetectionError(
                f"ONNX model output has shape {np.shape(output)}, expected {want} for "
                f"{nc} classes in the YOLO-OBB layout; check the model or its class list"
            )
        cls_scores = out[4 : 4 + nc]
        cls = cls_scores.argmax(axis=0)
        score = cls_scores[cls, np.arange(out.shape[1])]
        cx, cy, w, h, ang = out[0], out[1], out[2], out[3], out[4 + nc]
        cand = np.flatnonzero(score > score_threshold)
        xywhr = np.stack([cx[cand], cy[cand], w[cand], h[cand], ang[cand]], axis=1)
        kept = ultralytics_nms(
            xywhr, score[cand], cls[cand], iou=nms_iou, agnostic=agnostic, max_det=max_det
        )
        keep = cand[kept]
    wanted = np.array([c is not None for c in class_map], dtype=bool)
    keep = keep[wanted[cls[keep]]]
    if len(keep) == 0:
        return []
    cx, cy, w, h, ang = cx[keep], cy[keep], w[keep], h[keep], ang[keep]
    cls, score = cls[keep], score[keep]
    px, py = pad
    cx = (cx - px) / scale
    cy = (cy - py) / scale
    w, h = w / scale, h / scale
    deg = np.rad2deg(ang.astype(np.float64))
    long_is_w = w >= h
    length = np.where(long_is_w, w, h)
    width = np.where(long_is_w, h, w)
    deg = np.where(long_is_w, deg, deg + 90.0)
    deg = (deg + 90.0) % 180.0 - 90.0  # a car's axis has no direction: [-90, 90)
    boxes = np.stack([cx, cy, length, width, deg], axis=1).astype(np.float64)
    extra = {} if run is None else {RUN_KEY: run}
    dets: list[Detection] = []
    for k in range(len(keep)):
        name = class_map[int(cls[k])]
        b = boxes[k]
        dets.append(
            Detection(
                box=OrientedBox(float(b[0]), float(b[1]), float(b[2]), float(b[3]), float(b[4])),
                cls=str(name),
                score=float(np.clip(score[k], 0.0, 1.0)),
                extra=dict(extra),
            )
        )
    return dets


#: Tolerance on the ratio of a tile's gsd to the model's below which it is not resampled.
GSD_RATIO_TOLERANCE = 1e-3
#: Model ground sample distances accepted (metres per pixel): cars are told apart
#: below 1.5 m (docs/detection.md, "Coarse imagery").
MODEL_GSD_RANGE: tuple[float, float] = (0.01, 1.5)


def check_model_gsd(value: object, where: str) -> float:
    """``value`` as a model ground sample distance in metres per pixel; a
    :class:`InputError` saying what to give (``where`` names the option) otherwise."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = float("nan")
    lo, hi = MODEL_GSD_RANGE
    if isinstance(value, bool) or not lo <= number <= hi:
        raise InputError(
            f"{where} gsd={value!r}: give the ground sample distance the model was trained "
            f"at, in metres per pixel between {lo:g} and {hi:g} (e.g. gsd=0.5)"
        )
    return number


Runner = Callable[[np.ndarray], list[Detection]]


def detect_valid(
    image: np.ndarray,
    gsd: float,
    valid: np.ndarray | None,
    model_gsd: float | None,
    size: tuple[int, int],
    run: Runner,
) -> list[Detection]:
    """What a YOLO-OBB backend's ``detect`` gives (``onnx:PATH`` and ``ultralytics:PATH``
    alike): ``image`` checked, pixels outside ``valid`` read as the letterbox's grey (114),
    :func:`run_at_model_scale`, and the detections whose centre lies outside ``valid``
    dropped."""
    check_image(image)
    img = image
    if valid is not None and not valid.all():
        img = image.copy()
        img[~valid] = 114
    dets = run_at_model_scale(img, gsd, model_gsd, size, run)
    if valid is None or not dets:
        return dets
    h, w = valid.shape
    return [
        d
        for d in dets
        if valid[min(max(int(d.box.cy), 0), h - 1), min(max(int(d.box.cx), 0), w - 1)]
    ]


def run_at_model_scale(
    image: np.ndarray,
    gsd: float,
    model_gsd: float | None,
    size: tuple[int, int],
    run: Runner,
) -> list[Detection]:
    """Detections in pixels of ``image`` (H, W, 3) at ``gsd`` from a model of input
    ``size`` (h, w) trained at ``model_gsd`` (None: the image's own): the image is
    resampled to ``model_gsd``, then handed to ``run`` whole when it fits the input,
    else in overlapping windows of the input's size (30 m of overlap, at most a
    quarter of the window) merged as the tiled API merges tiles. ``run`` gets an
    image no larger than ``size`` and returns detections in its pixels, at scale 1."""
    from railwatch.detect.merge import box_array, merge_detections, seam_distance
    from railwatch.detect.tiling import overlap_px_for, tile_windows

    h0, w0 = image.shape[:2]
    f = gsd / model_gsd if model_gsd else 1.0
    img = image
    if abs(f - 1.0) > GSD_RATIO_TOLERANCE:
        nw, nh = max(1, round(w0 * f)), max(1, round(h0 * f))
        img = cv2.resize(
            np.ascontiguousarray(image),
            (nw, nh),
            interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR,
        )
    else:
        f = 1.0
    h, w = img.shape[:2]
    th, tw = size
    if h <= th and w <= tw:
        dets = run(img)
    else:
        side = min(th, tw)
        overlap = min(overlap_px_for(gsd / f), side // 4)
        found: list[Detection] = []
        dists: list[np.ndarray] = []
        for win in tile_windows(w, h, side, overlap):
            rows, cols = win.slices()
            part = [
                Detection(
                    OrientedBox(
                        d.box.cx + win.col_off,
                        d.box.cy + win.row_off,
                        d.box.length,
                        d.box.width,
                        d.box.angle,
                    ),
                    cls=d.cls,
                    score=d.score,
                    extra=d.extra,
                )
                for d in run(np.ascontiguousarray(img[rows, cols]))
            ]
            found += part
            dists.append(seam_distance(box_array(part), win, w, h))
        dets = merge_detections(found, np.concatenate(dists)) if found else []
    if f == 1.0:
        return dets
    return [
        Detection(
            OrientedBox(d.box.cx / f, d.box.cy / f, d.box.length / f, d.box.width / f, d.box.angle),
            cls=d.cls,
            score=d.score,
            extra=d.extra,
        )
        for d in dets
    ]


def check_image(image: np.ndarray) -> None:
    """An :class:`InputError` unless ``image`` is ``(H, W, 3)`` uint8 RGB."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise InputError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise InputError(
            f"expected 8-bit (uint8) RGB pixels, got {image.dtype}: map 16-bit or float "
            "imagery to 8 bits first (railwatch.imagery.read.stretch_to_uint8), or give the "
            "file to detect_file / railwatch detect, which does"
        )


def _sidecar_number(sidecar: Mapping[str, Any], key: str, path: Path) -> float | None:
    """The number ``sidecar[key]`` (None when absent); an :class:`InputError` naming the
    sidecar when it is not a finite number."""
    value = sidecar.get(key)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not np.isfinite(number):
        raise InputError(
            f"the sidecar of {path.name} gives {key} {value!r}, not a number: fix or remove it"
        )
    return number


#: What the sidecar's ``agnostic`` may be (as the spec's ``?agnostic=``, plus JSON's
#: true and false).
_SIDECAR_FLAGS: dict[str, bool] = {
    "true": True,
    "1": True,
    "yes": True,
    "false": False,
    "0": False,
    "no": False,
}


def _sidecar_nms(sidecar: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The sidecar's ``iou``, ``agnostic`` and ``max_det`` as the detector's ``nms_iou``,
    ``agnostic`` and ``max_det`` (absent ones left out), checked as the spec's
    ``?iou=&agnostic=&max_det=`` are (:func:`railwatch.detect.registry._nms`); a value
    that is not one is an :class:`InputError` naming the sidecar and the key (session 37).
    """
    out: dict[str, Any] = {}
    iou = _sidecar_number(sidecar, "iou", path)
    if iou is not None:
        if not 0.0 <= iou <= 1.0:
            raise InputError(
                f"the sidecar of {path.name} gives iou {sidecar['iou']!r}: give the NMS "
                "threshold, the probabilistic IoU above which the lower-scored of two boxes "
                "of one class is dropped, a number from 0 to 1 (Ultralytics' default: 0.7), "
                "or remove it"
            )
        out["nms_iou"] = iou
    raw = sidecar.get("agnostic")
    if raw is not None:
        flag = (
            raw
            if isinstance(raw, bool)
            else _SIDECAR_FLAGS.get(str(raw).strip().lower())
            if isinstance(raw, int | str)
            else None
        )
        if flag is None:
            raise InputError(
                f"the sidecar of {path.name} gives agnostic {raw!r}: use true (one NMS over "
                "all classes, Ultralytics' agnostic_nms=True) or false (per class, its "
                "default), or remove it"
            )
        out["agnostic"] = flag
    raw = sidecar.get("max_det")
    if raw is not None:
        count = 0
        if isinstance(raw, int) and not isinstance(raw, bool):
            count = raw
        elif isinstance(raw, str):
            try:
                count = int(raw.strip())
            except ValueError:
                count = 0
        if count < 1:
            raise InputError(
                f"the sidecar of {path.name} gives max_det {raw!r}: give the most boxes kept "
                "per model run, a whole number of at least 1 (Ultralytics' default: 300), or "
                "remove it"
            )
        out["max_det"] = count
    return out


def _is_railwatch_network(session: Any) -> bool:
    """Whether an ONNX Runtime session looks like railwatch's default detector (its
    input ``image`` and output ``maps`` of ``model_core.N_OUT`` channels)."""
    from railwatch.detect.model_core import N_OUT

    out = session.get_outputs()[0]
    return bool(
        session.get_inputs()[0].name == "image"
        and out.name == "maps"
        and len(out.shape) == 4
        and out.shape[1] == N_OUT
    )


def model_version(kind: str, path: Path, *settings: object) -> str:
    """The version scenes counted by a model file are recorded with: ``kind`` plus a
    digest of the file's bytes, of the ``settings`` that change its boxes (class names,
    thresholds) and of the tiled API's tile plan (since v2.9 anchored to the image
    file's pixels, :mod:`railwatch.detect.tiling`). ``railwatch process`` counts a scene
    again when its stored version differs, so a model retrained under the same file
    name, other thresholds or another tile plan recount the site's scenes; until
    session 34 every such model was version ``onnx`` (or ``ultralytics``) whatever it
    held, and its scenes were never counted again unless ``--reprocess`` was given."""
    h = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as err:
        raise InputError(f"cannot read model {path}: {err.strerror or err}") from err
    h.update(json.dumps([repr(x) for x in settings]).encode())
    h.update(b"|anchored tiles")
    return f"{kind}+{h.hexdigest()[:12]}"


def _meta_value(meta: Mapping[str, str], key: str) -> Any:
    """The metadata entry ``key`` as the Python value Ultralytics wrote with ``str(v)``
    (``"[640, 640]"``, ``"True"``, ``"{'nms': True}"``); None when absent or unreadable."""
    raw = meta.get(key)
    if raw is None:
        return None
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return raw


def _anchor_count(size: tuple[int, int]) -> int:
    """Candidates of a YOLO head on strides 8, 16 and 32 for an input of ``size``."""
    h, w = size
    return sum(math.ceil(h / s) * math.ceil(w / s) for s in (8, 16, 32))


def _layout_of(
    out_shape: Sequence[Any], nc: int | None, end2end: bool, size: tuple[int, int]
) -> tuple[str, int | None] | None:
    """The layout of an output of (static) ``out_shape`` and the class count it shows
    (None: not shown, for an end-to-end export); None when it fits none. ``nc`` is the
    number of class names given (None: none); ``end2end`` what the metadata says. A
    ``raw`` reading wins where both fit (``(1, 7, 7)``); ``(1, K, 7)`` is ``end2end``
    unless ``K`` is the candidate count of the input ``size`` (a transposed 2-class
    head)."""
    rows, cols = out_shape[1], out_shape[2]
    r = rows if isinstance(rows, int) else None
    c = cols if isinstance(cols, int) else None
    if end2end:
        return (END2END, None) if c in (7, None) else None
    raw_fits = (r is None or r >= 6) and (c is None or r is None or c < 6 or r <= c)
    rows_fit = c is not None and c >= 6 and (r is None or r > c)
    e2e_fits = c == 7 and not (r is not None and r == _anchor_count(size))
    if nc is not None:
        if r == 5 + nc:
            return RAW, nc
        if c == 7 and r is not None and e2e_fits:
            return END2END, None
        if c == 5 + nc:
            return ROWS, nc
    if r is not None and raw_fits:
        return RAW, r - 5
    if rows_fit and c is not None:
        if e2e_fits and r is not None:
            return END2END, None
        return ROWS, c - 5
    if r is None and c is None:
        return RAW, None
    return None


class OnnxObbDetector:
    """A YOLO-OBB ONNX model run with ONNX Runtime on the CPU (see module docs)."""

    #: ``onnx+`` a digest of the model, its class names and thresholds (:func:`model_version`)
    version: str = "onnx"

    def __init__(
        self,
        path: str | Path,
        *,
        classes: Sequence[str] | None = None,
        score_threshold: float | None = None,
        nms_iou: float | None = None,
        threads: int | None = None,
        model_gsd: float | None = None,
        agnostic: bool | None = None,
        max_det: int | None = None,
    ) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"ONNX model {self.path} is a folder: give the .onnx file in it")
        if not self.path.is_file():
            raise InputError(f"ONNX model {self.path} does not exist: check the path")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self._session = ort.InferenceSession(
                str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own, unexported exception types
            raise DetectionError(
                f"cannot load ONNX model {self.path}: {str(err).rstrip('.')}; give an .onnx "
                "file exported from a YOLO-OBB model (e.g. `yolo export model=best.pt format=onnx`)"
            ) from err
        sidecar = self._sidecar()
        names = tuple(classes) if classes else None
        names_from = "?classes="
        if names is None and sidecar.get("names") is not None:
            names = _names_from(sidecar["names"])
            names_from = "the sidecar"
        meta = self._session.get_modelmeta().custom_metadata_map
        if names is None and "names" in meta:
            names = _names_from(meta["names"])
            names_from = "the model's metadata"
        inp = self._session.get_inputs()[0]
        self._input_name = inp.name
        shape = list(inp.shape)
        if len(shape) != 4:
            raise DetectionError(
                f"ONNX model {self.path.name} takes an input of shape {tuple(shape)}, not "
                "(batch, bands, height, width): export an Ultralytics OBB model (format=onnx)"
            )
        self._setup_input(shape, inp.type, meta, sidecar)
        out_shape = self._session.get_outputs()[0].shape
        task = _meta_value(meta, "task")
        if isinstance(task, str) and task != "obb":
            # a 'detect' export (1, 4 + nc, N) of two classes reads as one OBB class whose
            # angle is the second class's score: boxes at random angles, no error
            raise DetectionError(
                f"ONNX model {self.path.name} is a {task!r} model (its metadata's task), not "
                "an oriented-box (obb) one: railwatch needs a YOLO-OBB model (e.g. trained "
                "from yolo11n-obb.pt on `railwatch export-labels --format yolo-obb` chips)"
            )
        outputs = self._session.get_outputs()
        if len(outputs) != 1:
            # a segmentation export (its second output the mask prototypes) read its first
            # output as an OBB head of 32 more classes: "no class names for its 33 classes",
            # or boxes at random angles with ?classes= (session 49)
            listed = ", ".join(f"{o.name} {tuple(o.shape)}" for o in outputs)
            raise DetectionError(
                f"ONNX model {self.path.name} has {len(outputs)} outputs ({listed}), but a "
                "YOLO-OBB export has one ((1, 5 + classes, N), or (1, max_det, 7) with its "
                "NMS built in); a second output of shape (1, 32, H, W) is a segmentation "
                "model's mask prototypes: export an Ultralytics OBB model (a -obb.pt, "
                "`yolo export model=best.pt format=onnx`)"
            )
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            listed = ", ".join(f"{i.name} {tuple(i.shape)}" for i in inputs)
            raise DetectionError(
                f"ONNX model {self.path.name} takes {len(inputs)} inputs ({listed}), but "
                "railwatch feeds one, the image (batch, bands, height, width) as a YOLO-OBB "
                "export takes it: export an Ultralytics OBB model (format=onnx)"
            )
        args = _meta_value(meta, "args")
        end2end = _meta_value(meta, "end2end") is True or (
            isinstance(args, dict) and args.get("nms") is True
        )
        found = (
            _layout_of(out_shape, len(names) if names else None, end2end, self.input_size)
            if len(out_shape) == 3
            else None
        )
        if found is None:
            hint = (
                "; it looks like railwatch's own detector weights (railwatch train): run them "
                f"as the default detector (detector='default:{self.path}' in Python, "
                f"--detector default:{self.path} on the command line)"
                if len(out_shape) == 4 and _is_railwatch_network(self._session)
                else ""
            )
            raise DetectionError(
                f"ONNX model {self.path.name} outputs shape {tuple(out_shape)}, not the "
                "YOLO-OBB layout ((1, 5 + classes, N): 4 box values, a score per class, the "
                "angle; or that transposed, or (1, max_det, 7) from an nms=True export): "
                f"export an Ultralytics OBB model (format=onnx){hint}"
            )
        layout, shown = found
        self.layout = layout
        counted_by = ""
        if layout == END2END and shown is None and "names" in meta:
            # an end-to-end output (1, max_det, 7) does not show the class count, the
            # export's names do: ?classes= of another length failed on the first tile
            # with a box of a class past its list, or mislabelled every box silently
            meta_names = _names_from(meta["names"])
            if meta_names:
                shown = len(meta_names)
                counted_by = f" (its metadata's names: {_few(meta_names)})"
        if names is None:
            if shown != 1:
                # a model of several classes whose names are unknown: counting every class
                # as a railcar would count a DOTA model's planes and ships
                raise DetectionError(
                    f"ONNX model {self.path.name} has no class names"
                    + (
                        f" for its {shown} classes (output {tuple(out_shape)})"
                        if shown is not None and shown > 1
                        else f" (output {tuple(out_shape)}, layout {layout})"
                    )
                    + ": pass onnx:PATH?classes=a,b,... (the model's class names in order; "
                    "'railcar' for a car of any type, any other name for a class that is not "
                    "a railcar) or write a PATH.json sidecar with a 'names' list"
                )
            names = ("railcar",)  # one class: the railcars
        if shown is not None and shown != len(names):
            given = len(names)
            raise DetectionError(
                f"ONNX model {self.path.name} outputs {shown} class{'es' if shown != 1 else ''}"
                f"{counted_by} but {given} class name{'s were' if given != 1 else ' was'} "
                f"given ({_few(names)}, from {names_from}): give {shown} name"
                f"{'s' if shown != 1 else ''}, in the model's order, with ?classes= or in "
                "the sidecar's 'names'"
            )
        self.names: tuple[str, ...] = names
        self.class_map: tuple[str | None, ...] = class_map_of(names)
        if not any(c is not None for c in self.class_map):
            how = (
                "map them with ?classes=" + ",".join(["railcar"] * len(names))
                if len(names) <= 4
                else f"map them with ?classes= (or the sidecar's 'names'): {len(names)} names "
                "in the model's order, 'railcar' (or a railcar type) for each class that is "
                "a railcar and any other word for the others"
            )
            raise DetectionError(
                f"none of the {len(names)} classes of {self.path.name} ({_few(names)}, from "
                f"{names_from}) is a railcar class: {how}"
            )
        thr = score_threshold
        if thr is None:
            thr = _sidecar_number(sidecar, "conf", self.path)
            if thr is not None and not 0.0 < thr <= 1.0:
                raise InputError(
                    f"the sidecar of {self.path.name} gives conf {thr:g}: give the lowest "
                    "score to keep, above 0 and at most 1 (e.g. 0.25)"
                )
        self.score_threshold = float(thr) if thr is not None else SCORE_THRESHOLD
        if layout == END2END and (nms_iou is not None or agnostic is not None):
            # Ultralytics runs no NMS on such an output either: the option would do nothing
            raise InputError(
                f"ONNX model {self.path.name} has its NMS built in (an end-to-end output "
                f"{tuple(out_shape)}: exported with nms=True, or a one-to-one head), so "
                "?iou= and ?agnostic= cannot change it: remove them, or export the model "
                "again with the iou and agnostic_nms wanted (e.g. `yolo export "
                "model=best.pt format=onnx nms=True iou=0.5`)"
            )
        # the sidecar's NMS settings, where the spec gives none (session 37)
        side = _sidecar_nms(sidecar, self.path)
        if layout == END2END and ("nms_iou" in side or "agnostic" in side):
            keys = " and ".join(k for k in ("iou", "agnostic") if sidecar.get(k) is not None)
            raise InputError(
                f"the sidecar of {self.path.name} gives {keys}, but the model has its NMS "
                f"built in (an end-to-end output {tuple(out_shape)}: exported with nms=True, "
                f"or a one-to-one head), which they cannot change: remove {keys} from the "
                "sidecar, or export the model again with the iou and agnostic_nms wanted "
                "(e.g. `yolo export model=best.pt format=onnx nms=True iou=0.5`)"
            )
        nms_iou = side.get("nms_iou") if nms_iou is None else nms_iou
        agnostic = side.get("agnostic") if agnostic is None else agnostic
        max_det = side.get("max_det") if max_det is None else max_det
        #: Ultralytics' ``iou``, ``agnostic_nms`` and ``max_det`` (module docs)
        self.nms_iou = NMS_IOU if nms_iou is None else float(nms_iou)
        self.agnostic = bool(agnostic)
        self.max_det = MAX_DET if max_det is None else int(max_det)
        if model_gsd is None and sidecar.get("gsd") is not None:
            model_gsd = check_model_gsd(sidecar["gsd"], f"the sidecar of {self.path.name} gives")
        elif model_gsd is not None:
            model_gsd = check_model_gsd(model_gsd, "model")
        #: The ground sample distance (m per pixel) tiles are resampled to; None: as given
        self.model_gsd: float | None = model_gsd
        # bounded, stable and one per file name (session 41)
        self.name = model_file_name("onnx", self.path)
        self.version = model_version(
            "onnx",
            self.path,
            self.names,
            self.score_threshold,
            self.nms_iou,
            self.input_size,
            # since session 35: the model's gsd, the layout, tiles never scaled up
            self.model_gsd,
            self.layout,
            "unscaled",
            # since session 36: duplicates removed as Ultralytics' predict removes them
            "ultralytics-nms",
            self.agnostic,
            self.max_det,
            # since session 49, for models whose classes it maps otherwise than before
            # (a trailing car or wagon dropped; a general model's "car" an automobile):
            # scenes counted with such a class mapped otherwise are counted again
            *(
                [("class map", self.class_map)]
                if any(
                    _mapped_before_s49(n) != c for n, c in zip(names, self.class_map, strict=True)
                )
                else []
            ),
        )
        #: Preferred tile size for :func:`railwatch.detect.api.detect_array`.
        self.tile_px = max(self.input_size)

    def _setup_input(
        self, shape: list[Any], type_name: str, meta: Mapping[str, str], sidecar: Mapping[str, Any]
    ) -> None:
        """Bands, batch, element type and size of the model's input (refused with what
        to do when railwatch cannot feed it)."""
        name = self.path.name
        bands = shape[1]
        if isinstance(bands, int) and bands not in (1, 3):
            raise DetectionError(
                f"ONNX model {name} takes {bands} bands (input {tuple(shape)}), but railwatch "
                "gives detectors red, green and blue (or grey for a one-band model): train and "
                "export the model on RGB chips (`railwatch export-labels --format yolo-obb`)"
            )
        self._bands = bands if isinstance(bands, int) else 3
        batch = shape[0]
        self._batch = batch if isinstance(batch, int) and batch > 1 else 1
        types = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
        if type_name not in types:
            raise DetectionError(
                f"ONNX model {name} takes {type_name} input; railwatch feeds float (or "
                "float16) pixels in 0-1: export the model with `yolo export format=onnx`"
            )
        self._dtype = types[type_name]
        fixed = [d if isinstance(d, int) and d > 0 else None for d in shape[2:]]
        imgsz = _sidecar_number(sidecar, "imgsz", self.path)
        if imgsz is not None and (imgsz < 32 or imgsz != int(imgsz)):
            raise InputError(
                f"the sidecar of {name} gives imgsz {imgsz:g}: give the model's "
                "input size in pixels, a whole number of at least 32 (e.g. 1024)"
            )
        if imgsz is not None and any(d is not None and d != imgsz for d in fixed):
            raise InputError(
                f"the sidecar of {name} gives imgsz {imgsz:g} but the model's input is fixed "
                f"at {' x '.join(str(d) for d in fixed if d is not None)} px: remove imgsz "
                "from the sidecar (or export the model again at that size)"
            )
        stride = _meta_value(meta, "stride")
        stride = stride if isinstance(stride, int) and stride > 0 else 32
        meta_size = _meta_value(meta, "imgsz")
        if isinstance(meta_size, int):
            meta_size = [meta_size, meta_size]
        if not (
            isinstance(meta_size, list | tuple)
            and len(meta_size) == 2
            and all(isinstance(v, int) and v > 0 for v in meta_size)
        ):
            meta_size = None
        size = []
        for k, dim in enumerate(fixed):
            if dim is not None:
                size.append(dim)
                continue
            want = (
                int(imgsz) if imgsz is not None else (meta_size[k] if meta_size else DEFAULT_INPUT)
            )
            if want % stride:
                raise InputError(
                    f"{name}: imgsz {want} (its input size) is not a multiple of the model's "
                    f"stride {stride}: give a multiple of {stride} in the sidecar's imgsz "
                    f"(e.g. {max(stride, want // stride * stride)})"
                )
            size.append(want)
        self.input_size = (size[0], size[1])

    def _sidecar(self) -> dict[str, Any]:
        for cand in (self.path.with_suffix(".json"), Path(str(self.path) + ".json")):
            if cand.is_file():
                try:
                    data = json.loads(cand.read_text())
                except (OSError, json.JSONDecodeError) as err:
                    raise InputError(f"cannot read class sidecar {cand}: {err}") from err
                if isinstance(data, dict):
                    if "names" not in data and "classes" in data:
                        data["names"] = data["classes"]
                    return data
        return {}

    def _run(self, image: np.ndarray) -> list[Detection]:
        """Detections in pixels of ``image``, at most the model's input size."""
        tensor, scale, pad = letterbox(image, self.input_size, scaleup=False)
        if self._bands == 1:
            weights = np.array([0.299, 0.587, 0.114], np.float32).reshape(1, 3, 1, 1)
            tensor = (tensor * weights).sum(axis=1, keepdims=True, dtype=np.float32)
        if self._batch > 1:
            rest = np.zeros((self._batch - 1, *tensor.shape[1:]), tensor.dtype)
            tensor = np.concatenate([tensor, rest])
        tensor = np.ascontiguousarray(tensor.astype(self._dtype, copy=False))
        try:
            output = self._session.run(None, {self._input_name: tensor})[0]
        except Exception as err:  # onnxruntime's exception types are not exported
            raise DetectionError(f"ONNX model {self.path.name} failed to run: {err}") from err
        return decode_obb(
            np.asarray(output)[:1],
            self.class_map,
            scale=scale,
            pad=pad,
            score_threshold=self.score_threshold,
            nms_iou=self.nms_iou,
            layout=self.layout,
            agnostic=self.agnostic,
            max_det=self.max_det,
            run=new_run(),
        )

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        """Detections in pixel coordinates of ``image`` (H, W, 3) uint8 RGB."""
        return detect_valid(image, gsd, valid, self.model_gsd, self.input_size, self._run)
