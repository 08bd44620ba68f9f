"""Four faults left open by the operations walk of session 50 (2026-12-07, session 51).

1. ``railwatch copy-db`` into a new SQLite file that was refused or failed part way left
   the file behind with empty railwatch tables. The copy now removes the file it made
   (never one that was there: that is left as it was, not even upgraded), and a copy
   refused because a run holds the source makes none.
2. A PostgreSQL connection lost while copy-db (or any command) wrote a batch of rows
   printed psycopg's "WARNING psycopg: error ignored terminating <psycopg.Pipeline [BAD]
   ...>: the connection is lost" above the command's own error.
3. A new database was made by replaying every Alembic revision; it is now made at the
   head directly (the models' tables and the version table, one transaction), and its
   schema is the migrated one.
4. ``railwatch ingest``: the final error of a run that failed a file while another was
   still being copied in counted the files found without it ("1 of 2 files failed" of
   three) and said nothing of it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from counted_site import WELLINGTON, add_counted_site
from railwatch.cli.main import main
from railwatch.errors import StorageError
from railwatch.storage import Database, migrate
from railwatch.storage.migrate import HEAD_REVISION, upgrade
from railwatch.storage.models import NEVER_REUSED_IDS, Base
from railwatch.storage.transfer import copy_database

# ------------------------------------------------------------ 1. copy-db's new file


def _source(tmp_path: Path, scenes: int = 5) -> str:
    url = f"sqlite:///{tmp_path / 'laptop.db'}"
    db = Database(url)
    try:
        start = datetime(2024, 1, 1, tzinfo=UTC)
        add_counted_site(
            db, "wellington", WELLINGTON, [(start + timedelta(days=k), 5.0) for k in range(scenes)]
        )
    finally:
        db.dispose()
    return url


def _files(folder: Path, name: str) -> list[str]:
    """The files of the database ``name`` in ``folder`` (with its -wal, -shm, ...) and
    any hidden file made beside it."""
    return sorted(p.name for p in folder.iterdir() if p.name.lstrip(".").startswith(name))


def _snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_ino


def test_a_copy_refused_for_a_run_in_progress_makes_no_file_and_changes_none(
    tmp_path: Path,
) -> None:
    from railwatch.pipeline import processing_lock

    source = _source(tmp_path)
    # an empty database of an older railwatch as DEST: upgraded, then refused (before)
    older = tmp_path / "older.db"
    upgrade(f"sqlite:///{older}", "0004_site_areas")
    before = _snapshot(older)
    db = Database(source)
    try:
        with processing_lock(db, ["wellington"]):
            for dest in (tmp_path / "new.db", older):
                with pytest.raises(StorageError, match="is being processed by a railwatch run"):
                    copy_database(source, f"sqlite:///{dest}")
    finally:
        db.dispose()
    assert _files(tmp_path, "new.db") == []
    assert _snapshot(older) == before
    # a source that is not there: nothing made either
    with pytest.raises(StorageError, match="no database at"):
        copy_database(f"sqlite:///{tmp_path / 'nosuch.db'}", f"sqlite:///{tmp_path / 'new.db'}")
    assert _files(tmp_path, "new.db") == []


@pytest.mark.parametrize("stop", [KeyboardInterrupt, RuntimeError])
def test_a_copy_stopped_part_way_removes_the_file_it_made(
    tmp_path: Path, stop: type[BaseException]
) -> None:
    source = _source(tmp_path)
    seen: list[int] = []

    def stopping(table: str, done: int, total: int) -> None:
        seen.append(done)
        if table == "scenes" and done > 1:  # rows written, in the transaction
            raise stop("stopped")

    with pytest.raises(stop):
        copy_database(source, f"sqlite:///{tmp_path / 'new.db'}", batch=2, on_progress=stopping)
    assert len(seen) > 2
    assert _files(tmp_path, "new.db") == []
    # an empty database that was there is kept, empty
    there = tmp_path / "there.db"
    Database(f"sqlite:///{there}").dispose()
    with pytest.raises(stop):
        copy_database(source, f"sqlite:///{there}", batch=2, on_progress=stopping)
    con = sqlite3.connect(there)
    try:
        assert con.execute("SELECT count(*) FROM sites").fetchone() == (0,)
    finally:
        con.close()
    # the same copy again goes through
    result = copy_database(source, f"sqlite:///{tmp_path / 'new.db'}")
    assert result.rows["scenes"] == 5


def test_a_database_with_rows_is_refused_as_it_was_not_upgraded_first(tmp_path: Path) -> None:
    source = _source(tmp_path)
    older = tmp_path / "older.db"
    url = f"sqlite:///{older}"
    upgrade(url, "0004_site_areas")
    con = sqlite3.connect(older)
    try:
        con.execute(
            "INSERT INTO events (site_id, date, label, description, created_at) "
            "VALUES (1, '2024-01-01', 'x', '', '2024-01-01 00:00:00')"
        )
        con.commit()
    finally:
        con.close()
    before = _snapshot(older)
    with pytest.raises(StorageError, match=r"is not empty \(events 1\).*nothing was copied"):
        copy_database(source, url)
    assert _snapshot(older) == before  # still at 0004 (upgraded to the head before)


def test_a_new_file_whose_schema_cannot_be_written_is_removed(tmp_path: Path) -> None:
    """A file size limit (as a full disk) stops DEST's schema after its file is made."""
    source = _source(tmp_path)
    dest = tmp_path / "new.db"
    script = (
        "import resource\n"
        "from railwatch.storage import Database\n"
        "from railwatch.storage.transfer import copy_database\n"
        f"keep = Database({source!r})  # the source's -shm made before the limit\n"
        "with keep.engine.connect():\n"
        "    pass\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (8192, resource.getrlimit("
        "resource.RLIMIT_FSIZE)[1]))\n"
        "try:\n"
        f"    copy_database({source!r}, {f'sqlite:///{dest}'!r})\n"
        "except Exception as err:\n"
        "    print(err)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    ).stdout
    assert "ulimit -f" in out, out
    assert out.rstrip().endswith(
        f"{dest} was not made (the copy was written to a hidden file beside it, removed)"
    ), out  # session 51 review: written beside DEST, put there once whole
    assert _files(tmp_path, "new.db") == []


# ------------------------------------------------- 2. psycopg's second error, not shown


def test_psycopgs_second_error_is_not_a_warning_and_others_are() -> None:
    import logging

    from railwatch.cli._common import quiet_psycopg_second_errors

    # installed by the CLI alone since the session 51 review (make_engine did)
    quiet_psycopg_second_errors()
    psycopg_log = logging.getLogger("psycopg")
    passed: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            passed.append(record.getMessage())

    handler = Keep()
    psycopg_log.addHandler(handler)
    try:
        try:  # psycopg logs them in the except of a second failure
            raise OSError("the connection is lost")
        except OSError as second:
            psycopg_log.warning(
                "error ignored terminating %r: %s", "<psycopg.Pipeline [BAD]>", second
            )
            psycopg_log.warning("error ignored in rollback on %s: %s", "<conn>", second)
            psycopg_log.warning("unknown PostgreSQL timezone: %r; will use UTC", "Mars/Olympus")
            psycopg_log.error("error ignored terminating: an ERROR is never held back")
        psycopg_log.warning("error ignored outside any exception: passes")
    finally:
        psycopg_log.removeHandler(handler)
    assert passed == [
        "unknown PostgreSQL timezone: 'Mars/Olympus'; will use UTC",
        "error ignored terminating: an ERROR is never held back",
        "error ignored outside any exception: passes",
    ]


#: ``railwatch copy-db`` whose destination's connections are ended by the server (as
#: when it stops) once the first batch of scenes is written: the next batch, an
#: executemany in a psycopg pipeline, finds the connection lost.
LOST_MID_COPY = """
import sys
from sqlalchemy import create_engine, text
from railwatch.storage import transfer
from railwatch.cli.main import main

source, dest, admin, name, *options = sys.argv[1:]
real = transfer.copy_database

def copy(src, target, *, on_progress=None, **kwargs):
    cut = []

    def progress(table, done, total):
        if on_progress is not None:
            on_progress(table, done, total)
        if table == "scenes" and not cut:
            cut.append(table)
            engine = create_engine(admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = :d AND pid <> pg_backend_pid()"),
                    {"d": name},
                )
            engine.dispose()

    return real(src, target, on_progress=progress, batch=2, **kwargs)

transfer.copy_database = copy
sys.exit(main([*options, "--db", source, "copy-db", dest]))
"""


@pytest.mark.services
def test_a_connection_lost_mid_copy_is_said_in_one_error_line(
    tmp_path: Path, postgres_url: str, postgres_server_url: str
) -> None:
    source = _source(tmp_path, scenes=8)
    name = str(make_url(postgres_url).database)

    def run(*options: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAILWATCH_")}
        return subprocess.run(
            [
                sys.executable,
                "-c",
                LOST_MID_COPY,
                source,
                postgres_url,
                postgres_server_url,
                name,
                *options,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=tmp_path,
        )

    done = run()
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr  # was: WARNING psycopg: error ignored terminating ...
    assert lines[0].startswith("error: database write failed (")
    assert "the connection to the server was lost" in lines[0]
    assert lines[0].endswith("nothing was copied (rolled back)")
    # --debug still shows it, where psycopg logged it (whether its pipeline's closing
    # fails a second time depends on when the connection went: the filter itself is
    # checked above), as railwatch's debug line after the error raised
    debug = run("--debug")
    assert debug.returncode == 1
    assert "WARNING psycopg" not in debug.stderr
    if "error ignored" in debug.stderr:
        assert "psycopg, after the error raised: error ignored" in debug.stderr


# ------------------------------------------------------- 3. a new database at the head


def _schema(url: str) -> dict[str, Any]:
    """Every table's columns (type, nullability, default), primary key, foreign keys,
    unique and check constraints and indexes, as the database reports them, the rows
    of its version table, and on SQLite the tables with AUTOINCREMENT, the rows of
    sqlite_sequence and every entry of sqlite_master (not its SQL text: a rebuilt table
    lists its constraints in another order), on PostgreSQL its sequences and which
    column owns each."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            insp = inspect(conn)
            out: dict[str, Any] = {}
            for table in sorted(insp.get_table_names()):
                out[table] = {
                    "columns": [
                        (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                        for c in insp.get_columns(table)
                    ],
                    "pk": insp.get_pk_constraint(table),
                    "fks": sorted(insp.get_foreign_keys(table), key=str),
                    "uniques": sorted(insp.get_unique_constraints(table), key=str),
                    "indexes": sorted(insp.get_indexes(table), key=str),
                    "checks": sorted(insp.get_check_constraints(table), key=str),
                }
            out["version"] = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            if conn.dialect.name == "sqlite":
                master = conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master"))
                entries = master.all()
                out["sqlite_master"] = sorted((t, n, tb) for t, n, tb, _ in entries)
                out["autoincrement"] = sorted(
                    n for t, n, _, sql in entries if t == "table" and "AUTOINCREMENT" in sql
                )
                # each AUTOINCREMENT table's row, as the migrations leave it (session 51
                # review: a file made at the head had none)
                out["sqlite_sequence"] = sorted(
                    conn.execute(text("SELECT name, seq FROM sqlite_sequence")).all()
                )
            else:
                out["sequences"] = sorted(
                    conn.execute(
                        text(
                            "SELECT s.relname, t.relname, a.attname FROM pg_class s "
                            "JOIN pg_depend d ON d.objid = s.oid "
                            "JOIN pg_class t ON t.oid = d.refobjid "
                            "JOIN pg_attribute a ON a.attrelid = t.oid "
                            "AND a.attnum = d.refobjsubid WHERE s.relkind = 'S'"
                        )
                    ).all()
                )
    finally:
        engine.dispose()
    return out


def _matches_the_models(url: str) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        engine.dispose()


@pytest.fixture
def alembic_upgrades(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Alembic's upgrades run during the test."""
    import alembic.command

    real = alembic.command.upgrade
    seen: list[object] = []

    def upgrade_(*args: Any, **kwargs: Any) -> None:
        seen.append(args)
        real(*args, **kwargs)

    monkeypatch.setattr(alembic.command, "upgrade", upgrade_)
    yield seen


def _check_made_at_head(made: str, migrated: str, seen: list[object]) -> None:
    Database(made).dispose()
    assert seen == []  # made at the head, no revision replayed
    upgrade(migrated, HEAD_REVISION)  # a revision named: Alembic replays each
    assert len(seen) == 1
    head, replayed = _schema(made), _schema(migrated)
    assert head == replayed
    assert head["version"] == [(HEAD_REVISION,)]
    assert _matches_the_models(made) == []
    assert {"sites", "scenes", "detections", "counts", "events", "alerts", "scene_reviews"} <= set(
        head
    )


def test_a_new_sqlite_database_is_made_at_the_head_as_the_migrations_make_it(
    tmp_path: Path, alembic_upgrades: list[object]
) -> None:
    made, migrated = f"sqlite:///{tmp_path / 'made.db'}", f"sqlite:///{tmp_path / 'old.db'}"
    _check_made_at_head(made, migrated, alembic_upgrades)
    autoincrement = sorted(
        t.name for t in Base.metadata.sorted_tables if t.dialect_options["sqlite"]["autoincrement"]
    )
    assert NEVER_REUSED_IDS == {"sqlite_autoincrement": True}
    assert _schema(made)["autoincrement"] == autoincrement == ["alerts", "events", "scenes"]
    # made by another process between the look and the lock: not made twice
    again = tmp_path / "again.db"
    Database(f"sqlite:///{again}").dispose()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(migrate, "stored_revisions", lambda _engine: None)
        upgrade(f"sqlite:///{again}")
    assert _schema(f"sqlite:///{again}") == _schema(made)
    # a database without a table of railwatch's but another's: migrated, as before
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (x)")
    con.close()
    Database(f"sqlite:///{other}").dispose()
    assert len(alembic_upgrades) == 2
    assert {"notes", "sites"} <= set(_schema(f"sqlite:///{other}"))


@pytest.mark.services
def test_a_new_postgresql_database_is_made_at_the_head_as_the_migrations_make_it(
    postgres_url: str, postgres_server_url: str, alembic_upgrades: list[object]
) -> None:
    from helpers import postgres_database

    with postgres_database(postgres_server_url) as migrated:
        _check_made_at_head(postgres_url, migrated, alembic_upgrades)
        assert _schema(postgres_url)["sequences"] == [
            (f"{t}_id_seq", t, "id")
            for t in (
                "alerts",
                "counts",
                "detections",
                "events",
                "scene_reviews",
                "scenes",
                "sites",
            )
        ]


# ------------------------------------------------ 4. ingest: files still being copied


def _drop(tmp_path: Path) -> tuple[str, Path]:
    """A site, and a drop folder with a whole image and two copied a third of the way
    (as copies in progress leave them)."""
    from railwatch.sites import SiteSpec
    from railwatch.storage import repo
    from report_db import SITE_NAME, SITE_UTM, to_wgs84, write_scene

    url = f"sqlite:///{tmp_path}/drop.db"
    with Database(url) as db, db.session() as s:
        repo.add_site(s, SiteSpec(name=SITE_NAME, geometry=to_wgs84(SITE_UTM)))
    drop = tmp_path / "drop"
    drop.mkdir()
    write_scene(drop / "a_2022-01-10.tif", 5, 0.5, seed=1)
    for name, seed in (("b_2022-01-20.tif", 2), ("c_2022-01-30.tif", 3)):
        whole = write_scene(tmp_path / name, 6, 0.5, seed=seed).read_bytes()
        (drop / name).write_bytes(whole[: len(whole) // 3])
    return url, drop


def _ingest(capsys: pytest.CaptureFixture[str], url: str, drop: Path) -> tuple[int, str, str]:
    from report_db import SITE_NAME

    capsys.readouterr()
    code = main(["--db", url, "ingest", SITE_NAME, str(drop)])
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def test_ingest_says_files_being_copied_are_no_failure_and_one_past_its_bound_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.ingest import IN_TRANSIT_MAX_SECONDS, TRANSIT_LOG_NAME

    monkeypatch.setenv("RAILWATCH_CACHE_DIR", str(tmp_path / "cache"))
    url, drop = _drop(tmp_path)
    # one ingested, two being copied: a normal day, status 0
    code, out, err = _ingest(capsys, url, drop)
    assert code == 0, err
    assert "Ingested 1 new scene" in out and "0 bad files, 2 still being copied (next run)" in out
    assert "error:" not in err and err.count("taken as still being copied in") == 2
    # an hour later c is still unreadable and was written to again: past its bound
    log = tmp_path / "cache" / TRANSIT_LOG_NAME
    entries = json.loads(log.read_text())
    for key, entry in entries.items():
        if key.endswith("c_2022-01-30.tif"):
            for field in ("first", "since", "progress"):
                if field in entry:
                    entry[field] -= IN_TRANSIT_MAX_SECONDS + 60
    log.write_text(json.dumps(entries))
    now = time.time()
    for name in ("b_2022-01-20.tif", "c_2022-01-30.tif"):
        os.utime(drop / name, (now, now))
    code, out, err = _ingest(capsys, url, drop)
    assert code == 1
    assert "1 already ingested, 0 not overlapping the site, 1 bad file, 1 still being copied" in out
    assert "not a copy that will finish" in out
    assert err.endswith(
        "error: 1 of 3 files failed (listed above with the reason); 1 file still being copied "
        "in is left for the next run (not a failure); fix what each reason says and run it "
        "again: files already ingested are not ingested twice"
    ), err  # was: "1 of 2 files failed", b not said
    # without the whole image: nothing recorded, still status 1, b still said
    (drop / "a_2022-01-10.tif").unlink()
    code, out, err = _ingest(capsys, url, drop)
    assert code == 1
    assert err.endswith(
        "error: nothing ingested into site testyard: 1 of the 2 files was refused, for the "
        "reasons listed above; 1 file still being copied in is left for the next run (not a "
        "failure)"
    ), err  # session 51 review: "the file was refused" of two found
