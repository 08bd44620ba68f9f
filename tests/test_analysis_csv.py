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
        ("day,count\n2023-01-01,3\n", "line 1: CSV lacks column(s) date"),
        ("date\n2023-01-01\n", "lacks column(s) count"),
        ("date,count,colour\n2023-01-01,3,red\n", "line 1: unknown column(s) colour"),
        ("date,count\n2023-01-01,3\n2023-02-30,4\n", "line 3: cannot read date '2023-02-30'"),
        ("date,count\n2023-01-01,-2\n", "line 2: count -2 is negative"),
        ("date,count\n2023-01-01,many\n", "line 2: count 'many' is not a number"),
        ("date,count,low,high\n2023-01-01,5,7,3\n", "line 2: low 7 is greater than high 3"),
        ("date,count,low,high\n2023-01-01,5,6,9\n", "line 2: low 6 is greater than count 5"),
        ("date,count,usable\n2023-01-01,5,maybe\n", "line 2: usable 'maybe'"),
        ("date,count\n2023-01-01,5,9\n", "line 2: 3 fields, expected 2"),
        # a repeated column was read silently (the last one won)
        ("date,count,date\n2023-01-01,5,2023-02-01\n", "line 1: duplicate column(s) date"),
        ("date,count\n", "has a header but no count lines"),
        ("", "is empty"),
        # 1e300 was analysed: a 'record' alert quoting a 301-digit number of railcars
        ("date,count\n2023-01-01,1e300\n", "line 2: count 1e300 is not a number of railcars"),
        ("date,count,low,high\n2023-01-01,5,1,2e6\n", "line 2: high 2e6 is not a number"),
        # was accepted as a series of its own and reported as '0 usable counts'
        ("date,count,class\n2023-01-01,5,spaceship\n", "line 2: class 'spaceship' is not"),
        ("date,count,method\n2023-01-01,5,guess\n", "line 2: method 'guess' is not a count"),
        # export columns are passed over only in an export (it has scene_id)
        ("date,count,sensor\n2023-01-01,5,SkySat\n", "line 1: unknown column(s) sensor"),
    ],
)
def test_bad_input_names_the_line(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_counts_csv(text)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_counts_csv(tmp_path / "nope.csv")


#: The head of `railwatch export tumangang --format csv` on the demo (2026-12-03).
EXPORT = (
    "date,scene_id,sensor,gsd,usable,clear_fraction,coverage,method,count,low,high,covered,"
    "count_boxcar,count_gondola,count_hopper,count_railcar,count_tank\n"
    "2018-04-03T01:11:00+00:00,1,SkySat-sim,0.5,true,0.96,1.0,objects,6.0,2.39,13.47,3.0,"
    "2.0,0.0,0.0,4.0,0.0\n"
    "2018-04-05T01:44:00+00:00,2,SkySat-sim,0.5,false,0.21,0.27,,,,,,,,,,\n"
    "2019-02-05T01:30:00+00:00,9,PlanetScope-sim,3.0,true,0.99,1.0,length,12.2,7.1,33.6,,"
    ",,,12.2,\n"
)


def test_the_export_csv_reads_with_its_methods() -> None:
    """`analyze --counts` on the counts `railwatch export --format csv` wrote was
    'unknown column(s) scene_id, sensor, ...'; it now reads, and each count keeps the
    method it was made with (3 m car equivalents are judged apart from object counts).
    On the demo the export's site-total alerts (low and above, as of 2024-08-01) are the
    9 the database's analysis raises."""
    pts = parse_counts_csv(EXPORT)[""]
    assert [(p.count, p.method, p.gsd, p.usable) for p in pts] == [
        (6.0, "objects", 0.5, True),
        (None, "objects", 0.5, False),
        (12.2, "length", 3.0, True),
    ]
    assert parse_counts_csv("date,count\n2023-01-01,5\n")[""][0].method == "manual"
    assert parse_counts_csv("date,count,method\n2023-01-01,5,\n")[""][0].method == "manual"
