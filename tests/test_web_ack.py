"""Acknowledging an alert again keeps what the analyst wrote, in the API and the CLI.

POST /api/alerts/{id}/acknowledge {"note": "checked"} then the same with {} left the
alert with no note and a new ack_at: the note of what had been checked was lost.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.limits import NOTE_MAX
from railwatch.settings import Settings
from railwatch.storage import Database, repo
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "ack-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC: "


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    db = Database(f"sqlite:///{tmp_path / 'ack.db'}")
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    ids["client"] = TestClient(create_app(settings, db))
    ids["db"] = db
    return ids


def test_acknowledging_again_keeps_the_note_and_time(world: dict[str, Any]) -> None:
    c, aid = world["client"], world["alert_id"]
    url = f"/api/alerts/{aid}/acknowledge"
    first = c.post(url, json={"note": "checked"}, headers=AUTH).json()
    assert first["acknowledged"] and first["ack_note"] == "checked" and first["ack_at"]
    # no note, or the same note again (a repeated request): nothing changes
    for body in ({}, {"note": ""}, {"note": "   "}, {"note": " checked "}):
        again = c.post(url, json=body, headers=AUTH)
        assert again.status_code == 200
        assert (again.json()["ack_note"], again.json()["ack_at"]) == ("checked", first["ack_at"])
    # a new note is added after the earlier one, with its time; ack_at stays the first
    added = c.post(url, json={"note": "seen again on the next image"}, headers=AUTH).json()
    assert re.fullmatch(f"checked\n{STAMP}seen again on the next image", added["ack_note"])
    assert added["ack_at"] == first["ack_at"]
    same = c.post(url, json={"note": "seen again on the next image"}, headers=AUTH).json()
    assert same["ack_note"] == added["ack_note"]
    got = c.get(f"/api/alerts/{aid}").json()
    assert got["ack_note"] == added["ack_note"] and got["ack_at"] == first["ack_at"]
    # and a re-analysis keeps it all
    c.post(f"/api/sites/{world['site']}/analyze", headers=AUTH)
    kept = c.get(f"/api/alerts/{aid}").json()
    assert kept["acknowledged"] and kept["ack_note"] == added["ack_note"]


def test_a_first_acknowledgement_without_note_then_a_note(world: dict[str, Any]) -> None:
    c, aid = world["client"], world["alert_id"]
    url = f"/api/alerts/{aid}/acknowledge"
    first = c.post(url, json={}, headers=AUTH).json()
    assert first["acknowledged"] and first["ack_note"] is None
    noted = c.post(url, json={"note": "checked"}, headers=AUTH).json()
    assert re.fullmatch(f"{STAMP}checked", noted["ack_note"])
    assert noted["ack_at"] == first["ack_at"]


def test_notes_of_one_alert_are_bounded(world: dict[str, Any]) -> None:
    c, aid = world["client"], world["alert_id"]
    url = f"/api/alerts/{aid}/acknowledge"
    answers = [
        c.post(url, json={"note": str(i) * NOTE_MAX}, headers=AUTH).status_code for i in range(10)
    ]
    assert answers[:9] == [200] * 9 and answers[9] == 422
    note = c.get(f"/api/alerts/{aid}").json()["ack_note"]
    assert note.startswith("0" * NOTE_MAX) and len(note) <= 10 * NOTE_MAX


def test_cli_acknowledges_the_same_way(world: dict[str, Any]) -> None:
    """`railwatch alert ack` goes through the same storage function."""
    from railwatch.cli.main import main

    db: Database = world["db"]
    aid = world["alert_id"]
    assert main(["--db", db.url, "alert", "ack", str(aid), "--note", "checked"]) == 0
    with db.session(readonly=True) as s:
        at = repo.get_alert(s, aid).ack_at
    assert main(["--db", db.url, "alert", "ack", str(aid)]) == 0
    with db.session(readonly=True) as s:
        row = repo.get_alert(s, aid)
        assert (row.ack_note, row.ack_at) == ("checked", at)
    assert main(["--db", db.url, "alert", "ack", str(aid), "--note", "seen again"]) == 0
    with db.session(readonly=True) as s:
        row = repo.get_alert(s, aid)
        assert re.fullmatch(f"checked\n{STAMP}seen again", str(row.ack_note))
        assert row.ack_at == at
    api = world["client"].get(f"/api/alerts/{aid}").json()
    assert api["ack_note"] == row.ack_note
