"""Small geometry helpers shared by the imagery modules (private)."""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = "EPSG:4326"


def utm_crs_for(geom_wgs84: BaseGeometry) -> str:
    """The UTM zone of the geometry's centroid, as ``"EPSG:326NN"`` / ``"EPSG:327NN"``."""
    c = geom_wgs84.centroid
    lon = ((c.x + 180.0) % 360.0) - 180.0
    zone = min(60, max(1, math.floor((lon + 180.0) / 6.0) + 1))
    return f"EPSG:{32600 + zone if c.y >= 0 else 32700 + zone}"


@lru_cache(maxsize=128)
def _cached_transformer(src: str, dst: str, _thread: int) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def _transformer(src: str, dst: str) -> Transformer:
    # pyproj transformers must not be shared between threads: cache one per thread.
    return _cached_transformer(src, dst, threading.get_ident())


def project(geom: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    """Reproject a shapely geometry (x/y order, e.g. lon/lat for WGS84)."""
    if src == dst:
        return geom
    tr = _transformer(src, dst)

    def _apply(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, _apply)


def densify_wgs84(geom: BaseGeometry, step_deg: float = 0.005) -> BaseGeometry:
    """Add vertices so long lon/lat edges bend correctly when reprojected."""
    return shapely.segmentize(geom, step_deg)


def pixel_to_xy(transform: Any, col: float, row: float) -> tuple[float, float]:
    """Apply an affine geotransform to a (column, row) pixel position."""
    return (
        transform.c + transform.a * col + transform.b * row,
        transform.f + transform.d * col + transform.e * row,
    )


def xy_to_pixels(transform: Any, xy: np.ndarray) -> np.ndarray:
    """(N, 2) positions in a raster's CRS to (N, 2) (column, row) pixel positions
    through the inverse of its affine geotransform (vectorised)."""
    inv = ~transform
    pts = np.asarray(xy, dtype=np.float64)
    cols = inv.a * pts[:, 0] + inv.b * pts[:, 1] + inv.c
    rows = inv.d * pts[:, 0] + inv.e * pts[:, 1] + inv.f
    return np.column_stack([cols, rows])


def scaled(transform: Any, sx: float, sy: float) -> Any:
    """The geotransform of the same grid with pixels ``sx`` x ``sy`` times larger."""
    from affine import Affine

    return Affine(
        transform.a * sx, transform.b * sy, transform.c, transform.d * sx, transform.e * sy,
        transform.f,
    )  # fmt: skip
