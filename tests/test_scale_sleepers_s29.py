"""Scale from the rails: two thin parallel lines with no sleepers between them are not
taken for the rails of a track at a fine scale (session 29).

Before: the long sides of a thin dark rectangle outline on plain ground, 7.4 m apart in
a simulated 0.4 m scene (``bench_rail_scale.py``: ``--random`` conditions, seed 22),
read as rails 18.6 px apart: 0.085 m per pixel, the one confident wrong answer of 275.
Nothing in the profile across the lines tells them from rails; along them, a track
shows its sleepers (0.5-0.7 m apart) between its rails wherever rails are 12 px or more
apart (finer than about 0.125 m per pixel), and the outline shows none."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from railwatch.imagery.scale import RAIL_CENTRES_M, estimate_gsd_from_rails
from railwatch.sim import random_params, render_scene


def _ground(rng: np.random.Generator, size: int) -> np.ndarray:
    noise = rng.normal(0.0, 1.0, (size, size)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 4.0)
    return 0.5 + 0.05 * smooth / float(smooth.std())


def _rgb(gray: np.ndarray) -> np.ndarray:
    g = np.clip(gray * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.stack([g, g, g], axis=-1)


def _two_lines(spacing: float, *, sleepers: bool, size: int = 288, seed: int = 3) -> np.ndarray:
    """Two thin dark lines ``spacing`` px apart along the image's rows, on ground texture;
    with ``sleepers``, dark bars across them every 0.6 m at the scale the lines give as
    rails (1.505 m apart), reaching 0.55 m beyond each, as on a track."""
    rng = np.random.default_rng(seed)
    img = _ground(rng, size)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    v = yy - size / 2.0
    px_per_m = spacing / RAIL_CENTRES_M
    if sleepers:
        bars = (np.abs(v) < (RAIL_CENTRES_M / 2 + 0.55) * px_per_m) & (
            np.sin(2 * math.pi * xx / (0.6 * px_per_m)) > 0.2
        )
        img = np.where(bars, img - 0.06, img)
    for side in (-0.5, 0.5):
        img = img - 0.25 * np.exp(-0.5 * ((v - side * spacing) / 0.5) ** 2)
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.6)
    return _rgb(img + rng.normal(0.0, 0.01, img.shape).astype(np.float32))


@pytest.mark.parametrize("spacing", [14.0, 18.6, 24.0])
def test_two_lines_without_sleepers_are_not_rails_at_a_fine_scale(spacing: float) -> None:
    r = estimate_gsd_from_rails(_two_lines(spacing, sleepers=False))
    assert not r.measured, r
    assert "no sleepers" in r.reason and "downsample" in r.reason


@pytest.mark.parametrize("spacing", [14.0, 18.6, 24.0])
def test_the_same_lines_with_sleepers_between_them_are_measured(spacing: float) -> None:
    r = estimate_gsd_from_rails(_two_lines(spacing, sleepers=True))
    assert r.measured, r.reason
    assert r.spacing_px == pytest.approx(spacing, rel=0.05)


def test_coarser_lines_are_not_asked_for_sleepers() -> None:
    """Under 12 px apart (0.125 m per pixel and coarser) sleepers are not resolved, and
    rails are measured without them, as before."""
    r = estimate_gsd_from_rails(_two_lines(9.0, sleepers=False))
    assert r.measured, r.reason
    assert r.spacing_px == pytest.approx(9.0, rel=0.05)


def test_bench_outline_scene_is_refused() -> None:
    """The benchmark's one wrong answer: simulated 0.4 m scene (1.58 m rails, 3.95 px
    apart, too close to measure) whose pad outline read as rails at 0.085 m."""
    p = random_params(22, gsd=0.4, size_px=(1200, 1200)).with_(n_cars=40)
    r = estimate_gsd_from_rails(np.asarray(render_scene(p).image), rail_centres_m=1.58)
    assert not r.measured or (r.gsd is not None and abs(r.gsd / 0.4 - 1) <= 0.10), r
