"""A SQLite run whose lock file is deleted under it (a clean-up script removing
``FILE.db.locks/``): a second run then created a new lock file, locked it and processed
the same site beside the first (found in session 23). The first run now sees that its
lock file is gone or replaced before it writes the next scene, and stops as a
PostgreSQL run whose lock connection dropped does: the scenes recorded before are kept,
and the next run completes the site."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from railwatch.pipeline import process_site, processing_lock
from railwatch.storage import Database
from railwatch.storage.db import LockLostError
from railwatch.storage.models import Scene
from test_distributed import check_consistent, setup_db
from test_distributed import fake_module as fake_module  # the fixture


def _statuses(db: Database) -> list[str]:
    with db.session(readonly=True) as s:
        return [sc.status for sc in s.scalars(select(Scene).order_by(Scene.id))]


def test_a_run_whose_lock_folder_is_deleted_stops_and_keeps_what_it_recorded(
    tmp_path: Path, fake_module: Path
) -> None:
    import rw_fake_rects

    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = setup_db(url, tmp_path, 4)
    locks = tmp_path / "rw.db.locks"

    class DeletesTheLocks(rw_fake_rects.BrightRects):
        calls = 0

        def detect(self, image: Any, gsd: float, valid: Any = None) -> Any:
            DeletesTheLocks.calls += 1
            if DeletesTheLocks.calls == 2:
                shutil.rmtree(locks)
                # what the lock is for: another run could now take the site
                with processing_lock(Database(url), ["yard"]):
                    pass
            return super().detect(image, gsd, valid)

    with pytest.raises(LockLostError, match=r"lock file .* was (deleted|replaced)"):
        process_site(db, "yard", detector=DeletesTheLocks())
    assert _statuses(db) == ["processed", "ingested", "ingested", "ingested"]
    summary = process_site(db, "yard", detector=rw_fake_rects.BrightRects())
    assert (len(summary.processed), summary.skipped) == (3, 1)
    check_consistent(db)
    db.dispose()


def test_a_replaced_lock_file_is_lost_too(tmp_path: Path, fake_module: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = setup_db(url, tmp_path, 1)
    with processing_lock(db, ["yard"]):
        assert db.lost_lock("process:yard") is None
        (lock,) = (tmp_path / "rw.db.locks").iterdir()
        lock.unlink()
        lock.write_text("")  # a new file of the same name: not the one locked
        assert "replaced" in (db.lost_lock("process:yard") or "")
    db.dispose()
