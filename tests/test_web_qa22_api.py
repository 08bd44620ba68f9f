"""Session 22 QA of the REST API: bugs found by a user and an attacker, each with the
test that would have caught it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app

TOKEN = "qa22-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def empty_app(tmp_path: Path) -> TestClient:
    db = Database(f"sqlite:///{tmp_path / 'qa22.db'}")
    cfg = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    return TestClient(create_app(cfg, db), raise_server_exceptions=False)


def test_lists_of_a_site_named_in_another_script_are_served(empty_app: TestClient) -> None:
    """Site names may be in any script; every list under such a site's path was a 500
    (its Link header held the decoded path, and a header is Latin-1)."""
    c = empty_app
    name = "Туманган"
    bbox = [130.6, 42.4, 130.62, 42.42]
    r = c.post("/api/sites", headers=AUTH, json={"name": name, "bbox": bbox})
    assert r.status_code == 201, r.text
    r = c.post(f"/api/sites/{name}/events", headers=AUTH, json={"date": "2023-09-13", "label": "x"})
    assert r.status_code == 201, r.text
    encoded = "%D0%A2%D1%83%D0%BC%D0%B0%D0%BD%D0%B3%D0%B0%D0%BD"
    for path in ("scenes", "events", "alerts", "counts", "counts?format=csv"):
        r = c.get(f"/api/sites/{name}/{path}")
        assert r.status_code == 200, (path, r.text)
        link = r.headers["link"]
        assert link.isascii()
        assert f"/api/sites/{encoded}/{path.split('?')[0]}?" in link
    assert c.get(f"/api/sites/{name}/events").json()["items"][0]["label"] == "x"
    # following the Link header leads back to the same list
    first = c.get(f"/api/sites/{name}/events?limit=1").headers["link"].split(">")[0][1:]
    assert c.get(first).json()["total"] == 1
    disposition = c.get(f"/api/sites/{name}/counts?format=csv").headers["content-disposition"]
    assert disposition.endswith(f"filename*=utf-8''{encoded}-all-counts.csv")
