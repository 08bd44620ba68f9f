"""A command that works on existing records refuses a SQLite database file that is not
there, creating nothing, and says where it looked and what to do.

The default database is ``railwatch.db`` in the current folder: `railwatch scene list
myyard` (or `site list`, `alerts`, `report`...) run from another folder than the
analyst's made a new, empty railwatch.db there, said "no site named 'myyard' (no sites
yet)", and from then on the empty file was "the database" of that folder. Only `site
add` (which starts a database) and `serve` (whose web API adds sites) create one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.errors import MissingDependencyError, StorageError
from railwatch.storage.db import Database, NoDatabaseError, make_engine

BBOX = "130.6072,42.4208,130.6090,42.4220"

#: Commands that read or change records already there, with the arguments each needs.
EXISTING_ONLY = [
    ["site", "list"],
    ["site", "list", "--json"],
    ["site", "show", "myyard"],
    ["site", "edit", "myyard", "-d", "text"],
    ["site", "remove", "myyard", "--yes"],
    ["scene", "list", "myyard"],
    ["scene", "show", "1"],
    ["scene", "review", "1", "--count", "3"],
    ["scene", "to-review", "myyard"],
    ["scene", "cars", "1"],
    ["alerts"],
    ["alerts", "myyard", "--json"],
    ["alert", "ack", "1"],
    ["event", "list", "myyard"],
    ["event", "add", "myyard", "2024-01-01", "a summit"],
    ["analyze", "myyard"],
    ["process", "myyard"],
    ["process", "--all"],
    ["report", "myyard", "--out", "myyard.html"],
    ["export", "myyard", "-f", "csv", "-o", "-"],
    ["export", "myyard", "-f", "gpkg", "-o", "myyard.gpkg"],
    ["export-labels", "myyard", "--format", "dota", "--out", "labels"],
    ["eval", "--site", "myyard"],
]


@pytest.fixture(autouse=True)
def _default_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAILWATCH_DB", raising=False)


def _nothing_made(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("argv", EXISTING_ONLY, ids=" ".join)
def test_a_command_on_records_creates_no_database(
    argv: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    out, err = capsys.readouterr()
    err = " ".join(err.split())
    assert err.startswith(f"error: no database at {tmp_path / 'railwatch.db'} (the default"), err
    command = " ".join(argv[:2]) if argv[0] in ("site", "scene", "alert", "event") else argv[0]
    assert f"`railwatch {command}` works on an existing database" in err
    assert "created none" in err and "--db sqlite:///PATH or RAILWATCH_DB" in err
    assert "`railwatch site add` creates a new database" in err
    assert out == ""
    assert _nothing_made(tmp_path) == []  # no railwatch.db, no -wal, no .locks


def test_wrong_folder_is_refused_every_time_and_the_right_one_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    work, other = tmp_path / "work", tmp_path / "other"
    work.mkdir()
    other.mkdir()
    monkeypatch.chdir(work)
    assert main(["site", "add", "myyard", "--bbox", BBOX]) == 0  # site add creates it
    assert (work / "railwatch.db").is_file()
    monkeypatch.chdir(other)
    for _ in range(2):  # the second run said "(no sites yet)": the first had made one
        capsys.readouterr()
        assert main(["scene", "list", "myyard"]) == 1
        err = " ".join(capsys.readouterr().err.split())
        assert f"no database at {other / 'railwatch.db'}" in err
        assert "no site named" not in err
        assert _nothing_made(other) == []
    monkeypatch.chdir(work)
    assert main(["scene", "list", "myyard"]) == 0


def test_db_option_and_environment_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'typo.db'}"
    assert main(["--db", url, "alert", "ack", "12"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(f"error: no database at {tmp_path / 'typo.db'} (--db {url}):"), err
    assert "Check the path (sqlite:///PATH is relative to the current folder" in err
    monkeypatch.setenv("RAILWATCH_DB", url)
    assert main(["site", "list"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert f"(RAILWATCH_DB={url})" in err
    # a folder that is not there either: the same refusal, not "create the folder"
    assert main(["--db", f"sqlite:///{tmp_path / 'nodir' / 'x.db'}", "alerts"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert f"no database at {tmp_path / 'nodir' / 'x.db'}" in err
    assert _nothing_made(tmp_path) == []


def test_an_existing_empty_database_is_read_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Database("sqlite:///railwatch.db").dispose()
    assert main(["site", "list", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert main(["scene", "list", "myyard"]) == 1
    err = capsys.readouterr().err
    assert "no site named 'myyard' (no sites yet)" in err and "no database" not in err


def test_site_add_creates_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new.db"
    assert main(["--db", f"sqlite:///{path}", "site", "add", "myyard", "--bbox", BBOX]) == 0
    assert path.is_file()
    assert main(["--db", f"sqlite:///{path}", "site", "list", "--json"]) == 0
    assert '"name": "myyard"' in capsys.readouterr().out


def test_serve_still_creates_its_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web API adds sites, so `serve` starts on a new database (and says it made it)."""
    pytest.importorskip("fastapi")
    uvicorn = pytest.importorskip("uvicorn")
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    monkeypatch.delenv("RAILWATCH_API_TOKEN", raising=False)
    path = tmp_path / "served.db"
    assert main(["--db", f"sqlite:///{path}", "serve"]) == 0
    assert path.is_file() and len(calls) == 1
    assert "was created, empty" in " ".join(capsys.readouterr().err.split())


def test_database_create_false(tmp_path: Path) -> None:
    path = tmp_path / "none.db"
    with pytest.raises(NoDatabaseError, match=r"no database at .*none\.db") as info:
        Database(f"sqlite:///{path}", create=False)
    assert isinstance(info.value, StorageError) and info.value.path == path
    assert _nothing_made(tmp_path) == []
    Database(f"sqlite:///{path}").dispose()  # the default creates it
    with Database(f"sqlite:///{path}", create=False) as db, db.session(readonly=True) as s:
        assert s.connection().exec_driver_sql("SELECT 1").scalar() == 1
    # an empty file (0 bytes) holds no railwatch database: refused and left empty since
    # session 34 (a database file cut short was given a new schema and said "No sites
    # yet"; tests/test_storage_ops_s34.py); the default (create) starts one in it
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(StorageError, match=r"is an empty file \(0 bytes\)"):
        Database(f"sqlite:///{empty}", create=False)
    assert empty.stat().st_size == 0
    Database(f"sqlite:///{empty}").dispose()
    assert sqlite3.connect(empty).execute("SELECT count(*) FROM sites").fetchone() == (0,)


def test_create_false_leaves_other_databases_alone() -> None:
    """A PostgreSQL database that does not exist is the server's error; no file is
    looked for (nothing connects here)."""
    try:
        engine = make_engine("postgresql+psycopg://u@127.0.0.1:1/nodb", create=False)
    except MissingDependencyError:
        pytest.skip("psycopg is not installed")
    engine.dispose()
