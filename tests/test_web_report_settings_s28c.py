"""A report made by the web app uses the app's own settings (session 28).

``POST /api/sites/{site}/reports`` called ``build_report`` without a usable threshold,
so ``build_report_data`` read the environment's settings again: an app created with
explicit settings (``create_app(Settings(usable_threshold=...))``) wrote the
environment's threshold into its reports, and with a bad ``RAILWATCH_*`` variable every
web report failed with an internal error (500)."""

from __future__ import annotations

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

TOKEN = "s3cret-token-for-s28c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
THRESHOLD = 0.65  # not the default 0.8


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("web_report_settings_s28c")
    db = Database(f"sqlite:///{tmp / 'web.db'}")
    ids = populate(db, tmp / "img")
    settings = Settings(
        db=db.url,
        api_token=SecretStr(TOKEN),
        cache_dir=tmp / "cache",
        usable_threshold=THRESHOLD,
    )
    ids["client"] = TestClient(create_app(settings, db))
    return ids


def _report_html(world: dict[str, Any]) -> str:
    client: TestClient = world["client"]
    r = client.post(f"/api/sites/{world['site']}/reports", json={}, headers=AUTH)
    assert r.status_code == 201, r.text
    html = client.get(r.json()["links"]["html"])
    assert html.status_code == 200
    return " ".join(html.text.split())


def test_the_report_states_the_apps_own_threshold(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAILWATCH_USABLE_THRESHOLD", "0.9")  # the environment's: not used
    text = _report_html(world)
    assert f"clear fraction of the site &gt;= {THRESHOLD:g}" in text
    assert "clear fraction of the site &gt;= 0.9" not in text


def test_a_bad_environment_variable_does_not_break_a_web_report(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAILWATCH_USABLE_THRESHOLD", "lots")  # refused by Settings()
    text = _report_html(world)
    assert f"clear fraction of the site &gt;= {THRESHOLD:g}" in text
