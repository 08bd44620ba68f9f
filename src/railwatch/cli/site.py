"""``railwatch site``: add, list, show, edit and remove sites (named areas of interest)."""

from __future__ import annotations

import dataclasses
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from railwatch.cli._common import confirm, console, err_console, open_db, print_json, print_table
from railwatch.errors import InputError, plural
from railwatch.sites import (
    GeoJSONText,
    check_stored_site_polygon,
    lat_lon_text,
    load_tracks_of_stored_site,
    site_from_bbox,
    site_from_geojson,
)
from railwatch.storage import repo
from railwatch.storage.serialize import site_dict

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from railwatch.analysis.centrelines import SiteCheck
    from railwatch.pipeline import Recount
    from railwatch.storage import Database
    from railwatch.storage.models import Site

app = typer.Typer(
    name="site",
    help="Sites: named areas of interest (a rail yard polygon in WGS84).",
    no_args_is_help=True,
)


__all__ = ["app", "open_db", "register"]


def _stdin_text(option: str = "--geojson", what: str = "a GeoJSON polygon") -> GeoJSONText:
    """The GeoJSON text piped to ``--geojson -``, without a leading byte-order mark
    (PowerShell and Windows editors write one; a file given by path is read without it,
    so the same text piped in failed as "file not found: \\ufeff{...}"). It is read as
    text whatever it holds: piped WKT, KML or a typo was taken for a file name ("file
    not found: POLYGON ((...")."""
    text = sys.stdin.read().removeprefix("\ufeff")
    if not text.strip():
        raise InputError(
            f"{option} -: standard input is empty; pipe {what} into it, or give a file: "
            f"{option} FILE"
        )
    return GeoJSONText(text, "from standard input")


#: What ``--tracks`` needs to be worth giving (session 41: at 3 m, lines 1 m off put about
#: a quarter fewer images within ±15 %, 2 m off more than half fewer; docs/detection.md,
#: "How accurate the centrelines must be"; process's check of them:
#: railwatch.analysis.centrelines).
_TRACKS_ACCURACY = (
    "Each line must lie within about 0.5 m of the middle of its track (between the rails) "
    "over its whole length: 1.5-10 m images are read along them, and with lines 1-2 m off "
    "(typical of OpenStreetMap or tracing by hand) the median 3 m count is off by 19-32 % "
    "instead of 13 %. Draw or check them on an image of 1 m or finer: `railwatch process` "
    "warns only of a line more than 1.5 m from the cars detected near it on the site's "
    "images of 1 m or finer, where it has some."
)


def _tracks_source(tracks: Path | None, *, geojson: Path | None = None) -> Path | str | None:
    """``--tracks FILE``, or the text piped in for ``--tracks -`` (as ``--geojson -``
    reads it): '-' was taken for a file name ("tracks file not found: -"). Standard
    input holds one file: both options cannot read it."""
    if tracks is None or str(tracks) != "-":
        return tracks
    if geojson is not None and str(geojson) == "-":
        raise InputError(
            "--geojson - and --tracks - both read standard input, which holds one file: "
            "give one of them as a file (--tracks FILE)"
        )
    return _stdin_text("--tracks", "the track centrelines (GeoJSON LineStrings)")


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Site name: letters, digits, '_', '-', '.'.")],
    geojson: Annotated[
        Path | None,
        typer.Option(
            "--geojson",
            help="GeoJSON file ('-' for stdin): a Polygon/MultiPolygon Feature, "
            "FeatureCollection or geometry (lon,lat order); WKT (POLYGON ((lon lat, ...)), "
            "in a file or piped) is read too. A FeatureCollection's polygons make one site "
            "(their names are not used; one site per feature: one file and one `site add` "
            "each). KML, shapefiles: convert them (ogr2ogr).",
        ),
    ] = None,
    bbox: Annotated[
        str | None,
        typer.Option(
            "--bbox", help="Bounding box W,S,E,N in degrees, e.g. 130.60,42.28,130.66,42.31."
        ),
    ] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="Free text.")] = "",
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="A tag (repeat for several).")
    ] = None,
    tracks: Annotated[
        Path | None,
        typer.Option(
            "--tracks",
            help="GeoJSON of track centrelines (LineStrings) inside the site ('-' for stdin). "
            "A file of the site's polygon and its lines together (as geojson.io writes it) "
            "is given as both: --geojson FILE --tracks FILE. " + _TRACKS_ACCURACY,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the new site as JSON.")] = False,
) -> None:
    """Add a site from a GeoJSON polygon or a W,S,E,N bounding box."""
    if (geojson is None) == (bbox is None):
        raise InputError("give exactly one of --geojson FILE or --bbox W,S,E,N")
    tags = tuple(tag or ())
    tracks_in = _tracks_source(tracks, geojson=geojson)
    if geojson is not None:
        source: Path | str = _stdin_text() if str(geojson) == "-" else geojson
        spec = site_from_geojson(name, source, description=description, tags=tags, tracks=tracks_in)
    else:
        spec = site_from_bbox(
            name, bbox or "", description=description, tags=tags, tracks=tracks_in
        )
    db = open_db(ctx, create=True)  # the command that starts a new database
    with db.session() as s:
        site = repo.add_site(s, spec)
        data = site_dict(site, geometry=as_json)
    # on stderr, after the site: stdout holds the site alone with --json
    merged = _merged_features(source) if geojson is not None else None
    if as_json:
        print_json(data)
        if merged:
            err_console.print(f"note: {escape(merged)}", highlight=False, soft_wrap=True)
        return
    w, so, e, n = data["bounds"]
    # where it is, as a reader says it (latitude first, N/S, E/W): a site given as
    # lat,lon with both numbers within ±90 is a valid place elsewhere, which the bounds
    # alone (lon,lat numbers) do not show
    where = lat_lon_text(spec.geometry)
    console.print(
        f"Added site [bold]{spec.name}[/]: {data['area_km2']:.3f} km², "
        f"bounds {w:.5f},{so:.5f},{e:.5f},{n:.5f} (around {where}), "
        f"local grid {data['utm_crs']}"
        + (", with track centrelines" if spec.tracks is not None else ""),
        highlight=False,
    )
    if merged:
        err_console.print(f"note: {escape(merged)}", highlight=False, soft_wrap=True)


#: The properties a feature's name is read from, for :func:`_merged_features`.
_NAME_KEYS = ("name", "Name", "NAME", "title", "id")


def _merged_features(source: Path | str) -> str | None:
    """What to say of a FeatureCollection of several polygon features, which ``site add``
    merges into one site (``site_from_geojson``): how many, that their names are not
    used, and how to add one site per feature; None otherwise (one feature, a geometry,
    WKT). 300 named yards became one site of their union without a word (2026-12-07,
    session 46)."""
    import json

    try:
        text = (
            source.expanduser().read_text(encoding="utf-8") if isinstance(source, Path) else source
        )
        data = json.loads(text)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return None
    feats = [
        f
        for f in data.get("features") or []
        if isinstance(f, dict)
        and isinstance(f.get("geometry"), dict)
        and f["geometry"].get("type") in ("Polygon", "MultiPolygon")
    ]
    if len(feats) < 2:
        return None
    key, names = "", []
    for k in _NAME_KEYS:
        names = [
            str(f["properties"][k])
            for f in feats
            if isinstance(f.get("properties"), dict) and f["properties"].get(k) not in (None, "")
        ]
        if names:
            key = k
            break
    where = "the GeoJSON piped in" if isinstance(source, str) else str(source)
    file = "FILE.geojson" if isinstance(source, str) else str(source)
    said = f"{where} has {len(feats)} polygon features: they are merged into this one site"
    if not names:
        return said + " (its parts); to add one site per feature, add each from a file of its own"
    shown = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
    example = names[0].replace("'", "''")
    return (
        f"{said}, and their {key}s ({shown}) are not used. `site add` adds one site a "
        "command: to add one site per feature, write each to a file of its own, e.g. "
        f"`ogr2ogr -where \"{key} = '{example}'\" one.geojson {file}`, and add each "
        "with its own name"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List sites with their scene counts and date range."""
    from railwatch.analysis.events import site_local_days  # when used (not the analysis)

    db = open_db(ctx)
    with db.session(readonly=True) as s:
        rows = [(site, repo.site_stats(s, site)) for site in repo.list_sites(s)]
        # with the local days of the first and last images, as the API gives them
        data = [
            {**site_dict(site, st, geometry=False), **site_local_days(site, st)}
            for site, st in rows
        ]
    if as_json:
        print_json(data)
        return
    if not data:
        console.print("No sites yet: add one with `railwatch site add NAME --bbox W,S,E,N`.")
        return
    table = Table(title="Sites", title_justify="left")
    # the name (up to 64 characters) folds in a narrow terminal; the figures and dates
    # are never cut (they were, "2024-03-…", beside a long name at 80 columns)
    table.add_column("name (tags)", overflow="fold")
    for col, just in (
        ("km²", "right"),
        ("scenes", "right"),
        ("processed", "right"),
        ("first", "left"),
        ("last", "left"),
        ("alerts", "right"),
    ):
        table.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    for d in data:
        # on a terminal the tags under the name, one a line: a column of their own did
        # not fit 80; piped, where each row is one line, in brackets after it, as the
        # header says (session 37: a tag on a line of its own read like a site's name)
        tags = (
            (f" [dim]({escape(', '.join(d['tags']))})[/]" if d["tags"] else "")
            if console.unbounded
            else "".join(f"\n[dim]{escape(t)}[/]" for t in d["tags"])
        )
        table.add_row(
            escape(d["name"]) + tags,
            f"{d['area_km2']:.3f}",
            str(d["scenes"]),
            str(d["processed"]),
            # the days at the site, as its alerts name them (they were the UTC days)
            d["first_day"] or "-",
            d["last_day"] or "-",
            str(d["alerts"]),
        )
    print_table(table)


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Site name.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (with GeoJSON geometry).")
    ] = False,
) -> None:
    """Show one site: geometry, grid, scenes and alerts."""
    from railwatch.analysis.events import site_local_days

    db = open_db(ctx)
    with db.session(readonly=True) as s:
        site = repo.get_site(s, name)
        stats = repo.site_stats(s, site)
        data = {**site_dict(site, stats, geometry=True), **site_local_days(site, stats)}
    if as_json:
        print_json(data)
        return
    w, so, e, n = data["bounds"]
    geom = data["geometry"]
    parts = len(geom["coordinates"]) if geom["type"] == "MultiPolygon" else 1
    lines = [
        f"[bold]{data['name']}[/]"
        + (f" — {escape(data['description'])}" if data["description"] else ""),
        f"  geometry   {geom['type']} ({parts} part{'s' if parts > 1 else ''}), "
        f"{data['area_km2']:.3f} km²",
        f"  bounds     {w:.6f},{so:.6f},{e:.6f},{n:.6f} (W,S,E,N)",
        f"  grid       {data['utm_crs']}",
        f"  tracks     {'yes' if data['tracks'] else 'none'}",
        f"  tags       {escape(', '.join(data['tags'])) or '-'}",
        f"  scenes     {data['scenes']} ({data['processed']} processed, {data['usable']} usable)"
        + (
            # the days at the site (its nominal zone), as its alerts name them
            f", {data['first_day']} .. {data['last_day']} ({data['local_zone']})"
            if data["first_day"]
            else ""
        ),
        f"  alerts     {data['alerts']} active; events {data['events']}",
        f"  created    {data['created_at'][:19]} UTC",
    ]
    for line in lines:
        console.print(line, highlight=False)


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Site name.")],
    tracks: Annotated[
        Path | None,
        typer.Option(
            "--tracks",
            help="GeoJSON of track centrelines (LineStrings) inside the site, in place of "
            "the site's (as at `site add`; '-' for stdin). " + _TRACKS_ACCURACY,
        ),
    ] = None,
    no_tracks: Annotated[
        bool, typer.Option("--no-tracks", help="Remove the site's track centrelines.")
    ] = False,
    description: Annotated[
        str | None,
        typer.Option("--description", "-d", help="New description ('' to clear it)."),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", help="A tag, in place of the site's (repeat for several)."),
    ] = None,
    no_tags: Annotated[bool, typer.Option("--no-tags", help="Remove the site's tags.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the site as JSON, with what is recounted.")
    ] = False,
) -> None:
    """Change a site's track centrelines, description or tags; its scenes,
    counts, events and alerts are kept.

    New or removed centrelines change what the counted scenes measured
    (along the lines at 1.5 m and coarser; finer, the cars kept are those
    within 10 m of them): the next `railwatch process NAME` counts those
    scenes again, and they keep their counts until then. New lines are
    checked at once against the cars already detected on the site's latest
    images of 1 m or finer, as `railwatch process` checks them: a line that
    looks more than 1.5 m off its track is warned of (the edit is made).

    The site's polygon cannot be changed (it decides every scene's
    coverage and quality): add a new site for another polygon."""
    if tracks is not None and no_tracks:
        raise InputError("give --tracks FILE or --no-tracks, not both")
    if tag and no_tags:
        raise InputError("give --tag T or --no-tags, not both")
    if tracks is None and not no_tracks and description is None and not tag and not no_tags:
        raise InputError(
            "nothing to change: give --tracks FILE (or --no-tracks), --description TEXT, "
            "--tag T (repeat for several) or --no-tags; the site's polygon cannot be changed "
            "(add a new site for another polygon)"
        )
    tracks_in = _tracks_source(tracks)
    # before the db; a file of the site's polygon and its lines, as `site add --geojson F
    # --tracks F` takes it, gives its lines (it was refused until session 41)
    lines, polygons = (
        load_tracks_of_stored_site(tracks_in) if tracks_in is not None else (None, None)
    )
    retrack = tracks is not None or no_tracks
    tags = () if no_tags else tuple(tag) if tag else None
    db = open_db(ctx)
    with db.session(readonly=True) as s:
        stored = repo.get_site(s, name)
        name = stored.name  # as stored (the argument may be another form)
        check_stored_site_polygon(polygons, stored.geometry, name)
    from railwatch.pipeline import editing_lock, retrack_site

    with editing_lock(db, name) if retrack else nullcontext(), db.session() as s:
        had_tracks = repo.get_site(s, name).tracks_wkb is not None
        site = repo.update_site(s, name, description=description, tags=tags)
        change = retrack_site(s, site, lines) if retrack else None
        data = site_dict(site, geometry=as_json)
        if change is not None:
            data["recount"] = change.to_dict()
    # new lines are checked at once against the cars stored for the site's latest fine
    # images, as `railwatch process` checks them (it was said only by the next run until
    # 2026-12-06, session 42)
    check = _centreline_check(db, name) if lines is not None else None
    if lines is not None:
        from railwatch.analysis.centrelines import check_dict, check_warnings

        data["centrelines"] = check_dict(check)
        data["centreline_warnings"] = check_warnings(check)
    if as_json:
        print_json(data)
        return
    done = []
    if change is not None:
        if not change.changed:
            has = "these lines" if lines is not None else "none"
            done.append(f"track centrelines unchanged (the site has {has})")
        elif lines is None:
            done.append("track centrelines removed")
        else:
            n = len(lines.geoms)
            what = "replaced" if had_tracks else "added"
            done.append(f"track centrelines {what} ({n} line{'s' if n != 1 else ''})")
    # as stored (stripped, duplicates dropped), not as typed: "--tag a --tag a" said
    # "tags a, a", and a description of spaces only, cleared, "description changed"
    if description is not None:
        done.append("description changed" if data["description"] else "description cleared")
    if tags is not None:
        done.append(f"tags {', '.join(data['tags'])}" if data["tags"] else "tags removed")
    console.print(
        f"Edited site [bold]{escape(data['name'])}[/]: {escape('; '.join(done))}.",
        highlight=False,
    )
    if change is not None and change.changed:
        _say_recount(change, tracks=lines is not None)
    if check is not None:
        _say_check(check)


def _centreline_check(db: Database, name: str) -> SiteCheck | None:
    """Where the site's (new) centrelines lie from the cars stored for its latest images
    of 1 m or finer (:func:`railwatch.analysis.centrelines.check_site`; nothing is
    detected again): None without such an image."""
    from railwatch.analysis.centrelines import check_site

    with db.session(readonly=True) as s:
        return check_site(s, name)


def _say_check(check: SiteCheck) -> None:
    """The centreline check after an edit: each line that looks off its track (or two
    lines on one track) as a warning on stderr, as `railwatch process` says it, else
    that every line lies on its cars (session 42)."""
    from railwatch.analysis.centrelines import MIN_CARS, OFF_M, REACH_M, check_warnings

    said = check_warnings(check)
    for text in said:
        err_console.print(f"warning: {escape(text)}", highlight=False, soft_wrap=True)
    if said:
        return
    n = len(check.scene_ids)
    judged = sum(line.cars >= MIN_CARS for line in check.check.lines)
    images = f"fine image{'' if n == 1 else 's'} {', '.join(str(i) for i in check.scene_ids)}"
    if not judged:
        # "none looks off" would say the lines were found right (session 42 review)
        console.print(
            f"Centrelines not judged: none of the {plural(len(check.check.lines), 'line')} "
            f"had {MIN_CARS} or more of the {check.check.cars} cars detected on the site's "
            f"{images} near it (lines far from every car, or a nearly empty yard on those "
            "images); check the lines by eye on an image of 1 m or finer.",
            highlight=False,
        )
        return
    # the lines not judged, named: a line drawn more than REACH_M off its track has no
    # car near it either, and "2 of 4 lines" did not say which two to check (session 47)
    unjudged = [line.index + 1 for line in check.check.lines if line.cars < MIN_CARS]
    if unjudged:
        which = (
            f"line {unjudged[0]} had"
            if len(unjudged) == 1
            else f"lines {', '.join(map(str, unjudged[:-1]))} and {unjudged[-1]} had"
        )
        them = "it" if len(unjudged) == 1 else "them"
        rest = (
            f"; {which} fewer within {REACH_M:g} m, as a line drawn that far off its track "
            f"would (or a track with few cars on those images): check {them} by eye on an "
            "image of 1 m or finer"
        )
    else:
        rest = ""
    console.print(
        f"Centrelines checked against the {check.check.cars} cars detected on the site's "
        f"{images}: none looks more than {OFF_M:g} m off its track ({judged} of "
        f"{plural(len(check.check.lines), 'line')} had at least {MIN_CARS} cars near them to "
        f"judge by{rest}).",
        highlight=False,
    )


def _say_recount(recount: Recount, *, tracks: bool) -> None:
    """Say which scenes the new (or removed) lines have counted again, and how."""
    n, pending = len(recount.scene_ids), recount.pending
    if n:
        parts = []
        if recount.coarse:
            parts.append(f"{recount.coarse} at 1.5 m and coarser, measured along the lines")
        if recount.finer:
            parts.append(f"{recount.finer} finer, whose cars are kept within 10 m of them")
        console.print(
            f"{n} counted scene{'s' if n != 1 else ''} will be counted again by "
            f"`{recount.command}` ({'; '.join(parts)}); "
            f"{'their counts are' if n != 1 else 'its count is'} kept until then.",
            highlight=False,
        )
    else:
        console.print("No counted scene to count again.", highlight=False)
    if pending:
        console.print(
            f"{pending} scene{'s' if pending != 1 else ''} not counted yet (new, or failed) "
            f"will be processed by `{recount.command}` too.",
            highlight=False,
        )
    if not tracks and recount.coarse:
        console.print(
            "Without centrelines a 1.5-10 m image is measured along track lines found in the "
            "image itself, and is not counted where none is found.",
            highlight=False,
        )


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Site name.")],
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Delete the site and all its data without asking (needed when not run "
            "from a terminal).",
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print what was deleted as JSON: the site and how many scenes, "
            "detections, counts, events and alerts (removed false when not confirmed).",
        ),
    ] = False,
) -> None:
    """Remove a site and all its scenes, detections, counts, events and alerts.

    Without --yes it says what would be deleted and asks for confirmation
    when run from a terminal; it is refused (status 2) when standard input
    is not a terminal (a script, a pipe).

    With --json, standard output holds one JSON document: {"site", "removed",
    "scenes", "detections", "counts", "events", "alerts"}, the counts 0 when the removal
    is declined (the question, when asked, is on standard error)."""
    db = open_db(ctx)
    if not yes:
        with db.session(readonly=True) as s:  # an unknown site is said before asking
            site = repo.get_site(s, name)
            name, what = site.name, _what_removal_deletes(s, site)
        if not confirm(
            f"Remove site {name!r} and {what}?",
            f"removing site {name!r} deletes {what}; pass --yes to confirm",
        ):
            if as_json:  # the keys of a removal, nothing deleted
                nothing = {f.name: 0 for f in dataclasses.fields(repo.SiteRemoval)}
                print_json({"site": name, "removed": False, **nothing})
                return
            console.print(f"Nothing removed: site {escape(name)} kept.", highlight=False)
            return
    from railwatch.pipeline import removal_lock

    with db.session(readonly=True) as s:
        name = repo.get_site(s, name).name  # as stored (the argument may be another form)
    with removal_lock(db, name), db.session() as s:
        gone = repo.remove_site(s, repo.get_site(s, name))
    if as_json:
        print_json({"site": name, "removed": True, **dataclasses.asdict(gone)})
        return
    console.print(
        f"Removed site [bold]{escape(name)}[/] with {plural(gone.scenes, 'scene')}, "
        f"{plural(gone.detections, 'detection')}, {plural(gone.counts, 'count')}, "
        f"{plural(gone.events, 'event')} and {plural(gone.alerts, 'alert')}.",
        highlight=False,
    )


def _what_removal_deletes(session: Session, site: Site) -> str:
    """What removing ``site`` deletes, as the question before it says it: every alert
    (the acknowledged ones that re-analysis no longer raises too, with their notes) and
    the analyst's own counts of its scenes. It counted the active alerts only, and said
    nothing of the reviews, which are deleted with their scenes."""
    from sqlalchemy import func, select

    from railwatch.storage.models import Alert, Event, Scene, SceneReview

    scenes = select(Scene.id).where(Scene.site_id == site.id).scalar_subquery()
    n_scenes = session.scalar(select(func.count(Scene.id)).where(Scene.site_id == site.id))
    reviews = session.scalar(
        select(func.count(SceneReview.id)).where(SceneReview.scene_id.in_(scenes))
    )
    events = session.scalar(select(func.count(Event.id)).where(Event.site_id == site.id))
    alerts, acked = session.execute(
        select(func.count(Alert.id), func.count(Alert.id).filter(Alert.acknowledged)).where(
            Alert.site_id == site.id
        )
    ).one()
    n_scenes = n_scenes or 0
    whose = "its" if n_scenes == 1 else "their"
    text = f"its {plural(n_scenes, 'scene')} with {whose} detections and counts"
    if reviews:
        text += f", {plural(reviews, 'scene review')} (counts made by hand)"
    text += f", {plural(events or 0, 'event')} and {plural(alerts or 0, 'alert')}"
    if acked:
        text += f" ({acked} acknowledged, with {'its note' if acked == 1 else 'their notes'})"
    return text


def register(root: typer.Typer) -> None:
    """Add the ``site`` group to the ``railwatch`` command."""
    root.add_typer(app, name="site")
