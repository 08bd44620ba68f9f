"""A site's removal and an analysis of that site, at once on PostgreSQL (session 32).

Removing a site (``railwatch site remove``, ``DELETE /api/sites/{site}``) deletes its row,
which locks it, and the database's cascades then delete its alerts, scenes, counts and
the rest. An analysis that stores its alerts (``railwatch analyze``, the dashboard's
analysis and processing jobs) locks the site's alerts (``repo.replace_alerts``,
``analysis.store._move_keys``) and then inserts the new ones, each taking a key-share
lock on the site's row (the foreign key check). The removal takes the site's advisory
lock against processing, and the analysis takes none. Before, the two at once
deadlocked when the removal came between the analysis' alert locks and its first insert
(PostgreSQL aborted one, "deadlock detected"), and an analysis that came after the
removal's delete stored nothing either, but said there was no such site (to add one)
or failed on the foreign key. Now
the analysis locks the site's row ``FOR KEY SHARE`` before anything else: a removal
waits for the analysis to end and then removes the site whole, alerts included; an
analysis that comes second waits for the removal and says the site was removed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import event, func, select

from helpers import pg_sessions_waiting_on_a_lock
from railwatch.analysis.store import SiteAnalysis, analyze_site
from railwatch.analysis.types import Alert as AlertValue
from railwatch.errors import NotFoundError
from railwatch.pipeline import removal_lock
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.models import Alert, Site

T = TypeVar("T")

pytestmark = pytest.mark.services

BBOX = "130.60,42.28,130.63,42.30"


def _alert(key: str) -> AlertValue:
    return AlertValue(
        key=key,
        kind="spike",
        severity="medium",
        when=datetime(2024, 3, 1, 2, 30, tzinfo=UTC),
        cls="all",
        value=40.0,
        explanation="40 railcars on 2024-03-01, against a usual 12",
        metrics={"baseline": 12.0},
    )


@pytest.fixture
def dbs(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, Database]]:
    """The site ``tum`` with one stored alert that the analysis no longer raises, and an
    analysis that raises one new alert (so that it locks the old one and inserts the
    new); two :class:`Database` objects, one for each side."""
    pytest.importorskip("psycopg")
    import railwatch.analysis.store as store

    monkeypatch.setattr(store, "analyze_series", lambda *a, **k: [_alert("spike:all:2024-03-02")])
    db = Database(postgres_url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
        repo.replace_alerts(s, "tum", [_alert("spike:all:2024-03-01")])
    other = Database(postgres_url, migrate=False)
    yield db, other
    other.dispose()
    db.dispose()


def _analyze(db: Database) -> SiteAnalysis:
    with db.session() as s:
        return analyze_site(s, "tum")


def _remove(db: Database) -> repo.SiteRemoval:
    with removal_lock(db, "tum"), db.session() as s:
        return repo.remove_site(s, "tum")


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


def _then(
    db: Database,
    url: str,
    match: Callable[[str], bool],
    action: Callable[[], Any],
    body: Callable[[], T],
    never: str,
) -> tuple[T, dict[str, Any]]:
    """Run ``body``; right after the first statement of ``db``'s engine that ``match``
    accepts, run ``action`` in a thread, and go on once that thread waits on a lock or
    has ended (polled, up to 60 s). Returns what ``body`` returned and the thread's
    outcome (``value`` or ``error``) once it has ended; ``never``: the failure when no
    statement matched."""
    started: list[tuple[threading.Thread, dict[str, Any]]] = []

    def hook(_conn: Any, _cur: Any, statement: str, *_: Any) -> None:
        if started or not match(statement):
            return
        started.append(_in_thread(action))
        worker = started[0][0]
        for _poll in range(1200):
            if not worker.is_alive() or pg_sessions_waiting_on_a_lock(url):
                return
            time.sleep(0.05)
        raise AssertionError("the other side neither ended nor waited on a lock")

    event.listen(db.engine, "after_cursor_execute", hook)
    try:
        result = body()
    finally:
        event.remove(db.engine, "after_cursor_execute", hook)
    assert started, never
    worker, out = started[0]
    worker.join(timeout=60)
    assert not worker.is_alive()
    return result, out


def _site_rows(db: Database) -> tuple[int, int]:
    with db.session(readonly=True) as s:
        return (
            s.scalar(select(func.count(Site.id))) or 0,
            s.scalar(select(func.count(Alert.id))) or 0,
        )


def test_a_removal_during_an_analysis_waits_for_it_and_removes_the_whole_site(
    dbs: tuple[Database, Database], postgres_url: str
) -> None:
    """The removal starts once the analysis has locked the site's alerts, before it
    inserts its new one. Before, the removal held the site's row and waited for the
    alerts, the analysis' insert waited for the site's row: "deadlock detected"."""
    db, other = dbs
    result, out = _then(
        db,
        postgres_url,
        lambda st: "FROM alerts" in st and "FOR UPDATE" in st,
        lambda: _remove(other),
        lambda: _analyze(db),
        "the analysis locked no alert",
    )
    assert "error" not in out, out
    assert (result.created, result.removed) == (1, 1)
    assert out["value"].alerts == 1  # the analysis' alert, committed before the removal
    assert _site_rows(db) == (0, 0)  # nothing of the site left


@pytest.mark.parametrize("stored", [True, False])
def test_an_analysis_during_a_removal_waits_and_says_the_site_was_removed(
    dbs: tuple[Database, Database], postgres_url: str, stored: bool
) -> None:
    """The analysis starts once the removal has deleted the site's row (and, through
    the cascades, its alerts), before the removal commits; the site has an alert stored
    or none. Before, the analysis went on: with an alert stored, it waited for it, found
    no site after the removal and said "no site named 'tum' ... add one with `railwatch
    site add`"; with none, its insert waited on the site's row and failed on the foreign
    key. Now it waits before anything else and says the site was removed."""
    db, other = dbs
    if not stored:
        with db.session() as s:
            repo.replace_alerts(s, "tum", [])
    removal, out = _then(
        other,
        postgres_url,
        lambda st: st.startswith("DELETE FROM sites"),
        lambda: _analyze(db),
        lambda: _remove(other),
        "the removal deleted no site row",
    )
    assert removal.alerts == int(stored)
    err = out.get("error")
    assert isinstance(err, NotFoundError), out
    assert "site 'tum' was removed while it was being analysed" in str(err), err
    assert "nothing was stored" in str(err)
    assert _site_rows(db) == (0, 0)
