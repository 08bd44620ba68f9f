"""``GET /api/sites`` reads its page's summaries in a fixed number of queries (session 33).

The list called the site summary once per site: four SQL statements a site (the
series' length and its last images, each with the site looked up), 1,206 for 300
sites, and ``?limit=1000`` over 1,003 sites took 4.1 s. The page's last images are now
read for all its sites at once (``row_number()`` over each site's images, newest
first), more only for the sites whose previous day counted the same way is further
back, with the summaries exactly those of ``GET /api/sites/{site}``, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import update

from helpers import statements
from railwatch.analysis.types import Alert as AlertValue
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.models import ANALYST, Count
from report_db import FakeCount, FakeQuality, add_counted_scene, add_ingested_scene

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

#: The resolutions of the images: cars one by one, occupied length, presence only.
GSDS = (0.5, 0.5, 3.0, 10.0)


def fill(db: Database, n_sites: int, *, seed: int = 0) -> None:
    """``n_sites`` sites around the world (their local days differ), each of one of
    several kinds: no images; images ingested only; unusable images only; a mix of
    0.5 m, 3 m and 10 m images, some unusable, some of one local day, some at the same
    instant, some reviewed by an analyst; every 12th from the 4th a series of 150
    images whose previous 0.5 m count lies before its last 140 images (read in more
    rounds). Alerts open, acknowledged and acknowledged then changed."""
    rng = np.random.default_rng(seed)
    t0 = datetime(2023, 1, 1, tzinfo=UTC)
    key = seed * 1_000_000
    with db.session() as s:
        for i in range(n_sites):
            lon = -170.0 + (i * 37) % 340 + 0.1
            lat = -60.0 + (i * 13) % 120 + 0.1
            bbox = f"{lon},{lat},{lon + 0.02},{lat + 0.02}"
            site = repo.add_site(s, site_from_bbox(f"site-{seed}-{i:04d}", bbox))
            kind = i % 6
            if kind == 0:
                continue
            if kind == 1:  # ingested, never processed
                for _ in range(3):
                    key += 1
                    add_ingested_scene(s, site, t0 + timedelta(hours=int(key % 900)), 0.5, key)
                continue
            if kind == 2:  # unusable only
                for j in range(4):
                    key += 1
                    sc = add_ingested_scene(s, site, t0 + timedelta(days=j * 3), 0.5, key)
                    quality = FakeQuality(clear_fraction=0.2, usable=False, reasons=("cloud",))
                    repo.record_scene_result(s, sc.id, quality, [], None, "test", "1")
                continue
            long = i % 12 == 3
            n = 150 if long else int(rng.integers(1, 45))
            when = t0
            for j in range(n):
                key += 1
                if long:
                    gsd = 0.5 if j in (0, 1, n - 1) else 3.0 if j % 9 else 10.0
                else:
                    gsd = GSDS[int(rng.integers(0, len(GSDS)))]
                step = int(rng.choice([0, 3, 7, 20, 30, 47]))  # same instant, same day, ...
                when = when + timedelta(hours=step)
                if rng.random() < 0.1 and not long:
                    sc = add_ingested_scene(s, site, when, gsd, key)
                    quality = FakeQuality(clear_fraction=0.2, usable=False, reasons=("haze",))
                    repo.record_scene_result(s, sc.id, quality, [], None, "test", "1")
                    continue
                method = "objects" if gsd < 1.5 else "length" if gsd < 10 else "presence"
                total = float(rng.integers(0, 2)) if method == "presence" else float(j % 11)
                by_class = {"tank": (total, total, total)} if method == "objects" else {}
                count = FakeCount(total, total - 1, total + 1, by_class, 0, method=method)
                scene_id = add_counted_scene(s, site, when, gsd, count, key)
                if rng.random() < 0.15:  # an analyst's count
                    s.execute(
                        update(Count).where(Count.scene_id == scene_id).values(detector=ANALYST)
                    )
            alerts = [
                AlertValue(
                    key=f"spike:all:{k}",
                    kind="spike",
                    severity=("high", "medium", "low", "info")[k % 4],
                    when=t0 + timedelta(days=k),
                    cls="all",
                    value=float(k),
                    explanation=f"alert {k}",
                )
                for k in range(i % 5)
            ]
            if alerts:
                repo.replace_alerts(s, site, alerts)
                for a in repo.list_alerts(s, site)[: i % 3]:
                    repo.acknowledge_alert(s, a.id, "seen")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db_url(request: pytest.FixtureRequest, tmp_db_url: str) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return tmp_db_url


def _client(db: Database, tmp_path: Path) -> Any:
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    settings = Settings(db=db.url, cache_dir=tmp_path / "cache")
    return TestClient(create_app(settings, db))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


def _list_statements(db: Database, client: Any) -> tuple[list[dict[str, Any]], int]:
    with statements(db) as seen:
        r = client.get("/api/sites", params={"limit": 1000})
    assert r.status_code == 200, r.text
    return r.json()["items"], len(seen)


def test_the_site_list_sends_as_many_statements_for_many_sites_as_for_few(
    db: Database, tmp_path: Path
) -> None:
    fill(db, 12, seed=1)
    with _client(db, tmp_path) as client:
        few, n_few = _list_statements(db, client)
        fill(db, 48, seed=2)  # four times as many sites more, of the same kinds
        many, n_many = _list_statements(db, client)
    assert len(few) == 12 and len(many) == 60
    assert n_many == n_few, (n_few, n_many)  # before: 4 more a site (48 + 4 * 12 vs 240)
    assert n_many < 20


def test_each_summary_of_the_list_is_that_of_the_site(db: Database, tmp_path: Path) -> None:
    fill(db, 42, seed=3)
    with _client(db, tmp_path) as client:
        items, n = _list_statements(db, client)
        assert n < 20, n  # before: 4 a site more (176)
        pages = [
            client.get("/api/sites", params={"limit": 5, "offset": k}).json()["items"]
            for k in range(0, 42, 5)
        ]
        assert [x for page in pages for x in page] == items  # paging alike
        kinds = set()
        for item in items:
            one = client.get(f"/api/sites/{item['name']}").json()
            assert item["summary"] == one["summary"], item["name"]
            assert {k: one[k] for k in item} == item
            summ = item["summary"]
            kinds.add(
                (
                    summ["latest_count"] is None,
                    summ["previous_count"] is None,
                    summ["latest_presence"] is None,
                    summ["latest_reviewed"],
                    summ["open_alerts"] > 0,
                )
            )
    # the data holds each case: no count, a count alone, a trend, presence, reviewed
    assert len(kinds) >= 5, kinds
    long = [i for i in items if i["scenes"] == 150]
    assert long and all(i["summary"]["previous_count"] is not None for i in long)
