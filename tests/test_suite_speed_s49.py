"""The suite's new SQLite databases made as copies of one made whole (``_fresh_db``,
session 49): each is the database the product makes, without replaying the migrations
for each; ``Database(url, migrate=False)`` and the modules about migrations and database
files still make theirs the product's way."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import _fresh_db
from railwatch.storage import Database


def _contents(path: Path) -> dict[str, Any]:
    """Schema, pragmas and every row of the SQLite database at ``path``. Each table's
    columns, foreign keys and indexes, not the text of its CREATE TABLE: the product's
    own migrations order a rebuilt table's constraints differently from one run to the
    next (alerts: the UNIQUE and the two foreign keys)."""
    conn = sqlite3.connect(path)
    try:
        names = sorted(conn.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall())
        tables = [name for kind, name, _ in names if kind == "table"]
        shape = {
            t: (
                conn.execute(f'PRAGMA table_info("{t}")').fetchall(),
                sorted(r[2:] for r in conn.execute(f'PRAGMA foreign_key_list("{t}")')),
                sorted(
                    (r[1], r[2], r[3], conn.execute(f'PRAGMA index_info("{r[1]}")').fetchall())
                    for r in conn.execute(f'PRAGMA index_list("{t}")')
                ),
            )
            for t in tables
        }
        rows = {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=str) for t in tables}
        pragmas = {
            p: conn.execute(f"PRAGMA {p}").fetchone()[0]
            for p in ("journal_mode", "user_version", "application_id", "encoding", "page_size")
        }
    finally:
        conn.close()
    return {"schema": names, "shape": shape, "rows": rows, "pragmas": pragmas}


@pytest.fixture
def upgrades(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[object]:
    """The schemas the product made from here on, in a test module of the template's
    kind: Alembic's upgrades, and the new databases made at the head without it
    (``migrate._create_at_head``, since session 51)."""
    import alembic.command

    from railwatch.storage import migrate

    plain = tmp_path / "test_plain.py"
    plain.write_text("def test_nothing() -> None: ...\n")
    monkeypatch.setattr(_fresh_db, "current_module", plain)
    monkeypatch.delenv("RAILWATCH_TEST_REAL_CREATION", raising=False)
    Database(f"sqlite:///{tmp_path / 'first.db'}").dispose()  # the template is made by now
    seen: list[object] = []
    real = alembic.command.upgrade
    real_at_head = migrate._create_at_head

    def upgrade(*args: Any, **kwargs: Any) -> None:
        seen.append(args)
        real(*args, **kwargs)

    def at_head(conn: Any) -> bool:
        made = real_at_head(conn)
        if made:
            seen.append(conn)
        return made

    monkeypatch.setattr(alembic.command, "upgrade", upgrade)
    monkeypatch.setattr(migrate, "_create_at_head", at_head)
    return seen


def test_a_new_database_is_the_one_the_product_makes_without_migrating_it(
    upgrades: list[object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied = tmp_path / "copied.db"
    Database(f"sqlite:///{copied}").dispose()
    assert upgrades == []  # made without replaying the migrations
    monkeypatch.setenv("RAILWATCH_TEST_REAL_CREATION", "1")
    made = tmp_path / "made.db"
    Database(f"sqlite:///{made}").dispose()
    assert len(upgrades) == 1  # the product's way
    assert _contents(copied) == _contents(made)
    assert _contents(copied)["pragmas"]["journal_mode"] == "wal"


def test_a_database_opened_without_migrating_is_made_empty(
    upgrades: list[object], tmp_path: Path
) -> None:
    path = tmp_path / "bare.db"
    Database(f"sqlite:///{path}", migrate=False).dispose()
    assert _contents(path)["schema"] == []


def test_a_module_about_migrations_makes_its_databases_the_products_way(
    upgrades: list[object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    about = tmp_path / "test_about.py"
    about.write_text("from railwatch.storage.migrate import upgrade\n")
    monkeypatch.setattr(_fresh_db, "current_module", about)
    Database(f"sqlite:///{tmp_path / 'made.db'}").dispose()
    assert len(upgrades) == 1


def test_a_database_made_meanwhile_is_kept(upgrades: list[object], tmp_path: Path) -> None:
    """As the product's own: where a file is there by the time the copy is linked (another
    process made it), that file stands, and is migrated the product's way."""
    path = tmp_path / "raced.db"
    real_copy = _fresh_db.shutil.copyfile

    def copy_then_race(src: Any, dst: Any) -> Any:
        out = real_copy(src, dst)
        conn = sqlite3.connect(path)  # another process's new database, first
        conn.execute("CREATE TABLE other (x)")
        conn.close()
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_fresh_db.shutil, "copyfile", copy_then_race)
        Database(f"sqlite:///{path}").dispose()
    names = {r[1] for r in _contents(path)["schema"]}
    assert "other" in names and "sites" in names
    assert len(upgrades) == 1
    assert not list(tmp_path.glob(".raced.db.*"))  # the copy is gone
