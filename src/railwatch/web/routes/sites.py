"""Sites: list (with latest count, trend, open alerts), create, read, update, delete."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.json_schema import JsonDict, SkipJsonSchema
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from railwatch.analysis.series import as_utc, at_site, build_series
from railwatch.analysis.store import site_local_days
from railwatch.analysis.types import CountPoint
from railwatch.detect.base import is_presence, long_train_present
from railwatch.errors import GeometryError, InputError
from railwatch.limits import DESCRIPTION_MAX, SITE_NAME_MAX, TAG_MAX, TAGS_MAX
from railwatch.storage import Database, repo
from railwatch.storage.models import Count, Scene, Site
from railwatch.storage.repo import SiteStats
from railwatch.storage.serialize import site_dict
from railwatch.web import schemas
from railwatch.web.bodies import JsonNumber, not_null
from railwatch.web.days import SiteDays
from railwatch.web.deps import DB, Jobs, Paging, read_session
from railwatch.web.pagination import paginate
from railwatch.web.params import LookupName
from railwatch.web.schemas import (
    FREE_TEXT,
    SITE_GEOJSON_IN,
    SITE_NAME,
    TAG,
    TRACKS_GEOJSON_IN,
    Page,
)
from railwatch.web.security import require_read, require_write

router = APIRouter(tags=["sites"])

SiteName = Annotated[str, Path(min_length=1, max_length=64, description="Site name."), LookupName]
_NAME_RULE = (
    f"1-{SITE_NAME_MAX} letters (any script), digits, '_', '-' or '.', starting with a "
    "letter, digit or '_'."
)


#: ``bbox``: W, S, E, N in degrees (the cross-item rules are said, not declared).
_BBOX_IN: JsonDict = {
    "type": "array",
    "items": {"type": "number"},
    "minItems": 4,
    "maxItems": 4,
    "prefixItems": [
        {"type": "number", "title": "west", "minimum": -180, "maximum": 180},
        {"type": "number", "title": "south", "minimum": -90, "maximum": 90},
        {"type": "number", "title": "east", "minimum": -180, "maximum": 180},
        {"type": "number", "title": "north", "minimum": -90, "maximum": 90},
    ],
}
#: ``tags``: each a word or words on one line, without a comma.
_TAG_IN = Annotated[str, Field(json_schema_extra={"maxLength": TAG_MAX, "pattern": TAG})]
_TAGS_TEXT = (
    f"At most {TAGS_MAX} tags, each on one line, not blank, without a comma (the exports "
    f"join them with commas), at most {TAG_MAX} characters once stripped of surrounding "
    "whitespace; repeats are kept once."
)
_DESCRIPTION_TEXT = (
    f"Free text of at most {DESCRIPTION_MAX} characters once stripped (line breaks and "
    "tabs allowed, no other control character)."
)


class SiteIn(BaseModel):
    """A new site: a GeoJSON polygon (Feature, FeatureCollection or geometry) or a bbox,
    exactly one of them (the other left out or null)."""

    # oneOf: "give exactly one of 'geometry' (GeoJSON) or 'bbox' [W,S,E,N]" (`_spec`,
    # with its words), declared since 2026-12-08 (session 53)
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {
                    "title": "geometry",
                    "required": ["geometry"],
                    "properties": {"geometry": {"type": "object"}},
                },
                {"title": "bbox", "required": ["bbox"], "properties": {"bbox": {"type": "array"}}},
            ]
        },
    )

    # Names, tags and lengths are checked by the core (railwatch.limits), with the
    # CLI's messages; the schema only shows the rules (patterns: the web schemas'
    # "request rules").
    name: str = Field(
        description=_NAME_RULE + " (The pattern declares the ASCII part of the rule; "
        "which other characters are letters or digits is Unicode's, as Python's `\\w` "
        "reads it after NFC.)",
        json_schema_extra={"minLength": 1, "maxLength": SITE_NAME_MAX, "pattern": SITE_NAME},
    )
    description: str = Field(
        default="",
        description=_DESCRIPTION_TEXT,
        json_schema_extra={"maxLength": DESCRIPTION_MAX, "pattern": FREE_TEXT},
    )
    tags: list[_TAG_IN] = Field(
        default_factory=list, description=_TAGS_TEXT, json_schema_extra={"maxItems": TAGS_MAX}
    )
    geometry: Annotated[dict[str, Any], WithJsonSchema(SITE_GEOJSON_IN)] | None = Field(
        default=None, description="GeoJSON in WGS84 lon/lat (Feature, collection or geometry)."
    )
    bbox: Annotated[list[JsonNumber], WithJsonSchema(_BBOX_IN)] | None = Field(
        default=None,
        min_length=4,
        max_length=4,
        description="W,S,E,N in degrees: longitudes within ±180, latitudes within ±90 "
        "(declared), west less than east and south less than north (not declared: JSON "
        "Schema cannot compare two items; 422 saying which), an area of 50 m² to 2,500 "
        "km² and not within 1° of 0°, 0° (`railwatch.sites`' limits, not declared).",
    )
    tracks: Annotated[dict[str, Any], WithJsonSchema(TRACKS_GEOJSON_IN)] | None = Field(
        default=None,
        description="Optional GeoJSON track centrelines (WGS84); the same GeoJSON as "
        "`geometry` where it holds the site's polygons and its lines together.",
    )


class SitePatch(BaseModel):
    """Fields of a site that can be changed (geometry cannot: make a new site), one or
    more (``{}`` is a 422, "nothing to change"). A field left out stays as it is;
    ``tracks`` null removes the site's centrelines."""

    # minProperties: `{}` is refused by `_something` below, with its words (session 53)
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    # left out: kept; null is refused (it was read as left out), "" and [] remove them
    description: Annotated[
        str | SkipJsonSchema[None],
        not_null('send "" for no description, or leave description out to keep it'),
    ] = Field(
        default=None,
        description=_DESCRIPTION_TEXT,
        json_schema_extra={"maxLength": DESCRIPTION_MAX, "pattern": FREE_TEXT},
    )
    tags: Annotated[
        list[_TAG_IN] | SkipJsonSchema[None],
        not_null("send [] for no tags, or leave tags out to keep them"),
    ] = Field(default=None, description=_TAGS_TEXT, json_schema_extra={"maxItems": TAGS_MAX})
    tracks: Annotated[dict[str, Any], WithJsonSchema(TRACKS_GEOJSON_IN)] | None = Field(
        default=None,
        description="GeoJSON track centrelines (WGS84 LineString or MultiLineString, "
        "Feature or FeatureCollection) in place of the site's; null removes them. The "
        "GeoJSON of the site's polygon and its lines together (as given at creation as "
        "both `geometry` and `tracks`) gives its lines; a polygon other than the site's "
        "is refused.",
    )

    @model_validator(mode="after")
    def _something(self) -> SitePatch:
        # `{}` was a 200 that changed nothing (2026-12-07, session 46), where
        # `railwatch site edit` without an option says "nothing to change"
        if not self.model_fields_set:
            raise ValueError(NOTHING_TO_CHANGE)
        return self


#: The 422 of a change (``PATCH /api/sites/{site}``) that gives no member.
NOTHING_TO_CHANGE = (
    "nothing to change: give one or more of the members a site's change takes: "
    "description, tags, tracks (its polygon cannot be changed: add a new site)"
)


class _SiteWrites:
    """One removal or change of track centrelines of a site at a time in this server.

    Two DELETEs of a site at once (a double click, a retried request) each took the
    site's removal lock: the second was a 409 "cannot be removed while a railwatch run
    processes it (held by process N)", N the server itself, where the site was gone a
    moment later. The second now waits for the first and then reads the site again: a
    404 when the first removed it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextmanager
    def hold(self, site: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(site, threading.Lock())
        with lock:
            yield


_SITE_WRITES = _SiteWrites()


def _tracks(body: SitePatch) -> tuple[Any, Any]:
    """The centrelines of a PATCH body, read as at site creation (None: none), and the
    site polygon given with them, if any: the GeoJSON of the site's polygon and its lines
    together that POST /api/sites takes as both ``geometry`` and ``tracks`` gives its
    lines, as ``railwatch site edit --tracks FILE`` reads it (the same reader,
    :func:`railwatch.sites.load_tracks_of_stored_site`; it was refused until 2026-12-06,
    session 41). The polygon is checked against the stored site's by the caller."""
    from railwatch.sites import load_tracks_of_stored_site

    if body.tracks is None:
        return None, None
    try:
        return load_tracks_of_stored_site(body.tracks)
    except (GeometryError, InputError):
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as err:
        raise GeometryError(f"invalid tracks: {err}") from err


def _spec(body: SiteIn) -> Any:
    from railwatch.sites import site_from_bbox, site_from_geojson

    if (body.geometry is None) == (body.bbox is None):
        raise InputError("give exactly one of 'geometry' (GeoJSON) or 'bbox' [W,S,E,N]")
    try:
        if body.geometry is not None:
            return site_from_geojson(
                body.name,
                body.geometry,
                description=body.description,
                tags=body.tags,
                tracks=body.tracks,
            )
        return site_from_bbox(
            body.name,
            body.bbox or [],
            description=body.description,
            tags=body.tags,
            tracks=body.tracks,
        )
    except (GeometryError, InputError):
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as err:
        raise GeometryError(f"invalid site geometry: {err}") from err


@dataclass(frozen=True)
class _DayCounts:
    """The last points of a site's daily series (:func:`_day_counts`)."""

    newest: CountPoint | None = None  # the last usable day's point, a presence one too
    latest: CountPoint | None = None  # the last day's count of cars (no presence point)
    previous: CountPoint | None = None  # the day's before it made the same way


#: Images read from the end of a site's series at first (then 4 times as many, until
#: the previous day's count made the same way is among them, or the series is read).
_TAIL = 32


def _last_days(points: list[CountPoint], offset: timedelta, *, whole: bool) -> _DayCounts:
    """The :class:`_DayCounts` of ``points``, the last images of a site's series in
    time order (``whole``: the whole series; else its first day read may be missing
    images, and is left out)."""
    days = build_series(at_site(points, offset)).get("all")
    kept = [p for p in days.points if p.is_usable] if days else []
    if not whole and days:  # the first day read may be missing images
        kept = [p for p in kept if p.when.date() > days.points[0].when.date()]
    counts = [p for p in kept if not is_presence(p.method)]
    found = _DayCounts(newest=kept[-1] if kept else None)
    if counts:
        latest = counts[-1]
        previous = next((p for p in reversed(counts[:-1]) if p.method == latest.method), None)
        found = replace(found, latest=latest, previous=previous)
    return found


def _day_counts(session: Session, site: Site, offset: timedelta) -> _DayCounts:
    """The last points of the site's daily series of totals, as the analysis, its alerts
    and the chart have them: one point a local day at the site, the image the day keeps
    (:func:`railwatch.analysis.series.build_series` of the points at the site's time),
    the day before compared only with a day counted the same way
    (:func:`~railwatch.analysis.series.split_by_method`). Times are at the site, marked
    UTC (:func:`~railwatch.analysis.series.at_site`).

    Only the series' last images are read (:func:`repo.count_series_page`), more where
    they hold no earlier day made the same way; the first day of a part read may have
    images before it, so it is left out unless the part is the whole series."""
    total = repo.count_series_page(session, site, limit=0)[1]
    size = _TAIL
    while True:
        start = max(0, total - size)
        points = repo.count_series_page(session, site, limit=total - start, offset=start)[0]
        found = _last_days(points, offset, whole=not start)
        if not start or found.previous is not None:
            return found
        size *= 4


def _series_tails(
    session: Session, sites: Sequence[Site], size: int
) -> dict[int, tuple[list[CountPoint], int]]:
    """The last ``size`` points of the ``all`` series of each of ``sites`` (the points
    of :func:`repo.count_series_page` of its last ``size`` images, in time order) and
    the length of its series, by site id, from one query: each site's images numbered
    newest first (``row_number()``, SQLite 3.25+ and PostgreSQL) and those numbered
    ``size`` or less read with their totals. A site without a processed or unusable
    image is left out (none, 0)."""
    ids = [s.id for s in sites]
    if not ids:
        return {}
    newest_first = (Scene.acquired_at.desc(), Scene.id.desc())
    ranked = (
        select(
            Scene.id.label("scene_id"),
            Scene.site_id.label("site_id"),
            func.row_number().over(partition_by=Scene.site_id, order_by=newest_first).label("pos"),
            func.count().over(partition_by=Scene.site_id).label("n_points"),
        )
        .where(Scene.site_id.in_(ids), Scene.status.in_(("processed", "unusable")))
        .subquery()
    )
    ref = aliased(Count)
    q = (
        select(
            ranked.c.site_id,
            ranked.c.n_points,
            *repo.SERIES_COLUMNS,
            *repo._count_columns(ref, "ref"),
        )
        .select_from(ranked)
        .join(Scene, Scene.id == ranked.c.scene_id)
        .outerjoin(ref, (ref.scene_id == Scene.id) & (ref.cls == "all"))
        .where(ranked.c.pos <= size)
        .order_by(ranked.c.site_id, Scene.acquired_at, Scene.id)
    )
    out: dict[int, tuple[list[CountPoint], int]] = {}
    for r in session.execute(q):
        points, _ = out.setdefault(int(r.site_id), ([], int(r.n_points)))
        total_count = repo._count_cols(r, "ref")
        points.append(repo._series_point(r, total_count, total_count, "all"))
    return out


def _sites_day_counts(
    session: Session, sites: Sequence[Site], days: SiteDays
) -> dict[int, _DayCounts]:
    """:func:`_day_counts` of each of ``sites`` by site id, the same points, read for
    all of them at once (:func:`_series_tails`): the last images of every site, then
    four times as many of those sites only whose previous day counted the same way is
    further back, until found or the whole series is read. The queries do not grow
    with the number of sites (session 33: a list called :func:`_day_counts` a site,
    four statements each, 1,206 for 300 sites)."""
    out: dict[int, _DayCounts] = {}
    wanted = list(sites)
    size = _TAIL
    while wanted:
        tails = _series_tails(session, wanted, size)
        further = []
        for site in wanted:
            points, total = tails.get(site.id, ([], 0))
            whole = total <= size
            found = _last_days(points, days.offset(site), whole=whole)
            if whole or found.previous is not None:
                out[site.id] = found
            else:
                further.append(site)
        wanted = further
        size *= 4
    return out


def summary(
    session: Session,
    site: Site,
    *,
    open_alerts: dict[str, int] | None = None,
    days: SiteDays | None = None,
    found: _DayCounts | None = None,
) -> dict[str, Any]:
    """The latest day's count, its trend against the previous day's count made the same
    way (a 3 m occupied-length estimate is never compared with cars counted one by one,
    as the analysis does), and open alerts (in total and by severity).

    The days are the points of the site's daily series (:func:`_day_counts`): one a
    local day at the site, the image the analysis, its alerts and the chart keep of that
    day (session 32: the summary took the latest image and compared it with the image
    before, even one of the same local day, "up from 5" with both of the local
    2024-03-05, and the latest image was not always the one the day's point keeps).
    ``latest_when``, ``latest_scene_id`` and ``latest_reviewed`` are those of the kept
    image; ``previous_day`` and ``previous_scene_id`` say which day and image the trend
    compares with.

    A presence image (10 m and coarser) is no count: its stored 1 or 0 is only whether a
    long train is present, so it is never the latest or previous count. Where the site's
    latest day's point is one (a day of presence images only), ``latest_presence``
    gives its time, day, scene and ``long_train_present`` (null otherwise).
    ``open_alerts`` (by severity) and the day counts (``found``, with the ``days`` they
    were made with) are given by a list that read them for all its sites at once."""
    days = days or SiteDays()
    offset = days.offset(site)
    if found is None:
        found = _day_counts(session, site, offset)
    latest, newest, previous = found.latest, found.newest, found.previous

    def utc(p: CountPoint) -> str:  # the image's time, back from the site's
        return (as_utc(p.when) - offset).isoformat()

    latest_presence = (
        {
            "when": utc(newest),
            "day": newest.when.date().isoformat(),
            "scene_id": newest.scene_id,
            "long_train_present": long_train_present(newest.method, newest.count),
        }
        if newest is not None and is_presence(newest.method)
        else None
    )
    trend = "none"
    if latest is not None and previous is not None:
        diff = float(latest.count or 0.0) - float(previous.count or 0.0)
        trend = "up" if diff > 0.5 else "down" if diff < -0.5 else "flat"
    if open_alerts is None:
        open_alerts = repo.open_alerts_by_severity(session, [site])[site.id]
    out = {
        "latest_count": latest.count if latest else None,
        # what the count is of: car equivalents where "length" (3 m; 2026-12-06, session
        # 38: the site list showed "149.1" as if 149.1 cars were told one by one)
        "latest_method": latest.method if latest else None,
        "latest_when": utc(latest) if latest else None,
        # its local day at the site (session 31)
        "latest_day": latest.when.date().isoformat() if latest else None,
        "latest_scene_id": latest.scene_id if latest else None,
        "previous_count": previous.count if previous else None,
        # the day the trend compares with, and its image (session 32)
        "previous_day": previous.when.date().isoformat() if previous else None,
        "previous_scene_id": previous.scene_id if previous else None,
        "trend": trend,
        "latest_presence": latest_presence,
        "open_alerts": sum(open_alerts.values()),
        "open_by_severity": {
            sev: open_alerts.get(sev, 0) for sev in ("high", "medium", "low", "info")
        },
        # an analyst's count (a scene review), not the detector's
        "latest_reviewed": bool(latest is not None and latest.reviewed),
    }
    return out


def local_days(out: dict[str, Any], site: Site, stats: SiteStats) -> dict[str, Any]:
    """``out`` (:func:`site_dict` of the site) with the site's nominal zone (``local_zone``,
    ``UTC+12``: the days the analysis groups its images by, its alerts name and the API's
    ``day`` fields give) and the local days of its first and last images (session 31;
    :func:`~railwatch.analysis.store.site_local_days`, as `railwatch site` gives them)."""
    out.update(site_local_days(site, stats))
    return out


def _full(session: Session, site: Site, *, geometry: bool = True) -> dict[str, Any]:
    stats = repo.site_stats(session, site)
    out = local_days(site_dict(site, stats, geometry=geometry), site, stats)
    out["summary"] = summary(session, site)
    return out


@router.get(
    "/sites",
    dependencies=[Depends(require_read)],
    summary="List sites",
    response_model=Page[schemas.Site],
    response_model_exclude_unset=True,
)
def list_sites(request: Request, response: Response, db: DB, page: Paging) -> dict[str, Any]:
    """Sites by name, each with its totals and a summary (latest count, trend, open alerts)."""
    with read_session(db) as s:
        # the page's sites only, their totals and open alerts in grouped queries
        sites, total = repo.site_page(s, limit=page.limit, offset=page.offset)
        stats = repo.sites_stats(s, sites)
        alerts = repo.open_alerts_by_severity(s, sites)
        days = SiteDays()
        found = _sites_day_counts(s, sites, days)  # not four statements a site (session 33)
        items = []
        for site in sites:
            out = local_days(site_dict(site, stats[site.id], geometry=False), site, stats[site.id])
            out["summary"] = summary(
                s, site, open_alerts=alerts[site.id], days=days, found=found[site.id]
            )
            items.append(out)
    return paginate(request, response, items, total, page).envelope()


@router.post(
    "/sites",
    status_code=201,
    dependencies=[Depends(require_write)],
    summary="Create a site",
    response_model=schemas.Site,
    response_model_exclude_unset=True,
)
def create_site(body: SiteIn, db: DB, response: Response) -> dict[str, Any]:
    """Add a site from GeoJSON or a bbox (409 when the name exists)."""
    spec = _spec(body)
    with db.session() as s:
        site = repo.add_site(s, spec)
        out = _full(s, site)
    response.headers["Location"] = f"/api/sites/{quote(spec.name)}"  # names may be non-ASCII
    return out


@router.get(
    "/sites/{site}",
    dependencies=[Depends(require_read)],
    summary="Get a site",
    response_model=schemas.Site,
    response_model_exclude_unset=True,
)
def get_site(site: SiteName, db: DB) -> dict[str, Any]:
    """One site with its geometry, tracks, totals and summary."""
    with read_session(db) as s:
        return _full(s, repo.get_site(s, site))


@router.patch(
    "/sites/{site}",
    dependencies=[Depends(require_write)],
    summary="Update a site",
    response_model=schemas.Site,
    response_model_exclude_unset=True,
)
def update_site(site: SiteName, body: SitePatch, db: DB, jobs: Jobs) -> dict[str, Any]:
    """Change a site's description, tags or track centrelines. New or removed centrelines
    have the site's counted scenes counted again by the next processing run (the reply's
    ``recount``); 409 while the site is being processed."""
    if "tracks" not in body.model_fields_set:
        with db.session() as s:
            row = repo.update_site(s, site, description=body.description, tags=body.tags)
            return _full(s, row)
    from railwatch.sites import check_stored_site_polygon

    lines, polygons = _tracks(body)
    with _SITE_WRITES.hold(site):
        with read_session(db) as s:
            stored = repo.get_site(s, site)
            name = stored.name
            # another polygon than the site's is refused (its lines not taken)
            check_stored_site_polygon(polygons, stored.geometry, name)
        # a job counts along the lines it read when it began
        jobs.require_idle(name, "change its track centrelines")
        from railwatch.pipeline import editing_lock, retrack_site

        with editing_lock(db, name), db.session() as s:  # nor while another process runs it
            row = repo.update_site(s, name, description=body.description, tags=body.tags)
            recount = retrack_site(s, row, lines)
            out = _full(s, row)
            out["recount"] = recount.to_dict()
    if lines is not None:
        out.update(_centreline_check(db, name))
    return out


def _centreline_check(db: Database, name: str) -> dict[str, Any]:
    """Where a site's new centrelines lie from the cars stored for its latest images of
    1 m or finer, as ``railwatch process`` and ``site edit --tracks`` check them
    (:func:`railwatch.analysis.centrelines.check_site`; stored detections only, nothing
    is detected in a request): ``centrelines`` (null without such an image) and
    ``centreline_warnings`` in the API's words (since 2026-12-06, session 42)."""
    from railwatch.analysis.centrelines import check_dict, check_site, check_warnings
    from railwatch.web.errors import api_words

    with read_session(db) as s:
        check = check_site(s, name)
    return {
        "centrelines": check_dict(check),
        "centreline_warnings": [api_words(w) for w in check_warnings(check)],
    }


@router.delete(
    "/sites/{site}",
    dependencies=[Depends(require_write)],
    summary="Delete a site",
    response_model=schemas.SiteDeleted,
    response_model_exclude_unset=True,
)
def delete_site(site: SiteName, db: DB, jobs: Jobs) -> dict[str, Any]:
    """Delete a site and everything stored for it; returns what was deleted (409 while
    a job of this server is processing it)."""
    with _SITE_WRITES.hold(site):  # a second DELETE at once: a 404 once this one is done
        with read_session(db) as s:
            name = repo.get_site(s, site).name
        # a job would fail half-way on scenes deleted under it
        jobs.require_idle(name, "delete the site")
        from railwatch.pipeline import removal_lock

        with removal_lock(db, name), db.session() as s:  # nor while another process runs it
            removal = repo.remove_site(s, site)
    # every count of the removal, as ``railwatch site remove --json`` gives them (the
    # scene reviews were left out until session 36: the keys were listed here by hand)
    return {"deleted": site, **asdict(removal)}
