"""An empty yard over patchy ground read alone at 3 m (estimator 8): ground in patches
wider than the light field under thin tracks widened the noise unit as a crowded yard's
cars do, so estimator 7 took it as crowded, held the unit down and read the patches as
cars (the second renderer's empty yards 99 and 127 read 16.5 and 80 car equivalents,
with intervals of 8-110 and 43-220). The colour along the lines changes mostly beyond
a car's length there, and such a yard is no longer taken as crowded; crowded yards,
whose colour changes car by car, still are (``test_coarse_crowded_s28.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry.base import BaseGeometry

from helpers import load_benchmark
from railwatch.detect import coarse
from railwatch.detect.coarse import estimate_occupancy
from test_coarse_crowded_s28 import _crowded_yard

GSD = 3.0


def _second_renderer_yard(k: int) -> tuple[np.ndarray, BaseGeometry, int]:
    yard = load_benchmark("fit_coarse_occupancy").synth_yard(k)
    assert yard is not None
    return yard[0], yard[1], len(yard[2])


@pytest.mark.parametrize(("k", "most"), [(99, 1.0), (127, 20.0)])
def test_an_empty_yard_over_patchy_ground_is_not_taken_as_crowded(k: int, most: float) -> None:
    img, tracks, cars = _second_renderer_yard(k)
    assert cars == 0
    est = estimate_occupancy(img, GSD, tracks=tracks)
    assert est.empty_from == "image"
    assert est.car_equivalents <= most


def _profiles(img: np.ndarray, tracks: object) -> list:
    ok = np.ones(img.shape[:2], bool)
    feats, _ = coarse._readable_features(img, ok)
    return coarse._profiles(feats, ok, coarse._polylines(tracks), GSD, 0.5)  # type: ignore[arg-type]


def test_the_patchy_ground_test_separates_the_scales() -> None:
    """Patchy ground changes along a line mostly beyond 15 m; a crowded yard's cars
    change it within a car's length."""
    img, tracks, _ = _second_renderer_yard(99)
    assert coarse._patchy_ground(_profiles(img, tracks), GSD, 0.5)
    for seed in (0, 1):
        img, crowded, _ = _crowded_yard(20.0, seed)
        assert not coarse._patchy_ground(_profiles(img, crowded), GSD, 0.5)
