"""railwatch.report: evidence an analyst can hand on.

One self-contained HTML report per site (and a PDF of the same content): the
headline, the count history chart, image chips of each alert beside a before
image, a per-image table, caveats written from the data and the method.

Main verb: :func:`build_report` (:func:`build_pdf_report` for the PDF alone). Heavy
modules are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from railwatch.report.builder import build_pdf_report, build_report, build_report_data

__all__ = ["build_pdf_report", "build_report", "build_report_data"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from railwatch.report import builder

        return getattr(builder, name)
    raise AttributeError(f"module 'railwatch.report' has no attribute {name!r}")
