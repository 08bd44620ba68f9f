"""The REST API walked as a client developer would (2026-12-07, session 49).

Faults found by using the API from scripts (httpx, pandas, GeoPandas) against a demo
database, each fixed in the web layer:

* a conflict or refusal named the CLI's commands: a site name taken (``409``: `railwatch
  site remove NAME --yes`), a count of a scene an analyst declared unusable (``422``:
  `railwatch scene review N --remove`, `railwatch process SITE`), a count of an unusable
  scene (`railwatch scene list SITE`), a tag holding a comma (``--tag a --tag b on the
  command line``), a report's warnings (``check --since/--until``); an event that
  repeats another (``409``) said its id and nothing of what to do;
* a site held by a job of the server was a ``409`` whose ``error`` was
  ``AlreadyExistsError`` (a duplicate's name), where the same conflict with another
  process's run is ``BusyError``;
* a time whose zone's ``+`` came as a space (``since=2024-02-05T00:00+09:00`` typed into
  a URL) was "not a date YYYY-MM-DD", without a word of the ``+``;
* a body member of the wrong JSON type (``"bbox": "130,42,131,43"``, a WKT
  ``geometry``) said only pydantic's "Input should be a valid list";
* the ``304`` of a tile or report download, and the ``ETag`` to send back, were not in
  ``/openapi.json``;
* the counts of a site named in another Unicode form (NFD) echoed that form as ``site``
  (and in the CSV's file name), which matched no site's ``name``;
* a report without a PDF said to "generate one with pdf=true", a query parameter the
  endpoint refuses;
* ``If-None-Match: *`` of a tile outside the image was a ``304``, as if it existed.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
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
from railwatch.web.jobs import Job
from web_db import populate

TOKEN = "walk-rest-s49"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BBOX = [130.60, 42.41, 130.62, 42.43]


class NoCarDetector:
    name = "none"
    version = "0"

    def detect(self, image: Any, gsd: float, valid: Any = None) -> list[Any]:
        return []


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    app = create_app(settings, db, detector_factory=NoCarDetector)
    with TestClient(app) as client:
        yield {**ids, "client": client, "app": app}
    db.dispose()


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    return body


def test_a_site_name_taken_names_the_request_that_removes_it(world: dict[str, Any]) -> None:
    c, site = world["client"], world["site"]
    body = _problem(c.post("/api/sites", json={"name": site, "bbox": BBOX}, headers=AUTH), 409)
    detail = body["detail"]
    assert f"site {site!r} already exists: choose another name" in detail, detail
    assert f"remove it first with DELETE /api/sites/{site}" in detail, detail
    assert "railwatch site remove" not in detail, detail


def test_a_count_of_a_scene_declared_unusable_names_the_requests(
    world: dict[str, Any],
) -> None:
    c, site, sid = world["client"], world["site"], world["scene_ids"][0]
    r = c.put(f"/api/scenes/{sid}/review", json={"unusable": "smoke over the yard"}, headers=AUTH)
    assert r.status_code == 201, r.text
    r = c.put(f"/api/scenes/{sid}/review", json={"counts": {"all": 4}}, headers=AUTH)
    detail = _problem(r, 422)["detail"]
    assert "unusable by your review (smoke over the yard)" in detail, detail
    assert f"remove that review (DELETE /api/scenes/{sid}/review)" in detail, detail
    assert f"process the site again (POST /api/sites/{site}/jobs)" in detail, detail
    assert "`railwatch" not in detail, detail
    # nothing changed: the analyst's verdict stands
    assert c.get(f"/api/scenes/{sid}/review").json()["unusable"] == "smoke over the yard"


def test_a_count_of_an_unusable_scene_names_the_scene_list(world: dict[str, Any]) -> None:
    c = world["client"]
    scenes = c.get(f"/api/sites/{world['site']}/scenes").json()["items"]
    sid = next(s["id"] for s in scenes if not s["quality"]["usable"])
    detail = _problem(
        c.put(f"/api/scenes/{sid}/review", json={"counts": {"all": 3}}, headers=AUTH), 422
    )["detail"]
    assert "look for a clearer image of the same days" in detail, detail
    assert "(GET /api/sites/SITE/scenes?usable=true)" in detail, detail
    assert "`railwatch" not in detail, detail


def test_an_event_that_repeats_another_says_what_to_do(world: dict[str, Any]) -> None:
    c, site = world["client"], world["site"]
    first = c.post(
        f"/api/sites/{site}/events", json={"date": "2023-10-01", "label": "A"}, headers=AUTH
    )
    assert first.status_code == 201, first.text
    eid = first.json()["id"]
    again = c.post(
        f"/api/sites/{site}/events", json={"date": "2023-10-01", "label": "A"}, headers=AUTH
    )
    detail = _problem(again, 409)["detail"]
    assert detail == (
        f"event 'A' on 2023-10-01 already exists (id {eid}): it is /api/events/{eid}; change "
        f"that one (PATCH /api/events/{eid}), or give another date or label"
    ), detail
    other = c.post(
        f"/api/sites/{site}/events", json={"date": "2023-10-02", "label": "A"}, headers=AUTH
    ).json()["id"]
    moved = c.patch(f"/api/events/{other}", json={"date": "2023-10-01"}, headers=AUTH)
    assert f"change that one (PATCH /api/events/{eid})" in _problem(moved, 409)["detail"]


def test_a_tag_with_a_comma_names_the_items_of_tags(world: dict[str, Any]) -> None:
    c, site = world["client"], world["site"]
    r = c.patch(f"/api/sites/{site}", json={"tags": ["rail, border"]}, headers=AUTH)
    detail = _problem(r, 422)["detail"]
    assert 'give each tag on its own, as items of `tags`: ["rail", "border"]' in detail, detail
    assert "--tag" not in detail and "command line" not in detail, detail
    assert c.get(f"/api/sites/{site}").json()["tags"] == []  # nothing written


def test_a_site_held_by_a_job_of_the_server_is_the_busy_conflict(
    world: dict[str, Any],
) -> None:
    c, site, app = world["client"], world["site"], world["app"]
    sid = world["scene_ids"][1]
    job = Job(id=uuid.uuid4().hex, site=site, reprocess=False, status="running")
    app.state.jobs._jobs[job.id] = job  # as a job that processes the site now
    try:
        for r, then in (
            (c.delete(f"/api/scenes/{sid}", headers=AUTH), "delete the scene"),
            (c.delete(f"/api/sites/{site}", headers=AUTH), "delete the site"),
            (
                c.patch(f"/api/sites/{site}", json={"tracks": None}, headers=AUTH),
                "change its track centrelines",
            ),
        ):
            body = _problem(r, 409)
            # the error another process's run holding the site gives (storage.db.BusyError)
            assert body["error"] == "BusyError", body
            assert f"/api/jobs/{job.id}" in body["detail"] and then in body["detail"], body
    finally:
        del app.state.jobs._jobs[job.id]
    assert c.get(f"/api/scenes/{sid}").status_code == 200  # nothing deleted


def test_a_plus_read_as_a_space_in_a_time_is_said(world: dict[str, Any]) -> None:
    c = world["client"]
    for name in ("since", "until", "changed_since"):
        # typed into the URL: the query's '+' reaches the server as a space
        r = c.get(f"/api/alerts?{name}=2024-02-05T00:00+09:00")
        detail = _problem(r, 422)["detail"]
        assert "a '+' in a URL's query is read as a space" in detail, detail
        assert f"{name}=2024-02-05T00:00%2B09:00" in detail, detail
        # as the hint says, it is taken
        assert c.get(f"/api/alerts?{name}=2024-02-05T00:00%2B09:00").status_code == 200
    # a value that is no time with a '+' either is told as before, without the hint
    detail = _problem(c.get("/api/alerts?since=2024-02-05T00:00 xx"), 422)["detail"]
    assert "'+'" not in detail, detail


@pytest.mark.parametrize(
    ("method", "path", "body", "said"),
    [
        (
            "POST",
            "/api/sites",
            {"name": "a1", "bbox": "130.60,42.41,130.62,42.43"},
            "body.bbox: Input should be a valid list; send a JSON array here ([W, S, E, N], "
            "four numbers in degrees), not a string",
        ),
        (
            "POST",
            "/api/sites",
            {"name": "a1", "geometry": "POLYGON((130.6 42.41, 130.62 42.41, 130.6 42.43))"},
            "send a JSON object here (GeoJSON in WGS84 lon/lat",
        ),
        (
            "POST",
            "/api/sites",
            {"name": "a1", "bbox": BBOX, "tags": "rail"},
            'send a JSON array here (a list of strings, ["a", "b"]), not a string',
        ),
        (
            "POST",
            "/api/sites/{site}/events",
            {"date": "2023-10-01", "label": 5},
            "body.label: Input should be a valid string; send a JSON string here, not a number",
        ),
        (
            "POST",
            "/api/sites/{site}/events",
            [{"date": "2023-10-01", "label": "x"}],
            "send a JSON object here, not an array",
        ),
    ],
)
def test_a_member_of_the_wrong_json_type_says_what_to_send(
    world: dict[str, Any], method: str, path: str, body: Any, said: str
) -> None:
    c = world["client"]
    before = c.get("/api/sites").json()["total"]
    r = c.request(method, path.format(site=world["site"]), json=body, headers=AUTH)
    detail = _problem(r, 422)["detail"]
    assert said in detail, detail
    assert c.get("/api/sites").json()["total"] == before


def test_the_304_of_a_tile_and_a_report_download_is_declared(world: dict[str, Any]) -> None:
    c = world["client"]
    spec = c.get("/openapi.json").json()
    for path in (
        "/api/scenes/{scene_id}/tiles/{z}/{x}/{y}.png",
        "/api/reports/{report_id}/html",
        "/api/reports/{report_id}/pdf",
    ):
        answers = spec["paths"][path]["get"]["responses"]
        assert "ETag" in answers["200"]["headers"], path
        assert "Cache-Control" in answers["200"]["headers"], path
        assert "If-None-Match" in answers["304"]["description"], path
        assert "content" not in answers["304"] and "ETag" in answers["304"]["headers"], path
    # the answer it declares: a real tile's 304
    scene = c.get(f"/api/scenes/{world['scene_ids'][0]}").json()
    lon, lat = scene["footprint"]["coordinates"][0][0]
    z, x, y = _tile(lon, lat, 18)
    tile = c.get(f"/api/scenes/{world['scene_ids'][0]}/tiles/{z}/{x}/{y}.png")
    assert tile.status_code == 200, tile.text
    again = c.get(
        f"/api/scenes/{world['scene_ids'][0]}/tiles/{z}/{x}/{y}.png",
        headers={"If-None-Match": tile.headers["etag"]},
    )
    assert again.status_code == 304 and again.headers["etag"] == tile.headers["etag"]


def _tile(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The Web Mercator tile of a point, a little inside the scene's corner."""
    import math

    n = 2**z
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return z, int(x), int(y)


def test_the_counts_of_a_site_named_in_nfd_give_its_stored_name(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'k.db'}")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    try:
        with TestClient(create_app(settings, db)) as c:
            made = c.post("/api/sites", json={"name": "두만강", "bbox": BBOX}, headers=AUTH)
            assert made.status_code == 201, made.text
            nfd = unicodedata.normalize("NFD", "두만강")
            assert nfd != "두만강"
            assert c.get(f"/api/sites/{nfd}").json()["name"] == "두만강"
            assert c.get(f"/api/sites/{nfd}/counts").json()["site"] == "두만강"
            csv = c.get(f"/api/sites/{nfd}/counts?format=csv")
            assert csv.status_code == 200
            named = re.search(r"filename\*=utf-8''(\S+)", csv.headers["content-disposition"])
            assert named is not None
            assert named.group(1) == "%EB%91%90%EB%A7%8C%EA%B0%95-all-counts.csv"
    finally:
        db.dispose()


def test_a_report_without_a_pdf_names_the_body_member(world: dict[str, Any]) -> None:
    c, app, site = world["client"], world["app"], world["site"]
    rid = uuid.uuid4().hex
    folder = Path(app.state.report_dir) / rid
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html></html>", encoding="utf-8")
    meta = {
        "id": rid,
        "site": site,
        "created_at": "2026-12-07T12:00:00+00:00",
        "formats": ["html"],
        "links": {"html": f"/api/reports/{rid}/html"},
        "warnings": [],
    }
    (folder / "report.json").write_text(json.dumps(meta), encoding="utf-8")
    detail = _problem(c.get(f"/api/reports/{rid}/pdf"), 404)["detail"]
    assert detail == (
        f"report {rid} has no PDF: generate a report with one, POST /api/sites/{site}/reports "
        'with {"pdf": true}'
    ), detail


@pytest.mark.slow
def test_a_reports_warnings_name_the_body_members(world: dict[str, Any]) -> None:
    c, site = world["client"], world["site"]
    r = c.post(f"/api/sites/{site}/reports", json={"since": "2025-01-01"}, headers=AUTH)
    assert r.status_code == 201, r.text
    warnings = " ".join(r.json()["warnings"])
    assert "check `since` and `until`." in warnings, warnings
    assert "--since" not in warnings and "--until" not in warnings, warnings
    assert c.get(r.headers["location"]).json()["warnings"] == r.json()["warnings"]


def test_if_none_match_star_is_no_304_of_a_tile_outside_the_image(
    world: dict[str, Any],
) -> None:
    c, sid = world["client"], world["scene_ids"][0]
    star = {"If-None-Match": "*"}
    outside = c.get(f"/api/scenes/{sid}/tiles/10/0/0.png", headers=star)
    assert "outside the image" in _problem(outside, 404)["detail"]
    lon, lat = c.get(f"/api/scenes/{sid}").json()["footprint"]["coordinates"][0][0]
    z, x, y = _tile(lon, lat, 18)
    inside = c.get(f"/api/scenes/{sid}/tiles/{z}/{x}/{y}.png", headers=star)
    assert inside.status_code == 304 and inside.headers["etag"], inside.text
