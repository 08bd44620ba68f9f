"""The ``railwatch`` command.

Each command (or command group) lives in its own module of this package and
exposes ``register(app)``; :func:`build_app` discovers them, so commands are
added without touching this file. Errors that are :class:`RailwatchError`
become one line on stderr and a non-zero exit; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape

from railwatch import __version__
from railwatch.cli._common import CliState, err_console
from railwatch.errors import InputError, RailwatchError


def _version(value: bool) -> None:
    if value:
        typer.echo(f"railwatch {__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="railwatch",
        help=(
            "Watch rail facilities from satellite imagery: count railcars per image, "
            "keep the history per site, raise explained alerts."
        ),
        no_args_is_help=True,
        rich_markup_mode="rich",
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def _root(
        ctx: typer.Context,
        db: Annotated[
            str | None,
            typer.Option(
                "--db", envvar="RAILWATCH_DB", help="Database URL (default sqlite:///railwatch.db)."
            ),
        ] = None,
        debug: Annotated[
            bool, typer.Option("--debug", help="Show tracebacks and debug logging.")
        ] = False,
        version: Annotated[
            bool,
            typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
        ] = False,
    ) -> None:
        logging.basicConfig(
            level=logging.DEBUG if debug else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )
        ctx.obj = CliState(db_url=db, debug=debug)

    import railwatch.cli as cli_pkg

    for info in sorted(pkgutil.iter_modules(cli_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "main":
            continue
        module = importlib.import_module(f"railwatch.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
    _one_line_short_help(app)
    return app


def _one_line_short_help(app: typer.Typer) -> None:
    """Give each command a one-line summary for the command lists of ``--help``: the
    first paragraph of its docstring, line breaks removed (in rich markup mode typer
    keeps the docstring's line breaks there, which broke the list into ragged lines)."""
    for cmd in app.registered_commands:
        if cmd.short_help is None:
            doc = cmd.help or inspect.getdoc(cmd.callback) or ""
            cmd.short_help = " ".join(doc.split("\n\n")[0].split()) or None
    for group in app.registered_groups:
        if group.typer_instance is not None:
            _one_line_short_help(group.typer_instance)


def _click_exception_types() -> tuple[tuple[type[Any], ...], tuple[type[Any], ...]]:
    """Click's usage-error and exit classes, from click itself and from the copy of
    click that recent typer releases vendor as ``typer._click``."""
    import click

    modules: list[Any] = [click]
    try:
        import typer._click as vendored  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        pass
    else:
        modules.append(vendored)

    def found(name: str) -> tuple[type[Any], ...]:
        return tuple(cls for m in modules if (cls := getattr(m.exceptions, name, None)) is not None)

    return found("ClickException"), found("Exit")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    app = build_app()
    try:
        rv = app(args=argv, prog_name="railwatch", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        err_console.print("Aborted.")
        return 130
    except KeyboardInterrupt:
        err_console.print("Interrupted; the database keeps every scene recorded so far.")
        return 130
    except RailwatchError as exc:
        if debug:
            raise
        code = 2 if isinstance(exc, InputError) else 1
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True
        )
        return code
    except Exception as exc:  # click usage errors carry their own exit codes
        usage_errors, exits = _click_exception_types()
        if isinstance(exc, usage_errors):
            exc.show()
            return int(exc.exit_code)
        if isinstance(exc, exits):
            return int(exc.exit_code)
        if debug:
            raise
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} "
            "(run again with --debug for the traceback, and please report it)",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
        return 70
    if rv == 130:
        err_console.print("Interrupted; the database keeps every scene recorded so far.")
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
