"""A report's alert keeps the analyst's note apart from what changed since (session 30).

9409cb7 made a report say what was acknowledged of an alert that re-analysis changed
since ("changed since acknowledged: was 18 (high)"), but by appending that line to
``AlertRow.note``: the note was no longer the analyst's words alone, and anything
reading it (a reader of ``ReportData``, a new renderer) took railwatch's words for
theirs. Now ``AlertRow.changed_since`` holds it, ``format.acknowledged_text`` and the
renderers print it after the notes, and the report reads as before
(tests/test_report_alert_ack_marker_s30.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from railwatch.analysis.types import Alert as AlertValue
from railwatch.report import build_report_data
from railwatch.report import pdf as pdf_mod
from railwatch.report.format import acknowledged_text
from railwatch.report.html import render_html
from railwatch.report.model import AlertRow
from railwatch.storage import Database, repo
from report_db import populate

MARK = "changed since acknowledged: was 18 (high)"


def _texts(fig: Figure) -> str:
    FigureCanvasAgg(fig).draw()
    return " ".join(" ".join(t.get_text().split()) for t in fig.findobj(Text) if t.get_visible())


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(database, tmp_path / "scenes")
    yield database
    database.dispose()


def _recounted(db: Database, note: str) -> None:
    """The report's record alert acknowledged with ``note``, then recounted to 16."""
    with db.session() as s:
        (alert,) = repo.list_alerts(s, "testyard")
        repo.acknowledge_alert(s, alert.id, note)
        now = AlertValue(
            key=alert.key,
            kind=alert.kind,
            severity=alert.severity,
            when=alert.when,
            cls=alert.cls,
            value=16.0,
            explanation="16 railcars: 2.0x the record of 8 over the previous 1 year.",
            metrics=dict(alert.metrics),
            event_label=alert.event_label,
            event_days=alert.event_days,
            scene_id=alert.scene_id,
        )
        repo.replace_alerts(s, "testyard", [now])


def test_the_note_is_the_analysts_words_only(db: Database) -> None:
    _recounted(db, "coal for export, seen")
    (ev,) = build_report_data(db, "testyard").evidence
    assert ev.alert.note == "coal for export, seen"
    assert ev.alert.changed_since == MARK
    assert ev.alert.ack_lines == ("coal for export, seen", MARK)


def test_a_marked_alert_acknowledged_without_a_note(db: Database) -> None:
    _recounted(db, "")
    data = build_report_data(db, "testyard")
    (ev,) = data.evidence
    assert ev.alert.note is None and ev.alert.changed_since == MARK
    assert data.headline.summary.endswith(f"Acknowledged: {MARK}.")
    assert f"Acknowledged: {MARK}." in _texts(pdf_mod._evidence_page(data, ev))
    assert f"(acknowledged: {MARK})" in _texts(pdf_mod._alert_list_pages(data, [ev])[0])
    assert f"Acknowledged: {MARK}</p>" in render_html(data)


def _row(**kw: Any) -> AlertRow:
    base = AlertRow(
        key="spike:all:2024-03-01",
        kind="spike",
        severity="medium",
        when=datetime(2024, 3, 1, tzinfo=UTC),
        cls="all",
        value=31.0,
        explanation="31 railcars",
        acknowledged=True,
    )
    return dataclasses.replace(base, **kw)


def test_acknowledged_text_prints_the_notes_then_what_changed() -> None:
    two = "checked against 38 North\n2026-12-04 16:02 UTC: seen again"
    assert acknowledged_text(_row(note=two, changed_since=MARK)) == (
        f"Acknowledged: checked against 38 North; 2026-12-04 16:02 UTC: seen again; {MARK}."
    )
    assert acknowledged_text(_row(changed_since=MARK)) == f"Acknowledged: {MARK}."
    assert acknowledged_text(_row(note=two)) == (
        "Acknowledged: checked against 38 North; 2026-12-04 16:02 UTC: seen again."
    )
    assert acknowledged_text(_row()) == "Acknowledged."
