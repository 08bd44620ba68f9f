"""QA: file and image names printed as rich markup.

Several commands printed paths and names inside rich markup without escaping them, so a
folder or file whose name holds a bracketed word (``runs[old]``, ``yard[v2].tif``, common
for versioned or backed-up folders) lost it: ``simulate`` listed
``/data/runs/sim_0.tif`` for ``/data/runs[old]/sim_0.tif``, a path that does not exist,
and scripts that read the listing opened the wrong file or none. Each name is now printed
as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from railwatch.cli.main import main

BRACKETED = "runs[old]"


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)


def _simulate(folder: Path, *extra: str) -> None:
    argv = ["simulate", "--scene", "--cars", "2", "--size", "120x120", "--out", str(folder)]
    assert main([*argv, *extra]) == 0


def test_simulate_lists_the_paths_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _simulate(tmp_path / BRACKETED / "[v2]", "--name", "scene[a]")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("scene scene[a]: 120x120 px")
    listed = [line.strip() for line in lines[1:]]
    assert len(listed) == 6 and all(Path(p).is_file() for p in listed), listed
    assert all(f"/{BRACKETED}/[v2]/scene[a]." in p for p in listed)


def _png(path: Path) -> Path:
    rng = np.random.default_rng(4)
    Image.fromarray(rng.integers(90, 110, (200, 200, 3), dtype=np.uint8)).save(path)
    return path


def test_scale_names_the_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = _png(tmp_path / "panel[draft].png")
    assert main(["scale", str(png)]) == 1
    assert capsys.readouterr().err.startswith("error: panel[draft].png: not measured")


def test_scale_says_why_it_failed_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not measured is a failure (status 1): its reason was on stdout (in a script's
    `$(railwatch scale ...)`), and with --json nothing was said on stderr at all."""
    png = _png(tmp_path / "panel.png")
    assert main(["scale", str(png)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: panel.png: not measured: ")
    assert err.count("\n") == 1
    assert main(["scale", str(png), "--json"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["measured"] is False
    assert err.startswith("error: panel.png: not measured: ") and err.count("\n") == 1


def test_detect_notes_name_the_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = _png(tmp_path / "panel[draft].png")
    assert main(["detect", str(png), "--gsd", "0.5", "--out-dir", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("note: panel[draft].png: --gsd 0.5 not checked"), err


def test_quantize_names_the_file_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import railwatch.detect.default as default
    import railwatch.detect.quantize as quantize

    out = tmp_path / BRACKETED / "w.int8.onnx"
    out.parent.mkdir()
    out.write_bytes(b"x" * 1000)
    monkeypatch.setattr(quantize, "quantize_weights", lambda *a, **k: out)
    check = {"heat_max_abs_diff": 0.01, "heat_mean_abs_diff": 0.001}
    fake = SimpleNamespace(card={"int8": {"check": check}}, version="9")
    monkeypatch.setattr(default, "DefaultDetector", lambda path: fake)
    assert main(["quantize", "--tiles", "1"]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out} (0.00 MB)")


def test_train_names_the_files_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import railwatch.detect.train as train

    out = tmp_path / BRACKETED / "w.onnx"
    bank = SimpleNamespace(images=[], boxes=[], sources=[])
    monkeypatch.setattr(train, "build_bank", lambda *a, **k: bank)
    monkeypatch.setattr(train, "train_model", lambda *a, **k: None)
    monkeypatch.setattr(train, "export_onnx", lambda net, path, *a, **k: path)
    monkeypatch.setattr(train, "require_train_extra", lambda: None)  # CI has no torch
    argv = ["train", "--out", str(out), "--scenes", "1", "--calibration-scenes", "0"]
    assert main(argv) == 0, capsys.readouterr().err
    assert f"wrote {out} and {out.with_suffix('.json')}" in capsys.readouterr().out


def test_calibrate_names_the_card_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import railwatch.detect.calibration as calibration
    from railwatch.detect.default import default_weights

    folder = tmp_path / BRACKETED
    folder.mkdir()
    weights = folder / "w.onnx"
    shutil.copy(default_weights(), weights)
    shutil.copy(default_weights().with_suffix(".json"), weights.with_suffix(".json"))
    shipped = calibration.Calibration(
        score_edges=(0.0, 1.0), precision=(0.9,), gsd=(0.5,), recall=(0.8,), recall_sd=(0.1,)
    )
    monkeypatch.setattr(calibration, "calibrate_on_simulator", lambda *a, **k: shipped)
    assert main(["calibrate", str(weights), "--scenes", "1"]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out == f"wrote calibration to {weights.with_suffix('.json')}\n"


def test_eval_names_each_scene(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _simulate(tmp_path / "truth", "--name", "yard[a]")
    capsys.readouterr()
    assert main(["eval", "--truth", str(tmp_path / "truth"), "--detector", "default"]) == 0
    assert "evaluated yard[a]\n" in capsys.readouterr().err


def test_demo_summary_keeps_brackets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database URL and the alerts' explanations (which quote the analyst's event
    labels) were printed as markup."""
    import railwatch.demo as demo

    folder = tmp_path / BRACKETED
    url = f"sqlite:///{folder / 'railwatch-demo.db'}"
    text = "30 railcars, a week after the [draft] summit. More"
    result = demo.DemoResult(
        out_dir=folder,
        db_url=url,
        site="tumangang",
        alerts=[demo.DemoAlert("2023-09-20", "record", "high", text)],
    )
    monkeypatch.setattr(demo, "earlier_run", lambda *a, **k: None)
    monkeypatch.setattr(demo, "run_demo", lambda *a, **k: result)
    assert main(["demo", "--out", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"  database: {url}\n" in out
    assert "30 railcars, a week after the [draft] summit. │" in out
