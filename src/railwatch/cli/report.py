"""``railwatch report``: write a site's evidence report (HTML, optionally PDF)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from railwatch.cli import _common
from railwatch.cli._common import console, err_console, open_db, state
from railwatch.errors import InputError
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
            help="File to write, its ending deciding what: .html or .htm the HTML report "
            "(default SITE-report.html), .pdf the PDF alone. Other endings are refused.",
        ),
    ] = None,
    date_from: Annotated[
        str | None,
        typer.Option(
            "--from", help="First day of the period (YYYY-MM-DD), a local day at the site."
        ),
    ] = None,
    date_to: Annotated[
        str | None,
        typer.Option("--to", help="Last day of the period (YYYY-MM-DD), a local day at the site."),
    ] = None,
    pdf: Annotated[
        bool,
        typer.Option(
            "--pdf",
            help="Also write a PDF of the same content beside the HTML (FILE.pdf for "
            "--out FILE.html). With --out FILE.pdf there is no HTML: a note says so.",
        ),
    ] = False,
) -> None:
    """Write one self-contained HTML report of a site: headline, count chart, alert
    evidence (chips before/after), per-image table, caveats and method.

    The HTML embeds every image and opens offline. Baselines use the whole history
    even when --from/--to narrow what is shown.

    Days are the local day at the site (its nominal zone, round(longitude/15) hours
    from UTC), as the alerts date them: --from/--to, the alerts' and images' dates; times
    of day are local and say so ("UTC+9 nominal").

    The --out name's ending (in any case) decides what is written: .html or .htm the
    HTML report, .pdf the PDF alone (the PDF that --pdf writes beside the HTML). Any
    other ending, or none, is refused; a device or a pipe (-o /dev/stdout) gets the HTML.

    The alerts shown are the stored ones (with their acknowledgements and notes). When
    results processed since the last analysis would change them, a warning and a note
    in the headline say so: run railwatch analyze SITE first (the report stores nothing).

    Example: railwatch report tumangang --from 2023-01-01 --out tumangang.html --pdf
    """
    from railwatch.report import build_pdf_report, build_report

    start, end = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    target = out if out is not None else Path(f"{site}-report.html")
    settings = state(ctx).settings()
    db = open_db(ctx)
    # the report's "usable image" threshold is this run's settings', read once (the
    # builder read the environment again when not given one)
    threshold = settings.usable_threshold
    kind = output_kind(target)
    if kind is None:
        _refuse_ending(target, site, db)
    if kind == "pdf" and pdf:
        # `-o r.pdf --pdf` wrote the PDF alone and said nothing of the HTML it did not write
        err_console.print(
            f"note: --out {escape(str(target))} writes the PDF alone, so --pdf adds nothing "
            "and no HTML report is written; for both give --out NAME.html --pdf",
            highlight=False,
        )

    def warn(line: str) -> None:
        err_console.print(
            f"[bold yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True
        )

    # names and paths printed as they are, not read as rich markup (`runs[old]/r.html`
    # was said as runs/r.html)
    with err_console.status(f"building the report of {escape(site)}..."):
        if kind == "pdf":
            # `-o yard.pdf` wrote HTML into yard.pdf (a PDF came only with --pdf, beside
            # it): a .pdf name asks for a PDF
            written = [
                build_pdf_report(
                    db,
                    site,
                    target,
                    date_from=start,
                    date_to=end,
                    warn=warn,
                    usable_threshold=threshold,
                )
            ]
        else:
            html = build_report(
                db,
                site,
                target,
                pdf=pdf,
                date_from=start,
                date_to=end,
                warn=warn,
                usable_threshold=threshold,
            )
            written = [html, html.with_suffix(".pdf")] if pdf else [html]
    for path in written:
        if path.is_file():
            size = path.stat().st_size / 1e6
            console.print(f"wrote {escape(str(path))} ({size:.1f} MB)", highlight=False)
        else:
            # a device or a pipe (`-o /dev/stdout > r.html`): the line went into the
            # report itself, with a size of 0.0 MB
            err_console.print(f"wrote {escape(str(path))}", highlight=False)


#: The --out endings (compared in lower case) and what each writes.
REPORT_ENDINGS: dict[str, str] = {".html": "html", ".htm": "html", ".pdf": "pdf"}


def output_kind(target: Path) -> str | None:
    """What ``--out target`` writes: ``"html"`` or ``"pdf"`` by its ending (any case;
    for a symbolic link, its own or the file's it names), ``"html"`` for a device, a
    pipe or a folder whatever its name (a device is written as it is, ``-o
    /dev/stdout``; the report's builder refuses a folder saying so), and None for any
    other name (``-o r.txt`` wrote HTML into r.txt, ``-o -`` a file named -)."""
    path = target.expanduser()
    # a symbolic link is written through: the file it names tells what it holds
    named = path.resolve() if path.is_symlink() else path
    kind = REPORT_ENDINGS.get(target.suffix.lower()) or REPORT_ENDINGS.get(named.suffix.lower())
    if kind is not None:
        return kind
    if path.exists() and not path.is_file():
        return "html"
    return None


def _refuse_ending(target: Path, site: str, db: Database) -> None:
    """Refuse an --out whose ending is not a report's, with what to give instead. An
    --out that is the database or a scene's image is said as such first (that is what
    is most wrong with it)."""
    from railwatch.errors import NotFoundError
    from railwatch.export.paths import check_output, site_images

    try:
        images = site_images(db, site)
    except NotFoundError:  # an unknown site: the --out is what is refused here
        images = []
    check_output(target, db, images, what="report")  # the database, any site's images
    stem = target.stem if target.suffix else target.name
    if str(target) == "-":
        stem, hint = f"{site}-report", " (for the HTML on standard output give -o /dev/stdout)"
    else:
        hint = ""
    ending = f"ends in {target.suffix!r}" if target.suffix else "has no ending"
    raise InputError(
        f"--out {target} {ending}: a report is written as HTML (.html or .htm) or as a PDF "
        f"(.pdf, the PDF alone); give --out {target.with_name(stem + '.html')} or --out "
        f"{target.with_name(stem + '.pdf')}{hint}"
    )


def register(app: typer.Typer) -> None:
    """Add ``report`` to the ``railwatch`` command."""
    app.command("report")(report)
