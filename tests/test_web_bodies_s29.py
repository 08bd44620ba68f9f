"""Session 29: writes whose every field is optional take a request without a body
(``curl -X POST .../acknowledge``), as ``railwatch alert ack ID`` takes no note; a
body that is there is still checked strictly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "s29-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, Any]:
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    ids["client"] = TestClient(create_app(settings, db, report_dir=tmp_path / "reports"))
    return ids


def test_an_alert_is_acknowledged_by_a_post_without_a_body(world: dict[str, Any]) -> None:
    """It was a 422 "body: Field required" though the note and key are optional."""
    c, alert = world["client"], world["alert_id"]
    r = c.post(f"/api/alerts/{alert}/acknowledge", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged"] is True and not r.json()["ack_note"]
    assert c.get(f"/api/alerts/{alert}").json()["acknowledged"] is True
    # a body that is there is read as before: a note added, a wrong key refused
    r = c.post(f"/api/alerts/{alert}/acknowledge", json={"note": "seen"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["ack_note"].endswith("seen")
    r = c.post(f"/api/alerts/{alert}/acknowledge", json={"key": "other"}, headers=AUTH)
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("content", "ctype"),
    [(b"yes", "text/plain"), (b'{"note": 5}', "application/json"), (b"[]", "application/json")],
)
def test_a_body_that_is_not_an_acknowledgement_is_still_refused(
    world: dict[str, Any], content: bytes, ctype: str
) -> None:
    c, alert = world["client"], world["alert_id"]
    r = c.post(
        f"/api/alerts/{alert}/acknowledge",
        content=content,
        headers={**AUTH, "Content-Type": ctype},
    )
    assert r.status_code == 422, r.text
    assert c.get(f"/api/alerts/{alert}").json()["acknowledged"] is False


def test_a_report_is_made_by_a_post_without_a_body(world: dict[str, Any]) -> None:
    """It was a 422 "body: Field required" though the period and pdf are optional."""
    c = world["client"]
    r = c.post(f"/api/sites/{world['site']}/reports", headers=AUTH)
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["formats"] == ["html"] and meta["date_from"] is None
    assert c.get(meta["links"]["html"]).status_code == 200
    r = c.post(f"/api/sites/{world['site']}/reports", json={"pdf": "no"}, headers=AUTH)
    assert r.status_code == 422
