"""Ultralytics YOLO-OBB models (``.pt``) through the ``ultralytics`` package.

Optional: install the ``ultralytics`` extra (``pip install ultralytics``). Note that
Ultralytics is licensed AGPL-3.0, unlike railwatch (MIT); it is imported only
when this backend is asked for, never by the rest of the product. Prefer exporting
the model to ONNX (``yolo export model=M.pt format=onnx``) and using ``onnx:PATH``.

Tiles are handled as ``onnx:PATH`` handles them (2026-12-06, session 35): resampled to
the model's gsd when ``?gsd=`` gives it, put unscaled in the middle of a grey canvas of
the model's training size (its ``imgsz``, which is also the preferred tile size; it was 1024 px
whatever the model), run in windows of that size when larger; Ultralytics' own
letterbox, which enlarges a smaller image to ``imgsz``, never scales them.

Duplicates are removed by Ultralytics' own ``predict`` (``iou`` 0.7 per class,
``agnostic_nms`` off, ``max_det`` 300, unless ``?iou=``, ``?agnostic=``, ``?max_det=``
say otherwise); each detection carries its run (one ``predict`` call) in ``extra``, so
that the seam merge leaves two boxes Ultralytics kept on one tile as two (2026-12-06,
session 36: it merged them by polygon IoU 0.5 across classes).

A model exported by Ultralytics (``M.onnx``, an OpenVINO folder, a TensorRT engine)
runs at the input size its export metadata gives (height and width, a fixed-size export
always does: Ultralytics letterboxes whatever it is handed to that size); until
2026-12-06 (session 35) such a model had no training ``imgsz`` to read and got 1024 px
canvases, which a 640 px export shrank to 0.625 of their size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from railwatch.detect.base import Detection, OrientedBox, model_file_name
from railwatch.detect.merge import RUN_KEY
from railwatch.detect.onnx_backend import (
    MAX_DET,
    NMS_IOU,
    SCORE_THRESHOLD,
    check_model_gsd,
    class_map_of,
    detect_valid,
    model_version,
    new_run,
)
from railwatch.errors import DetectionError, InputError, lazy_import


class UltralyticsObbDetector:
    """Runs an Ultralytics OBB model on each tile (CPU unless torch sees a GPU)."""

    #: ``ultralytics+`` a digest of the model and its threshold (onnx_backend.model_version)
    version: str = "ultralytics"

    def __init__(
        self,
        path: str | Path,
        *,
        score_threshold: float | None = None,
        model_gsd: float | None = None,
        nms_iou: float | None = None,
        agnostic: bool | None = None,
        max_det: int | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"model {self.path} does not exist: check the path")
        ultralytics: Any = lazy_import(
            "ultralytics", "ultralytics", "the ultralytics detector backend (AGPL-3.0)"
        )
        try:
            self._model = ultralytics.YOLO(str(self.path), task="obb")
        except Exception as err:  # ultralytics raises many unrelated exception types
            raise DetectionError(
                f"cannot load Ultralytics model {self.path}: {err}{_hint(err)}"
            ) from err
        task = getattr(self._model, "task", "obb")
        if isinstance(task, str) and task != "obb":
            # such a model's results have no oriented boxes: every tile counted 0 cars
            raise DetectionError(
                f"Ultralytics model {self.path.name} is a {task!r} model, not an oriented-box "
                "(obb) one: railwatch needs a YOLO-OBB model (e.g. trained from yolo11n-obb.pt "
                "on `railwatch export-labels --format yolo-obb` chips)"
            )
        names = getattr(self._model, "names", {}) or {}
        ordered = sorted((int(k), str(v)) for k, v in dict(names).items())
        mapped = class_map_of([v for _, v in ordered])
        self.class_map: dict[int, str | None] = {
            k: c for (k, _), c in zip(ordered, mapped, strict=True)
        }
        #: The model's class names in order (as ``onnx:``'s ``names``)
        self.names: tuple[str, ...] = tuple(
            str(v) for _, v in sorted((int(k), v) for k, v in dict(names).items())
        )
        if self.class_map and not any(c is not None for c in self.class_map.values()):
            # every detection would be dropped: 0 cars on every image
            raise DetectionError(
                f"none of the classes of {self.path.name} "
                f"({', '.join(str(v) for v in dict(names).values())}) is a railcar class: "
                "export it to ONNX (`yolo export model=M.pt format=onnx`) and map its "
                "classes with the detector spec 'onnx:M.onnx?classes=railcar,...' "
                "(detector= in Python, --detector on the command line)"
            )
        self.score_threshold = score_threshold if score_threshold is not None else SCORE_THRESHOLD
        #: Ultralytics' ``iou``, ``agnostic_nms`` and ``max_det``, given to its ``predict``
        self.nms_iou = NMS_IOU if nms_iou is None else float(nms_iou)
        self.agnostic = bool(agnostic)
        self.max_det = MAX_DET if max_det is None else int(max_det)
        # bounded, stable and one per file name (session 41)
        self.name = model_file_name("ultralytics", self.path)
        #: The model's input (height, width): a checkpoint's training ``imgsz`` square, an
        #: export's metadata ``imgsz``; 1024 square when neither says
        self.input_size = _model_input(self._model, self.path)
        #: The larger side of :attr:`input_size`
        self.imgsz = max(self.input_size)
        self.tile_px = self.imgsz
        #: The ground sample distance (m per pixel) tiles are resampled to; None: as given
        self.model_gsd = None if model_gsd is None else check_model_gsd(model_gsd, "model")
        self.version = model_version(
            "ultralytics",
            self.path,
            sorted(self.class_map.items()),
            self.score_threshold,
            # since session 35: the input size, the model's gsd, tiles never scaled up,
            # a smaller tile centred on the canvas
            self.imgsz if self.input_size[0] == self.input_size[1] else self.input_size,
            self.model_gsd,
            "unscaled",
            "centred",
            # since session 36: Ultralytics' NMS settings, its boxes kept apart in a tile
            ("nms", self.nms_iou, self.agnostic, self.max_det),
        )

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        """Detections in pixel coordinates of ``image`` (H, W, 3) uint8 RGB."""
        return detect_valid(image, gsd, valid, self.model_gsd, self.input_size, self._run)

    def _run(self, image: np.ndarray) -> list[Detection]:
        """Detections in pixels of ``image`` (at most :attr:`input_size`), put unscaled in
        the middle of a grey canvas of that size so that Ultralytics does not scale it, where
        onnx:PATH's letterbox puts it (at the top left until 2026-12-06: the network saw the
        cars at another offset from its stride grid, so the same model gave other boxes
        through the two backends on an image smaller than its input)."""
        h, w = image.shape[:2]
        ih, iw = self.input_size
        top, left = (ih - h) // 2, (iw - w) // 2
        canvas = np.full((ih, iw, 3), 114, np.uint8)
        canvas[top : top + h, left : left + w] = image[:, :, ::-1]  # Ultralytics reads BGR
        size: int | list[int] = self.imgsz if ih == iw else [ih, iw]
        try:
            results = self._model.predict(
                canvas,
                conf=self.score_threshold,
                iou=self.nms_iou,
                agnostic_nms=self.agnostic,
                max_det=self.max_det,
                imgsz=size,
                verbose=False,
            )
        except Exception as err:  # see above
            raise DetectionError(
                f"Ultralytics model {self.path.name} failed: {err}{_hint(err)}"
            ) from err
        dets: list[Detection] = []
        run = new_run()
        for res in results:
            obb = getattr(res, "obb", None)
            if obb is None:
                continue
            xywhr = np.asarray(obb.xywhr.cpu().numpy(), dtype=np.float64)
            conf = np.asarray(obb.conf.cpu().numpy(), dtype=np.float64)
            cls = np.asarray(obb.cls.cpu().numpy(), dtype=np.int64)
            for (cx, cy, bw, bh, r), s, c in zip(xywhr, conf, cls, strict=True):
                name = self.class_map.get(int(c), "railcar") if self.class_map else "railcar"
                if name is None:
                    continue
                deg = float(np.rad2deg(r)) + (0.0 if bw >= bh else 90.0)
                deg = (deg + 90.0) % 180.0 - 90.0
                length, width = (bw, bh) if bw >= bh else (bh, bw)
                dets.append(
                    Detection(
                        OrientedBox(
                            float(cx) - left, float(cy) - top, float(length), float(width), deg
                        ),
                        cls=name,
                        score=float(s),
                        extra={RUN_KEY: run},
                    )
                )
        return dets


def _hint(err: BaseException) -> str:
    """What to do about an error of Ultralytics' that is the installation's, not the
    model's: a torchvision built for another torch (PyPI's torchvision beside a CPU-only
    torch) has no ``torchvision::nms``, which Ultralytics' ``predict`` calls (session 49:
    every tile failed with "operator torchvision::nms does not exist" alone)."""
    if "torchvision::" in str(err):
        return (
            "; torchvision does not match the installed torch (its compiled operators did "
            "not load): install the torchvision built for this torch (`pip show torch` "
            "names its version; each torchvision release names the torch it needs), or "
            "export the model to ONNX (`yolo export model=M.pt format=onnx`) and use "
            "onnx:M.onnx, which needs neither"
        )
    return ""


def _size_of(value: Any) -> tuple[int, int] | None:
    """``value`` (an ``imgsz``: a side, or height and width) as (height, width); None
    when it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if (
        isinstance(value, list | tuple)
        and len(value) in (1, 2)
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 32 for v in value)
    ):
        return (value[0], value[-1])
    return None


def _model_input(model: Any, path: Path) -> tuple[int, int]:
    """The (height, width) tiles are fed to an Ultralytics model at: a checkpoint's
    training ``imgsz`` (``overrides['imgsz']``, else its ``args``; the larger side,
    square); an exported model's metadata ``imgsz``, which Ultralytics reads when it
    first predicts (it runs a fixed-size export at that size whatever it is asked);
    1024 square when none says."""
    for source in (
        getattr(model, "overrides", None),
        getattr(getattr(model, "model", None), "args", None),
    ):
        size = _size_of(source.get("imgsz") if isinstance(source, dict) else None)
        if size is not None:
            side = max(size)
            return (side, side)
    if isinstance(getattr(model, "model", None), str | Path):
        # an export (ONNX, OpenVINO, TensorRT, ...): its metadata is read by Ultralytics'
        # backend, set up by a first prediction (the model is loaded then in any case)
        try:
            model.predict(np.full((32, 32, 3), 114, np.uint8), verbose=False)
        except Exception as err:  # ultralytics raises many unrelated exception types
            raise DetectionError(
                f"Ultralytics model {path.name} failed: {err}{_hint(err)}"
            ) from err
        backend = getattr(getattr(model, "predictor", None), "model", None)
        size = _size_of(getattr(backend, "imgsz", None))
        if size is not None:
            return size
    return (1024, 1024)
