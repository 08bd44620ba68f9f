"""The REST API as a client developer meets it (2026-12-06, session 36): bad input
sent the way a script or a generated client sends it.

What it found, each fixed in the web layer and checked here:

* ``PATCH /api/sites/{site}`` with ``{"description": null}`` or ``{"tags": null}``, and
  ``PATCH /api/events/{id}`` with ``date``, ``label`` or ``description`` null, answered
  200 and changed nothing (null was read as left out), where the same body's
  ``"tracks": null`` removes the tracks: a client clearing a member saw it succeed. Null
  is now a 422 saying what to send (``""``, ``[]``, or leave the member out), and the
  OpenAPI document no longer declares those members nullable.
* ``/api/scenes/{id}/detections?class=all&class=spaceship`` was a 200 of every car: a
  class that is no class was passed over beside ``all`` (alone it is a 422).
* A ``PATCH`` or ``POST`` sent without a body said ``body: Field required``.
* ``?limit=5000`` said only ``Input should be less than or equal to 1000``, not how to
  read the rest of the list.
"""

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

TOKEN = "client-audit-s36"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("client-audit-s36")
    db = Database(f"sqlite:///{tmp / 'w.db'}")
    ids = populate(db, tmp / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    app = create_app(settings, db)
    with TestClient(app) as client:
        r = client.post(
            "/api/sites",
            json={
                "name": "audit",
                "bbox": [130.6, 42.41, 130.61, 42.42],
                "description": "kept",
                "tags": ["border"],
            },
            headers=AUTH,
        )
        assert r.status_code == 201, r.text
        r = client.post(
            "/api/sites/audit/events",
            json={"date": "2023-09-13", "label": "summit", "description": "kept too"},
            headers=AUTH,
        )
        assert r.status_code == 201, r.text
        yield {**ids, "client": client, "app": app, "audit_event": r.json()["id"]}
    db.dispose()


def _detail(r: Any) -> str:
    assert r.status_code == 422, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    return str(r.json()["detail"])


@pytest.mark.parametrize(
    ("member", "instead"),
    [("description", 'send "" for no description'), ("tags", "send [] for no tags")],
)
def test_a_site_member_sent_as_null_is_refused_not_passed_over(
    world: dict[str, Any], member: str, instead: str
) -> None:
    c: TestClient = world["client"]
    before = c.get("/api/sites/audit").json()
    r = c.patch("/api/sites/audit", json={member: None}, headers=AUTH)
    detail = _detail(r)
    assert detail.startswith(f"invalid request: body.{member}: "), detail
    assert "null changes nothing here" in detail and instead in detail, detail
    after = c.get("/api/sites/audit").json()
    assert after["description"] == before["description"] == "kept"
    assert after["tags"] == before["tags"] == ["border"]


def test_a_site_member_left_out_is_kept_and_empty_clears_it(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    r = c.post(
        "/api/sites", json={"name": "audit2", "bbox": [130.7, 42.41, 130.71, 42.42]}, headers=AUTH
    )
    assert r.status_code == 201, r.text
    r = c.patch("/api/sites/audit2", json={"description": "d", "tags": ["t"]}, headers=AUTH)
    assert r.status_code == 200 and r.json()["tags"] == ["t"], r.text
    r = c.patch("/api/sites/audit2", json={"tags": []}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["tags"] == [] and r.json()["description"] == "d"
    r = c.patch("/api/sites/audit2", json={"description": ""}, headers=AUTH)
    assert r.status_code == 200 and r.json()["description"] == "", r.text
    assert c.delete("/api/sites/audit2", headers=AUTH).status_code == 200


@pytest.mark.parametrize(
    ("member", "instead"),
    [
        ("date", "an event has a date"),
        ("label", "an event has a label"),
        ("description", 'send "" for no description'),
    ],
)
def test_an_event_member_sent_as_null_is_refused_not_passed_over(
    world: dict[str, Any], member: str, instead: str
) -> None:
    c: TestClient = world["client"]
    url = f"/api/events/{world['audit_event']}"
    before = c.get(url).json()
    detail = _detail(c.patch(url, json={member: None}, headers=AUTH))
    assert detail.startswith(f"invalid request: body.{member}: "), detail
    assert "null changes nothing here" in detail and instead in detail, detail
    assert c.get(url).json() == before
    # a change that names the member with a value still applies
    r = c.patch(url, json={"description": "changed"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["description"] == "changed", r.text
    assert c.patch(url, json={"description": "kept too"}, headers=AUTH).status_code == 200


def test_the_patch_schemas_do_not_declare_null(world: dict[str, Any]) -> None:
    """What a generated client reads: these members take a value or are left out;
    only a site's ``tracks`` take null (it removes them)."""
    schemas = world["app"].openapi()["components"]["schemas"]
    for model, members in (("SitePatch", ("description", "tags")), ("EventPatch", ("date",))):
        for member in members:
            declared = schemas[model]["properties"][member]
            assert "anyOf" not in declared and declared.get("type") != "null", declared
    for member in ("label", "description"):
        assert "anyOf" not in schemas["EventPatch"]["properties"][member]
    tracks = schemas["SitePatch"]["properties"]["tracks"]
    assert {"type": "null"} in tracks["anyOf"], tracks


def test_an_unknown_class_beside_all_is_refused(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    sid = world["scene_ids"][4]
    detail = _detail(c.get(f"/api/scenes/{sid}/detections?class=all&class=spaceship"))
    assert "class 'spaceship' is not a railcar class" in detail, detail
    # all beside a real class is every car, as before
    every = c.get(f"/api/scenes/{sid}/detections").json()
    both = c.get(f"/api/scenes/{sid}/detections?class=all&class=tank").json()
    assert both["numberMatched"] == every["numberMatched"] > 0


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "/api/events/{ev}"), ("POST", "/api/sites/{site}/events"), ("POST", "/api/sites")],
)
def test_a_request_without_its_body_says_so(world: dict[str, Any], method: str, path: str) -> None:
    c: TestClient = world["client"]
    url = path.format(ev=world["event_id"], site=world["site"])
    r = c.request(method, url, headers={**AUTH, "Content-Type": "application/json"})
    detail = _detail(r)
    assert detail.startswith("invalid request: the request has no body: send a JSON object")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/api/sites/{site}/scenes?limit=5000", "less than or equal to 1000"),
        ("/api/sites/{site}/scenes?limit=0", "greater than or equal to 1"),
        ("/api/alerts?limit=1001", "less than or equal to 1000"),
        ("/api/scenes/{scene}/detections?limit=50001", "less than or equal to 50000"),
        ("/api/sites/{site}/counts?limit=100001", "less than or equal to 100000"),
    ],
)
def test_a_limit_out_of_bounds_says_how_to_read_the_rest(
    world: dict[str, Any], url: str, words: str
) -> None:
    c: TestClient = world["client"]
    detail = _detail(c.get(url.format(site=world["site"], scene=world["scene_ids"][4])))
    assert words in detail, detail
    assert "page through a longer list with offset" in detail, detail
    assert "Link header" in detail and "X-Total-Count" in detail, detail
    detail = _detail(c.get(f"/api/sites/{world['site']}/scenes?offset=-1"))
    assert "offset is how many items to skip, from 0" in detail, detail


@pytest.mark.parametrize(
    ("body", "member", "values"),
    [
        ('{"name": "dup_a", "name": "dup_b", "bbox": BBOX}', "name", '"dup_a", "dup_b"'),
        (
            '{"name": "dup_c", "geometry": {"type": "Polygon", "type": "Point", '
            '"coordinates": [[[130.6, 42.41], [130.61, 42.41], [130.61, 42.42], '
            "[130.6, 42.41]]]}}",
            "type",
            '"Polygon", "Point"',
        ),
    ],
)
def test_a_member_given_twice_is_refused_and_nothing_is_written(
    world: dict[str, Any], body: str, member: str, values: str
) -> None:
    """Python's parser kept the last of a repeated member: ``{"name": "dup_a", "name":
    "dup_b"}`` created the site dup_b with a 201."""
    c: TestClient = world["client"]
    raw = body.replace("BBOX", "[130.6, 42.41, 130.61, 42.42]")
    json_type = {"Content-Type": "application/json"}
    r = c.post("/api/sites", content=raw, headers={**AUTH, **json_type})
    detail = _detail(r)
    assert detail.startswith(f"invalid request: body.{member}: given 2 times in one object"), detail
    assert f"({values})" in detail and "give it once" in detail, detail
    names = {s["name"] for s in c.get("/api/sites").json()["items"]}
    assert not names & {"dup_a", "dup_b", "dup_c"}, names
    # without the token the write is refused first, whatever the body says
    assert c.post("/api/sites", content=raw, headers=json_type).status_code == 401


def test_a_member_given_twice_in_a_change_is_refused_too(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    url = f"/api/events/{world['audit_event']}"
    before = c.get(url).json()
    raw = '{"label": "first", "label": "second"}'
    r = c.patch(url, content=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert "body.label: given 2 times" in _detail(r)
    assert c.get(url).json() == before
