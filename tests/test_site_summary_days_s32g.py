"""The site summary (``/api/sites``, ``/api/sites/{site}``, the dashboard's site list)
gives the site's daily series' last points: the latest local day's count (the image
the analysis, its alerts and the chart keep of that day) and its trend against the
previous day's count made the same way (session 32).

Before, it took the latest *image* and compared it with the image before, even one of
the same local day: at a yard at 118.2°W (nominal UTC-8) the images of 00:30 and 23:30
on the local 2024-03-05 (counts 9 and 7) gave "latest 7, down from 9", where the series,
its alerts and the chart have 9 on 2024-03-05 (the day keeps its better image; here the
higher count) and 9 the day before: flat.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box
from sqlalchemy import update

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from counted_site import add_counted_site
from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.storage.models import Count
from railwatch.web.app import create_app

#: 118.2°W: nominal UTC-8
WEST = box(-118.2006, 33.8995, -118.1994, 33.9005)
#: noon on the local 2024-03-04 (9), then 00:30 (9) and 23:30 (7) on the local 03-05
WEST_COUNTS = [
    (datetime(2024, 3, 4, 20, 0, tzinfo=UTC), 9.0),
    (datetime(2024, 3, 5, 8, 30, tzinfo=UTC), 9.0),
    (datetime(2024, 3, 6, 7, 30, tzinfo=UTC), 7.0),
]


def _summary(db: Database, tmp_path: Path, site: str) -> dict[str, Any]:
    c = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))
    one = c.get(f"/api/sites/{site}")
    assert one.status_code == 200, one.text
    listed = c.get("/api/sites")
    assert listed.status_code == 200, listed.text
    (item,) = [s for s in listed.json()["items"] if s["name"] == site]
    assert item["summary"] == one.json()["summary"]
    return dict(one.json()["summary"])


def test_the_summary_compares_the_latest_day_with_the_day_before(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    add_counted_site(db, "west", WEST, WEST_COUNTS)
    sm = _summary(db, tmp_path, "west")
    # the day's point: its image of 00:30 (scene 2), not the later image of that day
    assert sm["latest_count"] == 9.0 and sm["latest_scene_id"] == 2
    assert sm["latest_day"] == "2024-03-05"
    assert sm["latest_when"] == "2024-03-05T08:30:00+00:00"
    # the trend: against the day before, not the other image of the same day
    assert sm["previous_count"] == 9.0 and sm["previous_scene_id"] == 1
    assert sm["previous_day"] == "2024-03-04"
    assert sm["trend"] == "flat"


def _long_site(db: Database, counts: list[tuple[datetime, float]], length: set[int]) -> None:
    """Site 'far' at 118.2°W with ``counts``; the images (0-based) in ``length`` counted
    by occupied track length (3 m), the others by objects."""
    add_counted_site(db, "far", WEST, counts)
    with db.session() as s:
        s.execute(
            update(Count).where(Count.scene_id.in_([k + 1 for k in length])).values(method="length")
        )


def test_the_previous_day_made_the_same_way_is_found_far_back(tmp_path: Path) -> None:
    """The summary reads the series' last images only, and more where they hold no
    earlier day counted the same way; the first day of a part read may have images
    before it, so it is left out: here the part of the last 32 images holds only the
    second image (12) of the local 2024-01-01, whose point is its first image (30)."""
    start = datetime(2024, 1, 1, 20, 0, tzinfo=UTC)  # noon at the site
    counts = [(start, 30.0), (start + timedelta(hours=1), 12.0)]  # one day: 30 kept
    counts += [(start + timedelta(days=d), 50.0) for d in range(1, 31)]  # by length
    counts += [(start + timedelta(days=31), 40.0)]  # objects again: up from 30
    db = Database(f"sqlite:///{tmp_path / 'far.db'}")
    _long_site(db, counts, set(range(2, 32)))
    sm = _summary(db, tmp_path, "far")
    assert sm["latest_count"] == 40.0 and sm["latest_day"] == "2024-02-01"
    assert sm["previous_count"] == 30.0 and sm["previous_scene_id"] == 1
    assert sm["previous_day"] == "2024-01-01" and sm["trend"] == "up"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("uvicorn")
    from helpers import serve_db

    tmp = tmp_path_factory.mktemp("summary_days")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    try:
        add_counted_site(db, "west", WEST, WEST_COUNTS)
        with serve_db(db, tmp / "cache") as url:
            yield url
    finally:
        db.dispose()


@pytest.mark.slow
@pytest.mark.services
def test_the_site_list_shows_the_days_count_and_trend(served: str) -> None:
    """The dashboard's site list: the day's count (9, not the later image's 7), the
    trend arrow of the day before (flat) and its words naming that day."""
    from helpers import chromium

    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{served}/")
        page.wait_for_selector(".site-row")
        cell = page.locator(".site-row .latest")
        assert cell.inner_text().split()[0] == "9"
        assert "2024-03-05" in cell.inner_text()
        assert page.locator(".site-row .trend").inner_text().strip() == "▶"
        words = page.locator(".site-row .trend-words").text_content() or ""
        assert words.strip() == (
            "(trend: flat from 9 on 2024-03-04, the day before (±0): the last earlier day "
            "with a count made the same way)"
        )
        page.close()
