"""Read what a report needs from storage, as :mod:`railwatch.report.model` values.

Only read queries, written against the storage models; the baselines (the chart's band,
the headline's, the evidence's) are those the analysis judged each image with
(``analysis.alerts.baseline_trace``, :func:`judged_baselines`), so the band on the chart
is the one the alerts were judged against.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from railwatch.counting import needs_tracks
from railwatch.detect.base import tells_class
from railwatch.imagery.inspect import rgb_of, sun_of
from railwatch.imagery.quality import causes
from railwatch.imagery.read import item_nodata_of, item_scaling_of, radiometry_of
from railwatch.report.model import (
    AlertRow,
    BaselinePoint,
    EventRow,
    SceneRow,
    method_words,
    site_day,
)
from railwatch.storage import repo, serialize
from railwatch.storage.models import ANALYST, Alert, Count, Event, Scene, SceneReview, Site

if TYPE_CHECKING:
    from railwatch.analysis.alerts import JudgedBaseline
    from railwatch.analysis.baseline import Record
    from railwatch.analysis.series import CountSeries
    from railwatch.analysis.settings import AlertSettings
    from railwatch.analysis.types import CountPoint

#: Classes stored in the counts table that are not car classes.
NON_CLASS_ROWS = frozenset({"all", "covered"})
#: Width of the baseline band, in robust spreads either side of the centre.
BAND_SPREADS = 2.0


def site_offset(site: Site) -> timedelta:
    """The site's local time east of UTC, as the analysis takes it
    (:func:`railwatch.analysis.events.site_utc_offset`, its nominal solar zone)."""
    from railwatch.analysis.events import site_utc_offset

    return site_utc_offset(site)


def in_period(day: date, date_from: date | None, date_to: date | None) -> bool:
    """True when ``day`` (an image's or alert's local day at the site, :attr:`SceneRow.day`,
    :attr:`AlertRow.day`) falls within the (inclusive, possibly open) period, whose days
    are local days at the site (``--from``/``--to``; until 2026-12-05 UTC days, so an
    image of the local 2024-02-05 taken at 22:30 UTC on 2024-02-04 at a UTC+12 site was
    left out of a report from 2024-02-05)."""
    return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)


def row_total(
    count: float | None, low: float | None, high: float | None, usable: bool
) -> tuple[float | None, float | None, float | None]:
    """A row's total and its interval: the stored ones of a usable image; none for an
    unusable image (never read as an empty yard) or one without a total."""
    if not usable or count is None:
        return None, None, None
    return float(count), None if low is None else float(low), None if high is None else float(high)


def row_reviewed(detector: str | None, usable: bool) -> bool:
    """Whether a row's total is the analyst's (its detector :data:`ANALYST`), shown only
    for a usable image (the rule of :func:`scene_row` and :func:`total_rows`)."""
    return usable and detector == ANALYST


def scene_row(
    scene: Scene,
    counts: Sequence[Count],
    review: SceneReview | None = None,
    utc_offset: timedelta = timedelta(0),
) -> SceneRow:
    """A :class:`SceneRow` from a scene and its count rows (and the analyst's review of
    it, when there is one: a total that is the analyst's says so, with the detector's);
    ``utc_offset`` its site's (:func:`site_offset`), whose days the row is shown by."""
    by_cls = {c.cls: c for c in counts}
    total = by_cls.get("all")
    usable = repo.usable_processed(scene.usable, scene.status)
    # the one rule of an analyst's total (row_reviewed) for every field of the review
    # (2026-12-08, session 53: the outlines and the detector's total read a local
    # `reviewed and usable` of their own, and the note kept an unusable image's)
    reviewed = row_reviewed(total.detector if total is not None else None, usable)
    machine = ((review.machine or {}) if review is not None else {}).get("all") or {}
    detector_total = machine.get("count") if reviewed else None
    method = total.method if total is not None else None
    covered = by_cls.get("covered") if tells_class("covered", method) else None
    if total is not None:
        shown = row_total(total.count, total.low, total.high, usable)
    else:
        shown = (None, None, None)
    # the causes, not how its resolution is counted (session 48: a cloudy 3 m image read
    # "no: cloud covers 95 % ..., resolution 3.0 m: cars are not separable ...")
    reasons = tuple(causes(scene.reasons or ()))
    if scene.status in ("ingested", "failed"):
        reasons = ("not processed",) if scene.status == "ingested" else ("processing failed",)
        if scene.status == "failed" and needs_tracks(scene.error):
            # not a failure: a coarse image that cannot be read without the site's track
            # centrelines, as `railwatch process` says (session 40)
            reasons = (needs_tracks_reason(scene.site.name),)
    return SceneRow(
        scene_id=scene.id,
        when=scene.acquired_at,
        sensor=scene.sensor,
        gsd=float(scene.gsd),
        usable=usable,
        clear_fraction=scene.clear_fraction,
        coverage=repo.coverage_shown(scene.quality_coverage, scene.coverage),
        total=shown[0],
        low=shown[1],
        high=shown[2],
        by_class={
            c.cls: float(c.count)
            for c in counts
            if c.cls not in NON_CLASS_ROWS and tells_class(c.cls, method)
        }
        if usable
        else {},
        covered=round(covered.count) if usable and covered is not None else None,
        class_counts={
            c.cls: (float(c.count), float(c.low), float(c.high), c.detector == ANALYST)
            for c in counts
            if c.cls != "all" and tells_class(c.cls, method)
        }
        if usable
        else {},
        method=method,
        reasons=reasons,
        uri=scene.uri,
        mask_uri=scene.mask_uri,
        detector=scene.detector,
        detector_version=scene.detector_version,
        rgb_bands=rgb_of(scene.meta),
        occupied=repo.occupied_runs_of(scene) if usable else None,
        item_scaling=item_scaling_of(scene.meta),
        item_nodata=item_nodata_of(scene.meta),
        radiometry=radiometry_of(scene.meta),
        registration=(scene.meta or {}).get(repo.REGISTRATION_KEY),
        tracks=repo.tracks_read(scene.meta) if usable else None,
        reviewed=reviewed,
        detector_total=float(detector_total) if detector_total is not None else None,
        review_outlines=reviewed and review is not None and review.cars is not None,
        review_note=(review.note or "") if reviewed and review is not None else "",
        sun_elevation=sun[1] if (sun := sun_of(scene.meta)) is not None else None,
        utc_offset=utc_offset,
        # the detector's interval (an analyst's count is its own interval)
        spread_assumed=repo.spread_assumed_of(scene.meta) if usable and not reviewed else None,
    )


def scene_rows(session: Session, site: Site) -> list[SceneRow]:
    """Every scene of a site in time order, with its counts (and analysts' reviews)."""
    scenes = repo.list_scenes(session, site)
    counts: dict[int, list[Count]] = defaultdict(list)
    rows = session.scalars(
        select(Count).join(Scene, Count.scene_id == Scene.id).where(Scene.site_id == site.id)
    )
    for c in rows:
        counts[c.scene_id].append(c)
    reviews = {
        r.scene_id: r
        for r in session.scalars(
            select(SceneReview)
            .join(Scene, SceneReview.scene_id == Scene.id)
            .where(Scene.site_id == site.id)
        )
    }
    offset = site_offset(site)
    return [scene_row(s, counts.get(s.id, []), reviews.get(s.id), offset) for s in scenes]


def total_records(session: Session, site: Site) -> list[tuple[Any, ...]]:
    """Each scene of a site, by id, as the plain columns the site total's baseline is
    computed from (:func:`total_rows`): its id, time, state, usable flag, resolution,
    clear fraction, footprint coverage and quality coverage, then its total's count,
    interval, method and detector (None without a total), in one statement of plain
    tuples. The web API's ``ETag`` of the baseline hashes them as they come."""
    from sqlalchemy import and_

    return [
        tuple(row)
        for row in session.execute(
            select(
                Scene.id,
                Scene.acquired_at,
                Scene.status,
                Scene.usable,
                Scene.gsd,
                Scene.clear_fraction,
                Scene.coverage,
                Scene.quality_coverage,
                Count.count,
                Count.low,
                Count.high,
                Count.method,
                Count.detector,
            )
            .outerjoin(Count, and_(Count.scene_id == Scene.id, Count.cls == "all"))
            .where(Scene.site_id == site.id)
            .order_by(Scene.id)
        )
    ]


def total_rows(
    records: Sequence[tuple[Any, ...]], utc_offset: timedelta = timedelta(0)
) -> list[SceneRow]:
    """The site's images in time order (:func:`scene_rows`' order) from
    :func:`total_records`, each with what :func:`scene_row` gives of its site total and
    its quality alone: no class counts, files, metadata, reasons or review notes. What
    :func:`baseline_track` reads of the site total, the same to the last bit as from
    :func:`scene_rows`' rows, for the dashboard's ``GET /api/sites/{site}/baseline``:
    reading the scenes and their count rows as ORM objects (about 40,000 at 10,000
    images, and their metadata's JSON) was over half of its 1.75-1.98 s (2026-12-07,
    session 51)."""
    out = []
    for rec in sorted(records, key=lambda r: (r[1], r[0])):
        sid, when, status, usable_flag, gsd, clear, coverage, q_coverage = rec[:8]
        count, low, high, method, detector = rec[8:]
        usable = repo.usable_processed(usable_flag, status)
        shown = row_total(count, low, high, usable)
        out.append(
            SceneRow(
                scene_id=sid,
                when=when,
                sensor=None,
                gsd=float(gsd),
                usable=usable,
                clear_fraction=clear,
                coverage=repo.coverage_shown(q_coverage, coverage),
                total=shown[0],
                low=shown[1],
                high=shown[2],
                method=method,
                reviewed=row_reviewed(detector if count is not None else None, usable),
                utc_offset=utc_offset,
            )
        )
    return out


def changed_since_words(alert: Alert) -> str | None:
    """'changed since acknowledged: was 40 (medium)' for an acknowledged alert that
    re-analysis has changed since (``metrics[repo.CHANGED_SINCE_ACK]``, what the analyst
    acknowledged; :func:`railwatch.storage.repo.changed_since_words`); None for any
    other alert."""
    mark = serialize.changed_since_ack(alert.metrics)
    if not alert.acknowledged or mark is None:
        return None
    return repo.changed_since_words(
        mark, value=alert.value, severity=alert.severity, scene_id=alert.scene_id
    )


def alert_row(alert: Alert, utc_offset: timedelta = timedelta(0)) -> AlertRow:
    """An :class:`AlertRow` from a stored alert: ``note`` the analyst's notes alone,
    ``changed_since`` :func:`changed_since_words` (9409cb7 had put it in ``note``);
    ``utc_offset`` its site's (:func:`site_offset`), whose days the alert is shown by."""
    return AlertRow(
        key=alert.key,
        kind=alert.kind,
        severity=alert.severity,
        when=alert.when,
        cls=alert.cls,
        value=alert.value,
        explanation=alert.explanation,
        event_label=alert.event_label,
        event_days=alert.event_days,
        scene_id=alert.scene_id,
        acknowledged=bool(alert.acknowledged),
        note=alert.ack_note,
        changed_since=changed_since_words(alert),
        utc_offset=utc_offset,
        method=_method_of(alert.metrics),
    )


def _method_of(metrics: object) -> str | None:
    """An alert's ``metrics["method"]`` (a str), or None."""
    method = metrics.get("method") if isinstance(metrics, dict) else None
    return method if isinstance(method, str) else None


def alert_rows(session: Session, site: Site) -> list[AlertRow]:
    """Active alerts of a site, oldest first."""
    rows = repo.list_alerts(session, site, active_only=True)
    offset = site_offset(site)
    return sorted((alert_row(a, offset) for a in rows), key=lambda a: (a.when, a.key))


def event_rows(session: Session, site: Site) -> list[EventRow]:
    """Events of a site, oldest first."""
    rows = session.scalars(select(Event).where(Event.site_id == site.id).order_by(Event.date))
    return [EventRow(when=e.date, label=e.label) for e in rows]


def baseline_track(
    rows: Sequence[SceneRow], settings: object | None = None, *, keep: bool = True
) -> list[BaselinePoint]:
    """The baseline at each counted image of the site's main counting method (the one
    with the most counted images), as the alert rules judged that method's series
    (``analysis.series.split_by_method``): the centre ± :data:`BAND_SPREADS` spreads the
    analysis judged the image with (:func:`judged_baselines`: after a raised shift the
    new level's, deseasonalised once the history is long enough, the series' own noise in
    the spread; none where it judged none), and the trailing record over
    ``record_years`` (``analysis.baseline.trailing_record``). Counts made by another
    method (e.g. occupied length at 3 m) get no band: they are judged against their own,
    separate history.

    ``keep=False`` computes it without filling this module's caches (:data:`_RECENT`,
    :func:`_traces`, :func:`_parts`), which hold the rows, points and traces of the last
    sites asked of: for a single answer, as the dashboard's ``GET
    /api/sites/{site}/baseline``, whose rows are read again for each request (2026-12-07,
    session 50 review: each call left about 35 MiB held at 10,000 images, 16 calls'
    worth, 257 -> 815 MiB resident after 19 calls)."""
    by_method: dict[str, list[SceneRow]] = {}
    for r in rows:
        if r.counted and r.method != "presence":
            by_method.setdefault(r.method or "objects", []).append(r)
    if not by_method:
        return []
    main = max(sorted(by_method), key=lambda m: len(by_method[m]))
    return _baseline_track_one(rows, main, settings, keep=keep)


def baseline_track_of(
    rows: Sequence[SceneRow], method: str, settings: object | None = None
) -> list[BaselinePoint]:
    """The baseline at each counted image of one counting ``method`` (``objects``,
    ``length``), as the analysis judged that method's series (see :func:`baseline_track`)."""
    return _baseline_track_one(rows, method, settings)


def _baseline_track_one(
    rows: Sequence[SceneRow], method: str, settings: object | None = None, *, keep: bool = True
) -> list[BaselinePoint]:
    """The baseline at each counted image of ``method`` among the site's images ``rows``,
    judged as the analysis judges the series: at the site's local time
    (``analysis.series.at_site``), the images of one local day one point
    (``build_series``: the day's best image), each day's baseline and record from the
    earlier days only. Every image of a day gets its day's. (Until 2026-12-05 each image
    was its own point on UTC day numbers, so an image had the record of an earlier image
    of its own local day, which the analysis never compares.)

    The centre and band are those the count rules judged the day with
    (:func:`judged_baselines`); until 2026-12-07 (session 45) a plain median of the
    earlier days computed here, which after a raised shift stayed at the old level (the
    demo-like Tumangang report: "Baseline 15" under 73 cars, after a shift alert saying
    the new level is the baseline from here on), and took neither the month factors nor
    the series' noise. The records are the method's own images' (as before)."""
    from railwatch.analysis.baseline import trailing_records
    from railwatch.analysis.series import at_site, build_series

    cfg = _alert_settings(settings)
    counted = sorted(
        (r for r in rows if r.counts_cars and (r.method or "objects") == method),
        key=lambda r: r.when,
    )
    if not counted:
        return []
    points = [_total_point(r, interval=False) for r in counted]
    series = build_series(at_site(points, counted[0].utc_offset))["all"]
    days, values = series.arrays()
    index = {p.when.date(): i for i, p in enumerate(series.points)}
    # every day's trailing record at once (``trailing_record`` of each image, which it
    # equals: session 51, a tenth of the dashboard's baseline at 10,000 images)
    records = trailing_records(days, values, cfg.record_years)
    judged = judged_records(days, values, cfg, records=records)
    baselines = judged_baselines(rows, "all", cfg, keep=keep).get(method, {})
    out: list[BaselinePoint] = []
    for row in counted:
        day = row.day
        i = index[day]
        base = baselines.get(day)
        centre = low = high = None
        if base is not None and base.centre is not None and base.spread is not None:
            centre = base.centre
            low = max(centre - BAND_SPREADS * base.spread, 0.0)
            high = centre + BAND_SPREADS * base.spread
        rec = records[i]
        out.append(
            BaselinePoint(
                when=row.when,
                centre=centre,
                low=low,
                high=high,
                record=rec.value if rec else None,
                judged_record=judged[i],
            )
        )
    return out


def judged_baselines(
    rows: Sequence[SceneRow], cls: str = "all", settings: object | None = None, *, keep: bool = True
) -> dict[str, dict[date, JudgedBaseline]]:
    """Per counting method, per local day of the site, the baseline the analysis judged
    that day's image of class ``cls`` with (``analysis.alerts.baseline_trace``), from the
    site's images ``rows`` as the analysis reads its stored counts
    (:func:`_series_points`, ``build_series`` of the site's local days, then
    ``split_by_method``). The one source of the baselines a report shows (since
    2026-12-07, session 45). ``keep=False``: without filling the caches
    (:func:`baseline_track`)."""
    cfg = _alert_settings(settings)
    return {
        m: {b.when.date(): b for b in trace}
        for m, (trace, _) in _of_rows(rows, cls, cfg, keep=keep)[1].items()
    }


#: The last few (rows, their length, class, settings, points, traces) :func:`_of_rows`
#: gave: the evidence asks of one site's rows image after image, and building and hashing
#: their points took most of its time (about 10 ms a question at 2,000 images).
_RECENT: tuple[tuple[Any, ...], ...] = ()
#: How many :data:`_RECENT` holds: more than the series a site's alerts may be of (the
#: total, covered loads and every car class: 10), as many as :func:`_traces` keeps. A
#: report asks of its alerts in date order, their classes mixed: with 4 held, a site
#: whose alerts were of 7 series had its points built again for most alerts (55 times
#: for the 222 alerts of 1,000 images; 2026-12-07, session 48).
_RECENT_SIZE = 16


def _of_rows(
    rows: Sequence[SceneRow], cls: str, cfg: AlertSettings, *, keep: bool = True
) -> tuple[tuple[CountPoint, ...], dict[str, tuple[tuple[JudgedBaseline, ...], dict[date, int]]]]:
    """The points of ``cls`` of the site's images ``rows`` (:func:`_series_points`) and
    their traces (:func:`_traces`), those of the same rows object asked for last kept;
    with ``keep=False`` computed, and kept nowhere (:func:`baseline_track`)."""
    global _RECENT
    for held, n, c, settings, points, traces in _RECENT:
        if held is rows and n == len(rows) and c == cls and settings == cfg:
            return points, traces
    points = _series_points(rows, cls)
    offset = rows[0].utc_offset if rows else timedelta(0)
    if not keep:
        return points, _traces_of(_parts.__wrapped__(points, cls, offset), cfg)
    traces = _traces(points, cls, offset, cfg)
    _RECENT = ((rows, len(rows), cls, cfg, points, traces), *_RECENT[: _RECENT_SIZE - 1])
    return points, traces


def _total_point(r: SceneRow, *, interval: bool = True) -> CountPoint:
    """The site total of a counted image as the analysis reads it from storage; without
    its ``interval`` (low and high None: the records' series, :func:`baseline_track`)."""
    from railwatch.analysis.types import CountPoint

    return CountPoint(
        when=r.when,
        count=float(r.total or 0.0),
        low=r.low if interval else None,
        high=r.high if interval else None,
        cls="all",
        clear_fraction=r.clear_fraction,
        coverage=r.coverage,
        method=r.method or "objects",
        scene_id=r.scene_id,
        gsd=r.gsd,
        reviewed=r.reviewed,
    )


def _series_points(rows: Sequence[SceneRow], cls: str) -> tuple[CountPoint, ...]:
    """The points the analysis reads of the site total and, for another class, of ``cls``
    (``storage.repo.count_series``): one per counted image (a presence image's flag too,
    which ``split_by_method`` leaves out), with its interval, method, quality and whether
    the count is an analyst's. A class a method cannot tell has no count (None); one it
    can but was not stored is 0."""

    out: list[CountPoint] = []
    for r in rows:
        if not r.counted:
            continue
        total = _total_point(r)
        out.append(total)
        if cls in ("all", "total"):
            continue
        stored = r.class_counts.get(cls)
        if stored is not None:
            count, low, high, mine = stored
            out.append(replace(total, count=count, low=low, high=high, cls=cls, reviewed=mine))
            continue
        told = count_of(r, cls)
        if told is None and r.counts_cars and tells_class(cls, total.method):
            told = 0.0  # covered loads not stored: none (as count_series)
        # not stored: none of it (0, as count_series); rows made by hand give their counts
        bound = 0.0 if told == 0.0 else None
        out.append(replace(total, count=told, low=bound, high=bound, cls=cls, reviewed=False))
    return tuple(out)


@functools.lru_cache(maxsize=16)
def _traces(
    points: tuple[CountPoint, ...], cls: str, offset: timedelta, settings: AlertSettings
) -> dict[str, tuple[tuple[JudgedBaseline, ...], dict[date, int]]]:
    """``baseline_trace`` of each method's part of the class series of ``points`` at a
    site ``offset`` east of UTC, with the index of each local day in it (cached: the
    evidence asks for one image after another)."""
    return _traces_of(_parts(points, cls, offset), settings)


def _traces_of(
    parts: dict[str, CountSeries], settings: AlertSettings
) -> dict[str, tuple[tuple[JudgedBaseline, ...], dict[date, int]]]:
    """``baseline_trace`` of each method's part ``parts`` of a class series (:func:`_parts`),
    with the index of each local day in it (:func:`_traces`, uncached)."""
    from railwatch.analysis.alerts import baseline_trace

    out = {}
    for m, part in parts.items():
        trace = baseline_trace(part, settings)
        out[m] = (trace, {b.when.date(): j for j, b in enumerate(trace)})
    return out


@functools.lru_cache(maxsize=16)
def _parts(points: tuple[CountPoint, ...], cls: str, offset: timedelta) -> dict[str, CountSeries]:
    """Each method's part of the class series of ``points`` at a site ``offset`` east of
    UTC (``build_series`` of the site's local days, then ``split_by_method``), as
    :func:`_traces` and :func:`_added` judge them (cached: building them took about 0.15
    s at 5,000 images, once for every image :func:`judged_at` adds; review, session 45)."""
    from railwatch.analysis.series import at_site, build_series, split_by_method

    series = build_series(at_site(points, offset)).get("all" if cls == "total" else cls)
    return {} if series is None else split_by_method(series)


@functools.lru_cache(maxsize=32)
def _added(
    points: tuple[CountPoint, ...],
    cls: str,
    offset: timedelta,
    settings: AlertSettings,
    method: str,
    when: datetime,
) -> tuple[JudgedBaseline, ...] | None:
    """``baseline_trace`` of the ``method`` part of the class series of ``points`` before
    the local day of ``when`` (a site's local time), with an image added at ``when``: the
    baseline such an image would be judged with is the last (cached: the evidence asks
    of the same earlier image for one alert after another; review, session 45). None
    where the class has no count that way."""
    from railwatch.analysis.alerts import baseline_trace
    from railwatch.analysis.series import CountSeries
    from railwatch.analysis.types import CountPoint

    part = _parts(points, cls, offset).get(method)
    if part is None:
        return None
    earlier = tuple(p for p in part.points if p.when.date() < when.date())
    probe = CountPoint(when=when, count=0.0, cls=part.cls, method=method)
    return baseline_trace(CountSeries(cls=part.cls, points=(*earlier, probe)), settings)


def judged_records(
    days: np.ndarray,
    values: np.ndarray,
    settings: object,
    *,
    records: Sequence[Record | None] | None = None,
) -> list[float | None]:
    """Per point of a series, the record a record alert there compares with, as the
    analysis's record rule keeps it (``analysis.alerts``: a run of records, each within
    ``record_episode_days`` of the last, is judged against the trailing record at the
    run's first image): the trailing record, or within such a run, while it may go on,
    the record before it. (Until 2026-12-06, session 35, the chart drew the trailing
    record alone, which each image of a rise raised: on the demo it climbed with the rise
    to 44 under the 68 cars of 2023-10-05, whose alert says "against a 5-year record of
    15 ...: 4.5x the record".) ``records``: the series' ``trailing_records``, where the
    caller has them already."""
    from railwatch.analysis.baseline import trailing_records

    cfg = _alert_settings(settings)
    out: list[float | None] = []
    # (day of the run's last record, the record before the run)
    run: tuple[float, float] | None = None
    for day, value, rec in zip(
        days.tolist(),
        values.tolist(),
        trailing_records(days, values, cfg.record_years) if records is None else records,
        strict=True,
    ):
        if run is not None and day - run[0] > cfg.record_episode_days:
            run = None  # a record now would begin a run of its own
        if rec is not None and value > rec.value:
            run = (day, rec.value if run is None else run[1])
        out.append(run[1] if run is not None else (rec.value if rec is not None else None))
    return out


def count_of(row: SceneRow, cls: str = "all") -> float | None:
    """The image's count of ``cls`` (``all`` the total, ``covered``, or a car type);
    None when it was not counted, only tells whether a long train is present (10 m) or
    its method does not tell types (3 m)."""
    if not row.counts_cars:  # not counted, or a presence flag (10 m): no count of cars
        return None
    if cls in ("all", "total"):
        return float(row.total or 0.0)
    if cls == "covered":
        return float(row.covered) if row.covered is not None else None
    if not tells_class(cls, row.method or "objects"):
        return None
    return float(row.by_class.get(cls, 0.0))


def spread_at(
    rows: Sequence[SceneRow],
    when: datetime,
    settings: object | None = None,
    cls: str = "all",
    method: str | None = None,
) -> tuple[float, float] | None:
    """(centre, spread) of the baseline of ``cls`` (the total by default) the analysis
    judged an image at ``when`` with (:func:`judged_at`); None where it judged none
    there (too few earlier images, or only old ones: :func:`no_baseline_reason`).

    Where it judged none because the image is of a new level since a raised shift that
    has too few images for a baseline yet, the last baseline it judged with before (that
    of the image the shift was raised at): the evidence looks for an image of the usual
    state before the change, and the alerts of the change are judged against it.

    With ``method`` (``objects``, ``length``: the alert image's), of that method's series
    only, as the alert rules judge an image (``split_by_method``): car equivalents from
    track length at 3 m are not on the scale of cars counted one by one. (Until session
    28 every method was mixed, so a 0.3 m record's baseline took in 3 m estimates.) Until
    2026-12-07 (session 45) a plain median of the earlier images computed here, from 3 of
    them, without the analysis's level after a shift, month factors or series noise."""
    found = judged_at(rows, when, settings, cls, method)
    if found is None:
        return None
    trace, j = found
    base = trace[j]
    if base.centre is None and base.level_from is not None and base.too_few:
        base = next((b for b in reversed(trace[:j]) if b.centre is not None), base)
    if base.centre is None or base.spread is None:
        return None
    return (base.centre, base.spread)


def judged_at(
    rows: Sequence[SceneRow],
    when: datetime,
    settings: object | None = None,
    cls: str = "all",
    method: str | None = None,
) -> tuple[tuple[JudgedBaseline, ...], int] | None:
    """The analysis's baselines of the series of ``cls`` counted by ``method`` (the
    method of the image at ``when`` when None, else that of most images) and the index
    in it of the image at ``when``: the day's image where the series has one that day,
    else an image added there (judged from the earlier days only, as an image there would
    be). None when the site has no count of ``cls`` that way."""
    from railwatch.analysis.series import as_utc

    cfg = _alert_settings(settings)
    offset = rows[0].utc_offset if rows else timedelta(0)
    points, traces = _of_rows(rows, cls, cfg)
    if method is None:
        same = [r.method or "objects" for r in rows if r.counts_cars and r.when == when]
        most = max(sorted(traces), key=lambda m: len(traces[m][0]), default=None)
        method = same[0] if same else most
    if method is None or method not in traces:
        return None
    day = site_day(when, offset)
    trace, index = traces[method]
    if day in index:
        return trace, index[day]
    # no image of the series that day: one added there, after the earlier days
    added = _added(points, cls, offset, cfg, method, as_utc(when) + offset)
    if added is None:
        return None
    return added, len(added) - 1


def _alert_settings(settings: object | None) -> AlertSettings:
    from railwatch.analysis.settings import AlertSettings

    return settings if isinstance(settings, AlertSettings) else AlertSettings()


def _new_level_words(base: JudgedBaseline) -> str:
    """'a new level since the shift from 2023-09-18 raised on 2023-09-25' (of an image
    judged after a raised shift: ``level_from`` is set)."""
    start = base.level_from.date() if base.level_from is not None else None
    raised = base.level_raised.date() if base.level_raised is not None else None
    return f"a new level since the shift from {start} raised on {raised}"


def no_baseline_reason(
    rows: Sequence[SceneRow],
    when: datetime,
    settings: object | None = None,
    cls: str = "all",
    method: str | None = None,
) -> str | None:
    """Why :func:`spread_at` finds no baseline for an image at ``when`` (same arguments),
    in words with the numbers; None when it finds one. Either the history is too short
    (fewer earlier usable images counted that way than the baseline needs), or the ones
    it needs are older than twice the baseline window (of the new level, after a raised
    shift: since 2026-12-07, session 45, from the analysis's own baselines)."""
    if spread_at(rows, when, settings, cls, method) is not None:
        return None
    cfg = _alert_settings(settings)
    how = f" counted this way ({method_words(method)})" if method is not None else ""
    found = judged_at(rows, when, settings, cls, method)
    if found is None:
        return f"the history is too short for a baseline: no earlier usable image{how} before it"
    trace, j = found
    base = trace[j]
    need, have = base.min_points, base.level_images
    of_level = f" of {_new_level_words(base)}" if base.level_from is not None else ""
    if base.too_few:
        return (
            f"the history is too short for a baseline: {have} earlier usable "
            f"image{'' if have == 1 else 's'}{how}{of_level} before it, and a baseline "
            f"needs {need}"
        )
    window = cfg.baseline_window_days
    oldest = trace[j - need].when.date().isoformat()
    return (
        f"there is no baseline: fewer than {need} earlier usable images{how}{of_level} in "
        f"the {window} days before it, and the most recent {need} go back to {oldest}, more "
        f"than {2 * window} days before it"
    )


def no_record_reason(
    rows: Sequence[SceneRow], latest: SceneRow, settings: object | None = None
) -> str:
    """Why the image ``latest`` has no previous record (the headline's "Previous record"
    is a dash), in a few words, from the site's images ``rows`` (every one, not only the
    period's): no image before its day, those before it all unusable (or none of them
    counted, with why), none counted its way, or none within the record's years. The
    record is that of earlier local days (:func:`baseline_track_of`). Until 2026-12-06
    (session 39) the dash stood alone: a site's first image and one after a year of
    clouds read the same."""
    cfg = _alert_settings(settings)
    earlier = [r for r in rows if r.day < latest.day]
    n = len(earlier)
    if not earlier:
        return "no earlier image of this site"
    counted = [r for r in earlier if r.counts_cars]
    if not counted:
        why = Counter(_not_counted_why(r) for r in earlier)
        if n == 1:
            (only,) = why
            return (
                f"the one earlier image was {only}"
                if only == "unusable"
                else (f"the one earlier image was not counted ({only})")
            )
        if set(why) == {"unusable"}:
            return f"all {n} earlier images were unusable"
        parts = ", ".join(f"{k} {w}" for w, k in sorted(why.items(), key=lambda kv: -kv[1]))
        return f"none of the {n} earlier images was counted ({parts})"
    method = latest.method or "objects"
    same = [r for r in counted if (r.method or "objects") == method]
    if not same:
        return f"no earlier image counted this way ({_METHOD_SHORT.get(method, method)})"
    last = max(same, key=lambda r: r.when)
    return f"no image counted this way in the {cfg.record_years} years before (last {last.day})"


def no_headline_baseline_reason(
    rows: Sequence[SceneRow], latest: SceneRow, settings: object | None = None
) -> str:
    """Why the image ``latest`` has no baseline in the headline (its "Baseline" is a
    dash), in a few words, from the site's images ``rows``: the baseline of an image is
    taken from the earlier local days counted its way (:func:`baseline_track_of`), at
    least ``baseline_min_points`` of them within twice the baseline window
    (``analysis.baseline.robust_baseline``). Since 2026-12-06 (session 39).

    After a raised shift, of the new level (the analysis's baselines, :func:`judged_at`;
    since 2026-12-07, session 45): "a new level since the shift of 2023-09-18 (raised on
    2023-09-25): 2 images of it before this one; a baseline needs 5"."""
    cfg = _alert_settings(settings)
    method = latest.method or "objects"
    found = judged_at(rows, latest.when, cfg, "all", method)
    if found is not None and (base := found[0][found[1]]).level_from is not None:
        trace, j = found
        k = base.level_images
        if base.too_few:
            return (
                f"{_new_level_words(base)}: {k} image{'' if k == 1 else 's'} of it "
                f"before this one; a baseline needs {base.min_points}"
            )
        return (
            f"the {base.min_points} latest images of {_new_level_words(base)} go back to "
            f"{trace[j - base.min_points].when.date()}, over {2 * cfg.baseline_window_days} days "
            "before it"
        )
    days = sorted(
        {
            r.day
            for r in rows
            if r.counts_cars and (r.method or "objects") == method and r.day < latest.day
        }
    )
    need = cfg.baseline_min_points
    mixed = any((r.method or "objects") != method for r in rows if r.counts_cars)
    which = " counted this way" if mixed else " with a count"
    if len(days) < need:
        have = "no earlier day" if not days else f"only {len(days)} earlier day"
        return f"{have}{'s' if len(days) != 1 else ''}{which}; a baseline needs {need}"
    return (
        f"the {need} latest earlier days{which} go back to {days[-need]}, over "
        f"{2 * cfg.baseline_window_days} days before it"
    )


def needs_tracks_reason(site: str) -> str:
    """The reason shown of a failed coarse image of ``site`` that cannot be read without
    the site's track centrelines (:func:`railwatch.counting.needs_tracks`): not a
    failure, and what makes it count (session 40: the report said "processing failed")."""
    return (
        f"{NEEDS_TRACKS}: give them (`railwatch site edit {site} --tracks FILE`) and run "
        f"`railwatch process {site}`"
    )


#: How a coarse image that cannot be read without the site's track centrelines, which it
#: lacks, is named in the report (its kind, :data:`railwatch.report.caveats.REASON_KINDS`).
NEEDS_TRACKS = "not counted, the site has no track centrelines"


def _not_counted_why(row: SceneRow) -> str:
    """Why an image has no count of cars, in a word or two (:func:`no_record_reason`)."""
    if row.reasons and row.reasons[0] in ("not processed", "processing failed"):
        return row.reasons[0]  # never judged usable or not (:func:`scene_row`)
    if row.reasons and row.reasons[0].startswith(NEEDS_TRACKS):
        return "no track centrelines"
    if not row.usable:
        return "unusable"
    return "10 m or coarser" if row.presence else "not counted"


#: Counting methods in the fewest words, for the headline's facts.
_METHOD_SHORT = {"objects": "cars one by one", "length": "occupied track length"}
