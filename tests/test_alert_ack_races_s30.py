"""`railwatch alert ack` and a re-analysis (`replace_alerts`) on one alert at once, with
the "changed since acknowledged" mark of session 30 (32e20ac, 7e9d3fa).

On PostgreSQL each writer locks the alert's row and reads it as committed: the second
waits for the first and then works on what it committed. Whichever goes first, no
note is lost and the mark says what the analyst acknowledged last: cleared by an
acknowledgement made after the change, kept (with the value acknowledged) for a change
made after the acknowledgement. On SQLite each writer holds the database's write lock
from its first statement. Interleavings are played deterministically: the second
writer runs in a thread while the first holds its uncommitted write, and the first
commits once the second waits on the row lock (polled in ``pg_stat_activity``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from railwatch.analysis.types import Alert as AlertValue
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from test_storage_qa24_concurrency import _in_thread, _until_blocked_or_done

BBOX = "130.60,42.28,130.63,42.30"
MARK = repo.CHANGED_SINCE_ACK
KEY = "spike:all:2024-03-01"


def _spike(value: float, severity: str = "medium") -> AlertValue:
    return AlertValue(
        key=KEY,
        kind="spike",
        severity=severity,
        when=datetime(2024, 3, 1, 2, 30, tzinfo=UTC),
        cls="all",
        value=value,
        explanation=f"{value:g} railcars on 2024-03-01, against a usual 12",
        metrics={"baseline": 12.0},
    )


def _acked_alert(url: str) -> tuple[Database, int]:
    """Site ``tum`` with the alert raised at 40, acknowledged ("first look")."""
    db = Database(url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
        repo.replace_alerts(s, "tum", [_spike(40.0)])
    with db.session() as s:
        (row,) = repo.list_alerts(s, "tum")
        repo.acknowledge_alert(s, row.id, "first look")
        return db, row.id


@pytest.fixture
def pg(postgres_url: str) -> Iterator[tuple[Database, int]]:
    db, alert_id = _acked_alert(postgres_url)
    yield db, alert_id
    db.dispose()


def _first_holds(
    url: str, first: Callable[[Any], Any], second: Callable[[Database], Any]
) -> tuple[Any, dict[str, Any]]:
    """``first(session)`` written and not committed while ``second`` (another
    connection) starts and waits; then both finish. Returns first's value and
    second's outcome."""
    a, b = Database(url, migrate=False), Database(url, migrate=False)
    try:
        with a.session() as s:
            value = first(s)
            s.flush()
            worker, out = _in_thread(lambda: second(b))
            _until_blocked_or_done(url, worker)
            assert worker.is_alive(), f"the second writer did not wait for the first: {out}"
        worker.join(timeout=60)
        assert "error" not in out, out
        return value, out
    finally:
        a.dispose()
        b.dispose()


def _ack(note: str) -> Callable[[Database], Any]:
    def run(db: Database) -> Any:
        with db.session() as s:
            (row,) = repo.list_alerts(s, "tum", active_only=False)
            return repo.acknowledge_alert(s, row.id, note).ack_note

    return run


def _reanalyse(*alerts: AlertValue) -> Callable[[Any], Any]:
    def run(s: Any) -> Any:
        return repo.replace_alerts(s, "tum", list(alerts))

    return run


def _reanalyse_in(db: Database, *alerts: AlertValue) -> Any:
    with db.session() as s:
        return repo.replace_alerts(s, "tum", list(alerts))


def _stored(db: Database, alert_id: int) -> Any:
    with db.session(readonly=True) as s:
        return repo.get_alert(s, alert_id)


@pytest.mark.services
def test_an_ack_waiting_on_a_reanalysis_that_changed_the_alert_clears_its_mark(
    pg: tuple[Database, int], postgres_url: str
) -> None:
    """Re-analysis recounts 40 to 31 (marked: acknowledged at 40) and holds the row;
    the analyst's second note waits, then is added after the first and clears the mark:
    it is made on the alert as it says 31."""
    db, alert_id = pg
    changes, out = _first_holds(postgres_url, _reanalyse(_spike(31.0)), _ack("seen at 31"))
    assert changes.changed_since_ack == 1
    row = _stored(db, alert_id)
    assert row.acknowledged and row.value == 31.0
    assert MARK not in (row.metrics or {})
    assert row.ack_note.startswith("first look\n") and row.ack_note.endswith(" UTC: seen at 31")
    assert out["value"] == row.ack_note


@pytest.mark.services
def test_a_reanalysis_waiting_on_an_ack_marks_what_was_acknowledged_then(
    pg: tuple[Database, int], postgres_url: str
) -> None:
    """The alert was recounted to 31 (marked, was 40); the analyst acknowledges it again
    (clearing the mark) and holds the row; a re-analysis recounting it to 25 waits, then
    marks it with what was acknowledged last: 31, not 40 (the note kept)."""
    db, alert_id = pg
    with db.session() as s:
        assert repo.replace_alerts(s, "tum", [_spike(31.0)]).changed_since_ack == 1

    def ack(s: Any) -> Any:
        return repo.acknowledge_alert(s, alert_id, "seen at 31").ack_note

    note, out = _first_holds(postgres_url, ack, lambda other: _reanalyse_in(other, _spike(25.0)))
    assert out["value"].changed_since_ack == 1 and out["value"].updated == 1
    row = _stored(db, alert_id)
    assert row.acknowledged and row.value == 25.0 and row.ack_note == note
    mark = row.metrics[MARK]
    assert (mark["value"], mark["severity"], mark["scene_id"]) == (31.0, "medium", None)
    assert "31 railcars" in mark["explanation"]


@pytest.mark.services
def test_an_ack_waiting_on_a_reanalysis_that_reopened_the_alert_keeps_the_notes(
    pg: tuple[Database, int], postgres_url: str
) -> None:
    """Re-analysis raises the alert to high (acknowledged no longer, the note kept) and
    holds the row; the analyst's acknowledgement waits, then acknowledges it again with
    both notes."""
    db, alert_id = pg
    changes, _out = _first_holds(
        postgres_url, _reanalyse(_spike(68.0, "high")), _ack("seen at 68, high")
    )
    assert changes.reopened == 1
    row = _stored(db, alert_id)
    assert row.acknowledged and row.severity == "high"
    assert row.ack_note.startswith("first look\n")
    assert row.ack_note.endswith(" UTC: seen at 68, high")


def _write_lock_held_at_first_statement(db: Database, path: str, action: Callable[[], Any]) -> str:
    """What another connection's ``BEGIN IMMEDIATE`` met at ``action``'s first statement
    that reads alerts."""
    seen: list[str] = []

    def hook(_conn: Any, _cur: Any, statement: str, *_: Any) -> None:
        if "FROM alerts" in statement and not seen:
            probe = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                seen.append("not locked")
            except sqlite3.OperationalError as err:
                seen.append(str(err))
            finally:
                probe.close()

    event.listen(db.engine, "after_cursor_execute", hook)
    try:
        action()
    finally:
        event.remove(db.engine, "after_cursor_execute", hook)
    assert seen, "no statement read the alerts"
    return seen[0]


def test_sqlite_ack_and_reanalysis_each_hold_the_write_lock_from_their_first_read(
    tmp_db_url: str,
) -> None:
    """SQLite: neither can commit inside the other's read-then-write, so the serial
    outcomes above are the only ones."""
    db, alert_id = _acked_alert(tmp_db_url)
    path = tmp_db_url.removeprefix("sqlite:///")
    try:

        def reanalyse() -> None:
            with db.session() as s:
                repo.replace_alerts(s, "tum", [_spike(31.0)])

        def ack() -> None:
            with db.session() as s:
                repo.acknowledge_alert(s, alert_id, "seen at 31")

        assert _write_lock_held_at_first_statement(db, path, reanalyse) == "database is locked"
        assert _write_lock_held_at_first_statement(db, path, ack) == "database is locked"
        row = _stored(db, alert_id)
        assert row.acknowledged and row.value == 31.0 and MARK not in (row.metrics or {})
        assert row.ack_note.endswith(" UTC: seen at 31")
    finally:
        db.dispose()
