"""The note on which alerts have images counts the alerts, as the PDF does (session 38).

The demo's HTML said "Images are shown for the 10 most severe alerts above info only."
above 12 alerts with images (a record and a shift of one image share a pair, and 10 is
the number of pairs), while its PDF said "the 12 most severe alerts".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from railwatch.report import build_report_data
from railwatch.report.builder import _Plan, _with_images
from railwatch.report.html import render_html
from railwatch.report.model import AlertRow, SceneRow
from railwatch.report.pdf import _alert_list_pages
from railwatch.storage import Database
from report_db import SITE_NAME
from test_report_story_s35 import story_db  # noqa: F401


def test_html_and_pdf_count_the_alerts_shown_with_images(
    story_db: Database,  # noqa: F811
) -> None:
    # one pair of images: the site total's record and shift of one image share it
    data = build_report_data(story_db, SITE_NAME, max_evidence=1)
    shown = [ev.alert.key for ev in data.evidence if ev.after is not None]
    assert sorted(shown) == ["total-record", "total-shift"]
    note = "Images are shown for the 2 most severe alerts above info only."
    assert render_html(data).count(note) == 1
    pages = _alert_list_pages(data, [ev for ev in data.evidence if ev.after is None])
    text = "\n".join(t.get_text() for fig in pages for t in fig.texts)
    assert "images are shown for the 2 most severe alerts above info" in text


def test_one_alert_with_images_is_said_in_the_singular() -> None:
    t0 = datetime(2024, 1, 1, 2, 0, tzinfo=UTC)
    rows = [
        SceneRow(i, t0 + timedelta(days=10 * i), "S", 0.5, True, 1.0, 1.0, 10.0 + i, 9.0, 12.0)
        for i in range(1, 4)
    ]
    plans = [
        _Plan(
            AlertRow(f"a{i}", "record", "high", row.when, "all", row.total, "x", scene_id=i),
            row,
            rows[0],
            True,
        )
        for i, row in enumerate(rows[1:], start=2)
    ]
    chosen, note = _with_images(plans, 1)
    assert len(chosen) == 1
    assert note == "Images are shown for the most severe alert above info only."
