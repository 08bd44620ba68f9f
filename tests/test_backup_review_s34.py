"""Session 34, a review of ``railwatch backup`` / ``railwatch restore`` and the storage
changes of the same session.

Found: restore wrote into a database that another process had open (``railwatch
serve``, ``event add``): a commit falling between the copy of the database as it was
and the restore was in neither; with a backup of another page size it failed with
"database is locked ... check the disk". ``railwatch backup -`` made a file named "-".
``restore`` with a --db that is not a URL was an internal error (exit 70). Restoring a
backup of an older schema said nothing of the upgrade the next command makes. A 0-byte
database file given to ``serve`` (or ``site add``) was made a new database without a
word ("no sites yet")."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import railwatch.storage.backup as backup_module
from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.storage import Database
from railwatch.storage.backup import backup, restore
from railwatch.storage.db import BusyError, make_engine
from railwatch.storage.migrate import head_revision, upgrade
from test_storage_ops_s34 import _rows, _url
from web_db import populate


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    path = tmp_path / "live" / "railwatch.db"
    path.parent.mkdir()
    with Database(_url(path)) as db:
        populate(db, tmp_path / "images")
    return path


@pytest.fixture
def quick_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Restore waits a fifth of a second for other connections, not five seconds."""
    monkeypatch.setattr(backup_module, "RESTORE_WAIT_S", 0.2, raising=False)


@pytest.fixture
def other_process(filled: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that has the database open, idle, in WAL mode, as `railwatch
    serve` keeps its pooled connections between requests."""
    code = (
        "import sqlite3, sys, time\n"
        f"con = sqlite3.connect({str(filled)!r})\n"
        "con.execute('PRAGMA journal_mode=WAL')\n"
        "con.execute('SELECT count(*) FROM sites').fetchall()\n"
        "print('open', flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    try:
        yield proc
    finally:
        assert proc.stdin is not None
        if not proc.stdin.closed:
            proc.stdin.close()
        proc.wait(timeout=30)


def test_restore_is_refused_while_another_process_has_the_database_open(
    filled: Path, tmp_path: Path, quick_wait: None, other_process: subprocess.Popen[str]
) -> None:
    """The restore holds the database alone from the copy of it as it was to the end:
    while another process has it open (serve, a run, a shell) it is refused, and
    nothing changes. Before, it went ahead under the other process, so a commit made
    between the copy and the restore was in neither."""
    saved = backup(_url(filled), tmp_path / "saved.db")
    con = sqlite3.connect(filled)
    con.execute("DELETE FROM alerts")  # now the database differs from the backup
    con.commit()
    con.close()
    before = _rows(filled)
    with pytest.raises(BusyError, match=r"is open in another process .*railwatch serve"):
        restore(_url(filled), saved.path)
    assert _rows(filled) == before
    assert not list(filled.parent.glob("*before-restore*"))
    # what the refusal asks (stop the other process) is enough; the next railwatch
    # connection puts WAL back and records again
    assert other_process.stdin is not None
    other_process.stdin.close()
    other_process.wait(timeout=30)
    result = restore(_url(filled), saved.path)
    assert _rows(filled) == _rows(saved.path)
    assert result.kept is not None and _rows(result.kept) == before
    with Database(_url(filled), create=False) as db, db.session() as s:
        assert s.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_restore_of_other_pages_is_refused_as_busy_not_as_a_disk_fault(
    filled: Path, tmp_path: Path, quick_wait: None, other_process: subprocess.Popen[str]
) -> None:
    """A backup of another page size, with the database open elsewhere, said "database
    is locked ... check the disk", after keeping a copy."""
    other = tmp_path / "pages8k.db"
    con = sqlite3.connect(filled)
    con.execute("PRAGMA page_size = 8192")
    con.execute("VACUUM INTO ?", (str(other),))
    con.close()
    with pytest.raises(BusyError) as info:
        restore(_url(filled), other)
    assert "check the disk" not in str(info.value)
    assert "nothing was restored" in str(info.value)


def test_backup_to_a_dash_is_refused_and_makes_no_file(
    filled: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"not standard output \('-'\)"):
        backup(_url(filled), "-")
    assert main(["--db", _url(filled), "backup", "-"]) == 2
    assert "give the backup's file name" in capsys.readouterr().err
    assert not (tmp_path / "-").exists()


def test_restore_with_a_db_that_is_not_a_url_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup_file = tmp_path / "saved.db"
    backup_file.touch()
    assert main(["--db", "not a url", "restore", str(backup_file), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "is not a SQLite database URL" in err and "internal error" not in err


def test_restoring_an_older_backup_says_the_next_command_upgrades_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Said on stderr, so --json's stdout stays one JSON document."""
    old = tmp_path / "old.db"
    upgrade(_url(old), "0004_site_areas")
    saved = backup(_url(old), tmp_path / "saved.db")
    target = tmp_path / "railwatch.db"
    assert main(["--db", _url(target), "restore", str(saved.path), "--yes", "--json"]) == 0
    out, err = capsys.readouterr()
    said = json.loads(out)
    assert said["revision"] == "0004_site_areas" and said["upgrade_pending"] is True
    assert "older than this railwatch's " + head_revision() in err
    assert "the next railwatch command that opens the database upgrades it" in err


def test_an_empty_file_made_a_new_database_is_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``serve`` and ``site add`` open with create=True: a 0-byte file (a database cut
    short) became a new database without a word ("no sites yet")."""
    empty = tmp_path / "railwatch.db"
    empty.touch()
    with caplog.at_level(logging.WARNING, logger="railwatch.storage.db"):
        make_engine(_url(empty)).dispose()
        Database(_url(empty)).dispose()
        Database(_url(empty)).dispose()  # a database now: nothing more to say
    said = [r.getMessage() for r in caplog.records if r.name == "railwatch.storage.db"]
    assert len(said) == 2
    assert said[0].startswith(f"database file {empty} is empty (0 bytes)")
    assert "restore it from a backup" in said[0]
    assert empty.stat().st_size > 0


def test_the_postgresql_restore_commands_go_to_the_server_of_the_url() -> None:
    """``createdb NEW && pg_restore -d NEW FILE`` went to the local server (or PGHOST),
    not to the one of the URL, where railwatch was then told to look for NEW."""
    from railwatch.storage.backup import pg_dump_hint

    said = pg_dump_hint("postgresql+psycopg://rw:secret@db.example.org:5433/yard")
    server = "postgresql://rw:***@db.example.org:5433"
    assert f"createdb --maintenance-db='{server}/yard' NEW" in said
    assert f"pg_restore -d '{server}/NEW' FILE" in said
    assert "--db postgresql+psycopg://rw:***@db.example.org:5433/NEW" in said
    assert "secret" not in said


def test_a_hard_link_to_the_database_is_not_taken_for_its_backup(
    filled: Path, tmp_path: Path
) -> None:
    """Given as BACKUP, a hard link to the database (``path.resolve()`` tells it from
    the database) made the restore wait on the database's own lock for ever (SQLite's
    backup loop retries a locked source): run in a child process with a time limit."""
    link = tmp_path / "link.db"
    link.hardlink_to(filled)
    before = _rows(filled)
    code = (
        "from railwatch.errors import InputError\n"
        "from railwatch.storage.backup import restore\n"
        "try:\n"
        f"    restore({_url(filled)!r}, {str(link)!r})\n"
        "except InputError as err:\n"
        "    print(err)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("restore from a hard link to the database did not end in 60 s")
    assert "is the database itself" in done.stdout, done.stderr
    assert _rows(filled) == before
    assert not list(filled.parent.glob("*before-restore*"))
