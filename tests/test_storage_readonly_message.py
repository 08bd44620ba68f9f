"""A SQLite database that cannot be opened for writing (a read-only file or folder) is
explained: SQLite's WAL journal needs both writable, even to read."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from railwatch.storage.db import explain_db_error


def _error(text: str) -> OperationalError:
    return OperationalError("PRAGMA journal_mode=WAL", {}, Exception(text))


def test_unopenable_sqlite_says_why_and_what_to_do() -> None:
    for text in ("unable to open database file", "attempt to write a readonly database"):
        msg = explain_db_error(_error(text), "sqlite:////mnt/ro/r.db", "migrating the database")
        assert msg.startswith(f"migrating the database failed (sqlite:////mnt/ro/r.db): {text}.")
        assert "file and its folder" in msg and "copy the database to a writable" in msg


def test_other_errors_are_unchanged() -> None:
    msg = explain_db_error(_error("no such table: scenes"), "sqlite:///x.db", "reading")
    assert msg == "reading failed (sqlite:///x.db): no such table: scenes"
    pg = explain_db_error(_error("unable to open database file"), "postgresql://h/db", "reading")
    assert "writable folder" not in pg
