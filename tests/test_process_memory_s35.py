"""Quality in strips (session 35, bounded memory of ``railwatch process``): the quality
estimate and assessment computed strip by strip give exactly what they give over the
whole window at once, whatever the strip's height."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from imagery_helpers import add_cloud, yard_scene
from railwatch.imagery import MASK_NODATA, assess_quality, estimate_conditions
from railwatch.imagery import quality as quality_module
from railwatch.imagery.quality import contrast_levels
from test_imagery_quality import raster_of


def _hwc(img: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(img, 0, -1))


def _snowy(seed: int) -> np.ndarray:
    img = yard_scene(240, 260, seed=seed).astype(np.float32)
    ground = (np.abs(img[0] - 95) < 30) & (np.abs(img[1] - 110) < 30) & (np.abs(img[2] - 70) < 30)
    noise = np.random.default_rng(seed).normal(0, 4, size=img.shape[1:])
    for b in range(3):
        img[b][ground] = 232 + noise[ground]
    return np.clip(img, 0, 255).astype(np.uint8)


def _patchy(seed: int) -> np.ndarray:
    """Clouds, snow patches with cars in them, and haze, in discs and bands that the
    strips cut across."""
    img = yard_scene(250, 230, seed=seed).astype(np.float32)
    rr, cc = np.mgrid[0:250, 0:230]
    rng = np.random.default_rng(seed)
    for _ in range(3):
        cy, cx, rad = rng.uniform(0, 250), rng.uniform(0, 230), rng.uniform(15, 60)
        a = np.clip((rad - np.hypot(rr - cy, cc - cx)) / 5.0, 0.0, 1.0)
        img = img * (1 - a) + (238.0 + rng.normal(0, 2, (250, 230))) * a
    band = (rr > 150) & (rr < 200)
    img[:, band] = img[:, band] * 0.45 + 205 * 0.55
    snow = (cc > 150) & (rr < 120) & (img[0] < 130)
    img[:, snow] = 230.0
    return np.clip(img, 0, 255).astype(np.uint8)


def _scenes() -> Iterator[tuple[str, np.ndarray]]:
    yield "clear", yard_scene(200, 240)
    yield "cloud", add_cloud(yard_scene(210, 250, seed=1), 0.5)
    yield "puffy", add_cloud(yard_scene(230, 200, seed=2), 0.6, puffy=12.0)
    yield "haze", (yard_scene(200, 220).astype(np.float32) * 0.45 + 205 * 0.55).astype(np.uint8)
    yield "snow", _snowy(3)
    for seed in (4, 5, 6):
        yield f"patchy{seed}", _patchy(seed)
    # a cloud across the rows: every strip boundary cuts it
    yield (
        "cloud-rows",
        np.ascontiguousarray(np.transpose(add_cloud(yard_scene(240, 200, seed=7), 0.4), (0, 2, 1))),
    )


SCENES = list(_scenes())


@pytest.mark.parametrize("gsd", [0.5, 0.3, 1.0, 3.0])
@pytest.mark.parametrize(("name", "img"), SCENES, ids=[n for n, _ in SCENES])
def test_conditions_in_strips_equal_the_whole(
    name: str, img: np.ndarray, gsd: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = _hwc(img)
    h, w = image.shape[:2]
    valid = np.ones((h, w), bool)
    valid[:, :9] = False  # an edge without data
    valid[100:110, 50:80] = False
    whole = estimate_conditions(image, valid, gsd)
    for rows in (1, 3, 17, 64):
        monkeypatch.setattr(quality_module, "BLOCK_PIXELS", rows * w)
        part = estimate_conditions(image, valid, gsd)
        for key in ("cloud", "snow", "haze"):
            a, b = getattr(whole, key), getattr(part, key)
            assert a.dtype == b.dtype == bool
            assert np.array_equal(a, b), f"{name} at {gsd} m, {rows} rows: {key} differs"


@pytest.mark.parametrize(("name", "img"), SCENES, ids=[n for n, _ in SCENES])
def test_assessment_in_strips_equals_the_whole(
    name: str, img: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, h, w = img.shape
    inside = np.zeros((h, w), bool)
    inside[5:-20, 12:] = True
    valid = np.ones((h, w), bool)
    valid[-40:, :30] = False
    mask = np.zeros((h, w), np.uint8)
    mask[:30] = 1
    mask[30:40] = 2
    mask[40:45] = 3
    mask[45:52] = 4
    mask[60:70, :40] = MASK_NODATA
    mask[70:72] = 7  # not a code: no data
    for m in (None, mask):
        raster = raster_of(img, valid=valid, inside=inside, mask=m)
        whole = assess_quality(raster)
        for rows in (1, 5, 33):
            monkeypatch.setattr(quality_module, "BLOCK_PIXELS", rows * w)
            assert assess_quality(raster) == whole
        monkeypatch.setattr(quality_module, "BLOCK_PIXELS", 4_000_000)


def test_contrast_levels_sample_the_same_pixels_in_strips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over a million valid pixels the percentiles are of every n-th valid pixel: the same
    pixels when taken strip by strip."""
    rng = np.random.default_rng(11)
    h, w = 1100, 1000
    image = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    image[:, :, 1] = np.minimum(image[:, :, 1], np.arange(w, dtype=np.uint8)[None, :])
    valid = rng.random((h, w)) > 0.05
    px = image[valid]
    px = px[:: len(px) // 1_000_000 + 1]
    lo, hi = np.percentile(px.astype(np.float32).mean(axis=1), [1.0, 99.0])
    expected = round(float(hi - lo))
    for rows in (1, 7, 1100):
        monkeypatch.setattr(quality_module, "BLOCK_PIXELS", rows * w)
        assert contrast_levels(image, valid) == expected
    assert contrast_levels(image, np.zeros((h, w), bool)) is None
