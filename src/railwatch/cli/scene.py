"""``railwatch scene``: list and show the scenes (images) recorded for a site, and
record an analyst's review of one."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from railwatch.cli._common import (
    check_record_id,
    confirm,
    console,
    err_console,
    left_out_by_limit,
    plural_s,
    print_json,
    print_table,
    say_left_out,
)
from railwatch.cli.site import open_db
from railwatch.detect.base import GENERIC_CLASS, is_presence, long_train_present, tells_class
from railwatch.errors import InputError, plural
from railwatch.storage import repo
from railwatch.storage.models import ANALYST, SCENE_STATUSES, Count
from railwatch.storage.serialize import (
    candidate_dict,
    count_dict,
    interval_spread_assumed,
    machine_counts,
    review_dict,
    review_marks,
    scene_dict,
)

app = typer.Typer(
    name="scene",
    help="Scenes: the images recorded for a site, their quality and processing state.",
    no_args_is_help=True,
)

#: Where an unknown scene id is sent (as ``repo.get_scene`` says it).
SCENE_IDS = "see `railwatch scene list SITE`"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100.0 * value:.0f}%"


def _site_named(data: dict[str, Any]) -> dict[str, Any]:
    """A scene's :func:`scene_dict` with the command its stored error gives written for
    its site (:func:`railwatch.counting.name_site`), as the table of ``scene list``,
    ``process``, the API and the report say it: a coarse scene of a site without track
    centrelines stores ``railwatch site edit SITE --tracks FILE``, which ``scene list
    --json`` and ``scene show`` gave as stored until 2026-12-06 (session 41). With
    ``file``, ``mask_file`` (the files' names) and ``needs_tracks``, as the API's scene
    list gives them (2026-12-07, session 49: ``--json`` lacked them)."""
    from railwatch.counting import name_site, needs_tracks
    from railwatch.export.redact import file_name

    data["file"], data["mask_file"] = file_name(data.get("uri")), file_name(data.get("mask_uri"))
    data["needs_tracks"] = data["status"] == "failed" and needs_tracks(data["error"])
    if data["needs_tracks"]:
        data["error"] = name_site(data["error"], data["site"])
    return data


@app.command("list")
def list_(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site name.")],
    usable_only: Annotated[
        bool, typer.Option("--usable-only", help="Only processed scenes that were usable.")
    ] = False,
    status: Annotated[
        str | None,
        typer.Option("--status", help=f"Only scenes in this state: {', '.join(SCENE_STATUSES)}."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=1,
            help="Only the N newest scenes (after the other filters), still oldest first; "
            "the list says how many more matched (--json: on stderr).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the scenes of a site in acquisition order, each acquired at its local time at
    the site (the site's nominal zone by its longitude, as the report and the dashboard
    give it). --json keeps acquired_at in UTC and adds day, the local day at the site."""
    from railwatch.analysis.events import local_day
    from railwatch.analysis.store import site_utc_offset

    if status is not None and status not in SCENE_STATUSES:
        raise InputError(f"unknown status {status!r}: use one of {', '.join(SCENE_STATUSES)}")
    db = open_db(ctx)
    with db.session(readonly=True) as s:
        if limit is None:
            scenes = repo.list_scenes(s, site, usable_only=usable_only, status=status)
            matched = len(scenes)
        else:  # the newest N in SQL, and how many matched (as `alerts --limit`, session 50)
            usable = True if usable_only else None
            scenes, matched = repo.scene_page(s, site, status=status, usable=usable, limit=limit)
            if matched > limit:
                scenes, matched = repo.scene_page(
                    s, site, status=status, usable=usable, limit=limit, offset=matched - limit
                )
        row = repo.get_site(s, site)
        offset = site_utc_offset(row)
        tracks_given = row.tracks_wkb is not None
        totals = {
            c.scene_id: c
            for c in s.execute(
                select(Count).where(
                    Count.cls == "all", Count.scene_id.in_([sc.id for sc in scenes])
                )
            ).scalars()
        }
        machine = machine_counts(s, totals.values())  # one statement, only if reviewed
        # each with its local day at the site, as GET /api/sites/{site}/scenes gives it
        # (session 32); acquired_at stays the UTC time
        data = [
            {**scene_dict(sc), "day": local_day(sc.acquired_at, offset).isoformat()}
            for sc in scenes
        ]
        for sc, d in zip(scenes, data, strict=True):
            # as GET /api/sites/{site}/scenes gives them: the total (10 m and coarser: a
            # long train present or not), whether it is an analyst's (railwatch scene
            # review, or declared unusable) and the detector's total it replaced
            total = totals.get(d["id"])
            d["count"] = count_dict(total, scene=sc)
            d.update(review_marks(total, machine.get(d["id"]), sc))
    more = left_out_by_limit(matched, len(data), limit, "scene", older="older")
    if as_json:
        # the table names the site in its own words (_table)
        print_json([_site_named(d) for d in data])
        say_left_out(more, as_json=True)
        return
    if not data:
        console.print(
            f"No scenes for site {escape(site)}"
            + (" matching the filter." if usable_only or status else ": add some with ")
            + ("" if usable_only or status else f"`railwatch ingest {escape(site)} FILES...`."),
            highlight=False,
        )
        return
    table = _table(site, data, [sc.acquired_at for sc in scenes], offset, tracks_given=tracks_given)
    if more:
        table.title = f"Scenes of {site}: the {len(data)} newest of {matched}"
    print_table(table)
    say_left_out(more, as_json=False)


def _along_found_lines(d: dict[str, Any]) -> bool:
    """A scene (as ``scene_dict`` gives it, with its ``count``) whose total, not an
    analyst's, was read along track lines found in the image (``repo.COARSE_KEY``)."""
    return (
        d["status"] == "processed"
        and bool(d["count"])
        and d["count"]["method"] == "length"
        and not d["reviewed"]
        and repo.tracks_read(d.get("metadata")) == "found"
    )


def _table(
    site: str,
    data: list[dict[str, Any]],
    acquired: list[datetime],
    offset: timedelta,
    *,
    tracks_given: bool = False,
) -> Table:
    """The scenes as a table, each acquired at its local time at the site (``offset``
    east of UTC, on the clock the report names); an analyst's count (``reviewed``) is
    marked ✓. ``tracks_given``: the site has track centrelines now (what to do about
    counts read along lines found in the image before they were given)."""
    from railwatch.analysis.centrelines import found_lines_next_step
    from railwatch.report.model import clock_words, site_clock

    mark = "✓"  # (scene review)
    methods = {d["count"]["method"] for d in data if d["count"]}
    notes = []
    if any(d["reviewed"] for d in data):
        notes.append(f"{mark} counted by an analyst (railwatch scene review)")
    if "length" in methods:
        from railwatch.report.style import length_range

        # 1.5-10 m (it said 1.5-5 m until 2026-12-06, session 40: a 7 m count is one too)
        notes.append(f"≈: car equivalents from occupied track length ({length_range()} imagery)")
        # read along lines found in the image (the site had no centrelines): far less
        # accurate, as the report and the dashboard say (2026-12-07, session 48: the table
        # gave them as any ≈ count; only `railwatch process` had said so, once)
        found = sum(1 for d in data if _along_found_lines(d))
        if found:
            notes.append(
                f"{found} of the ≈ counts {'were' if found != 1 else 'was'} read along track "
                "lines found in the image itself (the site had no track centrelines when "
                "they were counted), far less accurate: "
                + found_lines_next_step(site, tracks_given=tracks_given)
            )
    if "presence" in methods:
        notes.append(
            "long train / no long train: 10 m and coarser imagery tells only whether a long "
            "train is present, not a count (and that flag is unreliable: right about three "
            "times in four on simulated scenes, docs/detection.md)"
        )
    table = Table(
        title=f"Scenes of {site}",
        title_justify="left",
        caption="\n".join(notes) or None,
        caption_justify="left",
    )
    # the local time at the site, as `scene to-review`, the report and the dashboard give
    # it (session 32: "acquired UTC", the UTC time, where every other view named the
    # site's day); the header's two lines are one ("acquired UTC+9 nominal") in the
    # narrow layout of print_table
    for col, just in (
        ("id", "right"),
        (f"acquired\n{clock_words(offset)}", "left"),
        ("gsd m", "right"),
        ("cover", "right"),
        ("clear", "right"),
        ("count", "right"),
    ):
        table.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    # The sensor, the status (with an unusable image's reason) and the file name wrap, so
    # that a long reason never squeezes the id, date or numbers out of view; below 100
    # columns the sensor and file name (in `scene show` and --json) are left out.
    wide = console.width >= 100
    if wide:
        table.add_column("sensor", min_width=6, ratio=1)
    table.add_column("status", min_width=9, ratio=2)
    if wide:
        table.add_column("file", overflow="fold", min_width=9, ratio=2)
    from railwatch.counting import needs_tracks

    for d, when in zip(data, acquired, strict=True):
        status = d["status"]
        why = _quality_causes(d["quality"]["reasons"])
        if status == "unusable" and why:
            status += f" ({why[0]})"
        elif status == "failed" and needs_tracks(d["error"]):  # its file is not at fault
            status += f" (needs track centrelines: `railwatch site edit {d['site']} --tracks FILE`)"
        table.add_row(
            str(d["id"]),
            site_clock(when, offset),
            f"{d['gsd']:.2f}",
            _pct(d["coverage"]),
            _pct(d["quality"]["clear_fraction"]),
            _count(d["count"]) + (f" {mark}" if d["reviewed"] else ""),
            *([escape(d["sensor"] or "-")] if wide else []),
            escape(status),
            *([escape(d["uri"].rsplit("/", 1)[-1])] if wide else []),
        )
    return table


def _count(total: dict[str, Any] | None) -> str:
    """The scene's total count; car equivalents from occupied track length (1.5-10 m
    imagery) are marked ≈; a presence image (10 m and coarser) says whether a long train
    is present, never a count."""
    if total is None:
        return "-"
    if is_presence(total["method"]):  # no count of cars: only its long-train flag
        flag = total["long_train_present"]
        return "-" if flag is None else "long train" if flag else "no long train"
    if total["total"] is None:
        return "-"
    text = f"{round(total['total'], 1):g}"
    return text if total["method"] == "objects" else f"≈{text}"


@app.command("show")
def show(
    ctx: typer.Context,
    scene_id: Annotated[int, typer.Argument(help="Scene id (see `railwatch scene list SITE`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with footprint).")] = False,
) -> None:
    """Show one scene: file, time, grid, quality, processing state and counts."""
    check_record_id(scene_id, "scene", SCENE_IDS)
    db = open_db(ctx)
    with db.session(readonly=True) as s:
        scene = repo.get_scene(s, scene_id)
        data = _site_named(scene_dict(scene, footprint=as_json))
        # each count's interval_spread_assumed as the API's count gives it (null for an
        # analyst's count, another method; since 2026-12-08, session 52)
        data["counts"] = {
            c.cls: {
                "count": c.count,
                "low": c.low,
                "high": c.high,
                "method": c.method,
                "interval_spread_assumed": interval_spread_assumed(c, scene),
            }
            for c in sorted(scene.counts, key=lambda c: c.cls)
        }
        data["detections"] = len(scene.detections)
        data["review"] = None if scene.review is None else review_dict(scene.review)
        outlines = "" if scene.review is None else _outlines_words(scene.review.cars)
        data["registration"] = (scene.meta or {}).get(repo.REGISTRATION_KEY)
        data["coarse"] = (scene.meta or {}).get(repo.COARSE_KEY)
        # the site's centrelines now: given since a count along lines found in the image
        # (what `scene show` says to do about it; session 49)
        tracks_given = scene.site.tracks_wkb is not None
        # how ingest-stac measured its coverage: its pixels, or its item's footprint
        # (--coverage footprint; session 39); absent for older and `ingest` scenes
        data["coverage_from"] = (scene.meta or {}).get("coverage_from")
    if as_json:
        print_json(data)
        return
    q = data["quality"]
    lines = [
        f"[bold]scene {data['id']}[/] of site {escape(data['site'])}",
        f"  file        {escape(data['uri'])}",
        f"  acquired    {data['acquired_at']} (from "
        f"{_DATE_SOURCE_WORDS.get(data['date_source'], data['date_source'])})",
        f"  sensor      {escape(data['sensor'] or '-')}",
        f"  raster      {data['width']}x{data['height']} px, "
        f"{plural(data['band_count'], 'band')} "
        f"{data['dtype']}, gsd {data['gsd']:.3f} m, {escape(_short_crs(data['crs']))}",
        f"  coverage    {_pct(data['coverage'])} of the site"
        + (
            " (the STAC item's footprint's, not measured on the pixels)"
            if data["coverage_from"] == "footprint"
            else ""
        ),
        f"  mask        {escape(data['mask_uri'] or '-')}",
        f"  sha256      {data['content_hash']}",
        f"  status      {data['status']}"
        + _processed_by(data)
        + (f": {escape(data['error'])}" if data["error"] else ""),
    ]
    if q["usable"] is not None:
        lines.append(
            f"  quality     {'usable' if q['usable'] else 'unusable'} ({q['source']}): clear "
            f"{_pct(q['clear_fraction'])}, cloud {_pct(q['cloud_fraction'])}, haze "
            f"{_pct(q['haze_fraction'])}, snow {_pct(q['snow_fraction'])}, no data "
            f"{_pct(q['nodata_fraction'])}"
        )
        # the causes as the "why", a note of how its resolution is counted apart: it
        # was listed as if a cause of an unusable scene (session 50 second review)
        why = _quality_causes(q["reasons"])
        for reason in why:
            lines.append(f"              - {escape(reason)}")
        for note in (r for r in q["reasons"] if r not in why):
            lines.append(f"  note        {escape(note)}")
    if data["counts"]:
        lines.append(f"  counts      {escape(_counts_text(data['counts']))}")
        if any(v.get("interval_spread_assumed") for v in data["counts"].values()):
            # as `railwatch process` notes it when counting (session 52: not said here)
            lines.append(f"  note        {escape(_spread_assumed_note(data))}")
        lines.append(f"  detections  {data['detections']}")
    if data["review"] is not None:
        review = _review_text(data["review"], outlines, data["status"])
        lines.append(f"  reviewed    {escape(review)}")
    coarse = data["coarse"]
    if isinstance(coarse, dict):
        text = _tracks_text(coarse, str(data["site"]), tracks_given=tracks_given)
        lines.append(f"  tracks      {escape(text)}")
    reg = data["registration"]
    if isinstance(reg, dict):
        lines.append(f"  registered  {escape(_registration_text(reg))}")
        empty = reg.get("empty_track")
        if isinstance(empty, dict):
            lines.append(f"  empty track {escape(_empty_track_text(empty))}")
    for line in lines:
        console.print(line, highlight=False)


def _spread_assumed_note(data: dict[str, Any]) -> str:
    """What `scene show` says of a scene whose detector's intervals rest on an assumed
    scene-to-scene spread of recall (``interval_spread_assumed`` of its counts)."""
    gsd = data.get("gsd")
    at = f" at {gsd:g} m" if isinstance(gsd, int | float) else " at this resolution"
    return (
        "the detector's 90 % intervals rest on an assumed scene-to-scene spread of its "
        f"recall (its calibration had fewer than 2 labelled images of 5 or more cars{at}), "
        "not a measured one: how wide they are is a guess; calibrate the weights on more "
        "labelled images there (`railwatch calibrate WEIGHTS --labels DIR`) and process "
        f"again (`railwatch process {data['site']} --reprocess`)"
    )


def _quality_causes(reasons: list[str]) -> list[str]:
    """A scene's quality reasons less the notes of how its resolution is counted
    (:func:`railwatch.imagery.quality.causes`): why it is unusable."""
    from railwatch.imagery.quality import causes

    return causes(reasons)


#: How `scene show` says where a date came from, where the stored word alone misleads
#: ("from forced", "from option"; walk-in, 2026-12-07, session 45).
_DATE_SOURCE_WORDS = {"option": "--date", "forced": "--date with --force-date"}


def _processed_by(data: dict[str, Any]) -> str:
    """Who processed the scene, after its status. A scene pending again (its bands
    changed, its unusable review removed) keeps the detector of its earlier run: it read
    "ingested by railwatch-default 2.9" (walk-in, 2026-12-07, session 45)."""
    if not data["detector"]:
        return ""
    by = f"{data['detector']} {data['detector_version']}"
    if data["status"] == "ingested":
        return f" (processed before by {by}; `railwatch process` reads it again)"
    return f" by {by}"


def _counts_text(counts: dict[str, dict[str, Any]]) -> str:
    """The scene's stored counts in one line, as its method tells them: a presence image
    (10 m and coarser) says whether a long train is present; a length count (1.5-10 m) is
    car equivalents of the total only."""
    total = counts.get("all")
    method = total["method"] if total else None
    if total is not None and is_presence(method):
        flag = long_train_present(method, total["count"])
        return (
            "a long train (at least 300 m of cars) is present"
            if flag
            else "no long train (at least 300 m of cars) is present"
        ) + ": at 10 m and coarser cars are not counted"
    parts = [f"{cls} {_with_interval(v)}" for cls, v in counts.items() if tells_class(cls, method)]
    text = "; ".join(parts)
    return text + " car equivalents from occupied track length" if method == "length" else text


def _with_interval(value: dict[str, Any]) -> str:
    """A stored count and its interval as the other commands print them (``6 [5-14]``,
    ``51.9 [15.5-251.7]``: whole numbers without decimals, others with one, as the alerts,
    `scene list` and the report give them). Until 2026-12-05 (session 33) the stored
    figures were printed as they are, ``6 [5-13.29]``, ``51.86 [15.5-251.74]``, beside
    `scene list`'s ``≈51.9``.

    A count whose low and high are the count itself has no interval and is printed
    alone, as the report (``fmt_count``) and the web page's chart give it: the covered
    count, which the detector stores as low = high = count (the number of its covered
    detections, no interval around it; an analyst's count likewise), was printed ``15
    [15-15]`` until session 41.

    The bounds of a whole count of cars seen one by one are rounded outward to whole
    cars, as the alerts (since session 39) and the report word them: ``73 [62-88]``, not
    ``73 [62-87.6]`` (2026-12-07, session 45); car equivalents keep one decimal."""
    from railwatch.analysis.types import whole_car_bounds
    from railwatch.report.format import fmt_num

    count, low, high = value["count"], value["low"], value["high"]
    if low is None or high is None or (low == count and high == count):
        return fmt_num(count)
    low, high = whole_car_bounds(float(count), float(low), float(high), value.get("method"))
    return f"{fmt_num(count)} [{fmt_num(low)}-{fmt_num(high)}]"


def _review_text(
    review: dict[str, Any], outlines: str | None = None, status: str | None = None
) -> str:
    """One line on an analyst's review: what they counted (``outlines``: from how many
    outlines, and how many of them outside the site, ``review.outlines_words``; None:
    from how many outlines only, as the review's JSON tells), what the detector had; or
    that they declared the scene unusable, and why. ``status``: the scene's, where
    known: a review of a scene waiting to be processed again (``ingested``: its bands or
    radiometry changed by `ingest`) is said to come back with it (2026-12-07, session
    46: it was said to be out of the counts because the scene was unusable or its file
    changed, neither of which was so)."""
    if review.get("unusable") is not None:
        return (
            f'{_utc_minutes(review["reviewed_at"])}: unusable - "{review["unusable"]}" (a gap '
            "in the series; `railwatch process` skips it until the review is removed)"
        )
    counts = review["counts"]
    parts = [f"{cls} {n:g}" for cls, n in counts.items()]
    machine = review["detector_counts"].get("all")
    had = f"; the detector's count: {_with_interval(machine)}" if isinstance(machine, dict) else ""
    n = review["cars"]
    given = "" if n is None else f" from {n} outline{plural_s(n)}"
    cars = given if outlines is None else outlines
    state = (
        ""
        if review["applied"]
        else " (not in the stored counts until `railwatch process` reads the scene again: "
        "then it replaces the detector's count again)"
        if status == "ingested"
        else " (not in the stored counts now: the scene is not usable, or its file changed)"
    )
    note = f' - "{review["note"]}"' if review["note"] else ""
    when = _utc_minutes(review["reviewed_at"])
    return f"{when}: {'; '.join(parts)}{cars}{had}{state}{note}"


def _outlines_words(cars: list[dict[str, Any]] | None) -> str:
    """:func:`railwatch.review.outlines_words` (imported when a review is shown)."""
    from railwatch.review import outlines_words

    return outlines_words(cars)


def _utc_minutes(value: Any) -> str:
    """An ISO 8601 time (as the JSON gives it) to the minute in UTC, as the other
    commands print times ("2026-12-05 11:03 UTC"): a review's time was printed as
    stored, "2026-12-05T11:03:24.981481+00:00". Text that is not such a time is left
    as it is."""
    from datetime import UTC, datetime

    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _class_counts(items: list[str]) -> dict[str, float]:
    """``--class boxcar=40`` options as ``{"boxcar": 40.0}``."""
    out: dict[str, float] = {}
    for item in items:
        cls, sep, value = item.partition("=")
        cls = cls.strip().lower()
        if not sep or not cls:
            raise InputError(f"--class {item!r}: write CLASS=N, e.g. --class boxcar=40")
        if cls in out:
            raise InputError(f"--class {cls} is given twice")
        try:
            out[cls] = float(value)
        except ValueError as err:
            raise InputError(
                f"--class {item!r}: {value.strip()!r} is not a number of cars"
            ) from err
    return out


def _review_counts(count: float, classes: list[str], covered: float | None) -> dict[str, float]:
    """The counts of ``--count``, ``--class`` and ``--covered``. ``--class all=N`` or
    ``--class covered=N`` that disagrees with ``--count`` or ``--covered`` is refused:
    before session 28 ``--class all=3 --count 5`` recorded a total of 3, and ``--covered
    5 --class covered=3`` a covered count of 5, without a word."""
    by_class = _class_counts(classes)
    for cls, option, value in (("all", "--count", count), ("covered", "--covered", covered)):
        if cls in by_class and value is not None and by_class[cls] != value:
            raise InputError(
                f"{option} {value:g} and --class {cls}={by_class[cls]:g} disagree: give "
                f"that count once, with {option}"
            )
    given = {**by_class, "all": count}
    if covered is not None:
        given["covered"] = covered
    return given


@app.command("review")
def review(
    ctx: typer.Context,
    scene_id: Annotated[int, typer.Argument(help="Scene id (see `railwatch scene list SITE`).")],
    count: Annotated[
        float | None,
        typer.Option("--count", help="Your count of all the railcars over the site."),
    ] = None,
    classes: Annotated[
        list[str] | None,
        typer.Option(
            "--class",
            help="Your count of one type, CLASS=N (repeat it): boxcar, gondola, hopper, "
            "tank, flat, container, locomotive, railcar (type unsure). Types not given "
            "keep the detector's count.",
        ),
    ] = None,
    covered: Annotated[
        float | None, typer.Option("--covered", help="How many loads are under tarpaulins.")
    ] = None,
    cars: Annotated[
        str | None,
        typer.Option(
            "--cars",
            help="GeoJSON of every car over the scene (a Polygon each, with class and "
            "covered), e.g. the scene's detections from `railwatch export`, corrected in "
            "QGIS; counted where a car's centre lies in the site. Instead of --count.",
        ),
    ] = None,
    unusable: Annotated[
        str | None,
        typer.Option(
            "--unusable",
            metavar="REASON",
            help="Declare the image unusable, saying why (clouds the quality check missed, "
            "not the site, a night image, a file corrupt at its source): a gap in the "
            "series, never a zero; `railwatch process` skips it, a failed scene too, until "
            "--remove. Instead of --count; it replaces a count you gave (said, to give "
            "again after --remove).",
            show_default=False,
        ),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="Why, or how you counted.")] = "",
    remove: Annotated[
        bool,
        typer.Option(
            "--remove",
            help="Remove the review: the detector's counts come back (a scene declared "
            "--unusable is processed again by the next `railwatch process`).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Record your own count of a scene (or the cars' corrected outlines): the scene's
    stored counts are then yours, in the series, charts, exports and alerts (after
    `railwatch analyze SITE`); the detector's stay beside them, and processing the scene
    again keeps yours. Or declare the image unusable (--unusable REASON): it is a gap in
    the series with the reason "unusable by analyst review: REASON", and processing skips
    it (the way out for a file bad at its source that fails every run)."""
    check_record_id(scene_id, "scene", SCENE_IDS)
    given = count is not None or bool(classes) or covered is not None
    if remove and (given or cars is not None or unusable is not None):
        raise InputError(
            "--remove takes no counts, --cars nor --unusable: remove the review, then give "
            "a new one"
        )
    if unusable is not None and (given or cars is not None):
        raise InputError(
            "give --unusable REASON or a count (--count, --class, --covered, --cars), not "
            "both: an unusable image has no count, it is a gap in the series"
        )
    if unusable is not None and note.strip():
        raise InputError(
            "--unusable REASON is the review's note: give the reason there, without --note"
        )
    if not remove and cars is None and count is None and given:
        # --class tank=5 alone was told to give "your count (--count N, with --class...)"
        raise InputError(
            "--class and --covered go with --count N: give your count of all the railcars "
            "over the site too (the types not given keep the detector's count)"
        )
    if not remove and cars is None and count is None and unusable is None:
        raise InputError(
            "give your count (--count N, with --class CLASS=N and --covered N if you "
            "counted them), the corrected outlines (--cars FILE.geojson), --unusable "
            "REASON (the image shows nothing to count), or --remove"
        )
    if cars is not None and given:
        raise InputError(
            "give --cars or --count/--class/--covered, not both: the outlines' counts are "
            "the cars whose centre is in the site"
        )
    db = open_db(ctx)
    with db.session() as s:
        scene = repo.get_scene(s, scene_id)
        site = scene.site.name
        if remove:
            removed = repo.remove_scene_review(s, scene_id)
            data = review_dict(removed)
            data["applied"] = False
            data["removed"] = True
            data["replaced"] = None  # the keys of every review's JSON
            s.flush()
            s.refresh(scene)
            data["stored_counts"] = _stored_counts(scene.counts, {})
            outlines = ""
        else:
            # what a new review replaces, said (the earlier one is deleted): a count
            # declared unusable otherwise went without a word, its outlines with it. The
            # site's row held and the scene locked first (the lock order of
            # docs/storage.md), so that it is the review written over (session 38: it
            # was read before the write's lock, and another writer's review in between
            # went unsaid)
            repo.hold_site(s, site, f"scene {scene_id} was being reviewed")
            repo.lock_scene(s, scene_id)
            earlier = repo.get_scene_review(s, scene_id)
            replaced = None if earlier is None else review_dict(earlier)
            if unusable is not None:
                rv = repo.set_scene_unusable_review(s, scene_id, unusable)
            elif cars is not None:
                from railwatch.review import read_review_cars

                records = read_review_cars(cars, scene, scene.site)
                rv = repo.set_scene_review(s, scene_id, cars=records, note=note)
            else:
                assert count is not None
                given_counts = _review_counts(count, classes or [], covered)
                rv = repo.set_scene_review(s, scene_id, given_counts, note=note)
            s.flush()
            s.refresh(scene)
            data = review_dict(rv)
            data["removed"] = False
            data["replaced"] = replaced
            data["stored_counts"] = _stored_counts(scene.counts, data["counts"])
            outlines = _outlines_words(rv.cars)
    if as_json:
        print_json(data)
        return
    if data["removed"] and data.get("unusable") is not None:
        # it has no count until processed: `analyze` alone judged the alerts on a gap still
        console.print(
            f"Removed the review of scene {scene_id}: it is no longer declared unusable, "
            f"and the next `railwatch process {escape(site)}` reads it again.",
            highlight=False,
        )
        console.print(
            f"Run `railwatch process {escape(site)}`, then `railwatch analyze {escape(site)}` "
            "to judge the site's alerts on it.",
            highlight=False,
        )
        return
    if data["removed"]:
        machine = data["detector_counts"].get("all")
        back = (
            f"the detector's count ({machine['count']:g}) is back"
            if isinstance(machine, dict)
            else "the detector's counts are back"
        )
        console.print(f"Removed the review of scene {scene_id}: {back}.", highlight=False)
    else:
        reviewed = _review_text(data, outlines)
        console.print(f"Scene {scene_id} reviewed: {escape(reviewed)}", highlight=False)
        kept = _stored_text(data.get("stored_counts") or {})
        if kept:
            console.print(escape(kept), highlight=False)
        if data["replaced"] is not None:
            console.print(_replaced_text(data["replaced"]), highlight=False)
    console.print(
        f"Run `railwatch analyze {escape(site)}` to judge the site's alerts on it.",
        highlight=False,
    )


def _stored_counts(rows: Any, given: dict[str, float]) -> dict[str, dict[str, Any]]:
    """The scene's count rows after a review, each with where it comes from: ``analyst``
    (a number the review gave), ``detector`` (a type or the covered count the review did
    not give, kept from the detector) or ``rest`` (``railcar``: the cars of the
    analyst's total that no type accounts for, ``repo._untyped_rest``). Empty when the
    review is not applied (an unusable scene keeps no counts). A row of a class its
    method does not tell (``tells_class``: a type, ``railcar`` or covered at an image
    counted by occupied track length) is left out, as every reader gives it as unknown,
    no count (review r1, session 38: ``--count 9`` on a 3 m scene said "kept from the
    detector: railcar 8.1")."""
    out: dict[str, dict[str, Any]] = {}
    for c in sorted(rows, key=lambda c: c.cls):
        if c.cls != "all" and c.cls not in given and not tells_class(c.cls, c.method):
            continue
        if c.cls in given:
            source = "analyst"
        elif c.detector == ANALYST:
            source = "rest"
        else:
            source = "detector"
        out[c.cls] = {"count": c.count, "low": c.low, "high": c.high, "source": source}
    return out


def _stored_text(stored: dict[str, dict[str, Any]]) -> str:
    """What a count review left in the scene's counts besides the numbers it gave, in one
    line (session 38: ``--count 9`` on a scene of 3 boxcars and 10 untyped cars stored
    ``railcar 6`` and kept ``boxcar 3`` without a word). Empty when the review gave every
    stored class."""
    kept = [f"{cls} {_with_interval(v)}" for cls, v in stored.items() if v["source"] == "detector"]
    rest = stored.get(GENERIC_CLASS)
    parts = []
    if kept:
        parts.append(f"kept from the detector: {', '.join(kept)}")
    if rest is not None and rest["source"] == "rest":
        parts.append(
            f"{GENERIC_CLASS} (type unsure) {rest['count']:g}: the cars of your total that no "
            "type accounts for"
        )
    if not parts:
        return ""
    return "Stored besides your counts: " + "; ".join(parts) + "."


def _replaced_text(earlier: dict[str, Any]) -> str:
    """What a new review of a scene replaced (deleted): the earlier review as
    :func:`_review_text` gives it, with its outlines, so that it can be given again."""
    lost = earlier.get("cars")
    outlines = (
        f", with the {lost} car outline{plural_s(lost)} you gave,"
        if isinstance(lost, int) and lost
        else ""
    )
    return escape(f"It replaced your earlier review{outlines} of {_review_text(earlier)}")


@app.command("remove")
def remove_command(
    ctx: typer.Context,
    scene_ids: Annotated[
        list[int], typer.Argument(help="Scene ids (see `railwatch scene list SITE`).")
    ],
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Remove without asking (needed when not run from a terminal).",
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print what was removed as JSON: {removed, scenes: [...], analyze: [...]}.",
        ),
    ] = False,
) -> None:
    """Remove scenes ingested by mistake (a duplicate, the wrong site): each scene with
    its detections, counts and review, in one transaction; the image file is left as
    it is, and ingesting it again makes a new scene. Alerts citing a removed scene are
    deleted, or, acknowledged, kept inactive with their notes; run `railwatch analyze
    SITE` then. An image that is only bad is better declared unusable (`scene review ID
    --unusable REASON`): a gap in the series.

    Without --yes it lists what would be removed and asks when run from a terminal; it is
    refused (status 2) when standard input is not a terminal (a script, a pipe). A site
    being processed (`railwatch process`, a dashboard job) is refused (status 75: busy,
    run it again later)."""
    for scene_id in scene_ids:
        check_record_id(scene_id, "scene", SCENE_IDS)
    ids = list(dict.fromkeys(scene_ids))
    db = open_db(ctx)
    with db.session(readonly=True) as s:  # unknown ids are said before asking
        planned = [repo.scene_removal(s, i) for i in ids]
    if not yes:
        listing = "\n".join(f"  {_removal_text(r)}" for r in planned)
        many = len(planned) != 1
        if not confirm(
            f"Remove {'these scenes' if many else 'this scene'} (the image files are "
            f"kept)?\n{listing}\n",
            f"removing scene{plural_s(len(planned))} "
            f"{', '.join(str(r.scene_id) for r in planned)} deletes "
            f"{'their' if many else 'its'} detections, counts and reviews; pass --yes "
            "to confirm",
        ):
            if as_json:
                print_json({"removed": False, "scenes": [], "analyze": []})
                return
            console.print("Nothing removed.", highlight=False)
            return
    from railwatch.pipeline import scene_removal_lock

    with scene_removal_lock(db, (r.site for r in planned)), db.session() as s:
        gone = repo.remove_scenes(s, ids)
    analyze = sorted({r.site for r in gone})
    if as_json:
        print_json(
            {
                "removed": True,
                "scenes": [r.to_dict() for r in gone],
                "analyze": [f"railwatch analyze {site}" for site in analyze],
            }
        )
        return
    for r in gone:
        console.print(f"Removed {escape(_removal_text(r))}.", highlight=False)
        if r.alerts_removed:
            console.print(
                f"  deleted {plural(len(r.alerts_removed), 'alert')} citing it: "
                f"{', '.join(map(str, r.alerts_removed))}",
                highlight=False,
            )
        if r.alerts_retired:
            console.print(
                f"  kept {plural(len(r.alerts_retired), 'acknowledged alert')} citing it, "
                f"inactive, with {'its note' if len(r.alerts_retired) == 1 else 'their notes'}"
                f": {', '.join(map(str, r.alerts_retired))}",
                highlight=False,
            )
    for site in analyze:
        console.print(
            f"Run `railwatch analyze {escape(site)}` to judge the site's alerts without "
            f"{'them' if len(gone) != 1 else 'it'}.",
            highlight=False,
        )


def _removal_text(r: repo.SceneRemoval) -> str:
    """One scene of a removal: ``scene 7 (site 'yard', 2024-03-05 10:30 UTC, processed,
    FILE): 12 detections, 3 counts, 1 review, 1 alert``."""
    parts = [plural(r.detections, "detection"), plural(r.counts, "count")]
    if r.reviews:
        parts.append(plural(r.reviews, "review"))
    alerts = len(r.alerts_removed) + len(r.alerts_retired)
    if alerts:
        acked = f", {len(r.alerts_retired)} acknowledged" if r.alerts_retired else ""
        parts.append(f"{plural(alerts, 'alert')} citing it{acked}")
    return (
        f"scene {r.scene_id} (site {r.site!r}, {r.acquired_at:%Y-%m-%d %H:%M} UTC, "
        f"{r.status}, {r.uri}): {', '.join(parts)}"
    )


@app.command("import-reviews")
def import_reviews_command(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site name.")],
    counts: Annotated[
        Path,
        typer.Argument(
            help="CSV of your counts: date,count (optional class, scene_id), as for "
            "`railwatch analyze --counts`; or the counts CSV of `railwatch export SITE "
            "--format csv` with its counts corrected. An optional unusable column (this "
            "command's only) declares an image unusable: the reason in it and the count "
            "empty (a line with both is refused); empty, the line is a count as before."
        ),
    ],
    note: Annotated[
        str,
        typer.Option(
            "--note",
            help="Said of every count recorded (an image declared unusable has its reason).",
        ),
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Record the counts of a CSV file as your reviews of the site's images, all or none:
    each line goes to the image its scene_id names, else to the site's one usable image of
    its day at the site (the local day the alerts and charts give; a line whose day has
    none takes its UTC day's one image, as files written before 2026-12-05 meant). Images
    whose stored count already is the file's are left as they are.

    A line whose unusable column holds a reason declares its image unusable, as `railwatch
    scene review ID --unusable REASON` does: a gap in the series with the reason "unusable
    by analyst review: REASON" that `railwatch process` skips (a failed or unprocessed
    image too: without scene_id, the day's one image of any state). A count you gave
    earlier is replaced, and said; an image declared already for that reason is left as
    it is. Bring one back with `railwatch scene review ID --remove`."""
    from railwatch.analysis.csvio import read_counts_file
    from railwatch.analysis.store import site_utc_offset
    from railwatch.review import import_reviews

    db = open_db(ctx)
    with db.session() as s:
        # the file's days are the site's local days, as its lines are matched to images:
        # two counts of one local day are said to be one day's (session 32: UTC days)
        offset = site_utc_offset(repo.get_site(s, site))
        # (the reader refuses a scene_id past railwatch.limits.MAX_RECORD_ID with its line)
        # (and gives each point's line, which the import's errors name, and each point's
        # reason where its unusable column declares the image unusable)
        # the reader's warnings are said once the file is recorded, marked as warnings:
        # a refused file's error says what is wrong (2026-12-07, session 46: two counts of
        # one image were told, unmarked, that "the analysis keeps the highest", then
        # refused with "keep one")
        warnings: list[str] = []
        read = read_counts_file(counts, warn=warnings.append, utc_offset=offset, unusable=True)
        done = import_reviews(
            s, site, read.series, note=note, lines=read.lines, unusable=read.unusable
        )
    for line in warnings:
        err_console.print(
            f"[bold yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True
        )
    counts_replaced = dict(done.replaced)
    if as_json:
        print_json(
            {
                # with the count review each replaced (null when none), as the images
                # declared unusable have theirs
                "recorded": [
                    {"scene_id": i, "counts": c, "replaced": counts_replaced.get(i)}
                    for i, c in done.recorded
                ],
                # the images the file declared unusable, with the review each replaced
                # (null when none), as `scene review --unusable --json` gives it
                "unusable": [
                    {"scene_id": i, "reason": why, "replaced": replaced}
                    for i, why, replaced in done.declared
                ],
                "unchanged": list(done.unchanged),
                "by_utc_day": [
                    {"scene_id": i, "date": d.isoformat(), "local_day": k.isoformat()}
                    for i, d, k in done.by_utc_day
                ],
            }
        )
        return
    for scene_id, given in done.recorded:
        parts = "; ".join(f"{cls} {n:g}" for cls, n in given.items())
        console.print(f"scene {scene_id}: {escape(parts)}", highlight=False)
        if scene_id in counts_replaced:
            console.print(_replaced_text(counts_replaced[scene_id]), highlight=False)
    for scene_id, why, replaced in done.declared:
        console.print(
            f'scene {scene_id}: unusable - "{escape(why)}" (a gap in the series; `railwatch '
            f"process` skips it until `railwatch scene review {scene_id} --remove`)",
            highlight=False,
        )
        if replaced is not None:
            console.print(_replaced_text(replaced), highlight=False)
    for scene_id, day, local in done.by_utc_day:
        err_console.print(
            f"note: the line of {day} went to scene {scene_id}, the image of that UTC day: "
            f"it is of {local} at the site, and no usable image is of {day} there (a file "
            "written by UTC days, before 2026-12-05?); write the site's local day, or add "
            "a scene_id column",
            highlight=False,
        )
    declared = (
        f" and declared {len(done.declared)} image{plural_s(len(done.declared))} unusable"
        if done.declared
        else ""
    )
    console.print(
        f"Recorded {len(done.recorded)} review{plural_s(len(done.recorded))}{declared} of "
        f"{escape(site)}; {len(done.unchanged)} image{plural_s(len(done.unchanged))} already "
        "had the file's counts"
        + (" or reasons." if any(r for v in read.unusable.values() for r in v) else ".")
        + (
            f" Run `railwatch analyze {escape(site)}` to judge the alerts on them."
            if done.recorded or done.declared
            else ""
        ),
        highlight=False,
    )


def spread_words(spread: float) -> str:
    """How wide an interval is against its count (``spread``: its width over the count),
    in words: "40% as wide as the count", "as wide as the count itself", "2.3 times as
    wide as the count" (the dashboard's list of images to check says it alike). Until
    2026-12-07 (session 47) it was "100% of the count wide"."""
    if round(spread * 100) == 100 or 1.0 <= spread < 1.05:
        return "as wide as the count itself"
    if spread < 1.0:
        return f"{spread:.0%} as wide as the count"
    return f"{spread:.1f} times as wide as the count"


def _interval_words(c: repo.ReviewCandidate) -> str:
    """A candidate's interval, "9-31": the bounds of a whole count of cars seen one by one
    rounded outward to whole cars (``analysis.types.whole_car_bounds``), as its alerts,
    `scene show`, the report and the dashboard's list of images to check (``RW.fmtInterval``)
    word it; car equivalents keep one decimal. Until 2026-12-07 (session 45) this table
    said "9-30.4" beside the dashboard's "9-31"."""
    from railwatch.analysis.types import whole_car_bounds
    from railwatch.report.format import fmt_num

    low, high = whole_car_bounds(c.count, c.low, c.high, c.method)
    return f"{fmt_num(low)}-{fmt_num(high)}"


@app.command("to-review")
def to_review(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site name.")],
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=1000, help="How many scenes.")
    ] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The scenes to check first: those an alert (above info) rests on, then those whose
    count the detector is least sure of (widest interval for its count); none reviewed
    yet. Check one with `railwatch scene cars ID`, then `railwatch scene review ID`."""
    from railwatch.analysis.events import local_day
    from railwatch.analysis.store import site_utc_offset
    from railwatch.report.model import clock_words, site_clock

    db = open_db(ctx)
    with db.session(readonly=True) as s:
        found = repo.review_candidates(s, site, limit=limit)
        offset = site_utc_offset(repo.get_site(s, site))
    # each with its local day at the site, as GET /api/sites/{site}/to-review (session 31)
    data = [{**candidate_dict(c), "day": local_day(c.when, offset).isoformat()} for c in found]
    if as_json:
        print_json(data)
        return
    if not data:
        console.print(
            f"No scene of {escape(site)} to review: none is usable and counted, or every "
            "one is reviewed already.",
            highlight=False,
        )
        return
    table = Table(
        title=f"Scenes of {escape(site)} to check first",
        title_justify="left",
        caption="then: railwatch scene cars ID -o cars.geojson; correct them; "
        "railwatch scene review ID --cars cars.geojson (or --count N)",
        caption_justify="left",
    )
    # the local time at the site on the clock the report names, "acquired (UTC+12
    # nominal)": its day is the JSON's day (session 31; the table gave the UTC time)
    acquired = f"acquired ({clock_words(offset)})"
    for col, just in (("id", "right"), (acquired, "left"), ("count", "right")):
        table.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    table.add_column("why", ratio=1)
    for c in found:
        approx = "" if c.method == "objects" else "≈"
        why = (
            "alerts: "
            + ", ".join(
                f"{sev} {kind}" + ("" if cls == "all" else f" ({cls})")
                for kind, sev, cls in c.alerts
            )
            if c.alerts
            # bounds as the alerts, `scene show` and the dashboard's list word them: a
            # whole count of cars in whole cars ("9-31", not "9-30.4"; session 45)
            else f"interval {_interval_words(c)}, {spread_words(c.spread)}"
        )
        if c.low_sun:
            why += f"; sun {c.sun_elevation:.0f}° high: long shadows may be counted as cars"
        table.add_row(
            str(c.scene_id),
            site_clock(c.when, offset),
            f"{approx}{round(c.count, 1):g}",
            escape(why),
        )
    print_table(table)


@app.command("cars")
def cars_command(
    ctx: typer.Context,
    scene_id: Annotated[int, typer.Argument(help="Scene id (see `railwatch scene list SITE`).")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="GeoJSON file to write (default, or '-': standard output).",
        ),
    ] = None,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="auto (an analyst's outlines where the scene has them, else the "
            "detector's cars), detector or analyst.",
        ),
    ] = "auto",
) -> None:
    """Write a scene's cars as GeoJSON in the scene's CRS (every car over the image, in
    the site or not), to correct in QGIS and give back with `railwatch scene review ID
    --cars FILE`."""
    from railwatch.detect.geojson import write_geojson
    from railwatch.review import scene_cars

    check_record_id(scene_id, "scene", SCENE_IDS)
    db = open_db(ctx)
    with db.session(readonly=True) as s:
        fc = scene_cars(s, scene_id, source)
    if out is None or str(out) == "-":
        # '-' is standard output, as for `export -f csv -o -` (until session 35 it wrote
        # a file named '-' and said to give `--cars -` back)
        print_json(fc)
        return
    write_geojson(out, fc)
    err_console.print(
        f"wrote {len(fc['features'])} car{plural_s(len(fc['features']))} ({fc['source']}'s) "
        f"of scene {scene_id} to "
        f"{escape(str(out))}; correct them, then `railwatch scene review {scene_id} --cars "
        f"{escape(str(out))}`",
        highlight=False,
    )


def _tracks_text(
    coarse: dict[str, object], site: str = "SITE", *, tracks_given: bool = False
) -> str:
    """One line on the track lines a coarse count read: given or found, and how much; the
    command to give ``site`` its lines names it (2026-12-07, session 48: it said ``SITE``
    where the rest of `scene show` names the site); where the site has them now
    (``tracks_given``), the run that counts the image again along them (session 49)."""
    m = coarse.get("track_m")
    read = f"{float(m):,.0f} m of track read" if isinstance(m, int | float) else ""
    if coarse.get("tracks") == "found" and tracks_given:
        where = (
            "lines found in the image (the site had no track centrelines when it was "
            "counted; it has them now: "
            f"`railwatch process {site}` counts it again along them, a much better estimate)"
        )
    elif coarse.get("tracks") == "found":
        where = (
            "lines found in the image (the site had no track centrelines when it was "
            f"counted: add them with `railwatch site edit {site} --tracks FILE` and process "
            "it again for a much better estimate)"
        )
    elif coarse.get("tracks") == "given":
        where = "the site's track centrelines"
    else:
        where = ""
    return ", along ".join(x for x in (read, where) if x) or "-"


def _registration_text(reg: dict[str, object]) -> str:
    """One line on how a coarse scene was registered to its site's other images."""

    def num(key: str) -> float:
        v = reg.get(key)
        return float(v) if isinstance(v, int | float) else 0.0

    if "not_applied" in reg:
        return f"not moved: {reg['not_applied']} (the track centrelines were used as given)"
    dx, dy = num("dx_m"), num("dy_m")
    ew = f"{abs(dx):.1f} m {'east' if dx >= 0 else 'west'}"
    ns = f"{abs(dy):.1f} m {'north' if dy >= 0 else 'south'}"
    return (
        f"content {ew}, {ns} of the median of {reg.get('references', 0)} other images of "
        f"the site (correlation {num('response'):.2f}); the track centrelines were moved "
        "with it"
    )


def _empty_track_text(empty: dict[str, object]) -> str:
    """One line on where a coarse scene's empty-track colour came from."""
    n = empty.get("images", 0)
    source = empty.get("from")
    if source == "site":
        return f"the colour the site's {n} other images predict, found in this image"
    if source == "site, full yard":
        return (
            f"the colour the site's {n} other images predict, as it is: the yard looked "
            "full (hardly any bare ballast), so the count rests on those images"
        )
    if n:
        return (
            f"this image's own (the colour the site's {n} other images predict was not found in it)"
        )
    return "this image's own (too few other usable images of the site)"


def _short_crs(crs: str) -> str:
    return crs if len(crs) <= 40 else crs[:37] + "..."


def register(root: typer.Typer) -> None:
    """Add the ``scene`` group to the ``railwatch`` command."""
    root.add_typer(app, name="scene")
