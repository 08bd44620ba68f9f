"""Detections of a scene as a GeoJSON FeatureCollection (WGS84), filterable."""

from __future__ import annotations

import json
from typing import Annotated, Any, Final, Literal

import numpy as np
import shapely
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from railwatch.errors import InputError, NotFoundError
from railwatch.imagery.inspect import split_at_antimeridian, split_line_at_antimeridian
from railwatch.sites import geojson_shape
from railwatch.storage import repo
from railwatch.storage.models import ANALYST, Count, Detection, Scene, SceneReview
from railwatch.storage.serialize import (
    count_dict,
    machine_counts,
    review_dict,
    review_marks,
    scene_dict,
)
from railwatch.web.deps import DB, read_session
from railwatch.web.pagination import PageParams, page_links
from railwatch.web.params import PlainInt
from railwatch.web.routes.scenes import SceneId
from railwatch.web.schemas import DetectionCollection, GeoJSONResponse, OccupiedCollection
from railwatch.web.security import require_read

router = APIRouter(tags=["detections"], dependencies=[Depends(require_read)])

#: ``source`` of the detector's cars (the stored detections); an analyst's are ``analyst``.
DETECTOR: Final = "detector"
Source = Literal["detector", "analyst"]

#: Largest number of detections one page returns.
MAX_DETECTIONS = 50_000


#: Decimal places of WGS84 coordinates: 1e-6 degree is at most 0.11 m on the ground.
DECIMALS = 6


def _features(rows: list[Any]) -> list[dict[str, Any]]:
    """GeoJSON features; polygons decoded and their rings read in vectorised calls
    (no per-detection geometry call: thousands per scene stay fast)."""
    if not rows:
        return []
    geoms = shapely.from_wkb(np.array([r.geometry_wkb for r in rows], dtype=object))
    # RFC 7946: exterior rings counter-clockwise (stored rings run clockwise)
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    rings = shapely.get_exterior_ring(geoms)
    coords, index = shapely.get_coordinates(rings, return_index=True)
    points = np.round(coords, DECIMALS).tolist()
    ends = np.cumsum(np.bincount(index, minlength=len(rows))).tolist()
    feats = []
    start = 0
    for r, end in zip(rows, ends, strict=True):
        feats.append(
            {
                "type": "Feature",
                "id": r.id,
                "geometry": {"type": "Polygon", "coordinates": [points[start:end]]},
                "properties": {
                    "class": r.cls,
                    "score": round(float(r.score), 4),
                    "covered": bool(r.covered),
                    "covered_score": round(float(r.covered_score), 4),
                    "inside": bool(r.inside),
                    "source": DETECTOR,
                },
            }
        )
        start = end
    # a car across 180° is stored as one ring spanning -180..180: served split there, as
    # a MultiPolygon (RFC 7946 3.1.9), else the map draws a band round the world
    wide = np.nonzero(np.diff(shapely.bounds(geoms)[:, [0, 2]], axis=1)[:, 0] > 180)[0]
    for i in wide.tolist():
        split = split_at_antimeridian(geoms[i])
        if split is not None:
            feats[i]["geometry"] = json.loads(
                shapely.to_geojson(shapely.orient_polygons(split, exterior_cw=False))
            )
    return feats


def _analyst_features(
    review: SceneReview | None,
    scene_id: int,
    wanted: list[str],
    covered: bool | None,
    inside: bool | None,
) -> list[dict[str, Any]]:
    """The analyst's outlines of a scene's review as features (WGS84, :data:`DECIMALS`,
    ids from 1 in the order given), filtered as the detections are; a 404 saying why
    when the scene has none (no review, or a review that is a count only)."""
    if review is None or review.cars is None:
        why = "no review" if review is None else "a review of counts only, no outlines"
        raise NotFoundError(
            f"scene {scene_id} has {why}: ask for source=detector (the default) for the "
            f"detector's cars, or record the corrected outlines with PUT "
            f'/api/scenes/{scene_id}/review {{"cars": FeatureCollection}}'
        )
    feats = []
    for k, f in enumerate(review_dict(review, cars=True)["features"], start=1):
        p = f["properties"]
        if (wanted and p["class"] not in wanted) or covered not in (None, p["covered"]):
            continue
        if inside not in (None, p["inside"]):
            continue
        geom = geojson_shape(f["geometry"])
        rounded = json.loads(shapely.to_geojson(_rounded(geom)))
        feats.append({"type": "Feature", "id": k, "geometry": rounded, "properties": p})
    return feats


def _rounded(geom: Any) -> Any:
    """``geom`` with its coordinates rounded to :data:`DECIMALS` places, split at 180°
    where it spans it (as the detector's cars are served)."""
    geom = shapely.transform(geom, lambda xy: np.round(xy, DECIMALS))
    minx, _, maxx, _ = geom.bounds
    if maxx - minx > 180:
        split = split_at_antimeridian(geom)
        if split is not None:
            geom = split
    return shapely.orient_polygons(geom, exterior_cw=False)


def _check_classes(session: Session, site_id: int, classes: list[str]) -> list[str]:
    """The classes to filter on (none for ``all``), each a railcar class or one this
    site's detector reported; anything else is refused (422) with the valid classes, as
    ``/api/sites/{site}/counts`` does, instead of an empty collection, also beside
    ``all``."""
    from railwatch.detect.base import ALL_CLASSES

    unknown = sorted(set(classes) - {"all", *ALL_CLASSES})
    if unknown:  # only then ask the database (a custom detector's own classes)
        stored = set(
            session.scalars(
                select(Count.cls)
                .distinct()
                .join(Scene, Count.scene_id == Scene.id)
                .where(Scene.site_id == site_id)
            )
        ) - {"all", "covered"}
        bad = [c for c in unknown if c not in stored]
        if bad:
            extra = sorted(stored - set(ALL_CLASSES))
            raise InputError(
                f"class {bad[0]!r} is not a railcar class: use all (every detection) or one of "
                f"{', '.join((*ALL_CLASSES, *extra))}; for covered loads use covered=true"
            )
    # 'all' beside another class is every class; a class not known is refused all the
    # same (2026-12-06, session 36: class=all&class=spaceship was a 200 of every car)
    return [] if "all" in classes else classes


def _scene_with_total(session: Session, scene_id: int) -> tuple[Scene, Count | None]:
    """The scene with its site (scene_dict names it) and its total count, in one
    statement; a 404 when there is no such scene."""
    found = (
        session.execute(
            select(Scene, Count)
            .outerjoin(Count, (Count.scene_id == Scene.id) & (Count.cls == "all"))
            .options(joinedload(Scene.site))
            .where(Scene.id == scene_id)
        ).first()
        if repo.is_record_id(scene_id)
        else None
    )
    if found is None:
        raise NotFoundError(
            f"no scene with id {scene_id}: list a site's scenes at /api/sites/SITE/scenes"
        )
    scene, total_row = found
    return scene, total_row


@router.get(
    "/scenes/{scene_id}/detections",
    summary="Detections of a scene (GeoJSON)",
    response_class=GeoJSONResponse,
    response_model=DetectionCollection,
)
def scene_detections(
    scene_id: SceneId,
    request: Request,
    db: DB,
    cls: Annotated[
        list[Annotated[str, Query(max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]] | None,
        Query(
            alias="class",
            max_length=20,
            description="Keep only these classes ('all': every class); another value is a 422 "
            "listing the classes.",
        ),
    ] = None,
    covered: Annotated[bool | None, Query(description="Only covered (or open) loads.")] = None,
    inside: Annotated[bool | None, Query(description="Only those inside the site.")] = None,
    source: Annotated[
        Source,
        Query(
            description="detector: the cars the detector found (stored detections); analyst: "
            "the outlines of the scene's review (404 when it has none)."
        ),
    ] = DETECTOR,
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_DETECTIONS, description="Cars per page (10,000 unless given)."),
        PlainInt,
    ] = 10_000,
    offset: Annotated[
        int, Query(ge=0, le=10**9, description="Cars to skip (`numberMatched` in all)."), PlainInt
    ] = 0,
) -> Response:
    """A FeatureCollection with ``class``, ``score``, ``covered``, ``inside`` and
    ``source`` (``detector`` or ``analyst``) per car, and the scene's ``status``, total
    ``count`` (``reviewed`` and ``detector_count`` as in the scene list) and ``quality``
    read with them (one state: a page that listed the scenes
    earlier sees that it was counted again). With ``source=analyst``, the outlines an
    analyst gave in the scene's review (no ``score``); the detector's stay in the
    default answer. A scene counted by occupied track length (1.5-10 m) has no cars
    here: the stretches of track it read are ``/api/scenes/{scene_id}/occupied``."""
    with read_session(db) as s:
        scene, total_row = _scene_with_total(s, scene_id)
        cond = [Detection.scene_id == scene_id]
        wanted = _check_classes(s, scene.site_id, cls or [])
        status, quality = scene.status, scene_dict(scene)["quality"]
        machine = machine_counts(s, [total_row] if total_row is not None else [])
        scene_count = count_dict(total_row, scene=scene)
        marks = review_marks(total_row, machine.get(scene_id), scene)
        if source == ANALYST:
            review = s.scalar(select(SceneReview).where(SceneReview.scene_id == scene_id))
            matched = _analyst_features(review, scene_id, wanted, covered, inside)
            return _collection(
                request,
                scene_id,
                status,
                scene_count,
                marks,
                quality,
                matched[offset : offset + limit],
                len(matched),
                limit,
                offset,
                source,
            )
        if wanted:
            cond.append(Detection.cls.in_(wanted))
        if covered is not None:
            cond.append(Detection.covered.is_(covered))
        if inside is not None:
            cond.append(Detection.inside.is_(inside))
        total = int(s.scalar(select(func.count(Detection.id)).where(*cond)) or 0)
        rows = list(
            s.execute(
                select(
                    Detection.id,
                    Detection.cls,
                    Detection.score,
                    Detection.covered,
                    Detection.covered_score,
                    Detection.inside,
                    Detection.geometry_wkb,
                )
                .where(*cond)
                .order_by(Detection.id)
                .limit(limit)
                .offset(offset)
            )
        )
    feats = _features(rows)
    return _collection(
        request, scene_id, status, scene_count, marks, quality, feats, total, limit, offset, source
    )


def _collection(
    request: Request,
    scene_id: int,
    status: str,
    scene_count: dict[str, Any] | None,
    marks: dict[str, Any],
    quality: dict[str, Any],
    feats: list[dict[str, Any]],
    total: int,
    limit: int,
    offset: int,
    source: str,
) -> Response:
    """The answer: one page of features, the scene's state and paging headers."""
    body = {
        "type": "FeatureCollection",
        "scene_id": scene_id,
        "source": source,
        "status": status,
        "count": scene_count,
        **marks,
        "quality": quality,
        "numberMatched": total,
        "numberReturned": len(feats),
        "features": feats,
    }
    params = PageParams(limit=limit, offset=offset)
    return GeoJSONResponse(
        body,
        headers={
            "Link": page_links(request, total, params.limit, params.offset),
            "X-Total-Count": str(total),
        },
    )


def _run_geometry(coords: tuple[tuple[float, float], ...]) -> dict[str, Any]:
    """A run's line as GeoJSON, coordinates rounded to :data:`DECIMALS` places; one
    across 180° (longitudes jumping from 179.9 to -179.9) split there as a
    MultiLineString (RFC 7946 3.1.9), as a car across it is served."""
    geom = split_line_at_antimeridian(shapely.LineString(coords))
    lines = getattr(geom, "geoms", [geom])
    parts = [np.round(shapely.get_coordinates(g), DECIMALS).tolist() for g in lines]
    if len(parts) == 1:
        return {"type": "LineString", "coordinates": parts[0]}
    return {"type": "MultiLineString", "coordinates": parts}


def _not_recorded(scene: Scene, method: str | None) -> str:
    """Why a scene has no occupied track recorded, and what to do."""
    sid = scene.id
    if scene.status != "processed":
        if scene.status == "unusable":
            return f"scene {sid} is unusable (a gap, no count): nothing was read on it"
        again = f"`railwatch process {scene.site.name}` or POST /api/sites/{{site}}/jobs"
        if scene.status == "failed":
            return (
                f"processing scene {sid} failed, so it has no count (its `error` in GET "
                f"/api/scenes/{sid} says why): fix the cause and process it again ({again}; "
                "failed scenes are retried)"
            )
        return f"scene {sid} is not counted yet: process it ({again})"
    if method == "length":
        return (
            f"scene {sid} was counted by occupied track length before its stretches were "
            f"kept (before session 30): the next processing counts it again and records "
            f"them (`railwatch process {scene.site.name}`, or a processing job)"
        )
    if method == "presence":
        return (
            f"scene {sid} is a presence image (10 m and coarser): it says only whether a "
            "long train is present, no stretch of occupied track is kept"
        )
    return (
        f"scene {sid} is counted car by car ({method}), not by occupied track length: "
        f"its cars are GET /api/scenes/{sid}/detections"
    )


@router.get(
    "/scenes/{scene_id}/occupied",
    summary="Track a length count read as occupied (GeoJSON)",
    response_class=GeoJSONResponse,
    response_model=OccupiedCollection,
)
def scene_occupied(scene_id: SceneId, db: DB) -> Response:
    """The stretches of track a count by occupied track length (1.5-10 m images) read
    as occupied: a FeatureCollection (WGS84) of LineStrings, each with ``method``
    (``length``), ``length_m`` and ``car_equivalents`` (``length_m`` / 14 m, a
    conventional car), as ``railwatch detect`` writes them; they add up to the
    detector's count. They are not cars: the scene's detections, their filters, pages
    and counts leave them out. ``recorded`` says whether the count kept its stretches:
    true with no feature is a count that read no occupied track; false (with ``reason``:
    a count car by car, a presence image, not counted, or a length count made before
    session 30, which the next ``railwatch process`` records) is none kept.
    Also the scene's ``status``, ``count``, ``reviewed``, ``detector_count``, ``quality``
    and the runs' ``occupied_length_m`` and ``car_equivalents`` (null when not
    recorded). Not paged: a scene has one run per occupied stretch of track."""
    from railwatch.detect.coarse import CONVENTIONAL_CAR_M

    with read_session(db) as s:
        scene, total_row = _scene_with_total(s, scene_id)
        machine = machine_counts(s, [total_row] if total_row is not None else [])
        scene_count = count_dict(total_row, scene=scene)
        marks = review_marks(total_row, machine.get(scene_id), scene)
        quality = scene_dict(scene)["quality"]
        method = total_row.method if total_row is not None else None
        runs = repo.occupied_runs_of(scene) if scene.status == "processed" else None
        if runs is not None:  # a line needs two points (a hand-edited entry may not)
            runs = tuple(run for run in runs if len(run.coords) >= 2)
        reason = _not_recorded(scene, method) if runs is None else None
        status = scene.status
    feats = [
        {
            "type": "Feature",
            "id": k,
            "geometry": _run_geometry(run.coords),
            "properties": {
                "method": "length",
                "length_m": round(run.length_m, 2),
                "car_equivalents": round(run.length_m / CONVENTIONAL_CAR_M, 2),
            },
        }
        for k, run in enumerate(runs or (), start=1)
    ]
    length = sum(run.length_m for run in runs) if runs is not None else None
    body = {
        "type": "FeatureCollection",
        "scene_id": scene_id,
        "status": status,
        "count": scene_count,
        **marks,
        "quality": quality,
        "recorded": runs is not None,
        "reason": reason,
        "occupied_length_m": None if length is None else round(length, 1),
        "car_equivalents": None if length is None else round(length / CONVENTIONAL_CAR_M, 2),
        "numberMatched": len(feats),
        "numberReturned": len(feats),
        "features": feats,
    }
    return GeoJSONResponse(body)
