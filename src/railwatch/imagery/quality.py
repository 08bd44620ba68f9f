"""Scene quality over a site: how much of it is clear, covered, and fine enough.

With a provider or sidecar quality mask (codes 0 clear, 1 cloud, 2 haze, 3 snow,
4 cloud shadow, 255 no data) the mask decides. Without one, cloud, haze and snow
are *estimated* from the RGB pixels with simple, explainable rules:

- **opaque cloud**: bright, nearly grey, smooth (small local standard deviation)
  regions of at least ~0.25 ha;
- **snow**: bright, nearly grey regions that carry structure inside them (rails,
  cars, buildings make the interior textured) including some dark objects, or
  every bright region when such ground covers most of the site (a winter scene);
- **haze / thin cloud**: regions of at least ~0.5 ha whose darkest pixels are
  raised (dark channel prior: clear ground always has some dark pixels) and whose
  local contrast is low; also bright, structured regions without a single dark
  object (a dense veil lifts every pixel, while snow leaves cars and rails dark).

Limits of the estimate, stated plainly: without a SWIR band, a smooth open snow
field looks like cloud and is reported as cloud; large bright, untextured roofs or
concrete aprons can be taken for cloud, and uniformly bright sand or concrete for
haze; thin cirrus over dark ground may be missed; cloud shadows are not estimated.
Use a provider mask when there is one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from railwatch.imagery.read import MASK_NODATA, SiteRaster

__all__ = ["MAX_COUNT_GSD", "Conditions", "Quality", "assess_quality", "estimate_conditions"]

#: Coarsest resolution (metres) at which a scene is still usable (presence only).
MAX_COUNT_GSD = 10.0
_OBJECT_GSD = 1.5  # finer than this, cars are counted one by one
_LENGTH_GSD = 5.0  # up to this, occupied track length; coarser: presence only

# Estimation thresholds (8-bit values, metres).
_BRIGHT_MIN = 170  # darkest channel of a bright (cloud/snow) pixel
_GREY_MAX_SAT = 0.16  # saturation (max-min)/max of a nearly grey pixel
_SMOOTH_STD = 7.0  # local std of a smooth pixel (grey levels)
_TEXTURE_M = 8.0  # window for local texture
_CLOUD_MIN_M2 = 2500.0  # smallest cloud region
_SNOW_TEXTURED_SHARE = 0.25  # interior textured share above which a bright region is snow
_DARK_MAX = 100  # darkest channel of a "dark object" pixel (car, rail, shadow)
_SNOW_DARK_SHARE = 0.02  # share of dark pixels a snow region holds (haze has none)
_WINTER_BRIGHT_SHARE = 0.5  # bright share of the site that makes a "winter scene"
_WINTER_TEXTURED_SHARE = 0.2
_HAZE_WINDOW_M = 32.0
_HAZE_DARK_MIN = 85  # darkest channel, minimum over the window, raised by haze
_HAZE_STD_MAX = 22.0  # local contrast in hazy regions
_HAZE_MIN_M2 = 5000.0


@dataclass(frozen=True)
class Quality:
    """Quality of one scene over one site. Fractions are of the pixels inside the
    site; ``clear_fraction`` counts no data as not clear. ``reasons`` are human
    sentences: why the scene is unusable, and notes (partial coverage, coarse
    resolution) that hold even when it is usable; ``usable`` is what decides."""

    clear_fraction: float
    coverage: float
    cloud_fraction: float
    haze_fraction: float
    snow_fraction: float
    nodata_fraction: float
    gsd: float
    usable: bool
    reasons: tuple[str, ...]
    source: str


@dataclass(frozen=True, eq=False)
class Conditions:
    """Per-pixel boolean maps estimated from the pixels (see the module docstring)."""

    cloud: np.ndarray
    haze: np.ndarray
    snow: np.ndarray


def assess_quality(
    raster: SiteRaster, *, threshold: float = 0.8, max_gsd: float = MAX_COUNT_GSD
) -> Quality:
    """Clear, cloud, haze, snow and no-data fractions of the site, coverage, and
    whether the scene is usable: clear fraction >= ``threshold`` and ground sample
    distance <= ``max_gsd`` metres."""
    inside = raster.inside
    n = int(inside.sum())
    gsd = float(raster.grid.gsd)
    valid = raster.valid & inside
    if raster.mask is not None:
        m = raster.mask
        known = m <= 4
        nodata = inside & (~raster.valid | (m == MASK_NODATA) | ~known)
        ok = valid & ~nodata
        cloud = ok & ((m == 1) | (m == 4))
        haze = ok & (m == 2)
        snow = ok & (m == 3)
        clear = ok & (m == 0)
        shadow = int((ok & (m == 4)).sum())
        source = "mask"
    else:
        cond = estimate_conditions(raster.image, valid, gsd)
        nodata = inside & ~raster.valid
        cloud = cond.cloud & valid
        snow = cond.snow & valid & ~cloud
        haze = cond.haze & valid & ~cloud & ~snow
        clear = valid & ~cloud & ~snow & ~haze
        shadow = 0
        source = "estimated"

    def frac(a: np.ndarray) -> float:
        return float(a.sum()) / n if n else 0.0

    coverage = frac(valid)
    q_cloud, q_haze, q_snow = frac(cloud), frac(haze), frac(snow)
    q_nodata = frac(nodata) if n else 1.0
    q_clear = frac(clear)
    usable = n > 0 and q_clear >= threshold and gsd <= max_gsd

    reasons: list[str] = []
    if n == 0:
        reasons.append("the site has no pixel on the grid")
    elif q_clear < threshold:
        parts = [
            (q_nodata, f"only {_pct(coverage)} of the site is covered by the image"),
            (
                q_cloud,
                f"cloud{' and cloud shadow' if shadow else ''} cover{'' if shadow else 's'} "
                f"{_pct(q_cloud)} of the site",
            ),
            (q_haze, f"haze covers {_pct(q_haze)} of the site"),
            (q_snow, f"snow covers {_pct(q_snow)} of the site"),
        ]
        reasons.extend(text for share, text in sorted(parts, reverse=True) if share >= 0.01)
        reasons.append(f"only {_pct(q_clear)} of the site is clear (needs {_pct(threshold)})")
    elif coverage < 0.995:
        reasons.append(f"the image covers {_pct(coverage)} of the site")
    if gsd > max_gsd:
        reasons.append(f"resolution {gsd:.1f} m is too coarse to count railcars")
    elif gsd > _LENGTH_GSD:
        reasons.append(f"resolution {gsd:.1f} m: only the presence of long trains can be reported")
    elif gsd > _OBJECT_GSD:
        reasons.append(
            f"resolution {gsd:.1f} m: cars are not separable, counts come from "
            "occupied track length"
        )
    return Quality(
        clear_fraction=q_clear,
        coverage=coverage,
        cloud_fraction=q_cloud,
        haze_fraction=q_haze,
        snow_fraction=q_snow,
        nodata_fraction=q_nodata,
        gsd=gsd,
        usable=bool(usable),
        reasons=tuple(reasons),
        source=source,
    )


def estimate_conditions(image: np.ndarray, valid: np.ndarray, gsd: float) -> Conditions:
    """Estimate opaque cloud, snow and haze maps from an (H, W, 3) uint8 RGB image
    at ``gsd`` metres per pixel. Heuristic; see the module docstring for its limits."""
    h, w = valid.shape
    if h == 0 or w == 0 or not valid.any():
        empty = np.zeros((h, w), dtype=bool)
        return Conditions(empty, empty.copy(), empty.copy())
    # Integer maps where possible: memory stays a few bytes per site pixel.
    mx = image.max(axis=2)
    mn = image.min(axis=2)
    grey = image.mean(axis=2, dtype=np.float32)
    greyish = _greyish(mx, mn, _GREY_MAX_SAT)
    px_area = gsd * gsd

    bright = valid & (mn >= _BRIGHT_MIN) & greyish
    cloud = np.zeros((h, w), dtype=bool)
    snow = np.zeros((h, w), dtype=bool)
    dense_haze = np.zeros((h, w), dtype=bool)
    if bright.any():
        texture = _local_std(grey, _odd(_TEXTURE_M / gsd, 3))
        dark = valid & (mn < _DARK_MAX)
        cloud, snow, dense_haze = _bright_regions(bright, texture, dark, valid, gsd, px_area)
        del texture, dark
        rim_ok = valid & (mn >= _BRIGHT_MIN - 50) & _greyish(mx, mn, _GREY_MAX_SAT + 0.08)
        cloud = _grow(cloud, rim_ok, gsd)
        snow &= ~cloud
        dense_haze &= ~cloud & ~snow
    del bright, greyish, mx

    haze = dense_haze | _haze(mn, grey, valid & ~cloud & ~snow & ~dense_haze, gsd, px_area)
    return Conditions(cloud=cloud, haze=haze, snow=snow)


def _greyish(mx: np.ndarray, mn: np.ndarray, max_sat: float) -> np.ndarray:
    """Saturation (max - min) / max at most ``max_sat``, in integer arithmetic."""
    spread = mx.astype(np.int16) - mn.astype(np.int16)
    return spread * 100 <= np.int16(round(max_sat * 100)) * mx.astype(np.int16)


def _bright_regions(
    bright: np.ndarray,
    texture: np.ndarray,
    dark: np.ndarray,
    valid: np.ndarray,
    gsd: float,
    px_area: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split bright grey regions into cloud (smooth inside), snow (structured, with
    dark objects inside) and dense haze (structured, but nothing dark: the veil
    lifts every pixel)."""
    close_k = _odd(6.0 / gsd, 1)
    closed = bright
    if close_k > 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close_k, close_k))
        closed = cv2.morphologyEx(bright.astype(np.uint8), cv2.MORPH_CLOSE, kernel) > 0
        closed &= valid
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        closed.astype(np.uint8), connectivity=8
    )
    min_px = max(4, math.ceil(_CLOUD_MIN_M2 / px_area))
    big = np.zeros(count, dtype=bool)
    big[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_px
    if not big.any():
        empty = np.zeros_like(bright)
        return empty, empty.copy(), empty.copy()
    # Interior of each region (away from its rim, where texture is always high).
    erode_k = _odd(_TEXTURE_M / gsd, 1) + 2
    interior = (
        cv2.erode(
            closed.astype(np.uint8),
            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (erode_k, erode_k)),
        )
        > 0
    )
    flat_labels = labels.ravel()
    inner = interior.ravel()
    textured = (texture.ravel() >= _SMOOTH_STD) | ~bright.ravel()
    inner_count = np.bincount(flat_labels[inner], minlength=count).astype(np.float64)
    tex_count = np.bincount(flat_labels[inner & textured], minlength=count).astype(np.float64)
    share = np.divide(tex_count, inner_count, out=np.zeros(count), where=inner_count > 0)
    # Regions too thin to have an interior are judged on their whole area.
    thin = inner_count == 0
    if thin[big].any():
        all_count = np.bincount(flat_labels, minlength=count).astype(np.float64)
        all_tex = np.bincount(flat_labels[textured], minlength=count).astype(np.float64)
        share[thin] = np.divide(
            all_tex[thin], all_count[thin], out=np.zeros(int(thin.sum())), where=all_count[thin] > 0
        )
    region_px = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    dark_count = np.bincount(flat_labels[dark.ravel()], minlength=count).astype(np.float64)
    has_dark = dark_count >= _SNOW_DARK_SHARE * np.maximum(region_px, 1.0)
    structured = big & (share >= _SNOW_TEXTURED_SHARE)
    is_snow = structured & has_dark
    is_haze = structured & ~has_dark
    is_cloud = big & ~structured
    # A winter scene: bright, structured ground over most of the site.
    n_valid = int(valid.sum())
    bright_share = float(closed[valid].sum()) / n_valid if n_valid else 0.0
    weights = region_px[big]
    overall_texture = float((share[big] * weights).sum() / weights.sum())
    overall_dark = float(dark_count[big].sum() / weights.sum())
    if (
        bright_share >= _WINTER_BRIGHT_SHARE
        and overall_texture >= _WINTER_TEXTURED_SHARE
        and overall_dark >= _SNOW_DARK_SHARE
    ):
        is_snow, is_cloud, is_haze = big.copy(), np.zeros_like(big), np.zeros_like(big)
    return is_cloud[labels], is_snow[labels], is_haze[labels]


def _grow(cloud: np.ndarray, rim_ok: np.ndarray, gsd: float) -> np.ndarray:
    """Add the soft, slightly darker rim of each cloud (a few metres)."""
    if not cloud.any():
        return cloud
    k = _odd(10.0 / gsd, 3)
    near = cv2.dilate(cloud.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return cloud | ((near > 0) & rim_ok)


def _haze(
    mn: np.ndarray, grey: np.ndarray, candidates: np.ndarray, gsd: float, px_area: float
) -> np.ndarray:
    """Regions with a raised dark channel and low local contrast."""
    if not candidates.any():
        return np.zeros_like(candidates)
    k = _odd(_HAZE_WINDOW_M / gsd, 3)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    dark = cv2.erode(np.where(candidates, mn, np.uint8(255)).astype(np.uint8), kernel)
    contrast = _local_std(grey, k)
    hazy = candidates & (dark >= _HAZE_DARK_MIN) & (contrast <= _HAZE_STD_MAX)
    if not hazy.any():
        return hazy
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        hazy.astype(np.uint8), connectivity=8
    )
    keep = np.zeros(count, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= max(4, math.ceil(_HAZE_MIN_M2 / px_area))
    return keep[labels]


def _local_std(values: np.ndarray, k: int) -> np.ndarray:
    mean = cv2.boxFilter(values, cv2.CV_32F, (k, k), borderType=cv2.BORDER_REFLECT)
    sq = cv2.boxFilter(np.square(values), cv2.CV_32F, (k, k), borderType=cv2.BORDER_REFLECT)
    np.square(mean, out=mean)
    sq -= mean
    del mean
    np.maximum(sq, 0.0, out=sq)
    return np.sqrt(sq, out=sq)


def _odd(size_px: float, minimum: int) -> int:
    n = max(minimum, round(size_px))
    return int(n if n % 2 == 1 else n + 1)


def _pct(x: float) -> str:
    return f"{round(100 * x)} %"
