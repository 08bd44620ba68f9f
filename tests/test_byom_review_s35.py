"""Second review of the bring-your-own-model work of session 35 (``onnx:PATH``,
``ultralytics:PATH``), checked against models built, trained and exported by the real
``ultralytics`` 8.4.190 (YOLOv8n-OBB and YOLO26n-OBB, every CPU export variant; see
docs/detection.md, "Other models"). These tests reproduce what was found without the
package (AGPL-3.0, never a dependency): a stand-in behaves as Ultralytics does where it
matters, and ONNX models are built by hand in the layouts its exporter writes."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from railwatch.detect.onnx_backend import OnnxObbDetector, letterbox
from railwatch.detect.registry import get_detector
from railwatch.detect.ultralytics_backend import UltralyticsObbDetector
from railwatch.errors import DetectionError
from test_byom_onnx_s35 import red_spot, spot_model
from test_byom_ultralytics_s35 import ANGLE, BOX_H, BOX_W, _spot, _Tensor


def _fake_export(
    monkeypatch: pytest.MonkeyPatch,
    imgsz: tuple[int, int],
    seen: list[dict[str, Any]],
    *,
    dynamic: bool = False,
) -> None:
    """An ``ultralytics`` module whose ``YOLO`` loads an exported model (``M.onnx``) as
    Ultralytics 8.4 does: ``model`` is the file's path (no checkpoint ``args``, no
    ``imgsz`` in ``overrides``); the first ``predict`` sets up ``predictor.model``, whose
    ``imgsz`` comes from the export's metadata; a fixed-size export is run at that size
    whatever ``imgsz`` is asked (the array letterboxed into it, boxes scaled back). The
    model boxes the reddest pixel (red above green: the grey canvas is not red)."""

    class YOLO:
        def __init__(self, path: str, task: str | None = None) -> None:
            self.model = path
            self.task = "obb"
            self.names = {0: "railcar"}
            self.overrides = {"model": path, "task": task}
            self.predictor: Any = None

        def predict(self, image: np.ndarray, **kwargs: Any) -> list[Any]:
            backend = types.SimpleNamespace(imgsz=list(imgsz), dynamic=dynamic)
            self.predictor = types.SimpleNamespace(model=backend)
            asked = kwargs.get("imgsz", 640)
            size = asked if dynamic else imgsz
            th, tw = (size, size) if isinstance(size, int) else size
            seen.append({"shape": image.shape, "run_at": (th, tw), "image": image, **kwargs})
            h, w = image.shape[:2]
            r = min(th / h, tw / w)
            small = cv2.resize(image, (round(w * r), round(h * r)), interpolation=cv2.INTER_AREA)
            red = small[:, :, 2].astype(np.int64) - small[:, :, 1]  # BGR; grey reads 0
            row, col = np.unravel_index(int(red.argmax()), red.shape)
            score = red.max() / 255.0
            keep = slice(None) if score >= kwargs.get("conf", 0.25) else slice(0)
            xywhr = np.array([[(col + 0.5) / r, (row + 0.5) / r, BOX_W / r, BOX_H / r, ANGLE]])
            obb = types.SimpleNamespace(
                xywhr=_Tensor(xywhr[keep]),
                conf=_Tensor(np.array([score])[keep]),
                cls=_Tensor(np.array([0.0])[keep]),
            )
            return [types.SimpleNamespace(obb=obb)]

    module = types.ModuleType("ultralytics")
    module.YOLO = YOLO  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ultralytics", module)


def _det(spec: str) -> UltralyticsObbDetector:
    det = get_detector(spec)
    assert isinstance(det, UltralyticsObbDetector)
    return det


def test_an_exported_model_runs_at_its_export_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ultralytics:M.onnx`` (an export Ultralytics' YOLO loads) had no training imgsz
    to read, so its tiles were put on 1024 px canvases that Ultralytics shrank into the
    export's fixed input (with the real package: a 640 px export saw cars at 0.625 of
    their size, boxes up to 27 px off those onnx:M.onnx gives). Now the canvas is the
    export's metadata imgsz, height and width, and cars keep their size."""
    seen: list[dict[str, Any]] = []
    _fake_export(monkeypatch, (64, 96), seen)
    model = tmp_path / "m.onnx"
    model.write_bytes(b"onnx")
    det = _det(f"ultralytics:{model}")
    (d,) = det.detect(_spot((40, 30), (10, 20)), 0.5)
    assert (d.box.cx, d.box.cy) == pytest.approx((10.0, 20.0), abs=1.0)
    assert (d.box.length, d.box.width) == pytest.approx((BOX_W, BOX_H))
    assert seen[-1]["shape"] == (64, 96, 3) and seen[-1]["run_at"] == (64, 96)
    assert det.input_size == (64, 96) and det.tile_px == 96
    # a larger image is cut into windows of the export's height, never shrunk
    img = np.zeros((150, 150, 3), np.uint8)
    img[119:121, 99:101, 0] = 255
    (d,) = det.detect(img, 0.1)
    assert (d.box.cx, d.box.cy, d.box.length) == pytest.approx((100.0, 120.0, BOX_W), abs=1.0)
    assert {s["shape"] for s in seen[1:]} == {(64, 96, 3)}


def test_a_dynamic_export_runs_at_its_metadata_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``dynamic=True`` export runs at whatever size it is asked: at its export imgsz,
    as onnx:PATH runs it, rather than at 1024 px."""
    seen: list[dict[str, Any]] = []
    _fake_export(monkeypatch, (64, 64), seen, dynamic=True)
    model = tmp_path / "m.onnx"
    model.write_bytes(b"onnx")
    det = _det(f"ultralytics:{model}")
    (d,) = det.detect(_spot((40, 30), (10, 20)), 0.5)
    assert seen[-1]["run_at"] == (64, 64)
    assert d.box.length == pytest.approx(BOX_W)
    assert det.input_size == (64, 64)


#: The metadata Ultralytics 8.4.190 writes into an ``nms=True`` export of a two-class
#: YOLOv8n-OBB (``engine/exporter.py``; values are ``str(v)``), as read from a real one.
NMS_META = {
    "task": "obb",
    "stride": "32",
    "batch": "1",
    "imgsz": "[64, 64]",
    "names": "{0: 'tank car', 1: 'boxcar'}",
    "args": "{'data': None, 'batch': 1, 'fraction': 1.0, 'quantize': None, 'nms': True, "
    "'dynamic': False, 'simplify': True, 'opset': None}",
    "end2end": "False",
    "channels": "3",
}


@pytest.mark.parametrize("classes", ["railcar", "railcar,tank,boxcar"])
def test_end_to_end_class_names_of_another_count_are_refused_when_loaded(
    tmp_path: Path, classes: str
) -> None:
    """An end-to-end export's output (1, 300, 7) does not show how many classes the
    model has, but its metadata's names do. ``?classes=railcar`` on a two-class
    ``nms=True`` export loaded, then failed on the first tile holding a box of class 1
    (with the real export: at detect, 'output gives class 1'); three names loaded and
    labelled every box by the wrong list. Now both are refused when loaded, as a raw
    export of the same model always was."""
    path = spot_model(tmp_path / "m.onnx", layout="e2e", meta=NMS_META, cls_index=1)
    with pytest.raises(DetectionError, match=r"outputs 2 classes \(its metadata's names: tank"):
        get_detector(f"onnx:{path}?classes={classes}")
    det = get_detector(f"onnx:{path}?classes=plane,railcar")
    assert isinstance(det, OnnxObbDetector) and det.layout == "end2end"
    (d,) = det.detect(red_spot((64, 64), (30, 30)), 0.5)
    assert d.cls == "railcar"
    (d,) = get_detector(f"onnx:{path}").detect(red_spot((64, 64), (30, 30)), 0.5)
    assert d.cls == "boxcar"


def test_a_small_image_sits_where_onnx_puts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ultralytics:PATH`` put an image smaller than the model's input at the top left of
    its canvas, ``onnx:PATH`` (as Ultralytics' letterbox) in the middle: the network saw
    the cars at another offset from its stride grid, so one model gave other boxes through
    the two backends (with the real package, the same 640 px export on a 600 x 480 image:
    13 of 24 boxes differed, the rest by up to 3 px). Now both centre it."""
    seen: list[dict[str, Any]] = []
    _fake_export(monkeypatch, (64, 64), seen)
    model = tmp_path / "m.onnx"
    model.write_bytes(b"onnx")
    det = _det(f"ultralytics:{model}")
    image = _spot((30, 40), (10, 20))
    (d,) = det.detect(image, 0.5)
    assert (d.box.cx, d.box.cy) == pytest.approx((10.0, 20.0), abs=1.0)
    tensor, _, pad = letterbox(image, (64, 64), scaleup=False)
    canvas = seen[-1]["image"][:, :, ::-1]  # back to RGB
    assert pad == (12.0, 17.0)
    assert np.array_equal(canvas, np.round(tensor[0].transpose(1, 2, 0) * 255).astype(np.uint8))
