"""``railwatch eval`` scores a 10 m presence scene on its long-train flag, never as a
count: before session 22 its car equivalents went into the count MAE and MAPE (a 10 m
row read MAE 49.6, MAPE 82.7 %) and the per-class table gave every class a truth of 0
on 3 m and 10 m scenes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.eval import (
    Prediction,
    evaluate_dirs,
    evaluate_scene,
    summarise,
    truth_length_m,
)
from railwatch.detect.geojson import FeatureSet, to_feature_collection, write_geojson

UTM = "EPSG:32652"


def _cars(n: int, length: float = 14.0, cls: str = "boxcar") -> tuple[Detection, ...]:
    """``n`` cars of ``length`` metres end to end along x (UTM metres)."""
    return tuple(
        Detection(OrientedBox(550_000 + i * (length + 1), 4_695_000, length, 3.2, 0), cls=cls)
        for i in range(n)
    )


def _presence(cars: float | None) -> FeatureSet:
    return FeatureSet((), UTM, 10.0, None, "presence", cars)


def test_truth_length_in_metres_pixels_and_degrees() -> None:
    assert truth_length_m(FeatureSet(_cars(22), UTM, 10.0)) == pytest.approx(308.0)
    px = tuple(Detection(OrientedBox(10 * i, 5, 1.4, 0.32, 0)) for i in range(5))
    assert truth_length_m(FeatureSet(px, None, 10.0)) == pytest.approx(70.0)
    assert truth_length_m(FeatureSet(px, None, None)) is None  # no scale: unknown
    # a 14 m car along the equator in degrees: 14 m on the ellipsoid
    deg = 14.0 / 111_319.49
    wgs = (Detection(OrientedBox(10.0, 0.0, deg, deg / 4, 0)),)
    assert truth_length_m(FeatureSet(wgs, "EPSG:4326", None)) == pytest.approx(14.0, rel=1e-3)
    assert truth_length_m(FeatureSet((), UTM, 10.0)) == 0.0


def test_presence_scene_is_scored_on_its_flag_not_as_a_count() -> None:
    """Before: n_pred 49.6 car equivalents against 10 true cars, in the count errors."""
    few = evaluate_scene("few", FeatureSet(_cars(10), UTM, 10.0), _presence(49.6), present=True)
    assert few.is_presence and few.truth_length_m == pytest.approx(140.0)
    assert few.long_train_pred is True and few.long_train_truth is False
    many = evaluate_scene("many", FeatureSet(_cars(30), UTM, 10.0), _presence(31.0))
    assert many.long_train_pred is True and many.long_train_truth is True  # 31 x 14 m > 300
    none = evaluate_scene("none", FeatureSet((), UTM, 10.0), _presence(2.0))
    assert none.long_train_pred is False and none.long_train_truth is False
    rep = summarise([few, many, none])
    assert rep["overall"]["count"]["scenes"] == 0 and rep["overall"]["count"]["mae"] is None
    assert rep["overall"]["count"]["mape"] is None and rep["overall"]["scenes"] == 3
    ten = rep["by_resolution"]["10"]
    assert ten["presence"] == {
        "scenes": 3,
        "right": 2,
        "wrong": 1,
        "missed": 0,
        "false_alarms": 1,
        "unknown": 0,
        "accuracy": 0.6667,
    }
    row = rep["scenes"][0]
    assert row["pred"] is None and row["count_error"] is None
    assert row["long_train_present"] is True and row["long_train_truth"] is False
    assert row["truth_length_m"] == 140.0


def test_presence_scene_without_a_flag_is_unknown() -> None:
    s = evaluate_scene("x", FeatureSet(_cars(3), UTM, 10.0), _presence(None))
    assert s.long_train_pred is None
    block = summarise([s])["overall"]["presence"]
    assert block["unknown"] == 1 and block["right"] == block["wrong"] == 0
    assert block["accuracy"] is None


def test_mixed_run_counts_only_counts() -> None:
    fine = evaluate_scene("fine", FeatureSet(_cars(10), UTM, 0.5), FeatureSet(_cars(8), UTM, 0.5))
    length = evaluate_scene(
        "len", FeatureSet(_cars(20), UTM, 3.0), FeatureSet((), UTM, 3.0, None, "length", 23.0)
    )
    coarse = evaluate_scene("ten", FeatureSet(_cars(10), UTM, 10.0), _presence(60.0))
    rep = summarise([fine, length, coarse])
    overall = rep["overall"]
    assert overall["count"]["scenes"] == 2 and overall["count"]["mae"] == pytest.approx(2.5)
    assert overall["presence"]["wrong"] == 1 and "presence" not in rep["by_resolution"]["0.5"]
    # types come from the 0.5 m scene alone
    assert rep["by_class"]["boxcar"]["truth"] == 10 and rep["by_class"]["boxcar"]["pred"] == 8


def test_per_class_of_coarse_scenes_only_is_unknown() -> None:
    """Before: truth 0 and predicted 0 for every class of a 3 m / 10 m run."""
    length = evaluate_scene(
        "len", FeatureSet(_cars(20), UTM, 3.0), FeatureSet((), UTM, 3.0, None, "length", 23.0)
    )
    coarse = evaluate_scene("ten", FeatureSet(_cars(10, cls="tank"), UTM, 10.0), _presence(6.0))
    by_class = summarise([length, coarse])["by_class"]
    assert set(by_class) == {"boxcar", "tank"}
    for c in by_class.values():
        assert c["truth"] is None and c["pred"] is None and c["count_mae"] is None


def _write(folder: Path, name: str, fc: dict[str, Any], suffix: str) -> None:
    write_geojson(folder / f"{name}{suffix}", fc)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """A 10 m scene of 10 cars (140 m) whose file says 'present' though its 6 car
    equivalents are no long train, a 10 m scene of 25 cars that says present, and a
    3 m scene."""
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    for name, n, gsd in (("a10", 10, 10.0), ("b10", 25, 10.0), ("c3", 20, 3.0)):
        _write(truth, name, to_feature_collection(_cars(n), crs=UTM, gsd=gsd), ".truth.geojson")
    for name, method, cars, present in (
        ("a10", "presence", 6.0, True),
        ("b10", "presence", 24.0, True),
        ("c3", "length", 23.0, False),
    ):
        coarse = {"car_equivalents": cars, "low": 1.0, "high": 40.0, "present": present}
        fc = to_feature_collection(
            [], crs=UTM, gsd=10.0, extra={"method": method, "coarse": coarse}
        )
        _write(pred, name, fc, ".detections.geojson")
    return truth, pred


def test_eval_dirs_reads_the_flag_of_the_prediction_file(dirs: tuple[Path, Path]) -> None:
    scenes = {s.name: s for s in evaluate_dirs(dirs[0], pred_dir=dirs[1])}
    assert scenes["a10"].long_train_pred is True  # the file's flag, not 6 x 14 m < 300 m
    assert scenes["a10"].long_train_truth is False
    assert scenes["b10"].long_train_pred is True and scenes["b10"].long_train_truth is True
    assert scenes["c3"].long_train_pred is None and not scenes["c3"].is_presence


def test_eval_dirs_takes_the_flag_of_a_detector_run(tmp_path: Path) -> None:
    truth = tmp_path / "truth"
    _write(truth, "s", to_feature_collection(_cars(25), crs=UTM, gsd=10.0), ".truth.geojson")
    (truth / "s.tif").write_bytes(b"not read")

    def predict(image: Path, gsd: float | None, t: FeatureSet, radiometry: str) -> Prediction:
        return Prediction(_presence(3.0), present=False)

    (s,) = evaluate_dirs(truth, predict=predict)
    assert s.long_train_pred is False and s.long_train_truth is True
    assert summarise([s])["overall"]["presence"]["missed"] == 1


def test_cli_prints_the_presence_block_and_no_class_truth(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    truth, pred = dirs
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 0
    out = capsys.readouterr().out
    assert "Long train present" in out
    flags = next(ln for ln in out.splitlines() if ln.startswith("│ 10 m") and "50.0 %" in ln)
    cells = [c.strip() for c in flags.split("│")[1:-1]]
    assert cells == ["10 m", "2", "1", "1", "0", "1", "0", "50.0 %"]
    boxcar = next(line for line in out.splitlines() if line.startswith("│ boxcar"))
    assert [c.strip() for c in boxcar.split("│")[1:-1]] == ["boxcar", "–", "–", "–", "–"]
    assert "tell no type" in " ".join(out.split())  # the caption wraps at the terminal width
    # the 10 m row of the count table has no count error
    ten = [line for line in out.splitlines() if line.startswith("│ 10 m")]
    counts_row = [c.strip() for c in ten[1].split("│")[1:-1]]
    assert counts_row[1:4] == ["–", "–", "–"]
    assert main(["eval", "--truth", str(truth), "--pred", str(pred), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["by_resolution"]["10"]["presence"]["false_alarms"] == 1
    assert rep["by_resolution"]["10"]["count"]["mae"] is None
    assert rep["by_resolution"]["3"]["count"]["mae"] == 3.0
    assert rep["by_class"]["boxcar"]["truth"] is None
