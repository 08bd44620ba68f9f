"""Storage under concurrent writers on PostgreSQL (session 24).

* ``repo.acknowledge_alert`` locks the alert's row: the CLI's ``railwatch alert ack``
  and the dashboard acknowledging one alert at once keep both notes (the second
  overwrote the first).
* ``repo.replace_alerts`` locks the site's alerts: an alert acknowledged while an
  analysis runs is kept (retired), never deleted with its note; an acknowledgement that
  comes after the analysis removed its alert is refused, not reported as done.
* ``Database.session(readonly=True)`` reads one snapshot (REPEATABLE READ, READ ONLY):
  a CLI listing or report never mixes the states before and after a commit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from helpers import pg_sessions_waiting_on_a_lock
from railwatch.analysis.types import Alert as AlertValue
from railwatch.errors import NotFoundError, StorageError
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.models import Alert, Scene
from test_storage import FakeSceneInfo, when

pytestmark = pytest.mark.services

BBOX = "130.60,42.28,130.63,42.30"


def _alert(key: str) -> AlertValue:
    return AlertValue(
        key=key,
        kind="record",
        severity="high",
        when=datetime(2023, 10, 5, 2, 30, tzinfo=UTC),
        cls="all",
        value=68.0,
        explanation="68 railcars, 4.5x the 5-year record of 15",
        metrics={"record": 15.0},
    )


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    """A PostgreSQL database with site ``tum`` and its alert ``record-all-2023-10-05``."""
    db = Database(postgres_url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
        repo.replace_alerts(s, "tum", [_alert("record-all-2023-10-05")])
    yield db
    db.dispose()


def _alert_id(db: Database) -> int:
    with db.session(readonly=True) as s:
        return repo.list_alerts(s, "tum", active_only=False)[0].id


def _until_blocked_or_done(url: str, worker: threading.Thread) -> None:
    """Wait (polled, no fixed sleep decides) until ``worker`` waits on a row lock or ends."""
    for _ in range(600):
        if pg_sessions_waiting_on_a_lock(url) or not worker.is_alive():
            return
        time.sleep(0.05)


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


def test_the_cli_and_the_dashboard_acknowledging_at_once_keep_both_notes(
    pg: Database, postgres_url: str
) -> None:
    alert_id = _alert_id(pg)
    dashboard = Database(postgres_url, migrate=False)
    cli = Database(postgres_url, migrate=False)

    def cli_ack() -> str | None:
        # as `railwatch alert ack` does: the alert read first, then acknowledged
        with cli.session() as s:
            repo.get_alert(s, alert_id)
            return repo.acknowledge_alert(s, alert_id, "CLI: seen again on the next image").ack_note

    try:
        # the dashboard's acknowledgement is written, not yet committed ...
        with dashboard.session() as s:
            repo.acknowledge_alert(s, alert_id, "web: checked against 38 North")
            s.flush()
            worker, out = _in_thread(cli_ack)
            _until_blocked_or_done(postgres_url, worker)  # ... while the CLI's waits
        worker.join(timeout=60)
        assert "error" not in out, out
        with pg.session(readonly=True) as s:
            row = repo.get_alert(s, alert_id)
            assert row.acknowledged
            note = row.ack_note or ""
        assert note.startswith("web: checked against 38 North\n"), note
        assert note.endswith(" UTC: CLI: seen again on the next image"), note
        assert out["value"] == note  # the CLI says the notes as they are stored
    finally:
        dashboard.dispose()
        cli.dispose()


def test_an_alert_acknowledged_while_an_analysis_runs_keeps_its_note(
    pg: Database, postgres_url: str
) -> None:
    """The acknowledgement commits after the analysis started and before it writes: the
    analysis no longer raises the alert, and keeps it (retired) with its note."""
    alert_id = _alert_id(pg)
    analyst = Database(postgres_url, migrate=False)
    analysis = Database(postgres_url, migrate=False)

    def reanalyse() -> Any:
        with analysis.session() as s:
            return repo.replace_alerts(s, "tum", [])

    try:
        with analyst.session() as s:
            repo.acknowledge_alert(s, alert_id, "checked: a real build-up")
            s.flush()
            worker, out = _in_thread(reanalyse)
            _until_blocked_or_done(postgres_url, worker)
        worker.join(timeout=60)
        assert "error" not in out, out
        assert (out["value"].removed, out["value"].retired) == (0, 1)
        with pg.session(readonly=True) as s:
            row = s.get(Alert, alert_id)
            assert row is not None, "the acknowledged alert was deleted with its note"
            assert row.acknowledged and row.ack_note == "checked: a real build-up"
            assert row.active is False
    finally:
        analyst.dispose()
        analysis.dispose()


def test_an_acknowledgement_during_an_analysis_that_removes_the_alert_is_never_lost_silently(
    pg: Database, postgres_url: str
) -> None:
    """The analysis read the alert (unacknowledged) before the acknowledgement came: the
    acknowledgement waits for the analysis and is then refused with why (the alert was
    removed); before, it was reported done and the analysis deleted it with its note."""
    alert_id = _alert_id(pg)
    analyst = Database(postgres_url, migrate=False)
    acked: list[tuple[threading.Thread, dict[str, Any]]] = []

    def acknowledge() -> str | None:
        with analyst.session() as s:
            return repo.acknowledge_alert(s, alert_id, "checked: a real build-up").ack_note

    def hook(_conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        if "FROM alerts" in statement and not acked:
            acked.append(_in_thread(acknowledge))
            _until_blocked_or_done(postgres_url, acked[0][0])

    event.listen(pg.engine, "after_cursor_execute", hook)
    try:
        with pg.session() as s:
            repo.replace_alerts(s, "tum", [])
        event.remove(pg.engine, "after_cursor_execute", hook)
        worker, out = acked[0]
        worker.join(timeout=60)
        with pg.session(readonly=True) as s:
            row = s.get(Alert, alert_id)
        if row is None:  # removed by the analysis: the acknowledgement must have failed
            assert "value" not in out, "acknowledged, then deleted with its note"
            assert isinstance(out["error"], NotFoundError)
            assert "re-analysis removes" in str(out["error"])
        else:
            assert row.acknowledged and row.ack_note == "checked: a real build-up"
    finally:
        analyst.dispose()


def _scene(n: int) -> FakeSceneInfo:
    return FakeSceneInfo(uri=f"/data/s{n}.tif", content_hash=f"{n:064x}", acquired=when(n))


def test_a_read_only_session_reads_one_snapshot(pg: Database, postgres_url: str) -> None:
    with pg.session() as w:
        repo.add_scene(w, "tum", _scene(1), 0.7)
    other = Database(postgres_url, migrate=False)
    try:
        with pg.session(readonly=True) as s:
            before = s.scalar(select(func.count(Scene.id)))
            with other.session() as w:  # another process ingests meanwhile
                repo.add_scene(w, "tum", _scene(2), 0.7)
            during = s.scalar(select(func.count(Scene.id)))
            scenes = repo.list_scenes(s, "tum")
        assert before == during == len(scenes) == 1
        with pg.session(readonly=True) as s:  # the next session sees it
            assert len(repo.list_scenes(s, "tum")) == 2
    finally:
        other.dispose()


def test_a_write_in_a_read_only_session_is_refused_and_nothing_is_written(pg: Database) -> None:
    with pytest.raises(StorageError, match="read-only transaction"), pg.session(readonly=True) as s:
        repo.add_site(s, site_from_bbox("other", BBOX))
    with pg.session(readonly=True) as s:
        assert [site.name for site in repo.list_sites(s)] == ["tum"]
    # the pooled connections are writers' again afterwards (read committed, read-write)
    for _ in range(3):
        with pg.session(readonly=True) as s:
            assert s.scalar(text("SHOW transaction_read_only")) == "on"
            assert s.scalar(text("SHOW transaction_isolation")) == "repeatable read"
    for _ in range(3):
        with pg.session() as s:
            assert s.scalar(text("SHOW transaction_read_only")) == "off"
            assert s.scalar(text("SHOW transaction_isolation")) == "read committed"
    with pg.session() as s:
        repo.add_site(s, site_from_bbox("other", BBOX))
    with pg.session(readonly=True) as s:
        assert [site.name for site in repo.list_sites(s)] == ["other", "tum"]
