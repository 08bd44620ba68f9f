"""Count calibration: fitting precision by score and recall by resolution, and the
calibrated count with its interval."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from railwatch.counting import count_interval
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.calibration import (
    Calibration,
    CalibrationSample,
    choose_class_threshold,
    fit_calibration,
    sample_scene,
)
from railwatch.detect.default import DefaultDetector, default_weights
from railwatch.errors import InputError


def _sample(gsd: float, hits: list[tuple[float, bool]], n_truth: int) -> CalibrationSample:
    return CalibrationSample(gsd, tuple(s for s, _ in hits), tuple(m for _, m in hits), n_truth)


def test_fit_recovers_recall_and_orders_precision() -> None:
    rng = np.random.default_rng(0)
    samples = []
    for gsd, recall in ((0.5, 0.8), (1.0, 0.5)):
        for _ in range(20):
            n_truth = 40
            found = round(n_truth * recall)
            # high scores are mostly right, low scores mostly wrong
            hits = [(float(rng.uniform(0.8, 1.0)), True) for _ in range(found)]
            hits += [(float(rng.uniform(0.4, 0.6)), False) for _ in range(10)]
            samples.append(_sample(gsd, hits, n_truth))
    cal = fit_calibration(samples)
    assert cal.gsd == (0.5, 1.0)
    assert cal.recall == pytest.approx((0.8, 0.5))
    assert list(cal.precision) == sorted(cal.precision)  # non-decreasing in score
    assert cal.precision_of([0.95])[0] > 0.95
    assert cal.precision_of([0.45])[0] < 0.05
    assert cal.recall_sd[0] == pytest.approx(0.0, abs=1e-9)  # every scene identical
    assert cal.scenes == 40


def test_estimate_corrects_for_misses_and_false_alarms() -> None:
    cal = Calibration(
        score_edges=(0.0, 0.5, 1.0),
        precision=(0.0, 1.0),
        gsd=(0.3, 1.0),
        recall=(1.0, 0.5),
        recall_sd=(0.0, 0.05),
    )
    scores = [0.9] * 30 + [0.45] * 10  # 30 sure cars, 10 sure false alarms
    count, low, high = cal.estimate(scores, 1.0)
    assert count == pytest.approx(60.0)
    assert low < 60 < high
    exact, lo3, hi3 = cal.estimate(scores, 0.3)
    assert exact == pytest.approx(30.0) and lo3 == hi3 == pytest.approx(30.0)
    # recall between calibrated resolutions is interpolated
    assert cal.recall_at(0.65)[0] == pytest.approx(0.75)


def test_calibrated_interval_widens_with_recall_spread() -> None:
    base = dict(score_edges=(0.0, 1.0), precision=(0.9,), gsd=(0.5,), recall=(0.7,))
    narrow = Calibration(**base, recall_sd=(0.0,))  # type: ignore[arg-type]
    wide = Calibration(**base, recall_sd=(0.2,))  # type: ignore[arg-type]
    s = [0.8] * 50
    n1, lo1, hi1 = narrow.estimate(s, 0.5)
    n2, lo2, hi2 = wide.estimate(s, 0.5)
    assert n1 == n2
    assert hi2 - lo2 > hi1 - lo1


def test_count_interval_uses_calibration_and_quality() -> None:
    cal = Calibration((0.0, 1.0), (1.0,), (0.5,), (0.5,), (0.0,))
    n, low, high = count_interval([0.9] * 10, gsd=0.5, calibration=cal)
    assert n == 10  # the count is what was detected ...
    assert low <= n < 20 < high  # ... and the interval reaches the calibrated 20
    n2, _, high2 = count_interval([0.9] * 10, gsd=0.5, clear_fraction=0.5, calibration=cal)
    assert n2 == n and high2 > high  # cars may hide in the unclear half
    raw = count_interval([0.9] * 10, gsd=0.5)
    assert raw[0] == 10  # without a calibration the count is the number of detections


def test_round_trip_and_bad_records() -> None:
    cal = Calibration((0.0, 0.5, 1.0), (0.2, 0.9), (0.3, 1.0), (0.9, 0.6), (0.05, 0.1), 8, "x")
    assert Calibration.from_dict(json.loads(json.dumps(cal.as_dict()))) == cal
    with pytest.raises(InputError, match="railwatch calibrate"):
        Calibration.from_dict({"precision": [0.5]})
    with pytest.raises(InputError, match="one more entry"):
        Calibration((0.0, 1.0), (0.5, 0.6), (0.5,), (0.5,), (0.0,))
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        Calibration((0.0, 1.0), (1.5,), (0.5,), (0.5,), (0.0,))
    with pytest.raises(InputError):
        fit_calibration([])


def _rect(cx: float, cy: float) -> np.ndarray:
    return np.array([[cx - 14, cy - 3], [cx + 14, cy - 3], [cx + 14, cy + 3], [cx - 14, cy + 3]])


def test_sample_scene_ignores_detections_on_hidden_cars_and_borders() -> None:
    dets = [
        Detection(OrientedBox(100, 100, 28, 6, 0), score=0.9),  # true car
        Detection(OrientedBox(200, 100, 28, 6, 0), score=0.8),  # on a car under cloud
        Detection(OrientedBox(300, 300, 28, 6, 0), score=0.6),  # false alarm
        Detection(OrientedBox(3, 300, 28, 6, 0), score=0.7),  # at the image edge
    ]
    truth = [_rect(100, 100), _rect(150, 200)]
    s = sample_scene(dets, truth, [_rect(200, 100)], (400, 400), 0.5)
    assert s.n_truth == 2
    assert sorted(zip(s.scores, s.matched, strict=True)) == [(0.6, False), (0.9, True)]


def test_sample_scene_records_class_confidence_of_matched_detections() -> None:
    def det(cx: float, probs: dict[str, float]) -> Detection:
        return Detection(
            OrientedBox(cx, 100, 28, 6, 0), score=0.9, extra={f"p_{k}": v for k, v in probs.items()}
        )

    dets = [
        det(100, {"tank": 0.7, "boxcar": 0.3}),  # right type
        det(200, {"tank": 0.2, "boxcar": 0.8}),  # wrong type
        det(300, {"tank": 0.9, "boxcar": 0.1}),  # false alarm: no class record
        Detection(OrientedBox(60, 200, 28, 6, 0), score=0.9),  # no probabilities
    ]
    truth = [_rect(100, 100), _rect(200, 100), _rect(60, 200)]
    s = sample_scene(dets, truth, [], (400, 400), 0.5, truth_classes=["tank", "tank", "flat"])
    assert sorted(zip(s.class_conf, s.class_hit, strict=True)) == [(0.7, True), (0.8, False)]
    assert sum(s.matched) == 3
    # a car labelled "railcar" (type unknown) is no evidence about types
    untyped = sample_scene(dets, truth, [], (400, 400), 0.5, truth_classes=["railcar"] * 3)
    assert untyped.class_conf == () and sum(untyped.matched) == 3
    with pytest.raises(InputError, match="one truth class"):
        sample_scene(dets, truth, [], (400, 400), 0.5, truth_classes=["tank"])


def test_class_threshold_is_the_lowest_confidence_with_enough_precision() -> None:
    rng = np.random.default_rng(3)
    conf = rng.uniform(0.2, 1.0, 4000)
    hit = rng.random(4000) < conf  # a calibrated classifier: right with probability conf
    t = choose_class_threshold(conf, hit, target=0.8)
    assert t is not None and 0.5 <= t <= 0.7
    assert float(hit[conf >= t].mean()) >= 0.8
    assert float(hit[conf >= t - 0.1].mean()) < 0.8
    assert choose_class_threshold(conf, np.zeros(4000, bool)) is None  # never right
    assert choose_class_threshold(conf[:5], hit[:5] | True) is None  # too few samples


def test_fit_stores_class_table_and_detector_uses_its_threshold(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    samples = []
    for _ in range(10):
        conf = rng.uniform(0.2, 1.0, 60)
        hit = rng.random(60) < conf
        samples.append(
            CalibrationSample(
                0.5, (0.9,) * 60, (True,) * 60, 60, tuple(conf.tolist()), tuple(hit.tolist())
            )
        )
    cal = fit_calibration(samples)
    assert cal.class_threshold is not None and len(cal.class_counts) == len(cal.class_edges) - 1
    assert sum(cal.class_counts) == 600
    assert Calibration.from_dict(cal.as_dict()) == cal
    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    w.with_suffix(".json").write_text(json.dumps({"calibration": cal.as_dict()}))
    assert DefaultDetector(w).class_threshold == cal.class_threshold
    assert DefaultDetector(w, class_threshold=0.2).class_threshold == 0.2  # the caller wins
    never = fit_calibration(
        [CalibrationSample(0.5, (0.9,) * 60, (True,) * 60, 60, (0.9,) * 60, (False,) * 60)]
    )
    assert never.class_threshold is None
    w.with_suffix(".json").write_text(json.dumps({"calibration": never.as_dict()}))
    assert DefaultDetector(w).class_threshold > 1.0  # every car stays "railcar"
    old = {k: v for k, v in cal.as_dict().items() if not k.startswith("class_")}
    w.with_suffix(".json").write_text(json.dumps({"calibration": old}))
    assert DefaultDetector(w).class_threshold == 0.5  # a card from before class calibration


def test_default_detector_reads_calibration_from_its_card(tmp_path: Path) -> None:
    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    assert DefaultDetector(w).calibration is None  # no card
    cal = Calibration((0.0, 1.0), (0.9,), (0.5,), (0.6,), (0.1,))
    w.with_suffix(".json").write_text(json.dumps({"calibration": cal.as_dict()}))
    assert DefaultDetector(w).calibration == cal
    w.with_suffix(".json").write_text("{not json")
    with pytest.raises(Exception, match="railwatch calibrate"):
        _ = DefaultDetector(w).calibration


def test_card_threshold_and_write_calibration_keep_other_keys(tmp_path: Path) -> None:
    from railwatch.detect.calibration import write_calibration
    from railwatch.detect.default import DEFAULT_THRESHOLD

    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    w.with_suffix(".json").write_text(json.dumps({"config": {"seed": 3}}))
    assert DefaultDetector(w).threshold == DEFAULT_THRESHOLD
    cal = Calibration((0.0, 1.0), (0.9,), (0.5,), (0.6,), (0.1,))
    write_calibration(w, cal, threshold=0.3)
    card = json.loads(w.with_suffix(".json").read_text())
    assert card["config"] == {"seed": 3} and card["threshold"] == 0.3
    assert DefaultDetector(w).threshold == 0.3
    assert DefaultDetector(w, threshold=0.5).threshold == 0.5  # the caller wins
    assert DefaultDetector(w).calibration == cal


def test_calibrate_command_writes_the_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    w.with_suffix(".json").write_text(json.dumps({"config": {"seed": 1}}))
    # a card without coarse string thresholds: --coarse-from must say where they start
    no_from = ["calibrate", str(w), "--coarse-one-side", "0.35"]
    assert main(no_from) == 2
    args = ["calibrate", str(w), "--scenes", "1", "--threshold", "0.5", "--one-side", "0.42"]
    args += ["--coarse-from", "0.75", "--coarse-one-side", "0.36", "--class-threshold", "0.55"]
    assert main(args) == 0
    card = json.loads(w.with_suffix(".json").read_text())
    assert card["config"] == {"seed": 1} and card["threshold"] == 0.5
    # the string thresholds the calibration ran with are recorded and used from then on
    assert card["string_thresholds"] == {"one_side": 0.42, "two_sides": 0.3}
    coarse = {"from_gsd": 0.75, "one_side": 0.36, "two_sides": 0.3}
    assert card["string_thresholds_coarse"] == coarse
    assert DefaultDetector(w).string_thresholds == (0.42, 0.3)
    assert DefaultDetector(w).string_thresholds_at(1.0) == (0.36, 0.3)
    # a given class threshold is recorded (the measured class table is kept)
    assert card["calibration"]["class_threshold"] == 0.55
    assert card["calibration"]["class_thresholds"] == {}  # given: for every class
    assert DefaultDetector(w).class_threshold == 0.55
    assert set(DefaultDetector(w).class_thresholds.values()) == {0.55}
    cal = Calibration.from_dict(card["calibration"])
    assert cal.gsd == (0.3, 0.5, 0.75, 1.0) and cal.scenes == 4
    err = capsys.readouterr().err
    assert "recall at 0.5 m" in err and "class right by confidence" in err
    assert len(cal.class_edges) == len(cal.class_precision) + 1
    assert main(["calibrate", str(tmp_path / "missing.onnx")]) == 2
    assert main(["calibrate", str(w), "--one-side", "0.3", "--two-sides", "0.4"]) == 2
    bad_coarse = ["calibrate", str(w), "--coarse-one-side", "0.3", "--coarse-two-sides", "0.4"]
    assert main(bad_coarse) == 2


def test_detector_version_names_weights_and_thresholds(tmp_path: Path) -> None:
    shipped = DefaultDetector()
    assert shipped.version == DefaultDetector.version == shipped.card["version"]
    assert DefaultDetector(threshold=shipped.threshold).version == shipped.version
    changed = {
        DefaultDetector(threshold=0.3).version,
        DefaultDetector(class_threshold=0.9).version,
        DefaultDetector(string_thresholds=(0.45, 0.45)).version,
    }
    assert len(changed) == 3 and shipped.version not in changed
    assert all(v.startswith(f"{shipped.version}+") for v in changed)
    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)  # same bytes, no card: other thresholds
    before = DefaultDetector(w).version
    assert before.startswith("custom+")
    # other weights get another version, so `railwatch process` redoes their scenes
    w.write_bytes(default_weights().read_bytes() + b"\0")
    assert DefaultDetector(w).version.startswith("custom+")
    assert DefaultDetector(w).version != before


def test_calibrate_records_and_keeps_string_pairs(tmp_path: Path) -> None:
    """--string-pairs is recorded in the card, kept by a later run without the flag, and
    --no-string-pairs removes it."""
    from railwatch.cli.main import main

    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    w.with_suffix(".json").write_text(json.dumps({"threshold": 0.45}))
    run = ["calibrate", str(w), "--scenes", "1", "--styles", "temperate"]

    def pairs() -> object:
        return json.loads(w.with_suffix(".json").read_text())["string_thresholds"].get("pairs")

    assert main([*run, "--string-pairs"]) == 0
    assert pairs() is True and DefaultDetector(w).string_pairs
    assert main(run) == 0
    assert pairs() is True
    assert main([*run, "--no-string-pairs"]) == 0
    assert pairs() is None and not DefaultDetector(w).string_pairs


def test_few_detections_still_leave_room_for_missed_cars() -> None:
    """A normal interval shrinks to the detections when there are few: no detection
    read 0 to 0 cars although, at a recall of 0.8, one or two cars are easily missed
    (the demo's 0.5 m images of 1-3 cars with none found). The drawn interval keeps
    room for them, and more with a lower recall."""
    cal = Calibration((0.0, 1.0), (1.0,), (0.5, 1.0), (0.8, 0.6), (0.1, 0.2))
    assert cal.estimate([], 0.5) == (0.0, 0.0, 1.0)
    _, low1, high1 = cal.estimate([], 1.0)
    assert low1 == 0.0 and high1 > 2.0
    count, low, high = cal.estimate([0.9] * 3, 0.5)
    assert count == pytest.approx(3.75) and low <= 3.0 and high >= 6.0
    # the same scores always give the same interval (fixed seed)
    assert cal.estimate([0.9] * 3, 0.5) == (count, low, high)


def test_many_detections_use_the_normal_count_of_real_ones() -> None:
    """Beyond EXACT_DETECTIONS the number of real detections is drawn from its normal
    approximation; the interval still holds the estimate and grows with the count."""
    from railwatch.detect.calibration import EXACT_DETECTIONS

    cal = Calibration((0.0, 0.5, 1.0), (0.5, 0.95), (0.5,), (0.8,), (0.1,))
    few = [0.9] * 100 + [0.4] * 50
    many = few * 4
    assert len(many) > EXACT_DETECTIONS >= len(few)
    c1, lo1, hi1 = cal.estimate(few, 0.5)
    c4, lo4, hi4 = cal.estimate(many, 0.5)
    assert lo1 < c1 < hi1 and lo4 < c4 < hi4
    assert c4 == pytest.approx(4 * c1) and hi4 - lo4 > hi1 - lo1


def test_class_thresholds_are_fitted_per_class() -> None:
    """A class rarely right must not ride on the others (detector 2.7's hoppers: right
    38 % of the time from 0.5, while all typed cars together were right 80 %)."""
    from railwatch.detect.calibration import choose_class_thresholds

    rng = np.random.default_rng(5)
    n = 3000
    pred = np.where(rng.random(n) < 0.85, "tank", "hopper")
    conf = rng.uniform(0.3, 1.0, n)
    # tanks right with probability conf, hoppers right 40 % of the time at any confidence
    hit = np.where(pred == "tank", rng.random(n) < conf, rng.random(n) < 0.4)
    common = choose_class_threshold(conf, hit, target=0.8)
    assert common is not None  # the pooled table admits hoppers from some confidence
    per = choose_class_thresholds(conf, list(pred), hit, classes=("tank", "hopper", "flat"))
    assert per["hopper"] is None and per["flat"] is None  # never right enough; never seen
    assert (
        per["tank"] is not None
        and float(hit[(pred == "tank") & (conf >= per["tank"])].mean()) >= 0.8
    )
    samples = [
        CalibrationSample(
            0.5,
            (0.9,) * 300,
            (True,) * 300,
            300,
            tuple(conf[i : i + 300].tolist()),
            tuple(hit[i : i + 300].tolist()),
            tuple(pred[i : i + 300].tolist()),
        )
        for i in range(0, n, 300)
    ]
    cal = fit_calibration(samples, classes=("flat",))
    assert cal.class_thresholds == {"tank": per["tank"], "hopper": None, "flat": None}
    assert Calibration.from_dict(json.loads(json.dumps(cal.as_dict()))) == cal
    assert cal.type_threshold("hopper") is None and cal.type_threshold("gondola") is None
    assert cal.type_threshold("tank") == per["tank"]
    # a calibration from before per-class thresholds: the common one serves every class
    old = Calibration.from_dict({k: v for k, v in cal.as_dict().items() if k != "class_thresholds"})
    assert old.class_thresholds == {} and old.type_threshold("hopper") == cal.class_threshold
    with pytest.raises(InputError, match="one predicted class"):
        CalibrationSample(0.5, (0.9,), (True,), 1, (0.7,), (True,), ("tank", "hopper"))
    with pytest.raises(InputError, match="class threshold of 'tank'"):
        Calibration.from_dict({**cal.as_dict(), "class_thresholds": {"tank": 1.5}})


def test_detector_reports_a_type_from_its_own_class_threshold(tmp_path: Path) -> None:
    from railwatch.detect.model_core import CLASSES, RawDetection, WorkBox

    cal = Calibration(
        (0.0, 1.0),
        (0.9,),
        (0.5,),
        (0.8,),
        (0.1,),
        class_edges=(0.0, 1.0),
        class_precision=(0.8,),
        class_counts=(100,),
        class_threshold=0.5,
        class_thresholds={"tank": 0.5, "hopper": None},
    )
    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    w.with_suffix(".json").write_text(json.dumps({"calibration": cal.as_dict()}))
    det = DefaultDetector(w)
    assert det.class_thresholds["tank"] == 0.5
    assert det.class_thresholds["hopper"] > 1.0 and det.class_thresholds["boxcar"] > 1.0

    def decoded(best: str, p: float) -> str:
        probs = np.full(len(CLASSES), (1.0 - p) / (len(CLASSES) - 1))
        probs[CLASSES.index(best)] = p
        raw = RawDetection(WorkBox(100, 100, 28, 6, 0, CLASSES.index(best), False), 0.9, probs, 0.1)
        d = det._to_detection(raw, 1.0, 0.5, (200, 200), None)
        assert d is not None
        return d.cls

    assert decoded("tank", 0.6) == "tank"
    assert decoded("tank", 0.45) == "railcar"
    assert decoded("hopper", 0.95) == "railcar"  # never reported
    given = DefaultDetector(w, class_threshold=0.4)  # the caller's threshold, every class
    assert set(given.class_thresholds.values()) == {0.4}
    assert (
        given.version != det.version
        and det.version != DefaultDetector(w, class_threshold=0.5).version
    )


def test_calibrate_on_the_analysts_labelled_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`railwatch calibrate --labels DIR`: recall, precision and type thresholds from the
    analyst's own labelled images (here simulator scenes with their truth as labels)."""
    from railwatch.cli.main import main

    labels = tmp_path / "labels"
    for seed in (3, 4):
        args = ["simulate", "--scene", "--gsd", "0.5", "--cars", "30", "--seed", str(seed)]
        assert main([*args, "-o", str(labels)]) == 0
    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    capsys.readouterr()
    assert main(["calibrate", str(w), "--labels", str(labels)]) == 0
    err = capsys.readouterr().err
    assert "labelled cars make a noisy calibration" in err  # 60 cars
    cal = Calibration.from_dict(json.loads(w.with_suffix(".json").read_text())["calibration"])
    assert cal.scenes == 2 and cal.gsd == (0.5,) and "labelled images in" in cal.source
    assert 0.5 < cal.recall[0] <= 1.0
    assert set(cal.class_thresholds) <= {"boxcar", "gondola", "hopper", "tank", "flat",
                                         "container", "locomotive"}  # fmt: skip
    # labels without a single type show nothing about types: none is reported (not the
    # detector's default threshold of 0.5 for every class)
    for truth in labels.glob("*.truth.geojson"):
        fc = json.loads(truth.read_text())
        for f in fc["features"]:
            f["properties"]["class"] = "railcar"
        truth.write_text(json.dumps(fc))
    assert main(["calibrate", str(w), "--labels", str(labels)]) == 0
    untyped = DefaultDetector(w)
    assert untyped.calibration is not None and "no type is reported" in untyped.calibration.source
    assert all(t > 1.0 for t in untyped.class_thresholds.values())
    # --labels replaces the simulated scenes: their options are refused with it
    assert main(["calibrate", str(w), "--labels", str(labels), "--scenes", "6"]) == 2
    assert "leave out --scenes" in capsys.readouterr().err
    assert main(["calibrate", str(w), "--labels", str(tmp_path / "none")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_calibrate_without_weights_leaves_the_shipped_card_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without WEIGHTS, calibrate rewrote the installed package's card: every later run of
    railwatch read the new calibration. It is refused, with how to calibrate a copy."""
    from railwatch.cli.main import main
    from railwatch.detect.default import default_weights

    card = default_weights().with_suffix(".json")
    before = card.read_bytes()
    assert main(["calibrate", "--scenes", "1"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "give the weights to calibrate" in err and "Calibrate a copy" in err
    assert card.read_bytes() == before
