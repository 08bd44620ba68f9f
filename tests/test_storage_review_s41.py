"""Review of the storage layer for "bad input gets a clear error and never loses or
corrupts stored data" (2026-12-06, session 41): a full disk, a read-only folder and a
SQLite file of another application, each tried for real first (a 2 MB tmpfs, a
read-only bind mount, a database of someone else's tables) and played here."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import railwatch.storage.db as dbmod
from helpers import make_geotiff
from railwatch.cli.main import main
from railwatch.errors import StorageError
from railwatch.pipeline import processing_lock
from railwatch.storage import Database
from railwatch.storage.db import BusyError

BBOX = "8.58,47.52,8.59,47.53"


def _site_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    assert main(["--db", url, "site", "add", "yard", "--bbox", BBOX]) == 0
    return url


def _no_space(*_args: object) -> int:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# --- a full disk when a run writes its name into the site's lock file -------------------


def test_a_lock_taken_on_a_full_disk_is_held_without_its_holder_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found: on a full disk (with the database open elsewhere, `railwatch serve`, so
    that SQLite needed no room to open it) `railwatch process yard` said "internal
    error: OSError: [Errno 28] No space left on device ... please report it" (status
    70): writing the holder's name into the new lock file failed, and nothing caught
    it. The name is only what a refused run is told; the lock is the flock."""
    url = _site_db(tmp_path)
    db, other = Database(url), Database(url)
    monkeypatch.setattr(dbmod.os, "pwrite", _no_space)
    busy = pytest.raises(BusyError, match="is being processed by another railwatch run")
    with processing_lock(db, ["yard"]), busy, processing_lock(other, ["yard"]):
        pass
    with processing_lock(other, ["yard"]):  # let go as before
        pass
    db.dispose()
    other.dispose()


def test_process_on_a_full_disk_is_no_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _site_db(tmp_path)
    monkeypatch.setattr(dbmod.os, "pwrite", _no_space)
    code = main(["--db", url, "process", "yard"])
    err = capsys.readouterr().err
    assert code != 70 and "internal error" not in err, err


# --- a backup into a folder on a read-only file system ----------------------------------


@pytest.fixture
def readonly_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder on a read-only file system (a read-only bind mount: needs root)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a read-only file system")
    mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {mounted.stderr.decode().strip()}")
    try:
        ro = ["mount", "-o", "remount,ro,bind", str(folder)]
        if subprocess.run(ro, capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_a_backup_into_a_read_only_folder_says_so(
    tmp_path: Path, readonly_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found: "internal error: OSError: [Errno 30] Read-only file system:
    '.../.b.db.partial-PID'" (status 70): the clean-up of the copy that could not be
    made tried to delete it, and on a read-only file system deleting a file that is not
    there is EROFS, not "no such file", so it hid SQLite's own error."""
    url = _site_db(tmp_path)
    capsys.readouterr()
    code = main(["--db", url, "backup", str(readonly_folder / "b.db")])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "internal error" not in err
    assert f"{readonly_folder} cannot be written: give a DEST in a folder you can write" in err
    assert "nothing was written" in err


# --- a SQLite file of another application -----------------------------------------------


def _their_database(path: Path, table: str) -> bytes:
    """A SQLite database of another application (rollback journal, SQLite's default)
    holding ``table`` with one row; its bytes."""
    con = sqlite3.connect(path)
    try:
        con.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT)")
        con.execute(f"INSERT INTO {table} (name) VALUES ('theirs')")
        con.commit()
    finally:
        con.close()
    return path.read_bytes()


@pytest.mark.parametrize("create", [True, False])
def test_a_database_refused_for_tables_of_railwatchs_names_is_left_byte_for_byte(
    tmp_path: Path, create: bool
) -> None:
    """Found: refused ("already has tables named sites but no railwatch schema
    version"), the file was switched to WAL mode all the same (its header's bytes 18-19,
    for every application that uses it), by the connection that looked."""
    path = tmp_path / "theirs.db"
    before = _their_database(path, "sites")
    with pytest.raises(StorageError, match="already has tables named sites but no railwatch"):
        Database(f"sqlite:///{path}", create=create)
    assert path.read_bytes() == before
    assert not path.with_name("theirs.db-wal").exists()


def test_a_command_that_reads_leaves_another_applications_database_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found: `railwatch --db sqlite:///theirs.db site list` (a mistyped --db, or
    RAILWATCH_DB naming another application's file) wrote railwatch's eight tables into
    that database and said "No sites yet", status 0, though a command that works on
    existing records creates no database (session 30)."""
    path = tmp_path / "theirs.db"
    before = _their_database(path, "readings")
    url = f"sqlite:///{path}"
    for command in (["site", "list"], ["alerts"], ["analyze", "yard"]):
        assert main(["--db", url, *command]) == 1
        err = capsys.readouterr().err
        assert "is a SQLite database but not a railwatch one (it has table(s) readings" in err
        assert "was left as it is: give the URL of a railwatch database" in err
        assert "No sites yet" not in err
    assert path.read_bytes() == before
    with pytest.raises(StorageError, match="not a railwatch one"):
        Database(url, create=False)
    assert path.read_bytes() == before


# --- PostgreSQL: a search_path naming a schema that does not exist ----------------------


@pytest.mark.services
def test_a_search_path_to_a_schema_not_created_says_to_create_it(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found: docs/storage.md gives `?options=-csearch_path%3Drailwatch` after `CREATE
    SCHEMA railwatch`; with the schema not created (or its name mistyped) every command
    said "migrating the database failed (URL): no schema has been selected to create in"
    and nothing of what to do."""
    url = make_url(postgres_url).update_query_dict({"options": "-csearch_path=rw_nowhere"})
    code = main(["--db", url.render_as_string(False), "site", "list"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1, err
    assert "no schema has been selected to create in" in err
    assert "schema rw_nowhere, which the URL's search_path names, does not exist" in err, err
    assert "CREATE SCHEMA rw_nowhere" in err and "nothing was written" in err
    with create_engine(postgres_url).connect() as conn:  # nothing made anywhere
        assert (
            conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar()
            == 0
        )


def test_a_database_held_alone_by_another_process_is_waited_for_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look before the first connection (above) waits SQLite's busy timeout where
    another connection holds the database alone (`railwatch restore` does, for seconds);
    timed out, it says so at once instead of handing over to a connection that waited
    the whole timeout again (the look came with this review and waited twice first)."""
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    Database(url).dispose()  # a new database, no connection left open
    monkeypatch.setattr(dbmod, "SQLITE_BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(tmp_path / "rw.db", isolation_level=None)
    engines: list[object] = []
    real = dbmod.create_engine

    def counted(*args: Any, **kwargs: Any) -> Any:
        engines.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(dbmod, "create_engine", counted)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StorageError, match=r"stayed locked by another writer for 0\.2 s"):
            Database(url, create=False)
        assert engines == []
    finally:
        holder.close()
    Database(url, create=False).dispose()  # let go: opened as before
    assert len(engines) == 1


# --- another application's database that uses Alembic too -------------------------------


def _alembic_application(path: Path) -> bytes:
    """A SQLite database of another application that keeps its schema with Alembic (a
    version table of Alembic's name, holding one of Alembic's hex revision ids); its
    bytes."""
    con = sqlite3.connect(path)
    try:
        con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        con.execute("INSERT INTO alembic_version VALUES ('3f2a9c1b7d4e')")
        con.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        con.commit()
    finally:
        con.close()
    return path.read_bytes()


def test_another_alembic_applications_database_is_not_called_a_newer_railwatchs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found: every command said "database ... has schema revision 3f2a9c1b7d4e, newer
    than this railwatch knows ...: it was written by a newer railwatch; upgrade railwatch
    (pip install -U railwatch)", and "The database was not changed", though the look had
    switched it to WAL mode."""
    path = tmp_path / "app.db"
    before = _alembic_application(path)
    url = f"sqlite:///{path}"
    for command in (["site", "list"], ["site", "add", "yard", "--bbox", BBOX]):
        assert main(["--db", url, *command]) == 1
        err = " ".join(capsys.readouterr().err.split())
        assert "is not a railwatch database but another application's" in err, err
        assert "holds revision '3f2a9c1b7d4e', and its tables are users" in err
        assert "newer" not in err and "pip install" not in err
        assert "it was left as it is" in err
    assert path.read_bytes() == before


def test_backup_and_restore_refuse_another_alembic_applications_database(
    tmp_path: Path,
) -> None:
    """Found: `railwatch backup` copied it ("schema 3f2a9c1b7d4e; " and no rows), and
    `railwatch restore` of it said "newer than this railwatch knows: restore it with the
    railwatch that wrote it (pip install -U railwatch)"."""
    from railwatch.storage.backup import backup, restore

    app = tmp_path / "app.db"
    _alembic_application(app)
    with pytest.raises(StorageError, match="not a railwatch database but another") as info:
        backup(f"sqlite:///{app}", tmp_path / "b.db")
    assert "nothing was backed up" in str(info.value)
    assert not (tmp_path / "b.db").exists()
    url = _site_db(tmp_path)
    with pytest.raises(StorageError) as info:
        restore(url, app)
    words = str(info.value)
    assert "not a railwatch database but another application's" in words
    assert "newer" not in words and "pip install" not in words
    assert "the database was not changed: give the file `railwatch backup` wrote" in words
    assert not list(tmp_path.glob("*.before-restore-*"))


@pytest.mark.services
def test_a_postgresql_database_of_another_alembic_application_is_said_so(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('3f2a9c1b7d4e')"))
        conn.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY)"))
    code = main(["--db", postgres_url, "site", "list"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert "is not a railwatch database but another application's" in err, err
    assert "CREATE SCHEMA railwatch" in err and "newer" not in err
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "3f2a9c1b7d4e"
        )
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        assert sorted(tables.scalars()) == ["alembic_version", "users"]
    engine.dispose()


# --- a path the file system will not look up (a name too long) -------------------------


def test_a_database_or_backup_name_too_long_is_said_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found: `railwatch --db sqlite:///NAME.db site list` (or `site add`, `backup
    NAME.db`, `restore NAME.db`) with a name of 260 characters said "internal error:
    OSError: [Errno 36] File name too long" (status 70): Path.is_dir() raises it."""
    long = tmp_path / ("b" * 260 + ".db")
    url = _site_db(tmp_path)
    capsys.readouterr()
    runs = [
        (["--db", f"sqlite:///{long}", "site", "list"], 1),
        (["--db", f"sqlite:///{long}", "site", "add", "yard", "--bbox", BBOX], 1),
        (["--db", url, "backup", str(long)], 2),
        (["--db", url, "restore", str(long), "--yes"], 2),
        (["--db", f"sqlite:///{long}", "backup", str(tmp_path / "b.db")], 2),
    ]
    for argv, status in runs:
        assert main(argv) == status, argv
        err = " ".join(capsys.readouterr().err.split())
        assert "internal error" not in err
        assert "File name too long for the file system: give a shorter name or path" in err, err
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("rw.db")] == []


def test_a_backup_whose_name_is_long_but_allowed_is_made(tmp_path: Path) -> None:
    """Its hidden copy in the making (".NAME.partial-PID") was 11 characters longer than
    the name, and past 255 SQLite said "unable to open database file: check the disk"."""
    from railwatch.storage.backup import backup

    url = _site_db(tmp_path)
    dest = tmp_path / ("b" * 245 + ".db")
    result = backup(url, dest)
    assert result.path == dest and result.rows["sites"] == 1


@pytest.fixture
def readonly_file(tmp_path: Path) -> Iterator[Path]:
    """A railwatch database file that cannot be written, in a folder that can (the file
    bind-mounted read-only over itself: needs root, as root may write any file)."""
    url = _site_db(tmp_path)
    path = Path(url.removeprefix("sqlite:///"))
    Database(url).dispose()  # checkpointed: the file is the whole database
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a read-only file")
    if subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here")
    try:
        ro = ["mount", "-o", "remount,ro,bind", str(path)]
        if subprocess.run(ro, capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield path
    finally:
        subprocess.run(["umount", str(path)], capture_output=True)


def test_a_restore_into_a_read_only_database_file_says_so(
    tmp_path: Path, readonly_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found: "the database ... could not be opened to be kept before being replaced
    (disk I/O error); nothing was restored. Move rw.db and its -wal and -shm files aside
    yourself": the file had been read, and it was the write that was refused."""
    from railwatch.storage.backup import backup

    saved = backup(f"sqlite:///{readonly_file}", tmp_path / "saved.db").path
    before = readonly_file.read_bytes()
    code = main(["--db", f"sqlite:///{readonly_file}", "restore", str(saved), "--yes"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert f"the database file {readonly_file} cannot be written" in err, err
    assert "nothing was restored" in err and "disk I/O error" not in err
    assert readonly_file.read_bytes() == before
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_a_backup_of_a_database_held_alone_says_to_wait_not_to_check_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found (for real, with a connection holding the database in exclusive locking mode
    as `railwatch restore` does): after 30 s, "backup failed while copying the database
    (database is locked): check the disk and run it again"."""
    import railwatch.storage.backup as backup_mod

    url = f"sqlite:///{tmp_path / 'rw.db'}"
    Database(url).dispose()
    monkeypatch.setattr(backup_mod, "SQLITE_BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(tmp_path / "rw.db", isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StorageError) as info:
            backup_mod.backup(url, tmp_path / "b.db")
    finally:
        holder.close()
    words = str(info.value)
    assert "database is locked" in words and "check the disk" not in words, words
    assert "another process held the database alone for 0.2 s" in words
    assert "let it finish and run the backup again" in words
    assert not (tmp_path / "b.db").exists()


# --- a sensor name longer than its column ----------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'rw.db'}"


def test_an_image_naming_a_long_sensor_is_ingested_with_it_cut(
    tmp_path: Path, any_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found (for real, on PostgreSQL, with a STAC sidecar whose constellation was 207
    characters): "Not ingested: ... database write failed (...): value too long for type
    character varying(128)", and nothing to do about it; SQLite stored the name whole.
    A TIFF tag SENSOR is read the same way."""
    import rasterio
    from rasterio.warp import transform_bounds

    from railwatch.storage.models import Scene

    image = make_geotiff(tmp_path / "img" / "yard.tif", tags={"SENSOR": "S" * 200})
    with rasterio.open(image) as src:
        west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    bbox = f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}"
    assert main(["--db", any_db_url, "site", "add", "yard", "--bbox", bbox]) == 0
    code = main(["--db", any_db_url, "ingest", "yard", str(image), "--date", "2024-03-01"])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    with Database(any_db_url) as db, db.session(readonly=True) as s:
        (sensor,) = s.query(Scene.sensor).one()
    assert sensor == "S" * 127 + "…"  # the column's 128 characters
