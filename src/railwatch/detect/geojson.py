"""Detections as GeoJSON FeatureCollections, and back.

Layout (issue 4; also the simulator's ``NAME.truth.geojson``): one Feature per
railcar, a Polygon (the body's oriented rectangle, closed ring; in lon/lat a car across
180° is a MultiPolygon split there, RFC 7946 3.1.9), properties
``class``, ``score``, ``covered``, ``covered_score``. A top-level ``"crs"`` member
names the coordinate system (``{"type": "name", "properties": {"name": "EPSG:32652"}}``)
or is ``null`` for pixel (column, row) coordinates; lon/lat output follows RFC 7946
and has no ``"crs"`` member. Optional top-level ``"gsd"`` (metres).

Rings are counter-clockwise in the coordinates written (RFC 7946's right-hand rule),
after any reprojection too; in lon/lat every longitude is within ±180° (a car wholly
past 180° moved back by 360°). :func:`write_geojson` replaces a JSON file, never one
that is not (an image, a database). (2026-12-06, session 39.)

Coordinates are rounded to a step of at most 2 mm on the ground in the CRS's own unit
(:func:`coordinate_digits`: 8 decimals in degrees, 3 in metres or feet). Since
2026-12-05 (session 34) every geographic CRS is written as lon/lat is (it was EPSG:4326
alone: an image in NAD83, EPSG:4269, had its degrees rounded to 3 decimals, about
100 m, and every car became a point), and a car across 180° is split there in any of
them.

Pixel output (``"crs": null``) is column, row from the image's top-left corner, rows
growing downward. GDAL (hence QGIS) reads a GeoJSON file without a CRS, ``null``
included, as EPSG:4326, and QGIS draws an image that is not georeferenced with ``y =
-row``: such a file lies mirrored below that image there (docs/detection.md, "Label
files", says how to overlay it). railwatch's readers (``eval``, ``train --labels``)
read it as pixels.

At 1.5 m to 10 m (``"method": "length"``) there is no car to outline: the features
are the stretches of track read as occupied, LineStrings with ``"method": "length"``,
``length_m`` and ``car_equivalents``; readers of railcars pass over them.
"""

from __future__ import annotations

import errno
import functools
import json
import math
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from railwatch.detect.base import (
    CAR_CLASSES,
    GENERIC_CLASS,
    Detection,
    OccupiedRun,
    OrientedBox,
    corners_of,
)
from railwatch.errors import InputError, os_reason
from railwatch.sites import geojson_shape

#: Value of ``crs`` meaning RFC 7946 longitude/latitude.
WGS84 = "EPSG:4326"

#: The largest rounding step written, in metres on the ground (:func:`coordinate_digits`).
ROUNDING_STEP_M = 0.002
#: Metres per radian of a geographic CRS's angles, for :func:`coordinate_digits`: the
#: WGS84 semi-major axis (a degree of latitude is 110.6-111.7 km; of longitude less).
_EARTH_RADIUS_M = 6_378_137.0
#: Decimals of a CRS pyproj cannot read: enough for degrees, so nothing collapses.
_UNKNOWN_DIGITS = 8
#: Decimals of pixel coordinates.
_PIXEL_DIGITS = 3


@functools.lru_cache(maxsize=64)
def _crs_units(crs: str) -> tuple[bool, float] | None:
    """Whether ``crs`` is geographic (a compound CRS by its horizontal part), and metres
    per unit of its first axis on the ground (per degree: at the equator); None when
    pyproj cannot read ``crs``."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        parsed = CRS.from_user_input(crs)
    except CRSError:
        return None
    axes = parsed.axis_info
    if parsed.is_compound:
        horizontal = parsed.sub_crs_list[0] if parsed.sub_crs_list else parsed
        axes = horizontal.axis_info
    factor = axes[0].unit_conversion_factor if axes else None
    if not factor or not math.isfinite(factor) or factor <= 0:
        return None
    if parsed.is_geographic:
        return True, float(factor) * _EARTH_RADIUS_M  # radians per unit, to metres
    return False, float(factor)  # metres per unit


def is_geographic(crs: str | None) -> bool:
    """Whether coordinates in ``crs`` are longitude/latitude in degrees (any datum:
    WGS84, NAD83, ETRS89, GDA94, ``OGC:CRS84``, a WKT without an EPSG code, a 3-D or
    compound CRS whose horizontal part is one); False for pixels (None) and a CRS
    pyproj cannot read."""
    if crs is None:
        return False
    if crs == WGS84:
        return True
    units = _crs_units(crs)
    return units is not None and units[0]


def coordinate_digits(crs: str | None) -> int:
    """The decimals coordinates in ``crs`` are written with: the fewest whose step is at
    most :data:`ROUNDING_STEP_M` on the ground in the CRS's unit (degrees: 8, 1.1 mm of
    latitude; metres: 3; US survey or international feet: 3, 0.3 mm), 3 for pixels and 8
    for a CRS pyproj cannot read (never too few). Until 2026-12-05 (session 34) only
    EPSG:4326 was written in degrees (7 decimals) and every other CRS with 3."""
    if crs is None:
        return _PIXEL_DIGITS
    units = _crs_units(crs)
    if units is None:
        return _UNKNOWN_DIGITS
    metres_per_unit = units[1]
    return max(0, math.ceil(math.log10(metres_per_unit / ROUNDING_STEP_M) - 1e-9))


@dataclass(frozen=True)
class FeatureSet:
    """Detections read from a GeoJSON file: their frame and optional scene metadata."""

    detections: tuple[Detection, ...]
    crs: str | None  #: None: pixel coordinates; "EPSG:4326" for RFC 7946 files
    gsd: float | None
    tracks: BaseGeometry | None = None
    method: str = "objects"  #: "length"/"presence" for coarse detection output
    car_equivalents: float | None = None  #: coarse estimate, when ``method`` is not objects


def crs_member(crs: str | None) -> dict[str, Any] | None:
    """The top-level ``crs`` member for ``crs`` (None for pixel coordinates)."""
    if crs is None:
        return None
    return {"type": "name", "properties": {"name": crs}}


def _ring(corners: Sequence[Sequence[float]]) -> list[list[float]]:
    """A closed ring of a box's four ``corners`` (or an outline's vertices, closed or
    not), counter-clockwise."""
    ring = [[float(p[0]), float(p[1])] for p in corners]
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    n = len(ring)
    # RFC 7946: exterior rings counter-clockwise (in x-right, y-up axes)
    area2 = sum(
        ring[k][0] * ring[(k + 1) % n][1] - ring[(k + 1) % n][0] * ring[k][1] for k in range(n)
    )
    if area2 < 0:
        ring.reverse()
    ring.append(list(ring[0]))
    return ring


def _geometry(raw: list[list[float]], digits: int, *, lonlat: bool) -> dict[str, Any]:
    """The GeoJSON geometry of a car's closed ring ``raw``, rounded to ``digits``: a
    Polygon, or, in lon/lat, a MultiPolygon split at 180° when the car crosses there
    (RFC 7946 3.1.9; its corners east and west of 180° made a ring round the Earth)."""
    lons = [x for x, _ in raw]
    split = None
    if lonlat and (max(lons) - min(lons) > 180 or max(abs(x) for x in lons) > 180):
        from railwatch.imagery.inspect import split_at_antimeridian  # lazily: GDAL's layer

        split = split_at_antimeridian(Polygon(raw))
        if split is None and (min(lons) >= 180 or max(lons) <= -180):
            # wholly beyond 180° (an image in degrees past it, or of 0-360° longitudes):
            # moved back by 360° (RFC 7946: within ±180; 180.0003 was written until
            # 2026-12-06, session 39)
            shift = -360.0 if min(lons) >= 180 else 360.0
            raw = [[x + shift, y] for x, y in raw]
    if split is None:
        return {
            "type": "Polygon",
            "coordinates": [[[round(x, digits), round(y, digits)] for x, y in raw]],
        }
    parts = [
        [[[round(x, digits), round(y, digits)] for x, y in orient(p, 1.0).exterior.coords]]
        for p in split.geoms
    ]
    return {"type": "MultiPolygon", "coordinates": parts}


def _joined_at_180(poly: MultiPolygon) -> Polygon | None:
    """A lon/lat car written split at 180° (its parts east and west of it) as one
    polygon, its western part's longitudes put beyond 180°; None when ``poly`` is not
    such a split."""
    from railwatch.imagery.inspect import split_at_antimeridian

    if split_at_antimeridian(poly) is None:
        return None
    east = [
        shapely.transform(
            p,
            lambda xy: np.column_stack(
                [np.where(xy[:, 0] < 0, xy[:, 0] + 360.0, xy[:, 0]), xy[:, 1]]
            ),
        )
        for p in poly.geoms
    ]
    joined = shapely.union_all(east)
    return joined if isinstance(joined, Polygon) else None


#: Significant digits of the ``gsd`` written (:func:`gsd_for_display`).
GSD_DIGITS = 6


def gsd_for_display(gsd: float) -> float:
    """``gsd`` (metres per pixel) to :data:`GSD_DIGITS` significant digits, as a
    FeatureCollection's top-level ``gsd`` is written: 0.30000000000120003 is 0.3, an
    image in degrees' 0.30034081 is 0.300341 (5e-7 of it at most, far below any scale
    the detector tells apart)."""
    return float(f"{float(gsd):.{GSD_DIGITS}g}")


def to_feature_collection(
    detections: Iterable[Detection],
    *,
    crs: str | None,
    gsd: float | None = None,
    to_crs: str | None = None,
    precision: int | None = None,
    extra: Mapping[str, Any] | None = None,
    occupied: Sequence[OccupiedRun] = (),
    outlines: Sequence[Sequence[Sequence[float]]] | None = None,
) -> dict[str, Any]:
    """A FeatureCollection of ``detections`` (coordinates in ``crs``; None = pixels).

    ``outlines`` (one per detection, its vertices in ``crs``) are written instead of the
    boxes' corners: an analyst's outline stored as a rectangle on the ground, which in
    degrees is no rectangle (:func:`railwatch.review.scene_cars`).

    ``occupied`` (a length estimate's runs, :class:`OccupiedRun`, in ``crs``) are
    written after the cars as LineString features marked ``"method": "length"``, each
    with its ``length_m`` and ``car_equivalents``: where a coarse image's cars were read.

    ``to_crs`` reprojects every corner (e.g. ``"EPSG:4326"`` for RFC 7946 lon/lat, written
    without a ``crs`` member). ``precision`` rounds coordinates (default:
    :func:`coordinate_digits` of the CRS written: 8 decimals in degrees, whatever the
    datum; 3 in metres, feet and pixels).
    """
    transformer = None
    if to_crs is not None and to_crs != crs:
        if crs is None:
            raise InputError(
                "detections in pixel coordinates cannot be reprojected: the image is not "
                "georeferenced; leave out the reprojection (to_crs in Python, --wgs84 on the "
                "command line)"
            )
        from pyproj import Transformer

        transformer = Transformer.from_crs(crs, to_crs, always_xy=True)
        crs = to_crs
    digits = precision if precision is not None else coordinate_digits(crs)
    lonlat = is_geographic(crs)
    dets = list(detections)
    if outlines is not None and len(outlines) != len(dets):  # a caller's mistake
        raise ValueError(f"{len(outlines)} outlines given for {len(dets)} detections")
    corners = (
        corners_of([d.box for d in dets]).tolist()  # NumPy over all boxes at once
        if outlines is None
        else outlines
    )
    features = []
    for det, pts in zip(dets, corners, strict=True):
        raw = _ring(pts)
        if transformer is not None:
            xs, ys = transformer.transform([p[0] for p in raw], [p[1] for p in raw])
            # counter-clockwise again where it is written: a CRS whose axes point south
            # and west (S-JTSK / Krovak, EPSG:5513) mirrors the ring on the way, and
            # `detect --wgs84` wrote its cars clockwise against RFC 7946 (session 39)
            raw = _ring([[float(x), float(y)] for x, y in zip(xs, ys, strict=True)])
        geometry = _geometry(raw, digits, lonlat=lonlat)
        props: dict[str, Any] = {
            "class": det.cls,
            "score": round(float(det.score), 4),
            "covered": bool(det.covered),
            "covered_score": round(float(det.covered_score), 4),
        }
        class_scores = {
            k[2:]: round(float(v), 4) for k, v in det.extra.items() if k.startswith("p_")
        }
        if class_scores:  # the detector's probability of each type (reported or not)
            props["class_scores"] = class_scores
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": props,
            }
        )
    fc: dict[str, Any] = {"type": "FeatureCollection"}
    if crs != WGS84:
        fc["crs"] = crs_member(crs)
    if gsd is not None:
        # to 6 significant digits, as it is shown: a scale computed from a geotransform
        # was written 0.30000000000120003 (2026-12-06, session 39); the detections were
        # computed with the full value
        fc["gsd"] = gsd_for_display(gsd)
    if extra:
        fc.update(extra)
    features.extend(_occupied_features(occupied, transformer, digits, lonlat=lonlat))
    fc["features"] = features
    return fc


def _occupied_features(
    runs: Iterable[OccupiedRun], transformer: Any, digits: int, *, lonlat: bool
) -> list[dict[str, Any]]:
    """LineString features of a length estimate's occupied runs (``method`` ``length``:
    not railcars, and :func:`from_feature_collection` passes over them)."""
    from railwatch.detect.coarse import CONVENTIONAL_CAR_M  # lazily: OpenCV's module

    out = []
    for run in runs:
        xs = [p[0] for p in run.coords]
        ys = [p[1] for p in run.coords]
        if transformer is not None:
            xs, ys = transformer.transform(xs, ys)
        line = LineString(zip(xs, ys, strict=True))
        if lonlat:  # a stretch across 180° split there (RFC 7946), as cars are
            from railwatch.imagery.inspect import split_line_at_antimeridian

            split = split_line_at_antimeridian(line)
        else:
            split = line
        parts = [
            [[round(float(x), digits), round(float(y), digits)] for x, y in g.coords]
            for g in getattr(split, "geoms", [split])
        ]
        out.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": parts[0]}
                if len(parts) == 1
                else {"type": "MultiLineString", "coordinates": parts},
                "properties": {
                    "method": "length",
                    "length_m": run.length_m,
                    "car_equivalents": round(run.length_m / CONVENTIONAL_CAR_M, 2),
                },
            }
        )
    return out


#: Leading bytes of files that are no GeoJSON, named in :func:`write_geojson`'s refusal,
#: beside the images of ``imagery.inspect.IMAGE_SIGNATURES``.
_NOT_JSON_KINDS = (
    (b"SQLite format 3", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"PK\x03\x04", "a ZIP archive"),
)


def _not_geojson(out: Path) -> str | None:
    """What the file at ``out`` is, when it is there and is no JSON (an image, a
    database: anything that does not begin with ``{`` or ``[``); None for no file, an
    empty one, a JSON file or one that cannot be read (the write then says why)."""
    try:
        if not out.is_file():
            return None
        with out.open("rb") as f:
            head = f.read(64)
    except OSError:
        return None
    # (a GeoJSON text sequence, RFC 8142, begins with the record separator 0x1E)
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n\x1e")
    if not text or text[:1] in (b"{", b"["):
        return None
    from railwatch.imagery.inspect import IMAGE_SIGNATURES  # lazily: rasterio's module

    for magic, kind in (*IMAGE_SIGNATURES, *_NOT_JSON_KINDS):
        if head.startswith(magic):
            return kind
    return "not a GeoJSON file"


def check_output(path: str | Path) -> None:
    """Refuse, with what to do, an output :func:`write_geojson` would refuse: a folder,
    or a file that is no JSON (an image, a database). ``railwatch detect`` checks its
    outputs with it before detecting (2026-12-06, session 39: ``detect IMG -o
    OTHER.tif`` was refused only once the image had been detected)."""
    out = Path(path)
    if out.is_dir():  # said "(Is a directory); give a path in a folder you can write to"
        raise InputError(
            f"cannot write detections to {out}: it is a folder; give a file in it (e.g. "
            f"{out / 'NAME.detections.geojson'}), or on the command line --out-dir {out} "
            "in place of -o"
        )
    kind = _not_geojson(out)
    if kind is not None:
        raise InputError(
            f"cannot write detections to {out}: the file there is {kind}, which they would "
            "replace; give the output another name, e.g. "
            f"{out.with_name(out.stem + '.detections.geojson')}"
        )


def write_geojson(path: str | Path, collection: Mapping[str, Any]) -> Path:
    """Write a FeatureCollection to ``path`` (parent directories created). A file there
    that is no JSON (an image, a database) is refused, not replaced: ``railwatch detect
    yard.tif -o yard.tif`` wrote the detections over the image (2026-12-06, session
    39; :func:`check_output`).

    A regular file is written under a temporary name beside ``path`` and renamed over
    it once whole: a write that fails part way (disk full, a quota, Ctrl-C) leaves the
    previous file as it was (until 2026-12-06, session 40, it was truncated first and
    left half-written, a JSON file that GIS tools refuse). A symbolic link is written
    through (the file it points to is replaced, the link kept); a pipe or a device
    (``-o /dev/stdout``) is written to directly."""
    out = Path(path)
    check_output(out)
    text = json.dumps(collection, ensure_ascii=False) + "\n"
    try:
        if out.exists() and not out.is_file():
            # a pipe, a device (through a link too: /dev/stdout, whose target
            # /proc/PID/fd/pipe:[N] is no path to write beside): cannot be renamed over
            out.write_text(text, encoding="utf-8")
            return out
        target = out.resolve() if out.is_symlink() else out
        if target.is_file() and not os.access(target, os.W_OK):
            # a file made read-only (hand labels kept safe) is refused as the write to it
            # was, not replaced by the rename
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            if target.is_file():
                shutil.copymode(target, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as err:
        raise InputError(
            f"cannot write detections to {out} ({os_reason(err)}); "
            "give a path in a folder you can write to"
        ) from err
    return out


def box_from_polygon(poly: BaseGeometry) -> OrientedBox:
    """The oriented rectangle of a (near-rectangular) polygon: its minimum rotated
    rectangle, long side as length, angle in [-90, 90) degrees."""
    if poly.is_empty:
        raise InputError("empty polygon in detections file")
    rect = poly.minimum_rotated_rectangle
    pts = np.asarray(rect.exterior.coords if isinstance(rect, Polygon) else rect.coords)
    if len(pts) < 4:  # degenerate (a line or a point)
        c = poly.centroid
        xs, ys = np.asarray(poly.bounds[0::2]), np.asarray(poly.bounds[1::2])
        return OrientedBox(c.x, c.y, float(xs[1] - xs[0]), float(ys[1] - ys[0]), 0.0)
    e1, e2 = pts[1] - pts[0], pts[2] - pts[1]
    l1, l2 = float(np.hypot(*e1)), float(np.hypot(*e2))
    axis, length, width = (e1, l1, l2) if l1 >= l2 else (e2, l2, l1)
    angle = math.degrees(math.atan2(axis[1], axis[0]))
    angle = (angle + 90.0) % 180.0 - 90.0
    c = rect.centroid
    return OrientedBox(float(c.x), float(c.y), length, width, angle)


def crs_of_collection(fc: Mapping[str, Any]) -> str | None:
    """The CRS a GeoJSON FeatureCollection's coordinates are in, as ``"AUTH:CODE"``:
    WGS84 when it has no ``crs`` member (RFC 7946), None when that member is null
    (pixel coordinates), the name of a GeoJSON 2008 named CRS; an :class:`InputError` for
    any other ``crs`` member."""
    if "crs" not in fc:
        return WGS84
    member = fc["crs"]
    if member is None:
        return None
    if isinstance(member, Mapping):
        props = member.get("properties") or {}
        name = props.get("name")
        if isinstance(name, str):
            # "urn:ogc:def:crs:EPSG::32652" -> "EPSG:32652"
            if name.startswith("urn:ogc:def:crs:"):
                parts = name.split(":")
                if "CRS84" in parts[-1]:
                    return WGS84
                return f"{parts[4]}:{parts[-1]}"
            return name
    raise InputError("GeoJSON 'crs' member is not {'type': 'name', 'properties': {'name': ...}}")


#: Class names read as a car of unknown type (:data:`GENERIC_CLASS`).
_UNTYPED_NAMES = ("railcar", "unknown", "")
#: ``covered`` values read as true / false (strings matched ignoring case and spaces).
_TRUE = ("true", "yes", "y", "1")
_FALSE = ("false", "no", "n", "0", "")


def parse_class(value: object, where: str = "") -> str:
    """A car's class from a file another tool may have written: one of
    :data:`~railwatch.detect.base.CAR_CLASSES` matched ignoring case, spaces, ``_`` and
    ``-`` and a trailing ``car`` (``Tank``, ``TANK``, ``tank car``, ``Flat_Car``), or
    :data:`~railwatch.detect.base.GENERIC_CLASS` for none, ``railcar`` or ``unknown``.
    Anything else is an :class:`InputError` naming ``where`` (a car of another type is
    not made a ``railcar``: that would score its class as unknown, unseen)."""
    if value is None:
        return GENERIC_CLASS
    if not isinstance(value, str):
        raise InputError(
            f"{where} has class {value!r}, not a name: use one of {', '.join(CAR_CLASSES)}, "
            f"or {GENERIC_CLASS} for a car of unknown type"
        )
    name = "".join(value.lower().replace("_", " ").replace("-", " ").split())
    if name in _UNTYPED_NAMES:
        return GENERIC_CLASS
    if name in CAR_CLASSES:
        return name
    if name.endswith("car") and name[:-3] in CAR_CLASSES:
        return name[:-3]
    raise InputError(
        f"{where} has class {value!r}, which is not a railcar class: use one of "
        f"{', '.join(CAR_CLASSES)} (case, spaces and a trailing 'car' do not matter: "
        f"'Tank car' is tank), or {GENERIC_CLASS} for a car of unknown type; rename the "
        "class in the file (e.g. QGIS: Field Calculator on 'class')"
    )


def parse_covered(value: object, where: str = "") -> bool:
    """A car's ``covered`` flag: true/false, 1/0, or the strings true/false, yes/no,
    y/n, 1/0 (any case; missing or empty: false). Anything else is an
    :class:`InputError` naming ``where`` (the string ``"false"`` is not true)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in (*_TRUE, *_FALSE):
        return value.strip().lower() in _TRUE
    raise InputError(
        f"{where} has covered {value!r}: give true or false (also read: yes/no, 1/0), "
        "or leave it out for false"
    )


def _score(value: object, key: str, where: str) -> float | None:
    """A ``score``/``covered_score`` property as a number (None when missing)."""
    if value is None:
        return None
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, bool) or not math.isfinite(v):
        raise InputError(f"{where} has {key} {value!r}: give a number from 0 to 1, or leave it out")
    return v


def _check_degrees(poly: Polygon, crs: str | None, where: str) -> None:
    """An :class:`InputError` unless ``poly``'s coordinates can be longitude/latitude,
    as its ``crs`` (a geographic one) says they are: metres taken for degrees have no
    place on the Earth, and moved to another CRS they became infinite (`scene review
    --cars` of UTM metres without a 'crs' member, or under one naming EPSG:4326 or
    EPSG:4269, ended in an internal error until 2026-12-05, session 34)."""
    xy = shapely.get_coordinates(poly)
    if not len(xy) or (
        np.isfinite(xy).all() and np.abs(xy[:, 0]).max() <= 360 and np.abs(xy[:, 1]).max() <= 90
    ):
        return  # (a car across 180 deg is joined with longitudes beyond 180)
    said = (
        "which a GeoJSON file without a 'crs' member (RFC 7946) or with one naming EPSG:4326 "
        "must have"
        if crs == WGS84
        else f"which its 'crs' member names ({crs}, a longitude/latitude CRS)"
    )
    raise InputError(
        f"{where} has coordinates (e.g. {xy[0, 0]:.6g}, {xy[0, 1]:.6g}) that are not "
        f"longitude/latitude, {said}: give the 'crs' member of the CRS they are in, e.g. "
        '"crs": {"type": "name", "properties": {"name": "EPSG:32652"}} (QGIS writes it when '
        "the layer is saved in that CRS)"
    )


#: What a car outline must be, said where one is refused (:func:`_outline_problem`;
#: since 2026-12-08, session 52: a review's outline of fewer than 4 points was refused
#: in shapely's words, "A linearring requires at least 4 coordinates").
OUTLINE_NEEDS = (
    "a car outline needs at least 3 distinct corners, closed: 4 points with the first "
    "repeated at the end, e.g. [[x1, y1], [x2, y2], [x3, y3], [x4, y4], [x1, y1]] for a "
    "car's 4 corners"
)


def _rings(geom: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The rings of a Polygon or MultiPolygon GeoJSON geometry as written (not read by
    shapely), each with its words ("its outline", "hole 1 of part 2"); none for any other
    type or a shape too broken to walk (shapely's error then says what is wrong)."""
    coords = geom.get("coordinates")
    kind = geom.get("type")
    if kind == "Polygon":
        parts = [coords]
    elif kind == "MultiPolygon" and isinstance(coords, list | tuple):
        parts = list(coords)
    else:
        return []
    out: list[tuple[str, Any]] = []
    for p, part in enumerate(parts):
        if not isinstance(part, list | tuple):
            return []
        for h, ring in enumerate(part):
            name = "its outline" if h == 0 else f"hole {h} of its outline"
            if len(parts) > 1:
                name = f"{name} (part {p})"
            out.append((name, ring))
    return out


def _positions(ring: Any) -> list[tuple[float, float]] | None:
    """A ring's points as (x, y) floats; None where it is no list of positions of two or
    more numbers (shapely's error then says so)."""
    if not isinstance(ring, list | tuple):
        return None
    pts: list[tuple[float, float]] = []
    for pos in ring:
        if (
            not isinstance(pos, list | tuple)
            or len(pos) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos[:2])
        ):
            return None
        pts.append((float(pos[0]), float(pos[1])))
    return pts


def _not_numbers(ring: Any) -> tuple[int, Any] | None:
    """The first point of a ring written as a list whose first two values are not
    numbers (``["x", 5]``), with its index; None where there is none."""
    if not isinstance(ring, list | tuple):
        return None
    for i, pos in enumerate(ring):
        if isinstance(pos, list | tuple) and (
            len(pos) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos[:2])
        ):
            return i, pos
    return None


def _outline_problem(geom: Mapping[str, Any], *, strict: bool) -> str | None:
    """What is wrong with a feature's outline as written, in words (None: nothing
    found). Always: a coordinate that is not a finite number (NaN, infinity: it was read
    on as if metres taken for degrees), and fewer points than a closed ring has (shapely's
    "A linearring requires at least 4 coordinates"). ``strict`` (an analyst's car
    outlines, :func:`railwatch.review.cars_from_feature_collection`): also fewer than 3
    distinct corners (all points one, two corners: a line), corners on one line (no
    area) and an outline that crosses itself. Since 2026-12-08, session 52."""
    for name, ring in _rings(geom):
        bad = _not_numbers(ring)
        if bad is not None:
            i, pos = bad
            return (
                f"point {i} of {name} is {json.dumps(pos, default=str)}, not two numbers: "
                "give each corner as [x, y] numbers (no quotes); redraw the outline or "
                "remove the feature"
            )
        pts = _positions(ring)
        if pts is None:
            continue
        for i, (x, y) in enumerate(pts):
            if not (math.isfinite(x) and math.isfinite(y)):
                return (
                    f"point {i} of {name} is ({x:g}, {y:g}), not a finite number: give each "
                    "corner's coordinates as numbers (a NaN or an infinity is a corner the "
                    "drawing tool lost): redraw the outline or remove the feature"
                )
        closed = len(pts) >= 2 and pts[0] == pts[-1]
        distinct = len(dict.fromkeys(pts))
        shapely_refuses = len(pts) < 3 or (closed and len(pts) < 4)
        if pts and (shapely_refuses or (strict and distinct < 3)):
            return (
                f"{name} has {len(pts)} point{'s' if len(pts) != 1 else ''}"
                + (f", {distinct} distinct" if distinct != len(pts) else "")
                + f": {OUTLINE_NEEDS}. Redraw it (in QGIS: the Vertex tool) or remove the "
                "feature"
            )
    return None


def _outline_shape_problem(poly: Polygon) -> str | None:
    """What is wrong with a car outline read by shapely (:func:`_outline_problem` with
    ``strict``, after it): corners on one line, or an outline that crosses itself."""
    if poly.is_empty:
        return f"its outline has no points: {OUTLINE_NEEDS}. Draw it or remove the feature"
    if not (math.isfinite(poly.area) and math.isfinite(poly.length)):
        # corners at ±1e308: sides and area overflow, and the reprojected ring was a 500
        # of PUT /api/scenes/{id}/review (2026-12-08, session 53)
        x0, y0, x1, y1 = poly.bounds
        return (
            f"its corners span ({x0:g}, {y0:g}) to ({x1:g}, {y1:g}), too far apart for "
            "any place on Earth (its sides and area overflow): give the outline in the "
            "scene's CRS or in lon/lat; redraw it or remove the feature"
        )
    # on one line: no area to speak of against its length (a corner put back on the
    # line between two others is off it by a rounding error, not 0)
    if poly.area <= 1e-9 * poly.exterior.length**2:
        return (
            "its corners lie on one line (the outline has no area): "
            f"{OUTLINE_NEEDS}, not on one line. Redraw it or remove the feature"
        )
    if not poly.is_valid:
        reason = shapely.is_valid_reason(poly)
        near = ""
        if "[" in reason:
            where = reason[reason.index("[") + 1 : reason.rindex("]")].split()
            try:
                near = f" near ({float(where[0]):.8g}, {float(where[1]):.8g})"
            except (IndexError, ValueError):
                near = ""
        what = reason.split("[")[0].strip().lower() or "invalid"
        if what == "self-intersection":
            return (
                f"its outline crosses itself{near}: give its corners in order around the "
                "car (a corner out of order draws a bowtie), each once; redraw it (in QGIS: "
                "Vector > Geometry Tools > Check Validity shows where) or remove the feature"
            )
        return (
            f"its outline is not a valid polygon ({what}{near}): {OUTLINE_NEEDS}, its "
            "sides not crossing; redraw it or remove the feature"
        )
    return None


def from_feature_collection(
    fc: Mapping[str, Any],
    *,
    source: str = "",
    to_crs: str | None = None,
    check_outlines: bool = False,
) -> FeatureSet:
    """Detections (or truth railcars) from a FeatureCollection dict. Every feature is a
    railcar: a Polygon (or a MultiPolygon of one part, or in lon/lat of two parts split
    at 180°, joined again across it); a feature without a geometry or
    with another type is an :class:`InputError` naming ``source`` (the file) and the
    feature's index, not skipped or counted. ``class`` and ``covered`` as other tools
    write them are read by :func:`parse_class` and :func:`parse_covered` (an unknown
    class or flag is refused, not guessed). ``to_crs`` moves each outline into that CRS
    before its box is fitted (a car drawn in lon/lat is a parallelogram in degrees, so
    a box fitted there and moved after is too large). ``check_outlines`` (an analyst's
    corrected car outlines): an outline of fewer than 3 distinct corners, with its corners
    on one line or crossing itself is refused too, naming the feature (a coordinate that
    is not a finite number, and fewer points than a closed ring has, always are; since
    2026-12-08, session 52)."""
    if fc.get("type") != "FeatureCollection":
        raise InputError("not a GeoJSON FeatureCollection: expected 'type': 'FeatureCollection'")
    where = f"{source}: feature" if source else "feature"
    crs = crs_of_collection(fc)
    move = None
    if to_crs is not None and crs is not None and to_crs != crs:
        from pyproj import Transformer
        from pyproj.exceptions import CRSError

        try:
            tr = Transformer.from_crs(crs, to_crs, always_xy=True)
        except CRSError as err:
            raise InputError(
                f"{source or 'GeoJSON'}: cannot transform {crs} to {to_crs}: {err}"
            ) from err

        def move(xy: np.ndarray) -> np.ndarray:
            x, y = tr.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([np.asarray(x), np.asarray(y)])

    def got(value: object) -> str:  # a JSON value's type in words
        if isinstance(value, bool):  # before int: a bool is an int in Python
            return "true or false"
        if isinstance(value, int | float):
            return "a number"
        if isinstance(value, str):
            return "a string"
        if isinstance(value, list):
            return "a list"
        return "an object" if isinstance(value, Mapping) else "null"

    # a `features` that is no list, or a feature that is no object, is named as such
    # (since 2026-12-05, session 33: "x" was read letter by letter, "feature 0 has no
    # geometry"); a collection without `features` holds none, as before
    features = fc.get("features")
    if features is None:
        features = []
    if not isinstance(features, list | tuple):
        raise InputError(
            f"{source + ': ' if source else ''}features must be a list of GeoJSON Feature "
            f"objects (got {got(features)}): give each railcar as a Feature with a Polygon "
            "geometry"
        )
    dets: list[Detection] = []
    for k, feat in enumerate(features):
        if not isinstance(feat, Mapping):
            raise InputError(
                f"{where} {k} must be a GeoJSON Feature object (got {got(feat)}): give each "
                "railcar as a Feature with a Polygon geometry, or remove it"
            )
        geom = feat.get("geometry")
        if _is_occupied_run(feat, geom):
            continue  # a length estimate's evidence (`detect` at 1.5-10 m), not a railcar
        if not isinstance(geom, Mapping):
            raise InputError(
                f"{where} {k} has no geometry: each feature is a railcar's outline (a "
                "Polygon); give it one or remove the feature"
            )
        problem = _outline_problem(geom, strict=check_outlines)
        if problem is not None:
            raise InputError(f"{where} {k}: {problem}")
        try:
            poly = geojson_shape(geom)
        except (ValueError, TypeError, AttributeError) as err:
            raise InputError(f"{where} {k} has an invalid geometry: {err}") from err
        if isinstance(poly, MultiPolygon) and len(poly.geoms) == 1:
            poly = poly.geoms[0]
        elif isinstance(poly, MultiPolygon) and is_geographic(crs):
            # a car across 180° written split there (RFC 7946; `detect --wgs84`, or an
            # image in another lon/lat CRS such as NAD83, since session 34)
            poly = _joined_at_180(poly) or poly
        if not isinstance(poly, Polygon):
            raise InputError(
                f"{where} {k} is a {geom.get('type')}, not a Polygon: each feature is a "
                "railcar's outline; draw it as one polygon or remove the feature"
            )
        if check_outlines:
            problem = _outline_shape_problem(poly)
            if problem is not None:
                raise InputError(f"{where} {k}: {problem}")
        if move is not None:
            if is_geographic(crs):
                _check_degrees(poly, crs, f"{where} {k}")
            poly = shapely.transform(poly, move)
        props = feat.get("properties") or {}
        if not isinstance(props, Mapping):
            raise InputError(f"{where} {k} has properties that are not an object")
        # `railwatch export` names the column `cls` (a GeoPackage field cannot be `class`
        # in every tool); read as `class` where that is absent
        cls = parse_class(props.get("class", props.get("cls")), f"{where} {k}")
        score = _score(props.get("score"), "score", f"{where} {k}")
        covered = parse_covered(props.get("covered"), f"{where} {k}")
        covered_score = _score(props.get("covered_score"), "covered_score", f"{where} {k}")
        scores = props.get("class_scores")
        extra = (
            {f"p_{k}": float(v) for k, v in scores.items() if isinstance(v, int | float)}
            if isinstance(scores, Mapping)
            else {}
        )
        dets.append(
            Detection(
                box=box_from_polygon(poly),
                cls=cls,
                score=score if score is not None else 1.0,
                covered=covered,
                covered_score=covered_score if covered_score is not None else float(covered),
                extra=extra,
            )
        )
    gsd = fc.get("gsd")
    tracks = fc.get("tracks")
    track_geom: BaseGeometry | None = None
    if isinstance(tracks, list) and tracks:
        from shapely.geometry import MultiLineString

        try:
            track_geom = MultiLineString([[tuple(pt[:2]) for pt in line] for line in tracks])
        except (ValueError, TypeError, IndexError):
            track_geom = None
    elif isinstance(tracks, Mapping) and tracks.get("type"):
        try:
            track_geom = geojson_shape(tracks)
        except (ValueError, TypeError, AttributeError):
            track_geom = None
    if move is not None and track_geom is not None:
        track_geom = shapely.transform(track_geom, move)
    coarse = fc.get("coarse")
    cars = coarse.get("car_equivalents") if isinstance(coarse, Mapping) else None
    return FeatureSet(
        tuple(dets),
        crs if move is None else to_crs,
        float(gsd) if gsd is not None else None,
        track_geom,
        str(fc.get("method") or "objects"),
        float(cars) if cars is not None else None,
    )


def _is_occupied_run(feat: object, geom: object) -> bool:
    """A feature ``to_feature_collection`` wrote for an occupied run: a LineString
    marked ``"method": "length"``."""
    if not isinstance(feat, Mapping) or not isinstance(geom, Mapping):
        return False
    props = feat.get("properties")
    return (
        geom.get("type") in ("LineString", "MultiLineString")
        and isinstance(props, Mapping)
        and props.get("method") == "length"
    )


def read_geojson_object(path: str | Path) -> Mapping[str, Any]:
    """The JSON object of a GeoJSON file, or an :class:`InputError` that says why not."""
    p = Path(path)
    try:
        # utf-8-sig: a byte-order mark (some Windows tools write one) is not an error
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as err:
        raise InputError(f"{p} does not exist: check the path") from err
    except OSError as err:
        # a folder said "cannot read GeoJSON DIR: [Errno 21] Is a directory: 'DIR'"
        # (Windows: permission denied)
        if isinstance(err, IsADirectoryError) or p.is_dir():
            raise InputError(f"{p} is a folder: give the path of a GeoJSON file") from err
        raise InputError(
            f"cannot read GeoJSON {p} ({os_reason(err)}): give a GeoJSON file you can read"
        ) from err
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"cannot read GeoJSON {p}: {err}") from err
    if not isinstance(data, Mapping):
        raise InputError(f"{p} is not a GeoJSON object")
    return data


def read_geojson(path: str | Path, *, to_crs: str | None = None) -> FeatureSet:
    """Read a detections or truth GeoJSON file (its outlines moved into ``to_crs`` when
    given, see :func:`from_feature_collection`)."""
    data = read_geojson_object(path)
    return from_feature_collection(data, source=str(path), to_crs=to_crs)
