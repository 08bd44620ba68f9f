"""Two sites of one name added at once (session 29 web audit).

``repo.add_site`` looks the name up, then inserts. When another process stores the
same name between the two (two ``POST /api/sites`` or ``railwatch site add`` at once on
PostgreSQL), the insert broke the unique key: the IntegrityError came out as a database
failure (a 503 "database failed" in the API, "database ... failed" from the CLI) instead
of the "site ... already exists" (409) that the same request gets a moment later.

The race is made deterministic (:func:`another_writer_first`): on PostgreSQL another
connection commits the same row just before this session's ``INSERT INTO sites``; on
SQLite, whose writers take turns, the look-up of the name misses the stored site once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box
from sqlalchemy import event, func, select

from railwatch.errors import AlreadyExistsError
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import Site


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db(request: pytest.FixtureRequest, tmp_db_url: str) -> Iterator[Database]:
    url = tmp_db_url
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()


def _spec(name: str) -> SiteSpec:
    return SiteSpec(name=name, geometry=box(129.70, 42.30, 129.71, 42.31), description="yard")


@contextmanager
def another_writer_first(db: Database, name: str) -> Iterator[list[str]]:
    """Another writer stores site ``name`` after this session looked the name up and
    before it inserts; yields the statements raced.

    On PostgreSQL another connection inserts and commits the same row just before this
    session's ``INSERT INTO sites``. SQLite's writers take turns (another connection
    would wait for this one's write lock), so there the site is stored before and this
    session's look-up of the name is made to miss it once, as it would in a race."""
    raced: list[str] = []
    if db.engine.dialect.name == "sqlite":
        with db.session() as s:
            repo.add_site(s, _spec(name))

        def blind(conn: Any, cursor: Any, statement: str, params: Any, *_a: Any) -> Any:
            looks_up = statement.lstrip().upper().startswith("SELECT") and "sites.name" in statement
            if raced or not looks_up or name not in params:
                return statement, params
            raced.append(statement)
            return statement, tuple("no such site" if p == name else p for p in params)

        event.listen(db.engine, "before_cursor_execute", blind, retval=True)
        try:
            yield raced
        finally:
            event.remove(db.engine, "before_cursor_execute", blind)
        return

    def race(conn: Any, cursor: Any, statement: str, params: Any, *_a: Any) -> None:
        inserts = statement.lstrip().upper().startswith("INSERT INTO SITES")
        if raced or not inserts or params.get("name") != name:
            return
        raced.append(statement)
        other = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            other.exec_driver_sql(statement, params)
        finally:
            other.close()

    event.listen(db.engine, "before_cursor_execute", race)
    try:
        yield raced
    finally:
        event.remove(db.engine, "before_cursor_execute", race)


def test_a_site_named_by_another_writer_meanwhile_is_already_there(db: Database) -> None:
    taken = pytest.raises(AlreadyExistsError, match="site 'tumangang' already exists")
    with another_writer_first(db, "tumangang") as raced, taken, db.session() as s:
        repo.add_site(s, _spec("tumangang"))
    assert raced  # the name was free at the check: the insert itself collided
    with db.session(readonly=True) as s:
        assert s.scalar(select(func.count(Site.id)).where(Site.name == "tumangang")) == 1


def test_the_collision_undoes_only_the_site_not_the_sessions_other_writes(
    db: Database,
) -> None:
    """The caller owns the transaction: a site added before in the same session stays
    (a SAVEPOINT around the insert; on PostgreSQL the failed statement would otherwise
    leave the whole transaction unusable)."""
    with another_writer_first(db, "second") as raced, db.session() as s:
        repo.add_site(s, _spec("first"))
        with pytest.raises(AlreadyExistsError):
            repo.add_site(s, _spec("second"))
        assert raced
        repo.add_site(s, _spec("third"))
    with db.session(readonly=True) as s:
        assert sorted(s.scalars(select(Site.name))) == ["first", "second", "third"]


def test_the_api_answers_409_not_503_when_the_name_was_taken_meanwhile(
    db: Database, tmp_path: Path
) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    settings = Settings(db=db.url, api_token=SecretStr("tok"), cache_dir=tmp_path / "cache")
    body = {"name": "raced", "bbox": [129.70, 42.30, 129.71, 42.31]}
    with TestClient(create_app(settings, db)) as c, another_writer_first(db, "raced") as raced:
        r = c.post("/api/sites", json=body, headers={"Authorization": "Bearer tok"})
    assert raced
    assert r.status_code == 409, r.text
    assert "site 'raced' already exists" in r.json()["detail"]
