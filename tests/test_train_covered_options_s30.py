"""`railwatch train --covered-head` checks its numeric options before any crop is drawn
(session 30).

The covered-head re-fit (``CoveredConfig``) checked none of them: ``--epochs 0``, a
learning rate of 0, below 0 or NaN, and ``--threads 0`` failed as internal errors
("Expected positive integer total_steps", "Invalid learning rate: nan",
"set_num_threads expects a positive integer") once the bank was drawn and the features
computed (6000 crops by default: many minutes). They are now refused first, with exit
status 2 and the option named, also without torch installed, as plain ``train`` does.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.detect import covered_head as covered_mod
from railwatch.detect import train as train_mod
from railwatch.detect.covered_head import CoveredConfig
from railwatch.errors import InputError


def _never(*_a: Any, **_k: Any) -> Any:
    raise AssertionError("crops drawn before the covered-head options were checked")


BAD = [
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "-3"], "--epochs"),
    (["--lr", "0"], "--lr"),
    (["--lr", "-1"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--threads", "0"], "--threads"),
    (["--sim-fraction", "3"], "--sim-fraction"),
]


@pytest.mark.parametrize(("bad", "names"), BAD, ids=[" ".join(b) for b, _ in BAD])
@pytest.mark.parametrize("without_torch", [False, True], ids=["torch", "no-torch"])
def test_a_bad_covered_head_option_is_refused_before_any_crop(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bad: list[str],
    names: str,
    without_torch: bool,
) -> None:
    monkeypatch.setattr(train_mod, "build_bank", _never)
    monkeypatch.setattr(covered_mod, "build_bank", _never)
    if without_torch:
        monkeypatch.setitem(sys.modules, "torch", None)
    out = tmp_path / "cov.onnx"
    argv = ["train", "--covered-head", "--init", "default", "--out", str(out)]
    assert main([*argv, "--scenes", "2", "--epochs", "1", *bad]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert names in err and "internal error" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "field",
    [
        {"epochs": 0},
        {"scenes": 0},
        {"lr": float("nan")},
        {"lr": 0.0},
        {"weight_decay": -1.0},
        {"batch": 0},
        {"threads": 0},
        {"hidden": 0},
        {"val_share": 1.0},
        {"val_share": -0.1},
        {"sim_fraction": 1.5},
        {"roofed_hoppers": -0.5},
        {"layout": "wide"},
    ],
    ids=lambda f: next(iter(f)),
)
def test_the_config_refuses_what_would_fail_after_the_bank(field: dict[str, Any]) -> None:
    with pytest.raises(InputError, match=next(iter(field))):
        CoveredConfig(**field)


def test_the_defaults_and_the_recipe_step_are_accepted() -> None:
    from railwatch.cli.train import covered_config
    from railwatch.detect.train import DEFAULT_RECIPE

    CoveredConfig()
    cfg = covered_config(threads=2, **DEFAULT_RECIPE["covered_head"])
    assert cfg.scenes == 6000 and cfg.epochs == 15 and cfg.threads == 2


@pytest.mark.parametrize("without_torch", [False, True], ids=["torch", "no-torch"])
def test_out_the_same_as_init_is_refused_first_with_what_to_do(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    without_torch: bool,
) -> None:
    """The re-fit reads --init as its frozen network: refused as before, now also before
    torch is needed (it said to install torch first), and saying what to give instead."""
    import shutil

    from railwatch.detect.default import default_weights

    monkeypatch.setattr(covered_mod, "build_bank", _never)
    if without_torch:
        monkeypatch.setitem(sys.modules, "torch", None)
    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    before = w.read_bytes()
    argv = ["train", "--covered-head", "--init", str(w), "--out", str(tmp_path / "." / "w.onnx")]
    assert main([*argv, "--scenes", "2", "--epochs", "1"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "frozen" in err and "give another --out" in err and "w.covered.onnx" in err
    assert w.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["w.onnx"]


def test_a_bank_too_small_to_hold_out_cars_says_so_not_nan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """3 crops hold out round(10 % of 3) = 0: the re-fit said 'covered accuracy on the
    held-out crops' cars: nan % -> nan % (0 cars)'."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    out = tmp_path / "cov.onnx"
    argv = ["train", "--covered-head", "--init", "default", "--out", str(out)]
    assert main([*argv, "--scenes", "3", "--epochs", "1", "--threads", "1"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "nan" not in err and "no car in the held-out crops" in err and "--scenes" in err
    assert out.is_file() and out.with_suffix(".json").is_file()


UNUSED = [
    ["--gsd-range", "0.6,1.1"],
    ["--empty-fraction", "0.5"],
    ["--blur-max", "2"],
    ["--trackside", "0.6"],
    ["--trackside-empty", "0.15"],
    ["--labels-share", "0.3"],
    ["--arch", "s4"],
]


@pytest.mark.parametrize("given", UNUSED, ids=[g[0] for g in UNUSED])
def test_an_option_the_refit_does_not_use_is_refused_not_ignored(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    given: list[str],
) -> None:
    """The re-fit draws its crops with the training defaults but for --scenes, --seed,
    --styles, --sim-fraction and --roofed-hoppers: --gsd-range 0.6,1.1 (say) was taken
    without a word and the crops drawn at 0.3-1.0 m all the same."""
    monkeypatch.setattr(covered_mod, "build_bank", _never)
    monkeypatch.setitem(sys.modules, "torch", None)
    argv = ["train", "--covered-head", "--init", "default", "--out", str(tmp_path / "c.onnx")]
    assert main([*argv, "--scenes", "2", "--epochs", "1", *given]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"leave out {given[0]}" in err and "internal error" not in err
    assert list(tmp_path.iterdir()) == []


def test_the_options_the_refit_uses_and_the_defaults_of_the_others_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(covered_mod, "build_bank", _never)
    monkeypatch.setitem(sys.modules, "torch", None)  # stops the run at the extra's check
    argv = ["train", "--covered-head", "--init", "default", "--out", str(tmp_path / "c.onnx")]
    used = ["--scenes", "2", "--epochs", "1", "--seed", "3", "--lr", "0.01", "--styles",
            "temperate", "--sim-fraction", "0.5", "--roofed-hoppers", "0.2", "--threads", "1",
            "--gsd-range", "0.3,1.0", "--trackside", "0", "--arch", "s8"]  # fmt: skip
    assert main([*argv, *used]) == 1
    assert "torch is needed" in capsys.readouterr().err
