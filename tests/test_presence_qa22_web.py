"""The web API never serves a 10 m presence image as a count of cars: its stored total
is only whether a long train is present (1 or 0). Scenes, site summaries and the count
series give ``null`` counts there and ``long_train_present`` (session 22, coarse QA)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from railwatch.settings import Settings
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.web.app import create_app
from report_db import SITE_UTM, FakeCount, FakeQuality, add_counted_scene, to_wgs84

T0 = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)
SITE = "mixed"


def _fill(db: Database, plan: tuple[tuple[int, float, FakeCount], ...]) -> list[int]:
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name=SITE, geometry=to_wgs84(SITE_UTM)))
        return [
            add_counted_scene(s, site, T0 + timedelta(days=day), gsd, count, day)
            for day, gsd, count in plan
        ]


def _presence(flag: float) -> FakeCount:
    return FakeCount(flag, flag, flag, {}, 0, method="presence")


#: 0.5 m (10 cars), 10 m no long train, 3 m (20 car equivalents), 0.5 m (12 cars),
#: 10 m a long train: the newest image is a presence image
PLAN = (
    (1, 0.5, FakeCount(10.0, 9.0, 12.0, {"tank": (4, 4, 4), "railcar": (6, 6, 6)}, 3)),
    (2, 10.0, _presence(0.0)),
    (3, 3.0, FakeCount(20.0, 15.0, 30.0, {"railcar": (20, 15, 30)}, 0, method="length")),
    (4, 0.5, FakeCount(12.0, 11.0, 14.0, {"tank": (5, 5, 5), "railcar": (7, 7, 7)}, 2)),
    (5, 10.0, _presence(1.0)),
)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'presence.db'}")
    ids = _fill(db, PLAN)
    app = create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db)
    try:
        yield {"client": TestClient(app), "ids": ids, "db": db}
    finally:
        db.dispose()


def test_scene_list_gives_presence_no_total_but_its_flag(world: dict[str, Any]) -> None:
    """Before: count.total 0.0 for the 10 m image without a long train (an empty yard)
    and 1.0 for the one with a long train (one car)."""
    c: TestClient = world["client"]
    items = c.get(f"/api/sites/{SITE}/scenes").json()["items"]
    counts = [sc["count"] for sc in items]
    assert [x["method"] for x in counts] == ["objects", "presence", "length", "objects", "presence"]
    for x, flag in ((counts[1], False), (counts[4], True)):
        assert x["total"] is None and x["low"] is None and x["high"] is None
        assert x["long_train_present"] is flag
    assert counts[0]["total"] == 10.0 and counts[0]["long_train_present"] is None
    assert counts[2]["total"] == 20.0 and counts[2]["long_train_present"] is None


def test_scene_show_gives_presence_no_total_and_no_class_counts(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    ids = world["ids"]
    body = c.get(f"/api/scenes/{ids[4]}").json()
    assert body["count"] == {
        "total": None,
        "low": None,
        "high": None,
        "method": "presence",
        "long_train_present": True,
        # no interval to rest on a spread of recall (session 51)
        "interval_spread_assumed": None,
    }
    assert body["counts"] == {}  # the flag is no count of any class
    empty = c.get(f"/api/scenes/{ids[1]}").json()["count"]
    assert empty["total"] is None and empty["long_train_present"] is False
    fine = c.get(f"/api/scenes/{ids[3]}").json()
    assert fine["count"]["total"] == 12.0 and fine["counts"]["all"]["count"] == 12.0


def test_site_summary_leaves_presence_out_of_the_counts(world: dict[str, Any]) -> None:
    """Before: latest_count 1.0 (the 10 m flag) with trend 'none', and a 10 m image
    without a long train between two counts was 'the previous count' of another 10 m
    image."""
    c: TestClient = world["client"]
    ids = world["ids"]
    sm = c.get(f"/api/sites/{SITE}").json()["summary"]
    assert sm["latest_count"] == 12.0 and sm["latest_scene_id"] == ids[3]
    assert sm["previous_count"] == 10.0 and sm["trend"] == "up"
    assert sm["latest_presence"] == {
        "when": (T0 + timedelta(days=5)).isoformat(),
        "day": "2024-07-06",  # its day at the site (session 31)
        "scene_id": ids[4],
        "long_train_present": True,
    }
    listed = c.get("/api/sites").json()["items"][0]["summary"]
    assert listed == sm


def test_site_summary_without_a_newer_presence_image(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    _fill(db, ((1, 10.0, _presence(0.0)), (2, 0.5, PLAN[0][2])))  # 10 m, then a count
    c = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))
    sm = c.get(f"/api/sites/{SITE}").json()["summary"]
    assert sm["latest_count"] == 10.0 and sm["previous_count"] is None
    assert sm["trend"] == "none" and sm["latest_presence"] is None
    db.dispose()


def test_site_summary_with_only_presence_images(tmp_path: Path) -> None:
    """Only 10 m images: no count at all (it said latest_count 0.0, trend 'down' from
    1.0: a train that left read as a count falling)."""
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    ids = _fill(db, ((1, 10.0, _presence(1.0)), (2, 10.0, _presence(0.0))))
    c = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))
    sm = c.get(f"/api/sites/{SITE}").json()["summary"]
    assert sm["latest_count"] is None and sm["previous_count"] is None
    assert sm["trend"] == "none"
    assert sm["latest_presence"]["scene_id"] == ids[1]
    assert sm["latest_presence"]["long_train_present"] is False
    db.dispose()


def test_count_series_gives_presence_null_counts_and_its_flag(world: dict[str, Any]) -> None:
    """Before: the total's series had 0.0 and 1.0 at the 10 m images, drawn on the
    chart as counts of 0 and 1 railcars."""
    c: TestClient = world["client"]
    items = c.get(f"/api/sites/{SITE}/counts").json()["items"]
    assert [p["count"] for p in items] == [10.0, None, 20.0, 12.0, None]
    assert [p["long_train_present"] for p in items] == [None, False, None, None, True]
    for p in (items[1], items[4]):
        assert p["usable"] is True and p["method"] == "presence"
        assert p["low"] is None and p["high"] is None
    # a class's series: the flag belongs to the total, a class is only untold there
    tank = c.get(f"/api/sites/{SITE}/counts", params={"class": "tank"}).json()["items"]
    assert [p["count"] for p in tank] == [4.0, None, None, 5.0, None]
    assert all(p["long_train_present"] is None for p in tank)


def test_count_csv_gives_presence_empty_counts_and_its_flag(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    r = c.get(f"/api/sites/{SITE}/counts", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["count"] for row in rows] == ["10.0", "", "20.0", "12.0", ""]
    assert [row["long_train_present"] for row in rows] == ["", "false", "", "", "true"]
    assert rows[4]["low"] == "" and rows[4]["high"] == "" and rows[4]["method"] == "presence"


def test_unusable_10m_image_is_a_gap_without_a_flag(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    ids = _fill(db, ((1, 10.0, _presence(1.0)),))
    with db.session() as s:
        repo.record_scene_result(
            s, ids[0], FakeQuality(0.2, usable=False, reasons=("cloud",)), [], None, "t", "1"
        )
    c = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))
    (point,) = c.get(f"/api/sites/{SITE}/counts").json()["items"]
    assert point["usable"] is False and point["count"] is None
    assert point["long_train_present"] is None
    (scene,) = c.get(f"/api/sites/{SITE}/scenes").json()["items"]
    assert scene["count"] is None
    db.dispose()
