"""Scene quality over a site: how much of it is clear, covered, and fine enough.

With a provider or sidecar quality mask (codes 0 clear, 1 cloud, 2 haze, 3 snow,
4 cloud shadow, 255 no data) the mask decides. Without one, cloud, haze and snow
are *estimated* from the RGB pixels with simple, explainable rules:

- **opaque cloud**: bright, nearly grey regions of at least ~0.25 ha with nothing
  dark inside them (an opaque cloud hides cars, rails and shadows), grown over
  their soft, darker rim;
- **snow**: bright, nearly grey regions in which dark objects (cars, rails, trees,
  shadows) show within ~10 m of enough of their pixels, or every bright region
  when such ground covers most of the site (a winter scene);
- **haze / thin cloud**: regions of at least ~0.5 ha whose darkest pixels are
  raised (dark channel prior: clear ground always has some dark pixels), whose
  local contrast is low and whose colours are washed out.

An image whose site pixels span fewer than :data:`MIN_CONTRAST_LEVELS` grey levels
(1st to 99th percentile of the luminance: a night or failed exposure, a blank image) is
unusable whatever the mask says: it would read as an empty yard.

Limits of the estimate, stated plainly: without a SWIR band, an open snow field
with nothing dark in it looks like cloud and is reported as cloud, and a cloud over
snowy ground may be reported as snow; large bright roofs or concrete aprons can be
taken for cloud, and dense haze over bright ground for cloud; light haze (that
keeps dark pixels dark) and thin cirrus over dark ground are missed; cloud shadows
are not estimated. The decision "usable or not" is far more reliable than the
split between cloud, haze and snow. Use a provider mask when there is one.
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
_BRIGHT_MIN = 175  # darkest channel of a bright (cloud/snow) pixel
_GREY_MAX_SAT = 0.16  # saturation (max-min)/max of a nearly grey pixel
_CLOUD_MIN_M2 = 2500.0  # smallest cloud region
_DARK_MAX = 100  # darkest channel of a "dark object" pixel (car, rail, shadow)
_DARK_NEAR_M = 20.0  # window in which a snow pixel sees a dark object
_SNOW_DARK_SHARE = 0.05  # share of a snow region's interior near dark objects
_WINTER_BRIGHT_SHARE = 0.5  # bright share of the site that makes a "winter scene"
_RIM_MIN = 120  # darkest channel of a cloud-rim pixel
_RIM_M = 40.0  # how far a cloud's rim may reach
_RIM_STEPS = 4
_HAZE_WINDOW_M = 32.0
_HAZE_MAX_SAT = 0.2  # haze is grey-white: bright saturated ground (sand) is not haze
_HAZE_DARK_MIN = 70  # darkest channel, minimum over the window, raised by haze
_HAZE_STD_MAX = 22.0  # local contrast in hazy regions
_HAZE_MIN_M2 = 5000.0
#: Fewest grey levels between the 1st and 99th percentile of the site's luminance for
#: the image to show anything: a night or failed exposure, or a blank image, has fewer
#: and would read as an empty yard (an 8-bit daylight image spans well over 50).
MIN_CONTRAST_LEVELS = 16


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
    levels = contrast_levels(raster.image, valid)
    blank = levels is not None and levels < MIN_CONTRAST_LEVELS
    usable = n > 0 and q_clear >= threshold and gsd <= max_gsd and not blank

    reasons: list[str] = []
    if n == 0:
        reasons.append("the site has no pixel on the grid")
    elif blank:
        reasons.append(
            f"the image shows almost nothing over the site: its pixels span {levels} grey "
            f"levels (a daylight image spans well over {MIN_CONTRAST_LEVELS}); too dark, "
            "or blank"
        )
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
    if gsd > max_gsd:  # the first reason: nothing else would make it usable
        reasons.insert(0, f"resolution {gsd:.1f} m is too coarse to count railcars")
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


def contrast_levels(image: np.ndarray, valid: np.ndarray) -> int | None:
    """Grey levels between the 1st and 99th percentile of the luminance of ``valid``
    pixels of an (H, W, 3) uint8 image; None without valid pixels."""
    if not valid.any():
        return None
    px = image[valid]
    if len(px) > 1_000_000:
        px = px[:: len(px) // 1_000_000 + 1]
    lum = px.astype(np.float32).mean(axis=1)
    lo, hi = np.percentile(lum, [1.0, 99.0])
    return round(float(hi - lo))


#: Quality-mask codes whose ground can be read (clear, snow: cars on snow show).
READABLE_CODES = (0, 3)


def readable_pixels(
    image: np.ndarray, valid: np.ndarray, mask: np.ndarray | None, gsd: float
) -> np.ndarray:
    """Pixels whose ground can be read: ``valid`` and, with a quality ``mask``, marked
    clear or snow (:data:`READABLE_CODES`); without one, not estimated to be cloud or
    haze (:func:`estimate_conditions`). What the occupied-length estimate samples: a
    cloud's bright edge or a hazy patch along a track otherwise reads as cars."""
    ok = np.asarray(valid, dtype=bool)
    if mask is not None:
        return ok & np.isin(mask, READABLE_CODES)
    cond = estimate_conditions(image, ok, gsd)
    return ok & ~cond.cloud & ~cond.haze


def estimate_conditions(image: np.ndarray, valid: np.ndarray, gsd: float) -> Conditions:
    """Estimate opaque cloud, snow and haze maps from an (H, W, 3) uint8 RGB image
    at ``gsd`` metres per pixel. Heuristic; see the module docstring for its limits."""
    h, w = valid.shape
    if h == 0 or w == 0 or not valid.any():
        empty = np.zeros((h, w), dtype=bool)
        return Conditions(empty, empty.copy(), empty.copy())
    # Integer maps where possible: memory stays a few bytes per site pixel.
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    mx = np.maximum(np.maximum(r, g), b)
    mn = np.minimum(np.minimum(r, g), b)
    grey = r.astype(np.float32)
    grey += g
    grey += b
    grey /= 3.0
    greyish = _greyish(mx, mn, _GREY_MAX_SAT)
    px_area = gsd * gsd

    bright = valid & (mn >= _BRIGHT_MIN) & greyish
    cloud = np.zeros((h, w), dtype=bool)
    snow = np.zeros((h, w), dtype=bool)
    if bright.any():
        # "a dark object (car, rail, tree, shadow) within ~10 m": snow leaves them
        # visible, an opaque cloud hides them.
        near_k = _odd(_DARK_NEAR_M / gsd, 3)
        near_min = cv2.erode(
            np.where(valid, mn, np.uint8(255)).astype(np.uint8),
            cv2.getStructuringElement(cv2.MORPH_RECT, (near_k, near_k)),
        )
        dark_near = near_min < _DARK_MAX
        del near_min
        cloud, snow = _bright_regions(bright, dark_near, valid, gsd, px_area, near_k)
        del dark_near
        rim_ok = valid & (mn >= _RIM_MIN) & _greyish(mx, mn, _GREY_MAX_SAT + 0.08)
        cloud = _grow(cloud, rim_ok, gsd)
        snow &= ~cloud
    del bright, greyish

    haze = _haze(mx, mn, grey, valid & ~cloud & ~snow, gsd, px_area)
    return Conditions(cloud=cloud, haze=haze, snow=snow)


def _greyish(mx: np.ndarray, mn: np.ndarray, max_sat: float) -> np.ndarray:
    """Saturation (max - min) / max at most ``max_sat``, in integer arithmetic."""
    spread = mx.astype(np.int16) - mn.astype(np.int16)
    return spread * 100 <= np.int16(round(max_sat * 100)) * mx.astype(np.int16)


def _bright_regions(
    bright: np.ndarray,
    dark_near: np.ndarray,
    valid: np.ndarray,
    gsd: float,
    px_area: float,
    near_k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Split large bright grey regions into snow (dark objects show inside them)
    and opaque cloud (nothing dark inside)."""
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
        return empty, empty.copy()
    # Judge each region away from its outer edge (the ground next to a cloud is
    # dark), but keep the edges of its holes (objects seen through snow).
    filled = closed | _holes(closed)
    outer_k = near_k + 2
    interior = closed & (
        cv2.erode(
            filled.astype(np.uint8),
            cv2.getStructuringElement(cv2.MORPH_RECT, (outer_k, outer_k)),
            borderType=cv2.BORDER_REPLICATE,
        )
        > 0
    )
    flat = labels.ravel()
    inner = interior.ravel()
    dark = dark_near.ravel()
    inner_count = np.bincount(flat[inner], minlength=count).astype(np.float64)
    dark_count = np.bincount(flat[inner & dark], minlength=count).astype(np.float64)
    # Regions too thin to have an interior are judged on their whole area.
    thin = inner_count == 0
    if thin[big].any():
        inner_count[thin] = np.bincount(flat, minlength=count)[thin]
        dark_count[thin] = np.bincount(flat[dark], minlength=count)[thin]
    share = np.divide(dark_count, inner_count, out=np.zeros(count), where=inner_count > 0)
    is_snow = big & (share >= _SNOW_DARK_SHARE)
    # A winter scene: bright ground with dark objects over most of the site.
    n_valid = int(valid.sum())
    bright_share = float(closed[valid].sum()) / n_valid if n_valid else 0.0
    overall = float(dark_count[big].sum() / max(inner_count[big].sum(), 1.0))
    if bright_share >= _WINTER_BRIGHT_SHARE and overall >= _SNOW_DARK_SHARE:
        is_snow = big.copy()
    is_cloud = big & ~is_snow
    return is_cloud[labels], is_snow[labels]


def _holes(mask: np.ndarray) -> np.ndarray:
    """Pixels outside ``mask`` that it encloses (not connected to the image border)."""
    count, labels = cv2.connectedComponents((~mask).astype(np.uint8), connectivity=4)
    touches = np.zeros(count, dtype=bool)
    for edge in (labels[0, :], labels[-1, :], labels[:, 0], labels[:, -1]):
        touches[edge] = True
    touches[0] = True  # label 0: the mask itself
    return ~touches[labels]


def _grow(cloud: np.ndarray, rim_ok: np.ndarray, gsd: float) -> np.ndarray:
    """Add each cloud's soft, darker rim: pixels that are still fairly bright and
    grey and connected to the cloud, up to ``_RIM_M`` metres out (hysteresis)."""
    if not cloud.any():
        return cloud
    step = _odd(_RIM_M / (_RIM_STEPS * gsd), 3)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (step, step))
    grown = cloud.astype(np.uint8)
    allowed = (rim_ok | cloud).astype(np.uint8)
    for _ in range(_RIM_STEPS):
        nxt = cv2.dilate(grown, kernel) & allowed
        if np.array_equal(nxt, grown):
            break
        grown = nxt
    return grown > 0


def _haze(
    mx: np.ndarray,
    mn: np.ndarray,
    grey: np.ndarray,
    candidates: np.ndarray,
    gsd: float,
    px_area: float,
) -> np.ndarray:
    """Regions with a raised dark channel and low local contrast."""
    if not candidates.any():
        return np.zeros_like(candidates)
    k = _odd(_HAZE_WINDOW_M / gsd, 3)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    dark = cv2.erode(np.where(candidates, mn, np.uint8(255)).astype(np.uint8), kernel)
    hazy = candidates & (dark >= _HAZE_DARK_MIN)
    del dark
    if not hazy.any():
        return hazy
    hazy &= _local_std(grey, k) <= _HAZE_STD_MAX
    sat = (mx.astype(np.float32) - mn) / np.maximum(mx, 1).astype(np.float32)
    hazy &= cv2.boxFilter(sat, cv2.CV_32F, (k, k), borderType=cv2.BORDER_REFLECT) <= _HAZE_MAX_SAT
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
    """``x`` (0-1) as a whole percentage; a fraction that rounds to 0 or 100 without
    being it is written "under 1 %" or "over 99 %" (a 30 m image over a large site
    covered "only 0 %" of it)."""
    pct = round(100 * x)
    if pct == 0 and x > 0:
        return "under 1 %"
    if pct == 100 and x < 1:
        return "over 99 %"
    return f"{pct} %"
