"""The chips' caption says the before image was near the baseline only when it was
(session 28). When no earlier image had a count near the baseline the report showed
the most recent earlier image with a note saying so, under a caption (HTML and PDF)
that still called it "the most recent usable image whose count was near the
baseline"."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from railwatch.report import build_report_data
from railwatch.report.builder import choose_before
from railwatch.report.html import render_html
from railwatch.report.model import Evidence, ReportData
from railwatch.report.pdf import _evidence_page
from railwatch.storage import Database
from report_db import populate

NOT_NEAR = (
    "No earlier image had a count near the baseline; the most recent earlier usable "
    "image is shown instead."
)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    tmp = tmp_path_factory.mktemp("caption_s28")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    populate(db, tmp / "scenes")
    return build_report_data(db, "testyard")


def _with_images(data: ReportData) -> Evidence:
    ev = next(e for e in data.evidence if e.after is not None and e.before is not None)
    assert ev.after_row is not None and ev.before_row is not None
    return ev


def _caption(html: str) -> str:
    (caption,) = re.findall(r"<figcaption>(.*?)</figcaption>", html, flags=re.S)[1:]
    return " ".join(caption.split())


def _pdf_text(data: ReportData, ev: Evidence) -> str:
    fig = _evidence_page(data, ev)
    return " ".join(" ".join(t.get_text() for t in fig.texts).split())


def test_the_builder_records_whether_the_before_image_was_near(data: ReportData) -> None:
    ev = _with_images(data)
    assert ev.after_row is not None
    _, near = choose_before(data.scenes, ev.after_row, None, ev.alert.cls)
    assert ev.before_near is near is True
    assert "whose count was near the baseline" in _caption(render_html(data))
    assert "before (most recent usable image near the baseline)" in _pdf_text(data, ev)


def test_a_before_image_not_near_the_baseline_is_not_called_near(
    data: ReportData, tmp_path: Path
) -> None:
    ev = _with_images(data)
    far = dataclasses.replace(ev, before_near=False, notes=(NOT_NEAR,))
    shown = dataclasses.replace(data, evidence=(far,))
    caption = _caption(render_html(shown))
    assert "near the baseline" not in caption
    assert "before (the most recent earlier usable image)" in caption
    text = _pdf_text(shown, far)
    assert "before (most recent earlier usable image)" in text
    assert "usable image near the baseline" not in text
    assert NOT_NEAR in text  # the note says why
