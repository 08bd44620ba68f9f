"""Evaluation metrics on hand-made truth and predictions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.eval import PRF, evaluate_dirs, evaluate_scene, match, summarise
from railwatch.detect.geojson import FeatureSet, to_feature_collection, write_geojson


def _car(
    x: float, y: float, angle: float = 0.0, cls: str = "boxcar", covered: bool = False
) -> Detection:
    return Detection(OrientedBox(x, y, 14, 3.2, angle), cls=cls, covered=covered)


TRUTH = [
    _car(0, 0),
    _car(15, 0),
    _car(30, 0, cls="tank"),
    _car(0, 10, 30, covered=True),
    _car(50, 50),
]
PRED = [
    _car(0.3, 0.1),  # match
    _car(15, 0.4, cls="tank"),  # match, wrong class
    _car(33.0, 0, cls="tank"),  # IoU ~0.65: match at 0.3 and 0.5
    _car(0, 10, 30, covered=False),  # match, covered wrong
    _car(100, 100),  # false positive; truth (50, 50) is missed
    _car(35.5, 0.0),  # IoU with (30,0) ~0.27 and the truth is taken: false positive
]


def test_match_is_one_to_one_and_oriented() -> None:
    m = match(TRUTH, PRED, 0.5)
    assert m.tp == 4 and m.fp == 2 and m.fn == 1
    # a rotated copy of a car at 90 degrees does not match it
    assert match([_car(0, 0)], [_car(0, 0, angle=90)], 0.3).tp == 0
    # the same car at 30 degrees matches itself despite its axis-aligned box
    assert match([_car(0, 0, 30)], [_car(0.5, 0.3, 30)], 0.5).tp == 1


def test_scene_metrics() -> None:
    s = evaluate_scene(
        "a", FeatureSet(tuple(TRUTH), "EPSG:32652", 0.5), FeatureSet(tuple(PRED), "EPSG:32652", 0.5)
    )
    p = s.prf[0.3]
    assert (p.tp, p.fp, p.fn) == (4, 2, 1)
    assert p.precision == pytest.approx(4 / 6) and p.recall == pytest.approx(4 / 5)
    assert p.f1 == pytest.approx(2 * (4 / 6) * 0.8 / (4 / 6 + 0.8))
    assert s.count_error == 1
    assert s.matched == 4 and s.covered_correct == 3 and s.class_correct == 3
    rep = summarise([s])
    assert rep["overall"]["count"]["mae"] == 1 and rep["overall"]["count"]["mape"] == 0.2
    assert rep["overall"]["covered_accuracy"] == 0.75
    assert s.typed == 4 and s.typed_correct == 3  # every prediction names a type
    assert rep["overall"]["typed_share"] == 1.0 and rep["overall"]["typed_accuracy"] == 0.75
    generic = [Detection(d.box, cls="railcar") if d.cls == "tank" else d for d in PRED]
    g = evaluate_scene(
        "b", FeatureSet(tuple(TRUTH), "EPSG:32652", 0.5), FeatureSet(tuple(generic), None, 0.5)
    )
    assert g.matched == 4 and g.typed == 2 and g.typed_correct == 2  # railcar: no type claimed
    assert summarise([g])["overall"]["typed_share"] == 0.5
    assert rep["by_class"]["tank"] == {
        "truth": 1,
        "pred": 2,
        "count_mae": 1.0,
        "total_relative_error": 1.0,
    }
    assert list(rep["by_resolution"]) == ["0.5"]


def test_typed_accuracy_is_judged_on_typed_labels_only() -> None:
    """A car labelled 'railcar' (type unknown, as in hand labels) cannot say whether the
    type a detector gave it is right: it counts in the typed share, not in its accuracy."""
    truth = (_car(0, 0, cls="tank"), _car(15, 0, cls="railcar"), _car(30, 0, cls="boxcar"))
    pred = (_car(0, 0, cls="tank"), _car(15, 0, cls="tank"), _car(30, 0, cls="tank"))
    s = evaluate_scene("t", FeatureSet(truth, None, 0.5), FeatureSet(pred, None, 0.5))
    assert (s.typed, s.typed_judged, s.typed_correct) == (3, 2, 1)
    rep = summarise([s])["overall"]
    assert rep["typed_share"] == 1.0 and rep["typed_accuracy"] == 0.5


def test_prf_edge_cases() -> None:
    assert (PRF(0, 0, 0).precision, PRF(0, 0, 0).recall, PRF(0, 0, 0).f1) == (None, None, None)
    assert PRF(0, 3, 0).precision == 0.0 and PRF(0, 0, 3).recall == 0.0


def _write(dir_: Path, name: str, dets: list[Detection], gsd: float, suffix: str) -> None:
    write_geojson(dir_ / f"{name}{suffix}", to_feature_collection(dets, crs="EPSG:32652", gsd=gsd))


def test_eval_dirs_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    _write(truth, "s1", TRUTH, 0.5, ".truth.geojson")
    _write(pred, "s1", PRED, 0.5, ".detections.geojson")
    _write(truth, "s2", TRUTH[:2], 1.0, ".truth.geojson")
    _write(pred, "s2", TRUTH[:2], 1.0, ".detections.geojson")
    _write(truth, "empty", [], 0.5, ".truth.geojson")
    _write(pred, "empty", [], 0.5, ".detections.geojson")
    scenes = evaluate_dirs(truth, pred_dir=pred)
    assert [s.name for s in scenes] == ["empty", "s1", "s2"]
    rep = summarise(scenes)
    assert rep["by_resolution"]["1"]["iou0.5"]["f1"] == 1.0
    assert rep["overall"]["count"]["mape"] == pytest.approx(0.1)  # (0.2 + 0) / 2 scenes with cars
    assert main(["eval", "--truth", str(truth), "--pred", str(pred), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["overall"]["iou0.3"]["tp"] == 6
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 0
    shown = capsys.readouterr().out
    assert "Detection evaluation (3 scenes)" in shown and "Counts per scene" in shown
    assert "0.…" not in shown  # each table fits the terminal (cells were cut at 80 columns)
    assert main(["eval", "--truth", str(truth)]) == 2
    (pred / "s2.detections.geojson").unlink()
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 2


def test_wgs84_predictions_are_compared_in_the_truths_crs(tmp_path: Path) -> None:
    """`railwatch detect --wgs84` writes lon/lat; the simulator's truth is in UTM metres.
    eval compared the two as they were and reported F1 0 for a perfect detector."""
    from dataclasses import replace

    x0, y0 = 632_000.0, 4_697_800.0  # Tumangang, EPSG:32652
    cars = [replace(d, box=replace(d.box, cx=d.box.cx + x0, cy=d.box.cy + y0)) for d in TRUTH]
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    _write(truth, "s1", cars, 0.5, ".truth.geojson")
    write_geojson(
        pred / "s1.detections.geojson",
        to_feature_collection(cars, crs="EPSG:32652", gsd=0.5, to_crs="EPSG:4326"),
    )
    assert "crs" not in json.loads((pred / "s1.detections.geojson").read_text())  # RFC 7946
    (scene,) = evaluate_dirs(truth, pred_dir=pred)
    assert scene.prf[0.5].f1 == 1.0


def test_eval_folders_are_checked_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--truth FILE said the directory "does not exist"; a missing --pred folder was
    reported per scene as "no prediction for scene X"."""
    truth, a_file = tmp_path / "truth", tmp_path / "notes.txt"
    _write(truth, "s1", TRUTH, 0.5, ".truth.geojson")
    a_file.write_text("x")
    assert main(["eval", "--truth", str(a_file), "--pred", str(truth)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"--truth {a_file} is a file: give a folder of NAME.truth.geojson files" in err
    assert main(["eval", "--truth", str(truth), "--pred", str(tmp_path / "out")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"--pred {tmp_path / 'out'} does not exist: give a folder of NAME.detections" in err
    assert "no prediction for scene" not in err
    assert main(["eval", "--truth", str(truth), "--pred", str(a_file)]) == 2
    assert f"--pred {a_file} is a file" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize("folder", ["pred", "truth"])
@pytest.mark.parametrize(
    ("geometry", "says"),
    [
        (None, "feature 1 has no geometry: each feature is a railcar's outline"),
        ({"type": "Point", "coordinates": [100, 100]}, "feature 1 is a Point, not a Polygon"),
    ],
)
def test_eval_refuses_features_that_are_not_polygons(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    folder: str,
    geometry: dict[str, object] | None,
    says: str,
) -> None:
    """A feature with a null geometry was dropped silently, and a Point counted as a
    railcar (a false positive), in predictions and truth alike."""
    dirs = {"truth": tmp_path / "truth", "pred": tmp_path / "pred"}
    _write(dirs["truth"], "s1", TRUTH, 0.5, ".truth.geojson")
    _write(dirs["pred"], "s1", PRED, 0.5, ".detections.geojson")
    name = "s1.detections.geojson" if folder == "pred" else "s1.truth.geojson"
    path = dirs[folder] / name
    fc = json.loads(path.read_text())
    fc["features"].insert(1, {"type": "Feature", "geometry": geometry, "properties": {}})
    path.write_text(json.dumps(fc))
    assert main(["eval", "--truth", str(dirs["truth"]), "--pred", str(dirs["pred"])]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{path}: {says}" in err


def test_net_count_error_is_signed_where_the_total_error_is_not() -> None:
    """One scene over-counted by 2 and one under-counted by 2: the summed absolute error
    is 4 of 8 cars, the net error 0; a detector that finds nothing is -100 % net (the
    third-renderer benchmark printed the unsigned total with a '+' as if it were a
    bias)."""
    four = tuple(_car(15.0 * i, 0) for i in range(4))
    two, six = four[:2], (*four, _car(60, 0), _car(75, 0))
    over = evaluate_scene("o", FeatureSet(four, None, 0.5), FeatureSet(six, None, 0.5))
    under = evaluate_scene("u", FeatureSet(four, None, 0.5), FeatureSet(two, None, 0.5))
    c = summarise([over, under])["overall"]["count"]
    assert c["total_relative_error"] == 0.5 and c["net_relative_error"] == 0.0
    none = evaluate_scene("n", FeatureSet(four, None, 0.5), FeatureSet((), None, 0.5))
    c = summarise([none])["overall"]["count"]
    assert c["total_relative_error"] == 1.0 and c["net_relative_error"] == -1.0
