"""An ``onnx:PATH`` model's version follows the model: its bytes, class names and
thresholds (and the tile plan), so ``railwatch process`` counts a site's scenes again
when the model under the same file name is retrained or run with another threshold.

Until session 34 every such model was version ``onnx`` (every Ultralytics model
``ultralytics``): a retrained ``best.onnx`` left the scenes counted by the old one as
they were, and so did v2.9's tile plan.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from railwatch.detect.onnx_backend import OnnxObbDetector, model_version
from railwatch.detect.registry import get_detector
from railwatch.errors import InputError
from test_detect_onnx import ROWS, _model, _output


def _det(spec: str) -> OnnxObbDetector:
    det = get_detector(spec)
    assert isinstance(det, OnnxObbDetector)
    return det


def test_the_version_follows_the_model_and_its_settings(tmp_path: Path) -> None:
    names = "{0: 'tank car', 1: 'hopper'}"
    path = _model(tmp_path / "best.onnx", _output(ROWS), names=names)
    first = _det(f"onnx:{path}")
    assert first.version.startswith("onnx+") and first.version != "onnx"
    assert _det(f"onnx:{path}").version == first.version  # the same model: the same
    # another copy of the same bytes elsewhere: the same version (the name is apart)
    other = tmp_path / "copy" / "best.onnx"
    other.parent.mkdir()
    shutil.copy(path, other)
    assert _det(f"onnx:{other}").version == first.version
    # another threshold, other class names: another version
    assert _det(f"onnx:{path}?conf=0.5").version != first.version
    assert _det(f"onnx:{path}?classes=railcar,hopper").version != first.version
    # retrained under the same name: another version
    rows = [(r[0] + 1.0, *r[1:]) for r in ROWS]
    _model(path, _output(rows), names=names)
    assert _det(f"onnx:{path}").version != first.version


def test_model_version_of_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read model"):
        model_version("onnx", tmp_path / "gone.onnx")
