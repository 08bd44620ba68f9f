"""``analyze --counts`` reads which counts are an analyst's (the export's ``reviewed``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.analysis.csvio import read_counts_csv
from railwatch.errors import InputError


def _read(tmp_path: Path, text: str, warned: list[str] | None = None) -> list:
    path = tmp_path / "counts.csv"
    path.write_text(text)
    warn = warned.append if warned is not None else None
    series = read_counts_csv(path, warn=warn)
    return list(series[""])


def test_reviewed_column_marks_the_analysts_counts(tmp_path: Path) -> None:
    points = _read(
        tmp_path,
        "scene_id,date,count,low,high,reviewed,detector_count\n"
        "1,2023-09-25,40,32,69,false,\n"
        "2,2023-10-05,73,73,73,true,61\n"
        "3,2023-10-23,92,82,168,,\n",
    )
    assert [p.reviewed for p in points] == [False, True, False]
    assert points[1].count == 73.0


def test_a_bad_reviewed_cell_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"line 3: reviewed 'maybe' must be true/false"):
        _read(tmp_path, "date,count,reviewed\n2023-09-25,40,no\n2023-10-05,73,maybe\n")


def test_of_two_counts_of_one_day_the_analysts_is_kept_and_said(tmp_path: Path) -> None:
    warned: list[str] = []
    points = _read(
        tmp_path,
        "date,count,clear_fraction,reviewed\n"
        "2023-10-05T01:00Z,61,1.0,false\n"
        "2023-10-05T04:00Z,73,0.8,true\n",
        warned,
    )
    assert len(warned) == 1
    assert "73, line 3: an analyst's count (reviewed true)" in warned[0]
    assert [p.count for p in points if p.is_usable] in ([73.0], [61.0, 73.0])


def test_the_dashboards_csv_download_reads_back(tmp_path: Path) -> None:
    """GET /api/sites/{site}/counts?format=csv names the date `when` and the class `cls`
    (as its JSON); it was refused ("lacks column(s) date")."""
    import csv
    import io
    from datetime import UTC, datetime

    from railwatch.analysis.types import CountPoint
    from railwatch.web.routes.counts import FIELDS, _row

    points = [
        CountPoint(datetime(2023, 9, 25, 2, tzinfo=UTC), 40.0, 32.0, 69.0, scene_id=1),
        CountPoint(datetime(2023, 9, 30, 2, tzinfo=UTC), None, usable=False, scene_id=2),
        CountPoint(
            datetime(2023, 10, 5, 2, tzinfo=UTC), 73.0, 73.0, 73.0, scene_id=3, reviewed=True
        ),
    ]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for p in points:
        writer.writerow({k: "" if v is None else v for k, v in _row(p).items()})
    read = _read(tmp_path, buf.getvalue())
    assert [(p.count, p.usable, p.reviewed) for p in read] == [
        (40.0, True, False),
        (None, False, False),
        (73.0, True, True),
    ]
