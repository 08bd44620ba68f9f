"""`railwatch calibrate` measures on the fp32 network and writes the card: an INT8 copy
beside the weights that no longer matches the card (a quantize stopped half-way, a file
replaced) must not stop it. It read the card through a detector at auto precision, which
refused the INT8 file before anything was measured (its advice, quantize again, was a
detour: calibrate never runs it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.detect.default import default_weights


def test_calibrate_is_not_stopped_by_a_stale_int8_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = default_weights().parent
    for name in ("railwatch_default.onnx", "railwatch_default.json", "railwatch_default.int8.onnx"):
        shutil.copy(shipped / name, tmp_path / name)
    with (tmp_path / "railwatch_default.int8.onnx").open("ab") as f:
        f.write(b"x")  # no longer the INT8 file the card records
    weights = tmp_path / "railwatch_default.onnx"
    assert main(["calibrate", str(weights), "--scenes", "1"]) == 0, capsys.readouterr()
    card = json.loads((tmp_path / "railwatch_default.json").read_text())
    assert "calibration" in card
