"""``railwatch scene import-reviews`` names a refused line by its number and its date as
written, then the local day it is at the site (session 32). At a yard at 118.2°W
(nominal UTC-8) the line ``2024-03-06T07:30:00Z,7,`` was refused as "2024-03-05: site
'west' has 2 usable images (scenes 1, 2) ...": a date the file does not hold, and no
line number, so the analyst could not find the line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import box

from counted_site import add_counted_site
from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.storage import Database

#: 118.2°W: nominal UTC-8
WEST = box(-118.2006, 33.8995, -118.1994, 33.9005)
#: 00:30 and 23:30 on the local 2024-03-05 (scenes 1 and 2); 12:00 on the local 03-07
TIMES = (
    datetime(2024, 3, 5, 8, 30, tzinfo=UTC),
    datetime(2024, 3, 6, 7, 30, tzinfo=UTC),
    datetime(2024, 3, 7, 20, 0, tzinfo=UTC),
)


def _run(
    tmp_path: Path,
    text: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    monkeypatch.setattr(_common.console, "width", 300)
    monkeypatch.setattr(_common.err_console, "width", 300)
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    add_counted_site(db, "west", WEST, [(w, 20.0) for w in TIMES], detector="default")
    monkeypatch.setenv("RAILWATCH_DB", db.url)
    path = tmp_path / "reviews.csv"
    path.write_text(text)
    assert main(["scene", "import-reviews", "west", str(path)]) != 0
    out = capsys.readouterr()
    assert "Recorded" not in out.out
    return " ".join((out.out + out.err).split())


def test_a_line_of_a_day_of_several_images_is_named_by_its_number_and_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a blank line and a comment-free gap line before it: the number is the file's line
    text = "date,count,class\n2024-03-07T20:00:00Z,4,\n\n2024-03-06T07:30:00Z,7,\n"
    err = _run(tmp_path, text, capsys, monkeypatch)
    assert (
        "line 4 (2024-03-06T07:30:00Z) is 2024-03-05 at site 'west' (UTC-8 nominal), which "
        "has 2 usable images (scenes 1, 2): add a scene_id column" in err
    )


def test_a_line_whose_scene_id_is_of_another_day_is_named_by_its_number_and_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "date,count,scene_id\n2024-03-06T07:30:00Z,7,2\n2024-03-07T20:00:00Z,4,1\n"
    err = _run(tmp_path, text, capsys, monkeypatch)
    assert (
        "line 3 (2024-03-07T20:00:00Z) is 2024-03-07 at site 'west' (UTC-8 nominal), but "
        "scene 1 is the image of 2024-03-05 there" in err
    )


def test_a_date_alone_of_a_day_without_image_is_named_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    err = _run(tmp_path, "date,count\n2024-03-09,3\n", capsys, monkeypatch)
    assert (
        "line 2 (2024-03-09) is a day at site 'west' (UTC-8 nominal), which has no "
        "processed, usable image" in err
    )


def test_two_counts_of_one_image_name_both_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        "date,count,scene_id\n2024-03-05T08:30:00Z,5,1\n2024-03-07T20:00:00Z,4,3\n2024-03-05,6,1\n"
    )
    err = _run(tmp_path, text, capsys, monkeypatch)
    assert (
        "line 2 (2024-03-05T08:30:00Z) and line 4 (2024-03-05): both count all on scene 1 "
        "(the image of 2024-03-05 at the site, UTC-8 nominal), differently (5, 6)" in err
    )
