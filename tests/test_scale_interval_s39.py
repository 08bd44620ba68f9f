"""A hand-given gsd the rails do not confirm widens the count's 90 % interval (session 39).

Session 37 measured (benchmarks/bench_gsd_sensitivity.py) that a gsd given 10 % too small
loses about a tenth of the cars and one 10 % too large may add a few, and had the
Python API warn of an unchecked or disagreeing scale; the interval stayed the
detector's at the scale given. Now a count by objects whose hand-given gsd the rails
could not check, or disagree with, has its interval widened by what that table says
(``counting.scale_widening``), with the reason in ``SceneCount.scale_widening``, the
CLI's note and the GeoJSON's ``count_interval_widened``; the count is unchanged, and a
confirmed scale or a georeferenced image keeps exactly the detector's interval.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from railwatch.counting import (
    GSD_SENSITIVITY,
    UNCHECKED_SCALE_ERROR,
    SceneCount,
    count_detections,
    scale_widening,
    widen_for_scale,
)
from railwatch.detect.base import OrientedBox
from railwatch.imagery.scale import RAIL_CENTRES_M, RailScale, ScaleCheck
from test_detect_fakes import BrightBlobDetector, draw_car
from test_rail_scale import no_track_image, rails_image

COUNT = SceneCount(
    12.0,
    9.0,
    16.0,
    {"boxcar": (8.0, 6.0, 11.0), "tank": (4.0, 2.0, 6.0)},
    1,
    "objects",
)


def _unmeasured() -> ScaleCheck:
    return ScaleCheck(0.5, RailScale(False, "no rail pairs found"), 0.15)


def _measured(given: float, gsd: float = 0.2) -> ScaleCheck:
    scale = RailScale(True, "", gsd, gsd * 0.96, gsd * 1.04, RAIL_CENTRES_M / gsd, 0.02, 8, 8)
    return ScaleCheck(given, scale, 0.15)


def _ratio(column: float) -> list[float]:
    """Each measured row's count at ``column`` times the true gsd over its count at 1x."""
    xs = list(GSD_SENSITIVITY["factors"])
    return [row[xs.index(column)] / row[xs.index(1.0)] for row in GSD_SENSITIVITY["rows"].values()]


# ------------------------------------------------------------------ counting, unit


def test_unchecked_scale_widens_by_the_measured_ten_per_cent_columns() -> None:
    """Not measurable: the gsd may be 10 % off either way. Too small loses cars (the
    0.9x column, worst row), so the high bound grows by 1 / that ratio; too large may
    add some (the 1.1x column), so the low bound shrinks by 1 / that ratio."""
    assert UNCHECKED_SCALE_ERROR == 0.10
    check = _unmeasured()
    wide = widen_for_scale(COUNT, check)
    w = wide.scale_widening
    assert w is not None and w.factors == pytest.approx((0.9, 1.1))
    assert w.high_factor == pytest.approx(1.0 / min(_ratio(0.9)))
    assert w.low_factor == pytest.approx(1.0 / max(_ratio(1.1)))
    assert 1.3 < w.high_factor < 1.4 and 0.85 < w.low_factor < 0.9  # what the table says
    assert wide.total == COUNT.total and wide.by_class["boxcar"][0] == 8.0  # counts kept
    assert wide.low == round(9.0 * w.low_factor, 2) < COUNT.low
    assert wide.high == round(16.0 * w.high_factor, 2) > COUNT.high
    assert wide.by_class["tank"] == (
        4.0,
        round(2.0 * w.low_factor, 2),
        round(6.0 * w.high_factor, 2),
    )
    assert w.interval == (9.0, 16.0) and wide.scale_check is check
    assert "not checked against the rails" in w.why and "no rail pairs found" in w.why
    assert w.to_dict()["detector_interval"] == [9.0, 16.0]


def test_confirmed_scale_and_no_check_keep_the_interval_exactly() -> None:
    agreeing = _measured(0.2)
    assert not agreeing.disagrees
    for check in (agreeing, None):
        kept = widen_for_scale(COUNT, check)
        assert scale_widening(check) is None and kept.scale_widening is None
        assert (kept.total, kept.low, kept.high, kept.by_class) == (
            COUNT.total,
            COUNT.low,
            COUNT.high,
            COUNT.by_class,
        )
        assert kept.scale_check is check


@pytest.mark.parametrize("given", [0.1, 0.6])
def test_a_disagreeing_scale_widens_by_more_than_an_unchecked_one(given: float) -> None:
    """Rails at 0.2 m: 0.1 m given is half the truth (the high bound for cars lost), 0.6
    three times it (the low bound for cars split); the range reaches the rails' scale."""
    check = _measured(given)
    assert check.disagrees
    unchecked = widen_for_scale(COUNT, _unmeasured())
    wide = widen_for_scale(COUNT, check)
    w, u = wide.scale_widening, unchecked.scale_widening
    assert w is not None and u is not None
    assert w.factors[0] <= 0.9 and w.factors[1] >= 1.1
    assert w.factors[0] == pytest.approx(min(0.9, given / (0.2 * 1.04)))
    assert w.factors[1] == pytest.approx(max(1.1, given / (0.2 * 0.96)))
    assert wide.high - wide.low > unchecked.high - unchecked.low
    if given < 0.2:
        assert wide.high > unchecked.high and w.high_factor == pytest.approx(1.0 / min(_ratio(0.7)))
    else:
        assert wide.low < unchecked.low and w.low_factor == pytest.approx(1.0 / max(_ratio(1.4)))
    assert "disagrees with the 0.200 m per pixel the rails show" in w.why
    assert wide.total == COUNT.total


def test_length_and_presence_counts_are_not_widened() -> None:
    """The table measured the detector of objects; car equivalents are left as they are."""
    length = replace(COUNT, method="length", by_class={"railcar": (12.0, 9.0, 16.0)})
    kept = widen_for_scale(length, _unmeasured())
    assert kept.scale_widening is None and (kept.low, kept.high) == (9.0, 16.0)


# ------------------------------------------------------------------ Python API


def _png(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def _with_cars(rgb: np.ndarray) -> np.ndarray:
    img = rgb.copy()
    for k in range(4):
        draw_car(img, OrientedBox(40.0 + 35.0 * k, 40.0, 24.0, 7.0, 0.0))
    return img


def _count(path: Path, gsd: float) -> tuple[SceneCount, SceneCount]:
    """count_cars of detect_file at ``gsd`` (ScaleWarnings silenced) and the detector's
    own count of the same detections (count_detections: today's interval)."""
    from railwatch.api import count_cars
    from railwatch.detect.api import detect_file

    detector = BrightBlobDetector()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = detect_file(path, gsd=gsd, detector=detector)
    assert result.total >= 4
    plain = count_detections(result.detections, gsd=result.gsd)
    return count_cars(result, detector=detector), plain


def test_count_cars_widens_an_unchecked_png(tmp_path: Path) -> None:
    png = _png(tmp_path / "fields.png", _with_cars(no_track_image(seed=4)))
    count, plain = _count(png, 0.5)
    assert count.scale_check is not None and not count.scale_check.scale.measured
    w = count.scale_widening
    assert w is not None and w.interval == (plain.low, plain.high)
    assert count.total == plain.total
    assert count.low < plain.low and count.high > plain.high
    assert count.high == round(plain.high * w.high_factor, 2)


def test_count_cars_keeps_the_interval_of_a_confirmed_png(tmp_path: Path) -> None:
    png = _png(tmp_path / "rails.png", _with_cars(rails_image(7.5, 149.0, size=192, seed=12)))
    count, plain = _count(png, 0.2)
    assert count.scale_check is not None and not count.scale_check.disagrees
    assert count.scale_check.scale.measured
    assert count.scale_widening is None
    assert (count.total, count.low, count.high, count.by_class) == (
        plain.total,
        plain.low,
        plain.high,
        plain.by_class,
    )


def test_count_cars_widens_a_disagreeing_png_by_more(tmp_path: Path) -> None:
    png = _png(tmp_path / "rails.png", _with_cars(rails_image(7.5, 149.0, size=192, seed=12)))
    count, plain = _count(png, 0.6)
    assert count.scale_check is not None and count.scale_check.disagrees
    w, u = count.scale_widening, scale_widening(_unmeasured())
    assert w is not None and u is not None
    assert w.low_factor < u.low_factor and w.high_factor >= u.high_factor
    assert count.low < plain.low and count.high > plain.high
    assert count.total == plain.total


def test_count_cars_keeps_the_interval_of_a_georeferenced_image(tmp_path: Path) -> None:
    import rasterio
    from rasterio.transform import from_origin

    rgb = _with_cars(no_track_image(size=192, seed=4))
    tif = tmp_path / "fields.tif"
    profile = {
        "driver": "GTiff",
        "width": 192,
        "height": 192,
        "count": 3,
        "dtype": "uint8",
        "crs": "EPSG:32652",
        "transform": from_origin(500000.0, 4700000.0, 0.5, 0.5),
    }
    with rasterio.open(tif, "w", **profile) as ds:
        ds.write(np.moveaxis(rgb, -1, 0))
    for gsd in (0.5, 0.55):  # its own scale, and --gsd overriding it a little
        count, plain = _count(tif, gsd)
        assert count.scale_check is None and count.scale_widening is None
        assert (count.low, count.high, count.by_class) == (plain.low, plain.high, plain.by_class)


# ------------------------------------------------------------------ CLI, default detector


def _cli(args: list[str]) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from railwatch.cli.main import build_app

    result = CliRunner().invoke(build_app(), args)
    return result.exit_code, result.stdout, result.stderr


def _expected(path: Path, gsd: float | None) -> SceneCount:
    """The detector's own interval (today's) for ``path``, as `detect` computes it."""
    from railwatch.detect.api import detect_file
    from railwatch.detect.registry import get_detector

    det = get_detector("default")
    result = detect_file(path, gsd=gsd, detector=det, check_scale=False)
    return count_detections(
        result.detections, gsd=result.gsd, calibration=getattr(det, "calibration", None)
    )


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A simulated 0.5 m yard as a PNG (no scale; rails too close to measure) and as its
    georeferenced GeoTIFF."""
    import railwatch

    folder = tmp_path_factory.mktemp("yard")
    params = railwatch.SceneParams(seed=7, gsd=0.5, size_px=(800, 600), n_cars=30)
    scene = railwatch.render_scene(params)
    png = _png(folder / "yard.png", scene.image)
    railwatch.write_scene(scene, folder, "yard")
    return png, folder / "yard.tif"


def test_cli_widens_an_unchecked_gsd_and_says_why(tmp_path: Path, yard: tuple[Path, Path]) -> None:
    png, _ = yard
    out = tmp_path / "out.geojson"
    code, stdout, stderr = _cli(["detect", str(png), "--gsd", "0.5", "-o", str(out), "--json"])
    assert code == 0, stdout + stderr
    expected = _expected(png, 0.5)
    assert expected.total > 0
    fc = json.loads(out.read_text())
    widened = fc["count_interval_widened"]
    assert widened["detector_interval"] == [expected.low, expected.high]
    low, high = fc["count_interval"]
    assert low < expected.low and high > expected.high
    assert high == pytest.approx(expected.high * widened["high_factor"], rel=1e-3)
    assert "not checked against the rails" in widened["why"]
    row = json.loads(stdout)[0]
    assert row["total"] == expected.total and (row["low"], row["high"]) == (low, high)
    assert row["count_interval_widened"] == widened
    text = " ".join(stderr.split())
    assert text.count("widened from the detector's") == 1
    assert f"{expected.low:.0f}–{expected.high:.0f}" in text


def test_cli_keeps_the_interval_of_a_georeferenced_image(
    tmp_path: Path, yard: tuple[Path, Path]
) -> None:
    _, tif = yard
    out = tmp_path / "out.geojson"
    code, stdout, stderr = _cli(["detect", str(tif), "-o", str(out), "--json"])
    assert code == 0, stdout + stderr
    expected = _expected(tif, None)
    fc = json.loads(out.read_text())
    assert fc["count_interval"] == [expected.low, expected.high]
    assert "count_interval_widened" not in fc
    assert json.loads(stdout)[0]["count_interval_widened"] is None
    assert "widened" not in stderr


def test_cli_keeps_the_interval_of_a_confirmed_gsd(tmp_path: Path) -> None:
    png = _png(tmp_path / "rails.png", rails_image(7.5, 149.0, size=192, seed=12))
    out = tmp_path / "out.geojson"
    code, stdout, stderr = _cli(["detect", str(png), "--gsd", "0.2", "-o", str(out)])
    assert code == 0, stdout + stderr
    expected = _expected(png, 0.2)
    fc = json.loads(out.read_text())
    assert fc["scale_check"]["agrees"] is True
    assert fc["count_interval"] == [expected.low, expected.high]
    assert "count_interval_widened" not in fc and "widened" not in stderr
