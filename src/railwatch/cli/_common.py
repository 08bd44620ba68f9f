"""Shared helpers for CLI commands: state, consoles, JSON output, progress bars."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from railwatch.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)

T = TypeVar("T")


@dataclass
class CliState:
    """Options given before the command (``railwatch --db URL CMD``)."""

    db_url: str | None = None
    debug: bool = False

    def settings(self) -> Settings:
        return get_settings(db=self.db_url) if self.db_url else get_settings()


def state(ctx: typer.Context) -> CliState:
    """The :class:`CliState` of this invocation (a default one when called directly)."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState()


def print_json(data: Any) -> None:
    """Write JSON to stdout (no rich markup, stable key order)."""
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def progress_bar(transient: bool = False) -> Progress:
    """A rich progress bar on stderr, so stdout stays clean for data."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
    )


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar on stderr."""
    with progress_bar() as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)


def comma_list(value: str) -> tuple[str, ...]:
    """The non-empty, stripped items of a comma-separated option (``"a, b,"`` -> a, b)."""
    return tuple(s.strip() for s in value.split(",") if s.strip())
