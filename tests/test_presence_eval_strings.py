"""``railwatch eval`` judges a 10 m scene's long-train flag against the truth's longest
string of coupled cars, as the flag now reads it (session 23): before, the truth was
the total length of all its cars, so 30 cars in three strings of 10 "held a long
train". A prediction that gives no flag (``railwatch detect`` without ``--tracks`` at
10 m) is unknown, not a flag made up from its car equivalents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.eval import evaluate_dirs, evaluate_scene, truth_longest_string_m
from railwatch.detect.geojson import FeatureSet, to_feature_collection, write_geojson

UTM = "EPSG:32652"


def _string(n: int, x0: float, y: float = 4_695_000.0) -> list[Detection]:
    """``n`` 14 m cars coupled 1 m apart along x from ``x0`` (UTM metres)."""
    return [Detection(OrientedBox(x0 + i * 15.0, y, 14.0, 3.2, 0)) for i in range(n)]


def test_longest_string_in_metres_pixels_and_degrees() -> None:
    three = _string(10, 550_000) + _string(10, 551_000) + _string(10, 552_000)
    assert truth_longest_string_m(FeatureSet(tuple(three), UTM, 10.0)) == pytest.approx(140.0)
    one = _string(22, 550_000)
    assert truth_longest_string_m(FeatureSet(tuple(one), UTM, 10.0)) == pytest.approx(308.0)
    # a string on the next track (4.75 m away) is another string
    two = _string(12, 550_000) + _string(12, 550_000, 4_695_004.75)
    assert truth_longest_string_m(FeatureSet(tuple(two), UTM, 10.0)) == pytest.approx(168.0)
    px = tuple(Detection(OrientedBox(1.5 * i, 5, 1.4, 0.32, 0)) for i in range(5))
    assert truth_longest_string_m(FeatureSet(px, None, 10.0)) == pytest.approx(70.0)
    assert truth_longest_string_m(FeatureSet(px, None, None)) is None
    # 14 m cars 1 m apart along the equator, in degrees
    deg = 1.0 / 111_319.49
    wgs = tuple(
        Detection(OrientedBox(10.0 + i * 15 * deg, 0.0, 14 * deg, 3 * deg, 0)) for i in range(3)
    )
    assert truth_longest_string_m(FeatureSet(wgs, "EPSG:4326", None)) == pytest.approx(
        42.0, rel=1e-2
    )
    assert truth_longest_string_m(FeatureSet((), UTM, 10.0)) == 0.0


def test_three_short_strings_are_no_long_train() -> None:
    cars = tuple(_string(10, 550_000) + _string(10, 551_000) + _string(10, 552_000))
    pred = FeatureSet((), UTM, 10.0, None, "presence", 30.0)
    s = evaluate_scene("three", FeatureSet(cars, UTM, 10.0), pred, present=False)
    assert s.truth_length_m == pytest.approx(420.0)  # all cars: over 300 m
    assert s.truth_longest_string_m == pytest.approx(140.0)
    assert s.long_train_truth is False and s.long_train_pred is False


def test_a_prediction_file_without_a_flag_is_unknown(tmp_path: Path) -> None:
    truth_dir, pred_dir = tmp_path / "truth", tmp_path / "pred"
    truth_dir.mkdir()
    pred_dir.mkdir()
    cars = _string(25, 550_000)
    write_geojson(truth_dir / "s2.truth.geojson", to_feature_collection(cars, crs=UTM, gsd=10.0))
    # as `railwatch detect` writes a 10 m image without --tracks: no flag, but car
    # equivalents along the lines it found (which made up a flag: 40 x 14 m >= 300 m)
    fc = to_feature_collection([], crs=UTM, gsd=10.0)
    fc["method"] = "presence"
    fc["car_equivalents"] = 40.0
    fc["coarse"] = {"car_equivalents": 40.0, "present": None, "tracks": "found", "track_m": 900.0}
    (pred_dir / "s2.detections.geojson").write_text(json.dumps(fc))
    (scene,) = evaluate_dirs(truth_dir, pred_dir=pred_dir)
    assert scene.is_presence and scene.long_train_truth is True
    assert scene.long_train_pred is None
