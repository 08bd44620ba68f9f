"""``railwatch restore`` of a file that is no whole railwatch backup says what it is
and that nothing was restored: a SQLite database without railwatch's version table said
"... nothing was backed up" (the backup's words), and one whose version table is empty
(a railwatch database that lost its revision) was called "of schema revision (none),
newer than this railwatch knows: ... pip install -U railwatch". Found in review r2 of
session 39 (2026-12-06)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from railwatch.errors import StorageError
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.backup import backup, restore


def _database_and_backup(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    with Database(url) as db, db.session() as s:
        repo.add_site(s, site_from_bbox("yard", (130.60, 42.40, 130.61, 42.41)))
    dest = tmp_path / "backup.db"
    backup(url, dest)
    return url, dest


def _sites(url: str) -> list[str]:
    with Database(url) as db, db.session(readonly=True) as s:
        return [site.name for site in repo.list_sites(s)]


def test_a_backup_without_a_version_table_is_not_restored(tmp_path: Path) -> None:
    url, dest = _database_and_backup(tmp_path)
    with sqlite3.connect(dest) as con:
        con.execute("DROP TABLE alembic_version")
    with pytest.raises(StorageError) as err:
        restore(url, dest)
    words = str(err.value)
    assert "not a railwatch one" in words
    assert "backed up" not in words
    assert "the database was not changed" in words
    assert _sites(url) == ["yard"]


def test_a_backup_that_lost_its_revision_is_not_called_newer(tmp_path: Path) -> None:
    url, dest = _database_and_backup(tmp_path)
    with sqlite3.connect(dest) as con:
        con.execute("DELETE FROM alembic_version")
    with pytest.raises(StorageError) as err:
        restore(url, dest)
    words = str(err.value)
    assert "newer" not in words and "pip install" not in words
    assert "no schema revision" in words
    assert "INSERT INTO alembic_version" in words
    assert "the database was not changed" in words
    assert _sites(url) == ["yard"]
