"""benchmarks/gpu/: the device scripts parse, and train_on_device.sh runs whole on the CPU
with tiny sizes (the check a session can make without a GPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "benchmarks" / "gpu"


@pytest.mark.parametrize("name", ["fetch_wheels.sh", "train_on_device.sh"])
def test_script_syntax(name: str) -> None:
    r = subprocess.run(["bash", "-n", str(SCRIPTS / name)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
def test_train_on_device_dry_run_on_the_cpu(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    env = {
        **os.environ,
        "OUT": str(tmp_path / "out"),
        "PYTHON": sys.executable,
        "WHEELS": str(tmp_path / "none"),
        "DEVICE": "cpu",
        "WORKERS": "2",
        "THREADS": "1",
        "S1_SCENES": "6",
        "S1_EPOCHS": "1",
        "S2_SCENES": "5",
        "S2_EPOCHS": "1",
        "BUDGET_S": "300",
        "EXTRA": "--sim-fraction 0",
    }
    r = subprocess.run(
        ["bash", str(SCRIPTS / "train_on_device.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = tmp_path / "out"
    names = sorted(p.name for p in out.iterdir())
    assert names == ["gpu.json", "gpu.onnx", "gpu.stage1.json", "gpu.stage1.onnx", "train.log"]
    card = json.loads((out / "gpu.json").read_text())
    assert card["config"]["init"] == str(out / "gpu.stage1.onnx")
    assert card["config"]["bank_seeding"] == "per-draw" and card["config"]["workers"] == 2
    assert card["config"]["seed"] == 62 and card["bank"]["crops"] == 5
    assert "stage 2: exit 0" in (out / "train.log").read_text()
