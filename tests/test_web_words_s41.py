"""The web's words for what the library and the CLI say (session 41).

1. A ``422`` of ``POST /api/sites`` about the GeoJSON given as ``geometry`` called it the
   "site GeoJSON" (the library's name for ``--geojson FILE``): "site GeoJSON geometry
   must be a Polygon or MultiPolygon, got Point". It names the API's field now; the CLI
   and the library keep their words (``railwatch.sites.SITE_GEOJSON``, replaced by
   ``web.errors.API_HINTS``).
2. A coarse scene of a site without track centrelines (failed, ``needs_tracks``) told web
   users to run ``railwatch site edit SITE --tracks FILE``: its error in the API (as
   stored, the command named for the site) and the dashboard's words. Both name the
   API's request now (``PATCH /api/sites/SITE`` with the lines as ``tracks``:
   ``web.errors.API_COMMANDS``, through ``api_words``, where the web shows the error);
   the stored error, the CLI's and the report's words are as they were.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from test_followup2_s40 import no_tracks  # noqa: F401 (the fixture: a site without tracks)
from test_leftovers_s41 import copy_db, web  # noqa: F401 (web: the app over a new database)


def _polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


_YARD = [[130.605, 42.419], [130.611, 42.419], [130.611, 42.4238], [130.605, 42.4238]]
#: GeoJSON refused as a site, each for another reason (the words at the start of each)
_BAD_GEOMETRY: dict[str, dict[str, Any]] = {
    "a point": {"type": "Point", "coordinates": [130.6, 42.4]},
    "a line": {"type": "LineString", "coordinates": [[130.6, 42.4], [130.61, 42.41]]},
    "no features": {"type": "FeatureCollection", "features": []},
    "a feature without geometry": {"type": "Feature", "properties": {}, "geometry": None},
    "a misspelt type": {"type": "Polygonn", "coordinates": [[*_YARD, _YARD[0]]]},
    "an unclosed ring": {"type": "Polygon", "coordinates": [_YARD]},
    "no type": {},
    "a number as text": _polygon([["130.605", 42.419], *_YARD[1:]]),  # type: ignore[list-item]
    "a bow tie": _polygon([[130.6, 42.4], [130.61, 42.41], [130.61, 42.4], [130.6, 42.41]]),
    "lat,lon": _polygon([[42.4, 130.6], [42.4, 130.61], [42.41, 130.61], [42.41, 130.6]]),
    "too large": _polygon([[100, 40], [102, 40], [102, 42], [100, 42]]),
}


@pytest.mark.parametrize("why", list(_BAD_GEOMETRY))
def test_a_422_about_the_geometry_names_the_field(web: Any, why: str) -> None:  # noqa: F811
    r = web.post("/api/sites", json={"name": "yard", "geometry": _BAD_GEOMETRY[why]})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith("`geometry` "), detail
    assert "site GeoJSON" not in detail and "`geometry` geometry" not in detail, detail


def test_the_cli_keeps_its_words_for_the_site_geojson(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    point = tmp_path / "point.geojson"
    point.write_text('{"type": "Point", "coordinates": [130.6, 42.4]}', encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    capsys.readouterr()
    assert main(["--db", url, "site", "add", "yard", "--geojson", str(point)]) != 0
    said = " ".join(capsys.readouterr().err.split())
    assert "site GeoJSON geometry must be a Polygon or MultiPolygon, got Point" in said
    assert "--bbox W,S,E,N" in said and "`geometry`" not in said


#: what a web user is told to do for a scene that needs site yard's track centrelines
_REQUEST = "PATCH /api/sites/yard with them as `tracks`"
#: the command line's words for it, which the web's must not hold
_COMMAND = ("railwatch site edit", "--tracks FILE")


def test_the_api_says_its_own_request_for_a_scene_that_needs_tracks(
    no_tracks: dict[str, object],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.counting import GIVE_TRACKS, needs_tracks
    from railwatch.settings import Settings
    from railwatch.storage import repo
    from railwatch.web.app import create_app

    capsys.readouterr()
    db = copy_db(str(no_tracks["url"]), tmp_path)
    sid, gone = no_tracks["tracks"], no_tracks["gone"]
    app = create_app(Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "c"), db)
    try:
        client = TestClient(app, headers={"Authorization": "Bearer t"})
        listed = {it["id"]: it for it in client.get("/api/sites/yard/scenes").json()["items"]}
        for scene in (listed[sid], client.get(f"/api/scenes/{sid}").json()):
            assert scene["needs_tracks"] is True
            said = scene["error"]
            assert f"Give the site its track centrelines ({_REQUEST})" in said, said
            assert not [w for w in _COMMAND if w in said], said
        # the plain failure is as it was (its file is gone)
        assert listed[gone]["needs_tracks"] is False and listed[gone]["error"]
        described = client.get("/openapi.json").json()["components"]["schemas"]["Scene"]
        words = described["properties"]["needs_tracks"]["description"]
        assert "PATCH /api/sites/SITE with them as `tracks`" in words
        assert not [w for w in _COMMAND if w in words], words
        # the store is the CLI's too: its error is as the CLI says it
        with db.session(readonly=True) as s:
            stored = repo.get_scene(s, int(str(sid))).error
        assert GIVE_TRACKS in (stored or "") and needs_tracks(stored)
        # as JSON: the table's width (and so whether the error is cut) depends on the
        # terminal the suite runs in
        assert main(["--db", db.url, "scene", "list", "yard", "--json"]) == 0
        cli = json.loads(capsys.readouterr().out)
        cli_error = next(it["error"] for it in cli if it["id"] == int(str(sid)))
        # the CLI's words, its site named as its table names it (session 41: the stored
        # text, SITE; test_leftovers2_s41)
        assert "`railwatch site edit yard --tracks FILE`" in cli_error
        # what the words say works: the site takes its centrelines so
        line = {"type": "LineString", "coordinates": [[130.6055, 42.4200], [130.6105, 42.4230]]}
        done = client.patch("/api/sites/yard", json={"tracks": line})
        assert done.status_code == 200, done.text
        assert done.json()["tracks"] is not None
    finally:
        db.dispose()


@pytest.mark.slow
@pytest.mark.services
def test_the_dashboard_says_the_apis_request_for_a_scene_that_needs_tracks(
    no_tracks: dict[str, object],  # noqa: F811
    browser: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The site page in headless Chromium, offline: the scene's entry and its review box
    name the API's request, as the API's error does; no CLI command."""
    pytest.importorskip("uvicorn")
    from helpers import serve_db

    capsys.readouterr()
    db = copy_db(str(no_tracks["url"]), tmp_path)
    sid = no_tracks["tracks"]
    try:
        with serve_db(db, tmp_path / "c", token="t") as url:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/sites/yard#{sid}")
            page.wait_for_selector("body[data-ready='1']")
            title = page.locator(f"button.scene[data-scene='{sid}']").get_attribute("title")
            box = page.wait_for_selector("#review .review-needs-tracks")
            said = " ".join((box.text_content() if box else "").split())
            info = " ".join((page.locator("#scene-info").text_content() or "").split())
            for words in (title or "", said, info):
                assert _REQUEST in words, words
                assert not [w for w in _COMMAND if w in words], words
            assert f"give the site its track centrelines ({_REQUEST}) and process it" in said
            assert errors == []
    finally:
        db.dispose()
