"""Effective resolution: how fine an image's detail is, against its declared pixel size.

A 2 m or 3 m product delivered on a 0.5 m grid (upsampled: resampled or pan-sharpened
products, reprojected mosaics) declares 0.5 m pixels, and its cars would be counted one
by one although its detail cannot separate them (review r3, session 39: a yard of 45
cars read 38 at 2 m and 18 at 3 m content on a 0.5 m grid). The estimate is the
power spectrum's fall-off of the luminance over up to :data:`MAX_BLOCKS` blocks of
:data:`BLOCK` pixels inside the site: the spectrum, whitened by the frequency squared
(natural scenes fall as 1/f²), is compared with its level at 16-32 pixel periods; the
frequency at which it falls below :data:`LEVEL` of that level is the finest detail the
image holds, and ``0.5 / that frequency`` its scale in pixels (:attr:`Effective.factor`:
about 1 for a sharp image, 2 or more for a blurred or upsampled one).

Measured (2026-12-06, session 39; docs/detection.md, "Effective resolution"): 300
simulated scenes of every style at 0.3-1 m (hazy, snowy, dark and clouded ones; the
simulator's own blur of 0.3-1.1 px) give 1.0-2.31, the real images 1.0, and 2.79 at
most with a further blur of 0.7 px; the same scenes upsampled 4 times give 2.48-4.16
(bilinear and cubic), 6 times 2.99-4.81. The estimate is a lower bound of the
upsampling factor (4 times reads 2.76-3.01 in the median, 6 times 3.68-4.26): a blurred
native image and an upsampled one are alike in their spectra, so only content clearly
coarser than the grid is flagged (:data:`FLAG_FACTOR`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from railwatch.imagery.read import ImageRows
from railwatch.rails import LENGTH_GSD

__all__ = [
    "BLOCK",
    "FLAG_FACTOR",
    "SMALL_BLOCK",
    "Blocks",
    "Effective",
    "coarse_content_reason",
    "estimate",
]

#: Side (pixels) of the blocks whose spectra are summed; a site too small for one is
#: read in blocks of :data:`SMALL_BLOCK`.
BLOCK = 256
SMALL_BLOCK = 128
#: Most blocks read (spread over the site): 16 x 256² pixels, some 3 MB read.
MAX_BLOCKS = 16
#: Least share of a block's pixels valid and inside the site for it to be read (the
#: others take the mean of the valid ones: their edges add detail, never remove it).
MIN_BLOCK_VALID = 0.9
#: Whitened power, relative to its level at 16-32 pixel periods, below which the
#: image holds no detail (10^-1.5).
LEVEL = 10**-1.5
#: Least :attr:`Effective.factor` flagged: above every native image measured (2.79 at
#: most, blurred by 0.7 px), below most images upsampled 6 times (184 of 240 flagged).
FLAG_FACTOR = 3.0
#: Finer than this (metres), cars are counted one by one (``imagery.quality``'s limit):
#: :data:`railwatch.rails.LENGTH_GSD`.
OBJECT_GSD = LENGTH_GSD

# band edges (cycles per pixel): quarter octaves from 1/32 to 1/2
_EDGES = 0.5 * 2.0 ** (-np.arange(16, -1, -1) / 4.0)
_REF_BANDS = 4  # 1/32 to 1/16 cycles per pixel: 16-32 pixel periods


@dataclass(frozen=True)
class Effective:
    """The effective resolution of an image over a site."""

    #: Scale of the finest detail, in declared pixels (1: as sharp as its pixels).
    factor: float
    #: The declared ground sample distance (metres).
    gsd: float
    #: Blocks measured, and their side in pixels.
    blocks: int
    block: int = BLOCK

    @property
    def effective_gsd(self) -> float:
        """The pixel size (metres) the detail is that of: ``gsd * factor``."""
        return self.gsd * self.factor


def estimate(
    image: ImageRows, valid: np.ndarray, inside: np.ndarray, gsd: float
) -> Effective | None:
    """:class:`Effective` of ``image`` (an (H, W, 3) uint8 image or a site window's
    image) over its ``valid`` pixels ``inside`` the site; None when no block of
    :data:`SMALL_BLOCK` pixels is mostly inside (a site too small to tell). Reads the
    image's rows once, in order (:class:`Blocks`)."""
    blocks = Blocks(valid, inside, gsd)
    h = int(image.shape[0])
    step = max(1, 4_000_000 // max(int(image.shape[1]), 1))
    for a in range(0, h, step):
        if blocks.done:
            break
        blocks.add(np.asarray(image[a : min(h, a + step)]))
    return blocks.result()


class Blocks:
    """:func:`estimate` fed the rows of the image in order (``add``), as the quality
    step reads them in its one pass (:func:`railwatch.imagery.quality.assess_quality`):
    the blocks are picked first from ``valid`` and ``inside`` (up to :data:`MAX_BLOCKS`,
    spread over the site), and each is measured once its rows have come; only the rows
    from the next block's first on are held."""

    def __init__(self, valid: np.ndarray, inside: np.ndarray, gsd: float) -> None:
        self._valid, self._inside, self._gsd = valid, inside, float(gsd)
        h, w = int(valid.shape[0]), int(valid.shape[1])
        corners: list[tuple[int, int]] = []
        self.side = BLOCK
        for side in (BLOCK, SMALL_BLOCK):
            corners = [
                (a, c)
                for a in range(0, h - side + 1, side)
                for c in range(0, w - side + 1, side)
                if _valid_share(valid, inside, a, c, side) >= MIN_BLOCK_VALID
            ]
            if corners:
                self.side = side
                break
        if len(corners) > MAX_BLOCKS:
            pick = np.linspace(0, len(corners) - 1, MAX_BLOCKS).round().astype(int)
            corners = [corners[i] for i in pick]
        self._corners = corners  # in the order of their rows
        self._next = 0
        self._seen = 0  # rows given so far
        self._held: np.ndarray | None = None  # rows _start:_seen
        self._start = 0
        self._power = np.zeros(len(_EDGES) - 1)

    @property
    def done(self) -> bool:
        """Every block measured: no more rows are needed."""
        return self._next >= len(self._corners)

    def add(self, rows: np.ndarray) -> None:
        """The image's next rows ((n, W, 3) uint8)."""
        a0 = self._seen
        self._seen += int(rows.shape[0])
        if self.done:
            return
        first = self._corners[self._next][0]
        if self._seen <= first:
            return
        keep = rows[max(0, first - a0) :]
        if self._held is None:
            self._held, self._start = keep.copy(), max(first, a0)
        else:
            self._held = np.concatenate([self._held, keep])
        side = self.side
        while not self.done and self._corners[self._next][0] + side <= self._seen:
            a, c = self._corners[self._next]
            ok = _ok(self._valid, self._inside, a, c, side)
            block = self._held[a - self._start : a - self._start + side, c : c + side]
            lum = np.asarray(block, dtype=np.float32).mean(axis=2)
            lum[~ok] = lum[ok].mean()
            self._power += _band_power(lum - lum.mean())
            self._next += 1
        if self.done:
            self._held = None
        else:
            first = self._corners[self._next][0]
            if first >= self._seen:
                self._held = None
            elif first > self._start:
                self._held = self._held[first - self._start :].copy()
                self._start = first

    def result(self) -> Effective | None:
        """The estimate; None without a block (or before all of them came)."""
        if not self._corners or not self.done:
            return None
        return Effective(
            factor=_factor(self._power),
            gsd=self._gsd,
            blocks=len(self._corners),
            block=self.side,
        )


def coarse_content_reason(effective: Effective | None) -> str | None:
    """Why an image whose cars would be counted one by one cannot be, its detail being
    clearly coarser than its pixels (:data:`FLAG_FACTOR`, and that of pixels of
    :data:`OBJECT_GSD` or coarser); None when it can or was not measured."""
    if effective is None or effective.gsd >= OBJECT_GSD:  # counted by length (session 40)
        return None
    if effective.factor < FLAG_FACTOR or effective.effective_gsd < OBJECT_GSD:
        return None
    return (
        f"its detail is that of pixels of about {effective.effective_gsd:.1f} m or coarser "
        f"although the file says {effective.gsd:g} m: it was resampled (upsampled), and a "
        "count of railcars one by one would miss cars. Ingest the product at its own "
        "resolution (its native file, or one resampled to its detail) to have it counted"
    )


def _ok(valid: np.ndarray, inside: np.ndarray, a: int, c: int, side: int) -> np.ndarray:
    return np.asarray(valid[a : a + side, c : c + side], dtype=bool) & np.asarray(
        inside[a : a + side, c : c + side], dtype=bool
    )


def _valid_share(valid: np.ndarray, inside: np.ndarray, a: int, c: int, side: int) -> float:
    return float(np.count_nonzero(_ok(valid, inside, a, c, side))) / (side * side)


_CENTRES = np.sqrt(_EDGES[:-1] * _EDGES[1:])


def _band_power(lum: np.ndarray) -> np.ndarray:
    """Mean power of ``lum`` (a square block, mean removed) in each band."""
    side = lum.shape[0]
    window = np.outer(np.hanning(side), np.hanning(side)).astype(np.float32)
    freq = np.hypot(np.fft.fftfreq(side)[:, None], np.fft.fftfreq(side)[None, :])
    band = np.digitize(freq, _EDGES) - 1  # -1 or len(_EDGES) - 1: outside the bands
    p = np.abs(np.fft.fft2(lum * window)) ** 2
    n = len(_EDGES) - 1
    inb = (band >= 0) & (band < n)
    sums = np.bincount(band[inb], weights=p[inb], minlength=n)
    counts = np.bincount(band[inb], minlength=n)
    return np.asarray(sums / np.maximum(counts, 1), dtype=float)


def _factor(power: np.ndarray) -> float:
    """``0.5 / f`` of the frequency ``f`` at which the whitened ``power`` falls below
    :data:`LEVEL` of its level at 16-32 pixel periods (interpolated between bands)."""
    white = power * _CENTRES**2
    ref = white[:_REF_BANDS].mean()
    if ref <= 0:
        return 1.0
    level = np.log10(np.maximum(white / ref, 1e-12))
    floor = np.log10(LEVEL)
    above = np.nonzero(level >= floor)[0]
    i = int(above.max()) if len(above) else 0
    if i == len(level) - 1:
        return 1.0
    lf = np.log2(_CENTRES)
    t = (level[i] - floor) / (level[i] - level[i + 1])
    f = 2.0 ** (lf[i] + t * (lf[i + 1] - lf[i]))
    return max(1.0, 0.5 / float(f))
