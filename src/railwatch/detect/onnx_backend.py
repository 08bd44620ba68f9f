"""Oriented-box ONNX models in the Ultralytics YOLO-OBB output layout.

The model takes ``(1, 3, H, W)`` float32 RGB in 0–1 and returns ``(1, 4 + nc + 1, N)``:
per candidate ``cx, cy, w, h`` (input pixels), ``nc`` class scores, and the box angle in
radians (the ``w`` side points along ``(cos a, sin a)`` in image coordinates). Tiles are
letterboxed to the model size (centred, grey 114 padding, as Ultralytics does), boxes
are mapped back to tile pixels, ``w``/``h`` become car length/width, and duplicates are
removed by rotated NMS on polygon IoU.

Class names come, in order of preference, from the ``classes`` argument (``?classes=``),
a JSON sidecar ``MODEL.json`` (``{"names": [...]}`` or ``{"names": {"0": ...}}``), or
the model's ``names`` metadata (written by Ultralytics' exporter); a model with one
class and no names is taken as a railcar detector, one of several classes without names
is refused (its classes cannot be told apart). Names are mapped to
railwatch classes (``tank car`` → ``tank``, ``wagon`` → ``railcar``, ...); detections
of classes that are not railcars (a DOTA model's ``plane``) are dropped.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from railwatch.detect.base import ALL_CLASSES, Detection, OrientedBox
from railwatch.detect.merge import overlap_pairs, polygons_of
from railwatch.errors import DetectionError, InputError

#: Default confidence threshold.
SCORE_THRESHOLD = 0.25
#: Rotated-NMS IoU threshold.
NMS_IOU = 0.5
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
}


def railwatch_class(name: str) -> str | None:
    """The railwatch class for a model class name, or None when it is not a railcar."""
    key = name.strip().lower().replace("_", " ").replace("-", " ")
    compact = key.replace(" ", "")
    if compact in ALL_CLASSES:
        return compact
    return _ALIASES.get(key)


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
    image: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize ``image`` (H, W, 3) uint8 into ``size`` (h, w) keeping its aspect,
    centred on grey; returns the ``(1, 3, h, w)`` float32 0–1 tensor, the scale
    and the ``(pad_x, pad_y)`` offset."""
    h, w = image.shape[:2]
    th, tw = size
    r = min(th / h, tw / w)
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


def rotated_nms(boxes: np.ndarray, scores: np.ndarray, iou: float = NMS_IOU) -> np.ndarray:
    """Indices kept by greedy NMS on oriented-polygon IoU (``boxes`` is ``(N, 5)``
    ``cx, cy, length, width, angle_deg``), highest score first."""
    n = len(boxes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    i, j, ious, _ = overlap_pairs(polygons_of(boxes))
    sel = ious >= iou
    i, j = i[sel], j[sel]
    neighbours: dict[int, list[int]] = {}
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    order = np.argsort(-scores, kind="stable")
    suppressed = np.zeros(n, dtype=bool)
    keep: list[int] = []
    for k in order.tolist():
        if suppressed[k]:
            continue
        keep.append(k)
        for m in neighbours.get(k, ()):
            suppressed[m] = True
    return np.array(keep, dtype=np.int64)


def decode_obb(
    output: np.ndarray,
    class_map: Sequence[str | None],
    *,
    scale: float,
    pad: tuple[float, float],
    score_threshold: float = SCORE_THRESHOLD,
    nms_iou: float = NMS_IOU,
) -> list[Detection]:
    """Detections in tile pixels from a YOLO-OBB output ``(1, 4 + nc + 1, N)``.

    ``class_map[k]`` is the railwatch class of model class ``k`` (None: not a railcar);
    ``scale`` and ``pad`` undo the letterbox.
    """
    out = np.asarray(output, dtype=np.float32)
    if out.ndim == 3:
        out = out[0]
    nc = len(class_map)
    if out.ndim != 2 or out.shape[0] != 5 + nc:
        raise DetectionError(
            f"ONNX model output has shape {np.shape(output)}, expected (1, {5 + nc}, N) for "
            f"{nc} classes in the YOLO-OBB layout; check the model or its class list"
        )
    cls_scores = out[4 : 4 + nc]
    cls = cls_scores.argmax(axis=0)
    score = cls_scores[cls, np.arange(out.shape[1])]
    wanted = np.array([c is not None for c in class_map], dtype=bool)
    sel = (score >= score_threshold) & wanted[cls]
    if not sel.any():
        return []
    cx, cy, w, h, ang = out[0][sel], out[1][sel], out[2][sel], out[3][sel], out[4 + nc][sel]
    cls, score = cls[sel], score[sel]
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
    keep = rotated_nms(boxes, score.astype(np.float64), nms_iou)
    dets: list[Detection] = []
    for k in keep.tolist():
        name = class_map[int(cls[k])]
        if name is None:
            continue
        b = boxes[k]
        dets.append(
            Detection(
                box=OrientedBox(float(b[0]), float(b[1]), float(b[2]), float(b[3]), float(b[4])),
                cls=name,
                score=float(np.clip(score[k], 0.0, 1.0)),
            )
        )
    return dets


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


def _candidates_first_hint(rows: Any, cands: Any, classes: int | None = None) -> str:
    """A hint for an output ``(1, N, K)`` that puts the candidates first (an export with
    NMS, ``nms=True``, gives ``(1, max_det, 7)``; a transposed head ``(1, N, 5 + nc)``),
    which the YOLO-OBB layout ``(1, 5 + nc, N)`` is not; empty when the shape does not
    look so."""
    if not isinstance(rows, int) or not isinstance(cands, int):
        return ""
    if cands == 7 or (classes is not None and cands == 5 + classes) or rows > 16 * cands:
        return (
            f"; an output (1, {rows}, {cands}) looks like candidates first (a model exported "
            "with NMS, nms=True, or a transposed head): export the raw OBB head instead, "
            "`yolo export model=best.pt format=onnx` (nms=False)"
        )
    return ""


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
        nms_iou: float = NMS_IOU,
        threads: int | None = None,
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
        if names is None and sidecar.get("names") is not None:
            names = _names_from(sidecar["names"])
        meta = self._session.get_modelmeta().custom_metadata_map
        if names is None and "names" in meta:
            names = _names_from(meta["names"])
        inp = self._session.get_inputs()[0]
        self._input_name = inp.name
        shape = list(inp.shape)
        ih = shape[2] if len(shape) == 4 and isinstance(shape[2], int) else DEFAULT_INPUT
        iw = shape[3] if len(shape) == 4 and isinstance(shape[3], int) else DEFAULT_INPUT
        imgsz = _sidecar_number(sidecar, "imgsz", self.path)
        if imgsz is not None and (imgsz < 32 or imgsz != int(imgsz)):
            raise InputError(
                f"the sidecar of {self.path.name} gives imgsz {imgsz:g}: give the model's "
                "input size in pixels, a whole number of at least 32 (e.g. 1024)"
            )
        self.input_size = (int(imgsz or ih), int(imgsz or iw))
        out_shape = self._session.get_outputs()[0].shape
        rows = out_shape[1] if len(out_shape) == 3 else None
        if len(out_shape) != 3 or (isinstance(rows, int) and rows < 6):
            hint = (
                "; it looks like railwatch's own detector weights (railwatch train): run them "
                f"with --detector default:{self.path}"
                if len(out_shape) == 4 and _is_railwatch_network(self._session)
                else ""
            )
            raise DetectionError(
                f"ONNX model {self.path.name} outputs shape {tuple(out_shape)}, not the "
                "YOLO-OBB layout (1, 5 + classes, N: 4 box values, a score per class, the "
                f"angle): export an Ultralytics OBB model (format=onnx){hint}"
            )
        cands = out_shape[2]
        if names is None:
            nc = rows - 5 if isinstance(rows, int) else 0
            if nc != 1:
                # a model of several classes whose names are unknown: counting every class
                # as a railcar would count a DOTA model's planes and ships
                raise DetectionError(
                    f"ONNX model {self.path.name} has no class names"
                    + (
                        f" for its {nc} classes (output {tuple(out_shape)})"
                        if nc > 1
                        else f" (output {tuple(out_shape)})"
                    )
                    + ": pass onnx:PATH?classes=a,b,... (the model's class names in order; "
                    "'railcar' for a car of any type, any other name for a class that is not "
                    "a railcar) or write a PATH.json sidecar with a 'names' list"
                    + _candidates_first_hint(rows, cands)
                )
            names = ("railcar",)  # one class: the railcars
        if isinstance(rows, int) and rows != 5 + len(names):
            raise DetectionError(
                f"ONNX model {self.path.name} outputs {rows - 5} classes but "
                f"{len(names)} class names were given: fix ?classes= or the sidecar"
                + _candidates_first_hint(rows, cands, len(names))
            )
        self.names: tuple[str, ...] = names
        self.class_map: tuple[str | None, ...] = tuple(railwatch_class(n) for n in names)
        if not any(c is not None for c in self.class_map):
            raise DetectionError(
                f"none of the classes of {self.path.name} ({', '.join(names)}) is a railcar "
                "class: map them with ?classes=" + ",".join(["railcar"] * len(names))
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
        self.nms_iou = nms_iou
        self.name = f"onnx:{self.path.name}"
        self.version = model_version(
            "onnx", self.path, self.names, self.score_threshold, self.nms_iou, self.input_size
        )
        #: Preferred tile size for :func:`railwatch.detect.api.detect_array`.
        self.tile_px = max(self.input_size)

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

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        """Detections in pixel coordinates of ``image`` (H, W, 3) uint8 RGB."""
        if image.ndim != 3 or image.shape[2] != 3:
            raise InputError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
        img = image
        if valid is not None and not valid.all():
            img = image.copy()
            img[~valid] = 114
        tensor, scale, pad = letterbox(img, self.input_size)
        try:
            output = self._session.run(None, {self._input_name: tensor})[0]
        except Exception as err:  # onnxruntime's exception types are not exported
            raise DetectionError(f"ONNX model {self.path.name} failed to run: {err}") from err
        dets = decode_obb(
            output,
            self.class_map,
            scale=scale,
            pad=pad,
            score_threshold=self.score_threshold,
            nms_iou=self.nms_iou,
        )
        if valid is not None and dets:
            h, w = valid.shape
            dets = [
                d
                for d in dets
                if valid[min(max(int(d.box.cy), 0), h - 1), min(max(int(d.box.cx), 0), w - 1)]
            ]
        return dets
