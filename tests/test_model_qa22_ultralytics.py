"""QA of `--detector ultralytics:PATH` (session 22) with a stand-in for the ultralytics
package (AGPL-3.0, an optional extra): models that would count 0 cars on every image."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from railwatch.detect.registry import get_detector
from railwatch.errors import DetectionError


def _fake_ultralytics(monkeypatch: pytest.MonkeyPatch, task: str, names: dict[int, str]) -> None:
    """An ``ultralytics`` module whose ``YOLO`` loads a model of ``task`` and ``names``,
    as ultralytics does for a .pt file (the checkpoint's task wins over ``task=``)."""

    class YOLO:
        def __init__(self, path: str, task: str | None = None) -> None:
            self.task = model_task
            self.names = names

        def predict(self, *args: Any, **kwargs: Any) -> list[Any]:
            return [types.SimpleNamespace(obb=None)]

    model_task = task
    module = types.ModuleType("ultralytics")
    module.YOLO = YOLO  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ultralytics", module)


def test_a_model_that_is_not_obb_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 'detect' (axis-aligned) model loaded and gave no oriented boxes: 0 cars on every
    tile, without a word."""
    _fake_ultralytics(monkeypatch, "detect", {0: "railcar"})
    model = tmp_path / "m.pt"
    model.write_bytes(b"pt")
    with pytest.raises(DetectionError, match=r"is a 'detect' model, not an oriented-box"):
        get_detector(f"ultralytics:{model}")


def test_a_model_without_a_railcar_class_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model whose classes are none of the railcar names dropped every detection (0
    cars everywhere); onnx:PATH refused the same model."""
    _fake_ultralytics(monkeypatch, "obb", {0: "plane", 1: "ship"})
    model = tmp_path / "m.pt"
    model.write_bytes(b"pt")
    with pytest.raises(DetectionError, match=r"none of the classes of m\.pt \(plane, ship\)"):
        get_detector(f"ultralytics:{model}")
    # (a bare "wagon" beside "plane" is no railcar since session 50: a general model's
    # wagon may be a horse's; "railway wagon" is one in any model)
    _fake_ultralytics(monkeypatch, "obb", {0: "plane", 1: "railway wagon"})
    det = get_detector(f"ultralytics:{model}")
    assert det.detect.__self__.class_map == {0: None, 1: "railcar"}  # type: ignore[attr-defined]
