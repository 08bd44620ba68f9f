"""A new analyst's walk through railwatch (2026-12-07, session 46).

- README "First steps": `scene remove 7` of a site of four images failed ("no scene
  with id 7"), and the review block gave scene 3 a count after its outlines, so its last
  command, `export-labels --reviewed-only`, found no outlines to export (status 1).
- `analyze --counts` on a counts file without a header line, or with its names
  separated by spaces, said "lacks column(s) date, count" of a header the file seemed to
  have; now it says what line 1 is.
- `analyze --counts` of a file with the total and single classes said "1 usable count"
  above the tank alerts raised from four other lines.
- `detect --detector default:tuned.onnx` of weights trained with
  `--calibration-scenes 0` (the quick fine-tuning path) printed "total (90 %)" without
  saying the interval was not calibrated.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from railwatch.analysis.csvio import parse_counts_csv
from railwatch.cli.main import main
from railwatch.detect.default import default_weights
from railwatch.errors import InputError
from railwatch.sim.io import write_scene
from railwatch.sim.params import SceneParams
from railwatch.sim.scene import render_scene

README = Path(__file__).resolve().parents[1] / "README.md"


def _first_steps() -> list[str]:
    """The command lines of README's "First steps" section, comments left out."""
    text = README.read_text(encoding="utf-8")
    start = text.index("## First steps on a site of your own")
    end = text.index("### The dashboard", start)
    blocks = re.findall(r"```bash\n(.*?)```", text[start:end], flags=re.S)
    lines = []
    for block in blocks:
        for line in block.splitlines():
            command = line.split("#", 1)[0].strip()
            if command:
                lines.append(command)
    return lines


def test_first_steps_name_only_scenes_the_walk_has() -> None:
    lines = _first_steps()
    dates = next(ln for ln in lines if ln.startswith("for d in"))
    n_images = len(re.findall(r"\d{4}-\d\d-\d\d", dates))
    for line in lines:
        m = re.match(r"railwatch scene (?:review|remove|cars) (\d+)", line)
        if m:
            assert 1 <= int(m[1]) <= n_images, line


def test_first_steps_keep_the_outlines_export_labels_exports() -> None:
    outlined: set[str] = set()
    for line in _first_steps():
        m = re.match(r"railwatch scene review (\d+) (.*)", line)
        if m and "--cars" in m[2]:
            outlined.add(m[1])
        elif m and "--count" in m[2]:
            outlined.discard(m[1])  # a count replaces the scene's outlines
        if line.startswith("railwatch export-labels") and "--reviewed-only" in line:
            assert outlined, line


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("2023-09-25,46\n2023-10-05,73\n", "line 1 is a count ('2023-09-25' is a date)"),
        ("05/10/2023;73\n12/10/2023;80\n", "line 1 is a count ('05/10/2023' is a date)"),
        ("date count\n2023-09-25 46\n", "names them separated by spaces or '|'"),
        ("| Date | Count |\n| 2023-09-25 | 46 |\n", "names them separated by spaces or '|'"),
    ],
)
def test_a_header_that_is_not_one_is_named(text: str, said: str) -> None:
    with pytest.raises(InputError) as info:
        parse_counts_csv(text, source="counts.csv")
    message = str(info.value)
    assert message.startswith("line 1: counts.csv lacks column(s) date, count"), message
    assert said in message, message


def test_a_title_above_the_header_is_still_named() -> None:
    with pytest.raises(InputError, match="the header seems to be line 2"):
        parse_counts_csv("Tumangang\ndate,count\n2023-09-25,46\n", source="c.csv")


def test_counts_of_the_total_and_of_classes_are_both_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "c.csv"
    path.write_text(
        "date,count,class\n2023-09-20,4,tank\n2023-09-25,46,Tank\n2023-09-25,10,BOXCAR\n"
        "2023-10-05,73,All\n2023-10-05,70,TANK\n"
    )
    assert main(["analyze", "--counts", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 usable count; of single classes: boxcar 1, tank 3" in out, out


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("walk")
    write_scene(render_scene(SceneParams(seed=3, gsd=0.5, size_px=(300, 300), n_cars=8)), out, "y")
    return out / "y.tif"


def _uncalibrated_copy(folder: Path) -> Path:
    """The shipped weights, their card without its count calibration (what
    `train --calibration-scenes 0` writes)."""
    shipped = default_weights()
    weights = folder / "tuned.onnx"
    shutil.copyfile(shipped, weights)
    card = json.loads(shipped.with_suffix(".json").read_text())
    card.pop("calibration")
    card.pop("int8", None)
    weights.with_suffix(".json").write_text(json.dumps(card))
    return weights


def test_detect_says_weights_without_calibration(
    scene: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = _uncalibrated_copy(tmp_path)
    out = tmp_path / "t.geojson"
    assert main(["detect", str(scene), "--detector", f"default:{weights}", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"note: {weights} has no count calibration" in err, err
    assert f"railwatch calibrate {weights}" in err, err


def test_detect_with_the_shipped_weights_says_nothing_of_calibration(
    scene: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["detect", str(scene), "-o", str(tmp_path / "d.geojson")]) == 0
    assert "no count calibration" not in capsys.readouterr().err


def test_a_filter_that_shows_no_stored_alert_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_cli_analyze import _store_counts

    monkeypatch.setenv("COLUMNS", "200")
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store_counts(url)
    assert main(["--db", url, "analyze", "yard", "--as-of", "2022-01-01"]) == 0
    n = int(re.findall(r"; (\d+) alerts\.", capsys.readouterr().out)[0])
    assert n > 1
    assert main(["--db", url, "analyze", "yard", "--as-of", "2022-01-01", "--class", "flat"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"yard: none of its {n} alerts is of flat (no --class shows them all)." in out, out


def test_counts_whose_alerts_are_all_filtered_out_are_not_said_to_have_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "one.csv"
    path.write_text("date,count\n2023-09-25,46\n")  # one image: a silence since, medium
    assert main(["analyze", "--counts", str(path), "--min-severity", "high"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "one.csv: its one alert is not high or above (--min-severity info shows it); "
        "1 usable count." in out
    ), out
    assert main(["analyze", "--counts", str(path), "--as-of", "2023-09-25"]) == 0
    assert "one.csv: no alerts (1 usable count)." in capsys.readouterr().out


def test_calibrate_says_the_distinct_cars_it_was_calibrated_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`calibrate --labels` of export-labels chips: its last line said "169 cars" of 119
    cars in 169 labels (the warning above it said 119)."""
    from railwatch.storage import Database
    from report_db import PLANS, populate

    cars = PLANS[0].n  # scene 1's cars; its chips of 160 px label each car twice
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = Database(url)
    populate(db, tmp_path / "scenes")
    db.dispose()
    chips = tmp_path / "dota"
    argv = ["--db", url, "export-labels", "--scene", "1", "--chip", "160", "--format", "dota"]
    assert main([*argv, "--out", str(chips)]) == 0
    weights = tmp_path / "w.onnx"
    shutil.copyfile(default_weights(), weights)
    shutil.copyfile(default_weights().with_suffix(".json"), tmp_path / "w.json")
    capsys.readouterr()
    assert main(["calibrate", str(weights), "--labels", str(chips), "--json"]) == 0
    got = capsys.readouterr()
    said = " ".join(got.err.split())
    assert f"{cars} cars in {2 * cars} labels, pooled at" in said, said
    assert json.loads(got.out)["weights"] == str(weights)


def test_a_confidence_bin_without_a_car_is_no_measure() -> None:
    from railwatch.cli.calibrate import class_bins_text
    from railwatch.detect.calibration import Calibration

    cal = Calibration(
        score_edges=(0.0, 1.0),
        precision=(0.9,),
        gsd=(0.5,),
        recall=(0.8,),
        recall_sd=(0.1,),
        class_edges=(0.0, 0.5, 1.0),
        class_precision=(0.75, 0.5),
        class_counts=(6, 0),
    )
    assert class_bins_text(cal) == "0.0-0.5: 0.75 (n=6), 0.5-1.0: – (n=0)"


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("tuned.onnx", "default:tuned.onnx for weights that `railwatch train` wrote"),
        ("runs/best.pt", "ultralytics:runs/best.pt"),
    ],
)
def test_a_model_file_without_its_kind_is_told_how_to_name_it(spec: str, said: str) -> None:
    from railwatch.detect.registry import get_detector

    with pytest.raises(InputError) as info:
        get_detector(spec)
    message = str(info.value)
    assert message.startswith(f"unknown detector {spec!r}: a model file is given with its kind")
    assert said in message, message
