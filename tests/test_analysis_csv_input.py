"""Hand counts as analysts' tools write them: semicolon- and tab-separated files (Excel
in most of Europe), and dubious values that were accepted silently (a date of 1800, a
count `nan`, several different counts on one day)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.analysis.csvio import parse_counts_csv, read_counts_csv, separator
from railwatch.cli.main import main
from railwatch.errors import InputError
from test_cli_analyze import _csv


@pytest.mark.parametrize(
    ("text", "sep"),
    [
        ("date,count\n2023-01-01,5\n", ","),
        ("date;count\n2023-01-01;5\n", ";"),
        ("date\tcount\n2023-01-01\t5\n", "\t"),
        ('"date";"count";"low"\n"2023-01-01";"5";"4"\n', ";"),
        ("\ufeffDate;Count\r\n2023-01-01;5\r\n", ";"),
        ("datum;anzahl\n2023-01-01;5\n", ","),  # no separator gives the columns
    ],
)
def test_the_separator_is_the_one_that_gives_the_columns(text: str, sep: str) -> None:
    assert separator(text) == sep


def test_semicolon_and_tab_files_read(tmp_path: Path) -> None:
    """'line 1: semi.csv lacks column(s) date, count' although the header had them."""
    semi = tmp_path / "semi.csv"
    semi.write_text("date;count;low;high;gsd\n2023-01-01;5;4;7;0,5\n2023-02-01;6,5;;;3 m\n")
    pts = read_counts_csv(semi)[""]
    assert [(p.count, p.low, p.high, p.gsd) for p in pts] == [
        (5.0, 4.0, 7.0, 0.5),  # a decimal comma in a semicolon file
        (6.5, None, None, 3.0),
    ]
    tab = tmp_path / "tab.tsv"
    tab.write_text("date\tcount\tclass\n2023-01-01\t5\ttank\n2023-01-02\t\tall\n")
    pts = read_counts_csv(tab)[""]
    assert [(p.count, p.cls, p.usable) for p in pts] == [(5.0, "tank", True), (None, "all", False)]
    # in a tab-separated file a comma is not read as a decimal separator (1,234 may be
    # a thousand), nor in a comma-separated one, where it separates
    with pytest.raises(InputError, match="line 2: count '1,234' is not a number"):
        parse_counts_csv("date\tcount\n2023-01-01\t1,234\n")
    with pytest.raises(InputError, match=r"line 2: 3 fields, expected 2: the header declares "):
        parse_counts_csv("date;count\n2023-01-01;5;3\n")
    with pytest.raises(InputError, match=r"date,count \(separated by ';'\); give one value"):
        parse_counts_csv("date;count\n2023-01-01;5;3\n")
    with pytest.raises(InputError, match="line 1: CSV lacks column"):
        parse_counts_csv("datum;anzahl\n2023-01-01;5\n")


def test_cli_reads_a_semicolon_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    comma = _csv(tmp_path)
    semi = tmp_path / "semi.csv"
    semi.write_text(comma.read_text().replace(",", ";"))
    assert main(["analyze", "--counts", str(comma), "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert main(["analyze", "--counts", str(semi), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected and expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # events refuse dates before 1900; counts were accepted
        ("date,count\n2023-01-01,3\n1800-01-01,5\n", "line 3: date 1800-01-01 is before 1900"),
        ("date,count\n1899-12-31T23:00:00Z,5\n", "line 2: date 1899-12-31 is before 1900"),
        # nan became a gap while inf was an error
        ("date,count\n2023-01-01,nan\n", "line 2: count 'nan' is not a number; leave the cell"),
        ("date,count\n2023-01-01,NaN\n", "(an empty count is a gap: an unusable image)"),
        ("date,count,low\n2023-01-01,5,nan\n", "line 2: low 'nan' is not a number"),
        ("date,count,gsd\n2023-01-01,5,nan\n", "line 2: gsd nan must be a positive number"),
        ("date,count\n2023-01-01,inf\n", "line 2: count 'inf' is not a finite number"),
    ],
)
def test_dubious_values_name_their_line(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_counts_csv(text)


def test_gaps_are_still_empty_cells() -> None:
    pts = parse_counts_csv("date,count\n1900-01-01,4\n2023-01-01,\n2023-01-02,NA\n")[""]
    assert [p.count for p in pts] == [4.0, None, None]


def test_several_counts_on_one_day_are_warned_about() -> None:
    warned: list[str] = []
    text = (
        "date,count,class,site\n"
        "2023-01-01,5,all,a\n"
        "2023-01-01T18:00:00Z,9,all,a\n"  # the same UTC day
        "2023-01-01,7,all,a\n"
        "2023-01-01,3,tank,a\n"  # another series
        "2023-01-01,4,all,b\n"  # another site
        "2023-01-02,6,all,a\n"
        "2023-01-02,6,all,a\n"  # the same count twice: nothing to choose
        "2023-01-03,,all,a\n"
        "2023-01-03,8,all,a\n"  # a gap and a count: the count is the day's
        "2023-01-04T23:30:00-02:00,2,all,a\n"  # 2023-01-05 01:30 UTC
        "2023-01-05,3,all,a\n"
    )
    by_site = parse_counts_csv(text, warn=warned.append)
    assert len(by_site["a"]) == 10  # every line is kept; the analysis combines them
    assert warned == [
        "lines 2, 3 and 4 count railcars at site a on the same day, 2023-01-01 UTC, "
        "differently (5, 9, 7): the analysis keeps one count a day, the highest (9, line 3), "
        "as it keeps the best image of several on one day; correct or remove the others",
        "lines 11 and 12 count railcars at site a on the same day, 2023-01-05 UTC, "
        "differently (2, 3): the analysis keeps one count a day, the highest (3, line 12), "
        "as it keeps the best image of several on one day; correct or remove the others",
    ]
    parse_counts_csv(text)  # no warn: nothing said


def test_cli_warns_and_the_highest_count_is_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The counts' last day has 50 railcars (a spike) and, on another line, 12: the
    warning names both lines, and the spike judged is the 50 the warning says is kept."""
    path = _csv(tmp_path)
    lines = path.read_text().splitlines()
    day = lines[-1].split(",")[0]
    path.write_text("\n".join([*lines, f"{day},12,,"]) + "\n")
    assert main(["analyze", "--counts", str(path), "--json"]) == 0
    out, err = capsys.readouterr()
    err = " ".join(err.split())
    n = len(lines)
    assert f"warning: lines {n} and {n + 1} count railcars on the same day, {day} UTC" in err
    assert f"the highest (50, line {n})" in err
    (spike,) = (a for a in json.loads(out) if a["kind"] == "spike")
    assert spike["explanation"].startswith("50 railcars (interval 45–55) on " + day)
