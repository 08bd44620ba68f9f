"""Measure the ground sample distance of an image from the rails of its tracks.

A PNG or JPEG carries no scale, and the default detector needs it to about ±10 %.
Where track is visible, the image measures itself: the two rails of standard-gauge
track are a fixed distance apart (:data:`RAIL_CENTRES_M`), so their spacing in pixels
gives metres per pixel.

Method (:func:`estimate_gsd_from_rails`):

1. **Directions.** The structure tensor (gradients at σ = 1 px, smoothed at 3 px) gives
   a direction and a coherence per pixel; a histogram of directions weighted by the
   coherent energy (λ1 − λ2) gives up to three candidate line directions per block
   (blocks of at most 768 px, so that curves and fans of tracks get their own).
2. **Resampling.** For each direction the block is resampled so the lines run along
   the rows, 4× oversampled across them (a rail crossing the pixel grid at an angle is
   seen at many sub-pixel phases, so the mean profile is finer than one pixel).
3. **Strips.** The resampled block is cut into strips 48 px long along the lines; the
   mean cross-track profile of each strip is searched for thin dark lines: a sample
   darker than both flanks 1–2 px away (rail and its shadow are darker than ballast and
   sleepers; bright line pairs were tried and were rails in only 10 of 108 pairs on
   Muttenz, the China panel and simulator scenes, so they are not used). A line counts
   only if it is also present in each third of the strip (rails are continuous; texture
   is not) and its contrast clears the noise between those thirds.
4. **Pairs.** Two neighbouring lines at least :data:`MIN_SPACING_PX` apart, of similar
   contrast, thin (full width at half depth at most 40 % of their spacing and at most
   2.3 px unless the spacing exceeds 11.5 px), with no other line of their kind
   (contrast at least half, width at most 1.25 times theirs) closer than 1.4 spacings
   outside the pair, are a rail pair. The last two rules reject tracks seen as single
   lines (each track merged into one wider line, from about 0.4 m per pixel): neighbouring
   tracks are evenly spaced or their lines are too wide, while the next track's rail is
   at least about 1.7 rail spacings away from a rail pair (4 m between track centres).
   Two more rules (session 27) reject what simulated 0.5 m yards passed off as rails
   (0.23-0.24 m read for 0.5 m): the near rails of two neighbouring tracks, whose other
   rails, 3 px away, are too close to be found as lines but show as dark dips at the
   same distance (0.3-0.75 spacings) on both outer sides (:func:`_between_tracks`);
   and a line beside an edge (a car's shadowed side), whose profile is the opposite of
   its mirror image about the pair's middle, where a track's is about its own
   (:func:`_mirror`). And a pair with a step between its lines larger than 1.5 times
   their contrast is refused (:func:`_bed_range`): between a track's rails lies only its
   sleeper bed; wider things between two lines (a sleeper band narrower than the pair,
   the ballast between two tracks, a car's roof) made 0.15 m scenes read 0.05 m.
5. **Agreement.** The pair spacings of all strips vote (kernel density of log spacing,
   4 % bandwidth); the strongest spacing must be backed by at least
   :data:`MIN_STRIPS` strips, and those strips must carry at least 40 % of the pairs'
   weight. Each agreeing strip gives its median spacing; the estimate is the median over
   strips, its uncertainty twice the standard error from their spread, at least 4 %
   (a floor for systematic errors, from the Muttenz validation). Where the agreed rails
   are 12 px or more apart (finer than about 0.125 m per pixel), the sleepers crossing a
   track between its rails are resolved: the agreeing pairs must show them, a repeat
   every 0.28-0.5 spacings carrying at least 20 % of the along-track variation between
   the lines (:func:`_sleeper_share`; 0.6-0.8 on Muttenz, 0.06 between the sides of a
   thin outline on plain ground that passed every other rule: session 29).

6. **Upsampled images.** Rails in a figure upsampled 2× or more are too wide for the
   width rule. When nothing is measured at full resolution and the image holds almost no
   detail finer than k pixels (:func:`_detail_ratio` below 0.25: 0.10–0.16 for images
   upsampled k× or more, about 0.4–0.8 for images at their own resolution), the vote is
   repeated after k× area downsampling (k = 2, then 3), and spacings are given in
   full-resolution pixels. Sharp images are never retried coarser: a double track at
   0.5–0.75 m, downsampled, would show its two tracks as thin lines a "rail spacing" apart.

It refuses (``measured=False`` with the reason) rather than guess: when no rail pairs
are found (no track, rails hidden, or rails closer than :data:`MIN_SPACING_PX`, i.e.
coarser than about 0.38 m per pixel: :func:`railwatch.rails.coarsest_measurable_m`) or
when too few strips agree.

Limits, stated plainly: it assumes standard gauge; broad-gauge (1520 mm) track gives a
scale 5.6 % too fine (pass ``rail_centres_m=BROAD_GAUGE_RAIL_CENTRES_M``). Only dark
rails on straight stretches of at least 48 px count; figures upsampled by less than 2×
(e.g. 1.5×) have rails too wide to pass and are refused. Between about 0.4 and 0.7 m per
pixel, two neighbouring tracks seen as single thin lines could pass for the rails of one
track at a third of the scale; the width and neighbour rules stop this on the images
tried, not in every case. Images larger than 8 × 8 blocks are sampled (64 blocks spread
evenly), so track in a small corner of a huge image can be missed. Validation figures:
docs/detection.md, "Measuring the scale from the rails"
(``benchmarks/validate_rail_scale.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import cv2
import numpy as np

# the track geometry (rail-head centres, closest spacing) lives in railwatch.rails,
# which the CLI's help reads without numpy and OpenCV; re-exported here as before
from railwatch.rails import (
    BROAD_GAUGE_RAIL_CENTRES_M,
    MIN_SPACING_PX,
    RAIL_CENTRES_M,
    RAIL_HEAD_M,
    coarsest_measurable_m,
)

if TYPE_CHECKING:
    from railwatch.imagery.read import FileItemScaling, ItemScaling

__all__ = [
    "BROAD_GAUGE_RAIL_CENTRES_M",
    "LINE_FLANKS_PX",
    "LINE_MIN_CONTRAST",
    "LINE_NOISE_K",
    "LINE_PARTS",
    "MIN_SPACING_PX",
    "MIN_STRIPS",
    "RAIL_CENTRES_M",
    "RAIL_HEAD_M",
    "FileScale",
    "RailScale",
    "ScaleCheck",
    "check_gsd",
    "estimate_gsd_from_rails",
    "measure_file",
    "rail_centres_for_gauge",
    "scale_disagrees",
    "unit_luminance",
]

#: Strips (48 px of straight track each) that must agree on the spacing (with three, a
#: simulator scene at 0.15 m whose rails barely show read 18.4 px, about the width of
#: its sleeper band, 2.7 m, instead of 10.5 px).
MIN_STRIPS = 4
#: Largest rail spacing looked for (pixels): 0.025 m per pixel.
MAX_SPACING_PX = 60.0

_OVERSAMPLE = 4  # samples per pixel across the lines
_STRIP_PX = 48  # strip length along the lines
#: Parts (thirds) of a strip in which a dark line must persist to be a rail (public
#: with the three below since 2026-12-07, session 46: ``detect.track_evidence`` finds
#: rails by the same rule).
LINE_PARTS = 3
_BLOCK_PX = 768
_FACTORS = (1, 2, 3)  # area downsampling tried in turn until the rails are measured
_UPSAMPLED_DETAIL = 0.25  # detail ratio below which an image counts as upsampled
_MAX_BLOCKS = 64
#: The dark-line measure's flanks: this far (pixels) either side of the line's centre.
LINE_FLANKS_PX = (1.0, 1.5, 2.0)
#: The least contrast (luminance in [0, 1]) of a dark line that is a rail.
LINE_MIN_CONTRAST = 3.0 / 255.0
#: A rail's contrast exceeds this many standard deviations of the noise between parts.
LINE_NOISE_K = 4.0
_MAX_WIDTH_RATIO = 0.4  # line width (FWHM) / spacing
_WIDE_PX = 2.3  # lines wider than this (FWHM, pixels) are rails only when far apart
_ISOLATION = 1.4  # nearest other line outside a pair, in spacings
#: Where the other rail of each of two neighbouring tracks lies outside a pair of their
#: near rails (in spacings), how strong it must be (a share of the pair's contrast) and
#: how alike its distances on the two sides (spacings): :func:`_between_tracks`.
_OUTER_DIP = (0.3, 0.75)
_OUTER_DIP_CONTRAST = 0.3
_OUTER_DIP_SAME = 0.15
#: Least mirror correlation of a pair's profile about its middle (:func:`_mirror`).
_MIN_MIRROR = -0.7
#: Largest range of the profile between a pair's lines, as a multiple of their contrast,
#: and how far from each line the rail itself (its shadow, tie plates) may reach there:
#: :func:`_bed_range`.
_MAX_BED_RANGE = 1.5
_RAIL_REACH = (1.5, 0.15)  # pixels, spacings: the larger of the two
_MIN_WEIGHT_SHARE = 0.4
#: Rail spacing (pixels of the image as measured, after any downsampling) from which the
#: sleepers between the rails must show, the share of the along-track variation between
#: the rails they must carry, and their period in rail spacings (0.5-0.7 m apart over
#: 1.5-1.6 m: 0.31-0.47): :func:`_sleeper_share`.
_SLEEPERS_FROM_PX = 12.0
_MIN_SLEEPER_SHARE = 0.2
_SLEEPER_PERIOD = (0.28, 0.5)
_AGREE = 0.08  # a strip agrees when its spacing is within 8 % of the mode
#: Smallest half-width of the interval (relative). Muttenz (0.10 m exactly) reads 2.5-3 %
#: fine at 0.10-0.20 m with a statistical interval of 2 %: a systematic part (where the
#: line centre falls on rail head and shadow, real rail-head widths) is not in the spread.
_MIN_REL_UNCERTAINTY = 0.04


@dataclass(frozen=True)
class RailScale:
    """The result of :func:`estimate_gsd_from_rails`.

    When ``measured`` is True, ``gsd`` is metres per pixel, ``gsd_low``/``gsd_high``
    its interval (two standard errors over strips, at least ±4 %), ``spacing_px`` the
    rail spacing, ``spread`` the relative spread (robust standard deviation) of the
    strips' spacings, ``strips`` how many strips agreed out of ``strips_with_pairs``,
    ``downsampled`` the area downsampling (1, 2 or 3) at which the rails were measured
    (spacings are given in full-resolution pixels). Otherwise ``reason`` says why
    nothing was measured.
    """

    measured: bool
    reason: str
    gsd: float | None = None
    gsd_low: float | None = None
    gsd_high: float | None = None
    spacing_px: float | None = None
    spread: float | None = None
    strips: int = 0
    strips_with_pairs: int = 0
    pairs: int = 0
    directions_deg: tuple[float, ...] = field(default_factory=tuple)
    rail_centres_m: float = RAIL_CENTRES_M
    downsampled: int = 1

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("gsd", "gsd_low", "gsd_high", "spacing_px", "spread"):
            if d[k] is not None:
                d[k] = round(float(d[k]), 4)
        d["directions_deg"] = [round(float(a), 1) for a in self.directions_deg]
        d["rail_centres_m"] = round(self.rail_centres_m, 3)
        return d


def scale_disagrees(given: float, scale: RailScale, tolerance: float = 0.15) -> bool:
    """True when ``given`` (metres per pixel) lies outside the measured interval widened
    by ``tolerance`` (relative) on each side; False when nothing was measured."""
    if not scale.measured or scale.gsd_low is None or scale.gsd_high is None:
        return False
    return not (scale.gsd_low * (1 - tolerance) <= given <= scale.gsd_high * (1 + tolerance))


# --------------------------------------------------------------------------- pieces


def unit_luminance(image: np.ndarray) -> np.ndarray:
    """Luminance in [0, 1] (float32) of an (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array
    (ITU-R BT.601 weights): 8-bit integers divided by 255, wider ones by their 99.5th
    percentile, floats taken as they are (``_gray`` before 2026-12-07, session 46)."""
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 3:
        if a.shape[2] not in (3, 4):
            raise ValueError(f"expected 1, 3 or 4 bands, got shape {a.shape}")
        a = a[:, :, :3].astype(np.float32)
        g = 0.299 * a[:, :, 0] + 0.587 * a[:, :, 1] + 0.114 * a[:, :, 2]
    elif a.ndim == 2:
        g = a.astype(np.float32)
    else:
        raise ValueError(f"expected an image array, got shape {a.shape}")
    if np.issubdtype(np.asarray(image).dtype, np.integer):
        info = np.iinfo(np.asarray(image).dtype)
        top = 255.0 if info.max <= 255 else float(max(np.percentile(g, 99.5), 1.0))
        g = g / top
    return np.ascontiguousarray(g, dtype=np.float32)


def _directions(gray: np.ndarray, max_n: int = 3) -> list[float]:
    """Line directions (degrees in [0, 180), image x right, y down) of a block, strongest
    first: peaks of the structure-tensor direction histogram weighted by λ1 − λ2."""
    g = cv2.GaussianBlur(gray, (0, 0), 1.0)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), 3.0)
    jxy = cv2.GaussianBlur(gx * gy, (0, 0), 3.0)
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), 3.0)
    coherent = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2)
    grad_dir = 0.5 * np.degrees(np.arctan2(2 * jxy, jxx - jyy))
    line_dir = (grad_dir + 90.0) % 180.0
    hist, _ = np.histogram(line_dir, bins=360, range=(0.0, 180.0), weights=coherent)
    if not np.isfinite(hist).all() or hist.max() <= 0:
        return []
    # Circular smoothing (sigma 1 degree = 2 bins).
    k = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    padded = np.concatenate([hist[-6:], hist, hist[:6]])
    smooth = np.convolve(padded, k / k.sum(), mode="same")[6:-6]
    order = np.argsort(smooth)[::-1]
    peaks: list[float] = []
    top = smooth[order[0]]
    for b in order:
        if smooth[b] < 0.3 * top or len(peaks) >= max_n:
            break
        left, right = smooth[(b - 1) % 360], smooth[(b + 1) % 360]
        if smooth[b] < left or smooth[b] < right:
            continue
        ang = (b + 0.5) * 0.5
        if all(min(abs(ang - p), 180 - abs(ang - p)) >= 8.0 for p in peaks):
            peaks.append(ang)
    return peaks


def _resample(
    gray: np.ndarray, x0: int, y0: int, w: int, h: int, angle_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """The block resampled so that direction ``angle_deg`` runs along the rows, 4× across
    them (rows = cross-track samples, columns = along-track pixels), with a validity mask."""
    t = (math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg)))
    n = (-t[1], t[0])
    u_len = abs(w * t[0]) + abs(h * t[1])
    v_len = abs(w * t[1]) + abs(h * t[0])
    cols, rows = math.ceil(u_len), math.ceil(v_len * _OVERSAMPLE)
    cx, cy = x0 + w / 2.0, y0 + h / 2.0
    s = 1.0 / _OVERSAMPLE
    m = np.array(
        [
            [t[0], n[0] * s, cx - u_len / 2 * t[0] - v_len / 2 * n[0]],
            [t[1], n[1] * s, cy - u_len / 2 * t[1] - v_len / 2 * n[1]],
        ],
        dtype=np.float64,
    )
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    out = cv2.warpAffine(gray, m, (cols, rows), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    ones = np.ones_like(gray)
    valid = cv2.warpAffine(ones, m, (cols, rows), flags=flags, borderValue=0.0) > 0.999
    # The rotated rectangle covers the block and, at its corners, parts of neighbouring
    # blocks (counted twice; harmless for a vote); samples outside the image are invalid.
    return out, valid


def _line_measure(p: np.ndarray, flank: int) -> np.ndarray:
    """Dark-line measure of a profile: min(p[y - f], p[y + f]) - p[y] (NaN at the ends)."""
    out = np.full_like(p, np.nan)
    if len(p) > 2 * flank:
        out[flank:-flank] = np.minimum(p[: -2 * flank], p[2 * flank :]) - p[flank:-flank]
    return out


def _best_measure(p: np.ndarray) -> np.ndarray:
    flanks = [round(f * _OVERSAMPLE) for f in LINE_FLANKS_PX]
    stack = np.stack([_line_measure(p, f) for f in flanks])
    with np.errstate(invalid="ignore"):
        return np.asarray(np.nanmax(np.where(np.isnan(stack), -np.inf, stack), axis=0))


def _smooth1d(p: np.ndarray, sigma: float) -> np.ndarray:
    r = math.ceil(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.pad(p, r, mode="edge")
    return np.convolve(padded, k, mode="valid")


@dataclass(frozen=True)
class _Line:
    pos: float  # cross-track position, pixels
    contrast: float  # against flanks 1-2 px away
    index: int  # sample of the profile


def _lines(profile: np.ndarray, parts: list[np.ndarray]) -> list[_Line]:
    """Thin dark lines of a strip's mean profile (samples at 1/4 px) that persist in each
    part of the strip and whose contrast clears the noise between parts."""
    sig = 0.5 * _OVERSAMPLE  # 0.5 px pre-smoothing
    p = _smooth1d(profile, sig)
    meas = _best_measure(p)
    part_meas = np.stack([_best_measure(_smooth1d(q, sig)) for q in parts])
    finite = np.isfinite(meas) & np.isfinite(part_meas).all(axis=0)
    if finite.sum() < 8 * _OVERSAMPLE:
        return []
    resid = part_meas[:, finite] - meas[finite]
    noise = 1.4826 * float(np.median(np.abs(resid - np.median(resid)))) / math.sqrt(LINE_PARTS)
    thr = max(LINE_MIN_CONTRAST, LINE_NOISE_K * noise)
    m = np.where(finite, meas, -np.inf)
    cand = np.flatnonzero((m[1:-1] > thr) & (m[1:-1] >= m[:-2]) & (m[1:-1] > m[2:])) + 1
    tol = round(0.75 * _OVERSAMPLE)
    out: list[_Line] = []
    for i in cand:
        lo, hi = max(0, i - tol), min(len(m), i + tol + 1)
        if not all(np.nanmax(part_meas[k, lo:hi]) >= 0.35 * m[i] for k in range(LINE_PARTS)):
            continue
        # Sub-sample peak (parabola through the three samples).
        a, b, c = m[i - 1], m[i], m[i + 1]
        den = a - 2 * b + c
        off = 0.5 * (a - c) / den if np.isfinite(den) and den < 0 else 0.0
        # Width: full width at half the contrast, on the unsmoothed profile, with the
        # crossings interpolated between samples.
        out.append(_Line((i + off) / _OVERSAMPLE, float(m[i]), int(i)))
    return out


def _width(p: np.ndarray, i: int, reach_px: float) -> float:
    """Full width (pixels) at half depth of the dip of ``p`` (unsmoothed profile) at
    sample ``i``; the depth is measured from the lower of the brightest samples on either
    side within ``reach_px`` (half the pair's spacing), so that a track seen as one line
    (two rails merged) is measured whole, not from a bump between its rails."""
    r = _OVERSAMPLE // 2
    lo = max(0, i - r)
    j = lo + int(np.argmin(p[lo : i + r + 1]))
    reach = max(round(reach_px * _OVERSAMPLE), r + 1)
    left_side = p[max(0, j - reach) : max(0, j - r)]
    right_side = p[j + r + 1 : j + reach + 1]
    if len(left_side) == 0 or len(right_side) == 0:
        return math.inf  # at the end of the profile: cannot tell
    depth = min(float(left_side.max()), float(right_side.max())) - float(p[j])
    if depth <= 0:
        return math.inf
    half = p[j] + 0.5 * depth
    a = j
    while a > 0 and p[a] < half:
        a -= 1
    b = j
    while b < len(p) - 1 and p[b] < half:
        b += 1
    left = a + (half - p[a]) / (p[a + 1] - p[a]) if p[a + 1] != p[a] else float(a)
    right = b - (half - p[b]) / (p[b - 1] - p[b]) if p[b - 1] != p[b] else float(b)
    return float(right - left) / _OVERSAMPLE


def _pairs(lines: list[_Line], profile: np.ndarray) -> list[tuple[float, float, int, int]]:
    """Rail pairs among the dark lines of a strip's mean ``profile``: (spacing px, weight,
    and the profile samples of the two lines)."""
    if len(lines) < 2:
        return []
    pos = np.array([ln.pos for ln in lines])
    order = np.argsort(pos)
    ls = [lines[k] for k in order]
    pos = pos[order]
    out: list[tuple[float, float, int, int]] = []
    smooth: np.ndarray | None = None  # profile and line measure, for the first candidate
    meas: np.ndarray | None = None
    for k in range(len(ls) - 1):
        d = pos[k + 1] - pos[k]
        if not (MIN_SPACING_PX <= d <= MAX_SPACING_PX):
            continue
        a, b = ls[k], ls[k + 1]
        c_min = min(a.contrast, b.contrast)
        if c_min < 0.4 * max(a.contrast, b.contrast):
            continue
        w_max = max(_width(profile, a.index, d / 2), _width(profile, b.index, d / 2))
        if w_max > min(_MAX_WIDTH_RATIO * d, max(_WIDE_PX, 0.2 * d)):
            continue  # rails are thin: wider lines are whole tracks or other things

        def like(ln: _Line, c_min: float = c_min, w_max: float = w_max, d: float = d) -> bool:
            """A line that could be a rail of the same kind (faint or wide lines, such
            as the gap between two ballast beds, do not count as neighbours)."""
            return ln.contrast >= 0.5 * c_min and _width(profile, ln.index, d / 2) <= 1.25 * w_max

        left = next((pos[k] - pos[j] for j in range(k - 1, -1, -1) if like(ls[j])), math.inf)
        right = next((pos[j] - pos[k + 1] for j in range(k + 2, len(ls)) if like(ls[j])), math.inf)
        if left < _ISOLATION * d or right < _ISOLATION * d:
            continue  # evenly spaced lines (tracks seen as single lines), not a rail pair
        if smooth is None or meas is None:
            smooth = _smooth1d(profile, 0.5 * _OVERSAMPLE)
            meas = _best_measure(smooth)
        if _between_tracks(meas, a.index, b.index, d, c_min):
            continue  # the near rails of two neighbouring tracks, not one track's rails
        if _mirror(smooth, a.index, b.index, d) < _MIN_MIRROR:
            continue  # dark on one side, bright on the other: an edge (a car's side)
        if _bed_range(smooth, a.index, b.index, d) > _MAX_BED_RANGE * c_min:
            continue  # something wider than a rail lies between them: not one track's bed
        out.append((float(d), c_min, a.index, b.index))
    return out


def _outer_dip(meas: np.ndarray, i: int, step: int, d: float) -> tuple[float, float] | None:
    """The strongest dark dip (a local maximum of the line measure ``meas``) between
    :data:`_OUTER_DIP` spacings ``d`` beyond the line at sample ``i``, on the side
    ``step`` (-1 before it, +1 after it): (its contrast, its distance in spacings), or
    None when the profile ends first or there is no dip."""
    near, far = (round(f * d * _OVERSAMPLE) for f in _OUTER_DIP)
    lo, hi = sorted((i + step * near, i + step * far))
    if lo < 1 or hi >= len(meas) - 1:
        return None
    seg = meas[lo - 1 : hi + 2]
    inner = seg[1:-1]
    peak = np.isfinite(inner) & (inner >= seg[:-2]) & (inner > seg[2:])
    if not peak.any():
        return None
    j = int(np.flatnonzero(peak)[np.argmax(inner[peak])])
    return float(inner[j]), abs(lo + j - i) / (_OVERSAMPLE * d)


def _mirror(p: np.ndarray, ia: int, ib: int, d: float) -> float:
    """Correlation of the profile ``p`` with its mirror image about the middle of the
    pair at samples ``ia``, ``ib`` (``d`` px apart), over one spacing either side of the
    middle; 1.0 when the profile ends first. A track's rails lie on a bed symmetric about
    its centreline (ballast, sleepers), so its profile is about its own mirror image; a
    line beside an edge (a car's side and its shadow next to the ballast) is the
    opposite of its mirror image."""
    c = 0.5 * (ia + ib)
    k = np.arange(-round(d * _OVERSAMPLE), round(d * _OVERSAMPLE) + 1)
    if c + k[0] < 0 or c + k[-1] > len(p) - 1:
        return 1.0
    grid = np.arange(len(p), dtype=np.float64)
    left = np.interp(c - k, grid, p)
    right = np.interp(c + k, grid, p)
    left -= left.mean()
    right -= right.mean()
    den = math.sqrt(float((left * left).sum() * (right * right).sum()))
    return float((left * right).sum()) / den if den > 0 else 1.0


def _bed_range(p: np.ndarray, ia: int, ib: int, d: float) -> float:
    """Range (brightest minus darkest) of the profile ``p`` between the lines at samples
    ``ia`` < ``ib`` (``d`` px apart), leaving out :data:`_RAIL_REACH` next to each line
    (the rail, its shadow and tie plates); 0.0 when nothing is left. Between the two rails
    of a track lies only its sleeper bed, which, averaged along a strip, varies less than
    the rails stand out from it. A larger step between two lines is the edge of something
    else lying there: a sleeper band narrower than the pair (the lines are then gaps
    between the ballast beds of neighbouring tracks, 4.6-5 m apart), the bright ballast
    between two tracks (their near rails), a car's lit side and roof (the same edges of
    cars on neighbouring tracks)."""
    m = max(round(_RAIL_REACH[0] * _OVERSAMPLE), round(_RAIL_REACH[1] * d * _OVERSAMPLE))
    inner = p[ia + m : ib - m + 1]
    return float(inner.max() - inner.min()) if len(inner) else 0.0


def _sleeper_share(strip: np.ndarray, ia: int, ib: int, d: float) -> float:
    """Share of the along-track variation between the lines at rows ``ia`` < ``ib`` of a
    resampled ``strip`` (``d`` px apart) that repeats every :data:`_SLEEPER_PERIOD`
    spacings: the sleepers, 0.5-0.7 m apart, that cross a track between its rails (NaN
    when nothing lies between the lines, leaving out :data:`_RAIL_REACH`). About 0.6-0.8
    on Muttenz at 0.06-0.12 m; 0.06 between the long sides of a thin rectangle outline
    on plain ground, which passes every test on the profile across the lines."""
    m = max(round(_RAIL_REACH[0] * _OVERSAMPLE), round(_RAIL_REACH[1] * d * _OVERSAMPLE))
    inner = strip[ia + m : ib - m + 1]
    if len(inner) == 0:
        return math.nan
    sig = inner.mean(axis=0)
    sig = (sig - sig.mean()) * np.hanning(len(sig))
    power = np.abs(np.fft.rfft(sig))[1:] ** 2
    total = float(power.sum())
    if total <= 0.0:
        return math.nan
    period = 1.0 / np.fft.rfftfreq(len(sig))[1:]
    band = (period >= _SLEEPER_PERIOD[0] * d) & (period <= _SLEEPER_PERIOD[1] * d)
    return float(power[band].sum()) / total


def _between_tracks(meas: np.ndarray, ia: int, ib: int, d: float, c_min: float) -> bool:
    """True when the lines at samples ``ia`` < ``ib`` (``d`` px apart, contrast at least
    ``c_min``) look like the near rails of two neighbouring tracks: each has, outside the
    pair, a dark dip of at least :data:`_OUTER_DIP_CONTRAST` of theirs at 0.3-0.75
    spacings, at the same distance on both sides (within :data:`_OUTER_DIP_SAME`
    spacings): the other rail of each track, one gauge away. Track centres 4-5.3 m apart
    put the gap between near rails at 1.7-2.5 gauges, so the other rails sit 0.4-0.6
    of it outside. Such rails can be too close to be found as lines of their own (0.5 m
    per pixel: 3 px), which the isolation rule needs."""
    left = _outer_dip(meas, ia, -1, d)
    right = _outer_dip(meas, ib, 1, d)
    if left is None or right is None:
        return False
    thr = _OUTER_DIP_CONTRAST * c_min
    return left[0] >= thr and right[0] >= thr and abs(left[1] - right[1]) <= _OUTER_DIP_SAME


def _blocks(h: int, w: int) -> list[tuple[int, int, int, int]]:
    ny, nx = max(1, math.ceil(h / _BLOCK_PX)), max(1, math.ceil(w / _BLOCK_PX))
    bh, bw = math.ceil(h / ny), math.ceil(w / nx)
    blocks = [
        (x, y, min(bw, w - x), min(bh, h - y)) for y in range(0, h, bh) for x in range(0, w, bw)
    ]
    if len(blocks) > _MAX_BLOCKS:
        pick = np.linspace(0, len(blocks) - 1, _MAX_BLOCKS).round().astype(int)
        blocks = [blocks[k] for k in pick]
    return blocks


def _strip_pairs(gray: np.ndarray, angle: float) -> list[list[tuple[float, float, float]]]:
    """Rail pairs (dark lines) per strip of one block at one direction: (spacing px,
    weight, :func:`_sleeper_share`)."""
    h, w = gray.shape
    img, valid = _resample(gray, 0, 0, w, h, angle)
    cols = img.shape[1]
    result: list[list[tuple[float, float, float]]] = []
    part_len = _STRIP_PX // LINE_PARTS
    for c0 in range(0, cols - _STRIP_PX + 1, _STRIP_PX):
        sl = slice(c0, c0 + _STRIP_PX)
        ok = valid[:, sl].all(axis=1)
        if ok.sum() < 12 * _OVERSAMPLE:
            continue
        # Longest run of fully valid rows (the profile must be contiguous).
        idx = np.flatnonzero(ok)
        breaks = np.flatnonzero(np.diff(idx) > 1)
        starts = np.concatenate([[0], breaks + 1])
        ends = np.concatenate([breaks, [len(idx) - 1]])
        best = int(np.argmax(ends - starts))
        r0, r1 = idx[starts[best]], idx[ends[best]] + 1
        if r1 - r0 < 12 * _OVERSAMPLE:
            continue
        strip = img[r0:r1, sl]
        profile = strip.mean(axis=1)
        parts = [
            strip[:, k * part_len : (k + 1) * part_len].mean(axis=1) for k in range(LINE_PARTS)
        ]
        pairs = _pairs(_lines(profile, parts), profile)
        result.append([(d, wt, _sleeper_share(strip, ia, ib, d)) for d, wt, ia, ib in pairs])
    return result


def _mode(spacings: np.ndarray, weights: np.ndarray) -> float:
    """Mode of the weighted kernel density of log spacing (4 % bandwidth)."""
    logs = np.log(spacings)
    grid = np.arange(float(logs.min()) - 0.1, float(logs.max()) + 0.1, 0.005)
    dens = (weights[None, :] * np.exp(-0.5 * ((grid[:, None] - logs[None, :]) / 0.04) ** 2)).sum(
        axis=1
    )
    return float(math.exp(grid[int(np.argmax(dens))]))


def _block_votes(gray: np.ndarray) -> tuple[list[float], list[list[tuple[float, float, float]]]]:
    """Directions and rail pairs per strip of one block (luminance in [0, 1])."""
    directions = _directions(gray)
    per_strip: list[list[tuple[float, float, float]]] = []
    for ang in directions:
        per_strip += _strip_pairs(gray, ang)
    return directions, per_strip


def estimate_gsd_from_rails(
    image: np.ndarray,
    *,
    rail_centres_m: float = RAIL_CENTRES_M,
    min_strips: int = MIN_STRIPS,
) -> RailScale:
    """Metres per pixel of ``image`` from the spacing of its rails (see the module doc).

    ``image`` is an (H, W) or (H, W, 3|4) array (uint8, uint16 or float in [0, 1]).
    ``rail_centres_m`` is the distance between rail-head centres (default standard
    gauge). Returns a :class:`RailScale`; ``measured`` is False, with the reason, when
    the rails cannot be measured.
    """
    if rail_centres_m <= 0:
        raise ValueError("rail_centres_m must be positive")
    gray = unit_luminance(image)
    h, w = gray.shape
    if min(h, w) < _STRIP_PX:
        return _too_small(w, h, rail_centres_m)

    def read(block: tuple[int, int, int, int]) -> np.ndarray:
        x0, y0, bw, bh = block
        return gray[y0 : y0 + bh, x0 : x0 + bw]

    return _measure(read, h, w, rail_centres_m, min_strips)


def _measure(
    read: Callable[[tuple[int, int, int, int]], np.ndarray],
    h: int,
    w: int,
    rail_centres_m: float,
    min_strips: int,
) -> RailScale:
    """Vote over the blocks at full resolution, then, if nothing was measured and the
    image looks upsampled (:func:`_detail_ratio`), after 2× or 3× area downsampling: an
    upsampled image has rails too wide for the width rule until it is brought back to
    its own sharpness. A sharp image is not retried coarser: there two tracks seen as
    single thin lines would pass for rails."""
    first: RailScale | None = None
    tried: list[int] = []
    detail = dict.fromkeys(_FACTORS, 0.0)
    weight = dict.fromkeys(_FACTORS, 0.0)
    for factor in _FACTORS:
        if min(h, w) // factor < _STRIP_PX:
            break
        if factor > 1 and (
            weight[factor] == 0 or detail[factor] / weight[factor] > _UPSAMPLED_DETAIL
        ):
            continue  # the image holds detail finer than `factor` px: not upsampled
        tried.append(factor)
        directions: list[float] = []
        per_strip: list[list[tuple[float, float, float]]] = []
        for block in _blocks(h, w):
            g = read(block)
            if factor == 1:
                for k in _FACTORS[1:]:
                    if min(g.shape) >= 4 * k:
                        detail[k] += _detail_ratio(g, k) * g.size
                        weight[k] += g.size
            else:
                g = g[: g.shape[0] - g.shape[0] % factor, : g.shape[1] - g.shape[1] % factor]
                if min(g.shape) // factor < _STRIP_PX:
                    continue
                size = (g.shape[1] // factor, g.shape[0] // factor)
                g = cv2.resize(g, size, interpolation=cv2.INTER_AREA)
            dirs, strips = _block_votes(g)
            directions += dirs
            per_strip += [[(d * factor, wt, sl) for d, wt, sl in st] for st in strips]
        result = _decide(directions, per_strip, rail_centres_m, min_strips, factor)
        if result.measured:
            return result
        if first is None:
            first = result
    assert first is not None  # the caller checked the size for factor 1
    if len(tried) > 1:
        also = " and ".join(f"{f}×" for f in tried[1:])
        first = replace(first, reason=f"{first.reason} (also tried after {also} area downsampling)")
    return first


def _detail_ratio(g: np.ndarray, k: int) -> float:
    """How much of the image's detail is finer than ``k`` pixels: the RMS difference
    between ``g`` and ``g`` area-downsampled by ``k`` and upsampled back (cubic), over
    the RMS of ``g`` minus its Gaussian blur at 2k px. About 0.4-0.8 for images at their
    own resolution (Muttenz at 0.1-0.5 m, the China panel, simulator scenes), 0.10-0.16
    for images upsampled k× or more (2026-12-02)."""
    g = g[: g.shape[0] - g.shape[0] % k, : g.shape[1] - g.shape[1] % k]
    small = cv2.resize(g, (g.shape[1] // k, g.shape[0] // k), interpolation=cv2.INTER_AREA)
    back = cv2.resize(small, (g.shape[1], g.shape[0]), interpolation=cv2.INTER_CUBIC)
    high = g - cv2.GaussianBlur(g, (0, 0), 2.0 * k)
    den = float(np.sqrt(np.mean(high**2)))
    return float(np.sqrt(np.mean((g - back) ** 2))) / den if den > 0 else 1.0


def _too_small(w: int, h: int, rail_centres_m: float) -> RailScale:
    return RailScale(
        False,
        f"image too small ({w} × {h} px): need at least {_STRIP_PX} px per side",
        rail_centres_m=rail_centres_m,
    )


def _decide(
    directions: list[float],
    per_strip: list[list[tuple[float, float, float]]],
    rail_centres_m: float,
    min_strips: int,
    factor: int = 1,
) -> RailScale:
    """The vote of the strips' rail pairs (step 5 of the module doc); spacings are in
    full-resolution pixels, measured after ``factor``× downsampling."""
    dirs = tuple(sorted({round(float(a), 1) for a in directions}))
    with_pairs = [s for s in per_strip if s]
    n_pairs = sum(len(s) for s in with_pairs)

    def refuse(reason: str, strips: int = 0) -> RailScale:
        return RailScale(
            False,
            reason,
            strips=strips,
            strips_with_pairs=len(with_pairs),
            pairs=n_pairs,
            directions_deg=dirs,
            rail_centres_m=rail_centres_m,
        )

    coarsest = coarsest_measurable_m(rail_centres_m)
    if not with_pairs:
        return refuse(
            f"{NO_PAIRS} (two thin parallel lines at least "
            f"{MIN_SPACING_PX:g} px apart, continuous over {_STRIP_PX} px): the image shows "
            "no track, the rails are hidden (cars, snow, blur), or they are closer than "
            f"{MIN_SPACING_PX:g} px (coarser than about {coarsest:.2f} m per pixel)"
        )
    d = np.array([p[0] for s in with_pairs for p in s])
    wts = np.array([p[1] for s in with_pairs for p in s])
    mode = _mode(d, wts)
    near = np.abs(np.log(d / mode)) <= _AGREE
    share = float(wts[near].sum() / wts.sum())
    strip_d = []
    for s in with_pairs:
        ds = [p[0] for p in s if abs(math.log(p[0] / mode)) <= _AGREE]
        if ds:
            strip_d.append(float(np.median(ds)))
    n = len(strip_d)
    if n < min_strips:
        return refuse(
            f"rail pairs agree in only {n} strip(s) of {_STRIP_PX} px (need {min_strips}): "
            "too little straight, visible track to measure; if the image shows track, it "
            f"may be coarser than about {coarsest:.2f} m per pixel",
            n,
        )
    if share < _MIN_WEIGHT_SHARE:
        return refuse(
            f"line pairs disagree: the commonest spacing ({mode:.1f} px) carries only "
            f"{share:.0%} of them (need {_MIN_WEIGHT_SHARE:.0%}); no consistent rail spacing",
            n,
        )
    sd = np.array(strip_d)
    spacing = float(np.median(sd))
    spread = 1.4826 * float(np.median(np.abs(sd - spacing))) / spacing
    if spread == 0.0:
        spread = float(np.std(sd) / spacing)
    if spacing / factor >= _SLEEPERS_FROM_PX:
        shares = np.array([p[2] for s in with_pairs for p in s])[near]
        shares = shares[np.isfinite(shares)]
        sleepers = float(shares.mean()) if len(shares) else 0.0
        if sleepers < _MIN_SLEEPER_SHARE:
            return refuse(
                f"the lines found, {spacing:.1f} px apart ({rail_centres_m / spacing:.3f} m "
                "per pixel if they were rails), show no sleepers between them: a repeat "
                f"every 0.5-0.7 m carries {sleepers:.0%} of the variation there (on track at "
                f"this scale 60-80%; at least {_MIN_SLEEPER_SHARE:.0%} needed), so they are "
                "likely two parallel lines of something else (an outline, kerbs); if the "
                "image shows track whose sleepers are hidden (snow, paving), area-downsample "
                "it 2× or 3× and measure again",
                n,
            )
    rel = max(2.0 * spread / math.sqrt(n), _MIN_REL_UNCERTAINTY)
    how = f"{n} strips agree on rails {spacing:.2f} px apart"
    if factor > 1:
        how += (
            f" (measured after {factor}× area downsampling: at full resolution the lines are "
            "too wide for rails, as in an upsampled image)"
        )
    return RailScale(
        True,
        how,
        gsd=rail_centres_m / spacing,
        gsd_low=rail_centres_m / (spacing * (1 + rel)),
        gsd_high=rail_centres_m / (spacing * (1 - rel)),
        spacing_px=spacing,
        spread=spread,
        strips=n,
        strips_with_pairs=len(with_pairs),
        pairs=n_pairs,
        directions_deg=dirs,
        rail_centres_m=rail_centres_m,
        downsampled=factor,
    )


@dataclass(frozen=True)
class FileScale:
    """:func:`measure_file`'s answer: the rail measurement and what the file's header
    says (``header_gsd`` is None for images without georeferencing)."""

    scale: RailScale
    georeferenced: bool
    header_gsd: float | None
    width: int
    height: int
    #: What the STAC item beside the file declares for its bands' scale and offset
    #: (``imagery.read.file_item_scaling``): the bands were mixed with them where the
    #: file declares none; None where the pixels were read as stored (8-bit, palette).
    item_scaling: FileItemScaling | None = None


@overload
def measure_file(
    path: str | Path,
    *,
    rail_centres_m: float = ...,
    skip_georeferenced: Literal[False] = ...,
    command: str = ...,
    bands: Sequence[int] | None = ...,
) -> FileScale: ...


@overload
def measure_file(
    path: str | Path,
    *,
    rail_centres_m: float = ...,
    skip_georeferenced: bool,
    command: str = ...,
    bands: Sequence[int] | None = ...,
) -> FileScale | None: ...


def measure_file(
    path: str | Path,
    *,
    rail_centres_m: float = RAIL_CENTRES_M,
    skip_georeferenced: bool = False,
    command: str = "railwatch scale",
    bands: Sequence[int] | None = None,
) -> FileScale | None:
    """:func:`estimate_gsd_from_rails` on an image file (PNG, JPEG, GeoTIFF, anything GDAL
    reads), read block by block so that memory stays bounded on large files. With
    ``skip_georeferenced``, a georeferenced file is not measured (None). A 16-bit or
    float file's bands are mixed by the values they stand for: their own scale and
    offset, else those the STAC item beside the file declares (``NAME.json``, as
    ``railwatch ingest`` and ``detect`` take them; :func:`_file_scaling`); an item it
    refuses says to correct it and run ``command`` again. The bands mixed are those
    ``railwatch detect`` reads as colour (``imagery.read.file_bands``: ``bands``, given
    as detect's ``--bands``, else the STAC sidecar's ``eo:bands``, else the file's
    labels; until session 31 the sidecar's were not read here)."""
    from rasterio.errors import RasterioIOError
    from rasterio.windows import Window

    from railwatch.errors import InputError
    from railwatch.imagery.inspect import data_mask
    from railwatch.imagery.read import colour_table, file_bands, open_raster, palette_colours

    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist: check the path")
    if rail_centres_m <= 0:
        raise InputError("the rail spacing must be a positive number of metres")
    ds = open_raster(p)
    with ds:
        georef = ds.crs is not None
        if georef and skip_georeferenced:
            return None
        header = None
        if georef:
            from railwatch.imagery.inspect import ground_gsd

            header = ground_gsd(ds)
        chosen, _ = file_bands(ds, p, bands)
        w, h = ds.width, ds.height
        if min(w, h) < _STRIP_PX:
            return FileScale(_too_small(w, h, rail_centres_m), georef, header, w, h)
        beside = _item_beside(ds, p, command)
        scaling = _file_scaling(ds, chosen, None if beside is None else beside.scaling)
        # a palette image is measured on its colours, as every reader of a file reads
        # it (its indexes, read as grey, are in no order of brightness: session 40)
        table = colour_table(ds, chosen)

        masked = _has_mask(ds)

        def read(block: tuple[int, int, int, int]) -> np.ndarray:
            x0, y0, bw, bh = block
            window = Window(x0, y0, bw, bh)
            data = ds.read(chosen, window=window)
            if table is not None:
                return unit_luminance(palette_colours(data[0], table)[0])
            data = _filled(data, data_mask(ds, window=window) > 0 if masked else None)
            if scaling is not None:
                return _gray_of_values(data, scaling)
            return unit_luminance(np.moveaxis(data, 0, -1))

        try:
            result = _measure(read, h, w, rail_centres_m, MIN_STRIPS)
        except RasterioIOError as err:
            from railwatch.imagery.inspect import unreadable_pixels

            raise unreadable_pixels(p.name, err) from err
    return FileScale(result, georef, header, w, h, beside)


def _has_mask(ds: Any) -> bool:
    """Whether an open dataset marks pixels as no data (a nodata value, an alpha band or
    a mask of its own)."""
    from rasterio.enums import MaskFlags

    return any(MaskFlags.all_valid not in flags for flags in ds.mask_flag_enums)


def _filled(data: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """Bands ``data`` (B, H, W) with their no-data pixels (``valid`` False, or a value
    that is no finite number) set in each band to the median of the others (0 where none
    is), before the bands are mixed and brought to [0, 1]: a float file's -9999 or a
    16-bit file's 65535 fill read as luminance made the strongest line directions and
    edges of every block it lies in, and no rails were found beside it (session 40)."""
    bad = np.zeros(data.shape[-2:], dtype=bool) if valid is None else ~valid
    if np.issubdtype(data.dtype, np.floating):
        bad |= ~np.isfinite(data).all(axis=0)
    if not bad.any():
        return data
    out = data.copy()
    good = ~bad
    for band in out:
        band[bad] = np.median(band[good]) if good.any() else 0
    return out


def _read_as_stored(ds: Any) -> bool:
    """Whether an open dataset's pixels are read as stored whatever scales it or its
    item declare: 8-bit and palette files (as ``read_site_window`` reads them)."""
    from rasterio.enums import ColorInterp

    return bool(ds.dtypes[0] == "uint8" or ds.colorinterp[0] == ColorInterp.palette)


def _item_beside(ds: Any, path: Path, command: str) -> FileItemScaling | None:
    """What the STAC item beside the image ``path`` (open as ``ds``) declares for its
    bands' scale and offset (``imagery.read.file_item_scaling``), None for a file read
    as stored (:func:`_read_as_stored`)."""
    from railwatch.imagery.read import file_item_scaling

    if _read_as_stored(ds):
        return None
    return file_item_scaling(path, command=command)


def _file_scaling(
    ds: Any, bands: Sequence[int], item: ItemScaling | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """The scale and offset of ``bands`` as the pipeline reads them
    (:func:`railwatch.imagery.read.scene_scaling`: the file's own, else ``item``, those
    the STAC item beside it declares), None where its pixels are read as stored: 8-bit
    and palette files, whatever they declare (as ``read_site_window`` reads them), and
    files that declare none. Rails are found as dark lines in a grey mix of the bands,
    which is not invariant to the scales: bands stored with different scales or offsets
    are mixed in other proportions, and a band with a negative scale (stored inverted)
    turns dark rails bright."""
    from railwatch.imagery.read import scene_scaling

    if _read_as_stored(ds):
        return None
    return scene_scaling(ds, bands, item)


def _gray_of_values(data: np.ndarray, scaling: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """:func:`unit_luminance` of the values bands (B, H, W) stand for (stored × scale + offset):
    integer data brought to about [0, 1] by the 99.5th percentile as stored integers are
    (without the floor at 1: the values may be reflectances), float data as it is."""
    scale, offset = scaling
    values = (
        data.astype(np.float32) * scale.astype(np.float32)[:, None, None]
        + offset.astype(np.float32)[:, None, None]
    )
    g = unit_luminance(np.moveaxis(values, 0, -1))
    if np.issubdtype(data.dtype, np.integer):
        top = float(np.percentile(g, 99.5))
        if top > 0:
            g = np.ascontiguousarray(g / np.float32(top), dtype=np.float32)
    return g


def rail_centres_for_gauge(gauge_mm: float) -> float:
    """Distance (m) between rail-head centres for a track gauge in millimetres (the gauge
    is measured between the heads' inner faces: add one head width, about 70 mm)."""
    if not 500.0 <= gauge_mm <= 2000.0:
        from railwatch.errors import InputError

        raise InputError(
            f"gauge {gauge_mm:g} mm is not a railway gauge: use e.g. 1435 (standard) or 1520"
        )
    return gauge_mm / 1000.0 + RAIL_HEAD_M


#: How the reason of a measurement that found no rail pair begins.
NO_PAIRS = "no rail pairs found"


@dataclass(frozen=True)
class ScaleCheck:
    """A given ground sample distance checked against the rails (:func:`check_gsd`)."""

    given: float
    scale: RailScale
    tolerance: float

    def __post_init__(self) -> None:
        """Where no rail pair was found and the given scale is itself too coarse for the
        rails to be measured, the reason says so, not the three causes the image alone
        leaves open (2026-12-07, session 47: Muttenz area-averaged to 0.5 m, given
        ``--gsd 0.5``, was told "the image shows no track, the rails are hidden (cars,
        snow, blur), or they are closer than 4 px", of a yard of visible track)."""
        s = self.scale
        spacing = s.rail_centres_m / self.given if self.given > 0 else math.inf
        if s.measured or not s.reason.startswith(NO_PAIRS) or spacing >= MIN_SPACING_PX:
            return
        reason = (
            f"{NO_PAIRS} (at {self.given:g} m per pixel the two rails of a track are "
            f"{spacing:.1f} px apart, closer than the {MIN_SPACING_PX:g} px their "
            "measurement needs; it measures images finer than about "
            f"{coarsest_measurable_m(s.rail_centres_m):.2f} m per pixel)"
        )
        object.__setattr__(self, "scale", replace(s, reason=reason))

    @property
    def disagrees(self) -> bool:
        return scale_disagrees(self.given, self.scale, self.tolerance)

    @property
    def maybe_tracks_for_rails(self) -> bool:
        """True when the given value is about three times the measured one and coarser
        than the rails can be resolved: then the measured "rails" may be two neighbouring
        tracks (4–5 m apart) and the given value may be right."""
        g = self.scale.gsd
        return g is not None and self.given >= 0.35 and 2.4 <= self.given / g <= 3.6

    def to_dict(self) -> dict[str, Any]:
        d = self.scale.to_dict()
        return {
            "given_gsd": self.given,
            "agrees": None if not self.scale.measured else not self.disagrees,
            "tolerance": self.tolerance,
            **{k: d[k] for k in ("measured", "reason", "gsd", "gsd_low", "gsd_high")},
            "spacing_px": d["spacing_px"],
            "strips": d["strips"],
            "rail_centres_m": d["rail_centres_m"],
        }


def check_gsd(
    path: str | Path,
    given: float,
    *,
    tolerance: float = 0.15,
    rail_centres_m: float = RAIL_CENTRES_M,
    command: str = "railwatch detect",
) -> ScaleCheck | None:
    """Check ``given`` metres per pixel against the rails of a non-georeferenced image
    file; None for a georeferenced file (its header gives the scale)."""
    found = measure_file(
        path, rail_centres_m=rail_centres_m, skip_georeferenced=True, command=command
    )
    if found is None:
        return None
    return ScaleCheck(float(given), found.scale, tolerance)
