"""Hand-count input, session 37's walkthrough and reviews (2026-12-06):

- a counts file's bad lines are all reported in one error, in line order (at most
  ``MAX_LINE_ERRORS``, then how many more): before, one a run, and a summary row (line
  15) was named before a bad date (line 11), so five bad lines took five runs;
- a well-formed but impossible date (``2019-13-01``) says what is wrong with it, where it
  said "use YYYY-MM-DD" of a date written so;
- an ``unusable`` column given to ``analyze --counts`` names ``scene import-reviews`` and
  the ``usable`` column, where it was "unknown column(s) unusable";
- ``analyze_series(None)``, ``analyze_counts(None)`` and numbers are an InputError
  naming the argument, where they were "'NoneType' object is not iterable";
- ``railwatch.analyze_counts`` judges as of now by default, as ``railwatch analyze
  --counts`` does (it judged as of the last count: no silence up to today), and
  docs/python.md's alert examples, which pass ``as_of``, still print what the page shows.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import railwatch
from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.csvio import MAX_LINE_ERRORS, parse_counts_csv
from railwatch.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "python.md"

#: The walkthrough's file: a bad date on line 11, ~20 on 12, -3 on 13, a Total row on 15
#: and an extra field on 16.
GOOD = [f"2023-01-{d:02d},{d}" for d in range(1, 10)]
BAD = [
    "date,count",
    *GOOD,
    "2019-13-01,3",
    "2023-02-01,~20",
    "2023-02-02,-3",
    "2023-02-03,4",
    "Total,100",
    "2023-02-05,4,5",
]


def _error(text: str, **kwargs: Any) -> str:
    with pytest.raises(InputError) as info:
        parse_counts_csv(text, source="bad.csv", **kwargs)
    return str(info.value)


def test_every_bad_line_is_reported_in_line_order() -> None:
    message = _error("\n".join(BAD) + "\n")
    head, *lines = message.split("\n")
    assert head.startswith("bad.csv: 5 lines cannot be read; correct them all")
    assert [int(re.match(r"line (\d+):", line)[1]) for line in lines] == [11, 12, 13, 15, 16]  # type: ignore[index]
    assert "there is no month 13" in lines[0]
    assert "count '~20' is not a number" in lines[1]
    assert "count -3 is negative" in lines[2]
    assert "'Total' (count '100') is a summary row" in lines[3]
    assert "3 fields, expected 2" in lines[4]


def test_the_command_line_reports_them_all_at_once(tmp_path: Path) -> None:
    from railwatch.cli.main import build_app

    path = tmp_path / "bad.csv"
    path.write_text("\n".join(BAD) + "\n", encoding="utf-8")
    run = CliRunner().invoke(build_app(), ["analyze", "--counts", str(path)])
    assert run.exit_code != 0
    assert isinstance(run.exception, InputError)
    text = str(run.exception)
    assert [text.index(f"line {n}:") for n in (11, 12, 13, 15, 16)] == sorted(
        text.index(f"line {n}:") for n in (11, 12, 13, 15, 16)
    )


def test_one_bad_line_keeps_its_own_message() -> None:
    message = _error("date,count\n2023-01-01,3\n2023-01-02,-1\n")
    assert message == "line 3: count -1 is negative; counts are >= 0"


def test_many_bad_lines_are_capped_with_how_many_more() -> None:
    text = "date,count\n" + "".join(f"2023-01-{d:02d},x{d}\n" for d in range(1, 31))
    lines = _error(text).split("\n")
    assert len(lines) == 1 + MAX_LINE_ERRORS + 1
    assert lines[1].startswith("line 2: count 'x1'")
    assert (
        lines[-1] == f"and {30 - MAX_LINE_ERRORS} more bad lines (from line {MAX_LINE_ERRORS + 2})"
    )


def test_the_cap_keeps_the_first_lines_whichever_check_found_them() -> None:
    # the summary row (line 40) and the short line (line 3) are found before the counts
    # are read; the lines listed are still the lowest, in line order
    rows = [f"2023-01-{d:02d},x{d}" for d in range(1, 31)]
    rows[1] = "2023-01-02"
    text = "date,count,low\n" + "\n".join(r + ",1" if "x" in r else r for r in rows)
    text += "\n" + "\n".join(f"2023-02-{d:02d},{d},1" for d in range(1, 9)) + "\nTotal,9,9\n"
    head, *lines = _error(text).split("\n")
    assert head.startswith("bad.csv: 31 lines cannot be read")
    numbers = [int(line.split(":")[0].split()[1]) for line in lines[:-1]]
    assert numbers == list(range(2, 2 + MAX_LINE_ERRORS))
    assert "1 fields, expected 3" in lines[1]
    assert (
        lines[-1] == f"and {31 - MAX_LINE_ERRORS} more bad lines (from line {MAX_LINE_ERRORS + 2})"
    )


def test_a_site_spelt_two_ways_is_reported_beside_the_bad_lines() -> None:
    text = "date,count,site\n2023-01-01,x,Yard\n2023-01-02,3,yard\n2023-01-03,4,Yard\n"
    lines = _error(text).split("\n")[1:]
    assert lines[0].startswith("line 2: count 'x' is not a number")
    assert lines[1].startswith("line 3: site 'yard' differs from line 2's 'Yard'")


def test_the_lines_of_import_reviews_are_reported_together_too() -> None:
    text = "date,count,unusable\n2023-01-01,3,cloud\n2023-01-02,x,\n2023-01-03,4,\n"
    lines = _error(text, unusable={}, lines={}).split("\n")[1:]
    assert lines[0].startswith("line 2: gives both a count (3) and an unusable reason")
    assert lines[1].startswith("line 3: count 'x' is not a number")


@pytest.mark.parametrize(
    ("date_text", "why"),
    [
        ("2019-13-01", "there is no month 13 (months are 01-12)"),
        ("2023-02-30", "February 2023 has 28 days"),
        ("2023-02-29T10:00:00Z", "February 2023 has 28 days"),
        ("2023/13/05", "there is no month 13 (months are 01-12)"),
    ],
)
def test_an_impossible_date_says_what_is_wrong(date_text: str, why: str) -> None:
    message = _error(f"date,count\n{date_text},3\n")
    assert message == (
        f"line 2: cannot read date {date_text!r}: it is not a valid calendar date: {why}; "
        "correct the month or the day"
    )
    assert "use YYYY-MM-DD" not in message


def test_a_date_of_another_form_still_asks_for_yyyy_mm_dd() -> None:
    assert "use YYYY-MM-DD" in _error("date,count\n2019-1x-01,3\n")


def test_an_unusable_column_points_to_import_reviews_and_usable() -> None:
    message = _error("date,count,unusable\n2023-01-01,3,\n")
    assert "the column unusable is for `railwatch scene import-reviews`" in message
    assert "column usable (true/false" in message
    assert "unknown column(s) unusable" not in message
    both = _error("date,count,unusable,notes\n2023-01-01,3,,x\n")
    assert both.endswith("(unknown column(s) too: notes)")


@pytest.mark.parametrize(
    ("function", "args", "message"),
    [
        (analyze_series, (None,), r"points None is not a list of CountPoint values \(its type"),
        (analyze_series, (5,), r"points 5 is not a list of CountPoint values \(its type is int"),
        (analyze_series, ([], None), r"events None is not a list of Event values"),
        (railwatch.analyze_counts, (None,), r"counts None is not a list of counts nor a file"),
        (railwatch.analyze_counts, (7,), r"counts 7 .*\(its type is int\): give \(date, count\)"),
        (railwatch.analyze_counts, ([], None), r"events None is not a list of events"),
    ],
)
def test_none_and_numbers_name_the_argument(
    function: Any, args: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        function(*args)


def test_analyze_counts_judges_as_of_now_as_the_command_line(tmp_path: Path) -> None:
    from railwatch.cli.main import build_app

    path = tmp_path / "counts.csv"
    rows = [f"2023-{m:02d}-15,{8 + m % 3}" for m in range(1, 13)]
    path.write_text("date,count\n" + "\n".join(rows) + "\n", encoding="utf-8")
    args = ["analyze", "--counts", str(path), "--json", "--min-severity", "info"]
    run = CliRunner().invoke(build_app(), args)
    assert run.exit_code == 0, run.output
    cli = [(a["kind"], a["severity"]) for a in json.loads(run.stdout)]
    mine = [(a.kind, a.severity) for a in railwatch.analyze_counts(path)]
    assert mine == cli
    assert any(kind == "quality" for kind, _ in mine)  # the silence up to today
    # as of the last count, as before: no silence
    last = railwatch.analyze_counts(path, as_of=date(2023, 12, 15))
    assert not any(a.kind == "quality" for a in last)


def _page_block(needle: str) -> str:
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    return next(b for b in blocks if needle in b)


def test_the_pages_alert_examples_print_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    pairs = _page_block("alerts = railwatch.analyze_counts(counts, summit")
    files = _page_block('analyze_counts("hand_counts.csv"')
    ns: dict[str, Any] = {"railwatch": railwatch}
    exec(pairs.split("alerts = ")[0], ns)  # counts and summit
    lines = [f"{d.isoformat()},{n}" for d, n in ns["counts"]]
    Path("hand_counts.csv").write_text("date,count\n" + "\n".join(lines) + "\n")
    exec(pairs, ns)
    out = capsys.readouterr().out.split("\n")
    shown = [line[2:] for line in pairs.split("\n") if line.startswith("# 2023-")]
    assert len(shown) == 5 and out[:5] == shown
    assert out[5].startswith("73 railcars on 2023-10-05, against a 5-year record of 12")
    exec(files, ns)
    out = capsys.readouterr().out.split("\n")
    shown = [line[2:] for line in files.split("\n") if line.startswith("# ")]
    assert out[:2] == shown == ["10 73.0", "[('record', 'medium'), ('spike', 'low')]"]


def test_the_pages_site_from_geojson_call_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = PAGE.read_text(encoding="utf-8")
    calls = re.findall(r"`(railwatch\.site_from_geojson\([^`]*\))`", text)
    assert calls
    monkeypatch.chdir(tmp_path)
    polygon = {
        "type": "Polygon",
        "coordinates": [[[130.60, 42.42], [130.61, 42.42], [130.61, 42.43], [130.60, 42.42]]],
    }
    Path("site.geojson").write_text(json.dumps(polygon), encoding="utf-8")
    for call in calls:
        spec = eval(call, {"railwatch": railwatch})  # the page's own text
        assert spec.geometry.is_valid
