"""Where cars can stand on a site, as pixels of its grid: what the quality step
(:func:`railwatch.imagery.quality.assess_quality`) measures the clear share of, besides
the share of the whole site (2026-12-06, session 39).

A cloud lying over the cars of a 0.5 m image and over 17 % of the site left it 83 %
clear, usable, and its count read 3 railcars where the clear image reads 45 (review
r3): the share of the site that is clear says nothing of the share of the yard that is.
So the scene is also judged by the clear share of the places cars can stand:

- the site's track centrelines, when the analyst drew them (``site edit --tracks``):
  a corridor of a car's width (:data:`CAR_WIDTH_M`) along each, inside the site
  (:func:`track_places`), at any resolution (coarse images, counted by occupied length
  along those lines, since session 40);
- else, where cars are counted one by one, the site's own history: the footprints of
  the cars detected in the site's other usable images counted car by car (at most
  :data:`HISTORY_SCENES`, nearest in time; at least :data:`HISTORY_MIN_CARS` cars, else
  no history): :func:`history_places`.

The pixels are listed (row, column), made strip by strip of the window (rasterised
with ``all_touched``), never as a whole-window map; the quality step looks them up in
the strips it already reads (no second read, nothing kept a byte a pixel).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from shapely.geometry.base import BaseGeometry

from railwatch.imagery.read import SiteGrid
from railwatch.rails import CAR_WIDTH_M

__all__ = [
    "CAR_WIDTH_M",
    "HISTORY_MIN_CARS",
    "HISTORY_SCENES",
    "Places",
    "history_places",
    "places_of",
    "track_places",
]

#: Most of the site's other usable images whose detections make its history.
HISTORY_SCENES = 20
#: Fewest detected cars (footprints) a history needs: fewer, and the scene is judged by
#: the share of the site alone, as before.
HISTORY_MIN_CARS = 5
#: Pixels (about) rasterised at once: a byte a pixel of a strip, never the window's.
_STRIP_PIXELS = 4_000_000

What = Literal["tracks", "history"]


@dataclass(frozen=True, eq=False)
class Places:
    """Pixels of a site grid where cars can stand: ``rows`` and ``cols`` (int32, sorted
    by row), and ``what`` they are (``"tracks"``: a corridor along the site's track
    centrelines; ``"history"``: the footprints of cars detected in its earlier
    images)."""

    rows: np.ndarray
    cols: np.ndarray
    what: What

    def __len__(self) -> int:
        return int(self.rows.size)

    def between(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """The places in rows ``a:b``, as (row - a, column) of that strip."""
        i, j = np.searchsorted(self.rows, [a, b])
        return self.rows[i:j] - a, self.cols[i:j]

    @property
    def words(self) -> str:
        """What they are, in a reason: "the site's tracks" or "where cars stood"."""
        if self.what == "tracks":
            return "the site's tracks"
        return "where cars stood in the site's earlier images"


def track_places(tracks_wgs84: BaseGeometry, grid: SiteGrid) -> Places | None:
    """The pixels of ``grid`` within half a car's width (:data:`CAR_WIDTH_M`) of the
    track centrelines (lon/lat); None when none lies on the grid."""
    lines = _to_grid_crs(tracks_wgs84, grid.crs)
    corridor = lines.buffer(CAR_WIDTH_M / 2, cap_style="flat")
    return None if corridor.is_empty else _rasterised([corridor], grid, "tracks")


def history_places(footprints_wgs84: Iterable[BaseGeometry], grid: SiteGrid) -> Places | None:
    """The pixels of ``grid`` under the car footprints (lon/lat polygons, overlapping or
    not: each is burnt in); None with fewer than :data:`HISTORY_MIN_CARS` of them or none
    on the grid."""
    shapes = [g for g in footprints_wgs84 if not g.is_empty]
    if len(shapes) < HISTORY_MIN_CARS:
        return None
    # one transformer for them all (one a footprint took 2 s of 6 for 10,000)
    moved = _to_grid_crs(np.array(shapes, dtype=object), grid.crs)
    return _rasterised(list(moved), grid, "history")


def places_of(
    grid: SiteGrid,
    tracks_wgs84: BaseGeometry | None,
    history_wgs84: Iterable[BaseGeometry] = (),
) -> Places | None:
    """Where cars can stand on ``grid``: along the tracks when the site has them, else
    where its history places them (:func:`history_places`), else None (the scene is
    judged by the share of the site alone)."""
    if tracks_wgs84 is not None and not tracks_wgs84.is_empty:
        return track_places(tracks_wgs84, grid)
    return history_places(history_wgs84, grid)


def _to_grid_crs(geom: Any, crs: str) -> Any:
    """``geom`` (lon/lat; a geometry or an array of them) in ``crs``."""
    import shapely
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _rasterised(shapes: list[BaseGeometry], grid: SiteGrid, what: What) -> Places | None:
    # ``shapes``: none empty (the callers drop them)
    from rasterio.features import rasterize
    from rasterio.transform import Affine

    h, w = grid.height, grid.width
    if not shapes or h <= 0 or w <= 0:
        return None
    import shapely

    # each shape's rows (the transform is north-up), a row more either side
    bounds = shapely.bounds(np.array(shapes, dtype=object))
    inv = ~grid.transform
    top = np.floor((bounds[:, 3] - grid.transform.f) * inv.e) - 1
    bottom = np.floor((bounds[:, 1] - grid.transform.f) * inv.e) + 1
    top, bottom = np.minimum(top, bottom), np.maximum(top, bottom)
    r0, r1 = max(0, int(top.min())), min(h, int(bottom.max()) + 1)
    step = max(1, _STRIP_PIXELS // w)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for a in range(r0, r1, step):
        b = min(r1, a + step)
        # only the shapes that reach the strip: each strip given them all cost 37 s a
        # scene for a history of 40,000 footprints over a 144 Mpx window (review r5)
        reach = np.flatnonzero((bottom >= a) & (top < b))
        if not reach.size:
            continue
        burnt = rasterize(
            [(shapes[i], 1) for i in reach],
            out_shape=(b - a, w),
            transform=grid.transform @ Affine.translation(0, a),
            all_touched=True,
            dtype="uint8",
        )
        r, c = np.nonzero(burnt)
        rows.append(r.astype(np.int32) + a)
        cols.append(c.astype(np.int32))
    if not rows or not sum(r.size for r in rows):
        return None
    return Places(np.concatenate(rows), np.concatenate(cols), what)
