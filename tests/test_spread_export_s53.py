"""The exports of a site's counts (``railwatch export``: CSV, GeoJSON, GeoPackage) and
the CSV of ``GET /api/sites/{site}/counts?format=csv`` say whether each count's 90 %
interval rests on an assumed scene-to-scene spread of the detector's recall
(``interval_spread_assumed``), as the JSON series, ``scene show`` and the report have
since sessions 51-52: they gave the interval without a word, and ``analyze --counts``
reads both files back with the column (2026-12-08, session 53).

Also: the report's scene row reads whether its total is an analyst's by its one rule
(``report.data.row_reviewed``) for every field of the review.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.storage import repo
from railwatch.storage.models import Scene
from test_report_leftovers_s51 import SD_MEASURED
from test_spread_flag_s52 import db_url, world

__all__ = ["db_url", "world"]  # the fixtures (session 52's), used by name

FLAG = "interval_spread_assumed"


def _ids(world: dict[str, Any]) -> list[int]:
    """The ids of the site's three scenes, in order."""
    with world["db"].session(readonly=True) as s:
        return sorted(sc.id for sc in repo.list_scenes(s, "yard"))


def _export_csv(world: dict[str, Any]) -> list[dict[str, str]]:
    out = world["tmp"] / "counts.csv"
    assert main(["--db", world["url"], "export", "yard", "--format", "csv", "-o", str(out)]) == 0
    return list(csv.DictReader(out.open(encoding="utf-8")))


def _export_geojson(world: dict[str, Any]) -> list[Any]:
    out = world["tmp"] / "counts.geojson"
    argv = ["export", "yard", "--format", "geojson", "--layer", "counts", "-o", str(out)]
    assert main(["--db", world["url"], *argv]) == 0
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    return [f["properties"][FLAG] for f in features]


def _api_csv(client: Any, query: str = "") -> list[dict[str, str]]:
    r = client.get(f"/api/sites/yard/counts?format=csv{query}")
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.text)))


def _client(world: dict[str, Any]) -> Any:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db = world["db"]
    return TestClient(create_app(Settings(db=db.url, cache_dir=world["tmp"] / "cache"), db))


def _forget_flag(world: dict[str, Any], scene_id: int) -> None:
    """Scene ``scene_id`` as counted before session 51: no record of its interval."""
    with world["db"].session() as s:
        scene = s.get(Scene, scene_id)
        assert scene is not None and repo.INTERVAL_KEY in scene.meta
        scene.meta = {k: v for k, v in scene.meta.items() if k != repo.INTERVAL_KEY}


def test_the_counts_export_says_whether_each_interval_rests_on_an_assumed_spread(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.export.layers import COUNT_SCHEMA

    ids = _ids(world)
    rows = _export_csv(world)
    assert [r[FLAG] for r in rows] == ["true", "true", "true"]
    # after the review's columns, before the per-class counts
    header = list(rows[0])
    assert header[header.index("detector_count") + 1] == FLAG
    assert header[header.index(FLAG) + 1].startswith("count_")
    assert dict(COUNT_SCHEMA)[FLAG] == "bool"
    assert _export_geojson(world) == [True, True, True]
    # `analyze --counts` reads the file back (an unknown column is refused)
    assert main(["analyze", "--counts", str(world["tmp"] / "counts.csv")]) == 0

    with world["db"].session() as s:
        repo.set_scene_review(s, ids[0], {"all": 2})  # an analyst's count: its own interval
        repo.set_scene_unusable_review(s, ids[1], "cloud over the yard")  # a gap
    _forget_flag(world, ids[2])  # counted before the flag was kept: not known, not false
    assert [r[FLAG] for r in _export_csv(world)] == ["", "", ""]
    assert _export_geojson(world) == [None, None, None]

    # measured: false; without a calibration: not known
    with world["db"].session() as s:
        repo.remove_scene_review(s, ids[0])
        repo.remove_scene_review(s, ids[1])
    world["use"](SD_MEASURED)
    assert [r[FLAG] for r in _export_csv(world)] == ["false", "false", "false"]
    assert _export_geojson(world) == [False, False, False]
    world["use"](None)
    assert [r[FLAG] for r in _export_csv(world)] == ["", "", ""]
    capsys.readouterr()


def test_the_geopackage_counts_have_the_flag_as_a_nullable_boolean(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    pyogrio = pytest.importorskip("pyogrio")

    _forget_flag(world, _ids(world)[2])
    out = world["tmp"] / "yard.gpkg"
    assert main(["--db", world["url"], "export", "yard", "--format", "gpkg", "-o", str(out)]) == 0
    info = pyogrio.read_info(out, layer="counts")
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert types[FLAG] == "bool"
    table = pyogrio.read_dataframe(out, layer="counts")
    assert table[FLAG].tolist()[:2] == [True, True]
    assert table[FLAG].isna().tolist() == [False, False, True]
    capsys.readouterr()


def test_the_api_counts_csv_has_the_flag_of_the_json(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.web.routes.counts import FIELDS

    ids = _ids(world)
    client = _client(world)
    rows = _api_csv(client)
    assert list(rows[0]) == list(FIELDS) and FIELDS[-1] == FLAG
    assert [r[FLAG] for r in rows] == ["true", "true", "true"]
    assert [r[FLAG] for r in _api_csv(client, "&class=boxcar&limit=1&offset=2")] == ["true"]
    # as the JSON says it
    with world["db"].session() as s:
        repo.set_scene_review(s, ids[0], {"all": 2})  # an analyst's count
        repo.set_scene_unusable_review(s, ids[1], "cloud over the yard")  # a gap
    _forget_flag(world, ids[2])  # counted before the flag was kept

    def both() -> list[str]:
        items = client.get("/api/sites/yard/counts").json()["items"]
        cells = [r[FLAG] for r in _api_csv(client)]
        assert cells == [{True: "true", False: "false", None: ""}[i[FLAG]] for i in items]
        return cells

    assert both() == ["", "", ""]
    with world["db"].session() as s:
        repo.remove_scene_review(s, ids[0])
    assert both() == ["true", "", ""]
    with world["db"].session() as s:
        repo.remove_scene_review(s, ids[1])
    world["use"](SD_MEASURED)
    assert both() == ["false", "false", "false"]
    # `analyze --counts` reads it back
    path = world["tmp"] / "api.csv"
    path.write_text(client.get("/api/sites/yard/counts?format=csv").text, encoding="utf-8")
    assert main(["analyze", "--counts", str(path)]) == 0
    capsys.readouterr()


def test_the_report_reads_an_analysts_total_by_its_one_rule() -> None:
    """A scene an analyst counted that is unusable now (its quality judged again): no
    field of its row is the review's, its note neither (it was kept)."""
    from railwatch.report.data import row_reviewed, scene_row
    from railwatch.storage.models import ANALYST, Count, SceneReview

    when = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    total = Count(cls="all", count=7.0, low=7.0, high=7.0, method="objects", detector=ANALYST)
    machine = {"all": {"count": 9.0, "low": 8.0, "high": 11.0}}
    review = SceneReview(machine=machine, cars=[{"type": "Feature"}], note="checked by hand")
    for usable, status in ((True, "processed"), (False, "unusable"), (False, "processed")):
        scene = Scene(
            id=1, acquired_at=when, gsd=0.5, usable=usable, status=status, meta={}, reasons=[]
        )
        row = scene_row(scene, [total], review)
        mine = row_reviewed(ANALYST, repo.usable_processed(usable, status))
        assert row.reviewed is mine
        assert (row.detector_total is not None) is mine
        assert row.review_outlines is mine
        assert (row.review_note == "checked by hand") is mine
