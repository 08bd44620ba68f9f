"""A count by occupied track length (3 m) tells the total only: its types, "railcar"
(since session 22: it only repeated the total) and covered loads are unknown, never 0,
in the count series, the API, the exports and the report (before, a 3 m image read
"0 tank cars, 0 covered, interval 0-0")."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from railwatch.detect.base import tells_class
from railwatch.export.layers import site_layers
from railwatch.report.data import scene_row
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import Count
from report_db import SITE_UTM, FakeCount, add_counted_scene, to_wgs84


def test_the_rule() -> None:
    assert tells_class("tank", "objects") and tells_class("covered", "objects")
    # occupied length tells the total only: a railcar series would repeat it (session 22)
    assert tells_class("all", "length") and not tells_class("railcar", "length")
    assert not tells_class("tank", "length") and not tells_class("covered", "length")
    assert not tells_class("covered", "presence")


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = Database(f"sqlite:///{tmp_path / 'untold.db'}")
    with database.session() as s:
        site = repo.add_site(s, SiteSpec(name="mixed", geometry=to_wgs84(SITE_UTM)))
        for day, gsd, count in (
            (1, 0.5, FakeCount(10.0, 9.0, 12.0, {"tank": (4, 4, 4), "railcar": (6, 6, 6)}, 3)),
            (2, 3.0, FakeCount(20.0, 15.0, 30.0, {"railcar": (20, 15, 30)}, 0, method="length")),
        ):
            add_counted_scene(s, site, datetime(2024, 7, day, 2, 0, tzinfo=UTC), gsd, count, day)
    yield database
    database.dispose()


def test_series_exports_and_report(db: Database) -> None:
    with db.session(readonly=True) as s:
        _, coarse = repo.list_scenes(s, "mixed")
        stored = {c.cls for c in s.query(Count).filter(Count.scene_id == coarse.id)}
        assert stored == {"all", "railcar"}  # no "covered" row of 0
        for cls in ("tank", "boxcar", "covered"):
            p_fine, p_coarse = repo.count_series(s, "mixed", cls=cls)
            assert p_fine.count == {"tank": 4.0, "boxcar": 0.0, "covered": 3.0}[cls]
            assert p_coarse.usable and p_coarse.count is None and p_coarse.high is None
            assert p_coarse.method == "length" and not p_coarse.is_usable
        assert [p.count for p in repo.count_series(s, "mixed", cls="railcar")] == [6.0, None]
        assert [p.count for p in repo.count_series(s, "mixed", cls="all")] == [10.0, 20.0]

        rows = site_layers(s, "mixed")["counts"].records
        assert rows[0]["count_tank"] == 4.0 and rows[0]["covered"] == 3.0
        assert rows[1]["count_tank"] is None and rows[1]["covered"] is None
        assert rows[1]["count_railcar"] is None and rows[1]["count"] == 20.0

        counts = list(s.query(Count).filter(Count.scene_id == coarse.id))
        row = scene_row(coarse, counts)
        assert row.covered is None and row.by_class == {}


def test_a_covered_row_stored_by_an_older_version_is_not_shown(db: Database) -> None:
    """Databases written before this rule have a covered row of 0 for 3 m images."""
    with db.session() as s:
        _, coarse = repo.list_scenes(s, "mixed")
        s.add(
            Count(
                scene_id=coarse.id, cls="covered", count=0.0, low=0.0, high=0.0,
                method="length", coverage=1.0, detector="test", version="1",
            )
        )  # fmt: skip
    with db.session(readonly=True) as s:
        _, p_coarse = repo.count_series(s, "mixed", cls="covered")
        assert p_coarse.count is None
        assert site_layers(s, "mixed")["counts"].records[1]["covered"] is None
        counts = list(s.query(Count).filter(Count.scene_id == coarse.id))
        assert scene_row(coarse, counts).covered is None


def test_api_scene_and_series(db: Database, tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    client = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))
    r = client.get("/api/sites/mixed/counts", params={"class": "tank"})
    assert r.status_code == 200, r.text
    assert [(p["count"], p["usable"]) for p in r.json()["items"]] == [(4.0, True), (None, True)]
    with db.session(readonly=True) as s:
        _, coarse = repo.list_scenes(s, "mixed")
    scene = client.get(f"/api/scenes/{coarse.id}").json()
    assert set(scene["counts"]) == {"all"}  # railcar would only repeat the total
