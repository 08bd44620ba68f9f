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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from railwatch.imagery.read import MASK_NODATA, ImageRows, SiteRaster, SiteWindow

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
    raster: SiteRaster | SiteWindow, *, threshold: float = 0.8, max_gsd: float = MAX_COUNT_GSD
) -> Quality:
    """Clear, cloud, haze, snow and no-data fractions of the site, coverage, and
    whether the scene is usable: clear fraction >= ``threshold`` and ground sample
    distance <= ``max_gsd`` metres. A :class:`SiteWindow` (its image read from the
    file strip by strip) gives what its :class:`SiteRaster` gives (session 36)."""
    inside = np.asarray(raster.inside, dtype=bool)
    gsd = float(raster.grid.gsd)
    valid = np.asarray(raster.valid, dtype=bool) & inside
    h, w = valid.shape
    # pixel counts, strip by strip (no whole-window map but ``valid`` and the estimate's)
    counts = dict.fromkeys(("n", "valid", "nodata", "cloud", "haze", "snow", "clear", "shadow"), 0)

    def add(**found: np.ndarray) -> None:
        for key, a in found.items():
            counts[key] += int(a.sum())

    if raster.mask is not None:
        for a, b, _, _ in _strips(h, w, 0):
            m, ins, ok_px = raster.mask[a:b], inside[a:b], valid[a:b]
            # no data: none read, or marked so (MASK_NODATA) or by no code of the contract
            nodata = ins & (
                ~np.asarray(raster.valid[a:b], dtype=bool) | (m == MASK_NODATA) | (m > 4)
            )
            ok = ok_px & ~nodata
            add(
                n=ins,
                valid=ok_px,
                nodata=nodata,
                cloud=ok & ((m == 1) | (m == 4)),
                haze=ok & (m == 2),
                snow=ok & (m == 3),
                clear=ok & (m == 0),
                shadow=ok & (m == 4),
            )
        source = "mask"
    else:
        cond = estimate_conditions(raster.image, valid, gsd)
        for a, b, _, _ in _strips(h, w, 0):
            ins, ok = inside[a:b], valid[a:b]
            cloud = cond.cloud[a:b] & ok
            snow = cond.snow[a:b] & ok & ~cloud
            haze = cond.haze[a:b] & ok & ~cloud & ~snow
            add(
                n=ins,
                valid=ok,
                nodata=ins & ~np.asarray(raster.valid[a:b], dtype=bool),
                cloud=cloud,
                haze=haze,
                snow=snow,
                clear=ok & ~cloud & ~snow & ~haze,
            )
        del cond
        source = "estimated"
    n = counts["n"]
    shadow = counts["shadow"]

    def frac(key: str) -> float:
        return float(counts[key]) / n if n else 0.0

    coverage = frac("valid")
    q_cloud, q_haze, q_snow = frac("cloud"), frac("haze"), frac("snow")
    q_nodata = frac("nodata") if n else 1.0
    q_clear = frac("clear")
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


def contrast_levels(image: ImageRows, valid: np.ndarray) -> int | None:
    """Grey levels between the 1st and 99th percentile of the luminance of ``valid``
    pixels of an (H, W, 3) uint8 image; None without valid pixels."""
    # the pixels picked are those of image[valid][:: step], taken strip by strip (a
    # copy of every valid pixel took 3 bytes a pixel of the window)
    h, w = valid.shape
    total = int(np.count_nonzero(valid))
    if total == 0:
        return None
    step = total // _CONTRAST_SAMPLE + 1 if total > _CONTRAST_SAMPLE else 1
    picked: list[np.ndarray] = []
    seen = 0
    for a, b, _, _ in _strips(h, w, 0):
        ok = valid[a:b]
        m = int(np.count_nonzero(ok))
        first = -seen % step
        if first < m:
            picked.append(image[a:b][ok][first::step])
        seen += m
    px = np.concatenate(picked)
    lum = px.astype(np.float32).mean(axis=1)
    lo, hi = np.percentile(lum, [1.0, 99.0])
    return round(float(hi - lo))


#: Most pixels :func:`contrast_levels` takes its percentiles of.
_CONTRAST_SAMPLE = 1_000_000


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


#: Pixels per strip (about) in which :func:`estimate_conditions` and
#: :func:`assess_quality` compute their per-pixel rules: a strip's temporaries take some
#: 30 bytes a pixel, the whole window's maps a few (2026-12-06, session 35: they took
#: about 28 bytes a pixel of the whole window, 454 MB at 16 Mpx). Every per-pixel rule is
#: local (a filter of bounded size), so each strip is read with the rows around it that
#: its filters reach and gives what the whole window gives; the regions (connected
#: components) are found on whole-window maps of one byte a pixel.
BLOCK_PIXELS = 4_000_000


def _strips(height: int, width: int, halo: int) -> Iterator[tuple[int, int, int, int]]:
    """Rows ``(a, b, lo, hi)`` of the strips of a ``height`` x ``width`` window: each
    strip's own rows ``a:b`` and the rows ``lo:hi`` read for it (``halo`` more on either
    side, within the window)."""
    rows = max(1, BLOCK_PIXELS // max(width, 1))
    for a in range(0, height, rows):
        b = min(height, a + rows)
        yield a, b, max(0, a - halo), min(height, b + halo)


def _extremes(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    return np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)


def _grey(image: np.ndarray) -> np.ndarray:
    grey = image[..., 0].astype(np.float32)
    grey += image[..., 1]
    grey += image[..., 2]
    grey /= 3.0
    return grey


def estimate_conditions(image: ImageRows, valid: np.ndarray, gsd: float) -> Conditions:
    """Estimate opaque cloud, snow and haze maps from an (H, W, 3) uint8 RGB image
    at ``gsd`` metres per pixel. Heuristic; see the module docstring for its limits.

    Computed strip by strip (:data:`BLOCK_PIXELS`), with the same result as over the
    whole image at once; the regions are found on whole-image maps."""
    h, w = valid.shape
    if h == 0 or w == 0 or not valid.any():
        empty = np.zeros((h, w), dtype=bool)
        return Conditions(empty, empty.copy(), empty.copy())
    px_area = gsd * gsd
    near_k = _odd(_DARK_NEAR_M / gsd, 3)
    close_k = _odd(6.0 / gsd, 1)
    # bright, nearly grey pixels, closed over small gaps: the candidate regions
    closed = np.zeros((h, w), dtype=np.uint8)
    bright_any = False
    close_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close_k, close_k))
    for a, b, lo, hi in _strips(h, w, 2 * (close_k // 2)):
        mx, mn = _extremes(image[lo:hi])
        bright = valid[lo:hi] & (mn >= _BRIGHT_MIN) & _greyish(mx, mn, _GREY_MAX_SAT)
        del mx, mn
        if not bright.any():
            continue
        bright_any |= bool(bright[a - lo : b - lo].any())
        part = bright.astype(np.uint8)
        if close_k > 1:
            part = cv2.morphologyEx(part, cv2.MORPH_CLOSE, close_kernel)
        own = (part[a - lo : b - lo] > 0) & valid[a:b]
        if own.any():  # rows left 0 are never written, so never held (session 36)
            closed[a:b] = own
    cloud = np.zeros((h, w), dtype=bool)
    snow = np.zeros((h, w), dtype=bool)
    if bright_any:
        # "a dark object (car, rail, tree, shadow) within ~10 m": snow leaves them
        # visible, an opaque cloud hides them.
        _bright_regions(image, valid, closed, gsd, px_area, near_k, cloud, snow)
        del closed
        cloud = _grow(image, valid, cloud, gsd)
        snow &= ~cloud
    else:
        del closed
    haze = _haze(image, valid, cloud, snow, gsd, px_area)
    return Conditions(cloud=cloud, haze=haze, snow=snow)


def _greyish(mx: np.ndarray, mn: np.ndarray, max_sat: float) -> np.ndarray:
    """Saturation (max - min) / max at most ``max_sat``, in integer arithmetic."""
    spread = mx.astype(np.int16) - mn.astype(np.int16)
    return spread * 100 <= np.int16(round(max_sat * 100)) * mx.astype(np.int16)


def _bright_regions(
    image: ImageRows,
    valid: np.ndarray,
    closed: np.ndarray,
    gsd: float,
    px_area: float,
    near_k: int,
    cloud: np.ndarray,
    snow: np.ndarray,
) -> None:
    """Split the large regions of ``closed`` (bright grey pixels, closed) into snow (dark
    objects show inside them) and opaque cloud (nothing dark inside), marked in
    ``cloud`` and ``snow``."""
    h, w = closed.shape
    # no region reaches past the rows that hold bright pixels: labelled there only
    r0, r1 = _row_span(closed)
    if r0 == r1:
        return
    count, labels, stats, _ = _components(closed[r0:r1], 8, stats=True)
    min_px = max(4, math.ceil(_CLOUD_MIN_M2 / px_area))
    big = np.zeros(count, dtype=bool)
    big[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_px
    if not big.any():
        return
    # Judge each region away from its outer edge (the ground next to a cloud is
    # dark), but keep the edges of its holes (objects seen through snow). The labels
    # are found again after the holes (the same labels), so that two label maps are
    # never held at once.
    del labels
    filled = _holes(closed)
    for a, b, _, _ in _strips(h, w, 0):
        if closed[a:b].any():
            filled[a:b] |= closed[a:b]
    count, labels = _components(closed[r0:r1], 8)
    outer_k = near_k + 2
    outer = cv2.getStructuringElement(cv2.MORPH_RECT, (outer_k, outer_k))
    near = cv2.getStructuringElement(cv2.MORPH_RECT, (near_k, near_k))
    inner_count = np.zeros(count, dtype=np.int64)
    dark_count = np.zeros(count, dtype=np.int64)
    all_count = np.zeros(count, dtype=np.int64)
    all_dark = np.zeros(count, dtype=np.int64)
    n_valid = 0
    n_closed = 0
    for a, b, lo, hi in _strips(h, w, max(outer_k // 2, near_k // 2)):
        n_valid += int(valid[a:b].sum())
        if b <= r0 or a >= r1:
            continue  # no region here: only the background's counts, never used
        own = slice(a - lo, b - lo)
        ok = valid[lo:hi]
        _, mn = _extremes(image[lo:hi])
        near_min = cv2.erode(np.where(ok, mn, np.uint8(255)).astype(np.uint8), near)
        dark = (near_min < _DARK_MAX)[own]
        del near_min, mn
        eroded = cv2.erode(filled[lo:hi], outer, borderType=cv2.BORDER_REPLICATE)
        part = closed[a:b] > 0
        inner = part & (eroded[own] > 0)
        lab = _rows_of(labels, r0, a, b)
        inner_count += np.bincount(lab[inner], minlength=count)
        dark_count += np.bincount(lab[inner & dark], minlength=count)
        all_count += np.bincount(lab.ravel(), minlength=count)
        all_dark += np.bincount(lab[dark], minlength=count)
        n_closed += int(part[valid[a:b]].sum())
    del filled
    inner_f = inner_count.astype(np.float64)
    dark_f = dark_count.astype(np.float64)
    # Regions too thin to have an interior are judged on their whole area.
    thin = inner_f == 0
    if thin[big].any():
        inner_f[thin] = all_count[thin]
        dark_f[thin] = all_dark[thin]
    share = np.divide(dark_f, inner_f, out=np.zeros(count), where=inner_f > 0)
    is_snow = big & (share >= _SNOW_DARK_SHARE)
    # A winter scene: bright ground with dark objects over most of the site.
    bright_share = float(n_closed) / n_valid if n_valid else 0.0
    overall = float(dark_f[big].sum() / max(inner_f[big].sum(), 1.0))
    if bright_share >= _WINTER_BRIGHT_SHARE and overall >= _SNOW_DARK_SHARE:
        is_snow = big.copy()
    is_cloud = big & ~is_snow
    for a, b, _, _ in _strips(h, w, 0):
        if b <= r0 or a >= r1:
            continue
        lab = _rows_of(labels, r0, a, b)
        if (found := is_cloud[lab]).any():
            cloud[a:b] = found
        if (found := is_snow[lab]).any():
            snow[a:b] = found


def _holes(mask: np.ndarray) -> np.ndarray:
    """Pixels outside ``mask`` (uint8, 0 or 1) that it encloses (not connected to the
    image border), as uint8 0 or 1. Found within the rows ``r0:r1`` that hold ``mask``'s
    pixels: outside them every row is outside ``mask`` and reaches the border, so what
    touches their first or last row touches the border."""
    out = np.zeros(mask.shape, dtype=np.uint8)
    r0, r1 = _row_span(mask)
    if r0 == r1:
        return out
    count, labels = _components(np.asarray(mask[r0:r1] == 0, dtype=np.uint8), 4)
    touches = np.zeros(count, dtype=bool)
    for edge in (labels[0, :], labels[-1, :], labels[:, 0], labels[:, -1]):
        touches[edge] = True
    touches[0] = True  # label 0: the mask itself
    enclosed = (~touches).astype(np.uint8)
    for a, b, _, _ in _strips(mask.shape[0], mask.shape[1], 0):
        if b > r0 and a < r1 and (found := enclosed[_rows_of(labels, r0, a, b)]).any():
            out[a:b] = found
    return out


def _row_span(mask: np.ndarray) -> tuple[int, int]:
    """The rows ``r0:r1`` outside which ``mask`` is 0 everywhere; ``(0, 0)`` when it is
    0 everywhere. A region (connected component) lies within them, so its labels are
    found on those rows only (session 36: 2 bytes a pixel of the whole window each)."""
    rows = np.flatnonzero(mask.any(axis=1))
    return (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 0)


def _rows_of(labels: np.ndarray, r0: int, a: int, b: int) -> np.ndarray:
    """Rows ``a:b`` of the window from ``labels``, the labels of its rows from ``r0``;
    0 (background) in rows ``labels`` does not cover."""
    r1 = r0 + labels.shape[0]
    if r0 <= a and b <= r1:
        return labels[a - r0 : b - r0]
    out = np.zeros((b - a, labels.shape[1]), dtype=labels.dtype)
    lo, hi = max(a, r0), min(b, r1)
    if lo < hi:
        out[lo - a : hi - a] = labels[lo - r0 : hi - r0]
    return out


def _grow(image: ImageRows, valid: np.ndarray, cloud: np.ndarray, gsd: float) -> np.ndarray:
    """Add each cloud's soft, darker rim: pixels that are still fairly bright and
    grey and connected to the cloud, up to ``_RIM_M`` metres out (hysteresis).
    Strip by strip, always :data:`_RIM_STEPS` steps: once a step adds nothing, the
    next ones add nothing either."""
    if not cloud.any():
        return cloud
    step = _odd(_RIM_M / (_RIM_STEPS * gsd), 3)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (step, step))
    h, w = cloud.shape
    out = np.zeros((h, w), dtype=bool)
    for a, b, lo, hi in _strips(h, w, _RIM_STEPS * (step // 2)):
        seed = cloud[lo:hi]
        if not seed.any():
            continue
        mx, mn = _extremes(image[lo:hi])
        rim_ok = valid[lo:hi] & (mn >= _RIM_MIN) & _greyish(mx, mn, _GREY_MAX_SAT + 0.08)
        del mx, mn
        grown = seed.astype(np.uint8)
        allowed = (rim_ok | seed).astype(np.uint8)
        for _ in range(_RIM_STEPS):
            grown = cv2.dilate(grown, kernel) & allowed
        if (found := grown[a - lo : b - lo] > 0).any():
            out[a:b] = found
    return out


def _haze(
    image: ImageRows,
    valid: np.ndarray,
    cloud: np.ndarray,
    snow: np.ndarray,
    gsd: float,
    px_area: float,
) -> np.ndarray:
    """Regions with a raised dark channel and low local contrast, away from ``cloud``
    and ``snow``."""
    h, w = valid.shape
    k = _odd(_HAZE_WINDOW_M / gsd, 3)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    hazy = np.zeros((h, w), dtype=np.uint8)
    found = False
    for a, b, lo, hi in _strips(h, w, k // 2):
        own = slice(a - lo, b - lo)
        candidates = valid[lo:hi] & ~cloud[lo:hi] & ~snow[lo:hi]
        if not candidates.any():
            continue
        mx, mn = _extremes(image[lo:hi])
        dark = cv2.erode(np.where(candidates, mn, np.uint8(255)).astype(np.uint8), kernel)
        part = candidates[own] & (dark[own] >= _HAZE_DARK_MIN)
        del dark
        if not part.any():
            continue
        part &= (_local_std(_grey(image[lo:hi]), k) <= _HAZE_STD_MAX)[own]
        sat = (mx.astype(np.float32) - mn) / np.maximum(mx, 1).astype(np.float32)
        del mx, mn
        mean_sat = cv2.boxFilter(sat, cv2.CV_32F, (k, k), borderType=cv2.BORDER_REFLECT)
        part &= (mean_sat <= _HAZE_MAX_SAT)[own]
        if part.any():
            hazy[a:b] = part
            found = True
    if not found:
        return np.zeros((h, w), dtype=bool)
    r0, r1 = _row_span(hazy)  # the regions lie within these rows: labelled there only
    count, labels, stats, _ = _components(hazy[r0:r1], 8, stats=True)
    del hazy
    keep = np.zeros(count, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= max(4, math.ceil(_HAZE_MIN_M2 / px_area))
    out = np.zeros((h, w), dtype=bool)
    for a, b, _, _ in _strips(h, w, 0):
        if b > r0 and a < r1 and (kept := keep[_rows_of(labels, r0, a, b)]).any():
            out[a:b] = kept
    return out


def _components(mask: np.ndarray, connectivity: int, *, stats: bool = False) -> Any:
    """OpenCV's connected components of ``mask`` (uint8), with their stats when
    ``stats``: labels of 2 bytes a pixel where they fit (OpenCV refuses, rather than
    wraps, more labels than 2 bytes hold: then 4 bytes). The regions are the same
    whatever the labels' type, and every result here depends on the regions only
    (session 36: the 4-byte labels were the largest whole-window map)."""
    run = cv2.connectedComponentsWithStats if stats else cv2.connectedComponents
    try:
        return run(mask, connectivity=connectivity, ltype=cv2.CV_16U)
    except cv2.error:
        return run(mask, connectivity=connectivity, ltype=cv2.CV_32S)


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
