"""The counts reader gives each point's line with the points (session 32).

``railwatch scene import-reviews`` names a refused line by its number in the file and its
date as written (ce087d2). Those lines were read a second time, beside the points, by
``review.csv_lines`` (csvio's separator, records and header reading again) and paired
with the points by position, site by site, falling back to dates when the counts
differed: two readers that had to agree on which lines make points. Now
``csvio.parse_counts_csv(..., lines=...)`` (and ``read_counts_csv``) fills each site's
lines as it makes its points, and the import uses them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import box

from counted_site import add_counted_site
from railwatch.analysis.csvio import SourceLine, parse_counts_csv, read_counts_file
from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.review import import_reviews
from railwatch.storage import Database

#: 118.2°W: nominal UTC-8
WEST = box(-118.2006, 33.8995, -118.1994, 33.9005)
#: 00:30 and 23:30 on the local 2024-03-05 (scenes 1 and 2); 12:00 on the local 03-07
TIMES = (
    datetime(2024, 3, 5, 8, 30, tzinfo=UTC),
    datetime(2024, 3, 6, 7, 30, tzinfo=UTC),
    datetime(2024, 3, 7, 20, 0, tzinfo=UTC),
)

#: an export of two sites: a blank line, an image that failed and one only ingested (no
#: point), a gap (a point without count) and a value in quotes over two lines
EXPORT = (
    "\ufeffdate,count,scene_id,status,site,sensor\n"  # line 1
    "2024-03-07T20:00:00Z,4,3,ok,west,s2\n"  # 2
    "\n"  # 3
    "2024-03-08T10:00:00Z,,4,failed,west,s2\n"  # 4: never analysed
    '2024-03-08T11:00:00Z,5,9,ok,east,"two\n'  # 5 (and 6)
    'lines"\n'
    "2024-03-09T10:00:00Z,NA,5,Ingested ,east,s2\n"  # 7: never analysed
    " 2024-03-06T07:30:00Z ,7,,ok,west,s2\n"  # 8
    "2024-03-10T10:00:00Z,,6,ok,west,s2\n"  # 9: a gap, a point
)


def test_the_reader_gives_each_point_its_line_and_date_as_written() -> None:
    lines: dict[str, list[SourceLine]] = {}
    series = parse_counts_csv(EXPORT, lines=lines)
    assert lines == {
        "west": [
            (2, "2024-03-07T20:00:00Z"),
            (8, "2024-03-06T07:30:00Z"),
            (9, "2024-03-10T10:00:00Z"),
        ],
        "east": [(5, "2024-03-08T11:00:00Z")],
    }
    assert {site: len(points) for site, points in series.items()} == {"west": 3, "east": 1}


def test_read_counts_file_passes_the_lines_on(tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    path.write_text("date;count\n\n2024-03-01;5\n2024-03-02;\n")
    # since session 38 the lines come with the series in read_counts_file's CountsFile
    # (read_counts_csv(path, lines=...) still fills the dict, with a DeprecationWarning)
    lines: dict[str, list[SourceLine]] = dict(read_counts_file(path).lines)
    assert lines == {"": [(3, "2024-03-01"), (4, "2024-03-02")]}


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    add_counted_site(db, "west", WEST, [(w, 20.0) for w in TIMES], detector="default")
    return db


def test_a_line_after_a_failed_image_of_an_export_is_named_by_its_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the line refused (8) comes after lines that make no point of its site (3, 4) and
    # lines of another site (5-7): its number is the file's line
    monkeypatch.setattr(_common.console, "width", 300)
    monkeypatch.setattr(_common.err_console, "width", 300)
    db = _db(tmp_path)
    monkeypatch.setenv("RAILWATCH_DB", db.url)
    path = tmp_path / "reviews.csv"
    path.write_text(EXPORT)
    assert main(["scene", "import-reviews", "west", str(path)]) != 0
    out = capsys.readouterr()
    err = " ".join((out.out + out.err).split())
    assert "Recorded" not in out.out
    assert (
        "line 8 (2024-03-06T07:30:00Z) is 2024-03-05 at site 'west' (UTC-8 nominal), which "
        "has 2 usable images (scenes 1, 2): add a scene_id column" in err
    )


def test_lines_that_are_not_of_the_points_are_a_callers_mistake(tmp_path: Path) -> None:
    # the lines came from a second reader that fell back to dates where they were not as
    # many as the points; the reader's own lines always are, so a mismatch is a bug
    db = _db(tmp_path)
    text = "date,count\n2024-03-07T20:00:00Z,4\n2024-03-06T07:30:00Z,7\n"
    series = parse_counts_csv(text)
    with db.session() as s, pytest.raises(ValueError, match="1 lines given for 2 points"):
        import_reviews(s, "west", series, lines={"": [(2, "2024-03-07T20:00:00Z")]})
