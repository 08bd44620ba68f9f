"""One count by objects (session 36): :func:`railwatch.counting.count_detections`.

``count_scene``, ``railwatch detect`` and ``railwatch.count_cars`` each assembled the
total, the per-class counts with their intervals and the covered cars themselves; they
now call ``count_detections``, and give its numbers.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from typer.testing import CliRunner

import railwatch
from railwatch.counting import count_detections, count_interval, count_scene
from railwatch.detect.api import DetectionResult
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.registry import get_detector
from railwatch.imagery.quality import Quality
from railwatch.imagery.read import SiteGrid, SiteRaster

CLASSES = ("tank", "hopper", "boxcar", "railcar")


def _detections(seed: int, n: int) -> list[Detection]:
    rng = random.Random(seed)
    return [
        Detection(
            OrientedBox(rng.uniform(5, 195), rng.uniform(5, 195), 28, 6, 0),
            cls=rng.choice(CLASSES),
            score=rng.random(),
            covered=rng.random() < 0.3,
        )
        for _ in range(n)
    ]


def _raster(gsd: float) -> SiteRaster:
    grid = SiteGrid("EPSG:32652", Affine(gsd, 0, 0, 0, -gsd, 0), 200, 200, gsd)
    every = np.ones((200, 200), bool)
    return SiteRaster(np.zeros((200, 200, 3), np.uint8), every, every, None, grid)


def test_count_detections_counts_each_class_with_its_interval() -> None:
    dets = _detections(1, 30)
    calibration = get_detector("default").calibration  # type: ignore[attr-defined]
    c = count_detections(
        dets, gsd=0.5, clear_fraction=0.8, haze_fraction=0.1, calibration=calibration
    )
    assert (c.total, c.low, c.high) == count_interval(
        [d.score for d in dets],
        gsd=0.5,
        clear_fraction=0.8,
        haze_fraction=0.1,
        calibration=calibration,
    )
    assert list(c.by_class) == sorted({d.cls for d in dets})
    for cls, counted in c.by_class.items():
        scores = [d.score for d in dets if d.cls == cls]
        assert counted == count_interval(
            scores, gsd=0.5, clear_fraction=0.8, haze_fraction=0.1, calibration=calibration
        )
    assert c.covered == sum(d.covered for d in dets)
    assert (c.method, c.coverage) == ("objects", 1.0)
    empty = count_detections([], gsd=0.3)
    assert (empty.total, empty.low, empty.high, empty.by_class, empty.covered) == (
        0,
        0,
        0,
        {},
        0,
    )


@pytest.mark.parametrize("with_calibration", [False, True])
@pytest.mark.parametrize("seed", [2, 3])
def test_count_scene_of_a_site_over_every_detection_is_count_detections(
    seed: int, with_calibration: bool
) -> None:
    dets = _detections(seed, 12 * seed)
    detector = get_detector("default")
    calibration = detector.calibration if with_calibration else None  # type: ignore[attr-defined]
    quality = Quality(0.7, 0.9, 0.1, 0.2, 0.0, 0.0, 0.5, True, (), "estimated")
    scene = count_scene(dets, _raster(0.8), quality, calibration=calibration)
    assert scene == count_detections(
        dets,
        gsd=0.8,
        clear_fraction=0.7,
        haze_fraction=0.2,
        calibration=calibration,
        coverage=0.9,
    )


def test_count_cars_and_railwatch_detect_give_count_detections(tmp_path: Path) -> None:
    detector = get_detector("default")
    result = replace(
        DetectionResult("a.tif", tuple(_detections(4, 40)), "EPSG:32652", 0.5, 200, 200),
        detector=detector.name,
        detector_version=detector.version,
    )
    assert railwatch.count_cars(result, detector=detector) == count_detections(
        result.detections,
        gsd=0.5,
        calibration=detector.calibration,  # type: ignore[attr-defined]
    )

    from railwatch.cli.main import build_app

    scene = railwatch.render_scene(
        railwatch.SceneParams(seed=5, gsd=0.5, size_px=(400, 300), n_cars=12)
    )
    image = railwatch.write_scene(scene, tmp_path, "yard", preview=False).image
    out = tmp_path / "cars.geojson"
    run = CliRunner().invoke(build_app(), ["detect", str(image), "-o", str(out), "--json"])
    assert run.exit_code == 0, run.output
    row = json.loads(run.stdout)[0]
    counted = count_detections(
        railwatch.detect_file(image).detections,
        gsd=0.5,
        calibration=detector.calibration,  # type: ignore[attr-defined]
    )
    assert counted.total > 0
    assert (row["total"], row["low"], row["high"]) == (counted.total, counted.low, counted.high)
    assert json.loads(out.read_text())["count_interval"] == [counted.low, counted.high]
    assert row["covered"] == counted.covered
    assert row["by_class"] == {cls: n for cls, (n, _, _) in counted.by_class.items()}
