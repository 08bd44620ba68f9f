"""The mask-free quality estimate finds large cloud shadows (session 42).

A quality mask counts cloud shadow with cloud (code 4, ``Quality.cloud_fraction``); the
estimate did not look for shadow, so a site largely under the shadow of a cloud (often
of one outside the frame) was judged usable and counted short. A cloud's shadow darkens
everything under it by a common factor over a large, soft-edged region: the ground's
texture darkens with it. Darker ground (water, asphalt, forest) keeps its own texture
and has sharp edges, and must not be taken for shadow. docs/detection.md, "Cloud shadow".
"""

from __future__ import annotations

import numpy as np
import pytest

from railwatch.imagery import SiteGrid, SiteRaster, assess_quality, estimate_conditions
from railwatch.sim import SceneParams, render_scene


def _raster(
    image: np.ndarray,
    gsd: float,
    mask: np.ndarray | None = None,
    valid: np.ndarray | None = None,
) -> SiteRaster:
    """``image`` as a site's raster on a UTM grid of ``gsd``, all inside the site, with
    data where ``valid`` (everywhere by default) and its quality ``mask``."""
    from rasterio.transform import from_origin

    h, w = image.shape[:2]
    grid = SiteGrid(
        crs="EPSG:32633",
        transform=from_origin(500_000.0, 5_000_000.0, gsd, gsd),
        width=w,
        height=h,
        gsd=gsd,
    )
    inside = np.ones((h, w), bool)
    return SiteRaster(image, inside if valid is None else valid, inside, mask, grid)


def _clear(seed: int, gsd: float, style: str, n: int = 480) -> np.ndarray:
    scene = render_scene(SceneParams(seed=seed, gsd=gsd, size_px=(n, n), style=style))
    assert not (scene.mask == 4).any() and (scene.mask == 0).all()
    return scene.image


def _soft_disc(n: int, gsd: float, radius_m: float, ramp_m: float) -> np.ndarray:
    """1 inside a disc centred a third of the way in, falling to 0 over ``ramp_m``."""
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) * gsd
    c = n * gsd / 3.0
    r = np.hypot(yy - c, xx - c)
    return np.clip((radius_m + ramp_m / 2 - r) / ramp_m, 0.0, 1.0)


@pytest.mark.parametrize(
    ("seed", "gsd", "style"),
    [(8_100_001, 0.5, "temperate"), (8_100_002, 1.0, "industrial-dark"), (8_100_003, 3.0, "arid")],
)
def test_a_soft_shadow_over_much_of_the_site_is_not_clear(
    seed: int, gsd: float, style: str
) -> None:
    n = 480 if gsd < 3 else 200
    image = _clear(seed, gsd, style, n)
    before = assess_quality(_raster(image, gsd))
    assert before.usable and before.clear_fraction > 0.97
    # a cloud's shadow: everything darkened by up to 0.5, soft-edged over 60 m
    radius = 0.45 * n * gsd
    darkening = 0.5 * _soft_disc(n, gsd, radius, 60.0)
    shaded = np.clip(image * (1.0 - darkening)[..., None], 0, 255).astype(np.uint8)
    share = float((darkening > 0.2).mean())  # what a quality mask would flag
    assert 0.3 < share < 0.7
    q = assess_quality(_raster(shaded, gsd))
    assert not q.usable, (q.clear_fraction, q.reasons)
    assert abs((1.0 - q.clear_fraction) - share) < 0.12, (q.clear_fraction, share)
    assert q.cloud_fraction >= 0.8 * share  # counted with cloud, as a mask's shadow is
    assert any("cloud shadow" in r for r in q.reasons), q.reasons
    cond = estimate_conditions(shaded, np.ones(shaded.shape[:2], bool), gsd)
    assert cond.shadow[darkening > 0.45].mean() > 0.9
    assert not cond.shadow[darkening == 0].any() or cond.shadow[darkening == 0].mean() < 0.03


# the simulator's own cloud shadow (seeds outside the benchmarks'): a site whose quality
# mask calls it unusable, judged 100 % clear before session 42
SIM_SHADOW = [
    dict(
        seed=8000003,
        gsd=1.5,
        size_px=(400, 400),
        style="continental",
        cloud_cover=0.2729,
        thin_cloud=0.5,
    ),
    dict(
        seed=8000001,
        gsd=1.5,
        size_px=(400, 400),
        style="industrial-dark",
        cloud_cover=0.2848,
        thin_cloud=0.6532,
    ),
]


@pytest.mark.parametrize("kw", SIM_SHADOW)
def test_the_simulators_cloud_shadow_over_the_site_is_not_clear(kw: dict[str, object]) -> None:
    scene = render_scene(SceneParams(**kw))
    h, w = scene.valid.shape
    grid = SiteGrid(crs=scene.crs, transform=scene.transform, width=w, height=h, gsd=scene.gsd)
    inside = np.zeros((h, w), bool)
    inside[h // 4 : h - h // 4, w // 4 : w - w // 4] = True  # the middle half
    truth = assess_quality(SiteRaster(scene.image, scene.valid, inside, scene.mask, grid))
    shadow = float((scene.mask[inside] == 4).mean())
    assert not truth.usable and shadow > 0.2
    est = assess_quality(SiteRaster(scene.image, scene.valid, inside, None, grid))
    assert not est.usable, (est.clear_fraction, est.reasons)
    assert est.cloud_fraction >= 0.7 * shadow
    assert any("cloud shadow" in r for r in est.reasons), est.reasons


def _patch(
    image: np.ndarray, gsd: float, colour: tuple[int, int, int], texture: float, seed: int
) -> np.ndarray:
    """A sharp-edged dark patch (asphalt, forest, water) with its own texture over the
    scene's lower left third."""
    rng = np.random.default_rng(seed)
    out = image.copy()
    n = image.shape[0]
    a = slice(n // 2, n - n // 10)
    b = slice(n // 12, n // 2 + n // 6)
    shape = out[a, b].shape[:2]
    base = np.asarray(colour, np.float32)[None, None, :]
    tex = rng.normal(0.0, texture, shape).astype(np.float32)[..., None]
    out[a, b] = np.clip(base + tex, 0, 255).astype(np.uint8)
    return out


@pytest.mark.parametrize(
    ("what", "colour", "texture"),
    [("asphalt", (52, 54, 58), 6.0), ("forest", (34, 58, 30), 14.0), ("water", (30, 48, 62), 2.0)],
)
@pytest.mark.parametrize(
    ("seed", "gsd", "style"), [(8_100_011, 0.5, "temperate"), (8_100_012, 1.5, "arid")]
)
def test_dark_ground_is_not_cloud_shadow(
    what: str, colour: tuple[int, int, int], texture: float, seed: int, gsd: float, style: str
) -> None:
    image = _clear(seed, gsd, style, 480 if gsd < 1 else 400)
    dark = _patch(image, gsd, colour, texture, seed)
    share = 0.4 * (0.5 + 1 / 6 - 1 / 12)  # the patch's share of the scene, about 23 %
    assert share > 0.2
    q = assess_quality(_raster(dark, gsd))
    assert q.usable, (what, q.clear_fraction, q.reasons)
    assert q.clear_fraction > 0.95, (what, q.clear_fraction, q.reasons)
    cond = estimate_conditions(dark, np.ones(dark.shape[:2], bool), gsd)
    assert not cond.shadow.any(), (what, float(cond.shadow.mean()))


@pytest.mark.parametrize(
    ("seed", "gsd", "style"),
    [
        (8_100_021, 0.4, "industrial-dark"),
        (8_100_022, 0.8, "winter"),
        (8_100_023, 1.5, "continental"),
        (8_100_024, 5.0, "temperate"),
    ],
)
def test_clear_scenes_have_no_cloud_shadow(seed: int, gsd: float, style: str) -> None:
    n = 480 if gsd < 1.5 else round(600 / gsd)
    image = _clear(seed, gsd, style, n)
    cond = estimate_conditions(image, np.ones(image.shape[:2], bool), gsd)
    assert not cond.shadow.any()
    assert assess_quality(_raster(image, gsd)).usable


def test_a_quality_mask_still_decides() -> None:
    """With a mask the estimate's shadow is not counted: the mask's codes are."""
    gsd, n = 1.0, 400
    image = _clear(8_100_031, gsd, "temperate", n)
    darkening = 0.5 * _soft_disc(n, gsd, 0.45 * n * gsd, 60.0)
    shaded = np.clip(image * (1.0 - darkening)[..., None], 0, 255).astype(np.uint8)
    q = assess_quality(_raster(shaded, gsd, np.zeros((n, n), np.uint8)))
    assert q.source == "mask" and q.usable and q.clear_fraction == 1.0
