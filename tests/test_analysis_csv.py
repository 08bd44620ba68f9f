"""CSV hand counts: good input, and bad input reported with its line number."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.analysis.csvio import parse_counts_csv, read_counts_csv
from railwatch.errors import InputError


def test_reads_required_and_optional_columns(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text(
        "date,count,low,high,usable,class,site\n"
        "2023-10-05,73,65,81,yes,all,Tumangang\n"
        "2023-10-06T02:13:00Z,,,,no,all,Tumangang\n"
        "2023-10-07,5,,,1,tank,Khasan\n"
        "\n"
    )
    by_site = read_counts_csv(f)
    assert sorted(by_site) == ["Khasan", "Tumangang"]
    t = by_site["Tumangang"]
    assert t[0].count == 73 and t[0].low == 65 and t[0].high == 81 and t[0].usable
    assert t[0].when.tzinfo is not None
    assert t[1].count is None and not t[1].usable
    assert by_site["Khasan"][0].cls == "tank"
    assert parse_counts_csv("date,count,class\n2023-01-01,5,Tank\n")[""][0].cls == "tank"


def test_minimal_columns_and_unusable_flag() -> None:
    pts = parse_counts_csv("date,count,usable\n2023-01-01,4,false\n2023-01-02,6,\n")[""]
    assert [p.count for p in pts] == [None, 6.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("when,count\n2023-01-01,3\n", "line 1: CSV lacks column(s) date"),
        ("date\n2023-01-01\n", "lacks column(s) count"),
        ("date,count,colour\n2023-01-01,3,red\n", "line 1: unknown column(s) colour"),
        ("date,count\n2023-01-01,3\n2023-02-30,4\n", "line 3: cannot read date '2023-02-30'"),
        ("date,count\n2023-01-01,-2\n", "line 2: count -2 is negative"),
        ("date,count\n2023-01-01,many\n", "line 2: count 'many' is not a number"),
        ("date,count,low,high\n2023-01-01,5,7,3\n", "line 2: low 7 is greater than high 3"),
        ("date,count,low,high\n2023-01-01,5,6,9\n", "line 2: low 6 is greater than count 5"),
        ("date,count,usable\n2023-01-01,5,maybe\n", "line 2: usable 'maybe'"),
        ("date,count\n2023-01-01,5,9\n", "line 2: 3 fields, expected 2"),
        ("date,count\n", "has a header but no count lines"),
        ("", "is empty"),
        # 1e300 was analysed: a 'record' alert quoting a 301-digit number of railcars
        ("date,count\n2023-01-01,1e300\n", "line 2: count 1e300 is not a number of railcars"),
        ("date,count,low,high\n2023-01-01,5,1,2e6\n", "line 2: high 2e6 is not a number"),
        # was accepted as a series of its own and reported as '0 usable counts'
        ("date,count,class\n2023-01-01,5,spaceship\n", "line 2: class 'spaceship' is not"),
    ],
)
def test_bad_input_names_the_line(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_counts_csv(text)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_counts_csv(tmp_path / "nope.csv")
