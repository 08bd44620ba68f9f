"""``railwatch ingest``: register image files of a site (one scene per distinct file)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date as Day
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from railwatch.cli._common import (
    bands_option,
    console,
    err_console,
    parse_acquisition_option,
    parse_bands_option,
    parse_radiometry_option,
    partly_failed,
    plural_s,
    print_json,
    progress_bar,
    radiometry_option,
    refused_of,
    state,
)
from railwatch.cli.site import open_db
from railwatch.errors import ImageryError, InputError
from railwatch.ingest import IngestSummary

if TYPE_CHECKING:
    from railwatch.storage import Database

log = logging.getLogger(__name__)

_MAX_DUPLICATES_SHOWN = 20


def ingest(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site name (see `railwatch site list`).")],
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="GeoTIFF/COG files, or folders to search for them.", show_default=False
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Acquisition time (ISO 8601, UTC unless a zone is given) for files whose "
            "metadata and name carry none; a date alone (2024-04-10) is that day at the "
            "site, stored as noon there (its nominal zone) in UTC; files with their own "
            "date keep it (listed), unless --force-date.",
        ),
    ] = None,
    force_date: Annotated[
        bool,
        typer.Option(
            "--force-date",
            help="With --date: date every file --date, also files that carry a date of "
            "their own (e.g. a TIFF DateTime that is the processing date), and files "
            "already ingested (their scene is dated anew; run `analyze` again). Their own "
            "date is kept in the scene's metadata (file_date); date_source is 'forced'.",
        ),
    ] = False,
    stac: Annotated[
        str | None,
        typer.Option("--stac", help="STAC API or static catalog to search (see ingest-stac)."),
    ] = None,
    collection: Annotated[
        list[str] | None,
        typer.Option("--collection", help="STAC collection (repeatable).", show_default=False),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="STAC: first acquisition date (ISO 8601, UTC), as ingest-stac's."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", help="STAC: last acquisition date (ISO 8601, UTC), as ingest-stac's."
        ),
    ] = None,
    max_cloud: Annotated[
        float | None,
        typer.Option("--max-cloud", min=0.0, max=100.0, help="STAC: maximum cloud cover (%)."),
    ] = None,
    asset: Annotated[str | None, typer.Option("--asset", help="STAC: image asset name.")] = None,
    coverage: Annotated[
        str | None,
        typer.Option(
            "--coverage",
            metavar="pixels|footprint",
            help="STAC: how each new item's site coverage is measured, as ingest-stac's "
            "(default pixels).",
            show_default=False,
        ),
    ] = None,
    nodata: Annotated[
        str | None,
        typer.Option(
            "--nodata",
            metavar="VALUE|none|item",
            help="STAC: the items' no-data value in place of theirs, as ingest-stac's.",
            show_default=False,
        ),
    ] = None,
    bands: Annotated[
        str | None,
        bands_option(
            "Band numbers (from 1) of red, green, blue in these files, e.g. 3,2,1 for "
            "blue-green-red-NIR files (Planet analytic, Maxar multispectral). Default: what "
            "the STAC sidecar (eo:bands) or the file's labels say, else bands 1,2,3. Given "
            "for files already ingested, it replaces their bands (process them again)."
        ),
    ] = None,
    radiometry: Annotated[
        str | None,
        radiometry_option(
            "How the values of 16-bit and float files relate to what a screen shows: "
            "'linear' (radiance or reflectance: analytic products; the default) is "
            "stretched per band with a display gamma; 'display' (a visual product stored "
            "in 16 bits, e.g. 8-bit values x257) is mapped linearly, without the gamma. "
            "Stored per scene; given for files already ingested, it replaces theirs "
            "(process them again). 8-bit files are read as they are."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Register image files of a site: each distinct file (by content hash) is one scene.

    Files that do not overlap the site are skipped; a bad file never stops the
    batch: bad files are listed at the end with their reason. In a folder, sidecars
    (masks, metadata, simulator previews) are counted and left out, and PNG/JPEG files
    are passed over, each listed with why, not as failures (named directly, a
    georeferenced one is ingested); folders holding only those, or no image file, are
    nothing to ingest (status 2: a folder named by mistake). A folder that holds no file
    at all (hidden ones aside) is a drop folder on a quiet day: "no image files in
    FOLDER: nothing to ingest", status 0.

    A file that cannot be read (empty, truncated) and was written to in the last five
    minutes, or that changes while it is read, is taken as still being copied in: a
    warning names it and the next run reads it; it fails no run until it stays
    unreadable longer than that.

    Exit status is 1 when any file failed (the others are recorded, and running it
    again ingests nothing twice) or when nothing was recorded, 2 when nothing was
    recorded because no path named is there (a typo, a pattern that matched no file),
    75 when another run holds the database or the only files were still being copied
    (nothing wrong yet: run it again later), 0 otherwise.
    """
    from railwatch.ingest import TRANSIT_LOG_NAME, SiteRemovedError, ingest_paths

    rgb = parse_bands_option(bands)
    radio = parse_radiometry_option(radiometry)
    if stac is not None:
        if paths:
            raise InputError("pass image paths or --stac URL, not both")
        if rgb is not None:
            raise InputError(
                "--bands is for files; STAC items name their bands (eo:bands), which ingest reads"
            )
        if date is not None or force_date:
            raise InputError(
                "--date and --force-date are for files; STAC items carry their datetime"
            )
        from railwatch.cli.ingest_stac import run_ingest_stac

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
            radiometry=radio,
            coverage=coverage if coverage is not None else "pixels",
            nodata=nodata,
        )
        return
    searched = [
        name
        for name, value in (
            ("--collection", collection or None),
            ("--since", since),
            ("--until", until),
            ("--max-cloud", max_cloud),
            ("--asset", asset),
        )
        if value is not None
    ]
    for name, value in (("--coverage", coverage), ("--nodata", nodata)):
        if value is not None:
            raise InputError(
                f"{name} is an option of STAC ingest: it needs --stac URL (a file's site "
                "coverage is measured on its valid pixels, and its own nodata value is read; "
                "set one with `gdal_edit.py -a_nodata VALUE FILE`)"
            )
    if searched:  # they were ignored: `--since 2024-01-01` ingested the files of every year
        what = (
            f"{searched[0]} is a STAC search option: it needs"
            if len(searched) == 1
            else f"{', '.join(searched)} are STAC search options: they need"
        )
        raise InputError(
            f"{what} --stac URL; the files and folders named are ingested whole, so name "
            "only the files you want (e.g. imagery/*2024*.tif)"
        )
    if not paths:
        raise InputError("name image files or folders to ingest, or pass --stac URL")
    when = parse_acquisition_option(date)
    if force_date and when is None:
        raise InputError(
            "--force-date needs --date: give the acquisition time to date every file with"
        )
    db = open_db(ctx)
    # when each file still being copied in was first left so (session 50): one left
    # for an hour without growing fails, with what to do, instead of waiting for ever
    transit_log = state(ctx).settings().cache_dir / TRANSIT_LOG_NAME
    with progress_bar(transient=as_json) as bar:
        task = bar.add_task(f"Ingesting into {escape(site)}", total=None)

        def on_file(i: int, total: int, path: Path) -> None:
            bar.update(task, completed=i, total=total, description=f"Ingesting {escape(path.name)}")

        try:
            summary = ingest_paths(
                db,
                site,
                paths,
                date=when,
                on_file=on_file,
                bands=rgb,
                force_date=force_date,
                radiometry=radio,
                transit_log=transit_log,
            )
        except SiteRemovedError as exc:
            # --json: what the batch did before it stopped, "stopped" saying why, as a
            # batch with failed files prints its summary; the error line and status 1
            # follow (session 32: only the error line, nothing on stdout)
            if as_json:
                bar.stop()
                print_json(exc.summary.as_dict())
            raise
        bar.update(
            task,
            completed=bar.tasks[0].total or 0,
            description=f"Ingested into {escape(summary.site)}",
        )

    if summary.nothing_delivered:  # a drop folder on a quiet day: status 0 (session 48)
        _say_nothing_delivered(db, summary, as_json)
        return
    if as_json:
        print_json(summary.as_dict())
    else:
        _report(summary, when)
    print_in_transit(summary)
    if summary.only_in_transit:
        # files still being copied, nothing else: nothing is wrong yet, but nothing was
        # done: status 75, "run it again later" (until 2026-12-07, session 49, status 1
        # "nothing ingested: the file was refused"; 0 for a while in session 49, which a
        # `download && railwatch ingest` script read as done)
        from railwatch.cli.main import EXIT_BUSY

        raise typer.Exit(EXIT_BUSY)
    if not summary.ok:
        n = len(summary.skipped) + len(summary.failed) + len(summary.sidecars)
        missing = {str(Path(p)) for p in paths if not Path(p).exists()}
        only_missing = n == len(summary.failed) and all(
            d["file"] in missing for d in summary.failed
        )
        if n and only_missing:
            # a mistyped path (or a pattern that matched no file) is a mistake of the
            # command line, status 2 as README's table says, not a failed image (1)
            what = (
                "the path named is not there" if n == 1 else f"none of the {n} paths named is there"
            )
            raise InputError(
                f"nothing ingested into site {summary.site}: {what} (listed above): "
                "check the path and the folder you run railwatch from"
            )
        if summary.site_swapped:  # the images are right: the site is not (each says so)
            raise ImageryError(f"nothing ingested into site {summary.site}: {summary.site_swapped}")
        left = f"; {in_transit_note(summary)}" if summary.in_transit else ""
        # of the files found, those still being copied in were not refused (session 51
        # review: "all 2 files were refused" of three found, one being copied)
        what = refused_of(n, n + len(summary.in_transit), "file")
        if n == len(summary.sidecars):  # only sidecars named: say why, and what to name
            raise ImageryError(
                f"nothing ingested into site {summary.site}: {what} refused: "
                + "; ".join(
                    f"{Path(d['file']).name} is {d['reason']}".replace(
                        " SITE ", f" {summary.site} "
                    )
                    for d in summary.sidecars[:3]
                )
                + ("" if n <= 3 else f"; and {n - 3} more sidecars")
                + left
            )
        raise ImageryError(  # unreadable, undated, outside the site...: each says which
            f"nothing ingested into site {summary.site}: {what} refused, for the "
            f"reasons listed above{left}"
        )
    if summary.failed:  # as ingest-stac: a script must see that a file is missing
        n, n_new = len(summary.failed), len(summary.ingested)
        # files still being copied are among those found, and fail nothing (session 51:
        # "1 of 2 files failed" of a folder of three, one of them being copied)
        found = n + n_new + len(summary.duplicates) + len(summary.skipped)
        found += len(summary.in_transit)
        raise ImageryError(
            partly_failed(
                n,
                found,
                n_new,
                "file",
                "files already ingested are not ingested twice",
                left=in_transit_note(summary) if summary.in_transit else "",
            )
        )


def in_transit_note(summary: IngestSummary) -> str:
    """What the final error of a run says of its files still being copied in: left for
    the next run, no failure (2026-12-07, session 51: the error line of a run that
    failed a file did not count them, or said nothing of them)."""
    n = len(summary.in_transit)
    return (
        "1 file still being copied in is left for the next run (not a failure)"
        if n == 1
        else f"{n} files still being copied in are left for the next run (not failures)"
    )


def _say_nothing_delivered(db: Database, summary: IngestSummary, as_json: bool) -> None:
    """Say that the folders named hold no file (``--json``: the summary, its
    ``empty_folders`` naming them), and, where the site has no image yet, on stderr, to
    check that they are where its images are delivered: a folder named by mistake that
    happens to be empty is not told from a quiet day otherwise."""
    from railwatch.storage import repo

    # the whole path: a job run from another folder than meant names another folder
    folders = ", ".join(str(Path(folder).absolute()) for folder in summary.empty_folders)
    if as_json:
        print_json(summary.as_dict())
    else:
        console.print(
            f"{escape(summary.site)}: no image files in {escape(folders)}: nothing to ingest",
            highlight=False,
            soft_wrap=True,
        )
    with db.session(readonly=True) as s:
        scenes = repo.site_stats(s, summary.site).scenes
    if not scenes:
        err_console.print(
            f"note: site {escape(summary.site)} has no image yet: check that {escape(folders)} "
            + ("is the folder" if len(summary.empty_folders) == 1 else "are the folders")
            + " its images are delivered to.",
            highlight=False,
            soft_wrap=True,
        )


def _date_text(iso: str) -> str:
    """An ISO time of the summary as the report writes it (to the minute, UTC)."""
    return iso[:16].replace("T", " ") + " UTC"


def _list(lines: list[str]) -> None:
    """Print ``lines`` indented, at most :data:`_MAX_DUPLICATES_SHOWN` of them."""
    for line in lines[:_MAX_DUPLICATES_SHOWN]:
        console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
    if len(lines) > _MAX_DUPLICATES_SHOWN:
        console.print(f"  ... and {len(lines) - _MAX_DUPLICATES_SHOWN} more", highlight=False)


def duplicate_text(d: Mapping[str, Any], extra: str = "") -> str:
    """An image or item already there, as the ingest screens list it (escaped for rich):
    ``NAME (scene N, WHY)`` and what was done to the scene, from its summary entry's
    ``reason`` (``already ingested as scene N (WHY); DONE; ...``): why it is that scene
    when it matched another route's (``same file content as STAC item yards/a``, its
    ``matched``), its bands, radiometry or files taken anew. ``extra`` follows WHY (the
    date --force-date gave, which the reason's ``dated ...`` part then leaves out)."""
    head, *done = str(d.get("reason", "")).split("; ")
    why = head.removeprefix(f"already ingested as scene {d['scene_id']}").strip()
    if why.startswith("(") and why.endswith(")"):
        why = why[1:-1]
    if extra:
        done = [part for part in done if not part.startswith("dated ")]
    scene = f"scene {d['scene_id']}" + (f", {why}" if why else "") + extra
    return escape(f"{d['file']} ({scene})" + "".join(f"; {part}" for part in done))


def print_warnings(entries: Iterable[Mapping[str, Any]]) -> None:
    """Each new image's or item's warning, one line on stderr as the ingest screens
    print it (``warning: NAME: WHY``, escaped for rich): e.g. an item's band scales
    unlike its file's, the file's used."""
    for d in entries:
        if d.get("warning"):
            err_console.print(
                f"[bold yellow]warning:[/] {escape(d['file'])}: {escape(d['warning'])}",
                highlight=False,
                soft_wrap=True,
            )


def print_in_transit(summary: IngestSummary) -> None:
    """Say on stderr, one line each, which files were left for the next run as still
    being copied (:attr:`IngestSummary.in_transit`), and that they fail no run until
    they stay unreadable (2026-12-07, session 49)."""
    for d in summary.in_transit:
        err_console.print(
            f"[bold yellow]warning:[/] {escape(d['file'])}: {escape(d['reason'])}",
            highlight=False,
            soft_wrap=True,
        )


def print_site_swapped(summary: IngestSummary) -> None:
    """Say on stderr, once, that the site's coordinates look swapped (``warning: site
    NAME: ...``) when nothing lies over the site but something would were its lon and
    lat exchanged (:attr:`IngestSummary.site_swapped`)."""
    if summary.site_swapped:
        err_console.print(
            f"[bold yellow]warning:[/] site {escape(summary.site)}: {escape(summary.site_swapped)}",
            highlight=False,
            soft_wrap=True,
        )


def _report(summary: IngestSummary, when: datetime | Day | None = None) -> None:
    n_new, n_dup = len(summary.ingested), len(summary.duplicates)
    n_skip, n_bad = len(summary.skipped), len(summary.failed)
    n_transit = len(summary.in_transit)
    transit = f", {n_transit} still being copied (next run)" if n_transit else ""
    console.print(
        f"Ingested {n_new} new scene{plural_s(n_new)} into [bold]{escape(summary.site)}[/]"
        f" ({n_dup} already ingested, {n_skip} not overlapping the site, "
        f"{n_bad} bad file{plural_s(n_bad)}{transit}).",
        highlight=False,
    )
    for d in summary.duplicates[:_MAX_DUPLICATES_SHOWN]:
        extra = ""
        if d.get("redated_from"):
            was = d["redated_from"]
            extra = (
                f", dated {_date_text(d['acquired_at'])} by --force-date (was "
                f"{_date_text(was['acquired_at'])} from {was['date_source']})"
            )
        console.print(
            f"  already ingested: {duplicate_text(d, extra)}", highlight=False, soft_wrap=True
        )
    if n_dup > _MAX_DUPLICATES_SHOWN:
        console.print(f"  ... and {n_dup - _MAX_DUPLICATES_SHOWN} more already ingested")
    if any(d.get("redated_from") for d in summary.duplicates):
        console.print(
            f"Scenes dated anew: run `railwatch analyze {escape(summary.site)}` again so "
            "the series and alerts use their new dates.",
            highlight=False,
        )
    if when is not None:
        given = [d for d in summary.ingested if d["date_source"] == "option"]
        if given:
            console.print(
                f"{len(given)} file{plural_s(len(given))} dated "
                f"{_date_text(given[0]['acquired_at'])} by "
                f"--date ({'it carries' if len(given) == 1 else 'they carry'} no date of "
                f"{'its' if len(given) == 1 else 'their'} own).",
                highlight=False,
            )
    forced = [d for d in summary.ingested if d.get("file_date")]
    if forced:
        console.print(
            f"{len(forced)} file{plural_s(len(forced))} dated by --date over "
            f"{'its' if len(forced) == 1 else 'their'} own date (--force-date):",
            highlight=False,
        )
        _list(
            [
                f"{d['file']}: {_date_text(d['acquired_at'])} (its own: "
                f"{_date_text(d['file_date']['acquired_at'])} from "
                f"{d['file_date']['date_source']})"
                for d in forced
            ]
        )
    kept = [d for d in summary.ingested if d.get("note") and not d.get("file_date")]
    if kept:
        console.print(
            f"{len(kept)} file{plural_s(len(kept))} kept "
            f"{'its' if len(kept) == 1 else 'their'} own date (--date is for files that carry "
            "none; --force-date gives them --date):",
            highlight=False,
        )
        _list(
            [f"{d['file']}: {_date_text(d['acquired_at'])} (from {d['date_source']})" for d in kept]
        )
    eight = [d for d in summary.ingested + summary.duplicates if d.get("radiometry_note")]
    if eight:
        console.print(
            f"{len(eight)} 8-bit file{plural_s(len(eight))} read as "
            f"{'it is' if len(eight) == 1 else 'they are'}: --radiometry is for 16-bit and "
            "float files.",
            highlight=False,
        )
    print_warnings(summary.ingested)
    if summary.sidecars:
        n = len(summary.sidecars)
        console.print(
            f"Left out {n} sidecar{plural_s(n)} (quality masks, metadata, previews, sources of a "
            "VRT: read with the image beside them or through the VRT, not images of their own):",
            highlight=False,
        )
        _list(
            [
                d["file"] + (f" ({d['reason']})" if d["reason"].startswith("a source of") else "")
                for d in summary.sidecars
            ]
        )
    if summary.folder_sidecars:  # counted, not listed: a simulator folder has five a scene
        n = len(summary.folder_sidecars)
        console.print(
            f"Left out {n} sidecar{plural_s(n)} found in the folders (quality masks, metadata, "
            "truth, previews: read with the image beside them; --json lists them).",
            highlight=False,
        )
    if summary.passed_over:
        n = len(summary.passed_over)
        console.print(
            f"Passed over {n} picture{plural_s(n)} (PNG/JPEG) found in the folders (not "
            "images a folder is searched for; not failures):",
            highlight=False,
        )
        _list([f"{d['file']}: {d['reason']}" for d in summary.passed_over])
    for folder in summary.empty_folders:
        console.print(
            f"No image files in {escape(folder)} (ingest reads GeoTIFF/COG files: .tif, .tiff).",
            highlight=False,
            soft_wrap=True,
        )
    problems = summary.skipped + summary.failed
    if problems:
        console.print(f"Not ingested ({len(problems)}):", highlight=False)
        for d in problems:
            console.print(
                f"  {escape(d['file'])}: {escape(d['reason'])}", highlight=False, soft_wrap=True
            )


def register(root: typer.Typer) -> None:
    """Add ``ingest`` to the ``railwatch`` command."""
    root.command("ingest")(ingest)
