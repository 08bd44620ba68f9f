"""The GPU training procedure end to end on the CPU (benchmarks/gpu/README.md): a dry run of
``train_on_device.sh`` at 48 channels (a wider network than the shipped 32), then every
command of the README's section 3 as written, with only the sizes made tiny (covered head,
calibration with the shipped decoding, INT8, the evaluation scripts), then a fine-tune on
the CPU from the weights made. Also ``railwatch calibrate --refine``."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from railwatch.detect.default import DefaultDetector, default_weights

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "benchmarks" / "gpu" / "README.md"
VENV_BIN = Path(sys.executable).parent

#: Per command of the README (matched by its start), the size options set to tiny values
#: (replaced where the README gives them, added where it does not).
TINY: dict[str, dict[str, str]] = {
    "railwatch train --covered-head": {"--scenes": "48", "--epochs": "1"},
    "railwatch calibrate": {"--scenes": "1"},
    "railwatch quantize": {"--tiles": "1"},
    "python benchmarks/bench_detect_accuracy.py": {"--scenes": "2"},
    "python benchmarks/analyse_detection_errors.py": {"--n": "1"},
    "python benchmarks/bench_third_renderer.py": {"--scenes": "1"},
}


def _readme_blocks(section: str) -> list[list[str]]:
    """The ``sh`` code blocks of the README section whose heading starts with
    ``section``, each as its command lines (comments and continuations joined)."""
    text = README.read_text()
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end > 0 else len(text)]
    blocks = []
    for block in re.findall(r"```sh\n(.*?)```", body, flags=re.S):
        joined = block.replace("\\\n", " ")
        lines = [ln.split("  #")[0].strip() for ln in joined.splitlines()]
        blocks.append([ln for ln in lines if ln and not ln.startswith("#")])
    return blocks


def _tiny(command: str) -> str:
    """``command`` with its size options set as :data:`TINY` says."""
    for prefix, sizes in TINY.items():
        if command.startswith(prefix):
            for opt, value in sizes.items():
                pattern = rf"{re.escape(opt)} \S+"
                if re.search(pattern, command):
                    command = re.sub(pattern, f"{opt} {value}", command)
                else:
                    command += f" {opt} {value}"
    return command


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"  # railwatch, python
    return env


@pytest.fixture(scope="module")
def device_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the device call returns, made by the README's CPU dry run at 48 channels,
    read-only as the reply's ``files_at`` holds them."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    out = tmp_path_factory.mktemp("files_at")
    env = _env(
        OUT=str(out),
        PYTHON=sys.executable,
        WHEELS=str(out / "none"),
        DEVICE="cpu",
        WORKERS="2",
        THREADS="1",
        S1_SCENES="8",
        S1_EPOCHS="1",
        S2_SCENES="6",
        S2_EPOCHS="1",
        BUDGET_S="300",
        CHANNELS="48",
    )
    r = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu" / "train_on_device.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    for f in out.iterdir():
        f.chmod(0o444)
    return out


@pytest.mark.slow
def test_the_readme_commands_run_as_written_on_a_48_channel_network(
    device_outputs: Path, tmp_path: Path
) -> None:
    finish, evaluate = _readme_blocks("3. Back here")[:2]
    g = tmp_path / "gpu"
    outputs = []
    for block in (finish, evaluate):
        lines = [
            _tiny(ln)
            .replace("FILES_AT", shlex.quote(str(device_outputs)))
            .replace("G=/tmp/gpu", f"G={shlex.quote(str(g))}")
            for ln in block
        ]
        r = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + "\n".join(lines)],
            env=_env(G=str(g)),  # the finishing block's G, for the evaluation block
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
        )
        assert r.returncode == 0, "\n".join(lines) + f"\n{r.stdout}\n{r.stderr}"
        outputs.append(r.stdout + r.stderr)
    w = g / "gpu-cov.onnx"
    assert (g / "gpu-cov.int8.onnx").is_file()
    card = json.loads(w.with_suffix(".json").read_text())
    # the device run, still told by the final card: device, seeding, workers, width
    assert card["config"]["channels"] == 48 and card["config"]["device"] == "cpu"
    assert card["config"]["bank_seeding"] == "per-draw" and card["config"]["workers"] == 2
    assert [s["file"] for s in card["stages"]] == ["gpu.stage1.onnx", "gpu.onnx"]
    assert [s["config"]["seed"] for s in card["stages"]] == [61, 62]
    assert card["recipe"]["name"] == "benchmarks/gpu/train_on_device.sh"
    assert card["recipe"]["settings"]["CHANNELS"] == "48"
    assert card["recipe"]["device"] == {"device": "cpu"}
    # and the CPU steps' entries, with the shipped decoding
    assert card["covered_head"]["source"] == "gpu.onnx"
    assert card["string_thresholds"]["pairs"] is True
    shipped = json.loads(default_weights().with_suffix(".json").read_text())
    assert card["refine"] == shipped["refine"]
    assert card["int8"]["source"] == "gpu-cov.onnx"
    det = DefaultDetector(w)
    assert det.precision == "int8" and det.refiner is not None and det.string_pairs
    # every evaluation ran on these weights (a failed load is only a line of their output)
    assert "not run" not in outputs[1] and "Traceback" not in outputs[1], outputs[1]
    assert outputs[1].count("gpu-cov.onnx") >= 6, outputs[1]


@pytest.mark.slow
def test_a_cpu_fine_tune_from_the_device_weights(device_outputs: Path, tmp_path: Path) -> None:
    from railwatch.cli.main import main

    g = tmp_path / "gpu"
    g.mkdir()
    for f in device_outputs.glob("gpu.*"):
        shutil.copy(f, g / f.name)
    cov = g / "gpu-cov.onnx"
    assert (
        main(
            [
                *("train", "--covered-head", "--init", str(g / "gpu.onnx"), "--out", str(cov)),
                *("--scenes", "48", "--epochs", "1", "--seed", "71", "--sim-fraction", "1.0"),
            ]
        )
        == 0
    )
    for src in (g / "gpu.onnx", cov):
        out = tmp_path / f"ft-{src.name}"
        args = ["train", "--init", str(src), "--out", str(out), "--scenes", "8", "--epochs", "1"]
        assert main([*args, "--calibration-scenes", "0", "--threads", "1"]) == 0
        card = json.loads(out.with_suffix(".json").read_text())
        assert card["config"]["channels"] == 48 and card["config"]["init"] == str(src)
        assert DefaultDetector(out).detect(_yard(), 0.5) is not None


def _yard() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)


def test_calibrate_refine_records_the_shipped_refiner(tmp_path: Path) -> None:
    """--refine names the shipped across-track refiner in a card that has none (weights
    trained from scratch), and the detector then runs it; without it the card stays
    without one."""
    from railwatch.cli.main import main

    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    w.with_suffix(".json").write_text(json.dumps({"threshold": 0.45}))
    run = ["calibrate", str(w), "--scenes", "1", "--styles", "temperate"]
    assert main(run) == 0
    assert "refine" not in json.loads(w.with_suffix(".json").read_text())
    assert DefaultDetector(w).refiner is None
    assert main([*run, "--refine"]) == 0
    card = json.loads(w.with_suffix(".json").read_text())
    shipped = json.loads(default_weights().with_suffix(".json").read_text())
    assert card["refine"] == shipped["refine"]
    assert DefaultDetector(w).refiner is not None
    assert main(run) == 0  # kept by a later run without the flag
    assert json.loads(w.with_suffix(".json").read_text())["refine"] == shipped["refine"]


@pytest.mark.slow
def test_an_interrupted_covered_head_write_keeps_the_earlier_refit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-run of the README's covered-head step that fails while writing (a Ctrl-C, a
    full disk) leaves the earlier gpu-cov.onnx and its card as they were, and no stray
    file: it wrote over them in place before."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from railwatch.detect import covered_head

    src = tmp_path / "gpu.onnx"
    shutil.copy(default_weights(), src)
    dst = tmp_path / "gpu-cov.onnx"
    dst.write_bytes(b"earlier re-fit")
    dst.with_suffix(".json").write_text('{"calibration": "earlier"}')

    def full_disk(_src: Path, out: Path, _branch: object) -> Path:
        Path(out).write_bytes(b"trunc")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(covered_head, "write_covered_branch", full_disk)
    cfg = covered_head.CoveredConfig(scenes=4, epochs=1, sim_fraction=0.0, threads=1)
    with pytest.raises(OSError, match="No space"):
        covered_head.refit_covered_head(src, dst, cfg)
    assert dst.read_bytes() == b"earlier re-fit"
    assert dst.with_suffix(".json").read_text() == '{"calibration": "earlier"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "gpu-cov.json",
        "gpu-cov.onnx",
        "gpu.onnx",
    ]
