"""``railwatch train``, ``calibrate`` and ``quantize`` take ``--json`` (session 37), as
the other commands do: standard output holds one JSON object, what the command wrote
(paths and bytes) and the figures it prints as text, which go to standard error; an
error is said on standard error as without ``--json``, with nothing on standard output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from railwatch.cli.main import main


def _one_object(out: str) -> dict[str, Any]:
    """``out`` as the one JSON object it must be (json.loads refuses anything after it)."""
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def test_train_calibrate_and_quantize_json_say_what_they_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    w = tmp_path / "w.onnx"
    argv = ["train", "--out", str(w), "--scenes", "2", "--epochs", "1", "--channels", "4"]
    assert main([*argv, "--calibration-scenes", "0", "--json"]) == 0
    out, err = capsys.readouterr()
    trained = _one_object(out)
    assert trained["weights"] == {"path": str(w), "bytes": w.stat().st_size}
    card = w.with_suffix(".json")
    assert trained["card"] == {"path": str(card), "bytes": card.stat().st_size}
    assert (trained["crops"], trained["scenes"], trained["epochs"]) == (2, 2, 1)
    assert trained["channels"] == 4 and trained["calibration"] is None
    assert trained["cars"] > 0 and sum(trained["crop_sources"].values()) == 2
    assert f"wrote {w} and {card}" in err  # the text, on stderr

    assert main(["calibrate", str(w), "--scenes", "1", "--json"]) == 0
    out, err = capsys.readouterr()
    cal = _one_object(out)
    assert cal["weights"] == str(w) and cal["calibrated_on"] == "simulator"
    assert cal["card"] == {"path": str(card), "bytes": card.stat().st_size}
    stored = json.loads(card.read_text())
    assert [r["gsd"] for r in cal["recall"]] == stored["calibration"]["gsd"]
    assert [r["recall"] for r in cal["recall"]] == stored["calibration"]["recall"]
    assert [p["precision"] for p in cal["precision_by_score"]] == stored["calibration"]["precision"]
    assert cal["threshold"] == stored["threshold"]
    assert f"wrote calibration to {card}" in err and "precision by score" in err

    assert main(["quantize", str(w), "--tiles", "1", "--json"]) == 0
    out, err = capsys.readouterr()
    q = _one_object(out)
    int8 = w.with_name("w.int8.onnx")
    assert q["int8"] == {"path": str(int8), "bytes": int8.stat().st_size}
    assert q["card"]["path"] == str(card) and q["tiles"] == 1
    entry = json.loads(card.read_text())["int8"]
    assert q["heat_max_abs_diff"] == entry["check"]["heat_max_abs_diff"]
    assert f"wrote {int8}" in err


def test_train_json_holds_the_calibration_it_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """train calibrates the weights it wrote (--calibration-scenes): one JSON object
    still, the calibration's inside it (it printed its own 'wrote calibration' line)."""
    import railwatch.detect.calibration as calibration
    import railwatch.detect.train as train
    from railwatch.detect.default import default_weights

    def export(net: object, path: Path, *args: object, **kwargs: object) -> Path:
        shutil.copy(default_weights(), path)
        shutil.copy(default_weights().with_suffix(".json"), path.with_suffix(".json"))
        return path

    bank = SimpleNamespace(images=[], boxes=[], sources=[])
    monkeypatch.setattr(train, "build_bank", lambda *a, **k: bank)
    monkeypatch.setattr(train, "train_model", lambda *a, **k: None)
    monkeypatch.setattr(train, "export_onnx", export)
    monkeypatch.setattr(train, "require_train_extra", lambda: None)  # CI has no torch
    fitted = calibration.Calibration(
        score_edges=(0.0, 0.5, 1.0),
        precision=(0.6, 0.9),
        gsd=(0.5,),
        recall=(0.8,),
        recall_sd=(0.1,),
    )
    monkeypatch.setattr(calibration, "calibrate_on_simulator", lambda *a, **k: fitted)
    w = tmp_path / "w.onnx"
    argv = ["train", "--out", str(w), "--scenes", "1", "--calibration-scenes", "1", "--json"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    data = _one_object(out)
    assert data["weights"]["path"] == str(w)
    nested = data["calibration"]
    assert nested["card"]["path"] == str(w.with_suffix(".json"))
    # whether the spread is assumed (session 50: calibration.recall_sd_assumed)
    assert nested["recall"] == [{"gsd": 0.5, "recall": 0.8, "sd": 0.1, "sd_assumed": False}]
    assert nested["precision_by_score"] == [
        {"from": 0.0, "to": 0.5, "precision": 0.6},
        {"from": 0.5, "to": 1.0, "precision": 0.9},
    ]
    assert f"wrote calibration to {w.with_suffix('.json')}" in err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["train", "--scenes", "0", "--json"], "error: --scenes 0: give at least 1"),
        (["calibrate", "--json"], "error: give the weights to calibrate"),
        (["quantize", "{tmp}", "--json"], "is a folder: give the fp32 ONNX weights file"),
    ],
)
def test_json_errors_are_said_on_stderr_with_nothing_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if args[0] == "train":
        args[1:1] = ["--out", str(tmp_path / "w.onnx")]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert said in err and err.startswith("error: ")
