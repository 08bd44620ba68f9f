"""An exported counts file says its site's zone (``local_zone``), and `analyze --counts`
reads it in that zone without --zone (session 33).

The counts CSV gave each image's UTC time and its local day at the site, not the zone:
a day column of images taken at one time of day fits many zones, the analysis took the
middle one, and a silence's ``when`` (local midnight of its day) was hours off
(03:00Z or 10:00Z at a site at 100°W, where `analyze SITE` gives 07:00Z) unless
``--zone UTC-7`` was given. Since 2026-12-05 the counts layer (CSV, GeoPackage,
GeoJSON, GeoParquet) and the dashboard's counts CSV carry ``local_zone`` after ``day``,
and the reader takes each site's zone from it: an export analysed back gives `analyze
SITE`'s alerts, with no flag and no warning; a zone that disagrees with the day column,
with the site's other lines or with --zone is refused with its line."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from counted_site import PATTERN, add_counted_site
from railwatch.cli.main import main
from railwatch.storage import Database

#: 100°W: nominal zone UTC-7; images at 17:30 UTC (10:30 there) fit UTC-12..UTC+6
PLAINS = box(-100.0, 40.0, -99.99, 40.01)
#: 120°E: nominal zone UTC+8; images at 02:00 UTC (10:00 there) fit UTC-2..UTC+12
HARBIN = box(120.0, 45.0, 120.01, 45.01)
AS_OF = "2022-06-01"


def _series(first: datetime, last_one: datetime) -> list[tuple[datetime, float]]:
    """60 images every 10 days from ``first``, 120 days of silence, 10 more, and
    ``last_one`` (an image of 2022-06-01 at the site)."""
    points = [(first + timedelta(days=10 * k), PATTERN[k % 9]) for k in range(60)]
    last = points[-1][0]
    points += [(last + timedelta(days=120 + 10 * k), PATTERN[k % 9]) for k in range(10)]
    points.append((last_one, 30.0))
    return points


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Path]]:
    """Two stored sites, west (plains, UTC-7) and east (harbin, UTC+8), each with two
    silences, exported as CSV."""
    folder = tmp_path_factory.mktemp("local-zone")
    url = f"sqlite:///{folder / 'rw.db'}"
    db = Database(url)
    try:
        # 23:30 on 06-01 at the site: 06:30 UTC on 06-02
        plains = _series(
            datetime(2020, 1, 1, 17, 30, tzinfo=UTC), datetime(2022, 6, 2, 6, 30, tzinfo=UTC)
        )
        add_counted_site(db, "plains", PLAINS, plains)
        # 00:30 on 06-01 at the site: 16:30 UTC on 05-31
        harbin = _series(
            datetime(2020, 1, 3, 2, 0, tzinfo=UTC), datetime(2022, 5, 31, 16, 30, tzinfo=UTC)
        )
        add_counted_site(db, "harbin", HARBIN, harbin)
    finally:
        db.dispose()
    paths = {}
    for name in ("plains", "harbin"):
        path = folder / f"{name}.csv"
        assert main(["--db", url, "export", name, "--format", "csv", "--out", str(path)]) == 0
        paths[name] = path
    return url, paths


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _same(alert: dict[str, Any], *, thresholds: bool = True) -> dict[str, Any]:
    keys = ("kind", "cls", "day", "when", "key", "severity", "explanation", "metrics")
    same = {k: alert[k] for k in keys}
    if not thresholds:
        same["metrics"] = {
            k: v for k, v in alert["metrics"].items() if k not in ("gsd", "thresholds")
        }
    return same


def _stored(url: str, site: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["--db", url, "analyze", site, "--json", "--as-of", AS_OF]) == 0
    alerts: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["alerts"]
    return alerts


def test_the_export_says_the_zone_and_reads_back_as_the_stored_analysis(
    exported: tuple[str, dict[str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, paths = exported
    rows = _rows(paths["plains"])
    assert list(rows[0])[:4] == ["date", "day", "local_zone", "scene_id"]
    assert {r["local_zone"] for r in rows} == {"UTC-7"}
    # and so do the other formats' counts layers (GeoJSON here; GeoPackage, GeoParquet)
    folder = paths["plains"].with_name("plains-geojson")
    assert main(["--db", url, "export", "plains", "--format", "geojson", "--out", str(folder)]) == 0
    features = json.loads((folder / "counts.geojson").read_text(encoding="utf-8"))["features"]
    assert {f["properties"]["local_zone"] for f in features} == {"UTC-7"}
    stored = _stored(url, "plains", capsys)
    assert [a["when"] for a in stored if a["kind"] == "quality"] == [
        "2021-09-27T07:00:00+00:00",  # local midnight at UTC-7
        "2022-04-25T07:00:00+00:00",
    ]
    assert main(["analyze", "--counts", str(paths["plains"]), "--json", "--as-of", AS_OF]) == 0
    out = capsys.readouterr()
    assert [_same(a) for a in json.loads(out.out)] == [_same(a) for a in stored]
    assert "warning" not in out.err, out.err
    # --zone that agrees changes nothing; one that does not is refused
    args = ["analyze", "--counts", str(paths["plains"]), "--json", "--as-of", AS_OF]
    assert main([*args, "--zone", "UTC-7"]) == 0
    assert [_same(a) for a in json.loads(capsys.readouterr().out)] == [_same(a) for a in stored]
    assert main([*args, "--zone", "UTC-6"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "line 2: local_zone 'UTC-7' is not UTC-6, the zone the file is read in" in err


def test_a_file_of_two_sites_reads_each_in_its_own_zone(
    exported: tuple[str, dict[str, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, paths = exported
    both = [{"site": name, **row} for name in ("plains", "harbin") for row in _rows(paths[name])]
    path = _write(tmp_path / "both.csv", both)
    stored = {name: _stored(url, name, capsys) for name in ("plains", "harbin")}
    assert [a["when"] for a in stored["harbin"] if a["kind"] == "quality"] == [
        "2021-09-28T16:00:00+00:00",  # local midnight at UTC+8, the evening before in UTC
        "2022-04-26T16:00:00+00:00",
    ]
    assert main(["analyze", "--counts", str(path), "--json", "--as-of", AS_OF]) == 0
    out = capsys.readouterr()
    from_csv = json.loads(out.out)
    for name in ("plains", "harbin"):
        got = [_same(a) for a in from_csv if a["site"] == name]
        assert got == [_same(a) for a in stored[name]], name
    assert "warning" not in out.err, out.err


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # every line's zone edited: its day column is not of UTC+8 (17:30 UTC is 01:30
        # on the next day there)
        (
            {"all": "UTC+8"},
            "line 2: day '2020-01-01' is not the day of its time 2020-01-01 17:30 UTC in its "
            "local_zone UTC+8 (2020-01-02)",
        ),
        # one line's zone edited: not its site's others
        ({5: "UTC+8"}, "line 5: local_zone 'UTC+8' is not line 2's 'UTC-7'"),
        ({5: ""}, "line 5: local_zone is empty, but line 2 gives 'UTC-7'"),
        ({3: "Mountain"}, "line 3: local_zone 'Mountain' is not a zone"),
    ],
)
def test_a_zone_that_disagrees_is_refused_with_its_line(
    exported: tuple[str, dict[str, Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: dict[Any, str],
    message: str,
) -> None:
    _, paths = exported
    rows = _rows(paths["plains"])
    for n, row in enumerate(rows, start=2):  # line 1 is the header
        if "all" in edit or n in edit:
            row["local_zone"] = edit.get("all", edit.get(n, ""))
    path = _write(tmp_path / "edited.csv", rows)
    capsys.readouterr()
    assert main(["analyze", "--counts", str(path), "--as-of", AS_OF]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert message in err, err


def test_import_reviews_refuses_another_sites_zone(
    exported: tuple[str, dict[str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    """harbin's export (UTC+8) given as plains's reviews (UTC-7): refused, nothing
    recorded."""
    url, paths = exported
    capsys.readouterr()
    args = ["--db", url, "scene", "import-reviews", "plains", str(paths["harbin"])]
    assert main(args) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "line 2: local_zone 'UTC+8' is not UTC-7, the zone the file is read in" in err


def test_the_dashboards_counts_csv_says_the_zone_and_reads_back(
    exported: tuple[str, dict[str, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    url, _ = exported
    db = Database(url)
    try:
        app = create_app(Settings(db=url, cache_dir=tmp_path / "cache"), db)
        with TestClient(app) as client:
            r = client.get("/api/sites/harbin/counts?format=csv&limit=1000")
    finally:
        db.dispose()
    assert r.status_code == 200, r.text
    path = tmp_path / "harbin-all-counts.csv"
    path.write_text(r.text, encoding="utf-8")
    rows = _rows(path)
    assert list(rows[0])[:4] == ["when", "day", "local_zone", "scene_id"]
    assert {row["local_zone"] for row in rows} == {"UTC+8"}
    stored = _stored(url, "harbin", capsys)
    assert main(["analyze", "--counts", str(path), "--json", "--as-of", AS_OF]) == 0
    out = capsys.readouterr()
    # since the download has gsd, its alerts name the thresholds the stored ones do
    assert [_same(a) for a in json.loads(out.out)] == [_same(a) for a in stored]
    assert {row["gsd"] for row in rows} == {"0.5"}
    assert "warning" not in out.err, out.err


def test_as_of_is_a_day_in_the_files_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 13:00 UTC on 2024-03-01 it is 2024-03-02 at a UTC+12 site: a file that says
    so looks back to that day, and not to the next (as `analyze SITE`); a file that does
    not say its zone keeps today in UTC."""
    import railwatch.cli.analyze as analyze

    now = datetime(2024, 3, 1, 13, 0, tzinfo=UTC)

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Clock:
            return cls.fromtimestamp(now.timestamp(), tz)

    class Calendar(analyze.date):
        @classmethod
        def today(cls) -> Calendar:
            return cls(2024, 3, 1)

    monkeypatch.setattr(analyze, "datetime", Clock)
    monkeypatch.setattr(analyze, "date", Calendar)
    lines = [
        f"2024-01-{d:02d}T00:30:00+00:00,2024-01-{d:02d},UTC+12,{d},{5 + d % 3}"
        for d in range(1, 29)
    ]
    zoned = tmp_path / "fiji.csv"
    zoned.write_text(
        "date,day,local_zone,scene_id,count\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    old = tmp_path / "fiji-old.csv"
    dropped = [ln.replace(",UTC+12,", ",") for ln in lines]
    old.write_text("date,day,scene_id,count\n" + "\n".join(dropped) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["analyze", "--counts", str(zoned), "--as-of", "2024-03-02"]) == 0
    assert main(["analyze", "--counts", str(zoned), "--as-of", "2024-03-03"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--as-of 2024-03-03 is after today (2024-03-02 at fiji.csv, UTC+12 nominal)" in err
    assert main(["analyze", "--counts", str(old), "--as-of", "2024-03-02"]) == 2
    assert "is after today (2024-03-01)" in " ".join(capsys.readouterr().err.split())
