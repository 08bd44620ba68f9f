"""QA: a date that does not exist (2024-02-30, 2024-13-01) was refused as "is not
YYYY-MM-DD" though it is written so; every date the CLI reads (event add, alerts
--since, report --from/--to, ingest and simulate --date) now says it does not exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from railwatch.cli._common import calendar_error, parse_day, parse_time
from railwatch.cli.main import main
from railwatch.errors import InputError

BBOX = "130.60,42.28,130.63,42.30"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2024-02-30", "February 2024 has 29 days"),
        ("2023-02-29", "February 2023 has 28 days"),
        ("2024-04-31", "April 2024 has 30 days"),
        ("2024-01-00", "January 2024 has 31 days"),
        ("2024-13-01", "there is no month 13 (months are 01-12)"),
        ("2024-00-10", "there is no month 00 (months are 01-12)"),
        ("0000-01-01", "there is no year 0000"),
        ("2024-02-30T10:00:00Z", "February 2024 has 29 days"),
        (" 2024-06-31 ", "June 2024 has 30 days"),
    ],
)
def test_calendar_error_says_why(text: str, why: str) -> None:
    assert calendar_error(text) == why
    with pytest.raises(InputError, match=re.escape("is not a valid calendar date: " + why)):
        parse_time(text, "--date")


@pytest.mark.parametrize("text", ["2024-02-29", "2024-02-29T23:59:59", "June", "2024-02-31x"])
def test_calendar_error_is_none_for_real_dates_and_other_text(text: str) -> None:
    assert calendar_error(text) is None


def test_parse_day_and_parse_time() -> None:
    assert parse_day(" 2024-02-29 ", "--from").isoformat() == "2024-02-29"
    assert parse_time("2024-02-29", "--since").isoformat() == "2024-02-29T00:00:00+00:00"
    assert parse_time("2024-02-29T03:00+02:00", "x").isoformat() == "2024-02-29T01:00:00+00:00"
    with pytest.raises(InputError, match=r"--from 'June' is not a date YYYY-MM-DD"):
        parse_day("June", "--from")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["event", "add", "yard", "2024-02-30", "x"], "event date '2024-02-30'"),
        (["alerts", "yard", "--since", "2024-02-30"], "--since '2024-02-30'"),
        (["report", "yard", "--from", "2024-02-30"], "--from '2024-02-30'"),
        (["report", "yard", "--to", "2024-02-30"], "--to '2024-02-30'"),
        (["ingest", "yard", "nothing.tif", "--date", "2024-02-30"], "--date '2024-02-30'"),
        (["simulate", "--scene", "--date", "2024-02-30", "--out", "o"], "--date '2024-02-30'"),
    ],
)
def test_every_command_says_the_date_does_not_exist(
    tmp_path: Path,
    tmp_db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    says: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--bbox", BBOX]) == 0
    capsys.readouterr()
    assert main(["--db", tmp_db_url, *args]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{says} is not a valid calendar date: February 2024 has 29 days" in err
    month = [a.replace("2024-02-30", "2024-13-01") for a in args]
    assert main(["--db", tmp_db_url, *month]) == 2
    assert "there is no month 13" in capsys.readouterr().err


def test_analyze_dates_say_when_a_day_does_not_exist() -> None:
    from railwatch.cli.analyze import parse_as_of, parse_event_option

    with pytest.raises(InputError, match=r"--as-of '2023-02-30' is not a valid calendar date"):
        parse_as_of("2023-02-30")
    with pytest.raises(InputError, match=r"is not a valid calendar date: there is no month 13"):
        parse_event_option("2023-13-01=summit")
    assert parse_event_option("2023-09-13=summit").when.isoformat() == "2023-09-13"
