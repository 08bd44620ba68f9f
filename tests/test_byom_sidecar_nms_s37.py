"""The sidecar ``MODEL.json`` of an ``onnx:PATH`` model gives the NMS settings too
(session 37): ``iou``, ``agnostic`` and ``max_det``, checked as the spec's
``?iou=&agnostic=&max_det=`` are, the spec winning where it gives one (as for ``conf``,
``gsd`` and ``imgsz``), and a bad value an :class:`InputError` naming the sidecar and
the key. Before, the sidecar's were ignored: the model ran at Ultralytics' defaults.

The model is test_byom_nms_s36's constant model: a fixed raw head of three overlapping
tank cars (scores 0.90, 0.85, 0.80), a boxcar over them and a plane, which at the
defaults keeps tank, boxcar, tank; at iou 0.5 tank, boxcar; agnostic one box.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.detect.onnx_backend import OnnxObbDetector
from railwatch.detect.registry import get_detector
from railwatch.errors import InputError
from test_byom_nms_s36 import HAND, constant_model, raw_head
from test_byom_onnx_s35 import spot_model

IMG = np.zeros((64, 64, 3), np.uint8)


def _model(tmp_path: Path, sidecar: dict[str, Any]) -> Path:
    model = constant_model(tmp_path / "m.onnx", raw_head(HAND))
    (tmp_path / "m.json").write_text(json.dumps(sidecar))
    return model


def _classes(det: Any) -> list[str]:
    return [d.cls for d in det.detect(IMG, 0.5)]


def test_the_sidecars_nms_settings_reach_the_model(tmp_path: Path) -> None:
    plain = get_detector(f"onnx:{constant_model(tmp_path / 'plain.onnx', raw_head(HAND))}")
    assert _classes(plain) == ["tank", "boxcar", "tank"]
    det = get_detector(f"onnx:{_model(tmp_path, {'iou': 0.5})}")
    assert isinstance(det, OnnxObbDetector)
    assert (det.nms_iou, det.agnostic, det.max_det) == (0.5, False, 300)
    assert _classes(det) == ["tank", "boxcar"]
    assert det.version != plain.version  # its scenes are counted again


@pytest.mark.parametrize("agnostic", [True, 1, "1", "yes", "TRUE"])
def test_the_sidecars_agnostic_takes_json_true_and_the_specs_spellings(
    tmp_path: Path, agnostic: object
) -> None:
    det = get_detector(f"onnx:{_model(tmp_path, {'agnostic': agnostic})}")
    assert isinstance(det, OnnxObbDetector) and det.agnostic is True
    assert len(det.detect(IMG, 0.5)) == 1


def test_the_sidecars_max_det_cuts_the_boxes_kept(tmp_path: Path) -> None:
    det = get_detector(f"onnx:{_model(tmp_path, {'max_det': 2, 'conf': 0.5})}")
    assert isinstance(det, OnnxObbDetector) and det.max_det == 2
    assert len(det.detect(IMG, 0.5)) == 1  # the plane is the second box: dropped after NMS


def test_the_spec_wins_over_the_sidecar(tmp_path: Path) -> None:
    model = _model(tmp_path, {"iou": 0.5, "agnostic": True, "max_det": 2})
    det = get_detector(f"onnx:{model}?iou=0.7&agnostic=0&max_det=300")
    assert isinstance(det, OnnxObbDetector)
    assert (det.nms_iou, det.agnostic, det.max_det) == (0.7, False, 300)
    assert _classes(det) == ["tank", "boxcar", "tank"]
    # the spec giving one key leaves the sidecar's others in force
    det = get_detector(f"onnx:{model}?iou=0.7")
    assert isinstance(det, OnnxObbDetector)
    assert (det.nms_iou, det.agnostic, det.max_det) == (0.7, True, 2)


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("iou", 1.5, "gives iou 1.5: give the NMS threshold"),
        ("iou", -0.1, "gives iou -0.1: give the NMS threshold"),
        ("iou", "high", "gives iou 'high', not a number"),
        ("iou", True, "gives iou True, not a number"),
        ("agnostic", "maybe", "gives agnostic 'maybe': use true"),
        ("agnostic", 2, "gives agnostic 2: use true"),
        ("agnostic", [1], r"gives agnostic \[1\]: use true"),
        ("max_det", 0, "gives max_det 0: give the most boxes kept per model run"),
        ("max_det", 2.5, "gives max_det 2.5: give the most boxes kept"),
        ("max_det", True, "gives max_det True: give the most boxes kept"),
        ("max_det", "ten", "gives max_det 'ten': give the most boxes kept"),
    ],
)
def test_a_bad_sidecar_value_names_the_sidecar_and_the_key(
    tmp_path: Path, key: str, value: object, said: str
) -> None:
    model = _model(tmp_path, {key: value})
    with pytest.raises(InputError, match=rf"^the sidecar of m\.onnx {said}"):
        get_detector(f"onnx:{model}")


def test_a_good_spec_value_does_not_excuse_a_bad_sidecar_value(tmp_path: Path) -> None:
    """The sidecar is read whole, so a broken one is said even where the spec overrides
    the key: the file is wrong for every other use of the model."""
    model = _model(tmp_path, {"iou": "high"})
    with pytest.raises(InputError, match=r"the sidecar of m\.onnx gives iou 'high'"):
        get_detector(f"onnx:{model}?iou=0.5")


def test_the_sidecars_iou_on_an_end_to_end_export_is_refused(tmp_path: Path) -> None:
    model = spot_model(
        tmp_path / "e2e.onnx", layout="e2e", meta={"end2end": "True", "names": "{0: 'railcar'}"}
    )
    (tmp_path / "e2e.json").write_text(json.dumps({"iou": 0.5, "agnostic": False}))
    with pytest.raises(InputError, match=r"^the sidecar of e2e\.onnx gives iou and agnostic, but"):
        get_detector(f"onnx:{model}")
    (tmp_path / "e2e.json").write_text(json.dumps({"max_det": 10}))
    det = get_detector(f"onnx:{model}?conf=0.3")
    assert isinstance(det, OnnxObbDetector) and det.max_det == 10
