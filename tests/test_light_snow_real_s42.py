"""Grey concrete, roads and light ballast of a clear scene are not light snow at 1.5 m
and coarser (session 42).

Session 41 sought light snow from 1.5 m on down to a darkest channel of 140 in patches of
500 m². The real summer yard at Muttenz (../shared/data/real/muttenz_10cm.png) area-averaged
to 1.5 m then read 31 % snow (its grey road and light track beds, darkest channel about
136-160) and was judged unusable. Now such a region is snow only if a fifth of it reaches
the darkest channel of 175 (light snow's patches have a bright middle; concrete and
ballast are fairly bright all over), or 0.25 ha of it does, and a "winter scene" (every
large bright region snow) needs a quarter of its candidates at 175. docs/detection.md,
"Light snow at coarse resolution: not the grey ground of a clear yard".
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from affine import Affine

from railwatch.imagery import SiteGrid, SiteRaster, assess_quality
from railwatch.imagery import quality as Q
from railwatch.sim import SceneParams, render_scene

MUTTENZ = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "muttenz_10cm.png"


def _site(image: np.ndarray, gsd: float, mask: np.ndarray | None = None) -> SiteRaster:
    h, w = image.shape[:2]
    grid = SiteGrid(
        crs="EPSG:32632", transform=Affine(gsd, 0, 0, 0, -gsd, 0), width=w, height=h, gsd=gsd
    )
    ones = np.ones((h, w), bool)
    return SiteRaster(image, ones, ones, mask, grid)


@pytest.mark.skipif(not MUTTENZ.exists(), reason="real image not present (../shared/data)")
@pytest.mark.parametrize("gsd", [1.5, 2.0, 3.0])
def test_muttenz_summer_yard_is_usable_at_coarse_gsd(gsd: float) -> None:
    bgr = cv2.imread(str(MUTTENZ))
    assert bgr is not None, MUTTENZ
    img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    small = cv2.resize(img, None, fx=0.1 / gsd, fy=0.1 / gsd, interpolation=cv2.INTER_AREA)
    q = assess_quality(_site(small, gsd))
    assert q.usable, (q.clear_fraction, q.reasons)
    assert q.snow_fraction < 0.05, q.snow_fraction


def _grey_yard(seed: int) -> np.ndarray:
    """A clear summer yard at 1.5 m, 600 m a side: soil and grass, a concrete road 24 m
    wide, light ballast beds with rails and wagons on them, a concrete apron with
    parked vehicles; everything grey sits at a darkest channel of 135-165."""
    rng = np.random.default_rng(seed)
    n = 400
    grass = np.array([92, 108, 70], np.float32)
    img = grass + rng.normal(0, 8, (n, n, 1)).astype(np.float32)
    yy, xx = np.mgrid[0:n, 0:n]
    # concrete road across the scene, slightly oblique
    road = np.abs(yy - 0.2 * xx - 40) < 8
    img[road] = 150 + rng.normal(0, 6, (int(road.sum()), 1))
    # three ballast beds, 12 m wide, with two dark rails each and wagons on some
    for k, y0 in enumerate((150, 200, 250)):
        bed = np.abs(yy - 0.05 * xx - y0) < 4
        img[bed] = np.array([148, 146, 140]) + rng.normal(0, 7, (int(bed.sum()), 1))
        img[np.abs(yy - 0.05 * xx - y0) < 0.6] = 45
        for x0 in range(40 + 30 * k, n - 30, 90):
            car = bed & (xx >= x0) & (xx < x0 + 12)
            img[car] = 60
    # a concrete apron with dark vehicles parked on it
    apron = (yy > 300) & (yy < 360) & (xx > 60) & (xx < 260)
    img[apron] = 155 + rng.normal(0, 5, (int(apron.sum()), 1))
    for x0 in range(70, 250, 9):
        img[318:322, x0 : x0 + 3] = 40
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [1, 2])
def test_grey_road_ballast_and_apron_are_not_snow_at_1_5_m(seed: int) -> None:
    img = _grey_yard(seed)
    cond = Q.estimate_conditions(img, np.ones(img.shape[:2], bool), 1.5)
    assert cond.snow.mean() < 0.01, cond.snow.mean()
    assert cond.cloud.mean() < 0.01
    q = assess_quality(_site(img, 1.5))
    assert q.usable, (q.clear_fraction, q.reasons)


# light snow of tuning seeds (not the benchmark's 100-111) that session 41 found and the
# estimate judged usable before it (83-93 % clear); the last one's patches are found only
# with a share of 0.25 or less (at 0.3 it is judged 85 % clear)
LIGHT_SNOW = [(202, 1.5, "temperate", 0.33), (206, 3.0, "winter", 0.35), (208, 3.0, "winter", 0.34)]


@pytest.mark.parametrize(("seed", "gsd", "style", "snow"), LIGHT_SNOW)
def test_light_snow_at_coarse_gsd_is_still_found(
    seed: int, gsd: float, style: str, snow: float
) -> None:
    n = round(600 / gsd)
    scene = render_scene(
        SceneParams(seed=seed, gsd=gsd, size_px=(n, n), style=style, season="winter", snow=snow)
    )
    h, w = scene.valid.shape
    mid = (slice(h // 4, h - h // 4), slice(w // 4, w - w // 4))
    image, mask = scene.image[mid], scene.mask[mid]
    truth = assess_quality(_site(image, gsd, mask))
    assert not truth.usable and truth.snow_fraction >= 0.15
    est = assess_quality(_site(image, gsd))
    assert not est.usable, (est.clear_fraction, est.reasons)
    assert est.snow_fraction + est.cloud_fraction >= 0.6 * truth.snow_fraction


def test_a_yard_mostly_of_grey_concrete_is_not_a_winter_scene() -> None:
    """Two thirds of the site grey concrete (darkest channel about 150) with rails and
    wagons on it: a "winter scene" (every large bright region snow) needs a quarter of
    its candidates (from 140) at 175; without that it read 64 % snow."""
    rng = np.random.default_rng(3)
    n = 400
    img = np.array([92, 108, 70], np.float32) + rng.normal(0, 8, (n, n, 1)).astype(np.float32)
    img[40:360, 40:360] = 152 + rng.normal(0, 6, (320, 320, 1))
    img[60:340:20, 40:360] = 45  # rails every 30 m
    for y in range(60, 340, 20):
        for x0 in range(50, 350, 40):
            img[y - 2 : y + 2, x0 : x0 + 12] = 60  # wagons
    img = np.clip(img, 0, 255).astype(np.uint8)
    cond = Q.estimate_conditions(img, np.ones((n, n), bool), 1.5)
    assert cond.snow.mean() < 0.01, cond.snow.mean()
    assert assess_quality(_site(img, 1.5)).usable


@pytest.mark.parametrize(
    ("seed", "gsd", "style", "snow"),
    [(204, 1.5, "industrial-dark", 0.66), (201, 3.0, "temperate", 0.64)],
)
def test_a_snowy_scene_is_still_a_winter_scene(
    seed: int, gsd: float, style: str, snow: float
) -> None:
    """Over half the site snow candidates, a quarter of them at 175: a winter scene, whose
    bright regions are snow even with few dark objects in them, not opaque cloud (with
    the winter scene counted on the 175-pixels alone, 34 % and 31 % read as cloud)."""
    n = round(600 / gsd)
    scene = render_scene(
        SceneParams(seed=seed, gsd=gsd, size_px=(n, n), style=style, season="winter", snow=snow)
    )
    h, w = scene.valid.shape
    mid = (slice(h // 4, h - h // 4), slice(w // 4, w - w // 4))
    cond = Q.estimate_conditions(scene.image[mid], scene.valid[mid], gsd)
    assert cond.cloud.mean() < 0.02, cond.cloud.mean()
    assert cond.snow.mean() >= 0.5 * (scene.mask[mid] == 3).mean()
