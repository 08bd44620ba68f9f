"""Review of session 34's commits to ``railwatch analyze --counts`` (csvio, 2026-12-05).

963d25e refused a count with three decimals in a comma- or tab-separated file (``1.073``:
a thousand as German write it?), and e5123f0 the same with a comma in a ``;`` file. A
spreadsheet column formatted 0.000 writes every value so (``73.000``, ``72.500``), and
such files read before the session: they were refused line by line. A column whose
values all have three decimals, one of which cannot be a thousand (``0.500``, or
``73.000``: 73,000 railcars), now reads; a lone ``5.000`` stays refused and says how to
format the column. A summary row typed with fewer cells than the header
(``Total,143`` below a file of five columns) was "2 fields, expected 5" rather than
named as the summary row e5123f0 names."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.analysis.csvio import parse_counts_csv
from railwatch.cli.main import main
from railwatch.errors import InputError


def _error(text: str) -> str:
    with pytest.raises(InputError) as err:
        parse_counts_csv(text, source="c.csv")
    return str(err.value)


@pytest.mark.parametrize("sep", [",", "\t"])
def test_a_column_formatted_with_three_decimals_reads(sep: str) -> None:
    """Every count, low and high written with three decimals, as a 0.000 column writes
    them: read as the numbers they are, with a warning that says so."""
    text = (
        f"date{sep}count{sep}low{sep}high\n"
        f"2023-10-01{sep}73.000{sep}65.000{sep}80.000\n"
        f"2023-10-08{sep}72.500{sep}70.500{sep}102.000\n"
        f"2023-10-15{sep}1.073{sep}0.500{sep}1.250\n"
    )
    notes: list[str] = []
    points = parse_counts_csv(text, warn=notes.append)[""]
    assert [(p.count, p.low, p.high) for p in points] == [
        (73.0, 65.0, 80.0),
        (72.5, 70.5, 102.0),
        (1.073, 0.5, 1.25),
    ]
    assert any("'73.000' (line 2) read with their three decimals (73)" in n for n in notes)


def test_a_column_formatted_with_three_decimals_in_a_semicolon_file_reads() -> None:
    """European Excel writes a 0.000 column as 72,500: it read as 72.5 before e5123f0."""
    text = "date;count;low\n2023-10-01;72,500;70,000\n2023-10-08;0,125;0,000\n"
    points = parse_counts_csv(text)[""]
    assert [(p.count, p.low) for p in points] == [(72.5, 70.0), (0.125, 0.0)]


def test_a_thousand_with_a_point_stays_refused_beside_a_formatted_value() -> None:
    """The column rule needs every value of the column with three decimals: a German
    file writes a count under a thousand without a point, so '1.073' there stays
    refused; and values of 1.000 to 9.999 alone (1000 to 9999 as German write them)
    too, now saying how to format a 0.000 column."""
    assert "'1.073' is ambiguous" in _error("date,count\n2023-10-01,1.073\n2023-10-08,950\n")
    message = _error("date,count\n2023-10-01,5.000\n2023-10-08,1.500\n")
    # both lines, one error each (session 37: the first alone)
    assert "\nline 2: count '5.000' is ambiguous" in message
    assert "\nline 3: count '1.500' is ambiguous" in message
    assert "formatted with three decimals, 0.000" in message
    assert "format the column as 0 or 0.00" in message


def test_the_cli_reads_a_count_column_formatted_with_three_decimals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "counts.csv"
    days = [f"2023-{m:02d}-{d:02d}" for m in (9, 10) for d in (1, 8, 15, 22)]
    path.write_text("date,count\n" + "".join(f"{d},{70 + k}.000\n" for k, d in enumerate(days)))
    assert main(["analyze", "--counts", str(path)]) == 0
    captured = capsys.readouterr()
    assert "read with their three decimals" in " ".join(captured.err.split())


def test_a_summary_row_with_fewer_cells_than_the_header_is_named() -> None:
    """'Total,143' typed below a file of five columns was 'line 4: 2 fields, expected 5'."""
    text = "date,count,low,high,site\n2023-10-01,5,4,6,a\n2023-10-08,6,5,7,a\nTotal,11\n"
    message = _error(text)
    assert message.startswith("line 4: 'Total' (count '11') is a summary row of the spreadsheet")
    # a short line with a date is still told its fields
    short = _error("date,count,low,high,site\n2023-10-01,5,4,6,a\n2023-10-08,6\n")
    assert short.startswith("line 3: 2 fields, expected 5")
