"""The web API and dashboard show the "changed since acknowledged" mark (session 30).

Since 32e20ac an acknowledged alert raised again with another count, explanation or
image at the same or a lower severity stays acknowledged, marked
``metrics["changed_since_ack"]`` with what was acknowledged. ``POST
/api/sites/{site}/analyze`` and a job's ``result`` did not count them (``updated`` only),
and the site page showed such an alert as "Acknowledged <date>: note" under its new
count, with no sign and no way to mark it as seen.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import update

import railwatch.pipeline
from railwatch.analysis.types import Alert as AlertValue
from railwatch.pipeline import ProcessSummary
from railwatch.settings import Settings
from railwatch.storage import Database, repo
from railwatch.storage.models import Alert
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "s30-marker-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MARK = "changed_since_ack"


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    ids["settings"], ids["db"] = settings, db
    yield ids
    db.dispose()


def _acknowledged_then_recounted(c: TestClient, world: dict[str, Any]) -> dict[str, Any]:
    """Analyse, acknowledge a medium alert, and make the stored alert say another count
    than the analysis gives (as if acknowledged before a recount): the next analysis
    changes it at the same severity."""
    site, db = world["site"], world["db"]
    first = c.post(f"/api/sites/{site}/analyze", headers=AUTH).json()
    assert first["changed_since_ack"] == 0
    alerts = c.get(f"/api/sites/{site}/alerts").json()["items"]
    medium = next(a for a in alerts if a["severity"] == "medium")
    r = c.post(f"/api/alerts/{medium['id']}/acknowledge", json={"note": "ok"}, headers=AUTH)
    assert r.status_code == 200
    with db.session() as s:
        s.execute(
            update(Alert)
            .where(Alert.id == medium["id"])
            .values(value=(medium["value"] or 0) + 9, explanation="as acknowledged")
        )
    return {**medium, "first": first}


def test_analyze_answers_how_many_acknowledged_alerts_changed(world: dict[str, Any]) -> None:
    site = world["site"]
    with TestClient(create_app(world["settings"], world["db"])) as c:
        medium = _acknowledged_then_recounted(c, world)
        again = c.post(f"/api/sites/{site}/analyze", headers=AUTH).json()
        assert (again["updated"], again["reopened"], again["changed_since_ack"]) == (1, 0, 1)
        alert = c.get(f"/api/alerts/{medium['id']}").json()
        assert alert["acknowledged"] and alert["metrics"][MARK]["explanation"] == "as acknowledged"
        once_more = c.post(f"/api/sites/{site}/analyze", headers=AUTH).json()
        assert (once_more["updated"], once_more["changed_since_ack"]) == (0, 0)


def _finished(c: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60  # a bound on the wait, not a measure
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['status']} after 60 s")


def test_a_jobs_result_counts_the_acknowledged_alerts_that_changed(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = world["site"]

    def nothing_pending(_db: Any, name: str, **_kw: Any) -> ProcessSummary:
        return ProcessSummary(site=name, detector="test", version="1.0", skipped=6)

    monkeypatch.setattr(railwatch.pipeline, "process_site", nothing_pending)
    with TestClient(create_app(world["settings"], world["db"])) as c:
        _acknowledged_then_recounted(c, world)
        r = c.post(f"/api/sites/{site}/jobs", json={}, headers=AUTH)
        assert r.status_code == 202, r.text
        job = _finished(c, r.json()["id"])
        assert job["status"] == "succeeded", job
        result = job["result"]
        assert (result["updated"], result["reopened"], result["changed_since_ack"]) == (1, 0, 1)


# --- the site page (headless Chromium) ------------------------------------------------


@pytest.mark.slow
@pytest.mark.services
def test_the_site_page_shows_the_mark_and_acknowledging_again_clears_it(
    world: dict[str, Any],
) -> None:
    from helpers import chromium, live_server

    db, site, alert_id = world["db"], world["site"], world["alert_id"]
    with db.session() as s:
        repo.acknowledge_alert(s, alert_id, "checked against 38 North")
        # counted again lower (a scene review, new centrelines): same key, same severity
        repo.replace_alerts(
            s,
            site,
            [
                AlertValue(
                    key="record-all-2023-10-05",
                    kind="record",
                    severity="high",
                    when=datetime(2023, 10, 5, 2, 30, tzinfo=UTC),
                    cls="all",
                    value=16.0,
                    explanation="16 railcars: 2.3x the record of 7 over the previous year.",
                    metrics={"record": 7.0},
                    scene_id=world["scene_ids"][4],
                )
            ],
        )
        assert MARK in repo.get_alert(s, alert_id).metrics
    with live_server(create_app(world["settings"], db)) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.context.set_extra_http_headers(AUTH)
        page.goto(f"{url}/sites/{site}")
        page.wait_for_selector("body[data-ready='1']")
        box = page.locator(f".alert[data-alert='{alert_id}']")
        assert "16 railcars" in box.locator(".expl").inner_text()
        assert box.locator(".acked-note").inner_text().endswith(": checked against 38 North")
        assert (
            box.locator(".changed-since").inner_text()
            == "changed since acknowledged: was 18 (high)"
        )
        button = box.locator("button.ack")
        assert button.inner_text() == "Acknowledge again"
        button.click()  # no note: "I have seen what it says now"
        page.locator(f".alert[data-alert='{alert_id}'] .changed-since").wait_for(state="detached")
        assert page.locator(f".alert[data-alert='{alert_id}'] button.ack").count() == 0
        assert errors == []
        page.close()
    with db.session() as s:
        a = repo.get_alert(s, alert_id)
        assert a.acknowledged and MARK not in a.metrics
        assert a.ack_note == "checked against 38 North"
