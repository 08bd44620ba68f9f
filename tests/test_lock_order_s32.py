"""Scene rows are locked in one order: every scene row a recording locks is locked in
its first locking statement, by ascending id (session 32; the rule is in
``railwatch.pipeline``'s docstring).

Before, recording a coarse scene's result (``pipeline.record_outcome``) locked the
scene's own row first (``repo.lock_scene``) and then its references' rows
(``_reference_changed_meanwhile``, by id): two results recorded at once, each a
reference of the other (a 3 m scene is read with up to 16 of the site's other images),
each held its own row and waited for the other's: PostgreSQL broke the deadlock by
aborting one of them ("deadlock detected"). The SQLite test checks the rule on the
statements issued; the PostgreSQL test plays the two recordings in two threads, held
together after their first lock, which deadlocked every time before. The last test
plays an analysis storing alerts on two scenes (key-share locks, through the foreign key)
against a recording that locks both: with ``FOR UPDATE`` it deadlocked, in one order of
the alerts before this session and in the other after its first change (c38b59f); the
scenes are locked ``FOR NO KEY UPDATE`` since."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from railwatch.pipeline import SceneOutcome, pending_jobs, process_scene, record_outcome
from railwatch.storage import Database
from railwatch.storage.models import Scene
from test_imagery_register import (  # noqa: F401  (the fixture)
    BrightBlobDetector,
    coarse_site,
    coarse_site_at,
)


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def _two_outcomes(db: Database) -> tuple[SceneOutcome, SceneOutcome]:
    """The results of the site's first and last scenes (by id), each read with the other
    as one of its references."""
    jobs = sorted(pending_jobs(db, "yard", detector=_detector())[0], key=lambda j: j.scene_id)
    low, high = (process_scene(job, _detector()) for job in (jobs[0], jobs[-1]))
    for outcome, other in ((low, high), (high, low)):
        assert outcome.error is None and outcome.quality is not None
        assert other.scene_id in {r.scene_id for r in outcome.references_read}
    return low, high


def _ids(params: dict[str, Any]) -> list[int]:
    out: list[int] = []
    for value in params.values():
        values = value if isinstance(value, list | tuple) else [value]
        out.extend(v for v in values if isinstance(v, int) and not isinstance(v, bool))
    return out


@contextmanager
def _scene_locks() -> Iterator[list[list[int]]]:
    """The ids each ``SELECT ... FOR UPDATE`` of scene rows names, statement by statement
    (on any backend: the ORM statement, before the dialect drops ``FOR UPDATE``)."""
    seen: list[list[int]] = []

    def hook(state: ORMExecuteState) -> None:
        stmt: Any = state.statement
        if not state.is_select or getattr(stmt, "_for_update_arg", None) is None:
            return
        if Scene.__table__ not in set(stmt.get_final_froms()):
            return
        seen.append(_ids(stmt.compile().params))

    event.listen(Session, "do_orm_execute", hook)
    try:
        yield seen
    finally:
        event.remove(Session, "do_orm_execute", hook)


def test_a_result_locks_its_scene_and_its_references_at_once_by_id(
    coarse_site: Database,  # noqa: F811
) -> None:
    """The result of the last scene (the highest id) is read with the others: its first
    scene lock takes its own row and its references', in ascending order, and every
    later one only rows already held. Before, its own row came first, then the rest."""
    _, high = _two_outcomes(coarse_site)
    refs = {r.scene_id for r in high.references_read} | {r.scene_id for r in high.reference_stamps}
    with _scene_locks() as seen:
        got = record_outcome(coarse_site, high, _detector())
    assert got.error is None
    assert seen, "no scene row was locked"
    first = seen[0]
    assert first == sorted(first)
    assert set(first) == {high.scene_id, *refs}
    for later in seen[1:]:
        assert set(later) <= set(first), (seen, "a scene locked after the first lock")


@pytest.mark.services
def test_on_postgresql_two_results_that_read_each_other_do_not_deadlock(
    postgres_url: str, tmp_path: Path
) -> None:
    """Two recordings, each of a scene that is a reference of the other, held together
    once each has taken its first scene lock (a barrier, given up after a few seconds
    when one of them waits on the other's lock instead): both complete. Before, each
    held its own row and waited for the other's, and PostgreSQL aborted one with
    "deadlock detected" (it did in every run: the barrier makes the interleaving)."""
    pytest.importorskip("psycopg")
    db = coarse_site_at(tmp_path, postgres_url)
    try:
        low, high = _two_outcomes(db)
        barrier = threading.Barrier(2, timeout=3.0)
        first_lock_done = threading.local()
        reached: list[str] = []

        def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            locks = "FOR UPDATE" in statement or "FOR NO KEY UPDATE" in statement
            if not locks or "FROM scenes" not in statement:
                return
            if getattr(first_lock_done, "yes", False):
                return
            first_lock_done.yes = True
            reached.append(statement)
            # given up when the other recording waits on this one's lock: go on
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()

        event.listen(db.engine, "after_cursor_execute", after)
        results: dict[int, object] = {}

        def record(outcome: SceneOutcome) -> None:
            try:
                results[outcome.scene_id] = record_outcome(db, outcome, _detector())
            except Exception as err:  # reported below
                results[outcome.scene_id] = err

        threads = [threading.Thread(target=record, args=(o,)) for o in (low, high)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        event.remove(db.engine, "after_cursor_execute", after)
        assert not any(t.is_alive() for t in threads)
        errors = [r for r in results.values() if isinstance(r, Exception)]
        assert not errors, errors
        assert set(results) == {low.scene_id, high.scene_id}
        assert len(reached) == 2  # each took its first scene lock (one after the other)
    finally:
        db.dispose()


@pytest.mark.services
@pytest.mark.parametrize("high_first", [True, False])
def test_on_postgresql_an_analysis_storing_alerts_and_a_recording_do_not_deadlock(
    postgres_url: str, tmp_path: Path, high_first: bool
) -> None:
    """An analysis stores two alerts, one on the highest scene and one on the lowest, in
    the order of their keys: each insert takes a key-share lock on its scene's row (the
    foreign key check). The recording of the highest scene, which locks both, starts
    between the two, and the analysis goes on once it waits on a lock or has ended.
    Both complete and commit. Before, the recording locked the scenes ``FOR UPDATE``,
    which a key-share lock blocks: each held one of the two rows and waited for the
    other, and PostgreSQL aborted one ("deadlock detected"): the highest first
    deadlocked once the recording locked its references first (c38b59f), the lowest
    first before that (its own row first, then the references). ``FOR NO KEY UPDATE``
    (a scene's id never changes) keeps writers of a scene apart without waiting on a
    foreign key check."""
    pytest.importorskip("psycopg")
    from railwatch.storage import repo
    from railwatch.storage.models import Alert
    from test_scene_write_races_s30 import _in_thread, _until_blocked_or_done

    db = coarse_site_at(tmp_path, postgres_url)
    other = Database(postgres_url, migrate=False)
    try:
        low, high = _two_outcomes(db)
        started: list[tuple[threading.Thread, dict[str, Any]]] = []
        with other.session() as s:
            site = repo.get_site(s, "yard")
            order = (high, low) if high_first else (low, high)
            for n, scene_id in enumerate(o.scene_id for o in order):
                s.add(
                    Alert(
                        site_id=site.id,
                        key=f"record:all:2023-06-0{n + 1}",
                        kind="record",
                        severity="low",
                        when=datetime(2023, 6, 1 + n, tzinfo=UTC),
                        cls="all",
                        explanation="a test alert",
                        metrics={},
                        scene_id=scene_id,
                    )
                )
                s.flush()
                if not started:  # the recording, between the two inserts
                    started.append(_in_thread(lambda: record_outcome(db, high, _detector())))
                    _until_blocked_or_done(postgres_url, started[0][0])
        worker, out = started[0]
        worker.join(timeout=60)
        assert not worker.is_alive()
        assert "error" not in out, out
        assert out["value"].error is None
        with db.session(readonly=True) as s:
            assert repo.get_scene(s, high.scene_id).status == "processed"
            assert len(repo.get_site(s, "yard").alerts) == 2
    finally:
        other.dispose()
        db.dispose()
