"""What a scene's quality says, in words, of the part of the site it does not show
(review r3, 2026-12-06, session 39). An analyst reads the reasons to know what a count
covers and why an image is a gap; each case here said something wrong or nothing:

- a quality mask marking part of a fully covered image as no data (255, or a value
  outside the codes 0-4, as a 0/255 cloud mask does) said "only 100 % of the site is
  covered by the image";
- a usable image with cloud, haze or snow over part of the site said nothing, so its
  count (of the clear part only: a cloud over the cars read 3 of 45 railcars) looked
  like a count of the whole site (docs/detection.md, "What a scene's quality reasons say");
- a uniformly bright image (fresh snow or cloud over the whole site) was called
  "too dark, or blank".
"""

from __future__ import annotations

import numpy as np
import pytest

from railwatch.imagery import SiteGrid, SiteRaster, assess_quality
from railwatch.sim import SceneParams, render_scene

N = 400


@pytest.fixture(scope="module")
def yard() -> np.ndarray:
    """A clear 0.5 m image of a yard (400 x 400 px), RGB uint8."""
    return render_scene(SceneParams(seed=3, size_px=(N, N), gsd=0.5, n_cars=30)).image


def _raster(image: np.ndarray, mask: np.ndarray | None = None) -> SiteRaster:
    h, w = image.shape[:2]
    grid = SiteGrid(crs="EPSG:32652", transform=None, width=w, height=h, gsd=0.5)  # type: ignore[arg-type]
    return SiteRaster(image, np.ones((h, w), bool), np.ones((h, w), bool), mask, grid)


def _cloud(image: np.ndarray, rows: slice) -> np.ndarray:
    """``image`` under an opaque cloud (bright, grey, featureless) over ``rows``."""
    out = image.copy()
    noise = np.random.default_rng(0).integers(0, 6, out[rows].shape)
    out[rows] = (235 + noise).astype(np.uint8)
    return out


def test_mask_no_data_over_a_covered_image_is_not_called_full_coverage(
    yard: np.ndarray,
) -> None:
    """A 0/255 mask (255 meant as cloud) over 70 % of a fully covered image: unusable,
    and the reason names the mask's no data, not "only 100 % ... covered"."""
    mask = np.zeros((N, N), np.uint8)
    mask[: int(0.7 * N)] = 255
    q = assess_quality(_raster(yard, mask))
    assert not q.usable
    assert q.coverage == 1.0 and q.nodata_fraction == pytest.approx(0.7)
    text = " ".join(q.reasons)
    assert "100 %" not in text and "covered by the image" not in text
    assert "the quality mask marks 70 % of the site as no data" in text


def test_image_gap_and_mask_no_data_are_named_apart(yard: np.ndarray) -> None:
    """Half the site outside the image and 20 % marked no data by the mask: each share
    is its own reason."""
    valid = np.ones((N, N), bool)
    valid[:, N // 2 :] = False
    mask = np.zeros((N, N), np.uint8)
    mask[: int(0.4 * N), : N // 2] = 255
    h, w = yard.shape[:2]
    grid = SiteGrid(crs="EPSG:32652", transform=None, width=w, height=h, gsd=0.5)  # type: ignore[arg-type]
    q = assess_quality(SiteRaster(yard, valid, np.ones((N, N), bool), mask, grid))
    assert not q.usable
    assert "only 50 % of the site is covered by the image" in q.reasons
    assert any(
        r.startswith("the quality mask marks 20 % of the site as no data") for r in q.reasons
    )


def test_usable_image_with_cloud_over_part_says_what_the_count_covers(
    yard: np.ndarray,
) -> None:
    """An opaque cloud over 12 % of the site (estimated): usable, and its reasons say so
    and what part of the site the count is of (before: none)."""
    q = assess_quality(_raster(_cloud(yard, slice(0, 48))))
    assert q.usable and q.cloud_fraction == pytest.approx(0.12, abs=0.02)
    assert q.reasons, "a count of 88 % of the site said nothing of the cloud"
    pct = round(100 * q.cloud_fraction)
    assert any(r.startswith(f"cloud covers {pct} % of the site") for r in q.reasons)
    assert any(
        f"only the {round(100 * q.clear_fraction)} % of the site that is clear can be counted" in r
        for r in q.reasons
    )


def test_usable_image_with_mask_cloud_and_no_data_says_so(yard: np.ndarray) -> None:
    """A provider mask marking 10 % cloud and 5 % no data over a covered image: usable
    (85 % clear), both named."""
    mask = np.zeros((N, N), np.uint8)
    mask[:40] = 1
    mask[40:60] = 255
    q = assess_quality(_raster(yard, mask))
    assert q.usable and q.source == "mask"
    assert "cloud covers 10 % of the site" in " ".join(q.reasons)
    assert any(r.startswith("the quality mask marks 5 % of the site as no data") for r in q.reasons)
    assert "only the 85 % of the site that is clear can be counted" in q.reasons


def test_clear_image_still_says_nothing(yard: np.ndarray) -> None:
    q = assess_quality(_raster(yard))
    assert q.usable and q.reasons == ()


@pytest.mark.parametrize("level", [240, 250])
def test_uniform_bright_image_is_not_called_dark(level: int) -> None:
    """Fresh snow (or cloud) over the whole site: bright, featureless. Unusable, never
    "clear, 0 cars", and not called too dark."""
    noise = np.random.default_rng(1).integers(-3, 4, (N, N, 3))
    image = np.clip(level + noise, 0, 255).astype(np.uint8)
    q = assess_quality(_raster(image))
    assert not q.usable
    assert "too dark" not in q.reasons[0]
    assert "bright" in q.reasons[0] and "snow or cloud" in q.reasons[0]


def test_night_image_is_still_called_dark(yard: np.ndarray) -> None:
    image = (yard.astype(np.float32) * 0.04).round().astype(np.uint8)
    q = assess_quality(_raster(image))
    assert not q.usable and "too dark" in q.reasons[0]
