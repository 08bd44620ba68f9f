"""A day given without a time of day (``ingest --date 2024-04-10``, a file name's date
alone) is that day at the site: noon there in UTC, marked ``date_only`` (session 32).
It was 00:00 UTC, which at a site west of Greenwich is the evening of the day before:
at 118°W (UTC-8 nominal) ``--date 2024-04-10`` gave the local day 2024-04-09."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from shapely.geometry import box

from helpers import make_geotiff
from railwatch.analysis.events import local_day
from railwatch.cli.main import main
from railwatch.imagery.inspect import inspect_scene
from railwatch.ingest import ingest_paths
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo

DATE_ONLY_KEY = "date_only"  # railwatch.imagery.inspect.DATE_ONLY_KEY


def _site(tmp_path: Path, lon: float) -> tuple[Database, Path]:
    """A database with site ``west`` around a small EPSG:4326 image at ``lon``, and the
    folder the image goes in."""
    folder = tmp_path / "nodate"
    probe = make_geotiff(
        tmp_path / "probe" / "probe.tif", crs="EPSG:4326", origin=(lon, 34.0), gsd=1e-5
    )
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        aoi = box(*inspect_scene(probe, date=date(2024, 1, 1)).footprint.buffer(-2e-6).bounds)
        repo.add_site(s, SiteSpec(name="west", geometry=aoi))
    return db, folder


def _scene(db: Database) -> tuple[datetime, str, dict[str, object]]:
    with db.session(readonly=True) as s:
        (scene,) = repo.list_scenes(s, "west")
        return scene.acquired_at.replace(tzinfo=UTC), scene.date_source, dict(scene.meta or {})


@pytest.mark.parametrize(("lon", "hours"), [(-118.0, -8), (-179.9, -12), (179.9, 12), (2.0, 0)])
def test_a_date_alone_is_that_day_at_the_site(tmp_path: Path, lon: float, hours: int) -> None:
    db, folder = _site(tmp_path, lon)
    make_geotiff(folder / "yard.tif", crs="EPSG:4326", origin=(lon, 34.0), gsd=1e-5)
    summary = ingest_paths(db, "west", [folder], date=date(2024, 4, 10))
    assert len(summary.ingested) == 1
    when, source, meta = _scene(db)
    assert when == datetime(2024, 4, 10, 12, tzinfo=UTC) - timedelta(hours=hours)
    assert local_day(when, timedelta(hours=hours)) == date(2024, 4, 10)
    assert source == "option" and meta.get(DATE_ONLY_KEY) is True


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, " ".join((out + err).split())


def test_ingest_cli_date_alone_west_of_greenwich(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The colleague's reproducer: 118°W, `--date 2024-04-10` stored 2024-04-10T00:00Z,
    the local day 2024-04-09. A date with a time is kept as given."""
    db, folder = _site(tmp_path, -118.0)
    make_geotiff(folder / "yard.tif", crs="EPSG:4326", origin=(-118.0, 34.0), gsd=1e-5)
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    code, out = _run(capsys, "--db", url, "ingest", "west", str(folder / "yard.tif"),
                     "--date", "2024-04-10")  # fmt: skip
    assert code == 0, out
    assert "dated 2024-04-10 20:00 UTC by --date" in out
    when, _, meta = _scene(db)
    assert when == datetime(2024, 4, 10, 20, tzinfo=UTC)
    assert local_day(when, timedelta(hours=-8)) == date(2024, 4, 10)
    assert meta.get(DATE_ONLY_KEY) is True
    # a time given is the time stored (now with --force-date: dated anew, flag removed)
    code, out = _run(capsys, "--db", url, "ingest", "west", str(folder / "yard.tif"),
                     "--force-date", "--date", "2024-04-10T00:00Z")  # fmt: skip
    assert code == 0, out
    when, _, meta = _scene(db)
    assert when == datetime(2024, 4, 10, tzinfo=UTC) and DATE_ONLY_KEY not in meta


def test_a_file_names_date_alone_is_that_day_at_the_site(tmp_path: Path) -> None:
    db, folder = _site(tmp_path, -118.0)
    make_geotiff(folder / "yard_20240410.tif", crs="EPSG:4326", origin=(-118.0, 34.0), gsd=1e-5)
    make_geotiff(
        folder / "yard_20240411T000000.tif",
        crs="EPSG:4326",
        origin=(-118.0, 34.0),
        gsd=1e-5,
        data=None,
        width=65,
    )
    ingest_paths(db, "west", [folder])
    with db.session(readonly=True) as s:
        got = {
            Path(sc.uri).name: (
                sc.acquired_at.replace(tzinfo=UTC),
                (sc.meta or {}).get(DATE_ONLY_KEY),
            )
            for sc in repo.list_scenes(s, "west")
        }
    # the day alone: noon at 118°W (20:00Z); a time given (midnight UTC) kept as it is
    assert got["yard_20240410.tif"] == (datetime(2024, 4, 10, 20, tzinfo=UTC), True)
    assert got["yard_20240411T000000.tif"] == (datetime(2024, 4, 11, tzinfo=UTC), None)


def test_full_timestamps_are_unchanged() -> None:
    from railwatch.imagery.dates import dated_from_filename, local_noon
    from railwatch.imagery.inspect import DATE_ONLY_KEY as key

    assert key == DATE_ONLY_KEY
    assert dated_from_filename("S2A_MSIL2A_20231005T021301_N0509.tif") == datetime(
        2023, 10, 5, 2, 13, 1, tzinfo=UTC
    )
    assert dated_from_filename("LC08_L1TP_116031_20231005_20231010_02_T1.tif") == date(2023, 10, 5)
    assert local_noon(date(2023, 10, 5), timedelta(hours=-12)) == datetime(2023, 10, 6, tzinfo=UTC)
