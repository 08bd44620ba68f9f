"""Coarse imagery (about 1.5 m and coarser): occupied track length, not objects.

At 3 m a 14 m x 3.2 m car is about 5 x 1 px, so cars cannot be separated; what can be
measured is how much track is occupied. The method:

1. Track lines: the given ``tracks`` (centrelines in pixel coordinates), or, without
   them, lines found in the image: the dominant orientations of linear structure
   (structure-tensor orientation histogram weighted by coherence), then the track
   corridor along each (pixels whose local structure is coherent and aligned with it,
   continuous over at least 90 m), sampled as parallel lines one track spacing apart.
2. Profiles: colours are sampled every half pixel along each line (bilinear), in an
   opponent colour space (luminance and two chroma axes).
3. Car evidence: a car differs from the empty track (ballast, rails) it stands on. Each
   sample is compared with the line's own empty-track colour (the densest colour near
   its median, by mean shift: ballast is one tight colour, cars of many colours are
   not) in units of the robust noise of all track samples; the evidence is
   averaged over half a car length (oriented filtering along the track).
4. Occupied: averaged evidence >= ``threshold`` (2.0), and at least 0.8 times the
   evidence one track spacing to either side, so a car seen by the neighbouring
   track's line (tracks are 4.75 m apart, 1.6 px at 3 m) is not counted twice.
   The occupied length is the number of occupied samples times the sample step.

Car equivalents are ``length / 14 m`` (Russian "conventional cars"); the interval is
± (1 car + 10 % + half a pixel per occupied string end), ± 40 % instead of 10 % when the
tracks had to be found in the image, widened by the fraction of pixels without data.
At 10 m and coarser only the presence of a long train (occupied length at least 300 m)
is reported (``method="presence"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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
#: A line sample is occupied only if its evidence is at least this times the evidence one
#: track spacing to either side (the neighbouring track's car is not counted twice).
SIDE_RATIO = 0.8
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
        if work[k] <= 0.2 * top:
            break
        peaks.append(float(k) + 0.5)
        for d in range(-15, 16):
            work[(k + d) % 180] = -np.inf
    return tuple(peaks)


def _track_directions(tracks: BaseGeometry) -> tuple[float, ...]:
    """Main directions (degrees, image axes) of track lines, weighted by length."""
    weights = np.zeros(180)
    for coords in _polylines(tracks):
        d = np.diff(coords, axis=0)
        ang = np.degrees(np.arctan2(d[:, 1], d[:, 0])) % 180.0
        np.add.at(weights, ang.astype(int) % 180, np.hypot(d[:, 0], d[:, 1]))
    out: list[float] = []
    top = float(weights.max()) if weights.size else 0.0
    work = weights.copy()
    while top > 0 and len(out) < 4:
        k = int(np.argmax(work))
        if work[k] < 0.1 * top:
            break
        out.append(k + 0.5)
        for dd in range(-10, 11):
            work[(k + dd) % 180] = 0.0
    return tuple(out)


def _rotate(arr: np.ndarray, angle_deg: float, interp: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotate so that direction ``angle_deg`` (image axes, y down) becomes +x; returns the
    rotated array and the 2x3 matrix (expanded canvas, nothing cut)."""
    h, w = arr.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle_deg, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = math.ceil(h * sin + w * cos), math.ceil(h * cos + w * sin)
    m[0, 2] += nw / 2.0 - w / 2.0
    m[1, 2] += nh / 2.0 - h / 2.0
    out = cv2.warpAffine(arr, m, (nw, nh), flags=interp, borderValue=0)
    return out, m


def _polylines(tracks: BaseGeometry) -> list[np.ndarray]:
    """Vertex arrays ``(M, 2)`` of the lines of ``tracks`` (pixel coordinates)."""
    out = []
    for line in getattr(tracks, "geoms", [tracks]):
        coords = np.asarray(getattr(line, "coords", []), dtype=np.float64)
        if coords.ndim == 2 and len(coords) >= 2:
            out.append(coords[:, :2])
    return out


def _resample(vertices: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step`` along a polyline and the unit tangent at each."""
    seg = np.diff(vertices, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    keep = seg_len > 1e-9
    if not keep.any():
        return np.zeros((0, 2)), np.zeros((0, 2))
    vertices = np.vstack([vertices[:1], vertices[1:][keep]])
    seg, seg_len = seg[keep], seg_len[keep]
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    d = np.arange(0.0, cum[-1], step)
    pts = np.stack([np.interp(d, cum, vertices[:, 0]), np.interp(d, cum, vertices[:, 1])], 1)
    idx = np.clip(np.searchsorted(cum, d, side="right") - 1, 0, len(seg) - 1)
    tang = seg[idx] / seg_len[idx, None]
    return pts, tang


def _sample(img: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``img`` at pixel-area coordinates ``pts`` (x, y)."""
    mx = (pts[:, 0] - 0.5).astype(np.float32).reshape(1, -1)
    my = (pts[:, 1] - 0.5).astype(np.float32).reshape(1, -1)
    out = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(out[0])


def _corridor_lines(
    feats: np.ndarray, valid: np.ndarray, gsd: float, dirs: tuple[float, ...]
) -> list[np.ndarray]:
    """Track-like lines found in the image: rows of the track corridor along each
    dominant direction, one track spacing apart (see module docs)."""
    g = feats[..., 0]
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), 1.0)
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), 1.0)
    jxy = cv2.GaussianBlur(gx * gy, (0, 0), 1.0)
    tr = jxx + jyy
    coh = np.where(tr > 1e-6, np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / np.maximum(tr, 1e-6), 0)
    ori = (0.5 * np.degrees(np.arctan2(2 * jxy, jxx - jyy)) + 90.0) % 180.0
    strength = np.sqrt(tr)
    strong = strength > np.percentile(strength[valid], 70) if valid.any() else strength > 0
    lines: list[np.ndarray] = []
    min_run = max(5, round(90.0 / gsd))
    row_step = max(1, round(TRACK_SPACING_M / gsd))
    for ang in dirs:
        off = np.abs((ori - ang + 90.0) % 180.0 - 90.0)
        aligned = ((coh > 0.5) & (off < 10.0) & strong & valid).astype(np.uint8)
        rot, m = _rotate(aligned, ang, cv2.INTER_NEAREST)
        rect = cv2.getStructuringElement
        rot = cv2.morphologyEx(
            rot, cv2.MORPH_CLOSE, rect(cv2.MORPH_RECT, (max(3, round(15 / gsd)), 1))
        )
        rot = cv2.morphologyEx(rot, cv2.MORPH_OPEN, rect(cv2.MORPH_RECT, (min_run, 1)))
        rot = cv2.morphologyEx(
            rot, cv2.MORPH_CLOSE, rect(cv2.MORPH_RECT, (1, max(3, round(25 / gsd))))
        )
        rot = cv2.erode(rot, rect(cv2.MORPH_RECT, (1, 3)))
        inv = cv2.invertAffineTransform(m)
        for r in range(0, rot.shape[0], row_step):
            row = np.concatenate([[0], rot[r].astype(np.int8), [0]])
            d = np.diff(row)
            for c0, c1 in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0], strict=True):
                if c1 - c0 < min_run:
                    continue
                ends = np.array([[c0 + 0.5, r + 0.5, 1.0], [c1 - 0.5, r + 0.5, 1.0]])
                lines.append(ends @ inv.T)
    return lines


def _mode(samples: np.ndarray, noise: np.ndarray, iterations: int = 8) -> np.ndarray:
    """The densest colour near the median (mean shift, radius 2 noise units): the empty
    track's colour even where cars of various colours fill most of a line."""
    centre = np.median(samples, axis=0)
    scaled = samples / noise
    for _ in range(iterations):
        near = ((scaled - centre / noise) ** 2).sum(axis=1) <= 4.0
        if near.sum() < 5:
            break
        new = samples[near].mean(axis=0)
        if np.allclose(new, centre, atol=0.05):
            break
        centre = new
    return np.asarray(centre)


def _occupancy(
    feats: np.ndarray,
    valid: np.ndarray,
    lines: list[np.ndarray],
    gsd: float,
    threshold: float,
    step: float = 0.5,
    max_ref_distance: float | None = None,
) -> tuple[float, int]:
    """Occupied length (metres) and number of occupied strings along ``lines``."""
    h, w = valid.shape
    profiles = []
    for verts in lines:
        pts, tang = _resample(verts, step)
        if len(pts) < 4:
            continue
        inside = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
        ok = inside & (_sample(valid.astype(np.float32), pts) > 0.5)
        if ok.sum() < 4:
            continue
        profiles.append((pts, tang, _sample(feats, pts), ok))
    if not profiles:
        return 0.0, 0
    pooled = np.concatenate([f[ok] for _, _, f, ok in profiles])
    ref = np.median(pooled, axis=0)
    noise = np.maximum(np.median(np.abs(pooled - ref), axis=0) * 1.4826, 2.0).astype(np.float32)
    ev_img = np.sqrt((((feats - ref) / noise) ** 2).sum(axis=-1)).astype(np.float32)
    offset = TRACK_SPACING_M / gsd
    k = max(1, round(0.5 * CONVENTIONAL_CAR_M / gsd / step))
    kernel = np.ones(k) / k
    length, strings = 0.0, 0
    for pts, tang, f, ok in profiles:
        own = _mode(f[ok], noise) if ok.sum() > 20 else ref
        if max_ref_distance is not None and (
            float(np.sqrt((((own - ref) / noise) ** 2).sum())) > max_ref_distance
        ):
            continue  # a line found in the image that is not on ballast like the others
        e = np.sqrt((((f - own) / noise) ** 2).sum(axis=-1))
        e[~ok] = 0.0
        normal = np.stack([-tang[:, 1], tang[:, 0]], axis=1)
        side = np.maximum(
            _sample(ev_img, pts + normal * offset), _sample(ev_img, pts - normal * offset)
        )
        smooth = np.convolve(e, kernel, mode="same")
        occ = (smooth >= threshold) & ok & (e >= SIDE_RATIO * side)
        length += float(occ.sum()) * step * gsd
        strings += int(np.count_nonzero(np.diff(occ.astype(np.int8)) == 1) + int(occ[0]))
    return length, strings


def estimate_occupancy(
    image: np.ndarray,
    gsd: float,
    valid: np.ndarray | None = None,
    tracks: BaseGeometry | None = None,
    *,
    threshold: float = 2.0,
) -> CoarseEstimate:
    """Occupied track length and car equivalents of a coarse image (see module docs).

    ``image`` is (H, W, 3) uint8 RGB, ``gsd`` metres per pixel, ``valid`` an optional
    (H, W) bool data mask, ``tracks`` optional track centrelines in pixel
    (column, row) coordinates of ``image`` (much more accurate when given).
    ``threshold`` is the car evidence needed, in robust noise units.
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
    feats[~ok] = np.median(feats[ok], axis=0)
    if tracks is not None and not tracks.is_empty:
        lines = _polylines(tracks)
        dirs = _track_directions(tracks)
    else:
        dirs = dominant_directions(feats[..., 0], ok)
        lines = _corridor_lines(feats, ok, gsd, dirs)
    length, n_strings = _occupancy(feats, ok, lines, gsd, threshold)
    cars = length / CONVENTIONAL_CAR_M
    nodata = 1.0 - float(ok.mean())
    # +-(1 car + 10 %), half a car per string end (where a string starts and stops is
    # uncertain by about a pixel), widened by the share of pixels without data
    # without known tracks the lines found in the image are much less reliable
    # (see docs/benchmarks.md): +-40 % instead of +-10 %
    rel = 0.10 if tracks is not None and not tracks.is_empty else 0.40
    half = 1.0 + rel * cars + n_strings * gsd / CONVENTIONAL_CAR_M
    half *= 1.0 + nodata
    return CoarseEstimate(
        car_equivalents=round(cars, 2),
        low=round(max(0.0, cars - half), 2),
        high=round(cars + half, 2),
        occupied_length_m=round(length, 1),
        method=method,
        present=length >= LONG_TRAIN_M,
        directions_deg=tuple(round(d, 1) for d in dirs),
    )


def tracks_to_pixels(
    tracks: BaseGeometry, crs: str, transform: Any, *, src_crs: str = "EPSG:4326"
) -> BaseGeometry:
    """Track lines from ``src_crs`` (WGS84 lon/lat by default, as in ``SiteSpec.tracks``)
    to pixel (column, row) coordinates of a grid with ``crs`` and affine ``transform``."""
    from pyproj import Transformer
    from shapely.geometry import LineString, MultiLineString

    tr = Transformer.from_crs(src_crs, crs, always_xy=True)
    inv = ~transform
    out = []
    for verts in _polylines(tracks):
        x, y = tr.transform(verts[:, 0], verts[:, 1])
        out.append(LineString([inv * (float(a), float(b)) for a, b in zip(x, y, strict=True)]))
    return MultiLineString(out)
