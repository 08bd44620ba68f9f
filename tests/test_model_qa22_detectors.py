"""QA of `--detector onnx:PATH` / `ultralytics:PATH` specs (session 22): bad option
strings, models without class names, outputs in another layout, railwatch's own weights
given as onnx:PATH."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from railwatch.detect.default import default_weights
from railwatch.detect.onnx_backend import OnnxObbDetector
from railwatch.detect.registry import get_detector
from railwatch.errors import DetectionError, InputError


def _model(path: Path, shape: tuple[int, ...], names: str | None = None) -> Path:
    """A model with a (1, 3, 64, 64) input whose output is zeros of ``shape``."""
    const = helper.make_node(
        "Constant", [], ["raw"], value=numpy_helper.from_array(np.zeros(shape, np.float32), "c")
    )
    mean = helper.make_node("ReduceMean", ["images"], ["m"], keepdims=1)
    zero = helper.make_node(
        "Constant", [], ["z"], value=numpy_helper.from_array(np.zeros(1, np.float32), "z0")
    )
    mul = helper.make_node("Mul", ["m", "z"], ["mz"])
    ones = np.ones(len(shape), np.int64)
    flat = helper.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(ones))
    resh = helper.make_node("Reshape", ["mz", "shape"], ["mz3"])
    add = helper.make_node("Add", ["raw", "mz3"], ["output0"])
    graph = helper.make_graph(
        [const, mean, zero, mul, flat, resh, add],
        "obb",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if names is not None:
        helper.set_model_props(model, {"names": names})
    onnx.save(model, path)
    return path


@pytest.mark.parametrize("conf", ["abc", "0", "-0.2", "2", "nan"])
def test_a_conf_that_is_not_a_score_is_refused(tmp_path: Path, conf: str) -> None:
    """?conf=abc was an internal error (ValueError); ?conf=2 or 0 was taken as given
    (no car ever, or every candidate)."""
    path = _model(tmp_path / "m.onnx", (1, 6, 50))
    for spec in (f"onnx:{path}?conf={conf}", f"ultralytics:{tmp_path / 'm.pt'}?conf={conf}"):
        with pytest.raises(DetectionError, match=r"conf=.*above 0 and at most 1"):
            get_detector(spec)
    det = get_detector(f"onnx:{path}?conf=0.3")
    assert isinstance(det, OnnxObbDetector) and det.score_threshold == 0.3


def test_an_unknown_option_is_refused_not_ignored(tmp_path: Path) -> None:
    """A typo (?clases=) was silently ignored: the model then ran with other classes."""
    path = _model(tmp_path / "m.onnx", (1, 6, 50))
    with pytest.raises(DetectionError, match=r"unknown option clases.*\?classes= and \?conf="):
        get_detector(f"onnx:{path}?clases=railcar")
    with pytest.raises(DetectionError, match=r"unknown option classes.*only \?conf="):
        get_detector(f"ultralytics:{tmp_path / 'm.pt'}?classes=railcar")


@pytest.mark.parametrize("spec", ["onnx:", "onnx:?classes=railcar", "ultralytics:", "default:"])
def test_a_spec_without_a_path_says_to_give_one(spec: str) -> None:
    """'onnx:' was an 'unknown detector', 'onnx:?classes=a' said 'ONNX model . is a
    folder'."""
    with pytest.raises(DetectionError, match="names no model file: give its path after"):
        get_detector(spec)


def test_a_model_of_several_classes_without_names_is_refused(tmp_path: Path) -> None:
    """Without class names every class was counted as a railcar: a 15-class DOTA model's
    planes and ships too. One class without names is still a railcar detector."""
    many = _model(tmp_path / "dota.onnx", (1, 20, 50))
    with pytest.raises(DetectionError, match=r"no class names for its 15 classes.*\?classes="):
        get_detector(f"onnx:{many}")
    det = get_detector(f"onnx:{many}?classes=plane,{','.join(['railcar'] * 14)}")
    assert isinstance(det, OnnxObbDetector) and det.class_map[0] is None
    one = get_detector(f"onnx:{_model(tmp_path / 'one.onnx', (1, 6, 50))}")
    assert isinstance(one, OnnxObbDetector) and one.class_map == ("railcar",)


@pytest.mark.parametrize(
    ("shape", "names", "layout"),
    [((1, 300, 7), "{0: 'railcar'}", "end2end"), ((1, 100, 6), None, "rows")],
)
def test_an_output_with_the_candidates_first_is_read(
    tmp_path: Path, shape: tuple[int, ...], names: str | None, layout: str
) -> None:
    """An export with NMS, (1, 300, 7), was read as 295 classes of 7 candidates (no names:
    all 'railcar', decoded as garbage) or refused as a wrong number of class names; from
    session 22 it was refused ("export the raw OBB head"), and since session 35 it is
    read, as is a transposed head (test_byom_onnx_s35)."""
    path = _model(tmp_path / "m.onnx", shape, names)
    det = get_detector(f"onnx:{path}")
    assert isinstance(det, OnnxObbDetector) and det.layout == layout


def test_an_end_to_end_output_without_names_is_refused(tmp_path: Path) -> None:
    """Its class column is an index into names the model does not carry."""
    path = _model(tmp_path / "m.onnx", (1, 300, 7))
    with pytest.raises(DetectionError, match=r"no class names .*end2end.*\?classes="):
        get_detector(f"onnx:{path}")


def test_railwatch_weights_given_as_onnx_point_to_default() -> None:
    """railwatch's own weights as onnx:PATH were only 'not the YOLO-OBB layout'."""
    weights = default_weights()
    with pytest.raises(DetectionError, match=rf"--detector default:{weights}"):
        get_detector(f"onnx:{weights}")


@pytest.mark.parametrize("sidecar", [{"conf": "high"}, {"conf": 3}, {"imgsz": "big"}])
def test_a_bad_sidecar_number_is_named(tmp_path: Path, sidecar: dict[str, object]) -> None:
    """A sidecar conf or imgsz that is not a number was an internal error (ValueError)."""
    path = _model(tmp_path / "m.onnx", (1, 6, 50))
    (tmp_path / "m.json").write_text(json.dumps({"names": ["railcar"], **sidecar}))
    with pytest.raises(InputError, match=r"the sidecar of m\.onnx gives"):
        get_detector(f"onnx:{path}")
