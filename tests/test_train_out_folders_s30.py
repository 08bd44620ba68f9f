"""`railwatch train` refuses, before any crop is drawn, an ``--out`` whose companion files
it cannot write because a folder has their name (session 30).

The card of ``--out NAME.onnx`` is written as ``NAME.json``; with a folder of that name
the whole training ran and its export then failed as an internal error
("IsADirectoryError: ... NAME.json.tmp -> NAME.json"), the trained network lost.
``--recipe default`` also writes ``NAME.stageK.onnx`` with their cards and, after about
an hour, ``NAME.int8.onnx`` (``railwatch quantize``): a folder there failed the recipe
at that step. All are now said first, with exit status 2, also without torch.
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
    raise AssertionError("crops drawn before --out was checked")


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(train_mod, "build_bank", _never)
    monkeypatch.setattr(train_mod, "train_model", _never)
    monkeypatch.setattr(covered_mod, "build_bank", _never)
    monkeypatch.setattr(covered_mod, "refit_covered_head", _never)
    monkeypatch.setitem(sys.modules, "torch", None)


@pytest.mark.usefixtures("no_training")
@pytest.mark.parametrize(
    "mode",
    [[], ["--covered-head", "--init", "default"], ["--recipe", "default"]],
    ids=["train", "covered-head", "recipe"],
)
def test_a_folder_named_as_the_card_is_refused_before_any_crop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: list[str]
) -> None:
    (tmp_path / "w.json").mkdir()
    argv = ["train", "--out", str(tmp_path / "w.onnx"), "--scenes", "2", "--epochs", "1"]
    assert main([*argv, *mode]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "w.json" in err and "folder" in err and "internal error" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["w.json"]


@pytest.mark.usefixtures("no_training")
@pytest.mark.parametrize("name", ["w.int8.onnx", "w.stage1.onnx", "w.stage2.json"])
def test_the_recipe_refuses_a_folder_where_a_step_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    (tmp_path / name).mkdir()
    argv = ["train", "--recipe", "default", "--out", str(tmp_path / "w.onnx")]
    assert main(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert name in err and "folder" in err and "internal error" not in err
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_an_out_whose_companions_are_free_is_accepted(tmp_path: Path) -> None:
    from railwatch.cli.train import check_out

    (tmp_path / "w.int8.onnx").mkdir()  # only the recipe writes there
    check_out(tmp_path / "w.onnx")
    check_out(tmp_path / "new" / "deeper" / "w.onnx")  # folders made at the export
