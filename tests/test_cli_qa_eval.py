"""QA: `railwatch eval` suggested `railwatch sim ...` (no such command), and with
truth and prediction folders that do not pair up it evaluated some scenes before
failing at the first unmatched one. The pairing is now checked first, naming the
unmatched files."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.geojson import to_feature_collection, write_geojson

CARS = [Detection(OrientedBox(0, 0, 14, 3.2, 0), cls="boxcar")]


def _write(path: Path) -> None:
    write_geojson(path, to_feature_collection(CARS, crs="EPSG:32652", gsd=0.5))


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return " ".join(capsys.readouterr().err.split())


def test_empty_truth_folder_names_the_real_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "truth").mkdir()
    (tmp_path / "pred").mkdir()
    code = main(["eval", "--truth", str(tmp_path / "truth"), "--pred", str(tmp_path / "pred")])
    err = _err(capsys)
    assert code == 2 and "railwatch simulate --scene" in err
    assert "railwatch sim " not in err


def test_unmatched_truth_fails_before_any_evaluation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    for name in ("a", "b", "c"):
        _write(truth / f"{name}.truth.geojson")
    _write(pred / "a.detections.geojson")
    _write(pred / "x.detections.geojson")
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 2
    err = _err(capsys)
    assert "evaluated" not in err.replace("nothing was evaluated", "")  # no scene was
    assert (
        f"2 of the 3 truth files in {truth} have no prediction in {pred}: b.truth.geojson, "
        "c.truth.geojson (expected NAME.detections.geojson" in err
    )
    assert "prediction files there that match no truth: x.detections.geojson" in err


def test_predictions_without_truth_are_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    _write(truth / "a.truth.geojson")
    _write(pred / "a.detections.geojson")
    _write(pred / "z.geojson")
    assert main(["eval", "--truth", str(truth), "--pred", str(pred), "--json"]) == 0
    assert (
        "warning: 1 prediction file in" in (err := _err(capsys))
        and "matches no truth file and is not evaluated: z.geojson" in err
    )


def test_detector_run_needs_every_image_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = tmp_path / "truth"
    _write(truth / "a.truth.geojson")
    _write(truth / "b.truth.geojson")
    (truth / "a.tif").write_bytes(b"")  # present (not read: the check comes first)
    assert main(["eval", "--truth", str(truth), "--detector", "default"]) == 2
    err = _err(capsys)
    assert "1 of the 2 truth files" in err and ": b.truth.geojson;" in err
    assert "nothing was evaluated" in err
