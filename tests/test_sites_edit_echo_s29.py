"""`site edit` says the tags and description as stored (stripped, duplicate tags
dropped), not as typed: "--tag a --tag a" said "tags a, a" while the site had one tag,
and a description of spaces only said "description changed" while it was cleared."""

from __future__ import annotations

import json

import pytest

from railwatch.cli.main import main

BBOX = "130.60,42.28,130.66,42.31"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def test_edit_says_what_was_stored(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--db", tmp_db_url)
    assert main([*db, "site", "add", "yard", "--bbox", BBOX, "-d", "old"]) == 0
    capsys.readouterr()
    code, out, err = run(
        capsys, *db, "site", "edit", "yard", "--tag", " dprk ", "--tag", "dprk", "--tag", "port",
        "-d", "   ",
    )  # fmt: skip
    assert code == 0, err
    assert "Edited site yard: description cleared; tags dprk, port." in out
    code, out, _ = run(capsys, *db, "site", "show", "yard", "--json")
    shown = json.loads(out)
    assert shown["tags"] == ["dprk", "port"] and shown["description"] == ""
