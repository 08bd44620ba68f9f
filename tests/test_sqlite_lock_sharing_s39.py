"""The per-site lock files of a SQLite database (``FILE.db.locks/``) that several users
write (a cron job's user and an analyst's, the database file group-writable) are shared
as the database is: they take the database file's permissions, as SQLite's own ``-wal``
and ``-shm`` files do, and a lock file that this user may not write (made by another
user before) is locked through a read-only descriptor. They were made 0644 in a 0755
folder, so a second user could never open a lock file the first one had made, and
``railwatch process`` of that site said "cannot open the lock file ...: Permission
denied" for good. Found in review r2 of session 39 (2026-12-06)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import railwatch.storage.db as dbmod
from railwatch.pipeline import processing_lock
from railwatch.storage import Database
from railwatch.storage.db import BusyError


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual one: the database's group bits come from its mode
    try:
        yield
    finally:
        os.umask(old)


def _db(tmp_path: Path, mode: int) -> str:
    path = tmp_path / "rw.db"
    url = f"sqlite:///{path}"
    Database(url).dispose()
    path.chmod(mode)
    return url


def test_lock_files_take_the_permissions_of_a_group_writable_database(
    tmp_path: Path, umask: None
) -> None:
    url = _db(tmp_path, 0o664)
    db = Database(url)
    with processing_lock(db, ["yard"]):
        pass
    folder = tmp_path / "rw.db.locks"
    (lock,) = folder.iterdir()
    assert stat.S_IMODE(lock.stat().st_mode) == 0o664
    assert stat.S_IMODE(folder.stat().st_mode) == 0o775
    db.dispose()


def test_a_private_database_keeps_private_lock_files(tmp_path: Path, umask: None) -> None:
    url = _db(tmp_path, 0o600)
    db = Database(url)
    with processing_lock(db, ["yard"]):
        pass
    (lock,) = (tmp_path / "rw.db.locks").iterdir()
    assert stat.S_IMODE(lock.stat().st_mode) == 0o644  # as before: bits only added
    db.dispose()


def test_a_lock_file_this_user_may_not_write_is_locked_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _db(tmp_path, 0o644)
    db = Database(url)
    with processing_lock(db, ["yard"]):  # another user's run made the file, long ago
        pass
    real_open = os.open

    def another_users(file: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(file).endswith(".lock") and flags & os.O_RDWR:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(dbmod.os, "open", another_users)
    with processing_lock(db, ["yard"]):
        monkeypatch.setattr(dbmod.os, "open", real_open)
        assert db.lost_lock("process:yard") is None
        with (
            pytest.raises(BusyError, match="is being processed by another railwatch"),
            processing_lock(Database(url), ["yard"]),  # the lock is held
        ):
            pass
        monkeypatch.setattr(dbmod.os, "open", another_users)
    monkeypatch.setattr(dbmod.os, "open", real_open)
    with processing_lock(db, ["yard"]):  # and let go
        pass
    db.dispose()
