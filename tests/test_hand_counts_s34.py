"""Hand counts as analysts' spreadsheets export them, session 34's audit of
``railwatch analyze --counts FILE.csv`` (2026-12-05).

Each case was misread or misleading before: a spreadsheet's summary row below the counts
(``Total,143``) and a count line without its date were "cannot read date 'Total'; use
YYYY-MM-DD"; one site spelt ``Tumangang`` and ``tumangang`` (or in two Unicode forms)
was read as two sites, each analysed on part of the counts; ``n/a`` was "not a number"
while ``NA`` was a gap; a spreadsheet's error value (``#N/A``) or an accounting dash
got no word on what it is; UTF-16 without its byte-order mark was "lacks column(s)
date, count"; in a ``;``-separated file ``1,073`` was read as 1.073 railcars."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from pathlib import Path

import pytest

from railwatch.analysis.csvio import decode_counts, parse_counts_csv
from railwatch.cli.main import main
from railwatch.errors import InputError

DAYS = [date(2023, 9, 1) + timedelta(days=7 * k) for k in range(6)]
ROWS = "".join(f"{d:%Y-%m-%d},{18 + k}\r\n" for k, d in enumerate(DAYS))


def _error(text: str) -> str:
    with pytest.raises(InputError) as err:
        parse_counts_csv(text, source="c.csv")
    return str(err.value)


@pytest.mark.parametrize("word", ["Total", "total:", "Sum", "Average", "Grand total", "Mean"])
def test_a_summary_row_is_named_as_one(word: str) -> None:
    """Was "line 8: cannot read date 'Total'; use YYYY-MM-DD or an ISO 8601 datetime":
    the analyst was sent to fix a date that is not one."""
    message = _error(f"date,count\r\n{ROWS}{word},123\r\n")
    assert message.startswith(f"line 8: {word!r} (count '123') is a summary row of the ")
    assert "delete the line" in message
    assert "YYYY-MM-DD" not in message


def test_a_count_without_its_date() -> None:
    """A total under the count column with the date cell empty (or a count whose date was
    forgotten) was "cannot read date ''"."""
    message = _error(f"date,count\r\n{ROWS},123\r\n")
    assert message.startswith("line 8: the date is empty (count '123'): give the date of")
    assert "delete the line if it is not a count" in message


def test_the_cli_names_the_total_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As Excel writes it: UTF-8 with a byte-order mark, CRLF, a blank line and the
    sheet's total row below the counts."""
    path = tmp_path / "counts.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"Date,Count\r\n{ROWS}\r\nTotal,123\r\n".encode())
    assert main(["analyze", "--counts", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "line 9: 'Total' (count '123') is a summary row" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("other", ["tumangang", "TUMANGANG", "Tumangang  yard"])
def test_one_site_spelt_two_ways_is_refused(other: str) -> None:
    """Was two sites, each analysed on part of the counts, without a word."""
    name = "Tumangang  yard".replace("  ", " ") if "yard" in other else "Tumangang"
    text = f"date,count,site\n2023-10-04,73,{name}\n2023-10-05,70,{other}\n"
    message = _error(text)
    assert message.startswith(
        f"line 3: site {other!r} differs from line 2's {name!r} only in letter case or spaces"
    )


def test_one_site_in_two_unicode_forms_is_one_site() -> None:
    """'Zürich' typed (NFC) and pasted from a file name (NFD) look the same: one site,
    in NFC as site names are stored (it was two)."""
    nfd = unicodedata.normalize("NFD", "Zürich")
    out = parse_counts_csv(f"date,count,site\n2023-10-04,73,{nfd}\n2023-10-05,70,Zürich\n")
    assert list(out) == ["Zürich"]
    assert [p.count for p in out["Zürich"]] == [73, 70]


@pytest.mark.parametrize("cell", ["n/a", "N/A"])
def test_n_a_is_a_gap_as_na_is(cell: str) -> None:
    """``NA`` was a gap, ``n/a`` (the same words) "not a number"."""
    points = parse_counts_csv(f"date,count\n2023-10-04,73\n2023-10-05,{cell}\n")[""]
    assert [p.usable for p in points] == [True, False]
    assert points[1].count is None


GAP = "for a gap"
FORMULA = (
    "it is the spreadsheet's error value of a formula that failed: correct the formula or "
    "type the count, or leave the cell empty for a gap"
)


@pytest.mark.parametrize(
    ("cell", "hint"),
    [
        ("#N/A", FORMULA),
        ("#DIV/0!", FORMULA),
        ("#VALUE!", FORMULA),
        (
            "-",
            "a dash is a zero or no value: write 0 for none seen, or leave the cell empty " + GAP,
        ),
    ],
)
def test_a_count_cell_a_spreadsheet_wrote_says_what_it_is(cell: str, hint: str) -> None:
    """Were "give a number of railcars (e.g. 73), or leave the cell empty": a formula's
    error or Excel's accounting zero (a dash) said nothing of what it was."""
    assert _error(f"date,count\n2023-10-05,{cell}\n") == (
        f"line 2: count {cell!r} is not a number; {hint}"
    )


def test_utf16_without_its_byte_order_mark() -> None:
    """Was "lacks column(s) date, count" of a file whose header reads date<TAB>count."""
    data = "date\tcount\r\n2023-10-05\t73\r\n".encode("utf-16-le")
    with pytest.raises(InputError, match="holds NUL bytes: it looks like UTF-16 text without"):
        decode_counts(data, "c.csv")


def test_a_nul_byte_is_named_where_it_is() -> None:
    with pytest.raises(InputError) as err:
        decode_counts(b"date,count\n2023-10-05,7\x003\n", "c.csv")
    assert str(err.value).startswith(
        "c.csv holds a NUL byte (line 2, character 13), which CSV text never holds"
    )


def test_a_thousand_with_a_comma_in_a_semicolon_file_is_refused() -> None:
    """'1,073' and '12,500' were read as 1.073 and 12.5 railcars: a decimal comma with
    three decimals, which no count of railcars has, or a thousand as English text writes
    it. Decimal commas that cannot be a thousand still read."""
    for cell in ("1,073", "12,500"):
        message = _error(f"date;count\n2023-10-05;{cell}\n")
        assert message.startswith(f"line 2: count {cell!r} is ambiguous in a ';'-separated file")
        assert f"write {cell.replace(',', '')} without the separator" in message
    points = parse_counts_csv("date;count;low;high\n05.10.2023;73,25;0,125;80,5\n")[""]
    assert (points[0].count, points[0].low, points[0].high) == (73.25, 0.125, 80.5)


def test_what_an_ambiguous_count_suggests_reads() -> None:
    """The decimal form suggested for '1.234.567' was '1,234,567', itself refused (and
    '1.073' suggested '1,073', now refused too): each suggestion reads."""
    for cell, suggested in (("1.073", "1,07"), ("1.234.567", None)):
        message = _error(f"date;count\n2023-10-05;{cell}\n")
        if suggested is None:
            assert "if it has decimals" not in message
            continue
        assert f"or {suggested} if it has decimals" in message
        assert parse_counts_csv(f"date;count\n2023-10-05;{suggested}\n")[""][0].count == 1.07


@pytest.mark.parametrize(
    ("cell", "when"),
    [
        ("5-Oct-2023", "2023-10-05 00:00"),  # Excel's d-mmm-yyyy
        ("05 October 2023", "2023-10-05 00:00"),  # Excel's Long Date (UK)
        ("Thursday, October 5, 2023", "2023-10-05 00:00"),  # Excel's Long Date (US)
        ("Oct 5, 2023", "2023-10-05 00:00"),  # Google Sheets
        ("Sept. 5, 2023 2:30 PM", "2023-09-05 14:30"),
    ],
)
def test_a_date_with_the_month_named(cell: str, when: str) -> None:
    """Dates with an English month name cannot be mistaken in day/month order; they
    were "cannot read date"."""
    (point,) = parse_counts_csv(f'date,count\n"{cell}",73\n')[""]
    assert f"{point.when:%Y-%m-%d %H:%M}" == when
    assert point.date_only == (":" not in cell)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("5-Oct-23", "line 2: date '5-Oct-23' has a 2-digit year; write the year in full"),
        (
            "Wednesday, October 5, 2023",
            "line 2: date 'Wednesday, October 5, 2023': 2023-10-05 is a Thursday, not a "
            "Wednesday: check the day",
        ),
        ("31-Sep-2023", "line 2: date '31-Sep-2023' does not exist (day is out of range"),
    ],
)
def test_a_named_month_date_that_is_wrong_says_why(cell: str, message: str) -> None:
    """Were "cannot read date ...; use YYYY-MM-DD": Excel's d-mmm-yy has two digits of
    year (refused as for 10/5/23), and a weekday that is not the date's is a typo."""
    assert _error(f'date,count\n"{cell}",73\n').startswith(message)


def test_a_header_repeated_below_is_named() -> None:
    """Two exports joined one after the other (each with its byte-order mark and header)
    were "line 3: cannot read date '\\ufeffdate'; use YYYY-MM-DD"."""
    first = "\ufeffDate,Count\r\n2023-09-01,18\r\n"
    second = "\ufeffDate,Count\r\n2023-10-05,73\r\n"
    with pytest.raises(InputError, match=r"^line 3 repeats the header of line 1: delete it"):
        parse_counts_csv(decode_counts((first + second).encode(), "c.csv"))


def test_a_mac_csv_not_in_utf8_names_its_line_and_encoding() -> None:
    """Excel for Mac's "CSV (Macintosh)": lines ending in a lone CR, Mac Roman text. The
    byte was said to be on line 1 (lines were counted by LFs) and read as Windows-1252
    ('Ð' for Mac Roman's en dash)."""
    data = "date,count,site\r2023-09-01,18,A\r2023-09-08,20,Tumangang – yard\r".encode("mac_roman")
    with pytest.raises(InputError) as err:
        decode_counts(data, "c.csv")
    assert str(err.value).startswith(
        "c.csv is not UTF-8 text: line 3, character 25 is the byte 0xd0 ('–' in Mac Roman, "
        "the encoding of Excel for Mac's 'CSV (Macintosh)'); save it as UTF-8 CSV"
    )


def test_a_summary_row_of_a_file_with_sites() -> None:
    """As European Excel writes it (';', day.month.year, decimal commas): the total row's
    empty site was "line 8: the site is empty, but line 2 names site ...: give every
    line its site", before its date was looked at."""
    rows = "".join(f"{d:%d.%m.%Y};{18 + k};{16 + k},5;Tumangang\r\n" for k, d in enumerate(DAYS))
    message = _error(f"Date;Count;Low;Site\r\n{rows}Summe;123;;\r\n")
    assert message.startswith("line 8: 'Summe' (count '123') is a summary row of the ")


def test_an_unknown_column_says_what_to_do() -> None:
    """An analyst's notes column was "unknown column(s) notes; allowed: ..." alone."""
    message = _error("Date,Count,Notes\n2023-10-05,73,tarps on the flat cars\n")
    assert message.startswith("line 1: unknown column(s) notes; allowed: date,count,")
    assert message.endswith(
        ": correct a misspelt name, or delete the column from the file you export (other "
        "columns, such as notes, are not read: keep them on another sheet)"
    )


def test_a_thousand_with_a_point_in_a_comma_file_is_refused() -> None:
    """'1.073' was read as 1.073 railcars in a comma- or tab-separated file: Google
    Sheets' download in a German or Dutch locale writes a thousand and 73 so. Counts
    with a point and up to two decimals, and fractions below 1, still read."""
    for sep in (",", "\t"):
        message = _error(f"date{sep}count\n2023-10-05{sep}1.073\n")
        assert message == (
            "line 2: count '1.073' is ambiguous: a point that separates thousands, as German "
            "or Dutch write them, or three decimals, which a count of railcars does not have; "
            "write 1073 without the point, or 1.07 if it has decimals"
        )
    points = parse_counts_csv("date,count,low,high\n2023-10-05,73.25,0.125,80.5\n")[""]
    assert (points[0].count, points[0].low, points[0].high) == (73.25, 0.125, 80.5)


def test_an_iso_date_without_its_zeros() -> None:
    """'2023-10-5' (typed, or LibreOffice's YYYY-M-D) was "cannot read date": the year
    first is never ambiguous, as 2023/10/5 already read."""
    points = parse_counts_csv("date,count\n2023-10-5,73\n2023-1-5 14:30,70\n")[""]
    assert [f"{p.when:%Y-%m-%d %H:%M}" for p in points] == ["2023-10-05 00:00", "2023-01-05 14:30"]
    assert [p.date_only for p in points] == [True, False]


@pytest.mark.parametrize("cell", ["70-75", "70 – 75", "70 to 75"])
def test_a_count_written_as_a_range_says_where_the_range_goes(cell: str) -> None:
    """Was "give a number of railcars (e.g. 73), or leave the cell empty for a gap"."""
    assert _error(f"date,count\n2023-10-05,{cell}\n") == (
        f"line 2: count {cell!r} is not a number; a range: give one count (e.g. 72.5) and "
        "the range in the low and high columns (low 70, high 75)"
    )


def test_a_day_first_date_with_utc_after_its_time() -> None:
    """The docs give ' UTC' after a locale's date and time; '13/10/2023 10:30 UTC' was
    "cannot read date" (only the year-first 2023/10/13 10:30 UTC read)."""
    text = 'date,count\n13/10/2023 10:30 UTC,73\n"5 Oct 2023 2:30 PM GMT",70\n'
    points = parse_counts_csv(text)[""]
    assert [f"{p.when:%Y-%m-%d %H:%M}" for p in points] == ["2023-10-13 10:30", "2023-10-05 14:30"]
