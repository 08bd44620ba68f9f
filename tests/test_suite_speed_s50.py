"""What the test suite shares to run faster, checked to give each test what it had
(2026-12-07, session 50): one Chromium per test process (``helpers.chromium``), lent to
each block with no page open, and leaving no running event loop behind; and a
PostgreSQL database of ``postgres_url`` copied from one that the migrations made
(``_fresh_db.make_pg_template``), the same schema as a database migrated on its own."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import _fresh_db
from helpers import chromium, postgres_database


async def _answer() -> int:
    return 42


def test_each_block_gets_the_one_chromium_with_no_page_of_the_block_before() -> None:
    with chromium() as first:
        page = first.new_page()
        page.set_content("<p id='x'>before</p>")
        context = first.new_context()
        context.new_page()
        launched = first._browser
        assert len(launched.contexts) == 2
    # outside a block the thread has no running event loop: asyncio runs as before
    assert asyncio.run(_answer()) == 42
    with chromium() as second:
        assert second._browser is launched and launched.is_connected()
        assert launched.contexts == []  # the pages of the block before are closed
        page = second.new_page()
        page.set_content("<p id='x'>after</p>")
        assert page.inner_text("#x") == "after"
        with chromium() as inner:  # a block inside another shares it and keeps its pages
            inner.new_page().set_content("<p>inner</p>")
        assert page.inner_text("#x") == "after" and len(launched.contexts) == 1
    assert asyncio.run(_answer()) == 42


def test_a_chromium_closed_by_a_test_is_launched_again() -> None:
    with chromium() as b:
        gone = b._browser
        b.close()
    with chromium() as b:
        assert b._browser is not gone and b._browser.is_connected()
        page = b.new_page()
        page.set_content("<p id='x'>again</p>")
        assert page.inner_text("#x") == "again"


def _schema(url: str) -> dict[str, Any]:
    """Every table's columns (name, type, nullability, default), indexes, keys and
    checks, and the stored revision."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        insp = inspect(engine)
        out: dict[str, Any] = {}
        for table in sorted(insp.get_table_names()):
            out[table] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in insp.get_columns(table)
                ],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in insp.get_indexes(table)
                ),
                "pk": insp.get_pk_constraint(table),
                "fks": sorted(str(fk) for fk in insp.get_foreign_keys(table)),
                "unique": sorted(str(u) for u in insp.get_unique_constraints(table)),
                "checks": sorted(str(c) for c in insp.get_check_constraints(table)),
            }
        with engine.connect() as conn:
            out["revision"] = list(conn.execute(text("SELECT version_num FROM alembic_version")))
        return out
    finally:
        engine.dispose()


@pytest.mark.services
def test_a_copied_postgresql_database_is_the_migrated_one(postgres_server_url: str) -> None:
    from railwatch.storage.db import Database

    template = _fresh_db.make_pg_template(postgres_server_url)
    try:
        with (
            postgres_database(postgres_server_url, template=template) as copied,
            postgres_database(postgres_server_url) as empty,
        ):
            assert _schema(copied)["revision"]  # at its latest revision already
            Database(empty).dispose()  # migrated on its own
            assert _schema(copied) == _schema(empty)
            # and opened as any database made before: nothing to migrate
            Database(copied).dispose()
            assert _schema(copied) == _schema(empty)
    finally:
        _fresh_db.drop_pg_template(postgres_server_url, template)


def test_modules_about_migrations_or_empty_databases_get_an_empty_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAILWATCH_TEST_REAL_CREATION", raising=False)
    cases = {
        "plain": ("db = Database(postgres_url)\n", True),
        "migrations": ("upgrade(postgres_url, '0003')\n", False),
        "unmigrated": ("Database(postgres_url, migrate=False)\n", False),
        "own tables": ("conn.execute('CREATE TABLE t (x int)')\n", False),
        "catalogue": ("SELECT * FROM information_schema.tables\n", False),
        "schemas": ("?options=-csearch_path%3Dother\n", False),
    }
    for name, (source, copied) in cases.items():
        module = tmp_path / f"test_{name.replace(' ', '_')}.py"
        module.write_text(source, encoding="utf-8")
        assert _fresh_db.pg_from_template(module) is copied, name
    monkeypatch.setenv("RAILWATCH_TEST_REAL_CREATION", "1")
    other = tmp_path / "test_plain_again.py"
    other.write_text("db = Database(postgres_url)\n", encoding="utf-8")
    assert _fresh_db.pg_from_template(other) is False
