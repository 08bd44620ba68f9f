"""Review of session 51's report and API leftovers (326536d2).

1. The report's "N of M counts ... rest on an assumed spread" counted as M every count
   made car by car, those counted before the flag was kept (not known) included: "2 of
   the 40" read as 38 measured. The unknown ones are now named apart.
2. Rewriting a report.json with this database's mark (``_claim``) made it 0600
   (``mkstemp``): servers of other users sharing the report folder lost the report.
3. ``railwatch process``'s note names the command to run again.
"""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from railwatch.cli.process import spread_assumed_words
from railwatch.report.caveats import spread_caveat, spread_counts
from railwatch.report.model import SceneRow


def _row(i: int, assumed: bool | None) -> SceneRow:
    when = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=i)
    return SceneRow(
        i, when, "S", 0.5, True, 1.0, 1.0, 10.0, 8.0, 12.0, method="objects",
        spread_assumed=assumed,
    )  # fmt: skip


def test_counts_that_do_not_say_are_not_counted_as_measured() -> None:
    rows = [_row(0, True), _row(1, True), _row(2, False)] + [_row(3 + i, None) for i in range(37)]
    assumed, of, unknown = spread_counts(rows)
    assert (len(assumed), of, unknown) == (2, 3, 37)
    text = spread_caveat(rows, "yard")
    assert text is not None
    assert "2 of the 3 counts of cars one by one (0.5 m) that record it" in text
    assert "37 more, counted before 2026-12-07, do not" in text
    assert "of the 40" not in text


def test_all_known_counts_read_as_before() -> None:
    rows = [_row(0, True), _row(1, False)]
    text = spread_caveat(rows, "yard")
    assert text is not None
    assert "1 of the 2 counts of cars one by one (0.5 m) rests" in text
    assert "record it" not in text
    assert spread_caveat([_row(0, False), _row(1, None)], "yard") is None


def test_process_note_names_the_command_to_run_again() -> None:
    words = spread_assumed_words(3, [0.5], "tumangang")
    assert "`railwatch process tumangang --reprocess`" in words


def test_a_report_marked_anew_keeps_its_permissions(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from railwatch.web.routes.reports import _claim

    folder = tmp_path / "r"
    folder.mkdir()
    meta = folder / "report.json"
    meta.write_text(json.dumps({"id": "x", "database": "old"}), encoding="utf-8")
    meta.chmod(0o644)
    _claim(folder, "new")
    assert json.loads(meta.read_text())["database"] == "new"
    assert stat.S_IMODE(meta.stat().st_mode) == 0o644  # was 0o600
    assert [p.name for p in folder.iterdir()] == ["report.json"]
