"""At exactly 1.5 m a scene is counted by occupied length (``method_for_gsd``) and is
judged as such (2026-12-06, session 40): the quality step held it to the one-by-one
counting's rules, 32 grey levels where the length estimate's scenes need 16, and the
effective resolution's check of an upsampled product."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

import railwatch
from railwatch.detect.coarse import method_for_gsd
from railwatch.imagery.quality import (
    COARSE_MIN_CONTRAST_LEVELS,
    MIN_CONTRAST_LEVELS,
    assess_quality,
    contrast_levels,
)
from railwatch.imagery.read import SiteGrid, SiteRaster


@pytest.fixture(scope="module")
def raster() -> SiteRaster:
    params = railwatch.SceneParams(seed=3, gsd=1.5, size_px=(240, 240), style="temperate")
    scene = railwatch.render_scene(params)
    image = np.ascontiguousarray(scene.image[..., :3]).astype(np.uint8)
    h, w = image.shape[:2]
    ones = np.ones((h, w), dtype=bool)
    grid = SiteGrid(crs="EPSG:32652", transform=scene.transform, width=w, height=h, gsd=1.5)
    return SiteRaster(image=image, valid=ones, inside=ones, mask=None, grid=grid)


def _at(raster: SiteRaster, gsd: float, image: np.ndarray) -> SiteRaster:
    return replace(raster, image=image, grid=replace(raster.grid, gsd=gsd))


def test_boundary_is_the_counting_methods() -> None:
    assert method_for_gsd(1.5) == "length"
    assert method_for_gsd(1.49) == "objects"


def test_dim_scene_at_1_5_m_is_held_to_the_length_estimates_contrast(raster: SiteRaster) -> None:
    image = raster.image.astype(np.float32)
    full = contrast_levels(raster.image, raster.valid)
    assert full is not None and full > 2 * MIN_CONTRAST_LEVELS
    # a dim exposure: between the two thresholds
    target = (MIN_CONTRAST_LEVELS + COARSE_MIN_CONTRAST_LEVELS) / 2
    dim = np.clip((image - image.mean()) * (target / full) + 110, 0, 255).round().astype(np.uint8)
    levels = contrast_levels(dim, raster.valid)
    assert levels is not None and COARSE_MIN_CONTRAST_LEVELS < levels < MIN_CONTRAST_LEVELS
    fine = assess_quality(_at(raster, 1.49, dim))
    assert not fine.usable
    assert any("shows almost nothing" in r for r in fine.reasons)
    # counted by length: judged as a 3 m scene is
    for gsd in (1.5, 3.0):
        q = assess_quality(_at(raster, gsd, dim))
        assert not any("shows almost nothing" in r for r in q.reasons), (gsd, q.reasons)


def test_upsampled_scene_at_1_5_m_is_not_judged_by_its_cars_detail() -> None:
    # detail of pixels 6 times coarser than declared (as tests/test_effective_resolution_s39)
    native = railwatch.render_scene(railwatch.SceneParams(seed=3, size_px=(640, 640), gsd=0.5))
    image = np.ascontiguousarray(native.image[..., :3]).astype(np.uint8)
    h, w = image.shape[:2]
    small = cv2.resize(image, (w // 6, h // 6), interpolation=cv2.INTER_AREA)
    soft = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    ones = np.ones((h, w), dtype=bool)
    grid = SiteGrid(crs="EPSG:32652", transform=native.transform, width=w, height=h, gsd=1.49)
    raster = SiteRaster(image=soft, valid=ones, inside=ones, mask=None, grid=grid)
    fine = assess_quality(raster)
    assert not fine.usable
    assert any("its detail is that of pixels" in r for r in fine.reasons), fine.reasons
    at = assess_quality(_at(raster, 1.5, soft))
    assert not any("its detail is that of pixels" in r for r in at.reasons), at.reasons
