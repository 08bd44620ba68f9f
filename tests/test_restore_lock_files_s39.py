"""``railwatch restore`` is refused while a run holds one of the database's per-site
locks: it tried each lock file opened for writing, and passed over one it could not
open so (another user's, made 0644 by that user's run), so a run of another user went
unseen by that check. Lock files are opened read-only now (``flock`` needs no more).
Found in review r2 of session 39 (2026-12-06)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import railwatch.storage.db as dbmod
from railwatch.pipeline import processing_lock
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.backup import backup, restore
from railwatch.storage.db import BusyError


def test_a_run_holding_a_lock_file_this_user_may_not_write_stops_a_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    with Database(url) as db, db.session() as s:
        repo.add_site(s, site_from_bbox("yard", (130.60, 42.40, 130.61, 42.41)))
    dest = tmp_path / "backup.db"
    backup(url, dest)
    run = Database(url)
    with processing_lock(run, ["yard"]):  # another user's run, between two scenes
        run.dispose()  # its database connections closed meanwhile: only its lock held
        real_open = os.open

        def another_users(file: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if str(file).endswith(".lock") and flags & (os.O_RDWR | os.O_WRONLY):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, flags, *args, **kwargs)

        monkeypatch.setattr(dbmod.os, "open", another_users)
        with pytest.raises(BusyError, match="a railwatch run is writing to"):
            restore(url, dest)
        monkeypatch.setattr(dbmod.os, "open", real_open)
    assert not list(tmp_path.glob("rw.db.before-restore-*"))  # nothing was done
