"""Session 53 (2026-12-08): review leftovers of session 52's copy-db and URL checks.

1. ``railwatch copy-db`` removed the hidden files that killed copies left beside DEST
   before it opened the source: a run refused at once (no such source) removed them
   all the same. They are removed once the source is open and held, by
   ``copy_database`` itself, so a copy made from Python cleans up too and says what it
   removed (``CopyResult.leftovers``, ``on_leftovers``).
2. ``--db URL`` given on the command line while ``RAILWATCH_DB`` held the same URL was
   named ``RAILWATCH_DB`` in errors (the source was guessed from the environment); it
   is told from where click took the value.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.storage.transfer import LEFTOVER_QUIET_S, Leftovers, copy_database
from test_ops_leftovers_s51 import _source


def _dead_copy_files(dest: Path) -> list[Path]:
    """The hidden file (and its -wal) of a copy to ``dest`` whose process is gone,
    unchanged for longer than copy-db waits."""
    pid = subprocess.Popen([sys.executable, "-c", "pass"])
    pid.wait()
    files = [
        dest.parent / f".{dest.name}.{pid.pid}.0123abcd.copy",
        dest.parent / f".{dest.name}.{pid.pid}.0123abcd.copy-wal",
    ]
    then = time.time() - LEFTOVER_QUIET_S - 3600
    for f in files:
        f.write_bytes(b"rows of a copy killed outright")
        os.utime(f, (then, then))
    return files


def test_leftovers_stay_when_the_source_cannot_be_opened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new.db"
    files = _dead_copy_files(new)
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    assert main(["--db", missing, "copy-db", f"sqlite:///{new}"]) == 1
    err = capsys.readouterr().err
    assert "no database at" in err
    assert "hidden file" not in err, err
    assert all(f.exists() for f in files)
    assert not new.exists()


def test_a_copy_from_python_removes_the_leftovers_and_says_which(tmp_path: Path) -> None:
    source = _source(tmp_path)
    new = tmp_path / "new.db"
    files = _dead_copy_files(new)
    seen: list[Leftovers] = []
    result = copy_database(source, f"sqlite:///{new}", on_leftovers=seen.append)
    assert set(result.leftovers.removed) == set(files)
    assert seen == [result.leftovers]
    assert not any(f.exists() for f in files)
    assert result.rows["scenes"] == 5
    # the copy's own hidden file was not taken for a leftover: it became DEST
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".new.db")] == []


def test_db_on_the_command_line_is_named_so_when_railwatch_db_holds_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with_query = "sqlite:///x.db?mode=ro"
    monkeypatch.setenv("RAILWATCH_DB", with_query)
    assert main(["--db", with_query, "site", "list"]) == 1
    assert f"database URL {with_query} (--db) has query parameters" in capsys.readouterr().err
    assert main(["site", "list"]) == 1
    assert f"{with_query} (RAILWATCH_DB) has query parameters" in capsys.readouterr().err

    missing = "sqlite:///nothere.db"
    monkeypatch.setenv("RAILWATCH_DB", missing)
    assert main(["--db", missing, "scene", "list", "yard"]) == 1
    err = capsys.readouterr().err
    assert f"(--db {missing})" in err, err
    assert main(["scene", "list", "yard"]) == 1
    assert f"(RAILWATCH_DB={missing})" in capsys.readouterr().err
    assert not (tmp_path / "nothere.db").exists()
