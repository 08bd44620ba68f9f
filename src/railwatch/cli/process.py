"""``railwatch process``: read, judge, detect and count every pending scene of sites."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table

from railwatch.cli._common import (
    console,
    err_console,
    open_db,
    plural_s,
    print_json,
    print_table,
    progress_bar,
    state,
)
from railwatch.cli.main import note_progress
from railwatch.errors import InputError, NotFoundError, RailwatchError, plural, some

if TYPE_CHECKING:
    from railwatch.analysis.centrelines import SiteCheck
    from railwatch.detect.base import Detector
    from railwatch.pipeline import ProcessSummary
    from railwatch.storage import Database


def process(
    ctx: typer.Context,
    sites: Annotated[
        list[str] | None, typer.Argument(help="Site names (or --all).", show_default=False)
    ] = None,
    all_sites: Annotated[bool, typer.Option("--all", help="Process every site.")] = False,
    detector: Annotated[
        str,
        typer.Option(
            "--detector", help="Detector: default, default-fp32, onnx:PATH, ultralytics:PATH."
        ),
    ] = "default",
    reprocess: Annotated[
        bool,
        typer.Option("--reprocess", help="Process scenes already done with this detector."),
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--usable-threshold",
            min=0.0,
            max=1.0,
            help="Minimum clear fraction of the site for a scene to be counted "
            "(default from RAILWATCH_USABLE_THRESHOLD, else 0.8).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Run on a local Dask cluster of N worker processes (at most 4 per CPU "
            "core; never more than the scenes to run).",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Run on a running Dask cluster (tcp://HOST:PORT).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Process the scenes of one or more sites: only scenes not yet processed with the
    current detector version run (``--reprocess`` forces); each scene is recorded in its
    own transaction. Unusable scenes are stored with their reasons, never as zero.

    With ``--workers N`` or ``--scheduler URL`` each scene is a task on a Dask cluster
    (the ``dask`` extra); results are still written here, one transaction per scene."""
    from railwatch.detect.registry import get_detector
    from railwatch.storage import repo

    if not all_sites and not sites:
        raise InputError("name the sites to process, or pass --all")
    settings = state(ctx).settings()
    db = open_db(ctx)
    if all_sites:
        with db.session(readonly=True) as s:
            names = [row.name for row in repo.list_sites(s)]
        if not names:  # an empty table (and --json's []) said nothing of why
            if as_json:
                print_json([])
            else:
                console.print(
                    "No sites to process: add one with `railwatch site add NAME --bbox W,S,E,N`."
                )
            return
    else:
        from railwatch.sites import one_name_a_site

        # a site named twice (also in both Unicode forms, NFC and NFD) is processed once
        names = one_name_a_site(sites or ())
    det = get_detector(detector)
    limit = settings.usable_threshold if threshold is None else threshold
    before = {} if reprocess else _versions(db, names)
    if workers is not None or scheduler is not None:
        from railwatch.distributed import ClusterSpec, TaskDone, process_sites_distributed

        spec = ClusterSpec(workers=workers, scheduler=scheduler)
        with progress_bar(transient=as_json) as bar:
            # Two rows: tasks finished on the cluster (Dask reports each future as the
            # scheduler completes it) and scenes recorded here, one transaction each.
            computed = bar.add_task(f"{plural(len(names), 'site')}: tasks done on Dask", total=None)
            recorded = bar.add_task("scenes recorded", total=None)

            def on_task(event: TaskDone) -> None:
                bar.update(computed, completed=event.done, total=event.total)

            def on_recorded(done: int, total: int, _site: str) -> None:
                if done == 0:
                    bar.update(computed, total=total)
                bar.update(recorded, completed=done, total=total)
                # of all the sites together (a run on Dask records them as they come)
                key = names[0] if len(names) == 1 else ""
                note_progress(_progress_words(names, {key: (done, total)}))

            results = process_sites_distributed(
                db,
                names,
                detector=det,
                detector_name=detector,
                cluster=spec,
                reprocess=reprocess,
                usable_threshold=limit,
                on_progress=on_recorded,
                on_task=on_task,
                skip_busy=len(names) > 1,
            )
    else:
        results = _in_process(db, names, det, reprocess, limit, as_json)
    declared = _reviewed_unusable(db, results)
    found = tracks_found_in_image(db, results)
    again = _processed_again(db, results, before)
    checks = centreline_checks(db, results)
    _print_results(results, det, as_json, declared, found, again, checks)
    for r in results:
        if (
            r.busy is None and r.total == 0 and r.skipped == 0 and not declared.get(r.site)
        ):  # zeros said nothing of why
            err_console.print(
                f"note: site {escape(r.site)} has no scenes to process: ingest its images "
                f"first (`railwatch ingest {escape(r.site)} FOLDER`), then run process again."
                + _swappable_note(db, r.site),
                highlight=False,
                soft_wrap=True,
            )
    _say_tracks_found(found)
    _say_centrelines_off(checks)
    _say_eight_bit(db, results)
    _say_spread_assumed(results)
    if not as_json:
        _print_analyze_hints(results)
    busy = [r for r in results if r.busy is not None]
    for r in busy:
        err_console.print(
            f"[yellow]site {escape(r.site)} not processed:[/] {escape(r.busy or '')}",
            highlight=False,
            soft_wrap=True,
        )
    # Status 1 whenever a scene failed, after the summary (as `ingest` does for an item):
    # a scheduled run must not look fine while an image is never counted. Until
    # 2026-12-06 (session 35) one scene recorded was enough for status 0, so the same
    # bad file gave 0 on the day new images came and 1 on a re-run with nothing new.
    failed = sum(len(r.failed) for r in results)
    untracked = _need_tracks(results)
    if busy:  # after the others' summary: a script sees that the run is not complete
        from railwatch.storage.db import BusyError

        held = ", ".join(r.site for r in busy)
        others = failed - sum(untracked.values())
        parts = [
            f"{plural(len(busy), 'site')} not processed, held by another railwatch run "
            f"({held}); the other sites were processed: run process again for "
            f"{'it' if len(busy) == 1 else 'them'} once that run has finished"
        ]
        if untracked:
            # the sites that need the analyst first, with what to do: until 2026-12-07
            # (session 49) they were "N scenes of the others failed" after the held
            # sites, and the command that gives the centrelines was left out
            parts.insert(0, _tracks_words(untracked))
        if others:
            parts.append(
                f"and {others} scene{plural_s(others)} of the others failed (listed above)"
            )
        message = "; ".join(parts)
        # busy alone is status 75 (run again later), as a site named alone; a scene that
        # failed or waits for centrelines as well needs someone: status 1 (sessions 48, 49)
        raise RailwatchError(message) if failed else BusyError(message)
    if untracked:  # not the files' fault: said apart from other failures
        n = sum(untracked.values())
        failed -= n
        done = sum(len(r.processed) + len(r.unusable) for r in results)
        raise RailwatchError(
            _tracks_words(untracked)
            + (
                f"; and {failed} other scene{plural_s(failed)} failed (listed above): fix "
                f"the cause and run process again; {_WAY_OUT}"
                if failed
                else ""
            )
            + (f"; the other {done} {'was' if done == 1 else 'were'} recorded" if done else "")
        )
    if failed and not any(r.processed or r.unusable for r in results):
        what = "the scene" if failed == 1 else f"all {failed} scenes"
        raise RailwatchError(
            f"nothing processed: {what} failed (listed above); fix the cause and run "
            f"process again, it retries failed scenes; {_WAY_OUT}"
        )
    if failed:
        done = sum(len(r.processed) + len(r.unusable) for r in results)
        raise RailwatchError(
            f"{failed} scene{plural_s(failed)} failed (listed above); the other {done} "
            f"{'was' if done == 1 else 'were'} recorded: fix the cause (a missing, moved "
            "or corrupt file: put it back or re-download it) and run process again, it "
            f"retries failed scenes; {_WAY_OUT}"
        )


def _need_tracks(results: list[ProcessSummary]) -> dict[str, int]:
    """How many of each site's failed scenes cannot be read without its track
    centrelines (:func:`railwatch.counting.needs_tracks`): a 10 m image of a site without
    them, or a finer coarse one where no line was found. Their files are not at fault;
    until 2026-12-06 (session 40) the run's closing line blamed a missing, moved or
    corrupt file, and such a scene was listed as failed like a broken one."""
    from railwatch.counting import needs_tracks

    out: dict[str, int] = {}
    for r in results:
        n = sum(1 for _, reason in r.failed if needs_tracks(reason))
        if n:
            out[r.site] = n
    return out


def _per_site(untracked: dict[str, int]) -> str:
    return ", ".join(f"{n} of site {s}" for s, n in untracked.items())


def _tracks_words(untracked: dict[str, int]) -> str:
    """The scenes that cannot be read without their sites' track centrelines
    (:func:`_need_tracks`), with the command that gives each site its lines: the run's
    last line, alone or after the sites held by another run."""
    n = sum(untracked.values())
    return (
        f"{n} scene{plural_s(n)} {'was' if n == 1 else 'were'} not counted: "
        f"{'it cannot' if n == 1 else 'they cannot'} be read without the site's track "
        f"centrelines (listed above; {_per_site(untracked)}); give them with "
        + " and ".join(f"`railwatch site edit {s} --tracks FILE`" for s in untracked)
        + " and run process again, it retries these scenes"
    )


#: What a failed scene's message offers when its file cannot be fixed (bad at its
#: source): the analyst's review makes it a gap that process no longer retries.
_WAY_OUT = (
    "an image that cannot be fixed (bad at its source) can be declared unusable with "
    '`railwatch scene review ID --unusable "REASON"`: a gap in the series, skipped by '
    "process from then on"
)


def _versions(db: Database, names: list[str]) -> dict[int, str]:
    """The detector and version each scene of the sites ``names`` was processed with
    (counted or found unusable), by scene id: what a run finds to tell the scenes it runs
    again (:func:`_processed_again`). A site that is not there has none (the run says
    so)."""
    from railwatch.storage import repo

    out: dict[int, str] = {}
    with db.session(readonly=True) as s:
        for name in names:
            try:
                scenes = repo.list_scenes(s, name, status=("processed", "unusable"))
            except NotFoundError:
                continue
            out.update({sc.id: f"{sc.detector} {sc.detector_version}" for sc in scenes})
    return out


def _processed_again(
    db: Database, results: list[ProcessSummary], before: dict[int, str]
) -> dict[str, list[tuple[int, str, str]]]:
    """Per site, the scenes this run processed that had been processed before, with
    another detector or version (``before``: :func:`_versions` before the run) and for no
    reason the run gives (``ProcessSummary.recounted``, ``retried``): ``(scene id, what it
    was processed with, what now)``. Those are the scenes an upgrade of the detector or of
    the occupied-length estimator runs again, whose stored counts may have changed. Until
    2026-12-06 (session 41) the run said nothing of them: "counted 10" for a site where
    one image had come, its 9 earlier 3 m images counted again unsaid. A scene marked to
    be counted again (``storage.repo.TRACKS_CHANGED``, ``ingest.MASK_CHANGED``, ...) is
    left out: what marked it said so."""
    from railwatch.storage import repo

    out: dict[str, list[tuple[int, str, str]]] = {}
    with db.session(readonly=True) as s:
        for r in results:
            if r.busy is not None:
                continue
            told = {i for i, _ in r.recounted} | {i for i, _ in r.retried}
            ran = [i for i in (*r.processed, *r.unusable) if i in before and i not in told]
            rows = []
            for scene_id in sorted(ran):
                try:
                    sc = repo.get_scene(s, scene_id)
                except NotFoundError:  # removed meanwhile
                    continue
                now = f"{sc.detector} {sc.detector_version}"
                # marked to be counted again ("+tracks-changed", "+mask-changed", ...) by
                # what changed it, which said so (`site edit --tracks`, `ingest-stac`)
                if now != before[scene_id] and not before[scene_id].endswith("-changed"):
                    rows.append((scene_id, before[scene_id], now))
            out[r.site] = rows
    return out


def _again_line(site: str, rows: list[tuple[int, str, str]]) -> str:
    """One line per run on the scenes :func:`_processed_again` found: how many, with what
    before and now (the commonest pair; ``--json`` lists each)."""
    (was, now), n = Counter((b, a) for _, b, a in rows).most_common(1)[0]
    others = len(rows) - n
    rest = f" (and {others} processed before with other versions)" if others else ""
    return (
        f"{site}: {n} scene{plural_s(n)} processed before with {was} "
        f"{'was' if n == 1 else 'were'} processed again with {now}{rest} (another detector, an "
        "upgraded detector, occupied-length estimator or quality rules, or the files' "
        "--bands or --radiometry): their stored counts are now its and may differ from before "
        f"(`railwatch scene list {site}` gives them)"
    )


def _reviewed_unusable(db: Database, results: list[ProcessSummary]) -> dict[str, int]:
    """How many scenes of each site of the run an analyst declared unusable (skipped by
    it: ``pipeline.pending_jobs``); a site removed meanwhile has none."""
    from railwatch.storage import repo

    out: dict[str, int] = {}
    with db.session(readonly=True) as s:
        for r in results:
            if r.busy is not None:
                continue
            try:
                out[r.site] = len(repo.reviewed_unusable_ids(s, r.site))
            except NotFoundError:
                out[r.site] = 0
    return out


def _print_analyze_hints(results: list[ProcessSummary]) -> None:
    """For each site this run gave new results (counted or unusable scenes), the command
    that judges them: `process` stores counts and stores no alert, and until `railwatch
    analyze SITE` runs the stored alerts (and with them `alerts` and the report's
    headline) are those of the images before. Before 2026-12-05 (session 33) the
    run said nothing of it, and a report written next said "no usable image of this site
    since 2024-08-01" above a latest usable image of 2024-11-01."""
    for r in results:
        new = len(r.processed) + len(r.unusable)
        if not new:
            continue
        err_console.print(
            f"next: `railwatch analyze {escape(r.site)}` judges {new} new result"
            f"{plural_s(new)} of {escape(r.site)}: until then its stored alerts (those "
            "`railwatch alerts` lists and the report shows) are those judged before this run.",
            highlight=False,
            soft_wrap=True,
        )


def _say_eight_bit(db: Database, results: list[ProcessSummary]) -> None:
    """Name the scenes this run judged unusable whose 16-bit or float values are 8-bit
    ones (``eight_bit_values``, from ingest) read as linear radiance: most likely visual
    products, washed out by the stretch and read as snow or haze, which `--radiometry
    display` reads as they are. Each scene's reasons say it too (``pipeline.
    stretched_note``); until 2026-12-07 (session 47) the run said nothing of it."""
    from sqlalchemy import select

    from railwatch.imagery.read import radiometry_of
    from railwatch.storage.models import Scene

    for r in results:
        if not r.unusable:
            continue
        with db.session(readonly=True) as s:
            rows = s.execute(select(Scene.id, Scene.meta).where(Scene.id.in_(r.unusable))).all()
        ids = sorted(
            int(i)
            for i, meta in rows
            if isinstance(meta, dict)
            and meta.get("eight_bit_values")
            and radiometry_of(meta) == "linear"
        )
        if not ids:
            continue
        n = len(ids)
        one = n == 1
        what = (
            "holds 8-bit values in a 16-bit or float file: most likely a visual product, "
            "read as linear radiance (the default) it is"
            if one
            else "hold 8-bit values in 16-bit or float files: most likely visual products, "
            "read as linear radiance (the default) they are"
        )
        # the first ids only: a site of a visual product has hundreds (review, session 47)
        shown = some([str(i) for i in ids], _RECOUNTS_SHOWN)
        err_console.print(
            f"hint: {plural(n, 'unusable scene')} of {escape(r.site)} "
            f"({shown}) {what} washed out and taken for snow or haze; "
            f"ingest {'it' if one else 'them'} again with --radiometry display, then run "
            "process again (`railwatch scene show ID` gives the reasons).",
            highlight=False,
            soft_wrap=True,
        )


def tracks_found_in_image(db: Database, results: list[ProcessSummary]) -> dict[str, int]:
    """For each site of ``results``, how many of the scenes this run counted were counted
    along track lines found in the image itself (a 1.5-10 m image of a site without track
    centrelines: what :func:`railwatch.counting.count_scene` records as ``tracks``
    ``"found"``, kept in the scene's metadata, ``repo.COARSE_KEY``); sites with none are
    left out."""
    from sqlalchemy import select

    from railwatch.storage import repo
    from railwatch.storage.models import Scene

    found: dict[str, int] = {}
    for r in results:
        if not r.processed:
            continue
        with db.session(readonly=True) as s:
            metas = s.scalars(select(Scene.meta).where(Scene.id.in_(r.processed))).all()
        n = sum(
            1
            for meta in metas
            if isinstance(coarse := (meta or {}).get(repo.COARSE_KEY), dict)
            and coarse.get("tracks") == "found"
        )
        if n:
            found[r.site] = n
    return found


def _say_tracks_found(found: dict[str, int]) -> None:
    """Once per run, on stderr: which sites had images counted along track lines found in
    the image itself (``found``: :func:`tracks_found_in_image`), which are far less
    accurate than counts along the site's own centrelines, and how to give the site its
    centrelines. Until 2026-12-06 (session 36) the run said nothing of it (only `scene
    show` did, image by image)."""
    if not found:
        return
    n = sum(found.values())
    if len(found) == 1:
        (site,) = found
        which, has = f"site {escape(site)}", "the site has"
        command = f"railwatch site edit {escape(site)} --tracks FILE"
        then = f"railwatch process {escape(site)}"
    else:
        which = "sites " + ", ".join(f"{escape(name)} ({k})" for name, k in found.items())
        has, command = "these sites have", "railwatch site edit SITE --tracks FILE"
        then = "railwatch process SITE"
    from railwatch.report.style import length_range

    # (1.5-10 m: it said 1.5-5 m until 2026-12-06, session 40, also of 5-10 m images)
    err_console.print(
        f"note: {n} image{plural_s(n)} ({length_range()}) of {which} {'was' if n == 1 else 'were'} "
        f"counted along track lines found in the image itself: {has} no track "
        "centrelines, and such counts are far less accurate (on simulated 3 m scenes 25 % "
        "read within ±15 % of the truth, against 54 % along drawn "
        'centrelines: docs/detection.md, "Coarse imagery"). Draw the tracks as GeoJSON '
        f"LineStrings and give them to the site: `{command}`; the next `{then}` counts "
        "those images again along them.",
        highlight=False,
        soft_wrap=True,
    )


def centreline_checks(db: Database, results: list[ProcessSummary]) -> dict[str, SiteCheck]:
    """For each site of ``results`` (not held by another run) with track centrelines and
    a counted image of 1 m or finer: where its lines lie from the cars detected on its
    latest such images (:func:`railwatch.analysis.centrelines.check_site`; session 41)."""
    from railwatch.analysis.centrelines import check_site

    out: dict[str, SiteCheck] = {}
    for r in results:
        if r.busy is not None:
            continue
        with db.session(readonly=True) as s:
            try:
                got = check_site(s, r.site)
            except NotFoundError:  # removed meanwhile: said elsewhere
                continue
        if got is not None:
            out[r.site] = got
    return out


def _check_json(check: SiteCheck | None) -> dict[str, object] | None:
    """``--json``'s ``centrelines`` of one site
    (:func:`railwatch.analysis.centrelines.check_dict`)."""
    from railwatch.analysis.centrelines import check_dict

    return check_dict(check)


def _say_centrelines_off(checks: dict[str, SiteCheck]) -> None:
    """On stderr, per site: each centreline whose cars on the site's latest fine images
    stand more than :data:`railwatch.analysis.centrelines.OFF_M` from it (with at least
    :data:`~railwatch.analysis.centrelines.MIN_CARS` of them), and the lines that share most of
    their cars (one drawn a whole track spacing off, on the next track), with what to do
    (:func:`railwatch.analysis.centrelines.check_warnings`, which ``site edit --tracks``
    prints too since session 42). Nothing where no line looks off, or with no fine image
    (session 41)."""
    from railwatch.analysis.centrelines import check_warnings

    for got in checks.values():
        for text in check_warnings(got):
            err_console.print(f"warning: {escape(text)}", highlight=False, soft_wrap=True)


def _swappable_note(db: Database, site: str) -> str:
    """For a site without scenes that could have been drawn as lat,lon (every longitude
    within ±90, so that the exchange is a place too): where it lies, so that the analyst
    who ingested images that "do not overlap" it can see it is not where the yard is
    (ingest names the swap when an image would cover the exchanged site; process has no
    footprint to test). Empty otherwise."""
    from railwatch.sites import lat_lon_text
    from railwatch.storage import repo

    try:
        with db.session(readonly=True) as s:
            geometry = repo.get_site(s, site).geometry
    except NotFoundError:  # removed meanwhile: the note stands without it
        return ""
    minx, _, maxx, _ = geometry.bounds
    if minx < -90.0 or maxx > 90.0:
        return ""
    return (
        f" If ingest said its images do not overlap the site, check where the site is: "
        f"around {lat_lon_text(geometry)} (GeoJSON and --bbox give each position as "
        "lon,lat; a site given as lat,lon lies elsewhere)."
    )


def _in_process(
    db: Database, names: list[str], det: Detector, reprocess: bool, limit: float, quiet: bool
) -> list[ProcessSummary]:
    """Process the sites one after the other in this process. Of several sites, one that
    another run is processing is left out (its summary says why) and the others are
    processed: the run stopped there, and the sites after it were not processed (before
    2026-12-06, session 35); a site named alone is refused as before (BusyError)."""
    from railwatch.pipeline import ProcessSummary, process_site
    from railwatch.storage.db import BusyError

    results = []
    seen: dict[str, tuple[int, int]] = {}
    with progress_bar(transient=quiet) as bar:
        for name in names:
            task = bar.add_task(f"{escape(name)}", total=None)

            def report(
                done: int, total: int, _uri: str, task: TaskID = task, name: str = name
            ) -> None:
                bar.update(task, completed=done, total=total)
                seen[name] = (done, total)  # said if the run is interrupted (session 47)
                note_progress(_progress_words(names, seen))

            try:
                summary = process_site(
                    db,
                    name,
                    detector=det,
                    reprocess=reprocess,
                    usable_threshold=limit,
                    on_progress=report,
                )
            except BusyError as err:
                if len(names) == 1:
                    raise
                summary = ProcessSummary(name, det.name, det.version, busy=str(err))
                bar.update(task, description=f"{escape(name)} (held by another run)")
            results.append(summary)
    return results


def _progress_words(names: list[str], seen: dict[str, tuple[int, int]]) -> str:
    """How far a run of the sites ``names`` got, for the line an interrupt prints
    (``cli.main.note_progress``): "3 of 10 scenes of site yard done", one such part per
    site begun (``seen``: scenes recorded and to do, by site; ``""``: of all the sites
    together, as a run on Dask counts them), and how many sites were not begun."""
    parts = []
    for name, (done, total) in seen.items():
        of = f" of site {name}" if name else ""
        parts.append(f"{done} of {plural(total, 'scene')}{of} done")
    if "" not in seen and len(seen) < len(names) and len(names) > 1:
        parts.append(f"{plural(len(names) - len(seen), 'site')} not begun")
    return ", ".join(parts)


#: How many scenes counted again (``ProcessSummary.recounted``) are listed with why;
#: one changed reference of a large 3 m site can be read by hundreds.
_RECOUNTS_SHOWN = 10


def _print_results(
    results: list[ProcessSummary],
    det: Detector,
    as_json: bool,
    declared: dict[str, int],
    found: dict[str, int],
    again: dict[str, list[tuple[int, str, str]]],
    checks: dict[str, SiteCheck] | None = None,
) -> None:
    """The run's summary; ``declared``: how many scenes of each site were skipped as
    unusable by an analyst's review (:func:`_reviewed_unusable`); ``found``: how many of
    the scenes each site had counted were counted along track lines found in the image
    (:func:`tracks_found_in_image`; ``--json``'s ``tracks_found_in_image``, which only
    the note on stderr gave until session 36's review). A failed scene that cannot be
    read without its site's track centrelines is said to be so (``--json``:
    ``needs_tracks``; session 40)."""
    from railwatch.counting import name_site, needs_tracks

    if as_json:
        print_json(
            [
                {
                    "site": r.site,
                    "detector": f"{r.detector} {r.version}",
                    "processed": len(r.processed),
                    "unusable": len(r.unusable),
                    "failed": [
                        {"scene_id": i, "reason": m, "needs_tracks": needs_tracks(m)}
                        for i, m in r.failed
                    ],
                    "recounted": [{"scene_id": i, "reason": m} for i, m in r.recounted],
                    # scenes processed before with another detector or version (s41)
                    "processed_again": [
                        {"scene_id": i, "before": b, "now": a} for i, b, a in again.get(r.site, [])
                    ],
                    "retried": [{"scene_id": i, "reason": m} for i, m in r.retried],
                    "up_to_date": r.skipped,
                    "reviewed_unusable": declared.get(r.site, 0),
                    "tracks_found_in_image": found.get(r.site, 0),
                    "registered": len(r.registered),
                    "not_registered": r.not_registered,
                    # counted car by car with intervals on an assumed spread of recall
                    # (the detector's calibration; session 51)
                    "interval_spread_assumed": [
                        {"scene_id": i, "gsd": g} for i, g in r.spread_assumed
                    ],
                    "busy": r.busy,
                    # session 41: where the site's centrelines lie from its cars on
                    # its latest fine images (null: no centrelines or no such image)
                    "centrelines": _check_json((checks or {}).get(r.site)),
                }
                for r in results
            ]
        )
        return
    table = Table(title=f"Processed with {det.name} {det.version}")
    # scenes that cannot be read without the site's centrelines have a column of their
    # own, where there are any: their files are not at fault (session 40)
    untracked = _need_tracks(results)
    cols = ("site", "counted", "unusable", "failed", "up to date")
    for col in (*cols, "no centrelines") if untracked else cols:
        table.add_column(col, justify="left" if col == "site" else "right")
    for r in results:
        if r.busy is not None:  # said below the table, with who holds it
            table.add_row(r.site, *["-"] * (len(table.columns) - 1))
            continue
        n = untracked.get(r.site, 0)
        table.add_row(
            r.site,
            str(len(r.processed)),
            str(len(r.unusable)),
            str(len(r.failed) - n),
            str(r.skipped),
            *([str(n)] if untracked else []),
        )
    print_table(table)
    for r in results:
        if again.get(r.site):
            console.print(escape(_again_line(r.site, again[r.site])), highlight=False)
        for scene_id, reason in r.recounted[:_RECOUNTS_SHOWN]:
            console.print(f"[cyan]scene {scene_id} counted again:[/] {escape(reason)}")
        if len(r.recounted) > _RECOUNTS_SHOWN:
            console.print(
                f"... and {len(r.recounted) - _RECOUNTS_SHOWN} more scenes of "
                f"{escape(r.site)} counted again for a reference that changed (--json "
                "lists them all)",
                highlight=False,
            )
        for scene_id, reason in r.retried[:_RECOUNTS_SHOWN]:
            console.print(f"[cyan]scene {scene_id} run again:[/] {escape(reason)}")
        if len(r.retried) > _RECOUNTS_SHOWN:
            console.print(
                f"... and {len(r.retried) - _RECOUNTS_SHOWN} more scenes of {escape(r.site)} "
                "run again after their Dask worker died (--json lists them all)",
                highlight=False,
            )
        for scene_id, reason in r.failed:
            if needs_tracks(reason):  # not broken: it cannot be read without them
                console.print(
                    f"[yellow]scene {scene_id} not counted, the site has no track "
                    f"centrelines:[/] {escape(name_site(reason, r.site))}"
                )
            else:
                said = escape(name_site(reason, r.site))
                console.print(f"[yellow]scene {scene_id} failed:[/] {said}")
        n = declared.get(r.site, 0)
        if n:
            console.print(
                f"{escape(r.site)}: {n} scene{plural_s(n)} skipped as unusable by analyst "
                f"review (`railwatch scene list {escape(r.site)} --status unusable`; "
                "`railwatch scene review ID --remove` has one processed again)",
                highlight=False,
            )
        if r.registered or r.not_registered:
            console.print(escape(_registration_line(r)))


def spread_assumed_words(n: int, gsds: list[float], site: str = "SITE") -> str:
    """What ``n`` images of ``site`` counted car by car at the resolutions ``gsds``
    (metres) whose 90 % intervals rest on an assumed scene-to-scene spread of recall
    have to say (``Calibration.spread_assumed_at``): the words `railwatch detect` gives
    an image, for a run's scenes."""
    low, high = (min(gsds), max(gsds)) if gsds else (None, None)
    at = (
        ""
        if low is None or high is None
        else f" at {low:g} m"
        if low == high
        else f" at {low:g}-{high:g} m"
    )
    them = "its" if n == 1 else "their"
    return (
        f"{n} scene{plural_s(n)} counted car by car{at}: {them} 90 % interval rests on an "
        "assumed scene-to-scene spread of recall (the detector's calibration had fewer "
        "than 2 labelled images of 5 or more cars at that resolution), not a measured "
        "one; calibrate the weights on more labelled images there (`railwatch calibrate "
        f"WEIGHTS --labels DIR`) and process them again (`railwatch process {site} "
        "--reprocess`)"
    )


def _say_spread_assumed(results: list[ProcessSummary]) -> None:
    """On stderr, once per site: how many of the scenes the run counted car by car have
    90 % intervals that rest on an assumed spread of recall
    (``ProcessSummary.spread_assumed``; ``--json``: ``interval_spread_assumed``). Since
    2026-12-07 (session 51): only `railwatch detect` said so, of one image."""
    for r in results:
        if r.spread_assumed:
            gsds = [g for _, g in r.spread_assumed if g is not None]
            words = spread_assumed_words(len(r.spread_assumed), gsds, r.site)
            err_console.print(
                f"note: {escape(r.site)}: {escape(words)}",
                highlight=False,
                soft_wrap=True,
            )


def _registration_line(r: ProcessSummary) -> str:
    """How the run's coarse scenes were registered to the site's other images."""
    parts = []
    if r.registered:
        shift = statistics.median(r.registered)
        parts.append(
            f"{len(r.registered)} registered to the site's other images (track lines moved "
            f"{shift:.1f} m in the median)"
        )
    if r.not_registered:
        why = Counter(r.not_registered).most_common(1)[0][0]
        parts.append(f"{len(r.not_registered)} counted along the track lines as given (e.g. {why})")
    return f"{r.site}: coarse scenes: " + "; ".join(parts) + "."


def register(app: typer.Typer) -> None:
    app.command("process", rich_help_panel="Pipeline")(process)
