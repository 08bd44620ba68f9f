"""An operator's walk of backup, restore and copy-db (2026-12-07, session 50): killed
with ``kill -9``, on a full disk, under a file size limit, on a read-only mount.

- A backup (or a restore's copy of the database as it was) killed before it ended left
  its hidden ``.NAME.partial-PID`` copy, a whole database, for good: nothing removed it
  or said it was there. The next backup or restore in that folder removes those of
  processes that are gone, and says so.
- A restore that found no room for the copy it keeps of the database said "give another
  DEST" (restore has none) and "move FILE aside yourself" (which frees nothing).
- A write stopped by a file size limit (``ulimit -f``, ``LimitFSIZE=``) was said as a
  disk fault ("check the disk").
- A restore into a folder on a read-only mount said "let this user write there".
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from railwatch.cli.main import main
from railwatch.errors import StorageError
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, db, repo
from railwatch.storage import backup as backup_module
from railwatch.storage.backup import backup, restore


def _database(tmp_path: Path, name: str = "rw.db") -> str:
    url = f"sqlite:///{tmp_path / name}"
    with Database(url) as database, database.session() as s:
        repo.add_site(s, site_from_bbox("yard", (130.60, 42.40, 130.61, 42.41)))
    return url


def _dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _leftovers(folder: Path, name: str) -> dict[str, Path]:
    """Unfinished copies as killed backups leave them in ``folder``: this machine's of a
    process gone (today's name and the name before session 50, with a journal), one of a
    process still running (this one's parent) and one of another machine."""
    dead = _dead_pid()
    host = re.sub(r"[^A-Za-z0-9.-]", "", socket.gethostname())[:40] or "host"
    files = {
        "dead": folder / f".{name}.partial-{host}-{dead}",
        "dead-journal": folder / f".{name}.partial-{host}-{dead}-journal",
        "old": folder / f".{name}.partial-{dead}",
        "alive": folder / f".{name}.partial-{host}-{os.getppid()}",
        "other-host": folder / f".{name}.partial-elsewhere.example-{dead}",
    }
    for path in files.values():
        path.write_bytes(b"SQLite format 3\0" + b"\0" * 100)
    return files


def test_backup_removes_the_copies_killed_backups_left_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _database(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir()
    files = _leftovers(folder, "b.db")
    result = backup(url, folder / "b.db")
    for gone in ("dead", "dead-journal", "old"):
        assert not files[gone].exists(), gone
    assert sorted(result.removed) == sorted([files["dead"], files["old"]])
    for kept in ("alive", "other-host"):  # a backup still running, here or elsewhere
        assert files[kept].exists(), kept
    # the command says it; the next backup finds nothing more to remove
    files = _leftovers(folder, "c.db")
    capsys.readouterr()
    assert main(["--db", url, "backup", str(folder / "c.db")]) == 0
    out = capsys.readouterr().out
    assert "removed 2 unfinished copies" in " ".join(out.split())
    assert "backed up" in out
    assert backup(url, folder / "d.db").removed == ()


def test_restore_removes_the_copies_left_beside_the_database(tmp_path: Path) -> None:
    url = _database(tmp_path)
    saved = tmp_path / "saved"
    saved.mkdir()
    backup(url, saved / "b.db")
    # a restore killed while it kept the database as it was leaves such a copy too
    files = _leftovers(tmp_path, "rw.db.before-restore-20261207T201222Z.db")
    result = restore(url, saved / "b.db")
    assert not files["dead"].exists() and not files["old"].exists()
    assert sorted(result.removed) == sorted([files["dead"], files["old"]])
    assert files["alive"].exists() and files["other-host"].exists()
    assert result.kept is not None and result.kept.exists()


def test_restore_without_room_for_the_kept_copy_says_to_free_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _database(tmp_path)
    saved = tmp_path / "saved"
    saved.mkdir()
    backup(url, saved / "b.db")
    with Database(url) as database, database.session() as s:
        repo.add_site(s, site_from_bbox("second", (130.70, 42.40, 130.71, 42.41)))

    def full(source: Path, dest: Path, opened: sqlite3.Connection | None = None) -> None:
        err = sqlite3.OperationalError("database or disk is full")
        raise backup_module._failed("copying the database", err, dest) from err

    monkeypatch.setattr(backup_module, "_backup_from", full)
    with pytest.raises(StorageError) as err:
        restore(url, saved / "b.db")
    words = str(err.value)
    assert "no room on the disk" in words and "free that much space" in words
    assert "nothing was restored" in words
    assert "DEST" not in words and "aside" not in words
    with Database(url) as database, database.session(readonly=True) as s:
        assert sorted(site.name for site in repo.list_sites(s)) == ["second", "yard"]


def test_a_file_size_limit_is_said_as_one_not_as_a_disk_fault(tmp_path: Path) -> None:
    url = _database(tmp_path)
    dest = tmp_path / "b.db"
    script = (
        "import resource, sys\n"
        "from railwatch.storage.backup import backup\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (8192, resource.getrlimit("
        "resource.RLIMIT_FSIZE)[1]))\n"
        "try:\n"
        f"    backup({url!r}, {str(dest)!r})\n"
        "except Exception as err:\n"
        "    print(err)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    ).stdout
    assert "ulimit -f" in out and "0.00819 MB" in out, out
    assert "check the disk" not in out
    assert not dest.exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_a_database_write_past_a_file_size_limit_says_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    err = OperationalError("INSERT", {}, sqlite3.OperationalError("disk I/O error"))
    monkeypatch.setattr(db, "file_size_limit", lambda: 1_000_000)
    words = db.explain_db_error(err, "sqlite:////tmp/x.db", "database write")
    assert "ulimit -f" in words and "1 MB" in words
    assert "check the disk" not in words
    monkeypatch.setattr(db, "file_size_limit", lambda: None)
    assert "check the disk" in db.explain_db_error(err, "sqlite:////tmp/x.db", "database write")


def test_restore_on_a_read_only_mount_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _database(tmp_path)
    saved = tmp_path / "saved"
    saved.mkdir()
    backup(url, saved / "b.db")
    real = os.statvfs

    def statvfs(path: object) -> os.statvfs_result:  # the database's folder, mounted ro
        got = real(path)  # type: ignore[arg-type]
        if Path(str(path)) != tmp_path:
            return got
        return os.statvfs_result((*got[:8], got.f_flag | os.ST_RDONLY, got.f_namemax))

    monkeypatch.setattr(os, "statvfs", statvfs)
    with pytest.raises(StorageError) as err:
        restore(url, saved / "b.db")
    words = str(err.value)
    assert "read-only file system" in words and "nothing was restored" in words
    assert "let this user write" not in words


def test_a_connection_lost_in_the_middle_is_not_said_as_one_that_never_was() -> None:
    """The server stopped during copy-db: said "cannot connect ... check the database
    URL (host, port, user, database name ...)", though the URL had connected."""
    err = OperationalError(
        "INSERT",
        {},
        Exception("consuming input failed: server closed the connection unexpectedly"),
    )
    words = db.explain_db_error(err, "postgresql+psycopg://u@h/d", "database write")
    assert "connection to the server was lost" in words and "pg_isready" in words
    assert "cannot connect" not in words and "database name" not in words


def test_copy_db_names_dest_as_the_url_to_check_when_sqlalchemy_rewrote_it() -> None:
    """A DEST with ?host=/path is written ?host=%2Fpath in the library's error, which then
    kept "--db URL on the command line" (the source's option) as the URL to check."""
    from railwatch.cli.backup import _of_dest

    dest = "postgresql+psycopg://postgres@/rw?host=/tmp/pg"
    said = (
        "cannot connect to database postgresql+psycopg://postgres@/rw?host=%2Ftmp%2Fpg (x): "
        "check that the server is running and the database URL (host, port, user, database "
        "name; Database(url) in Python, --db URL on the command line)"
    )
    words = _of_dest(said, "sqlite:////tmp/rw.db", dest)
    assert "--db" not in words and "DEST, copy-db's argument" in words


def _kill_a_writer(path: Path) -> None:
    """Leave a hot rollback journal beside ``path``, as a ``railwatch restore`` (which
    writes in that mode) or another program killed while it wrote leaves one: a
    transaction whose pages were partly written into the file, never committed."""
    script = (
        "import os, sqlite3\n"
        f"con = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "con.execute('PRAGMA journal_mode=DELETE')\n"
        "con.execute('PRAGMA cache_size=1')\n"
        "con.execute('BEGIN EXCLUSIVE')\n"
        "con.execute('UPDATE sites SET description = hex(randomblob(3000))')\n"
        "con.execute('CREATE TABLE junk (x)')\n"
        "con.execute('INSERT INTO junk SELECT randomblob(900) FROM "
        "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 300) "
        "SELECT i FROM n)')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert path.with_name(path.name + "-journal").stat().st_size > 0


def test_backup_after_a_writer_was_killed_rolls_its_journal_back_and_copies(
    tmp_path: Path,
) -> None:
    """The backup's read-only connection cannot roll a hot journal back: it failed with
    "attempt to write a readonly database", said as "DEST's folder cannot be written"."""
    url = _database(tmp_path)
    path = tmp_path / "rw.db"
    _kill_a_writer(path)
    result = backup(url, tmp_path / "b.db")
    assert result.rows["sites"] == 1
    with sqlite3.connect(tmp_path / "b.db") as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        assert "junk" not in tables  # the transaction that did not finish is not in it
        assert con.execute("SELECT description FROM sites").fetchone() == ("",)


def test_a_journal_in_a_folder_that_cannot_be_written_is_said_not_read_past(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a folder that cannot be written the database was read ``immutable``, its
    half-written pages without their journal: a damaged copy refused with a hundred
    lines of "Page N is never used" and advice to check a database that was whole."""
    url = _database(tmp_path)
    path = tmp_path / "rw.db"
    _kill_a_writer(path)
    real = os.access

    def access(target: object, mode: int, **kw: object) -> bool:  # a read-only folder
        if mode & os.W_OK and Path(str(target)) in (tmp_path, path):
            return False
        return real(target, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    out = tmp_path / "saved"
    out.mkdir()
    with pytest.raises(StorageError) as err:
        backup(url, out / "b.db")
    words = str(err.value)
    assert "did not finish" in words and "rw.db-journal" in words
    assert "failed its check" not in words and "\n" not in words
    assert not (out / "b.db").exists()


def test_an_integrity_check_of_many_lines_is_said_in_three() -> None:
    rows = ["*** in database main ***\nPage 25 is never used\nPage 86 is never used\nPage 9 x"]
    said = backup_module._first_problems(rows)
    assert "\n" not in said and said.endswith("and 1 more")
    assert backup_module._first_problems(["ok"]) == "ok"
