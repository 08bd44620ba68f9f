"""Several counts of one series on one day in a counts CSV are combined as the
database's analysis combines several images of one day (session 24, second follow-up).

The database keeps the best image of a day: the finest method, then the highest clear
fraction x coverage, then the highest count (docs/alerts.md, "The series"). The CSV
path kept the highest count: an export's clear_fraction and coverage were passed over,
a hand-count file could not give them ("unknown column(s)"), and the warning named the
highest count as kept even where the analysis kept another line's (a 0.5 m count of 30
over a 3 m estimate of 40 the same day).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from railwatch.analysis.csvio import MAX_WARNINGS, parse_counts_csv
from railwatch.analysis.series import build_series
from railwatch.errors import InputError


def _day(text: str) -> tuple[float | None, list[str]]:
    """The count the analysis keeps for the file's one day, and the warnings."""
    warned: list[str] = []
    points = parse_counts_csv(text, warn=warned.append)[""]
    (series,) = build_series(points).values()
    (kept,) = series.points
    return kept.count, warned


def test_the_clearest_image_of_a_day_is_kept_and_named() -> None:
    kept, warned = _day(
        "date,count,clear_fraction,coverage\n"
        "2023-10-05,40,0.35,1.0\n"  # hazy: more 'cars' read in the haze
        "2023-10-05,30,0.95,0.9\n"
    )
    assert kept == 30.0  # was 'unknown column(s) clear_fraction, coverage'
    assert warned == [
        "lines 2 and 3 count railcars on the same day, 2023-10-05 UTC, differently (40, 30): "
        "the analysis keeps one count a day, the best image's (30, line 3: clear fraction x "
        "coverage 0.85, the others 0.35 at most), as it keeps the best of several images on "
        "one day (the finest method, then the clearest); correct or remove the others"
    ]


def test_a_finer_method_is_kept_and_the_warning_says_so() -> None:
    kept, warned = _day(
        "date,count,method,gsd\n2023-10-05,40,length,3.0\n2023-10-05,30,objects,0.5\n"
    )
    assert kept == 30.0
    # the warning said 'the highest (40, line 2)': not the count the analysis judged
    assert "the best image's (30, line 3: counted objects, finer than length)" in warned[0]


def test_an_export_is_read_as_the_database_keeps_its_day() -> None:
    """Two images of one day in `railwatch export --format csv`: the clearer one's
    count, as `railwatch analyze SITE` keeps it (the export's quality was passed over)."""
    header = (
        "date,scene_id,sensor,gsd,usable,status,clear_fraction,coverage,method,count,low,"
        "high,covered,long_train_present,no_count_reason\n"
    )
    rows = (
        "2023-10-05T02:30:00+00:00,7,sim,0.5,true,processed,0.62,1.0,objects,41.0,38.0,44.0,0,,\n"
        "2023-10-05T03:10:00+00:00,8,sim,0.5,true,processed,0.98,1.0,objects,35.0,33.0,38.0,0,,\n"
    )
    kept, warned = _day(header + rows)
    assert kept == 35.0  # was 41: the highest
    assert "(35, line 3: clear fraction x coverage 0.98, the others 0.62 at most)" in warned[0]
    # equally good images: the lower scene id, as in the database
    same = rows.replace("0.62", "0.98").replace(",7,", ",9,")
    kept, _ = _day(header + same)
    assert kept == 41.0  # equal quality: the higher count first, as the database


def test_nothing_to_choose_by_keeps_the_highest_as_before() -> None:
    kept, warned = _day("date,count\n2023-10-05,40\n2023-10-05,30\n")
    assert kept == 40.0
    assert "the highest (40, line 2), as it keeps the best image of several" in warned[0]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("85%", "line 2: clear_fraction 85% must be a fraction from 0 to 1: write 0.85 for 85 %"),
        ("85", "line 2: clear_fraction 85 must be a fraction from 0 to 1: write 0.85 for 85 %"),
        ("1.5", "line 2: clear_fraction 1.5 must be a fraction from 0 to 1$"),
        ("clear", "line 2: clear_fraction 'clear' is not a number; give a fraction from 0 to 1"),
    ],
)
def test_a_bad_quality_value_says_what_to_write(cell: str, message: str) -> None:
    with pytest.raises(InputError, match="^" + message.replace("(", r"\(")):
        parse_counts_csv(f"date,count,clear_fraction\n2023-10-05,40,{cell}\n")


def test_quality_cells_may_be_empty() -> None:
    kept, _ = _day("date,count,clear_fraction,coverage\n2023-10-05,40,,\n2023-10-05,30,0.5,\n")
    assert kept == 40.0  # a missing value counts as 1, as in the database


def test_the_summary_of_many_days_says_the_rule_it_kept_by() -> None:
    text = "date,count,clear_fraction\n" + "".join(
        f"{date(2023, 1, 1) + timedelta(days=k)},{c},{q}\n"
        for k in range(MAX_WARNINGS + 3)
        for c, q in ((40, 0.3), (30, 0.9))
    )
    warned: list[str] = []
    parse_counts_csv(text, warn=warned.append)
    assert warned[-1].endswith(
        "on each the best image's count is kept (the finest method, then the highest "
        "clear fraction x coverage, then the highest count)"
    )  # was 'on each the highest is kept'
