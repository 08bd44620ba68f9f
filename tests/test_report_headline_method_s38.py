"""The report's headline explains, of equally severe alerts of the site total, one
judged on cars counted one by one before one judged on occupied track length (2026-12-06,
session 38). The demo's headline explained a 3 m record (161 car equivalents against a
3 m record of 65.5, 2024-02-25), four months after the high record of cars counted one
by one (2023-10-05) that the rise is about, because it was the more recent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from railwatch.report.builder import top_alert
from railwatch.report.data import alert_row
from railwatch.report.model import AlertRow


def _row(when: datetime, severity: str, method: str | None, key: str) -> AlertRow:
    return AlertRow(
        key=key,
        kind="record",
        severity=severity,
        when=when,
        cls="all",
        value=1.0,
        explanation=key,
        method=method,
    )


OCT = datetime(2023, 10, 5, tzinfo=UTC)
FEB = datetime(2024, 2, 25, tzinfo=UTC)
JUN = datetime(2024, 6, 17, tzinfo=UTC)


def test_the_finer_method_leads_at_equal_severity() -> None:
    rows = [_row(OCT, "high", "objects", "cars"), _row(FEB, "high", "length", "3m")]
    top = top_alert(rows, JUN)
    assert top is not None and top.key == "cars"


def test_severity_still_comes_first_and_then_the_most_recent() -> None:
    rows = [_row(OCT, "medium", "objects", "cars"), _row(FEB, "high", "length", "3m")]
    top = top_alert(rows, JUN)
    assert top is not None and top.key == "3m"
    rows = [_row(OCT, "high", None, "old"), _row(FEB, "high", None, "new")]
    top = top_alert(rows, JUN)
    assert top is not None and top.key == "new"


def test_the_row_takes_the_method_from_the_stored_alert() -> None:
    class Stored:
        key = "record:all:2024-02-25"
        kind = "record"
        severity = "high"
        when = FEB
        cls = "all"
        value = 161.0
        explanation = "161 car equivalents"
        event_label = None
        event_days = None
        scene_id = 7
        acknowledged = False
        ack_note = None
        metrics: ClassVar[dict[str, str]] = {"method": "length"}

    assert alert_row(Stored()).method == "length"  # type: ignore[arg-type]
    Stored.metrics = {}
    assert alert_row(Stored()).method is None  # type: ignore[arg-type]
