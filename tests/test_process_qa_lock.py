"""QA: two ``process`` runs on the same site at once. Both used to run every scene
(each reported all of them as counted) and, on PostgreSQL, two transactions recording
the same scene could collide on its counts (a unique-key error stopped the second run).
Now a run holds its sites (:func:`railwatch.pipeline.processing_lock`): a second run on
any of them is refused at once with one line and status 1, nothing written; the lock
goes with its holder, even after ``kill -9``. Runs on other sites are not held up."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from railwatch.cli.main import main
from railwatch.pipeline import process_site, processing_lock
from railwatch.storage import Database
from railwatch.storage.db import BusyError
from railwatch.storage.models import Scene
from test_distributed import fake_module as fake_module  # the fixture
from test_distributed import setup_db

#: ``hold(url, *sites)``: the fixture below.
Holder = Callable[..., subprocess.Popen[str]]

HOLDER = textwrap.dedent(
    """
    import sys, time
    from railwatch.pipeline import processing_lock
    from railwatch.storage import Database

    db = Database(sys.argv[1])
    with processing_lock(db, sys.argv[2:]):
        print("held", flush=True)
        time.sleep(300)
    """
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'rw.db'}"


@pytest.fixture
def hold(tmp_path: Path) -> Iterator[Holder]:
    """``hold(url, *sites)``: another process holding those sites until killed (-9)."""
    procs: list[subprocess.Popen[str]] = []

    def start(url: str, *sites: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, url, *sites], stdout=subprocess.PIPE, text=True
        )
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(timeout=30)


def _until_its_locks_are_gone(url: str) -> None:
    """On PostgreSQL, wait until no session of ``url``'s database holds an advisory lock.
    The server lets a killed client's locks go when the client's backend has seen the
    connection close and exited, a moment after the client died: a lock asked for at once
    was refused 3 times in 40 on a loaded machine (session 43). SQLite's ``flock`` goes
    with the holding process itself."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + 60  # a bound on a stuck server, not a measure
        while True:
            with engine.connect() as conn:
                held = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                        "database = (SELECT oid FROM pg_database "
                        "WHERE datname = current_database())"
                    )
                ).scalar_one()
            if not held:
                return
            assert time.monotonic() < deadline, "a killed holder's locks are still held"
            time.sleep(0.02)
    finally:
        engine.dispose()


def _statuses(db: Database) -> list[str]:
    with db.session(readonly=True) as s:
        return [sc.status for sc in s.scalars(select(Scene))]


def test_second_run_on_a_held_site_is_refused_and_writes_nothing(
    url: str, tmp_path: Path, fake_module: Path, hold: Holder
) -> None:
    import rw_fake_rects

    db = setup_db(url, tmp_path, 3)
    holder = hold(url, "yard")
    with pytest.raises(BusyError, match=r"site 'yard' is being processed by another railwatch"):
        process_site(db, "yard", detector=rw_fake_rects.BrightRects())
    assert _statuses(db) == ["ingested"] * 3
    # the holder dies without a word (kill -9): its lock goes with it
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    _until_its_locks_are_gone(url)
    summary = process_site(db, "yard", detector=rw_fake_rects.BrightRects())
    assert len(summary.processed) == 3
    db.dispose()


def test_other_sites_and_released_locks_are_free(url: str, hold: Holder) -> None:
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    hold(url, "north")
    with processing_lock(db, ["south", "east"]):
        pass
    with (
        processing_lock(db, ["south"]),
        pytest.raises(BusyError),
        processing_lock(db, ["south"]),  # held by this run too: not re-entrant
    ):
        pass
    with processing_lock(db, ["south"]):  # released after the refusal
        pass
    with pytest.raises(BusyError, match="north"), processing_lock(db, ["south", "north"]):
        pass
    with processing_lock(db, ["south"]):  # "south", taken before the refusal, was let go
        pass
    db.dispose()


def test_cli_refuses_a_second_run_in_one_line(
    url: str, tmp_path: Path, hold: Holder, capsys: pytest.CaptureFixture[str]
) -> None:
    db = setup_db(url, tmp_path, 2)
    db.dispose()
    hold(url, "yard")
    for extra in ([], ["--workers", "1"]):
        code = main(["--db", url, "process", "yard", *extra])
        err = capsys.readouterr().err
        assert code == 75  # busy (session 48)
        assert "is being processed by another railwatch run" in err, err
        assert "Traceback" not in err
    assert _statuses(Database(url)) == ["ingested"] * 2
