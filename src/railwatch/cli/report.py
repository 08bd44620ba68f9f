"""``railwatch report``: write a site's evidence report (HTML, optionally PDF)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from railwatch.cli import _common
from railwatch.cli._common import console, err_console, state
from railwatch.storage import Database


def parse_day(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value as a date (None when not given)."""
    return None if value is None else _common.parse_day(value, option)


def report(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site name.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="File to write: the HTML report (default SITE-report.html), or the PDF "
            "alone when the name ends in .pdf.",
        ),
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="First day of the period (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last day of the period (YYYY-MM-DD).")
    ] = None,
    pdf: Annotated[
        bool,
        typer.Option(
            "--pdf",
            help="Also write a PDF of the same content beside the HTML (FILE.pdf for "
            "--out FILE.html).",
        ),
    ] = False,
) -> None:
    """Write one self-contained HTML report of a site: headline, count chart, alert
    evidence (chips before/after), per-image table, caveats and method.

    The HTML embeds every image and opens offline. Baselines use the whole history
    even when --from/--to narrow what is shown.

    An --out name ending in .pdf writes the PDF alone (the PDF that --pdf
    writes beside the HTML).

    Example: railwatch report tumangang --from 2023-01-01 --out tumangang.html --pdf
    """
    from railwatch.report import build_pdf_report, build_report

    start, end = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    target = out if out is not None else Path(f"{site}-report.html")
    db = Database.from_settings(state(ctx).settings())

    def warn(line: str) -> None:
        err_console.print(
            f"[bold yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True
        )

    # names and paths printed as they are, not read as rich markup (`runs[old]/r.html`
    # was said as runs/r.html)
    with err_console.status(f"building the report of {escape(site)}..."):
        if target.suffix.lower() == ".pdf":
            # `-o yard.pdf` wrote HTML into yard.pdf (a PDF came only with --pdf, beside
            # it): a .pdf name asks for a PDF
            written = [build_pdf_report(db, site, target, date_from=start, date_to=end, warn=warn)]
        else:
            html = build_report(db, site, target, pdf=pdf, date_from=start, date_to=end, warn=warn)
            written = [html, html.with_suffix(".pdf")] if pdf else [html]
    for path in written:
        if path.is_file():
            size = path.stat().st_size / 1e6
            console.print(f"wrote {escape(str(path))} ({size:.1f} MB)", highlight=False)
        else:
            # a device or a pipe (`-o /dev/stdout > r.html`): the line went into the
            # report itself, with a size of 0.0 MB
            err_console.print(f"wrote {escape(str(path))}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``report`` to the ``railwatch`` command."""
    app.command("report")(report)
