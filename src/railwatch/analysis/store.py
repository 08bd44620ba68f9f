"""Run the analysis over stored counts and store its alerts (uses railwatch.storage).

Kept apart from the pure analysis so that importing :mod:`railwatch.analysis`
never needs a database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.events import local_day

# site_utc_offset and site_local_days live in analysis.events since session 39 (a listing
# that names local days needs them without this module's analysis: about 0.2 s of CPU)
from railwatch.analysis.events import site_local_days as site_local_days
from railwatch.analysis.events import site_utc_offset as site_utc_offset
from railwatch.analysis.series import as_utc
from railwatch.analysis.settings import AlertSettings
from railwatch.analysis.types import Alert, CountPoint, Event
from railwatch.errors import NotFoundError
from railwatch.storage import repo
from railwatch.storage.db import BusyError
from railwatch.storage.models import Alert as AlertRow
from railwatch.storage.models import Count, Scene, Site
from railwatch.storage.models import Event as EventRow

if TYPE_CHECKING:
    from railwatch.storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SiteAnalysis:
    """What :func:`analyze_site` found and, when ``stored``, stored (``created`` ...
    ``retired`` are the changes to the stored alerts; all 0 when not stored)."""

    site: str
    alerts: tuple[Alert, ...]
    #: Images of the site total, those after the as-of date (``after``) too.
    points: int
    #: Usable images the analysis judged: up to the as-of date (since 2026-12-06, session
    #: 40; those after it too before, so "121 usable of 121 images, 84 of them after ...
    #: left out" counted the left-out images among the usable ones).
    usable: int
    created: int
    updated: int
    removed: int
    retired: int
    stored: bool = True
    #: Of ``updated``'s alerts raised again as stored (not written), and acknowledged
    #: ones whose severity rose (acknowledged no longer; their note kept).
    unchanged: int = 0
    reopened: int = 0
    #: Of ``updated``: acknowledged alerts that say something else now at the same or a
    #: lower severity, still acknowledged, marked ``metrics["changed_since_ack"]``.
    changed_since_ack: int = 0
    #: Images (of the site total) after the as-of date, left out of the analysis.
    after: int = 0


def site_points(session: Session, site: str) -> list[CountPoint]:
    """Every stored count point of a site: the total ("all") and each class counted there."""
    s = repo.get_site(session, site)
    classes = set(
        session.scalars(
            select(Count.cls).join(Scene, Count.scene_id == Scene.id).where(Scene.site_id == s.id)
        )
    )
    classes.add("all")
    series = repo.class_series(session, s, sorted(classes))
    return [p for cls in sorted(classes) for p in series[cls]]


def analyze_site(
    session: Session,
    site: str,
    settings: AlertSettings | None = None,
    *,
    as_of: datetime | None = None,
    store: bool = True,
) -> SiteAnalysis:
    """Analyse a site's stored counts with its events and store the alerts (idempotent).

    Events are related to each alert from its image's local day at the site, by the
    site's nominal solar zone (:func:`site_utc_offset`).

    ``store=False`` only computes them (a look-back as of an earlier date): the stored
    alerts and their acknowledgements are left as they are, and nothing is written.

    Storing, it first locks the site's row (:func:`_hold_site`): a removal of the site
    waits for the analysis to end, and an analysis that comes after a removal waits for
    it and says the site was removed (:class:`~railwatch.errors.NotFoundError`).

    In a writing session on SQLite this holds the database's write lock from the first
    read to the end of the session, the analysis included: other writers wait for it
    (and fail past the busy timeout). :func:`analyze_and_store` takes the database
    instead, and holds the lock only to store (since 2026-12-06, session 35)."""
    if store:
        _hold_site(session, site)
    row = repo.get_site(session, site)
    inputs = _read_inputs(session, row, stamp=False)
    alerts = _analyze(inputs, settings, as_of)
    if not store:
        return _result(site, alerts, inputs, None, as_of)
    return _store(session, row, alerts, inputs, as_of, name=site)


#: How many times :func:`analyze_and_store` analyses a site outside the write
#: transaction before it analyses it inside one (the counts or events having changed
#: between its read and its write each time).
STORE_ATTEMPTS = 3


@dataclass(frozen=True)
class _Inputs:
    """What the analysis of a site reads, and the stamp of the rows it was read from
    (:func:`_stamp`)."""

    points: list[CountPoint]
    events: list[Event]
    offset: timedelta
    stamp: tuple[Any, ...]
    #: The site's images the points do not hold: (time, status), failed or not processed
    #: yet (named by a silence's explanation since 2026-12-07, session 49).
    unread: tuple[tuple[datetime, str], ...] = ()


def _stamp(session: Session, site: Site) -> tuple[Any, ...]:
    """Every stored value the analysis of ``site`` reads (:func:`site_points`,
    ``repo.event_values``, :func:`site_utc_offset`), as plain rows in three statements:
    the site's polygon, each scene's columns that a count point reads (status, usable,
    time, quality, coverage, resolution), every count row of its scenes and its events.
    Two equal stamps read the same points and events, so the analysis gives the same
    alerts (it is a function of them, the settings and the as-of time). Much cheaper than
    reading the points (no objects built, one query per table), so
    :func:`analyze_and_store` compares it under the write lock."""
    scenes = session.execute(
        # the very columns a series point reads, so that the stamp cannot miss one added
        # there
        select(*repo.SERIES_COLUMNS).where(Scene.site_id == site.id).order_by(Scene.id)
    ).all()
    counts = session.execute(
        select(
            Count.id,
            Count.scene_id,
            Count.cls,
            Count.count,
            Count.low,
            Count.high,
            Count.method,
            Count.detector,
        )
        .join(Scene, Count.scene_id == Scene.id)
        .where(Scene.site_id == site.id)
        .order_by(Count.id)
    ).all()
    events = session.execute(
        select(EventRow.id, EventRow.date, EventRow.label)
        .where(EventRow.site_id == site.id)
        .order_by(EventRow.id)
    ).all()
    return (
        site.geometry_wkb,
        *(tuple(tuple(map(_same_nan, r)) for r in rows) for rows in (scenes, counts, events)),
    )


def _same_nan(value: object) -> object:
    """``value``, with a float NaN (PostgreSQL stores them) as a string, so that two
    stamps of the same rows compare equal (NaN is never equal to itself)."""
    return "NaN" if isinstance(value, float) and value != value else value


def _read_inputs(session: Session, site: Site, *, stamp: bool = True) -> _Inputs:
    """The points, events and zone of ``site`` with their :func:`_stamp` (taken first;
    ``()`` without ``stamp``)."""
    stamped = _stamp(session, site) if stamp else ()
    return _Inputs(
        points=site_points(session, site.name),
        events=repo.event_values(session, site),
        offset=site_utc_offset(site),
        stamp=stamped,
        # the images no count point holds (failed, not processed yet); their state and
        # time are in _stamp
        unread=tuple(repo.uncounted_scene_times(session, site)),
    )


def _analyze(
    inputs: _Inputs, settings: AlertSettings | None, as_of: datetime | None
) -> list[Alert]:
    return analyze_series(
        inputs.points,
        inputs.events,
        settings,
        as_of=as_of,
        utc_offset=inputs.offset,
        unread=inputs.unread,
    )


def _store(
    session: Session,
    site: Site,
    alerts: list[Alert],
    inputs: _Inputs,
    as_of: datetime | None,
    *,
    name: str | None = None,
) -> SiteAnalysis:
    """Store ``alerts``, analysed from ``inputs``, as the site's alerts (in ``session``,
    a writing one whose site row is held); ``name``: the site as the result names it
    (its stored name by default)."""
    _move_keys(session, site, alerts, utc_day_keys(alerts, inputs.points, inputs.offset))
    changes = repo.replace_alerts(session, site, alerts)
    return _result(site.name if name is None else name, alerts, inputs, changes, as_of)


def _result(
    site: str,
    alerts: list[Alert],
    inputs: _Inputs,
    changes: repo.AlertChanges | None,
    as_of: datetime | None,
) -> SiteAnalysis:
    totals = [p for p in inputs.points if p.cls == "all"]
    after = [] if as_of is None else _after(totals, as_of, inputs.offset)
    return SiteAnalysis(
        site=site,
        alerts=tuple(alerts),
        points=len(totals),
        usable=sum(1 for p in totals if p.is_usable) - sum(1 for p in after if p.is_usable),
        created=0 if changes is None else changes.created,
        updated=0 if changes is None else changes.updated,
        removed=0 if changes is None else changes.removed,
        retired=0 if changes is None else changes.retired,
        stored=changes is not None,
        unchanged=0 if changes is None else changes.unchanged,
        reopened=0 if changes is None else changes.reopened,
        changed_since_ack=0 if changes is None else changes.changed_since_ack,
        after=len(after),
    )


def analyze_and_store(
    db: Database,
    site: str,
    settings: AlertSettings | None = None,
    *,
    as_of: datetime | None = None,
) -> SiteAnalysis:
    """:func:`analyze_site` with ``store=True``, without holding a write transaction
    while the analysis reads and computes (2026-12-06, session 35).

    :func:`analyze_site` in a writing session held SQLite's write lock (``BEGIN
    IMMEDIATE``) from the first read to the commit: every other writer of the database
    (``railwatch process`` recording a scene, an acknowledgement or an event from the
    CLI or the dashboard, another analysis) waited for the whole analysis, and failed
    with "database is locked" past the 30 s busy timeout. Here the site's counts and
    events are read in a read-only session (one snapshot, no write lock), analysed with
    no transaction open, and the alerts stored in one short writing session, which holds
    the site's row (:func:`_hold_site`), compares the :func:`_stamp` of the rows the
    analysis read with the one read with them, and stores the alerts only where it is
    the same: alerts never reflect counts or events that changed between the read and
    the write (a scene recorded, reviewed or dated anew, an event added). Where it
    changed, the analysis is run again on what is stored now, up to
    :data:`STORE_ATTEMPTS` times; then once more inside the writing session (on SQLite
    no other writer can commit meanwhile, as before session 35). On PostgreSQL, whose
    writing sessions read each statement's own snapshot, a stamp that changed while that
    last analysis ran is a :class:`~railwatch.storage.db.BusyError` and nothing is
    stored. Acknowledgements and notes made meanwhile are kept (``repo.replace_alerts``
    reads the alerts in the writing session). A site removed meanwhile is a
    :class:`NotFoundError`, nothing stored."""
    with db.session(readonly=True) as session:
        row = repo.get_site(session, site)
        site_id, name = row.id, row.name
    for attempt in range(1, STORE_ATTEMPTS + 1):
        with db.session(readonly=True) as session:
            inputs = _read_inputs(session, _site_by_id(session, site_id, name))
        alerts = _analyze(inputs, settings, as_of)
        with db.session() as session:
            row = _hold_site_id(session, site_id, name)
            if _stamp(session, row) == inputs.stamp:
                return _store(session, row, alerts, inputs, as_of)
        log.info(
            "the counts or events of site %r changed while it was analysed (try %d of %d): "
            "analysing it again",
            name,
            attempt,
            STORE_ATTEMPTS,
        )
    with db.session() as session:  # the last try: read, analyse and store in one
        row = _hold_site_id(session, site_id, name)
        inputs = _read_inputs(session, row)
        alerts = _analyze(inputs, settings, as_of)
        if _stamp(session, row) != inputs.stamp:
            raise BusyError(
                f"the counts or events of site {name!r} changed while it was analysed, "
                f"{STORE_ATTEMPTS + 1} times in a row (another railwatch run or the "
                "dashboard is recording images, reviews or events of it): nothing was "
                "stored, the stored alerts are as they were; run the analysis again once "
                "that run ends"
            )
        return _store(session, row, alerts, inputs, as_of)


def _site_by_id(session: Session, site_id: int, name: str) -> Site:
    """The site of id ``site_id`` (read by :func:`analyze_and_store` as ``name``), or
    :class:`NotFoundError` saying it was removed while it was analysed."""
    row = session.get(Site, site_id)
    if row is None:
        raise NotFoundError(_removed(name))
    return row


def _hold_site_id(session: Session, site_id: int, name: str) -> Site:
    """:func:`_hold_site` for the site of id ``site_id`` (``name``), returning its row,
    but ``FOR NO KEY UPDATE`` (PostgreSQL): the writing sessions of two analyses of the
    site take turns, as on SQLite (2026-12-06, session 35 review). Held ``FOR KEY
    SHARE``, they did not: the stamp is compared at one instant of a READ COMMITTED
    session, so an analysis that compared it, then a scene recorded and a later
    analysis storing the alerts of the new state, then the first one writing its own,
    stored the alerts of the state before the scene over the later ones; and two
    analyses adding the same new alerts at once failed on the alerts' unique key (the
    second's insert waited for the first's, then found its key taken). It conflicts
    with a removal (as the key-share lock), ``site edit``'s update of the row (which
    waits for this short session) and another analysis' writing session, not with the
    writers that hold the row ``FOR KEY SHARE`` (``repo.hold_site``: ingest, events,
    reviews) nor a recording; taken first, as the lock order in
    :mod:`railwatch.pipeline` asks of the site's row."""
    held = session.scalar(select(Site.id).where(Site.id == site_id).with_for_update(key_share=True))
    if held is None:
        raise NotFoundError(_removed(name))
    return _site_by_id(session, site_id, name)


def _removed(name: str) -> str:
    return (
        f"site {name!r} was removed while it was being analysed (by another "
        "railwatch command or the dashboard): nothing was stored"
    )


def _after(
    points: Sequence[CountPoint], as_of: datetime, utc_offset: timedelta
) -> list[CountPoint]:
    """The ``points`` :func:`analyze_series` leaves out as of ``as_of``: those of later
    local days at the site (``utc_offset``), not those timed after it that day."""
    last = local_day(as_of, utc_offset)
    return [p for p in points if local_day(p.when, utc_offset) > last]


def _hold_site(session: Session, site: str) -> None:
    """Lock the site's row ``FOR KEY SHARE`` (PostgreSQL; SQLite's writers take turns
    already), before any other lock of the analysis: the first step of the lock order in
    :mod:`railwatch.pipeline`'s docstring. The analysis then locks the site's alerts
    (:func:`_move_keys`, ``repo.replace_alerts``) and inserts new ones, each taking the
    same key-share lock (the foreign key check), which a removal of the site holding the
    row (``repo.remove_site``: its delete, then the cascades to the alerts) blocked:
    before session 32 the two deadlocked on PostgreSQL when the removal came between the
    analysis' alert locks and its first insert. Held first, the lock makes a removal wait
    for the analysis, which does not block a change to the site's other columns (``site
    edit``) nor another analysis. Raises :class:`NotFoundError` when the site was removed
    while the analysis waited for it."""
    row = repo.get_site(session, site)
    held = session.scalar(
        select(Site.id).where(Site.id == row.id).with_for_update(read=True, key_share=True)
    )
    if held is None:
        raise NotFoundError(_removed(row.name))


def utc_day_keys(
    alerts: Iterable[Alert], points: Iterable[CountPoint], utc_offset: timedelta
) -> dict[str, str]:
    """The key each alert had before session 31, where it is not its key now: ``kind:
    class:day`` by the UTC day of its image (a silence: of the last usable image before
    it, or of the first image where none was usable), the analysis keying by local days
    at the site (``utc_offset`` east of UTC) since. Keyed by the alert's key now."""
    if not utc_offset:
        return {}
    usable: dict[date, datetime] = {}  # the latest usable image of each local day
    first: dict[date, datetime] = {}  # the first image of each local day
    for p in points:
        when = as_utc(p.when)
        local = local_day(when, utc_offset)
        if p.is_usable and (local not in usable or when > usable[local]):
            usable[local] = when
        if local not in first or when < first[local]:
            first[local] = when
    out: dict[str, str] = {}
    for a in alerts:
        head, _, day_text = a.key.rpartition(":")
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            continue
        if a.kind != "quality":
            utc = as_utc(a.when).date()
        else:
            image = (usable if a.metrics.get("last_usable") else first).get(day)
            utc = day if image is None else image.date()
        if utc != day:
            out[a.key] = f"{head}:{utc.isoformat()}"
    return out


def _move_keys(
    session: Session, site: repo.SiteRef, alerts: Iterable[Alert], old: dict[str, str]
) -> None:
    """Give a stored alert whose key moved to another day (``old``: new key -> old key,
    :func:`utc_day_keys`) its new key, so that :func:`repo.replace_alerts` updates it as
    the same alert: its acknowledgement, note and id stay (a change to what it says is
    marked as for any acknowledged alert). Otherwise the alert under the old key would be
    retired (acknowledged) or removed and one under the new key added, unacknowledged.

    An old key that an alert raised now still has as its own key (another image of that
    UTC day, of its own local day) stays with that alert, and a new key already stored
    under an alert that is not moving keeps that alert. Only a row whose key is not its
    image's local day moves (:func:`_utc_keyed`). Keys move at once, so a run of
    alerts on consecutive days each moving a day on (all of a UTC+12 site's morning
    images) each keep their own."""
    if not old:
        return
    staying = {a.key for a in alerts} - old.keys()  # raised now under their own old key
    row_site = repo.get_site(session, site)
    sid, offset = row_site.id, site_utc_offset(row_site)
    rows = {
        row.key: row
        for row in session.scalars(
            select(AlertRow)
            .where(AlertRow.site_id == sid)
            .order_by(AlertRow.id)  # the lock order of repo.replace_alerts
            .with_for_update()
        )
    }
    moving = {
        new: rows[former]
        for new, former in old.items()
        if former in rows and former not in staying and _utc_keyed(rows[former], offset)
    }
    targets = dict(moving)
    while blocked := [n for n in targets if rows.get(n) not in (None, *targets.values())]:
        for n in blocked:  # its new key is held by an alert that stays
            del targets[n]
    if not targets:
        return
    for row in targets.values():  # first apart (the keys are unique at every step)
        row.key = f"~moving~{row.id}"
    session.flush()
    for new, row in targets.items():
        row.key = new
    session.flush()


def _utc_keyed(row: AlertRow, utc_offset: timedelta) -> bool:
    """Whether a stored alert's key may be session 30's, by the UTC day of its image: its
    day is not its image's local day at the site. An alert stored since under its local
    key (an image whose local day is its UTC day) is not moved onto another image's
    alert when re-analysis no longer raises it: it kept its acknowledgement and note for
    that other alert (review of session 31). A silence's key cannot be told apart."""
    if row.kind == "quality":
        return True
    return row.key.rpartition(":")[2] != local_day(row.when, utc_offset).isoformat()


def alerts_naming_event(session: Session, event_id: int) -> int:
    """How many of the stored active alerts of the event's site name event ``event_id``
    ("18 days after: LABEL"): they keep naming it until the site is analysed again, also
    after the event is removed or edited. An event of the same label on another day is
    another event. (``railwatch event remove`` counted them itself; since 2026-12-07,
    session 45, ``DELETE /api/events/{id}`` says it too.) Raises NotFoundError for an
    unknown id."""
    from railwatch.analysis.events import names_event

    ev = repo.get_event(session, event_id)
    value = Event(when=ev.date, label=ev.label)
    return sum(
        names_event(a.when, a.metrics, a.event_days, a.event_label, a.explanation, value)
        for a in session.scalars(
            select(AlertRow).where(
                AlertRow.site_id == ev.site_id, AlertRow.active, AlertRow.event_days.is_not(None)
            )
        )
    )
