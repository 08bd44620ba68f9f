"""``POST /api/sites/{site}/analyze`` refuses a body it does not know (session 33).

It took no body and ignored any sent, ``{"x": 1}`` or ``[1]`` too, answering 200 as if
asked plainly, where every other endpoint refuses a field it does not know with a 422
naming it (``POST /api/sites/{site}/jobs`` among them). No body, or an empty object, is
fine, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

TOKEN = "s33-analyze-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
URL = "/api/sites/tum/analyze"


@pytest.fixture
def client(tmp_db_url: str, tmp_path: Path) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db = Database(tmp_db_url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox("tum", "130.60,42.28,130.63,42.30"))
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    with TestClient(create_app(settings, db)) as c:
        yield c
    db.dispose()


def test_an_unknown_field_is_refused_by_name(client: Any) -> None:
    r = client.post(URL, headers=AUTH, json={"x": 1})
    assert r.status_code == 422, r.text
    # (session 34: the members it takes named; it said "Extra inputs are not permitted")
    assert r.json()["detail"] == (
        "invalid request: body.x: this body takes no member 'x': it takes none "
        "(send no body, or {})"
    )
    # as the jobs endpoint answers the same body, naming what it takes
    jobs = client.post("/api/sites/tum/jobs", headers=AUTH, json={"x": 1})
    assert jobs.status_code == 422
    assert jobs.json()["detail"] == (
        "invalid request: body.x: this body takes no member 'x': it takes reprocess (see /docs)"
    )
    # no body, an empty object, an empty JSON body: analysed
    empty = {**AUTH, "Content-Type": "application/json"}
    for answer in (
        client.post(URL, headers=AUTH),
        client.post(URL, headers=AUTH, json={}),
        client.post(URL, headers=empty, content=b""),
    ):
        assert answer.status_code == 200, answer.text
        assert answer.json()["site"] == "tum"


@pytest.mark.parametrize("body", [[1], "x", 3, True])
def test_a_body_that_is_no_object_is_refused(client: Any, body: Any) -> None:
    r = client.post(URL, headers=AUTH, json=body)
    assert r.status_code == 422, r.text
    assert "valid dictionary or object" in r.json()["detail"]
