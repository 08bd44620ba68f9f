"""Effective resolution (session 39): an image whose detail is that of 2-3 m pixels,
delivered on a 0.5 m grid (upsampled), is told apart from native 0.5 m images, blurred
ones included (review r3: counted one by one, 38 and 18 of 45 cars)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from railwatch.imagery.effective import FLAG_FACTOR, coarse_content_reason, estimate
from railwatch.imagery.quality import assess_quality
from railwatch.imagery.read import SiteGrid, SiteRaster
from railwatch.sim import SceneParams, render_scene


@pytest.fixture(scope="module")
def native() -> np.ndarray:
    return render_scene(SceneParams(seed=3, size_px=(640, 640), gsd=0.5, n_cars=60)).image


def _upsampled(image: np.ndarray, k: int, interpolation: int) -> np.ndarray:
    h, w = image.shape[:2]
    small = cv2.resize(image, (w // k, h // k), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=interpolation)


def _all(image: np.ndarray) -> np.ndarray:
    return np.ones(image.shape[:2], dtype=bool)


def test_native_and_slightly_blurred_images_are_not_flagged(native: np.ndarray) -> None:
    ones = _all(native)
    sharp = estimate(native, ones, ones, 0.5)
    assert sharp is not None and sharp.factor < 2.0
    assert coarse_content_reason(sharp) is None
    blurred = estimate(cv2.GaussianBlur(native, (0, 0), 0.7), ones, ones, 0.5)
    assert blurred is not None and sharp.factor < blurred.factor < FLAG_FACTOR
    assert coarse_content_reason(blurred) is None


@pytest.mark.parametrize("interpolation", [cv2.INTER_LINEAR, cv2.INTER_CUBIC])
def test_3m_content_on_a_05m_grid_is_flagged(native: np.ndarray, interpolation: int) -> None:
    ones = _all(native)
    found = estimate(_upsampled(native, 6, interpolation), ones, ones, 0.5)
    assert found is not None and found.factor >= FLAG_FACTOR
    assert found.effective_gsd >= 1.5
    reason = coarse_content_reason(found)
    assert reason is not None
    assert "although the file says 0.5 m" in reason and "resampled" in reason


def test_the_estimate_reads_only_the_site(native: np.ndarray) -> None:
    # the site's half is upsampled 6 times, the other half is sharp: the site decides
    w = native.shape[1]
    image = native.copy()
    image[:, w // 2 :] = _upsampled(native, 6, cv2.INTER_CUBIC)[:, w // 2 :]
    valid = _all(image)
    right = np.zeros_like(valid)
    right[:, w // 2 :] = True
    left = ~right
    assert coarse_content_reason(estimate(image, valid, right, 0.5)) is not None
    assert coarse_content_reason(estimate(image, valid, left, 0.5)) is None


def test_a_site_too_small_to_tell_is_not_measured(native: np.ndarray) -> None:
    small = native[:120, :120]
    assert estimate(small, _all(small), _all(small), 0.5) is None
    assert coarse_content_reason(None) is None


def test_coarse_declared_pixels_are_not_judged(native: np.ndarray) -> None:
    # 3 m pixels are read by occupied length anyway: no flag whatever the detail
    ones = _all(native)
    found = estimate(_upsampled(native, 6, cv2.INTER_CUBIC), ones, ones, 3.0)
    assert found is not None and coarse_content_reason(found) is None


def _raster(image: np.ndarray, gsd: float) -> SiteRaster:
    h, w = image.shape[:2]
    grid = SiteGrid(crs="EPSG:32652", transform=None, width=w, height=h, gsd=gsd)  # type: ignore[arg-type]
    return SiteRaster(image, np.ones((h, w), bool), np.ones((h, w), bool), None, grid)


def test_the_quality_step_refuses_upsampled_content_for_a_count_by_objects(
    native: np.ndarray,
) -> None:
    assert assess_quality(_raster(native, 0.5)).usable
    assert assess_quality(_raster(cv2.GaussianBlur(native, (0, 0), 0.7), 0.5)).usable
    q = assess_quality(_raster(_upsampled(native, 6, cv2.INTER_CUBIC), 0.5))
    assert not q.usable
    assert q.clear_fraction == 1.0
    assert "although the file says 0.5 m" in q.reasons[0]
    assert "would miss cars" in q.reasons[0]
