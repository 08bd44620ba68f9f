"""The dashboard chart's month and year ticks stand at the site's local midnights
(session 32), as the report's chart's do since 78e738d.

They stood at UTC midnights, and not even at midnight: the month ticks kept the time of
day of the chart's first image. At a site at 175°E (nominal UTC+12) the image of 10:00
on the local 1 March 2024 (22:00 UTC on 29 February), whose point and list entry say
2024-03-01, stood before the tick "2024-03"; at 179.5°W (UTC-12) the image of 23:30 on
the local 29 February (11:30 UTC on 1 March) after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from shapely.geometry import Polygon, box

from counted_site import add_counted_site
from railwatch.storage import Database

EAST = box(175.0, -41.3, 175.01, -41.29)  # UTC+12
WEST = box(-179.51, 65.0, -179.5, 65.01)  # UTC-12


def _times(last: datetime, years: int = 0) -> list[datetime]:
    """Images every 9 days up to ``last`` (at its time of day), over about 3 months, or
    over ``years`` years and 3 months (year ticks)."""
    n = 10 + years * 41
    return [last - timedelta(days=9 * k) for k in range(n)][::-1]


@pytest.fixture
def page_of(tmp_path: Path) -> Iterator[Any]:
    from helpers import chromium, serve_db

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    opened: list[Any] = []

    def open_site(name: str, geometry: Polygon, times: list[datetime]) -> Any:
        add_counted_site(db, name, geometry, [(w, 10.0 + i % 3) for i, w in enumerate(times)])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/sites/{name}")
        page.wait_for_selector("body[data-ready='1']")
        opened.append(page)
        return page

    try:
        with serve_db(db, tmp_path / "cache") as url, chromium() as browser:
            yield open_site
    finally:
        db.dispose()


def _ticks_and_points(page: Any) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    ticks = page.eval_on_selector_all(
        ".chart-svg text.tick",
        "ns => ns.map(n => [Number(n.getAttribute('x')), n.textContent])",
    )
    points = page.eval_on_selector_all(
        ".chart-svg circle.pt",
        "ns => ns.map(n => [Number(n.getAttribute('cx')), n.dataset.date])",
    )
    time_ticks = [(x, t) for x, t in ticks if "-" in t or (len(t) == 4 and t.startswith("20"))]
    return time_ticks, points


def _check(ticks: list[tuple[float, str]], points: list[tuple[float, str]]) -> None:
    """Every point stands after the tick of its own month (or year) and before the next."""
    assert ticks and points
    for cx, day in points:
        for x, label in ticks:
            if day.startswith(label):
                assert cx >= x, (day, cx, label, x)
            elif label > day:
                assert cx < x, (day, cx, label, x)


def test_month_ticks_are_local_midnights_east_and_west(page_of: Any) -> None:
    east = page_of("east", EAST, _times(datetime(2024, 2, 29, 22, 0, tzinfo=UTC)))
    ticks, points = _ticks_and_points(east)
    assert ("2024-03-01" in {d for _, d in points}) and "2024-03" in {t for _, t in ticks}
    _check(ticks, points)
    west = page_of("west", WEST, _times(datetime(2024, 3, 1, 11, 30, tzinfo=UTC)))
    ticks, points = _ticks_and_points(west)
    assert "2024-02-29" in {d for _, d in points}
    _check(ticks, points)


def test_year_ticks_are_local_midnights(page_of: Any) -> None:
    east = page_of("east", EAST, _times(datetime(2024, 12, 31, 22, 0, tzinfo=UTC), years=1))
    ticks, points = _ticks_and_points(east)
    assert "2025-01-01" in {d for _, d in points} and "2025" in {t for _, t in ticks}
    _check(ticks, points)
