"""The count series of the web API (``GET /api/sites/{site}/counts``) and ``railwatch
scene show --json`` say whether a count's 90 % interval rests on an assumed
scene-to-scene spread of the detector's recall (``interval_spread_assumed``), as a
scene's ``count`` in the API has since session 51: both gave the interval without a word
(2026-12-08, session 52)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.storage import repo
from test_report_leftovers_s51 import SD_ASSUMED, SD_MEASURED, CalibratedRects

pytest.importorskip("fastapi")

FLAG = "interval_spread_assumed"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db_url(request: pytest.FixtureRequest, tmp_db_url: str) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return tmp_db_url


@pytest.fixture
def world(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Three 0.5 m scenes of site yard, counted with a calibration whose spread of
    recall is assumed; ``use(calibration)`` counts them again with another."""
    import railwatch.detect.registry as registry
    from test_distributed import setup_db

    db = setup_db(db_url, tmp_path, 3)

    def use(calibration: Any) -> None:
        monkeypatch.setattr(
            registry, "get_detector", lambda name="default": CalibratedRects(calibration)
        )
        assert main(["--db", db_url, "process", "yard", "--reprocess"]) == 0

    use(SD_ASSUMED)
    yield {"db": db, "url": db_url, "use": use, "tmp": tmp_path}
    db.dispose()


def _client(world: dict[str, Any]) -> Any:
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db = world["db"]
    return TestClient(create_app(Settings(db=db.url, cache_dir=world["tmp"] / "cache"), db))


def _flags(client: Any, query: str = "") -> list[bool | None]:
    r = client.get(f"/api/sites/yard/counts{query}")
    assert r.status_code == 200, r.text
    return [i[FLAG] for i in r.json()["items"]]


def test_the_count_series_says_whether_each_interval_rests_on_an_assumed_spread(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.web import schemas
    from railwatch.web.routes.counts import FIELDS

    client = _client(world)
    r = client.get("/api/sites/yard/counts")
    items = r.json()["items"]
    assert [i[FLAG] for i in items] == [True, True, True]
    # the other members as before, the flag last; the body as its schema declares it
    assert list(items[0])[-2:] == ["day", FLAG]
    assert list(items[0])[:-1] == [
        "when", "scene_id", "gsd", "class", "cls", "count", "low", "high", "usable",
        "clear_fraction", "coverage", "method", "long_train_present", "reviewed", "day",
    ]  # fmt: skip
    schemas.CountSeries.model_validate(r.json())
    point = client.get("/openapi.json").json()["components"]["schemas"]["CountPoint"]
    assert FLAG in point["properties"] and FLAG in point["required"]
    assert "assumed scene-to-scene spread" in point["properties"][FLAG]["description"]
    # a class's series too (its interval is the same calibration's); a page of it
    assert _flags(client, "?class=boxcar") == [True, True, True]
    assert _flags(client, "?limit=1&offset=2") == [True]
    # the CSV has it too, its last column, since session 53 (`analyze --counts` passes
    # it over: tests/test_spread_export_s53.py)
    csv = client.get("/api/sites/yard/counts?format=csv").text
    assert csv.splitlines()[0] == ",".join(FIELDS) and FIELDS[-1] == FLAG

    ids = [i["scene_id"] for i in items]
    with world["db"].session() as s:
        repo.set_scene_review(s, ids[0], {"all": 2})  # an analyst's count: not known
        repo.set_scene_unusable_review(s, ids[1], "cloud over the yard")  # a gap
    assert _flags(client) == [None, None, True]
    # as each scene's own count says it
    scenes = client.get("/api/sites/yard/scenes").json()["items"]
    by_id = {sc["id"]: (sc["count"] or {}).get(FLAG) for sc in scenes}
    assert [by_id[i] for i in ids] == _flags(client)

    # measured: false; without a calibration: not known
    with world["db"].session() as s:
        repo.remove_scene_review(s, ids[0])
        repo.remove_scene_review(s, ids[1])
    world["use"](SD_MEASURED)
    assert _flags(client) == [False, False, False]
    world["use"](None)
    assert _flags(client) == [None, None, None]
    capsys.readouterr()


def _show(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> Any:
    capsys.readouterr()
    assert main(["--db", url, "scene", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_scene_show_json_says_whether_each_count_rests_on_an_assumed_spread(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    url = world["url"]
    listed = _show(capsys, url, "list", "yard")
    ids = sorted(d["id"] for d in listed)
    # `scene list --json` gives the total's (count_dict, session 51)
    assert [d["count"][FLAG] for d in listed] == [True, True, True]
    shown = _show(capsys, url, "show", str(ids[0]))
    assert set(shown["counts"]) >= {"all", "boxcar"}
    assert {c: v[FLAG] for c, v in shown["counts"].items()} == dict.fromkeys(shown["counts"], True)
    # the other members as before
    assert list(shown["counts"]["all"]) == ["count", "low", "high", "method", FLAG]
    # the text says it too, and what to do
    assert main(["--db", url, "scene", "show", str(ids[0])]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "note the detector's 90 % intervals rest on an assumed scene-to-scene spread of its "
        "recall (its calibration had fewer than 2 labelled images of 5 or more cars at "
        "0.5 m)" in text
    ), text
    assert "`railwatch process yard --reprocess`" in text
    # as the API's counts per class of the scene say it
    from railwatch.web import schemas

    client = _client(world)
    api = client.get(f"/api/scenes/{ids[0]}").json()
    assert {c: v[FLAG] for c, v in api["counts"].items()} == dict.fromkeys(api["counts"], True)
    assert (
        FLAG
        in client.get("/openapi.json").json()["components"]["schemas"]["ClassCount"]["properties"]
    )
    schemas.Scene.model_validate(api)

    with world["db"].session() as s:
        repo.set_scene_review(s, ids[0], {"all": 2})
    shown = _show(capsys, url, "show", str(ids[0]))
    assert shown["counts"]["all"][FLAG] is None  # the analyst's count: its own interval
    assert shown["counts"]["boxcar"][FLAG] is True  # still the detector's
    api = client.get(f"/api/scenes/{ids[0]}").json()["counts"]
    assert (api["all"][FLAG], api["boxcar"][FLAG]) == (None, True)

    world["use"](SD_MEASURED)
    shown = _show(capsys, url, "show", str(ids[1]))
    assert shown["counts"]["all"][FLAG] is False
    assert main(["--db", url, "scene", "show", str(ids[1])]) == 0
    assert "assumed scene-to-scene spread" not in capsys.readouterr().out
    world["use"](None)
    shown = _show(capsys, url, "show", str(ids[1]))
    assert shown["counts"]["all"][FLAG] is None


def test_the_flags_of_a_page_are_read_by_its_one_statement(world: dict[str, Any]) -> None:
    from helpers import statements

    db = world["db"]
    with db.session(readonly=True) as s:
        ids = [sc.id for sc in repo.list_scenes(s, "yard")]
        with statements(db) as plain:
            before = repo.count_series_page(s, "yard", limit=2, offset=1)
        flags: dict[int, bool | None] = {}
        with statements(db) as sql:
            page = repo.count_series_page(s, "yard", limit=2, offset=1, spread=flags)
        assert page == before  # the same points
        assert flags == dict.fromkeys(sorted(ids)[1:], True)  # the page's scenes alone
        assert len(sql) == len(plain), sql  # no statement more
