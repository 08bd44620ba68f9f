"""A caveats page that goes on with a section names it (session 39): the test yard's
method ran onto a second page whose text began "alert thresholds: ..." under no heading,
as if it were a caveat."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from railwatch.report.model import Headline, ReportData
from railwatch.report.pdf import TEXT_LINES_PER_PAGE, _text_pages


def _data(caveats: int, method: int) -> ReportData:
    headline = Headline("s", (None, None), None, None, None, None, None, None, "x")
    kw: dict[str, Any] = {"scenes": (), "baseline": (), "events": (), "alerts": (), "evidence": ()}
    return ReportData(
        site="s", description="", generated=datetime(2024, 1, 1, tzinfo=UTC), headline=headline,
        caveats=tuple(f"caveat {i:02d}" for i in range(caveats)),
        method=tuple((f"item {i:02d}", "value") for i in range(method)), classes=(), **kw,
    )  # fmt: skip


def _body(fig: Any) -> str:
    return str(fig.texts[2].get_text())  # after the title and subtitle


def test_a_section_that_goes_on_says_so() -> None:
    pages = _text_pages(_data(TEXT_LINES_PER_PAGE + 5, 3))
    assert len(pages) == 2
    first, second = _body(pages[0]), _body(pages[1])
    assert first.startswith("Caveats\n\n• caveat 00")
    assert second.startswith("Caveats (continued)\n\n• caveat")
    assert "\nMethod\n\nitem 00: value" in second

    pages = _text_pages(_data(TEXT_LINES_PER_PAGE - 8, 12))
    assert len(pages) == 2
    assert _body(pages[1]).startswith("Method (continued)\n\nitem ")


def test_a_section_starting_a_page_has_its_heading_alone() -> None:
    pages = _text_pages(_data(3, 3))
    assert len(pages) == 1
    assert "continued" not in _body(pages[0])
