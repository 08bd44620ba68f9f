"""``railwatch report``: write a site's evidence report (HTML, optionally PDF)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from railwatch.cli._common import console, err_console, state
from railwatch.errors import InputError
from railwatch.storage import Database


def parse_day(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value as a date."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as err:
        raise InputError(f"{option} {value!r} is not a date: use YYYY-MM-DD") from err


def report(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site name.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="HTML file to write (default: SITE-report.html)."),
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="First day of the period (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last day of the period (YYYY-MM-DD).")
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also write a PDF of the same content beside the HTML.")
    ] = False,
) -> None:
    """Write one self-contained HTML report of a site: headline, count chart, alert
    evidence (chips before/after), per-image table, caveats and method.

    The HTML embeds every image and opens offline. Baselines use the whole history
    even when --from/--to narrow what is shown.

    Example: railwatch report tumangang --from 2023-01-01 --out tumangang.html --pdf
    """
    from railwatch.report import build_report

    start, end = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    target = out if out is not None else Path(f"{site}-report.html")
    db = Database.from_settings(state(ctx).settings())
    with err_console.status(f"building the report of {site}..."):
        html = build_report(
            db,
            site,
            target,
            pdf=pdf,
            date_from=start,
            date_to=end,
            warn=lambda line: err_console.print(
                f"[bold yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True
            ),
        )
    size = html.stat().st_size / 1e6
    console.print(f"wrote {html} ({size:.1f} MB)", highlight=False)
    if pdf:
        p = html.with_suffix(".pdf")
        console.print(f"wrote {p} ({p.stat().st_size / 1e6:.1f} MB)", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``report`` to the ``railwatch`` command."""
    app.command("report")(report)
