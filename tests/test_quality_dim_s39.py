"""A dim 8-bit image is a gap, not a low count (review r3, 2026-12-06, session 39).

An image at a fifth of its daylight brightness (dusk, an underexposure) spans 20-31 grey
levels over the site. The quality step took it for clear (it refused only fewer than
16 levels), and the detector, whose contrast normalisation has a floor of 4 grey levels,
reads far fewer cars in it: the simulated yard below (seed 11, 0.5 m, 50 cars) gave 47
detections in daylight, 31 at 0.22 of it (31 levels), 29 at 0.17 (24 levels) and 20 at
0.12 (17 levels); review r3's CLI run stored a 0.12 copy of its yard as a clear count of
19 railcars where daylight read 45. Below :data:`MIN_CONTRAST_LEVELS` (32 since) it is
unusable, and says it is too dark."""

from __future__ import annotations

import numpy as np
import pytest

from railwatch.imagery import SiteGrid, SiteRaster, assess_quality
from railwatch.imagery.quality import contrast_levels
from railwatch.sim import SceneParams, render_scene


@pytest.fixture(scope="module")
def daylight() -> np.ndarray:
    return render_scene(SceneParams(seed=11, size_px=(600, 600), gsd=0.5, n_cars=50)).image


def _raster(image: np.ndarray) -> SiteRaster:
    h, w = image.shape[:2]
    grid = SiteGrid(crs="EPSG:32652", transform=None, width=w, height=h, gsd=0.5)  # type: ignore[arg-type]
    return SiteRaster(image, np.ones((h, w), bool), np.ones((h, w), bool), None, grid)


def _dimmed(image: np.ndarray, k: float) -> np.ndarray:
    return (image.astype(np.float32) * k).round().astype(np.uint8)


@pytest.mark.parametrize("k", [0.12, 0.17, 0.22])
def test_a_dusk_image_is_unusable_and_called_dark(daylight: np.ndarray, k: float) -> None:
    image = _dimmed(daylight, k)
    levels = contrast_levels(image, np.ones(image.shape[:2], bool))
    assert levels is not None and 16 <= levels < 32
    q = assess_quality(_raster(image))
    assert not q.usable
    assert "shows almost nothing over the site" in q.reasons[0]
    assert "too dark" in q.reasons[0]


@pytest.mark.parametrize("k", [1.0, 0.35])
def test_daylight_and_a_dim_readable_image_stay_usable(daylight: np.ndarray, k: float) -> None:
    """The same yard in daylight (139 levels) and at 0.35 (about 48 levels, where the
    detector read 38 of 47 at 0.3) stays usable: only the dusk images are refused."""
    q = assess_quality(_raster(_dimmed(daylight, k)))
    assert q.usable, q.reasons


def test_coarse_images_keep_the_old_threshold(daylight: np.ndarray) -> None:
    """From 1.5 m on (occupied track length, presence) the threshold stays 16 levels: how
    the coarse estimate reads a dim image was not measured. The dusk image of 24 levels
    read as a 3 m grid is usable; of 14 levels it is not."""
    h, w = daylight.shape[:2]
    grid = SiteGrid(crs="EPSG:32652", transform=None, width=w, height=h, gsd=3.0)  # type: ignore[arg-type]
    ones = np.ones((h, w), bool)
    assert assess_quality(SiteRaster(_dimmed(daylight, 0.17), ones, ones, None, grid)).usable
    q = assess_quality(SiteRaster(_dimmed(daylight, 0.1), ones, ones, None, grid))
    assert not q.usable and "too dark" in q.reasons[0] and "well over 16" in q.reasons[0]
