"""What the report tells the analyst to type names the options as ``railwatch report``
documents them since session 36, ``--since``/``--until`` (session 38: the PDF's note on
where every image is listed and the headline of a period without an image still said
``--from``/``--to``, the names before session 36, still accepted)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from railwatch.report.builder import no_image_note
from railwatch.report.model import Headline, ReportData, SceneRow
from railwatch.report.pdf import full_list_text

T0 = datetime(2023, 10, 5, 2, 5, tzinfo=UTC)


def test_the_pdf_says_the_command_of_the_same_period_with_since_and_until() -> None:
    row = SceneRow(1, T0, "S", 0.5, True, 1.0, 1.0, 68.0, 61.0, 124.0)
    period = (date(2023, 9, 1), date(2023, 10, 31))
    data = ReportData(
        site="tumangang", description="", generated=T0, scenes=(row,), baseline=(), events=(),
        alerts=(), evidence=(), caveats=(), method=(), classes=(),
        headline=Headline("tumangang", period, row, 68.0, 61.0, 124.0, None, None, "s"),
    )  # fmt: skip
    text = full_list_text(data, None)
    assert "`railwatch report tumangang --since 2023-09-01 --until 2023-10-31`" in text
    assert "--from" not in text and "--to " not in text


def test_a_period_without_an_image_says_check_since_and_until() -> None:
    row = SceneRow(1, T0, "S", 0.5, True, 1.0, 1.0, 68.0, 61.0, 124.0)
    note = no_image_note("tumangang", (date(2024, 1, 1), date(2024, 1, 31)), [], [row])
    assert note.endswith("check --since/--until.") and "--from" not in note
