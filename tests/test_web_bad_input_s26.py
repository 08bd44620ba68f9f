"""Session 26 audit of the REST API against a client's misuse: addresses that name
nothing, bodies over the limit, reports asked for a period backwards, and two DELETEs
of a site at once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr

from helpers import live_server
from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "s26-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _world(folder: Path) -> dict[str, Any]:
    db = Database(f"sqlite:///{folder / 'web.db'}")
    ids = populate(db, folder / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=folder / "cache")
    ids["app"] = create_app(settings, db, max_body=4096)
    ids["client"] = TestClient(ids["app"])
    return ids


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, Any]:
    """A world of its own, for a test that changes it (removes its site)."""
    return _world(tmp_path)


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One world for the tests whose request is refused (404, 413, 422): nothing they
    send is stored (it was built anew for each of 5 tests)."""
    return _world(tmp_path_factory.mktemp("web_bad_input"))


def _problem(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    detail = r.json()["detail"]
    assert isinstance(detail, str)
    return detail


@pytest.mark.parametrize("path", ["/api/nothing", "/api/sites/x/nothing", "/nothing"])
def test_an_address_that_names_nothing_says_where_the_endpoints_are(
    refusing: dict[str, Any], path: str
) -> None:
    """The router's 404 said only "Not Found"."""
    detail = _problem(refusing["client"].get(path), 404)
    assert detail.startswith(f"nothing at {path}: ")
    assert "/docs" in detail


def test_a_body_over_the_limit_says_what_to_do(refusing: dict[str, Any]) -> None:
    """The 413 said only "request body is larger than N bytes"."""
    body = {"name": "big", "bbox": [130.6, 42.4, 130.61, 42.41], "description": "x" * 5000}
    detail = _problem(refusing["client"].post("/api/sites", json=body, headers=AUTH), 413)
    assert "limit of 4096 bytes" in detail
    assert "railwatch serve --max-body" in detail


def test_a_report_period_backwards_says_to_swap_the_dates(refusing: dict[str, Any]) -> None:
    r = refusing["client"].post(
        f"/api/sites/{refusing['site']}/reports",
        json={"date_from": "2024-01-01", "date_to": "2023-01-01"},
        headers=AUTH,
    )
    detail = _problem(r, 422)
    assert "date_from 2024-01-01 is after date_to 2023-01-01: swap them" in detail


def test_a_second_delete_of_a_site_at_once_is_a_404_not_a_busy_server(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two DELETEs of a site at once (a double click): the second took the site's
    removal lock while the first held it, and was a 409 "cannot be removed while a
    railwatch run processes it (held by process N)", N the server itself. It now waits
    for the first and is a 404 (the site is gone), and the first removes it whole."""
    import railwatch.pipeline as pipeline

    real = pipeline.removal_lock
    inside, release = threading.Event(), threading.Event()

    @contextmanager
    def held_open(db: Database, site: str) -> Iterator[None]:
        with real(db, site):  # the second DELETE met this lock taken (before the fix)
            if not inside.is_set():
                inside.set()
                release.wait(30)  # the first removal holds it until the test says so
            yield

    def removal_lock(db: Database, site: str) -> AbstractContextManager[None]:
        return held_open(db, site)

    monkeypatch.setattr(pipeline, "removal_lock", removal_lock)
    site = world["site"]
    results: dict[str, httpx.Response] = {}
    with live_server(world["app"]) as url:

        def delete(key: str) -> None:
            results[key] = httpx.delete(f"{url}/api/sites/{site}", headers=AUTH, timeout=60)

        first = threading.Thread(target=delete, args=("first",))
        first.start()
        assert inside.wait(30)
        second = threading.Thread(target=delete, args=("second",))
        second.start()
        second.join(2)  # before the fix it was answered (409) while the first held on
        release.set()
        first.join(60)
        second.join(60)
    assert results["first"].status_code == 200, results["first"].text
    assert results["first"].json()["scenes"] == 6
    detail = _problem(results["second"], 404)
    assert f"no site named {site!r}" in detail


def test_a_failed_jobs_error_does_not_carry_the_database_url(tmp_path: Path) -> None:
    """A job that failed on a database error stored its message, the database's URL
    included, which GET /api/jobs gave to every reader (public reads too); it now stores
    what the API says of such an error, and the server log keeps the whole message."""
    import time as _time

    from railwatch.errors import StorageError
    from railwatch.storage import Database
    from railwatch.web.errors import DATABASE_FAILED
    from railwatch.web.jobs import JobManager

    db = Database(f"sqlite:///{tmp_path / 'j.db'}")
    secret = "database write failed (postgresql+psycopg://railwatch@db-host/secret_db)"

    def factory() -> None:
        raise StorageError(secret)

    jobs = JobManager(db, detector_factory=factory)  # type: ignore[arg-type]
    job = jobs.start("yard")
    deadline = _time.monotonic() + 60  # a bound on the wait, not a measure (was 4 s, s43)
    while jobs.get(job.id).status != "failed" and _time.monotonic() < deadline:
        _time.sleep(0.02)
    failed = jobs.get(job.id)
    assert failed.status == "failed"
    assert failed.error == DATABASE_FAILED
    assert "secret_db" not in json.dumps(failed.as_dict())
    jobs.wait()
    db.dispose()
