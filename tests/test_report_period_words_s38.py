"""``railwatch.report.build_report_data`` refuses a period whose start is after its end
naming its own parameters (2026-12-06, session 38): it said ``--from X is after --to
Y``, the command line's names before session 36, to a Python caller that gave
``date_from``/``date_to`` (the CLI and the web API check first with their own names)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from railwatch.errors import InputError
from railwatch.report.builder import build_report_data
from railwatch.storage import Database


def test_a_reversed_period_names_the_python_parameters(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        with pytest.raises(InputError) as err:
            build_report_data(db, "yard", date_from=date(2023, 12, 1), date_to=date(2023, 6, 1))
    finally:
        db.dispose()
    text = str(err.value)
    assert "date_from 2023-12-01 is after date_to 2023-06-01" in text
    assert "--since/--until on the command line" in text
    assert "--from" not in text
