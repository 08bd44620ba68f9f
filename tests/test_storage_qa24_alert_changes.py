"""What a re-analysis changes in the stored alerts (session 24).

Until now every analysis counted each alert raised again as "unchanged or updated" and
rewrote it (``updated_at`` moved every time), so an analyst could not tell what changed;
and an acknowledged alert whose severity rose (an ongoing silence growing, an image
counted again higher) stayed acknowledged with no sign that it says more now.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from railwatch.analysis.types import Alert as AlertValue
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo

BBOX = "130.60,42.28,130.63,42.30"


def _alert(
    key: str, severity: str = "low", explanation: str = "no usable image for 60 days"
) -> AlertValue:
    return AlertValue(
        key=key,
        kind="quality",
        severity=severity,
        when=datetime(2024, 3, 1, 2, 30, tzinfo=UTC),
        cls="all",
        value=60.0,
        explanation=explanation,
        metrics={"days": 60.0, "since": "2024-01-01"},
    )


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    with db.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    return db


def test_an_alert_raised_again_as_stored_is_unchanged_and_not_rewritten(tmp_path: Path) -> None:
    db = _db(tmp_path)
    alerts = [_alert("quality-all-2024-01-01"), _alert("quality-all-2023-05-01")]
    with db.session() as s:
        first = repo.replace_alerts(s, "tum", alerts)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    with db.session() as s:
        stamps = {a.key: a.updated_at for a in repo.list_alerts(s, "tum")}
    with db.session() as s:
        again = repo.replace_alerts(s, "tum", alerts)
    assert (again.created, again.updated, again.unchanged, again.removed) == (0, 0, 2, 0)
    with db.session() as s:
        assert {a.key: a.updated_at for a in repo.list_alerts(s, "tum")} == stamps
    changed = [alerts[0], dataclasses.replace(alerts[1], explanation="no usable image for 61 days")]
    with db.session() as s:
        third = repo.replace_alerts(s, "tum", changed)
    assert (third.updated, third.unchanged) == (1, 1)
    db.dispose()


def test_an_acknowledged_alert_whose_severity_rose_is_acknowledged_no_longer(
    tmp_path: Path,
) -> None:
    db = _db(tmp_path)
    with db.session() as s:
        repo.replace_alerts(s, "tum", [_alert("quality-all-2024-01-01", "low")])
        alert_id = repo.list_alerts(s, "tum")[0].id
    with db.session() as s:
        repo.acknowledge_alert(s, alert_id, "clouds all winter, as every year")
    # the silence goes on: low -> medium
    grown = _alert("quality-all-2024-01-01", "medium", "no usable image for 120 days")
    with db.session() as s:
        changes = repo.replace_alerts(s, "tum", [grown])
    assert (changes.updated, changes.reopened) == (1, 1)
    with db.session() as s:
        a = repo.get_alert(s, alert_id)
        assert a.severity == "medium" and not a.acknowledged
        assert a.ack_note is not None and a.ack_note.endswith("clouds all winter, as every year")
        assert a.ack_at is not None
    # acknowledged again, and then the same or a lower severity keeps it acknowledged
    with db.session() as s:
        repo.acknowledge_alert(s, alert_id, "still clouds")
    for severity in ("medium", "low"):
        with db.session() as s:
            changes = repo.replace_alerts(s, "tum", [dataclasses.replace(grown, severity=severity)])
        assert changes.reopened == 0
        with db.session() as s:
            assert repo.get_alert(s, alert_id).acknowledged
    db.dispose()
