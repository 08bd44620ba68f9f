"""A command that finds no site in a database that is there says only that (one line,
the known sites).

Its first two tests (7463cc0: a hint "there was no database at PATH before this command,
so it looked in a new, empty one") are gone with the hint: a command other than `site
add` and `serve` no longer creates a database that is not there, it refuses it (see
tests/test_cli_missing_database_s30.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main

BBOX = "130.6072,42.4208,130.6090,42.4220"


@pytest.fixture(autouse=True)
def _default_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAILWATCH_DB", raising=False)


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
