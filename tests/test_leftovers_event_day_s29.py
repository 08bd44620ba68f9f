"""An event date with a time or a time zone is refused with a message saying to give the
day only (session 29).

``railwatch event add yard 2023-09-13T10:00+09:00 summit`` got the generic "is not a date
YYYY-MM-DD", which does not say what is wrong with a perfectly good timestamp. It is not
cut to its date either: the day in UTC and the local day of the event can differ.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli._common import parse_day
from railwatch.cli.main import main
from railwatch.errors import InputError


@pytest.mark.parametrize(
    "text",
    [
        "2023-09-13T10:00+09:00",
        "2023-09-13 10:00",
        "2023-09-13T10:00:05.5Z",
        "2023-09-13t10",
        "2023-09-13Z",
        "2023-09-13+09:00",
        "2023-09-13 10:00 UTC",
    ],
)
def test_a_day_with_a_time_or_zone_is_told_to_give_the_day_only(text: str) -> None:
    with pytest.raises(InputError) as err:
        parse_day(text, "event date")
    message = str(err.value)
    assert message.startswith(f"event date {text!r} has a time or time zone")
    assert "give the day only" in message
    assert "local day" in message
    assert "e.g. 2023-09-13" in message


def test_an_impossible_day_with_a_time_is_said_impossible() -> None:
    with pytest.raises(InputError, match="is not a valid calendar date: February 2024 has 29"):
        parse_day("2024-02-30T10:00", "--date")


@pytest.mark.parametrize("text", ["2023-09-13x", "2023-09-13-01", "2023-09-13T", "20230913T10"])
def test_other_text_after_a_day_is_still_not_a_date(text: str) -> None:
    with pytest.raises(InputError, match=r"is not a date YYYY-MM-DD \(e\.g\. 2023-09-13\)"):
        parse_day(text, "--as-of")


def test_event_add_with_a_time_is_refused_and_not_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path}/w.db"
    assert main(["--db", db, "site", "add", "yard", "--bbox", "130.60,42.41,130.61,42.42"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "event", "add", "yard", "2023-09-13T10:00+09:00", "summit"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "has a time or time zone" in err and "give the day only" in err
    assert main(["--db", db, "event", "list", "yard", "--json"]) == 0
    assert '"summit"' not in capsys.readouterr().out
