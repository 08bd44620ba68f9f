"""Revision 0004 measures every stored site's area again: until session 29 a hole drawn
the way of its outer ring was added to the area (``sites.site_area_km2``), and sites
stored then keep that area (it feeds the size limits, ingest's coverage and the limit on
an analyst's count) until the database is migrated."""

from __future__ import annotations

import pytest
from pyproj import Geod
from shapely.geometry import Polygon
from sqlalchemy import create_engine, text

from railwatch.sites import SiteSpec, site_area_km2
from railwatch.storage import Database, repo
from railwatch.storage.migrate import current_revision, head_revision


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db_url(request: pytest.FixtureRequest, tmp_db_url: str) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return tmp_db_url


def _sql(url: str, statement: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_an_old_site_area_is_measured_again(db_url: str) -> None:
    outer = [(130.60, 42.42), (130.64, 42.42), (130.64, 42.45), (130.60, 42.45)]
    hole = [(130.61, 42.43), (130.62, 42.43), (130.62, 42.44), (130.61, 42.44)]
    yard = Polygon(outer, [hole])  # both rings counter-clockwise: the hole the wrong way
    right = site_area_km2(yard)
    old_way, _ = Geod(ellps="WGS84").geometry_area_perimeter(yard)  # as stored before
    wrong = abs(old_way) / 1e6
    assert wrong > right * 1.05
    plain = Polygon(outer)
    with Database(db_url) as db, db.session() as s:
        repo.add_site(s, SiteSpec(name="holed", geometry=yard))
        repo.add_site(s, SiteSpec(name="plain", geometry=plain))
    # the row as an earlier railwatch left it, at the revision before this one
    _sql(db_url, "UPDATE sites SET area_km2 = :a WHERE name = 'holed'", a=wrong)
    plain_area = _sql(db_url, "SELECT area_km2 FROM sites WHERE name = 'plain'")[0][0]
    _sql(db_url, "UPDATE alembic_version SET version_num = '0003_scene_reviews'")
    with Database(db_url) as db:
        assert current_revision(db.engine) == head_revision()  # 0004 and what came after
        with db.session(readonly=True) as s:
            areas = {site.name: site.area_km2 for site in repo.list_sites(s)}
    assert areas["holed"] == pytest.approx(right, rel=1e-12)
    assert areas["plain"] == plain_area  # a site measured right keeps its area exactly
