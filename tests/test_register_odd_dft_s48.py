"""Registration of coarse images on windows whose DFT size is odd (session 48).

OpenCV's ``phaseCorrelate`` pads its input to ``getOptimalDFTSize``; where that size is
odd (375 for the 367 x 374 px window of a 0.25 km2 site at 3 m, 225, 405) its peak lay
half a pixel off in each axis, so two images of the same ground read 0.5 px (1.5 m at
3 m) apart, and every coarse scene of such a site had its track centrelines moved off
the tracks by that much (a walk with a simulated 3 m site: "content 0.8-2.8 m east,
0.4-2.9 m south" of its references for every one of 22 images that had no
misregistration at all).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from railwatch.imagery.register import even_dft_size, highpass, phase_shift, register


def _visits(n: int, count: int = 7) -> list[np.ndarray]:
    """High-pass luminance of ``count`` visits of one textured n x n px site: the same
    ground, each with its own brightness, gradient and noise."""
    ground = cv2.GaussianBlur(
        np.random.default_rng(0).normal(0, 1, (n, n)).astype(np.float32), (0, 0), 1.5
    )
    yy, xx = np.mgrid[0:n, 0:n] / n
    out = []
    for seed in range(1, count + 1):
        r = np.random.default_rng(seed)
        lum = (
            120
            + 40 * ground * r.uniform(0.7, 1.3)
            + r.uniform(-30, 30) * xx
            + r.uniform(-30, 30) * yy
            + r.normal(0, 6, (n, n))
        )
        img = np.repeat(np.clip(lum, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
        out.append(highpass(img, None, 3.0))
    return out


@pytest.mark.parametrize("n", [375, 374, 225, 405, 400])
def test_visits_of_the_same_ground_register_where_they_are(n: int) -> None:
    """Odd DFT sizes (375, 225, 405; 374 is padded to 375) read ~0.5 px before the fix;
    400 (even) always read right."""
    hps = _visits(n)
    still = register(hps[0], hps[1:], 3.0)
    assert still.applied
    assert abs(still.cols) < 0.1 and abs(still.rows) < 0.1, (still.cols, still.rows)
    moved = register(np.roll(hps[0], 2, axis=1), hps[1:], 3.0)
    assert moved.cols == pytest.approx(2.0, abs=0.1)
    assert abs(moved.rows) < 0.1


def test_data_inside_a_larger_window_registers_where_it_is() -> None:
    """The pipeline's window is the site grid plus 300 m of context on every side, most
    of it without data where the file is cut to the site: a 200 px file in a 367 x 374
    px window."""
    h, w, r0, c0 = 367, 374, 84, 87
    cuts = []
    for hp in _visits(200):
        canvas = np.zeros((h, w), np.float32)
        canvas[r0 : r0 + 200, c0 : c0 + 200] = hp
        cuts.append(canvas)
    cols, rows, _ = phase_shift(np.median(np.stack(cuts[1:]), axis=0), cuts[0])
    assert abs(cols) < 0.1 and abs(rows) < 0.1, (cols, rows)


@pytest.mark.parametrize("n", [1, 2, 31, 367, 374, 375, 400, 1023, 1024])
def test_even_dft_size_is_even_fast_and_large_enough(n: int) -> None:
    m = even_dft_size(n)
    assert m >= n and m % 2 == 0
    assert cv2.getOptimalDFTSize(m) == m
    if cv2.getOptimalDFTSize(n) % 2 == 0:
        assert m == cv2.getOptimalDFTSize(n)  # an even size OpenCV picks is kept
