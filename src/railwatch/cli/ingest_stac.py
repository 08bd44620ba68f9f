"""``railwatch ingest-stac``: register the STAC items (API or static catalog) of a site.

``railwatch ingest SITE --stac URL ...`` delegates here.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.markup import escape

from railwatch.cli._common import console, print_json, progress_bar, state
from railwatch.cli.ingest import parse_date_option
from railwatch.cli.site import open_db


def ingest_stac_command(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site name (see `railwatch site list`).")],
    stac: Annotated[
        str,
        typer.Option(
            "--stac",
            help="STAC API root, or a static catalog.json, collection.json, item or item "
            "collection JSON (URL or file).",
        ),
    ],
    collection: Annotated[
        list[str] | None,
        typer.Option("--collection", help="Collection id (repeatable).", show_default=False),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="First acquisition date (ISO 8601, UTC).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last acquisition date (ISO 8601, UTC).")
    ] = None,
    max_cloud: Annotated[
        float | None,
        typer.Option("--max-cloud", min=0.0, max=100.0, help="Maximum eo:cloud_cover (%)."),
    ] = None,
    asset: Annotated[
        str | None,
        typer.Option("--asset", help="Image asset name (default: image, visual, analytic...)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Register the STAC items that intersect a site, with their metadata; the images
    stay where they are and are read over HTTP range requests (COG) when processed.
    Headers for authenticated APIs come from RAILWATCH_STAC_HEADERS (JSON object)."""
    run_ingest_stac(
        ctx, site, stac, collection or [], since, until, max_cloud, asset, as_json=as_json
    )


def run_ingest_stac(
    ctx: typer.Context,
    site: str,
    url: str,
    collections: list[str],
    since: str | None,
    until: str | None,
    max_cloud: float | None,
    asset: str | None,
    *,
    as_json: bool = False,
) -> None:
    """The body of ``ingest-stac`` (also called by ``ingest --stac``)."""
    from railwatch.stac import ingest_stac

    start = parse_date_option(since, "--since")
    end = parse_date_option(until, "--until")
    if end is not None and until is not None and len(until.strip()) == 10:
        end = end.replace(hour=23, minute=59, second=59)  # a date alone: the whole day
    if not state(ctx).debug:  # urllib3 logs each retry; the error line says it all
        logging.getLogger("urllib3").setLevel(logging.ERROR)
    db = open_db(ctx)
    with progress_bar(transient=True) as bar:
        task = bar.add_task(f"STAC items for {escape(site)}", total=None)
        summary = ingest_stac(
            db,
            site,
            url,
            collections=collections,
            since=start,
            until=end,
            max_cloud=max_cloud,
            asset=asset,
            on_item=lambda i, _id: bar.update(task, completed=i + 1),
        )
    if as_json:
        print_json(summary.as_dict())
    else:
        console.print(
            f"[bold]{escape(summary.site)}[/]: {len(summary.ingested)} new scene(s), "
            f"{len(summary.duplicates)} already there, {len(summary.skipped)} skipped, "
            f"{len(summary.failed)} failed"
        )
        for entry in summary.skipped:
            console.print(f"  skipped {escape(entry['file'])}: {escape(entry['reason'])}")
        for entry in summary.failed:
            console.print(f"[yellow]  failed {escape(entry['file'])}:[/] {escape(entry['reason'])}")
    if not summary.ok and summary.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("ingest-stac", rich_help_panel="Pipeline")(ingest_stac_command)
