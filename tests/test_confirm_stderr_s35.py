"""Confirmation questions are asked on standard error (session 35).

``cli._common.confirm`` wrote its question ("Replace the database ... [y/N]: ") on
standard output, so ``railwatch restore BACKUP --json | jq`` fed the question to jq
before the JSON (a parse error), and ``site remove`` / ``event remove`` mixed it into
the output a script reads. It is asked on standard error now, as git and pip ask, for
every command that asks: ``site remove``, ``event remove`` and ``restore``; so is the
line break after an answer that did not come (end of input, Ctrl-C). ``restore --json``
declined says "Nothing restored." on standard error too: its standard output holds JSON
or nothing.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.storage.backup import backup
from test_storage_ops_s34 import _url, filled, filled_once

__all__ = ["filled", "filled_once"]  # the fixtures (filled needs filled_once), used here

BBOX = "130.60,42.28,130.63,42.30"


class Terminal(io.StringIO):
    """Standard input that is a terminal (what is typed: the text given)."""

    def isatty(self) -> bool:
        return True


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """A site ``yard`` with one event (id 1)."""
    db = ("--db", tmp_db_url)
    assert main([*db, "site", "add", "yard", "--bbox", BBOX]) == 0
    assert main([*db, "event", "add", "yard", "2024-04-10", "Test summit"]) == 0
    capsys.readouterr()
    return db


@pytest.mark.parametrize("answer", ["y\n", "n\n"])
@pytest.mark.parametrize(
    ("command", "question"),
    [
        (("site", "remove", "yard"), "Remove site 'yard' and its 0 scenes"),
        (("event", "remove", "1"), "Delete event 1 ('Test summit' on 2024-04-10 at yard)?"),
    ],
)
def test_site_and_event_remove_ask_on_stderr(
    db: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
    question: str,
    answer: str,
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    code, out, err = _run(capsys, *db, *command)
    assert code == 0
    assert question in err and "[y/N]: " in err
    assert "[y/N]" not in out and question not in out
    said = "removed" if answer == "y\n" else "Nothing removed"
    assert said.lower() in out.lower()


def test_the_line_break_after_an_unanswered_question_goes_to_stderr(
    db: tuple[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal(""))  # end of input at the question
    code, out, err = _run(capsys, *db, "event", "remove", "1")
    assert code == 2 and out == ""
    assert "[y/N]: \n" in err and "no answer to the confirmation" in err


@pytest.mark.parametrize("answer", ["y\n", "n\n"])
def test_restore_json_piped_holds_json_only(
    filled: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
) -> None:
    saved = backup(_url(filled), tmp_path / "saved.db").path
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    code, out, err = _run(capsys, "--db", _url(filled), "restore", str(saved), "--json")
    assert code == 0
    assert f"Replace the database {filled} with the backup {saved}" in err
    assert "[y/N]" not in out
    if answer == "y\n":
        assert json.loads(out)["backup"] == str(saved)
    else:
        assert out == "" and "Nothing restored." in err
