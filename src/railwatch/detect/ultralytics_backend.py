"""Ultralytics YOLO-OBB models (``.pt``) through the ``ultralytics`` package.

Optional: install the ``ultralytics`` extra (``pip install ultralytics``). Note that
Ultralytics is licensed AGPL-3.0, unlike railwatch (MIT); it is imported only
when this backend is asked for, never by the rest of the product. Prefer exporting
the model to ONNX (``yolo export model=M.pt format=onnx``) and using ``onnx:PATH``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.onnx_backend import SCORE_THRESHOLD, model_version, railwatch_class
from railwatch.errors import DetectionError, InputError, lazy_import


class UltralyticsObbDetector:
    """Runs an Ultralytics OBB model on each tile (CPU unless torch sees a GPU)."""

    #: ``ultralytics+`` a digest of the model and its threshold (onnx_backend.model_version)
    version: str = "ultralytics"

    def __init__(self, path: str | Path, *, score_threshold: float | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"model {self.path} does not exist: check the path")
        ultralytics: Any = lazy_import(
            "ultralytics", "ultralytics", "the ultralytics detector backend (AGPL-3.0)"
        )
        try:
            self._model = ultralytics.YOLO(str(self.path), task="obb")
        except Exception as err:  # ultralytics raises many unrelated exception types
            raise DetectionError(f"cannot load Ultralytics model {self.path}: {err}") from err
        task = getattr(self._model, "task", "obb")
        if isinstance(task, str) and task != "obb":
            # such a model's results have no oriented boxes: every tile counted 0 cars
            raise DetectionError(
                f"Ultralytics model {self.path.name} is a {task!r} model, not an oriented-box "
                "(obb) one: railwatch needs a YOLO-OBB model (e.g. trained from yolo11n-obb.pt "
                "on `railwatch export-labels --format yolo-obb` chips)"
            )
        names = getattr(self._model, "names", {}) or {}
        self.class_map: dict[int, str | None] = {
            int(k): railwatch_class(str(v)) for k, v in dict(names).items()
        }
        if self.class_map and not any(c is not None for c in self.class_map.values()):
            # every detection would be dropped: 0 cars on every image
            raise DetectionError(
                f"none of the classes of {self.path.name} "
                f"({', '.join(str(v) for v in dict(names).values())}) is a railcar class: "
                "export it to ONNX (`yolo export model=M.pt format=onnx`) and map its "
                "classes with --detector 'onnx:M.onnx?classes=railcar,...'"
            )
        self.score_threshold = score_threshold if score_threshold is not None else SCORE_THRESHOLD
        self.name = f"ultralytics:{self.path.name}"
        self.tile_px = 1024
        self.version = model_version(
            "ultralytics", self.path, sorted(self.class_map.items()), self.score_threshold
        )

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        """Detections in pixel coordinates of ``image`` (H, W, 3) uint8 RGB."""
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        try:
            results = self._model.predict(bgr, conf=self.score_threshold, verbose=False)
        except Exception as err:  # see above
            raise DetectionError(f"Ultralytics model {self.path.name} failed: {err}") from err
        dets: list[Detection] = []
        for res in results:
            obb = getattr(res, "obb", None)
            if obb is None:
                continue
            xywhr = np.asarray(obb.xywhr.cpu().numpy(), dtype=np.float64)
            conf = np.asarray(obb.conf.cpu().numpy(), dtype=np.float64)
            cls = np.asarray(obb.cls.cpu().numpy(), dtype=np.int64)
            for (cx, cy, w, h, r), s, c in zip(xywhr, conf, cls, strict=True):
                name = self.class_map.get(int(c), "railcar") if self.class_map else "railcar"
                if name is None:
                    continue
                deg = float(np.rad2deg(r)) + (0.0 if w >= h else 90.0)
                deg = (deg + 90.0) % 180.0 - 90.0
                length, width = (w, h) if w >= h else (h, w)
                if (
                    valid is not None
                    and not valid[
                        min(max(int(cy), 0), valid.shape[0] - 1),
                        min(max(int(cx), 0), valid.shape[1] - 1),
                    ]
                ):
                    continue
                dets.append(
                    Detection(OrientedBox(cx, cy, length, width, deg), cls=name, score=float(s))
                )
        return dets
