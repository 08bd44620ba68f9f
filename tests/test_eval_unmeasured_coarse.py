"""``railwatch eval``: a 1.5-5 m estimate that read no track (its centrelines under
cloud, or no line found) measured nothing. It went into the count errors as 0 car
equivalents, a miss of every car, while ``railwatch process`` leaves such a scene
uncounted; it is now left out of the count errors and said."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.eval import Prediction, evaluate_dirs, evaluate_scene, summarise
from railwatch.detect.geojson import FeatureSet, to_feature_collection, write_geojson

UTM = "EPSG:32652"


def _cars(n: int) -> tuple[Detection, ...]:
    return tuple(
        Detection(OrientedBox(550_000 + i * 15, 4_695_000, 14.0, 3.2, 0), cls="boxcar")
        for i in range(n)
    )


def _length(cars: float | None) -> FeatureSet:
    return FeatureSet((), UTM, 3.0, None, "length", cars)


def test_an_unmeasured_scene_is_in_no_count_error() -> None:
    read = evaluate_scene("read", FeatureSet(_cars(20), UTM, 3.0), _length(22.0))
    unread = evaluate_scene("unread", FeatureSet(_cars(20), UTM, 3.0), _length(0.0), measured=False)
    count = summarise([read, unread])["overall"]["count"]
    assert count["scenes"] == 1 and count["mae"] == 2.0 and count["not_measured"] == 1
    assert "not_measured" not in summarise([read])["overall"]["count"]


def test_eval_dirs_reads_it_from_the_file_and_from_a_detector_run(tmp_path: Path) -> None:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    for name in ("a", "b"):
        fc = to_feature_collection(_cars(20), crs=UTM, gsd=3.0)
        write_geojson(truth / f"{name}.truth.geojson", fc)
    for name, track_m in (("a", 0.0), ("b", 640.0)):
        coarse = {"car_equivalents": 0.0 if not track_m else 21.0, "track_m": track_m}
        fc = to_feature_collection(
            [], crs=UTM, gsd=3.0, extra={"method": "length", "coarse": coarse}
        )
        write_geojson(pred / f"{name}.detections.geojson", fc)
    scenes = {s.name: s for s in evaluate_dirs(truth, pred_dir=pred)}
    assert scenes["a"].measured is False and scenes["b"].measured is True
    (truth / "a.tif").write_bytes(b"not read")
    (truth / "b.tif").write_bytes(b"not read")

    def predict(image: Path, gsd: float | None, t: FeatureSet, radiometry: str) -> Prediction:
        return Prediction(_length(0.0), measured=image.stem != "a")

    runs = {s.name: s for s in evaluate_dirs(truth, predict=predict)}
    assert runs["a"].measured is False and runs["b"].measured is True


def test_cli_says_how_many_scenes_measured_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    write_geojson(truth / "a.truth.geojson", to_feature_collection(_cars(20), crs=UTM, gsd=3.0))
    coarse = {"car_equivalents": 0.0, "track_m": 0.0}
    fc = to_feature_collection([], crs=UTM, gsd=3.0, extra={"method": "length", "coarse": coarse})
    write_geojson(pred / "a.detections.geojson", fc)
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "1 scene at 1.5-5 m read no track" in out
    assert main(["eval", "--truth", str(truth), "--pred", str(pred), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["overall"]["count"]["not_measured"] == 1
