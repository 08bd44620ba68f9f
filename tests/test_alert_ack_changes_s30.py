"""An acknowledged alert that changes at the same or a lower severity (session 30).

Until now an acknowledged alert whose count, explanation or image changed without its
severity rising (the scene counted again after new centrelines or a new detector, a
scene review changing its count) was updated in place and stayed acknowledged with no
sign of it: ``analyze`` neither counted nor flagged it, and the analyst's
acknowledgement now stood under a number they never saw. Now it stays acknowledged (the
same alert: the same key) but carries ``metrics["changed_since_ack"]`` with what was
acknowledged, and :class:`~railwatch.storage.repo.AlertChanges` counts it
(``changed_since_ack``). Acknowledging it again clears the mark; an unchanged re-run
reports nothing and writes nothing. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from railwatch.analysis.types import Alert as AlertValue
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.serialize import alert_dict

BBOX = "130.60,42.28,130.63,42.30"
KEY = "spike:all:2024-03-01"
MARK = "changed_since_ack"


def _spike(
    value: float | None = 40.0,
    severity: str = "medium",
    explanation: str = "40 railcars on 2024-03-01, against a usual 12: 6.1 spreads above",
    scene_id: int | None = None,
    **metrics: float | str,
) -> AlertValue:
    return AlertValue(
        key=KEY,
        kind="spike",
        severity=severity,
        when=datetime(2024, 3, 1, 2, 30, tzinfo=UTC),
        cls="all",
        value=value,
        explanation=explanation,
        metrics={"baseline": 12.0, "z": 6.1, **metrics},
        scene_id=scene_id,
    )


RECOUNTED = _spike(31.0, explanation="31 railcars on 2024-03-01, against a usual 12: 4.2 spreads")


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


def _store(db: Database, *alerts: AlertValue) -> repo.AlertChanges:
    with db.session() as s:
        return repo.replace_alerts(s, "tum", alerts)


def _acknowledged(db: Database, note: str = "checked: a train in the sidings") -> int:
    _store(db, _spike())
    with db.session() as s:
        alert_id = repo.list_alerts(s, "tum")[0].id
        repo.acknowledge_alert(s, alert_id, note)
    return alert_id


def _read(db: Database, alert_id: int) -> dict[str, Any]:
    with db.session() as s:
        a = repo.get_alert(s, alert_id)
        return {**alert_dict(a), "updated_at": a.updated_at}


def test_a_recount_of_an_acknowledged_alert_is_counted_and_marked(db: Database) -> None:
    alert_id = _acknowledged(db)
    changes = _store(db, RECOUNTED)
    assert (changes.updated, changes.reopened, changes.changed_since_ack) == (1, 0, 1)
    a = _read(db, alert_id)
    assert a["acknowledged"] and a["value"] == 31.0
    assert a["ack_note"] == "checked: a train in the sidings"
    metrics = a["metrics"]
    mark = metrics[MARK]
    # what the analyst acknowledged, kept beside what the alert says now
    assert mark["value"] == 40.0 and mark["severity"] == "medium"
    assert mark["explanation"].startswith("40 railcars")
    assert datetime.fromisoformat(mark["changed_at"]).tzinfo is not None
    assert metrics["z"] == 6.1  # the alert's own metrics are as raised


def test_an_unchanged_rerun_after_the_change_reports_and_writes_nothing(db: Database) -> None:
    alert_id = _acknowledged(db)
    _store(db, RECOUNTED)
    before = _read(db, alert_id)
    again = _store(db, RECOUNTED)
    assert (again.unchanged, again.updated, again.changed_since_ack) == (1, 0, 0)
    after = _read(db, alert_id)
    assert after == before  # mark kept (it still says another number), nothing rewritten


def test_the_mark_keeps_what_was_acknowledged_through_later_changes(db: Database) -> None:
    alert_id = _acknowledged(db)
    _store(db, RECOUNTED)
    first = _read(db, alert_id)["metrics"]
    changes = _store(db, _spike(28.0, explanation="28 railcars ...: 3.5 spreads"))
    assert changes.changed_since_ack == 1
    mark = _read(db, alert_id)["metrics"][MARK]
    assert mark == first[MARK]
    assert mark["value"] == 40.0


@pytest.mark.parametrize(
    "changed",
    [
        _spike(severity="low"),  # a lower severity, same count
        _spike(explanation="40 railcars on 2024-03-01, against a usual 9: 7.0 spreads above"),
        _spike(scene_id=None, value=None),
    ],
    ids=["lower-severity", "explanation", "value-gone"],
)
def test_a_lower_severity_or_new_explanation_is_a_change_too(
    db: Database, changed: AlertValue
) -> None:
    alert_id = _acknowledged(db)
    changes = _store(db, changed)
    assert (changes.changed_since_ack, changes.reopened) == (1, 0)
    a = _read(db, alert_id)
    assert a["acknowledged"] and MARK in a["metrics"]


def test_a_change_back_to_what_was_acknowledged_drops_the_mark(db: Database) -> None:
    alert_id = _acknowledged(db)
    _store(db, RECOUNTED)
    back = _store(db, _spike())
    assert (back.updated, back.changed_since_ack) == (1, 0)
    a = _read(db, alert_id)
    assert a["acknowledged"] and MARK not in a["metrics"]
    assert _store(db, _spike()).unchanged == 1


def test_a_metrics_only_change_is_no_change_to_what_the_analyst_read(db: Database) -> None:
    alert_id = _acknowledged(db)
    changes = _store(db, _spike(thresholds="fine"))
    assert (changes.updated, changes.changed_since_ack) == (1, 0)
    a = _read(db, alert_id)
    assert a["metrics"] == {"baseline": 12.0, "z": 6.1, "thresholds": "fine"}


def test_acknowledging_again_clears_the_mark_and_keeps_the_note(db: Database) -> None:
    alert_id = _acknowledged(db)
    _store(db, RECOUNTED)
    with db.session() as s:
        ack_at = repo.get_alert(s, alert_id).ack_at
        repo.acknowledge_alert(s, alert_id)  # no note: "I have seen what it says now"
    a = _read(db, alert_id)
    assert a["acknowledged"] and MARK not in a["metrics"]
    assert a["ack_note"] == "checked: a train in the sidings"
    with db.session() as s:
        assert repo.get_alert(s, alert_id).ack_at == ack_at
    assert _store(db, RECOUNTED).unchanged == 1
    # a further change is measured from the new acknowledgement
    _store(db, _spike(28.0, explanation="28 railcars ...: 3.5 spreads"))
    assert _read(db, alert_id)["metrics"][MARK]["value"] == 31.0


def test_acknowledging_again_with_a_note_clears_the_mark(db: Database) -> None:
    alert_id = _acknowledged(db)
    _store(db, RECOUNTED)
    with db.session() as s:
        repo.acknowledge_alert(s, alert_id, "31 after the recount, still a train")
    a = _read(db, alert_id)
    assert MARK not in a["metrics"]
    note = str(a["ack_note"])
    assert note.startswith("checked: a train in the sidings\n")
    assert note.endswith(" UTC: 31 after the recount, still a train")


def test_an_unacknowledged_alert_that_changes_is_not_marked(db: Database) -> None:
    _store(db, _spike())
    changes = _store(db, RECOUNTED)
    assert (changes.updated, changes.changed_since_ack) == (1, 0)
    with db.session() as s:
        assert MARK not in repo.list_alerts(s, "tum")[0].metrics


def test_a_rise_is_reopened_not_changed_and_a_retired_one_raised_again_is_checked(
    db: Database,
) -> None:
    alert_id = _acknowledged(db)
    rose = _store(db, _spike(80.0, severity="high", explanation="80 railcars ..."))
    assert (rose.reopened, rose.changed_since_ack) == (1, 0)
    a = _read(db, alert_id)
    # not acknowledged now; what had been acknowledged is still told
    assert not a["acknowledged"] and a["metrics"][MARK]["value"] == 40.0

    other = _acknowledged_other(db)
    retired = _store(db, _spike(80.0, severity="high", explanation="80 railcars ..."))
    assert retired.retired == 1
    back = _store(
        db,
        _spike(80.0, severity="high", explanation="80 railcars ..."),
        _other(explanation="no usable image for 61 days"),
    )
    assert back.changed_since_ack == 1  # retired, raised again with other words
    assert _read(db, other)["metrics"][MARK]["explanation"] == "no usable image for 60 days"


def _other(explanation: str = "no usable image for 60 days") -> AlertValue:
    return AlertValue(
        key="quality:all:2024-03-02",
        kind="quality",
        severity="low",
        when=datetime(2024, 3, 2, tzinfo=UTC),
        cls="all",
        value=60.0,
        explanation=explanation,
        metrics={"days": 60.0},
    )


def _acknowledged_other(db: Database) -> int:
    _store(db, _spike(80.0, severity="high", explanation="80 railcars ..."), _other())
    with db.session() as s:
        alert_id = next(a.id for a in repo.list_alerts(s, "tum") if a.kind == "quality")
        repo.acknowledge_alert(s, alert_id, "clouds")
    return alert_id


def test_analyze_site_reports_the_count(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from railwatch.analysis import store

    alert_id = _acknowledged(db)
    monkeypatch.setattr(store, "analyze_series", lambda *a, **k: [RECOUNTED])
    with db.session() as s:
        result = store.analyze_site(s, "tum")
    assert (result.updated, result.changed_since_ack) == (1, 1)
    with db.session() as s:
        assert store.analyze_site(s, "tum").changed_since_ack == 0
        assert store.analyze_site(s, "tum", store=False).changed_since_ack == 0
    assert _read(db, alert_id)["metrics"][MARK]["value"] == 40.0


def test_railwatch_alerts_json_shows_the_mark(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from railwatch.cli.main import main

    db = Database(tmp_db_url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    _acknowledged(db)
    _store(db, RECOUNTED)
    db.dispose()
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "alerts", "tum", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["acknowledged"] and row["value"] == 31.0
    assert row["metrics"][MARK]["value"] == 40.0


def test_a_scene_review_under_an_acknowledged_spike_is_reported(db: Database) -> None:
    """The reported case end to end: stored counts, analyze, acknowledge, a scene review
    lowering the spike's count, analyze again (and once more: nothing to report)."""
    from datetime import timedelta

    from shapely.geometry import box

    from railwatch.analysis.store import analyze_site
    from railwatch.sites import SiteSpec
    from report_db import (
        CRS,
        IMG_H_M,
        IMG_W_M,
        SITE_UTM,
        X0,
        Y0,
        FakeCount,
        FakeInfo,
        FakeQuality,
        to_wgs84,
    )

    scene_ids = []
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        for n, c in enumerate([10, 12, 9, 11, 10, 13, 11, 10, 12, 11, 40]):
            info = FakeInfo(
                uri=f"/imagery/yard_{n}.tif",
                content_hash=f"{n + 1:064d}",
                acquired=datetime(2023, 6, 1, 2, tzinfo=UTC) + timedelta(days=7 * n),
                crs=CRS,
                footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
                gsd=0.5,
                width=800,
                height=400,
                metadata={},
            )
            scene, _ = repo.add_scene(s, site, info, 1.0)
            count = FakeCount(c, c * 0.9, c * 1.1, {}, 0)
            repo.record_scene_result(s, scene.id, FakeQuality(0.97), [], count, "default", "2.8")
            scene_ids.append(scene.id)
    as_of = datetime(2023, 9, 1, tzinfo=UTC)
    with db.session() as s:
        analyze_site(s, "yard", as_of=as_of)
        (spike,) = [a for a in repo.list_alerts(s, "yard") if a.kind == "spike"]
        assert spike.value == 40.0
        repo.acknowledge_alert(s, spike.id, "a train in the sidings")
    with db.session() as s:
        repo.set_scene_review(s, scene_ids[-1], {"all": 36})
    with db.session() as s:
        result = analyze_site(s, "yard", as_of=as_of)
    assert (result.reopened, result.changed_since_ack) == (0, 1)
    a = _read(db, spike.id)
    assert a["acknowledged"] and a["value"] == 36.0
    assert a["metrics"][MARK]["value"] == 40.0
    with db.session() as s:
        again = analyze_site(s, "yard", as_of=as_of)
    assert (again.updated, again.changed_since_ack) == (0, 0)
    assert _read(db, spike.id) == a
