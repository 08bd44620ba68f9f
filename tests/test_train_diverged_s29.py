"""A training run whose loss goes to NaN (a --lr far too high) stops and writes nothing:
it trained on to the end, wrote NaN weights over --out (those of an earlier run) and
calibrated them, and said "wrote w.onnx"; the weights then detected nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

import torch

from railwatch.cli.main import main
from railwatch.detect import train as train_mod
from railwatch.detect.train import TrainConfig, build_net, export_onnx


def _tiny(out: Path, lr: str) -> list[str]:
    return ["train", "--out", str(out), "--scenes", "2", "--epochs", "4", "--lr", lr,
            "--sim-fraction", "0", "--calibration-scenes", "0", "--threads", "1"]  # fmt: skip


def test_a_diverging_run_keeps_the_previous_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = export_onnx(build_net(arch="s8").eval(), tmp_path / "w.onnx", TrainConfig(scenes=1))
    before = w.read_bytes(), w.with_suffix(".json").read_bytes()
    assert main(_tiny(w, "1e12")) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "training diverged at epoch 2/4, step 1/1 (heat=" in err
    assert "no weights written (a file already at the output is kept as it was)" in err
    assert "train again with a lower --lr than 1e+12 (the default is 0.003" in err
    assert "wrote" not in err
    assert (w.read_bytes(), w.with_suffix(".json").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.json", "w.onnx"]


def test_weights_made_not_finite_by_the_last_step_are_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The loss of the last step is finite, the update after it is not."""
    real = train_mod._epochs

    def last_step_blows_up(torch_: Any, net: Any, *args: Any) -> None:
        real(torch_, net, *args)
        with torch.no_grad():
            next(iter(net.parameters())).fill_(float("inf"))

    monkeypatch.setattr(train_mod, "_epochs", last_step_blows_up)
    out = tmp_path / "w.onnx"
    assert main(_tiny(out, "0.003")) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "training diverged in its last step (not finite: " in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_run_that_converges_is_written(tmp_path: Path) -> None:
    out = tmp_path / "w.onnx"
    assert main(_tiny(out, "0.003")) == 0
    assert json.loads(out.with_suffix(".json").read_text())["config"]["lr"] == 0.003
