"""The ONNX YOLO-OBB backend: decoding a tiny constant-output model built here."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from railwatch.detect.onnx_backend import OnnxObbDetector, decode_obb, letterbox, railwatch_class
from railwatch.detect.registry import get_detector
from railwatch.errors import DetectionError

SIZE = 64


def _model(path: Path, out: np.ndarray, names: str | None = None) -> Path:
    """A model whose output is ``out`` whatever the (1, 3, 64, 64) input."""
    const = helper.make_node(
        "Constant", [], ["raw"], value=numpy_helper.from_array(out.astype(np.float32), "c")
    )
    # output = raw + 0 * mean(images): keeps the input in the graph
    mean = helper.make_node("ReduceMean", ["images"], ["m"], keepdims=1)
    zero = helper.make_node(
        "Constant", [], ["z"], value=numpy_helper.from_array(np.zeros(1, np.float32), "z0")
    )
    mul = helper.make_node("Mul", ["m", "z"], ["mz"])
    flat = helper.make_node(
        "Constant", [], ["shape"], value=numpy_helper.from_array(np.array([1, 1, 1], np.int64))
    )
    resh = helper.make_node("Reshape", ["mz", "shape"], ["mz3"])
    add = helper.make_node("Add", ["raw", "mz3"], ["output0"])
    graph = helper.make_graph(
        [const, mean, zero, mul, flat, resh, add],
        "obb",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(out.shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if names is not None:
        helper.set_model_props(model, {"names": names})
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def _output(rows: list[tuple[float, float, float, float, list[float], float]]) -> np.ndarray:
    """(1, 4 + nc + 1, N) from (cx, cy, w, h, class scores, angle rad) rows."""
    cols = [[cx, cy, w, h, *scores, ang] for cx, cy, w, h, scores, ang in rows]
    return np.array(cols, dtype=np.float32).T[None]


ROWS = [
    # a car along x, class 0 (tank)
    (20.0, 30.0, 28.0, 6.0, [0.9, 0.05], 0.0),
    # a car given with h > w: length is h, angle turns by 90 degrees
    (40.0, 20.0, 6.0, 28.0, [0.1, 0.8], math.radians(10)),
    # duplicate of the first with a lower score: removed by rotated NMS
    (20.5, 30.0, 28.0, 6.0, [0.6, 0.0], 0.02),
    # below the score threshold
    (50.0, 50.0, 28.0, 6.0, [0.1, 0.1], 0.0),
]


def test_decoding_with_metadata_names(tmp_path: Path) -> None:
    path = _model(tmp_path / "m.onnx", _output(ROWS), names="{0: 'tank car', 1: 'hopper'}")
    det = get_detector(f"onnx:{path}")
    assert isinstance(det, OnnxObbDetector)
    assert det.class_map == ("tank", "hopper")
    # a 64 x 64 tile fills the 64 x 64 input (since session 35 a larger tile is run in
    # windows of the input's size, not shrunk into it: test_byom_onnx_s35)
    dets = det.detect(np.zeros((64, 64, 3), np.uint8), 0.5)
    assert len(dets) == 2
    a, b = sorted(dets, key=lambda d: d.box.cx)
    assert a.cls == "tank" and a.score == pytest.approx(0.9)
    assert (a.box.cx, a.box.cy, a.box.length, a.box.width) == pytest.approx((20, 30, 28, 6))
    assert a.box.angle == pytest.approx(0.0)
    assert b.cls == "hopper"
    assert (b.box.cx, b.box.cy, b.box.length, b.box.width) == pytest.approx((40, 20, 28, 6))
    assert b.box.angle == pytest.approx(100.0 - 180.0)


def test_letterbox_padding_is_undone(tmp_path: Path) -> None:
    # a 64 x 128 (h x w) tile: scale 0.5, padded 16 px top and bottom
    tensor, r, pad = letterbox(np.zeros((64, 128, 3), np.uint8), (SIZE, SIZE))
    assert tensor.shape == (1, 3, SIZE, SIZE) and tensor.dtype == np.float32
    assert r == 0.5 and pad == (0.0, 16.0)
    assert tensor[0, 0, 0, 0] == pytest.approx(114 / 255)
    dets = decode_obb(_output(ROWS[:1]), ("tank", "hopper"), scale=r, pad=pad)
    assert (dets[0].box.cx, dets[0].box.cy) == pytest.approx((40.0, 28.0))


def test_classes_query_and_sidecar(tmp_path: Path) -> None:
    path = _model(tmp_path / "m.onnx", _output(ROWS))
    det = get_detector(f"onnx:{path}?classes=boxcar,railcar&conf=0.5")
    assert isinstance(det, OnnxObbDetector)
    assert det.class_map == ("boxcar", "railcar") and det.score_threshold == 0.5
    (tmp_path / "m.json").write_text(json.dumps({"names": ["plane", "gondola"]}))
    det2 = get_detector(f"onnx:{path}")
    dets = det2.detect(np.zeros((64, 64, 3), np.uint8), 0.5)
    # class 0 ("plane") is not a railcar: dropped, even though the NMS winner was class 0
    assert [d.cls for d in dets] == ["gondola"]


def test_bad_models(tmp_path: Path) -> None:
    with pytest.raises(DetectionError, match="unknown detector"):
        get_detector("yolo:foo")
    path = _model(tmp_path / "m.onnx", _output(ROWS))
    with pytest.raises(DetectionError, match="3 class names"):
        get_detector(f"onnx:{path}?classes=tank,hopper,boxcar")  # wrong number of classes
    with pytest.raises(DetectionError, match="expected"):
        decode_obb(_output(ROWS), ("tank", "hopper", "flat"), scale=1.0, pad=(0.0, 0.0))
    with pytest.raises(Exception, match="does not exist"):
        get_detector(f"onnx:{tmp_path / 'missing.onnx'}")
    with pytest.raises(DetectionError, match="railcar class"):
        get_detector(f"onnx:{path}?classes=plane,ship")
    # outputs of another layout were reported as 'no class names' or '-2 classes'
    for name, out in (("4d", np.zeros((1, 2, 3, 4))), ("rows", np.zeros((1, 3, 10)))):
        bad = _model(tmp_path / f"{name}.onnx", out)
        for query in ("", "?classes=tank,hopper"):
            with pytest.raises(DetectionError, match="not the YOLO-OBB layout"):
                get_detector(f"onnx:{bad}{query}")


def test_class_aliases() -> None:
    assert railwatch_class("Tank_Car") == "tank"
    assert railwatch_class("boxcar") == "boxcar"
    assert railwatch_class("wagon") == "railcar"
    assert railwatch_class("plane") is None


def test_a_file_that_is_not_a_model_or_a_folder_says_what_to_give(tmp_path: Path) -> None:
    """onnx:FILE with a file that is not ONNX gave only onnxruntime's INVALID_PROTOBUF
    text (nothing on what to pass), and onnx:FOLDER said the folder "does not exist"."""
    junk = tmp_path / "junk.onnx"
    junk.write_text("not a model\n")
    with pytest.raises(DetectionError, match=r"cannot load ONNX model .*give an \.onnx file"):
        get_detector(f"onnx:{junk}")
    with pytest.raises(Exception, match=r"is a folder: give the \.onnx file in it"):
        get_detector(f"onnx:{tmp_path}")
    default = get_detector(f"default-fp32:{junk}")
    with pytest.raises(DetectionError, match="give the ONNX weights that railwatch train"):
        default._get_session()  # type: ignore[attr-defined]
