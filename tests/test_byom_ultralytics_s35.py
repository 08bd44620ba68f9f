"""Bring-your-own-model audit of ``--detector ultralytics:PATH`` (session 35), with a
stand-in for the ``ultralytics`` package (AGPL-3.0, an optional extra that pulls CUDA
torch: never installed here). The stand-in's model boxes the reddest pixel of the
(BGR) array it is given, as :mod:`test_byom_onnx_s35`'s spot model does."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.detect.registry import get_detector
from railwatch.detect.ultralytics_backend import UltralyticsObbDetector
from railwatch.errors import DetectionError, InputError

BOX_W, BOX_H, ANGLE = 20.0, 6.0, 0.3


class _Tensor:
    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def cpu(self) -> _Tensor:
        return self

    def numpy(self) -> np.ndarray:
        return self.a


def _fake(monkeypatch: pytest.MonkeyPatch, imgsz: int | None, seen: list[dict[str, Any]]) -> None:
    """An ``ultralytics`` module whose YOLO-OBB model was trained at ``imgsz``."""

    class YOLO:
        def __init__(self, path: str, task: str | None = None) -> None:
            self.task = "obb"
            self.names = {0: "railcar"}
            self.overrides = {"imgsz": imgsz} if imgsz else {}

        def predict(self, image: np.ndarray, **kwargs: Any) -> list[Any]:
            seen.append({"shape": image.shape, **kwargs})
            red = image[:, :, 2]  # BGR
            row, col = np.unravel_index(int(red.argmax()), red.shape)
            xywhr = np.array([[col + 0.5, row + 0.5, BOX_W, BOX_H, ANGLE]])
            obb = types.SimpleNamespace(
                xywhr=_Tensor(xywhr),
                conf=_Tensor(np.array([red.max() / 255.0])),
                cls=_Tensor(np.array([0.0])),
            )
            return [types.SimpleNamespace(obb=obb)]

    module = types.ModuleType("ultralytics")
    module.YOLO = YOLO  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ultralytics", module)


def _det(spec: str) -> UltralyticsObbDetector:
    det = get_detector(spec)
    assert isinstance(det, UltralyticsObbDetector)
    return det


def _spot(shape: tuple[int, int], at: tuple[int, int], half: int = 1) -> np.ndarray:
    img = np.zeros((*shape, 3), np.uint8)
    x, y = at
    img[y - half : y + half, x - half : x + half, 0] = 255
    return img


def test_tiles_are_the_models_size_and_never_enlarged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tile was 1024 px whatever the model (a 640 model was handed 1024 px tiles,
    shrunk by Ultralytics' letterbox) and a smaller image was enlarged to imgsz; now the
    tile is the model's imgsz and a small image is padded, so its cars keep their size."""
    seen: list[dict[str, Any]] = []
    _fake(monkeypatch, 64, seen)
    model = tmp_path / "m.pt"
    model.write_bytes(b"pt")
    det = _det(f"ultralytics:{model}")
    assert det.tile_px == 64
    (d,) = det.detect(_spot((40, 30), (10, 20)), 0.5)
    assert seen[-1]["shape"] == (64, 64, 3) and seen[-1]["imgsz"] == 64
    assert (d.box.cx, d.box.cy, d.box.length) == pytest.approx((10.0, 20.0, BOX_W), abs=1.0)


def test_the_model_gsd_resamples_each_tile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    _fake(monkeypatch, 64, seen)
    model = tmp_path / "m.pt"
    model.write_bytes(b"pt")
    det = _det(f"ultralytics:{model}?gsd=0.5")
    (d,) = det.detect(_spot((100, 100), (50, 30), half=3), 0.3)
    assert (d.box.cx, d.box.cy) == pytest.approx((50.0, 30.0), abs=2.0)
    assert d.box.length == pytest.approx(BOX_W * 0.5 / 0.3)
    with pytest.raises(DetectionError, match=r"gsd=.*metres per pixel"):
        get_detector(f"ultralytics:{model}?gsd=fine")


def test_a_model_without_imgsz_and_bad_pixels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []
    _fake(monkeypatch, None, seen)
    model = tmp_path / "m.pt"
    model.write_bytes(b"pt")
    det = _det(f"ultralytics:{model}")
    assert det.tile_px == 1024
    with pytest.raises(InputError, match=r"8-bit.*float32"):
        det.detect(np.zeros((64, 64, 3), np.float32), 0.5)
