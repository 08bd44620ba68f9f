"""`railwatch train --recipe default` refuses the training options it does not read
(session 30).

The recipe makes the shipped weights again with its own fixed settings
(``detect.train.DEFAULT_RECIPE``) and reads only --out, --threads, --device, --amp and
--workers. --scenes, --epochs, --seed, --lr, --styles, the other data options and
--covered-head were ignored without a word: ``--recipe default --scenes 2`` started the
full run of about 55 minutes. They are now refused first, exit status 2, naming them,
before any crop is drawn (and before torch is needed).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.detect import covered_head as covered_mod
from railwatch.detect import train as train_mod


def _never(*_a: Any, **_k: Any) -> Any:
    raise AssertionError("crops drawn before the recipe's options were checked")


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(train_mod, "build_bank", _never)
    monkeypatch.setattr(train_mod, "train_model", _never)
    monkeypatch.setattr(covered_mod, "build_bank", _never)
    monkeypatch.setattr(covered_mod, "refit_covered_head", _never)
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError


UNREAD = [
    ["--scenes", "2"],
    ["--epochs", "1"],
    ["--seed", "3"],
    ["--lr", "0.01"],
    ["--styles", "temperate"],
    ["--sim-fraction", "0.2"],
    ["--empty-fraction", "0.5"],
    ["--blur-max", "2"],
    ["--trackside", "0.6"],
    ["--trackside-empty", "0.15"],
    ["--roofed-hoppers", "0.2"],
    ["--gsd-range", "0.6,1.1"],
    ["--gsd-range", "nonsense"],
    ["--arch", "s4"],
    ["--labels-share", "0.3"],
    ["--calibration-scenes", "6"],
    ["--covered-head"],
]


@pytest.mark.usefixtures("no_training")
@pytest.mark.parametrize("given", UNREAD, ids=[" ".join(g) for g in UNREAD])
def test_an_option_the_recipe_does_not_read_is_refused_before_any_crop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], given: list[str]
) -> None:
    argv = ["train", "--recipe", "default", "--out", str(tmp_path / "w.onnx"), *given]
    assert main(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"Leave out {given[0]}," in err and "fixed settings" in err
    assert "--out, --threads, --device, --amp, --workers" in err
    assert "internal error" not in err and "torch is needed" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("no_training")
def test_every_option_given_is_named_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--recipe", "default", "--out", str(tmp_path / "w.onnx")]
    more = ["--scenes", "2", "--epochs", "1", "--seed", "3", "--verified-only"]
    assert main([*argv, *more]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "Leave out --scenes, --epochs, --seed, --verified-only," in err


@pytest.mark.usefixtures("no_training")
def test_an_unknown_recipe_is_named_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--recipe", "v9", "--scenes", "2"]) == 2
    err = capsys.readouterr().err
    assert "the only recipe is 'default'" in err and "Leave out" not in err


@pytest.mark.usefixtures("no_training")
def test_the_options_the_recipe_reads_and_the_defaults_of_the_others_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given at their defaults (as a script may spell them out), the others pass: the
    run goes on to the missing torch, status 1."""
    argv = ["train", "--recipe", "default", "--out", str(tmp_path / "w.onnx")]
    read = ["--threads", "1", "--workers", "2", "--device", "cpu"]
    spelt = ["--scenes", "800", "--epochs", "8", "--seed", "7", "--lr", "0.003",
             "--styles", "temperate, continental,industrial-dark", "--gsd-range", "0.3,1",
             "--calibration-scenes", "60", "--trackside", "0"]  # fmt: skip
    assert main([*argv, *read, *spelt]) == 1
    assert "torch is needed" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
