"""Repository functions: every read and write of railwatch data goes through here.

Each function takes a :class:`~sqlalchemy.orm.Session`; the caller owns the
transaction (``with db.session() as s: ...`` commits once at the end). Writes
that must be whole — a scene's results — run inside a SAVEPOINT, so an error
leaves nothing half-written even when the caller keeps the session going.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from sqlalchemy import ColumnElement, String, Table, and_, case, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.sql.functions import FunctionElement

from railwatch.detect.base import (
    DETECTOR_NAME_MAX,
    GENERIC_CLASS,
    OccupiedRun,
    is_presence,
    tells_class,
)
from railwatch.errors import (
    AlreadyExistsError,
    InputError,
    NotFoundError,
    StorageError,
    said_numbers,
)
from railwatch.limits import (
    MAX_RECORD_ID,
    check_description,
    check_event_date,
    check_event_label,
    check_note,
    check_site_name,
    check_tags,
)
from railwatch.sites import (
    GeoJSONSource,
    SiteSpec,
    normalise_name,
    site_area_km2,
    site_tracks,
    utm_crs_for,
    validate_site_geometry,
)
from railwatch.storage.alert_filter import AlertFilter, alert_conditions
from railwatch.storage.models import (
    ANALYST,
    Alert,
    Count,
    Detection,
    Event,
    Scene,
    SceneReview,
    Site,
    to_wkb,
    utcnow,
)
from railwatch.storage.records import (
    AlertLike,
    DetectionRecord,
    QualityLike,
    SceneCountLike,
    SceneInfoLike,
)

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from railwatch.analysis.types import CountPoint
    from railwatch.analysis.types import Event as EventValue

__all__ = [
    "MAX_RECORD_ID",
    "TRACKS_CHANGED",
    "AlertChangedError",
    "AlertChanges",
    "LatestCounts",
    "ReviewCandidate",
    "SceneRemoval",
    "SiteRemoval",
    "SiteStats",
    "TracksChange",
    "acknowledge_alert",
    "add_event",
    "add_scene",
    "add_site",
    "alert_page",
    "alert_version",
    "count_series",
    "count_series_page",
    "declared_unusable",
    "event_values",
    "find_scene_by_hash",
    "find_scenes_by_uri",
    "get_alert",
    "get_scene",
    "get_scene_review",
    "get_site",
    "is_record_id",
    "latest_counts",
    "list_alerts",
    "list_detections",
    "list_events",
    "list_scenes",
    "list_sites",
    "lock_scene",
    "lock_scene_if_there",
    "mark_scene_failed",
    "open_alert_sql",
    "open_alerts_by_severity",
    "record_scene_result",
    "remove_event",
    "remove_scene_review",
    "remove_scenes",
    "remove_site",
    "review_candidates",
    "reviewed_unusable_ids",
    "scene_page",
    "scene_removal",
    "set_scene_review",
    "set_scene_unusable_review",
    "set_site_tracks",
    "site_page",
    "site_spec",
    "site_stats",
    "sites_stats",
    "unusable_reason",
    "update_event",
    "update_site",
]

SiteRef = Site | str


# ------------------------------------------------------------------------------- ids

# MAX_RECORD_ID (railwatch.limits, re-exported here) is the largest id a stored record
# (a scene, detection, review, event or alert) can have: PostgreSQL's INTEGER columns
# hold at most 2**31 - 1. A larger id reached the database as it was: PostgreSQL refused
# the statement ("integer out of range", which also aborts the transaction) and SQLite
# raised OverflowError past 2**63 - 1, each a StorageError (an internal error in the
# CLI, a 503 in the API) instead of "no scene with id N".


def is_record_id(value: int) -> bool:
    """True when ``value`` can be the id of a stored record (1 to :data:`MAX_RECORD_ID`).
    Every function here that looks a record up by id answers another value as it
    answers an id that names nothing (:class:`NotFoundError`, None or no rows), without
    sending it to the database; callers that query by id themselves check it first."""
    return 1 <= value <= MAX_RECORD_ID


# ----------------------------------------------------------------------------- sites


def _site_exists(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"site {name!r} already exists: choose another name, or remove it first with "
        f"`railwatch site remove {name} --yes`"
    )


def add_site(session: Session, spec: SiteSpec) -> Site:
    """Store a new site; :class:`AlreadyExistsError` when the name is taken, also by
    another process between the look-up and the insert."""
    if session.scalar(select(Site.id).where(Site.name == spec.name)) is not None:
        raise _site_exists(spec.name)
    geometry = validate_site_geometry(spec.geometry)
    site = Site(
        name=check_site_name(spec.name),
        description=check_description(spec.description, "a site description"),
        tags=list(check_tags(spec.tags)),
        geometry_wkb=to_wkb(geometry),
        tracks_wkb=to_wkb(spec.tracks) if spec.tracks is not None else None,
        utm_crs=utm_crs_for(geometry),
        area_km2=site_area_km2(geometry),
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():  # only this row is undone if the insert collides
            session.add(site)
            session.flush()
    except IntegrityError as err:
        # Another process stored the same name after the look-up (two `site add` or
        # POST /api/sites at once on PostgreSQL; SQLite writers take turns): the name
        # is taken, as the look-up would have said a moment later (not a database
        # failure, a 503). A writing session reads committed rows afresh.
        if session.scalar(select(Site.id).where(Site.name == spec.name)) is None:
            raise
        raise _site_exists(spec.name) from err
    return site


def update_site(
    session: Session,
    name: SiteRef,
    *,
    description: str | None = None,
    tags: Sequence[str] | None = None,
) -> Site:
    """Change a site's description or tags (None keeps it), checked as when it was
    added (:mod:`railwatch.limits`). The site's row is held first (:func:`hold_site`),
    so an edit that meets the site's removal by another command waits for it and says
    so (session 39: SQLAlchemy's "expected to update 1 row(s); 0 were matched")."""
    site = get_site(session, name)
    _hold_site_row(session, site.id, repr(site.name), "it was being edited")
    if description is not None:
        site.description = check_description(description, "a site description")
    if tags is not None:
        site.tags = list(check_tags(tags))
    session.flush()
    return site


#: Added to the version of a scene counted along track centrelines the site no longer
#: has (:func:`set_site_tracks`): it then matches no processing version, so the next
#: ``railwatch process`` counts the scene again (``pipeline.pending_jobs``); its counts
#: and detections stay until then, and say by the marker which lines they were made on.
TRACKS_CHANGED = "+tracks-changed"
#: The length of a scene's stored ``detector_version``.
_VERSION_LENGTH = 64


@dataclass(frozen=True)
class TracksChange:
    """What :func:`set_site_tracks` did: whether the lines changed, and the scenes
    marked to be counted again (those counted along the earlier lines)."""

    changed: bool
    recount: tuple[Scene, ...] = ()


def set_site_tracks(
    session: Session, name: SiteRef, tracks: GeoJSONSource | BaseGeometry | None
) -> TracksChange:
    """Give the site ``tracks`` as its track centrelines (None: no centrelines), read and
    checked against the site polygon as at ``site add`` (:func:`sites.site_tracks`).

    Every scene counted with the site's earlier lines (status ``processed``) depends on
    them: at 1.5 m and coarser the count is measured along them, and finer only the cars
    within 10 m of them are kept. Those scenes are marked (:data:`TRACKS_CHANGED`) to be
    counted again by the next run; their counts stay until then. Unusable scenes are
    judged without the lines and are left as they are. Nothing changes when the lines
    are the ones stored. Hold the site against processing while this is done
    (``pipeline.editing_lock``): a run in progress counts along the lines it read."""
    site = get_site(session, name)
    lines = None if tracks is None else site_tracks(tracks, validate_site_geometry(site.geometry))
    wkb = None if lines is None else to_wkb(lines)
    if wkb == site.tracks_wkb:
        return TracksChange(changed=False)
    site.tracks_wkb = wkb
    marked = tuple(
        session.scalars(
            select(Scene)
            .where(Scene.site_id == site.id, Scene.status == "processed")
            .order_by(Scene.acquired_at, Scene.id)
        )
    )
    for scene in marked:
        version = scene.detector_version or ""
        if not version.endswith(TRACKS_CHANGED):
            keep = _VERSION_LENGTH - len(TRACKS_CHANGED)
            scene.detector_version = version[:keep] + TRACKS_CHANGED
    session.flush()
    return TracksChange(changed=True, recount=marked)


def get_site(session: Session, name: SiteRef) -> Site:
    """The site named ``name`` (or ``name`` itself when it is a Site).

    A name holding a NUL character is refused with an :class:`InputError` before the
    database is asked: no site name can hold one, and PostgreSQL raised on the character
    in any text it is given (SQLite answered "no site named"); a name read from a file (a
    site column) can carry one (since 2026-12-05, session 33)."""
    if isinstance(name, Site):
        return name
    if "\x00" in name:
        at = name.index("\x00") + 1
        named = name if len(name) <= 80 else name[:80] + "..."
        raise InputError(
            f"a site name cannot hold a NUL character (U+0000), and {named!r} has one at "
            f"character {at}: give the site's name as `railwatch site list` lists it (a name "
            "read from a file: correct the file's site column)"
        )
    # names are stored in NFC (sites.validate_name); one typed in another Unicode form
    # looks the same and is found, as is a name stored before names were normalised
    forms = list(dict.fromkeys([normalise_name(name), name, unicodedata.normalize("NFD", name)]))
    found = {s.name: s for s in session.scalars(select(Site).where(Site.name.in_(forms)))}
    site = next((found[f] for f in forms if f in found), None)
    if site is None:
        shown = 10
        known = session.scalars(select(Site.name).order_by(Site.name).limit(shown)).all()
        hint = f"known sites: {', '.join(known)}" if known else "no sites yet"
        if len(known) == shown:
            more = (session.scalar(select(func.count(Site.id))) or 0) - shown
            hint += f" (and {more} more: railwatch site list)" if more > 0 else ""
        close = _close_names(session, name)
        if close:  # since session 35: beyond 10 sites the list named the first 10 only
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? {hint}"
        raise NotFoundError(
            f"no site named {name!r} ({hint}); "
            "add one with `railwatch site add NAME --bbox W,S,E,N`"
        )
    return site


def _close_names(session: Session, name: str, n: int = 3) -> list[str]:
    """Up to ``n`` stored site names close to ``name`` (a typo, another case: difflib's
    ratio 0.75 or more on the case-folded names), closest first."""
    import difflib

    names = session.scalars(select(Site.name).order_by(Site.name)).all()
    # every site of a case-folded name (session 40: of 'ZRH' and 'zrh' only one was kept,
    # and 'zrh ' was asked "did you mean 'ZRH'?", another site), the closer as typed first
    folded: dict[str, list[str]] = {}
    for stored in names:
        folded.setdefault(stored.casefold(), []).append(stored)
    matches = difflib.get_close_matches(name.casefold(), list(folded), n=n, cutoff=0.75)
    close = [
        stored
        for m in matches
        for stored in sorted(
            folded[m], key=lambda s: -difflib.SequenceMatcher(None, name, s).ratio()
        )
    ]
    return close[:n]


def hold_site(session: Session, name: SiteRef, doing: str) -> Site:
    """The site named ``name`` (:func:`get_site`), its row locked ``FOR KEY SHARE`` until
    the transaction ends (PostgreSQL; SQLite's writers take turns already): the first
    row lock of a writer of the site's rows that takes no advisory lock (the lock order
    in ``railwatch.pipeline``'s docstring, since session 32). A removal of the site
    (:func:`remove_site`: its row, then the cascades to the scenes, events and the
    rest) waits for the writer to end; a writer coming after a removal began waits for
    it and raises :class:`NotFoundError`, saying the site was removed while ``doing``
    (e.g. "an event was being recorded for it"). Before, such writers locked a scene
    first (``scene import-reviews``: several, so a removal deleting them in another
    order deadlocked with it) or met the removal on their foreign key check (a raw
    foreign key violation). It does not block a change to the site's other columns
    (``site edit``) nor another writer."""
    site = get_site(session, name)
    _hold_site_row(session, site.id, repr(site.name), doing)
    return site


def _hold_site_row(session: Session, site_id: int, named: str, doing: str) -> None:
    """:func:`hold_site` for the site of id ``site_id`` (``named``: how the error names it)."""
    held = session.scalar(
        select(Site.id).where(Site.id == site_id).with_for_update(read=True, key_share=True)
    )
    if held is None:
        raise NotFoundError(
            f"site {named} was removed while {doing} (by another railwatch command or the "
            "dashboard): nothing was stored"
        )


def list_sites(session: Session) -> list[Site]:
    """All sites, by name."""
    return list(session.scalars(select(Site).order_by(Site.name)))


def site_spec(site: Site) -> SiteSpec:
    """The stored site as a :class:`SiteSpec` value."""
    from shapely.geometry import MultiLineString, MultiPolygon, Polygon

    geom = site.geometry
    tracks = site.tracks
    if not isinstance(geom, Polygon | MultiPolygon):  # pragma: no cover - written validated
        raise StorageError(f"site {site.name!r} has a stored {geom.geom_type}, not a polygon")
    return SiteSpec(
        name=site.name,
        geometry=geom,
        description=site.description,
        tags=tuple(site.tags),
        tracks=tracks if isinstance(tracks, MultiLineString) else None,
    )


@dataclass(frozen=True)
class SiteStats:
    """How much data a site holds."""

    scenes: int = 0
    processed: int = 0
    usable: int = 0
    first: datetime | None = None
    last: datetime | None = None
    alerts: int = 0
    events: int = 0


#: The scene states a count point holds (a count, or a gap): every other scene (failed, not
#: processed yet) is in no count (:func:`uncounted_scenes`,
#: :func:`uncounted_scene_times`: one condition for both, session 49 review).
JUDGED_STATUSES = ("processed", "unusable")


def uncounted_scenes(
    session: Session, site: SiteRef, until: datetime | None = None
) -> tuple[int, int]:
    """How many of a site's scenes (acquired up to ``until``, UTC, when given) are in no
    count: ``(not processed yet, failed)``. ``railwatch analyze`` says so, and what to do
    for each (session 45)."""
    s = get_site(session, site)
    query = select(Scene.status, func.count(Scene.id)).where(
        Scene.site_id == s.id, Scene.status.not_in(JUDGED_STATUSES)
    )
    if until is not None:
        query = query.where(Scene.acquired_at <= until)
    by_status = {status: n for status, n in session.execute(query.group_by(Scene.status))}
    failed = int(by_status.pop("failed", 0))
    return int(sum(by_status.values())), failed


def uncounted_scene_times(session: Session, site: SiteRef) -> list[tuple[datetime, str]]:
    """The acquisition times and states of the scenes :func:`uncounted_scenes` counts
    (failed, not processed yet), for what a silence alert says of them (session 49)."""
    s = get_site(session, site)
    rows = session.execute(
        select(Scene.acquired_at, Scene.status).where(
            Scene.site_id == s.id, Scene.status.not_in(JUDGED_STATUSES)
        )
    ).all()
    return [(when, status) for when, status in rows]


def site_stats(session: Session, site: SiteRef) -> SiteStats:
    """Scene, alert and event totals and the acquisition range of a site."""
    s = get_site(session, site)
    n, first, last = session.execute(
        select(
            func.count(Scene.id), func.min(Scene.acquired_at), func.max(Scene.acquired_at)
        ).where(Scene.site_id == s.id)
    ).one()
    processed = session.scalar(
        select(func.count(Scene.id)).where(
            Scene.site_id == s.id, Scene.status.in_(("processed", "unusable"))
        )
    )
    usable = session.scalar(
        select(func.count(Scene.id)).where(Scene.site_id == s.id, Scene.status == "processed")
    )
    alerts = session.scalar(
        select(func.count(Alert.id)).where(Alert.site_id == s.id, Alert.active.is_(True))
    )
    events = session.scalar(select(func.count(Event.id)).where(Event.site_id == s.id))
    tz = UTC
    return SiteStats(
        scenes=int(n or 0),
        processed=int(processed or 0),
        usable=int(usable or 0),
        first=first.replace(tzinfo=tz) if first is not None and first.tzinfo is None else first,
        last=last.replace(tzinfo=tz) if last is not None and last.tzinfo is None else last,
        alerts=int(alerts or 0),
        events=int(events or 0),
    )


def site_page(session: Session, *, limit: int, offset: int = 0) -> tuple[list[Site], int]:
    """One page of :func:`list_sites` (by name), read in SQL, and the number of sites."""
    total = int(session.scalar(select(func.count(Site.id))) or 0)
    rows = session.scalars(select(Site).order_by(Site.name).limit(limit).offset(offset))
    return list(rows), total


def sites_stats(session: Session, sites: Sequence[Site]) -> dict[int, SiteStats]:
    """:func:`site_stats` of each of ``sites`` by site id, from three grouped queries
    (not five queries a site)."""
    ids = [s.id for s in sites]
    if not ids:
        return {}
    scenes = {
        r[0]: r[1:]
        for r in session.execute(
            select(
                Scene.site_id,
                func.count(Scene.id),
                func.min(Scene.acquired_at),
                func.max(Scene.acquired_at),
                func.sum(case((Scene.status.in_(("processed", "unusable")), 1), else_=0)),
                func.sum(case((Scene.status == "processed", 1), else_=0)),
            )
            .where(Scene.site_id.in_(ids))
            .group_by(Scene.site_id)
        )
    }
    alerts: dict[int, int] = {
        r[0]: r[1]
        for r in session.execute(
            select(Alert.site_id, func.count(Alert.id))
            .where(Alert.site_id.in_(ids), Alert.active.is_(True))
            .group_by(Alert.site_id)
        )
    }
    events: dict[int, int] = {
        r[0]: r[1]
        for r in session.execute(
            select(Event.site_id, func.count(Event.id))
            .where(Event.site_id.in_(ids))
            .group_by(Event.site_id)
        )
    }

    def aware(value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    out = {}
    for i in ids:
        n, first, last, processed, usable = scenes.get(i, (0, None, None, 0, 0))
        out[i] = SiteStats(
            scenes=int(n or 0),
            processed=int(processed or 0),
            usable=int(usable or 0),
            first=aware(first),
            last=aware(last),
            alerts=int(alerts.get(i) or 0),
            events=int(events.get(i) or 0),
        )
    return out


def open_alerts_by_severity(session: Session, sites: Sequence[Site]) -> dict[int, dict[str, int]]:
    """The number of open alerts (active, and not acknowledged or changed since they
    were acknowledged: :func:`open_alert_sql`) of each of ``sites`` by severity, from one
    grouped query; a site without any maps to ``{}``."""
    ids = [s.id for s in sites]
    out: dict[int, dict[str, int]] = {i: {} for i in ids}
    if not ids:
        return out
    for site_id, sev, n in session.execute(
        select(Alert.site_id, Alert.severity, func.count(Alert.id))
        .where(Alert.site_id.in_(ids), Alert.active.is_(True), open_alert_sql())
        .group_by(Alert.site_id, Alert.severity)
    ):
        out[site_id][str(sev)] = int(n)
    return out


@dataclass(frozen=True)
class SiteRemoval:
    """What removing a site deleted; ``reviews``: the analyst's reviews of its scenes
    (counts made by hand, images declared unusable), which the question before the
    removal counts (session 36: ``site remove --json`` left them out)."""

    scenes: int
    detections: int
    counts: int
    events: int
    alerts: int
    reviews: int = 0


def remove_site(session: Session, name: SiteRef) -> SiteRemoval:
    """Delete a site and everything that belongs to it (database cascades).

    Callers hold ``pipeline.removal_lock`` (no processing run on the site). The site's
    row is deleted first, which locks it, and the cascades then delete its alerts, scenes
    and the rest: on PostgreSQL an analysis storing the site's alerts holds that row
    ``FOR KEY SHARE`` from its start (``analysis.store._hold_site``), so the delete waits
    for it to end, and an analysis starting meanwhile waits for the removal (the lock
    order in ``railwatch.pipeline``'s docstring; session 32). The other writers of the
    site's rows that take no advisory lock (a new image or event, an event's change, a
    scene's review, an import of reviews) hold the row the same way (:func:`hold_site`)."""
    site = get_site(session, name)
    scene_ids = select(Scene.id).where(Scene.site_id == site.id).scalar_subquery()
    removal = SiteRemoval(
        scenes=session.scalar(select(func.count(Scene.id)).where(Scene.site_id == site.id)) or 0,
        detections=session.scalar(
            select(func.count(Detection.id)).where(Detection.scene_id.in_(scene_ids))
        )
        or 0,
        counts=session.scalar(select(func.count(Count.id)).where(Count.scene_id.in_(scene_ids)))
        or 0,
        events=session.scalar(select(func.count(Event.id)).where(Event.site_id == site.id)) or 0,
        alerts=session.scalar(select(func.count(Alert.id)).where(Alert.site_id == site.id)) or 0,
        reviews=session.scalar(
            select(func.count(SceneReview.id)).where(SceneReview.scene_id.in_(scene_ids))
        )
        or 0,
    )
    session.delete(site)
    session.flush()
    return removal


# ---------------------------------------------------------------------------- scenes


def find_scene_by_hash(session: Session, site: SiteRef, content_hash: str) -> Scene | None:
    """The scene of ``site`` with this content hash, if any."""
    s = get_site(session, site)
    return session.scalar(
        select(Scene).where(Scene.site_id == s.id, Scene.content_hash == content_hash)
    )


def find_scenes_by_uri(session: Session, site: SiteRef, uris: Iterable[str]) -> list[Scene]:
    """The scenes of ``site`` whose ``uri`` is one of ``uris``, oldest first: the same
    image reached by another route (a second STAC item with the same asset href, a file
    ingested both from STAC and by ``railwatch ingest``), see ``docs/storage.md``."""
    wanted = sorted(set(uris))
    if not wanted:
        return []
    s = get_site(session, site)
    q = select(Scene).where(Scene.site_id == s.id, Scene.uri.in_(wanted))
    return list(session.scalars(q.order_by(Scene.id)))


def add_scene(
    session: Session, site: SiteRef, info: SceneInfoLike, coverage: float
) -> tuple[Scene, bool]:
    """Record a scene once per (site, content hash); returns ``(scene, created)``.

    The site's row is held first (:func:`hold_site`): a removal of the site during an
    ingest waits for the scene's transaction, and one that began before says the site
    was removed (before session 32 the insert waited for the removal on its foreign key
    check and failed with a raw foreign key violation)."""
    s = hold_site(session, site, "an image was being recorded for it")
    existing = find_scene_by_hash(session, s, info.content_hash)
    if existing is not None:
        return existing, False
    if info.acquired.tzinfo is None:
        raise InputError(f"scene {info.uri} has an acquisition time without a timezone")
    if not 0.0 <= coverage <= 1.0:
        raise InputError(f"scene coverage must be between 0 and 1, got {coverage}")
    scene = Scene(
        site_id=s.id,
        uri=info.uri,
        content_hash=info.content_hash,
        acquired_at=info.acquired,
        crs=info.crs,
        footprint_wkb=to_wkb(info.footprint),
        gsd=float(info.gsd),
        width=int(info.width),
        height=int(info.height),
        band_count=int(info.band_count),
        dtype=str(info.dtype),
        sensor=info.sensor,
        coverage=float(coverage),
        mask_uri=info.mask_uri,
        date_source=info.date_source,
        meta=_jsonable(dict(info.metadata)),
        ingested_at=utcnow(),
        status="ingested",
        reasons=[],
    )
    try:
        with session.begin_nested():  # only this row is undone if the insert collides
            session.add(scene)
            session.flush()
    except IntegrityError:
        # Another process recorded the same file between the look-up and the insert
        # (two ingests of one folder at once on PostgreSQL; SQLite writers take turns):
        # it is already ingested, not a failure.
        existing = find_scene_by_hash(session, s, info.content_hash)
        if existing is None:
            raise
        return existing, False
    return scene, True


def _jsonable(value: object) -> object:
    """Metadata made JSON-safe (numpy scalars, datetimes, tuples)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    item = getattr(value, "item", None)
    if callable(item):
        return _jsonable(item())
    return str(value)


def get_scene(session: Session, scene_id: int) -> Scene:
    """The scene with this id."""
    scene = session.get(Scene, scene_id) if is_record_id(scene_id) else None
    if scene is None:
        raise NotFoundError(f"no scene with id {scene_id}: see `railwatch scene list SITE`")
    return scene


def list_scenes(
    session: Session,
    site: SiteRef,
    *,
    usable_only: bool = False,
    status: str | Sequence[str] | None = None,
) -> list[Scene]:
    """Scenes of a site by acquisition time; ``usable_only`` keeps processed usable ones."""
    s = get_site(session, site)
    q = select(Scene).where(Scene.site_id == s.id)
    if usable_only:
        q = q.where(Scene.usable.is_(True))
    if status is not None:
        q = q.where(Scene.status.in_([status] if isinstance(status, str) else list(status)))
    return list(session.scalars(q.order_by(Scene.acquired_at, Scene.id)))


def scene_page(
    session: Session,
    site: SiteRef,
    *,
    status: str | Sequence[str] | None = None,
    usable: bool | None = None,
    limit: int,
    offset: int = 0,
) -> tuple[list[Scene], int]:
    """One page of :func:`list_scenes` (same order), read in SQL, and how many scenes
    match in all. ``usable`` keeps the scenes whose ``usable`` flag is true (or not:
    false or never judged). Only the page's rows are loaded (a site of 5,000 scenes
    read them all for each page of 100)."""
    s = get_site(session, site)
    cond = [Scene.site_id == s.id]
    if status is not None:
        cond.append(Scene.status.in_([status] if isinstance(status, str) else list(status)))
    if usable is True:
        cond.append(Scene.usable.is_(True))
    elif usable is False:
        cond.append(or_(Scene.usable.is_(False), Scene.usable.is_(None)))
    total = int(session.scalar(select(func.count(Scene.id)).where(*cond)) or 0)
    rows = session.scalars(
        select(Scene).where(*cond).order_by(Scene.acquired_at, Scene.id).limit(limit).offset(offset)
    )
    return list(rows), total


@dataclass(frozen=True)
class SceneRemoval:
    """What removing one scene deletes (:func:`scene_removal`) or deleted
    (:func:`remove_scenes`; 2026-12-06, session 41): the scene's rows and what is its
    alone (its detections, counts and the analyst's review, the database's cascades),
    and the alerts that cite it (``Alert.scene_id``): the unacknowledged ones are
    deleted (``alerts_removed``), as a re-analysis deletes an alert it no longer
    raises; the acknowledged ones are kept, retired (``active`` false) with their
    acknowledgement and note, as a re-analysis keeps them (``alerts_retired``; their
    ``scene_id`` becomes null, the foreign key's ``ON DELETE SET NULL``). The image
    file is never touched."""

    scene_id: int
    site: str
    uri: str
    acquired_at: datetime
    status: str
    detections: int
    counts: int
    reviews: int
    alerts_removed: tuple[int, ...] = ()
    alerts_retired: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """As JSON (``scene remove --json``; the API's ``SceneDeleted`` renames
        ``scene_id`` and gives the file's name for ``uri``)."""
        return {
            "scene_id": self.scene_id,
            "site": self.site,
            "uri": self.uri,
            "acquired_at": self.acquired_at.isoformat(),
            "status": self.status,
            "detections": self.detections,
            "counts": self.counts,
            "reviews": self.reviews,
            "alerts_removed": list(self.alerts_removed),
            "alerts_retired": list(self.alerts_retired),
        }


def scene_removal(session: Session, scene_id: int) -> SceneRemoval:
    """What :func:`remove_scenes` would delete of the scene ``scene_id`` (nothing is
    written); an unknown id is a :class:`NotFoundError` naming ``scene list``."""
    scene = get_scene(session, scene_id)
    cited = session.execute(
        select(Alert.id, Alert.acknowledged).where(Alert.scene_id == scene.id).order_by(Alert.id)
    ).all()
    return SceneRemoval(
        scene_id=scene.id,
        site=scene.site.name,
        uri=scene.uri,
        acquired_at=scene.acquired_at,
        status=scene.status,
        detections=session.scalar(
            select(func.count(Detection.id)).where(Detection.scene_id == scene.id)
        )
        or 0,
        counts=session.scalar(select(func.count(Count.id)).where(Count.scene_id == scene.id)) or 0,
        reviews=session.scalar(
            select(func.count(SceneReview.id)).where(SceneReview.scene_id == scene.id)
        )
        or 0,
        alerts_removed=tuple(int(i) for i, acked in cited if not acked),
        alerts_retired=tuple(int(i) for i, acked in cited if acked),
    )


def remove_scenes(session: Session, scene_ids: Sequence[int]) -> list[SceneRemoval]:
    """Delete the scenes ``scene_ids`` and what belongs to them alone, all in the
    session's transaction (all or none), and return what went (:class:`SceneRemoval`,
    in the order given; an id given twice counts once). An unknown id is a
    :class:`NotFoundError` and nothing is deleted. The image files are not touched; the
    same file ingested again is a new scene (a new id: ids are never reused).

    Callers hold ``pipeline.removal_lock`` of each scene's site (no processing run of
    it). Lock order (``railwatch.pipeline``'s docstring): each site's row ``FOR NO KEY
    UPDATE`` in ascending id (as an analysis' writing session holds it: the two take
    turns, so alerts are never stored from a series that still had the scene), then the
    sites' alerts in ascending id (as the analysis locks them), then the scenes in
    ascending id, deleted. Alerts citing a scene: see :class:`SceneRemoval`. The other
    alerts of the site were judged on a series with the scene: ``railwatch analyze
    SITE`` judges them again."""
    wanted = list(dict.fromkeys(int(i) for i in scene_ids))
    sites: dict[int, int] = {}
    for scene_id in wanted:
        sites[scene_id] = get_scene(session, scene_id).site_id  # unknown: NotFoundError
    for site_id in sorted(set(sites.values())):
        held = session.scalar(
            select(Site.id).where(Site.id == site_id).with_for_update(key_share=True)
        )
        if held is None:
            raise NotFoundError(
                "the site of the scenes was removed meanwhile (by another railwatch command "
                "or the dashboard): nothing was removed"
            )
    alerts = list(
        session.scalars(
            select(Alert)
            .where(Alert.site_id.in_(sorted(set(sites.values()))))
            .order_by(Alert.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    removals: dict[int, SceneRemoval] = {}
    now = utcnow()
    with session.begin_nested():
        for scene_id in sorted(wanted):
            if lock_scene_if_there(session, scene_id) is None:
                raise NotFoundError(
                    f"scene {scene_id} was removed meanwhile (by another railwatch command "
                    "or the dashboard): nothing was removed"
                )
            removals[scene_id] = scene_removal(session, scene_id)
        for row in alerts:
            if row.scene_id not in removals:
                continue
            if row.acknowledged:  # kept as a re-analysis keeps it: retired, note and all
                row.active = False
                row.scene_id = None
                row.updated_at = now
            else:
                session.delete(row)
        session.flush()
        for scene_id in sorted(wanted):
            session.execute(delete(Scene).where(Scene.id == scene_id))  # cascades
        session.flush()
    for scene_id in wanted:  # nothing the session holds stands for a deleted row
        scene = session.get(Scene, scene_id)
        if scene is not None:
            session.expunge(scene)
    return [removals[i] for i in wanted]


#: Key of a scene's registration record in its metadata (``record_scene_result``).
REGISTRATION_KEY = "railwatch:registration"
#: Key of a coarse count's track record in a scene's metadata: ``tracks`` (``given``, the
#: site's centrelines, or ``found`` in the image), ``track_m`` (metres of track read)
#: and, for a length count since session 30, ``occupied``: the stretches read as
#: occupied, each ``{"length_m": M, "coordinates": [[lon, lat], ...]}``
#: (:func:`occupied_runs_of`).
COARSE_KEY = "railwatch:coarse"
#: Key of the references a coarse scene's result was read with, in its metadata
#: (``record_scene_result``; since 2026-12-05, session 31): one object per reference
#: read, as ``pipeline.reference_fingerprint`` records what ``pipeline`` compares to
#: tell whether a reference changed, for ``railwatch process`` to count the scene again
#: when one of them changed or was removed since.
REFERENCES_KEY = "railwatch:references"
#: Key of how a count by objects' interval was made, in its scene's metadata
#: (``record_scene_result``; since 2026-12-07, session 51): ``{"recall_sd_assumed":
#: true}`` where it rests on an assumed scene-to-scene spread of recall of the detector's
#: calibration (``counting.SceneCount.spread_assumed``), false where measured; absent
#: without a calibration, for another method, or for a scene counted before
#: (:func:`spread_assumed_of`).
INTERVAL_KEY = "railwatch:interval"


def spread_assumed_of(meta: Mapping[str, Any] | None) -> bool | None:
    """Whether a scene's count by objects has intervals that rest on an assumed
    scene-to-scene spread of recall (:data:`INTERVAL_KEY` of its metadata ``meta``): True
    assumed, False measured, None not known (no calibration, another method, counted
    before session 51: the card it was counted with was not kept)."""
    interval = (meta or {}).get(INTERVAL_KEY)
    flag = interval.get("recall_sd_assumed") if isinstance(interval, dict) else None
    return flag if isinstance(flag, bool) else None


def _coarse_meta(
    counts: SceneCountLike | None, occupied: Sequence[OccupiedRun] = ()
) -> dict[str, Any] | None:
    """What a length or presence count read (:data:`COARSE_KEY`); None for any other.
    ``occupied``: a length count's runs in WGS84."""
    if counts is None or counts.method not in ("length", "presence"):
        return None
    tracks = getattr(counts, "tracks", None)
    track_m = getattr(counts, "track_m", None)
    if tracks is None and track_m is None:
        return None
    meta: dict[str, Any] = {
        "tracks": tracks,
        "track_m": None if track_m is None else round(float(track_m), 1),
    }
    if counts.method == "length":
        meta["occupied"] = [
            {
                "length_m": round(float(run.length_m), 2),
                "coordinates": [[round(x, 7), round(y, 7)] for x, y in run.coords],
            }
            for run in occupied
        ]
    return meta


def tracks_read(meta: Mapping[str, Any] | None) -> str | None:
    """Where a coarse count's track lines came from, as :data:`COARSE_KEY` in a scene's
    metadata ``meta`` records it: ``given`` (the site's centrelines) or ``found`` (lines
    found in the image itself, far less accurate); None when it records none. The one
    reader of it for the report, the export, ``scene list`` and ``analyze`` (session 48)."""
    coarse = (meta or {}).get(COARSE_KEY)
    tracks = coarse.get("tracks") if isinstance(coarse, dict) else None
    return tracks if isinstance(tracks, str) else None


def occupied_runs_of(scene: Scene) -> tuple[OccupiedRun, ...] | None:
    """The stretches of track a length count of ``scene`` read as occupied (WGS84
    lon/lat), as :func:`record_scene_result` kept them; None when none were kept (not a
    length count, or one recorded before session 30: the next ``railwatch process``
    records them), an empty tuple when the count read no occupied track."""
    coarse = (scene.meta or {}).get(COARSE_KEY)
    runs = coarse.get("occupied") if isinstance(coarse, dict) else None
    if not isinstance(runs, list):
        return None
    out = []
    for run in runs:
        try:
            coords = tuple((float(x), float(y)) for x, y in run["coordinates"])
            out.append(OccupiedRun(coords, float(run["length_m"])))
        except (KeyError, TypeError, ValueError):
            continue  # a hand-edited entry: not drawn
    return tuple(out)


def record_scene_result(
    session: Session,
    scene_id: int,
    quality: QualityLike,
    detections: Sequence[DetectionRecord],
    counts: SceneCountLike | None,
    detector: str,
    version: str,
    *,
    registration: dict[str, Any] | None = None,
    occupied: Sequence[OccupiedRun] = (),
    references: Sequence[Mapping[str, Any]] = (),
) -> Scene:
    """Replace a scene's quality, detections and counts, all or nothing (a SAVEPOINT).
    ``registration`` (how a coarse scene was registered to its site's other images,
    :meth:`railwatch.imagery.register.Registration.to_meta`) is kept in the scene's
    metadata under ``railwatch:registration``; None removes an earlier one. So are
    ``references``, the references the result was read with (:data:`REFERENCES_KEY`;
    none: an earlier record removed), and whether a count by objects' interval rests on
    an assumed spread of recall (:data:`INTERVAL_KEY`, from ``counts.spread_assumed``;
    not known: an earlier record removed). A length or
    presence count's track record (lines given or found, metres read) goes under
    :data:`COARSE_KEY`, with a length count's ``occupied`` runs (WGS84).

    An unusable scene (``quality.usable`` false) keeps its quality and reasons but no
    counts or detections: it is a gap, never a zero.
    """
    if len(detector) > DETECTOR_NAME_MAX:
        # not cut: the name decides which scenes are up to date (session 41; PostgreSQL
        # said "value too long for type character varying(128)", SQLite stored it whole)
        raise StorageError(
            f"the detector's name {detector[:60]!r}... is {len(detector)} characters; "
            f"the database keeps at most {DETECTOR_NAME_MAX}: give the detector a "
            "shorter name (its `name` attribute)"
        )
    scene = lock_scene(session, scene_id)
    if quality.usable and counts is None:
        raise StorageError(f"scene {scene_id} is usable but no counts were given to record")
    if unusable_reason(get_scene_review(session, scene_id)) is not None:
        # an analyst declared it unusable while a run read it: their verdict stands
        return scene
    with session.begin_nested():
        session.execute(delete(Detection).where(Detection.scene_id == scene_id))
        session.execute(delete(Count).where(Count.scene_id == scene_id))
        scene.clear_fraction = float(quality.clear_fraction)
        scene.quality_coverage = float(quality.coverage)
        scene.cloud_fraction = float(quality.cloud_fraction)
        scene.haze_fraction = float(quality.haze_fraction)
        scene.snow_fraction = float(quality.snow_fraction)
        scene.nodata_fraction = float(quality.nodata_fraction)
        scene.usable = bool(quality.usable)
        scene.reasons = list(quality.reasons)
        scene.quality_source = quality.source
        scene.detector = detector
        scene.detector_version = version
        scene.processed_at = utcnow()
        scene.error = None
        scene.status = "processed" if quality.usable else "unusable"
        meta = {
            k: v
            for k, v in (scene.meta or {}).items()
            if k not in (REGISTRATION_KEY, COARSE_KEY, REFERENCES_KEY, INTERVAL_KEY)
        }
        if registration is not None:
            meta[REGISTRATION_KEY] = registration
        assumed = getattr(counts, "spread_assumed", None) if quality.usable else None
        if isinstance(assumed, bool):
            meta[INTERVAL_KEY] = {"recall_sd_assumed": assumed}
        if references:
            meta[REFERENCES_KEY] = [dict(ref) for ref in references]
        coarse = _coarse_meta(counts, occupied) if quality.usable else None
        if coarse is not None:
            meta[COARSE_KEY] = coarse
        scene.meta = meta
        if quality.usable and counts is not None:
            if detections:
                session.connection().execute(
                    insert(_table(Detection)), _detection_rows(scene_id, detections)
                )
            session.connection().execute(
                insert(_table(Count)), _count_rows(scene_id, counts, detector, version)
            )
            review = get_scene_review(session, scene_id)
            if review is not None and review.content_hash == scene.content_hash:
                review.machine = {}  # the rows just written are the detector's
                _apply_review(session, scene_id, review)
        session.flush()
    return scene


def _table(model: type[Detection] | type[Count] | type[Alert]) -> Table:
    """The Core table of a model (bulk inserts skip the ORM's per-row work)."""
    table = model.__table__
    if not isinstance(table, Table):  # pragma: no cover - declarative models map tables
        raise StorageError(f"{model.__name__} is not mapped to a table")
    return table


def _detection_rows(
    scene_id: int, detections: Sequence[DetectionRecord]
) -> list[dict[str, object]]:
    """Plain rows for a bulk insert (geometries converted to WKB in one vectorised call)."""
    wgs = shapely.to_wkb(
        np.array([d.polygon for d in detections], dtype=object), output_dimension=2, byte_order=1
    )
    native = shapely.to_wkb(
        np.array([d.native_polygon for d in detections], dtype=object),
        output_dimension=2,
        byte_order=1,
    )
    return [
        {
            "scene_id": scene_id,
            "cls": d.cls,
            "score": float(d.score),
            "covered": bool(d.covered),
            "covered_score": float(d.covered_score),
            "inside": bool(d.inside),
            "geometry_wkb": bytes(w),
            "native_wkb": bytes(n),
            "native_crs": d.native_crs,
        }
        for d, w, n in zip(detections, wgs, native, strict=True)
    ]


def _count_rows(
    scene_id: int, counts: SceneCountLike, detector: str, version: str
) -> list[dict[str, object]]:
    base = {
        "scene_id": scene_id,
        "method": counts.method,
        "coverage": float(counts.coverage),
        "detector": detector,
        "version": version,
    }
    rows: list[dict[str, object]] = [
        {**base, "cls": "all", "count": counts.total, "low": counts.low, "high": counts.high}
    ]
    for cls, (n, lo, hi) in sorted(counts.by_class.items()):
        if cls in ("all", "covered"):
            continue
        rows.append({**base, "cls": cls, "count": float(n), "low": float(lo), "high": float(hi)})
    if tells_class("covered", counts.method):  # else unknown, not 0
        cov = float(counts.covered)
        rows.append({**base, "cls": "covered", "count": cov, "low": cov, "high": cov})
    return rows


def set_scene_bands(session: Session, scene_id: int, bands: tuple[int, int, int]) -> bool:
    """Record ``bands`` (1-based red, green, blue) as the scene's colour bands; True when
    that changed them. A scene already processed with other bands loses its detections
    and counts and is pending again (``railwatch process`` reads it anew). The scene is
    locked and read as committed (:func:`lock_scene`): a result recorded meanwhile is
    seen, not written over with an old copy of its metadata."""
    scene = lock_scene(session, scene_id)
    meta = dict(scene.meta or {})
    if meta.get("rgb_bands") == list(bands):
        return False
    reviewed_unusable = unusable_reason(get_scene_review(session, scene_id)) is not None
    with session.begin_nested():
        meta["rgb_bands"] = list(bands)
        if scene.status != "ingested" and not reviewed_unusable:
            meta.pop(COARSE_KEY, None)  # what the removed count read goes with it
        scene.meta = meta
        if scene.status != "ingested" and not reviewed_unusable:  # the analyst's verdict stays
            session.execute(delete(Detection).where(Detection.scene_id == scene_id))
            session.execute(delete(Count).where(Count.scene_id == scene_id))
            scene.status = "ingested"
            scene.usable = None
            scene.error = None
        session.flush()
    return True


def mark_scene_failed(session: Session, scene_id: int, error: str) -> Scene:
    """Record that processing a scene failed (its previous results are removed, with
    what a removed coarse count read: its occupied stretches are not drawn for it). A
    scene an analyst declared unusable (:func:`set_scene_unusable_review`) stays so."""
    scene = get_scene(session, scene_id)
    with session.begin_nested():
        session.execute(delete(Detection).where(Detection.scene_id == scene_id))
        session.execute(delete(Count).where(Count.scene_id == scene_id))
        if COARSE_KEY in (scene.meta or {}):
            scene.meta = {k: v for k, v in scene.meta.items() if k != COARSE_KEY}
        if unusable_reason(get_scene_review(session, scene_id)) is not None:
            session.flush()
            return scene
        scene.status = "failed"
        scene.error = error
        scene.usable = None
        scene.processed_at = utcnow()
        session.flush()
    return scene


# ---------------------------------------------------------------------------- reviews


def lock_scene(session: Session, scene_id: int) -> Scene:
    """The scene, its row locked until the transaction ends (PostgreSQL; SQLite's one
    writer at a time already keeps a review and a processing run of it apart) and read
    as last committed, also when the session had read it before: a review and the
    scene's processing each rewrite its count rows, and must not interleave; and what
    is checked before a write (``pipeline.record_outcome``: the scene's mask, file
    stamp, item scales) must be what the write is made over. Before session 30 the row
    was locked but the scene kept as the session had first read it, so another writer's
    commit in between was written over."""
    scene = lock_scene_if_there(session, scene_id)
    if scene is None:
        raise NotFoundError(f"no scene with id {scene_id}: see `railwatch scene list SITE`")
    return scene


def lock_scene_if_there(session: Session, scene_id: int) -> Scene | None:
    """:func:`lock_scene`, or None when there is no such scene (removed meanwhile: a
    writer with nothing to do then, such as ``pipeline``'s recording of a reference's
    renewed stamps).

    PostgreSQL's ``FOR NO KEY UPDATE`` (no writer changes a scene's id): writers of the
    scene wait for each other (an ``UPDATE`` or another such lock), but an alert, count or
    detection inserted with the scene's id (its foreign key check, a key-share lock)
    does not wait for it, nor it for them: with ``FOR UPDATE`` (before session 32) an
    analysis storing alerts on two scenes and a recording locking both could deadlock
    (the lock order: ``railwatch.pipeline``'s docstring)."""
    if not is_record_id(scene_id):
        return None
    return session.scalar(
        select(Scene)
        .where(Scene.id == scene_id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE
        .execution_options(populate_existing=True)
    )


def get_scene_review(session: Session, scene_id: int) -> SceneReview | None:
    """The analyst's review of a scene, or None."""
    if not is_record_id(scene_id):
        return None
    return session.scalar(select(SceneReview).where(SceneReview.scene_id == scene_id))


#: How the reason of a scene an analyst declared unusable begins (``Scene.reasons``).
UNUSABLE_BY_REVIEW = "unusable by analyst review: "


def usable_processed(usable: bool | None, status: str) -> bool:
    """Whether an image's counts stand: processed and judged usable over its site. The
    one rule of the count series (:func:`_series_point`), the report's rows
    (``report.data``) and the exports; an unusable image is never an empty yard."""
    return bool(usable) and status == "processed"


def coverage_shown(quality_coverage: float | None, coverage: float | None) -> float | None:
    """The share of the site an image covers as railwatch shows and judges it: the
    quality's (nodata and cut lines counted) before the footprint's."""
    return quality_coverage if quality_coverage is not None else coverage


def unusable_reason(review: SceneReview | None) -> str | None:
    """The analyst's reason when ``review`` declares its scene unusable
    (:func:`set_scene_unusable_review`: a review without counts, its note the reason),
    else None (no review, or a count)."""
    if review is None or review.counts:
        return None
    return review.note or "no reason given"


def declared_unusable(scene: Any) -> bool:
    """Whether ``scene`` (a Scene, or a row with its ``status`` and ``quality_source``)
    stands declared unusable by an analyst (:func:`set_scene_unusable_review`): its
    verdict is the analyst's, so the outputs mark it ``reviewed`` (session 36: false in
    ``scene list --json`` and the API's series, blank in the export's counts table)."""
    return getattr(scene, "status", None) == "unusable" and (
        getattr(scene, "quality_source", None) == ANALYST
    )


def reviewed_unusable_ids(session: Session, site: SiteRef) -> set[int]:
    """The scenes of ``site`` an analyst declared unusable (``railwatch process`` skips
    them: :func:`set_scene_unusable_review`). Read in one statement; the test is made
    here, as JSON columns do not compare alike on SQLite and PostgreSQL."""
    s = get_site(session, site)
    rows = session.execute(
        select(SceneReview.scene_id, SceneReview.counts)
        .join(Scene, SceneReview.scene_id == Scene.id)
        .where(Scene.site_id == s.id)
    )
    return {scene_id for scene_id, counts in rows if not counts}


def _stored_counts(session: Session, scene_id: int) -> dict[str, Count]:
    return {c.cls: c for c in session.scalars(select(Count).where(Count.scene_id == scene_id))}


def _apply_review(session: Session, scene_id: int, review: SceneReview) -> bool:
    """Make the scene's count rows of the review's classes the analyst's (the rows they
    replace go to ``review.machine``); False when the scene has no counts (not usable
    now), when nothing is applied. Classes the scene's counting method cannot tell (a
    type at 3 m, after the scene was processed again at another resolution) are left."""
    rows = _stored_counts(session, scene_id)
    total = rows.get("all")
    if total is None:
        return False
    machine = dict(review.machine or {})
    if total.detector == ANALYST:
        before = machine.get("all") or {}
        method = str(before.get("method", total.method))
    else:
        method = total.method
    applied = {
        cls: n for cls, n in review.counts.items() if tells_class(cls, method) and cls != "all"
    }
    applied["all"] = review.counts["all"]
    rest = _untyped_rest(rows, applied, method)
    if rest is not None:
        applied[GENERIC_CLASS] = rest
    for cls in applied:
        row = rows.get(cls)
        if row is None:
            machine.setdefault(cls, None)  # the detector found none of it
            continue
        if row.detector != ANALYST:
            machine[cls] = {
                "count": row.count,
                "low": row.low,
                "high": row.high,
                "method": row.method,
                "detector": row.detector,
                "version": row.version,
            }
        session.delete(row)
    session.flush()
    for cls, n in applied.items():
        session.add(
            Count(
                scene_id=scene_id,
                cls=cls,
                count=float(n),
                low=float(n),
                high=float(n),
                method=method,
                coverage=total.coverage,
                detector=ANALYST,
                version="review",
            )
        )
    review.machine = machine
    session.flush()
    return True


def _untyped_rest(
    rows: Mapping[str, Count], applied: Mapping[str, float], method: str
) -> float | None:
    """The analyst's ``railcar`` (type unsure) count when the review gives none: the
    cars of its total that no type accounts for, the types it gives and those kept from
    the detector, so that the classes still add up to the total and the total replaces
    the detector's untyped cars. None (the detector's row, if any, stays) when the review
    gives ``railcar``, when the counting method tells no type (track length), when the
    types alone exceed the total (processed again, the detector's types can), and when
    the detector counted no untyped car: a ``railcar`` series is not begun from the
    analyst's total alone (review r1: a total above the types then raised a spike of
    ``railcar`` against its usual 0, a number the analyst never gave). Until 2026-12-06
    (session 37) the detector's untyped count was always kept: a total below it was
    refused (``--count 9`` on a scene read as 10 untyped cars)."""
    from railwatch.detect.base import CAR_CLASSES

    if GENERIC_CLASS in applied or not tells_class(GENERIC_CLASS, method):
        return None
    typed = sum(applied.get(c, 0.0) for c in CAR_CLASSES) + sum(
        r.count
        for c, r in rows.items()
        if c in CAR_CLASSES and c not in applied and r.detector != ANALYST
    )
    rest = applied["all"] - typed
    if rest < 0 or GENERIC_CLASS not in rows:
        return None
    return rest


def _restore_machine(session: Session, scene_id: int, review: SceneReview) -> None:
    """Put back the detector's rows that ``review`` replaced (where it is applied)."""
    rows = _stored_counts(session, scene_id)
    analyst = [r for r in rows.values() if r.detector == ANALYST]
    if not analyst:
        return
    coverage = analyst[0].coverage
    for row in analyst:
        session.delete(row)
    session.flush()
    for cls, m in (review.machine or {}).items():
        if m is None or (cls in rows and rows[cls].detector != ANALYST):
            continue
        session.add(
            Count(
                scene_id=scene_id,
                cls=cls,
                count=float(m["count"]),
                low=float(m["low"]),
                high=float(m["high"]),
                method=str(m["method"]),
                coverage=coverage,
                detector=str(m["detector"]),
                version=str(m["version"]),
            )
        )
    session.flush()


def _review_method(session: Session, scene: Scene) -> str:
    """The counting method of a scene that may be reviewed, or a clear refusal."""
    declared = unusable_reason(get_scene_review(session, scene.id))
    if declared is not None:
        raise InputError(
            f"scene {scene.id} is unusable by your review ({declared}): to count it, "
            f"remove that review (`railwatch scene review {scene.id} --remove`), run "
            f"`railwatch process {scene.site.name}`, then give your count"
        )
    if scene.status != "processed" or not scene.usable:
        state = "unusable" if scene.status == "unusable" else scene.status
        why = (
            f" ({'; '.join(scene.reasons)})" if scene.status == "unusable" and scene.reasons else ""
        )
        if scene.status == "unusable":
            todo = (
                "an unusable scene stays a gap in the series, never a count: look for a "
                "clearer image of the same days (`railwatch scene list SITE`), or lower the "
                "usability threshold and process again if the site really is visible"
            )
        else:
            todo = f"run `railwatch process {scene.site.name}` first"
        raise InputError(
            f"scene {scene.id} is {state}{why}: only a processed, usable scene has counts to "
            f"review; {todo}"
        )
    total = _stored_counts(session, scene.id).get("all")
    method = "objects" if total is None else total.method
    if total is not None and total.detector == ANALYST:
        review = get_scene_review(session, scene.id)
        method = str(((review.machine if review else None) or {}).get("all", {}).get("method"))
    if is_presence(method):
        raise InputError(
            f"scene {scene.id} is a {scene.gsd:g} m image: at 10 m and coarser railwatch "
            "records only whether a long train is present, not a count of cars, so there "
            "is no count to correct"
        )
    return method


#: The least ground one railcar takes in a yard (m²): the shortest car (a 12 m tank
#: car) on tracks 4 m apart. An analyst's total above the site's area over this, with a
#: margin for cars whose centre is just inside its edge, cannot stand in the site: a
#: typo (a digit too many), refused before it becomes a count the alerts judge.
MIN_CAR_GROUND_M2 = 12.0 * 4.0


def review_count_limit(area_km2: float) -> int:
    """The most railcars an analyst's count of a site of ``area_km2`` may give."""
    return math.ceil(1.5 * area_km2 * 1e6 / MIN_CAR_GROUND_M2) + 20


def _check_fits_site(total: float, site: Site, scene_id: int) -> None:
    limit = review_count_limit(site.area_km2)
    if total > limit:
        raise InputError(
            f"{total:g} railcars cannot stand in site {site.name!r} ({site.area_km2 * 100:.2f} "
            f"ha holds at most about {limit}, 12 m cars on tracks 4 m apart): check the count "
            f"of scene {scene_id} (a digit too many?)"
        )


def _checked_review_counts(
    counts: Mapping[str, float], method: str, scene_id: int
) -> dict[str, float]:
    """The analyst's counts, checked: known classes, ``all`` given, whole non-negative
    numbers (car equivalents may be fractional at 3 m), no part above the whole."""
    from railwatch.detect.base import ALL_CLASSES, CAR_CLASSES

    known = ("all", "covered", *ALL_CLASSES)
    out: dict[str, float] = {}
    for cls, value in counts.items():
        if cls not in known:
            raise InputError(
                f"{cls!r} is not a class railwatch counts: give all (the total), covered or "
                f"one of {', '.join(ALL_CLASSES)}"
            )
        n = float(value)
        if not math.isfinite(n) or n < 0:
            raise InputError(f"the count of {cls} must be a number >= 0, not {value!r}")
        if method == "objects" and n != int(n):
            raise InputError(
                f"the count of {cls} must be a whole number of cars, not {value!r} (scene "
                f"{scene_id}'s cars are counted one by one)"
            )
        out[cls] = n
    if "all" not in out:
        raise InputError("give the total count of railcars (all of them, every type)")
    parts = [c for c in out if c != "all"]
    if parts and not tells_class(parts[0], method):
        raise InputError(
            f"scene {scene_id} is counted from occupied track length (car equivalents, "
            f"1.5-10 m imagery): it tells no type nor covered loads, so give only the total, not "
            f"{', '.join(parts)}"
        )
    total = out["all"]
    # the numbers with the digits that make one more than the other (1234568 and 1234567
    # were "tank 1.23457e+06 is more than the total 1.23457e+06"; session 51, fuzzing)
    for cls in parts:
        if out[cls] > total:
            part, whole = said_numbers([out[cls], total], lambda v: v[0] > v[1])
            raise InputError(
                f"{cls} {part} is more than the total {whole}: the total counts every "
                f"car, of every type, so give a total of at least {part} or a {cls} "
                f"count of at most {whole}"
            )
    typed = sum(out.get(c, 0.0) for c in (*CAR_CLASSES, "railcar"))
    if typed > total:
        part, whole = said_numbers([typed, total], lambda v: v[0] > v[1])
        raise InputError(
            f"the classes given add up to {part}, more than the total {whole}: each car "
            f"has one class, so give a total of at least {part} or fewer cars of the types "
            "(a car whose type you cannot tell counts as railcar, once)"
        )
    return out


def review_counts_of_cars(cars: Sequence[DetectionRecord]) -> dict[str, float]:
    """The counts an analyst's outlines give: the cars whose centre is in the site
    (``inside``), their covered loads and every class (0 where none; a car drawn without
    a type is a ``railcar``): the outlines are every car there is."""
    from railwatch.detect.base import ALL_CLASSES

    counted = [c for c in cars if c.inside]
    out: dict[str, float] = {
        "all": float(len(counted)),
        "covered": float(sum(bool(c.covered) for c in counted)),
    }
    for cls in ALL_CLASSES:
        out[cls] = float(sum(c.cls == cls for c in counted))
    return out


def _check_kept_counts(session: Session, scene_id: int, counts: Mapping[str, float]) -> None:
    """Refuse a total below what the detector's counts it keeps say (types and covered
    loads the analyst did not give): the series would hold more tanks than cars."""
    from railwatch.detect.base import ALL_CLASSES

    total = counts["all"]
    rows = _stored_counts(session, scene_id)
    kept = {
        cls: r.count
        for cls, r in rows.items()
        if cls not in counts and cls not in ("all", GENERIC_CLASS) and r.detector != ANALYST
    }
    typed = sum(counts.get(c, 0.0) for c in ALL_CLASSES) + sum(
        n for c, n in kept.items() if c in ALL_CLASSES
    )
    if typed > total:
        named = ", ".join(f"{c} {n:g}" for c, n in sorted(kept.items()) if c in ALL_CLASSES)
        (whole, _) = said_numbers([total, typed], lambda v: v[0] < v[1])
        raise InputError(
            f"the total {whole} is less than the types it would keep from the detector "
            f"({named}) and those given: give your count of each of those types too "
            "(--class CLASS=N, 0 for none)"
        )
    if kept.get("covered", 0.0) > total:
        whole, covered = said_numbers([total, kept["covered"]], lambda v: v[0] < v[1])
        raise InputError(
            f"the total {whole} is less than the detector's {covered} covered "
            "loads: give your count of covered loads too (--covered N)"
        )


def set_scene_review(
    session: Session,
    scene_id: int,
    counts: Mapping[str, float] | None = None,
    *,
    cars: Sequence[DetectionRecord] | None = None,
    note: str = "",
) -> SceneReview:
    """Record an analyst's count of a processed, usable scene, replacing an earlier one:
    either ``counts`` (``{"all": n, "covered": n, CLASS: n}``, the total required) or
    ``cars``, the outlines the analyst drew or kept (in the scene's CRS and WGS84,
    :class:`DetectionRecord`), whose counts are :func:`review_counts_of_cars`. The scene's
    count rows of those classes become the analyst's (interval: the count itself); the
    detector's are kept in the review and come back with :func:`remove_scene_review`.
    Processing the scene again keeps the analyst's counts (while its file is the one
    reviewed). All or nothing (a SAVEPOINT). The scene's site's row is held before the
    scene is locked (:func:`_hold_site_of_scene`)."""
    if (counts is None) == (cars is None):
        raise InputError("give either the counts or the cars' outlines, not both")
    _hold_site_of_scene(session, scene_id, f"scene {scene_id} was being reviewed")
    scene = lock_scene(session, scene_id)
    method = _review_method(session, scene)
    note = check_note(note, "a review note")
    if cars is not None:
        if method != "objects":
            raise InputError(
                f"scene {scene_id} ({scene.gsd:g} m) is counted from occupied track length: "
                "its cars are not separable, so give the total (car equivalents) instead of "
                "outlines"
            )
        counts = review_counts_of_cars(cars)
    assert counts is not None
    checked = _checked_review_counts(counts, method, scene_id)
    _check_fits_site(checked["all"], scene.site, scene_id)
    if checked["all"] == 0 and tells_class("covered", method):
        # an empty yard: none of any type and no covered load, nothing left to keep
        from railwatch.detect.base import ALL_CLASSES

        checked = {"all": 0.0, "covered": 0.0, **dict.fromkeys(ALL_CLASSES, 0.0)}
    with session.begin_nested():
        earlier = get_scene_review(session, scene_id)
        machine: dict[str, Any] = {}
        if earlier is not None:
            _restore_machine(session, scene_id, earlier)
            session.delete(earlier)
            session.flush()
        _check_kept_counts(session, scene_id, checked)
        review = SceneReview(
            scene_id=scene_id,
            counts=checked,
            machine=machine,
            cars=None if cars is None else [_car_json(c) for c in cars],
            native_crs=None if not cars else cars[0].native_crs,
            note=note,
            content_hash=scene.content_hash,
            reviewed_at=utcnow(),
        )
        session.add(review)
        session.flush()
        _apply_review(session, scene_id, review)
    return review


def _hold_site_of_scene(session: Session, scene_id: int, doing: str) -> None:
    """Hold the row of the site of the scene ``scene_id`` (:func:`hold_site`), when there
    is such a scene (else :func:`lock_scene` says there is none). A review locks one
    scene and writes rows of that scene only, so it cannot deadlock with the site's
    removal; held first, as the lock order has it, the site's row makes a review that
    comes after a removal began say that the site was removed (since session 32; it
    said "no scene with id N", as for a mistyped id)."""
    if not is_record_id(scene_id):
        return
    row = session.execute(
        select(Site.id, Site.name).join(Scene, Scene.site_id == Site.id).where(Scene.id == scene_id)
    ).first()
    if row is not None:
        _hold_site_row(session, row.id, repr(row.name), doing)


def _car_json(car: DetectionRecord) -> dict[str, Any]:
    def ring(poly: Any) -> list[list[float]]:
        return [[float(x), float(y)] for x, y in list(poly.exterior.coords)[:-1]]

    return {
        "cls": car.cls,
        "covered": bool(car.covered),
        "inside": bool(car.inside),
        "native": ring(car.native_polygon),
        "lonlat": ring(car.polygon),
    }


def remove_scene_review(session: Session, scene_id: int) -> SceneReview:
    """Remove the analyst's review of a scene and put the detector's counts back; the
    removed review is returned (its ``machine`` holds what came back). A scene the
    review declared unusable (:func:`set_scene_unusable_review`) is pending again: the
    next ``railwatch process`` reads it. The scene's site's row is held before the
    scene is locked (:func:`_hold_site_of_scene`)."""
    _hold_site_of_scene(session, scene_id, f"the review of scene {scene_id} was being removed")
    scene = lock_scene(session, scene_id)
    review = get_scene_review(session, scene_id)
    if review is None:
        raise NotFoundError(f"scene {scene_id} has no review to remove")
    with session.begin_nested():
        if unusable_reason(review) is not None:
            _back_to_processing(scene)
        else:
            _restore_machine(session, scene_id, review)
        session.delete(review)
        session.flush()
    return review


def _back_to_processing(scene: Scene) -> None:
    """A scene whose unusable review goes: pending again (``railwatch process`` reads
    it anew; the measures of an earlier quality check stay until then)."""
    scene.status = "ingested"
    scene.usable = None
    scene.reasons = []
    scene.error = None
    scene.processed_at = None
    if scene.quality_source == ANALYST:
        scene.quality_source = None
    if scene.detector == ANALYST:  # no one's verdict until processed again
        scene.detector, scene.detector_version = None, None


def set_scene_unusable_review(session: Session, scene_id: int, reason: str) -> SceneReview:
    """Record an analyst's judgement that a scene is unusable (clouds the quality check
    missed, the wrong place, a night image, a file corrupt at its source): a review
    without counts whose note is ``reason``. The scene becomes unusable with the reason
    ``"unusable by analyst review: REASON"`` (:data:`UNUSABLE_BY_REVIEW`), a gap in the
    series, never a zero: its detections and counts are removed, a count review it had is
    replaced, and an error it had (a failed scene) is cleared. ``railwatch process`` skips
    it (``pipeline.pending_jobs``), also with a new detector or ``--reprocess``, until
    :func:`remove_scene_review` makes it pending again. Any scene may be declared so,
    whatever its state, but one not counted only because its site has no track
    centrelines (:func:`railwatch.counting.needs_tracks`): its file is not at fault, and
    declared unusable it would be skipped once the site has them (2026-12-06, session 41:
    the dashboard offered it). All or nothing (a SAVEPOINT); the site's row is held
    first."""
    from railwatch.counting import needs_tracks

    _hold_site_of_scene(session, scene_id, f"scene {scene_id} was being reviewed")
    scene = lock_scene(session, scene_id)
    if scene.status == "failed" and needs_tracks(scene.error):
        raise InputError(
            f"scene {scene_id} is not counted because its site {scene.site.name!r} has no "
            "track centrelines, not because the image is bad (its file is not at fault): "
            "declared unusable, it would be skipped by processing even once the site has "
            "them. Give the site its track centrelines and process it again; if the image "
            "then shows nothing to count, declare it unusable"
        )
    reason = check_note(reason, "the reason an image is unusable")
    broken = next((i for i, ch in enumerate(reason) if ch in "\n\t"), None)
    if broken is not None:
        # it becomes the scene's reason, shown on one line (tables, CSV rows, the report);
        # check_note lets line breaks and tabs through (a note may have them)
        what = "a line break" if reason[broken] == "\n" else "a tab"
        raise InputError(
            f"the reason an image is unusable {reason[:40]!r} holds {what} at character "
            f"{broken + 1}: keep it on one line (it becomes the scene's reason)"
        )
    if not reason:
        raise InputError(
            'say why the image is unusable (e.g. "clouds over the yard", "not the site", '
            '"night image", "file corrupt at the source"): it becomes the scene\'s reason'
        )
    with session.begin_nested():
        earlier = get_scene_review(session, scene_id)
        if earlier is not None:
            session.delete(earlier)
            session.flush()
        session.execute(delete(Detection).where(Detection.scene_id == scene_id))
        session.execute(delete(Count).where(Count.scene_id == scene_id))
        if COARSE_KEY in (scene.meta or {}):
            scene.meta = {k: v for k, v in scene.meta.items() if k != COARSE_KEY}
        scene.status = "unusable"
        scene.usable = False
        scene.reasons = [UNUSABLE_BY_REVIEW + reason]
        scene.quality_source = ANALYST
        scene.detector, scene.detector_version = ANALYST, "review"  # whose verdict it is
        scene.error = None
        scene.processed_at = utcnow()
        review = SceneReview(
            scene_id=scene_id,
            counts={},
            machine={},
            cars=None,
            native_crs=None,
            note=reason,
            content_hash=scene.content_hash,
            reviewed_at=utcnow(),
        )
        session.add(review)
        session.flush()
    return review


#: A low-sun image (:attr:`ReviewCandidate.low_sun`) goes before the others without alerts
#: when it has at least this many cars: shadows come from cars, so a nearly empty yard's
#: count has little to gain from them.
LOW_SUN_MIN_CARS = 10


@dataclass(frozen=True)
class ReviewCandidate:
    """A scene worth an analyst's look (:func:`review_candidates`): its total count and
    interval (the detector's), and why: the alerts judged on it (``alerts``: ``(kind,
    severity, class)``, most severe first) or, without one, how wide its interval is
    against its count (``spread``: (high - low) / max(count, 1))."""

    scene_id: int
    when: datetime
    gsd: float
    count: float
    low: float
    high: float
    method: str
    alerts: tuple[tuple[str, str, str], ...]
    spread: float
    #: The sun's elevation (degrees) from the scene's metadata, None when it says none.
    sun_elevation: float | None = None

    @property
    def low_sun(self) -> bool:
        """Cars counted one by one in an image with the sun below
        :data:`railwatch.imagery.inspect.LOW_SUN_DEG`: long shadows may be counted."""
        from railwatch.imagery.inspect import is_low_sun

        return self.method == "objects" and is_low_sun(self.sun_elevation)


def review_candidates(session: Session, site: SiteRef, *, limit: int = 10) -> list[ReviewCandidate]:
    """The scenes of ``site`` an analyst should check first (``railwatch scene review``):
    usable, counted, not reviewed yet, and not 10 m presence images. First the images of
    active alerts above info (the most severe, then the newest, first): an alert rests on
    one count, and a wrong one raises or hides it; among equally severe ones those with
    an alert of the total, then those with more alerts. Then the others: first those whose
    cars (:data:`LOW_SUN_MIN_CARS` or more) were counted one by one with a low sun (long
    shadows may be counted as cars, :attr:`ReviewCandidate.low_sun`), then by how wide
    their interval is against their count (the detector least sure); newest first among
    equals."""
    from railwatch.analysis.types import SEVERITIES
    from railwatch.imagery.inspect import sun_of

    s = get_site(session, site)
    rows = session.execute(
        select(
            Scene.id,
            Scene.acquired_at,
            Scene.gsd,
            Count.count.label("n"),
            Count.low,
            Count.high,
            Count.method,
            Scene.meta,
        )
        .join(Count, (Count.scene_id == Scene.id) & (Count.cls == "all"))
        .where(
            Scene.site_id == s.id,
            Scene.status == "processed",
            Scene.usable.is_(True),
            Count.detector != ANALYST,
        )
    ).all()
    alerts: dict[int, list[tuple[str, str, str]]] = {}
    for a in session.execute(
        select(Alert.scene_id, Alert.kind, Alert.severity, Alert.cls).where(
            Alert.site_id == s.id,
            Alert.active.is_(True),
            Alert.severity != "info",
            Alert.scene_id.is_not(None),
        )
    ):
        alerts.setdefault(int(a.scene_id), []).append((a.kind, a.severity, a.cls))

    def rank(severity: str) -> int:
        return SEVERITIES.index(severity) if severity in SEVERITIES else 0

    out = []
    for r in rows:
        if is_presence(r.method):
            continue
        mine = sorted(alerts.get(r.id, []), key=lambda k: (-rank(k[1]), k[0], k[2]))
        out.append(
            ReviewCandidate(
                scene_id=r.id,
                when=r.acquired_at,
                gsd=r.gsd,
                count=r.n,
                low=r.low,
                high=r.high,
                method=r.method,
                alerts=tuple(mine),
                spread=(r.high - r.low) / max(r.n, 1.0),
                sun_elevation=sun[1] if (sun := sun_of(r.meta)) is not None else None,
            )
        )
    out.sort(
        key=lambda c: (
            -(rank(c.alerts[0][1]) if c.alerts else -1),
            not any(cls == "all" for _, _, cls in c.alerts),  # the total's alerts first
            -len(c.alerts),
            not (c.low_sun and c.count >= LOW_SUN_MIN_CARS) if not c.alerts else False,
            -c.spread if not c.alerts else 0.0,
            -c.when.timestamp(),
        )
    )
    return out[:limit]


def list_detections(
    session: Session, scene_id: int, *, inside_only: bool = False
) -> list[Detection]:
    """Detections of a scene."""
    if not is_record_id(scene_id):
        return []
    q = select(Detection).where(Detection.scene_id == scene_id)
    if inside_only:
        q = q.where(Detection.inside.is_(True))
    return list(session.scalars(q.order_by(Detection.id)))


def _method_of_gap(gsd: float | None) -> str:
    """The counting method an unusable scene of ``gsd`` would have been counted by
    (as the pipeline picks it, on the site grid rounded to the millimetre): its gap goes
    with that method's series (a 3 m gap is no gap of the 0.5 m counts)."""
    from railwatch.detect.coarse import method_for_gsd

    if gsd is None or not gsd > 0:
        return "objects"
    return method_for_gsd(round(float(gsd), 3))


def count_series(session: Session, site: SiteRef, *, cls: str = "all") -> list[CountPoint]:
    """The count history of one class: a point per processed scene, in time order.

    Unusable scenes are points with ``count=None, usable=False`` (gaps, never zeros).
    A usable scene without a row for ``cls`` counted none of that class (0); where its
    count cannot tell ``cls`` (a type or covered loads from occupied length at 3 m:
    :func:`~railwatch.detect.base.tells_class`) the point is usable with ``count=None``.
    A presence image (10 m and coarser) is a point of the total only, with
    ``method="presence"`` and its long-train flag (1 or 0) as ``count``: the analysis
    judges no count from it (:func:`railwatch.analysis.series.split_by_method`); readers
    that show counts must show it as the flag (:func:`~railwatch.detect.base.is_presence`).
    An unusable scene's ``method`` is the one its resolution would have had
    (:func:`railwatch.detect.coarse.method_for_gsd`), so its gap goes with that series.
    """
    return class_series(session, site, (cls,))[cls]


def class_series(
    session: Session, site: SiteRef, classes: Iterable[str]
) -> dict[str, list[CountPoint]]:
    """:func:`count_series` of each of ``classes``, the site's scenes and their counts
    read once for all of them: two statements, whatever the number of classes. (The
    analysis read them once per class, its total, covered loads and each car type: 7
    reads of every scene of a site; re-analysing 15 sites of 1,000 images took 19-20 s
    of CPU, now 13-15 s; 2026-12-07, session 48.)"""
    from railwatch.detect.base import ALL_CLASSES

    wanted = tuple(dict.fromkeys(classes))
    s = get_site(session, site)
    scenes = list_scenes(session, s, status=("processed", "unusable"))
    rows = session.execute(
        select(Count)
        .join(Scene, Count.scene_id == Scene.id)
        .where(Scene.site_id == s.id, Count.cls.in_((*wanted, "all")))
    ).scalars()
    by_scene: dict[tuple[int, str], Count] = {(r.scene_id, r.cls): r for r in rows}
    stored = {c for _, c in by_scene}
    for cls in wanted:
        if cls not in ("all", "covered", *ALL_CLASSES) and cls not in stored:
            raise _unknown_class(cls)  # else every usable scene would read 0 of it
    return {
        cls: [
            _series_point(sc, by_scene.get((sc.id, cls)), by_scene.get((sc.id, "all")), cls)
            for sc in scenes
        ]
        for cls in wanted
    }


def _unknown_class(cls: str) -> InputError:
    """The error of a count series asked for a class no railcar has."""
    from railwatch.detect.base import ALL_CLASSES

    return InputError(
        f"class {cls!r} is not a railcar class: use all (the total), covered or one of "
        f"{', '.join(ALL_CLASSES)}"
    )


def _series_point(sc: Any, row: Any, ref: Any, cls: str) -> CountPoint:
    """The point of :func:`count_series` of scene ``sc`` (a Scene, or a row with its
    columns), with its stored count of ``cls`` (``row``) and of ``all`` (``ref``): each
    a Count, a row with its ``count``, ``low``, ``high`` and ``method``, or None."""
    from railwatch.analysis.types import CountPoint

    coverage = coverage_shown(sc.quality_coverage, sc.coverage)
    if not usable_processed(sc.usable, sc.status):
        return CountPoint(
            when=sc.acquired_at,
            count=None,
            usable=False,
            cls=cls,
            clear_fraction=sc.clear_fraction,
            coverage=coverage,
            method=_method_of_gap(sc.gsd),
            scene_id=sc.id,
            gsd=sc.gsd,
            reviewed=declared_unusable(sc),  # a gap by an analyst's verdict
        )
    src = ref if ref is not None else row
    method = src.method if src is not None else "objects"
    # a type at 3 m is unknown: None, not 0; a presence flag stays in the total's
    # series, where the analysis keeps it apart (no count: ``split_by_method``)
    told = tells_class(cls, method) or (cls == "all" and is_presence(method))
    zero = 0.0 if told else None
    return CountPoint(
        when=sc.acquired_at,
        count=(row.count if row is not None else 0.0) if told else None,
        low=(row.low if row is not None else 0.0) if told else zero,
        high=(row.high if row is not None else 0.0) if told else zero,
        usable=True,
        cls=cls,
        clear_fraction=sc.clear_fraction,
        coverage=coverage,
        method=method,
        scene_id=sc.id,
        gsd=sc.gsd,
        reviewed=told and row is not None and getattr(row, "detector", None) == ANALYST,
    )


#: The columns of a scene that a point of a count series reads (:func:`_series_point`).
SERIES_COLUMNS = (
    Scene.id,
    Scene.acquired_at,
    Scene.status,
    Scene.usable,
    Scene.clear_fraction,
    Scene.quality_coverage,
    Scene.coverage,
    Scene.gsd,
    Scene.quality_source,  # an analyst's verdict of unusable (declared_unusable)
)


@dataclass(frozen=True)
class _CountCols:
    """The stored count a point reads (a Count's columns, without loading the object)."""

    count: float
    low: float
    high: float
    method: str
    detector: str


def _count_cols(row: Any, prefix: str) -> _CountCols | None:
    """The count of an outer-joined row (None where the scene has none)."""
    if getattr(row, f"{prefix}_id") is None:
        return None
    return _CountCols(
        count=getattr(row, f"{prefix}_count"),
        low=getattr(row, f"{prefix}_low"),
        high=getattr(row, f"{prefix}_high"),
        method=getattr(row, f"{prefix}_method"),
        detector=getattr(row, f"{prefix}_detector"),
    )


def _count_columns(c: Any, prefix: str) -> tuple[Any, ...]:
    """The columns of Count alias ``c`` that :func:`_count_cols` reads back."""
    return (
        c.id.label(f"{prefix}_id"),
        c.count.label(f"{prefix}_count"),
        c.low.label(f"{prefix}_low"),
        c.high.label(f"{prefix}_high"),
        c.method.label(f"{prefix}_method"),
        c.detector.label(f"{prefix}_detector"),
    )


def count_series_page(
    session: Session,
    site: SiteRef,
    *,
    cls: str = "all",
    limit: int,
    offset: int = 0,
    spread: dict[int, bool | None] | None = None,
) -> tuple[list[CountPoint], int]:
    """``count_series(session, site, cls=cls)[offset:offset + limit]`` and the length of
    the whole series, with the same points and errors, read in SQL: only the page's
    scenes and counts are read, as columns (the web API's counts; reading a 5,000-point
    series whole as objects took 0.4 s for one point). ``spread``, when given, is
    filled with :func:`spread_assumed_of` of each page scene's metadata by scene id, read
    by the same statement (the web API's ``interval_spread_assumed``; since 2026-12-08,
    session 52)."""
    from railwatch.detect.base import ALL_CLASSES

    s = get_site(session, site)
    if cls not in ("all", "covered", *ALL_CLASSES):
        stored = session.scalar(
            select(Count.id)
            .join(Scene, Count.scene_id == Scene.id)
            .where(Scene.site_id == s.id, Count.cls == cls)
            .limit(1)
        )
        if stored is None:  # else every usable scene would read 0 of it
            raise _unknown_class(cls)
    where = (Scene.site_id == s.id, Scene.status.in_(("processed", "unusable")))
    total = int(session.scalar(select(func.count(Scene.id)).where(*where)) or 0)
    ref = aliased(Count)
    q = select(*SERIES_COLUMNS, *_count_columns(ref, "ref")).outerjoin(
        ref, (ref.scene_id == Scene.id) & (ref.cls == "all")
    )
    if spread is not None:  # the one key of the metadata, in SQL (not the whole object)
        q = q.add_columns(Scene.meta[INTERVAL_KEY].label("interval_meta"))
    if cls != "all":
        row = aliased(Count)
        q = q.add_columns(*_count_columns(row, "row")).outerjoin(
            row, (row.scene_id == Scene.id) & (row.cls == cls)
        )
    q = q.where(*where).order_by(Scene.acquired_at, Scene.id).limit(limit).offset(offset)
    points = []
    for r in session.execute(q):
        total_count = _count_cols(r, "ref")
        own = total_count if cls == "all" else _count_cols(r, "row")
        points.append(_series_point(r, own, total_count, cls))
        if spread is not None:
            spread[int(r.id)] = spread_assumed_of({INTERVAL_KEY: r.interval_meta})
    return points, total


@dataclass(frozen=True)
class LatestCounts:
    """A site's newest usable counts (points of its ``all`` series, :func:`count_series`).

    ``newest``: its latest usable image, a presence image (10 m and coarser) too;
    ``latest``: its latest count of cars (no presence image); ``previous``: the count
    before ``latest`` made the same way (its ``method``), the one a trend compares with."""

    newest: CountPoint | None = None
    latest: CountPoint | None = None
    previous: CountPoint | None = None


def latest_counts(session: Session, site: SiteRef) -> LatestCounts:
    """The site's :class:`LatestCounts`, read with at most three one-row queries on the
    site's scenes by time (the usable points of ``count_series(site)`` otherwise)."""
    from railwatch.detect.base import PRESENCE_METHODS

    s = get_site(session, site)
    ref = aliased(Count)
    method = func.coalesce(ref.method, "objects")  # as _series_point: no row, objects
    base = (
        select(*SERIES_COLUMNS, *_count_columns(ref, "ref"))
        .outerjoin(ref, (ref.scene_id == Scene.id) & (ref.cls == "all"))
        .where(Scene.site_id == s.id, Scene.status == "processed", Scene.usable.is_(True))
        .order_by(Scene.acquired_at.desc(), Scene.id.desc())
        .limit(1)
    )

    def point(q: Any) -> CountPoint | None:
        r = session.execute(q).first()
        if r is None:
            return None
        total = _count_cols(r, "ref")
        return _series_point(r, total, total, "all")

    newest = point(base)
    if newest is None:
        return LatestCounts()
    latest = (
        newest
        if not is_presence(newest.method)
        else point(base.where(method.not_in(sorted(PRESENCE_METHODS))))
    )
    if latest is None:
        return LatestCounts(newest=newest)
    before = or_(
        Scene.acquired_at < latest.when,
        and_(Scene.acquired_at == latest.when, Scene.id < (latest.scene_id or 0)),
    )
    previous = point(base.where(method == latest.method, before))
    return LatestCounts(newest=newest, latest=latest, previous=previous)


# ---------------------------------------------------------------------------- events


def add_event(
    session: Session, site: SiteRef, when: date, label: str, description: str = ""
) -> Event:
    """Record a dated event at a site (unique per site, date and label, labels compared
    without regard to letter case or surrounding spaces; dated at most
    :data:`railwatch.limits.EVENT_DAYS_AHEAD` days ahead of today at the site: its
    nominal zone, session 32). The site's row is held
    first (:func:`hold_site`, session 32: before, an event added during the site's
    removal failed on its foreign key check)."""
    s = hold_site(session, site, "an event was being recorded for it")
    label = check_event_label(label)
    description = check_description(description, "an event description")
    when = check_event_date(when, utc_offset=_site_offset(s))
    _hold_event_day(session, s.id, when)
    dup = _same_event(session, s.id, when, label)
    if dup is not None:
        raise AlreadyExistsError(
            f"event {dup.label!r} on {when.isoformat()} already exists (id {dup.id})"
        )
    ev = Event(site_id=s.id, date=when, label=label, description=description, created_at=utcnow())
    session.add(ev)
    session.flush()
    return ev


def update_event(
    session: Session,
    event_id: int,
    *,
    when: date | None = None,
    label: str | None = None,
    description: str | None = None,
) -> Event:
    """Change an event's date, label or description (None keeps it), with the checks
    of :func:`add_event`. The site's row is held first (:func:`hold_site`, session 32:
    before, an event changed during the site's removal failed with SQLAlchemy's
    "expected to update 1 row(s); 0 were matched")."""
    ev = _get_event(session, event_id)
    named = session.scalar(select(Site.name).where(Site.id == ev.site_id))
    shown = repr(named) if named is not None else f"of event {event_id}"
    _hold_site_row(session, ev.site_id, shown, "an event of it was being changed")
    ev = _lock_event(session, event_id)  # after the site's row: the lock order
    site_row = session.get(Site, ev.site_id)
    offset = None if site_row is None else _site_offset(site_row)
    new_when = check_event_date(when, utc_offset=offset) if when is not None else ev.date
    new_label = check_event_label(label) if label is not None else ev.label
    same = new_when == ev.date and _event_key(new_label) == _event_key(ev.label)
    # an event that stays the same event (a new description, its label's case) is not
    # checked: events recorded before labels were compared so (two of one day differing
    # in case only) can still be edited
    if not same:
        _hold_event_day(session, ev.site_id, new_when)
    dup = None if same else _same_event(session, ev.site_id, new_when, new_label, ev.id)
    if dup is not None:
        raise AlreadyExistsError(
            f"event {dup.label!r} on {new_when.isoformat()} already exists (id {dup.id})"
        )
    if description is not None:
        ev.description = check_description(description, "an event description")
    ev.date = new_when
    ev.label = new_label
    session.flush()
    return ev


def _site_offset(site: Site) -> timedelta:
    """The site's nominal zone (:func:`railwatch.sites.site_utc_offset_of`, which
    :func:`railwatch.analysis.store.site_utc_offset` gives too): the local days its
    events are dated by."""
    from railwatch.sites import site_utc_offset_of

    return site_utc_offset_of(site.geometry)


def _event_key(label: str) -> str:
    """The form in which two labels of one day are the same event: letter case, spaces
    around it and Unicode normal form aside ("Kim–Putin summit", " kim–putin SUMMIT";
    "Café" typed composed or, as macOS gives it, decomposed). Unicode's canonical
    caseless match (NFD, case-folded, NFD again), so that a label stored before labels
    were stored in NFC still matches its NFC form."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", label.strip()).casefold())


def _hold_event_day(session: Session, site_id: int, when: date) -> None:
    """Take turns, until the transaction ends, with the other writers of the site's
    events of ``when`` (PostgreSQL: a transaction advisory lock of the site and day;
    SQLite's writers take turns already), so that :func:`_same_event` sees an event of
    that day added or moved there by a transaction not yet committed once it is. Before
    (session 39 review), two writers adding "Strike" and "strike" at once both found
    none and both were stored, and the same label twice failed on the unique constraint
    ("duplicate key value", a ``StorageError``) instead of "already exists"."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(
        f"railwatch event day {site_id} {when.isoformat()}".encode(), digest_size=8
    ).digest()
    session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest, "big", signed=True))))


def _same_event(
    session: Session, site_id: int, when: date, label: str, other_than: int | None = None
) -> Event | None:
    """The event of the site on ``when`` (other than the one of id ``other_than``) whose
    label is ``label`` but for letter case and surrounding spaces, or None. Compared
    here, not in SQL: SQLite's ``lower()`` folds ASCII letters only (not "É", "Ж"), and
    a site has few events a day. Before, a label that differed in case only was a second
    event, and alerts said "also that day: kim–putin summit" beside "Kim–Putin summit"."""
    key = _event_key(label)
    same_day = select(Event).where(Event.site_id == site_id, Event.date == when)
    if other_than is not None:
        same_day = same_day.where(Event.id != other_than)
    for ev in session.scalars(same_day.order_by(Event.id)):
        if _event_key(ev.label) == key:
            return ev
    return None


def _get_event(session: Session, event_id: int) -> Event:
    ev = session.get(Event, event_id) if is_record_id(event_id) else None
    if ev is None:
        raise NotFoundError(f"no event with id {event_id}: see `railwatch event list SITE`")
    return ev


def get_event(session: Session, event_id: int) -> Event:
    """The event of id ``event_id``; :class:`NotFoundError` (naming the list to look in)
    when there is none."""
    return _get_event(session, event_id)


def _lock_event(session: Session, event_id: int) -> Event:
    """The event of id ``event_id``, its row locked until the transaction ends and read
    as last committed (PostgreSQL; SQLite's writers take turns already), or
    :class:`NotFoundError` when another command removed it meanwhile. Before (session
    39 review), an event removed between its reading and its change failed with
    SQLAlchemy's "UPDATE statement on table 'events' expected to update 1 row(s); 0 were
    matched", and one removed twice at once was said removed by both."""
    ev = session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if ev is None:
        raise NotFoundError(
            f"no event with id {event_id}: another railwatch command or the dashboard "
            "removed it meanwhile; see `railwatch event list SITE`"
        )
    return ev


def list_events(session: Session, site: SiteRef) -> list[Event]:
    """Events of a site by date, then by id (one order every time: PostgreSQL returned
    two events of one day in any order, so a page of events could repeat or skip one)."""
    s = get_site(session, site)
    return list(
        session.scalars(select(Event).where(Event.site_id == s.id).order_by(Event.date, Event.id))
    )


def remove_event(session: Session, event_id: int) -> None:
    """Delete one event (its row locked and read again first, :func:`_lock_event`)."""
    _get_event(session, event_id)
    ev = _lock_event(session, event_id)
    session.delete(ev)
    session.flush()


def event_values(session: Session, site: SiteRef) -> list[EventValue]:
    """Events of a site as ``analysis.Event`` values (for ``analyze_series``)."""
    from railwatch.analysis.types import Event as EventValue

    return [EventValue(when=e.date, label=e.label) for e in list_events(session, site)]


# ---------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class AlertChanges:
    """What :func:`replace_alerts` did."""

    created: int
    updated: int
    removed: int
    retired: int
    #: Raised again exactly as stored: not written (``updated_at`` kept).
    unchanged: int = 0
    #: Acknowledged alerts whose severity rose: acknowledged no longer, their note kept
    #: (an ongoing silence that grew, an image counted again higher).
    reopened: int = 0
    #: Acknowledged alerts (still acknowledged) that now say something else at the same
    #: or a lower severity: another count, explanation or image (a scene counted again,
    #: a scene review). Each carries ``metrics[CHANGED_SINCE_ACK]``.
    changed_since_ack: int = 0


#: The key, in a stored alert's metrics, of what the analyst acknowledged when the alert
#: has said something else since (:func:`replace_alerts`): its ``severity``, ``value``,
#: ``explanation`` and ``scene_id`` as acknowledged, and ``changed_at`` (ISO 8601, UTC),
#: when it first changed after the acknowledgement. Cleared by acknowledging it again.
CHANGED_SINCE_ACK = "changed_since_ack"


def changed_since_words(
    mark: Mapping[str, Any], *, value: float | None, severity: str, scene_id: int | None
) -> str:
    """What an alert said when it was acknowledged (``mark``, its
    :data:`CHANGED_SINCE_ACK`) beside what it says now (``value``, ``severity``,
    ``scene_id``), as the CLI, the report and the dashboard word it: 'changed since
    acknowledged: was 40 (medium)', '... on another image (scene 7)' when its image
    changed, '...: OLD EXPLANATION' when neither its count nor its severity did."""
    was = mark.get("value")
    if isinstance(was, int | float):
        shown = f"{was:.0f}" if float(was).is_integer() else f"{was:.1f}"
    else:
        shown = "no count"
    text = f"changed since acknowledged: was {shown} ({mark.get('severity')})"
    was_scene = mark.get("scene_id")
    if was_scene != scene_id:
        text += " on no image" if was_scene is None else f" on another image (scene {was_scene})"
    elif was == value and mark.get("severity") == severity:
        text += f": {mark.get('explanation')}"
    return text


#: The fields of an alert an analyst reads when acknowledging it: a change to one of
#: them (other than a rise in severity, which reopens it) marks an acknowledged alert.
_READ_FIELDS = ("severity", "value", "explanation", "scene_id")


def _alert_fields(a: AlertLike) -> dict[str, Any]:
    """The stored fields of an alert as :func:`replace_alerts` writes them."""
    return {
        "kind": a.kind,
        "severity": a.severity,
        "when": a.when,
        "cls": a.cls,
        "value": float(a.value) if a.value is not None else None,
        "explanation": a.explanation,
        "metrics": {str(k): v for k, v in dict(a.metrics).items()},
        "event_label": a.event_label,
        "event_days": a.event_days,
        "scene_id": a.scene_id,
    }


def _same_when(a: datetime | None, b: datetime | None) -> bool:
    """Equal instants, also when one side came back from SQLite without its zone."""
    if a is None or b is None:
        return a is b
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return a == b


def _rose(before: str, now: str) -> bool:
    """Whether severity ``now`` is above ``before`` (False for a name not known)."""
    from railwatch.analysis.types import SEVERITIES

    return (
        before in SEVERITIES
        and now in SEVERITIES
        and (SEVERITIES.index(now) > SEVERITIES.index(before))
    )


def _substance(kind: str, said: Mapping[str, Any]) -> dict[str, Any]:
    """What an alert of ``kind`` says that an acknowledgement covers, from ``said`` (its
    :data:`_READ_FIELDS`, and ``metrics``): those fields; of a silence (a "quality"
    alert whose metrics hold its ``gap_days``, as a silence's do), its severity, count,
    image and metrics but those that tally the images within it
    (:data:`SILENCE_TALLY_METRICS`), in place of its explanation, which names them.
    An acknowledged ongoing silence was marked changed since
    acknowledged whenever a later image failed processing, waited for it or was
    unusable, though the silence was the same (until 2026-12-07, session 50); it still is
    when it ends, grows past twice the expected gap (reopened) or moves."""
    from railwatch.analysis.types import SILENCE_TALLY_METRICS

    metrics = said.get("metrics")
    if kind != "quality" or not isinstance(metrics, Mapping) or "gap_days" not in metrics:
        return {k: said.get(k) for k in _READ_FIELDS}
    out = {k: said.get(k) for k in _READ_FIELDS if k != "explanation"}
    out["metrics"] = {
        k: v
        for k, v in metrics.items()
        if k not in SILENCE_TALLY_METRICS and k != CHANGED_SINCE_ACK
    }
    return out


def _ack_mark(row: Alert, fields: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """What ``row``'s ``metrics[CHANGED_SINCE_ACK]`` becomes when it is given ``fields``:
    what was acknowledged, while the alert says something else (None otherwise; what
    counts: :func:`_substance`). A silence's mark also holds its ``metrics`` as
    acknowledged, tallies aside (a mark made before session 50 has none: its
    explanation is compared)."""
    if row.ack_at is None and not row.acknowledged:
        return None  # never acknowledged
    mark = (row.metrics or {}).get(CHANGED_SINCE_ACK)
    if not isinstance(mark, dict):  # as acknowledged until now: the row's own fields
        said = {k: getattr(row, k) for k in _READ_FIELDS}
        said["metrics"] = row.metrics
        acked = _substance(row.kind, said)
        if acked == _substance(row.kind, fields):
            return None  # says what was acknowledged (a silence's tallies aside)
        mark = {k: getattr(row, k) for k in _READ_FIELDS}
        if "metrics" in acked:
            mark["metrics"] = acked["metrics"]
        mark["changed_at"] = now.isoformat()
        return mark
    if "metrics" in mark:
        if _substance(row.kind, mark) == _substance(row.kind, fields):
            return None  # says again what was acknowledged
    elif all(mark.get(k) == fields[k] for k in _READ_FIELDS):
        return None  # says again what was acknowledged
    return mark


def _without_mark(metrics: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (metrics or {}).items() if k != CHANGED_SINCE_ACK}


#: What an alert's version token looks like (:func:`alert_version`): 16 hex digits.
_VERSION = re.compile(r"[0-9a-f]{16}")


def alert_version(alert: Alert) -> str:
    """A short token of what an alert says (16 hex digits of a SHA-256): its kind,
    severity, time, class, count, explanation, metrics (its
    :data:`CHANGED_SINCE_ACK` mark aside), linked event and image, the fields an analyst
    reads before acknowledging it. It changes whenever re-analysis writes the alert
    anew (:func:`replace_alerts`' ``updated``), never on an acknowledgement or a note:
    ``acknowledge_alert(..., expect=TOKEN)`` acknowledges only the alert the analyst
    read (session 31)."""
    when = alert.when
    if when is not None and when.tzinfo is None:  # as SQLite may give it back
        when = when.replace(tzinfo=UTC)
    said = {
        "kind": alert.kind,
        "severity": alert.severity,
        "when": when.astimezone(UTC).isoformat() if when is not None else None,
        "cls": alert.cls,
        "value": float(alert.value) if alert.value is not None else None,
        "explanation": alert.explanation,
        "metrics": _without_mark(alert.metrics),
        "event_label": alert.event_label,
        "event_days": alert.event_days,
        "scene_id": alert.scene_id,
    }
    text = json.dumps(said, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class AlertChangedError(AlreadyExistsError):
    """An alert is not the version the caller read (:func:`alert_version`): re-analysis
    changed it since. Nothing was acknowledged; ``alert`` is the alert as it is now."""

    def __init__(self, message: str, alert: Alert) -> None:
        super().__init__(message)
        self.alert = alert


def _stored_as(row: Alert, fields: Mapping[str, Any]) -> bool:
    """Whether ``row`` holds ``fields`` already (its acknowledgement mark aside)."""
    return all(
        _same_when(row.when, v)
        if k == "when"
        else (_without_mark(row.metrics) if k == "metrics" else getattr(row, k)) == v
        for k, v in fields.items()
    )


def replace_alerts(session: Session, site: SiteRef, alerts: Iterable[AlertLike]) -> AlertChanges:
    """Make the stored alerts of a site match ``alerts``, by key (idempotent).

    Alerts with a known key are updated in place and keep their acknowledgement;
    new keys are added; stored alerts no longer raised are deleted, except
    acknowledged ones, which are kept and marked inactive. An alert raised again as it
    is stored is left untouched (``unchanged``; its ``updated_at`` says when it last
    changed). An acknowledged alert raised again at a higher severity is acknowledged no
    longer (``reopened``): what was checked is not what it says now; its note stays.
    One raised again with another count, explanation or image at the same or a lower
    severity stays acknowledged (``changed_since_ack``) and keeps what was acknowledged
    in ``metrics[CHANGED_SINCE_ACK]`` until acknowledged again (:func:`acknowledge_alert`)
    or raised again as it was acknowledged; a reopened one keeps it too. Before session
    30 such an alert changed under its acknowledgement without a sign.
    """
    s = get_site(session, site)
    wanted: dict[str, AlertLike] = {a.key: a for a in alerts}
    # The site's alerts are locked (PostgreSQL; SQLite's writers take turns already) and
    # read as committed now: an acknowledgement committed while the analysis ran is seen
    # here and kept (the alert retired, not deleted), and one made from now on waits for
    # this transaction. Before session 24 an alert read as unacknowledged was deleted
    # even when acknowledged meanwhile, losing the acknowledgement and its note.
    existing = {
        a.key: a
        for a in session.scalars(
            select(Alert)
            .where(Alert.site_id == s.id)
            .order_by(Alert.id)  # one lock order for every writer: no deadlock
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    now = utcnow()
    created = updated = removed = retired = unchanged = reopened = changed = 0
    # the new alerts in one INSERT executed for them all (2026-12-07, session 49): the ORM
    # inserted them one statement each, to read each new row's id back (418 INSERTs for
    # the first analysis of a site of 1,000 images); nothing here reads those ids
    new_rows: list[dict[str, Any]] = []
    with session.begin_nested():
        for key, a in wanted.items():
            fields = _alert_fields(a)
            row = existing.get(key)
            if row is None:
                new_rows.append(
                    {
                        "site_id": s.id,
                        "key": key,
                        **fields,
                        "active": True,
                        "acknowledged": False,
                        "ack_note": None,
                        "ack_at": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                created += 1
                continue
            if row.active and _stored_as(row, fields):
                unchanged += 1  # its mark, if any, stays: it still says what it said
                continue
            updated += 1
            said = {k: getattr(row, k) for k in _READ_FIELDS}
            said["metrics"] = row.metrics
            moved = _substance(row.kind, said) != _substance(a.kind, fields)
            mark = _ack_mark(row, fields, now)
            if mark is not None:
                fields["metrics"] = {**fields["metrics"], CHANGED_SINCE_ACK: mark}
            if row.acknowledged and _rose(row.severity, a.severity):
                row.acknowledged = False  # ack_at and ack_note stay: what was checked
                reopened += 1
            elif row.acknowledged and moved:
                changed += mark is not None
            for k, v in fields.items():
                setattr(row, k, v)
            row.active = True
            row.updated_at = now
        for key, row in existing.items():
            if key in wanted:
                continue
            if row.acknowledged:
                if row.active:
                    row.active = False
                    row.updated_at = now
                    retired += 1
            else:
                session.delete(row)
                removed += 1
        session.flush()
        if new_rows:  # in the order raised, as the ORM added them: their ids alike
            session.execute(insert(_table(Alert)), new_rows)
    return AlertChanges(
        created=created,
        updated=updated,
        removed=removed,
        retired=retired,
        unchanged=unchanged,
        reopened=reopened,
        changed_since_ack=changed,
    )


class _MarkType(FunctionElement[str]):
    """SQL: the JSON type of an alert's ``metrics[CHANGED_SINCE_ACK]`` ('object' for a
    mark as :func:`replace_alerts` writes it; NULL without one), on SQLite and
    PostgreSQL."""

    type = String()
    name = "mark_type"
    inherit_cache = True


@compiles(_MarkType)
def _mark_type_sqlite(element: _MarkType, compiler: Any, **kw: Any) -> str:
    (metrics,) = element.clauses
    return str(compiler.process(func.json_type(metrics, f'$."{CHANGED_SINCE_ACK}"'), **kw))


@compiles(_MarkType, "postgresql")
def _mark_type_pg(element: _MarkType, compiler: Any, **kw: Any) -> str:
    (metrics,) = element.clauses
    return str(compiler.process(func.json_typeof(metrics[CHANGED_SINCE_ACK]), **kw))


def open_alert_sql() -> ColumnElement[bool]:
    """SQL: an alert that needs an analyst's eyes (an *open* alert): not acknowledged,
    or acknowledged and changed since (``metrics[CHANGED_SINCE_ACK]``). The CLI's
    ``--unacked``, the web API's ``open_only`` and the site list's open-alert badges all
    mean this (session 30; before, the API and the badges left the marked ones out)."""
    return or_(Alert.acknowledged.is_(False), _MarkType(Alert.metrics) == "object")


def list_alerts(
    session: Session,
    site: SiteRef | None = None,
    *,
    active_only: bool = True,
    unacknowledged_only: bool = False,
    open_only: bool = False,
    since: datetime | None = None,
    filters: AlertFilter | None = None,
) -> list[Alert]:
    """Alerts, newest first, optionally of one site. ``open_only``: those that need an
    analyst's eyes (:func:`open_alert_sql`: not acknowledged, or changed since they were
    acknowledged); ``unacknowledged_only``: those not acknowledged, marked ones left out;
    ``since``: from that instant on; ``filters``: the list's filters
    (:class:`~railwatch.storage.alert_filter.AlertFilter`: days at each alert's site,
    severity, series, kinds; in SQL, session 35)."""
    cond = _alert_where(
        session,
        site,
        active_only=active_only,
        unacknowledged_only=unacknowledged_only,
        open_only=open_only,
        filters=filters,
    )
    if since is not None:
        cond.append(Alert.when >= since)
    # their sites in one statement (railwatch alerts gives each alert's site and day):
    # one statement a site before the session 35 review, 1,002 for 3,000 alerts of 1,000
    q = select(Alert).where(*cond).options(selectinload(Alert.site))
    return list(session.scalars(q.order_by(*_newest_alerts_first())))


def _newest_alerts_first() -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The order of :func:`list_alerts` and :func:`alert_page` (the CLI's list, the web
    API's pages, which must agree): newest first, and of alerts of one time the one
    stored last first."""
    return Alert.when.desc(), Alert.id.desc()


def _alert_where(
    session: Session,
    site: SiteRef | None,
    *,
    active_only: bool,
    unacknowledged_only: bool,
    open_only: bool,
    filters: AlertFilter | None,
) -> list[ColumnElement[bool]]:
    """The conditions of :func:`list_alerts` and :func:`alert_page`."""
    cond: list[ColumnElement[bool]] = []
    site_id = None if site is None else get_site(session, site).id
    if site_id is not None:
        cond.append(Alert.site_id == site_id)
    if active_only:
        cond.append(Alert.active.is_(True))
    if unacknowledged_only:
        cond.append(Alert.acknowledged.is_(False))
    if open_only:
        cond.append(open_alert_sql())
    if filters is not None:
        cond.extend(alert_conditions(session, filters, site_id))
    return cond


def alert_page(
    session: Session,
    site: SiteRef | None = None,
    *,
    active_only: bool = True,
    unacknowledged_only: bool = False,
    open_only: bool = False,
    filters: AlertFilter | None = None,
    limit: int,
    offset: int = 0,
) -> tuple[list[Alert], int]:
    """One page of :func:`list_alerts` (same filters, same order: newest first), read in
    SQL, and how many alerts match in all."""
    cond = _alert_where(
        session,
        site,
        active_only=active_only,
        unacknowledged_only=unacknowledged_only,
        open_only=open_only,
        filters=filters,
    )
    total = int(session.scalar(select(func.count(Alert.id)).where(*cond)) or 0)
    rows = session.scalars(
        select(Alert)
        .where(*cond)
        .order_by(*_newest_alerts_first())
        .limit(limit)
        .offset(offset)
        # the page's sites in one statement: each alert's site (its name, its zone) was
        # read on its own, one statement a site, 99 for a page of 100 alerts of 100 sites
        # (session 35 review)
        .options(selectinload(Alert.site))
    )
    return list(rows), total


def get_alert(session: Session, alert_id: int, *, lock: bool = False) -> Alert:
    """The alert with this id. ``lock=True`` locks its row until the transaction ends
    (PostgreSQL: ``SELECT ... FOR UPDATE``, waiting for a writer that holds it; SQLite's
    writers take turns already) and reads it as last committed, also when the session
    had read it before: read it so before changing it from what it holds."""
    if not is_record_id(alert_id):
        row = None
    elif lock:
        row = session.scalar(
            select(Alert)
            .where(Alert.id == alert_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    else:
        row = session.get(Alert, alert_id)
    if row is None:
        raise NotFoundError(
            f"no alert with id {alert_id}: a re-analysis removes the alerts it no longer "
            "raises (acknowledged ones are kept); see `railwatch alerts`"
        )
    return row


def acknowledge_alert(
    session: Session, alert_id: int, note: str = "", *, expect: str | None = None
) -> Alert:
    """Mark an alert as seen, with an optional note; it stays acknowledged on re-analysis.

    Acknowledging an alert that already is never loses what the analyst wrote: without a
    note (or with the note it already ends with: a repeated request) nothing changes; a
    new note is appended on a line of its own after the earlier ones, prefixed with its
    UTC time (``2024-03-19 08:15 UTC: seen again``). ``ack_at`` stays the time of the
    first acknowledgement. (Before, a second call replaced the note, or erased it when
    it had none, and moved ``ack_at``.) The notes of one alert hold at most ten notes'
    worth of characters (:data:`~railwatch.limits.NOTE_MAX` each).

    The same holds for an alert acknowledged no longer because its severity rose (see
    :func:`replace_alerts`): acknowledging it again keeps the notes of what was checked
    before and adds the new one after them; before session 30 the new note (or none)
    replaced them.

    The alert's row is locked and read as last committed (:func:`get_alert` with
    ``lock=True``): two acknowledgements at once (the CLI and the dashboard) on
    PostgreSQL each add their note to the other's; before session 24 the second
    overwrote the first.

    Acknowledging an alert that has changed since it was acknowledged (it has
    ``metrics[CHANGED_SINCE_ACK]``, see :func:`replace_alerts`), with or without a note,
    clears that mark: the analyst has seen what it says now.

    ``expect``: the alert's version as the analyst read it (:func:`alert_version`, as
    ``railwatch alerts --json`` and the API show it). When re-analysis has changed the
    alert since, nothing is written and :class:`AlertChangedError` says what it says now
    (the check is made on the locked row, in the same transaction as the write). Without
    it, as before session 31, whatever the alert says now is acknowledged.
    """
    from railwatch.limits import NOTE_MAX

    note = check_note(note)
    if expect is not None:  # hex digits in either case (a spreadsheet may capitalise them)
        expect = expect.strip().lower()
    if expect is not None and not _VERSION.fullmatch(expect):
        raise InputError(
            f"{expect!r} is not an alert version: give the 16 hex digits of the alert's "
            "`version` as `railwatch alerts --json` or the API shows it"
        )
    row = get_alert(session, alert_id, lock=True)
    if expect is not None and (now_version := alert_version(row)) != expect:
        count = "no count" if row.value is None else f"{row.value:g}"
        raise AlertChangedError(
            f"alert {alert_id} changed since it was read (version {expect}, now "
            f"{now_version}): re-analysis has it say {row.severity}, {count}: "
            f"{row.explanation!r}{'' if row.scene_id is None else f' (scene {row.scene_id})'}"
            ". Nothing was acknowledged: check what it says now and acknowledge it again",
            row,
        )
    old = row.ack_note or ""
    now = utcnow()
    if not row.acknowledged and row.ack_at is None and not old:  # never acknowledged
        notes = note or None
    elif not note or old == note or old.endswith(f" UTC: {note}"):
        notes = row.ack_note  # nothing new to say (or a repeated request)
    else:
        entry = f"{now:%Y-%m-%d %H:%M} UTC: {note}"
        notes = f"{old}\n{entry}" if old else entry
        if len(notes) > 10 * NOTE_MAX:
            raise InputError(
                f"alert {alert_id} already has {len(old)} characters of notes (at most "
                f"{10 * NOTE_MAX}): keep this note elsewhere and link to it"
            )
    seen = CHANGED_SINCE_ACK in (row.metrics or {})
    if row.acknowledged and notes == row.ack_note and not seen:
        return row
    row.acknowledged = True
    row.ack_note = notes
    if row.ack_at is None:  # the first acknowledgement, or one by an older version
        row.ack_at = now
    if seen:
        row.metrics = _without_mark(row.metrics)
    session.flush()
    return row
