"""Dates of hand-count files (session 28): an Excel serial number whose fraction follows a
decimal comma in a ';'-separated file (Excel where the comma marks decimals) was refused
as "cannot read date", and a time whose zone moves it out of the years 1-9999 in UTC
was an internal error (OverflowError)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from railwatch.analysis.csvio import parse_counts_csv
from railwatch.cli.main import main
from railwatch.errors import InputError


def test_excel_serial_with_a_decimal_comma_in_a_semicolon_file() -> None:
    notes: list[str] = []
    (pts,) = parse_counts_csv("date;count\n45204,75;73\n45205;70,5\n", warn=notes.append).values()
    assert [p.when for p in pts] == [
        datetime(2023, 10, 5, 18, tzinfo=UTC),
        datetime(2023, 10, 6, tzinfo=UTC),
    ]
    assert [p.count for p in pts] == [73.0, 70.5]
    assert notes == [
        "dates such as '45204,75' read as Excel serial numbers (line 2: 2023-10-05 18:00 UTC, "
        "Excel's 1900 date system)"
    ]


def test_a_decimal_comma_in_a_serial_is_not_read_in_a_comma_separated_file() -> None:
    # as for counts: in a ','-separated file a comma is never read as a decimal one
    with pytest.raises(InputError, match=r"line 2: cannot read date '45204,75'"):
        parse_counts_csv('date,count\n"45204,75",73\n')


@pytest.mark.parametrize("text", ["9999-12-31T23:00-05:00", "0001-01-01T00:00+05:00"])
def test_a_time_out_of_range_in_utc_is_named(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InputError) as err:
        parse_counts_csv(f"date,count\n2023-10-05,3\n{text},4\n")
    assert str(err.value) == (
        f"line 3: date {text!r} is out of range in UTC (years 1900-9999): check the year"
    )
    path = tmp_path / "c.csv"
    path.write_text(f"date,count\n{text},4\n")
    assert main(["analyze", "--counts", str(path), "--json"]) == 2
    out = capsys.readouterr()
    assert "internal error" not in out.err
    assert f"line 2: date {text!r} is out of range in UTC" in out.err


def test_lines_ending_in_a_lone_cr_are_lines(tmp_path: Path) -> None:
    """Excel for Mac's "CSV (Macintosh)" ends lines with a lone CR: the whole file was
    one line, refused with csv's own "new-line character seen in unquoted field - do you
    need to open the file in universal-newline mode?"."""
    (pts,) = parse_counts_csv("date;count\r2023-10-05;3,5\r2023-10-06;4\r").values()
    assert [(p.when.day, p.count) for p in pts] == [(5, 3.5), (6, 4.0)]
    with pytest.raises(InputError, match=r"^line 3: count 'x' is not a number"):
        parse_counts_csv("date,count\r2023-10-05,3\r2023-10-06,x\r")
