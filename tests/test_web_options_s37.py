"""``OPTIONS`` (2026-12-06, session 37): a 204 whose ``Allow`` lists the methods of the
resource, the same header a 405 of that path sends, for the API's endpoints and the
dashboard's pages and files alike; it was a 405 problem. A path of no resource stays a
404. The app has no CORS setting (it serves no other origin), so a CORS preflight gets
no ``Access-Control-Allow-*`` header and the browser keeps refusing cross-origin
requests. ``Allow`` matches the OpenAPI document as schemathesis's
``allow_header_conformance`` check reads it (its methods; HEAD and OPTIONS besides)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app

TOKEN = "options-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DASHBOARD = ("/", "/sites/x", "/docs", "/openapi.json", "/static/app.css", "/fonts/cjk.otf")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    cfg = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "c")
    try:
        yield TestClient(create_app(cfg, db))
    finally:
        db.dispose()


def _concrete(template: str) -> str:
    """An API path template with a value in each parameter."""
    return re.sub(r"\{[^}]+\}", "1", template)


def test_options_lists_the_methods_the_openapi_document_declares(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert len(spec["paths"]) > 20
    for template, item in spec["paths"].items():
        declared = {m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")}
        r = client.options(_concrete(template))
        assert r.status_code == 204, (template, r.text)
        assert r.content == b""
        allow = r.headers["allow"].split(", ")
        assert allow == sorted(allow)
        assert set(allow) - {"HEAD", "OPTIONS"} == declared, template
        assert ("HEAD" in allow) == ("GET" in declared) and "OPTIONS" in allow, template


def test_options_and_a_405_name_the_same_methods(client: TestClient) -> None:
    """For every path of the API and the dashboard: the 405 of a method none of them
    takes and OPTIONS send one ``Allow``."""
    paths = [_concrete(p) for p in client.get("/openapi.json").json()["paths"]]
    for path in [*paths, *DASHBOARD]:
        options = client.options(path)
        refused = client.request("TRACE", path, headers=AUTH)
        assert options.status_code == 204 and refused.status_code == 405, path
        assert options.headers["allow"] == refused.headers["allow"], path
        assert (
            refused.json()["detail"] == f"TRACE is not allowed here: use {options.headers['allow']}"
        )


def test_the_dashboard_answers_options(client: TestClient) -> None:
    """Pages, static files and the font: GET, HEAD (and OPTIONS); before, static files'
    405 had no Allow at all and the pages' named GET alone."""
    for path in DASHBOARD:
        r = client.options(path)
        assert r.status_code == 204, path
        assert r.headers["allow"] == "GET, HEAD, OPTIONS", path
        assert client.put(path, headers=AUTH).headers["allow"] == "GET, HEAD, OPTIONS", path


def test_options_of_no_resource_is_a_404(client: TestClient) -> None:
    for path in ("/nope", "/api/nope", "/api/sites/x/nope"):
        r = client.options(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
        assert "allow" not in r.headers


def test_a_cors_preflight_is_granted_nothing(client: TestClient) -> None:
    r = client.options(
        "/api/sites",
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert r.status_code == 204
    assert r.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert not [h for h in r.headers if h.lower().startswith("access-control-")]


def test_options_needs_no_token_where_reads_do(tmp_path: Path) -> None:
    """With reads closed, OPTIONS names the methods (those of the public OpenAPI
    document) without the token; GET still needs it."""
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    cfg = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "c")
    try:
        c = TestClient(create_app(cfg, db, open_reads=False))
        assert c.get("/api/sites").status_code == 401
        r = c.options("/api/sites")
        assert r.status_code == 204 and r.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    finally:
        db.dispose()
