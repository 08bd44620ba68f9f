"""Whole numbers in paths and queries are ASCII digits only (session 27).

Pydantic's lax mode read ``/api/scenes/3.0``, ``/api/scenes/+3`` and ``/api/scenes/%203``
as scene 3, ``/api/scenes/3_0`` as scene 30 and ``?limit=10.0`` as 10: ``DELETE
/api/events/1.0`` deleted event 1. Every integer parameter of the API (found in its
OpenAPI document, so a new one is checked too) now refuses them with a 422 naming it,
as ``abc`` was refused.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "s27-token-" + "y" * 24
AUTH = {"Authorization": f"Bearer {TOKEN}"}

#: Written for a whole number, refused: a decimal point, a sign, spaces, an underscore,
#: an exponent, other scripts' digits (full-width, Arabic-Indic), a trailing newline.
LAX = ("1.0", "+1", " 1", "1 ", "1_0", "1e1", "\uff11", "\u0661", "1\n", "0x1")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("s27int")
    db = Database(f"sqlite:///{tmp / 'web.db'}")
    ids = populate(db, tmp / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    client = TestClient(create_app(settings, db))
    yield {**ids, "db": db, "client": client}
    db.dispose()


def _integer_params(client: TestClient) -> list[tuple[str, str, str, str]]:
    """(method, path template, name, in) of every integer parameter of the API."""
    found = []
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                if p["schema"].get("type") == "integer":
                    found.append((method.upper(), path, p["name"], p["in"]))
    return found


def _url(world: dict[str, Any], path: str, name: str, where: str, bad: str) -> str:
    """``path`` with valid values for its parameters and ``bad`` for ``name``."""
    from urllib.parse import quote

    good = {
        "site": world["site"],
        "scene_id": str(world["scene_ids"][0]),
        "alert_id": str(world["alert_id"]),
        "event_id": str(world["event_id"]),
        "job_id": "f" * 32,
        "report_id": "0" * 32,
        "z": "16",
        "x": "1",
        "y": "1",
    }
    if where == "path":
        good[name] = quote(bad, safe="")
    for key, value in good.items():
        path = path.replace("{" + key + "}", value)
    assert "{" not in path, path
    return path + (f"?{name}={quote(bad, safe='')}" if where == "query" else "")


def test_every_integer_parameter_is_found(world: dict[str, Any]) -> None:
    found = {(path, name) for _, path, name, _ in _integer_params(world["client"])}
    # the ids, the tile's coordinates and the pages: a new one is checked below too
    assert ("/api/scenes/{scene_id}", "scene_id") in found
    assert ("/api/alerts/{alert_id}", "alert_id") in found
    assert ("/api/events/{event_id}", "event_id") in found
    assert {"z", "x", "y"} <= {n for p, n in found if p.endswith("{y}.png")}
    assert ("/api/sites/{site}/counts", "limit") in found
    assert ("/api/scenes/{scene_id}/detections", "offset") in found
    assert ("/api/sites", "limit") in found


@pytest.mark.parametrize("bad", LAX)
def test_no_integer_parameter_takes_anything_but_ascii_digits(
    world: dict[str, Any], bad: str
) -> None:
    c = world["client"]
    for method, path, name, where in _integer_params(c):
        url = _url(world, path, name, where, bad)
        r = c.request(method, url, headers=AUTH)
        assert r.status_code == 422, (method, url, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert [where, name] in [e["loc"] for e in body["errors"]], (url, body)
        if body["errors"][0]["loc"] == [where, name]:
            assert body["detail"].startswith(f"invalid request: {where}.{name}: "), body
            assert "whole number written in digits 0-9" in body["detail"], body


def test_a_write_to_a_lax_id_changes_nothing(world: dict[str, Any]) -> None:
    """``DELETE /api/events/1.0`` deleted event 1 before session 27."""
    c, event_id = world["client"], world["event_id"]
    r = c.delete(f"/api/events/{event_id}.0", headers=AUTH)
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        f"invalid request: path.event_id: must be a whole number written in "
        f"digits 0-9 (such as 3), not '{event_id}.0'"
    )
    assert c.get(f"/api/events/{event_id}").status_code == 200  # still there
    r = c.post(f"/api/alerts/+{world['alert_id']}/acknowledge", json={}, headers=AUTH)
    assert r.status_code == 422, r.text
    assert c.get(f"/api/alerts/{world['alert_id']}").json()["acknowledged"] is False


def test_3_0_is_no_longer_30(world: dict[str, Any]) -> None:
    """``3_0`` was read as 30: a 404 naming an id the client never wrote."""
    r = world["client"].get("/api/scenes/3_0")
    assert r.status_code == 422, r.text
    assert "not '3_0'" in r.json()["detail"]


def test_plain_digits_still_work_and_bounds_keep_their_words(world: dict[str, Any]) -> None:
    c, sid = world["client"], world["scene_ids"][0]
    assert c.get(f"/api/scenes/{sid}").json()["id"] == sid
    assert c.get(f"/api/scenes/0{sid}").json()["id"] == sid  # digits only: 03 is 3
    site = world["site"]
    page = c.get(f"/api/sites/{site}/scenes", params={"limit": "2", "offset": "1"}).json()
    assert (page["limit"], page["offset"], len(page["items"])) == (2, 1, 2)
    for url, words in (
        ("/api/scenes/0", "path.scene_id: Input should be greater than or equal to 1"),
        ("/api/scenes/-1", "path.scene_id: Input should be greater than or equal to 1"),
        (f"/api/sites/{site}/scenes?offset=-1", "query.offset: Input should be greater than"),
        (f"/api/sites/{site}/scenes?limit=0", "query.limit: Input should be greater than"),
    ):
        r = c.get(url)
        assert r.status_code == 422, r.text
        assert r.json()["detail"].startswith(f"invalid request: {words}"), r.json()
    # a number too long to be an id is refused by pydantic's size check, as before
    r = c.get("/api/scenes/" + "9" * 5000)
    assert r.status_code == 422 and "path.scene_id" in r.json()["detail"]


def test_a_long_lax_value_is_cut_in_the_message(world: dict[str, Any]) -> None:
    r = world["client"].get("/api/scenes/" + "1." + "0" * 300)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail.endswith("...'") and len(detail) < 200, detail


def test_the_openapi_document_keeps_its_bounds(world: dict[str, Any]) -> None:
    doc = world["client"].get("/openapi.json").json()
    params = {p["name"]: p["schema"] for p in doc["paths"]["/api/sites"]["get"]["parameters"]}
    assert params["limit"] == {
        "type": "integer",
        "maximum": 1000,
        "minimum": 1,
        "description": "Items per page.",
        "default": 100,
        "title": "Limit",
    }
    scene = doc["paths"]["/api/scenes/{scene_id}"]["get"]["parameters"][0]["schema"]
    assert scene["minimum"] == 1 and "ge" not in scene


def test_plain_digits_passes_numbers_and_digits_and_refuses_the_rest() -> None:
    from railwatch.web.params import plain_digits

    assert plain_digits(3) == 3 and plain_digits("03") == "03"
    with pytest.raises(ValueError, match=r"not '3\.0'"):
        plain_digits("3.0")
