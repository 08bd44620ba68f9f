"""Session 52 (2026-12-08): what ``railwatch copy-db`` and the database URL leave or
open that nobody meant.

1. A ``copy-db`` into a new SQLite file killed with ``kill -9`` mid-copy left its hidden
   file (``.NEW.db.PID.TAG.copy``) beside DEST forever: the next ``copy-db`` to that
   DEST removes those whose process is gone and that were not written to for
   ``LEFTOVER_QUIET_S``, and says so; a copy still running, one written to recently
   and another DEST's are left alone.
2. A SQLite ``--db`` (``RAILWATCH_DB``, ``Database(url)``) with query parameters or a
   ``file:`` URI: railwatch checked, created and migrated the file of its path while
   SQLite opened another (``x.db?mode=ro`` made new and empty: ``site list`` said "No
   sites yet" of a database of sites), or ignored them (``?mode=ro`` without
   ``uri=true`` opened it read-write). Refused, saying what to give.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.errors import ConfigError
from railwatch.storage import Database
from railwatch.storage.transfer import LEFTOVER_QUIET_S
from test_ops_leftovers_s51 import _source

# ------------------------------------------------ 1. a copy killed with kill -9

#: ``railwatch copy-db SOURCE DEST`` that, once rows of scenes are written into the
#: hidden file, says "copying" and waits (to be killed, or left running).
STOPS_MID_COPY = """
import sys, time
from railwatch.storage import transfer
from railwatch.cli.main import main

source, dest = sys.argv[1:]
real = transfer.copy_database

def copy(src, target, *, on_progress=None, **kwargs):
    def progress(table, done, total):
        if table == "scenes" and done > 1:
            print("copying", flush=True)
            time.sleep(3600)

    return real(src, target, on_progress=progress, batch=2, **kwargs)

transfer.copy_database = copy
sys.exit(main(["--db", source, "copy-db", dest]))
"""


@pytest.fixture
def copies() -> Iterator[list[subprocess.Popen[str]]]:
    """Copies started by :func:`_mid_copy`, killed at the end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _mid_copy(
    started: list[subprocess.Popen[str]], source: str, dest: Path, *, kill: bool
) -> tuple[int, list[Path]]:
    """Start ``railwatch copy-db`` into ``dest``, wait until it is writing its hidden
    file, and kill it with SIGKILL (``kill``) or leave it running: its PID and files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAILWATCH_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", STOPS_MID_COPY, source, f"sqlite:///{dest}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=dest.parent,
    )
    started.append(proc)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "copying"
    if kill:
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    files = sorted(dest.parent.glob(f".{dest.name}.{proc.pid}.*.copy*"))
    assert files, list(dest.parent.iterdir())  # the hidden file, being written
    return proc.pid, files


def _age(files: list[Path]) -> None:
    """Make ``files`` look unchanged for longer than copy-db waits (an hour more)."""
    then = time.time() - LEFTOVER_QUIET_S - 3600
    for f in files:
        os.utime(f, (then, then))


def _rows(path: Path, table: str) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


def test_a_copy_killed_mid_copy_is_cleaned_up_by_the_next_one_and_no_other(
    tmp_path: Path, copies: list[subprocess.Popen[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    source = _source(tmp_path, scenes=8)
    new, other = tmp_path / "new.db", tmp_path / "other.db"
    dead, dead_files = _mid_copy(copies, source, new, kill=True)
    _, others = _mid_copy(copies, source, other, kill=True)
    # from another source: while it runs, it holds its source's site against copies
    (tmp_path / "b").mkdir()
    running, running_files = _mid_copy(copies, _source(tmp_path / "b"), new, kill=False)
    _age(dead_files + running_files + others)
    assert main(["--db", source, "copy-db", f"sqlite:///{new}"]) == 0
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "left beside DEST" in line]
    assert len(said) == 1, err
    assert said[0].startswith(f"removed {len(dead_files)} hidden files left beside DEST ")
    assert f"(process {dead}, gone)" in said[0]
    assert all(f.name in said[0] for f in dead_files)
    assert not any(f.exists() for f in dead_files)
    # a copy still running, and another DEST's leftovers, are not touched
    assert all(f.exists() for f in running_files + others), err
    assert str(running) not in err
    assert _rows(new, "scenes") == 8


def test_a_killed_copys_file_written_to_recently_is_kept_and_said(
    tmp_path: Path, copies: list[subprocess.Popen[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    source = _source(tmp_path)
    new = tmp_path / "new.db"
    _, files = _mid_copy(copies, source, new, kill=True)
    assert main(["--db", source, "copy-db", "--json", f"sqlite:///{new}"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["rows"]["scenes"] == 5  # standard output holds the JSON alone
    assert f"kept {files[0].name}" in err
    assert "written to within the last 30 minutes" in err
    assert all(f.exists() for f in files)
    # once unchanged that long, the next copy-db to that DEST removes it (DEST is there
    # by now and holds rows: that copy is refused, the leftover removed all the same)
    _age(files)
    assert main(["--db", source, "copy-db", f"sqlite:///{new}"]) == 1
    err = capsys.readouterr().err
    assert f"removed {len(files)} hidden files left beside DEST" in err
    assert "is not empty" in err
    assert not any(f.exists() for f in files)


# ------------------------------------------- 2. SQLite URLs with query parameters


@pytest.fixture
def demo_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A railwatch database of one site, ``x.db`` in the current folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAILWATCH_DB", raising=False)
    source = _source(tmp_path)
    return Path(source.removeprefix("sqlite:///"))


#: URL (the file given as {db}) and what the refusal says of it.
QUERIES = [
    ("sqlite:///{db}?mode=ro&uri=true", "SQLite opens a file named 'laptop.db?mode=ro'"),
    ("sqlite:///{db}?vfs=unix-dotfile&uri=true", "SQLite opens a file named"),
    ("sqlite:///{db}?immutable=1&uri=true", "SQLite opens a file named"),
    ("sqlite:///{db}?mode=ro", "without uri=true SQLAlchemy ignores mode"),
    ("sqlite:///{db}?timeout=5", "railwatch sets SQLite's options itself"),
    ("sqlite:///file:{db}?uri=true", "names a SQLite URI (file:"),
    ("sqlite:///file:{db}?mode=ro&uri=true", "names a SQLite URI (file:"),
]


def _files_beside(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if not p.name.endswith(".locks"))


@pytest.mark.parametrize(("form", "said"), QUERIES)
def test_a_sqlite_url_with_query_parameters_is_refused_everywhere(
    demo_copy: Path,
    form: str,
    said: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = form.format(db=demo_copy.name)
    before = _files_beside(demo_copy)
    for command in (
        ["site", "list"],
        ["site", "add", "other", "--bbox", "174.77,-41.29,174.78,-41.28"],
    ):
        assert main(["--db", url, *command]) == 1, command
        err = capsys.readouterr().err
        assert err.startswith("error: database URL "), err
        assert said in err, err
        assert f"give sqlite:///{demo_copy.name}" in err.replace("\n", " "), err
    monkeypatch.setenv("RAILWATCH_DB", url)
    assert main(["site", "list"]) == 1
    assert "RAILWATCH_DB" in capsys.readouterr().err
    monkeypatch.delenv("RAILWATCH_DB")
    # the library (and so `serve` and the web API, which open Database(url)) too
    with pytest.raises(ConfigError, match="give sqlite:///"):
        Database(url)
    assert _files_beside(demo_copy) == before  # nothing made beside it
    # the URL it says to give opens the database, as before (and in-memory SQLite keeps
    # its URI form in Python: tests, notebooks)
    assert main(["--db", f"sqlite:///{demo_copy.name}", "site", "list", "--json"]) == 0
    assert [s["name"] for s in json.loads(capsys.readouterr().out)] == ["wellington"]
    Database("sqlite:///file::memory:?cache=shared&uri=true").dispose()
