"""Faults found by machine-driven fuzzing of railwatch's untrusted inputs (2026-12-07,
session 51): schemathesis against the REST API, Hypothesis against `analyze --counts`
CSV files and `site add` polygons and boxes. One test (or a few) per fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.analysis.csvio import parse_counts_csv
from railwatch.cli.main import main
from railwatch.errors import GeometryError, InputError
from railwatch.sites import site_from_bbox, site_from_geojson
from railwatch.storage.repo import _checked_review_counts


def _refused(fn: object, *args: object) -> str:
    with pytest.raises(GeometryError) as info:
        fn(*args)  # type: ignore[operator]
    return str(info.value)


# --- Fault 1: a site's coordinates rounded into range in the error that refuses them ----
# `{v:g}` keeps 6 significant digits: 180.0004 was said "(180, 10) out of range ...
# longitude must be within ±180", and a box 130.6000001 to 130.6 "west 130.6 is east of
# east 130.6": the message contradicted itself and hid the digit to correct.


@pytest.mark.parametrize(
    ("bbox", "said"),
    [
        ("130.6000001,42.3,130.6,42.31", "west 130.6000001 is east of east 130.6"),
        ("130.6,42.3000001,130.61,42.3", "south 42.3000001 is north of north 42.3"),
        ("130.6,42.3,180.0000001,42.31", "bbox 130.6,42.3,180.0000001,42.31 is out of range"),
        ("10,90.0000001,11,42.31", "latitude 90.0000001 is beyond ±90"),
    ],
)
def test_bbox_error_gives_the_digits_that_break_the_rule(bbox: str, said: str) -> None:
    assert said in _refused(site_from_bbox, "b", bbox)


def test_antimeridian_hint_gives_the_boxes_as_given() -> None:
    # the two boxes the hint says to add were rounded to 6 digits: 179.123456789 became
    # 179.123, a box about 40 m off the one given
    msg = _refused(site_from_bbox, "b", "179.123456789,42.1,-179.9,42.2")
    assert "--bbox 179.123456789,42.1,180,42.2 and --bbox -180,42.1,-179.9,42.2" in msg
    assert "west 179.123456789 is east of east -179.9" in msg


def test_geojson_coordinate_just_beyond_180_is_said_as_given() -> None:
    ring = [[179.9999, 10], [180.0004, 10], [180.0004, 10.001], [179.9999, 10]]
    msg = _refused(site_from_geojson, "g", {"type": "Polygon", "coordinates": [ring]})
    assert "coordinate (180.0004, 10) out of range" in msg


def test_geojson_latitude_just_beyond_90_is_said_as_given() -> None:
    ring = [[10, 89.9999], [10.01, 90.0000001], [10.01, 89.99], [10, 89.9999]]
    msg = _refused(site_from_geojson, "g", {"type": "Polygon", "coordinates": [ring]})
    assert "latitude 90.0000001 beyond ±90" in msg


# --- Fault 2: a GeoJSON file in UTF-16 with its byte-order mark refused ------------------
# Windows PowerShell 5's `>` and `Out-File` write UTF-16 with a byte-order mark; the mark
# was taken for a stray byte: "not UTF-8 text (byte 0xff at offset 0)". A counts CSV in
# UTF-16 with its mark was read already.

_YARD = {
    "type": "Polygon",
    "coordinates": [
        [[8.587, 47.528], [8.593, 47.528], [8.593, 47.532], [8.587, 47.532], [8.587, 47.528]]
    ],
}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_geojson_file_in_utf16_with_its_mark_is_read(tmp_path: Path, encoding: str) -> None:
    text = json.dumps(_YARD)
    raw = text.encode("utf-16") if encoding == "utf-16" else b"\xfe\xff" + text.encode(encoding)
    path = tmp_path / "yard.geojson"
    path.write_bytes(raw)
    spec = site_from_geojson("yard", path)
    assert spec.geometry.equals(site_from_geojson("yard", _YARD).geometry)


def test_site_add_reads_a_utf16_geojson(tmp_path: Path) -> None:
    path = tmp_path / "yard.geojson"
    path.write_bytes(json.dumps(_YARD).encode("utf-16"))
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["--db", url, "site", "add", "yard", "--geojson", str(path)]) == 0


def test_damaged_utf16_geojson_is_said_to_be_utf16(tmp_path: Path) -> None:
    path = tmp_path / "yard.geojson"
    path.write_bytes(json.dumps(_YARD).encode("utf-16") + b"\x00\xd8")
    with pytest.raises(InputError) as info:
        site_from_geojson("yard", path)
    assert "is not UTF-16 text after its byte-order mark" in str(info.value)


# --- Fault 3: a tiny site's area said as 0.0 m² ------------------------------------------


def test_tiny_site_area_is_not_said_to_be_zero() -> None:
    msg = _refused(site_from_bbox, "b", "8.5,47.5,8.50000001,47.50000001")
    assert "covers only 8.4e-07 m², smaller than one railcar" in msg


# --- Fault 4: the same rounding in the errors and warnings of a counts CSV ---------------
# "low 5 is greater than high 5" (low 5.0000001), "high 5 is less than count 5", "count
# 5 at gsd 10 m per pixel: ... coarser than 10 m per pixel" (gsd 10.0000001), and two
# counts of one day "differently (5, 5)".


def _csv_error(text: str) -> str:
    with pytest.raises(InputError) as info:
        parse_counts_csv(text)
    return str(info.value)


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ("2023-01-01,5,5.0000001,5", "low 5.0000001 is greater than high 5"),
        ("2023-01-01,5,4,4.9999999", "high 4.9999999 is less than count 5"),
        ("2023-01-01,5.0000001,4,5", "high 5 is less than count 5.0000001"),
        ("2023-01-01,4.9999999,5,6", "low 5 is greater than count 4.9999999"),
    ],
)
def test_interval_error_gives_the_digits_out_of_order(row: str, said: str) -> None:
    assert f"line 2: {said};" in _csv_error(f"date,count,low,high\n{row}\n")


def test_too_coarse_gsd_is_said_as_given() -> None:
    msg = _csv_error("date,count,gsd\n2023-01-01,5,10.0000001\n")
    assert "count 5 at gsd 10.0000001 m per pixel: no railcars can be counted" in msg
    assert "if you meant 10.0000001 cm" in msg


def test_counts_of_one_day_told_apart_in_the_warning() -> None:
    said: list[str] = []
    parse_counts_csv("date,count\n2023-01-01,5\n2023-01-01,5.0000001\n", warn=said.append)
    assert len(said) == 1
    assert "differently (5, 5.0000001)" in said[0]
    assert "the highest (5.0000001, line 3)" in said[0]


# --- Fault 5: the same rounding in a scene review's counts (CLI `scene review`, PUT
# /api/scenes/{id}/review) ---------------------------------------------------------------
# "tank 1.23457e+06 is more than the total 1.23457e+06" of 1234568 tanks in 1234567 cars.


def test_review_type_above_total_is_said_in_whole_numbers() -> None:
    with pytest.raises(InputError) as info:
        _checked_review_counts({"all": 1234567, "tank": 1234568}, "objects", 1)
    assert str(info.value).startswith("tank 1234568 is more than the total 1234567:")


def test_review_types_adding_up_above_total_are_said_in_whole_numbers() -> None:
    with pytest.raises(InputError) as info:
        _checked_review_counts({"all": 1234567, "tank": 1000000, "boxcar": 234568}, "objects", 1)
    assert "add up to 1234568, more than the total 1234567" in str(info.value)
