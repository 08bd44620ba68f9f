"""`analyze --counts` on a file `railwatch export` wrote takes each line's day from its
``day`` column, the image's local day at its site (session 32). It grouped the lines by
their UTC days: a Fiji (UTC+12) export's images of 10:30Z and 12:30Z on 2024-02-26, on
02-26 and 02-27 there, were "the same day, 2024-02-26 UTC", one count kept of the two,
and the spike of 02-27 was dated 02-26. Files without ``day`` keep UTC days."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from railwatch.analysis.csvio import parse_counts_csv
from railwatch.cli.main import main
from railwatch.errors import InputError

HEADER = "date,day,scene_id,count\n"


def _steady() -> str:
    """A month of images at 10:30Z (22:30 in Fiji, the same day), ten cars each."""
    start = datetime(2024, 1, 20, 10, 30)
    lines = []
    for i in range(37):
        when = start + timedelta(days=i)
        lines.append(f"{when:%Y-%m-%dT%H:%MZ},{when:%Y-%m-%d},{i + 1},{10 + i % 2}\n")
    return "".join(lines)


# two images of one UTC day, 02-26 and 02-27 in Fiji: lines 39 and 40 after the header
FIJI = HEADER + _steady() + "2024-02-26T12:30Z,2024-02-27,100,40\n"


def test_the_day_column_is_each_lines_day() -> None:
    warnings: list[str] = []
    zones: dict[str, timedelta] = {}
    points = parse_counts_csv(FIJI, warn=warnings.append, zones=zones)[""]
    assert not [w for w in warnings if "same day" in w], warnings
    assert zones == {"": timedelta(hours=12)}
    assert len(points) == 38
    # two counts of one Fiji day are still said to be one day, named as the column names it
    twice = FIJI + "2024-02-26T13:30Z,2024-02-27,101,41\n"
    warnings.clear()
    parse_counts_csv(twice, warn=warnings.append)
    (same,) = [w for w in warnings if "same day" in w]
    assert "lines 39 and 40" in same and "2024-02-27 at the site (the file's day column)" in same


def test_analyze_counts_dates_the_spike_on_its_local_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fiji.csv"
    path.write_text(FIJI, encoding="utf-8")
    capsys.readouterr()
    assert main(["analyze", "--counts", str(path), "--json", "--as-of", "2024-03-01"]) == 0
    out = capsys.readouterr()
    alerts = json.loads(out.out)
    spikes = [a for a in alerts if a["kind"] == "spike"]
    assert spikes, alerts
    assert {a["day"] for a in spikes} == {"2024-02-27"}
    assert spikes[0]["when"].startswith("2024-02-26T12:30")  # the image's UTC time
    assert "same day" not in out.err


def test_without_the_day_column_days_are_utc() -> None:
    hand = "date,count\n2024-02-26T10:30Z,10\n2024-02-26T12:30Z,40\n"
    warnings: list[str] = []
    zones: dict[str, timedelta] = {}
    parse_counts_csv(hand, warn=warnings.append, zones=zones)
    (same,) = [w for w in warnings if "same day" in w]
    assert "2024-02-26 UTC" in same and zones == {}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("2024-02-26T12:30Z,2024-02-3x,100,40", r"line 39: day '2024-02-3x' is not a date"),
        ("2024-02-26T12:30Z,27/02/2024,100,40", r"line 39: day '27/02/2024' is not a date"),
        ("2024-02-26T12:30Z,2024-02-30,100,40", r"line 39: day '2024-02-30' is not a date"),
        ("2024-02-26T12:30Z,,100,40", r"line 39: day '' is not a date"),
        ("2024-02-26T12:30Z,2024-02-28,100,40", r"line 39: day 2024-02-28 is more than one day"),
        ("2024-02-26,2024-02-26,100,40", r"line 39: date 2024-02-26 gives no time of day"),
        # 12:30Z on 02-27 needs UTC+12; line 2's 10:30Z on 01-19 needs UTC-11 or west
        ("2024-02-26T12:30Z,2024-02-27,100,40", None),
    ],
)
def test_a_bad_day_is_an_error_with_its_line(line: str, message: str | None) -> None:
    text = HEADER + _steady() + line + "\n"
    if message is None:  # a day column that follows no one zone
        text = text.replace("2024-01-20T10:30Z,2024-01-20", "2024-01-20T10:30Z,2024-01-19")
        message = r"follows no one time zone: line 39 .*UTC\+12 or east of it, line 2 .*UTC-11"
    with pytest.raises(InputError, match=message):
        parse_counts_csv(text)


def test_a_stored_sites_offset_still_wins() -> None:
    """scene import-reviews reads the file for one stored site (its own offset)."""
    warnings: list[str] = []
    zones: dict[str, timedelta] = {}
    parse_counts_csv(FIJI, warn=warnings.append, utc_offset=timedelta(hours=12), zones=zones)
    assert zones == {} and not [w for w in warnings if "same day" in w]
