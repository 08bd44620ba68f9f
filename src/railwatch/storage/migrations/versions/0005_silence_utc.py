"""Silences dated by a true UTC instant.

Data only: a silence (an alert of kind ``quality``) stored its ``when`` as its site's
local day written as if it were UTC (that day's 00:00 "UTC"), while every other alert's
``when`` is its image's UTC time; the readers had to take silences apart
(``railwatch.analysis.events.alert_day``). Since session 32 the analysis gives a
silence the UTC instant of local midnight of its day at the site: 00:00 less the site's
nominal offset (``railwatch.analysis.store.site_utc_offset``). This revision moves the
stored silences so, keeping their id, key, acknowledgement, note and timestamps; a
re-analysis then finds them as it raises them (unchanged). Only a silence at 00:00 of a
site whose offset is not zero moves: afterwards its time of day is minus the offset
(never 00:00), so running it again moves nothing. Downgrading moves back the silences
whose time of day is minus their site's offset.

Their version tokens (``repo.alert_version``, which hash ``when``) change with them: an
acknowledgement sent with a token read before the upgrade is refused as for an alert
changed since (``AlertChangedError``, the API's 409, with the alert as it is now).

Revision ID: 0005_silence_utc
Revises: 0004_site_areas
Create Date: 2026-12-05
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0005_silence_utc"
down_revision = "0004_site_areas"
branch_labels = None
depends_on = None


def _site_offset(wkb: bytes) -> timedelta:
    """A site's nominal offset east of UTC from its WGS84 polygon: ``round(lon / 15)``
    hours (a half rounded east, UTC-12 to UTC+12) of its longitude, the centroid's, or for
    parts on both sides of the date line (bounds wider than 180°) the mean of its
    vertices' longitudes taken from 0 to 360° (as ``railwatch.sites.site_longitude``
    and ``railwatch.sites.nominal_utc_offset`` give it, written out here so that
    this revision keeps its meaning whatever those functions become)."""
    import numpy as np
    import shapely

    geom = shapely.from_wkb(wkb)
    minx, _, maxx, _ = geom.bounds
    if maxx - minx <= 180.0:
        lon = float(geom.centroid.x)
    else:
        lon = float(np.mean(shapely.get_coordinates(geom)[:, 0] % 360.0))
        lon = lon - 360.0 if lon > 180.0 else lon
    if not math.isfinite(lon):
        return timedelta(0)  # no longitude: nothing to move
    lon = (lon + 180.0) % 360.0 - 180.0
    if lon == -180.0:
        lon = 180.0
    return timedelta(hours=math.floor(lon / 15.0 + 0.5))


def _time_of_day(offset: timedelta) -> time:
    """The UTC time of day of a site's local midnight ``offset`` east of UTC."""
    return (datetime(2000, 1, 1) - offset).time()


def _move(forward: bool) -> None:
    sites = sa.table("sites", sa.column("id", sa.Integer()), sa.column("geometry_wkb"))
    alerts = sa.table(
        "alerts",
        sa.column("id", sa.Integer()),
        sa.column("site_id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("when", sa.DateTime(timezone=True)),
    )
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    for site_id, wkb in conn.execute(sa.select(sites.c.id, sites.c.geometry_wkb)).all():
        offset = _site_offset(bytes(wkb))
        if not offset:
            continue
        at = time(0) if forward else _time_of_day(offset)
        step = -offset if forward else offset
        rows = conn.execute(
            sa.select(alerts.c.id, alerts.c.when).where(
                alerts.c.site_id == site_id, alerts.c.kind == "quality"
            )
        ).all()
        for alert_id, when in rows:
            # SQLite gives the stored UTC time back naive; PostgreSQL an aware one in the
            # connection's zone
            utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
            if utc.time() != at:
                continue
            moved = utc + step
            conn.execute(
                sa.update(alerts)
                .where(alerts.c.id == alert_id)
                .values(when=moved.replace(tzinfo=None) if sqlite else moved)
            )


def upgrade() -> None:
    _move(forward=True)


def downgrade() -> None:
    _move(forward=False)
