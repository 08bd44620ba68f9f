"""Coarse imagery (about 1.5 m and coarser): occupied track length, not objects.

At 3 m a 14 m x 3.2 m car is about 5 x 1 px, so cars cannot be separated; what can be
measured is how much track is occupied. The method:

1. Track directions: from ``tracks`` (pixel-coordinate lines) when given, otherwise
   the dominant orientations of linear structure in the image (structure-tensor
   orientation histogram weighted by coherence).
2. Car evidence: a car differs from the ballast and ground around it (brighter or
   darker, or another colour). Each pixel's colour is compared with a robust local
   background (a wide median, wider than a string of a few cars), in units of the
   image's robust noise.
3. Oriented filtering: the evidence is averaged along each track direction over one
   car length (14 m), so only structures continuous along the track survive, and
   is confined to the tracks' corridor when ``tracks`` are given.
4. Length: the occupied mask is rotated so the direction is horizontal and, column by
   column, each vertical run of occupied pixels counts as ``round(run / 4.75 m)``
   parallel tracks (at least one); the occupied length is the sum times the GSD.

Car equivalents are ``length / 14 m`` (Russian "conventional cars"); the interval is
± (1 car + 10 % + half a pixel per occupied string end) and is widened by the fraction
of pixels without data. At 10 m and coarser only the presence of a long train
(occupied length at least 300 m) is reported (``method="presence"``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np
from shapely.geometry.base import BaseGeometry

from railwatch.errors import InputError

#: Length of a conventional car (metres): occupied length / this = car equivalents.
CONVENTIONAL_CAR_M = 14.0
#: Width of a car body (metres).
CAR_WIDTH_M = 3.2
#: Distance between neighbouring parallel track centrelines in yards (metres).
TRACK_SPACING_M = 4.75
#: GSD (metres) from which cars are not separable: occupied length instead of objects.
LENGTH_GSD = 1.5
#: GSD (metres) from which only the presence of long trains is reported.
PRESENCE_GSD = 10.0
#: Occupied length (metres) that makes a "long train present".
LONG_TRAIN_M = 300.0


@dataclass(frozen=True)
class CoarseEstimate:
    """Occupied track length and car equivalents with an interval."""

    car_equivalents: float
    low: float
    high: float
    occupied_length_m: float
    method: str  #: "length" or "presence"
    present: bool  #: a long train (>= LONG_TRAIN_M of occupied track) is visible
    directions_deg: tuple[float, ...] = ()


def method_for_gsd(gsd: float) -> str:
    """``"objects"`` below 1.5 m, ``"length"`` below 10 m, else ``"presence"``."""
    if not gsd > 0:
        raise InputError(f"ground sample distance must be positive, got {gsd}")
    if gsd < LENGTH_GSD:
        return "objects"
    return "length" if gsd < PRESENCE_GSD else "presence"


def _grey_and_colour(image: np.ndarray) -> np.ndarray:
    """Float32 (H, W, 3) in an opponent colour space (luminance, two chroma axes)."""
    img = image.astype(np.float32)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    lum = 0.299 * r + 0.587 * g + 0.114 * b
    return np.stack([lum, (r - g) * 0.7, (r + g - 2 * b) * 0.35], axis=-1)


def dominant_directions(
    grey: np.ndarray, valid: np.ndarray | None = None, max_directions: int = 3
) -> tuple[float, ...]:
    """Dominant line directions (degrees in [0, 180), image axes) of ``grey``."""
    g = grey.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), 1.5)
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), 1.5)
    jxy = cv2.GaussianBlur(gx * gy, (0, 0), 1.5)
    trace = jxx + jyy
    diff = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2)
    coherence = np.where(trace > 1e-6, diff / np.maximum(trace, 1e-6), 0.0)
    theta = 0.5 * np.degrees(np.arctan2(2 * jxy, jxx - jyy))  # gradient direction
    line = (theta + 90.0) % 180.0
    weight = coherence * np.sqrt(trace)
    if valid is not None:
        weight = weight * valid
    hist, _ = np.histogram(line, bins=180, range=(0.0, 180.0), weights=weight)
    if hist.sum() <= 0:
        return ()
    # circular smoothing over +-3 degrees
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    padded = np.concatenate([hist[-6:], hist, hist[:6]])
    smooth = np.convolve(padded, kernel, mode="same")[6:-6]
    # axis-aligned pixel grids bias 0/90: subtract a flat floor (median) before picking peaks
    floor = float(np.median(smooth))
    peaks: list[float] = []
    work = smooth - floor
    top = work.max()
    for _ in range(max_directions):
        k = int(np.argmax(work))
        if work[k] <= 0.35 * top:
            break
        peaks.append(float(k) + 0.5)
        for d in range(-15, 16):
            work[(k + d) % 180] = -np.inf
    return tuple(peaks)


def _track_mask(tracks: BaseGeometry, shape: tuple[int, int], half_width_px: float) -> np.ndarray:
    """Pixels within ``half_width_px`` of ``tracks`` (pixel-coordinate lines)."""
    mask = np.zeros(shape, dtype=np.uint8)
    thickness = max(1, round(2 * half_width_px))
    geoms = getattr(tracks, "geoms", [tracks])
    for line in geoms:
        coords = np.asarray(getattr(line, "coords", []), dtype=np.float64)
        if len(coords) < 2:
            continue
        pts = np.round(coords * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(mask, [pts], False, 1, thickness=thickness, shift=4)
    return mask.astype(bool)


def _track_directions(tracks: BaseGeometry) -> tuple[float, ...]:
    weights = np.zeros(180)
    for line in getattr(tracks, "geoms", [tracks]):
        coords = np.asarray(getattr(line, "coords", []), dtype=np.float64)
        for (x0, y0), (x1, y1) in itertools.pairwise(coords):
            ang = math.degrees(math.atan2(y1 - y0, x1 - x0)) % 180.0
            weights[int(ang) % 180] += math.hypot(x1 - x0, y1 - y0)
    out: list[float] = []
    work = weights.copy()
    top = work.max() if work.size else 0.0
    while top > 0 and len(out) < 4:
        k = int(np.argmax(work))
        if work[k] < 0.1 * top:
            break
        out.append(k + 0.5)
        for d in range(-10, 11):
            work[(k + d) % 180] = 0.0
    return tuple(out)


def _rotate(arr: np.ndarray, angle_deg: float, interp: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotate so that direction ``angle_deg`` (image axes) becomes +x; returns the
    rotated array and the 2x3 matrix (expanded canvas, nothing cut)."""
    h, w = arr.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle_deg, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = math.ceil(h * sin + w * cos), math.ceil(h * cos + w * sin)
    m[0, 2] += nw / 2.0 - w / 2.0
    m[1, 2] += nh / 2.0 - h / 2.0
    out = cv2.warpAffine(arr, m, (nw, nh), flags=interp, borderValue=0)
    return out, m


def _run_length_m(mask: np.ndarray, gsd: float) -> tuple[float, int]:
    """Occupied length (metres) of a horizontal-track mask and its number of strings."""
    if not mask.any():
        return 0.0, 0
    m = mask.astype(np.int8)
    pad = np.zeros((1, m.shape[1]), dtype=np.int8)
    d = np.diff(np.vstack([pad, m, pad]), axis=0)
    starts_r, starts_c = np.nonzero(d == 1)
    ends_r, ends_c = np.nonzero(d == -1)
    # np.nonzero is row-major: sort both by (column, row) so runs pair up
    so = np.lexsort((starts_r, starts_c))
    eo = np.lexsort((ends_r, ends_c))
    runs = (ends_r[eo] - starts_r[so]).astype(np.float64)
    tracks = np.maximum(1.0, np.round(runs * gsd / TRACK_SPACING_M))
    length = float(tracks.sum() * gsd)
    n_strings, _ = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return length, max(0, n_strings - 1)


def estimate_occupancy(
    image: np.ndarray,
    gsd: float,
    valid: np.ndarray | None = None,
    tracks: BaseGeometry | None = None,
    *,
    threshold: float = 3.0,
) -> CoarseEstimate:
    """Occupied track length and car equivalents of a coarse image (see module docs).

    ``image`` is (H, W, 3) uint8 RGB, ``gsd`` metres per pixel, ``valid`` an optional
    (H, W) bool data mask, ``tracks`` optional track centrelines in pixel
    (column, row) coordinates of ``image``. ``threshold`` is the car evidence needed,
    in robust noise units.
    """
    if image.ndim != 3 or image.shape[2] < 3:
        raise InputError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
    if not gsd > 0:
        raise InputError(f"ground sample distance must be positive, got {gsd}")
    h, w = image.shape[:2]
    ok = np.ones((h, w), dtype=bool) if valid is None else valid.astype(bool)
    method = "presence" if gsd >= PRESENCE_GSD else "length"
    if not ok.any():
        return CoarseEstimate(0.0, 0.0, 0.0, 0.0, method, False)
    feats = _grey_and_colour(image[..., :3])
    fill = np.median(feats[ok], axis=0)
    feats[~ok] = fill
    # robust local background: median over ~120 m on a 4x-decimated copy (fast)
    bg_px = max(5, round(120.0 / gsd) | 1)
    small_f = max(1, bg_px // 15)
    bg = np.empty_like(feats)
    for c in range(3):
        ch = feats[..., c]
        small = (
            cv2.resize(
                ch, (max(1, w // small_f), max(1, h // small_f)), interpolation=cv2.INTER_AREA
            )
            if small_f > 1
            else ch
        )
        k = max(3, (bg_px // small_f) | 1)
        sm = cv2.medianBlur(np.clip(small + 128.0, 0, 255).astype(np.uint8), min(k, 255))
        bg[..., c] = cv2.resize(
            sm.astype(np.float32) - 128.0, (w, h), interpolation=cv2.INTER_LINEAR
        )
    resid = feats - bg
    # robust noise per channel (MAD over valid pixels)
    mad = np.median(np.abs(resid[ok] - np.median(resid[ok], axis=0)), axis=0) * 1.4826
    mad = np.maximum(mad, np.array([2.0, 2.0, 2.0], dtype=np.float32))
    evidence = np.sqrt(((resid / mad) ** 2).sum(axis=-1)).astype(np.float32)
    evidence[~ok] = 0.0

    corridor: np.ndarray | None = None
    if tracks is not None and not tracks.is_empty:
        dirs = _track_directions(tracks)
        corridor = _track_mask(tracks, (h, w), max(1.0, (CAR_WIDTH_M / 2 + 1.0) / gsd))
    else:
        dirs = dominant_directions(feats[..., 0], ok)
    if not dirs:
        dirs = (0.0,)
    car_px = max(3, round(CONVENTIONAL_CAR_M / gsd))
    strong = evidence >= threshold
    total_len = 0.0
    n_strings = 0
    # Each pixel is measured along the direction it belongs to best (largest line response).
    responses = []
    rotations = []
    for ang in dirs:
        rot, m = _rotate(evidence, -ang, cv2.INTER_LINEAR)
        line = cv2.blur(rot, (car_px, 1))
        responses.append(line)
        rotations.append((rot, m))
    # Back-project each line response to the image grid to pick the best direction.
    back = []
    for (_rot, m), line in zip(rotations, responses, strict=True):
        inv = cv2.invertAffineTransform(m)
        back.append(cv2.warpAffine(line, inv, (w, h), flags=cv2.INTER_LINEAR))
    stack = np.stack(back)
    best = stack.argmax(axis=0)
    for k, ang in enumerate(dirs):
        occ = (best == k) & (stack[k] >= threshold * 0.8) & strong & ok
        if corridor is not None:
            occ &= corridor
        if not occ.any():
            continue
        occ_u8 = occ.astype(np.uint8)
        # close small gaps between coupled cars along the track, drop isolated specks
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(1, car_px // 3), 1))
        rot_occ, _ = _rotate(occ_u8, -ang, cv2.INTER_NEAREST)
        rot_occ = cv2.morphologyEx(rot_occ, cv2.MORPH_CLOSE, kernel)
        rot_occ = cv2.morphologyEx(
            rot_occ,
            cv2.MORPH_OPEN,
            cv2.getStructuringElement(cv2.MORPH_RECT, (max(2, car_px // 2), 1)),
        )
        length, strings = _run_length_m(rot_occ.astype(bool), gsd)
        total_len += length
        n_strings += strings
    cars = total_len / CONVENTIONAL_CAR_M
    nodata = 1.0 - float(ok.mean())
    half = 1.0 + 0.10 * cars + 0.5 * gsd * 2 * n_strings / CONVENTIONAL_CAR_M
    half *= 1.0 + nodata
    present = total_len >= LONG_TRAIN_M
    return CoarseEstimate(
        car_equivalents=round(cars, 2),
        low=round(max(0.0, cars - half), 2),
        high=round(cars + half, 2),
        occupied_length_m=round(total_len, 1),
        method=method,
        present=present,
        directions_deg=tuple(round(d, 1) for d in dirs),
    )
