"""An acknowledged alert that re-analysis changed since is one to look at again: the
report's headline is still 'alerting' for it, and the alerts count says how many of the
acknowledged ones changed. Before, the headline went quiet once every alert was
acknowledged, changed or not, and the count said '1 acknowledged' only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from railwatch.report import build_report_data
from railwatch.report import pdf as pdf_mod
from railwatch.report.html import render_html
from railwatch.storage import Database, repo
from report_db import populate
from test_report_ack_changed_field_s30 import _recounted, _texts


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(database, tmp_path / "scenes")
    yield database
    database.dispose()


def _headline_class(html: str) -> str:
    (cls,) = re.findall(r'<section id="headline" class="([^"]*)"', html)
    return cls


def test_a_changed_acknowledged_alert_keeps_the_headline_alerting(db: Database) -> None:
    _recounted(db, "seen")
    data = build_report_data(db, "testyard")
    html = render_html(data)
    assert "alerting" in _headline_class(html)
    assert "(1 acknowledged, 1 changed since)" in html
    assert "1 acknowledged, 1 changed since" in _texts(pdf_mod._first_page(data))


def test_an_acknowledged_alert_unchanged_leaves_it_quiet(db: Database) -> None:
    with db.session() as s:
        (alert,) = repo.list_alerts(s, "testyard")
        repo.acknowledge_alert(s, alert.id, "seen")
    html = render_html(build_report_data(db, "testyard"))
    assert "alerting" not in _headline_class(html)
    assert "(1 acknowledged)" in html
