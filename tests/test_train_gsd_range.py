"""`railwatch train --gsd-range MIN,MAX`: crops drawn at those resolutions only, recorded
in the card; malformed ranges are refused before anything is drawn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from railwatch.cli.main import build_app
from railwatch.cli.train import parse_gsd_range
from railwatch.detect import train as train_mod
from railwatch.detect.train import TrainConfig, build_bank
from railwatch.errors import InputError


def test_parse_gsd_range() -> None:
    assert parse_gsd_range("0.6,1.1") == (0.6, 1.1)
    assert parse_gsd_range(" 0.75 , 0.75 ") == (0.75, 0.75)
    for bad in ("1.1,0.6", "0,1", "0.6", "0.6,1.1,1.2", "a,b", "0.5,2.0", "-1,1", "nan,1"):
        with pytest.raises(InputError, match="--gsd-range"):
            parse_gsd_range(bad)


@pytest.mark.parametrize("bad", ["1.1,0.6", "0.6"])
def test_cli_refuses_a_bad_range(bad: str, tmp_path: Path) -> None:
    out = tmp_path / "w.onnx"
    r = CliRunner().invoke(
        build_app(), ["train", "--out", str(out), "--scenes", "1", "--gsd-range", bad]
    )
    assert r.exit_code != 0
    assert "--gsd-range" in r.output + str(r.exception)
    assert not out.exists()


def test_bank_is_drawn_inside_the_range(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every procedural crop is drawn at a resolution inside cfg.gsd_range, and the draws
    spread over it (log-uniform), not at one end."""
    drawn: list[float] = []
    real = train_mod.draw_yard

    def spy(rng: np.random.Generator, size_m: float, px: float, **kw: Any) -> Any:
        drawn.append(2 * px)  # synth_sample draws at half the crop's resolution
        return real(rng, size_m, px, **kw)

    monkeypatch.setattr(train_mod, "draw_yard", spy)
    cfg = TrainConfig(scenes=12, seed=5, sim_fraction=0.0, gsd_range=(0.6, 1.1))
    bank = build_bank(cfg)
    assert len(bank.images) == 12
    assert len(drawn) == 12
    assert all(0.6 <= g <= 1.1 for g in drawn)
    assert min(drawn) < 0.8 < max(drawn)


@pytest.mark.slow
def test_cli_records_the_range_in_the_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    seen: list[tuple[float, float]] = []
    real = train_mod.synth_sample

    def spy(rng: np.random.Generator, gsd_range: tuple[float, float], blur_max: float = 1.0) -> Any:
        seen.append(gsd_range)
        return real(rng, gsd_range, blur_max)

    monkeypatch.setattr(train_mod, "synth_sample", spy)
    out = tmp_path / "w.onnx"
    args = ["train", "--out", str(out), "--scenes", "2", "--epochs", "1", "--threads", "1"]
    args += ["--sim-fraction", "0", "--calibration-scenes", "0", "--gsd-range", "0.6,1.1"]
    r = CliRunner().invoke(build_app(), args)
    assert r.exit_code == 0, r.output
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["config"]["gsd_range"] == [0.6, 1.1]
    assert seen == [(0.6, 1.1), (0.6, 1.1)]
    # without the option: the shipped range
    out2 = tmp_path / "w2.onnx"
    r = CliRunner().invoke(build_app(), [*args[:2], str(out2), *args[3:-2]])
    assert r.exit_code == 0, r.output
    assert json.loads(out2.with_suffix(".json").read_text())["config"]["gsd_range"] == [0.3, 1.0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--lr", "-1"], "learning rate"),
        (["--lr", "nan"], "learning rate"),
        (["--epochs", "0"], "epochs"),
        (["--sim-fraction", "2"], "sim_fraction"),
        (["--init", "{fake}"], "is not ONNX weights"),
    ],
)
def test_cli_refuses_bad_options_before_drawing_crops(
    args: list[str],
    words: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A negative --lr, --epochs 0 or --init naming a file that is not ONNX started
    drawing crops (minutes) and then trained garbage or failed with a protobuf error."""
    from railwatch.cli.main import main

    fake = tmp_path / "fake.onnx"
    fake.write_text("not onnx")

    def no_bank(*a: Any, **k: Any) -> Any:
        raise AssertionError("crops were drawn")

    monkeypatch.setattr(train_mod, "build_bank", no_bank)
    out = tmp_path / "w.onnx"
    argv = ["train", "--out", str(out), "--scenes", "1", *args]
    assert main([a.format(fake=fake) for a in argv]) == 2
    assert words in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--scenes", "0"], "--scenes 0: give at least 1 training crop"),
        (["--out", "{tmp}"], "--out {tmp} is a folder: give the path of the ONNX file to write"),
        (["--out", "{tmp}/a-file/w.onnx"], "a-file is a file, not a folder"),
        (["--recipe", "default", "--out", "{tmp}"], "--out {tmp} is a folder"),
    ],
)
def test_cli_checks_scenes_and_out_before_drawing_or_torch(
    args: list[str],
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--scenes 0 drew no crops and then failed (without torch: "torch is needed"; with
    it, in training), and --out naming a folder failed only when the weights were
    written, after the whole training. Both are now refused first, with status 2."""
    from railwatch.cli.main import main

    def never(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("crops drawn before the options were checked")

    monkeypatch.setattr(train_mod, "build_bank", never)
    monkeypatch.setattr(train_mod, "train_model", never)
    (tmp_path / "a-file").write_text("x")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["train", *argv]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert says.replace("{tmp}", str(tmp_path)) in err and "torch" not in err
