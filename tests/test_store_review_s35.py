"""Review of ``analysis.store.analyze_and_store`` (session 35, second engineer).

On PostgreSQL two analyses of one site stored at once: their writing sessions held the
site's row ``FOR KEY SHARE`` only, which never makes another analysis wait, and the
stamp is compared at one instant of a READ COMMITTED session, not held until its
commit. An analysis A that compared its stamp, then a scene recorded and a second
analysis B of the new state storing its alerts before A wrote its own: A then stored
the alerts of the state before the scene over B's (the stored alerts said what the
counts no longer say, until the next analysis). And two analyses adding the same new
alerts at once: the second's insert waited for the first's and failed on the unique
key (site, key) once the first committed, "database write failed".

``storage.backup.restore`` interrupted as it let the database go, the copy committed
and checked, said "nothing was restored, the database is as it was" of a new file it
had restored (and "as it was or restored" of a database it had restored).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

import railwatch.analysis.store as store
from counted_site import LATE, WELLINGTON, add_counted_site, steady_then_rise
from railwatch.analysis.store import analyze_and_store, analyze_site
from railwatch.storage import Database
from railwatch.storage.models import Alert
from test_analyze_write_lock_s35 import _add_image
from test_storage_ops_s34 import _rows, _url, filled, filled_once

__all__ = ["filled", "filled_once"]  # the fixtures (filled needs filled_once), used here

SITE = "wel"
AS_OF = LATE + timedelta(days=2)
#: how long the test waits for a thread to reach a step (a hang, not a timing check)
PATIENCE_S = 60.0


def _stored(db: Database) -> dict[str, tuple[str, str]]:
    with db.session(readonly=True) as s:
        return {
            a.key: (a.severity, a.explanation) for a in s.scalars(select(Alert).where(Alert.active))
        }


def _fresh(db: Database) -> dict[str, tuple[str, str]]:
    with db.session(readonly=True) as s:
        alerts = analyze_site(s, SITE, as_of=AS_OF, store=False).alerts
    return {a.key: (a.severity, a.explanation) for a in alerts}


def _waits_for_a_lock(watch: Database) -> bool:
    """Whether a session of the test's database waits for a lock now."""
    with watch.engine.connect() as conn:
        n = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        )
    return bool(n)


def _until(done: Callable[[], bool]) -> None:
    gate = threading.Event()
    for _ in range(int(PATIENCE_S / 0.05)):
        if done():
            return
        gate.wait(0.05)
    raise AssertionError("the step the test waits for never came")


@pytest.mark.services
@pytest.mark.parametrize("pause", ["before storing", "after storing"])
def test_postgresql_two_analyses_of_a_site_store_one_after_the_other(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, pause: str
) -> None:
    """Analysis A pauses in its writing session (its stamp compared equal), before or
    after it wrote its alerts; an image is recorded ("before storing") and analysis B
    runs. B must wait for A's commit: then it stores the alerts of what is stored.

    Before: B did not wait. Paused before storing, A then wrote the alerts of the state
    without the image over B's (the stored alerts were not those of the stored counts);
    paused after storing, B's insert of the same new alerts failed on the unique key
    once A committed (StorageError, "database write failed")."""
    pytest.importorskip("psycopg")
    db = Database(postgres_url)
    other = Database(postgres_url, migrate=False)
    watch = Database(postgres_url, migrate=False)
    try:
        add_counted_site(db, SITE, WELLINGTON, steady_then_rise())
        real = store._store
        in_a = threading.Event()
        go_on = threading.Event()

        def paused_store(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread().name != "analysis-a":
                return real(*args, **kwargs)
            if pause == "before storing":
                in_a.set()
                assert go_on.wait(PATIENCE_S)
                return real(*args, **kwargs)
            out = real(*args, **kwargs)
            in_a.set()
            assert go_on.wait(PATIENCE_S)
            return out

        monkeypatch.setattr(store, "_store", paused_store)
        errors: dict[str, BaseException] = {}

        def run(name: str, database: Database) -> None:
            try:
                analyze_and_store(database, SITE, as_of=AS_OF)
            except BaseException as err:  # told to the test
                errors[name] = err

        a = threading.Thread(target=run, args=("a", db), name="analysis-a")
        a.start()
        assert in_a.wait(PATIENCE_S)
        if pause == "before storing":
            _add_image(other, 90.0)  # a recording commits: A's stamp no longer holds
        b = threading.Thread(target=run, args=("b", other), name="analysis-b")
        b.start()
        _until(lambda: not b.is_alive() or _waits_for_a_lock(watch))
        go_on.set()
        a.join(PATIENCE_S)
        b.join(PATIENCE_S)
        monkeypatch.undo()
        assert not a.is_alive() and not b.is_alive()
        assert errors == {}
        assert _stored(db) == _fresh(db)
    finally:
        watch.dispose()
        other.dispose()
        db.dispose()


# ------------------------------------------------------------- restore, interrupted


def _interrupt_as_the_database_is_let_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """Have :func:`restore` interrupted (Ctrl-C) as it lets the database go, once the
    copy and its check are done: as the run locks' block ends."""
    import railwatch.storage.backup as backup_module

    real = backup_module._no_run_holds

    @contextlib.contextmanager
    def holds(target: Path) -> Iterator[None]:
        with real(target):
            yield
        raise KeyboardInterrupt

    monkeypatch.setattr(backup_module, "_no_run_holds", holds)


@pytest.mark.parametrize("into", ["a new file", "the database"])
def test_a_restore_interrupted_once_done_says_it_is_restored(
    filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, into: str
) -> None:
    """Interrupted after the copy and its check, as it let the database go: it said
    "nothing was restored, the database is as it was" of a new file that was restored
    (and left it), and "as it was or restored" of a database it had restored."""
    from railwatch.storage.backup import RestoreInterrupted, backup, restore

    saved = backup(_url(filled), tmp_path / "saved.db").path
    target = tmp_path / "new.db" if into == "a new file" else filled
    _interrupt_as_the_database_is_let_go(monkeypatch)
    with pytest.raises(RestoreInterrupted) as caught:
        restore(_url(target), saved)
    said = " ".join(caught.value.message.split())
    assert caught.value.restored is True
    assert f"{target} is restored from {saved}" in said
    assert "integrity check after the copy said ok: nothing else to do" in said
    assert "nothing was restored" not in said and "as it was or restored" not in said
    assert _rows(target) == _rows(saved)
