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


def _dry_run(tmp_path: Path, **sizes: str) -> subprocess.CompletedProcess[str]:
    """``train_on_device.sh`` on the CPU with tiny ``sizes`` (its env variables), its
    files in ``tmp_path / "out"``."""
    env = {
        **os.environ,
        "OUT": str(tmp_path / "out"),
        "PYTHON": sys.executable,
        "WHEELS": str(tmp_path / "none"),
        "DEVICE": "cpu",
        "WORKERS": "2",
        "THREADS": "1",
        "BUDGET_S": "300",
        "EXTRA": "--sim-fraction 0",
        **sizes,
    }
    return subprocess.run(
        ["bash", str(SCRIPTS / "train_on_device.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_train_on_device_dry_run_on_the_cpu(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    r = _dry_run(tmp_path, S1_SCENES="6", S1_EPOCHS="1", S2_SCENES="5", S2_EPOCHS="1")
    assert r.returncode == 0, r.stdout + r.stderr
    out = tmp_path / "out"
    names = sorted(p.name for p in out.iterdir())
    assert names == ["gpu.json", "gpu.onnx", "gpu.stage1.json", "gpu.stage1.onnx", "train.log"]
    card = json.loads((out / "gpu.json").read_text())
    assert card["config"]["init"] == str(out / "gpu.stage1.onnx")
    assert card["config"]["bank_seeding"] == "per-draw" and card["config"]["workers"] == 2
    assert card["config"]["seed"] == 62 and card["bank"]["crops"] == 5
    assert "stage 2: exit 0" in (out / "train.log").read_text()
    # the run in the final card: each stage (device, seeding, workers, width) and the script
    assert [s["file"] for s in card["stages"]] == ["gpu.stage1.onnx", "gpu.onnx"]
    assert all(s["config"]["device"] == "cpu" for s in card["stages"])
    assert all(s["config"]["channels"] == 32 for s in card["stages"])
    recipe = card["recipe"]
    assert recipe["name"] == "benchmarks/gpu/train_on_device.sh"
    assert recipe["settings"]["WORKERS"] == "2"
    assert recipe["settings"]["EXTRA"] == "--sim-fraction 0"
    assert [c.split(" --out ")[0] for c in recipe["commands"]] == ["railwatch train"] * 2
    assert set(recipe["seconds"]) == {"stage1", "stage2"}
    assert recipe["device"] == {"device": "cpu"} and "torch" in recipe["versions"]


@pytest.mark.slow
def test_a_failed_second_stage_leaves_the_first_recorded(tmp_path: Path) -> None:
    """Stage 2 stopped (here: a bad --lr; on the device, the budget): the run is recorded
    in the card of stage 1's weights, the last written."""
    pytest.importorskip("torch")
    r = _dry_run(tmp_path, S1_SCENES="3", S1_EPOCHS="1", S2_SCENES="3", S2_LR="fast")
    assert r.returncode == 0, r.stdout + r.stderr
    out = tmp_path / "out"
    assert not (out / "gpu.onnx").exists()
    card = json.loads((out / "gpu.stage1.json").read_text())
    assert [s["file"] for s in card["stages"]] == ["gpu.stage1.onnx"]
    assert card["recipe"]["settings"]["S2_LR"] == "fast"
    assert set(card["recipe"]["seconds"]) == {"stage1"}
