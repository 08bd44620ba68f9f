"""A background job's ``result`` says what its analysis did to the alerts (session 29).

``POST /api/sites/{site}/jobs`` processes the site, then analyses it as
``POST /api/sites/{site}/analyze`` does; since bc64391 that endpoint answers
``created``/``unchanged``/``updated``/``removed``/``retired``/``reopened``, but a job's
``result`` still gave only the ``alerts`` total: a job that reopened an acknowledged
alert (raised again at a higher severity) did not say so.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import update

import railwatch.pipeline
from railwatch.pipeline import ProcessSummary
from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.storage.models import Alert
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "s29b-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, Any]:
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    ids["settings"], ids["db"] = settings, db
    return ids


def _finished(c: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60  # a bound on the wait, not a measure
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['status']} after 60 s")


def test_a_jobs_result_says_which_acknowledged_alerts_its_analysis_reopened(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, db = world["site"], world["db"]

    def nothing_pending(_db: Any, name: str, **_kw: Any) -> ProcessSummary:
        # the images were counted by "test" 1.0: this server's detector would count them
        # again (as unusable: the test images are not real yards) and change the alerts
        return ProcessSummary(site=name, detector="test", version="1.0", skipped=6)

    monkeypatch.setattr(railwatch.pipeline, "process_site", nothing_pending)
    with TestClient(create_app(world["settings"], db)) as c:
        first = c.post(f"/api/sites/{site}/analyze", headers=AUTH).json()
        assert first["created"] > 1
        alerts = c.get(f"/api/sites/{site}/alerts").json()["items"]
        medium = next(a for a in alerts if a["severity"] == "medium")
        ack = c.post(
            f"/api/alerts/{medium['id']}/acknowledge", json={"note": "checked"}, headers=AUTH
        )
        assert ack.status_code == 200 and ack.json()["acknowledged"]
        # acknowledged when it was only low: the job's analysis raises it at medium again
        with db.session() as s:
            s.execute(update(Alert).where(Alert.id == medium["id"]).values(severity="low"))
        r = c.post(f"/api/sites/{site}/jobs", json={}, headers=AUTH)
        assert r.status_code == 202, r.text
        job = _finished(c, r.json()["id"])
        assert job["status"] == "succeeded", job
        result = job["result"]
        assert result["processed"] == 0 and result["skipped"] == 6
        assert result["alerts"] == first["alerts"]
        assert result["reopened"] == 1
        assert result["updated"] == 1
        assert result["unchanged"] == first["created"] - 1
        assert result["created"] == result["removed"] == result["retired"] == 0
        reopened = c.get(f"/api/alerts/{medium['id']}").json()
        assert reopened["severity"] == "medium" and not reopened["acknowledged"]
        assert reopened["ack_note"] == "checked"
