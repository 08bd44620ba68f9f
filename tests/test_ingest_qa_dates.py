"""Acquisition dates as analysts' files carry them: names from Planet, Maxar, Sentinel
and Landsat, two dates in one name, impossible dates and times, TIFF DateTime tags in
their odd forms, and which source wins over which."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from imagery_helpers import write_geotiff, yard_scene
from railwatch.imagery.dates import date_from_filename, parse_datetime, rejected_filename_dates
from railwatch.imagery.inspect import MissingDateError, inspect_scene


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Maxar catalogue and product names (14 digits; YYMONDDhhmmss): were no date
        ("WV03_20231005021300_104001008C3F9A00.tif", utc(2023, 10, 5, 2, 13)),
        ("23OCT05021300-P1BS-012345678010_01_P001.TIF", utc(2023, 10, 5, 2, 13)),
        ("20231005235959.tif", utc(2023, 10, 5, 23, 59, 59)),
        # hours and minutes only: the time was dropped
        ("yard_20231005T0213.tif", utc(2023, 10, 5, 2, 13)),
        # Planet, Sentinel-2, Landsat: the acquisition (leftmost) date
        ("20231005_021300_12_2414_3B_AnalyticMS.tif", utc(2023, 10, 5, 2, 13)),
        (
            "S2A_MSIL2A_20231005T021301_N0509_R003_T52TDM_20231010T045533.tif",
            utc(2023, 10, 5, 2, 13, 1),
        ),
        ("LC08_L1TP_116031_20231005_20231010_02_T1.tif", utc(2023, 10, 5)),
        # two dates of different forms: the leftmost, not the first form tried
        ("yard_20231005_export_2024-01-15.tif", utc(2023, 10, 5)),
        ("yard_20230230_20231005.tif", utc(2023, 10, 5)),  # impossible first one skipped
    ],
)
def test_filename_dates_analysts_have(name: str, expected: datetime) -> None:
    assert date_from_filename(name) == expected


@pytest.mark.parametrize(
    ("name", "token"),
    [
        # an impossible time was dropped and its date taken as midnight
        ("yard_20231005T250000.tif", "20231005T250000"),
        ("yard_2023-10-05_25-00-00.tif", "2023-10-05_25-00-00"),
        ("23FEB30021300-P1BS.tif", "23FEB30021300"),
        ("yard_20231305.tif", "20231305"),
    ],
)
def test_impossible_dates_and_times_are_no_date_and_named(name: str, token: str) -> None:
    assert date_from_filename(name) is None
    assert rejected_filename_dates(name) == [token]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023:10:05 02:13:00\x00", utc(2023, 10, 5, 2, 13)),  # NUL-terminated TIFF ASCII
        ("2023/10/05 02:13:00", utc(2023, 10, 5, 2, 13)),
        ("2023-10-05 02:13:00 UTC", utc(2023, 10, 5, 2, 13)),
        ("2023-10-05T02:13:00.1234567Z", datetime(2023, 10, 5, 2, 13, 0, 123456, tzinfo=UTC)),
        ("2023-10-05T00:30:00+09:00", utc(2023, 10, 4, 15, 30)),  # midnight in Korea
    ],
)
def test_tag_date_forms(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


def _tif(folder: Path, name: str, **kw: object) -> Path:
    return write_geotiff(folder / name, yard_scene(48, 64), **kw)  # type: ignore[arg-type]


def test_file_written_later_keeps_the_date_in_its_name(tmp_path: Path) -> None:
    """A scene exported in 2024 (TIFFTAG_DATETIME, the file's creation time by the TIFF
    specification) of an image named for 2023-10-05 was dated 2024-01-15."""
    path = _tif(tmp_path, "yard_20231005.tif", tags={"TIFFTAG_DATETIME": "2024:01:15 10:00:00"})
    info = inspect_scene(path)  # a name's day alone: noon (UTC here: no site; session 32)
    assert (info.acquired, info.date_source) == (utc(2023, 10, 5, 12), "filename")
    # on the name's own day the tag only adds the time of day
    same = _tif(tmp_path, "yard_2023-10-06.tif", tags={"TIFFTAG_DATETIME": "2023:10:06 02:13:00"})
    assert inspect_scene(same).acquired == utc(2023, 10, 6, 2, 13)
    # an acquisition tag still beats the name
    acq = _tif(
        tmp_path,
        "yard_20231007.tif",
        tag_domains={"IMAGERY": {"ACQUISITIONDATETIME": "2023-10-07T23:59:59Z"}},
    )
    assert inspect_scene(acq).acquired == utc(2023, 10, 7, 23, 59, 59)


def test_default_date_is_only_for_files_without_one(tmp_path: Path) -> None:
    fallback = utc(2023, 11, 1)
    dated = _tif(tmp_path, "yard_20231005.tif")
    info = inspect_scene(dated, default_date=fallback)
    assert (info.acquired, info.date_source) == (utc(2023, 10, 5, 12), "filename")
    bare = _tif(tmp_path, "bare.tif")
    info = inspect_scene(bare, default_date=fallback)
    assert (info.acquired, info.date_source) == (fallback, "option")
    with pytest.raises(MissingDateError, match="--date YYYY-MM-DD on the command line"):
        inspect_scene(bare)


def test_maxar_imd_sidecar_gives_the_time_and_satellite(tmp_path: Path) -> None:
    """GDAL reads NAME.IMD into the IMAGERY domain, but inspect opened files without
    listing their folder, so the IMD was never seen: 'no acquisition date found'."""
    path = _tif(tmp_path, "scene.tif")
    path.with_suffix(".IMD").write_text(
        'version = "28.4";\n'
        "generationTime = 2023-10-06T00:00:00.000000Z;\n"
        "BEGIN_GROUP = IMAGE_1\n"
        '\tsatId = "WV03";\n'
        "\tfirstLineTime = 2023-10-04T02:13:00.123456Z;\n"
        "END_GROUP = IMAGE_1\n"
        "END;\n"
    )
    info = inspect_scene(path)
    assert (info.acquired, info.date_source, info.sensor) == (
        utc(2023, 10, 4, 2, 13),
        "tiff-tag",
        "WV03",
    )
