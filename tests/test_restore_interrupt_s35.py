"""`railwatch restore` interrupted says what state the database is in (session 35).

A Ctrl-C (or SIGTERM) during a restore printed "Interrupted." alone: nothing said
whether the database was as it was, restored, or half of each. The backup's pages are
written into the database through SQLite's backup API in one transaction (rolled back
when interrupted, and by SQLite's journal at the next open after a ``kill -9``), so the
database is always whole; CPython raises the interrupt once the copy's C call returns,
so a Ctrl-C during the copy can land after it was committed. The restore now reads from
the database which it is and says so, then what to do, before "Interrupted.".

The worst moments are played by copying the backup a page at a time (``pages=1``, a
progress callback) instead of in one step: interrupted half-way (the copy rolled back),
right after its last page (committed), and killed (``kill -9``) half-way with the
database file half overwritten (its journal beside it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import railwatch.storage.backup as backup_module
from railwatch.cli.main import main
from railwatch.storage import Database, repo
from railwatch.storage.backup import RestoreInterrupted, backup, restore
from test_storage_ops_s34 import _rows, _url, filled, filled_once

__all__ = ["filled", "filled_once"]  # the fixtures (filled needs filled_once), used here


class _PageByPage:
    """A connection to the backup whose ``backup`` copies a page at a time, calling
    ``progress(remaining, pagecount)`` after each page (a copy in several steps, all in
    one transaction of the destination, as the one-step copy of the restore is)."""

    def __init__(self, con: sqlite3.Connection, progress: Any) -> None:
        self._con = con
        self._progress = progress

    def backup(self, target: sqlite3.Connection) -> None:
        target.execute("PRAGMA cache_size=1")  # pages spill to the file as they come
        self._con.backup(
            target, pages=1, progress=lambda _rc, left, total: self._progress(left, total)
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _copy_page_by_page(monkeypatch: pytest.MonkeyPatch, saved: Path, progress: Any) -> None:
    """Have :func:`restore` read ``saved`` through :class:`_PageByPage`."""
    real = backup_module._connection

    @contextlib.contextmanager
    def connection(target: str, *, uri: bool = False) -> Iterator[Any]:
        with real(target, uri=uri) as con:
            yield _PageByPage(con, progress) if target.startswith(saved.as_uri()) else con

    monkeypatch.setattr(backup_module, "_connection", connection)


@pytest.fixture
def saved(filled: Path, tmp_path: Path) -> Path:
    """A backup of ``filled``, which then gets an event the backup does not hold."""
    path = backup(_url(filled), tmp_path / "saved.db").path
    with Database(_url(filled), create=False) as db, db.session() as s:
        repo.add_event(s, "tumangang-test", repo.list_events(s, "tumangang-test")[0].date, "new")
    return path


def _restore_cli(
    filled: Path, saved: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["--db", _url(filled), "restore", str(saved), "--yes"])
    out, err = capsys.readouterr()
    return rc, out, " ".join(err.split())


def _integrity(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return [r[0] for r in con.execute("PRAGMA integrity_check")]
    finally:
        con.close()


def test_interrupted_half_way_through_the_copy_the_database_is_as_it_was(
    filled: Path, saved: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _rows(filled)
    assert before != _rows(saved)

    def progress(left: int, total: int) -> None:
        if left < total // 2:
            raise KeyboardInterrupt

    _copy_page_by_page(monkeypatch, saved, progress)
    rc, out, err = _restore_cli(filled, saved, capsys)
    assert rc == 130 and out == ""
    assert "nothing was restored" in err and f"the database {filled} is as it was" in err
    assert "the database as it was is also kept in" in err
    assert f"run `railwatch restore {saved}` again" in err
    assert err.endswith("Interrupted.")
    assert _integrity(filled) == ["ok"] and _rows(filled) == before
    assert not filled.with_name(filled.name + "-journal").exists()


def test_interrupted_once_the_copy_is_committed_it_says_the_database_is_restored(
    filled: Path, saved: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The moment "Interrupted." alone misled most: the copy committed (CPython raises a
    Ctrl-C pressed during it once it returns), the database restored."""

    def progress(left: int, _total: int) -> None:
        if left == 0:  # the last page copied: the copy is committed
            raise KeyboardInterrupt

    _copy_page_by_page(monkeypatch, saved, progress)
    rc, _out, err = _restore_cli(filled, saved, capsys)
    assert rc == 130
    assert f"the database {filled} is restored from {saved}, whole" in err
    assert "PRAGMA integrity_check" in err and err.endswith("Interrupted.")
    assert _integrity(filled) == ["ok"] and _rows(filled) == _rows(saved)
    kept = list(filled.parent.glob(f"{filled.name}.before-restore-*.db"))
    assert len(kept) == 1 and str(kept[0]) in err


def test_interrupted_while_the_database_is_kept_aside_nothing_is_restored(
    filled: Path, saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _rows(filled)

    def keep(_target: Path, _dst: sqlite3.Connection) -> Path | None:
        raise KeyboardInterrupt

    monkeypatch.setattr(backup_module, "_keep_as_it_was", keep)
    with pytest.raises(RestoreInterrupted, match="nothing was restored") as caught:
        restore(_url(filled), saved)
    assert caught.value.restored is False
    assert _rows(filled) == before


def test_a_new_database_interrupted_before_the_copy_committed_leaves_no_file(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def progress(left: int, total: int) -> None:
        if left < total // 2:
            raise KeyboardInterrupt

    _copy_page_by_page(monkeypatch, saved, progress)
    new = tmp_path / "new.db"
    with pytest.raises(RestoreInterrupted, match="nothing was restored"):
        restore(_url(new), saved)
    assert not new.exists()


#: A restore copying page by page that stops half-way (its marker file then written)
#: until it is killed.
_KILLED_RESTORE = """
import contextlib, sys, time
from pathlib import Path
import railwatch.storage.backup as b
target, saved, marker = sys.argv[1:4]
real = b._connection
def progress(_rc, left, total):
    if left < total // 2:
        Path(marker).write_text("half")
        time.sleep(120)
class PageByPage:
    def __init__(self, con): self.con = con
    def backup(self, dst):
        dst.execute("PRAGMA cache_size=1")
        self.con.backup(dst, pages=1, progress=progress)
    def __getattr__(self, name): return getattr(self.con, name)
@contextlib.contextmanager
def connection(t, *, uri=False):
    with real(t, uri=uri) as con:
        yield PageByPage(con) if t.startswith(Path(saved).as_uri()) else con
b._connection = connection
b.restore("sqlite:///" + target, saved)
"""


def test_killed_half_way_through_the_copy_the_next_open_has_the_database_as_it_was(
    filled: Path, saved: Path, tmp_path: Path
) -> None:
    """``kill -9`` cannot be caught: SQLite's journal, left beside the half-overwritten
    file, puts the database back as it was when it is next opened."""
    before = _rows(filled)
    original = filled.read_bytes()
    marker = tmp_path / "half"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RESTORE, str(filled), str(saved), str(marker)]
    )
    try:
        for _poll in range(1200):
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), "the restore did not get half-way"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    journal = filled.with_name(filled.name + "-journal")
    assert journal.exists() and filled.read_bytes() != original  # half overwritten
    with Database(_url(filled), create=False) as db, db.session(readonly=True) as s:
        assert "new" in [e.label for e in repo.list_events(s, "tumangang-test")]
    assert _integrity(filled) == ["ok"] and _rows(filled) == before
