"""Review of the storage layer for "bad input gets a clear error and never loses or
corrupts stored data" (2026-12-06, session 41): a full disk, a read-only folder and a
SQLite file of another application, each tried for real first (a 2 MB tmpfs, a
read-only bind mount, a database of someone else's tables) and played here."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import railwatch.storage.db as dbmod
from railwatch.cli.main import main
from railwatch.pipeline import processing_lock
from railwatch.storage import Database
from railwatch.storage.db import BusyError

BBOX = "8.58,47.52,8.59,47.53"


def _site_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    assert main(["--db", url, "site", "add", "yard", "--bbox", BBOX]) == 0
    return url


def _no_space(*_args: object) -> int:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# --- a full disk when a run writes its name into the site's lock file -------------------


def test_a_lock_taken_on_a_full_disk_is_held_without_its_holder_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found: on a full disk (with the database open elsewhere, `railwatch serve`, so
    that SQLite needed no room to open it) `railwatch process yard` said "internal
    error: OSError: [Errno 28] No space left on device ... please report it" (status
    70): writing the holder's name into the new lock file failed, and nothing caught
    it. The name is only what a refused run is told; the lock is the flock."""
    url = _site_db(tmp_path)
    db, other = Database(url), Database(url)
    monkeypatch.setattr(dbmod.os, "pwrite", _no_space)
    busy = pytest.raises(BusyError, match="is being processed by another railwatch run")
    with processing_lock(db, ["yard"]), busy, processing_lock(other, ["yard"]):
        pass
    with processing_lock(other, ["yard"]):  # let go as before
        pass
    db.dispose()
    other.dispose()


def test_process_on_a_full_disk_is_no_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _site_db(tmp_path)
    monkeypatch.setattr(dbmod.os, "pwrite", _no_space)
    code = main(["--db", url, "process", "yard"])
    err = capsys.readouterr().err
    assert code != 70 and "internal error" not in err, err
