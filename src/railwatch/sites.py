"""Sites: named areas of interest in WGS84, validated once at the boundary.

A site is a polygon or multipolygon in WGS84 longitude/latitude, with an optional
description, tags and track centrelines. Input comes as GeoJSON (a Feature, a
FeatureCollection of polygons, or a bare geometry) or as a ``W,S,E,N`` bounding box.
Every problem becomes a :class:`~railwatch.errors.GeometryError` whose one-line
message says what is wrong and how to fix it.
"""

from __future__ import annotations

import json
import math
import numbers
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import shapely
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiLineString,
    MultiPolygon,
    Polygon,
    box,
    mapping,
    shape,
)
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from railwatch.errors import GeometryError, InputError, os_reason, said_numbers
from railwatch.limits import check_description, check_site_name, check_tags

if TYPE_CHECKING:
    # pyproj is imported where a CRS is read or a length measured (2026-12-06, session
    # 38): a command that only reads sites (site list, alerts, event list) spared it
    from pyproj import CRS, Geod

__all__ = [
    "MAX_PARTS_APART_KM",
    "MAX_SITE_AREA_KM2",
    "MIN_SITE_AREA_M2",
    "GeoJSONText",
    "SiteSpec",
    "check_stored_site_polygon",
    "lat_lon_text",
    "load_tracks",
    "load_tracks_of_stored_site",
    "normalise_name",
    "one_name_a_site",
    "parse_bbox",
    "site_area_km2",
    "site_from_bbox",
    "site_from_geojson",
    "site_tracks",
    "utm_crs_for",
    "validate_name",
    "validate_site_geometry",
]

#: Largest site accepted: a rail yard with its approaches, not a province.
MAX_SITE_AREA_KM2 = 2500.0
#: Smallest site accepted: about one railcar footprint.
MIN_SITE_AREA_M2 = 50.0
#: Farthest a part of one site may lie from the rest (km, geodesic, between the parts'
#: nearest points: 2026-12-05, session 32, it measured between representative points,
#: and two 115 km strips of one corridor 0.7 km apart were "115 km apart"): about
#: twice the side of the largest site (:data:`MAX_SITE_AREA_KM2`).
MAX_PARTS_APART_KM = 100.0
#: A site wholly within this many degrees of lon 0, lat 0 (open sea) is taken for
#: coordinates that are not lon/lat (pixels, a local grid, unset values).
NULL_ISLAND_DEG = 1.0


@cache
def _geod() -> Geod:
    """The WGS84 ellipsoid's geodesic calculator (made once, when first used)."""
    from pyproj import Geod

    return Geod(ellps="WGS84")


def __getattr__(name: str) -> Any:
    """``_GEOD``: :func:`_geod`'s calculator (it was made when the module loaded)."""
    if name == "_GEOD":
        return _geod()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_FIX_HINT = (
    "fix it in QGIS (Vector > Geometry Tools > Fix Geometries) "
    "or with shapely.make_valid, then try again"
)

SiteGeometry = Polygon | MultiPolygon
GeoJSONSource = str | Path | Mapping[str, Any]


@dataclass(frozen=True)
class SiteSpec:
    """A validated site: WGS84 (multi)polygon, optional tracks (WGS84 lines)."""

    name: str
    geometry: Polygon | MultiPolygon
    description: str = ""
    tags: tuple[str, ...] = ()
    tracks: MultiLineString | None = None

    @property
    def area_km2(self) -> float:
        """Geodesic area in square kilometres."""
        return site_area_km2(self.geometry)

    @property
    def utm_crs(self) -> str:
        """The local UTM CRS of the site (``EPSG:326xx`` / ``EPSG:327xx``)."""
        return utm_crs_for(self.geometry)


# --------------------------------------------------------------------------- names


def normalise_name(name: str) -> str:
    """``name`` in Unicode NFC: the form site names are stored and looked up in. A name
    typed or pasted in decomposed form (NFD: "e" and a combining accent, as macOS file
    names and some keyboards give it) looks the same but is another string; its
    combining marks are not letters, so it was refused as invalid."""
    return unicodedata.normalize("NFC", name) if isinstance(name, str) else name


def one_name_a_site(names: Sequence[str]) -> list[str]:
    """``names`` with each site once, in the order given: a name given again, or given
    again in its other Unicode form (NFC and NFD name the same site,
    :func:`normalise_name`), is left out, the first form given kept (session 39: a site
    named in both forms was processed twice, and on Dask its tasks' keys collided)."""
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(normalise_name(name), name)
    return list(first.values())


def validate_name(name: str) -> str:
    """Return ``name`` in NFC (:func:`normalise_name`) if it is a usable site name,
    else raise :class:`InputError` (the rule is :func:`railwatch.limits.check_site_name`)."""
    return check_site_name(normalise_name(name))


# ------------------------------------------------------------------------ geometry


def utm_crs_for(geom_wgs84: BaseGeometry) -> str:
    """The UTM zone CRS of the centroid of a WGS84 geometry, e.g. ``"EPSG:32652"``."""
    if geom_wgs84.is_empty:
        raise GeometryError("cannot choose a UTM zone for an empty geometry")
    c = geom_wgs84.centroid
    lon, lat = float(c.x), float(c.y)
    lon = ((lon + 180.0) % 360.0) - 180.0
    zone = min(60, max(1, math.floor((lon + 180.0) / 6.0) + 1))
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def site_area_km2(geom_wgs84: BaseGeometry) -> float:
    """Geodesic area of a WGS84 (multi)polygon in km², holes taken out, whichever way
    its rings run. pyproj signs each ring's area by its direction: a hole drawn the way
    of its outer ring was added to the area, not taken from it, and two yards of one
    site drawn in opposite directions cancelled out (refused as "0.0 m²", or stored as
    the difference of their areas)."""
    area, _ = _geod().geometry_area_perimeter(_counter_clockwise(geom_wgs84))
    return abs(float(area)) / 1e6


def _counter_clockwise(geom: BaseGeometry) -> BaseGeometry:
    """``geom`` with every outer ring counter-clockwise and every hole clockwise
    (RFC 7946's order), for :func:`site_area_km2`; other geometries as they are."""
    if isinstance(geom, Polygon):
        return orient(geom, 1.0)
    if isinstance(geom, MultiPolygon):
        return MultiPolygon([orient(part, 1.0) for part in geom.geoms])
    return geom


def _coords(geom: BaseGeometry) -> list[tuple[float, float]]:
    arr = shapely.get_coordinates(geom)
    return [(float(x), float(y)) for x, y in arr]


def _check_lonlat(geom: BaseGeometry, what: str) -> None:
    """Check every coordinate is a finite WGS84 lon/lat; detect swapped axes."""
    coords = _coords(geom)
    for x, y in coords:
        if not (math.isfinite(x) and math.isfinite(y)):
            raise GeometryError(f"{what} has a non-finite coordinate ({x}, {y})")
    if not coords:
        return
    xs = [abs(x) for x, _ in coords]
    ys = [abs(y) for _, y in coords]
    if max(ys) > 90.0 and max(xs) <= 90.0 and max(ys) <= 180.0:
        raise GeometryError(
            f"{what} has latitude {said_numbers([max(ys)], lambda v: v[0] > 90.0)[0]} beyond ±90 "
            "while every longitude is within ±90: this looks like lat/lon order; GeoJSON is "
            "lon,lat (x=longitude, y=latitude), so swap the two numbers of each coordinate"
        )
    if max(xs) > 180.0 or max(ys) > 90.0:
        bad = next((x, y) for x, y in coords if abs(x) > 180.0 or abs(y) > 90.0)
        bx, by = said_numbers(bad, lambda v: abs(v[0]) > 180.0 or abs(v[1]) > 90.0)
        if max(max(xs), max(ys)) > 1000.0:
            hint = (
                "these look like projected coordinates (metres); reproject the file to "
                "WGS84 (EPSG:4326), or add a GeoJSON 'crs' member naming its CRS"
            )
        else:
            hint = "longitude must be within ±180 and latitude within ±90"
        raise GeometryError(
            f"{what} has coordinate ({bx}, {by}) out of range for WGS84 lon/lat: {hint}"
        )
    if max(x for x, _ in coords) - min(x for x, _ in coords) > 180.0:
        # Splitting it at ±180° into a MultiPolygon, as this once advised, spans 360°:
        # refused the same way (and one local grid cannot serve both sides).
        raise GeometryError(
            f"{what} spans more than 180° of longitude: it crosses the antimeridian (±180°), "
            "or its parts lie on both sides of it, which one site cannot (its local grid "
            "is one UTM zone); add the part on each side as a site of its own"
        )


def validate_site_geometry(geom: BaseGeometry, *, what: str = "site") -> Polygon | MultiPolygon:
    """Validate a WGS84 site geometry and return it (2-D) or raise :class:`GeometryError`.

    Checks: type (Polygon/MultiPolygon), emptiness, coordinate ranges and axis order,
    OGC validity (self-intersections, with the location), and area limits.
    """
    if geom is None or geom.is_empty:
        raise GeometryError(f"{what} geometry is empty: draw a polygon around the yard")
    # a shapely polygon given in Python (a SiteSpec, assess_file's site) may hold an
    # empty hole, which GEOS crashes on (segmentize, relate): left out, as from GeoJSON
    geom = without_empty_holes(geom)
    if not isinstance(geom, Polygon | MultiPolygon):
        kind = geom.geom_type
        if isinstance(geom, GeometryCollection) and not isinstance(
            geom, MultiLineString | shapely.MultiPoint
        ):
            # a shapely GeometryCollection given in Python (a SiteSpec, assess_file's
            # site) was told to make "a box around a point" whatever it held (session 40)
            raise GeometryError(_collection_hint(geom, what))
        hint = (
            "a ring is a polygon's outline: give shapely.Polygon(ring); "
            if kind == "LinearRing"
            else f"if these are track centrelines give them as the site's tracks ({LINES_HOW}); "
            if "Line" in kind
            else f"to make a box around a point give W,S,E,N ({POINT_HOW}); "
            if "Point" in kind
            else ""
        )
        raise GeometryError(
            f"{what} must be a Polygon or MultiPolygon, got {kind}: {hint}"
            "draw a polygon around the yard"
        )
    if isinstance(geom, MultiPolygon):  # a shapely one given in Python, a stored one
        empty = next((i for i, part in enumerate(geom.geoms) if part.is_empty), None)
        if empty is not None:
            raise GeometryError(_empty_part(f"{what} polygon {empty}"))
    if shapely.get_coordinate_dimension(geom) > 2:
        geom = shapely.force_2d(geom)
    _check_lonlat(geom, what)
    minx, miny, maxx, maxy = geom.bounds
    if max(abs(minx), abs(maxx), abs(miny), abs(maxy)) < NULL_ISLAND_DEG:
        raise GeometryError(
            f"{what} lies within {NULL_ISLAND_DEG:g}° of 0° N 0° E, open sea in the Gulf of "
            "Guinea with no railway: these look like pixel, local or unset coordinates, not "
            "lon/lat; give WGS84 longitude and latitude (reproject the file if needed)"
        )
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise GeometryError(f"{what} polygon is invalid: {_describe_invalid(reason)}; {_FIX_HINT}")
    if geom.area == 0.0:
        raise GeometryError(f"{what} polygon has zero area: give at least three distinct corners")
    area_km2 = site_area_km2(geom)
    if area_km2 > MAX_SITE_AREA_KM2:
        raise GeometryError(
            f"{what} covers {area_km2:,.0f} km², more than the {MAX_SITE_AREA_KM2:,.0f} km² limit: "
            "a site is a rail yard; draw a tighter polygon (or check the coordinates)"
        )
    if area_km2 * 1e6 < MIN_SITE_AREA_M2:
        area_m2 = area_km2 * 1e6
        # two significant digits under 0.1 m² (2026-12-07, session 51): a polygon of
        # 1 cm² "covers only 0.0 m²", read as no area at all (found by fuzzing)
        said = f"{area_m2:.1f}" if area_m2 >= 0.05 else f"{area_m2:.2g}"
        raise GeometryError(
            f"{what} covers only {said} m², smaller than one railcar: "
            "check the coordinates (degrees, lon,lat)"
        )
    return geom


def _collection_hint(geom: GeometryCollection, what: str) -> str:
    """What to do with a (shapely) GeometryCollection given as a site: its members named."""
    kinds = sorted({m.geom_type for m in geom.geoms})
    polygons = [m for m in geom.geoms if isinstance(m, Polygon | MultiPolygon)]
    got = f"{what} must be a Polygon or MultiPolygon, got a GeometryCollection of " + (
        ", ".join(kinds) if kinds else "nothing"
    )
    if not polygons:
        points = bool(kinds) and all("Point" in k for k in kinds)
        return (
            f"{got}: "
            + ("to make a box around a point give W,S,E,N (site_from_bbox); " if points else "")
            + "draw a polygon around the yard"
        )
    others = len(polygons) < len(geom.geoms)
    return (
        f"{got}: give its polygons as one MultiPolygon (shapely.MultiPolygon of the "
        "collection's polygons; shapely.ops.unary_union merges touching ones), or pass the "
        "collection to site_from_geojson, which reads its members as a site's parts"
        + (
            "; its other members are not part of a site (lines: give them as the site's "
            "tracks, tracks=)"
            if others
            else ""
        )
    )


def _describe_invalid(reason: str) -> str:
    """GEOS' ``Self-intersection[130.6 42.3]`` -> ``self-intersection at lon 130.6, lat 42.3``."""
    m = re.match(r"^(.*?)\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\]$", reason.strip())
    if not m:
        return reason.lower()
    return f"{m.group(1).strip().lower()} at lon {m.group(2)}, lat {m.group(3)}"


# ------------------------------------------------------------------------- GeoJSON


class GeoJSONText(str):
    """Text to read as GeoJSON (or WKT), never taken for a file name, with where it came
    from for messages: ``GeoJSONText(sys.stdin.read(), "standard input")``."""

    origin: str

    def __new__(cls, text: str, origin: str = "text") -> GeoJSONText:
        self = super().__new__(cls, text)
        self.origin = origin
        return self


#: How a site's area is converted when it comes in another format.
_CONVERT = (
    "convert it to GeoJSON in WGS84, e.g. `ogr2ogr -f GeoJSON -t_srs EPSG:4326 site.geojson "
    "FILE` (GDAL) or in QGIS: Export > Save Features As..., format GeoJSON"
)
#: Members of an Esri JSON (ArcGIS REST) geometry or feature set, none of GeoJSON.
_ESRI_KEYS = frozenset({"rings", "paths", "spatialReference", "geometryType"})
#: Well-known text of a geometry, optionally with a PostGIS ``SRID=N;`` prefix.
_WKT = re.compile(
    r"^(?:SRID=(\d+);)?\s*(?:MULTI)?(?:POLYGON|POINT|LINESTRING|GEOMETRYCOLLECTION)"
    r"\s*(?:ZM|Z|M)?\s*(?:\(|EMPTY\b)",
    re.IGNORECASE,
)


def _looks_like_text(text: str) -> bool:
    """Whether a string given as a GeoJSON source is its content, not a file name."""
    head = text.lstrip().removeprefix("\ufeff").lstrip()
    return head.startswith(("{", "[", "<")) or bool(_WKT.match(head)) or "\n" in head.strip()


def _binary_format(head: bytes, suffix: str) -> str | None:
    """What a file that is no text is, by its first bytes: a shapefile, a KMZ..."""
    if head.startswith(b"PK\x03\x04"):
        return "a KMZ file (zipped KML)" if suffix == ".kmz" else "a ZIP archive"
    if head.startswith(b"SQLite format 3\x00"):
        return "a GeoPackage (SQLite) file"
    if head.startswith(b"\x00\x00\x27\x0a"):
        return "an ESRI shapefile"
    return None


def _load_json(source: GeoJSONSource | BaseGeometry, what: str) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return dict(source)
    if isinstance(source, BaseGeometry):
        # a shapely geometry given in Python: a TypeError ("expected str, bytes or
        # os.PathLike object") before session 40; read as its GeoJSON
        return dict(mapping(source))
    text: str
    # JSON text may start with a byte-order mark (PowerShell and Windows editors write
    # one; a file is read as utf-8-sig): it was taken for a file name ("file not found")
    if isinstance(source, GeoJSONText) or (isinstance(source, str) and _looks_like_text(source)):
        origin = source.origin if isinstance(source, GeoJSONText) else "text"
        return _parse_text(str(source).lstrip().removeprefix("\ufeff"), origin, what)
    path = Path(source)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as err:
        raise InputError(f"{what} file not found: {path}") from err
    except IsADirectoryError as err:
        raise InputError(
            f"{what} {path} is a folder: give the path of a GeoJSON file (UTF-8 text)"
        ) from err
    except OSError as err:
        raise InputError(
            f"cannot read {what} file {path} ({os_reason(err)}): give a GeoJSON file you can read"
        ) from err
    kind = _binary_format(raw[:16], path.suffix.lower())
    if kind is not None:
        raise GeometryError(f"{what} {path} is {kind}, not GeoJSON: {_CONVERT}")
    # UTF-16 with its byte-order mark (Windows PowerShell 5's `>` and `Out-File` write
    # it, as Excel's "Unicode Text" does a counts CSV, which csvio reads): the mark says
    # how to read it. Since 2026-12-07 (session 51): "not UTF-8 text (byte 0xff at
    # offset 0)", the mark taken for a stray byte (found by fuzzing).
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        said = "UTF-16 text after its byte-order mark" if encoding == "utf-16" else "UTF-8 text"
        raise InputError(
            f"{what} file {path} is not {said} (byte {err.object[err.start]:#04x} at "
            f"offset {err.start}): give a GeoJSON file, saved as UTF-8"
        ) from err
    if not text.strip():
        # it was "not valid JSON (line 1, column 1: Expecting value)", with advice to
        # convert the file from another format: an export that wrote nothing, a file
        # truncated while saving, or one still being written
        raise InputError(
            f"{what} file {path} is empty, with no GeoJSON in it: export it again (or "
            "check it was saved in full) and give that file"
        )
    return _parse_text(text, str(path), what)


def _parse_text(text: str, origin: str, what: str) -> dict[str, Any]:
    """GeoJSON text as a dict; WKT as the GeoJSON geometry it writes; KML, GPX and
    other XML, or text of no known kind, refused with what they are and how to convert."""
    head = text.lstrip()
    if head.startswith("<"):
        low = head[:2000].lower()
        kind = "KML" if "<kml" in low else "GPX" if "<gpx" in low else "XML (GML?)"
        raise GeometryError(f"{what} {origin} is {kind}, not GeoJSON: {_CONVERT}")
    wkt = _WKT.match(head)
    if wkt is not None:
        return _wkt_geojson(head, wkt.group(1), origin, what)
    try:
        data = json.loads(text)
    except RecursionError as err:  # was an internal error
        raise GeometryError(
            f"{what} {origin} nests its brackets deeper than any GeoJSON does: give GeoJSON "
            "(a geometry's positions lie at most 4 lists deep)"
        ) from err
    except json.JSONDecodeError as err:
        hint = "" if head.startswith(("{", "[")) else f": give GeoJSON (or WKT); {_CONVERT}"
        if _is_sequence(text, err):
            raise GeometryError(
                f"{what} {origin} holds one GeoJSON object after another (line "
                f"{err.lineno} starts another: newline-delimited GeoJSON, GeoJSONSeq), not "
                "one GeoJSON object: give them as one FeatureCollection, e.g. `ogr2ogr -f "
                "GeoJSON site.geojson FILE` (GDAL) writes it"
            ) from err
        raise GeometryError(
            f"{what} {origin} is not valid JSON (line {err.lineno}, column {err.colno}: "
            f"{err.msg}){hint}"
        ) from err
    if not isinstance(data, dict):
        raise GeometryError(f"{what} {origin} is not a GeoJSON object")
    return data


def _is_sequence(text: str, err: json.JSONDecodeError) -> bool:
    """Whether ``text``, which :func:`json.loads` refused with ``err``, is a sequence of
    JSON objects (newline-delimited GeoJSON; GDAL's GeoJSONSeq): an object, then "Extra
    data" that starts with another. It was "not valid JSON (line 2, column 1: Extra
    data)", with nothing said of what to do (session 40)."""
    if err.msg != "Extra data" or not text[err.pos :].lstrip("\x1e").startswith("{"):
        return False
    try:
        following, _ = json.JSONDecoder().raw_decode(text[err.pos :].lstrip("\x1e"))
    except json.JSONDecodeError:
        return False
    return isinstance(following, dict)


#: Deepest nesting of brackets taken in WKT (:func:`_wkt_geojson`): a MULTIPOLYGON's
#: positions lie 3 deep, and each GEOMETRYCOLLECTION around it adds one. GEOS 3.14.1's
#: WKT reader goes one level down its C stack per bracket: a GEOMETRYCOLLECTION nested
#: 40,000 deep (800 KB of text) killed ``railwatch site add --geojson FILE`` (SIGSEGV),
#: and 10,000 deep ended it on an internal error (RecursionError) until 2026-12-08,
#: session 53.
MAX_WKT_DEPTH = 32


def _wkt_depth(text: str) -> int:
    """How deep the brackets of ``text`` nest at the deepest (those left open too: the
    WKT reader goes down one level for each before it finds one missing)."""
    brackets = np.frombuffer(re.sub(r"[^()]+", "", text).encode("ascii"), dtype=np.int8)
    # '(' is 40 and ')' 41: one level down, one up
    return int(np.cumsum(81 - 2 * brackets, dtype=np.int32).max(initial=0))


def _wkt_geojson(text: str, srid: str | None, origin: str, what: str) -> dict[str, Any]:
    """WKT (lon lat order; ``SRID=N;`` names its CRS) as a GeoJSON geometry, read then
    with the checks of any GeoJSON: a ring that is not closed is refused, not closed."""
    from shapely import wkt

    body = text.split(";", 1)[1] if srid is not None else text
    if _wkt_depth(body) > MAX_WKT_DEPTH:
        raise GeometryError(
            f"{what} {origin} is WKT whose brackets nest more than {MAX_WKT_DEPTH} deep, "
            "deeper than any geometry's do (a MULTIPOLYGON's positions lie 3 deep, and "
            "each GEOMETRYCOLLECTION around it adds one): give the polygons as one "
            "MULTIPOLYGON or one GEOMETRYCOLLECTION, not collections nested in collections"
        )
    try:
        geom = wkt.loads(body)
    except (shapely.errors.ShapelyError, ValueError) as err:
        reason = str(err).removeprefix("IllegalArgumentException: ").strip()
        raise GeometryError(
            f"{what} {origin} is WKT that cannot be read ({reason}): write e.g. "
            "POLYGON ((130.60 42.41, 130.61 42.41, 130.61 42.42, 130.60 42.42, 130.60 42.41)), "
            "lon lat, each ring ending at its first point"
        ) from err
    data: dict[str, Any] = dict(mapping(geom))
    if srid is not None:
        data["crs"] = {"type": "name", "properties": {"name": f"EPSG:{srid}"}}
    return data


def _source_crs(data: Mapping[str, Any]) -> CRS | None:
    """The CRS named by a legacy GeoJSON ``crs`` member, or None when it is WGS84/absent."""
    crs_member = data.get("crs")
    if crs_member is None:
        return None
    props = crs_member.get("properties") if isinstance(crs_member, Mapping) else None
    name = props.get("name") if isinstance(props, Mapping) else None
    if not isinstance(name, str):  # was ignored: the coordinates were then taken as lon/lat
        raise GeometryError(
            f"the GeoJSON 'crs' member {_show(crs_member, 80)} is not understood: write "
            '{"type": "name", "properties": {"name": "EPSG:32652"}} for the CRS of the '
            "coordinates, or remove it when they are WGS84 lon/lat"
        )
    if "CRS84" in name.upper() or name.upper().endswith(("EPSG::4326", "EPSG:4326")):
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(name)
    except CRSError as err:
        raise GeometryError(
            f"unknown CRS {name!r} in the GeoJSON 'crs' member: use EPSG:4326 or an EPSG code"
        ) from err


_GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)
#: How deep the positions of each geometry type lie in its 'coordinates'.
_POSITION_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def _type_name(obj: object) -> str:
    """How an object in a GeoJSON file reads in a message: 'a Polygon', 'a list'..."""
    if isinstance(obj, Mapping):
        kind = obj.get("type")
        return f"a {kind}" if isinstance(kind, str) else "an object without a 'type'"
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "true/false"
    names = {str: "a string", list: "a list", int: "a number", float: "a number"}
    return names.get(type(obj), f"a {type(obj).__name__}")


#: The 'coordinates' of each geometry type, for messages about misplaced brackets.
_SHAPE = {
    "Point": "[lon, lat]",
    "MultiPoint": "[[lon, lat], ...]",
    "LineString": "[[lon, lat], ...]",
    "MultiLineString": "[[[lon, lat], ...], ...] (a list of lines)",
    "Polygon": "[[[lon, lat], ...], ...] (a list of rings)",
    "MultiPolygon": "[[[[lon, lat], ...], ...], ...] (a list of polygons, each a list of rings)",
}


def _check_geometry_object(g: object, where: str) -> None:
    """Check a GeoJSON geometry object (RFC 7946 section 3.1) before shapely reads it, so
    that what shapely would accept silently (an unclosed ring, closed by it; 'polygon' in
    lower case; numbers as strings; true as 1) or report in its own terms ("'float'
    object is not iterable") is one clear error."""
    if not isinstance(g, Mapping):
        raise GeometryError(f"{where} is {_type_name(g)}, not a GeoJSON geometry object")
    kind = g.get("type")
    if kind in ("Feature", "FeatureCollection"):
        raise GeometryError(
            f"{where} has a {kind} where a geometry belongs: give its geometry "
            '({"type": "Polygon", "coordinates": [...]}) instead'
        )
    if kind not in _GEOMETRY_TYPES:
        known = next((k for k in _GEOMETRY_TYPES if str(kind).lower() == k.lower()), None)
        hint = (
            f"GeoJSON types are case-sensitive: write {known!r}"
            if known is not None
            else f"use one of {', '.join(_GEOMETRY_TYPES)}"
        )
        raise GeometryError(f"{where} has type {kind!r}, not a GeoJSON geometry type: {hint}")
    if kind == "GeometryCollection":
        members = g.get("geometries")
        if not isinstance(members, list | tuple):
            raise GeometryError(f"{where} is a GeometryCollection without a 'geometries' list")
        for i, member in enumerate(members):
            _check_geometry_object(member, f"{where} geometry {i}")
        return
    if "coordinates" not in g:
        raise GeometryError(f"{where} is a {kind} without 'coordinates'")
    coords = g["coordinates"]
    if coords is None or (isinstance(coords, list | tuple) and len(coords) == 0):
        return  # an empty geometry: said as such once it is read
    _check_nesting(coords, _POSITION_DEPTH[str(kind)], str(kind), where, ())


def _check_nesting(value: object, depth: int, kind: str, where: str, path: tuple[int, ...]) -> None:
    """Positions ``depth`` lists down; a polygon's rings closed, of 4 or more positions."""
    if depth == 0:
        _check_position(value, kind, where)
        return
    if not isinstance(value, list | tuple) or (depth > 1 and value and _is_number(value[0])):
        raise GeometryError(
            f"{where}: {_show(value, 40)} is found where a list of "
            f"{'positions' if depth == 1 else 'lists'} belongs; the coordinates of a {kind} "
            f"are {_SHAPE[kind]}: check the brackets"
        )
    if kind in ("Polygon", "MultiPolygon") and depth == 1 and value:
        _check_ring(value, kind, where, path)
    if kind == "MultiPolygon" and depth == 2 and not value:
        # shapely failed on it: "not a valid GeoJSON geometry: list index out of range"
        raise GeometryError(_empty_part(f"{where} (polygon {path[0]})"))
    if kind in ("LineString", "MultiLineString") and depth == 1 and len(value) == 1:
        raise GeometryError(f"{where}: a line needs at least 2 positions, this one has 1")
    for i, item in enumerate(value):
        _check_nesting(item, depth - 1, kind, where, (*path, i))


def _is_number(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _is_seq(v: object) -> bool:
    return isinstance(v, list | tuple)


def _show(v: object, n: int) -> str:
    """JSON text of ``v`` cut to ``n`` characters, for messages."""
    return json.dumps(v, default=str)[:n]


def _check_position(pos: object, kind: str, where: str) -> None:
    # two or more numbers (RFC 7946 3.1.1): a fourth (a measure, a time; WKT's ZM) is
    # dropped with the height; 4-number positions were refused with advice to "check
    # the brackets" (session 40). More than 4 are taken for flattened positions.
    if not isinstance(pos, list | tuple) or not 2 <= len(pos) <= 4 or _is_seq(pos[0]):
        raise GeometryError(
            f"{where}: {_show(pos, 60)} is found where a position [lon, lat] (two "
            f"numbers, optionally a height) belongs; the coordinates of a {kind} are "
            f"{_SHAPE[kind]}: check the brackets"
        )
    for v in pos:
        if not _is_number(v):
            raise GeometryError(
                f"{where} has the position {_show(pos, 60)}: coordinates are JSON "
                "numbers (not strings or true/false), e.g. [130.6081, 42.4214]"
            )
        try:
            finite = math.isfinite(v)
        except OverflowError:  # an integer of hundreds of digits: an internal error
            finite = False
        if not finite:
            raise GeometryError(f"{where} has a non-finite coordinate in {_show(pos, 60)}")


def _check_ring(ring: Sequence[Any], kind: str, where: str, path: tuple[int, ...]) -> None:
    for pos in ring:
        _check_position(pos, kind, where)
    names = ("polygon", "ring") if kind == "MultiPolygon" else ("ring",)
    at = ", ".join(f"{n} {i}" for n, i in zip(names, path, strict=True))
    if len(ring) < 4:
        raise GeometryError(
            f"{where} ({at}): a polygon ring has {len(ring)} positions, it needs at least 4 "
            "(three corners and the first one again at the end)"
        )
    first, last = list(ring[0][:2]), list(ring[-1][:2])
    if first != last:
        raise GeometryError(
            f"{where} ({at}): a polygon ring is not closed: it ends at {last} and not at its "
            f"first position {first}; GeoJSON rings repeat the first position at the end (if "
            "a corner is missing, add it before that)"
        )


def _geometries(data: Mapping[str, Any], what: str) -> list[tuple[str, BaseGeometry]]:
    """(label, geometry in WGS84) for each geometry in a Feature/FeatureCollection/
    geometry. Each is reprojected from the CRS its nearest legacy ``crs`` member names
    (GeoJSON 2008 let a feature or a geometry carry one: it was ignored there, and the
    coordinates refused as metres with the advice to add the member they had)."""
    kind = data.get("type")
    top = _source_crs(data)
    items: list[tuple[str, Any, CRS | None]]
    owners: dict[str, Any] = {}  # the feature of each item of a FeatureCollection
    if kind == "FeatureCollection":
        feats = data.get("features")
        if feats is not None and not isinstance(feats, list):
            raise GeometryError(
                f"{what} FeatureCollection's 'features' is {_type_name(feats)}, not a list of "
                "Features"
            )
        if not feats:
            raise GeometryError(f"{what} FeatureCollection has no features")
        items = []
        for i, feat in enumerate(feats):
            if not isinstance(feat, Mapping) or feat.get("type") != "Feature":
                got = _type_name(feat)
                raise GeometryError(
                    f"{what} feature {i} is {got}, not a Feature: each member of 'features' is "
                    '{"type": "Feature", "properties": {...}, "geometry": {...}}'
                )
            items.append((f"feature {i}", feat.get("geometry"), _crs_of(feat, top)))
            owners[f"feature {i}"] = feat
    elif kind == "Feature":
        items = [("feature", data.get("geometry"), top)]
    elif kind == "GeometryCollection":
        items = [(f"geometry {i}", g, top) for i, g in enumerate(data.get("geometries") or [])]
    elif kind == "Topology":  # it was "not a GeoJSON geometry type: use one of Point..."
        raise GeometryError(f"{what} is TopoJSON, not GeoJSON: {_CONVERT}")
    elif isinstance(kind, str):
        items = [("geometry", data, None)]  # its own crs member is read below
    elif _is_esri_json(data):
        # it was "not GeoJSON: it has no 'type' member", with nothing said of what to do
        raise GeometryError(f"{what} is Esri JSON (ArcGIS), not GeoJSON: {_CONVERT}")
    else:
        raise GeometryError(
            f"{what} is not GeoJSON: it has no 'type' member; give a GeoJSON Feature, "
            'FeatureCollection or geometry ({"type": "Polygon", "coordinates": [...]})'
        )
    out: list[tuple[str, BaseGeometry]] = []
    for label, g, crs in items:
        if g is None:
            # it said no more: what to do with it was left to guess (session 40)
            raise GeometryError(
                f"{what} {label} has no geometry (null)"
                + (
                    ": remove that feature from the FeatureCollection (a row without a "
                    "shape in the layer it was exported from), or draw its shape"
                    if len(items) > 1
                    else ": give a polygon around the yard"
                    if what.startswith("site")
                    else ": give the track centrelines"
                )
            )
        suffix = "'s geometry" if label.startswith("feature") else ""
        _check_geometry_object(g, f"{what} {label}{suffix}")
        try:
            geom = geojson_shape(_two_d(g))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as err:
            raise GeometryError(f"{what} {label} is not a valid GeoJSON geometry: {err}") from err
        except shapely.errors.ShapelyError as err:
            raise GeometryError(f"{what} {label} is not a valid GeoJSON geometry: {err}") from err
        source = _crs_of(g, crs)
        if source is None and any(
            isinstance(o, Mapping) and o.get("crs") is not None
            for o in (data, owners.get(label), g)
        ):
            _check_named_wgs84(geom, what)
        out.extend(_members(label, _to_wgs84(geom, source)))
    if not out:
        raise GeometryError(f"{what} geometry is empty: it contains no geometries")
    return out


def _check_named_wgs84(geom: BaseGeometry, what: str) -> None:
    """Refuse coordinates in metres under a ``crs`` member naming WGS84 (a file written
    in another CRS whose member says EPSG:4326 or CRS84): they were refused with advice
    to add a 'crs' member naming their CRS, which the file had (session 40)."""
    coords = _coords(geom)
    if not coords or max(max(abs(x), abs(y)) for x, y in coords) <= 1000.0:
        return  # degrees, or out of range as :func:`_check_lonlat` says
    x, y = next((x, y) for x, y in coords if max(abs(x), abs(y)) > 1000.0)
    raise GeometryError(
        f"{what} has the coordinate ({x:.10g}, {y:.10g}), which looks projected (metres), "
        "but its GeoJSON 'crs' member names WGS84 lon/lat: correct the member to the CRS "
        "the coordinates are in (e.g. EPSG:32632), or reproject the file to WGS84"
    )


def _is_esri_json(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` (without a 'type') is an Esri JSON geometry or feature set."""
    features = data.get("features")
    geometries = (
        [f.get("geometry") for f in features if isinstance(f, Mapping)]
        if isinstance(features, list)
        else []
    )
    return any(isinstance(g, Mapping) and bool(_ESRI_KEYS & set(g)) for g in [data, *geometries])


def _members(label: str, geom: BaseGeometry) -> list[tuple[str, BaseGeometry]]:
    """``geom`` as (label, geometry) pairs: a GeometryCollection (not empty) as its
    members, each labelled ``LABEL geometry I``, as those of a GeometryCollection given
    alone. A KML MultiGeometry converted by ogr2ogr, as the messages advise, is a
    Feature's GeometryCollection: its polygons were refused as a GeometryCollection
    with advice to give a box around a point (session 40)."""
    if not isinstance(geom, GeometryCollection) or geom.is_empty:
        return [(label, geom)]
    out: list[tuple[str, BaseGeometry]] = []
    for i, member in enumerate(geom.geoms):
        out.extend(_members(f"{label} geometry {i}", member))
    return out


def _crs_of(obj: object, inherited: CRS | None) -> CRS | None:
    """The CRS of a GeoJSON object: its own ``crs`` member's, else its parent's."""
    if isinstance(obj, Mapping) and obj.get("crs") is not None:
        return _source_crs(obj)
    return inherited


def geojson_shape(geometry: Mapping[str, Any]) -> BaseGeometry:
    """``shapely.geometry.shape`` of a GeoJSON geometry object, its empty interior
    rings left out (:func:`without_empty_holes`); errors as ``shape`` raises them."""
    return without_empty_holes(shape(dict(geometry)))


def without_empty_holes(geom: BaseGeometry) -> BaseGeometry:
    """``geom`` without the interior rings that hold no point (GeoJSON's ``[OUTER,
    []]``, WKT's ``POLYGON ((...), EMPTY)``), in the parts of a MultiPolygon or a
    GeometryCollection too; ``geom`` itself where it has none (the usual case, told by
    one C call). GEOS 3.14's relate (``equals``, ``covers``...) dereferences such a ring
    and the process dies (SIGSEGV): one ``POST /api/sites`` ended ``railwatch serve``
    (2026-12-08, session 53). An empty ring cuts nothing: the polygon is the same."""
    if isinstance(geom, Polygon):
        if shapely.get_num_interior_rings(geom) == 0:
            return geom
        kept = [r for r in geom.interiors if not r.is_empty]
        return Polygon(geom.exterior, kept) if len(kept) != len(geom.interiors) else geom
    if isinstance(geom, MultiPolygon):
        if not shapely.get_num_interior_rings(shapely.get_parts(geom)).any():
            return geom
        polygons = [without_empty_holes(p) for p in geom.geoms]
        return MultiPolygon(cast(list[Polygon], polygons))
    if isinstance(geom, GeometryCollection):  # (its members may be collections too)
        members = [without_empty_holes(g) for g in geom.geoms]
        if all(a is b for a, b in zip(members, geom.geoms, strict=True)):
            return geom
        return GeometryCollection(members)
    return geom


def _two_d(g: Mapping[str, Any]) -> dict[str, Any]:
    """A checked geometry object with every position cut to [lon, lat]: heights are
    dropped, as always; a ring mixing positions with and without one made shapely fail
    ("setting an array element with a sequence. The requested array has an
    inhomogeneous shape...")."""

    def cut(value: Any) -> Any:
        if isinstance(value, list | tuple):
            if value and _is_number(value[0]):
                return list(value[:2])
            return [cut(v) for v in value]
        return value

    out = dict(g)
    if "coordinates" in out:
        out["coordinates"] = cut(out["coordinates"])
    if isinstance(out.get("geometries"), list | tuple):
        out["geometries"] = [_two_d(m) if isinstance(m, Mapping) else m for m in out["geometries"]]
    return out


def _to_wgs84(geom: BaseGeometry, crs: CRS | None) -> BaseGeometry:
    if crs is None:
        return geom
    from pyproj import Transformer

    _check_units(geom, crs)
    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    out = shapely.transform(geom, lambda xy: _stack(tr.transform(xy[:, 0], xy[:, 1])))
    _check_area_of_use(geom, out, crs)
    return out


#: How far (degrees) outside the area its projected CRS is made for a geometry may lie
#: (:func:`_check_area_of_use`): a site near a zone's edge may be given in the zone beside.
AREA_OF_USE_MARGIN_DEG = 3.0


def _check_area_of_use(geom: BaseGeometry, wgs84: BaseGeometry, crs: CRS) -> None:
    """Refuse coordinates that a ``crs`` member's projected CRS puts far outside the
    area that CRS is made for (its horizontal part's, by more than
    :data:`AREA_OF_USE_MARGIN_DEG`): coordinates of another CRS under the member (Swiss
    LV95 numbers named UTM 32N, an extra digit) were reprojected to a place thousands
    of km away and stored there as the site (session 40: 2600000, 1200000 named
    EPSG:32632 became a site at 10.3°N 27.8°E; a northing of 52,460,000, one at 67.9°N
    170.1°W)."""
    if not crs.is_projected or wgs84.is_empty:
        return
    horizontal = crs.sub_crs_list[0] if crs.is_compound and crs.sub_crs_list else crs
    area = horizontal.area_of_use
    if area is None:
        return
    p = wgs84.envelope.centroid
    lon, lat = float(p.x), float(p.y)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return  # refused by the coordinate check, which names the coordinate
    west, south, east, north = area.bounds
    if west <= east:
        off_lon = 0.0 if west <= lon <= east else min((west - lon) % 360, (lon - east) % 360)
    else:  # an area across the antimeridian
        off_lon = 0.0 if lon >= west or lon <= east else min(west - lon, lon - east)
    off = max(off_lon, south - lat, lat - north, 0.0)
    if off <= AREA_OF_USE_MARGIN_DEG:
        return
    code = crs.to_string()
    x, y = _coords(geom)[0]
    raise GeometryError(
        f"the GeoJSON 'crs' member names {code} ({crs.name}), but the coordinates "
        f"({x:.10g}, {y:.10g}) read in it fall around {lat_lon_text(wgs84)}, {off:.0f}° outside "
        f"the area {code} is made for ({_area_text(west, south, east, north)}): check "
        "that the 'crs' member names the CRS the coordinates are in (reproject the file "
        "to WGS84 and remove the member, or correct it)"
    )


def _area_text(west: float, south: float, east: float, north: float) -> str:
    """An area of use as a reader says it: ``6°E to 12°E, 0°N to 84°N``."""

    def lon(v: float) -> str:
        return f"{abs(v):g}°{'E' if v >= 0 else 'W'}"

    def lat(v: float) -> str:
        return f"{abs(v):g}°{'N' if v >= 0 else 'S'}"

    return f"{lon(west)} to {lon(east)}, {lat(south)} to {lat(north)}"


def _check_units(geom: BaseGeometry, crs: CRS) -> None:
    """Refuse coordinates in degrees under a ``crs`` member naming a projected CRS (a
    file exported in WGS84 that kept its old member, or a member added by hand): read
    in metres they made a site a few millimetres wide near the projection's origin,
    refused as "smaller than one railcar" with advice to check the degrees, which were
    right."""
    if not crs.is_projected or geom.is_empty:
        return
    minx, miny, maxx, maxy = geom.bounds
    degrees = max(abs(minx), abs(maxx)) <= 180.0 and max(abs(miny), abs(maxy)) <= 90.0
    if degrees and max(maxx - minx, maxy - miny) < 2.0:  # under 2 m across in metres
        code = crs.to_string()
        x, y = _coords(geom)[0]
        raise GeometryError(
            f"the GeoJSON 'crs' member names {code} ({crs.name}), a projected CRS in "
            f"{_unit(crs)}, but the coordinates ({x:g}, {y:g}) look like degrees of "
            "longitude and latitude: remove the 'crs' member (GeoJSON is WGS84 lon,lat, "
            f"RFC 7946), or give the coordinates in {code}"
        )


def _unit(crs: CRS) -> str:
    """The unit of a projected CRS's first axis, plural: 'metres', 'US survey feet'..."""
    name = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    return {"metre": "metres", "foot": "feet", "US survey foot": "US survey feet"}.get(name, name)


def _stack(xy: tuple[Any, Any]) -> Any:
    import numpy as np

    return np.column_stack([np.asarray(xy[0]), np.asarray(xy[1])])


def _is_lines(geom: BaseGeometry) -> bool:
    return isinstance(geom, LineString | MultiLineString) and not geom.is_empty


def _is_polygons(geom: BaseGeometry) -> bool:
    return isinstance(geom, Polygon | MultiPolygon) and not geom.is_empty


#: How to give a file holding a site's polygons and its track lines (as geojson.io and
#: QGIS' one-layer exports write them): both options name it (session 40). This and
#: the other ``*_HOW`` phrases below name the command line's options and Python's
#: arguments; the web API says its own fields in their place
#: (``railwatch.web.errors.API_HINTS``; 2026-12-06, session 41).
MIXED_HOW = (
    "give the file as both the site and its tracks (--geojson FILE --tracks FILE; "
    "site_from_geojson(name, FILE, tracks=FILE) in Python): the site is made of its "
    "polygons, the tracks of its lines"
)
#: What to do with such a file given as the tracks of a site that has its polygon
#: elsewhere (a bbox, or its tracks changed through repo.set_site_tracks; site edit and
#: PATCH /api/sites/SITE take it since session 41: load_tracks_of_stored_site).
MIXED_ELSEWHERE_HOW = (
    "for a site given by --bbox, or in Python's set_site_tracks, remove the polygons from the file"
)
#: What :func:`check_stored_site_polygon` calls the tracks given to a stored site (site
#: edit's ``--tracks FILE``), and what it says to do with another site polygon in them;
#: the web API says its field, ``tracks``, and its requests (``API_HINTS``; 2026-12-06,
#: session 41, as PATCH /api/sites/SITE took such a file too).
STORED_TRACKS_FILE = "the tracks file"
STORED_POLYGON_HOW = (
    "remove the polygons from the file to give only its lines, or add a new site for the "
    "new polygon (site add NAME --geojson FILE --tracks FILE)"
)
#: Where lines given as a site go (track centrelines).
LINES_HOW = "tracks= in Python, --tracks FILE on the command line"
#: How to give a box around a point given as a site.
POINT_HOW = "site_from_bbox in Python, --bbox W,S,E,N on the command line"
#: What :func:`site_tracks` says to do with track lines that touch the site only with
#: the two numbers of each position swapped, by how the site was given (its
#: ``site_given``), and with lines that touch it either way (:data:`APART_HOW`). They
#: name files and ``--bbox``: the web API says its fields, ``geometry``, ``tracks`` and
#: ``bbox``, in their place (``railwatch.web.errors.API_HINTS``; 2026-12-06, session 41:
#: a PATCH was told to swap the numbers "in the tracks file").
SWAPPED_HOW: Mapping[str, str] = {
    "file": "one of the two files is written as lat,lon; GeoJSON (RFC 7946) gives "
    "each position as lon,lat: swap the numbers in the one that is the wrong way "
    "round and try again",
    "same file": "the file's polygons or its lines are written as lat,lon; GeoJSON "
    "(RFC 7946) gives each position as lon,lat: swap the numbers of the ones that "
    "are the wrong way round and try again",
    "bbox": "the bbox is given latitude first or the tracks file is written as "
    "lat,lon; the bbox is W,S,E,N (lon,lat,lon,lat) and GeoJSON (RFC 7946) gives "
    "each position as lon,lat: swap the numbers in the one that is the wrong way "
    "round and try again",
    "stored": "the tracks file is written as lat,lon (or the site was); GeoJSON (RFC 7946) "
    "gives each position as lon,lat: swap the numbers of each position in the "
    "tracks file (if it is the site that is the wrong way round, a stored site's "
    "polygon cannot be changed: add the site anew under another name)",
}
APART_HOW: Mapping[str, str] = {
    "file": "check that both files describe the same place (GeoJSON is lon,lat)",
    "same file": "check that the file's polygons and its lines describe the same place "
    "(GeoJSON is lon,lat)",
    "bbox": "check that the bbox and the tracks file describe the same place (GeoJSON is lon,lat)",
    "stored": "check that the tracks file and the site describe the same place (GeoJSON "
    "is lon,lat)",
}
#: What :func:`site_from_geojson`'s messages call the GeoJSON it is given (a file, text
#: or a mapping: ``--geojson FILE``); the web API says its field, ``geometry``
#: (``railwatch.web.errors.API_HINTS``; 2026-12-06, session 41).
SITE_GEOJSON = "site GeoJSON"


def _polygons_of(
    data: Mapping[str, Any], what: str, *, skip_lines: bool = False
) -> Polygon | MultiPolygon:
    """The site polygon of GeoJSON ``data``; with ``skip_lines`` its lines are left out
    (they are the site's tracks: :func:`site_from_geojson` given the same file for both)."""
    parts: list[Polygon] = []
    labels: list[str] = []
    found = _geometries(data, what)
    has_polygons = any(_is_polygons(g) for _, g in found)
    for label, geom in found:
        if skip_lines and has_polygons and _is_lines(geom):
            continue
        if has_polygons and _is_lines(geom):
            # it said to give the lines as --tracks, and that file (this one) was then
            # refused there for its polygons (session 40)
            raise GeometryError(
                f"{what} {label} must be a Polygon or MultiPolygon, got {geom.geom_type}: "
                "the file holds the site's polygons and its track lines together (as "
                f"geojson.io writes them): {MIXED_HOW}"
            )
        if geom.is_empty:
            among = "FeatureCollection" if re.fullmatch(r"feature \d+", label) else "collection"
            raise GeometryError(
                f"{what} {label} is empty: "
                + (
                    f"remove it from the {among}, or draw its polygon"
                    if label not in ("geometry", "feature")
                    else "draw a polygon around the yard"
                )
            )
        if isinstance(geom, Polygon):
            parts.append(geom)
            labels.append(label)
        elif isinstance(geom, MultiPolygon):
            where = "" if label == "geometry" else f"{label} "
            for i, part in enumerate(geom.geoms):
                if part.is_empty:
                    # its box is NaN: the parts' distance check looked for its nearest
                    # part for ever (session 40: `site add` hung, a web worker too)
                    raise GeometryError(_empty_part(f"{what} {where}polygon {i}"))
            parts.extend(geom.geoms)
            labels.extend(f"{where}polygon {i}" for i in range(len(geom.geoms)))
        else:
            validate_site_geometry(geom, what=f"{what} {label}")  # raises the type error
    geom_all: BaseGeometry = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    if len(parts) > 1 and not geom_all.is_valid:
        _check_parts_apart(parts, labels, what)
    geometry = validate_site_geometry(geom_all, what=what)
    if len(parts) > 1:
        _check_parts_near(parts, labels, what)
    return geometry


def _empty_part(where: str) -> str:
    """The message for an empty polygon among a MultiPolygon's parts, named ``where``."""
    return (
        f"{where} is empty (it has no positions): remove it from the MultiPolygon, "
        "or give its rings"
    )


def _gap_km(a: BaseGeometry, b: BaseGeometry) -> float:
    """Geodesic distance in km between the nearest points of two WGS84 geometries (0
    where they meet). The nearest points are found in an azimuthal equidistant
    projection centred on ``a`` (metres, true from its centre: a few hundred km off
    it, the pair found is the nearest to well within a metre), the distance between
    them on the ellipsoid; shapely's distance in degrees is not one in metres (a
    degree of longitude is 111 km at the equator, 56 km at 60°N)."""
    if a.intersects(b):
        return 0.0
    from pyproj import Transformer
    from shapely.ops import nearest_points

    c = a.representative_point()
    # a pipeline, not Transformer.from_crs: 0.05 ms to build against 12 ms (a site of
    # 100 parts took 2.7 s to check)
    aeqd = Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=aeqd +lat_0={c.y!r} +lon_0={c.x!r} +ellps=WGS84"
    )

    def project(xy: Any) -> Any:
        return _stack(aeqd.transform(xy[:, 0], xy[:, 1]))

    p, q = nearest_points(shapely.transform(a, project), shapely.transform(b, project))
    (lon1, lon2), (lat1, lat2) = aeqd.transform([p.x, q.x], [p.y, q.y], direction="INVERSE")
    _, _, metres = _geod().inv(lon1, lat1, lon2, lat2)
    return float(metres) / 1000.0


def _km_text(km: float) -> str:
    """A distance as the messages give it: whole km from 10 km, to 0.1 km below."""
    return f"{km:,.0f} km" if km >= 10 else f"{km:.1f} km"


def _groups(n: int, candidates: Any, near: Any) -> list[int]:
    """For each of ``n`` parts, the index of its group (its lowest part): parts ``i``,
    ``j`` with ``near(i, j)`` are in one group, and so are parts linked through others
    (a chain of strips along a corridor is one site, as one polygon along it would be).
    ``candidates(i)`` gives the parts that may be near part ``i`` (an array with every
    ``j`` that is: :func:`_parts_within`); a part already in a group is not asked
    again."""
    group = np.full(n, -1)
    left = n  # parts in no group yet: once none is, no part's candidates are asked for
    for start in range(n):
        if group[start] >= 0:
            continue
        group[start] = start
        left -= 1
        todo = [start]
        while todo and left:
            i = todo.pop()
            js = np.asarray(candidates(i), dtype=int)
            for j in js[group[js] < 0].tolist():
                if group[j] < 0 and near(i, j):
                    group[j] = start
                    left -= 1
                    todo.append(j)
    return [int(g) for g in group]


#: The radius of the sphere the parts' pre-filter measures on: the WGS84 ellipsoid's
#: least radius of curvature (its meridian's at the equator, a(1 - e²) = 6,335.439 km),
#: a little less. A curve on the ellipsoid is at least as long as the curve of the same
#: latitudes and longitudes on this sphere, so a great-circle distance on it never
#: exceeds the geodesic one: :func:`_gap_floor_km` is a floor of :func:`_gap_km`.
_FLOOR_RADIUS_KM = 6335.0


def _floor_boxes(parts: Sequence[BaseGeometry]) -> Any:
    """Each part's longitude/latitude box (min lon, min lat, max lon, max lat), widened on
    every side by half its larger side and 0.01°, latitudes kept within ±90: the nearest
    points :func:`_gap_km` finds lie on the part's edges drawn straight in a projection,
    which bow away from the straight lines in degrees by far less than that (a 1,000 km
    edge along 85°N by 1.9°, where its box is widened by 52°)."""
    b = np.asarray(shapely.bounds(np.asarray(list(parts), dtype=object)), dtype=float)
    b = b.reshape(-1, 4)
    pad = 0.5 * np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) + 0.01
    south, north = np.maximum(b[:, 1] - pad, -90.0), np.minimum(b[:, 3] + pad, 90.0)
    return np.column_stack([b[:, 0] - pad, south, b[:, 2] + pad, north])


def _gap_floor_km(a: Any, b: Any) -> Any:
    """A floor of :func:`_gap_km` between the parts of boxes ``a`` and ``b`` (rows of
    :func:`_floor_boxes`, paired row by row): the great-circle distance on a sphere of
    :data:`_FLOOR_RADIUS_KM` (haversine) of the least latitude gap and the least
    longitude gap (across ±180° too) at the boxes' most poleward latitudes; 0 where the
    boxes meet."""
    dlat = np.maximum(0.0, np.maximum(b[:, 1] - a[:, 3], a[:, 1] - b[:, 3]))
    dlon = np.full(len(a), 180.0)
    for shift in (-360.0, 0.0, 360.0):
        gap = np.maximum(0.0, np.maximum(b[:, 0] + shift - a[:, 2], a[:, 0] - b[:, 2] - shift))
        dlon = np.minimum(dlon, gap)
    cos_a = np.cos(np.radians(np.maximum(np.abs(a[:, 1]), np.abs(a[:, 3]))))
    cos_b = np.cos(np.radians(np.maximum(np.abs(b[:, 1]), np.abs(b[:, 3]))))
    cos = np.clip(cos_a * cos_b, 0.0, 1.0)
    hav = np.sin(np.radians(dlat) / 2) ** 2 + cos * np.sin(np.radians(dlon) / 2) ** 2
    return 2.0 * _FLOOR_RADIUS_KM * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0)))


def _parts_within(tree: Any, boxes: Any, rows: Any, km: float) -> tuple[Any, Any]:
    """The pairs (``i`` of ``rows``, ``j`` another part) whose floor
    (:func:`_gap_floor_km`) is at most ``km``, each once, found with ``tree`` (a
    :class:`shapely.STRtree` of ``boxes`` as boxes): box ``i`` widened by ``km`` in
    latitude and in longitude by what ``km`` spans at ``reach``, its most poleward
    latitude plus ``km`` (every longitude once that reaches a pole), also shifted by
    ±360° for the parts across the antimeridian. Every part within ``km`` of part ``i``
    is found: a curve of at most ``km`` from part ``i`` stays within ``reach`` of the
    equator, where ``km`` spans no more longitude than at ``reach``."""
    rows = np.asarray(rows, dtype=int)
    q = boxes[rows]
    deg = float(np.degrees(km / _FLOOR_RADIUS_KM))
    reach = np.maximum(np.abs(q[:, 1]), np.abs(q[:, 3])) + deg
    cos = np.cos(np.radians(np.minimum(reach, 90.0)))
    half = math.sin(math.radians(min(deg, 180.0)) / 2)
    ratio = half / np.maximum(cos, 1e-12)
    wide = (reach >= 90.0) | (deg >= 180.0) | (ratio >= 1.0)
    dlon = np.where(wide, 360.0, np.degrees(2 * np.arcsin(np.clip(ratio, 0.0, 1.0))) + 1e-6)
    west, east = q[:, 0] - dlon, q[:, 2] + dlon
    south, north = q[:, 1] - deg - 1e-6, q[:, 3] + deg + 1e-6
    found_i, found_j = [], []
    for shift in (-360.0, 0.0, 360.0):
        k, j = tree.query(shapely.box(west + shift, south, east + shift, north))
        found_i.append(rows[k])
        found_j.append(j)
    i, j = np.concatenate(found_i), np.concatenate(found_j)
    n = len(boxes)
    pairs = np.unique((i * n + j)[i != j])  # each pair once (shifted boxes may both find it)
    i, j = pairs // n, pairs % n
    keep = _gap_floor_km(boxes[i], boxes[j]) <= km
    return i[keep], j[keep]


def _nearest_pair(
    floor: Any, i: Any, j: Any, gap: Any, limit: float
) -> tuple[float, int, int] | None:
    """The least ``(gap(i, j), i, j)`` of the pairs ``i[k], j[k]`` (with their floors of
    the gap, ``floor[k]``) whose gap is at most ``limit``, None if none is: the pairs
    are measured in the order of their floors, until a floor passes the least gap
    found (no later pair can then be nearer, nor as near with a lower ``(i, j)``)."""
    best: tuple[float, int, int] | None = None
    for k in np.lexsort((j, i, floor)):
        if floor[k] > limit or (best is not None and floor[k] > best[0]):
            break
        found = (gap(int(i[k]), int(j[k])), int(i[k]), int(j[k]))
        if found[0] <= limit and (best is None or found < best):
            best = found
    return best


def lat_lon_text(geom: BaseGeometry) -> str:
    """Where a WGS84 geometry lies, as a reader writes it, latitude first:
    ``42.4214°N 130.6081°E`` (a representative point). Messages name a site so, beside
    its lon,lat numbers, so that a site given as lat,lon shows where it landed."""
    p = geom.representative_point()
    return f"{abs(p.y):.4f}°{'N' if p.y >= 0 else 'S'} {abs(p.x):.4f}°{'E' if p.x >= 0 else 'W'}"


def _check_parts_near(parts: Sequence[Polygon], labels: Sequence[str], what: str) -> None:
    """Refuse a multi-part site whose parts fall in groups more than
    :data:`MAX_PARTS_APART_KM` apart (measured between the parts' nearest points,
    :func:`_gap_km`; parts within it of one another, directly or through others, are
    one group): one site is one facility, seen in one image and counted on one local
    grid. The area limit did not see it (two small yards a continent apart have a
    small area), and a part written as lat,lon while the others are lon,lat (two
    sources merged) made such a site: that part is named, with the swap that brings it
    back. Before session 32 it measured between the parts' representative points, and
    refused two 115 km strips of one corridor 0.7 km apart that one polygon along the
    corridor would not be. Before session 33 it measured every pair of parts (100 parts
    far apart: 2.9-6.5 s; 2,000: about half an hour); now only the pairs whose floor
    (:func:`_gap_floor_km`) is within reach, with the same groups, pair and message."""
    n = len(parts)
    gaps: dict[tuple[int, int], float] = {}

    def gap(i: int, j: int) -> float:
        key = (min(i, j), max(i, j))
        if key not in gaps:
            gaps[key] = _gap_km(parts[key[0]], parts[key[1]])
        return gaps[key]

    # only the pairs whose floor (a distance on a smaller sphere between their boxes) is
    # within the limit are measured: every pair was before session 33, O(n²) (a site of
    # 100 parts far apart took 2.9-6.5 s, one of 2,000 about half an hour)
    boxes = _floor_boxes(parts)
    tree = shapely.STRtree(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]))
    group = _groups(
        n,
        lambda i: _parts_within(tree, boxes, [i], MAX_PARTS_APART_KM)[1],
        lambda i, j: gap(i, j) <= MAX_PARTS_APART_KM,
    )
    n_groups = len(set(group))
    if n_groups == 1:
        return
    # the nearest pair between the first part's group and the rest: sought from the
    # smaller side within a reach that grows fourfold until a pair is found within it
    first = np.asarray(group) == group[0]
    side = np.flatnonzero(first) if first.sum() <= n - first.sum() else np.flatnonzero(~first)
    found = None
    reach = 4 * MAX_PARTS_APART_KM
    while found is None:
        i, j = _parts_within(tree, boxes, side, reach)
        cross = first[i] != first[j]
        i, j = np.where(first[i], i, j)[cross], np.where(first[i], j, i)[cross]
        floor = _gap_floor_km(boxes[i], boxes[j])
        found = _nearest_pair(floor, i, j, gap, math.inf if reach > 2e4 else reach)
        reach *= 4
    km, i0, far = found
    # the part that, exchanged, lies beside the others (with two parts, either may be
    # the one written the wrong way round: the exchange is its own mirror). Without it
    # the others are one group only where there are two groups and it is one alone.
    odd = []
    size = {g: group.count(g) for g in set(group)} if n_groups == 2 else {}
    for i, part in enumerate(parts):
        if n_groups != 2 or size[group[i]] != 1:
            continue  # the others are not one group without it
        minx, _, maxx, _ = part.bounds
        if minx < -90.0 or maxx > 90.0:
            continue  # exchanged, its longitudes would be latitudes beyond ±90
        swapped = shapely.transform(part, lambda xy: xy[:, ::-1])
        others = np.asarray([j for j in range(n) if j != i])
        box_s = _floor_boxes([swapped])
        floor = _gap_floor_km(np.repeat(box_s, len(others), axis=0), boxes[others])
        beside = _nearest_pair(
            floor,
            np.zeros(len(others), dtype=int),
            others,
            lambda _, j, s=swapped: _gap_km(s, parts[j]),
            MAX_PARTS_APART_KM,
        )
        if beside is not None:
            odd.append((i, beside[0]))
    fix = (
        "GeoJSON (RFC 7946) gives each position as lon,lat: swap the two numbers of each "
        "position of the part that is the wrong way round and try again"
    )
    if len(odd) == 1 and len(parts) > 2:
        i, near = odd[0]
        rest = parts[1] if i == 0 else parts[0]
        away = km  # two groups, one of them part i alone: the nearest pair is its nearest
        raise GeometryError(
            f"{what} {labels[i]} lies {away:,.0f} km from the rest of "
            f"the site (it is around {lat_lon_text(parts[i])}, the rest around "
            f"{lat_lon_text(rest)}); with the two numbers of each of its positions swapped it "
            f"would lie {near:,.1f} km from it: it looks written as lat,lon; {fix}"
        )
    if odd:
        raise GeometryError(
            f"{what} {labels[i0]} and {labels[far]} lie {km:,.0f} km apart (around "
            f"{lat_lon_text(parts[i0])} and around {lat_lon_text(parts[far])}), but with the "
            f"two numbers of each position of one of them swapped they would lie "
            f"{odd[0][1]:,.1f} km apart: one is written as lat,lon; {fix}"
        )
    raise GeometryError(
        f"{what} {labels[i0]} and {labels[far]} lie {_km_text(km)} apart at their nearest "
        f"points, more than the {MAX_PARTS_APART_KM:,.0f} km one site's parts may lie "
        "apart: a site is one rail facility (a yard with its approaches), seen in one "
        "image and counted on one local grid; add each place as a site of its own (or "
        "check the coordinates: GeoJSON is lon,lat)"
    )


def _check_parts_apart(parts: Sequence[Polygon], labels: Sequence[str], what: str) -> None:
    """Name the first two parts of a multi-part site that overlap or share an edge (a
    MultiPolygon's parts may only touch at points), instead of GEOS' 'self-intersection'
    with a QGIS hint that does not apply: merging them is the analyst's call."""
    tree = shapely.STRtree(list(parts))
    for i, part in enumerate(parts):
        if not part.is_valid:
            return  # said by the validity check, with its location
        for j in sorted(int(k) for k in tree.query(part, predicate="intersects")):
            if j <= i or not parts[j].is_valid:
                continue
            if shapely.get_dimensions(part.intersection(parts[j])) >= 1:
                same = part.equals(parts[j])
                raise GeometryError(
                    f"{what} {labels[i]} and {labels[j]} "
                    f"{'are the same polygon' if same else 'overlap or share an edge'}: the "
                    "parts of a site must lie apart; "
                    + (
                        "remove the duplicate"
                        if same
                        else "merge them into one polygon (QGIS: Vector > Geoprocessing "
                        "Tools > Dissolve) or move their common edge"
                    )
                )


def load_tracks(
    source: GeoJSONSource | BaseGeometry, *, what: str = "tracks", skip_polygons: bool = False
) -> MultiLineString:
    """Track centrelines from GeoJSON (LineString/MultiLineString features) in WGS84;
    with ``skip_polygons`` a file's polygons are left out (they are the site:
    :func:`site_from_geojson` given the same file for both)."""
    if isinstance(source, BaseGeometry):
        found: list[tuple[str, BaseGeometry]] = [("geometry", source)]
    else:
        found = _geometries(_load_json(source, what), what)
    has_lines = any(_is_lines(g) for _, g in found)
    lines: list[Any] = []
    for label, geom in found:
        if geom.is_empty or (skip_polygons and has_lines and _is_polygons(geom)):
            continue
        if geom.geom_type == "LineString":
            parts = [geom]
        elif isinstance(geom, MultiLineString):
            parts = list(geom.geoms)
        else:
            mixed = (
                "; if the file holds the site's polygons and its track lines together "
                f"(as geojson.io writes them), {MIXED_HOW} ({MIXED_ELSEWHERE_HOW})"
                if has_lines and _is_polygons(geom)
                else ""
            )
            raise GeometryError(
                f"{what} {label} is a {geom.geom_type}: track centrelines must be "
                f"LineString or MultiLineString{mixed}"
            )
        for index, part in enumerate(parts):
            if not part.is_empty and part.length == 0:
                # cars are kept within 10 m of the lines: a line that is one point kept
                # the cars around that point only, and every count fell to about 0
                where = f" (its coordinates[{index}])" if len(parts) > 1 else ""
                raise GeometryError(
                    f"{what} {label}{where} has zero length (all its positions are the "
                    "same point): draw each centreline along its track, from one end to "
                    "the other"
                )
        lines.extend(parts)
    if not lines:
        raise GeometryError(f"{what} geometry is empty: give at least one LineString")
    result = MultiLineString(lines)
    if shapely.get_coordinate_dimension(result) > 2:
        result = shapely.force_2d(result)
    _check_lonlat(result, what)
    if not isinstance(result, MultiLineString):  # pragma: no cover - transform keeps type
        raise GeometryError(f"{what} could not be read as lines")
    return result


def load_tracks_of_stored_site(
    source: GeoJSONSource, *, what: str = "tracks"
) -> tuple[MultiLineString, Polygon | MultiPolygon | None]:
    """The track lines of ``source`` given to a site already stored (``site edit
    --tracks``, ``PATCH /api/sites/SITE`` with ``tracks``), and the file's site polygon
    where it holds one: a file of the site's polygons and its lines together, as ``site
    add --geojson F --tracks F`` takes it (session 40), is read as
    :func:`site_from_geojson` reads it then (its lines by :func:`load_tracks`, its
    polygons by the site's reader); check the polygons against the stored site with
    :func:`check_stored_site_polygon` (since 2026-12-06, session 41: site edit and the
    API's PATCH refused that file, "remove the polygons from the file")."""
    data = _load_json(source, what)
    found = _geometries(data, what)
    mixed = any(_is_lines(g) for _, g in found) and any(_is_polygons(g) for _, g in found)
    lines = load_tracks(data, what=what, skip_polygons=True)
    return lines, (_polygons_of(data, what, skip_lines=True) if mixed else None)


def check_stored_site_polygon(
    polygons: Polygon | MultiPolygon | None, geometry: BaseGeometry, name: str
) -> None:
    """Refuse a tracks file's site polygon (:func:`load_tracks_of_stored_site`) that is
    not the stored site's ``geometry`` (the polygon of ``name``): its lines would be
    taken and the polygon left unused without a word, while a stored site's polygon
    cannot be changed. The same polygon (to a millionth of its area: the file the site
    was added from) passes."""
    if polygons is None:
        return
    if polygons.symmetric_difference(geometry).area <= 1e-6 * geometry.area:
        return
    raise GeometryError(
        f"{STORED_TRACKS_FILE} holds a site polygon (around {lat_lon_text(polygons)}) that "
        f"is not the polygon of site {name!r} (around {lat_lon_text(geometry)}): a stored "
        f"site's polygon cannot be changed, so its lines were not taken; {STORED_POLYGON_HOW}"
    )


def site_tracks(
    source: GeoJSONSource | BaseGeometry,
    geometry: Polygon | MultiPolygon,
    *,
    site_given: str = "stored",
) -> MultiLineString:
    """Track centrelines for the site polygon ``geometry``, read by :func:`load_tracks`
    and checked against it (at ``site add`` as at ``site edit``): at least one line must
    touch the site. ``site_given`` says how the site was given, for the messages:
    ``"file"`` (GeoJSON or WKT other than the tracks'), ``"same file"`` (the tracks'
    file, its polygons), ``"bbox"`` or ``"stored"`` (a stored site, at site edit)."""
    lines = load_tracks(source)
    if not lines.intersects(geometry) and shapely.transform(
        lines, lambda xy: xy[:, ::-1]
    ).intersects(geometry):
        # it said "one of the two files" for a site given by --bbox, or by the tracks'
        # own file (session 40)
        which = SWAPPED_HOW.get(site_given, SWAPPED_HOW["stored"])
        raise GeometryError(
            f"none of the track lines touch the site polygon, but they would with the two "
            f"numbers of each position swapped (the site lies around {lat_lon_text(geometry)}, "
            f"the lines around {lat_lon_text(lines)}): {which}"
        )
    if not lines.intersects(geometry):
        raise GeometryError(
            "none of the track lines touch the site polygon: "
            + APART_HOW.get(site_given, APART_HOW["file"])
        )
    return lines


def _with_tracks(
    name: str,
    geometry: Polygon | MultiPolygon,
    description: str,
    tags: Iterable[str],
    tracks: GeoJSONSource | BaseGeometry | None,
    site_given: str,
) -> SiteSpec:
    track_geom = None if tracks is None else site_tracks(tracks, geometry, site_given=site_given)
    return SiteSpec(
        name=validate_name(name),
        geometry=geometry,
        description=check_description(description, "a site description"),
        tags=check_tags(tags),
        tracks=track_geom,
    )


def site_from_geojson(
    name: str,
    source: GeoJSONSource | BaseGeometry,
    *,
    description: str = "",
    tags: Sequence[str] = (),
    tracks: GeoJSONSource | BaseGeometry | None = None,
) -> SiteSpec:
    """A site from GeoJSON: a path, JSON text, a parsed dict, or a shapely geometry
    (read as its GeoJSON: a GeometryCollection's polygons are the site's parts).

    Accepts a Feature, a FeatureCollection of one or more polygons (merged into a
    MultiPolygon) or a bare geometry. A legacy ``crs`` member other than WGS84 is
    honoured by reprojecting to WGS84.
    """
    validate_name(name)
    data = _load_json(source, SITE_GEOJSON)
    if tracks is not None and not isinstance(tracks, BaseGeometry) and _same_data(data, tracks):
        # one file of polygons and lines (geojson.io's): the site is its polygons, the
        # tracks its lines; a file of only one kind is refused by the other reader
        geometry = _polygons_of(data, SITE_GEOJSON, skip_lines=True)
        track_geom = load_tracks(data, skip_polygons=True)  # checked in _with_tracks
        return _with_tracks(name, geometry, description, tags, track_geom, "same file")
    geometry = _polygons_of(data, SITE_GEOJSON)
    return _with_tracks(name, geometry, description, tags, tracks, "file")


def _same_data(data: Mapping[str, Any], tracks: GeoJSONSource) -> bool:
    """Whether ``tracks`` holds the same GeoJSON as the site's ``data`` (the same file,
    a copy, or the file piped in as the site); a tracks source that cannot be read is
    not, and is said so by :func:`load_tracks`."""
    try:
        return _load_json(tracks, "tracks") == data
    except (GeometryError, InputError):
        return False


def parse_bbox(bbox: str | Sequence[float]) -> tuple[float, float, float, float]:
    """Parse ``"W,S,E,N"`` (or four numbers) into floats, checking order and ranges."""
    if isinstance(bbox, str):
        _check_decimal_commas(bbox)
        parts = [p for p in re.split(r"[,\s]+", bbox.strip()) if p]
        try:
            values = [float(p) for p in parts]
        except ValueError as err:
            raise GeometryError(
                f"bbox {bbox!r} is not four numbers: give W,S,E,N in degrees, "
                "e.g. 130.60,42.28,130.66,42.31"
            ) from err
    else:
        values = [float(v) for v in bbox]
    if len(values) != 4:
        raise GeometryError(
            f"bbox needs 4 numbers W,S,E,N, got {len(values)}: e.g. 130.60,42.28,130.66,42.31"
        )
    w, s, e, n = values
    if not all(math.isfinite(v) for v in values):
        raise GeometryError("bbox has a non-finite number: give W,S,E,N in degrees")
    if max(abs(s), abs(n)) > 90.0 and max(abs(w), abs(e)) <= 90.0:
        (lat,) = said_numbers([max(abs(s), abs(n))], lambda v: v[0] > 90.0)
        raise GeometryError(
            f"bbox latitude {lat} is beyond ±90: this looks like lat/lon order; the bbox is "
            "W,S,E,N (lon,lat,lon,lat)"
        )
    if max(abs(w), abs(e)) > 180.0 or max(abs(s), abs(n)) > 90.0:
        tw, ts, te, tn = said_numbers(
            values, lambda v: max(abs(v[0]), abs(v[2])) > 180.0 or max(abs(v[1]), abs(v[3])) > 90.0
        )
        raise GeometryError(
            f"bbox {tw},{ts},{te},{tn} is out of range for WGS84: "
            "longitudes within ±180, latitudes within ±90"
        )
    if s > n:
        _, ts, _, tn = said_numbers(values, lambda v: v[1] > v[3])
        raise GeometryError(
            f"bbox south {ts} is north of north {tn}: give W,S,E,N (lon,lat,lon,lat)"
        )
    if w > e:
        # the numbers as given (the boxes of the hint are to be typed as they are: with
        # 6 digits, 179.123456789 became 179.123, a box about 40 m off; session 51)
        tw, ts, te, tn = said_numbers(values, lambda v: v == values)
        # it said to use a GeoJSON MultiPolygon, which is refused too (a site's parts
        # on both sides of ±180° span 360°): one site on each side is what works
        across = (
            f"; if the box crosses the antimeridian (±180°), add the part on each side as a "
            f"site of its own: --bbox {tw},{ts},180,{tn} and --bbox -180,{ts},{te},{tn}"
            if w > 0 > e
            else ""
        )
        raise GeometryError(
            f"bbox west {tw} is east of east {te}: give W,S,E,N (lon,lat,lon,lat){across}"
        )
    if w == e or s == n:
        tw, ts, te, tn = said_numbers(values, lambda v: True)
        raise GeometryError(
            f"bbox {tw},{ts},{te},{tn} is degenerate (zero width or height): "
            "west must differ from east and south from north"
        )
    return w, s, e, n


def _check_decimal_commas(text: str) -> None:
    """Refuse a bbox written with decimal commas (``8,5 47,37 8,6 47,38``,
    ``8,5;47,37;8,6;47,38`` or ``8,5,47,37,8,6,47,38``), saying so: it was "needs 4
    numbers, got 8" (or "not four numbers"), the separator unmentioned (session 40)."""
    if "." in text or "," not in text:
        return
    tokens = [t.strip(",") for t in re.split(r"[;\s]+", text.strip())]
    tokens = [t for t in tokens if t]
    if len(tokens) == 4 and all(re.fullmatch(r"[-+]?\d+,\d+", t) for t in tokens):
        numbers = tokens
    else:
        items = [t for t in re.split(r"[,;\s]+", text.strip()) if t]
        if len(items) != 8 or not all(
            re.fullmatch(r"[-+]?\d+" if i % 2 == 0 else r"\d+", t) for i, t in enumerate(items)
        ):
            return
        numbers = [f"{items[i]},{items[i + 1]}" for i in range(0, 8, 2)]
    fixed = ",".join(t.replace(",", ".") for t in numbers)
    raise GeometryError(
        f"bbox {text!r} looks written with decimal commas ({numbers[0]} for "
        f"{numbers[0].replace(',', '.')}): write decimals with a point and separate the "
        f"four numbers W,S,E,N with commas: --bbox {fixed}"
    )


def site_from_bbox(
    name: str,
    bbox: str | Sequence[float],
    *,
    description: str = "",
    tags: Sequence[str] = (),
    tracks: GeoJSONSource | BaseGeometry | None = None,
) -> SiteSpec:
    """A rectangular site from ``W,S,E,N`` degrees."""
    validate_name(name)
    w, s, e, n = parse_bbox(bbox)
    geometry = validate_site_geometry(box(w, s, e, n), what="bbox")
    return _with_tracks(name, geometry, description, tags, tracks, "bbox")


def nominal_utc_offset(lon: float) -> timedelta:
    """The nominal solar time zone of a longitude (degrees east): ``round(lon / 15)``
    hours east of UTC (a half rounded east), from UTC-12 to UTC+12: the zone whose days a
    site's images, alerts and events are dated by (since session 31).

    Right within an hour for most of the world; not the legal zone, which it misses by
    more where a country keeps one zone across many degrees (western China: UTC+8 at
    UTC+5-6 longitudes) or lies across the date line from its longitude (Samoa, UTC+13
    at 172°W; Kiribati's Line Islands, UTC+14)."""
    if not math.isfinite(lon):
        raise ValueError(f"longitude {lon!r} is not a number")
    lon = (lon + 180.0) % 360.0 - 180.0
    if lon == -180.0:  # on the date line: taken as east of it (UTC+12), as Fiji and NZ
        lon = 180.0
    return timedelta(hours=math.floor(lon / 15.0 + 0.5))


def site_longitude(geometry: BaseGeometry) -> float:
    """The longitude (degrees east, -180 to 180) of a site's WGS84 polygon: its centroid's,
    or for a site whose parts lie on both sides of the date line (a bounding box wider
    than 180°) the mean of its vertices' longitudes taken from 0 to 360°."""
    minx, _, maxx, _ = geometry.bounds
    if maxx - minx <= 180.0:
        return float(geometry.centroid.x)
    lon = float(np.mean(shapely.get_coordinates(geometry)[:, 0] % 360.0))
    return lon - 360.0 if lon > 180.0 else lon


def site_utc_offset_of(geometry: BaseGeometry) -> timedelta:
    """A site's nominal zone from its WGS84 geometry: :func:`nominal_utc_offset` of
    :func:`site_longitude`."""
    return nominal_utc_offset(site_longitude(geometry))
