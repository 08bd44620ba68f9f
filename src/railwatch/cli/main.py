"""The ``railwatch`` command.

Each command (or command group) lives in its own module of this package and
exposes ``register(app)``; a command's module is imported only when that command runs
(or shows its own help): ``railwatch --version``, ``--help`` and completion import none
of them (2026-12-06, session 38; ``railwatch.cli._commands`` lists the commands, and
:func:`build_app` registers at once any module it does not list, so commands are still
added without touching this file). Errors that are :class:`RailwatchError`
become one line on stderr (``error: ...``) and a non-zero exit; ``--debug`` shows the
traceback. click's usage errors say ``error: ...`` too, after the usage line and
``Try '... -h' for help.``, with status 2 (2026-12-06, session 38: click wrote ``Error:``).

This module imports only ``sys`` when it is loaded: the console script
(``railwatch = railwatch.cli.main:main``) imports it before :func:`main` runs, outside
any ``try``, so a Ctrl-C during an import made here (typer, rich, pydantic: about a
second) printed Python's traceback. Everything else is imported inside :func:`main`,
where an interrupt at any point is one line on stderr and status 130.

SIGTERM (``kill PID``, ``timeout``, a service manager stopping the run) is handled as
Ctrl-C is, once :func:`main` runs: it raises :class:`Terminated` (a
``KeyboardInterrupt``) where the program is, so open transactions roll back and the
per-site locks are let go on the way out; one line on stderr, status 143 (128 + 15).

A reader of standard output that goes away before the end (``railwatch export SITE -f
csv -o - | head -1``, ``railwatch scene list SITE | head``) ends the command quietly with
status 141 (128 + SIGPIPE, as a shell reports ``cat`` cut short so): nothing on stderr,
no traceback; before session 26 it was a silent status 1 (click's answer) or, through a
file written to ``/dev/stdout``, an error line. SIGPIPE keeps Python's default (ignored:
the write fails with ``BrokenPipeError``), so the transaction of a command cut short
rolls back as on any error, and a broken connection elsewhere is never a silent death.
"""

# No ``from __future__ import annotations``: build_app's callback needs its annotations
# evaluated where the heavy names are imported (inside the function).
import sys

TYPE_CHECKING = False  # typing itself is not imported here either (see above)
if TYPE_CHECKING:
    from typing import Any

    import typer
    from rich.console import Console

#: What an interrupt prints before the command has started (nothing written yet), and
#: once a command that records no scenes runs.
_INTERRUPTED_EARLY = "Interrupted."
#: What an interrupt prints once a command that records scenes as it goes runs.
_INTERRUPTED = "Interrupted; the database keeps every scene recorded so far."
#: What SIGTERM prints, likewise.
_TERMINATED_EARLY = "Terminated."
_TERMINATED = "Terminated; the database keeps every scene recorded so far."
#: What to do next, after either of those two (2026-12-05, session 33: the line said
#: what was kept, not how to go on, nor that `process --reprocess` starts over).
_GO_ON = " Run the same command again to go on: what is recorded is not done again."
_GO_ON_REPROCESS = (
    " `railwatch process --reprocess` run again processes every scene again; run without "
    "--reprocess, it processes only those not yet processed with this detector."
)
#: The commands that record scenes in the database one at a time as they go, so that an
#: interrupt leaves those recorded so far (and says so). Every other command has no
#: database (train, calibrate, quantize, simulate, detect, eval, scale: they write files
#: or nothing) or writes in one transaction that an interrupt rolls back whole (site,
#: event, alert, analyze --store, import-labels), and its interrupt is one word.
_RECORDS_SCENES = frozenset({"process", "ingest", "ingest-stac", "demo"})
#: Whether this process got as far as running a command (the root callback), so that an
#: interrupt says which of the lines above applies.
_started = False
#: The command being run (``railwatch COMMAND ...``), once the root callback has run.
_command: str | None = None
#: Whether SIGTERM arrived (the interrupt then says "Terminated" and exits 143).
_terminated = False
#: Whether the command line holds ``--reprocess`` (what to do next differs then).
_reprocess = False
#: How far the command had got, in words ("3 of 10 scenes of site yard done"), as the
#: command last said it (:func:`note_progress`): said with the interrupt.
_progress: str | None = None
#: The process that installed the SIGTERM handler (a forked child keeps the default).
_handler_pid: int | None = None

#: Exit statuses: 128 + the signal's number, as a shell reports a process it ended.
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
#: The reader of standard output (or of the file written, a pipe) went away: 128 + SIGPIPE.
EXIT_OUTPUT_CLOSED = 141
#: Another run holds what the command needs (a site being processed, the database
#: locked by another writer, a restore's target in use): nothing is wrong, run it again
#: later. ``EX_TEMPFAIL`` of sysexits.h, which cron wrappers and mail agents read as "try
#: again"; until 2026-12-07 (session 48) it was status 1, as a failure.
EXIT_BUSY = 75
#: The exit statuses in ``railwatch --help`` (2026-12-07, session 48), as README lists them.
EXIT_STATUS_HELP = (
    "Exit status: 0 done; 1 failed (after the rest was done, for a batch); 2 a wrong "
    "command line or input file; 75 busy: another railwatch run holds the site or the "
    "database (or ingest found only files still being copied), run the command again "
    "later; 70 an internal error (please report it); "
    "130 and 143 interrupted (Ctrl-C, SIGTERM); 141 output closed."
)


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM arrives: a ``KeyboardInterrupt``, so that
    everything that unwinds cleanly on Ctrl-C (transactions, locks, progress bars,
    clusters) does so on SIGTERM too, and no ``except Exception`` records it as a
    failed scene."""


def _on_sigterm(signum: int, frame: object) -> None:
    global _terminated
    import os

    if os.getpid() != _handler_pid:
        # A worker forked from this process (multiprocessing with the fork start
        # method inherits the handler): end as it would have without it.
        import signal

        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    if _terminated:
        return  # a second SIGTERM while the first unwinds: let the clean-up finish
    _terminated = True
    raise Terminated


def _handle_sigterm() -> bool:
    """Make SIGTERM behave as Ctrl-C (see the module's docstring): whether the handler
    was installed (not where another handler is, e.g. in a program calling :func:`main`,
    nor outside the main thread, where Python sets no handler)."""
    import os
    import signal
    import threading

    global _handler_pid
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return False
        _handler_pid = os.getpid()
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - no SIGTERM here
        return False
    return True


def _default_sigterm() -> None:
    """Give SIGTERM back its default action (when :func:`main` returns)."""
    import signal
    from contextlib import suppress

    with suppress(ValueError, OSError):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _version(value: bool) -> None:
    import typer

    from railwatch import __version__

    if value:
        typer.echo(f"railwatch {__version__}")
        raise typer.Exit()


#: The help of ``--db``: what it takes, and the URLs refused (see ``CliState.settings``).
DB_HELP = (
    "Database URL: sqlite:///PATH (default sqlite:///railwatch.db) or "
    "postgresql+psycopg://USER@HOST/DB. An empty URL and in-memory SQLite (sqlite://, "
    "sqlite:///:memory:) are refused: what a command wrote there would be lost when it exits."
)


def build_app() -> "typer.Typer":
    # Annotations here are evaluated when the function is defined (this module does
    # not use postponed annotations), so typer sees the names imported just below.
    import importlib
    import logging
    import pkgutil
    from typing import Annotated

    import typer

    from railwatch.cli._commands import COMMANDS, LazyGroup

    app = typer.Typer(
        name="railwatch",
        help=(
            "Watch rail facilities from satellite imagery: count railcars per image, "
            "keep the history per site, raise explained alerts."
        ),
        # the statuses a script reads (README, "A tour of the command line")
        epilog=EXIT_STATUS_HELP,
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
        # the commands of COMMANDS are loaded when used (see railwatch.cli._commands)
        cls=LazyGroup,
        **_APP_SETTINGS,
    )

    @app.callback()
    def _root(
        ctx: typer.Context,
        db: Annotated[
            str | None,
            typer.Option("--db", envvar="RAILWATCH_DB", metavar="URL", help=DB_HELP),
        ] = None,
        debug: Annotated[
            bool,
            typer.Option(
                "--debug",
                help="Show the traceback of an error (above its usual line; the exit "
                "status stays the same) and railwatch's debug logging.",
            ),
        ] = False,
        version: Annotated[
            bool,
            typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
        ] = False,
    ) -> None:
        from railwatch.cli._common import CliState, quiet_psycopg_second_errors

        global _started, _command
        _started = True
        _command = ctx.invoked_subcommand
        # --debug: railwatch's own debug lines, other libraries' from INFO up; rasterio's
        # DEBUG lines (GDAL environments entered and left, several per file read) buried
        # them, dozens for one bad file, thousands for a run (2026-12-07, session 47)
        logging.basicConfig(
            level=logging.INFO if debug else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )
        if debug:
            logging.getLogger("railwatch").setLevel(logging.DEBUG)
        # alembic logs (INFO) each plugin it sets up when it is first imported, which a
        # command opening the database now does after this point; until session 38 every
        # command imported it before, so --debug never showed those lines (nothing of
        # the run is in them)
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
        # psycopg's "error ignored ..." of a connection already lost, logged at DEBUG
        # instead: the command's one error line says it (session 51; the CLI's alone)
        quiet_psycopg_second_errors()
        # where --db's value came from: the command line or RAILWATCH_DB (its envvar);
        # by name: typer >= 0.22 has its own copy of click's ParameterSource
        source = ctx.get_parameter_source("db")
        from_env = getattr(source, "name", None) == "ENVIRONMENT"
        ctx.obj = CliState(db_url=db, debug=debug, db_from_env=from_env)

    import railwatch.cli as cli_pkg

    # A module that COMMANDS does not name (a command added since) is registered now,
    # as every module was before session 38: it works, at the old start-up cost, and
    # tests/test_cli_startup_s38.py says which entry to add to COMMANDS.
    listed = {entry.module for entry in COMMANDS}
    for info in sorted(pkgutil.iter_modules(cli_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "main" or info.name in listed:
            continue
        module = importlib.import_module(f"railwatch.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
    if app.registered_commands or app.registered_groups:
        _one_line_short_help(app)
        _help_paragraphs_reflowed(app)
        _option_names_never_cut()
    # else the root group does that when it lays out its help, and a command loaded by
    # command_app when it lays out its own (typer.rich_utils: about 0.1 s that --version,
    # completion and running a command spare)
    return app


#: The settings of the root app that the apps of :func:`command_app` share (they shape
#: the commands typer makes of each app: markup of the help, exceptions).
_APP_SETTINGS: "dict[str, Any]" = {"rich_markup_mode": "rich", "pretty_exceptions_enable": False}


def command_app(module: str) -> "typer.Typer":
    """An app holding the commands that ``railwatch.cli.MODULE`` registers, their help
    laid out as :func:`build_app` lays out its own: what the root group loads when one
    of those commands is used (see ``railwatch.cli._commands``)."""
    import importlib

    import typer

    app = typer.Typer(**_APP_SETTINGS)
    importlib.import_module(f"railwatch.cli.{module}").register(app)
    _one_line_short_help(app)
    _help_paragraphs_reflowed(app)
    # _option_names_never_cut: when a command's help is laid out (_commands.help_on_demand;
    # since session 39 running one does not import typer.rich_utils)
    return app


def typer_group(app: "typer.Typer") -> "Any":
    """The click group typer makes of ``app`` (its commands by name: ``.commands``)."""
    import typer.main

    return typer.main.get_group(app)


def _option_names_never_cut() -> None:
    """Keep option names whole in ``--help``. typer lays each options panel out as a
    rich table whose columns all shrink, by default with an ellipsis, when the terminal
    is narrow: at 80 columns ``calibrate --help`` showed ``--coarse-one-si…`` and
    ``--no-string-pai…`` and ``process --help`` ``RAILWATCH_USABLE_THRES…``. The tables
    typer builds are given columns that fold instead of cutting (nothing is lost), and
    the option-name columns (all but the last two: type and help) never wrap, so the
    type and help columns take what is left and wrap."""
    from typing import Any

    from rich.table import Table
    from rich.text import Text
    from typer import rich_utils

    if getattr(rich_utils, "Table", None) is not Table:
        return  # already done (or typer no longer builds its tables so)

    class HelpTable(Table):
        def add_row(self, *renderables: Any, **kwargs: Any) -> None:
            super().add_row(*renderables, **kwargs)
            last = len(self.columns) - 2
            for index, column in enumerate(self.columns):
                column.overflow = "fold"
                if index < last:
                    column.no_wrap = True

    rich_utils.Table = HelpTable  # type: ignore[misc]

    # An option's help is a rich Columns of Text (the help, its default, its env var),
    # which cuts a word longer than the column (``RAILWATCH_USABLE_THRES…``) unless
    # the Text itself folds.
    parameter_help = rich_utils._get_parameter_help

    def folded_parameter_help(**kwargs: Any) -> Any:
        renderable = parameter_help(**kwargs)
        for item in getattr(renderable, "renderables", ()):
            if isinstance(item, Text) and item.overflow is None:
                item.overflow = "fold"
        return renderable

    rich_utils._get_parameter_help = folded_parameter_help


def _one_line_short_help(app: "typer.Typer") -> None:
    """Give each command a one-line summary for the command lists of ``--help``: the
    first paragraph of its docstring, line breaks removed (in rich markup mode typer
    keeps the docstring's line breaks there, which broke the list into ragged lines)."""
    import inspect

    for cmd in app.registered_commands:
        if cmd.short_help is None:
            doc = cmd.help or inspect.getdoc(cmd.callback) or ""
            cmd.short_help = " ".join(doc.split("\n\n")[0].split()) or None
    for group in app.registered_groups:
        if group.typer_instance is not None:
            _one_line_short_help(group.typer_instance)


#: Lines of a help paragraph that start a line of their own (an example, an
#: alternative, a command in bold); every other line break in a paragraph is a space.
_HELP_LINE_STARTS = ("Example", "or ", "or:", "or,", "then:", "Verified set:", "[b]", "[bold]")


def _reflowed_help(doc: str) -> str:
    """``doc`` with the single line breaks inside its paragraphs made spaces (but before
    the lines of :data:`_HELP_LINE_STARTS`), so that the terminal wraps it."""
    paragraphs = []
    for paragraph in doc.split("\n\n"):
        if paragraph.startswith("\b"):  # click's "keep as written" marker
            paragraphs.append(paragraph)
            continue
        lines = [line.strip() for line in paragraph.splitlines()]
        text = lines[0] if lines else ""
        for line in lines[1:]:
            text += ("\n" if line.startswith(_HELP_LINE_STARTS) else " ") + line
        paragraphs.append(text)
    return "\n\n".join(paragraphs)


def _help_paragraphs_reflowed(app: "typer.Typer") -> None:
    """Let ``--help`` wrap each command's text to the terminal. In rich markup mode
    typer (since 0.13 or so) keeps a docstring's line breaks after its first paragraph,
    so that in an 80-column terminal a line of the docstring (up to 88 characters) was
    wrapped and then broken again where the docstring broke it: ``ingest --help``
    showed "Exit status is 1", then "when" alone on a line (session 31)."""
    import inspect

    for cmd in app.registered_commands:
        doc = cmd.help or inspect.getdoc(cmd.callback) or ""
        if doc:
            cmd.help = _reflowed_help(doc)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            _help_paragraphs_reflowed(group.typer_instance)


def _click_exception_types() -> "tuple[tuple[type[Any], ...], tuple[type[Any], ...]]":
    """Click's usage-error and exit classes, from click itself and from the copy of
    click that recent typer releases vendor as ``typer._click``."""
    from typing import Any

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
    """Entry point of the console script: the exit status of the command.

    A Ctrl-C at any point, while the modules load as while a command runs, is one line
    on stderr and status 130, never a traceback; SIGTERM likewise, with status 143."""
    global _started, _terminated, _command, _reprocess, _progress
    _started = False
    _terminated = False
    _command = None
    _progress = None
    _reprocess = "--reprocess" in (sys.argv[1:] if argv is None else argv)
    handled = _handle_sigterm()
    try:
        from railwatch.cli._common import err_console, make_streams_safe

        make_streams_safe()  # no UnicodeEncodeError in a C or Latin-1 locale (session 47)
        return _run(argv, err_console)
    except KeyboardInterrupt:
        return _say_interrupted()
    except BrokenPipeError:  # stderr's reader gone too, while an error was said there
        return _end_quietly()
    finally:
        if handled:
            _default_sigterm()


def note_progress(text: str | None) -> None:
    """Tell what an interrupt (Ctrl-C, SIGTERM) says of how far the running command got,
    e.g. "3 of 10 scenes of site yard done": "Interrupted with 3 of 10 scenes of site
    yard done; the database keeps every scene recorded so far. ..." (``railwatch
    process``; 2026-12-07, session 47: the line did not say how far it got). None: say
    nothing of it."""
    global _progress
    _progress = text


def _hang(message: str, width: int) -> str:
    """``message`` with its second and later lines indented by ``width`` spaces, so that
    a message of several lines (one per bad ``RAILWATCH_*`` variable) reads as one under
    its "error: " prefix; a one-line message is unchanged."""
    first, *rest = message.split("\n")
    return "\n".join([first, *(" " * width + line if line else line for line in rest)])


def _say_interrupted() -> int:
    """Say on stderr that the run was interrupted or terminated (and, for a command that
    records scenes as it goes, that those recorded are kept) and return the exit status
    (130, or 143 for SIGTERM); a second Ctrl-C while this is written is ignored."""
    kept = _started and _command in _RECORDS_SCENES
    if _terminated:
        line = _TERMINATED if kept else _TERMINATED_EARLY
    else:
        line = _INTERRUPTED if kept else _INTERRUPTED_EARLY
    if kept and _progress:  # how far it got (session 47: `process` did not say)
        first, _, rest = line.partition(";")
        line = f"{first} with {_progress};{rest}"
    if kept:
        line += _GO_ON_REPROCESS if _command == "process" and _reprocess else _GO_ON
    try:
        sys.stderr.write(f"\n{line}\n" if sys.stderr.isatty() else f"{line}\n")
        sys.stderr.flush()
    except (KeyboardInterrupt, OSError, ValueError):  # pragma: no cover - best effort
        pass
    return EXIT_TERMINATED if _terminated else EXIT_INTERRUPTED


def _output_closed(exc: BaseException | None) -> bool:
    """Whether ``exc`` is, or was raised from, a write to a pipe whose reader went away
    (``BrokenPipeError``: EPIPE; a message wrapping it, such as the report's "cannot write
    the report to /dev/stdout (Broken pipe)", keeps it as its cause)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, BrokenPipeError):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return False


def _streams_pacified() -> bool:
    """Whether click took a closed output: on an EPIPE out of a command (or ``--help``,
    ``--version``) it wraps ``sys.stdout`` and ``sys.stderr`` in its ``PacifyFlushWrapper``
    and exits with status 1. Those wrappers are taken off again here."""
    pacified = False
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        wrapped = getattr(stream, "wrapped", None)
        if type(stream).__name__ == "PacifyFlushWrapper" and wrapped is not None:
            setattr(sys, name, wrapped)
            pacified = True
    return pacified


def _stdout_file() -> tuple[int, int] | None:
    """Which file standard output's descriptor is open on (device, inode), or None (a
    stream without one: an embedding program's, a test's capture)."""
    import os

    try:
        st = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is both
        return None
    return st.st_dev, st.st_ino


def _stdout_sent_to_null(before: tuple[int, int] | None) -> bool:
    """Whether a rich console that typer made (``--help``) took a closed output: rich
    then points standard output at the null device and exits with status 1."""
    import os

    if before is None:
        return False
    try:
        st = os.stat(os.devnull)
    except OSError:  # pragma: no cover - no null device
        return False
    null = (st.st_dev, st.st_ino)
    return before != null and _stdout_file() == null


def _end_quietly() -> int:
    """Status 141, and nothing more written: a stream whose reader is gone still holding
    unwritten text (its flush fails again) is pointed at the null device, so that Python's
    flush at exit does not print "Exception ignored ... BrokenPipeError" (Python's note on
    SIGPIPE in the ``signal`` docs does the same)."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(devnull, stream.fileno())
                finally:
                    os.close(devnull)
            except (OSError, ValueError, AttributeError):  # pragma: no cover - best effort
                pass
        except (OSError, ValueError, AttributeError):  # a closed or odd stream: nothing to do
            pass
    return EXIT_OUTPUT_CLOSED


#: The options of ``railwatch`` itself, which go before the command; given after it
#: (``railwatch site list --db URL``, as a cron line is often written) click said only
#: "No such option: --db" (session 35).
_ROOT_OPTIONS = {
    "--db": ("--db URL", " (or set RAILWATCH_DB)"),
    "--debug": ("--debug", ""),
    "--version": ("--version", ""),
}


def _say_root_option(exc: BaseException) -> None:
    """After click's "No such option" for an option of ``railwatch`` itself given after
    the command, a line on stderr saying where it goes."""
    option = getattr(exc, "option_name", None)
    if option not in _ROOT_OPTIONS:
        return
    given, also = _ROOT_OPTIONS[option]
    ctx = getattr(exc, "ctx", None)
    path = str(getattr(ctx, "command_path", "") or "railwatch").split(" ")
    command = " ".join([path[0], given, *path[1:], "..."])
    sys.stderr.write(
        f"{option} is an option of railwatch itself: give it before the command "
        f"({command}){also}.\n"
    )


def _say_error(err_console: "Console", message: str) -> None:
    """``error: MESSAGE`` on stderr, its later lines under the first (:func:`_hang`)."""
    from rich.markup import escape

    err_console.print(
        f"[bold red]error:[/] {escape(_hang(message, len('error: ')))}",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )


def _say_usage_error(exc: "Any", err_console: "Console") -> None:
    """Say a click error (a usage error: unknown option, missing argument, bad value;
    or a plain ``ClickException``) as click does, the usage line, then ``Try 'COMMAND
    -h' for help.``, but its message as railwatch says its own errors: ``error: ...``
    (click's ``show()`` writes ``Error: ...``; 2026-12-06, session 38). ``railwatch``
    with no command, or a group with none (``NoArgsIsHelpError``), shows the help as
    click does. There are two copies of click (``click``, ``typer._click``): nothing
    here depends on which one raised ``exc``."""
    if any(cls.__name__ == "NoArgsIsHelpError" for cls in type(exc).__mro__):
        exc.show()
        return
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        lines = [ctx.get_usage()]
        command = getattr(ctx, "command", None)
        if command is not None and command.get_help_option(ctx) is not None:
            names = list(getattr(ctx, "help_option_names", None) or ["--help"])
            own = getattr(command, "get_help_option_names", None)
            if own is not None:  # click's: less those another parameter took
                names = [name for name in names if name in set(own(ctx))] or names
            lines.append(f"Try '{ctx.command_path} {names[0]}' for help.")
        err_console.print("\n".join(lines) + "\n", markup=False, highlight=False, soft_wrap=True)
    _say_error(err_console, exc.format_message())


def _run(argv: list[str] | None, err_console: "Console") -> int:
    import typer
    from rich.markup import escape

    from railwatch.errors import InputError, RailwatchError

    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    stdout_file = _stdout_file()
    try:
        app = build_app()
        rv = app(args=argv, prog_name="railwatch", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except SystemExit:
        # click's and rich's answers to a closed stdout (see the functions)
        if _streams_pacified() or _stdout_sent_to_null(stdout_file):
            return _end_quietly()
        raise
    except typer.Abort:
        if _terminated:  # SIGTERM at a confirmation question
            return _say_interrupted()
        err_console.print("Aborted.")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        return _say_interrupted()
    except RailwatchError as exc:
        if _output_closed(exc):
            return _end_quietly()
        if debug:  # the traceback, then the line and status without --debug (see below)
            _print_traceback()
        code = 2 if isinstance(exc, InputError) else EXIT_BUSY if _is_busy(exc) else 1
        _say_error(err_console, str(exc))
        return code
    except Exception as exc:  # click usage errors carry their own exit codes
        if _output_closed(exc):
            return _end_quietly()
        usage_errors, exits = _click_exception_types()
        if isinstance(exc, usage_errors):
            _say_usage_error(exc, err_console)
            _say_root_option(exc)
            return int(exc.exit_code)
        if isinstance(exc, exits):
            return int(exc.exit_code)
        if debug:
            if argv is not None:  # main(argv) called from Python: the caller gets it
                raise
            _print_traceback()
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} "
            + (
                "(the traceback is above: please report it)"
                if debug
                else "(run again with --debug for the traceback, and please report it)"
            ),
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
        return 70
    if rv == EXIT_INTERRUPTED:  # typer turns an interrupt in a command into status 130
        return _say_interrupted()
    return rv if isinstance(rv, int) else 0


def _is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` says that another run holds what the command needs, for which the
    command exits with :data:`EXIT_BUSY`: a :class:`~railwatch.storage.db.BusyError`
    (a lock of ``Database.exclusive``: a site being processed, removed or copied; a
    restore's target in use; an analysis whose inputs kept changing), also where a
    command re-raised it with more words (``raise StorageError(...) from err``), or
    SQLite's "database is locked" after its busy timeout. A lock lost mid-run
    (``LockLostError``) is a failure, not this. Without the storage layer loaded no
    error can be one (its import is not paid for an error of another kind)."""
    db = sys.modules.get("railwatch.storage.db")
    if db is None:
        return False
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, db.BusyError):
            return True
        current = current.__cause__
    return bool(db.is_sqlite_locked(exc))


def _print_traceback() -> None:
    """Print the traceback of the error being handled to stderr, for ``--debug``.

    The command's status stays what it is without ``--debug`` (1, 2, 70 or 75, its ``error:``
    line after the traceback): until 2026-12-07 (session 47) ``--debug`` raised the error
    out of the console script, and Python's status 1 replaced 2 (a usage or input error)
    and 70 (an internal error), so a cron job run with ``--debug`` to see why it failed
    failed otherwise. Called from Python, ``main(argv)`` with ``--debug`` still raises an
    internal error, for the caller's debugger."""
    import traceback

    sys.stderr.flush()
    traceback.print_exc(file=sys.stderr)
    sys.stderr.flush()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
