"""A stored site with a processed, usable, counted scene at each of some times: the
sites of the tests of a site's local days (session 31)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from shapely.geometry import MultiPolygon, Polygon, box

from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import Count, Scene, to_wkb

#: 175.0°E, nominal UTC+12: a 10:30 local image is 22:30 UTC the day before
WELLINGTON = box(175.0, -41.3, 175.01, -41.29)
#: the image of the rise: 2024-02-04 22:30 UTC, 2024-02-05 10:30 at the site
LATE = datetime(2024, 2, 4, 22, 30, tzinfo=UTC)
UTC_DAY, LOCAL = "2024-02-04", "2024-02-05"
PATTERN = (10.0, 11.0, 9.0, 12.0, 8.0, 10.0, 10.0, 12.0, 8.0)


def steady_then_rise(late: datetime = LATE) -> list[tuple[datetime, float]]:
    """120 steady images (8-12 cars) every 10 days at ``late``'s time of day, then 50
    cars at ``late``."""
    first = late - timedelta(days=10 * 120)
    points = [(first + timedelta(days=10 * k), PATTERN[k % 9]) for k in range(120)]
    points.append((late, 50.0))
    return points


def add_counted_site(
    db: Database,
    name: str,
    geometry: Polygon | MultiPolygon,
    counts: Iterable[tuple[datetime, float]],
    *,
    interval: Callable[[float], tuple[float, float]] = lambda n: (n - 2.0, n + 2.0),
    detector: str = "test",
) -> None:
    """Site ``name`` over ``geometry`` with a processed, usable 0.5 m scene counted
    ``n`` railcars (all classes, by objects, ``interval(n)``) at each ``(when, n)`` of
    ``counts``: scene ids 1, 2, ... in that order."""
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name=name, geometry=geometry))
        for k, (when, n) in enumerate(counts):
            sc = Scene(
                site_id=site.id, uri=f"/nowhere/{k}.tif", content_hash=f"{k:064x}",
                acquired_at=when, crs="EPSG:4326", footprint_wkb=to_wkb(geometry),
                date_source="option", gsd=0.5, width=10, height=10, band_count=3,
                dtype="uint8", coverage=1.0, status="processed", usable=True,
                clear_fraction=1.0,
            )  # fmt: skip
            s.add(sc)
            s.flush()
            low, high = interval(n)
            s.add(
                Count(
                    scene_id=sc.id, cls="all", count=n, low=low, high=high,
                    method="objects", detector=detector, version="1",
                )
            )  # fmt: skip
