"""Session 28: ``railwatch scene import-reviews`` refuses a line whose scene_id names an
image of another day than the line's date: the count was recorded on that image (a
spreadsheet sorted by one column moves counts beside other images' ids)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.storage import Database
from report_db import FakeCount
from test_scene_review import _scene, _stored


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 120)
    return Database(url)


def _export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    out = tmp_path / "counts.csv"
    assert main(["export", "yard", "--format", "csv", "--out", str(out)]) == 0
    capsys.readouterr()
    with out.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_a_count_beside_another_images_id_is_refused(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _scene(cli_db)  # 2023-10-05: 61
    second = _scene(cli_db, count=FakeCount(50, 45, 60, {}, 3))  # 2023-10-06: 50
    rows = _export(tmp_path, capsys)
    # the analyst corrects the first image's count, then sorts the scene_id column alone
    rows[0]["count"] = "70"
    rows[0]["scene_id"], rows[1]["scene_id"] = rows[1]["scene_id"], rows[0]["scene_id"]
    path = tmp_path / "sorted.csv"
    _write(path, rows)
    assert main(["scene", "import-reviews", "yard", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 2 (2023-10-05T02:00:00+00:00) is 2023-10-05 at site 'yard' (UTC+9 nominal)" in err
    assert f"but scene {second} is the image of 2023-10-06 there" in err
    assert "nothing was recorded" in err
    assert _stored(cli_db, first)["all"][0] == 61.0
    assert _stored(cli_db, second)["all"][0] == 50.0


def test_a_line_of_its_scenes_day_is_recorded(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _scene(cli_db)
    path = tmp_path / "hand.csv"
    path.write_text(f"date,count,scene_id\n2023-10-05,70,{first}\n")
    assert main(["scene", "import-reviews", "yard", str(path)]) == 0
    assert _stored(cli_db, first)["all"][0] == 70.0
