"""`railwatch scene list` shows each image at its local time at the site (session 32).

The table's column was "acquired UTC", the image's UTC time, where `scene to-review`, the
report, `analyze`, `alerts` and the dashboard name the site's local day (its nominal
zone, ``analysis.store.site_utc_offset``): an image of 2024-02-04 22:30 UTC at a UTC+12
site is one of 2024-02-05 there, and the list put it on the day before. Now the table
gives the local time with its zone; ``--json`` keeps ``acquired_at`` in UTC (scripts
read it) and adds ``day``, as ``GET /api/sites/{site}/scenes`` gives it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import box

from counted_site import LATE, LOCAL, WELLINGTON, add_counted_site
from railwatch.cli.main import main
from railwatch.storage import Database

#: 0.0°E: nominal UTC, where nothing changes
GREENWICH = box(0.0, 51.47, 0.01, 51.48)
EARLY = datetime(2024, 1, 10, 3, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.setenv("COLUMNS", "160")


@pytest.fixture
def url(tmp_path: Path) -> str:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    try:
        add_counted_site(db, "wellington", WELLINGTON, [(EARLY, 10.0), (LATE, 50.0)])
        add_counted_site(db, "greenwich", GREENWICH, [(EARLY, 7.0)])
    finally:
        db.dispose()
    return db.url


def _rows(out: str) -> dict[str, str]:
    """The table's rows by scene id: the cell after the id."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) > 3 and cells[1].isdigit():
            rows[cells[1]] = cells[2]
    return rows


def test_the_table_gives_the_local_time_at_the_site_with_its_zone(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", url, "scene", "list", "wellington"]) == 0
    out = capsys.readouterr().out
    # 2024-02-04 22:30 UTC is 2024-02-05 10:30 at a UTC+12 site
    assert _rows(out) == {"1": "2024-01-10 15:15", "2": f"{LOCAL} 10:30"}, out
    # the column's header: "acquired" over "UTC+12 nominal"
    header = [[c.strip() for c in line.split("┃")] for line in out.splitlines() if "┃" in line]
    assert [cells[2] for cells in header] == ["acquired", "UTC+12 nominal"], out
    assert "acquired UTC" not in out
    assert "2024-02-04 22:30" not in out


def test_a_site_on_utc_keeps_its_utc_times(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", url, "scene", "list", "greenwich"]) == 0
    out = capsys.readouterr().out
    assert _rows(out) == {"3": "2024-01-10 03:15"}, out
    header = [[c.strip() for c in line.split("┃")] for line in out.splitlines() if "┃" in line]
    assert [cells[2] for cells in header] == ["acquired", "UTC"], out


def test_json_keeps_the_utc_time_and_adds_the_day_at_the_site(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", url, "scene", "list", "wellington", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["acquired_at"] for d in data] == [EARLY.isoformat(), LATE.isoformat()]
    assert [d["day"] for d in data] == ["2024-01-10", LOCAL]


def test_narrow_layout_names_the_zone_beside_each_time(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "44")
    assert main(["--db", url, "scene", "list", "wellington"]) == 0
    lines = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    assert f"acquired UTC+12 nominal  {LOCAL} 10:30" in lines, lines
    assert max(len(line) for line in lines) <= 44
