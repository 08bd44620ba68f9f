"""``railwatch serve`` beside cron's ``process`` and ``analyze`` (session 24): it starts
while another run holds SQLite's write lock, and says when the database it serves did
not exist (a mistyped path) instead of only "no sites yet"."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

import railwatch.storage.db as storage_db  # noqa: E402
from railwatch.cli.main import main  # noqa: E402
from railwatch.storage import Database  # noqa: E402


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """uvicorn.run replaced: the calls it got (no server starts in these tests)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    monkeypatch.delenv("RAILWATCH_API_TOKEN", raising=False)
    return calls


def test_serve_starts_while_another_run_holds_the_write_lock(
    runs: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "cron.db"
    Database(f"sqlite:///{path}").dispose()  # the schema is there
    # a short lock wait: without the fix serve fails after it instead of after 30 s
    monkeypatch.setattr(storage_db, "SQLITE_BUSY_TIMEOUT_MS", 300)
    writer = sqlite3.connect(path, isolation_level=None)  # `railwatch process` writing
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("CREATE TABLE cron_busy (x INTEGER)")
        code = main(["--db", f"sqlite:///{path}", "serve"])
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    err = " ".join(capsys.readouterr().err.split())
    assert code == 0, err
    assert "locked" not in err
    assert len(runs) == 1


def test_serve_on_a_database_that_did_not_exist_says_it_was_created(
    runs: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "railwatch-dmeo.db"  # mistyped
    assert main(["--db", f"sqlite:///{path}", "serve"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert f"It did not exist: {path} was created, empty (a mistyped path?)." in err
    assert "has no sites yet" in err
    # the next start serves the same, existing (still empty) database: no such line
    assert main(["--db", f"sqlite:///{path}", "serve"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "has no sites yet" in err and "did not exist" not in err
