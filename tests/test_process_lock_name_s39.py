"""A processing run holds its site under the name it was given: ``railwatch process
Zürich`` typed in decomposed Unicode (NFD: "u" and a combining diaeresis, as macOS file
names and some keyboards give it) finds the site stored in NFC, but its lock key was
that other string, so a second run given the other form was not refused and both
processed the same scenes; and the run's check that its lock is still held (before
each scene is written) looked the lock up under the stored name, found none held and
checked nothing. Found in review r2 of session 39 (2026-12-06); the lock's key is now
the name in NFC (``storage.db.Database.exclusive`` and ``lost_lock``)."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from railwatch.pipeline import process_site, processing_lock, removal_lock
from railwatch.storage import Database
from railwatch.storage.db import BusyError, LockLostError
from railwatch.storage.models import Scene
from test_distributed import fake_module as fake_module  # the fixture
from test_distributed import setup_db

NFC = unicodedata.normalize("NFC", "Zürich")
NFD = unicodedata.normalize("NFD", "Zürich")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'rw.db'}"


def _statuses(db: Database) -> list[str]:
    with db.session(readonly=True) as s:
        return [sc.status for sc in s.scalars(select(Scene).order_by(Scene.id))]


def test_a_run_given_the_other_unicode_form_of_a_held_site_is_refused(
    url: str, tmp_path: Path, fake_module: Path
) -> None:
    import rw_fake_rects

    assert NFC != NFD
    db = setup_db(url, tmp_path, 2, site=NFC)
    for held, given in ((NFC, NFD), (NFD, NFC)):
        with processing_lock(Database(url), [held]):  # as another run holds it
            with pytest.raises(BusyError, match="is being processed by another railwatch"):
                process_site(db, given, detector=rw_fake_rects.BrightRects())
            with pytest.raises(BusyError, match="cannot be removed while"), removal_lock(db, given):
                pass
    assert _statuses(db) == ["ingested", "ingested"]  # nothing written by the refused run
    summary = process_site(db, NFD, detector=rw_fake_rects.BrightRects())
    assert len(summary.processed) == 2
    db.dispose()


def test_a_run_given_the_decomposed_name_still_checks_its_lock(
    tmp_path: Path, fake_module: Path
) -> None:
    import rw_fake_rects

    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = setup_db(url, tmp_path, 3, site=NFC)
    locks = tmp_path / "rw.db.locks"

    class DeletesTheLocks(rw_fake_rects.BrightRects):
        calls = 0

        def detect(self, image: Any, gsd: float, valid: Any = None) -> Any:
            DeletesTheLocks.calls += 1
            if DeletesTheLocks.calls == 2:
                shutil.rmtree(locks)  # a clean-up script: another run could take the site
            return super().detect(image, gsd, valid)

    with pytest.raises(LockLostError, match=r"lock file .* was (deleted|replaced)"):
        process_site(db, NFD, detector=DeletesTheLocks())
    assert _statuses(db) == ["processed", "ingested", "ingested"]
    db.dispose()
