"""Session 26 audits, follow-ups: a closed standard output (``export ... -o - | head -1``),
``--out -`` of the label commands, the wording of database errors, the database's URL in
the API's 503, and import_reviews' scene look-up. Each test here failed before its fix.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from railwatch.cli.main import EXIT_OUTPUT_CLOSED, main
from railwatch.errors import InputError, StorageError
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.db import database_doing, explain_db_error
from report_db import SITE_NAME, SITE_UTM, T0, FakeCount, add_counted_scene, populate, to_wgs84

#: Runs the console script's entry point (as ``railwatch ARGS``) in a child process.
RUN = "import sys; from railwatch.cli.main import main; sys.exit(main())"


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """report_db's site (15 images, an event, an alert)."""
    tmp = tmp_path_factory.mktemp("s26c")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    return url


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A site with 1000 counted images: its counts CSV (about 100 KB) is more than a pipe
    holds, so a reader that stops after the first line leaves most of it unwritten."""
    tmp = tmp_path_factory.mktemp("s26c-big")
    url = f"sqlite:///{tmp / 'rw.db'}"
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name=SITE_NAME, geometry=to_wgs84(SITE_UTM)))
        for i in range(1000):
            when = T0 + timedelta(hours=6 * i)
            add_counted_scene(s, site, when, 0.5, FakeCount(5.0, 4.0, 6.0, {}, 0), i + 1)
    db.dispose()
    return url


def _env(unbuffered: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    env["COLUMNS"] = "100"
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


def _pipe() -> tuple[int, int]:
    """A pipe (read end, write end), as small as the system lets it be (one page on
    Linux), so that what a command writes does not all fit in it."""
    r, w = os.pipe()
    try:
        import fcntl

        with contextlib.suppress(OSError):  # not allowed here: the default size
            fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4096)
    except (ImportError, AttributeError):  # pragma: no cover - not Linux
        pass
    return r, w


def _run_closed(
    args: list[str], tmp: Path, *, first_line: bool, unbuffered: bool = False, merge: bool = False
) -> tuple[int, str, bytes]:
    """Run ``railwatch ARGS`` with its stdout a pipe whose reader goes away: at once
    (``first_line`` False: the read end is closed before the command starts) or after
    reading the first line (``| head -1``). Its status, its stderr (a file) and the line."""
    r, w = _pipe()
    err_path = tmp / "stderr.txt"
    with open(err_path, "wb") as err:
        if not first_line:
            os.close(r)
        proc = subprocess.Popen(
            [sys.executable, "-c", RUN, *args],
            stdout=w,
            stderr=w if merge else err,
            env=_env(unbuffered),
            cwd=tmp,
        )
        os.close(w)
        line = b""
        if first_line:
            while not line.endswith(b"\n"):
                chunk = os.read(r, 1)
                if not chunk:
                    break
                line += chunk
            os.close(r)
        code = proc.wait(timeout=300)
    return code, err_path.read_text(), line


# ------------------------------------------------------------------ a closed stdout


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "python-u"])
def test_export_csv_to_a_reader_that_stops_after_one_line_ends_quietly(
    big_db: str, tmp_path: Path, unbuffered: bool
) -> None:
    """`export SITE -f csv -o - | head -1`: the write into the closed pipe was a silent
    status 1 (click's answer to EPIPE), and with PYTHONUNBUFFERED a status 0 with most
    of the CSV dropped (the raw stream's short write was taken for the whole). Now 141
    (128 + SIGPIPE), as a shell reports `cat` cut short, and nothing on stderr."""
    args = ["--db", big_db, "export", SITE_NAME, "-f", "csv", "-o", "-"]
    code, err, line = _run_closed(args, tmp_path, first_line=True, unbuffered=unbuffered)
    assert line.startswith(b"date,day,local_zone,scene_id,"), line
    assert (code, err) == (EXIT_OUTPUT_CLOSED, "")


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["site", "list"],
        ["scene", "list", SITE_NAME],
        ["scene", "list", SITE_NAME, "--json"],
        ["alerts"],
        ["export", SITE_NAME, "-f", "csv", "-o", "-"],
        ["report", SITE_NAME, "-o", "/dev/stdout"],
    ],
    ids=lambda a: " ".join(a),
)
def test_every_command_writing_to_a_closed_stdout_ends_quietly(
    small_db: str, tmp_path: Path, args: list[str]
) -> None:
    """A reader gone before the command writes: tables and JSON were a silent status 1
    (rich's and click's answers), the report written to /dev/stdout an error line 'cannot
    write the report to /dev/stdout (Broken pipe)' with status 2. Now each is 141 with
    nothing on stderr (no traceback, no 'Exception ignored'). The fixture's stored alerts
    are hand-made, not what an analysis of its counts gives, so the report says so in
    its one warning line (since session 33): that line is its own, not the pipe's."""
    code, err, _ = _run_closed(["--db", small_db, *args], tmp_path, first_line=False)
    stale = "warning: the alerts in this report are those of the last analysis"
    if args[0] == "report":
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(stale), err
        err = ""
    assert (code, err) == (EXIT_OUTPUT_CLOSED, "")


def test_an_error_said_to_a_closed_stderr_ends_quietly(small_db: str, tmp_path: Path) -> None:
    """`railwatch site show nope 2>&1 | true`: saying the error into the closed pipe
    raised from the error handler (Python's traceback, status 1)."""
    args = ["--db", small_db, "site", "show", "nope"]
    code, _, _ = _run_closed(args, tmp_path, first_line=False, merge=True)
    assert code == EXIT_OUTPUT_CLOSED


# ------------------------------------------------------------ --out - of label commands


def test_export_labels_refuses_dash_as_its_folder(
    small_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`export-labels SITE -o -` wrote its chips into a folder named '-'."""
    monkeypatch.chdir(tmp_path)
    assert main(["--db", small_db, "export-labels", SITE_NAME, "-o", "-"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(
        "error: --out - (standard output) is not for export-labels: it writes a folder of "
        "images and label files, not a stream; give --out a folder, e.g. --out labels/"
    ), err
    assert not (tmp_path / "-").exists()


def test_import_labels_refuses_dash_as_its_folder(
    small_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`import-labels SRC -f dota -o -` wrote the training set into a folder named '-'
    (refused before the labels are read)."""
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "src"
    src.mkdir()
    argv = ["--db", small_db, "import-labels", str(src), "-f", "dota", "-o", "-"]
    assert main([*argv, "--site", SITE_NAME]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(
        "error: --out - (standard output) is not for import-labels: it writes a folder of "
        f"images and label files, not a stream; give --out a folder, e.g. --out labels/{SITE_NAME}"
    ), err
    assert not (tmp_path / "-").exists()


# ------------------------------------------------------------- database error wording


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        f"sqlite:///{tmp_path / 'w.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    db = Database(url)
    yield db
    db.dispose()


def _failure(db: Database, statement: str, *, readonly: bool) -> str:
    with pytest.raises(StorageError) as caught, db.session(readonly=readonly) as s:
        s.execute(text(statement))
    return str(caught.value)


def test_a_failed_read_is_not_said_to_be_a_write(any_db: Database) -> None:
    """Every error of a session said 'database write failed', a read in a read-only
    session too."""
    url = any_db.safe_url
    msg = _failure(any_db, "SELECT * FROM no_such_table", readonly=True)
    assert msg.startswith(f"database read failed ({url}): "), msg
    msg = _failure(any_db, "SELECT * FROM no_such_table", readonly=False)
    assert msg.startswith(f"database read failed ({url}): "), msg
    msg = _failure(any_db, "INSERT INTO no_such_table VALUES (1)", readonly=False)
    assert msg.startswith(f"database write failed ({url}): "), msg


def test_a_failure_of_no_known_kind_is_a_database_error() -> None:
    def error(statement: str | None) -> OperationalError:
        return OperationalError(statement, {}, Exception("disk I/O error"))

    assert database_doing(error("COMMIT")) is None
    assert database_doing(error(None), readonly=True) == "database read"
    assert database_doing(error("  update scenes set x = 1")) == "database write"
    assert database_doing(error("BEGIN IMMEDIATE")) == "database write"
    assert database_doing(error("BEGIN"), readonly=True) == "database read"
    doing = database_doing(error("COMMIT"))
    # SQLite's "disk I/O error" has its own words since session 34 (a full disk, or a
    # refused read or write: tests/test_storage_ops_s34.py); another failure keeps none
    odd = "cannot commit - SQL statements in progress"
    failed = OperationalError("COMMIT", {}, Exception(odd))
    assert explain_db_error(failed, "sqlite:///x.db", doing) == (
        f"database error (sqlite:///x.db): {odd}"
    )


# ------------------------------------------------------------- the API's 503


PG_URL = "postgresql+psycopg://analyst:***@db.internal.example:5432/railwatch_prod"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Any, Database]]:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db = Database(f"sqlite:///{tmp_path / 'api.db'}")
    app = create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db, open_reads=True)
    yield TestClient(app, raise_server_exceptions=False), db
    db.dispose()


def test_a_database_failure_in_the_api_does_not_show_the_database_url(
    api: tuple[Any, Database],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 503 put the database's URL (user, host, database name) and the driver's words
    in the body, for anyone on a server with --public-reads; they go to the log only."""
    from railwatch.web.errors import DATABASE_FAILED

    client, _ = api
    driver = 'connection to server at "db.internal.example" (10.1.2.3), port 5432 failed'
    message = explain_db_error(
        OperationalError("SELECT 1", {}, Exception(driver)), PG_URL, "database read"
    )

    def fail(*args: object, **kwargs: object) -> object:
        raise StorageError(message)

    monkeypatch.setattr(repo, "site_page", fail)
    with caplog.at_level("ERROR", logger="railwatch.web.errors"):
        r = client.get("/api/sites")
    assert r.status_code == 503
    body = r.json()
    assert body["detail"] == DATABASE_FAILED and body["error"] == "StorageError"
    for secret in ("db.internal", "10.1.2.3", "analyst", "railwatch_prod", "postgresql"):
        assert secret not in r.text
    assert PG_URL in caplog.text and "db.internal.example" in caplog.text


def test_a_locked_sqlite_database_in_the_api_says_to_try_again_without_its_path(
    api: tuple[Any, Database], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from railwatch.web.errors import DATABASE_LOCKED

    client, _ = api

    def locked(*args: object, **kwargs: object) -> object:
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(repo, "site_page", locked)
    r = client.get("/api/sites")
    assert r.status_code == 503
    assert r.json()["detail"] == DATABASE_LOCKED
    assert "locked by another writer" in DATABASE_LOCKED and "try again" in DATABASE_LOCKED
    assert str(tmp_path) not in r.text and "api.db" not in r.text


# ------------------------------------------------------ import_reviews' scene look-up


@pytest.mark.parametrize("scene_id", [2**31, 2**63, 0])
def test_import_reviews_takes_an_id_no_record_can_have_as_no_scene(
    any_db: Database, tmp_path: Path, scene_id: int
) -> None:
    """import_reviews looked the scene up as it was: PostgreSQL refused 2**31 ('integer
    out of range', a StorageError), SQLite raised OverflowError past 2**63 - 1. The CSV
    reader refuses such ids first; a program calling import_reviews gets 'not a scene of
    site' as for any id that names nothing."""
    from railwatch.analysis.csvio import parse_counts_csv
    from railwatch.review import import_reviews

    with any_db.session() as s:
        site = repo.add_site(s, SiteSpec(name=SITE_NAME, geometry=to_wgs84(SITE_UTM)))
        add_counted_scene(s, site, T0, 0.5, FakeCount(5.0, 4.0, 6.0, {}, 0), 1)
    read = parse_counts_csv("date,count,scene_id\n2022-01-10,7,1\n")
    series = {"": [dataclasses.replace(p, scene_id=scene_id) for p in read[""]]}
    day = datetime(2022, 1, 10, tzinfo=UTC).date()
    with pytest.raises(InputError) as caught, any_db.session() as s:
        import_reviews(s, SITE_NAME, series)
    assert str(caught.value) == (
        f"{day}: scene {scene_id} is not a scene of site {SITE_NAME!r}: check the scene_id "
        "column (the file of another site?)"
    )
