"""Processes opening a new SQLite database at once say nothing of a file cut short
(review r6, 2026-12-06, session 39).

SQLite made the database file at its first connection, 0 bytes until that connection
set WAL mode; another process opening the database at that moment logged "database file
... is empty (0 bytes) ... if it held one, it was cut short ...: restore it from a
backup", though the database was being made and ended up right. A new database file is
now written whole beside its path and linked there: no process sees it empty. A file
that is really empty is still said to be (tests/test_backup_review_s34.py)."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from railwatch.storage.db import Database, make_engine

#: Rounds of four processes (review r6's script: 4 of 6 rounds warned before the fix).
ROUNDS = 6

RACE = textwrap.dedent(
    """
    import logging, multiprocessing as mp, sys

    def open_db(url):
        from railwatch.storage.db import Database  # imported here, as review r6's script

        Database(url).dispose()

    if __name__ == "__main__":
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        folder, rounds = sys.argv[1], int(sys.argv[2])
        for r in range(rounds):
            url = f"sqlite:///{folder}/race{r}.db"
            ps = [mp.Process(target=open_db, args=(url,)) for _ in range(4)]
            for p in ps:
                p.start()
            for p in ps:
                p.join()
            assert all(p.exitcode == 0 for p in ps), [p.exitcode for p in ps]
    """
)


def test_a_new_database_file_is_made_whole(tmp_path: Path) -> None:
    """The file is there before any connection, a database of its own (not 0 bytes),
    and nothing else is left in its folder."""
    path = tmp_path / "new.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert path.stat().st_size > 0
        assert sorted(p.name for p in tmp_path.iterdir()) == ["new.db"]
    finally:
        engine.dispose()
    db = Database(f"sqlite:///{path}")  # and railwatch makes its schema in it
    db.dispose()


def test_an_existing_database_is_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Opening a database again changes nothing and says nothing."""
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    Database(url).dispose()
    before = (tmp_path / "rw.db").read_bytes()
    with caplog.at_level(logging.WARNING):
        Database(url).dispose()
    assert not caplog.records
    assert (tmp_path / "rw.db").read_bytes()[:100] == before[:100]


@pytest.mark.slow
def test_four_processes_opening_a_new_database_at_once(tmp_path: Path) -> None:
    """Four processes started one after the other open each of six new databases
    (review r6's script; the later ones found the file the first one's SQLite had just
    made, still empty, in most rounds): all open it,
    none says it is empty or cut short, and each has the latest schema."""
    from sqlalchemy import create_engine

    from railwatch.storage.migrate import stored_revisions

    script = tmp_path / "race.py"
    script.write_text(RACE)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(ROUNDS)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "empty" not in done.stderr and "cut short" not in done.stderr, done.stderr[-2000:]
    Database(f"sqlite:///{tmp_path / 'alone.db'}").dispose()  # opened by one process
    latest = stored_revisions(create_engine(f"sqlite:///{tmp_path / 'alone.db'}"))
    assert latest is not None and len(latest) == 1
    for r in range(ROUNDS):
        engine = create_engine(f"sqlite:///{tmp_path / f'race{r}.db'}")
        try:
            assert stored_revisions(engine) == latest
        finally:
            engine.dispose()
    assert not list(tmp_path.glob(".*.new*"))
