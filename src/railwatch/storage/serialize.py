"""Stored objects as JSON-ready dicts (for ``--json`` output, the web API, exports).

Geometries are GeoJSON mappings (WGS84); times are ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from railwatch.storage.models import ANALYST, Alert, Event, Scene, SceneReview, Site
from railwatch.storage.repo import SiteStats

__all__ = ["alert_dict", "event_dict", "review_dict", "scene_dict", "site_dict"]


def geojson_geometry(geom: BaseGeometry) -> dict[str, Any]:
    """A GeoJSON mapping of a WGS84 geometry with RFC 7946's ring order: exterior rings
    counter-clockwise, holes clockwise (stored footprints and car polygons come from
    image grids whose rows run south, so their rings were clockwise)."""
    return dict(mapping(shapely.orient_polygons(geom, exterior_cw=False)))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def review_dict(review: SceneReview, *, cars: bool = False) -> dict[str, Any]:
    """An analyst's review of a scene: the counts given (``counts``), the detector's
    counts they replaced (``detector_counts``: ``{cls: {count, low, high, method,
    detector, version}}``, None where it found none), whether the scene's stored counts
    are the analyst's now (``applied``: not while the scene is unusable, or when its file
    changed since), the note and time, and how many outlines the analyst gave (``cars``,
    None for a count alone; with ``cars=True`` the outlines as GeoJSON features, WGS84)."""
    scene = review.scene
    applied = review.content_hash == scene.content_hash and any(
        c.cls == "all" and c.detector == ANALYST for c in scene.counts
    )
    out: dict[str, Any] = {
        "scene_id": review.scene_id,
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
            "source": scene.quality_source,
        },
    }
    if footprint:
        out["footprint"] = geojson_geometry(scene.footprint)
    return out


def event_dict(event: Event) -> dict[str, Any]:
    """An event as a dict."""
    return {
        "id": event.id,
        "site": event.site.name,
        "date": event.date.isoformat(),
        "label": event.label,
        "description": event.description,
    }


def alert_dict(alert: Alert) -> dict[str, Any]:
    """An alert as a dict."""
    return {
        "id": alert.id,
        "site": alert.site.name,
        "key": alert.key,
        "kind": alert.kind,
        "severity": alert.severity,
        "when": _iso(alert.when),
        "cls": alert.cls,
        "value": alert.value,
        "explanation": alert.explanation,
        "metrics": dict(alert.metrics),
        "event_label": alert.event_label,
        "event_days": alert.event_days,
        "scene_id": alert.scene_id,
        "active": alert.active,
        "acknowledged": alert.acknowledged,
        "ack_note": alert.ack_note,
        "ack_at": _iso(alert.ack_at),
        "created_at": _iso(alert.created_at),
    }
