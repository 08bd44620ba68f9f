"""Tiling as pure functions: the windows a detector runs over.

Like torchgeo's ``GridGeoSampler`` or sahi's ``get_slice_bboxes``, nothing here
touches pixels or models. Windows overlap by more than the longest railcar
(articulated tank cars are about 24 m, so 30 m by default), so every car lies
whole inside at least one window; the windows cover the whole image, edges
included, and are returned in a fixed row-major order.

Since 2026-12-05 (session 34) :func:`plan_tiles` lays its tiles on a grid anchored to
the image *file's* pixels, not to the array it is given: tile starts are multiples of a
fixed stride counted from the file's pixel (0, 0) (the array's offset in the file is
its ``origin``), so a file and a window cut out of it (the pipeline's site window over
the file's own pixel grid) are cut into the same tiles wherever both cover them, and the
detector sees the same pixels at the same phase of its working grid (docs/detection.md,
"Tiles").
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


def _anchored_axis(
    size: int, tile: int, stride: int, origin: int, *, shift: bool = False
) -> list[tuple[int, int]]:
    """``(start, end)`` along one axis of ``size`` pixels whose first pixel is the file's
    pixel ``origin``: the parts inside it of the tiles ``[k * stride, k * stride + tile)``
    it meets, less a last one whose part lies inside the tile before it (that tile
    reaches the end, so every car there is whole in it). With ``shift`` a tile the
    axis's ends cut short is moved back inside it to ``tile`` pixels (the whole axis
    where it is shorter), holding the part it had."""
    k = origin // stride
    out: list[tuple[int, int]] = []
    end = origin + size
    while k * stride < end:
        if out and (k - 1) * stride + tile >= end:
            break
        out.append((max(k * stride, origin) - origin, min(k * stride + tile, end) - origin))
        k += 1
    if not shift:
        return out
    moved: list[tuple[int, int]] = []
    for a, b in out:
        if b - a < tile:  # cut by an end of the axis (inner tiles are whole)
            a, b = (0, size) if size <= tile else ((0, tile) if a == 0 else (size - tile, size))
        if (a, b) not in moved:
            moved.append((a, b))
    return moved


def anchored_windows(
    width: int,
    height: int,
    tile_px: int,
    overlap_px: int,
    *,
    origin: tuple[int, int] = (0, 0),
    align: int = 1,
    shift_edges: bool = False,
) -> tuple[Window, ...]:
    """Windows covering a ``width`` x ``height`` image whose pixel (0, 0) is the file's
    pixel ``origin`` (column, row): the parts inside it of the tiles of a grid of
    ``tile_px`` squares anchored to the file's pixel (0, 0) that start at multiples of
    the stride, the largest multiple of ``align`` pixels at most ``tile_px - overlap_px``
    (so neighbours overlap by at least ``overlap_px``). The same tile gives the same
    window in the file and in any window of it that holds the whole tile; windows are
    clipped, not shifted, at the image's edges (the last one may be narrow: at least
    ``overlap_px`` wide), unless ``shift_edges``: then a tile the image's edge cuts is
    moved back inside the image to ``tile_px`` a side where the image is that long (as
    :func:`tile_windows` does), for detectors that scale a smaller tile up to their
    input (session 34's review: onnx:PATH's letterbox scaled the 108 px corner tile of
    a 3000 px scene at 0.5 m, 1024 px tiles, up 9.5 times)."""
    tile_windows(width, height, tile_px, overlap_px)  # same argument checks
    if align < 1:
        raise InputError(f"tile alignment must be a positive number of pixels, got {align}")
    stride = (tile_px - overlap_px) // align * align
    if stride <= 0:
        raise InputError(
            f"tiles of {tile_px} px with {overlap_px} px overlap leave no stride that is a "
            f"multiple of {align} px: use a larger tile"
        )
    cols = _anchored_axis(width, tile_px, stride, origin[0], shift=shift_edges)
    rows = _anchored_axis(height, tile_px, stride, origin[1], shift=shift_edges)
    return tuple(Window(c0, r0, c1 - c0, r1 - r0) for r0, r1 in rows for c0, c1 in cols)


def plan_tiles(
    width: int,
    height: int,
    gsd: float,
    *,
    tile_px: int | None = None,
    overlap_m: float = DEFAULT_OVERLAP_M,
    origin: tuple[int, int] = (0, 0),
    align: int = 1,
    multiple: int = 1,
    shift_edges: bool = False,
) -> TilePlan:
    """Windows for an image at ``gsd``: overlap of at least ``overlap_m`` metres, a tile
    at least twice the overlap plus ``align`` (grown when the requested tile is too
    small), on the grid of :func:`anchored_windows` (``origin``: the file's pixel at the
    image's pixel (0, 0); ``align``: the pixels the stride is a multiple of;
    ``multiple``: the pixels the tile's side is a multiple of, rounded up to it, so that
    a tile inside the image needs no padding to the detector's alignment; ``shift_edges``
    as :func:`anchored_windows`).

    Until 2026-12-05 (session 34) the windows were :func:`balanced_windows`, laid from
    the image's own corner and shrunk to its size: a window of an image was tiled
    differently from the image, so a car near a score or type threshold fell either
    way (31 against 30 cars on a 1200 px scene, docs/detection.md "Tiles")."""
    overlap = overlap_px_for(gsd, overlap_m)
    tile = tile_px if tile_px is not None else DEFAULT_TILE_PX
    if tile <= 0:
        raise InputError(f"tile size must be positive, got {tile}")
    if multiple < 1:
        raise InputError(f"tile side multiple must be a positive number of pixels, got {multiple}")
    tile = max(tile, 2 * overlap + max(1, align))
    # until session 34's review a tile of a side the detector cannot take whole (1001 px
    # at 0.3 m, where sides are multiples of 5) was padded with no data inside the image
    tile = -(-tile // multiple) * multiple
    windows = anchored_windows(
        width, height, tile, overlap, origin=origin, align=align, shift_edges=shift_edges
    )
    return TilePlan(width, height, tile, overlap, windows)


def interior_edges(window: Window, width: int, height: int) -> tuple[bool, bool, bool, bool]:
    """Which sides (left, top, right, bottom) of ``window`` are seams with another
    tile, rather than the image border: a car touching a seam may be truncated."""
    return (
        window.col_off > 0,
        window.row_off > 0,
        window.col_end < width,
        window.row_end < height,
    )
