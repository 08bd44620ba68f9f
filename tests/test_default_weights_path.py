"""``--detector default:PATH`` with a PATH that does not exist (or is a folder) said
"reinstall railwatch", which is wrong for a path the user gave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from railwatch.detect.default import DefaultDetector
from railwatch.errors import DetectionError

IMAGE = np.full((64, 64, 3), 120, dtype=np.uint8)


def test_a_missing_user_path_is_named_without_reinstall_advice(tmp_path: Path) -> None:
    det = DefaultDetector(tmp_path / "nope.onnx")
    with pytest.raises(DetectionError, match="no such file") as err:
        det.detect(IMAGE, 0.5)
    assert "reinstall" not in str(err.value)


def test_a_folder_given_as_weights_says_to_give_the_file(tmp_path: Path) -> None:
    with pytest.raises(DetectionError, match=r"it is a folder: give the weights' \.onnx file"):
        DefaultDetector(tmp_path).detect(IMAGE, 0.5)
