"""`railwatch train` without the `train` extra (torch, onnx) says so before it draws any
crop: without torch the bank was drawn first (minutes at the default 800 crops), and
without onnx the whole training ran and its export then failed as an internal error
("Module onnx is not installed!"), the trained network lost."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

from railwatch.cli.main import main
from railwatch.detect import covered_head as covered_mod
from railwatch.detect import train as train_mod
from railwatch.errors import MissingDependencyError


def _never(*_a: Any, **_k: Any) -> Any:
    raise AssertionError("crops drawn (or a network trained) before the extra was checked")


TORCH = ("torch", "torch is needed for training the default detector")
ONNX = ("onnx", "onnx is needed for exporting the trained weights to ONNX")


@pytest.mark.parametrize(
    ("missing", "args"),
    [
        (TORCH, []),
        (TORCH, ["--recipe", "default"]),
        (TORCH, ["--covered-head", "--init", "default"]),
        (ONNX, []),
        (ONNX, ["--recipe", "default"]),
    ],
)
def test_a_missing_extra_is_said_before_any_crop_is_drawn(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    missing: tuple[str, str],
    args: list[str],
) -> None:
    monkeypatch.setattr(train_mod, "build_bank", _never)
    monkeypatch.setattr(train_mod, "train_model", _never)
    monkeypatch.setattr(covered_mod, "refit_covered_head", _never)
    module, says = missing
    monkeypatch.setitem(sys.modules, module, None)  # `import torch` raises ImportError
    out = tmp_path / "w.onnx"
    # the recipe's sizes are fixed (session 30: --scenes and --epochs are refused with it)
    size = [] if "--recipe" in args else ["--scenes", "2", "--epochs", "1"]
    argv = ["train", "--out", str(out), *size, *args]
    assert main(argv) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert says in err and "pip install" in err and "[train]" in err
    assert "internal error" not in err
    assert list(tmp_path.iterdir()) == []


def test_export_without_onnx_keeps_the_previous_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.detect.train import TrainConfig, build_net, export_onnx

    w = export_onnx(build_net(arch="s8").eval(), tmp_path / "w.onnx", TrainConfig(scenes=1))
    before = w.read_bytes(), w.with_suffix(".json").read_bytes()
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingDependencyError, match=r"onnx is needed .*\[train\]"):
        export_onnx(build_net(arch="s8").eval(), w, TrainConfig(scenes=1, seed=8))
    assert (w.read_bytes(), w.with_suffix(".json").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.json", "w.onnx"]
