"""``changed_since``: the alerts an analysis stored (raised or changed) at or after an
instant, in SQL for the CLI (``railwatch alerts --changed-since``) and the web API alike
(2026-12-07, session 47: the daily-run walk added the CLI option, filtering in Python;
the API, which a dashboard or a mailer polls, had no way to ask for the new alerts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from sqlalchemy import update

from railwatch.storage import Database, repo
from railwatch.storage.alert_filter import AlertFilter
from railwatch.storage.models import Alert
from test_web_alerts_cli_s33 import _raise_again, world  # noqa: F401  (a fixture)


def _stored_at(db: Database, when: datetime) -> None:
    with db.session() as s:
        s.execute(update(Alert).values(updated_at=when))


def test_the_api_and_the_repo_list_the_alerts_stored_since(
    world: dict[str, Any],  # noqa: F811
) -> None:
    db: Database = world["db"]
    client: TestClient = world["client"]
    site = world["site"]
    long_ago = datetime(2024, 1, 1, 6, 0, tzinfo=UTC)
    _stored_at(db, long_ago)
    poll = "2024-01-02T06:00:00Z"
    url = f"/api/sites/{site}/alerts"
    assert client.get(url).json()["total"] == 1
    r = client.get(url, params={"changed_since": poll})
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 0 and r.json()["items"] == []
    # an analysis raises the alert again with another count: it is listed from then on
    _raise_again(db, site, world["scene_ids"][4], 21.0)
    items = client.get(url, params={"changed_since": poll}).json()["items"]
    assert [a["value"] for a in items] == [21.0]
    assert client.get("/api/alerts", params={"changed_since": poll}).json()["total"] == 1
    with db.session(readonly=True) as s:
        later = datetime.now(UTC) + timedelta(hours=1)
        assert repo.list_alerts(s, site, filters=AlertFilter(changed_since=later)) == []
        assert len(repo.list_alerts(s, site, filters=AlertFilter(changed_since=long_ago))) == 1


def test_a_bad_changed_since_is_a_422_naming_it(world: dict[str, Any]) -> None:  # noqa: F811
    r = world["client"].get("/api/alerts", params={"changed_since": "yesterday"})
    assert r.status_code == 422, r.text
    assert "changed_since" in r.text
