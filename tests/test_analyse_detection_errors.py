"""benchmarks/analyse_detection_errors.py: the geometry behind its error classes
(localisation offsets and the correction that fixes them, boxes beside a car, a car's
place in a string). No rendering, no network."""

from __future__ import annotations

import pytest

from helpers import load_benchmark
from railwatch.detect.base import OrientedBox

ana = load_benchmark("analyse_detection_errors")
GSD = 0.5  # m per pixel: a 14 x 3 m car is 28 x 6 px
CAR = OrientedBox(100.0, 100.0, 28.0, 6.0, 30.0)


def _moved(box: OrientedBox, along_m: float, across_m: float) -> OrientedBox:
    import math

    a = math.radians(box.angle)
    dx = (along_m * math.cos(a) - across_m * math.sin(a)) / GSD
    dy = (along_m * math.sin(a) + across_m * math.cos(a)) / GSD
    return OrientedBox(box.cx + dx, box.cy + dy, box.length, box.width, box.angle)


def test_across_shift_is_measured_and_fixed_across() -> None:
    pred = _moved(CAR, 0.3, 2.0)
    loc = ana.localisation(CAR, pred, GSD)
    assert loc["along_m"] == pytest.approx(0.3, abs=1e-6)
    assert loc["across_m"] == pytest.approx(2.0, abs=1e-6)
    assert loc["iou"] < 0.3
    assert loc["fixed_by"] == "across"
    assert loc["iou_fixed"]["across"] > 0.9


def test_along_shift_and_short_box() -> None:
    loc = ana.localisation(CAR, _moved(CAR, 8.0, 0.0), GSD)
    assert loc["fixed_by"] == "along"
    short = OrientedBox(CAR.cx, CAR.cy, 6.0, 6.0, CAR.angle)  # 3 m of a 14 m car
    loc = ana.localisation(CAR, short, GSD)
    assert loc["length_ratio"] == pytest.approx(6.0 / 28.0)
    assert loc["fixed_by"] == "length"
    # 180 degrees apart is the same axis
    flipped = OrientedBox(CAR.cx, CAR.cy, CAR.length, CAR.width, CAR.angle + 180.0)
    assert ana.localisation(CAR, flipped, GSD)["angle_err_deg"] == pytest.approx(0.0, abs=1e-9)


def test_beside_a_car() -> None:
    assert ana._beside(CAR, _moved(CAR, 2.0, 4.0), GSD)
    assert not ana._beside(CAR, _moved(CAR, 2.0, 6.0), GSD)  # beyond 5 m across
    assert not ana._beside(CAR, _moved(CAR, 9.0, 3.0), GSD)  # past the car's end


def test_place_in_a_string() -> None:
    string = [_moved(CAR, 15.0 * i, 0.0) for i in range(3)]  # 14 m cars, 1 m gaps
    alone = _moved(CAR, 0.0, 40.0)
    info = ana._string_info([*string, alone], GSD)
    assert [p for p, _ in info] == ["end", "inner", "end", "isolated"]
    assert [n for _, n in info] == [3, 3, 3, 1]
