"""Boxes enough to make OpenCV's remap maps wider than it takes (32767 columns): the
across-track refiner and the verifier's samples are taken in parts (a tile of more than
555 boxes crashed the refiner with ``dst.cols < SHRT_MAX``)."""

from __future__ import annotations

import numpy as np

from railwatch.detect import refine, verify


def _boxes(n: int, rng: np.random.Generator) -> np.ndarray:
    b = np.zeros((n, 5), np.float64)
    b[:, 0] = rng.uniform(20, 980, n)
    b[:, 1] = rng.uniform(20, 980, n)
    b[:, 2] = rng.uniform(20, 40, n)
    b[:, 3] = rng.uniform(5, 8, n)
    b[:, 4] = rng.uniform(-90, 90, n)
    return b


def test_across_profiles_of_more_than_555_boxes_match_one_by_one() -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (1000, 1000, 3), dtype=np.uint8)
    boxes = _boxes(1200, rng)
    got = refine.across_profiles(img, boxes, 0.5)
    assert got.shape[0] == 1200
    for i in (0, 554, 555, 556, 1199):
        np.testing.assert_allclose(got[i], refine.across_profiles(img, boxes[i : i + 1], 0.5)[0])
    # band-sequential planes take the other remap path
    planar = np.stack([np.ascontiguousarray(img[..., c]) for c in range(3)], axis=-1)
    planes = np.moveaxis(np.moveaxis(planar, -1, 0).copy(), 0, -1)
    assert not planes.flags.c_contiguous
    np.testing.assert_allclose(refine.across_profiles(planes, boxes, 0.5), got, atol=1e-4)


def test_verifier_samples_of_many_boxes_match_one_by_one() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (1000, 1000, 3), dtype=np.uint8)
    boxes = _boxes(1500, rng)
    got = verify._along_profiles(img, boxes)
    assert got.shape == (1500, verify.ALONG_N, 3)
    for i in (0, 1310, 1311, 1499):
        np.testing.assert_allclose(got[i], verify._along_profiles(img, boxes[i : i + 1])[0])
    grid = rng.random((50, 60)).astype(np.float32)
    x = rng.uniform(0, 59, (400, 100))
    y = rng.uniform(0, 49, (400, 100))
    out = verify._sample_grid(grid, x, y)
    assert out.shape == (400, 100)
    np.testing.assert_allclose(out[123], verify._sample_grid(grid, x[123], y[123]), atol=1e-6)
    assert verify._sample_grid(grid, np.zeros(0), np.zeros(0)).shape == (0,)
