"""A report download honours its ETag: ``If-None-Match`` with it is a bodiless 304
(2026-12-05, session 34). The ETag was sent and never honoured: every conditional
request got the whole file again (4 MB for the demo's report)."""

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

TOKEN = "etag-token"


def test_a_report_download_answers_its_etag_with_304(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        ids = populate(db, tmp_path / "img")
        settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "c")
        c = TestClient(create_app(settings, db))
        made = c.post(
            f"/api/sites/{ids['site']}/reports", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert made.status_code == 201, made.text
        link = made.json()["links"]["html"]
        first = c.get(link)
        assert first.status_code == 200 and first.content
        etag = first.headers["etag"]
        again = c.get(link, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        listed = c.get(link, headers={"If-None-Match": f'"other", {etag}'})
        assert listed.status_code == 304
        other = c.get(link, headers={"If-None-Match": '"other"'})
        assert other.status_code == 200 and other.content == first.content
        assert other.headers["content-disposition"] == first.headers["content-disposition"]
    finally:
        db.dispose()
