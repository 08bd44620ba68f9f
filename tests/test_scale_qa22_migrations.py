"""QA (session 22): opening a database that holds tables of railwatch's names but no
railwatch schema version (another application's database, or a railwatch database
whose ``alembic_version`` table was lost, e.g. a partial dump restored). Before: the
migration tried to create the schema and stopped with "relation "sites" already
exists" (PostgreSQL) or "table sites already exists" (SQLite), nothing to do about it.
Now one line says what is wrong and the two ways out, and nothing is touched."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, text

from railwatch.errors import StorageError
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo

BBOX = (130.605, 42.419, 130.611, 42.4235)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db_url(request: pytest.FixtureRequest, tmp_db_url: str) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return tmp_db_url


def _execute(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    rows: list[tuple[object, ...]] = []
    try:
        with engine.begin() as conn:
            for sql in statements:
                result = conn.execute(text(sql))
                if result.returns_rows:
                    rows.extend(tuple(r) for r in result)
    finally:
        engine.dispose()
    return rows


def test_another_applications_tables_are_refused_untouched(db_url: str) -> None:
    _execute(
        db_url,
        "CREATE TABLE sites (id INTEGER PRIMARY KEY, name VARCHAR(20))",
        "INSERT INTO sites VALUES (1, 'theirs')",
    )
    with pytest.raises(StorageError) as err:
        Database(db_url)
    message = str(err.value)
    assert "already has tables named sites but no railwatch schema version" in message
    assert "a database of its own" in message and "\n" not in message
    assert _execute(db_url, "SELECT id, name FROM sites") == [(1, "theirs")]


def test_a_lost_version_table_is_named_and_the_way_back_works(db_url: str) -> None:
    with Database(db_url) as db, db.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    _execute(db_url, "DROP TABLE alembic_version")
    with pytest.raises(StorageError) as err:
        Database(db_url)
    message = str(err.value)
    assert "alerts, counts, detections, events, scene_reviews, scenes, sites" in message
    assert "'0003_scene_reviews'" in message
    # the statements the message gives bring the database back as it was
    found = re.search(r"recreate it: (CREATE TABLE .*\)); (INSERT INTO .*\))$", message)
    assert found is not None, message
    _execute(db_url, found.group(1), found.group(2))
    with Database(db_url) as db, db.session(readonly=True) as s:
        assert [site.name for site in repo.list_sites(s)] == ["tum"]
