"""QA: database URLs no command can use are refused, not silently replaced or lost.

`--db ""` created and used ./railwatch.db (while `RAILWATCH_DB=` was refused), and
in-memory SQLite (`sqlite://`, `sqlite:///:memory:`) was accepted: everything a command
wrote was lost when it exited."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.storage.db import is_memory_url

BBOX = "130.60,42.28,130.63,42.30"


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return " ".join(capsys.readouterr().err.split())


def test_empty_db_option_is_refused_like_the_empty_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAILWATCH_DB", raising=False)
    assert main(["--db", "", "site", "add", "yard", "--bbox", BBOX]) == 1
    from_option = _err(capsys)
    assert "invalid database URL ''" in from_option
    assert not (tmp_path / "railwatch.db").exists()  # it was created and used

    monkeypatch.setenv("RAILWATCH_DB", "")
    assert main(["site", "list"]) == 1
    assert "invalid database URL ''" in _err(capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///:memory:", "sqlite:///", "sqlite:///file::memory:?cache=shared"],
)
def test_in_memory_sqlite_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", url, "site", "add", "yard", "--bbox", BBOX]) == 1
    err = _err(capsys)
    assert f"database URL {url!r} is an in-memory SQLite database" in err
    assert "lost when it exits" in err and "Added site" not in err


def test_in_memory_sqlite_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAILWATCH_DB", "sqlite://")
    assert main(["site", "list"]) == 1
    assert "in-memory SQLite database" in _err(capsys)


def test_a_file_url_still_works(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--bbox", BBOX]) == 0
    assert main(["--db", tmp_db_url, "site", "list", "--json"]) == 0
    assert '"yard"' in capsys.readouterr().out


def test_db_help_says_what_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "An empty URL and in-memory SQLite (sqlite://, sqlite:///:memory:) are refused" in out


@pytest.mark.parametrize(
    ("url", "memory"),
    [
        ("sqlite://", True),
        ("sqlite:///:memory:", True),
        ("sqlite+pysqlite://", True),
        ("sqlite:///rw.db", False),
        ("sqlite:////tmp/rw.db", False),
        ("postgresql+psycopg://u@h/db", False),
        ("not a url", False),
    ],
)
def test_is_memory_url(url: str, memory: bool) -> None:
    assert is_memory_url(url) is memory
