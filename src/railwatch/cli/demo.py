"""``railwatch demo``: the whole pipeline on the built-in Tumangang scenario."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table

from railwatch.cli._common import (
    console,
    err_console,
    plural_s,
    print_json,
    print_table,
    progress_bar,
    state,
)
from railwatch.cli.serve import web_install_command
from railwatch.errors import InputError

if TYPE_CHECKING:
    from railwatch.demo import DemoResult

#: The demo table's words for the method of each alert's series.
METHOD_SHORT = {"objects": "cars one by one", "length": "track length (1.5–10 m)"}

#: How the summary says how many images were counted each way (method: words after N).
#: Until 2026-12-06 (session 40) it gave the methods' names, "26 by length, 145 by
#: objects", which read as 26 railcars measured by length.
METHOD_COUNTED = {
    "objects": "counted car by car",
    "length": "from occupied track length at 1.5–10 m",
}


def method_counts(methods: dict[str, int]) -> str:
    """The images of the count series by how they were counted, most first: "145 images
    counted car by car, 26 from occupied track length at 1.5–10 m"."""
    ranked = sorted(methods.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(
        f"{n}{f' image{plural_s(n)}' if i == 0 else ''} "
        f"{METHOD_COUNTED.get(m, f'counted by method {m}')}"
        for i, (m, n) in enumerate(ranked)
    )


_STAGES = {
    "render": "Rendering scenario imagery",
    "ingest": "Ingesting scenes",
    "detect": "Detecting and counting",
    "report": "Writing the report",
}


def _program() -> str:
    """How the user ran ``railwatch``: ``railwatch`` when that is the one on PATH, else
    the path they typed (``.venv/bin/railwatch`` after ``make demo``)."""
    import os
    import shutil
    import sys

    typed = sys.argv[0] if sys.argv else ""
    if Path(typed).name != "railwatch":
        return "railwatch"
    on_path = shutil.which("railwatch")
    if on_path is not None and Path(on_path).resolve() == Path(typed).resolve():
        return "railwatch"
    shown = os.path.relpath(typed) if Path(typed).is_absolute() else typed
    return typed if shown.startswith("..") else shown


def dashboard_command(db_url: str) -> list[str]:
    """How to look at the demo's database on the dashboard: the command, and the install
    of the web extra it needs first when that is missing."""
    lines = [f"{_program()} --db {db_url} serve, then open http://127.0.0.1:8000/"]
    install = web_install_command()
    if install is not None:
        lines.append(f"(first install the web extra: {install})")
    return lines


def demo(
    ctx: typer.Context,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder for the demo database and report (created when missing).",
        ),
    ] = Path("railwatch-demo"),
    scenario: Annotated[str, typer.Option(help="Built-in scenario.")] = "tumangang",
    workers: Annotated[
        int, typer.Option(min=1, help="Processes used to render the imagery (first run).")
    ] = 2,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the summary as JSON: scenes, counts, every alert of the site total, "
            "and where the report and the database are.",
        ),
    ] = False,
) -> None:
    """Run the whole job offline on a simulated site: render imagery (cached after the
    first run), create the site and its events, ingest, detect, count, analyse and write
    the report; then print a summary.

    With --json, standard output holds one JSON document, the summary (the alerts all
    of them, info included, each with its whole explanation); progress and notes go to
    standard error."""
    from railwatch.demo import earlier_run, run_demo
    from railwatch.sim.scenario import get_scenario

    if str(out) == "-":
        # '-' is standard output elsewhere (`export -f csv -o -`, `detect -o -`); here it
        # made a folder named '-' (until session 35)
        raise InputError(
            "--out - (standard output) is not for demo: it writes a folder (the demo's "
            "database and report); give --out a folder, e.g. --out railwatch-demo (a "
            "folder really named '-': give its full path)"
        )
    settings = state(ctx).settings()
    get_scenario(scenario)  # an unknown name: one line, before anything else
    folder = out.resolve()
    earlier = earlier_run(folder, scenario=scenario)
    if earlier is None:
        err_console.print(
            f"railwatch demo: starting in {escape(str(folder))} (the scenario's images are "
            f"rendered once, then cached in {escape(str(settings.cache_dir))}).",
            highlight=False,
            soft_wrap=True,
        )
    else:
        err_console.print(
            f"railwatch demo: continuing the earlier run in {escape(str(folder))} "
            f"({earlier.counted} of {earlier.scenes} scene{plural_s(earlier.scenes)} already "
            "processed): only what is missing is rendered, ingested and processed (the "
            "analysis and the report are made again); delete the folder, or give another "
            "--out, to start afresh.",
            highlight=False,
            soft_wrap=True,
        )
    try:
        with progress_bar(transient=as_json) as bar:
            tasks: dict[str, TaskID] = {}

            def on_stage(name: str, done: int, total: int) -> None:
                # "report: drawing the chart": one bar for the report, named by its step
                stage, _, step = name.partition(": ")
                said = escape(_STAGES.get(stage, stage) + (f": {step}" if step else ""))
                if stage not in tasks:
                    tasks[stage] = bar.add_task(said, total=total or None)
                bar.update(tasks[stage], description=said, completed=done, total=total or None)

            result = run_demo(
                out, scenario=scenario, settings=settings, workers=workers, on_stage=on_stage
            )
    except KeyboardInterrupt as err:
        from railwatch.cli.main import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated

        terminated = isinstance(err, Terminated)
        err_console.print(
            f"{'Terminated' if terminated else 'Interrupted'}; the images rendered so far "
            f"stay cached and the database in {escape(str(folder))} keeps every scene "
            "recorded so far: run the same command again to continue from there.",
            highlight=False,
            soft_wrap=True,
        )
        # Not typer.Exit(130): railwatch would add its own, shorter line for it.
        raise SystemExit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED) from None

    if as_json:
        print_json(demo_dict(result))
        return
    console.print(f"\n[bold]railwatch demo[/]: site [bold]{escape(result.site)}[/]")
    causes = ", ".join(
        f"{n} {cause}"
        for cause, n in sorted(result.unusable_causes.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    console.print(
        f"  scenes: {result.scenes} ingested, {result.counted} counted, "
        f"{result.unusable} unusable{f' ({causes})' if causes else ''}, "
        f"{result.failed} failed",
        highlight=False,
        soft_wrap=True,
    )
    if result.count_max is not None:
        methods = method_counts(result.methods)
        console.print(
            f"  count series: {result.count_min:g} to {result.count_max:g} railcars "
            f"(maximum on {result.count_max_date}; {methods})",
            highlight=False,
        )
    for missing in result.missing:
        console.print(f"  [yellow]not run:[/] {escape(missing)}")
    shown = [a for a in result.alerts if a.severity != "info"]
    if shown:
        table = Table(title="Alerts (severity low and above)", expand=not console.unbounded)
        table.add_column("date", no_wrap=True)
        table.add_column("kind")
        table.add_column("severity")
        # The series counted one car at a time and the one from occupied track length
        # (coarse images) are judged apart, each against its own record: say which.
        by_method = len({a.method for a in shown}) > 1
        if by_method:
            table.add_column("counted from")
        table.add_column("explanation", ratio=1, overflow="fold")
        for a in shown:
            first = escape(a.text.split(". ")[0].rstrip(".") + ".")
            method = [METHOD_SHORT.get(a.method, a.method)] if by_method else []
            table.add_row(a.when, a.kind, a.severity, *method, first)
        print_table(table)
    n_info = len(result.alerts) - len(shown)
    if n_info:
        console.print(f"  and {n_info} informational alerts (see the report)", highlight=False)
    for line in as_of_lines(result):
        console.print(escape(line), highlight=False, soft_wrap=True)
    if result.report is not None:
        console.print(
            f"  report: {escape(str(result.report))}   (open it in a web browser)",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"  database: {escape(result.db_url)}", highlight=False)
    times = ", ".join(f"{k} {v:.0f} s" for k, v in result.timings.items())
    console.print(f"  time: {times}", highlight=False)
    for i, line in enumerate(dashboard_command(result.db_url)):
        label = "  dashboard: " if i == 0 else " " * len("  dashboard: ")
        console.print(f"{label}{escape(line)}", highlight=False, soft_wrap=True)


def as_of_lines(result: DemoResult) -> list[str]:
    """What the summary says of the day its alerts are judged as of: the last image's,
    and the alerts `railwatch analyze SITE` (as of today) adds to them, a silence since
    that image (since 2026-12-06, session 41: a later `analyze` stored one alert more
    than the summary listed, unexplained)."""
    if result.as_of is None:
        return []
    lines = [f"  alerts as of the last image ({result.as_of}), the end of the demo's history"]
    if result.added_today:
        n = len(result.added_today)
        lines[0] += (
            f"; `railwatch analyze {result.site}` judges as of today and adds "
            f"{'this' if n == 1 else f'these {n}'}:"
        )
        lines += [
            f"    {a.when}  {a.kind}  {a.severity}  {a.text.split(': ')[0].rstrip('.')}"
            for a in result.added_today
        ]
        # the command as it runs on the demo's database: a bare `railwatch analyze
        # tumangang` looks for railwatch.db in the current folder and finds none
        # (2026-12-07, session 46, demo walkthrough)
        lines.append(
            f"    to run it on the demo's database: {_program()} --db {result.db_url} "
            f"analyze {result.site}"
        )
    return lines


def demo_dict(result: DemoResult) -> dict[str, Any]:
    """The demo's summary as ``demo --json`` prints it: what the table says, with every
    alert of the site total (info included) and paths a script can open."""
    return {
        "site": result.site,
        "out": str(result.out_dir),
        "database": result.db_url,
        "report": None if result.report is None else str(result.report),
        "scenes": result.scenes,
        "counted": result.counted,
        "unusable": result.unusable,
        "unusable_causes": dict(result.unusable_causes),
        "failed": result.failed,
        "count_min": result.count_min,
        "count_max": result.count_max,
        "count_max_date": result.count_max_date,
        "methods": dict(result.methods),
        "alerts": [
            {
                "date": a.when,
                "kind": a.kind,
                "severity": a.severity,
                "method": a.method,
                "explanation": a.text,
            }
            for a in result.alerts
        ],
        # since session 41: the day the alerts are judged as of, and what `railwatch
        # analyze SITE` (as of today) adds
        "as_of": result.as_of,
        "added_as_of_today": [
            {
                "date": a.when,
                "kind": a.kind,
                "severity": a.severity,
                "method": a.method,
                "explanation": a.text,
            }
            for a in result.added_today
        ],
        "not_run": list(result.missing),
        "timings_s": {k: round(v, 1) for k, v in result.timings.items()},
    }


def register(app: typer.Typer) -> None:
    app.command("demo", rich_help_panel="Pipeline")(demo)
