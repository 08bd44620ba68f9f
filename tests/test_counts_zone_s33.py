"""`analyze --counts` on an export gives the stored analysis's silences with --zone
(session 33).

The counts CSV does not say its site's zone, and its day column fits every zone in
which each image's time falls on its day: images of 17:30 UTC at a site at 100°W
(UTC-7, 10:30 there) fit UTC-12 to UTC+6. The analysis took the middle zone silently,
so a silence's ``when`` (the UTC instant of local midnight of its day) was 03:00Z
where `analyze SITE` gave 07:00Z. Now ``--zone UTC-7`` reads the file in the site's
zone (its days, --as-of's day and the silences' instants are the stored analysis's),
and without it a warning says which zone the silences were timed in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from counted_site import PATTERN, add_counted_site
from railwatch.cli.main import main
from railwatch.storage import Database

#: 100°W: nominal zone UTC-7
PLAINS = box(-100.0, 40.0, -99.99, 40.01)
AS_OF = "2022-06-01"


def _counts() -> list[tuple[datetime, float]]:
    """60 images every 10 days at 17:30 UTC (10:30 at the site), 120 days of silence,
    10 more, and one at 23:30 on 2022-06-01 at the site (06:30 UTC on 06-02): in a
    look-back to the end of 06-01 there, out of one to the end of 06-01 UTC."""
    first = datetime(2020, 1, 1, 17, 30, tzinfo=UTC)
    points = [(first + timedelta(days=10 * k), PATTERN[k % 9]) for k in range(60)]
    last = points[-1][0]
    points += [(last + timedelta(days=120 + 10 * k), PATTERN[k % 9]) for k in range(10)]
    points.append((datetime(2022, 6, 2, 6, 30, tzinfo=UTC), 30.0))
    return points


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("counts-zone")
    url = f"sqlite:///{folder / 'rw.db'}"
    db = Database(url)
    try:
        add_counted_site(db, "plains", PLAINS, _counts())
    finally:
        db.dispose()
    path = folder / "plains.csv"
    assert main(["--db", url, "export", "plains", "--format", "csv", "--out", str(path)]) == 0
    return url, path


def _without_zone(path: Path) -> Path:
    """``path``, an export, as one made before 2026-12-05 (session 33) wrote it: without
    its local_zone column, so the file does not say its site's zone."""
    import csv

    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    i = rows[0].index("local_zone")
    old = path.with_name(f"{path.stem}-old.csv")
    with old.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([r[:i] + r[i + 1 :] for r in rows])
    return old


def _same(alert: dict[str, Any]) -> dict[str, Any]:
    keys = ("kind", "cls", "day", "when", "key", "severity", "explanation", "metrics")
    return {k: alert[k] for k in keys}


def test_an_export_read_in_the_sites_zone_gives_the_stored_alerts(
    exported: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, path = exported
    capsys.readouterr()
    assert main(["--db", url, "analyze", "plains", "--json", "--as-of", AS_OF]) == 0
    stored = json.loads(capsys.readouterr().out)["alerts"]
    args = ["analyze", "--counts", str(path), "--json", "--as-of", AS_OF, "--zone", "UTC-7"]
    assert main(args) == 0
    out = capsys.readouterr()
    from_csv = json.loads(out.out)
    silences = [a for a in stored if a["kind"] == "quality"]
    assert [a["when"] for a in silences] == [
        "2021-09-27T07:00:00+00:00",  # local midnight at UTC-7
        "2022-04-25T07:00:00+00:00",
    ]
    assert any(a["day"] == "2022-06-01" for a in stored)  # the 23:30 image is in
    assert [_same(a) for a in from_csv] == [_same(a) for a in stored]
    assert "warning" not in out.err


def test_without_the_zone_a_warning_says_the_silences_time(
    exported: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """06:30 UTC on 06-02 on 06-01 and 17:30 UTC on its day: UTC-12 to UTC-7 fit; the
    silences are timed at midnight in UTC-10 (10:00Z), their days the same. (An export
    without local_zone, as written before it was added: tests/test_counts_local_zone_s33.py
    reads one with it.)"""
    path = _without_zone(exported[1])
    capsys.readouterr()
    assert main(["analyze", "--counts", str(path), "--json", "--as-of", "2022-06-02"]) == 0
    out = capsys.readouterr()
    silences = [a for a in json.loads(out.out) if a["kind"] == "quality"]
    assert [(a["day"], a["when"]) for a in silences] == [
        ("2021-09-27", "2021-09-27T10:00:00+00:00"),
        ("2022-04-25", "2022-04-25T10:00:00+00:00"),
    ]
    err = " ".join(out.err.split())
    assert "the day column fits every zone from UTC-12 to UTC-7" in err, err
    assert "2 silences are timed at local midnight in UTC-10" in err
    assert "give it with --zone" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--zone", "UTC+8"], "line 2: local_zone 'UTC-7' is not UTC+8, the zone the file is read"),
        (["--zone", "UTC+13"], "--zone 'UTC+13': give the site's nominal zone as UTC-7"),
        (["--zone", "seven"], "--zone 'seven': give the site's nominal zone"),
    ],
)
def test_a_wrong_zone_is_refused(
    exported: tuple[str, Path], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    _, path = exported
    capsys.readouterr()
    assert main(["analyze", "--counts", str(path), *args]) == 2
    assert message in " ".join(capsys.readouterr().err.split())


def test_zone_is_for_counts_and_one_site(
    exported: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = exported
    capsys.readouterr()
    assert main(["--db", url, "analyze", "plains", "--zone", "UTC-7"]) == 2
    assert "--zone is for --counts" in capsys.readouterr().err
    two = tmp_path / "two.csv"
    two.write_text("date,count,site\n2024-01-01,5,a\n2024-01-02,6,b\n", encoding="utf-8")
    assert main(["analyze", "--counts", str(two), "--zone", "UTC-7"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--zone is one site's zone" in err and "give the SITE whose zone it is" in err
    # a date given alone is that day at the site (it was 00:00 UTC: 12-31 at UTC-7)
    args = ["analyze", "a", "--counts", str(two), "--zone", "UTC-7", "--as-of", "2024-06-01"]
    assert main([*args, "--json"]) == 0
    (silence,) = json.loads(capsys.readouterr().out)
    assert silence["key"] == "quality:all:2024-01-01", silence


def test_the_zone_is_checked_against_the_chosen_sites_days_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two sites' exports in one file, 'west' at UTC-7 and 'east' at UTC+8: --zone
    UTC-7 with 'west' reads it; with 'east' its day column is said not to fit."""
    path = tmp_path / "both.csv"
    path.write_text(
        "date,day,scene_id,count,site\n"
        "2024-01-01T17:30Z,2024-01-01,1,5,west\n"
        "2024-01-01T17:30Z,2024-01-02,2,6,east\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    args = ["analyze", "--counts", str(path), "--zone", "UTC-7", "--as-of", "2024-01-05"]
    assert main(["analyze", "west", *args[1:], "--json"]) == 0, capsys.readouterr().err
    assert main(["analyze", "east", *args[1:]]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert (
        "line 3: day '2024-01-02' is not the day of its time 2024-01-01 17:30 UTC in UTC-7" in err
    )
