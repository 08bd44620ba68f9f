"""Two false positives of the mask-free quality estimate (session 42).

1. A block of white wagons is not snow. Eight adjacent tracks (4.5 m apart) of
   white-roofed wagons 160 m long, 6.5 % of a 300 m site: the ~6 m closing joined the
   roofs across the tracks and the dark rails between them met the snow rule ("dark
   objects within ~10 m"), so the cars an analyst wants counted were hidden as snow at
   every resolution from 0.3 to 3 m. A snow or cloud region now needs a bright middle
   5 m wide (a roof is about 3 m wide); snow fields and clouds have one.
2. NOT FIXED (strict xfail): the clear China panel
   (../shared/data/real/china_freight_panel.png, about 0.9 m) area-averaged to 1.5 or 3 m
   reads 16-17 % cloud shadow: a dark forest stand darkened by -0.60 to -0.63 in log grey
   level whose texture darkens by 0.6-0.8 of that once averaged (0.45-0.5 at its own
   resolution, which the texture test rejects), as simulated shadows do. A deeper
   darkening coarser than 1 m (-0.65, from the tuning scenes) cleared it but lost a
   held-out shadow (bench_coarse_quality, temperate cloud seed 104 at 3 m, darkening
   -0.63 to -0.64 in its site: judged 1.00 clear, its mask 0.52), so it was not shipped.

docs/detection.md, "White wagons are not snow; the China panel's coarse shadow".
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from affine import Affine

from railwatch.imagery import SiteGrid, SiteRaster, assess_quality, estimate_conditions

CHINA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "china_freight_panel.png"


def _site(image: np.ndarray, gsd: float) -> SiteRaster:
    h, w = image.shape[:2]
    grid = SiteGrid(
        crs="EPSG:32632", transform=Affine(gsd, 0, 0, 0, -gsd, 0), width=w, height=h, gsd=gsd
    )
    ones = np.ones((h, w), bool)
    return SiteRaster(image, ones, ones, None, grid)


def _wagon_block(gsd: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A 300 m site of grey ground with 8 adjacent tracks (4.5 m apart, dark rails) of
    white-roofed wagons 15.5 m long every 17 m over 160 m; and the wagons' pixels."""
    n = round(300 / gsd)
    rng = np.random.default_rng(seed)
    img = np.array([110, 108, 100], np.float32) + rng.normal(0, 6, (n, n, 1)).astype(np.float32)
    yy, xx = np.mgrid[0:n, 0:n] * gsd
    for _ in range(int(300 * 300 / 400)):  # bushes and their shadows: clear ground has dark
        cy, cx = rng.uniform(0, 300, 2)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < 4] = 50
    cars = np.zeros((n, n), bool)
    for t in range(8):
        y0 = 100 + 4.5 * t
        img[np.abs(yy - y0 - 0.75) < 0.4] = 45  # rails
        for x0 in np.arange(60, 220, 17.0):
            cars |= (np.abs(yy - y0) < 1.5) & (xx >= x0) & (xx < x0 + 15.5)
    img[cars] = 210
    return np.clip(img, 0, 255).astype(np.uint8), cars


@pytest.mark.parametrize("gsd", [0.5, 3.0])
def test_block_of_white_wagons_is_not_snow(gsd: float) -> None:
    img, cars = _wagon_block(gsd)
    c = estimate_conditions(img, np.ones(cars.shape, bool), gsd)
    assert c.snow.mean() < 0.01, c.snow.mean()
    assert not (c.snow & cars).any()
    assert c.cloud.mean() < 0.01, c.cloud.mean()
    q = assess_quality(_site(img, gsd))
    assert q.usable, (q.clear_fraction, q.reasons)
    assert q.clear_fraction > 0.98, q.clear_fraction


def _snowy_yard(gsd: float, seed: int = 2) -> np.ndarray:
    """A 300 m site under snow (bright grey ground) with dark rails, cars and trees."""
    n = round(300 / gsd)
    rng = np.random.default_rng(seed)
    img = np.array([222, 224, 228], np.float32) + rng.normal(0, 5, (n, n, 1)).astype(np.float32)
    yy, xx = np.mgrid[0:n, 0:n] * gsd
    for t in range(8):
        y0 = 100 + 4.5 * t
        img[np.abs(yy - y0 - 0.75) < 0.4] = 45  # rails
        for x0 in np.arange(60, 160, 17.0):  # dark cars on some tracks
            if t % 3 == 0:
                img[(np.abs(yy - y0) < 1.5) & (xx >= x0) & (xx < x0 + 15.5)] = 60
    for _ in range(40):  # trees
        cy, cx = rng.uniform(0, 300, 2)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < 9] = 40
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("gsd", [0.5, 3.0])
def test_snowy_yard_is_still_snow(gsd: float) -> None:
    img = _snowy_yard(gsd)
    c = estimate_conditions(img, np.ones(img.shape[:2], bool), gsd)
    assert c.snow.mean() > 0.8, (c.snow.mean(), c.cloud.mean())
    assert not assess_quality(_site(img, gsd)).usable


@pytest.mark.skipif(not CHINA.exists(), reason="real image not present (../shared/data)")
@pytest.mark.xfail(
    strict=True,
    reason="not fixed (session 42): the forest stand darkens -0.60 to -0.63 with its "
    "texture, like a held-out simulated shadow (-0.63 to -0.64); see docs/detection.md",
)
@pytest.mark.parametrize("gsd", [1.5, 3.0])
def test_clear_china_panel_has_no_cloud_shadow_when_coarse(gsd: float) -> None:
    bgr = cv2.imread(str(CHINA))
    assert bgr is not None, CHINA
    img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    small = cv2.resize(img, None, fx=0.9 / gsd, fy=0.9 / gsd, interpolation=cv2.INTER_AREA)
    c = estimate_conditions(small, np.ones(small.shape[:2], bool), gsd)
    assert c.shadow.mean() < 0.05, c.shadow.mean()
    q = assess_quality(_site(small, gsd))
    assert q.usable and q.clear_fraction > 0.95, (q.clear_fraction, q.reasons)
