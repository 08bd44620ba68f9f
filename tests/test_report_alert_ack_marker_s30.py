"""A report says when an acknowledged alert has changed since it was acknowledged
(session 30).

Since 32e20ac an acknowledged alert raised again with another count, explanation or
image at the same or a lower severity stays acknowledged, marked
``metrics["changed_since_ack"]`` with what was acknowledged. A report showed the new
count with "Acknowledged: <note>" beside it, as if the analyst had checked that number.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from railwatch.analysis.types import Alert as AlertValue
from railwatch.report import build_report_data
from railwatch.report import pdf as pdf_mod
from railwatch.report.html import render_html
from railwatch.storage import Database, repo
from report_db import populate

NOTE = "coal for export, seen"
MARK = "changed since acknowledged: was 18 (high)"


def _texts(fig: Figure) -> str:
    FigureCanvasAgg(fig).draw()
    return " ".join(" ".join(t.get_text().split()) for t in fig.findobj(Text) if t.get_visible())


@pytest.fixture()
def db(tmp_path: Path) -> Any:
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(database, tmp_path / "scenes")
    yield database
    database.dispose()


def _acknowledged(db: Database, **change: Any) -> int:
    """The report's record alert acknowledged, then raised again with ``change``."""
    with db.session() as s:
        (alert,) = repo.list_alerts(s, "testyard")
        repo.acknowledge_alert(s, alert.id, NOTE)
        now = AlertValue(
            key=alert.key,
            kind=alert.kind,
            severity=alert.severity,
            when=alert.when,
            cls=alert.cls,
            value=alert.value,
            explanation=alert.explanation,
            metrics=dict(alert.metrics),
            event_label=alert.event_label,
            event_days=alert.event_days,
            scene_id=alert.scene_id,
        )
        repo.replace_alerts(s, "testyard", [dataclasses.replace(now, **change)])
        return int(alert.id)


def test_a_recounted_acknowledged_alert_says_what_was_acknowledged(db: Database) -> None:
    _acknowledged(
        db, value=16.0, explanation="16 railcars: 2.0x the record of 8 over the previous 1 year."
    )
    data = build_report_data(db, "testyard")
    (ev,) = data.evidence
    assert ev.alert.acknowledged
    said = f"Acknowledged: {NOTE}; {MARK}."
    assert data.headline.summary.endswith(said)
    assert said in _texts(pdf_mod._evidence_page(data, ev))
    assert f"(acknowledged: {NOTE} {MARK})" in _texts(pdf_mod._alert_list_pages(data, [ev])[0])
    html = render_html(data)
    assert f"Acknowledged: {NOTE}; {MARK}</p>" in html


def test_a_reworded_alert_gives_its_old_words(db: Database) -> None:
    _acknowledged(db, explanation="18 railcars: 2.2x the record of 8 (reworded).")
    data = build_report_data(db, "testyard")
    assert data.headline.summary.endswith(
        f"{MARK}: 18 railcars: 2.2x the record of 8 over the previous 1 year."
    )


def test_acknowledged_again_the_mark_goes(db: Database) -> None:
    alert_id = _acknowledged(db, value=16.0, explanation="16 railcars ...")
    with db.session() as s:
        repo.acknowledge_alert(s, alert_id)  # seen
    data = build_report_data(db, "testyard")
    assert data.headline.summary.endswith(f"Acknowledged: {NOTE}.")
    assert "changed since" not in render_html(data)


def test_an_unchanged_acknowledged_alert_reads_as_before(db: Database) -> None:
    _acknowledged(db)
    data = build_report_data(db, "testyard")
    assert data.evidence[0].alert.note == NOTE
    assert "changed since" not in render_html(data)
