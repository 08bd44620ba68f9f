"""Opening an up-to-date database imports no Alembic; an older one is still upgraded.

Until session 39 (2026-12-06) ``railwatch.storage.migrate`` imported Alembic at module
level and asked it for the database's revision, so every command that opened a database
(``site list``, ``alerts``, ``event list``) paid about 0.25 s of CPU for it. Now the
version table is read with SQLAlchemy alone and compared with ``HEAD_REVISION``; Alembic
is imported only for a database at another revision: a new one, an older one (upgraded,
as before) or a newer one (refused, as before). ``site list`` and ``alerts`` no longer
import the analysis (its settings a pydantic model) to name local days, nor does any
command import ``typer.rich_utils`` unless it lays out its help.

These tests run the console script in a subprocess and read ``sys.modules`` at its end.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from railwatch.storage import migrate
from railwatch.storage.db import Database
from railwatch.storage.migrate import (
    HEAD_REVISION,
    MIGRATIONS_DIR,
    head_revision,
    is_up_to_date,
    stored_revisions,
)

#: The console script, then the names of the modules imported, written to RW_MODULES.
PROBE = """
import os, sys
sys.argv[0] = "railwatch"
from railwatch.cli.main import main
try:
    code = main()
finally:
    with open(os.environ["RW_MODULES"], "w") as file:
        file.write("\\n".join(sorted(sys.modules)))
sys.exit(code)
"""

#: What none of the reading commands needs on an up-to-date database.
NOT_NEEDED = (
    "alembic",
    "railwatch.analysis.alerts",
    "railwatch.analysis.baseline",
    "railwatch.analysis.settings",
    "typer.rich_utils",
)


def _run(args: list[str], cwd: Path) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """``railwatch ARGS`` in a fresh process: the modules it imported, and the run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAILWATCH_")}
    env["RW_MODULES"] = str(cwd / "modules.txt")
    env["COLUMNS"] = "80"
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )
    return set((cwd / "modules.txt").read_text().split()), run


def _sql(path: Path, statement: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(statement).fetchall()
    conn.close()
    return rows


@pytest.fixture(scope="module")
def _yard_made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database of :func:`yard_db`, made by the console script in two processes of
    its own, once for the module (session 50: each test made it again, two fresh
    processes, about 1.8 s)."""
    folder = tmp_path_factory.mktemp("yard")
    path = folder / "rw.db"
    url = f"sqlite:///{path}"
    for args in (
        ["site", "add", "yard", "--bbox", "8.58,47.52,8.60,47.54"],
        ["event", "add", "yard", "2024-03-01", "summit"],
    ):
        _, run = _run(["--db", url, *args], folder)
        assert run.returncode == 0, run.stderr[-2000:]
    return path


@pytest.fixture
def yard_db(_yard_made: Path, tmp_path: Path) -> tuple[Path, str]:
    """A database at the head revision with a site ``yard`` and an event: a copy of the
    module's, its file (and write-ahead log, were one left) in the test's folder."""
    path = tmp_path / "rw.db"
    for suffix in ("", "-wal"):
        made = _yard_made.with_name(_yard_made.name + suffix)
        if made.exists():
            shutil.copyfile(made, path.with_name(path.name + suffix))
    return path, f"sqlite:///{path}"


def test_the_head_revision_known_without_alembic_is_the_scripts_head() -> None:
    assert head_revision() == HEAD_REVISION
    newest = sorted(p.stem for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))[-1]
    assert newest == HEAD_REVISION
    assert migrate._head_is_known()


def test_stored_revisions_read_the_version_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    with Database(url, migrate=False) as db:  # nothing yet: no version table
        assert stored_revisions(db.engine) is None
        assert not is_up_to_date(db.engine)
    with Database(url) as db:
        assert stored_revisions(db.engine) == (HEAD_REVISION,)
        assert is_up_to_date(db.engine)
    _sql(tmp_path / "rw.db", "UPDATE alembic_version SET version_num = '0004_site_areas'")
    with Database(url, migrate=False) as db:
        assert stored_revisions(db.engine) == ("0004_site_areas",)
        assert not is_up_to_date(db.engine)


def test_a_migration_added_without_the_constant_is_left_to_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were HEAD_REVISION left behind by a new migration, a database at the old head
    would not be taken as up to date (and left unmigrated): Alembic is asked."""
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    for name in (f"{HEAD_REVISION}.py", "9999_next.py", "__init__.py"):
        (versions / name).write_text("")
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    with Database(url) as db:
        monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path / "migrations")
        migrate._head_is_known.cache_clear()
        try:
            assert not migrate._head_is_known()
            assert not is_up_to_date(db.engine)
        finally:
            monkeypatch.undo()
            migrate._head_is_known.cache_clear()
        assert is_up_to_date(db.engine)


@pytest.mark.parametrize(
    "args",
    [["site", "list"], ["alerts"], ["event", "list", "yard"], ["site", "show", "yard"]],
)
def test_reading_an_up_to_date_database_imports_no_alembic(
    args: list[str], yard_db: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = yard_db
    modules, run = _run(["--db", url, *args], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stderr == ""
    assert "yard" in run.stdout or "No alerts" in run.stdout
    assert sorted(m for m in NOT_NEEDED if m in modules) == []
    assert "sqlalchemy" in modules  # it did read the database


def test_site_list_gives_the_local_days_as_before(
    yard_db: tuple[Path, str], tmp_path: Path
) -> None:
    """``site list --json`` names the site's zone and days from analysis.events now."""
    import json

    _, url = yard_db
    _, run = _run(["--db", url, "site", "list", "--json"], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    (site,) = json.loads(run.stdout)
    assert site["name"] == "yard"
    assert (site["local_zone"], site["first_day"], site["last_day"]) == ("UTC+1", None, None)


def test_an_older_database_is_still_upgraded_by_a_listing(
    yard_db: tuple[Path, str], tmp_path: Path
) -> None:
    from alembic import command

    path, url = yard_db
    command.downgrade(migrate.alembic_config(url), "0004_site_areas")
    assert _sql(path, "SELECT version_num FROM alembic_version") == [("0004_site_areas",)]

    modules, run = _run(["--db", url, "site", "list"], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "yard" in run.stdout
    assert "alembic" in modules  # it migrated
    assert "upgraded database" in run.stderr
    assert f"from schema revision 0004_site_areas to {HEAD_REVISION}" in run.stderr
    assert _sql(path, "SELECT version_num FROM alembic_version") == [(HEAD_REVISION,)]
    assert _sql(path, "SELECT name FROM sites") == [("yard",)]

    # and the next one, up to date, neither migrates nor says so
    modules, run = _run(["--db", url, "site", "list"], tmp_path)
    assert run.returncode == 0 and run.stderr == ""
    assert "alembic" not in modules


def test_a_newer_database_is_still_refused_unchanged(
    yard_db: tuple[Path, str], tmp_path: Path
) -> None:
    path, url = yard_db
    _sql(path, "UPDATE alembic_version SET version_num = '0099_from_the_future'")
    rows = _sql(path, "SELECT * FROM sites")

    _, run = _run(["--db", url, "site", "list"], tmp_path)
    assert run.returncode != 0
    assert "schema revision 0099_from_the_future, newer than this railwatch knows" in run.stderr
    assert f"newest revision {HEAD_REVISION}" in run.stderr
    assert "The database was not changed" in run.stderr
    assert "Traceback" not in run.stderr
    assert _sql(path, "SELECT version_num FROM alembic_version") == [("0099_from_the_future",)]
    assert _sql(path, "SELECT * FROM sites") == rows


def test_a_command_lays_out_its_help_as_before(tmp_path: Path) -> None:
    """A command's help still folds its option names rather than cutting them (it is
    laid out with typer.rich_utils, now imported only then)."""
    modules, run = _run(["calibrate", "--help"], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "typer.rich_utils" in modules
    assert "…" not in run.stdout
    assert "--coarse-one-side " in run.stdout


@pytest.mark.services
def test_postgresql_version_table_read_without_alembic(postgres_url: str) -> None:
    """On PostgreSQL too: no version table before the schema, the head after; an older
    revision is not taken as up to date, and opening the database upgrades it."""
    from sqlalchemy import text

    with Database(postgres_url, migrate=False) as db:
        assert stored_revisions(db.engine) is None
    with Database(postgres_url) as db:
        assert stored_revisions(db.engine) == (HEAD_REVISION,)
        assert is_up_to_date(db.engine)
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0004_site_areas'"))
        assert not is_up_to_date(db.engine)
    with Database(postgres_url) as db:  # 0004 -> 0005 changes no data on an empty schema
        assert stored_revisions(db.engine) == (HEAD_REVISION,)
