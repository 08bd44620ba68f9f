"""Scenes: list per site (with each scene's total count), metadata, quality.

A scene's ``file`` and ``mask_file`` are the names of its files; their full paths or
URLs (``uri``, ``mask_uri``) are given only to a request that carries the token or a
signed-in session cookie (:func:`railwatch.web.security.is_authenticated`), and are
``null`` for anyone else: a server with open reads (``--public-reads``) would otherwise
show everyone its directory layout (and the query string of a signed URL). The jobs
endpoint shows only file names, for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import select

from railwatch.detect.base import tells_class
from railwatch.export.redact import file_name, hide_paths
from railwatch.storage import repo
from railwatch.storage.models import Count, Scene
from railwatch.storage.serialize import (
    count_dict,
    interval_spread_assumed,
    is_reviewed,
    machine_counts,
    review_dict,
    review_marks,
    scene_dict,
)
from railwatch.web import schemas
from railwatch.web.days import SiteDays
from railwatch.web.deps import DB, Jobs, Paging, read_session
from railwatch.web.errors import api_words
from railwatch.web.pagination import paginate
from railwatch.web.params import PlainInt
from railwatch.web.routes.sites import SiteName
from railwatch.web.schemas import Page
from railwatch.web.security import is_authenticated, require_read, require_write

router = APIRouter(tags=["scenes"], dependencies=[Depends(require_read)])

#: A scene id: a positive number in digits 0-9 (0 or less is a 422, and so are ``3.0``,
#: ``+3`` or ``3_0``: :mod:`railwatch.web.params`); one that names no scene, however
#: large, is a 404 as any missing id (the storage layer answers ids past what the
#: database holds without asking it: before, PostgreSQL made 2**31 and more a 503 and
#: ids past 2**62 were a 422)
SceneId = Annotated[int, Path(ge=1, description="Scene id."), PlainInt]
Status = Literal["ingested", "processed", "unusable", "failed"]


def _public(
    scene: Scene,
    count: Count | None,
    *,
    footprint: bool,
    paths: bool,
    machine: Mapping[str, Any] | None = None,
    days: SiteDays | None = None,
) -> dict[str, Any]:
    out = scene_dict(scene, footprint=footprint)
    # its local day at the site (session 31), where acquired_at is its UTC time
    out["day"] = (days or SiteDays()).day(scene.site, scene.acquired_at)
    out["file"], out["mask_file"] = file_name(scene.uri), file_name(scene.mask_uri)
    if not paths:  # full paths only to the token or a session (module docstring)
        out["uri"] = out["mask_uri"] = None
        error = out.get("error")
        for uri in (scene.uri, scene.mask_uri):  # "PATH: file changed since ingest"
            if error and uri:
                error = error.replace(uri, file_name(uri) or "")
        out["error"] = hide_paths(error)
    out["needs_tracks"] = False
    if scene.status == "failed":
        # a coarse image of a site without track centrelines: its file is not at fault,
        # the site's centrelines make it count (as `railwatch process` and `scene list`
        # say since session 40; the page showed it as a plain failure)
        from railwatch.counting import name_site, needs_tracks

        if needs_tracks(out.get("error")):
            out["needs_tracks"] = True
            out["error"] = name_site(out["error"], scene.site.name)
    if out.get("error"):
        # stored as the CLI says it (the store is the CLI's too): the API's requests in
        # place of its commands (2026-12-06, session 41: `railwatch site edit yard
        # --tracks FILE` for a scene that needs the site's track centrelines)
        out["error"] = api_words(out["error"])
    out["count"] = count_dict(count, scene=scene)
    out.update(review_marks(count, machine, scene))
    return out


@router.get(
    "/sites/{site}/scenes",
    summary="List a site's scenes",
    response_model=Page[schemas.Scene],
    response_model_exclude_unset=True,
)
def list_scenes(
    site: SiteName,
    request: Request,
    response: Response,
    db: DB,
    page: Paging,
    status: Annotated[Status | None, Query(description="Only scenes in this state.")] = None,
    usable: Annotated[bool | None, Query(description="Only usable (or unusable) ones.")] = None,
    footprint: Annotated[bool, Query(description="Include WGS84 footprints.")] = False,
) -> dict[str, Any]:
    """Scenes by acquisition time, each with its quality and total count; ``reviewed``
    says whether that count is an analyst's (a scene review) and ``detector_count`` the
    detector's total it replaced."""
    with read_session(db) as s:
        # the page is cut in SQL (a site of 5,000 scenes read them all for each page)
        shown, total = repo.scene_page(
            s, site, status=status, usable=usable, limit=page.limit, offset=page.offset
        )
        ids = [sc.id for sc in shown]
        counts = {
            c.scene_id: c
            for c in s.scalars(select(Count).where(Count.scene_id.in_(ids), Count.cls == "all"))
        }
        paths = is_authenticated(request)
        machine = machine_counts(s, counts.values())  # one statement, only if reviewed
        days = SiteDays()
        items = [
            _public(
                sc,
                counts.get(sc.id),
                footprint=footprint,
                paths=paths,
                machine=machine.get(sc.id),
                days=days,
            )
            for sc in shown
        ]
    return paginate(request, response, items, total, page).envelope()


@router.get(
    "/scenes/{scene_id}",
    summary="Scene metadata",
    response_model=schemas.Scene,
    response_model_exclude_unset=True,
)
def get_scene(scene_id: SceneId, request: Request, db: DB) -> dict[str, Any]:
    """A scene: ingest facts, footprint, processing state, quality and counts per class."""
    with read_session(db) as s:
        scene = repo.get_scene(s, scene_id)
        rows = list(s.scalars(select(Count).where(Count.scene_id == scene_id)))
        total = next((c for c in rows if c.cls == "all"), None)
        review = repo.get_scene_review(s, scene_id)
        machine = review.machine if review is not None else None
        out = _public(
            scene, total, footprint=True, paths=is_authenticated(request), machine=machine
        )
        method = total.method if total is not None else None
        out["counts"] = {  # a type or covered count a 3 m image cannot tell is left out
            c.cls: {
                "count": c.count,
                "low": c.low,
                "high": c.high,
                "method": c.method,
                "reviewed": is_reviewed(c),
                # as the total's `count` says it (session 52)
                "interval_spread_assumed": interval_spread_assumed(c, scene),
            }
            for c in rows
            if tells_class(c.cls, method)
        }
        out["review"] = None if review is None else review_dict(review)
    return out


@router.get(
    "/scenes/{scene_id}/quality",
    summary="Scene quality",
    response_model=schemas.SceneQuality,
    response_model_exclude_unset=True,
)
def get_quality(scene_id: SceneId, db: DB) -> dict[str, Any]:
    """Clear fraction, cloud/haze/snow/no-data fractions, usable flag and reasons."""
    with read_session(db) as s:
        scene = repo.get_scene(s, scene_id)
        out: dict[str, Any] = scene_dict(scene)["quality"]
        out["scene_id"] = scene.id
        out["status"] = scene.status
    return out


@router.delete(
    "/scenes/{scene_id}",
    dependencies=[Depends(require_write)],
    summary="Delete a scene ingested by mistake",
    response_model=schemas.SceneDeleted,
    response_model_exclude_unset=True,
)
def delete_scene(scene_id: SceneId, db: DB, jobs: Jobs) -> dict[str, Any]:
    """Delete one scene with its detections, counts and review, as ``railwatch scene
    remove ID --yes``: alerts citing it are deleted, or kept inactive with their notes
    when acknowledged; the image file is kept (ingested again, it is a new scene). 409
    while its site is being processed (a job of this server or another run); analyse
    the site again afterwards (``POST /api/sites/{site}/analyze``)."""
    with read_session(db) as s:
        site = repo.get_scene(s, scene_id).site.name
    jobs.require_idle(site, "delete the scene")  # a job would record it deleted under it
    from railwatch.pipeline import scene_removal_lock

    with scene_removal_lock(db, [site]), db.session() as s:
        [gone] = repo.remove_scenes(s, [scene_id])
    out = gone.to_dict()
    return {"deleted": out.pop("scene_id"), "file": file_name(out.pop("uri")) or "", **out}
