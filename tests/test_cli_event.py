"""``railwatch event remove``: what answering the confirmation does."""

from __future__ import annotations

import io
import json

import pytest

from railwatch.cli.main import main

BBOX = "130.60,42.28,130.63,42.30"


class Terminal(io.StringIO):
    """Standard input that is a terminal: without --yes, `event remove` asks only there
    (from a pipe or a script it is refused, as `site remove` is)."""

    def isatty(self) -> bool:
        return True


def _site_with_event(db: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> int:
    assert main([*db, "site", "add", "yard", "--bbox", BBOX]) == 0
    assert main([*db, "event", "add", "yard", "2024-04-10", "Test summit"]) == 0
    capsys.readouterr()
    assert main([*db, "event", "list", "yard", "--json"]) == 0
    out = capsys.readouterr().out
    return int(json.loads(out[out.index("[") :])[0]["id"])


def _events(db: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main([*db, "event", "list", "yard", "--json"]) == 0
    out = capsys.readouterr().out
    return [e["label"] for e in json.loads(out[out.index("[") :])] if "[" in out else []


def test_remove_declined_keeps_event_and_exits_0(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answering "n" is a choice, not an interruption: before, it printed "Aborted." and
    exited 130 (the code of Ctrl-C)."""
    db = ("--db", tmp_db_url)
    eid = _site_with_event(db, capsys)
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert main([*db, "event", "remove", str(eid)]) == 0
    out, err = capsys.readouterr()
    # the question is asked on stderr (session 35: on stdout, mixed into the output)
    assert "Delete event" in err and "'Test summit' on 2024-04-10 at yard" in err
    assert "Nothing removed" in out and "Aborted" not in err
    assert _events(db, capsys) == ["Test summit"]


def test_remove_confirmed_removes(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ("--db", tmp_db_url)
    eid = _site_with_event(db, capsys)
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert main([*db, "event", "remove", str(eid)]) == 0
    assert f"Event {eid} removed." in capsys.readouterr().out
    assert _events(db, capsys) == []


def test_remove_without_an_answer_says_to_pass_yes(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script without --yes (standard input closed) got "Aborted." and 130, as if
    interrupted; it is told to pass --yes (status 2, as for other input errors), and
    so is a terminal where the question gets no answer (end of input)."""
    db = ("--db", tmp_db_url)
    eid = _site_with_event(db, capsys)
    for stdin in (io.StringIO(""), Terminal("")):
        monkeypatch.setattr("sys.stdin", stdin)
        assert main([*db, "event", "remove", str(eid)]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert "pass --yes" in err and "Aborted" not in err
        assert _events(db, capsys) == ["Test summit"]


def test_remove_interrupted_keeps_130(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ("--db", tmp_db_url)
    eid = _site_with_event(db, capsys)

    class CtrlC(Terminal):
        # the override typeshed's TextIOBase.readline itself carries (str, not _IOBase's bytes)
        def readline(self, size: int = -1, /) -> str:  # type: ignore[override]
            raise KeyboardInterrupt

    monkeypatch.setattr("sys.stdin", CtrlC())
    assert main([*db, "event", "remove", str(eid)]) == 130
    assert "Aborted." in capsys.readouterr().err
    assert _events(db, capsys) == ["Test summit"]


def test_remove_says_which_alerts_still_name_the_event(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Alerts keep the event they were linked to (and their explanations say '12 days
    after: ...') until the site is analysed again; removing the event said only
    'Event 1 removed.', so the report went on naming an event no longer on its chart."""
    from datetime import UTC, datetime

    from railwatch.analysis.types import Alert
    from railwatch.storage import Database, repo

    db = ("--db", tmp_db_url)
    eid = _site_with_event(db, capsys)
    when = datetime(2024, 4, 22, tzinfo=UTC)
    linked = Alert("spike:all", "spike", "high", when, "all", 9.0, "12 days after: Test summit",
                   event_label="Test summit", event_days=12)  # fmt: skip
    other = Alert("record:all", "record", "low", when, "all", 9.0, "x")
    with Database(tmp_db_url).session() as s:
        repo.replace_alerts(s, "yard", [linked, other])
    assert main([*db, "event", "remove", str(eid), "--yes"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"Event {eid} removed." in out
    assert "1 alert of yard still names it" in out and "railwatch analyze yard" in out


def test_add_with_a_mistyped_year_is_refused(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An event dated 0023-09-13 (a mistyped 2023) was stored (status 0), and
    `railwatch report` of the site then failed with an internal error (its chart cannot
    draw year 23)."""
    db = ("--db", tmp_db_url)
    _site_with_event(db, capsys)
    assert main([*db, "event", "add", "yard", "0023-09-13", "Summit"]) == 2
    assert "event date 0023-09-13 is before 1900: check the year" in capsys.readouterr().err
    assert _events(db, capsys) == ["Test summit"]
