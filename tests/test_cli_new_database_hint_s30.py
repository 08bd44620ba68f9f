"""A command that finds no site or record in a database it has just made (empty) says
so, with where the database was looked for and how to name the right one.

The default database is ``railwatch.db`` in the current folder: `railwatch scene list
myyard` run from another folder than the analyst's made a new, empty railwatch.db there
and said only "no site named 'myyard' (no sites yet)", as if the site had gone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main

BBOX = "130.6072,42.4208,130.6090,42.4220"


@pytest.fixture(autouse=True)
def _default_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAILWATCH_DB", raising=False)


def test_wrong_folder_says_which_database_was_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    work, other = tmp_path / "work", tmp_path / "other"
    work.mkdir()
    other.mkdir()
    monkeypatch.chdir(work)
    assert main(["site", "add", "myyard", "--bbox", BBOX]) == 0
    monkeypatch.chdir(other)
    capsys.readouterr()
    assert main(["scene", "list", "myyard"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no site named 'myyard'")
    assert f"there was no database at {other / 'railwatch.db'} before this command" in err
    assert "--db sqlite:///PATH" in err
    # run where the database is, the site is found and nothing more is said
    monkeypatch.chdir(work)
    assert main(["scene", "list", "myyard"]) == 0


def test_an_existing_database_gets_no_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["site", "add", "myyard", "--bbox", BBOX]) == 0
    capsys.readouterr()
    assert main(["scene", "list", "other"]) == 1
    err = capsys.readouterr().err
    assert "known sites: myyard" in err and "no database" not in err
    assert err.count("\n") == 1


def test_a_db_option_naming_a_new_file_gets_the_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'typo.db'}"
    assert main(["--db", url, "alert", "ack", "12"]) == 1
    err = capsys.readouterr().err
    assert f"there was no database at {tmp_path / 'typo.db'} before this command" in err
