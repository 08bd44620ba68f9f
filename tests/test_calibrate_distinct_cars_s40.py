"""``railwatch calibrate --labels`` warns of few labelled cars by the distinct cars, as
``train --labels`` does since 9c9cd9d (2026-12-06, session 40): chips of
``export-labels`` overlap and label a car in each, and the warning counted the labels
("16 labelled cars make a noisy calibration" of 8 cars)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.storage import Database
from report_db import PLANS, populate

CARS = PLANS[0].n  # scene 1's cars; its 8 chips of 160 px label each car twice
WEIGHTS = Path(__file__).parents[1] / "src/railwatch/detect/weights"


def test_calibrate_counts_the_distinct_cars_of_overlapping_chips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = Database(url)
    populate(db, tmp_path / "scenes")
    db.dispose()
    chips = tmp_path / "dota"
    argv = ["--db", url, "export-labels", "--scene", "1", "--chip", "160", "--format", "dota"]
    assert main([*argv, "--out", str(chips)]) == 0
    (entry,) = json.loads((chips / "railwatch_export.json").read_text())["scenes"]
    assert (entry["cars"], entry["objects"]) == (CARS, 2 * CARS)
    weights = tmp_path / "w.onnx"
    shutil.copy(WEIGHTS / "railwatch_default.onnx", weights)
    shutil.copy(WEIGHTS / "railwatch_default.json", tmp_path / "w.json")
    capsys.readouterr()
    assert main(["calibrate", str(weights), "--labels", str(chips)]) == 0
    got = capsys.readouterr()
    said = " ".join((got.out + got.err).split())
    assert f"warning: {CARS} labelled cars make a noisy calibration" in said, said
    assert f"{2 * CARS} labelled cars" not in said
