"""Follow-ups to the site's local day (7451306, session 31).

* ``railwatch scene import-reviews`` takes a line's date as the site's local day, as the
  analysis groups images and dates alerts (it was the UTC day); a file written by UTC
  days still reads where its date is no local day of an image (noted).
* The record window is counted to the second by one rule (``baseline.years_before``):
  a series' own record used float day numbers, whose rounding left an image exactly on
  the edge out where the record of the other methods' counts kept it.
* ``analyze SITE --as-of DAY`` judges as of the end of that day at the site.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from counted_site import add_counted_site
from railwatch.analysis import Alert, CountPoint, analyze_series
from railwatch.analysis.baseline import DAYS_PER_YEAR, trailing_record, trailing_records
from railwatch.analysis.series import day_number
from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.review import import_reviews
from railwatch.storage import Database
from railwatch.storage.models import Count

#: A site near Auckland (174.78°E, nominal UTC+12): its 10:30 local images are 22:30
#: UTC the day before.
AKL = box(174.78, -36.85, 174.79, -36.84)
#: A site at 130.6°E (nominal UTC+9, as Tumangang).
TUM = box(130.60, 42.42, 130.61, 42.43)


def _db(tmp_path: Path, geometry: Polygon, times: list[datetime], name: str = "s") -> Database:
    """A database with one site and a processed, usable scene of 20 railcars at each of
    ``times`` (ids 1, 2, ... in that order)."""
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    add_counted_site(db, name, geometry, [(when, 20.0) for when in times], detector="default")
    return db


def _lines(*rows: tuple[str, float, int | None]) -> dict[str, list[CountPoint]]:
    from railwatch.analysis.csvio import parse_counts_csv

    text = "date,count,scene_id\n" + "".join(
        f"{d},{n:g},{'' if i is None else i}\n" for d, n, i in rows
    )
    return parse_counts_csv(text, source="reviews.csv")


def _stored(db: Database, scene_id: int) -> float:
    with db.session() as s:
        row = s.query(Count).filter_by(scene_id=scene_id, cls="all").one()
        return float(row.count)


# ------------------------------------------------------------------ import-reviews


def test_a_reviews_date_is_the_sites_local_day(tmp_path: Path) -> None:
    """At UTC+12 the image of 22:30 UTC on 2024-02-04 is of the local 2024-02-05, the day
    its alerts and the series give it: a line of 2024-02-05 is its count (it was refused,
    "has no processed, usable image", the UTC day 2024-02-05 having none)."""
    db = _db(tmp_path, AKL, [datetime(2024, 2, 4, 22, 30, tzinfo=UTC)])
    with db.session() as s:
        done = import_reviews(s, "s", _lines(("2024-02-05", 31, None)))
    assert [i for i, _ in done.recorded] == [1] and done.by_utc_day == ()
    assert _stored(db, 1) == 31.0


def test_two_images_of_one_local_day_are_one_day(tmp_path: Path) -> None:
    """23:30 and 00:30 UTC at UTC+9 are one local morning: a line of that day without a
    scene_id is refused as ambiguous, naming both (by UTC day each was the one image of
    its day, and the line went to one of them)."""
    db = _db(
        tmp_path,
        TUM,
        [datetime(2024, 3, 1, 23, 30, tzinfo=UTC), datetime(2024, 3, 2, 0, 30, tzinfo=UTC)],
    )
    with db.session() as s, pytest.raises(InputError) as err:
        import_reviews(s, "s", _lines(("2024-03-02", 31, None)))
    assert (
        "2024-03-02 is a day at site 's' (UTC+9 nominal), which has 2 usable images "
        "(scenes 1, 2)" in str(err.value)
    )
    assert _stored(db, 1) == _stored(db, 2) == 20.0


def test_a_file_by_utc_days_still_reads_where_its_date_is_no_local_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file written before session 31 dated the image of 22:30 UTC on 2024-02-04 (at
    UTC+12) 2024-02-04: no image is of that local day, so the line takes its UTC day's
    one image, and the command says so. With a scene_id the scene's UTC day is its date
    too; a date that is neither is refused, naming the local day."""
    monkeypatch.setattr(_common.console, "width", 200)
    monkeypatch.setattr(_common.err_console, "width", 200)
    db = _db(tmp_path, AKL, [datetime(2024, 2, 4, 22, 30, tzinfo=UTC)], name="akl")
    path = tmp_path / "old.csv"
    path.write_text("date,count\n2024-02-04,33\n")
    monkeypatch.setenv("RAILWATCH_DB", db.url)
    assert main(["scene", "import-reviews", "akl", str(path)]) == 0
    out = capsys.readouterr()
    assert "scene 1: all 33" in out.out
    assert "the line of 2024-02-04 went to scene 1, the image of that UTC day" in out.err
    assert "it is of 2024-02-05 at the site" in out.err
    assert _stored(db, 1) == 33.0
    with db.session() as s:
        done = import_reviews(s, "akl", _lines(("2024-02-04", 34, 1)))  # UTC day + id
        assert done.by_utc_day == () and [i for i, _ in done.recorded] == [1]
        with pytest.raises(
            InputError, match=r"\(UTC\+12 nominal\), but scene 1 is the image of 2024-02-05"
        ):
            import_reviews(s, "akl", _lines(("2024-02-06", 35, 1)))
    path.write_text("date,count\n2024-02-04,36\n")
    assert main(["scene", "import-reviews", "akl", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["by_utc_day"] == [{"scene_id": 1, "date": "2024-02-04", "local_day": "2024-02-05"}]


def test_the_exports_times_find_their_images_by_local_day(tmp_path: Path) -> None:
    """A line with the export's time (no scene_id) is of that time's local day: at UTC+9
    the images of 16:00 UTC on 2024-03-01 and 01:00 UTC on 2024-03-02 are both of the
    local 2024-03-02, so a line of either time is ambiguous there; one at 02:00 UTC on
    2024-03-03 is the one image of its day."""
    db = _db(
        tmp_path,
        TUM,
        [
            datetime(2024, 3, 1, 16, tzinfo=UTC),
            datetime(2024, 3, 2, 1, tzinfo=UTC),
            datetime(2024, 3, 3, 2, tzinfo=UTC),
        ],
    )
    with db.session() as s:
        with pytest.raises(InputError, match=r"has 2 usable images \(scenes 1, 2\)"):
            import_reviews(s, "s", _lines(("2024-03-01T16:00:00+00:00", 40, None)))
        done = import_reviews(s, "s", _lines(("2024-03-03T02:00:00+00:00", 41, None)))
    assert [i for i, _ in done.recorded] == [3]


# ------------------------------------------------------------------ the record window

#: The window's edge where float day numbers round the wrong way: 5 x 365.25 days.
JUDGED = datetime(2019, 10, 17, 5, 55, 10, tzinfo=UTC)
EDGE = datetime(2014, 10, 16, 23, 55, 10, tzinfo=UTC)


def test_an_image_exactly_on_the_window_edge_is_in_it() -> None:
    from railwatch.analysis.baseline import years_before

    assert (JUDGED - EDGE).total_seconds() == 5 * DAYS_PER_YEAR * 86_400
    days = np.array([day_number(EDGE), day_number(JUDGED)])
    counts = np.array([40.0, 30.0])
    assert int(years_before(days, days[1], 5)) == 0
    rec = trailing_records(days, counts, 5)[1]
    assert rec is not None and rec.value == 40.0 and rec.index == 0
    assert trailing_record(days, counts, 1, 5) == rec
    # one second further back: out
    out = np.array([day_number(EDGE - timedelta(seconds=1)), day_number(JUDGED)])
    assert trailing_records(out, counts, 5)[1] is None


def test_the_window_edge_to_the_second_for_any_time() -> None:
    """Whatever the times, an image exactly N x 365.25 days back is in the window and
    one a second further back out (the float rule missed some of each hundred)."""
    from railwatch.analysis.baseline import years_before

    rng = random.Random(31)
    for _ in range(400):
        judged = datetime(1990, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(2 * 10**9))
        years = rng.randint(1, 10)
        edge = judged - timedelta(days=years * DAYS_PER_YEAR)
        days = np.array(
            [day_number(edge - timedelta(seconds=1)), day_number(edge), day_number(judged)]
        )
        assert int(years_before(days, days[2], years)) == 1, (judged, years)


def test_the_record_rules_agree_on_the_edge() -> None:
    """The series' own record and the record of the other methods' counts judge an
    earlier 40 exactly on the edge alike: in the window, so the 30 is no record (info
    at most). The own series' window left it out, raising a record."""

    def judged_alerts(method: str) -> list[Alert]:
        pts = [CountPoint(when=EDGE, count=40.0, method=method)]
        pts += [
            CountPoint(
                when=EDGE + timedelta(days=3 + 12 * k), count=float(8 + k % 5), method=method
            )
            for k in range(150)
        ]
        if method != "objects":
            pts += [CountPoint(when=JUDGED - timedelta(days=10 * k), count=8.0) for k in (1, 2, 3)]
        pts.append(CountPoint(when=JUDGED, count=30.0))
        return [a for a in analyze_series(pts) if a.when == JUDGED and a.kind == "record"]

    for method in ("objects", "length"):
        assert all(a.severity == "info" for a in judged_alerts(method)), method


# ------------------------------------------------------------------ analyze --as-of


def test_as_of_is_the_end_of_that_day_at_the_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At UTC+9, ``--as-of 2024-08-01`` ends at 23:59:59 local (14:59:59 UTC): an image
    of 20:00 UTC that day is of the local 2024-08-02, after it (it was counted in, the
    as-of moment being the end of the UTC day, and a silence ran to the local 08-02)."""
    monkeypatch.setattr(_common.console, "width", 200)
    times = [datetime(2024, 5, 1, 2, tzinfo=UTC) + timedelta(days=10 * k) for k in range(9)]
    times.append(datetime(2024, 8, 1, 20, tzinfo=UTC))
    db = _db(tmp_path, TUM, times, name="tum")
    monkeypatch.setenv("RAILWATCH_DB", db.url)
    assert main(["analyze", "tum", "--as-of", "2024-08-01", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["as_of"] == "2024-08-01"
    assert data["points"] == 10 and data["after"] == 1
