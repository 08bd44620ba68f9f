"""Track evidence: keep a railcar box only where the image shows track along its axis.

A railcar stands on track, and the track runs on beyond the ends of the car and of its
string. A box on a long flat roof, a row of parked road cars or a paved lot has no track
along its axis. This opt-in post-filter (``DefaultDetector(track_evidence=True)``, off
by default; 2026-12-07, session 45) looks for rails along every box's axis line,
extended :data:`REACH_M` either way and clipped to the tile:

1. **Straightened band** (:func:`straightened`). The tile's luminance
   (:func:`luminance`, ``imagery.scale``'s weights) resampled in the box's frame by
   ``cv2.remap``: columns along the axis :data:`ALONG_PX` px apart, rows across it at
   :data:`ACROSS` samples per pixel, ±(:data:`BAND_M` + half the rail spacing + 3 px)
   about it. Samples inside any box of the tile (cars hide their track), outside the
   tile or without data are not open ground.
2. **Segments** (:func:`segment_profiles`). The axis line is cut into segments of
   :data:`SEGMENT_M`, each into thirds; per third the mean across-profile of its open
   ground (a row with open ground on less than :data:`MIN_COVER` of the third has
   none). A segment is looked at when a track could show there: at
   :data:`MIN_LOOKED_SHARE` of the middle positions within ±:data:`BAND_M`, each third
   has a profile across both rails and their flanks (cars on the track and on the next
   ones hide a track; the open strip between two strings does not count).
3. **Rails** (:func:`track_offsets`), as ``imagery.scale`` finds them: thin dark lines
   (darker than both flanks 1-2 px away) in the segment's profile that persist in each
   third and whose contrast clears the noise between the thirds (``imagery.scale``'s
   flanks, contrast floor and noise factor); two of them a rail spacing apart (1.505 m
   standard gauge to 1.59 m broad gauge, ±:data:`PAIR_TOLERANCE`) are a track, whose
   middle must lie within ±:data:`BAND_M` of the axis: the box's own track (a box can be
   1.5-2.5 m off it across) or, where a string hides its own track, the next one over.
4. **Decision** (:func:`keep_on_track`). A box with a track in at least one segment is
   kept; so is a box with fewer than :data:`MIN_LOOKED_SEGMENTS` segments looked at (too
   little open ground along it to tell) and a box chained to a kept one with a track by
   string neighbours (``detect.strings.string_neighbours``, up to :data:`CHAIN_REACH`
   expected spacings: over one missed car; the decoder's weaker candidates are links of
   the chains too) or by parallel boxes on the next track over
   (:func:`beside_neighbours`). The others are dropped, unless no box of the tile has a
   track: then the tile shows no rails the test can find (unresolved, or every track
   under cars) and every box is kept.

Only where the rails are resolved: at :data:`PAIR_MAX_GSD` m per pixel and coarser every
box is kept (a track-bed test, a dip or ridge of the profile 1.5-3 m wide, was tried for
0.4-1 m and kept nearly every box on the development scenes). Figures and verdict:
the session-45 write-up (not shipped as the default).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import cv2
import numpy as np
from scipy.spatial import cKDTree

from railwatch.detect.base import Detection, corners_of
from railwatch.detect.strings import ANGLE_DEG, SPACING, string_neighbours
from railwatch.imagery.scale import (
    LINE_FLANKS_PX,
    LINE_MIN_CONTRAST,
    LINE_NOISE_K,
    LINE_PARTS,
    unit_luminance,
)
from railwatch.rails import BROAD_GAUGE_RAIL_CENTRES_M, RAIL_CENTRES_M

#: How far along its axis, either way from its centre, a box's track is looked for (m).
REACH_M = 120.0
#: Half-width of the band about the axis in which a track's middle counts (m).
BAND_M = 4.5
#: Length of one segment of the axis line (m); each is judged on its own.
SEGMENT_M = 8.0
#: Share of a third's along samples that must be open ground for its profile sample.
MIN_COVER = 0.5
#: Share of the track-middle positions within ±:data:`BAND_M` at which a segment must
#: have open ground under both rails and their flanks, in each third, to be looked at.
MIN_LOOKED_SHARE = 0.5
#: A box with fewer segments looked at than this is kept (too little to tell).
MIN_LOOKED_SEGMENTS = 3
#: Rails are looked for finer than this GSD (m; rails 3.3 px apart and more); coarser
#: tiles keep every box.
PAIR_MAX_GSD = 0.45
#: Tolerance on the rail spacing (share of it).
PAIR_TOLERANCE = 0.15
#: Share of a line's contrast each third must show within 0.75 px of it.
_PERSIST = 0.35
#: Lowest contrast of the weaker line of a pair, as a share of the stronger one's.
_PAIR_BALANCE = 0.4
#: How far (in expected car spacings, ``detect.strings``) a string neighbour may be in
#: the chains: beyond one spacing, over one car the detector missed.
CHAIN_REACH = 2.4
#: Across distance (m, centre to centre) of a parallel box on the next track over.
BESIDE_M = (3.5, 6.5)
#: Samples per pixel across the axis (``imagery.scale`` takes 4) and pixels between
#: samples along it.
ACROSS = 2
ALONG_PX = 2.0
#: Boxes read per round (:func:`keep_on_track`).
_PER_ROUND = 8
#: Boxes resampled at once (memory: about 0.3 MB per box at 0.3 m).
_BATCH = 16


def straightened(
    gray: np.ndarray, blocked: np.ndarray, dets: Sequence[Detection], gsd: float
) -> tuple[np.ndarray, np.ndarray]:
    """The bands along the axes of ``dets`` in ``gray`` (:func:`luminance`, or float in
    [0, 1]): luminance in [0, 1] (N, T, S) (rows across at
    ``1 / ACROSS`` px, columns along :data:`ALONG_PX` px apart) and which samples are open ground
    (bool, same shape: inside the tile and not ``blocked``)."""
    half_t = (BAND_M + BROAD_GAUGE_RAIL_CENTRES_M / 2) / gsd + 3.0
    nt = 2 * round(half_t * ACROSS) + 1
    ns = 2 * round(REACH_M / gsd / ALONG_PX) + 1
    t = (np.arange(nt, dtype=np.float32) - (nt - 1) / 2) / ACROSS
    s = (np.arange(ns, dtype=np.float32) - (ns - 1) / 2) * ALONG_PX
    n = len(dets)
    a = np.deg2rad(np.array([d.box.angle for d in dets], np.float32))
    cx = np.array([d.box.cx for d in dets], np.float32)[:, None, None]
    cy = np.array([d.box.cy for d in dets], np.float32)[:, None, None]
    ux, uy = np.cos(a)[:, None, None], np.sin(a)[:, None, None]
    mx = (cx + s[None, None, :] * ux - t[None, :, None] * uy).reshape(-1, ns)
    my = (cy + s[None, None, :] * uy + t[None, :, None] * ux).reshape(-1, ns)
    g = cv2.remap(gray, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    g = g.astype(np.float32) / 255.0 if g.dtype == np.uint8 else g
    o = cv2.remap(blocked, mx, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=1)
    return g.reshape(n, nt, ns), o.reshape(n, nt, ns) == 0


def _smooth(p: np.ndarray, sigma: float) -> np.ndarray:
    """``p`` smoothed along its last axis (Gaussian, samples; NaN spreads)."""
    r = math.ceil(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.concatenate([np.repeat(p[..., :1], r, -1), p, np.repeat(p[..., -1:], r, -1)], -1)
    out = np.zeros_like(p)
    n = p.shape[-1]
    for i, w in enumerate(k):
        out += w * pad[..., i : i + n]
    return out


def _measure(p: np.ndarray, flanks: Sequence[int]) -> np.ndarray:
    """``imagery.scale``'s dark-line measure (``_line_measure``, ``_best_measure``) along
    the last axis of ``p``, the largest over ``flanks`` (samples): min(p[t - f],
    p[t + f]) - p[t]; -inf where undefined."""
    q = p
    out = np.full(p.shape, -np.inf, np.float32)
    n = p.shape[-1]
    for f in flanks:
        if n > 2 * f:
            m = np.minimum(q[..., : -2 * f], q[..., 2 * f :]) - q[..., f:-f]
            out[..., f:-f] = np.fmax(out[..., f:-f], np.where(np.isnan(m), -np.inf, m))
    return out


def _peaks(meas: np.ndarray, parts: np.ndarray, tol: int) -> list[list[tuple[int, float]]]:
    """Per profile (rows of ``meas``, (K, T)), its lines as (sample, contrast): local
    maxima above the noise threshold that persist in each part (``parts``: (K, P, T))."""
    fin = np.isfinite(meas) & np.isfinite(parts).all(axis=1)
    m = np.where(fin, meas, np.nan)
    resid = np.where(fin[:, None, :], parts - m[:, None, :], np.nan)
    with warnings.catch_warnings():  # a profile without finite samples: no lines
        warnings.simplefilter("ignore", RuntimeWarning)
        # the spread of the thirds about the whole as imagery.scale's (a standard
        # deviation), from the mean absolute deviation: medians cost 4x as much here
        mean = np.nanmean(resid, axis=(1, 2), keepdims=True)
        noise = 1.2533 * np.nanmean(np.abs(resid - mean), axis=(1, 2)) / math.sqrt(LINE_PARTS)
    thr = np.maximum(LINE_MIN_CONTRAST, LINE_NOISE_K * np.nan_to_num(noise, nan=np.inf))
    mm = np.where(fin, meas, -np.inf)
    cand = np.zeros(mm.shape, bool)
    cand[:, 1:-1] = (
        (mm[:, 1:-1] > thr[:, None]) & (mm[:, 1:-1] >= mm[:, :-2]) & (mm[:, 1:-1] > mm[:, 2:])
    )
    # persistence: each part reaches _PERSIST of the line's contrast within ±tol samples
    pm = np.where(np.isfinite(parts), parts, -np.inf)
    near = pm.copy()
    for d in range(1, tol + 1):
        near[..., d:] = np.maximum(near[..., d:], pm[..., :-d])
        near[..., :-d] = np.maximum(near[..., :-d], pm[..., d:])
    cand &= (near >= _PERSIST * mm[:, None, :]).all(axis=1)
    out: list[list[tuple[int, float]]] = [[] for _ in range(len(meas))]
    for k, i in zip(*np.nonzero(cand), strict=True):
        out[int(k)].append((int(i), float(mm[k, i])))
    return out


def segment_profiles(g: np.ndarray, o: np.ndarray, gsd: float) -> tuple[np.ndarray, np.ndarray]:
    """Per box and segment the part profiles (N, G, P, T) (NaN where a part has too
    little open ground at that row) and whether the segment was looked at (N, G)."""
    n, nt, ns = g.shape
    part = max(3, round(SEGMENT_M / gsd / ALONG_PX / LINE_PARTS))
    seg = part * LINE_PARTS
    nseg = ns // seg
    start = (ns - nseg * seg) // 2
    used = slice(start, start + nseg * seg)
    gg = g[..., used].reshape(n, nt, nseg, LINE_PARTS, part)
    oo = o[..., used].reshape(n, nt, nseg, LINE_PARTS, part).astype(np.float32)
    count = oo.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        prof = (gg * oo).sum(axis=-1) / count
    prof[count < MIN_COVER * part] = np.nan
    prof = np.moveaxis(prof, 1, -1)  # (N, G, P, T)
    # a track could show at a middle position when its rails and their flanks are open
    # ground: a window of a rail spacing and the flanks about it, whole in each third
    open_rows = np.isfinite(prof).all(axis=-2)  # (N, G, T)
    w = round((BROAD_GAUGE_RAIL_CENTRES_M / 2 / gsd + max(LINE_FLANKS_PX)) * ACROSS)
    shut = np.concatenate(
        [np.zeros((n, nseg, 1)), np.cumsum(~open_rows, axis=-1, dtype=np.float64)], axis=-1
    )
    mids = np.arange(w, nt - w)
    whole = shut[..., mids + w + 1] - shut[..., mids - w] == 0  # (N, G, len(mids))
    band = np.abs(mids - (nt - 1) / 2) / ACROSS * gsd <= BAND_M
    looked = whole[..., band].mean(axis=-1) >= MIN_LOOKED_SHARE
    return prof, looked


def track_offsets(g: np.ndarray, o: np.ndarray, gsd: float) -> tuple[np.ndarray, np.ndarray]:
    """Per box and segment of the bands ``g``, ``o`` (:func:`straightened`): how far from
    the axis (m, across) the nearest track middle lies there (N, G; inf where there is
    none within :data:`BAND_M`), and whether the segment was looked at (N, G)."""
    prof, looked = segment_profiles(g, o, gsd)
    n, nseg, _, nt = prof.shape
    off = np.full((n, nseg), np.inf)
    idx = np.argwhere(looked)
    if not len(idx):
        return off, looked
    parts = prof[idx[:, 0], idx[:, 1]]  # (K, P, T)
    sig = 0.5 * ACROSS  # imagery.scale's 0.5 px pre-smoothing
    flanks = [round(f * ACROSS) for f in LINE_FLANKS_PX]
    with np.errstate(invalid="ignore"):
        lines = _peaks(
            _measure(_smooth(parts.mean(axis=1), sig), flanks),
            _measure(_smooth(parts, sig), flanks),
            round(0.75 * ACROSS),
        )
    mid = (nt - 1) / 2
    m_per = gsd / ACROSS  # metres per profile sample
    lo = RAIL_CENTRES_M / m_per * (1 - PAIR_TOLERANCE)
    hi = BROAD_GAUGE_RAIL_CENTRES_M / m_per * (1 + PAIR_TOLERANCE)
    for (b, sg), ls in zip(idx.tolist(), lines, strict=True):
        for i, (pa, ca) in enumerate(ls):
            for pb, cb in ls[i + 1 :]:
                if lo <= pb - pa <= hi and min(ca, cb) >= _PAIR_BALANCE * max(ca, cb):
                    x = abs((pa + pb) / 2 - mid) * m_per
                    if x <= BAND_M:
                        off[b, sg] = min(off[b, sg], x)
    return off, looked


def beside_neighbours(dets: Sequence[Detection], gsd: float) -> list[list[int]]:
    """For each detection, the parallel ones on the next track over: axes within
    ``detect.strings.ANGLE_DEG``, centres :data:`BESIDE_M` apart across its axis and
    less than half the mean of their lengths apart along it."""
    n = len(dets)
    out: list[list[int]] = [[] for _ in range(n)]
    if n < 2:
        return out
    xy = np.array([(d.box.cx, d.box.cy) for d in dets], dtype=np.float64)
    length = np.array([d.box.length for d in dets], dtype=np.float64)
    theta = np.deg2rad(np.array([d.box.angle for d in dets], dtype=np.float64))
    radius = math.hypot(BESIDE_M[1] / gsd, float(length.max()) / 2)
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray")
    if not len(pairs):
        return out
    a, b = pairs[:, 0], pairs[:, 1]
    d = xy[b] - xy[a]
    ux, uy = np.cos(theta[a]), np.sin(theta[a])
    along = np.abs(d[:, 0] * ux + d[:, 1] * uy)
    across = np.abs(d[:, 0] * uy - d[:, 1] * ux) * gsd
    dtheta = np.abs((np.rad2deg(theta[a] - theta[b]) + 90.0) % 180.0 - 90.0)
    ok = (
        (dtheta <= ANGLE_DEG)
        & (across >= BESIDE_M[0])
        & (across <= BESIDE_M[1])
        & (along <= (length[a] + length[b]) / 4.0)
    )
    for i, j in zip(a[ok].tolist(), b[ok].tolist(), strict=True):
        out[i].append(j)
        out[j].append(i)
    return out


def luminance(image: np.ndarray) -> np.ndarray:
    """8-bit luminance of an 8-bit RGB ``image`` (also a view of band-sequential
    planes) with ``imagery.scale``'s weights, by OpenCV (a 4096 px tile: some 10 ms
    against a few hundred for ``unit_luminance``'s float planes; rounded to whole levels)."""
    a = np.asarray(image)
    if a.ndim == 2 and a.dtype == np.uint8:
        return a
    if a.dtype != np.uint8 or a.ndim == 2:
        return np.asarray(np.clip(unit_luminance(a) * 255 + 0.5, 0, 255).astype(np.uint8))
    if a.shape[2] == 3 and a.strides[2] == 1 and a.strides[1] == 3:  # rows may be apart
        return np.asarray(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY))
    r, g, b = (np.ascontiguousarray(a[..., k]) for k in range(3))  # planes: no copy
    rg = cv2.addWeighted(r, 0.299 / 0.886, g, 0.587 / 0.886, 0.0)
    return np.asarray(cv2.addWeighted(rg, 0.886, b, 0.114, 0.0))


class _Bands:
    """A tile's luminance and its ground that is not open (no data, inside a box), from
    which the bands of any of its boxes are read (:meth:`evidence`)."""

    def __init__(
        self, image: np.ndarray, gsd: float, dets: Sequence[Detection], valid: np.ndarray | None
    ) -> None:
        self.gsd = gsd
        self.dets = dets
        self.gray = luminance(image)
        self.blocked = np.zeros(self.gray.shape, np.uint8)
        if valid is not None:
            self.blocked[~np.asarray(valid, dtype=bool)] = 1
        corners = np.round(corners_of([d.box for d in dets])).astype(np.int32)
        cv2.fillPoly(self.blocked, list(corners), 1)

    def evidence(self, which: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """For the boxes ``which``: segments with a track, segments looked at (counts)."""
        on, looked = np.zeros(len(which), int), np.zeros(len(which), int)
        for b0 in range(0, len(which), _BATCH):
            part = [self.dets[i] for i in which[b0 : b0 + _BATCH]]
            g, o = straightened(self.gray, self.blocked, part, self.gsd)
            off, seen = track_offsets(g, o, self.gsd)
            on[b0 : b0 + len(part)] = np.isfinite(off).sum(axis=1)
            looked[b0 : b0 + len(part)] = seen.sum(axis=1)
        return on, looked


def track_evidence(
    image: np.ndarray,
    gsd: float,
    dets: Sequence[Detection],
    valid: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``dets`` (pixel coordinates of ``image``, ``gsd`` m per pixel): the
    segments of its axis line with a track (their count) and the segments looked at
    (their count), with every box of ``dets`` and the pixels outside ``valid`` left
    out of the open ground. Both zero at :data:`PAIR_MAX_GSD` and coarser."""
    n = len(dets)
    if not n or gsd >= PAIR_MAX_GSD:
        return np.zeros(n, int), np.zeros(n, int)
    return _Bands(image, gsd, dets, valid).evidence(range(n))


def chains(dets: Sequence[Detection], gsd: float) -> list[list[int]]:
    """For each of ``dets``, the boxes it chains to: its string neighbours
    (``detect.strings.string_neighbours`` up to :data:`CHAIN_REACH` expected spacings,
    judged in its own frame) and :func:`beside_neighbours`."""
    along = string_neighbours(dets, gsd, spacing=(SPACING[0], CHAIN_REACH))
    beside = beside_neighbours(dets, gsd)
    return [[j for j, _ in a] + b for a, b in zip(along, beside, strict=True)]


def _reached(start: np.ndarray, links: list[list[int]]) -> np.ndarray:
    """The boxes reached from the boxes ``start`` (bool) by ``links``, transitively."""
    seen = start.copy()
    stack = np.flatnonzero(start).tolist()
    while stack:
        for j in links[stack.pop()]:
            if not seen[j]:
                seen[j] = True
                stack.append(j)
    return seen


def keep_on_track(
    image: np.ndarray,
    gsd: float,
    dets: Sequence[Detection],
    valid: np.ndarray | None = None,
    *,
    links: Sequence[Detection] = (),
) -> list[Detection]:
    """The ``dets`` (pixel coordinates of ``image``, ``gsd`` m per pixel) with a track
    along their axis, too little open ground there to tell, or reached by :func:`chains`
    from one that has a track; in the input order (see the module docstring). ``links``
    are further car candidates (the decoder's weaker peaks; ``dets`` among them are
    ignored): links of the chains only, never kept themselves. Every box is kept at
    :data:`PAIR_MAX_GSD` m per pixel and coarser, and when no box shows a track.

    Boxes are read a few at a time, string ends first (where the track runs on beyond
    the cars), and a box that a box with a track reaches is kept unread."""
    n = len(dets)
    if not n or gsd >= PAIR_MAX_GSD:
        return list(dets)
    ids = {id(d) for d in dets}
    chain = [*dets, *(d for d in links if id(d) not in ids)]
    nb = chains(chain, gsd)
    ends = [sum(j < n for j in nb[i]) for i in range(n)]
    order = sorted(range(n), key=lambda i: (ends[i], i))
    bands = _Bands(image, gsd, dets, valid)
    on = np.zeros(len(chain), bool)
    looked = np.zeros(n, int)
    read = np.zeros(n, bool)
    reached = np.zeros(len(chain), bool)
    while True:
        todo = [i for i in order if not read[i] and not reached[i]][:_PER_ROUND]
        if not todo:
            break
        t, seen = bands.evidence(todo)
        read[todo], on[todo], looked[todo] = True, t >= 1, seen
        reached = _reached(on, nb)
    if not on.any():  # no rails found along any box: rails unresolved, or all covered
        return list(dets)
    keep = reached[:n] | (read & (looked < MIN_LOOKED_SEGMENTS))
    return [d for d, k in zip(dets, keep, strict=True) if k]
