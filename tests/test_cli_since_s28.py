"""``railwatch alerts --since`` (and every option read by ``parse_time``: ingest and
simulate --date, ingest-stac --since/--until), session 28: a time whose zone moves it out
of the years 1-9999 in UTC was an internal error (OverflowError), and ``20231001`` and
week dates (``2023-W40-1``) were read by Python's parser though --since asks for
YYYY-MM-DD and ``parse_day`` refuses them (a typo can make a date nobody meant)."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli._common import parse_time
from railwatch.cli.main import main
from railwatch.errors import InputError


@pytest.mark.parametrize("text", ["9999-12-31T23:00-05:00", "0001-01-01T00:00+05:00"])
def test_out_of_range_in_utc_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError) as err:
        parse_time(text, "--since")
    assert str(err.value) == f"--since {text!r} is out of range in UTC: check the year"


@pytest.mark.parametrize(
    "text", ["20231001", "2023-W40-1", "2023-W40", "2023-274", "20231001T10:00"]
)
def test_only_yyyy_mm_dd_dates(text: str) -> None:
    with pytest.raises(InputError) as err:
        parse_time(text, "--since", "a date YYYY-MM-DD")
    assert str(err.value) == f"--since {text!r} is not a date YYYY-MM-DD"


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2023-10-01", "2023-10-01T00:00:00+00:00"),
        (" 2023-10-01 ", "2023-10-01T00:00:00+00:00"),
        ("2023-10-01T10:00Z", "2023-10-01T10:00:00+00:00"),
        ("2023-10-01 10:00", "2023-10-01T10:00:00+00:00"),
        ("2023-10-01t10:00+09:00", "2023-10-01T01:00:00+00:00"),
        ("9999-12-31T23:59", "9999-12-31T23:59:00+00:00"),
    ],
)
def test_dates_and_times_still_read(text: str, utc: str) -> None:
    assert parse_time(text, "--since").isoformat() == utc


@pytest.mark.parametrize(
    ("since", "says"),
    [
        ("9999-12-31T23:00-05:00", "--since '9999-12-31T23:00-05:00' is out of range in UTC"),
        ("2023-W40-1", "--since '2023-W40-1' is not a date YYYY-MM-DD"),
    ],
)
def test_alerts_since_says_what_is_wrong(
    since: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'rw.db'}"
    assert main(["--db", db, "alerts", "--since", since]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err
    assert says in err
