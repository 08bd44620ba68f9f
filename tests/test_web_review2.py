"""The review loop in the web API, part 2: the scenes to check first
(``GET /api/sites/{site}/to-review``), a scene's cars as the GeoJSON file to correct
(``GET /api/scenes/{id}/cars``) sent back as the review, who may read them, and the
site list marking a latest count that is an analyst's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr
from shapely.geometry import box
from sqlalchemy import select

from helpers import statements
from railwatch.cli.main import main
from railwatch.settings import Settings
from railwatch.storage import Database, repo
from railwatch.storage.models import ANALYST, Count
from railwatch.web.app import create_app
from railwatch.web.downloads import attachment
from report_db import CRS, IMG_H_M, IMG_W_M, X0, Y0, FakeInfo, to_wgs84
from web_db import populate

TOKEN = "review2-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ORIGIN = {"Origin": "http://testserver"}
#: web_db's image of 2023-10-05 (scene_ids[4]): 18 cars found by the detector "test",
#: the one a high record alert rests on
DETECTED = 18


def _world(db: Database, tmp_path: Path) -> dict[str, Any]:
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    ids.update(
        db=db,
        settings=settings,
        client=TestClient(create_app(settings, db)),
        scene=ids["scene_ids"][4],
    )
    return ids


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'review2.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db = Database(url)
    yield _world(db, tmp_path)
    db.dispose()


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'review2.db'}")
    yield _world(db, tmp_path)
    db.dispose()


def _problem(r: Any, status: int, *words: str) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    detail = str(r.json()["detail"])
    for word in words:
        assert word in detail, detail
    return detail


def _total(db: Database, scene_id: int) -> tuple[float, str]:
    with db.session(readonly=True) as s:
        row = s.scalar(select(Count).where(Count.scene_id == scene_id, Count.cls == "all"))
        assert row is not None
        return row.count, row.detector


# ------------------------------------------------------------------------ to-review


def test_to_review_lists_alerted_images_first_as_the_cli_does(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    c, site, ids = world["client"], world["site"], world["scene_ids"]
    r = c.get(f"/api/sites/{site}/to-review")
    assert r.status_code == 200, r.text
    got = r.json()
    # the record alert's image, then by interval against the count (2/5, 2/6, 2/7; of
    # the two 2/6, the newer first); the unusable image is never one
    assert [i["scene_id"] for i in got["items"]] == [ids[4], ids[0], ids[5], ids[1], ids[3]]
    assert (got["total"], got["limit"], got["offset"]) == (5, 100, 0)
    first = got["items"][0]
    assert first["alerts"] == [{"kind": "record", "severity": "high", "class": "all"}]
    assert first["count"] == {"total": 18.0, "low": 17.0, "high": 19.0, "method": "objects"}
    assert first["acquired_at"].startswith("2023-10-05") and first["gsd"] == 0.5
    assert got["items"][1]["spread"] == 0.4 and got["items"][1]["alerts"] == []
    # the same answer as `railwatch scene to-review --json`
    monkeypatch.setenv("RAILWATCH_DB", world["db"].url)
    assert main(["scene", "to-review", site, "--json", "-n", "1000"]) == 0
    assert json.loads(capsys.readouterr().out) == got["items"]

    # a page of it, with the paging headers of the other lists
    page = c.get(f"/api/sites/{site}/to-review", params={"limit": 2, "offset": 1})
    assert [i["scene_id"] for i in page.json()["items"]] == [ids[0], ids[5]]
    assert page.headers["x-total-count"] == "5"
    assert 'rel="next"' in page.headers["link"] and "offset=3" in page.headers["link"]

    # a reviewed image is checked: it leaves the list
    put = c.put(f"/api/scenes/{ids[4]}/review", json={"counts": {"all": 20}}, headers=AUTH)
    assert put.status_code == 201, put.text
    after = c.get(f"/api/sites/{site}/to-review").json()
    assert [i["scene_id"] for i in after["items"]] == [ids[0], ids[5], ids[1], ids[3]]


def test_to_review_bounds_and_unknown_sites(sqlite_world: dict[str, Any]) -> None:
    c, site = sqlite_world["client"], sqlite_world["site"]
    for params, where in (
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
    ):
        _problem(c.get(f"/api/sites/{site}/to-review", params=params), 422, where)
    assert c.get(f"/api/sites/{site}/to-review", params={"limit": 1000}).status_code == 200
    beyond = c.get(f"/api/sites/{site}/to-review", params={"offset": 50}).json()
    assert beyond["items"] == [] and beyond["total"] == 5
    _problem(c.get("/api/sites/nowhere/to-review"), 404, "nowhere")


# ------------------------------------------------------------------------------ cars


def test_cars_download_corrected_and_sent_back(world: dict[str, Any]) -> None:
    c, db, sid = world["client"], world["db"], world["scene"]
    r = c.get(f"/api/scenes/{sid}/cars")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    assert r.headers["content-disposition"] == (
        f'attachment; filename="scene_{sid}_cars.geojson"; '
        f"filename*=utf-8''scene_{sid}_cars.geojson"
    )
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["source"] == "detector"
    assert fc["scene_id"] == sid and fc["gsd"] == 0.5
    assert fc["crs"]["properties"]["name"] == CRS  # the scene's CRS, as QGIS reads it
    assert len(fc["features"]) == DETECTED
    x, y = fc["features"][0]["geometry"]["coordinates"][0][0]
    assert X0 <= x <= X0 + IMG_W_M and Y0 - IMG_H_M <= y <= Y0  # metres, not degrees

    # corrected: two cars were not there, one is a tank; sent back as the review
    fc["features"] = fc["features"][2:]
    fc["features"][0]["properties"]["class"] = "tank"
    put = c.put(
        f"/api/scenes/{sid}/review", json={"cars": fc, "note": "corrected in QGIS"}, headers=AUTH
    )
    assert put.status_code == 201, put.text
    assert put.json()["counts"]["all"] == DETECTED - 2 and put.json()["cars"] == DETECTED - 2
    assert _total(db, sid) == (DETECTED - 2, ANALYST)

    # now the file is the analyst's outlines (to correct again); the detector's stay
    mine = c.get(f"/api/scenes/{sid}/cars").json()
    assert mine["source"] == ANALYST and len(mine["features"]) == DETECTED - 2
    assert mine["features"][0]["properties"]["class"] == "tank"
    assert c.get(f"/api/scenes/{sid}/cars", params={"source": "analyst"}).json() == mine
    theirs = c.get(f"/api/scenes/{sid}/cars", params={"source": "detector"}).json()
    assert theirs["source"] == "detector" and len(theirs["features"]) == DETECTED
    # the analyst's file sent back again replaces the review with the same count
    again = c.put(f"/api/scenes/{sid}/review", json={"cars": mine}, headers=AUTH)
    assert again.status_code == 200, again.text
    assert again.json()["counts"]["all"] == DETECTED - 2


def test_cars_of_unusable_images_and_the_errors(world: dict[str, Any]) -> None:
    c, db, sid, ids = world["client"], world["db"], world["scene"], world["scene_ids"]
    # an unusable image has no cars (it was never counted): refused, not an empty
    # collection an analyst would read as an empty yard and whose review is refused
    _problem(c.get(f"/api/scenes/{ids[2]}/cars"), 422, "is unusable")
    _problem(c.get("/api/scenes/999999/cars"), 404, "no scene with id 999999")
    _problem(c.get("/api/scenes/0/cars"), 422, "scene_id")
    _problem(c.get("/api/scenes/abc/cars"), 422, "scene_id")
    _problem(c.get(f"/api/scenes/{sid}/cars", params={"source": "human"}), 422, "source")
    _problem(
        c.get(f"/api/scenes/{sid}/cars", params={"source": "analyst"}),
        404,  # as /detections?source=analyst: no such outlines
        f"scene {sid} has no outlines of an analyst's",
    )
    c.put(f"/api/scenes/{sid}/review", json={"counts": {"all": 20}}, headers=AUTH)
    _problem(c.get(f"/api/scenes/{sid}/cars", params={"source": "analyst"}), 404, "counts only")
    # a review of counts only: the file is the detector's cars
    assert c.get(f"/api/scenes/{sid}/cars").json()["source"] == "detector"
    # an image ingested but not processed has no cars yet
    with db.session() as s:
        site = repo.get_site(s, world["site"])
        info = FakeInfo(
            uri="/imagery/new.tif",
            content_hash="f" * 64,
            acquired=datetime(2024, 1, 5, 2, 30, tzinfo=UTC),
            crs=CRS,
            footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
            gsd=0.5,
            width=int(IMG_W_M / 0.5),
            height=int(IMG_H_M / 0.5),
        )
        new, _ = repo.add_scene(s, site, info, 1.0)
        new_id = new.id
    _problem(c.get(f"/api/scenes/{new_id}/cars"), 422, "ingested", "process")


# ----------------------------------------------------------------------- who may read


def test_reads_follow_the_servers_read_rules(sqlite_world: dict[str, Any]) -> None:
    w = sqlite_world
    db, site, sid = w["db"], w["site"], w["scene"]
    urls = (f"/api/sites/{site}/to-review", f"/api/scenes/{sid}/cars")
    # loopback or --public-reads: open to anyone
    public = TestClient(create_app(w["settings"], db, open_reads=True))
    for url in urls:
        assert public.get(url).status_code == 200, url
    # reachable from the network without --public-reads: the token or a session
    closed = TestClient(create_app(w["settings"], db, open_reads=False))
    for url in urls:
        _problem(closed.get(url), 401, "Authorization: Bearer")
        _problem(closed.get(url, headers={"Authorization": "Bearer nope"}), 403, "wrong")
        assert closed.get(url, headers=AUTH).status_code == 200, url
    signed = TestClient(create_app(w["settings"], db, open_reads=False))
    assert signed.post("/api/session", json={"token": TOKEN}, headers=ORIGIN).status_code == 200
    for url in urls:  # the dashboard's download link and panel: by the session cookie
        assert signed.get(url).status_code == 200, url


# ------------------------------------------------------------------------ site list


def test_the_site_list_marks_a_latest_count_that_is_an_analysts(world: dict[str, Any]) -> None:
    c, site, ids = world["client"], world["site"], world["scene_ids"]

    def summaries() -> tuple[dict[str, Any], dict[str, Any]]:
        listed = c.get("/api/sites").json()["items"][0]["summary"]
        return listed, c.get(f"/api/sites/{site}").json()["summary"]

    # the mark is left out where the latest count is the detector's (the answer of a
    # site without reviews is as it was before reviews)
    for s in summaries():
        assert s["latest_scene_id"] == ids[5] and s["latest_reviewed"] is False
    # an older image reviewed: the latest count is still the detector's
    c.put(f"/api/scenes/{ids[4]}/review", json={"counts": {"all": 20}}, headers=AUTH)
    assert [s["latest_reviewed"] for s in summaries()] == [False, False]
    c.put(f"/api/scenes/{ids[5]}/review", json={"counts": {"all": 9}}, headers=AUTH)
    for s in summaries():
        assert s["latest_reviewed"] is True and s["latest_count"] == 9.0
        assert s["previous_count"] == 20.0  # the trend compares with the older review
    c.delete(f"/api/scenes/{ids[5]}/review", headers=AUTH)
    for s in summaries():
        assert s["latest_reviewed"] is False and s["latest_count"] == 6.0


def test_the_site_list_reads_no_more_statements_for_the_mark(
    sqlite_world: dict[str, Any],
) -> None:
    w = sqlite_world
    c, db, ids = w["client"], w["db"], w["scene_ids"]

    def count() -> int:
        with statements(db) as seen:
            assert c.get("/api/sites").status_code == 200
        return len(seen)

    before = count()
    c.put(f"/api/scenes/{ids[5]}/review", json={"counts": {"all": 9}}, headers=AUTH)
    assert count() == before
    assert c.get("/api/sites").json()["items"][0]["summary"]["latest_reviewed"] is True


def test_a_download_name_in_another_script_keeps_an_ascii_fallback() -> None:
    assert attachment("Туманган-all-counts.csv") == (
        'attachment; filename="________-all-counts.csv"; '
        "filename*=utf-8''%D0%A2%D1%83%D0%BC%D0%B0%D0%BD%D0%B3%D0%B0%D0%BD-all-counts.csv"
    )
