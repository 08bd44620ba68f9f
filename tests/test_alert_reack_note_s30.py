"""Acknowledging a reopened alert keeps the notes of its first acknowledgement (session 30).

An acknowledged alert whose severity rises is acknowledged no longer, "its note kept:
what was checked" (session 24). Acknowledging it again then replaced that note with the
new one, or erased it when the new acknowledgement had none: the analyst's record of
what they had checked was lost at the moment it mattered. Now the earlier notes stay and
a new note is added after them with its time, as for an alert acknowledged again;
``ack_at`` stays the time of the first acknowledgement. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from railwatch.analysis.types import Alert as AlertValue
from railwatch.errors import InputError
from railwatch.limits import NOTE_MAX
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo

BBOX = "130.60,42.28,130.63,42.30"
FIRST = "clouds all winter, as every year"


def _silence(severity: str, days: int) -> AlertValue:
    return AlertValue(
        key="quality:all:2024-01-01",
        kind="quality",
        severity=severity,
        when=datetime(2024, 1, 1, tzinfo=UTC),
        cls="all",
        value=float(days),
        explanation=f"no usable image for {days} days",
        metrics={"days": float(days)},
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db(request: pytest.FixtureRequest, tmp_db_url: str) -> Iterator[Database]:
    url = (
        str(request.getfixturevalue("postgres_url"))
        if request.param == "postgresql"
        else tmp_db_url
    )
    database = Database(url)
    with database.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    yield database
    database.dispose()


def _reopened(db: Database, first_note: str = FIRST) -> tuple[int, datetime]:
    with db.session() as s:
        repo.replace_alerts(s, "tum", [_silence("low", 60)])
        alert_id = repo.list_alerts(s, "tum")[0].id
        ack_at = repo.acknowledge_alert(s, alert_id, first_note).ack_at
    with db.session() as s:
        assert repo.replace_alerts(s, "tum", [_silence("medium", 120)]).reopened == 1
    assert ack_at is not None
    return alert_id, ack_at


def test_a_new_note_is_added_after_the_first(db: Database) -> None:
    alert_id, ack_at = _reopened(db)
    with db.session() as s:
        a = repo.acknowledge_alert(s, alert_id, "still clouds, 120 days now")
        assert a.acknowledged
    with db.session() as s:
        a = repo.get_alert(s, alert_id)
        first, second = str(a.ack_note).split("\n")
        assert first == FIRST
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC: still clouds, 120 days now", second)
        assert a.ack_at == ack_at


def test_no_note_keeps_the_first(db: Database) -> None:
    alert_id, ack_at = _reopened(db)
    with db.session() as s:
        repo.acknowledge_alert(s, alert_id)
    with db.session() as s:
        a = repo.get_alert(s, alert_id)
        assert a.acknowledged and a.ack_note == FIRST and a.ack_at == ack_at


def test_the_same_note_again_is_not_repeated(db: Database) -> None:
    alert_id, _ = _reopened(db)
    with db.session() as s:
        repo.acknowledge_alert(s, alert_id, FIRST)
    with db.session() as s:
        assert repo.get_alert(s, alert_id).ack_note == FIRST


def test_a_reopened_alert_first_acknowledged_without_a_note_gets_the_new_one(
    db: Database,
) -> None:
    alert_id, ack_at = _reopened(db, "")
    with db.session() as s:
        repo.acknowledge_alert(s, alert_id, "120 days: asked for a tasking")
    with db.session() as s:
        a = repo.get_alert(s, alert_id)
        # as for an alert acknowledged again: the new note with its time
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\d \d\d:\d\d UTC: 120 days: asked for a tasking", a.ack_note or ""
        )
        assert a.ack_at == ack_at


def test_a_note_that_does_not_fit_is_refused_and_the_notes_kept(db: Database) -> None:
    long = "x" * NOTE_MAX
    alert_id, _ = _reopened(db, long)
    with db.session() as s:
        for i in range(8):  # nine notes' worth, acknowledged, reopened, again and again
            repo.acknowledge_alert(s, alert_id, f"{long[:-5]}{i:05d}")
    kept = _notes(db, alert_id)
    with db.session() as s:
        repo.replace_alerts(s, "tum", [_silence("low", 60)])
    with db.session() as s:
        repo.replace_alerts(s, "tum", [_silence("high", 400)])
    with pytest.raises(InputError, match="keep this note elsewhere"), db.session() as s:
        repo.acknowledge_alert(s, alert_id, "y" * NOTE_MAX)
    assert _notes(db, alert_id) == kept


def _notes(db: Database, alert_id: int) -> str | None:
    with db.session() as s:
        return repo.get_alert(s, alert_id).ack_note
