"""QA (session 22): two ``railwatch ingest`` runs of the same files at once on
PostgreSQL. Each looked the file's hash up, found nothing (the other's row was not yet
committed), inserted, and one of them hit the unique (site, content hash) constraint:
it listed those files as failed ("duplicate key value violates unique constraint
uq_scenes_site_id_content_hash") and exited with status 1, although every file was
ingested once. (SQLite writers take turns, so it did not happen there.) Now the file
is "already ingested", as when the runs follow each other."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text

from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.models import Scene
from test_storage import BBOX, FakeSceneInfo


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db(request: pytest.FixtureRequest, tmp_db_url: str) -> Iterator[Database]:
    url = str(request.getfixturevalue("postgres_url")) if request.param == "postgresql" else None
    database = Database(url or tmp_db_url)
    with database.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    yield database
    database.dispose()


INFO = FakeSceneInfo(
    uri="/data/a.tif", content_hash="ab" * 32, acquired=datetime(2023, 10, 5, 2, tzinfo=UTC)
)


def test_a_scene_recorded_by_another_run_meanwhile_is_already_ingested(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other run commits the same file between this run's look-up and its insert
    (made certain here by hiding the row from the first look-up)."""
    with db.session() as s:
        theirs, created = repo.add_scene(s, "tum", INFO, 0.7)
        assert created
    real = repo.find_scene_by_hash
    calls: list[int] = []

    def not_yet(session: Any, site: Any, content_hash: str) -> Scene | None:
        calls.append(1)
        return None if len(calls) == 1 else real(session, site, content_hash)

    monkeypatch.setattr(repo, "find_scene_by_hash", not_yet)
    with db.session() as s:
        mine, created = repo.add_scene(s, "tum", INFO, 0.7)
        assert (mine.id, created) == (theirs.id, False)
        repo.get_site(s, "tum")  # the session goes on after the collision
    with db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Scene)) == 1


@pytest.mark.services
def test_two_sessions_racing_on_postgresql(postgres_url: str) -> None:
    """The real race: the second insert waits on the first's uncommitted row, then
    finds it committed."""
    db = Database(postgres_url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    first_inserted = threading.Event()
    results: dict[str, Any] = {}

    def second() -> None:
        first_inserted.wait(timeout=60)
        try:
            with db.session() as s:
                scene, created = repo.add_scene(s, "tum", INFO, 0.7)
                results["second"] = (scene.id, created)
        except Exception as err:  # reported below
            results["second"] = err

    thread = threading.Thread(target=second)
    thread.start()
    with db.session() as s:
        scene, created = repo.add_scene(s, "tum", INFO, 0.7)
        results["first"] = (scene.id, created)
        first_inserted.set()
        # keep the transaction open until the second insert waits on this row
        _wait_until_blocked(s)
    thread.join(timeout=60)
    assert results["first"][1] is True
    assert results["second"] == (results["first"][0], False)
    with db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Scene)) == 1
    db.dispose()


def _wait_until_blocked(session: Any) -> None:
    """Until another backend waits on a lock this session holds (bounded by tries)."""
    for _ in range(600):
        blocked = session.execute(  # pg_locks, not pg_stat_activity: no snapshot of it
            text("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'")
        ).scalar()
        if blocked:
            return
        threading.Event().wait(0.05)
    raise AssertionError("the second insert never waited on the first")
