"""Acquisition dates from text, tags and file names (railwatch.imagery.dates)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from railwatch.imagery.dates import (
    date_from_filename,
    date_from_tags,
    parse_datetime,
    rejected_filename_dates,
    to_utc,
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-10-05T05:32:12Z", utc(2023, 10, 5, 5, 32, 12)),
        ("2023-10-05T05:32:12.123456Z", datetime(2023, 10, 5, 5, 32, 12, 123456, tzinfo=UTC)),
        ("2023-10-05T14:32:12+09:00", utc(2023, 10, 5, 5, 32, 12)),
        ("2023-10-04T22:00:00-08:00", utc(2023, 10, 5, 6, 0, 0)),
        ("2023-10-05 05:32:12", utc(2023, 10, 5, 5, 32, 12)),  # naive: taken as UTC
        ("2023-10-05", utc(2023, 10, 5)),
        ("2023:10:05 05:32:12", utc(2023, 10, 5, 5, 32, 12)),  # TIFF form
        ("  2023:10:05  ", utc(2023, 10, 5)),
    ],
)
def test_parse_datetime_forms(text: str, expected: datetime) -> None:
    got = parse_datetime(text)
    assert got == expected
    assert got is not None and got.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2023-13-05", "2023-02-30", "2023:02:30 00:00:00", "0001-01-01"]
)
def test_parse_datetime_rejects_invalid(text: str) -> None:
    assert parse_datetime(text) is None


def test_to_utc_naive_aware_and_date() -> None:
    assert to_utc(datetime(2023, 10, 5, 5)) == utc(2023, 10, 5, 5)
    kst = timezone(timedelta(hours=9))
    assert to_utc(datetime(2023, 10, 5, 14, tzinfo=kst)) == utc(2023, 10, 5, 5)
    assert to_utc(date(2023, 10, 5)) == utc(2023, 10, 5)
    assert to_utc(datetime(2023, 10, 5, 14, tzinfo=kst)).tzinfo == UTC


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("20231005_053212_ssc7_u0001_visual.tif", utc(2023, 10, 5, 5, 32, 12)),
        ("tumangang_2023-10-05.tif", utc(2023, 10, 5)),
        ("S2_20231005T021551_T52TGN.tif", utc(2023, 10, 5, 2, 15, 51)),
        ("scene_20231005.tif", utc(2023, 10, 5)),
        ("yard_2023_10_05.tif", utc(2023, 10, 5)),
        ("yard-2023-10-05T05-32-12.tif", utc(2023, 10, 5, 5, 32, 12)),
        # an impossible first candidate is skipped for a valid later one
        ("x_20231345_then_2023-10-05.tif", utc(2023, 10, 5)),
    ],
)
def test_date_from_filename(name: str, expected: datetime) -> None:
    assert date_from_filename(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "scene.tif",
        "scene_20231345.tif",  # month 13
        "scene_2023-02-30.tif",  # 30 February
        "id_123456789012345.tif",  # long number, not a date
        "img_0042.tif",
    ],
)
def test_date_from_filename_none(name: str) -> None:
    assert date_from_filename(name) is None


def test_rejected_filename_dates_names_the_bad_token() -> None:
    assert rejected_filename_dates("scene_20231345.tif") == ["20231345"]
    assert rejected_filename_dates("scene.tif") == []


def test_date_from_tags_precedence() -> None:
    tags = {"TIFFTAG_DATETIME": "2024:01:01 00:00:00"}
    assert date_from_tags(tags) == utc(2024, 1, 1)
    tags["ACQUISITIONDATETIME"] = "2023-10-05T05:32:12Z"
    assert date_from_tags(tags) == utc(2023, 10, 5, 5, 32, 12)
    imagery = {"ACQUISITIONDATETIME": "2022-11-29 02:00:00"}
    assert date_from_tags(tags, imagery) == utc(2022, 11, 29, 2)
    assert date_from_tags({"TIFFTAG_DATETIME": "garbage"}) is None
