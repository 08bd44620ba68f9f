"""Hand counts as Excel, LibreOffice, Google Sheets and pandas write them (session 23).

Each case was refused or misread before: UTF-16 ("Unicode Text"), a workbook renamed
.csv or a Windows-1252 file said only "not UTF-8 text"; units in the header ("Count
(cars)"), pandas' index column and a spreadsheet's empty trailing columns were
"unknown column(s)" or "lacks column(s)"; dates as spreadsheets write them in their
locale (05/10/2023, 10/5/2023 10:30, 05.10.2023, 2023/10/05, Excel serial numbers)
could not be read, and one whose day/month order the file cannot tell is now refused
as ambiguous rather than guessed; a site named "[/]" was an internal error (rich
markup); a file with several images a day printed one warning per day (25,000 lines
for 100,000 rows); an unclosed quote was an internal error (csv's field limit) or a
count '5\\n2023-...'; lines after a quoted value spanning lines were misnumbered."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from railwatch.analysis.csvio import MAX_WARNINGS, parse_counts_csv, read_counts_csv
from railwatch.cli.main import main
from railwatch.errors import InputError

DAYS = [date(2023, 1, 1) + timedelta(days=7 * k) for k in range(40)]
COUNTS = [10 + k % 3 + (60 if k == 30 else 0) for k in range(40)]


def _rows(fmt: str = "{d:%Y-%m-%d}", sep: str = ",", count: str = "{c}") -> str:
    return "".join(
        f"{fmt.format(d=d)}{sep}{count.format(c=c)}\n" for d, c in zip(DAYS, COUNTS, strict=True)
    )


def _write(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def _alerts(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[dict[str, Any]], str]:
    code = main(["analyze", "--counts", str(path), "--json", "--as-of", "2024-01-01"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out), " ".join(err.split())


def _serial(d: date) -> int:
    return (d - date(1899, 12, 30)).days


@pytest.mark.parametrize(
    ("name", "text", "encoding", "newline", "note"),
    [
        # Excel's "Unicode Text": UTF-16 with a byte-order mark, tabs, CRLF
        ("unicode.txt", "date\tcount\n" + _rows(sep="\t"), "utf-16", "\r\n", ""),
        ("bom.csv", "date,count\n" + _rows(), "utf-8-sig", "\r\n", ""),
        ("units.csv", "Date (UTC), Count (cars) \n" + _rows(), "utf-8", "\n", ""),
        (
            "pandas.csv",
            ",date,count\n"
            + "".join(f"{k}," + r for k, r in enumerate(_rows().splitlines(keepends=True))),
            "utf-8",
            "\n",
            "",
        ),
        ("trailing.csv", "date,count,,\n" + _rows(count="{c},,") + ",,,\n", "utf-8", "\n", ""),
        ("comma_end.csv", "date,count\n" + _rows(count="{c},"), "utf-8", "\n", ""),
        (
            "dmy.csv",
            "date;count\n" + _rows("{d:%d/%m/%Y}", ";", "{c},0"),
            "utf-8",
            "\n",
            "dates such as '15/01/2023' read as day/month/year (line 4 has no month 15)",
        ),
        (
            "mdy.csv",
            "date,count\n" + _rows("{d.month}/{d.day}/{d.year} 10:30 AM"),
            "utf-8",
            "\n",
            "read as month/day/year (line 4 has no month 15)",
        ),
        ("dots.csv", "date;count\n" + _rows("{d:%d.%m.%Y}", ";"), "utf-8", "\n", ""),
        ("ymd.csv", "date,count\n" + _rows("{d.year}/{d.month}/{d.day}"), "utf-8", "\n", ""),
        (
            "serial.csv",
            "date,count\n"
            + "".join(f"{_serial(d)}.4375,{c}\n" for d, c in zip(DAYS, COUNTS, strict=True)),
            "utf-8",
            "\n",
            "dates such as '44927.4375' read as Excel serial numbers (line 2: 2023-01-01 10:30 "
            "UTC, Excel's 1900 date system)",
        ),
    ],
)
def test_spreadsheet_files_give_the_alerts_of_the_plain_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    encoding: str,
    newline: str,
    note: str,
) -> None:
    plain, _ = _alerts(_write(tmp_path / "plain.csv", "date,count\n" + _rows()), capsys)
    alerts, err = _alerts(_write(tmp_path / name, text, encoding, newline), capsys)
    assert [(a["kind"], a["severity"], a["when"][:10], a["value"]) for a in alerts] == [
        (a["kind"], a["severity"], a["when"][:10], a["value"]) for a in plain
    ]
    assert any(a["kind"] == "spike" for a in plain)
    assert note in err and "internal error" not in err


def test_several_images_a_day_warn_at_most_a_few_lines() -> None:
    """One warning per day: 100,000 rows of four images a day printed 25,000 lines."""
    text = "date,count\n" + "".join(
        f"{date(2023, 1, 1) + timedelta(days=k)}T{h:02d}:00:00Z,{5 + h}\n"
        for k in range(30)
        for h in (6, 12)
    )
    warned: list[str] = []
    parse_counts_csv(text, warn=warned.append)
    assert len(warned) == MAX_WARNINGS + 1
    assert warned[0].startswith("lines 2 and 3 count railcars on the same day, 2023-01-01")
    assert warned[-1] == (
        f"and {30 - MAX_WARNINGS} more days with several different counts of one series "
        f"(from lines {', '.join(str(2 + 2 * k) for k in range(MAX_WARNINGS, MAX_WARNINGS + 5))}"
        ", ...): on each the highest is kept"
    )


def test_a_site_name_with_brackets_is_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'internal error: MarkupError: closing tag '[/]' ... has nothing to close'."""
    path = _write(tmp_path / "s.csv", "date,count,site\n" + _rows(count="{c},[/]"))
    assert main(["analyze", "--counts", str(path), "--as-of", "2024-01-01"]) == 0
    out = capsys.readouterr().out
    assert "site [/]: " in out and "spike" in out


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("xlsx", "is an Excel workbook (.xlsx), not CSV text: open it and save it as UTF-8 CSV"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "is an Excel 97-2003 workbook (.xls)"),
        (b"\x1f\x8b\x08\x00" + bytes(20), "is gzip-compressed (decompress it first: gunzip)"),
        (
            "date,count,site\n2023-01-01,5,Saint-Étienne\n".encode("cp1252"),
            "is not UTF-8 text: line 2, character 20 is the byte 0xc9 ('É' in Windows-1252, "
            "the encoding of Excel's plain 'CSV'); save it as UTF-8 CSV (Excel: File > Save "
            "As > 'CSV UTF-8 (Comma delimited)'",
        ),
    ],
)
def test_files_that_are_not_utf8_csv_say_what_they_are(
    tmp_path: Path, data: bytes | str, message: str
) -> None:
    path = tmp_path / "counts.csv"
    if data == "xlsx":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("xl/workbook.xml", "<workbook/>")
    else:
        assert isinstance(data, bytes)
        path.write_bytes(data)
    with pytest.raises(InputError) as err:
        read_counts_csv(path)
    assert message in str(err.value)


def test_utf16_site_names_keep_their_accents(tmp_path: Path) -> None:
    path = _write(tmp_path / "u.txt", "date\tcount\tsite\n2023-01-01\t5\tSaint-Étienne\n", "utf-16")
    assert list(read_counts_csv(path)) == ["Saint-Étienne"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a unit the header names is read only when it is the column's own
        (
            "date,count (x1000)\n2023-01-01,5\n",
            "line 1: column 'count (x1000)': unit 'x1000' "
            "is not read; name the column count (units read: cars, railcars",
        ),
        (
            "Date (KST),count\n2023-01-01,5\n",
            "line 1: column 'Date (KST)': unit 'kst' is not "
            "read; dates are read as UTC: name the column date and give each time with its zone",
        ),
        # an unnamed column is passed over only when empty, or pandas' first index column
        (
            "date,,count\n2023-01-01,,5\n2023-01-02,x,6\n",
            "line 3: column B (column 2) has no name in the header but holds 'x': name it",
        ),
        (",date,count\n0,2023-01-01,5\nrow1,2023-01-02,6\n", "line 3: column A (column 1)"),
        # a trailing separator is an empty cell; a value there is still an extra field
        ("date,count\n2023-01-01,5,\n2023-01-02,5,9\n", "line 3: 3 fields, expected 2"),
        # day/month order
        (
            "date,count\n05/10/2023,73\n06/10/2023,70\n",
            "line 2: date '05/10/2023' could be "
            "day/month/year or month/day/year, and no date in the file has a day above 12 to "
            "tell; write dates as YYYY-MM-DD",
        ),
        (
            "date,count\n13/01/2023,5\n01/14/2023,6\n",
            "line 3: date '01/14/2023' is "
            "month/day/year, but line 2 ('13/01/2023') is day/month/year: the dates mix two "
            "orders; write them all as YYYY-MM-DD",
        ),
        (
            "date,count\n05/10/23,73\n",
            "line 2: date '05/10/23' has a 2-digit year; write the year in full (2023)",
        ),
        (
            "date,count\n31.02.2023,5\n",
            "line 2: date '31.02.2023' does not exist read as day/month/year",
        ),
        ("date,count\n2023,5\n", "line 2: cannot read date '2023'; use YYYY-MM-DD"),
        ("date,count\n2023/02/30,5\n", "line 2: cannot read date '2023/02/30'"),
        ("date,count\n10000,5\n1800.5,6\n", "line 3: cannot read date '1800.5'"),
        # counts: what to write instead
        (
            "date,count\n2023-01-01,~73\n",
            "line 2: count '~73' is not a number; give the "
            "number alone (73); an estimate's range goes in the low and high columns",
        ),
        (
            "date,count\n2023-01-01,73 (est.)\n",
            "count '73 (est.)' is not a number; give the number alone (73)",
        ),
        (
            'date,count\n2023-01-01,"1,073"\n',
            "count '1,073' is not a number; write it without "
            "the thousands separator: 1073 (or 1.073 if the comma marks decimals)",
        ),
        (
            "date\tcount\n2023-01-01\t7,5\n",
            "count '7,5' is not a number; a decimal comma is "
            "read in ';'-separated files only: write 7.5",
        ),
        (
            "date;count\n2023-01-01;1.073\n",
            "line 2: count '1.073' is ambiguous in a "
            "';'-separated file, where a comma marks decimals: write 1073 without the point",
        ),
        (
            "date,count\n2023-01-01,many\n",
            "count 'many' is not a number; give a number of "
            "railcars (e.g. 73), or leave the cell empty for a gap",
        ),
        # quotes
        (
            'date,count\n2023-01-01,"5\n2023-01-08,6\n',
            "line 2: the count value '5\\n2023-01-08,"
            "6\\n'... spans several lines: a quote (\") on this line is not closed",
        ),
        (
            'date,count\n2023-01-01,"5\n' + "2023-01-08,6\n" * 20_000,
            'line 2: a quote (") '
            "opened on this line is not closed, so the rest of CSV reads as one value",
        ),
        ('date,count,site\n2023-01-01,5,"Tuman\ngang"\n2023-01-08,x,a\n', "line 4: count 'x'"),
        ("\n\ndate,count\n2023-01-01,x\n", "line 4: count 'x'"),
        ("\n\ndate,count,colour\n2023-01-01,5,red\n", "line 3: unknown column(s) colour"),
        # a site written once above its lines: the blank lines made a series of their own
        (
            "date,count,site\n2023-01-01,5,a\n2023-01-08,6,\n2023-01-01,5,b\n2023-01-08,60,\n",
            "line 3: the site is empty, but line 2 names site 'a': give every line its site",
        ),
        (
            "Hand counts, Tumangang\n\ndate,count\n2023-01-01,5\n",
            "line 1: CSV lacks column(s) date, count; the header must contain date,count "
            "(optional: low,high,usable,class,site,gsd,method,reviewed); the header seems to "
            "be line 3: delete the line(s) above it",
        ),
    ],
)
def test_errors_say_what_where_and_what_to_do(text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        parse_counts_csv(text)
    assert message in str(err.value)


def test_dates_as_spreadsheets_write_them() -> None:
    def when(cell: str, more: str = "") -> datetime:
        return parse_counts_csv(f"date,count\n{cell},5\n{more}")[""][0].when

    assert when("05.10.2023") == datetime(2023, 10, 5, tzinfo=UTC)  # dots: day first
    assert when("05-10-2023", "13-10-2023,6\n") == datetime(2023, 10, 5, tzinfo=UTC)
    assert when("10/5/2023 10:30 PM", "10/13/2023,6\n") == datetime(2023, 10, 5, 22, 30, tzinfo=UTC)
    assert when("10/5/2023 12:15 AM", "10/13/2023,6\n") == datetime(2023, 10, 5, 0, 15, tzinfo=UTC)
    assert when("2023/10/5 10:30") == datetime(2023, 10, 5, 10, 30, tzinfo=UTC)
    assert when("45204") == datetime(2023, 10, 5, tzinfo=UTC)  # Excel serial
    assert when("45204.75") == datetime(2023, 10, 5, 18, tzinfo=UTC)
    assert when("2023-10-05T10:30:00Z") == datetime(2023, 10, 5, 10, 30, tzinfo=UTC)
    assert when("2023-10-05 10:30:00 UTC") == datetime(2023, 10, 5, 10, 30, tzinfo=UTC)


def test_json_says_when_counts_after_the_date_are_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table said '1 after ... left out'; --json left a mistyped year out silently."""
    path = _write(tmp_path / "c.csv", "date,count\n" + _rows() + "2033-01-08,6\n")
    alerts, err = _alerts(path, capsys)
    assert alerts and "warning: c.csv: 1 count after 2024-01-01 23:59 UTC left out" in err
    _, err = _alerts(_write(tmp_path / "d.csv", "date,count\n" + _rows()), capsys)
    assert "left out" not in err
