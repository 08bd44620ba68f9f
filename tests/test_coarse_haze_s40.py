"""From 1.5 m on the haze estimate's darkest-channel threshold is 90, not 70
(2026-12-06, session 40): a coarse pixel mixes a car's, a rail's or a shadow's dark with
the ground round it, and clear bright ground (the simulator's winter style, its masks
100 % clear) was read as haze, the scene judged unusable. Hazy scenes stay unusable,
and finer than 1.5 m the rule is as it was."""

from __future__ import annotations

import numpy as np
import pytest

import railwatch
from railwatch.imagery.quality import Quality, assess_quality, estimate_conditions
from railwatch.imagery.read import SiteGrid, SiteRaster
from railwatch.sim.conditions import MASK_CLEAR


def _judged(params: railwatch.SceneParams) -> tuple[Quality, float]:
    """The estimate's verdict (no mask) and the share the simulator's own mask calls clear."""
    scene = railwatch.render_scene(params)
    image = np.ascontiguousarray(scene.image[..., :3]).astype(np.uint8)
    h, w = image.shape[:2]
    ones = np.ones((h, w), dtype=bool)
    grid = SiteGrid(crs=scene.crs, transform=scene.transform, width=w, height=h, gsd=params.gsd)
    raster = SiteRaster(image=image, valid=ones, inside=ones, mask=None, grid=grid)
    return assess_quality(raster), float(np.mean(scene.mask == MASK_CLEAR))


@pytest.mark.parametrize("gsd", [3.0, 5.0])
def test_clear_winter_scenes_are_usable(gsd: float) -> None:
    n = round(600 / gsd)
    for seed in (0, 1, 3):
        params = railwatch.SceneParams(seed=seed, gsd=gsd, size_px=(n, n), style="winter")
        q, truth = _judged(params)
        assert truth == 1.0
        assert q.usable, (gsd, seed, q.clear_fraction, q.reasons)
        assert q.haze_fraction < 0.1, (gsd, seed, q.haze_fraction)


@pytest.mark.parametrize("gsd", [1.5, 3.0, 5.0])
def test_hazy_scenes_stay_unusable(gsd: float) -> None:
    n = round(600 / gsd)
    for style, haze in (("temperate", 0.5), ("winter", 0.45), ("arid", 0.6)):
        params = railwatch.SceneParams(seed=2, gsd=gsd, size_px=(n, n), style=style, haze=haze)
        q, truth = _judged(params)
        assert truth < 0.8
        assert not q.usable, (gsd, style, q.clear_fraction, q.reasons)


def test_the_threshold_moves_at_1_5_m_only() -> None:
    # grey, calm ground whose darkest channel is 80: hazy where cars are counted one by
    # one (below 70 it would be clear ground), not from 1.5 m on (below 90)
    rng = np.random.default_rng(0)
    grey = np.clip(rng.normal(100.0, 6.0, (200, 200)), 80, 255).astype(np.uint8)
    image = np.stack([grey, grey, np.clip(grey.astype(np.int16) + 4, 0, 255).astype(np.uint8)], -1)
    valid = np.ones(grey.shape, dtype=bool)
    for gsd in (0.5, 1.0, 1.49):
        assert estimate_conditions(image, valid, gsd).haze.mean() > 0.9, gsd
    for gsd in (1.5, 3.0, 5.0):
        assert not estimate_conditions(image, valid, gsd).haze.any(), gsd
