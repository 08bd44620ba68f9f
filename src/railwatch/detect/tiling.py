"""Tiling as pure functions: the windows a detector runs over.

Like torchgeo's ``GridGeoSampler`` or sahi's ``get_slice_bboxes``, nothing here
touches pixels or models. Windows overlap by more than the longest railcar
(articulated tank cars are about 24 m, so 30 m by default), so every car lies
whole inside at least one window; the windows cover the whole image, edges
included, and are returned in a fixed row-major order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from railwatch.errors import InputError

#: Overlap between neighbouring tiles, in metres: longer than the longest car (about 26 m
#: over couplers for an articulated tank car) plus margin.
DEFAULT_OVERLAP_M = 30.0
#: Default tile size in pixels for the shipped detector.
DEFAULT_TILE_PX = 1024


@dataclass(frozen=True)
class Window:
    """A pixel window: column/row offset of its top-left corner and its size."""

    col_off: int
    row_off: int
    width: int
    height: int

    @property
    def col_end(self) -> int:
        return self.col_off + self.width

    @property
    def row_end(self) -> int:
        return self.row_off + self.height

    def slices(self) -> tuple[slice, slice]:
        """``(rows, cols)`` slices to cut this window out of an array."""
        return slice(self.row_off, self.row_end), slice(self.col_off, self.col_end)


@dataclass(frozen=True)
class TilePlan:
    """The windows over an image of ``width`` x ``height`` pixels."""

    width: int
    height: int
    tile_px: int
    overlap_px: int
    windows: tuple[Window, ...]


def overlap_px_for(gsd: float, overlap_m: float = DEFAULT_OVERLAP_M) -> int:
    """Overlap in pixels that spans ``overlap_m`` metres at ``gsd`` metres per pixel."""
    if not gsd > 0:
        raise InputError(f"ground sample distance must be positive, got {gsd}")
    return max(1, math.ceil(overlap_m / gsd))


def _starts(size: int, tile: int, stride: int) -> list[int]:
    """Start offsets along one axis: a regular grid, the last one flush with the end."""
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, stride))
    last = size - tile
    if not starts or starts[-1] != last:
        starts.append(last)
    return starts


def tile_windows(width: int, height: int, tile_px: int, overlap_px: int) -> tuple[Window, ...]:
    """Windows of at most ``tile_px`` square covering a ``width`` x ``height`` image.

    Neighbouring windows overlap by at least ``overlap_px``; the last window along
    each axis is shifted back so it ends at the image edge (no padding needed).
    Images smaller than a tile give one window of the image's size.
    """
    if width <= 0 or height <= 0:
        raise InputError(f"image size must be positive, got {width} x {height}")
    if tile_px <= 0:
        raise InputError(f"tile size must be positive, got {tile_px}")
    if not 0 <= overlap_px < tile_px:
        raise InputError(
            f"tile overlap ({overlap_px} px) must be smaller than the tile ({tile_px} px): "
            "use a larger tile"
        )
    stride = tile_px - overlap_px
    tw, th = min(tile_px, width), min(tile_px, height)
    return tuple(
        Window(c, r, tw, th)
        for r in _starts(height, tile_px, stride)
        for c in _starts(width, tile_px, stride)
    )


def _balanced_axis(size: int, tile: int, overlap: int) -> tuple[list[int], int]:
    """Fewest windows of at most ``tile`` along an axis of ``size`` pixels, all of one
    length and spread evenly, neighbours overlapping by at least ``overlap``."""
    if size <= tile:
        return [0], size
    n = math.ceil((size - overlap) / (tile - overlap))
    length = min(tile, math.ceil((size - overlap) / n) + overlap + 1)
    step = (size - length) / (n - 1)
    return [round(i * step) for i in range(n)], length


def balanced_windows(width: int, height: int, tile_px: int, overlap_px: int) -> tuple[Window, ...]:
    """Like :func:`tile_windows`, but the windows are shrunk to the size that covers the
    image with the same number of tiles, so the overlap is spread over every seam
    instead of piling up in the last row and column (an 8192 px side with 2048 px tiles
    and 60 px overlap gets five 1,687 px windows, not five 2,048 px ones).
    """
    tile_windows(width, height, tile_px, overlap_px)  # same argument checks
    cols, tw = _balanced_axis(width, tile_px, overlap_px)
    rows, th = _balanced_axis(height, tile_px, overlap_px)
    return tuple(Window(c, r, tw, th) for r in rows for c in cols)


def plan_tiles(
    width: int,
    height: int,
    gsd: float,
    *,
    tile_px: int | None = None,
    overlap_m: float = DEFAULT_OVERLAP_M,
) -> TilePlan:
    """Windows for an image at ``gsd``: overlap of ``overlap_m`` metres, and a tile
    at least twice the overlap (grown when the requested tile is too small)."""
    overlap = overlap_px_for(gsd, overlap_m)
    tile = tile_px if tile_px is not None else DEFAULT_TILE_PX
    if tile <= 0:
        raise InputError(f"tile size must be positive, got {tile}")
    tile = max(tile, 2 * overlap)
    return TilePlan(width, height, tile, overlap, balanced_windows(width, height, tile, overlap))


def interior_edges(window: Window, width: int, height: int) -> tuple[bool, bool, bool, bool]:
    """Which sides (left, top, right, bottom) of ``window`` are seams with another
    tile, rather than the image border: a car touching a seam may be truncated."""
    return (
        window.col_off > 0,
        window.row_off > 0,
        window.col_end < width,
        window.row_end < height,
    )
