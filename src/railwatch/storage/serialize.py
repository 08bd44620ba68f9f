"""Stored objects as JSON-ready dicts (for ``--json`` output, the web API, exports).

Geometries are GeoJSON mappings (WGS84); times are ISO 8601 in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from railwatch.detect.base import is_presence, long_train_present
from railwatch.storage.models import ANALYST, Alert, Count, Event, Scene, SceneReview, Site
from railwatch.storage.repo import (
    CHANGED_SINCE_ACK,
    ReviewCandidate,
    SiteStats,
    alert_version,
    declared_unusable,
    spread_assumed_of,
    unusable_reason,
)

__all__ = [
    "alert_dict",
    "candidate_dict",
    "changed_since_ack",
    "count_dict",
    "event_dict",
    "interval_spread_assumed",
    "is_reviewed",
    "machine_counts",
    "review_dict",
    "review_marks",
    "scene_dict",
    "site_dict",
]


def geojson_geometry(geom: BaseGeometry) -> dict[str, Any]:
    """A GeoJSON mapping of a WGS84 geometry with RFC 7946's ring order: exterior rings
    counter-clockwise, holes clockwise (stored footprints and car polygons come from
    image grids whose rows run south, so their rings were clockwise)."""
    return dict(mapping(shapely.orient_polygons(geom, exterior_cw=False)))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def is_reviewed(count: Count | None) -> bool:
    """Whether a stored count is an analyst's (a scene review), not the detector's."""
    return count is not None and count.detector == ANALYST


def review_marks(
    count: Count | None, machine: Mapping[str, Any] | None, scene: Scene | None = None
) -> dict[str, Any]:
    """Whether a scene's total ``count`` is an analyst's, or ``scene`` stands declared
    unusable by one (``reviewed``: the verdict is theirs; session 36, it was false for
    such a scene), and the detector's total a count replaced (``detector_count``:
    ``{total, low, high}`` from the review's ``machine``; null when the count is the
    detector's, when the detector found none, or for a scene declared unusable)."""
    counted = is_reviewed(count)
    reviewed = counted or (scene is not None and declared_unusable(scene))
    before = (machine or {}).get("all") if counted else None
    return {
        "reviewed": reviewed,
        "detector_count": (
            {"total": before["count"], "low": before["low"], "high": before["high"]}
            if isinstance(before, Mapping)
            else None
        ),
    }


def count_dict(count: Count | None, *, scene: Scene | None = None) -> dict[str, Any] | None:
    """A scene's total count: ``total`` with its interval and ``method``, and
    ``long_train_present``. A presence image (10 m and coarser) has no count of cars:
    its stored total is only its long-train flag, so ``total``, ``low`` and ``high`` are
    null and ``long_train_present`` is true or false (null for every other method).
    With its ``scene``, also ``interval_spread_assumed`` (:func:`interval_spread_assumed`;
    since 2026-12-07, session 51)."""
    if count is None:
        return None
    if is_presence(count.method):
        flag = long_train_present(count.method, count.count)
        out: dict[str, Any] = {
            "total": None,
            "low": None,
            "high": None,
            "method": count.method,
            "long_train_present": flag,
        }
    else:
        out = {
            "total": count.count,
            "low": count.low,
            "high": count.high,
            "method": count.method,
            "long_train_present": None,
        }
    if scene is not None:
        out["interval_spread_assumed"] = interval_spread_assumed(count, scene)
    return out


def interval_spread_assumed(count: Count | None, scene: Scene) -> bool | None:
    """Whether the interval (``low``, ``high``) of the total ``count`` of ``scene`` rests
    on an assumed scene-to-scene spread of the detector's recall (True), or a measured
    one (False), as its result records it (``repo.spread_assumed_of``: the card of a
    ``railwatch calibrate --labels`` with too few labelled images at its resolution); None
    where not known: no count, an analyst's count (its interval is the count), counted
    another way than car by car, without a calibration, or before 2026-12-07 (session 51)."""
    if count is None or count.detector == ANALYST or count.method != "objects":
        return None
    return spread_assumed_of(scene.meta)


def machine_counts(session: Session, counts: Iterable[Count]) -> dict[int, dict[str, Any]]:
    """The detector's counts (a review's ``machine``) of the scenes whose ``counts`` are
    an analyst's, by scene id: one statement for a whole page, none when no count is."""
    ids = sorted({c.scene_id for c in counts if is_reviewed(c)})
    if not ids:
        return {}
    rows = session.execute(
        select(SceneReview.scene_id, SceneReview.machine).where(SceneReview.scene_id.in_(ids))
    )
    return {sid: dict(machine or {}) for sid, machine in rows}


def candidate_dict(c: ReviewCandidate) -> dict[str, Any]:
    """A scene to check first (:func:`railwatch.storage.repo.review_candidates`), as
    ``railwatch scene to-review --json`` and ``GET /api/sites/{site}/to-review`` give it."""
    return {
        "scene_id": c.scene_id,
        "acquired_at": _iso(c.when),
        "gsd": c.gsd,
        "count": {"total": c.count, "low": c.low, "high": c.high, "method": c.method},
        "alerts": [{"kind": k, "severity": sev, "class": cls} for k, sev, cls in c.alerts],
        "spread": round(c.spread, 3),
        "sun_elevation": c.sun_elevation,
        "low_sun": c.low_sun,
    }


def review_dict(review: SceneReview, *, cars: bool = False) -> dict[str, Any]:
    """An analyst's review of a scene: the counts given (``counts``), the detector's
    counts they replaced (``detector_counts``: ``{cls: {count, low, high, method,
    detector, version}}``, None where it found none), whether the scene's stored counts
    are the analyst's now (``applied``: not while the scene is unusable, or when its file
    changed since), the note and time, and how many outlines the analyst gave (``cars``,
    None for a count alone; with ``cars=True`` the outlines as GeoJSON features, WGS84).
    ``unusable``: the analyst's reason when the review declares the scene unusable
    (``counts`` empty; ``applied`` while the scene is unusable), else None."""
    scene = review.scene
    reason = unusable_reason(review)
    if reason is not None:
        applied = scene.status == "unusable"
    else:
        applied = review.content_hash == scene.content_hash and any(
            c.cls == "all" and c.detector == ANALYST for c in scene.counts
        )
    out: dict[str, Any] = {
        "scene_id": review.scene_id,
        "unusable": reason,
        "counts": dict(review.counts),
        "detector_counts": dict(review.machine or {}),
        "applied": applied,
        "note": review.note,
        "reviewed_at": _iso(review.reviewed_at),
        "cars": None if review.cars is None else len(review.cars),
    }
    if cars and review.cars is not None:
        out["features"] = [
            {
                "type": "Feature",
                "geometry": geojson_geometry(
                    shapely.Polygon(car["lonlat"])  # one ring, as stored detections
                ),
                "properties": {
                    "class": car["cls"],
                    "covered": bool(car["covered"]),
                    "inside": bool(car["inside"]),
                    "source": ANALYST,
                },
            }
            for car in review.cars
        ]
    return out


def site_dict(
    site: Site, stats: SiteStats | None = None, *, geometry: bool = True
) -> dict[str, Any]:
    """A site (and optionally its totals) as a dict."""
    out: dict[str, Any] = {
        "id": site.id,
        "name": site.name,
        "description": site.description,
        "tags": list(site.tags),
        "area_km2": round(site.area_km2, 6),
        "utm_crs": site.utm_crs,
        "bounds": list(site.geometry.bounds),
        "created_at": _iso(site.created_at),
    }
    if geometry:
        out["geometry"] = geojson_geometry(site.geometry)
        tracks = site.tracks
        out["tracks"] = mapping(tracks) if tracks is not None else None
    if stats is not None:
        out.update(
            scenes=stats.scenes,
            processed=stats.processed,
            usable=stats.usable,
            first=_iso(stats.first),
            last=_iso(stats.last),
            alerts=stats.alerts,
            events=stats.events,
        )
    return out


def scene_dict(scene: Scene, *, footprint: bool = False) -> dict[str, Any]:
    """A scene (ingest facts, processing state, quality) as a dict."""
    out: dict[str, Any] = {
        "id": scene.id,
        "site": scene.site.name,
        "uri": scene.uri,
        "content_hash": scene.content_hash,
        "acquired_at": _iso(scene.acquired_at),
        "date_source": scene.date_source,
        "sensor": scene.sensor,
        "crs": scene.crs,
        "gsd": scene.gsd,
        "width": scene.width,
        "height": scene.height,
        "band_count": scene.band_count,
        "dtype": scene.dtype,
        "coverage": scene.coverage,
        "mask_uri": scene.mask_uri,
        "metadata": dict(scene.meta),
        "ingested_at": _iso(scene.ingested_at),
        "status": scene.status,
        "detector": scene.detector,
        "detector_version": scene.detector_version,
        "processed_at": _iso(scene.processed_at),
        "error": scene.error,
        "quality": {
            "usable": scene.usable,
            "clear_fraction": scene.clear_fraction,
            "coverage": scene.quality_coverage,
            "cloud_fraction": scene.cloud_fraction,
            "haze_fraction": scene.haze_fraction,
            "snow_fraction": scene.snow_fraction,
            "nodata_fraction": scene.nodata_fraction,
            "reasons": list(scene.reasons),
            # why an unusable scene is unusable: its reasons less the notes of how its
            # resolution is counted (the dashboard listed "resolution 3.0 m: cars are not
            # separable ..." among a cloudy 3 m image's reasons; session 50)
            "causes": _causes(scene.reasons),
            "source": scene.quality_source,
        },
    }
    if footprint:
        out["footprint"] = geojson_geometry(scene.footprint)
    return out


def _causes(reasons: Iterable[str]) -> list[str]:
    """:func:`railwatch.imagery.quality.causes`, imported when first needed (the imagery
    package costs about 0.15 s of start-up to commands that list no scene)."""
    from railwatch.imagery.quality import causes

    return causes(list(reasons))


def event_dict(event: Event) -> dict[str, Any]:
    """An event as a dict."""
    return {
        "id": event.id,
        "site": event.site.name,
        "date": event.date.isoformat(),
        "label": event.label,
        "description": event.description,
    }


def changed_since_ack(metrics: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What the analyst acknowledged of a stored alert that has said something else since
    (``metrics[repo.CHANGED_SINCE_ACK]``: its severity, value, explanation and scene_id
    then, and changed_at), else None."""
    mark = (metrics or {}).get(CHANGED_SINCE_ACK)
    return mark if isinstance(mark, dict) else None


def alert_dict(alert: Alert, day: date | str | None = None) -> dict[str, Any]:
    """A stored alert as a dict with every member the CLI (``railwatch alerts --json``),
    the web API and :func:`railwatch.site_alerts` give it, in the API's order; each of
    them calls this (session 36: they built it three times and this a fourth, without
    ``reviewed`` and ``changed_since_ack``).

    ``class``: the alert's class (``all`` or a class), as the filters name it; ``cls``,
    the same value, is its name before 2026-12-06 (session 38), kept for scripts that
    read it. ``version`` (:func:`railwatch.storage.repo.alert_version`): acknowledging
    it with that version acknowledges only what it said when read. ``day``: its day at
    its site, the day its key and text name (``when`` is its image's UTC time), as the
    caller works it out from the site's zone (:func:`railwatch.analysis.events.alert_day`;
    a date, or its ISO text); None gives null. ``reviewed``: judged on an analyst's count
    (``metrics.reviewed``). ``changed_since_ack``: what was acknowledged, when the alert
    says something else since, else null (``metrics.changed_since_ack``)."""
    metrics = dict(alert.metrics)
    return {
        "id": alert.id,
        "version": alert_version(alert),
        "site": alert.site.name,
        "key": alert.key,
        "kind": alert.kind,
        "severity": alert.severity,
        "when": _iso(alert.when),
        # its class as the filters name it (`?class=`, `alerts --class`; since
        # 2026-12-06, session 38); `cls`, its name before, kept beside it for scripts
        "class": alert.cls,
        "cls": alert.cls,
        "value": alert.value,
        "explanation": alert.explanation,
        "metrics": metrics,
        "event_label": alert.event_label,
        "event_days": alert.event_days,
        "scene_id": alert.scene_id,
        "active": alert.active,
        "acknowledged": alert.acknowledged,
        "ack_note": alert.ack_note,
        "ack_at": _iso(alert.ack_at),
        "created_at": _iso(alert.created_at),
        # when `railwatch analyze` last stored a change to it (what `changed_since`
        # compares with; an acknowledgement changes it not; 2026-12-07, session 48)
        "updated_at": _iso(alert.updated_at),
        "day": day if day is None or isinstance(day, str) else day.isoformat(),
        "reviewed": bool(metrics.get("reviewed")),
        "changed_since_ack": changed_since_ack(metrics),
    }
