"""A site's data as plain layers (geometry + flat attributes), format-independent.

Layers: ``sites`` (the site polygon), ``scenes`` (valid-data footprints),
``detections`` (car body polygons with every property and the scene's date; ``source``
``detector``, or ``analyst`` for the outlines of a scene an analyst reviewed with
``railwatch scene review --cars``) and ``counts`` (one row per image: total with
interval, per class, covered; ``reviewed`` and the detector's own ``detector_count``
where the count is an analyst's; ``interval_spread_assumed``, whether the interval
rests on an assumed spread of the detector's recall; unusable images are rows without a
count), and
``occupied_track`` (the stretches of track a 1.5-10 m image's length count read as
occupied, lines with their length and car equivalents). Geometries are WGS84
(EPSG:4326, lon/lat).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from railwatch.detect.base import OrientedBox, is_presence, long_train_present, tells_class
from railwatch.export.geometry import box_from_polygon
from railwatch.imagery.inspect import split_at_antimeridian, split_line_at_antimeridian
from railwatch.storage import repo
from railwatch.storage.models import ANALYST, Count, Detection, Scene, SceneReview, Site
from railwatch.storage.serialize import interval_spread_assumed

LAYER_NAMES: tuple[str, ...] = ("sites", "scenes", "detections", "occupied_track", "counts")
CRS = "EPSG:4326"


@dataclass(frozen=True)
class Layer:
    """Rows of one layer: ``records`` (flat dicts, same keys in the same order) and
    ``geometries`` (one per record) or None for an attribute-only table."""

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    records: tuple[dict[str, Any], ...]
    geometries: tuple[BaseGeometry, ...] | None
    geometry_type: str | None


def _layer(
    name: str,
    schema: tuple[tuple[str, str], ...],
    records: list[dict[str, Any]],
    geoms: list[BaseGeometry] | None,
    geometry_type: str | None,
) -> Layer:
    columns = tuple(c for c, _ in schema)
    return Layer(
        name=name,
        columns=columns,
        types=tuple(t for _, t in schema),
        records=tuple({c: r.get(c) for c in columns} for r in records),
        # exterior rings counter-clockwise (RFC 7946 for GeoJSON; harmless elsewhere)
        geometries=(
            tuple(shapely.orient_polygons(np.array(geoms, dtype=object), exterior_cw=False))
            if geoms is not None
            else None
        ),
        geometry_type=geometry_type,
    )


#: Column types: int, float, bool, str, datetime (UTC), date (a local day, YYYY-MM-DD text
#: in the records, the CSV and GeoJSON; a date column in GeoPackage and GeoParquet:
#: ``export.gis``); all nullable except ids. What is unknown or does not apply is None
#: (GeoJSON null, a GeoPackage or GeoParquet NULL, an empty CSV cell), never ``""``: a
#: sensor, error, quality source or detector not recorded, the ``method`` of an image
#: without a count, the ``no_count_reason`` of one with a count, the ``reasons`` of an
#: image not judged yet (2026-12-07, session 46: they were empty strings, which GIS
#: tools and pandas read as a value, so ``sensor IS NULL`` found none). What is known
#: and empty stays ``""``: a site's ``description`` and ``tags`` as stored (none given),
#: a judged image's ``reasons`` when it has none.
SITE_SCHEMA = (
    ("site_id", "int"), ("name", "str"), ("description", "str"), ("tags", "str"),
    ("utm_crs", "str"), ("area_km2", "float"), ("created_at", "datetime"),
)  # fmt: skip


def site_layer(site: Site) -> Layer:
    """The ``sites`` layer: one feature."""
    rec = {
        "site_id": site.id,
        "name": site.name,
        "description": site.description if site.description is not None else "",
        "tags": ",".join(site.tags or []),
        "utm_crs": site.utm_crs,
        "area_km2": float(site.area_km2),
        "created_at": site.created_at,
    }
    geom = site.geometry
    return _layer("sites", SITE_SCHEMA, [rec], [geom], geom.geom_type)


SCENE_SCHEMA = (
    ("scene_id", "int"), ("acquired", "datetime"), ("sensor", "str"), ("gsd", "float"),
    ("uri", "str"), ("content_hash", "str"), ("crs", "str"), ("width", "int"), ("height", "int"),
    ("band_count", "int"), ("dtype", "str"), ("coverage", "float"),
    ("footprint_coverage", "float"), ("status", "str"),
    ("usable", "bool"), ("clear_fraction", "float"), ("cloud_fraction", "float"),
    ("haze_fraction", "float"), ("snow_fraction", "float"), ("nodata_fraction", "float"),
    ("reasons", "str"), ("error", "str"), ("quality_source", "str"), ("detector", "str"),
    ("detector_version", "str"), ("date_source", "str"),
)  # fmt: skip


def scene_coverage(scene: Scene) -> float:
    """The share of the site ``scene`` covers: as its quality was judged (on the site's
    grid, what its reasons quote), else as ingest measured its footprint."""
    if scene.quality_coverage is not None:
        return float(scene.quality_coverage)
    return float(scene.coverage)


def scene_layer(scenes: list[Scene]) -> Layer:
    """The ``scenes`` layer: one footprint per image, a Polygon or, for an image across
    the antimeridian, a MultiPolygon split at 180° (``imagery.inspect.
    split_at_antimeridian``). The layer is declared MultiPolygon: formats with a layer
    type (GeoPackage, GeoParquet) write every footprint as one (a Polygon layer holding
    MultiPolygons is not a valid GeoPackage; GDAL warned on export)."""
    records = [
        {
            "scene_id": s.id,
            "acquired": s.acquired_at,
            "sensor": s.sensor or None,
            "gsd": float(s.gsd),
            "uri": s.uri,
            "content_hash": s.content_hash,
            "crs": s.crs,
            "width": int(s.width),
            "height": int(s.height),
            "band_count": int(s.band_count),
            "dtype": s.dtype,
            # the share of the site the image covers as its quality was judged (the
            # counts layer's, the report's and the API's), else as ingest measured its
            # footprint; both differed for 12 of the demo's 223 images (0.2734 against
            # 0.2732 in counts) until 2026-12-05 (session 34)
            "coverage": scene_coverage(s),
            "footprint_coverage": float(s.coverage),
            "status": s.status,
            "usable": s.usable,
            "clear_fraction": s.clear_fraction,
            "cloud_fraction": s.cloud_fraction,
            "haze_fraction": s.haze_fraction,
            "snow_fraction": s.snow_fraction,
            "nodata_fraction": s.nodata_fraction,
            # not judged yet (not processed): null; judged, none: "" (it has none)
            "reasons": "; ".join(s.reasons or []) if s.reasons or s.usable is not None else None,
            "error": s.error or None,
            "quality_source": s.quality_source or None,
            "detector": s.detector or None,
            "detector_version": s.detector_version or None,
            "date_source": s.date_source,
        }
        for s in scenes
    ]
    footprints = [s.footprint for s in scenes]
    return _layer("scenes", SCENE_SCHEMA, records, footprints, "MultiPolygon")


#: A car's class is ``class``, as ``railwatch detect``, ``scene cars``, the web API's
#: detections, alerts and counts name it (2026-12-06, session 39); ``cls``, its name
#: before, follows it with the same value for one release, for scripts and QGIS projects
#: that read it (to go in the release after).
DETECTION_SCHEMA = (
    ("detection_id", "int"), ("scene_id", "int"), ("acquired", "datetime"), ("sensor", "str"),
    ("gsd", "float"), ("class", "str"), ("cls", "str"), ("score", "float"), ("covered", "bool"),
    ("covered_score", "float"), ("inside", "bool"), ("length_m", "float"), ("width_m", "float"),
    ("angle_deg", "float"), ("native_crs", "str"), ("source", "str"),
)  # fmt: skip
#: ``source`` of a detections row: the detector's box, or an analyst's outline.
DETECTOR = "detector"


def _split_at_180(geom: BaseGeometry) -> BaseGeometry:
    """A stored WGS84 car polygon, split at 180° (RFC 7946) when it crosses there: its
    corners east and west of 180° made a ring round the whole Earth (the store keeps
    the corners as they were transformed, ``imagery.inspect.split_at_antimeridian``)."""
    split = split_at_antimeridian(geom)
    return geom if split is None else split


def site_reviews(session: Session, site: Site) -> dict[int, SceneReview]:
    """The analysts' reviews of the site's scenes, by scene id."""
    rows = session.scalars(
        select(SceneReview)
        .join(Scene, SceneReview.scene_id == Scene.id)
        .where(Scene.site_id == site.id)
    )
    return {r.scene_id: r for r in rows}


def review_applied(review: SceneReview | None, scene: Scene) -> bool:
    """Whether ``review`` is what the scene's stored counts are now: the scene is usable
    and its file the one reviewed (a review waits, unapplied, while it is not)."""
    return (
        review is not None
        and review.content_hash == scene.content_hash
        and scene.status == "processed"
        and bool(scene.usable)
    )


#: How far from true scale (1 %) a CRS may be at the site for a car's length, width
#: and angle to be measured in it (:func:`metric_sizes_in`).
TRUE_SCALE_TOLERANCE = 0.01


@lru_cache(maxsize=256)
def metric_sizes_in(crs: str, lon: float, lat: float) -> bool:
    """Whether lengths measured in ``crs`` are metres true to within
    :data:`TRUE_SCALE_TOLERANCE` at ``lon``, ``lat``, and angles true there: a projected
    CRS in metres and conformal there (a UTM zone, a national grid), not lon/lat degrees
    (EPSG:4326), feet (a US state plane) nor Mercator (EPSG:3857: 1.35 times true at
    42 N). False for a CRS pyproj does not know."""
    from pyproj import CRS, Proj
    from pyproj.exceptions import CRSError, ProjError

    try:
        parsed = CRS.from_user_input(crs)
        if not parsed.is_projected or not parsed.axis_info:
            return False
        if any(a.unit_conversion_factor != 1.0 for a in parsed.axis_info[:2]):
            return False
        factors = Proj(parsed).get_factors(lon, lat)
    except (CRSError, ProjError, ValueError):
        return False
    scales = (float(factors.meridional_scale), float(factors.parallel_scale))
    distortion = float(factors.angular_distortion)
    return (
        all(math.isfinite(k) and abs(k - 1.0) <= TRUE_SCALE_TOLERANCE for k in scales)
        and math.isfinite(distortion)
        and abs(distortion) <= TRUE_SCALE_TOLERANCE
    )


def _site_point(site: Site) -> tuple[float, float]:
    """A point of the site (lon in -180..180, lat): where a CRS's scale is judged."""
    p = site.geometry.representative_point()
    return ((float(p.x) + 180.0) % 360.0 - 180.0, float(p.y))


def car_box(
    native: BaseGeometry,
    native_crs: str | None,
    lonlat: BaseGeometry,
    site: Site,
    point: tuple[float, float] | None = None,
) -> OrientedBox:
    """A car's oriented box in metres for its ``length_m``, ``width_m`` and ``angle_deg``:
    from its ``native`` polygon where ``native_crs`` is a metric grid true to scale at the
    site (:func:`metric_sizes_in`; the detector's cars, in the site's UTM zone), else
    from its WGS84 polygon in the site's UTM zone (``Site.utm_crs``). An analyst's
    outlines are stored in the scene's CRS: for an image in lon/lat or Web Mercator the
    sizes read in degrees (0.0) or 1.35 times too long at 42 N until 2026-12-05
    (session 34).

    ``point``: the site's :func:`_site_point`, which a caller measuring many cars gives
    once (read from the site's geometry for each car, it added 1.3-2.4 s to 100,000 of
    the demo's cars); the UTM transformer is cached per thread (``imagery._geo.project``:
    a new one for each outline took 5-6 s for 10,000 outlines of a lon/lat image, 0.6-1.1
    s cached; 2-core VM, 2026-12-05)."""
    from railwatch.imagery._geo import project

    where = point if point is not None else _site_point(site)
    if native_crs and metric_sizes_in(native_crs, *where):
        return box_from_polygon(native)
    return box_from_polygon(project(lonlat, "EPSG:4326", site.utm_crs))


def axis_angle(box: OrientedBox) -> float:
    """A box's long axis in degrees counter-clockwise from grid east, 0 <= angle < 180,
    to 3 decimals: a car along grid east read 180.0 where its angle was a hair below 0
    (rounded after the modulo), the same axis as 0.0."""
    return round(box.angle % 180.0, 3) % 180.0


def _analyst_records(
    scene: Scene, review: SceneReview, site: Site
) -> list[tuple[dict[str, Any], Polygon]]:
    """The rows of an analyst's outlines of ``scene`` (``SceneReview.cars``): WGS84 as
    stored, sizes and angle from the outline in metres (:func:`car_box`)."""
    out = []
    crs = review.native_crs or scene.crs
    point = _site_point(site)
    for car in review.cars or []:
        lonlat = Polygon(car["lonlat"])
        native = car_box(Polygon(car["native"]), crs, lonlat, site, point)
        rec = {
            "detection_id": None,
            "scene_id": scene.id,
            "acquired": scene.acquired_at,
            "sensor": scene.sensor or None,
            "gsd": float(scene.gsd),
            "class": str(car["cls"]),
            "cls": str(car["cls"]),  # the same, its name before session 39 (one release)
            "score": None,
            "covered": bool(car["covered"]),
            "covered_score": None,
            "inside": bool(car["inside"]),
            "length_m": round(native.length, 3),
            "width_m": round(native.width, 3),
            "angle_deg": axis_angle(native),
            "native_crs": crs,
            "source": ANALYST,
        }
        out.append((rec, lonlat))
    return out


def detection_layer(
    session: Session,
    site: Site,
    scenes: list[Scene],
    reviews: dict[int, SceneReview] | None = None,
) -> Layer:
    """The ``detections`` layer: car body polygons with the scene's date and sensor; a
    car across the antimeridian a MultiPolygon split at 180° (until the session-24
    follow-up a polygon round the whole Earth), and the layer then MultiPolygon.

    Every row has a ``source``: ``detector`` (the stored detections), or ``analyst``
    for the outlines of a scene an analyst reviewed with outlines (``reviews``), listed
    after that scene's detector boxes, without a detection id or score. Where they are
    applied, those outlines (``inside``) are the scene's count."""
    by_id = {s.id: s for s in scenes}
    reviews = reviews if reviews is not None else site_reviews(session, site)
    rows = session.scalars(
        select(Detection)
        .join(Scene, Detection.scene_id == Scene.id)
        .where(Scene.site_id == site.id)
        .order_by(Scene.acquired_at, Detection.id)
    )
    rows_of: list[tuple[dict[str, Any], BaseGeometry]] = []
    point = _site_point(site)  # once: not from the site's geometry for each car
    for d in rows:
        scene = by_id[d.scene_id]
        native = car_box(d.native_geometry, d.native_crs, d.geometry, site, point)
        rec = {
            "detection_id": d.id,
            "scene_id": d.scene_id,
            "acquired": scene.acquired_at,
            "sensor": scene.sensor or None,
            "gsd": float(scene.gsd),
            "class": d.cls,
            "cls": d.cls,  # the same, its name before session 39 (one release)
            "score": float(d.score),
            "covered": bool(d.covered),
            "covered_score": float(d.covered_score),
            "inside": bool(d.inside),
            "length_m": round(native.length, 3),
            "width_m": round(native.width, 3),
            "angle_deg": axis_angle(native),
            "native_crs": d.native_crs,
            "source": DETECTOR,
        }
        rows_of.append((rec, d.geometry))
    for scene in scenes:
        review = reviews.get(scene.id)
        if review is not None and review.cars:
            rows_of += _analyst_records(scene, review, site)
    # in time order (stable: the detector's rows as before, each scene's outlines after)
    rows_of.sort(key=lambda rg: rg[0]["acquired"])
    records = [rec for rec, _ in rows_of]
    geoms = [_split_at_180(geom) for _, geom in rows_of]
    # a car across 180° is two polygons: the layer is MultiPolygon only when one is
    # (formats with a layer type then write every car as one), else Polygon as before
    kind = "MultiPolygon" if any(isinstance(g, MultiPolygon) for g in geoms) else "Polygon"
    return _layer("detections", DETECTION_SCHEMA, records, geoms, kind)


OCCUPIED_SCHEMA = (
    ("scene_id", "int"), ("date", "datetime"), ("sensor", "str"), ("gsd", "float"),
    ("length_m", "float"), ("car_equivalents", "float"),
)  # fmt: skip


def occupied_layer(scenes: list[Scene]) -> Layer:
    """The ``occupied_track`` layer: the stretches of track a length count (1.5-10 m)
    read as occupied (:func:`railwatch.storage.repo.occupied_runs_of`), one line per
    stretch with its scene's id, date, sensor and GSD, its length and its car
    equivalents (``length_m`` / 14 m, :data:`railwatch.detect.coarse.CONVENTIONAL_CAR_M`:
    a scene's add up to the detector's count, its ``detector_count`` where an analyst
    reviewed it). Only images whose count is stored (usable,
    processed) have lines; a length count recorded before session 30 kept none
    (the next ``railwatch process`` records them), and counts of cars one by one or
    presence flags have none. A stretch across the antimeridian is a MultiLineString
    split at 180°, and the layer then MultiLineString, else LineString."""
    from railwatch.detect.coarse import CONVENTIONAL_CAR_M  # lazily: OpenCV's module

    records: list[dict[str, Any]] = []
    geoms: list[BaseGeometry] = []
    for s in scenes:
        if not repo.usable_processed(s.usable, s.status):
            continue  # a gap (or a result since removed): no stretch is its count
        for run in repo.occupied_runs_of(s) or ():
            if len(run.coords) < 2:
                continue  # not a line (a hand-edited entry)
            records.append(
                {
                    "scene_id": s.id,
                    "date": s.acquired_at,
                    "sensor": s.sensor or None,
                    "gsd": float(s.gsd),
                    "length_m": float(run.length_m),
                    "car_equivalents": float(run.length_m) / CONVENTIONAL_CAR_M,
                }
            )
            geoms.append(split_line_at_antimeridian(LineString(run.coords)))
    kind = "MultiLineString" if any(isinstance(g, MultiLineString) for g in geoms) else "LineString"
    return _layer("occupied_track", OCCUPIED_SCHEMA, records, geoms, kind)


COUNT_SCHEMA = (
    ("date", "datetime"), ("scene_id", "int"), ("sensor", "str"), ("gsd", "float"),
    ("usable", "bool"), ("status", "str"), ("clear_fraction", "float"), ("coverage", "float"),
    ("method", "str"), ("track_lines", "str"), ("count", "float"), ("low", "float"),
    ("high", "float"), ("covered", "int"), ("long_train_present", "bool"),
    ("no_count_reason", "str"), ("reviewed", "bool"), ("detector_count", "float"),
    ("interval_spread_assumed", "bool"),
)  # fmt: skip
#: Columns of a scene review in the counts table: ``reviewed`` (the count is an
#: analyst's, ``railwatch scene review``) and the detector's own count it replaced.
REVIEW_COLUMNS: tuple[str, ...] = ("reviewed", "detector_count")


def _no_count_reason(scene: Scene, counted: bool, presence: bool, site: str) -> str | None:
    """Why an image has no count (None when it has one): its quality reasons, its
    failure, not processed yet, or a presence flag (10 m) that is no count of cars. A
    failure's command is written for ``site`` (:func:`railwatch.counting.name_site`, as
    ``scene list``, the API and the report give it; 2026-12-06, session 41: the stored
    ``railwatch site edit SITE --tracks FILE``)."""
    from railwatch.counting import name_site

    if counted:
        return None
    if presence:
        return "a long-train flag (10 m and coarser), not a count of cars"
    if scene.status == "failed":
        error = name_site(scene.error, site) if scene.error else None
        return f"processing failed: {error}" if error else "processing failed"
    if scene.usable is False or scene.status == "unusable":
        from railwatch.imagery.quality import causes  # not how its resolution is counted

        why = causes(scene.reasons or ())
        return "unusable: " + ("; ".join(why) if why else "quality too low")
    if scene.status == "ingested":
        return "not processed yet (railwatch process)"
    return "no count stored"


def _track_lines(scene: Scene, method: str | None) -> str | None:
    """Where a 1.5-10 m count's (or 10 m flag's) track lines came from: ``given`` (the
    site's centrelines) or ``found`` (lines found in the image itself, far less accurate:
    the site had none when it was counted), as ``repo.COARSE_KEY`` records it; None for
    any other image (2026-12-07, session 48: no column said it, so a file of counts read
    along found lines looked like any other)."""
    if method not in ("length", "presence") or scene.status != "processed":
        return None
    return repo.tracks_read(scene.meta)


def _whole(value: float | None) -> int | None:
    """A count of cars seen one by one (a whole number) as an int."""
    return None if value is None else round(value)


def count_layer(
    session: Session,
    site: Site,
    scenes: list[Scene],
    reviews: dict[int, SceneReview] | None = None,
) -> Layer:
    """The ``counts`` table: one row per image; per-class counts as ``count_<class>``
    columns. Unusable or unprocessed images have an empty count (a gap, not zero). A
    presence image (10 m and coarser, ``method`` presence) has no count at all, only
    ``long_train_present`` (empty for every other image). ``reviewed`` is true where the
    count is an analyst's (a scene review; ``low`` and ``high`` are then the count
    itself), with the detector's own count in ``detector_count`` (empty elsewhere), and
    where an analyst declared the image unusable; false for every other image (a gap by
    the quality check, a failed or unprocessed image too: no one's review).
    ``interval_spread_assumed`` is true where ``low`` to ``high`` rests on an assumed
    scene-to-scene spread of the detector's recall, false where measured, empty where not
    known, as a scene's ``count.interval_spread_assumed`` says it
    (``storage.serialize.interval_spread_assumed``, from the scene's metadata already
    read): an image without a count, an analyst's count, a count by length, or one
    counted before 2026-12-07 (session 51) (since 2026-12-08, session 53)."""
    reviews = reviews if reviews is not None else site_reviews(session, site)
    rows = session.scalars(
        select(Count).join(Scene, Count.scene_id == Scene.id).where(Scene.site_id == site.id)
    )
    per_scene: dict[int, dict[str, Count]] = defaultdict(dict)
    for c in rows:
        per_scene[c.scene_id][c.cls] = c
    classes = sorted({k for v in per_scene.values() for k in v} - {"all", "covered"})
    records = []
    for s in scenes:
        counts = per_scene.get(s.id, {})
        total = counts.get("all")
        counted = repo.usable_processed(s.usable, s.status) and total is not None
        method = total.method if total is not None else None
        flag = long_train_present(method, total.count if counted and total else None)
        counted = counted and not is_presence(method)  # a flag, not a count of cars
        rec: dict[str, Any] = {
            "date": s.acquired_at,
            "scene_id": s.id,
            "sensor": s.sensor or None,
            "gsd": float(s.gsd),
            "usable": bool(s.usable) if s.usable is not None else None,
            "status": s.status,
            "clear_fraction": s.clear_fraction,
            "coverage": scene_coverage(s),
            "method": total.method if total is not None else None,
            "track_lines": _track_lines(s, method) if s.usable else None,
            "count": total.count if counted and total is not None else None,
            "low": total.low if counted and total is not None else None,
            "high": total.high if counted and total is not None else None,
            "covered": _whole(counts["covered"].count)
            if counted and "covered" in counts and tells_class("covered", method)
            else None,
            "long_train_present": flag,
            "no_count_reason": _no_count_reason(s, counted, is_presence(method), site.name),
        }
        reviewed = counted and total is not None and total.detector == ANALYST
        machine = (reviews[s.id].machine or {}).get("all") if s.id in reviews else None
        # a gap by an analyst's verdict is theirs too (declared unusable; session 36: blank);
        # every other image is false, a gap by the quality check, a failed or unprocessed
        # one too, as process --json and the API say (2026-12-06, session 37: blank)
        rec["reviewed"] = bool(reviewed) or repo.declared_unusable(s)
        rec["detector_count"] = (
            float(machine["count"]) if reviewed and isinstance(machine, dict) else None
        )
        rec["interval_spread_assumed"] = interval_spread_assumed(total, s) if counted else None
        for cls in classes:  # a type that the count cannot tell (3 m) is empty, not 0
            told = counted and tells_class(cls, method)
            rec[f"count_{cls}"] = (
                _whole(counts[cls].count if cls in counts else 0.0) if told else None
            )
        records.append(rec)
    # cars of a type and covered loads are counted one by one (objects): whole numbers,
    # integer columns (``count``, ``low`` and ``high`` may be car equivalents at 3 m)
    schema = COUNT_SCHEMA + tuple((f"count_{c}", "int") for c in classes)
    return _layer("counts", schema, records, None, None)


def site_layers(session: Session, site_name: str) -> dict[str, Layer]:
    """All layers of a site, keyed by :data:`LAYER_NAMES`. Each image's time (UTC) is
    followed by ``day``, its local day at the site (:func:`with_day`), and that by
    ``local_zone``, the zone the day is in; the site has its ``local_zone`` too. The
    counts have had it since 2026-12-05 (session 33: the counts CSV did not say the zone
    its days are in, and ``analyze --counts`` read back guessed one that its day column
    fits, so a silence's time could be hours off without ``--zone``); the scenes,
    detections and occupied_track layers since 2026-12-06 (session 41: a layer loaded
    alone gave its days without their zone)."""
    from railwatch.analysis.events import offset_text
    from railwatch.analysis.store import site_utc_offset

    site = repo.get_site(session, site_name)
    scenes = repo.list_scenes(session, site)
    reviews = site_reviews(session, site)
    offset = site_utc_offset(site)
    zone = offset_text(offset)

    def dated(layer: Layer, time_column: str) -> Layer:
        return _with_column(with_day(layer, time_column, offset), "day", "local_zone", zone)

    return {
        "sites": _with_column(site_layer(site), "area_km2", "local_zone", zone),
        "scenes": dated(scene_layer(scenes), "acquired"),
        "detections": dated(detection_layer(session, site, scenes, reviews), "acquired"),
        "occupied_track": dated(occupied_layer(scenes), "date"),
        "counts": dated(count_layer(session, site, scenes, reviews), "date"),
    }


def with_day(layer: Layer, time_column: str, utc_offset: timedelta) -> Layer:
    """``layer`` with a ``day`` column after ``time_column`` (a UTC time): that time's
    local day at the site, ``utc_offset`` east of UTC (its nominal zone,
    ``analysis.store.site_utc_offset``), YYYY-MM-DD: the day the analysis groups the
    image by and its alerts, the report and the API name (2026-12-05, session 32; the
    exports gave the UTC time alone, so at a UTC+12 site the image of 22:30 UTC on
    2024-02-04 read 2024-02-04 in QGIS beside an alert and a report of 2024-02-05)."""
    from railwatch.analysis.events import local_day

    def day(rec: dict[str, Any]) -> str | None:
        when = rec.get(time_column)
        return local_day(when, utc_offset).isoformat() if isinstance(when, datetime) else None

    # a date where the format has one (GeoPackage, GeoParquet; 2026-12-05, session 34:
    # text there, while GDAL read the GeoJSON's as a date)
    return _with_column(layer, time_column, "day", day, "date")


def _with_column(layer: Layer, after: str, name: str, value: Any, kind: str = "str") -> Layer:
    """``layer`` with a column ``name`` of type ``kind`` after column ``after``: ``value``
    in every record, or ``value(record)`` where it is callable."""
    i = layer.columns.index(after) + 1
    records = []
    for rec in layer.records:
        items = list(rec.items())
        items.insert(i, (name, value(rec) if callable(value) else value))
        records.append(dict(items))
    return replace(
        layer,
        columns=(*layer.columns[:i], name, *layer.columns[i:]),
        types=(*layer.types[:i], kind, *layer.types[i:]),
        records=tuple(records),
    )


def jsonable(value: Any) -> Any:
    """A property value made JSON-safe (datetimes as ISO 8601)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return value
