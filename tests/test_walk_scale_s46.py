"""The scale path walked as an operator (2026-12-07, session 46): PostgreSQL and Dask.

- A database at the latest revision that cannot be opened (a full disk, a read-only
  folder) was said to have failed a migration ("migrating the database failed") that
  was never needed: `storage.migrate.upgrade` names what it was doing.
- A PostgreSQL server refusing the connection (a wrong or missing password, no such
  database or user) was told "check that the server is running and the database URL":
  each now says what is wrong and what to do (`storage.db._connect_advice`).
- `--scheduler 127.0.0.1:8786` was "not an address"; it lacks tcp:// and is said so.
- `--workers N` printed Dask's UserWarning "Port 8787 is already in use ... Hosting the
  HTTP server on port N instead" with its source line wherever port 8787 was taken (a
  hand-started scheduler's dashboard, another run's cluster).
- docs/scaling.md's path from SQLite to PostgreSQL had no way to move a site's history:
  `storage.transfer.copy_database`.
"""

from __future__ import annotations

import socket
import sqlite3
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from counted_site import WELLINGTON, add_counted_site, steady_then_rise
from railwatch.errors import ConfigError, StorageError
from railwatch.storage import Database, repo
from railwatch.storage import migrate as migrate_mod
from railwatch.storage.db import BusyError, explain_db_error
from railwatch.storage.models import Base
from railwatch.storage.transfer import copy_database
from test_pipeline import site_db  # noqa: F401  (the fixture)


def _refused(words: str) -> OperationalError:
    return OperationalError("connect", {}, Exception(words))


# --- opening is not migrating -------------------------------------------------------


def test_a_database_that_cannot_be_opened_is_not_said_to_fail_a_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    Database(url).dispose()  # at the latest revision

    def full(_engine: Any) -> bool:
        raise OperationalError(
            "SELECT version_num FROM alembic_version",
            {},
            sqlite3.OperationalError("database or disk is full"),
        )

    monkeypatch.setattr(migrate_mod, "is_up_to_date", full)
    with pytest.raises(StorageError) as info:
        Database(url)
    said = str(info.value)
    assert said.startswith(f"opening the database failed ({url}): database or disk is full")
    assert "migrating" not in said
    assert "the disk holding the database is full" in said


# --- a refused connection says what to do --------------------------------------------


def test_a_wrong_password_names_the_password_and_where_it_comes_from() -> None:
    said = explain_db_error(
        _refused(
            'connection failed: connection to server at "10.0.0.5", port 5432 failed: '
            'FATAL:  password authentication failed for user "rw"'
        ),
        "postgresql+psycopg://rw:***@db.example.org:5432/railwatch",
        "database read",
    )
    assert said.startswith("cannot connect to database postgresql+psycopg://rw:***@")
    assert "the server refused user rw's password" in said
    assert "PGPASSWORD" in said and "~/.pgpass" in said and "RAILWATCH_DB" in said
    assert "%40" in said  # a password holding @ must be %-encoded in a URL
    assert "check that the server is running" not in said  # it is: it answered


def test_no_password_given_says_where_to_put_it() -> None:
    said = explain_db_error(
        _refused("connection failed: ... failed: fe_sendauth: no password supplied"),
        "postgresql+psycopg://rw@db.example.org/railwatch",
    )
    assert "asks user rw for a password and none was given" in said
    assert "USER:PASSWORD@HOST" in said and "RAILWATCH_DB" in said


def test_a_missing_user_is_said_so() -> None:
    said = explain_db_error(
        _refused('connection failed: ... failed: FATAL:  role "rwx" does not exist'),
        "postgresql+psycopg://rwx@db.example.org/railwatch",
    )
    assert "the server has no user 'rwx'" in said and "CREATE ROLE" in said


def test_a_refused_port_says_nothing_listens() -> None:
    said = explain_db_error(
        _refused(
            'connection failed: connection to server at "127.0.0.1", port 5433 failed: '
            "Connection refused"
        ),
        "postgresql+psycopg://rw@127.0.0.1:5433/railwatch",
    )
    assert "nothing listens there: check that the server is running, and the host and port" in said
    assert "RAILWATCH_DB" in said


@pytest.mark.services
def test_a_missing_database_on_a_real_server_says_how_to_create_it(
    postgres_server_url: str,
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(postgres_server_url).set(database="rw_no_such_db_s46").render_as_string(False)
    with pytest.raises(StorageError) as info:
        Database(url)
    said = str(info.value)
    assert said.startswith("cannot connect to database")
    assert "the server has no database 'rw_no_such_db_s46'" in said
    assert "createdb -O postgres rw_no_such_db_s46" in said
    assert "creates its tables in it on first use" in said


# --- Dask options ---------------------------------------------------------------------


def test_a_scheduler_address_without_scheme_says_what_to_write() -> None:
    from railwatch.distributed import ClusterSpec

    with pytest.raises(ConfigError) as info:
        ClusterSpec(scheduler="127.0.0.1:8786")
    assert (
        str(info.value) == "--scheduler '127.0.0.1:8786' has no scheme: write tcp://127.0.0.1:8786"
    )
    with pytest.raises(ConfigError, match="is not an address: use tcp://HOST:PORT"):
        ClusterSpec(scheduler="scheduler")


def test_the_local_cluster_prints_no_warning_when_port_8787_is_taken() -> None:
    pytest.importorskip("distributed")
    from railwatch.distributed import ClusterSpec, open_client

    holder = socket.socket()
    try:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            holder.bind(("0.0.0.0", 8787))
            holder.listen(1)
        except OSError:
            pass  # taken already: the case itself
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with open_client(ClusterSpec(workers=1)) as client:
                assert client.submit(sum, [1, 2]).result(timeout=60) == 3
    finally:
        holder.close()
    said = [str(w.message) for w in seen]
    assert not [m for m in said if "already in use" in m], said


# --- SQLite to PostgreSQL ---------------------------------------------------------------


def _history(url: str) -> None:
    """A site with 121 counted images, an event, stored alerts (one acknowledged with a
    note), an analyst's review, and the newest event id deleted (ids are never reused)."""
    from railwatch.analysis.store import analyze_and_store

    db = Database(url)
    try:
        add_counted_site(db, "wellington", WELLINGTON, steady_then_rise())
        with db.session() as s:
            repo.add_event(s, "wellington", date(2024, 1, 20), "strike", "port strike")
            gone = repo.add_event(s, "wellington", date(2024, 1, 21), "typo")
        with db.session() as s:
            repo.remove_event(s, gone.id)
        analyze_and_store(db, "wellington")
        with db.session() as s:
            alert = repo.list_alerts(s, "wellington")[0]
            repo.acknowledge_alert(s, alert.id, note="checked with the port")
            repo.set_scene_review(s, 3, {"all": 11})
    finally:
        db.dispose()


def _all_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: [
                    dict(r._mapping)
                    for r in conn.execute(select(t).order_by(*t.primary_key.columns))
                ]
                for t in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def _check_copy(source: str, dest: str) -> None:
    result = copy_database(source, dest)
    want, got = _all_rows(source), _all_rows(dest)
    assert got == want
    assert result.rows == {t: len(rows) for t, rows in want.items()}
    assert result.rows["scenes"] == 121 and result.rows["events"] == 1
    assert result.rows["alerts"] >= 1 and result.rows["scene_reviews"] == 1
    assert "rows checked on both sides" in str(result)
    db = Database(dest)  # the copy works as a database: ids go on past the source's
    try:
        with db.session() as s:
            new = repo.add_event(s, "wellington", date(2024, 1, 22), "after the move")
            assert new.id == 3  # 2 was given (and deleted) in the source
    finally:
        db.dispose()
    with pytest.raises(StorageError, match=r"is not empty .*nothing was copied"):
        copy_database(source, dest)
    assert len(_all_rows(dest)["events"]) == 2  # left as it was


def test_copy_sqlite_to_sqlite(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'laptop.db'}"
    _history(source)
    _check_copy(source, f"sqlite:///{tmp_path / 'copy.db'}")
    with pytest.raises(ConfigError, match="the same database"):
        copy_database(source, source)


@pytest.mark.services
def test_copy_sqlite_to_postgresql_keeps_every_row_and_id(
    tmp_path: Path, postgres_url: str
) -> None:
    source = f"sqlite:///{tmp_path / 'laptop.db'}"
    _history(source)
    _check_copy(source, postgres_url)
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:  # each sequence goes on past the copied ids
            for table in ("scenes", "alerts", "counts", "detections"):
                highest = conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar()
                last = conn.execute(text("SELECT last_value FROM " + f"{table}_id_seq")).scalar()
                assert last is not None and int(last) >= int(highest or 0)
    finally:
        engine.dispose()


def test_copy_is_refused_while_a_run_processes_a_site(tmp_path: Path) -> None:
    from railwatch.pipeline import processing_lock

    source = f"sqlite:///{tmp_path / 'laptop.db'}"
    db = Database(source)
    try:
        add_counted_site(
            db,
            "wellington",
            WELLINGTON,
            [(datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=k), 5.0) for k in range(3)],
        )
        dest = f"sqlite:///{tmp_path / 'copy.db'}"
        with processing_lock(db, ["wellington"]), pytest.raises(BusyError) as info:
            copy_database(source, dest)
        assert "is being processed by a railwatch run" in str(info.value)
        assert "nothing was copied" in str(info.value)
        # DEST is not made (session 51: a new file was left with empty tables)
        assert not (tmp_path / "copy.db").exists()
    finally:
        db.dispose()


# --- a failure beside a kept result ------------------------------------------------------


def test_the_summary_says_a_failed_scene_keeps_its_earlier_result(
    site_db: tuple[Database, Path],  # noqa: F811
) -> None:
    """Walk: an image deleted after it was counted, then `process --reprocess`: the
    summary said "scene 35 failed: ... no such file" alone, while the scene kept its
    counts and stayed processed."""
    from railwatch.pipeline import process_site
    from test_detect_fakes import BrightBlobDetector

    db, imgs = site_db
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    process_site(db, "yard", detector=det)
    (imgs / "fine.tif").unlink()
    again = process_site(db, "yard", detector=det, reprocess=True)
    ((_sid, error),) = again.failed
    assert "no such file" in error
    assert "; its earlier result (processed, by 1+" in error
    assert error.endswith(") is kept until it is processed again")
    first = process_site(db, "yard", detector=det)  # a plain run leaves it as it is
    assert not first.failed


def test_the_pg_dump_hint_says_what_the_printed_commands_need() -> None:
    from railwatch.storage.backup import pg_dump_hint

    said = pg_dump_hint("postgresql+psycopg://rw:secret@db.example.org/yard")
    assert "secret" not in said
    assert "*** stands for the password" in said and "PGPASSWORD" in said
    assert "createdb needs a user who may create databases (CREATEDB)" in said
    assert "add -O rw when another user runs it" in said


def test_a_database_lost_mid_run_says_the_run_stopped_and_what_it_kept(
    site_db: tuple[Database, Path],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Walk: PostgreSQL stopped during `process --workers 2`: "cannot connect to database
    ... Connection refused: check that the server is running", nothing of the run."""
    from railwatch import pipeline
    from railwatch.pipeline import process_site
    from test_detect_fakes import BrightBlobDetector

    db, _imgs = site_db
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    real = pipeline._write_outcome
    calls: list[int] = []

    def server_gone(s: Any, outcome: Any, detector: Any) -> str | None:
        calls.append(outcome.scene_id)
        if len(calls) == 2:
            raise StorageError("cannot connect to database X (Connection refused): ...")
        return real(s, outcome, detector)

    monkeypatch.setattr(pipeline, "_write_outcome", server_gone)
    with pytest.raises(StorageError) as info:
        process_site(db, "yard", detector=det)
    said = str(info.value)
    assert said.startswith("cannot connect to database X (Connection refused): ...")
    assert f"The run stopped at scene {calls[1]}: the scenes recorded before it are kept" in said
    assert "run the same command again once the database answers" in said
    with db.session() as s:
        statuses = {sc.id: sc.status for sc in repo.list_scenes(s, "yard")}
    assert statuses[calls[0]] != "ingested" and statuses[calls[1]] == "ingested"
