"""``railwatch demo``: the whole pipeline on the built-in Tumangang scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table

from railwatch.cli._common import console, progress_bar, state

_STAGES = {
    "render": "Rendering scenario imagery",
    "ingest": "Ingesting scenes",
    "detect": "Detecting and counting",
}


def demo(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the demo database and report.")
    ] = Path("railwatch-demo"),
    scenario: Annotated[str, typer.Option(help="Built-in scenario.")] = "tumangang",
    workers: Annotated[
        int, typer.Option(min=1, help="Processes used to render the imagery (first run).")
    ] = 2,
) -> None:
    """Run the whole job offline on a simulated site: render imagery (cached after the
    first run), create the site and its events, ingest, detect, count, analyse and write
    the report; then print a summary."""
    from railwatch.demo import run_demo

    settings = state(ctx).settings()
    with progress_bar() as bar:
        tasks: dict[str, TaskID] = {}

        def on_stage(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(_STAGES.get(name, name), total=total or None)
            bar.update(tasks[name], completed=done, total=total or None)

        result = run_demo(
            out, scenario=scenario, settings=settings, workers=workers, on_stage=on_stage
        )

    console.print(f"\n[bold]railwatch demo[/]: site [bold]{escape(result.site)}[/]")
    console.print(
        f"  scenes: {result.scenes} ingested, {result.counted} counted, "
        f"{result.unusable} unusable (cloud, haze, partial coverage), {result.failed} failed",
        highlight=False,
    )
    if result.count_max is not None:
        methods = ", ".join(f"{n} by {m}" for m, n in sorted(result.methods.items()))
        console.print(
            f"  count series: {result.count_min:g} to {result.count_max:g} railcars "
            f"(maximum on {result.count_max_date}; {methods})",
            highlight=False,
        )
    for missing in result.missing:
        console.print(f"  [yellow]not run:[/] {escape(missing)}")
    shown = [a for a in result.alerts if a[2] != "info"]
    if shown:
        table = Table(title="Alerts (severity low and above)", expand=True)
        table.add_column("date", no_wrap=True)
        table.add_column("kind")
        table.add_column("severity")
        table.add_column("explanation", ratio=1)
        for when, kind, severity, text in shown:
            table.add_row(when, kind, severity, text.split(". ")[0].rstrip(".") + ".")
        console.print(table)
    n_info = len(result.alerts) - len(shown)
    if n_info:
        console.print(f"  and {n_info} informational alerts (see the report)", highlight=False)
    if result.report is not None:
        console.print(f"  report: {result.report}", highlight=False)
    console.print(f"  database: {result.db_url}", highlight=False)
    times = ", ".join(f"{k} {v:.0f} s" for k, v in result.timings.items())
    console.print(f"  time: {times}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("demo", rich_help_panel="Pipeline")(demo)
