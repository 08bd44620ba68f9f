"""Two writers of one scene interleaved on PostgreSQL (read committed) and SQLite.

``record_outcome`` checked the scene (its file stamp, its quality mask, its item's
scales: 32e41c5, a158011, 14e840d) in statements that did not lock its row, and locked
it only in ``record_scene_result``, whose lock re-read nothing: the ORM kept the scene
as first read. On PostgreSQL an ``ingest-stac`` that took a new mask between the check
and the write was not seen, and the result judged with the old mask was written over
it (the old mask's stamp over the new one's in ``meta``, the ``+mask-changed`` mark
cleared), the very case the check is there for. The renewed stamps of a reference
scene were written the same way, from a copy read without a lock, over what another
writer had committed to that scene's ``meta`` meanwhile. Now the scene's row is locked,
and read as committed, before anything is checked, and a reference scene's before its
stamps are written.

On SQLite the whole transaction holds the database's write lock from its first
statement (``BEGIN IMMEDIATE``): no other writer commits inside it.

Each interleaving is played deterministically: the other writer runs in a thread started
right after the named statement of the first, and the first goes on once that writer has
committed or waits on a row lock (polled in ``pg_stat_activity``, no fixed sleep).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from helpers import pg_sessions_waiting_on_a_lock
from railwatch.ingest import FILE_STAMP_KEY, MASK_STAMP_KEY, mask_stamp
from railwatch.pipeline import (
    ReferenceStamps,
    pending_jobs,
    process_scene,
    process_site,
    record_outcome,
)
from railwatch.storage import Database, repo

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_integrity_stac_mask_s29 import (
    _counts,
    _detector,
    _registered,
    _scene,
    item_with_mask,
    write_mask,
)
from test_scene_identity_s29 import write_items


def _in_thread(action: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = action()
        except Exception as err:  # handed to the test, which asserts on it
            out["error"] = err

    worker = threading.Thread(target=run)
    worker.start()
    return worker, out


def _until_blocked_or_done(url: str, worker: threading.Thread) -> None:
    """Wait (polled) until ``worker`` waits on a row lock or has ended."""
    for _ in range(1200):
        if not worker.is_alive() or pg_sessions_waiting_on_a_lock(url):
            return
        time.sleep(0.05)
    raise AssertionError("the other writer neither finished nor waited on a lock")


class _Between:
    """Run ``other`` in a thread right after the first statement of ``db``'s engine that
    ``match`` accepts, and go on once it committed or waits on a lock."""

    def __init__(
        self, db: Database, url: str, match: Callable[[str, Any], bool], other: Callable[[], Any]
    ) -> None:
        self.db, self.url, self.match, self.other = db, url, match, other
        self.started: list[tuple[threading.Thread, dict[str, Any]]] = []

    def _hook(self, _conn: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        if not self.started and self.match(statement, params):
            self.started.append(_in_thread(self.other))
            _until_blocked_or_done(self.url, self.started[0][0])

    def __enter__(self) -> _Between:
        event.listen(self.db.engine, "after_cursor_execute", self._hook)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.db.engine, "after_cursor_execute", self._hook)

    def result(self) -> dict[str, Any]:
        assert self.started, "the statement to interleave at was never run"
        worker, out = self.started[0]
        worker.join(timeout=120)
        assert not worker.is_alive()
        assert "error" not in out, out
        return out


@pytest.fixture
def yard(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Database, Path, str]]:
    """PostgreSQL: site ``yard`` with STAC item ``yards/a`` (a local image, its clear
    mask), processed once."""
    db, mask, catalog = _registered(postgres_url, tmp_path)
    process_site(db, "yard", detector=_detector())
    yield db, mask, catalog
    db.dispose()


def _nth_read_of_scenes(n: int) -> Callable[[str, Any], bool]:
    seen = [0]

    def match(statement: str, _params: Any) -> bool:
        if "FROM scenes" in statement:
            seen[0] += 1
        return seen[0] == n

    return match


@pytest.mark.services
@pytest.mark.parametrize("after", [1, 2, 3, 4, 5, 6])
def test_a_mask_ingest_stac_takes_while_the_outcome_is_written_is_not_overwritten(
    yard: tuple[Database, Path, str], postgres_url: str, tmp_path: Path, after: int
) -> None:
    """`ingest-stac` takes the item's new mask (a strip of cloud) right after the
    ``after``-th statement of ``record_outcome`` that reads the scene (after its last
    one: once it committed): whichever goes first, the scene ends with the new mask's
    stamp and marked to be counted again with it. Before, when it came after the mask
    check and before the write, the result judged with the clear mask was written: the
    ``+mask-changed`` mark cleared (the clear mask's stamp over the new one's when the
    write read the scene before it), the new mask never used."""
    from railwatch.stac import MASK_CHANGED, ingest_stac

    db, _mask, catalog = yard
    (job,) = pending_jobs(db, "yard", detector=_detector(), reprocess=True)[0]
    outcome = process_scene(job, _detector())  # judged with the clear mask
    assert outcome.error is None and outcome.quality is not None
    new = write_mask(tmp_path / "a.v2.mask.tif", cloud_rows=48)
    write_items(Path(catalog), item_with_mask("a", tmp_path / "a.tif", new))
    other = Database(postgres_url, migrate=False)
    between = _Between(
        db, postgres_url, _nth_read_of_scenes(after), lambda: ingest_stac(other, "yard", catalog)
    )
    try:
        with between:
            got = record_outcome(db, outcome, _detector())
        if between.started:
            [entry] = between.result()["value"].duplicates
        else:  # record_outcome read the scene fewer times: ingest-stac comes after it
            [entry] = ingest_stac(other, "yard", catalog).duplicates
    finally:
        other.dispose()
    assert entry["mask_taken"] == "other href"
    after_both = _scene(db)
    assert after_both.mask_uri == str(new)
    new_stamp = mask_stamp(str(new))
    assert new_stamp is not None
    assert after_both.meta[MASK_STAMP_KEY]["sha256"] == new_stamp["sha256"]
    assert after_both.detector_version.endswith(MASK_CHANGED), (
        after_both.detector_version,
        got.error,
    )
    summary = process_site(db, "yard", detector=_detector())  # not --reprocess
    assert summary.total == 1 and not summary.failed
    assert _scene(db).cloud_fraction == pytest.approx(0.1, abs=0.02)


def _reads_scene_2(statement: str, params: Any) -> bool:
    return "FROM scenes" in statement and 2 in (
        params.values() if isinstance(params, dict) else params
    )


@pytest.mark.services
def test_a_reference_s_stamps_are_not_written_over_what_another_writer_committed(
    yard: tuple[Database, Path, str], postgres_url: str, tmp_path: Path
) -> None:
    """Scene 1's outcome renews the file stamp of scene 2 (a reference it was read
    against); `railwatch scene bands 2` commits right after that scene was first read
    for it: its colour bands stay in scene 2's metadata, beside its pending state (before,
    the stamps were written with the copy read before, the bands dropped while the scene
    stood pending to be read with them)."""
    from test_scene_identity_s29 import stac_item
    from test_stac import make_cog

    db, _mask, catalog = yard
    make_cog(tmp_path / "b.tif", 1)
    write_items(
        Path(catalog),
        item_with_mask("a", tmp_path / "a.tif", tmp_path / "a.mask.tif"),
        stac_item("b", str(tmp_path / "b.tif")),
    )
    from railwatch.stac import ingest_stac

    ingest_stac(db, "yard", catalog)
    process_site(db, "yard", detector=_detector())
    with db.session(readonly=True) as s:
        first, second = sorted(repo.list_scenes(s, "yard"), key=lambda sc: sc.id)
        assert (first.id, second.id) == (1, 2) and second.status == "processed"
        was = dict(second.meta[FILE_STAMP_KEY])
    jobs = pending_jobs(db, "yard", detector=_detector(), reprocess=True)[0]
    (job,) = [j for j in jobs if j.scene_id == 1]
    renewed = {**was, "mtime_ns": int(was.get("mtime_ns") or 0) + 10**9}
    outcome = replace(
        process_scene(job, _detector()),
        reference_stamps=(ReferenceStamps(2, second.content_hash, was, renewed, None, None),),
    )
    other = Database(postgres_url, migrate=False)

    def bands() -> bool:
        with other.session() as s:
            return repo.set_scene_bands(s, 2, (3, 2, 1))

    between = _Between(db, postgres_url, _reads_scene_2, bands)
    try:
        with between:
            got = record_outcome(db, outcome, _detector())
        assert between.result()["value"] is True
    finally:
        other.dispose()
    assert got.error is None
    with db.session(readonly=True) as s:
        after = repo.get_scene(s, 2)
        assert after.status == "ingested" and _counts(db, 2) == {}
        assert after.meta.get("rgb_bands") == [3, 2, 1], after.meta


def test_sqlite_record_outcome_holds_the_write_lock_from_its_first_read(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """SQLite: no other writer can commit between ``record_outcome``'s check of the
    scene and its write: its transaction holds the database's write lock from its first
    statement (another connection's ``BEGIN IMMEDIATE`` is refused at once there)."""
    db, _mask, _catalog = _registered(tmp_db_url, tmp_path)
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    outcome = process_scene(job, _detector())
    path = tmp_db_url.removeprefix("sqlite:///")
    refused: list[str] = []

    def hook(_conn: Any, _cur: Any, statement: str, *_: Any) -> None:
        if "FROM scenes" in statement and not refused:
            probe = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                refused.append("not refused")
            except sqlite3.OperationalError as err:
                refused.append(str(err))
            finally:
                probe.close()

    event.listen(db.engine, "after_cursor_execute", hook)
    try:
        got = record_outcome(db, outcome, _detector())
    finally:
        event.remove(db.engine, "after_cursor_execute", hook)
    assert refused == ["database is locked"]
    assert got.error is None and _scene(db).status == "processed"
    assert _counts(db, job.scene_id)
