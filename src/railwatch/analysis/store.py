"""Run the analysis over stored counts and store its alerts (uses railwatch.storage).

Kept apart from the pure analysis so that importing :mod:`railwatch.analysis`
never needs a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.settings import AlertSettings
from railwatch.analysis.types import Alert, CountPoint
from railwatch.storage import repo
from railwatch.storage.models import Count, Scene


@dataclass(frozen=True)
class SiteAnalysis:
    """What :func:`analyze_site` found and stored."""

    site: str
    alerts: tuple[Alert, ...]
    points: int
    usable: int
    created: int
    updated: int
    removed: int
    retired: int


def site_points(session: Session, site: str) -> list[CountPoint]:
    """Every stored count point of a site: the total ("all") and each class counted there."""
    s = repo.get_site(session, site)
    classes = set(
        session.scalars(
            select(Count.cls).join(Scene, Count.scene_id == Scene.id).where(Scene.site_id == s.id)
        )
    )
    classes.add("all")
    points: list[CountPoint] = []
    for cls in sorted(classes):
        points.extend(repo.count_series(session, s, cls=cls))
    return points


def analyze_site(
    session: Session,
    site: str,
    settings: AlertSettings | None = None,
    *,
    as_of: datetime | None = None,
) -> SiteAnalysis:
    """Analyse a site's stored counts with its events and store the alerts (idempotent)."""
    points = site_points(session, site)
    events = repo.event_values(session, site)
    alerts = analyze_series(points, events, settings, as_of=as_of)
    changes = repo.replace_alerts(session, site, alerts)
    return SiteAnalysis(
        site=site,
        alerts=tuple(alerts),
        points=sum(1 for p in points if p.cls == "all"),
        usable=sum(1 for p in points if p.cls == "all" and p.is_usable),
        created=changes.created,
        updated=changes.updated,
        removed=changes.removed,
        retired=changes.retired,
    )
