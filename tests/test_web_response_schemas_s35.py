"""Every JSON answer of the API matches the response schema ``/openapi.json`` declares
for it (2026-12-06, session 35: the JSON endpoints declared ``dict[str, Any]``, "an
object", so the document told a client nothing of what it gets).

The answers of a seeded database (``web_db.populate``: reads with and without the
token, and the writes) are validated with ``jsonschema_rs`` against the operation's
declared schema, with every object's undeclared members refused, so that a member a
route adds without declaring it in :mod:`railwatch.web.schemas` fails here. A second
test checks that no JSON operation is left declaring a bare object.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
import jsonschema_rs
from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from railwatch.web.query import operation_path
from web_db import populate

TOKEN = "schema-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class NoCarDetector:
    name = "none"
    version = "0"

    def detect(self, image: Any, gsd: float, valid: Any = None) -> list[Any]:
        return []


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("schemas-s35")
    db = Database(f"sqlite:///{tmp / 'w.db'}")
    ids = populate(db, tmp / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    app = create_app(settings, db, detector_factory=NoCarDetector)
    with TestClient(app) as client:
        yield {**ids, "client": client, "app": app}
    db.dispose()


def _closed(schema: Any) -> Any:
    """``schema`` with ``additionalProperties: false`` on every object that declares its
    properties (the models allow others at run time, so that nothing is dropped)."""
    if isinstance(schema, dict):
        out = {k: _closed(v) for k, v in schema.items()}
        if "properties" in out and out.get("additionalProperties", True) is True:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_closed(v) for v in schema]
    return schema


def _schema(spec: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    template = operation_path(spec, path, re.sub(r"^/api", "", path))
    if template is None:  # a route's own template (/api/sites/{site}) ends the path
        template = next(
            t
            for t in spec["paths"]
            if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), path) is not None
        )
    responses = spec["paths"][template][method.lower()]["responses"]
    content = responses[str(status)]["content"]["application/json"]
    schema = content["schema"]
    assert schema, f"{method} {template} {status} declares no JSON schema"
    return {**schema, "components": spec["components"]}


def _requests(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], bool]]:
    site, sc, al, ev = w["site"], w["scene_ids"], w["alert_id"], w["event_id"]
    reads = [
        "/api/sites",
        f"/api/sites/{site}",
        f"/api/sites/{site}/scenes",
        f"/api/sites/{site}/scenes?footprint=true&limit=2",
        *(f"/api/scenes/{s}" for s in sc),
        *(f"/api/scenes/{s}/quality" for s in sc),
        f"/api/sites/{site}/to-review",
        f"/api/sites/{site}/counts",
        f"/api/sites/{site}/counts?class=tank",
        "/api/alerts",
        "/api/alerts?active_only=false&min_severity=high&kind=record",
        f"/api/sites/{site}/alerts",
        f"/api/alerts/{al}",
        f"/api/sites/{site}/events",
        f"/api/events/{ev}",
        "/api/reports",
        "/api/jobs",
        "/api/session",
        "/api/health",
    ]
    out: list[tuple[str, str, dict[str, Any], bool]] = []
    for auth in (True, False):
        out += [("GET", u, {}, auth) for u in reads]
    out += [
        ("POST", f"/api/alerts/{al}/acknowledge", {"json": {"note": "seen"}}, True),
        ("GET", f"/api/alerts/{al}", {}, True),
        ("POST", f"/api/sites/{site}/events", {"json": {"date": "2023-10-01", "label": "x"}}, True),
        (
            "PUT",
            f"/api/scenes/{sc[4]}/review",
            {"json": {"counts": {"all": 21, "boxcar": 9}}},
            True,
        ),
        ("GET", f"/api/scenes/{sc[4]}/review", {}, True),
        ("GET", f"/api/scenes/{sc[4]}", {}, True),
        ("GET", f"/api/sites/{site}/counts", {}, True),
        ("DELETE", f"/api/scenes/{sc[4]}/review", {}, True),
        ("POST", f"/api/sites/{site}/analyze", {"json": {}}, True),
        ("GET", "/api/alerts?active_only=false", {}, True),
        (
            "POST",
            "/api/sites",
            {"json": {"name": "extra", "bbox": [130.6, 42.41, 130.61, 42.42]}},
            True,
        ),
        ("PATCH", "/api/sites/extra", {"json": {"description": "d", "tags": ["a"]}}, True),
        ("GET", "/api/sites", {}, True),
        ("DELETE", "/api/sites/extra", {}, True),
        ("POST", f"/api/sites/{site}/jobs", {"json": {}}, True),
        ("GET", "/api/jobs", {}, True),
        ("POST", "/api/session", {"json": {"token": TOKEN}}, False),
    ]
    return out


def test_every_json_answer_matches_its_declared_schema(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    spec = _closed(copy.deepcopy(world["app"].openapi()))
    checked = 0
    failures: list[str] = []
    for method, url, kw, auth in _requests(world):
        r = c.request(method, url, headers=AUTH if auth else {}, **kw)
        assert r.status_code < 300, (method, url, r.status_code, r.text)
        path = url.split("?")[0]
        schema = _schema(spec, method, path, r.status_code)
        errors = [
            f"{method} {url}: {e.message} at {list(e.instance_path)}"
            for e in jsonschema_rs.validator_for(schema).iter_errors(r.json())
        ]
        failures += errors[:3]
        checked += 1
    # the job started above, then its answer when it ends
    job = c.get("/api/jobs", headers=AUTH).json()["items"][0]
    deadline = time.monotonic() + 60  # a bound on the wait, not a measure (was 10 s, s43)
    while True:
        done = c.get(f"/api/jobs/{job['id']}", headers=AUTH)
        if done.json()["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    schema = _schema(spec, "GET", f"/api/jobs/{job['id']}", 200)
    failures += [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(done.json())]
    assert not failures, "\n".join(failures)
    assert checked > 60


def test_no_json_operation_declares_a_bare_object(world: dict[str, Any]) -> None:
    """Every answer in JSON names its schema (a component), none "any object"."""
    spec = world["app"].openapi()
    bare = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status, answer in op.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if schema is not None and "$ref" not in schema:
                    bare.append(f"{method.upper()} {path} {status}: {schema}")
    assert not bare, "\n".join(bare)


def test_the_list_envelope_and_an_alert_are_spelled_out(world: dict[str, Any]) -> None:
    spec = world["app"].openapi()
    ok = spec["paths"]["/api/alerts"]["get"]["responses"]["200"]["content"]["application/json"]
    page = spec["components"]["schemas"][ok["schema"]["$ref"].rsplit("/", 1)[1]]
    assert list(page["properties"]) == ["items", "total", "limit", "offset"]
    alert = spec["components"]["schemas"]["Alert"]
    assert alert["required"][:4] == ["id", "version", "site", "key"]
    assert {"day", "reviewed", "changed_since_ack"} <= set(alert["required"])
