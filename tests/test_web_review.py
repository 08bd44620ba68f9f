"""An analyst's review of a scene through the web API: GET/PUT/DELETE
``/api/scenes/{id}/review``, the scene, scene list and count series saying which counts
are an analyst's, and the analyst's outlines from the detections endpoint."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr
from shapely.geometry import box, mapping
from sqlalchemy import select

from helpers import sqlite_write_lock_held, statements
from railwatch.limits import NOTE_MAX
from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.storage.models import ANALYST, Count
from railwatch.web.app import create_app
from report_db import TRACK_Y, X0, to_wgs84
from web_db import populate

TOKEN = "review-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ORIGIN = {"Origin": "http://testserver"}
COOKIE = "railwatch_session_80"  # TestClient's server is testserver:80
#: web_db's image of 2023-10-05: 18 cars found by the detector "test"
DETECTED = 18.0


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'review.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db = Database(url)
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    ids.update(
        db=db,
        settings=settings,
        client=TestClient(create_app(settings, db)),
        scene=ids["scene_ids"][4],
        unusable=ids["scene_ids"][2],
    )
    yield ids
    db.dispose()


def _sqlite_world(folder: Path) -> dict[str, Any]:
    db = Database(f"sqlite:///{folder / 'review.db'}")
    ids = populate(db, folder / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=folder / "cache")
    ids.update(
        db=db,
        path=folder / "review.db",
        settings=settings,
        client=TestClient(create_app(settings, db)),
        scene=ids["scene_ids"][4],
        unusable=ids["scene_ids"][2],
    )
    return ids


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    ids = _sqlite_world(tmp_path)
    yield ids
    ids["db"].dispose()


@pytest.fixture(scope="module")
def unchanged_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One SQLite world for the bodies that are refused: each test checks that its body
    changed nothing (the stored counts, no review), so the next one finds the world as
    new (a fresh world each cost 23 databases of six GeoTIFFs)."""
    ids = _sqlite_world(tmp_path_factory.mktemp("review-refused"))
    yield ids
    ids["db"].dispose()


def _stored(db: Database, scene_id: int) -> dict[str, tuple[float, str]]:
    with db.session(readonly=True) as s:
        rows = s.scalars(select(Count).where(Count.scene_id == scene_id))
        return {r.cls: (r.count, r.detector) for r in rows}


def _problem(r: Any, status: int, *words: str) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    detail = str(r.json()["detail"])
    for word in words:
        assert word in detail, detail
    return detail


def _car(x: float, cls: str = "boxcar", covered: bool = False) -> dict[str, Any]:
    """A 14 x 3 m car centred at UTM (x, TRACK_Y), as a lon/lat feature."""
    body = to_wgs84(box(x - 7, TRACK_Y - 1.5, x + 7, TRACK_Y + 1.5))
    return {
        "type": "Feature",
        "geometry": mapping(body),
        "properties": {"class": cls, "covered": covered},
    }


def _fc(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def _series(c: TestClient, site: str, cls: str = "all") -> dict[int, dict[str, Any]]:
    items = c.get(f"/api/sites/{site}/counts", params={"class": cls}).json()["items"]
    return {p["scene_id"]: p for p in items}


def test_review_round_trip(world: dict[str, Any]) -> None:
    c, db, sid, site = world["client"], world["db"], world["scene"], world["site"]
    _problem(c.get(f"/api/scenes/{sid}/review"), 404, f"scene {sid} has no review", "PUT")
    body = {"counts": {"all": 20, "covered": 5, "boxcar": 8}, "note": "counted by eye"}
    r = c.put(f"/api/scenes/{sid}/review", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/api/scenes/{sid}/review"
    got = r.json()
    assert got.pop("replaced") is None  # a PUT's answer only: the review it replaced (none)
    assert got["counts"] == {"all": 20.0, "covered": 5.0, "boxcar": 8.0}
    assert got["detector_counts"]["all"]["count"] == DETECTED
    assert got["applied"] is True and got["note"] == "counted by eye" and got["cars"] is None
    assert _stored(db, sid)["all"] == (20.0, ANALYST)
    assert c.get(f"/api/scenes/{sid}/review").json() == got

    # the scene, the scene list and the series say which counts are the analyst's
    scene = c.get(f"/api/scenes/{sid}").json()
    assert scene["review"] == got and scene["reviewed"] is True
    assert scene["count"]["total"] == 20.0
    assert scene["detector_count"] == {"total": DETECTED, "low": DETECTED - 1, "high": DETECTED + 1}
    assert scene["counts"]["boxcar"]["reviewed"] is True
    assert scene["counts"]["tank"]["reviewed"] is False  # not given: the detector's
    listed = {s["id"]: s for s in c.get(f"/api/sites/{site}/scenes").json()["items"]}
    assert listed[sid]["reviewed"] is True and listed[sid]["count"]["total"] == 20.0
    assert listed[sid]["detector_count"] == scene["detector_count"]
    others = [s for i, s in listed.items() if i != sid]
    assert not any(s["reviewed"] for s in others)
    assert not any(s["detector_count"] for s in others)
    series = _series(c, site)
    assert series[sid]["reviewed"] is True and series[sid]["count"] == 20.0
    assert [p["reviewed"] for i, p in series.items() if i != sid] == [False] * 5
    assert _series(c, site, "boxcar")[sid]["reviewed"] is True
    assert _series(c, site, "tank")[sid]["reviewed"] is False
    text = c.get(f"/api/sites/{site}/counts", params={"format": "csv"}).text
    rows = {int(r["scene_id"]): r for r in csv.DictReader(io.StringIO(text))}
    assert rows[sid]["reviewed"] == "true" and rows[sid]["count"] == "20.0"
    assert {r["reviewed"] for i, r in rows.items() if i != sid} == {"false"}

    # a second review replaces the first (200), the detector's counts kept beside it
    again = c.put(f"/api/scenes/{sid}/review", json={"counts": {"all": 19}}, headers=AUTH)
    assert again.status_code == 200 and again.json()["counts"] == {"all": 19.0}
    assert again.json()["detector_counts"]["all"]["count"] == DETECTED
    assert _stored(db, sid)["covered"][1] != ANALYST  # the first review's covered went

    gone = c.delete(f"/api/scenes/{sid}/review", headers=AUTH)
    assert gone.status_code == 200
    assert gone.json()["removed"] is True and gone.json()["applied"] is False
    assert _stored(db, sid)["all"] == (DETECTED, "test")
    assert c.get(f"/api/scenes/{sid}").json()["review"] is None
    assert _series(c, site)[sid]["reviewed"] is False
    _problem(c.get(f"/api/scenes/{sid}/review"), 404, "has no review")
    _problem(c.delete(f"/api/scenes/{sid}/review", headers=AUTH), 404, "has no review")


def test_unknown_and_unusable_scenes(world: dict[str, Any]) -> None:
    c = world["client"]
    for r in (
        c.get("/api/scenes/999999/review"),
        c.put("/api/scenes/999999/review", json={"counts": {"all": 3}}, headers=AUTH),
        c.delete("/api/scenes/999999/review", headers=AUTH),
    ):
        _problem(r, 404, "no scene with id 999999")
    r = c.put(f"/api/scenes/{world['unusable']}/review", json={"counts": {"all": 3}}, headers=AUTH)
    _problem(r, 422, "unusable", "only a processed, usable scene")


def test_review_from_outlines_and_the_analysts_cars(world: dict[str, Any]) -> None:
    c, db, sid = world["client"], world["db"], world["scene"]
    _problem(
        c.get(f"/api/scenes/{sid}/detections", params={"source": "analyst"}),
        404,
        "has no review",
        "source=detector",
    )
    cars = _fc(
        _car(X0 + 100, "tank"),
        _car(X0 + 115, "boxcar", covered=True),
        _car(X0 + 130, "boxcar", covered=True),
        _car(X0 + 20),  # outside the site (it starts at X0 + 50)
    )
    r = c.put(f"/api/scenes/{sid}/review", json={"cars": cars, "note": "QGIS"}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.json()["counts"]["all"] == 3.0 and r.json()["cars"] == 4
    stored = _stored(db, sid)
    assert stored["all"] == (3.0, ANALYST) and stored["covered"] == (2.0, ANALYST)
    # the detector's cars stay the default answer, each saying so
    fc = c.get(f"/api/scenes/{sid}/detections").json()
    assert fc["source"] == "detector" and fc["numberMatched"] == DETECTED
    assert {f["properties"]["source"] for f in fc["features"]} == {"detector"}
    assert fc["reviewed"] is True and fc["detector_count"]["total"] == DETECTED
    assert fc["count"]["total"] == 3.0
    # the scene list's count and the detections' count are the same state (the page
    # compares them to tell a scene counted again)
    listed = c.get(f"/api/sites/{world['site']}/scenes").json()["items"]
    item = next(s for s in listed if s["id"] == sid)
    assert (item["count"], item["reviewed"], item["detector_count"]) == (
        fc["count"],
        fc["reviewed"],
        fc["detector_count"],
    )
    mine = c.get(f"/api/scenes/{sid}/detections", params={"source": "analyst"}).json()
    assert mine["source"] == "analyst" and mine["numberMatched"] == 4
    assert {f["properties"]["source"] for f in mine["features"]} == {"analyst"}
    assert [f["properties"]["class"] for f in mine["features"]] == [
        "tank",
        "boxcar",
        "boxcar",
        "boxcar",
    ]
    assert [f["id"] for f in mine["features"]] == [1, 2, 3, 4]
    ring = mine["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and all(round(v, 6) == v for p in ring for v in p)
    inside = c.get(
        f"/api/scenes/{sid}/detections", params={"source": "analyst", "inside": "true"}
    ).json()
    assert inside["numberMatched"] == 3
    covered = c.get(
        f"/api/scenes/{sid}/detections",
        params={"source": "analyst", "class": "boxcar", "covered": "true"},
    ).json()
    assert covered["numberMatched"] == 2
    paged = c.get(
        f"/api/scenes/{sid}/detections", params={"source": "analyst", "limit": 1, "offset": 1}
    )
    assert paged.headers["x-total-count"] == "4"
    assert [f["id"] for f in paged.json()["features"]] == [2]
    outlines = c.get(f"/api/scenes/{sid}/review", params={"outlines": "true"}).json()
    assert len(outlines["features"]) == 4
    # a review of counts only has no outlines to give
    c.put(f"/api/scenes/{sid}/review", json={"counts": {"all": 19}}, headers=AUTH)
    _problem(
        c.get(f"/api/scenes/{sid}/detections", params={"source": "analyst"}),
        404,
        "counts only",
    )
    bad = c.get(f"/api/scenes/{sid}/detections", params={"source": "human"})
    _problem(bad, 422, "source")


BAD_BODIES: list[tuple[Any, str]] = [
    ({"counts": {"all": 20}, "cars": _fc()}, "not both"),
    ({"note": "no count"}, "not both and not neither"),
    ({}, "not both and not neither"),
    ({"counts": {"all": "20"}}, "must be a number"),
    ({"counts": {"all": True}}, "must be a number"),
    ({"counts": {"all": None}}, "must be a number"),
    ({"counts": {"all": 20, "caboose": 1}}, "'caboose' is not a class"),
    ({"counts": {"all": 20, "bad class!": 1}}, "counts.bad class!"),
    ({"counts": {"covered": 3}}, "give the total"),
    ({"counts": {"all": -1}}, ">= 0"),
    ({"counts": {"all": 20.5}}, "whole number"),
    ({"counts": {"all": 20, "boxcar": 21}}, "more than the total"),
    ({"counts": {"all": 5}}, "less than the types it would keep"),
    ({"counts": {"all": 20}, "reviewer": "me"}, "reviewer"),
    ({"counts": {"all": 20}, "note": "x" * (NOTE_MAX + 1)}, "review note"),
    ({"counts": {"all": 20}, "note": 5}, "note"),
    ({"counts": [20]}, "counts"),
    ({"cars": {"type": "Feature"}}, "not a GeoJSON FeatureCollection"),
    ({"cars": {**_fc(), "crs": None}}, "pixel coordinates"),
    ({"cars": _fc(_car(X0 + 20))}, "none of the 1 outlines"),
    ({"cars": _fc({"type": "Feature", "geometry": None, "properties": {}})}, "no geometry"),
    ([{"all": 20}], "body"),
    ("20", "body"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_bad_bodies_are_refused_and_change_nothing(
    unchanged_world: dict[str, Any], body: Any, message: str
) -> None:
    c, db, sid = unchanged_world["client"], unchanged_world["db"], unchanged_world["scene"]
    before = _stored(db, sid)
    assert before["all"] == (DETECTED, "test")  # as new: no body before it changed it
    r = c.put(f"/api/scenes/{sid}/review", json=body, headers=AUTH)
    _problem(r, 422, message)
    assert _stored(db, sid) == before
    assert c.get(f"/api/scenes/{sid}/review").status_code == 404


def test_a_body_that_is_not_json_says_so(sqlite_world: dict[str, Any]) -> None:
    c, sid = sqlite_world["client"], sqlite_world["scene"]
    headers = {**AUTH, "Content-Type": "application/json"}
    r = c.put(f"/api/scenes/{sid}/review", content=b'{"counts": {"all": 2', headers=headers)
    _problem(r, 422, "not valid JSON")
    r = c.put(f"/api/scenes/{sid}/review", content=b'{"counts": "\xff"}', headers=headers)
    assert r.status_code in (400, 422) and "JSON" in r.json()["detail"]
    big = {"counts": {"all": 20}, "note": "x" * 2_000_000}
    r = c.put(f"/api/scenes/{sid}/review", json=big, headers=AUTH)
    _problem(r, 413, "larger than")
    assert _stored(sqlite_world["db"], sid)["all"] == (DETECTED, "test")


def test_writes_need_the_token_or_a_session_from_this_server(
    sqlite_world: dict[str, Any],
) -> None:
    w = sqlite_world
    c, db, sid = w["client"], w["db"], w["scene"]
    url = f"/api/scenes/{sid}/review"
    body = {"counts": {"all": 20}}
    _problem(c.put(url, json=body), 401, "Authorization: Bearer")
    _problem(c.put(url, json=body, headers={"Authorization": "Bearer nope"}), 403, "wrong")
    _problem(c.delete(url), 401, "Authorization: Bearer")
    assert _stored(db, sid)["all"] == (DETECTED, "test")
    # the dashboard's session cookie: only from this server's own pages
    browser = TestClient(create_app(w["settings"], db))
    assert browser.post("/api/session", json={"token": TOKEN}, headers=ORIGIN).status_code == 200
    assert browser.cookies.get(COOKIE)
    evil = {"Origin": "https://evil.example"}
    _problem(browser.put(url, json=body, headers=evil), 403, "Origin")
    _problem(browser.put(url, json=body), 403, "Origin")
    assert _stored(db, sid)["all"] == (DETECTED, "test")
    assert browser.put(url, json=body, headers=ORIGIN).status_code == 201
    _problem(browser.delete(url, headers=evil), 403, "Origin")
    assert _stored(db, sid)["all"] == (20.0, ANALYST)
    assert browser.delete(url, headers=ORIGIN).status_code == 200
    # a server without a token: writes disabled; reads closed: the token for reads too
    no_token = TestClient(create_app(Settings(db=db.url, cache_dir=w["settings"].cache_dir), db))
    _problem(no_token.put(url, json=body, headers=AUTH), 403, "writes are disabled")
    closed = TestClient(create_app(w["settings"], db, open_reads=False))
    _problem(closed.get(url), 401, "Authorization: Bearer")
    _problem(closed.get(url, headers=AUTH), 404, "has no review")
    assert _stored(db, sid)["all"] == (DETECTED, "test")


def test_a_write_while_another_process_holds_sqlite_says_so(
    sqlite_world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review waits for SQLite's write lock as every write does, then is a 503 saying
    what to do, and nothing is half-written."""
    import railwatch.storage.db as dbmod

    monkeypatch.setattr(dbmod, "SQLITE_BUSY_TIMEOUT_MS", 200)
    w = sqlite_world
    db = Database(w["db"].url)  # its connections made with the short wait
    c = TestClient(create_app(w["settings"], db))
    sid = w["scene"]
    with sqlite_write_lock_held(w["path"], db):
        r = c.put(f"/api/scenes/{sid}/review", json={"counts": {"all": 20}}, headers=AUTH)
        _problem(r, 503, "locked by another writer", "try again")
    assert _stored(db, sid)["all"] == (DETECTED, "test")
    r = c.put(f"/api/scenes/{sid}/review", json={"counts": {"all": 20}}, headers=AUTH)
    assert r.status_code == 201
    db.dispose()


def test_the_scene_list_reads_reviews_in_one_statement_per_page(
    sqlite_world: dict[str, Any],
) -> None:
    """Marking reviewed counts costs the scene list one statement for the whole page
    (the detector's totals of the reviewed scenes), none when no scene is reviewed."""
    w = sqlite_world
    c, db, site = w["client"], w["db"], w["site"]

    def count() -> int:
        with statements(db) as seen:
            assert c.get(f"/api/sites/{site}/scenes").status_code == 200
        return len(seen)

    none = count()
    for i, sid in enumerate(w["scene_ids"]):
        if i != 2:  # every usable scene
            r = c.put(f"/api/scenes/{sid}/review", json={"counts": {"all": 30}}, headers=AUTH)
            assert r.status_code == 201, r.text
    assert count() == none + 1
    items = c.get(f"/api/sites/{site}/scenes").json()["items"]
    assert [s["reviewed"] for s in items] == [True, True, False, True, True, True]
    assert items[4]["detector_count"]["total"] == DETECTED
