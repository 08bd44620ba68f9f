"""``railwatch simulate``: render simulated scenes (one, a scenario, or previews)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import date as date_type
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import typer
from rich.markup import escape

from railwatch.cli._common import console, err_console, plural_s, print_json, progress_bar
from railwatch.errors import ConfigError, InputError
from railwatch.limits import check_year

if TYPE_CHECKING:
    from railwatch.sim.params import SceneParams

#: Sides ``SceneParams`` accepts, in pixels.
SIZE_RANGE = (8, 20_000)
#: The most railcars ``--cars`` asks for: far more than any simulated yard holds (they
#: are drawn before they are placed, so a billion took hours and gigabytes).
MAX_CARS = 100_000
#: Memory a render takes: about 60 bytes a pixel at its peak with cloud, haze and snow
#: (measured on 4000x4000 px: 1.1 GB), plus the program itself.
RENDER_BYTES_PER_PIXEL = 64
RENDER_BASE_BYTES = 250 * 2**20


def _size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as err:
        raise InputError(f"--size {text!r} is not WIDTHxHEIGHT in pixels (e.g. 1024x768).") from err
    lo, hi = SIZE_RANGE
    if not (lo <= w <= hi and lo <= h <= hi):
        raise InputError(
            f"--size {text}: each side must be {lo} to {hi:,} pixels (e.g. 1200x1200, "
            "600 m a side at 0.5 m)."
        )
    return w, h


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (Linux ``MemAvailable``, else
    the free physical pages), or None where the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import os

    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _check_memory(wh: tuple[int, int], gsd: float, size_given: bool) -> None:
    """Refuse a scene whose render would not fit in the memory available (it was killed
    by the system, or made it swap for minutes, after rendering had begun)."""
    w, h = wh
    need = RENDER_BASE_BYTES + RENDER_BYTES_PER_PIXEL * w * h
    have = available_memory()
    if have is None or need <= have:
        return
    gb = 2.0**30
    what = (
        f"--size {w}x{h}"
        if size_given
        else f"--gsd {gsd:g} makes the default scene (600 m a side) {w}x{h} px, which"
    )
    raise InputError(
        f"{what} needs about {need / gb:.1f} GB of memory to render ({w * h / 1e6:,.0f} "
        f"million pixels) and {have / gb:.1f} GB is available: give a smaller --size, or "
        "a coarser --gsd for the same ground."
    )


def _dated(
    params: SceneParams, when: datetime | date_type, season: str | None, *, given: str | None
) -> SceneParams:
    """``params`` acquired at ``when`` with that time's sun and season
    (:meth:`SceneParams.at`, session 44; until then a January ``--date`` was drawn as
    summer under a 45-degree sun, as its STAC item said, and with ``--random`` under the
    seed's draw; ``season`` given still wins). A day alone is noon in the nominal zone of
    the scene's centre, or the day's highest sun where noon's is under 2 degrees; a day
    without daylight is refused for a ``--date`` ``given`` and, for a date only implied
    (``--center`` alone), drawn under the scene's own sun with a note."""
    from railwatch.sim.params import MIN_SUN_ELEVATION

    day_alone = not isinstance(when, datetime)
    if not isinstance(when, datetime):
        # a day alone (session 32): it was midnight UTC, the day before at a place west
        # of Greenwich, as ingest's was before 14e1dde
        from railwatch.imagery.dates import local_noon
        from railwatch.sites import nominal_utc_offset

        when = local_noon(when, nominal_utc_offset(params.center_lonlat[0]))
    try:
        return params.at(when, season=season)
    except ConfigError as err:
        problem = str(err)
    lon, lat = params.center_lonlat
    if day_alone:
        from railwatch.sim.sun import solar_position

        # the day's highest sun, every 10 minutes over the 24 hours about noon there
        times = [when + timedelta(minutes=10 * k) for k in range(-72, 73)]
        best = max(times, key=lambda t: solar_position(t.astimezone(UTC), lon, lat)[0])
        if solar_position(best.astimezone(UTC), lon, lat)[0] >= MIN_SUN_ELEVATION:
            err_console.print(
                f"note: at noon there the sun is under {MIN_SUN_ELEVATION:g} degrees: drawn "
                f"at {best.astimezone(UTC):%H:%M}Z instead, the day's highest sun.",
                highlight=False,
            )
            return params.at(best, season=season)
    if given is None:
        err_console.print(
            f"note: the sun does not rise {MIN_SUN_ELEVATION:g} degrees above the horizon at "
            f"{lon:g},{lat:g} on {when.date()} (the scene's own day): drawn under the scene's "
            f"own sun ({params.sun_elevation:g} degrees) as before; give --date DAY for a day "
            "with daylight there.",
            highlight=False,
            soft_wrap=True,
        )
        return params
    if day_alone:
        raise InputError(
            f"--date {given}: the sun does not rise {MIN_SUN_ELEVATION:g} degrees above the "
            f"horizon at {lon:g},{lat:g} that day (polar night): optical satellites image "
            "in daylight. Choose a date when it does."
        )
    raise InputError(f"--date {given}: {problem}")


def _center(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError as err:
        raise InputError(
            f"--center {text!r} is not LON,LAT in degrees (e.g. 130.6081,42.4214)."
        ) from err
    if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 84.0):
        raise InputError(
            f"--center {text!r} is outside longitude -180..180, latitude -80..84 (the UTM "
            "zones the simulator renders in); the order is LON,LAT"
        )
    return lon, lat


def _track_length_m(params: SceneParams) -> float:
    """Metres of the simulated yard's straight track stretches where cars can stand
    inside the scene: the stretches the simulator fills (``sim.cars.place_cars``: clipped
    to the scene less an 8 m margin, those over 20 m kept)."""
    from shapely.geometry import LineString, box

    from railwatch.sim.scene import scene_yard

    w, h = params.car_extent_m or (params.size_px[0] * params.gsd, params.size_px[1] * params.gsd)
    inside = box(-w / 2 + 8.0, -h / 2 + 8.0, w / 2 - 8.0, h / 2 - 8.0)
    total = 0.0
    for track in scene_yard(params).tracks:
        for start, direction, length in track.slots:
            part = LineString([start, start + direction * length]).intersection(inside).length
            total += part if part > 20.0 else 0.0
    return total


def _fewer_cars_warning(asked: int, placed: int, params: SceneParams, size_given: bool) -> str:
    """Why fewer cars than ``--cars`` asked for are in the scene (the simulator puts
    only cars that fit on the yard's tracks inside it, so that the truth matches what is
    drawn), and what gives room for more."""
    w_px, h_px = params.size_px
    w_m, h_m = w_px * params.gsd, h_px * params.gsd
    return (
        f"--cars {asked}: only {placed} railcar{plural_s(placed)} "
        f"fit{'s' if placed == 1 else ''} in this scene; the simulated yard's "
        f"tracks inside {w_m:,.0f} x {h_m:,.0f} m ({w_px}x{h_px} px at {params.gsd:g} m) "
        f"are about {_track_length_m(params):,.0f} m long, and a railcar takes 14-18 m of "
        "them. "
        + (
            "A larger --size (or a coarser --gsd) makes a larger yard."
            if size_given
            else "A larger --size (the default is about 600 m a side) makes a larger yard."
        )
    )


#: Options that shape one ``--scene`` (a scenario has its own), by parameter name.
_SCENE_OPTIONS = {
    "gsd": "--gsd",
    "cars": "--cars",
    "seed": "--seed",
    "layout_seed": "--layout-seed",
    "style": "--style",
    "paint": "--paint",
    "season": "--season",
    "snow": "--snow",
    "cloud": "--cloud",
    "haze": "--haze",
    "size": "--size",
    "name": "--name",
    "randomize": "--random/--plain",
    "date": "--date",
    "center": "--center",
}


def _check_scene_options(
    gsd: float, style: str | None, paint: str | None, season: str | None
) -> None:
    """Refuse a --gsd the simulator cannot render and an unknown --style, --paint or
    --season as the bad option values they are (status 2, the option named): they were
    the simulator's settings errors, status 1, "gsd 50.0 m is out of range" (2026-12-07,
    session 46)."""
    from railwatch.sim.params import GSD_RANGE, PAINTS, SEASONS, STYLES

    lo, hi = GSD_RANGE
    if not lo <= gsd <= hi:
        cm = f" (metres: {gsd:g} cm is --gsd {gsd / 100:g})" if hi < gsd <= 100 * hi else ""
        raise InputError(
            f"--gsd {gsd:g}: the simulator renders {lo:g} to {hi:g} m per pixel{cm}, e.g. --gsd 0.5"
        )
    for option, value, known in (
        ("--style", style, sorted(STYLES)),
        ("--paint", paint, sorted(PAINTS)),
        ("--season", season, list(SEASONS)),
    ):
        if value is not None and value not in known:
            raise InputError(f"{option} {value!r} is unknown: use one of {', '.join(known)}")


def _given(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def _interrupted(err: KeyboardInterrupt, what: str) -> SystemExit:
    """Say what an interrupt (Ctrl-C, or SIGTERM) left behind, and end with 130 (143).

    ``railwatch``'s own line for an interrupt says "the database keeps every scene
    recorded so far", which is wrong here (simulate has no database), and it prints that
    line for any command that returns 130; a ``SystemExit`` is the one way out that
    leaves it unsaid."""
    from railwatch.cli.main import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated

    terminated = isinstance(err, Terminated)
    err_console.print(
        f"{'Terminated' if terminated else 'Interrupted'}; {what}",
        highlight=False,
        soft_wrap=True,
    )
    return SystemExit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)


class _Shown(Protocol):
    def update(self, status: str) -> None: ...


class _Unseen:
    """The status line where none is shown (stderr not a terminal)."""

    def update(self, status: str) -> None:
        del status


def _stderr_on_terminal() -> bool:
    """Whether stderr is a terminal that shows a spinner: a terminal itself (FORCE_COLOR,
    which CI runners set for coloured logs, makes rich's ``is_terminal`` true for a log
    file too, and the spinner's frames went into the log until session 35), and not a
    dumb one (TERM=dumb)."""
    return err_console._is_tty() and not err_console.is_dumb_terminal


@contextmanager
def _status(text: str) -> Iterator[_Shown]:
    """A rich spinner with ``text`` on stderr while a scene renders (a 4000x4000 px scene
    takes about 13 s, 20000x20000 minutes, and nothing was said meanwhile); shown only
    when stderr is a terminal, as :func:`railwatch.cli._common.progress_bar` is, so a
    log holds no spinner frames."""
    if not _stderr_on_terminal():
        yield _Unseen()
        return
    with err_console.status(text) as shown:
        yield shown


def simulate(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write into.")],
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", help="Render a built-in scenario over time (e.g. tumangang)."),
    ] = None,
    scene: Annotated[
        bool, typer.Option("--scene", help="Render one scene from a seed and options.")
    ] = False,
    gsd: Annotated[float, typer.Option(help="Ground sample distance, metres per pixel.")] = 0.5,
    cars: Annotated[
        int,
        typer.Option(
            min=0,
            help="Number of railcars (class mix drawn from seed); fewer when the yard's "
            "tracks in the scene hold fewer (a warning says so).",
        ),
    ] = 40,
    seed: Annotated[
        int, typer.Option(min=0, help="Random seed (0 or more): same seed, same scene.")
    ] = 0,
    layout_seed: Annotated[
        int | None,
        typer.Option(
            "--layout-seed",
            min=0,
            help="Seed of the yard itself (its tracks and buildings; default --seed): images "
            "with the same --layout-seed show the same yard, as one site seen on several days.",
        ),
    ] = None,
    style: Annotated[
        str | None,
        typer.Option(
            help="Landscape style family (temperate, continental, arid, winter, "
            "industrial-dark); default temperate, or drawn from the seed with --random."
        ),
    ] = None,
    paint: Annotated[
        str | None,
        typer.Option(
            help="Rolling-stock palette (rzd, euro, faded); default rzd, or drawn with --random."
        ),
    ] = None,
    season: Annotated[str | None, typer.Option(help="spring, summer, autumn or winter.")] = None,
    snow: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Ground snow cover 0..1.")
    ] = None,
    cloud: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Cloud cover fraction 0..1.")
    ] = None,
    haze: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Haze strength 0..1.")
    ] = None,
    size: Annotated[
        str | None, typer.Option(help="Image size WIDTHxHEIGHT in pixels (default ~600 m a side).")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Base name of the files (default sim_SEED).")
    ] = None,
    randomize: Annotated[
        bool,
        typer.Option(
            "--random/--plain", help="Draw conditions from the seed, or a clear plain scene."
        ),
    ] = False,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Acquisition time (ISO 8601, UTC unless a zone is given; a date alone is "
            "noon that day at the scene's centre, as ingest --date dates a day): written to "
            "the STAC sidecar, so that scenes ingest as a series, and the sun's elevation "
            "and azimuth and the season (unless --season) are those of that time at the "
            "centre. Default 2024-06-17T02:00Z with a 45-degree sun and summer, or with "
            "--center that day at noon there.",
        ),
    ] = None,
    center: Annotated[
        str | None,
        typer.Option(
            "--center",
            metavar="LON,LAT",
            help="Centre of the scene in degrees (default the Tumangang yard, "
            "130.6081,42.4214), to render imagery over a site of your own.",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Parallel processes for --scenario (at most one per CPU is used)."
        ),
    ] = 1,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print what was written as JSON.")
    ] = False,
) -> None:
    """Render simulated overhead imagery of rail yards with exact ground truth.

    [bold]railwatch simulate --scene --gsd 0.5 --cars 40 --seed 7 --out DIR[/] writes
    NAME.tif (RGB COG), NAME.mask.tif (quality codes), NAME.json (STAC Item),
    NAME.truth.geojson (one polygon per railcar), NAME.tracks.geojson (the track
    centrelines in lon/lat, for --tracks) and NAME.preview.png.
    [bold]--center LON,LAT --date YYYY-MM-DD[/] place and date it, e.g. over your own site.

    [bold]railwatch simulate --scenario tumangang --out DIR[/] renders every date of the
    built-in Tumangang scenario (cached: scenes already rendered are kept).
    """
    if (scenario is None) == (not scene):
        raise InputError("give exactly one of --scene or --scenario NAME.")
    if str(out) == "-":
        # '-' is standard output elsewhere (`export -f csv -o -`, `detect -o -`); here it
        # made a folder named '-' (until session 35)
        raise InputError(
            "--out - (standard output) is not for simulate: it writes a folder of files (an "
            "image, its mask, STAC item, truth and preview); give --out a folder, e.g. "
            "--out sim/ (a folder really named '-': give its full path)"
        )
    from railwatch.sim.io import prepare_out_dir

    if scenario is not None:
        scene_only = [flag for key, flag in _SCENE_OPTIONS.items() if _given(ctx, key)]
        if scene_only:
            raise InputError(
                f"{', '.join(scene_only)}: {'it sets' if len(scene_only) == 1 else 'they set'}"
                " one --scene; a scenario has its own dates, place and conditions (leave "
                f"{'it' if len(scene_only) == 1 else 'them'} out)."
            )
        from railwatch.sim.scenario import get_scenario, render_scenario

        sc = get_scenario(scenario)
        prepare_out_dir(out)  # a file, a read-only folder: said before rendering
        try:
            with progress_bar() as bar:
                task = bar.add_task(f"rendering {sc.name}", total=len(sc.visits))

                def advance(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                all_paths = render_scenario(sc, out, progress=advance, workers=workers)
        except KeyboardInterrupt as err:
            raise _interrupted(
                err,
                f"the scenes rendered so far are kept in {out}: run the same command again "
                "to render the rest (scenes already there are not rendered again).",
            ) from None
        unusable = sum(1 for v in sc.visits if not v.usable_expected)
        if as_json:
            print_json(
                {
                    "scenario": sc.name,
                    "out": str(out),
                    "scenes": len(all_paths),
                    "expected_unusable": unusable,
                    "files": [str(p.image) for p in all_paths],
                }
            )
            return
        first, last = sc.visits[0].when.date(), sc.visits[-1].when.date()
        console.print(
            f"wrote {len(all_paths)} scene{plural_s(len(all_paths))} of [bold]{sc.name}[/] "
            f"({first} to {last}, "
            f"{unusable} expected unusable) to {escape(str(out))}"
        )
        console.print(f"manifest: {escape(str(Path(out) / (sc.name + '.scenario.json')))}")
        return

    from railwatch.sim.io import check_scene_name, scene_paths, write_scene
    from railwatch.sim.params import SceneParams, check_gsd, random_params
    from railwatch.sim.scene import render_scene

    if name is not None:
        check_scene_name(name)  # before rendering
    from railwatch.cli._common import parse_acquisition_option

    # a date alone is that day at the scene's place, as ingest --date DAY (14e1dde): noon
    # in the nominal zone of its centre, below once the centre is known
    when = parse_acquisition_option(date)
    if when is not None:
        check_year(when, "--date")  # as ingest --date and event add
    lonlat = _center(center)
    if _given(ctx, "workers"):
        raise InputError("--workers: it renders a --scenario in parallel; one --scene is one.")
    _check_scene_options(gsd, style, paint, season)
    side = round(600 / check_gsd(gsd))
    wh = _size(size) or (side, side)
    if cars > MAX_CARS:
        raise InputError(
            f"--cars {cars:,} is more than any simulated yard holds: use at most "
            f"{MAX_CARS:,} (cars that do not fit on the tracks are left out, and a warning "
            "says how many fit)."
        )
    _check_memory(wh, gsd, size is not None)
    prepare_out_dir(out)  # a file, a read-only folder: said before rendering
    if randomize:
        params = random_params(
            seed,
            gsd=gsd,
            styles=[style] if style else None,
            paints=[paint] if paint else None,
            size_px=wh,
        )
        params = params.with_(n_cars=cars, center_lonlat=(130.6081, 42.4214))
    else:
        params = SceneParams(seed=seed, gsd=gsd, size_px=wh, n_cars=cars)
        if style:
            params = params.with_(style=style)
        if paint:
            params = params.with_(paint=paint)
    changes: dict[str, object] = {}
    if season is not None:
        changes["season"] = season
    if snow is not None:
        changes["snow"] = snow
    if cloud is not None:
        changes["cloud_cover"] = cloud
    if haze is not None:
        changes["haze"] = haze
    if lonlat is not None:
        changes["center_lonlat"] = lonlat
    if layout_seed is not None:
        changes["layout_seed"] = layout_seed
    if changes:
        params = params.with_(**changes)
    implied = when is None and lonlat is not None
    if implied:
        # a place of one's own and no date (session 44): the scene's own day (the default
        # 2024-06-17, or the seed's with --random) at noon there, with its sun; it was
        # 02:00Z under a 45-degree sun, night west of about 60 degrees east
        when = params.acquired.date()
    if when is not None:
        params = _dated(params, when, season, given=None if implied else date)
        if randomize and snow is None and params.season != "winter":
            params = params.with_(snow=0.0)  # the seed drew snow for its own winter
    scene_name = name or f"sim_{seed}"
    # a scene of that name already there is replaced (files can be rendered again), and
    # said so: before, its files were overwritten without a word
    there = [p for p in scene_paths(out, scene_name).all() if p.exists()]
    try:
        with _status(f"rendering scene {escape(scene_name)} ({wh[0]}x{wh[1]} px)...") as shown:
            rendered = render_scene(params)
            shown.update(f"writing scene {escape(scene_name)} to {escape(str(out))}...")
            paths = write_scene(rendered, out, scene_name)
    except KeyboardInterrupt as err:
        raise _interrupted(
            err,
            f"scene {name or f'sim_{seed}'} was not completed in {out}: run the same command "
            "again to write it whole.",
        ) from None
    if there:
        err_console.print(
            f"note: replaced scene {escape(scene_name)} already in {escape(str(out))} "
            f"({len(there)} of its files were there: {escape(', '.join(p.name for p in there))})",
            highlight=False,
            soft_wrap=True,
        )
    counts = rendered.truth_counts()
    if len(rendered.truth) < params.n_cars and params.class_counts() is None:
        why = _fewer_cars_warning(cars, len(rendered.truth), params, size is not None)
        err_console.print(
            f"[bold yellow]warning:[/] {why}",
            highlight=False,
            soft_wrap=True,
        )
    if as_json:
        print_json(
            {
                "files": {k: str(v) for k, v in vars(paths).items() if isinstance(v, Path)},
                "cars": len(rendered.truth),
                "cars_requested": cars,
                "by_class": counts,
                "crs": rendered.crs,
                "gsd": params.gsd,
                "size": [rendered.width, rendered.height],
            }
        )
        return
    console.print(
        f"scene {escape(paths.name)}: {rendered.width}x{rendered.height} px at {params.gsd} m, "
        f"{rendered.crs}, {len(rendered.truth)} railcar{plural_s(len(rendered.truth))} "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
    for path in paths.all():
        console.print(f"  {escape(str(path))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("simulate", no_args_is_help=True)(simulate)
