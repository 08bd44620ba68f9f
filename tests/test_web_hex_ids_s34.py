"""A report or job id that is not 32 hex digits says what an id is and where they are
listed (2026-12-05, session 34); it said only pydantic's "String should match pattern
'^[0-9a-f]{32}$'"."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/api/jobs/1", "POST /api/sites/{site}/jobs answered; the jobs are listed at /api/jobs"),
        (
            "/api/reports/tumangang-report",
            "POST /api/sites/{site}/reports answered; the reports are listed at /api/reports",
        ),
        ("/api/reports/ABC/html", "the reports are listed at /api/reports"),
    ],
)
def test_a_malformed_id_says_what_an_id_is(tmp_path: Path, path: str, words: str) -> None:
    db = Database(f"sqlite:///{tmp_path / 'ids.db'}")
    try:
        c = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))
        r = c.get(path)
        assert r.status_code == 422
        detail = r.json()["detail"]
        given = path.split("/")[3]
        assert f"{given!r} is no id here" in detail, detail
        assert "32 hex digits" in detail and words in detail, detail
        assert "should match pattern" not in detail
        # a well-formed id that names nothing is still a 404
        assert c.get("/api/jobs/" + "0" * 32).status_code == 404
    finally:
        db.dispose()


def test_an_unknown_job_says_a_restart_forgets_jobs(tmp_path: Path) -> None:
    """Jobs live in the server's memory; a script polling a job across a restart got
    "no job with id ...: list them at /api/jobs" and could not tell why."""
    db = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    try:
        c = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))
        r = c.get("/api/jobs/" + "0" * 32)
        assert r.status_code == 404
        assert "a restart of the server forgets them" in r.json()["detail"]
    finally:
        db.dispose()
