"""Values the storage layer takes in: detection records and the shapes of its inputs.

The repository functions accept any object with the attributes of
``imagery.SceneInfo``, ``imagery.quality.Quality`` and ``counting.SceneCount``
(structural protocols below), so storage does not import those layers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from railwatch.detect.base import Detection

__all__ = [
    "AlertLike",
    "DetectionRecord",
    "QualityLike",
    "SceneCountLike",
    "SceneInfoLike",
    "records_from_detections",
]


class SceneInfoLike(Protocol):
    """What :func:`railwatch.storage.repo.add_scene` reads (``imagery.SceneInfo``)."""

    @property
    def uri(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def acquired(self) -> datetime: ...
    @property
    def crs(self) -> str: ...
    @property
    def footprint(self) -> BaseGeometry: ...
    @property
    def gsd(self) -> float: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def band_count(self) -> int: ...
    @property
    def dtype(self) -> str: ...
    @property
    def sensor(self) -> str | None: ...
    @property
    def mask_uri(self) -> str | None: ...
    @property
    def date_source(self) -> str: ...
    @property
    def metadata(self) -> Mapping[str, Any]: ...


class QualityLike(Protocol):
    """What :func:`record_scene_result` reads from ``imagery.quality.Quality``."""

    @property
    def clear_fraction(self) -> float: ...
    @property
    def coverage(self) -> float: ...
    @property
    def cloud_fraction(self) -> float: ...
    @property
    def haze_fraction(self) -> float: ...
    @property
    def snow_fraction(self) -> float: ...
    @property
    def nodata_fraction(self) -> float: ...
    @property
    def usable(self) -> bool: ...
    @property
    def reasons(self) -> tuple[str, ...]: ...
    @property
    def source(self) -> str: ...


class SceneCountLike(Protocol):
    """What :func:`record_scene_result` reads from ``counting.SceneCount``."""

    @property
    def total(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def by_class(self) -> Mapping[str, tuple[float, float, float]]: ...
    @property
    def covered(self) -> int: ...
    @property
    def method(self) -> str: ...
    @property
    def coverage(self) -> float: ...


class AlertLike(Protocol):
    """What :func:`replace_alerts` reads from ``analysis.Alert``."""

    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def when(self) -> datetime: ...
    @property
    def cls(self) -> str: ...
    @property
    def value(self) -> float | None: ...
    @property
    def explanation(self) -> str: ...
    @property
    def metrics(self) -> Mapping[str, float | str]: ...
    @property
    def event_label(self) -> str | None: ...
    @property
    def event_days(self) -> int | None: ...
    @property
    def scene_id(self) -> int | None: ...


@dataclass(frozen=True)
class DetectionRecord:
    """A detection ready to store: its polygon in WGS84 and in ``native_crs``.

    ``inside`` says whether its centre lies inside the site (only those are counted).
    """

    cls: str
    score: float
    polygon: Polygon
    native_polygon: Polygon
    native_crs: str
    covered: bool = False
    covered_score: float = 0.0
    inside: bool = True


def records_from_detections(
    detections: Iterable[Detection],
    transform: Any,
    crs: str,
    *,
    site_geom_wgs84: BaseGeometry | None = None,
) -> list[DetectionRecord]:
    """Turn pixel-space detections of a raster (affine ``transform``, ``crs``) into records.

    Pixel (column, row) corners go through the affine transform into ``crs``, then
    to WGS84. ``inside``: whether the car's centre (its polygon's centroid in ``crs``,
    taken to WGS84) lies in ``site_geom_wgs84``, when given. The WGS84 polygon keeps the
    corners as transformed: a car across 180° is one ring from +179.99° to -179.99°
    (readers that draw or export it split it there, ``imagery.inspect.split_at_antimeridian``).
    """
    dets = list(detections)
    if not dets:
        return []
    from pyproj import Transformer  # when used: reading the records needs no pyproj

    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    a, b, c, d, e, f = (float(v) for v in tuple(transform)[:6])
    out: list[DetectionRecord] = []
    for det in dets:
        px = det.box.corners()
        xs = a * px[:, 0] + b * px[:, 1] + c
        ys = d * px[:, 0] + e * px[:, 1] + f
        native = Polygon(np.column_stack([xs, ys]))
        lon, lat = to_wgs84.transform(xs, ys)
        wgs = Polygon(np.column_stack([np.asarray(lon), np.asarray(lat)]))
        inside = True
        if site_geom_wgs84 is not None:
            # the centre in the image's own CRS, then to WGS84: the WGS84 polygon of a car
            # across 180° spans -180..180 and its centroid is near 0° (was dropped)
            centre = shapely.centroid(native)
            clon, clat = to_wgs84.transform(centre.x, centre.y)
            inside = bool(site_geom_wgs84.intersects(Point(clon, clat)))
        out.append(
            DetectionRecord(
                cls=det.cls,
                score=float(det.score),
                polygon=wgs,
                native_polygon=native,
                native_crs=crs,
                covered=bool(det.covered),
                covered_score=float(det.covered_score),
                inside=inside,
            )
        )
    return out
