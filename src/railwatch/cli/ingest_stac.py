"""``railwatch ingest-stac``: register the STAC items (API or static catalog) of a site.

``railwatch ingest SITE --stac URL ...`` delegates here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from railwatch.cli._common import (
    console,
    err_console,
    parse_date_option,
    parse_radiometry_option,
    partly_failed,
    plural_s,
    print_json,
    progress_bar,
    radiometry_option,
    state,
)
from railwatch.cli.ingest import duplicate_text, print_site_swapped, print_warnings
from railwatch.cli.site import open_db

if TYPE_CHECKING:
    from railwatch.ingest import IngestSummary


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
    radiometry: Annotated[
        str | None,
        radiometry_option(
            "How the values of 16-bit and float images relate to what a screen shows, "
            "as for 'railwatch ingest': 'linear' (analytic products; the default) or "
            "'display' (a visual product stored in 16 bits). Recorded for each such item; "
            "for items already registered, it replaces theirs (process them again). 8-bit "
            "images are read as they are."
        ),
    ] = None,
    coverage: Annotated[
        str,
        typer.Option(
            "--coverage",
            metavar="pixels|footprint",
            help="How each new item's coverage of the site is measured: 'pixels' (its "
            "valid pixels over the site, read at most 256 px across: 0.7-2.8 MB per "
            "new remote item) or 'footprint' (the item's geometry over the site, reading "
            "no pixels: for very large catalogs; the scene records that its coverage is "
            "the footprint's, and an item empty over the site is not skipped).",
        ),
    ] = "pixels",
    nodata: Annotated[
        str | None,
        typer.Option(
            "--nodata",
            metavar="VALUE|none|item",
            help="The no-data value of the items' images, in place of the one each item "
            "declares (raster:bands nodata), e.g. when a provider's is wrong or invalid; "
            "'none' applies no nodata value of the items. A file's own nodata still wins. "
            "It applies to every item of the run, those already registered too (their "
            "scenes are counted again): give one item's JSON as --stac to change only it. "
            "Each scene keeps the value given: a later run without --nodata keeps it (a "
            "new item takes its own), until --nodata is given again; 'item' takes each "
            "item's own value back.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Register the STAC items that intersect a site, with their metadata; the images
    stay where they are and are read over HTTP range requests (COG) when processed.

    Every item found is listed as new, already there, skipped (with the reason: outside
    the site, the dates or --max-cloud, another collection) or failed (with the
    reason). Exit status is 1 when any item failed (the others are registered, and
    running it again registers nothing twice), 0 otherwise, also when no item was
    found.

    Headers for authenticated APIs come from RAILWATCH_STAC_HEADERS (JSON object);
    s3://, gs:// and az:// assets are read with GDAL's cloud credentials
    (AWS_ACCESS_KEY_ID..., or AWS_NO_SIGN_REQUEST=YES for a public bucket)."""
    run_ingest_stac(
        ctx,
        site,
        stac,
        collection or [],
        since,
        until,
        max_cloud,
        asset,
        as_json=as_json,
        radiometry=radiometry,
        coverage=coverage,
        nodata=nodata,
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
    radiometry: str | None = None,
    coverage: str = "pixels",
    nodata: str | None = None,
) -> None:
    """The body of ``ingest-stac`` (also called by ``ingest --stac``)."""
    from railwatch.ingest import SiteRemovedError
    from railwatch.stac import StacError, ingest_stac, parse_coverage_mode, parse_nodata_override

    radio = parse_radiometry_option(radiometry)
    mode = parse_coverage_mode(coverage)  # bad values refused before the catalog is read
    override = parse_nodata_override(nodata)
    start = parse_date_option(since, "--since")
    end = parse_date_option(until, "--until")
    if end is not None and until is not None and len(until.strip()) == 10:
        end = end.replace(hour=23, minute=59, second=59)  # a date alone: the whole day
    if not state(ctx).debug:  # urllib3 logs each retry; the error line says it all
        logging.getLogger("urllib3").setLevel(logging.ERROR)
    db = open_db(ctx)
    with progress_bar(transient=True) as bar:
        task = bar.add_task(f"STAC items for {escape(site)}", total=None)
        try:
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
                radiometry=radio,
                coverage=mode,
                nodata=override,
            )
        except SiteRemovedError as exc:
            # --json: what the batch did before it stopped, "stopped" saying why, as a
            # run with failed items prints its summary; the error line and status 1
            # follow (session 32: only the error line, nothing on stdout)
            if as_json:
                bar.stop()
                print_json(exc.summary.as_dict())
            raise
    if as_json:
        print_json(summary.as_dict())
    else:
        _report(summary, url)
    if summary.failed:
        n, found = len(summary.failed), _found(summary)
        raise StacError(
            partly_failed(
                n,
                found,
                len(summary.ingested),
                "STAC item",
                "items already registered are not registered twice",
            )
        )


#: Skipped items listed one by one on screen (``--json`` lists them all).
_MAX_SKIPPED_SHOWN = 20


def _found(summary: IngestSummary) -> int:
    """How many items the search or catalog gave: each is in exactly one list."""
    return sum(map(len, (summary.ingested, summary.duplicates, summary.skipped, summary.failed)))


def _report(summary: IngestSummary, url: str) -> None:
    """The summary on screen: one line of counts, then each skipped item, each item
    already there with more to say, each new item's warning (as ``railwatch ingest``
    prints a file's: e.g. the item's band scales unlike its file's, the file's used)
    and each failed item."""
    found = _found(summary)
    if found == 0:
        console.print(
            f"[bold]{escape(summary.site)}[/]: no STAC item found at {escape(url)} for this "
            "site (and the --collection, --since, --until and --max-cloud given); nothing to do",
            highlight=False,
            soft_wrap=True,
        )
        print_site_swapped(summary)
        return
    console.print(
        f"[bold]{escape(summary.site)}[/]: {found} STAC item{plural_s(found)} found: "
        f"{len(summary.ingested)} new scene{plural_s(len(summary.ingested))}, "
        f"{len(summary.duplicates)} already there, "
        f"{len(summary.skipped)} skipped, {len(summary.failed)} failed",
        highlight=False,
    )
    for entry in summary.skipped[:_MAX_SKIPPED_SHOWN]:
        console.print(
            f"  skipped {escape(entry['file'])}: {escape(entry['reason'])}",
            highlight=False,
            soft_wrap=True,
        )
    if len(summary.skipped) > _MAX_SKIPPED_SHOWN:
        console.print(
            f"  ... and {len(summary.skipped) - _MAX_SKIPPED_SHOWN} more skipped "
            "(--json lists them all)",
            highlight=False,
        )
    # an item already there is listed when there is more to say than that: which scene
    # of another item or file it is (same asset href, same file content), or what was
    # done to its scene (--radiometry); a re-run over a catalog lists none
    told = [
        d for d in summary.duplicates if d["reason"] != f"already ingested as scene {d['scene_id']}"
    ]
    for entry in told[:_MAX_SKIPPED_SHOWN]:
        console.print(f"  already there: {duplicate_text(entry)}", highlight=False, soft_wrap=True)
    if len(told) > _MAX_SKIPPED_SHOWN:
        console.print(
            f"  ... and {len(told) - _MAX_SKIPPED_SHOWN} more already there "
            "(--json lists them all)",
            highlight=False,
        )
    eight = sum(1 for d in summary.ingested + summary.duplicates if d.get("radiometry_note"))
    if eight:
        console.print(
            f"{eight} 8-bit image{plural_s(eight)} read as "
            f"{'it is' if eight == 1 else 'they are'}: "
            "--radiometry is for 16-bit and float images.",
            highlight=False,
        )
    _print_collection_note(summary, found)
    by_footprint = sum(1 for d in summary.ingested if d.get("coverage_from") == "footprint")
    if by_footprint:
        console.print(
            f"{by_footprint} new scene{plural_s(by_footprint)}: coverage of the site taken "
            "from the item's footprint (--coverage footprint), not measured on the pixels.",
            highlight=False,
        )
    print_warnings(summary.ingested)
    for entry in summary.failed:
        console.print(
            f"[yellow]  failed {escape(entry['file'])}:[/] {escape(entry['reason'])}",
            highlight=False,
            soft_wrap=True,
        )
    print_site_swapped(summary)


def _print_collection_note(summary: IngestSummary, found: int) -> None:
    """When every item found was skipped for being in another collection than those
    --collection names, which collections they are in: a mistyped id (``--collection
    sentinel`` over a catalog of ``skysat-sim``) listed each item as skipped and ended
    with status 0, as a catalog with nothing new does (2026-12-05, session 33)."""
    others = [e for e in summary.skipped if "collection" in e]
    if not others or len(others) != found:
        return
    names = sorted({str(e["collection"]) for e in others if e["collection"] is not None})
    has_none = any(e["collection"] is None for e in others)
    where = ", ".join(names) + (" and items in no collection" if has_none and names else "")
    if not names:
        where = "no collection"
    err_console.print(
        f"note: no item found is in the --collection given; the {found} item"
        f"{plural_s(found)} found {'is' if found == 1 else 'are'} in {escape(where)}: "
        "check the collection id (as its collection.json or the API's /collections gives "
        "it), or leave --collection out to take every collection.",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command("ingest-stac", rich_help_panel="Pipeline")(ingest_stac_command)
