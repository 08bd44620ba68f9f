"""The PDF report's pages keep their content on the page."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from matplotlib.text import Text

from railwatch.report import build_report_data
from railwatch.report.model import ReportData
from railwatch.report.pdf import TEXT_LINES_PER_PAGE, _text_pages
from railwatch.storage import Database
from report_db import populate


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    tmp = tmp_path_factory.mktemp("pdf")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    populate(db, tmp / "scenes")
    return build_report_data(db, "testyard", now=datetime(2024, 1, 1, tzinfo=UTC))


def _page_texts(fig: object) -> list[Text]:
    fig.canvas.draw()  # type: ignore[attr-defined]
    return [t for t in fig.findobj(Text) if t.get_text()]  # type: ignore[attr-defined]


def test_many_caveats_run_onto_further_pages_with_the_method(data: ReportData) -> None:
    """The demo's 45 caveats ran off the foot of the one 'Caveats and method' page,
    and the method (detector, thresholds) with them: it was on no page."""
    caveats = tuple(
        f"2024-01-{1 + i % 28:02d}: contents cannot be identified for {i} of 200 cars "
        "(10%): their loads are under tarpaulins or sheets." + (" More words." * (i % 4) * 8)
        for i in range(70)
    )
    many = dataclasses.replace(data, caveats=caveats)
    pages = _text_pages(many)
    assert len(pages) >= 2
    shown = ""
    for fig in pages:
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        height = fig.bbox.height
        for text in _page_texts(fig):
            box = text.get_window_extent(renderer)
            assert box.y0 >= 0 and box.y1 <= height, text.get_text()[:60]
            shown += text.get_text() + "\n"
    body = shown.replace("\n", " ")
    for caveat in caveats:
        assert " ".join(caveat.split()) in " ".join(body.split())
    assert "Method" in shown and "alert thresholds:" in shown
    assert "Caveats and method (2 of" in shown


def test_a_short_text_stays_one_page(data: ReportData) -> None:
    pages = _text_pages(data)
    assert len(pages) == 1
    text = "\n".join(t.get_text() for t in _page_texts(pages[0]))
    assert "Caveats and method\n" in text + "\n" and "(1 of" not in text
    assert text.count("\n") < TEXT_LINES_PER_PAGE + 10


def _pdf_pages(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", path.read_bytes()))


def test_write_pdf_adds_the_pages_the_caveats_need(data: ReportData, tmp_path: Path) -> None:
    from railwatch.report.pdf import write_pdf

    few = _pdf_pages(write_pdf(data, tmp_path / "few.pdf"))
    many = dataclasses.replace(data, caveats=tuple(f"caveat {i}" for i in range(100)))
    n_text = len(_text_pages(many))
    assert n_text >= 3
    assert _pdf_pages(write_pdf(many, tmp_path / "many.pdf")) == few - 1 + n_text
