"""Site areas measured whichever way the rings run.

Data only: ``sites.area_km2`` is measured again from ``sites.geometry_wkb``. Until
session 29 a hole drawn the way of its outer ring was added to a site's area instead of
taken from it, and two parts of one site drawn in opposite directions cancelled out
(``railwatch.sites.site_area_km2``); the stored areas feed the size limits, ingest's
coverage figures and the limit on an analyst's count. A site whose rings ran the usual
way keeps its area to the last digit. Downgrading keeps the corrected areas.

Revision ID: 0004_site_areas
Revises: 0003_scene_reviews
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_site_areas"
down_revision = "0003_scene_reviews"
branch_labels = None
depends_on = None


def _area_km2(wkb: bytes) -> float:
    """The geodesic area (km²) of a WGS84 (multi)polygon, outer rings counter-clockwise
    and holes clockwise (as ``railwatch.sites.site_area_km2`` measures it, written out
    here so that this revision keeps its meaning whatever that function becomes)."""
    import shapely
    from pyproj import Geod
    from shapely.geometry import MultiPolygon, Polygon
    from shapely.geometry.polygon import orient

    geom = shapely.from_wkb(wkb)
    if isinstance(geom, Polygon):
        geom = orient(geom, 1.0)
    elif isinstance(geom, MultiPolygon):
        geom = MultiPolygon([orient(part, 1.0) for part in geom.geoms])
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(geom)
    return abs(float(area)) / 1e6


def upgrade() -> None:
    sites = sa.table(
        "sites",
        sa.column("id", sa.Integer()),
        sa.column("geometry_wkb", sa.LargeBinary()),
        sa.column("area_km2", sa.Float()),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(sites.c.id, sites.c.geometry_wkb, sites.c.area_km2)).all()
    for site_id, wkb, stored in rows:
        area = _area_km2(bytes(wkb))
        if area != stored:
            conn.execute(sa.update(sites).where(sites.c.id == site_id).values(area_km2=area))


def downgrade() -> None:
    pass  # the corrected areas stay: the earlier ones were wrong
