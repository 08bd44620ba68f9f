"""benchmarks/bench_detect_accuracy.py: where a 3 m estimate's length along the
centrelines goes (found, missed, false beside a string, at its ends, elsewhere), on a
hand-made yard of two lines. No rendering."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from shapely.geometry import box

from helpers import load_benchmark
from railwatch.detect.coarse import LineProfile

bench = load_benchmark("bench_detect_accuracy")
GSD = 3.0
STEP = 0.5  # px between samples: 1.5 m


def _line(row: float, occupied: list[tuple[float, float]]) -> LineProfile:
    """A horizontal line of samples at ``row`` from column 0 to 100, occupied over the
    column ranges given."""
    cols = np.arange(0.0, 100.0, STEP)
    pts = np.stack([cols, np.full_like(cols, row)], axis=1)
    occ = np.zeros(len(cols), dtype=bool)
    for a, b in occupied:
        occ |= (cols >= a) & (cols < b)
    n = len(cols)
    return LineProfile(
        points=pts,
        tangents=np.tile([1.0, 0.0], (n, 1)),
        valid=np.ones(n, dtype=bool),
        reference=np.zeros((n, 3)),
        evidence=np.zeros(n),
        occupied=occ,
    )


def test_found_missed_and_the_three_kinds_of_false_length() -> None:
    # one car on the first line (row 10), columns 20-30 (30 m, coupler pad included
    # below), 1 px wide; the next line is 1.6 px (4.8 m) away
    car = SimpleNamespace(polygon_px=box(20.0, 9.5, 30.0, 10.5))
    sc = SimpleNamespace(truth=[car])
    pad = 0.5 * bench.COUPLER_GAP / GSD
    lines = [
        # the car found from column 24 on, overshooting to column 33 (3 px past its end),
        # and a false string at columns 60-64, far from any car
        _line(10.0, [(24.0, 33.0), (60.0, 64.0)]),
        # its spill on the next line, columns 21-29
        _line(11.6, [(21.0, 29.0)]),
    ]
    got = bench.length_breakdown(sc, lines, GSD)
    step_m = STEP * GSD
    cols = np.arange(0.0, 100.0, STEP)
    on_car = (cols > 20.0 - pad) & (cols < 30.0 + pad)
    assert got["found"] + got["missed"] == pytest.approx(on_car.sum() * step_m)
    assert got["found"] == pytest.approx((on_car & (cols >= 24.0)).sum() * step_m)
    # columns 30.5-32.5: the overshoot past the car's end
    assert got["ends"] == pytest.approx((~on_car & (cols >= 24.0) & (cols < 33.0)).sum() * step_m)
    assert got["ends"] == pytest.approx(5 * step_m)
    assert got["beside"] == pytest.approx(16 * step_m)  # columns 21-29, every half px
    assert got["elsewhere"] == pytest.approx(8 * step_m)  # columns 60-64


def test_without_cars_every_occupied_sample_is_elsewhere_and_no_data_is_left_out() -> None:
    line = _line(10.0, [(0.0, 10.0)])  # 20 samples marked occupied
    line.valid[:10] = False  # columns 0-5 without data: not counted, occupied or not
    got = bench.length_breakdown(SimpleNamespace(truth=[]), [line], GSD)
    assert got == {
        "found": 0.0,
        "missed": 0.0,
        "beside": 0.0,
        "ends": 0.0,
        "elsewhere": pytest.approx(10 * STEP * GSD),
    }
