"""``railwatch scene import-reviews`` warns of several counts on one day by the site's
local day, the day its lines are matched to images and its analysis groups them by
(session 32; it grouped the lines by UTC day, as ``analyze --counts`` does).

Found end to end at a yard at 118.2°W (nominal UTC-8): the lines of 08:30 UTC on
2024-03-05 and 07:30 UTC on 2024-03-06 (00:30 and 23:30 on the local 2024-03-05) were
recorded on two images of one day without a word, while those of 07:30 and 08:30 UTC on
2024-02-27 (23:30 on the 26th and 00:30 on the 27th there) were said to be one day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from shapely.geometry import box

from counted_site import add_counted_site
from railwatch.analysis.csvio import parse_counts_csv
from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.storage import Database

#: 118.2°W: nominal UTC-8
WEST = box(-118.2006, 33.8995, -118.1994, 33.9005)
#: 00:30 and 23:30 on the local 2024-03-05: two UTC days
ONE_LOCAL_DAY = (datetime(2024, 3, 5, 8, 30, tzinfo=UTC), datetime(2024, 3, 6, 7, 30, tzinfo=UTC))
#: 23:30 on the local 2024-02-26, 00:30 on the 27th: one UTC day
ONE_UTC_DAY = (datetime(2024, 2, 27, 7, 30, tzinfo=UTC), datetime(2024, 2, 27, 8, 30, tzinfo=UTC))


def _file(tmp_path: Path, rows: list[tuple[datetime, float, int]]) -> Path:
    path = tmp_path / "reviews.csv"
    path.write_text(
        "date,count,scene_id\n" + "".join(f"{w:%Y-%m-%dT%H:%M:%SZ},{n:g},{i}\n" for w, n, i in rows)
    )
    return path


def _run(
    tmp_path: Path,
    times: tuple[datetime, datetime],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    monkeypatch.setattr(_common.console, "width", 200)
    monkeypatch.setattr(_common.err_console, "width", 200)
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    add_counted_site(db, "west", WEST, [(w, 20.0) for w in times], detector="default")
    monkeypatch.setenv("RAILWATCH_DB", db.url)
    path = _file(tmp_path, [(times[0], 5.0, 1), (times[1], 8.0, 2)])
    assert main(["scene", "import-reviews", "west", str(path)]) == 0
    out = capsys.readouterr()
    assert "scene 1: all 5" in out.out and "scene 2: all 8" in out.out
    return " ".join(out.err.split())


def test_two_lines_of_one_local_day_on_two_utc_days_are_said_to_be_one_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    err = _run(tmp_path, ONE_LOCAL_DAY, capsys, monkeypatch)
    assert (
        "lines 2 and 3 count railcars on the same day, 2024-03-05 at the site "
        "(UTC-8 nominal), differently (5, 8)" in err
    )
    assert "the highest (8, line 3)" in err


def test_two_lines_of_two_local_days_on_one_utc_day_are_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    err = _run(tmp_path, ONE_UTC_DAY, capsys, monkeypatch)
    assert "same day" not in err


def test_a_date_alone_is_its_day_and_analyze_counts_keeps_utc_days() -> None:
    """A line giving a date alone is that local day as written; without an offset (a
    file for ``analyze --counts``) the days are UTC days, as before."""
    text = "date,count\n2024-03-05,5\n2024-03-06T07:30:00Z,8\n2024-03-06,9\n"
    said: list[str] = []
    parse_counts_csv(text, warn=said.append, utc_offset=timedelta(hours=-8))
    assert len(said) == 1 and "lines 2 and 3" in said[0] and "2024-03-05 at the site" in said[0]
    said.clear()
    parse_counts_csv(text, warn=said.append)
    assert len(said) == 1 and "lines 3 and 4" in said[0] and "2024-03-06 UTC" in said[0]
