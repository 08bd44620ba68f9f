"""Session 28: a --db that is a folder, a file that is not a SQLite database, a damaged
database and a full disk are each said with what to do (before: SQLite's bare "unable to
open database file", "file is not a database", "database disk image is malformed",
"database or disk is full"), and nothing stored is changed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from railwatch.errors import StorageError
from railwatch.storage import Database
from railwatch.storage.db import explain_db_error


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_a_folder_given_as_the_database_is_named_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "yard.db"
    folder.mkdir()
    with pytest.raises(StorageError) as info:
        Database(_url(folder))
    msg = str(info.value)
    assert f"{folder} is a folder, not a database file" in msg
    assert f"sqlite:///{folder / 'railwatch.db'}" in msg
    assert list(folder.iterdir()) == []  # nothing written in it


def test_a_file_that_is_not_a_database_is_said_so_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 50)
    before = path.read_bytes()
    with pytest.raises(StorageError) as info:
        Database(_url(path))
    msg = str(info.value)
    assert "this file is not a SQLite database" in msg
    assert "was left as it is" in msg
    assert path.read_bytes() == before


def test_a_damaged_database_says_how_to_recover_it(tmp_path: Path) -> None:
    good = tmp_path / "good.db"
    Database(_url(good)).dispose()
    con = sqlite3.connect(good)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = good.read_bytes()
    bad = tmp_path / "bad.db"
    # the header and first pages kept, the pages the schema points to cut off
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(StorageError) as info:
        db = Database(_url(bad))
        with db.session(readonly=True) as s:
            s.execute(text("SELECT count(*) FROM scenes"))
    msg = str(info.value)
    assert "the database file is damaged" in msg
    assert ".recover" in msg


@pytest.mark.parametrize(
    "driver",
    [
        "database or disk is full",
        'could not extend file "base/16384/2619": No space left on device',
    ],
)
def test_a_full_disk_says_to_free_space_and_that_earlier_records_stay(driver: str) -> None:
    err = OperationalError("INSERT INTO counts ...", {}, Exception(driver))
    msg = explain_db_error(err, "sqlite:///yard.db", "database write")
    assert msg.startswith(f"database write failed (sqlite:///yard.db): {driver}: ")
    assert "the disk holding the database is full" in msg
    assert "free space and run the command again" in msg
    assert "everything recorded before is kept" in msg


def test_a_write_that_finds_no_room_keeps_the_database(tmp_path: Path) -> None:
    """A real write that finds no room (SQLite's SQLITE_FULL, made by a page limit on the
    connection): the error says so, and the rows committed before are all there."""
    db = Database(_url(tmp_path / "full.db"))
    with db.session() as s:
        s.execute(text("CREATE TABLE blobs (b BLOB)"))
        s.execute(text("INSERT INTO blobs VALUES (zeroblob(1000))"))
    with pytest.raises(StorageError) as info, db.session() as s:
        pages = s.execute(text("PRAGMA page_count")).scalar_one()
        s.execute(text(f"PRAGMA max_page_count = {pages + 2}"))
        s.execute(text("INSERT INTO blobs VALUES (zeroblob(1000000))"))
    msg = str(info.value)
    assert "database or disk is full: the disk holding the database is full" in msg
    assert "free space and run the command again" in msg
    db.dispose()
    con = sqlite3.connect(tmp_path / "full.db")
    try:
        assert con.execute("SELECT count(*) FROM blobs").fetchone() == (1,)
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()
