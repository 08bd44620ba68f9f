"""One alert dict for the CLI, the web API and the Python API (session 36).

``railwatch alerts --json``, the API's alerts and ``railwatch.site_alerts`` each built
an alert's dict themselves; :func:`railwatch.storage.serialize.alert_dict`, which two of
them started from, lacked ``day``, ``reviewed`` and ``changed_since_ack``. It now gives
every member and the three call it: the CLI dropped ``created_at`` until session 48,
and gives ``updated_at`` beside it since.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

import railwatch
from railwatch.analysis.events import alert_day
from railwatch.analysis.store import site_utc_offset
from railwatch.analysis.types import Alert
from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.serialize import alert_dict, changed_since_ack

SITE = "tumangang-s36"
#: 130.6°E: nominal UTC+9, so 20:00 UTC is the next day at the site
WHEN = datetime(2023, 10, 4, 20, 0, tzinfo=UTC)
LOCAL_DAY = "2023-10-05"

#: every member, in the order the API (and railwatch.site_alerts) gives them
MEMBERS = [
    "id",
    "version",
    "site",
    "key",
    "kind",
    "severity",
    "when",
    "class",  # since 2026-12-06, session 38, with cls beside it
    "cls",
    "value",
    "explanation",
    "metrics",
    "event_label",
    "event_days",
    "scene_id",
    "active",
    "acknowledged",
    "ack_note",
    "ack_at",
    "created_at",
    "updated_at",  # since 2026-12-07 (session 48)
    "day",
    "reviewed",
    "changed_since_ack",
]
#: the CLI's order (cli/alerts.py since session 36); created_at and updated_at since
#: session 48
CLI_MEMBERS = [
    "id",
    "version",
    "site",
    "key",
    "kind",
    "severity",
    "when",
    "day",
    "class",  # since 2026-12-06, session 38, with cls beside it
    "cls",
    "value",
    "explanation",
    "metrics",
    "reviewed",
    "event_label",
    "event_days",
    "scene_id",
    "active",
    "acknowledged",
    "ack_note",
    "ack_at",
    "created_at",  # with updated_at, since 2026-12-07 (session 48)
    "updated_at",
    "changed_since_ack",
]


def _alerts(value: float) -> list[Alert]:
    return [
        Alert(
            key="record-all-2023-10-05",
            kind="record",
            severity="high",
            when=WHEN,
            cls="all",
            value=value,
            explanation=f"{value:.0f} railcars: a record (an analyst's count).",
            metrics={"record": 7.0, "reviewed": True},
        ),
        Alert(
            key="spike-tank-2023-10-05",
            kind="spike",
            severity="low",
            when=WHEN,
            cls="tank",
            value=4.0,
            explanation="4 tank cars: a spike.",
            metrics={"baseline": 1.0},
        ),
    ]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A site with two alerts: one judged on an analyst's count, acknowledged, then
    raised again with another count (changed since acknowledged); one plain."""
    database = Database(f"sqlite:///{tmp_path / 'alerts.db'}")
    with database.session() as s:
        repo.add_site(s, SiteSpec(name=SITE, geometry=box(130.6, 42.4, 130.61, 42.41)))
        repo.replace_alerts(s, SITE, _alerts(18.0))
    with database.session() as s:
        first = next(a for a in repo.list_alerts(s, SITE) if a.cls == "all")
        repo.acknowledge_alert(s, first.id, "a train in the sidings")
    with database.session() as s:
        repo.replace_alerts(s, SITE, _alerts(21.0))
    yield database
    database.dispose()


def _stored(db: Database) -> list[dict[str, Any]]:
    """alert_dict of each stored alert with its day at the site, newest first."""
    with db.session(readonly=True) as s:
        rows = repo.list_alerts(s, SITE)
        return [alert_dict(a, alert_day(a.when, site_utc_offset(a.site))) for a in rows]


def test_alert_dict_gives_every_member(db: Database) -> None:
    every = _stored(db)
    assert [list(a) for a in every] == [MEMBERS, MEMBERS]
    by_cls = {a["cls"]: a for a in every}
    record, spike = by_cls["all"], by_cls["tank"]
    assert record["day"] == spike["day"] == LOCAL_DAY  # not the UTC day 2023-10-04
    assert record["reviewed"] is True and spike["reviewed"] is False
    assert record["changed_since_ack"]["value"] == 18.0  # what was acknowledged
    assert record["changed_since_ack"] == record["metrics"]["changed_since_ack"]
    assert spike["changed_since_ack"] is None
    with db.session(readonly=True) as s:
        a = next(a for a in repo.list_alerts(s, SITE) if a.cls == "all")
        assert alert_dict(a)["day"] is None
        assert alert_dict(a, date(2023, 10, 5))["day"] == alert_dict(a, LOCAL_DAY)["day"]
        assert changed_since_ack(a.metrics) == record["changed_since_ack"]
    assert changed_since_ack({"changed_since_ack": "not a mark"}) is None
    assert changed_since_ack(None) is None


def test_the_cli_and_the_python_api_give_alert_dict(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    every = json.loads(json.dumps(_stored(db)))
    monkeypatch.setenv("RAILWATCH_DB", db.url)
    assert main(["alerts", SITE, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert [list(a) for a in cli] == [CLI_MEMBERS, CLI_MEMBERS]
    assert cli == [{k: a[k] for k in CLI_MEMBERS} for a in every]

    mine = railwatch.site_alerts(db, SITE)
    assert [list(a) for a in mine] == [MEMBERS, MEMBERS]
    assert json.loads(json.dumps(mine)) == every

    record = next(a for a in every if a["cls"] == "all")
    assert main(["alert", "ack", str(record["id"]), "--note", "21 ok", "--json"]) == 0
    acked = json.loads(capsys.readouterr().out)
    assert list(acked) == CLI_MEMBERS
    assert acked["changed_since_ack"] is None and acked["reviewed"] is True
    now = next(a for a in _stored(db) if a["cls"] == "all")
    assert acked == {k: json.loads(json.dumps(now))[k] for k in CLI_MEMBERS}


def test_the_web_api_gives_alert_dict(db: Database, tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    client = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))
    every = json.loads(json.dumps(_stored(db)))
    for url in (f"/api/sites/{SITE}/alerts", f"/api/alerts?site={SITE}", "/api/alerts"):
        items = client.get(url).json()["items"]
        assert [list(a) for a in items] == [MEMBERS, MEMBERS], url
        assert items == every, url
    one = client.get(f"/api/alerts/{every[0]['id']}").json()
    assert one == every[0]
