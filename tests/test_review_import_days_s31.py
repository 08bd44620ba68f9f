"""``railwatch scene import-reviews``'s days (review of 9bd34d5, session 31).

* A CSV time of exactly 00:00 UTC is a time, not a date alone: the reader
  (:func:`railwatch.analysis.csvio.read_when`) keeps whether the cell gave a time
  (:attr:`CountPoint.date_only`), and west of Greenwich ``2024-02-05T00:00:00Z`` is the
  local 2024-02-04 (it was taken as 2024-02-05, the time being 00:00).
* A line whose local day has no image and whose UTC day has several is refused naming
  them (it said the day had no processed, usable image).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import Polygon, box

from counted_site import add_counted_site
from railwatch.analysis import CountPoint
from railwatch.analysis.csvio import parse_counts_csv, read_when
from railwatch.errors import InputError
from railwatch.review import import_reviews
from railwatch.storage import Database
from railwatch.storage.models import Count

#: A site at 75°W (nominal UTC-5): 00:00 UTC is 19:00 the day before there.
WEST = box(-75.01, 40.0, -75.0, 40.01)


def _db(tmp_path: Path, geometry: Polygon, times: list[datetime]) -> Database:
    """One site "s" with a processed, usable scene of 20 railcars at each of ``times``
    (ids 1, 2, ... in that order)."""
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    add_counted_site(db, "s", geometry, [(when, 20.0) for when in times], detector="default")
    return db


def _lines(*rows: tuple[str, float]) -> dict[str, list[CountPoint]]:
    text = "date,count\n" + "".join(f"{d},{n:g}\n" for d, n in rows)
    return parse_counts_csv(text, source="reviews.csv")


def _stored(db: Database, scene_id: int) -> float:
    with db.session() as s:
        return float(s.query(Count).filter_by(scene_id=scene_id, cls="all").one().count)


@pytest.mark.parametrize(
    ("text", "timed"),
    [
        ("2024-02-05", False),
        ("2024-02-05Z", False),
        ("2024/02/05", False),
        ("05.02.2024", False),
        ("45327", False),
        ("2024-02-05T00:00:00Z", True),
        ("2024-02-05 00:00", True),
        ("2024/02/05 00:00", True),
        ("05.02.2024 00:00", True),
        ("45327.0", True),
        ("2024-02-05T10:30:00+02:00", True),
    ],
)
def test_the_reader_keeps_whether_a_cell_gave_a_time(text: str, timed: bool) -> None:
    when, got = read_when(text, 2)
    assert when == datetime(2024, 2, 5, tzinfo=UTC) or timed
    assert got is timed
    (point,) = parse_counts_csv(f"date,count\n{text},3\n")[""]
    assert point.date_only is not timed


def test_a_date_alone_and_its_midnight_are_the_same_point_to_the_analysis() -> None:
    """``date_only`` is not compared: ``analyze --counts`` reads both as it did."""
    (alone,) = parse_counts_csv("date,count\n2024-02-05,3\n")[""]
    (midnight,) = parse_counts_csv("date,count\n2024-02-05T00:00:00Z,3\n")[""]
    assert alone.date_only and not midnight.date_only
    assert (
        alone
        == midnight
        == CountPoint(when=datetime(2024, 2, 5, tzinfo=UTC), count=3.0, method="manual")
    )
    assert hash(alone) == hash(midnight)


def test_a_time_of_midnight_utc_is_the_day_before_west_of_greenwich(tmp_path: Path) -> None:
    """At UTC-5, 2024-02-05T00:00:00Z is 19:00 on 2024-02-04: the line is the count of
    that local day's image (scene 1), not of the local 2024-02-05's (scene 2), which a
    line of the date alone is."""
    db = _db(
        tmp_path,
        WEST,
        [datetime(2024, 2, 4, 20, tzinfo=UTC), datetime(2024, 2, 5, 15, tzinfo=UTC)],
    )
    with db.session() as s:
        done = import_reviews(s, "s", _lines(("2024-02-05T00:00:00Z", 31)))
    assert [i for i, _ in done.recorded] == [1] and done.by_utc_day == ()
    assert (_stored(db, 1), _stored(db, 2)) == (31.0, 20.0)
    with db.session() as s:
        done = import_reviews(s, "s", _lines(("2024-02-05", 32)))
    assert [i for i, _ in done.recorded] == [2]
    assert (_stored(db, 1), _stored(db, 2)) == (31.0, 32.0)


def test_a_utc_day_of_several_images_is_refused_naming_them(tmp_path: Path) -> None:
    """At UTC-5 the images of 02:00 and 03:00 UTC on 2024-02-05 are of the local
    2024-02-04: a line of 2024-02-05 (no image that local day) would take its UTC day's
    one image, but that day has two, and the refusal names them."""
    db = _db(
        tmp_path,
        WEST,
        [datetime(2024, 2, 5, 2, tzinfo=UTC), datetime(2024, 2, 5, 3, tzinfo=UTC)],
    )
    with db.session() as s, pytest.raises(InputError) as err:
        import_reviews(s, "s", _lines(("2024-02-05", 31)))
    text = str(err.value)
    assert "its UTC day 2024-02-05 has 2 usable images (scenes 1, 2)" in text
    assert "is a day at site 's' (UTC-5 nominal), which has no usable image" in text
    assert "add a scene_id column" in text and "no processed, usable image" not in text
    assert _stored(db, 1) == _stored(db, 2) == 20.0
