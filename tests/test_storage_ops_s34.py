"""Session 34, an operator's audit of storage: backups taken while runs write
(``railwatch backup``) and put back (``railwatch restore``), a database file cut short
to nothing, and SQLite's "disk I/O error" on a full disk.

Before: there was no documented way to back up a database (a damaged one's message said
"restore it from a backup"), and ``cp`` of a database in WAL mode misses the commits
kept in its -wal file, and ``cp`` of a backup over a database whose -wal file was left
by a killed run has that -wal replayed onto the copy; a 0-byte database file was taken
for an empty database by every command (``site list`` said "No sites yet" and wrote a
new schema into it); a full disk met while SQLite sized its -shm file was a bare "disk
I/O error"."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import railwatch
from railwatch.cli.main import main
from railwatch.errors import InputError, StorageError
from railwatch.storage import Database, repo
from railwatch.storage.backup import backup, restore
from railwatch.storage.db import BusyError, NoDatabaseError, explain_db_error
from railwatch.storage.migrate import head_revision
from web_db import populate

TABLES = ("sites", "scenes", "detections", "counts", "events", "alerts", "alembic_version")


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}
    finally:
        con.close()


@pytest.fixture(scope="module")
def filled_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of ``filled``'s database, made once for the module (its images beside
    it, which no test changes)."""
    root = tmp_path_factory.mktemp("storage_ops")
    path = root / "live" / "railwatch.db"
    path.parent.mkdir()
    with Database(_url(path)) as db:
        info = populate(db, root / "images")
        with db.session() as s:
            repo.acknowledge_alert(s, info["alert_id"], "seen")
    return path.parent


@pytest.fixture
def filled(filled_once: Path, tmp_path: Path) -> Iterator[Path]:
    """A railwatch database with a site, six scenes, detections, counts, an event and an
    acknowledged alert (tests/web_db.py): a copy of its own of ``filled_once``'s folder,
    file for file, that the test may back up, restore over or damage."""
    live = tmp_path / "live"
    shutil.copytree(filled_once, live, copy_function=shutil.copy)
    yield live / "railwatch.db"


# ------------------------------------------------------------------------ backup


def test_a_backup_holds_every_row_in_one_checked_file(filled: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backups" / "copy.db"
    dest.parent.mkdir()
    before = filled.read_bytes()
    result = backup(_url(filled), dest)
    assert result.path == dest and result.revision == head_revision()
    assert result.rows["scenes"] == 6 and result.rows["alerts"] == 1
    assert _rows(dest) == _rows(filled)
    # self-contained: no -wal needed beside it, so copying the file alone copies it all
    con = sqlite3.connect(dest)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["copy.db"]
    assert filled.read_bytes() == before  # the database was only read
    # restored (copied into place), it is a working database
    restored = tmp_path / "restored.db"
    restored.write_bytes(dest.read_bytes())
    with Database(_url(restored), create=False) as db, db.session() as s:
        site = repo.get_site(s, "tumangang-test")
        assert repo.list_alerts(s, site)[0].ack_note == "seen"
        repo.add_event(s, site, date(2024, 1, 1), "after the restore")


def test_a_backup_taken_while_another_process_writes_is_one_consistent_state(
    filled: Path, tmp_path: Path
) -> None:
    """Events are added one per transaction while backups are taken: each backup passes
    the integrity check and holds a whole number of them (no half transaction), the
    last ones too (they are in the -wal file, which ``cp`` of the database misses)."""
    stop = threading.Event()
    added: list[int] = []

    def write() -> None:
        with Database(_url(filled)) as db:
            day = 0
            while not stop.is_set() and day < 300:
                with db.session() as s:
                    site = repo.get_site(s, "tumangang-test")
                    repo.add_event(s, site, date(2020, 1, 1) + timedelta(days=day), "w")
                day += 1
                added.append(day)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        copies = []
        for i in range(3):
            while len(added) < 5 * (i + 1) and writer.is_alive():
                stop.wait(0.01)
            copies.append(backup(_url(filled), tmp_path / f"b{i}.db"))
    finally:
        stop.set()
        writer.join()
    seen = []
    for copy in copies:
        con = sqlite3.connect(copy.path)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            n = con.execute("SELECT count(*) FROM events WHERE label = 'w'").fetchone()[0]
        finally:
            con.close()
        assert n == copy.rows["events"] - 1  # the fixture's own event
        seen.append(n)
    assert seen == sorted(seen) and seen[0] >= 5 and seen[-1] <= len(added)


def test_a_backup_never_overwrites_and_writes_nothing_when_refused(
    filled: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "kept.db"
    dest.write_bytes(b"an earlier backup")
    with pytest.raises(InputError, match="never overwrites"):
        backup(_url(filled), dest)
    assert dest.read_bytes() == b"an earlier backup"
    with pytest.raises(InputError, match="is the database itself"):
        backup(_url(filled), filled.parent / "." / filled.name)
    with pytest.raises(InputError, match="is the database itself"):
        backup(_url(filled), filled.with_name(filled.name + "-wal"))
    with pytest.raises(InputError, match="does not exist"):
        backup(_url(filled), tmp_path / "nowhere" / "b.db")
    with pytest.raises(NoDatabaseError, match="no database at"):
        backup(_url(tmp_path / "none.db"), tmp_path / "b.db")
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "b.db").exists()


def test_a_damaged_database_is_not_backed_up_and_nothing_is_left(
    filled: Path, tmp_path: Path
) -> None:
    con = sqlite3.connect(filled)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    bad = tmp_path / "bad.db"
    data = filled.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StorageError, match=r"cannot be backed up: .*\.recover"):
        backup(_url(bad), out / "b.db")
    assert list(out.iterdir()) == []  # no partial copy left behind


def test_a_database_of_a_newer_railwatch_is_copied_as_it_is(filled: Path, tmp_path: Path) -> None:
    con = sqlite3.connect(filled)
    con.execute("UPDATE alembic_version SET version_num = '9999_future'")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = filled.read_bytes()
    result = backup(_url(filled), tmp_path / "b.db")
    assert result.revision == "9999_future"
    assert filled.read_bytes() == before


def test_another_applications_sqlite_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (t TEXT)")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match="not a railwatch one"):
        backup(_url(other), tmp_path / "b.db")
    assert not (tmp_path / "b.db").exists()


def test_postgresql_is_told_the_pg_dump_command_without_its_password() -> None:
    with pytest.raises(InputError) as info:
        backup("postgresql+psycopg://rw:secret@db.example.org/yard", "b.db")
    msg = str(info.value)
    assert "pg_dump -Fc -f FILE 'postgresql://rw:***@db.example.org/yard'" in msg
    assert "pg_restore -d " in msg and "secret" not in msg  # the server: test_backup_review_s34


def test_the_backup_command(
    filled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "cli.db"
    assert main(["--db", _url(filled), "backup", str(dest), "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["backup"] == str(dest) and said["rows"]["scenes"] == 6
    assert said["revision"] == head_revision()
    assert main(["--db", _url(filled), "backup", str(dest)]) == 2
    assert "never overwrites" in capsys.readouterr().err
    missing = tmp_path / "none.db"
    assert main(["--db", _url(missing), "backup", str(tmp_path / "b.db")]) == 1
    assert f"no database at {missing}" in capsys.readouterr().err
    assert not missing.exists() and not (tmp_path / "b.db").exists()


# ----------------------------------------------------------------------- restore

#: Adds 30 events and deletes a third of the detections, then dies like ``kill -9``:
#: with checkpoints off, its commits are left in the database's -wal file.
_KILLED_WRITER = """
import os, sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA wal_autocheckpoint=0")
for i in range(30):
    con.execute("INSERT INTO events (site_id, date, label, description, created_at) "
                "VALUES (1, '2025-01-01', 'late ' || ?, '', '2025-01-01')", (i,))
con.execute("DELETE FROM detections WHERE id % 3 = 0")
os._exit(0)
"""


def _killed_writer(path: Path) -> None:
    subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(path)], check=True)
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0


def test_restore_over_a_database_with_a_left_wal_gives_the_backup_and_keeps_the_rest(
    filled: Path, tmp_path: Path
) -> None:
    """The stale -wal of a killed run is not mixed into the restored database (as it is
    when the backup is copied over the file), and what it held is kept aside."""
    saved = backup(_url(filled), tmp_path / "saved.db")
    _killed_writer(filled)
    result = restore(_url(filled), saved.path)
    assert _rows(filled) == _rows(saved.path)
    assert result.rows == saved.rows and result.kept is not None
    kept = sqlite3.connect(result.kept)
    try:
        late = kept.execute("SELECT count(*) FROM events WHERE label LIKE 'late %'").fetchone()
        dets = kept.execute("SELECT count(*) FROM detections").fetchone()[0]
    finally:
        kept.close()
    assert late == (30,) and dets < saved.rows["detections"]
    with Database(_url(filled), create=False) as db, db.session() as s:
        site = repo.get_site(s, "tumangang-test")
        assert repo.list_alerts(s, site)[0].ack_note == "seen"
        repo.add_event(s, site, date(2024, 1, 1), "after the restore")


def test_two_restores_in_one_second_keep_both_earlier_databases(
    filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy of the database as it was is named by the second: a second restore in
    the same second was refused ("... exists: railwatch backup never overwrites")."""
    import railwatch.storage.backup as backup_module

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Frozen:
            return cls(2026, 12, 5, 21, 0, 0, tzinfo=tz)

    monkeypatch.setattr(backup_module, "datetime", Frozen)
    saved = backup(_url(filled), tmp_path / "saved.db")
    first = restore(_url(filled), saved.path).kept
    second = restore(_url(filled), saved.path).kept
    assert first is not None and second is not None and first != second
    assert first.exists() and second.exists()
    assert second.name == "railwatch.db.before-restore-20261205T210000Z-2.db"


def test_restore_of_a_backup_with_other_pages_than_the_database(
    filled: Path, tmp_path: Path
) -> None:
    """A backup made with another page size (``VACUUM INTO`` after ``PRAGMA page_size``)
    was refused: "attempt to write a readonly database" (SQLite cannot change the page
    size of a database in WAL mode), with "check the disk"."""
    other = tmp_path / "pages8k.db"
    con = sqlite3.connect(filled)
    try:
        con.execute("PRAGMA page_size = 8192")
        con.execute("VACUUM INTO ?", (str(other),))
    finally:
        con.close()
    before = _rows(filled)
    result = restore(_url(filled), other)
    assert _rows(filled) == before == _rows(other)
    with Database(_url(filled), create=False) as db, db.session() as s:
        repo.add_event(s, repo.get_site(s, "tumangang-test"), date(2024, 1, 1), "after")
        assert s.execute(text("PRAGMA page_size")).scalar_one() == 8192
    assert result.kept is not None and result.kept.exists()


def test_restore_is_refused_while_a_run_holds_the_database(filled: Path, tmp_path: Path) -> None:
    saved = backup(_url(filled), tmp_path / "saved.db")
    with Database(_url(filled)) as db, db.session() as s:
        repo.add_event(s, repo.get_site(s, "tumangang-test"), date(2024, 2, 2), "newer")
    before = _rows(filled)
    busy = r"a railwatch run is writing to .*held by process"
    with (
        Database(_url(filled)) as db,
        db.exclusive({"process:yard": "site 'yard' is busy"}),
        pytest.raises(BusyError, match=busy),
    ):
        restore(_url(filled), saved.path)
    assert _rows(filled) == before
    assert not list(filled.parent.glob("*.before-restore-*"))


def test_restore_refuses_a_damaged_or_newer_backup_and_changes_nothing(
    filled: Path, tmp_path: Path
) -> None:
    saved = backup(_url(filled), tmp_path / "saved.db")
    before = _rows(filled)
    cut = tmp_path / "cut.db"
    data = saved.path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(StorageError, match="cannot be restored"):
        restore(_url(filled), cut)
    con = sqlite3.connect(saved.path)
    con.execute("UPDATE alembic_version SET version_num = '9999_future'")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match="newer than this railwatch knows"):
        restore(_url(filled), saved.path)
    with pytest.raises(InputError, match="no backup at"):
        restore(_url(filled), tmp_path / "none.db")
    assert _rows(filled) == before
    assert not list(filled.parent.glob("*.before-restore-*"))


def test_restore_into_a_new_or_empty_file(filled: Path, tmp_path: Path) -> None:
    saved = backup(_url(filled), tmp_path / "saved.db")
    for target in (tmp_path / "new.db", tmp_path / "empty.db"):
        if target.name == "empty.db":
            target.touch()
        result = restore(_url(target), saved.path)
        assert result.kept is None
        assert _rows(target) == _rows(saved.path)


def test_the_restore_command_asks_and_keeps_the_database(
    filled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = backup(_url(filled), tmp_path / "saved.db")
    assert main(["--db", _url(filled), "restore", str(saved.path)]) == 2
    assert "pass --yes to confirm" in capsys.readouterr().err
    assert not list(filled.parent.glob("*.before-restore-*"))
    assert main(["--db", _url(filled), "restore", str(saved.path), "--yes", "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["database"] == str(filled) and Path(said["kept"]).exists()
    assert said["rows"] == saved.rows


# ------------------------------------------------------------ a newer database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def any_url(request: pytest.FixtureRequest, tmp_db_url: str) -> str:
    """A fresh, empty database on each backend: a SQLite file, then PostgreSQL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return tmp_db_url


def test_a_database_of_a_newer_railwatch_is_named_and_left_as_it_is(any_url: str) -> None:
    """The refusal names the database and the newest revision this railwatch knows (it
    said only "database schema revision X is newer than this railwatch knows"), and
    nothing in the database changes."""
    with Database(any_url) as db:
        with db.session() as s:
            s.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
        with db.session(readonly=True) as s:
            before = [s.execute(text(f"SELECT * FROM {t}")).all() for t in TABLES]
    with pytest.raises(StorageError) as info:
        Database(any_url)
    msg = str(info.value)
    shown = make_url(any_url).render_as_string(hide_password=True)
    assert f"database {shown} has schema revision 9999_future" in msg
    assert f"newest revision {head_revision()}" in msg
    assert "The database was not changed" in msg
    with Database(any_url, migrate=False) as db, db.session(readonly=True) as s:
        assert [s.execute(text(f"SELECT * FROM {t}")).all() for t in TABLES] == before


def test_upgrading_a_database_says_so_once(
    any_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An older database upgraded on open is said (a warning, on stderr in the CLI)
    naming both revisions; a new database made, or one already up to date, says
    nothing. Before, an upgrade, which an older railwatch cannot open, was silent."""
    from railwatch.storage.migrate import upgrade

    upgrade(any_url, "0004_site_areas")  # as a railwatch of session 29 left it
    with caplog.at_level("WARNING", logger="railwatch.storage.migrate"):
        Database(any_url).dispose()
        Database(any_url).dispose()  # up to date: nothing to say
        Database(_url(tmp_path / "new.db")).dispose()  # made: nothing to say
    said = [r.getMessage() for r in caplog.records if r.name == "railwatch.storage.migrate"]
    shown = make_url(any_url).render_as_string(hide_password=True)
    assert said == [
        f"upgraded database {shown} from schema revision 0004_site_areas to "
        f"{head_revision()} (railwatch {railwatch.__version__}): an older railwatch can "
        "no longer open it"
    ]


# ------------------------------------------------- a read-only PostgreSQL database


@pytest.mark.services
def test_a_postgresql_database_that_accepts_no_writes_is_said_so(
    postgres_url: str, tmp_path: Path
) -> None:
    """A standby, or ``default_transaction_read_only``: writing said "database read
    failed (...): cannot execute SELECT FOR UPDATE in a read-only transaction"."""
    from sqlalchemy import create_engine

    with Database(postgres_url) as db:
        info = populate(db, tmp_path / "images")
    name = make_url(postgres_url).database
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    finally:
        admin.dispose()
    with Database(postgres_url) as db:  # opened: nothing to migrate
        for write in (
            lambda s: repo.acknowledge_alert(s, info["alert_id"], "seen"),
            lambda s: repo.add_event(s, repo.get_site(s, info["site"]), date(2024, 1, 1), "x"),
        ):
            with pytest.raises(StorageError) as err, db.session() as s:
                write(s)
            msg = str(err.value)
            assert msg.startswith("database write failed (")
            assert "this database accepts no writes (a PostgreSQL standby" in msg
            assert "give the URL of the primary server" in msg


# ------------------------------------------------------- an empty database file


def test_an_empty_database_file_is_refused_and_left_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "railwatch.db"
    path.touch()
    with pytest.raises(StorageError) as info:
        Database(_url(path), create=False)
    assert not isinstance(info.value, NoDatabaseError)
    assert "is an empty file (0 bytes), not a railwatch database" in str(info.value)
    assert path.stat().st_size == 0
    assert main(["--db", _url(path), "site", "list"]) == 1
    err = capsys.readouterr().err
    assert "empty file (0 bytes)" in err and "No sites yet" not in err
    assert path.stat().st_size == 0
    # `site add` may start a new database in it
    assert main(["--db", _url(path), "site", "add", "yard", "--bbox", "8.58,47.52,8.59,47.53"]) == 0
    assert path.stat().st_size > 0


# ----------------------------------------------------------------- disk I/O error


def _statvfs(free: int) -> SimpleNamespace:
    return SimpleNamespace(f_bavail=free // 4096, f_frsize=4096)


def test_a_disk_io_error_on_a_full_disk_is_said_to_be_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite says "disk I/O error" when its -shm file cannot be grown on a full disk
    (seen on a 2 MB tmpfs: every command said "migrating the database failed (...): disk
    I/O error")."""
    err = OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("disk I/O error"))
    url = _url(tmp_path / "yard.db")
    monkeypatch.setattr(os, "statvfs", lambda _p: _statvfs(8192))
    msg = explain_db_error(err, url, "migrating the database")
    assert msg.startswith(f"migrating the database failed ({url}): disk I/O error: ")
    assert "the disk holding the database is full" in msg
    assert "everything recorded before is kept" in msg
    monkeypatch.setattr(os, "statvfs", lambda _p: _statvfs(10 << 30))
    msg = explain_db_error(err, url, "database write")
    assert "disk holding the database is full" not in msg
    assert "check the disk" in msg and "everything recorded before is kept" in msg


def test_a_disk_io_error_through_a_session_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(_url(tmp_path / "yard.db"))
    monkeypatch.setattr(os, "statvfs", lambda _p: _statvfs(0))
    with pytest.raises(StorageError) as info, db.session() as s:
        s.execute(text("SELECT 1"))
        raise OperationalError("INSERT INTO events", {}, sqlite3.OperationalError("disk I/O error"))
    assert "the disk holding the database is full" in str(info.value)
    assert "\n" not in str(info.value)
    db.dispose()
