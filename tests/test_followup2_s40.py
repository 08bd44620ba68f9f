"""Session 40 follow-ups (2026-12-06).

* ``railwatch export-labels`` cuts a scene into chips that overlap, a car in an overlap
  a label of each (since 1c3b055 it says the distinct cars, and its manifest gives
  ``cars`` beside ``objects``). ``railwatch import-labels`` ("imported 8 images, 10
  cars") and ``railwatch train --labels`` (its "10 labelled cars are few" warning) still
  counted those labels as cars. They now say the distinct cars where the manifest gives
  them (and the labels where they differ), and "labelled objects" where the distinct
  cars cannot be known (chips without a manifest, or labels changed since export).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import railwatch.detect.train as detect_train
from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.storage import Database
from report_db import PLANS, populate

CARS = PLANS[0].n  # scene 1's cars; its 8 chips of 160 px label each car twice


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("chips")
    url = f"sqlite:///{tmp / 'rw.db'}"
    db = Database(url)
    populate(db, tmp / "scenes")
    db.dispose()
    out = tmp / "dota"
    argv = ["--db", url, "export-labels", "--scene", "1", "--chip", "160", "--format", "dota"]
    assert main([*argv, "--out", str(out)]) == 0
    (entry,) = json.loads((out / "railwatch_export.json").read_text())["scenes"]
    assert (entry["cars"], entry["objects"]) == (CARS, 2 * CARS)
    return out


def _said(capsys: pytest.CaptureFixture[str]) -> str:
    got = capsys.readouterr()
    return " ".join((got.out + got.err).split())


def _train_labels(
    labels: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """What train --labels says of the labels (stopped before any crop is drawn)."""

    def stop() -> None:
        raise InputError("stopped by the test before training")

    monkeypatch.setattr(detect_train, "require_train_extra", stop)
    argv = ["train", "--labels", str(labels), "--out", str(tmp_path / "w.onnx"), "--scenes", "1"]
    assert main(argv) != 0
    said = _said(capsys)
    assert "stopped by the test before training" in said
    return said


def test_import_and_train_say_the_distinct_cars_of_overlapping_chips(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = tmp_path / "set"
    assert main(["import-labels", str(exported), "--format", "dota", "--out", str(out)]) == 0
    said = _said(capsys)
    assert f"imported 8 images, {CARS} cars in {2 * CARS} labels (" in said
    assert "chips overlap, and a car in the overlap is labelled in each" in said
    assert json.loads((out / "railwatch_labels.json").read_text())["cars"] == CARS
    again = tmp_path / "again"
    argv = ["import-labels", str(exported), "--format", "dota", "--out", str(again), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["cars"], summary["objects"]) == (CARS, 2 * CARS)
    for labels in (out, exported):  # the imported set, and the export's DOTA folder itself
        said = _train_labels(labels, tmp_path, monkeypatch, capsys)
        assert f"{CARS} cars in {2 * CARS} labels (" in said
        assert f"warning: {CARS} labelled cars are few to fine-tune on" in said
        assert f"{2 * CARS} labelled cars" not in said
        # DOTA carries no covered flag: its labels, not cars, teach nothing of tarpaulins
        assert f"the {2 * CARS} labels of 8 such image(s)" in said


def test_chips_without_a_manifest_are_labelled_objects(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    bare = tmp_path / "bare"
    shutil.copytree(exported, bare)
    (bare / "railwatch_export.json").unlink()
    out = tmp_path / "set"
    argv = ["import-labels", str(bare), "--format", "dota", "--out", str(out), "--gsd", "0.5"]
    assert main(argv) == 0
    said = _said(capsys)
    assert f"imported 8 images, {2 * CARS} labelled objects (" in said
    assert "how many distinct cars is not known" in said
    assert f"{2 * CARS} cars" not in said
    assert json.loads((out / "railwatch_labels.json").read_text())["cars"] is None
    for labels in (out, bare):
        said = _train_labels(labels, tmp_path, monkeypatch, capsys)
        assert f"{2 * CARS} labelled objects (" in said
        assert f"warning: {2 * CARS} labelled objects (distinct cars not known" in said
        assert f"{2 * CARS} labelled cars" not in said


def test_labels_changed_since_export_are_not_counted_as_its_cars(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    changed = tmp_path / "changed"
    shutil.copytree(exported, changed)
    label = next(
        p for p in sorted((changed / "labelTxt").glob("*.txt"))
        if len([ln for ln in p.read_text().splitlines() if ln and ":" not in ln]) > 0
    )  # fmt: skip
    lines = label.read_text().splitlines()
    drop = next(k for k, ln in enumerate(lines) if ln and ":" not in ln)
    label.write_text("\n".join(lines[:drop] + lines[drop + 1 :]) + "\n")
    said = _train_labels(changed, tmp_path, monkeypatch, capsys)
    assert f"{2 * CARS - 1} labelled objects (" in said
    assert f"{CARS} cars in" not in said
