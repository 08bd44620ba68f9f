"""The "changed since acknowledged" mark shown where alerts are read (session 30).

Since 32e20ac an acknowledged alert raised again with another count, explanation or
image at the same or a lower severity keeps its acknowledgement and records what was
acknowledged in ``metrics["changed_since_ack"]``, but nothing showed it except the raw
metrics of ``--json``: ``railwatch analyze`` said "1 updated", ``railwatch alerts`` showed
the new count under the old note, ``--unacked`` left the alert out, and ``railwatch
alert ack ID`` said "nothing changed." while it cleared the mark.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from railwatch.analysis.types import Alert as AlertValue
from railwatch.cli.main import main
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo

BBOX = "130.60,42.28,130.63,42.30"
MARK = "changed_since_ack"


def _spike(
    value: float | None = 40.0,
    severity: str = "medium",
    explanation: str = "40 railcars on 2024-03-01, against a usual 12: 6.1 spreads above",
) -> AlertValue:
    return AlertValue(
        key="spike:all:2024-03-01",
        kind="spike",
        severity=severity,
        when=datetime(2024, 3, 1, 2, 30, tzinfo=UTC),
        cls="all",
        value=value,
        explanation=explanation,
        metrics={"baseline": 12.0, "z": 6.1},
    )


RECOUNTED = _spike(31.0, explanation="31 railcars on 2024-03-01, against a usual 12: 4.2 spreads")
OTHER = replace(_spike(), key="spike:all:2024-04-01", when=datetime(2024, 4, 1, tzinfo=UTC))


@pytest.fixture()
def db(tmp_db_url: str) -> Iterator[Database]:
    database = Database(tmp_db_url)
    with database.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    yield database
    database.dispose()


def _store(db: Database, *alerts: AlertValue) -> None:
    with db.session() as s:
        repo.replace_alerts(s, "tum", alerts)


def _marked(db: Database, note: str = "checked: a train in the sidings") -> int:
    """An acknowledged spike of 40 (medium), since recounted to 31: marked."""
    _store(db, _spike())
    with db.session() as s:
        alert_id = repo.list_alerts(s, "tum")[0].id
        repo.acknowledge_alert(s, alert_id, note)
    _store(db, RECOUNTED)
    return alert_id


def _run(db: Database, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["--db", db.url, *args]) == 0
    return " ".join(capsys.readouterr().out.split())


def test_analyze_says_how_many_acknowledged_alerts_changed(
    db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.analysis import store

    _store(db, _spike())
    with db.session() as s:
        repo.acknowledge_alert(s, repo.list_alerts(s, "tum")[0].id, "a train")
    monkeypatch.setattr(store, "analyze_series", lambda *a, **k: [RECOUNTED])
    out = _run(db, capsys, "analyze", "tum")
    assert "1 updated" in out
    assert "1 acknowledged alert now says something else" in out
    assert "still acknowledged, marked" in out
    assert "railwatch alerts tum --unacked" in out and "railwatch alert ack ID" in out
    # nothing changed the second time: nothing said
    out = _run(db, capsys, "analyze", "tum")
    assert "1 unchanged" in out and "say something else" not in out


def test_alerts_json_gives_the_mark_in_each_row(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _marked(db)
    _store(db, RECOUNTED, OTHER)
    rows = json.loads(_run(db, capsys, "alerts", "tum", "--json"))
    by_key = {r["key"]: r for r in rows}
    mark = by_key["spike:all:2024-03-01"][MARK]
    assert mark["value"] == 40.0 and mark["severity"] == "medium"
    assert by_key["spike:all:2024-04-01"][MARK] is None  # never acknowledged: no mark


def test_alerts_table_shows_what_was_acknowledged(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _marked(db)
    out = _run(db, capsys, "alerts", "tum")
    assert "31 railcars" in out and "note: checked: a train in the sidings" in out
    assert "changed since acknowledged: was 40 (medium)" in out


def test_alerts_table_words_an_explanation_only_change(
    db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.cli import _common

    # wide enough for the marker on one line of its cell, whatever another test left
    monkeypatch.setattr(_common.console, "width", 400)
    _store(db, _spike())
    with db.session() as s:
        repo.acknowledge_alert(s, repo.list_alerts(s, "tum")[0].id)
    _store(db, _spike(explanation="40 railcars on 2024-03-01, against a usual 9"))
    out = _run(db, capsys, "alerts", "tum")
    # the same count and severity: what it said is what changed
    assert (
        "changed since acknowledged: was 40 (medium): 40 railcars on 2024-03-01, "
        "against a usual 12: 6.1 spreads above" in out
    )


def test_unacked_lists_a_marked_alert(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    alert_id = _marked(db)
    _store(db, RECOUNTED, OTHER)
    with db.session() as s:  # an acknowledged one, unchanged: not listed
        other = next(a.id for a in repo.list_alerts(s, "tum") if a.id != alert_id)
        repo.acknowledge_alert(s, other, "seen")
    rows = json.loads(_run(db, capsys, "alerts", "tum", "--unacked", "--json"))
    assert [r["id"] for r in rows] == [alert_id]
    assert "1 alert of tum" in _run(db, capsys, "alerts", "tum", "--unacked")
    with db.session() as s:
        repo.acknowledge_alert(s, alert_id)  # seen: no longer listed
    assert _run(db, capsys, "alerts", "tum", "--unacked") == "No alerts matching the filters."


def test_unacked_help_says_marked_alerts_are_listed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # the option's help on one line
    assert main(["alerts", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "acknowledged but changed since" in out


def test_ack_without_a_note_says_the_mark_is_cleared(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    alert_id = _marked(db)
    out = _run(db, capsys, "alert", "ack", str(alert_id))
    assert "nothing changed" not in out
    assert "it had changed since (was 40, medium): marked as seen." in out
    with db.session() as s:
        assert MARK not in repo.get_alert(s, alert_id).metrics
    # again: now nothing did change
    assert "nothing changed." in _run(db, capsys, "alert", "ack", str(alert_id))


def test_ack_with_a_note_says_the_mark_is_cleared_too(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    alert_id = _marked(db)
    out = _run(db, capsys, "alert", "ack", str(alert_id), "--note", "31 after the recount")
    assert "note added" in out
    assert "It had changed since (was 40, medium): marked as seen." in out


def test_ack_of_a_reopened_marked_alert_says_what_was_acknowledged(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    alert_id = _marked(db)
    _store(db, _spike(80.0, severity="high", explanation="80 railcars ..."))  # reopened
    out = _run(db, capsys, "alerts", "tum", "--unacked")
    assert "changed since acknowledged: was 40 (medium)" in out
    out = _run(db, capsys, "alert", "ack", str(alert_id))
    assert out.endswith("acknowledged. It had changed since (was 40, medium): marked as seen.")
