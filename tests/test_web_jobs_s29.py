"""Session 29 audit of the web API's jobs and analysis endpoints: what a job shows of
the file it is working on, and what a re-analysis through the API reports."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from pydantic import SecretStr

import railwatch.pipeline
from railwatch.errors import ImageryError
from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "s29-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

#: A STAC asset's signed URL, as a scene's ``uri`` holds it after ``ingest-stac``.
SIGNED = (
    "https://bucket.blob.core.windows.net/imagery/2023/scene_7.tif"
    "?sv=2021-08-06&se=2026-12-06T10%3A00%3A00Z&sp=r&sig=SECRETSIGNATURE%2Fabc%3D"
)


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, Any]:
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    ids["settings"], ids["db"] = settings, db
    return ids


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        (SIGNED, "scene_7.tif"),
        (r"C:\Users\Jane Doe\imagery\scene_8.tif", "scene_8.tif"),
        ("/home/jane/imagery/scene_9.tif", "scene_9.tif"),
    ],
)
def test_a_running_job_names_its_file_without_a_signed_urls_query_or_folders(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, uri: str, shown: str
) -> None:
    """``current`` was the text after the last ``/``: a signed URL's query string
    (its signature) and a Windows path whole, for every reader of /api/jobs."""
    gate, reached = threading.Event(), threading.Event()

    def held(_db: Any, _site: str, *, on_progress: Any, **_kw: Any) -> Any:
        on_progress(0, 1, uri)  # what process_site says before it reads the image
        reached.set()
        gate.wait(10)
        raise ImageryError("stopped by the test")

    monkeypatch.setattr(railwatch.pipeline, "process_site", held)
    app = create_app(world["settings"], world["db"])
    with TestClient(app) as c:
        r = c.post(f"/api/sites/{world['site']}/jobs", json={}, headers=AUTH)
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        assert reached.wait(10)
        try:
            for reader in ({}, AUTH):
                job = c.get(f"/api/jobs/{job_id}", headers=reader).json()
                assert job["status"] == "running"
                assert job["current"] == shown
                listed = c.get("/api/jobs", headers=reader).json()["items"][0]
                assert listed["current"] == shown
                assert "SECRET" not in str(job) and "Jane" not in str(job)
        finally:
            gate.set()
        for _ in range(100):
            if c.get(f"/api/jobs/{job_id}").json()["status"] != "running":
                break
            time.sleep(0.05)


def test_analysis_through_the_api_says_which_acknowledged_alerts_it_reopened(
    world: dict[str, Any],
) -> None:
    """``railwatch analyze`` says how many acknowledged alerts rose in severity and are
    acknowledged no longer; ``POST /api/sites/{site}/analyze`` gave no ``reopened`` (nor
    ``unchanged``), so a script acknowledging alerts could not tell that it must look
    at them again."""
    from sqlalchemy import update

    from railwatch.storage.models import Alert

    site = world["site"]
    with TestClient(create_app(world["settings"], world["db"])) as c:
        first = c.post(f"/api/sites/{site}/analyze", headers=AUTH).json()
        assert first["created"] > 0 and first["reopened"] == 0
        alerts = c.get(f"/api/sites/{site}/alerts").json()["items"]
        medium = next(a for a in alerts if a["severity"] == "medium")
        ack = c.post(
            f"/api/alerts/{medium['id']}/acknowledge", json={"note": "checked"}, headers=AUTH
        )
        assert ack.status_code == 200 and ack.json()["acknowledged"]
        # acknowledged when it was only low: the next analysis raises it at medium again
        with world["db"].session() as s:
            s.execute(update(Alert).where(Alert.id == medium["id"]).values(severity="low"))
        again = c.post(f"/api/sites/{site}/analyze", headers=AUTH).json()
        assert again["reopened"] == 1
        assert again["updated"] == 1
        assert again["unchanged"] == first["created"] - 1
        assert again["created"] == again["removed"] == 0
        reopened = c.get(f"/api/alerts/{medium['id']}").json()
        assert reopened["severity"] == "medium" and not reopened["acknowledged"]
        assert reopened["ack_note"] == "checked"
