"""Geometry helpers shared by exports and reports: oriented boxes from polygons,
and polygons moved between CRSs and raster pixel grids."""

from __future__ import annotations

import math

import numpy as np
import shapely
from affine import Affine
from pyproj import Transformer
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from railwatch.detect.base import OrientedBox


def box_from_quad(corners: np.ndarray) -> OrientedBox:
    """The oriented box whose corners are ``corners`` (4, 2), in the order
    :meth:`OrientedBox.corners` produces (the round trip is exact up to float error)."""
    pts = np.asarray(corners, dtype=float).reshape(4, 2)
    centre = pts.mean(axis=0)
    u = pts[1] - pts[0]
    v = pts[3] - pts[0]
    return OrientedBox(
        cx=float(centre[0]),
        cy=float(centre[1]),
        length=float(math.hypot(u[0], u[1])),
        width=float(math.hypot(v[0], v[1])),
        angle=float(math.degrees(math.atan2(u[1], u[0]))),
    )


def box_from_polygon(poly: BaseGeometry) -> OrientedBox:
    """An oriented box for a polygon: its own corners when it is a 4-corner
    rectangle ring, else its minimum rotated rectangle."""
    if isinstance(poly, Polygon):
        ring = np.asarray(poly.exterior.coords, dtype=float)
        if len(ring) == 5:
            return box_from_quad(ring[:4])
    rect = shapely.minimum_rotated_rectangle(poly)
    if not isinstance(rect, Polygon) or len(rect.exterior.coords) < 5:
        c = rect.centroid
        return OrientedBox(float(c.x), float(c.y), 0.0, 0.0, 0.0)
    return box_from_quad(np.asarray(rect.exterior.coords, dtype=float)[:4])


def transform_polygon(poly: BaseGeometry, src_crs: str, dst_crs: str) -> BaseGeometry:
    """A geometry moved from ``src_crs`` to ``dst_crs`` (lon/lat order for geographic CRSs)."""
    if src_crs == dst_crs:
        return poly
    tr = Transformer.from_crs(src_crs, dst_crs, always_xy=True)
    return shapely.transform(poly, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def to_pixels(poly: BaseGeometry, transform: Affine) -> BaseGeometry:
    """A geometry in a raster's CRS moved to its pixel (column, row) coordinates."""
    from railwatch.imagery._geo import xy_to_pixels

    return shapely.transform(poly, lambda xy: xy_to_pixels(transform, xy))


def from_pixels(poly: BaseGeometry, transform: Affine) -> BaseGeometry:
    """A geometry in pixel (column, row) coordinates moved to the raster's CRS."""

    def apply(xy: np.ndarray) -> np.ndarray:
        xs = transform.a * xy[:, 0] + transform.b * xy[:, 1] + transform.c
        ys = transform.d * xy[:, 0] + transform.e * xy[:, 1] + transform.f
        return np.column_stack([xs, ys])

    return shapely.transform(poly, apply)
