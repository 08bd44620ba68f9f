"""The API's alerts say what ``railwatch alerts --json`` says of them (session 33).

The CLI's JSON gives each alert ``reviewed`` (judged on an analyst's count) and
``changed_since_ack`` (what was acknowledged, when the alert says something else
since); the API left both out (they sat in ``metrics`` only), so a client reading one
and the other saw different shapes of the same alert. Every other member agreed and
still does; the API adds ``created_at``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.analysis.types import Alert
from railwatch.cli.main import main
from railwatch.settings import Settings
from railwatch.storage import Database, repo
from railwatch.web.app import create_app
from web_db import ALERT_DAY, populate

TOKEN = "s33-alerts-" + "x" * 24
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    yield {**ids, "db": db, "client": TestClient(create_app(settings, db))}
    db.dispose()


def _raise_again(db: Database, site: str, scene_id: int, value: float) -> None:
    """web_db's record alert raised again with another count, on an analyst's count."""
    with db.session() as s:
        repo.replace_alerts(
            s,
            site,
            [
                Alert(
                    key="record-all-2023-10-05",
                    kind="record",
                    severity="high",
                    when=datetime(
                        ALERT_DAY.year, ALERT_DAY.month, ALERT_DAY.day, 2, 30, tzinfo=UTC
                    ),
                    cls="all",
                    value=value,
                    explanation=f"{value:.0f} railcars: a record (an analyst's count).",
                    metrics={"record": 7.0, "reviewed": True},
                    scene_id=scene_id,
                )
            ],
        )


def test_api_alerts_have_the_members_and_values_of_the_cli_json(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client: TestClient = world["client"]
    site, alert_id = world["site"], world["alert_id"]
    r = client.post(f"/api/alerts/{alert_id}/acknowledge", json={"note": "seen"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["reviewed"] is False and r.json()["changed_since_ack"] is None
    _raise_again(world["db"], site, world["scene_ids"][4], 21.0)

    monkeypatch.setenv("RAILWATCH_DB", world["db"].url)
    assert main(["alerts", site, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert len(cli) == 1
    assert cli[0]["reviewed"] is True
    assert cli[0]["changed_since_ack"]["value"] == 18.0  # what was acknowledged

    for url in (f"/api/sites/{site}/alerts", f"/api/alerts?site={site}"):
        api = client.get(url).json()["items"]
        assert len(api) == 1
        assert api[0] == cli[0], url
    one = client.get(f"/api/alerts/{alert_id}").json()
    assert one["reviewed"] is True
    assert one["changed_since_ack"] == cli[0]["changed_since_ack"]

    # acknowledged again: the mark is gone from both
    r = client.post(f"/api/alerts/{alert_id}/acknowledge", json={"note": "21 ok"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["changed_since_ack"] is None and r.json()["reviewed"] is True
