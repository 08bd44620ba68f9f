"""The two 409s of an acknowledgement say which conflict it is in ``error``: the id names
another alert now (``AlertReusedError``), or the alert changed since it was read
(``AlertChangedError``). The first said ``AlreadyExistsError``, a duplicate's name,
until 2026-12-05 (session 34)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "conflict-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_each_conflict_of_an_acknowledgement_is_named(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        ids = populate(db, tmp_path / "img")
        settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "c")
        c = TestClient(create_app(settings, db))
        url = f"/api/alerts/{ids['alert_id']}/acknowledge"
        reused = c.post(url, json={"key": "spike:all:2023-11-02"}, headers=AUTH)
        assert reused.status_code == 409
        assert reused.json()["error"] == "AlertReusedError"
        assert "is now record-all-2023-10-05, not spike:all:2023-11-02" in reused.json()["detail"]
        changed = c.post(url, json={"version": "0" * 16}, headers=AUTH)
        assert changed.status_code == 409 and changed.json()["error"] == "AlertChangedError"
        assert c.get(f"/api/alerts/{ids['alert_id']}").json()["acknowledged"] is False
    finally:
        db.dispose()
