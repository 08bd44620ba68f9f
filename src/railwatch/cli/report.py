"""``railwatch report``: write a site's evidence report (HTML, optionally PDF)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from railwatch.cli import _common
from railwatch.cli._common import (
    console,
    err_console,
    open_db,
    print_json,
    progress_bar,
    state,
)
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
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="First day of the period (YYYY-MM-DD), a local day at the site, included. "
            "--from is the same option (its name before session 36).",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="Last day of the period (YYYY-MM-DD), a local day at the site, included. "
            "--to is the same option (its name before session 36).",
        ),
    ] = None,
    date_from: Annotated[
        str | None,
        typer.Option(
            "--from",
            hidden=True,
            help="The older name of --since (YYYY-MM-DD), still accepted.",
        ),
    ] = None,
    date_to: Annotated[
        str | None,
        typer.Option(
            "--to", hidden=True, help="The older name of --until (YYYY-MM-DD), still accepted."
        ),
    ] = None,
    pdf: Annotated[
        bool,
        typer.Option(
            "--pdf",
            help="Also write a PDF of the same content beside the HTML (FILE.pdf for "
            "--out FILE.html). With --out FILE.pdf there is no HTML: a note says so.",
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print what was written as JSON: the site, the period and each file's path, "
            "kind (html, pdf) and size in bytes, with the warnings.",
        ),
    ] = False,
) -> None:
    """Write one self-contained HTML report of a site: headline, count chart, alert
    evidence (chips before/after), per-image table, caveats and method.

    The HTML embeds every image and opens offline. Baselines use the whole history
    even when --since/--until narrow what is shown (--from/--to, their names before
    session 36, are still accepted: the same options).

    Days are the local day at the site (its nominal zone, round(longitude/15) hours
    from UTC), as the alerts date them: --since/--until, the alerts' and images' dates;
    times of day are local and say so ("UTC+9 nominal").

    The --out name's ending (in any case) decides what is written: .html or .htm the
    HTML report, .pdf the PDF alone (the PDF that --pdf writes beside the HTML). Any
    other ending, or none, is refused; a device or a pipe (-o /dev/stdout) gets the HTML.

    The alerts shown are the stored ones (with their acknowledgements and notes). When
    results processed since the last analysis would change them, a warning and a note
    in the headline say so: run railwatch analyze SITE first (the report stores nothing).

    With --json, standard output holds one JSON document, what was written (for a
    script: {"site", "since", "until", "files": [{"path", "kind", "bytes"}],
    "warnings"}); the warnings are printed on standard error too.

    Example: railwatch report tumangang --since 2023-01-01 --out tumangang.html --pdf
    """
    from railwatch.report import build_pdf_report, build_report

    since_name, since = _period_end(since, "--since", date_from, "--from")
    until_name, until = _period_end(until, "--until", date_to, "--to")
    start, end = parse_day(since, since_name), parse_day(until, until_name)
    if start is not None and end is not None and start > end:
        # said with the names given (the builder's says --from/--to)
        raise InputError(
            f"{since_name} {start} is after {until_name} {end}: the period is empty; "
            f"give {since_name} on or before {until_name} (swap them)"
        )
    target = out if out is not None else Path(f"{site}-report.html")
    if as_json and _is_stdout(target):
        # the report and the JSON would be one stream
        raise InputError(
            f"--out {target} is standard output, where --json writes its JSON: give one of "
            "them (--out FILE.html --json for both)"
        )
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

    warnings: list[str] = []

    def warn(line: str) -> None:
        warnings.append(line)
        err_console.print(
            f"[bold yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True
        )

    # names and paths printed as they are, not read as rich markup (`runs[old]/r.html`
    # was said as runs/r.html). A bar of the builder's steps on stderr (a terminal), or
    # a line every RAILWATCH_PROGRESS_SECONDS in a log: until 2026-12-06 (session 37) a
    # spinner alone on a terminal, and in a log nothing until "wrote" (~100 s on the
    # demo on a loaded machine)
    with progress_bar(transient=True) as bar:
        task = bar.add_task(f"report of {escape(site)}", total=None)

        def on_step(step: str, done: int, total: int) -> None:
            bar.update(
                task,
                description=f"report of {escape(site)}: {step}",
                completed=done,
                total=total,
            )

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
                    on_step=on_step,
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
                on_step=on_step,
            )
            written = [html, html.with_suffix(".pdf")] if pdf else [html]
    if as_json:
        from railwatch.storage import repo

        with db.session(readonly=True) as s:
            name = repo.get_site(s, site).name  # as stored (the argument may be another form)
        print_json(
            {
                "site": name,
                "since": None if start is None else start.isoformat(),
                "until": None if end is None else end.isoformat(),
                "files": [
                    _file_dict(path, "pdf" if kind == "pdf" or n else "html")
                    for n, path in enumerate(written)
                ],
                "warnings": warnings,
            }
        )
        return
    for path in written:
        if path.is_file():
            size = path.stat().st_size / 1e6
            console.print(f"wrote {escape(str(path))} ({size:.1f} MB)", highlight=False)
        else:
            # a device or a pipe (`-o /dev/stdout > r.html`): the line went into the
            # report itself, with a size of 0.0 MB
            err_console.print(f"wrote {escape(str(path))}", highlight=False)


def _period_end(
    value: str | None, name: str, old_value: str | None, old_name: str
) -> tuple[str, str | None]:
    """The option that gives one end of the period (``--since`` or its older name
    ``--from``; ``--until`` or ``--to``) and its value: both given is refused unless
    they say the same (a script that adds --since to a line with --from would get one
    of them silently)."""
    if value is not None and old_value is not None and value.strip() != old_value.strip():
        raise InputError(
            f"{name} {value} and {old_name} {old_value} are the same option ({old_name} is "
            f"its older name) with two dates: give one of them, {name} preferably"
        )
    if value is None and old_value is not None:
        return old_name, old_value
    return name, value


def _is_stdout(target: Path) -> bool:
    """Whether ``--out target`` is the stream standard output is (``-o /dev/stdout``,
    the same pipe or file by another name)."""
    import os
    import sys

    try:
        return os.path.samestat(os.stat(target.expanduser()), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, AttributeError):  # not there, or no file behind stdout
        return False


def _file_dict(path: Path, kind: str) -> dict[str, object]:
    """One written file as ``report --json`` gives it: path, ``kind`` (html, pdf) and
    size in bytes (None for a device or a pipe, ``-o /dev/null``)."""
    return {
        "path": str(path),
        "kind": kind,
        "bytes": path.stat().st_size if path.is_file() else None,
    }


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
