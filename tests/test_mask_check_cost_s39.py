"""The quality mask's check is cheap, and runs on every window (2026-12-06, session 39).

Since 703ab62 the pixels' estimate is run on a masked window too, to warn of a mask
that calls an opaque cloud clear (review r3). Run on the whole window it made a 16 Mpx
masked window's quality step 3-4 times longer (1.3-1.8 -> 5.2-7.0 s), so windows over
16 Mpx were not checked. Opaque cloud is large (at least ~0.25 ha), so the check now runs
the estimate on the window's block means, at most
:data:`~railwatch.imagery.quality.MASK_CHECK_IMAGE_PIXELS` of them, and looks its cloud
up again pixel by pixel: every window is checked, at a fraction of the cost."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest
from rasterio.features import rasterize

from railwatch.imagery import SiteGrid, SiteRaster, assess_quality
from railwatch.imagery import quality as quality_module
from railwatch.imagery.places import CAR_WIDTH_M, Places
from railwatch.imagery.quality import Quality
from railwatch.sim import RenderedScene, SceneParams, random_params, render_scene

N = 400


@pytest.fixture(scope="module")
def yard() -> RenderedScene:
    return render_scene(SceneParams(seed=3, size_px=(N, N), gsd=0.5, n_cars=30, noise=2.0))


def _disputed(quality: Quality) -> list[str]:
    return [r for r in quality.reasons if r.startswith("the quality mask calls clear")]


def _share(warning: str) -> int:
    return int(warning.split("calls clear ")[1].split(" %")[0])


def _clouded(scene: RenderedScene, rows: int, cols: int, cloud_cols: int) -> SiteRaster:
    """The yard tiled over ``rows`` x ``cols`` px, an opaque cloud (review r3's: 235-240
    grey) over its first ``cloud_cols`` columns, under a quality mask of 0 (clear)
    everywhere, over a site of the whole grid."""
    reps = (-(-rows // N), -(-cols // N), 1)
    image = np.tile(scene.image, reps)[:rows, :cols]
    noise = np.random.default_rng(5).integers(0, 6, (rows, cloud_cols, 3), dtype=np.uint8)
    image[:, :cloud_cols] = 235 + noise
    grid = SiteGrid(str(scene.crs), scene.transform, cols, rows, 0.5)
    every = np.ones((rows, cols), bool)
    return SiteRaster(image, every, every, np.zeros((rows, cols), np.uint8), grid)


def test_the_estimate_of_a_larger_masked_window_is_run_on_at_most_a_megapixel(
    yard: RenderedScene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 2000 x 2000 px masked window: the estimate sees at most 1 Mpx (it saw the 4 Mpx
    window), and the cloud over 40 % of it under a mask of 0 is still warned of."""
    seen: list[int] = []
    plain = quality_module._estimate

    def spy(image: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(int(image.shape[0]) * int(image.shape[1]))
        return plain(image, *args, **kwargs)

    monkeypatch.setattr(quality_module, "_estimate", spy)
    quality = assess_quality(_clouded(yard, 2000, 2000, 800))
    assert seen and max(seen) <= 1_000_000
    assert quality.source == "mask" and quality.usable and quality.clear_fraction == 1.0
    (warning,) = _disputed(quality)
    assert 37 <= _share(warning) <= 43


def test_a_masked_window_over_16_mpx_is_checked(yard: RenderedScene) -> None:
    """A 4100 x 4000 px window (16.4 Mpx: over the 16 Mpx up to which the check ran)."""
    quality = assess_quality(_clouded(yard, 4100, 4000, 1600))
    (warning,) = _disputed(quality)
    assert 37 <= _share(warning) <= 43
    assert quality.usable and quality.clear_fraction == 1.0


def _track_places(scene: RenderedScene) -> Places:
    corridor = rasterize(
        [(t.buffer(CAR_WIDTH_M / 2, cap_style="flat"), 1) for t in scene.tracks],
        out_shape=(N, N),
        transform=scene.transform,
    ).astype(bool)
    rows, cols = np.nonzero(corridor)
    return Places(rows.astype(np.int32), cols.astype(np.int32), "tracks")


@pytest.mark.parametrize("f", [2, 4])
def test_review_r3s_cases_are_judged_alike_on_block_means(
    yard: RenderedScene, f: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check forced onto f x f block means of the 400 px yard: the cloud over the
    cars under a mask of 0 is warned of by its tracks, the same cloud under a mask
    calling it cloud is not, and the verdict and the other reasons do not change."""
    cars = (yard.labels > 0).astype(np.uint8)
    under = cv2.dilate(cars, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (41, 41))) > 0
    cloud = (235 + np.random.default_rng(5).integers(0, 6, yard.image.shape)).astype(np.uint8)
    image = np.where(under[..., None], cloud, yard.image)
    grid = SiteGrid(str(yard.crs), yard.transform, N, N, 0.5)
    every = np.ones((N, N), bool)
    places = _track_places(yard)
    clear = SiteRaster(image, every, every, np.zeros((N, N), np.uint8), grid)
    called = SiteRaster(image, every, every, under.astype(np.uint8), grid)
    whole = [assess_quality(r, places=places) for r in (clear, called)]
    monkeypatch.setattr(quality_module, "MASK_CHECK_IMAGE_PIXELS", (N // f) ** 2)
    coarse = [assess_quality(r, places=places) for r in (clear, called)]
    (warning,) = _disputed(coarse[0])
    assert "of the site's tracks, where the image looks like opaque cloud" in warning
    assert _share(warning) >= 60
    assert not _disputed(coarse[1])
    for a, b in zip(whole, coarse, strict=True):
        assert a.usable == b.usable and a.clear_fraction == b.clear_fraction
        assert [r for r in a.reasons if r not in _disputed(a)] == [
            r for r in b.reasons if r not in _disputed(b)
        ]


@pytest.mark.parametrize("seed", [3, 8, 23, 32])
def test_the_simulators_own_masks_get_no_warning_on_block_means(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scenes whose estimate disagreed most with their own masks, checked on 4 x 4
    block means."""
    scene = render_scene(random_params(seed, gsd=0.3).with_(size_px=(N, N)))
    grid = SiteGrid(str(scene.crs), scene.transform, N, N, 0.3)
    raster = SiteRaster(scene.image, scene.valid, np.ones((N, N), bool), scene.mask, grid)
    monkeypatch.setattr(quality_module, "MASK_CHECK_IMAGE_PIXELS", (N // 4) ** 2)
    assert not _disputed(assess_quality(raster, places=_track_places(scene)))
