"""The OpenAPI document (and /docs) declares the headers the API sends: ``X-Total-Count``
and ``Link`` on every list, ``Location`` on every 201 and 202 (2026-12-05, session 34).
docs/web.md promised them; a client reading /openapi.json or /docs learnt of neither."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "headers-token"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("headers-s34")
    db = Database(f"sqlite:///{tmp / 'h.db'}")
    ids = populate(db, tmp / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    yield {**ids, "client": TestClient(create_app(settings, db))}
    db.dispose()


def test_every_list_declares_and_sends_its_page_headers(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    spec = c.get("/openapi.json").json()
    values = {"site": world["site"], "scene_id": str(world["scene_ids"][4])}
    lists = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            if not {"limit", "offset"} <= query:
                continue
            ok = next(code for code in op["responses"] if code.startswith("2"))
            declared = op["responses"][ok].get("headers", {})
            assert {"X-Total-Count", "Link"} <= set(declared), (method, path)
            assert declared["X-Total-Count"]["schema"] == {"type": "integer"}
            lists.append((method, path))
            # and the answer carries them
            url = path.format(**values)
            r = c.request(method.upper(), url, params={"limit": 1})
            assert r.status_code == 200, (url, r.text)
            assert r.headers["x-total-count"].isdigit(), url
            assert 'rel="first"' in r.headers["link"], url
    assert ("get", "/api/sites/{site}/alerts") in lists and len(lists) >= 10


def test_created_resources_declare_and_send_their_location(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    spec = c.get("/openapi.json").json()
    created = [
        (method, path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if {"201", "202"} & set(op["responses"])
    ]
    assert ("post", "/api/sites/{site}/events") in created
    for method, path in created:
        op = spec["paths"][path][method]
        for code in {"201", "202"} & set(op["responses"]):
            assert "Location" in op["responses"][code].get("headers", {}), (method, path)
    r = c.post(
        f"/api/sites/{world['site']}/events",
        json={"date": "2024-01-01", "label": "new siding"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert r.status_code == 201 and r.headers["location"] == f"/api/events/{r.json()['id']}"
    # a single resource declares none of them
    one = spec["paths"]["/api/scenes/{scene_id}"]["get"]["responses"]["200"]
    assert "headers" not in one
    # /docs says so
    page = c.get("/docs").text
    assert "(headers: X-Total-Count, Link)" in page and "(headers: Location)" in page


def test_the_documents_top_says_what_a_script_needs_first(world: dict[str, Any]) -> None:
    """Paging, errors and days were said in docs/web.md only; the top of /docs and
    /openapi.json said only who may read and write."""
    c: TestClient = world["client"]
    about = c.get("/openapi.json").json()["info"]["description"]
    for words in (
        "`limit` and `offset`",
        "`X-Total-Count`",
        "`Link`",
        "application/problem+json",
        "`day` is the local day at the site",
        "is a 422",
    ):
        assert words in about, words
    assert "X-Total-Count" in c.get("/docs").text.split("<h2>")[0]
