"""Detections of a scene as a GeoJSON FeatureCollection (WGS84), filterable."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import shapely
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import func, select

from railwatch.storage import repo
from railwatch.storage.models import Detection
from railwatch.web.deps import DB
from railwatch.web.pagination import PageParams, page_links
from railwatch.web.routes.scenes import SceneId
from railwatch.web.security import require_read

router = APIRouter(tags=["detections"], dependencies=[Depends(require_read)])

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
                },
            }
        )
        start = end
    return feats


@router.get(
    "/scenes/{scene_id}/detections",
    summary="Detections of a scene (GeoJSON)",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def scene_detections(
    scene_id: SceneId,
    request: Request,
    db: DB,
    cls: Annotated[
        list[Annotated[str, Query(max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]] | None,
        Query(alias="class", max_length=20, description="Keep only these classes."),
    ] = None,
    covered: Annotated[bool | None, Query(description="Only covered (or open) loads.")] = None,
    inside: Annotated[bool | None, Query(description="Only those inside the site.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_DETECTIONS)] = 10_000,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    """A FeatureCollection with ``class``, ``score``, ``covered`` and ``inside`` per car."""
    import json

    with db.session(readonly=True) as s:
        repo.get_scene(s, scene_id)
        cond = [Detection.scene_id == scene_id]
        if cls:
            cond.append(Detection.cls.in_(cls))
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
    body = {
        "type": "FeatureCollection",
        "scene_id": scene_id,
        "numberMatched": total,
        "numberReturned": len(feats),
        "features": feats,
    }
    params = PageParams(limit=limit, offset=offset)
    return Response(
        json.dumps(body, separators=(",", ":")),
        media_type="application/geo+json",
        headers={
            "Link": page_links(request, total, params.limit, params.offset),
            "X-Total-Count": str(total),
        },
    )
