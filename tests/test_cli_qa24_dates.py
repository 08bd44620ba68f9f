"""Day options and arguments take YYYY-MM-DD only (session 24).

Python 3.11's ``date.fromisoformat`` also reads ``20240418`` and ISO week dates
(``2024-W16-3`` is 2024-04-17), so ``railwatch event add yard 2024-W16-3 ...`` stored an
event on a day the analyst never typed, while the help says YYYY-MM-DD.
"""

from __future__ import annotations

import pytest

from railwatch.cli._common import parse_day
from railwatch.cli.main import main
from railwatch.errors import InputError


@pytest.mark.parametrize("text", ["20240418", "2024-W16-3", "2024-W16", "2024-108", " 2024-4-18"])
def test_other_iso_forms_of_a_day_are_refused(text: str) -> None:
    with pytest.raises(InputError, match=r"is not a date YYYY-MM-DD \(e\.g\. 2023-09-13\)"):
        parse_day(text, "--as-of")


def test_a_day_and_an_impossible_day() -> None:
    assert parse_day(" 2024-04-18 ", "--as-of").isoformat() == "2024-04-18"
    with pytest.raises(InputError, match="is not a valid calendar date: February 2024 has 29"):
        parse_day("2024-02-30", "--as-of")


def test_an_event_on_a_week_date_is_refused_and_not_stored(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path}/w.db"
    assert main(["--db", db, "site", "add", "yard", "--bbox", "130.60,42.41,130.61,42.42"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "event", "add", "yard", "2024-W16-3", "summit"]) == 2
    assert "'2024-W16-3' is not a date YYYY-MM-DD" in capsys.readouterr().err
    assert main(["--db", db, "event", "list", "yard", "--json"]) == 0
    assert '"summit"' not in capsys.readouterr().out
