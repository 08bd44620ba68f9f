"""A query parameter an endpoint does not take is a 422 naming it and the ones it
takes (2026-12-05, session 34). Before, it was passed over: a script's
``/api/sites/SITE/alerts?since=2024-01-01`` (or ``kind``, ``severity``, ``class``) got
every alert of the site in a 200, as if filtered."""

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

TOKEN = "query-token"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("query-s34")
    db = Database(f"sqlite:///{tmp / 'q.db'}")
    ids = populate(db, tmp / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    app = create_app(settings, db)
    yield {**ids, "client": TestClient(app), "app": app}
    db.dispose()


def _refused(r: Any, name: str) -> dict[str, Any]:
    assert r.status_code == 422, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert f"takes no query parameter {name!r}" in body["detail"], body
    assert ["query", name] in [e["loc"] for e in body["errors"]]
    return body


@pytest.mark.parametrize("name", ["since", "until", "kind", "severity", "class"])
def test_a_filter_the_alerts_do_not_take_is_refused(world: dict[str, Any], name: str) -> None:
    """The alert lists take since, until, kind, class and min_severity since session 35
    (tests/test_web_alert_filters_s35.py); a list without them still refuses them."""
    c: TestClient = world["client"]
    r = c.get(f"/api/sites/{world['site']}/scenes", params={name: "x"})
    body = _refused(r, name)
    assert "it takes footprint, limit, offset, status, usable" in body["detail"]
    if name in ("since", "until"):
        assert "no date filter" in body["detail"] and "`day`" in body["detail"]
        assert "/api/alerts" in body["detail"]
    if name == "severity":  # the alerts' is min_severity
        _refused(c.get(f"/api/sites/{world['site']}/alerts", params={name: "x"}), name)


def test_every_parameter_not_taken_is_named_and_the_taken_ones_still_work(
    world: dict[str, Any],
) -> None:
    c: TestClient = world["client"]
    r = c.get("/api/alerts", params={"site_name": "x", "limit": 1, "sort": "when"})
    body = _refused(r, "site_name")
    assert [e["loc"] for e in body["errors"]] == [["query", "site_name"], ["query", "sort"]]
    # the parameters every endpoint declares are taken as before
    ok = c.get("/api/alerts", params={"site": world["site"], "limit": 1, "open_only": "true"})
    assert ok.status_code == 200 and ok.json()["total"] == 1
    scenes = c.get(
        f"/api/sites/{world['site']}/scenes",
        params={"usable": "true", "status": "processed", "footprint": "false", "limit": 2},
    )
    assert scenes.status_code == 200
    dets = c.get(
        f"/api/scenes/{world['scene_ids'][4]}/detections",
        params=[("class", "tank"), ("class", "boxcar"), ("covered", "false"), ("inside", "true")],
    )
    assert dets.status_code == 200
    csv = c.get(f"/api/sites/{world['site']}/counts", params={"format": "csv", "class": "all"})
    assert csv.status_code == 200
    # HEAD as GET, writes too
    assert c.head("/api/sites", params={"since": "2024-01-01"}).status_code == 422
    _refused(
        c.post(
            f"/api/alerts/{world['alert_id']}/acknowledge",
            params={"note": "seen"},  # the note goes in the body
            headers={"Authorization": f"Bearer {TOKEN}"},
        ),
        "note",
    )
    assert c.get(f"/api/alerts/{world['alert_id']}").json()["acknowledged"] is False
    # the dashboard's pages and files are left alone
    assert c.get("/", params={"utm_source": "x"}).status_code == 200
    assert c.get(f"/sites/{world['site']}", params={"v": "1"}).status_code == 200
    assert c.get("/static/js/site.js", params={"v": "1"}).status_code == 200
    assert c.get("/api/health").status_code == 200
    # map tiles take any query (a map client's cache-buster): the zoomed-out tile over
    # the yard, transparent
    tile = c.get("/api/scenes/1/tiles/3/6/2.png", params={"v": "2"})
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"


def test_what_is_taken_is_what_the_openapi_document_declares(world: dict[str, Any]) -> None:
    from railwatch.web.query import query_names

    spec = world["app"].openapi()
    assert query_names(spec, "/api/sites/{site}/alerts", "get") == {
        "active_only",
        "open_only",
        "limit",
        "offset",
        # session 35
        "since",
        "until",
        "min_severity",
        "class",
        "kind",
        # session 47
        "changed_since",
    }
    assert query_names(spec, "/api/scenes/{scene_id}", "get") == frozenset()
    assert query_names(spec, "/api/nothing", "get") is None


def test_a_body_member_not_taken_names_the_members_taken(world: dict[str, Any]) -> None:
    """It said only "body.name: Extra inputs are not permitted"."""
    c: TestClient = world["client"]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = c.patch(f"/api/sites/{world['site']}", json={"name": "renamed"}, headers=auth)
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "invalid request: body.name: this body takes no member 'name': it takes "
        "description, tags, tracks (see /docs)"
    )
    # an optional body (an object or none at all)
    r = c.post(f"/api/alerts/{world['alert_id']}/acknowledge", json={"notes": "seen"}, headers=auth)
    assert r.status_code == 422
    assert "no member 'notes': it takes key, note, version" in r.json()["detail"]
    assert c.get(f"/api/alerts/{world['alert_id']}").json()["acknowledged"] is False


def test_a_request_that_may_not_read_or_write_is_told_that_first(
    world: dict[str, Any], tmp_path: Path
) -> None:
    """As a path the route cannot read, an unknown parameter waits for the access check:
    a 401, not the 422 that would list the parameters to a client without the token."""
    c: TestClient = world["client"]
    r = c.post(f"/api/alerts/{world['alert_id']}/acknowledge", params={"note": "seen"})
    assert r.status_code == 401
    db = Database(f"sqlite:///{tmp_path / 'closed.db'}")
    try:
        settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "c")
        closed = TestClient(create_app(settings, db, open_reads=False))
        assert closed.get("/api/sites", params={"since": "2024-01-01"}).status_code == 401
        signed = {"Authorization": f"Bearer {TOKEN}"}
        _refused(closed.get("/api/sites", params={"since": "2024-01-01"}, headers=signed), "since")
    finally:
        db.dispose()
