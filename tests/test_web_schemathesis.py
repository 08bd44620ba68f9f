"""Property-based API testing: schemathesis drives every operation of the OpenAPI
document (reads open, writes with the token) against a populated database and
checks that no request produces a server error (5xx)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from railwatch.settings import Settings  # noqa: E402
from railwatch.storage import Database  # noqa: E402
from railwatch.web.app import create_app  # noqa: E402
from web_db import populate  # noqa: E402

TOKEN = "fuzz-token"

pytestmark = pytest.mark.slow


class EmptyDetector:
    name = "none"
    version = "0"

    def detect(self, image: Any, gsd: float, valid: Any = None) -> list[Any]:
        return []


def test_no_server_errors(tmp_path: Path) -> None:
    from hypothesis import given

    db = Database(f"sqlite:///{tmp_path / 'fuzz.db'}")
    ids = populate(db, tmp_path / "img")
    real = {
        "site": ids["site"],
        "scene_id": ids["scene_ids"][4],
        "alert_id": ids["alert_id"],
        "event_id": ids["event_id"],
    }
    calls = [0]
    cfg = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    app = create_app(cfg, db, detector_factory=EmptyDetector)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    failures: list[str] = []
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/sites/{site}/reports" and operation.method.upper() == "POST":
            continue  # report generation draws charts and chips (seconds each)
        tested += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            calls[0] += 1
            if case.method.upper() != "DELETE" and calls[0] % 2 == 0:
                # every other case names existing objects, so that queries and bodies
                # reach the code behind the lookups, not only the 404 answers
                for key, value in real.items():
                    if key in (case.path_parameters or {}):
                        case.path_parameters[key] = value
            response = case.call(headers=auth)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:200]}"
                )

        run()
    app.state.jobs.wait()  # jobs the fuzzer started finish before the database goes
    assert tested >= 20
    assert calls[0] > tested * 5
    assert failures == []
