"""``railwatch event edit``: an event's date, label or description changed in place
(session 24; the store could do it, the command line could not: a typo in a label meant
removing the event and adding it again, under a new id)."""

from __future__ import annotations

import json

import pytest

from railwatch.cli.main import main

BBOX = "130.60,42.28,130.63,42.30"


def _events(db: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main([*db, "event", "list", "yard", "--json"]) == 0
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rows


def test_an_event_is_edited_in_place(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", tmp_db_url]
    assert main([*db, "site", "add", "yard", "--bbox", BBOX]) == 0
    assert main([*db, "event", "add", "yard", "2023-09-13", "Kim-Ptuin summit"]) == 0
    assert main([*db, "event", "add", "yard", "2024-06-19", "Putin visit"]) == 0
    first = _events(db, capsys)[0]["id"]
    assert main([*db, "event", "edit", str(first), "--label", "Kim–Putin summit"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Kim–Putin summit on 2023-09-13 at yard" in out and "railwatch analyze yard" in out
    assert main([*db, "event", "edit", str(first), "--date", "2023-09-14", "-d", "Vostochny"]) == 0
    rows = _events(db, capsys)
    assert rows[0] == {
        "id": first,
        "date": "2023-09-14",
        "label": "Kim–Putin summit",
        "description": "Vostochny",
    }
    assert rows[1]["label"] == "Putin visit"


def test_bad_edits_are_refused_and_change_nothing(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", tmp_db_url]
    assert main([*db, "site", "add", "yard", "--bbox", BBOX]) == 0
    assert main([*db, "event", "add", "yard", "2023-09-13", "summit"]) == 0
    assert main([*db, "event", "add", "yard", "2024-06-19", "visit"]) == 0
    before = _events(db, capsys)
    first = str(before[0]["id"])
    for args, says in (
        ([first], "nothing to change"),
        ([first, "--date", "2023-09-31"], "not a valid calendar date"),
        ([first, "--date", "2024-06-19", "--label", "visit"], "already exists"),
        ([first, "--label", "   "], "label"),
        (["999", "--label", "x"], "no event with id 999"),
    ):
        code = main([*db, "event", "edit", *args])
        err = " ".join(capsys.readouterr().err.split())
        assert code != 0 and says in err, (args, code, err)
    assert _events(db, capsys) == before
