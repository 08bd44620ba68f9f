"""Shared helpers for CLI commands: state, consoles, JSON output, progress bars, dates,
options several commands take, confirmations."""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.cells import cell_len
from rich.console import Console, ConsoleDimensions, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

from railwatch.errors import ConfigError, InputError, NotFoundError, checked_settings
from railwatch.limits import MAX_RECORD_ID, calendar_error, parse_time
from railwatch.limits import not_a_date as _not_a_date

# railwatch.settings is imported only to type (it imports pydantic and pydantic-settings,
# about 0.15 s): `railwatch --version` and `--help` import this module and need no
# settings (session 38)
if TYPE_CHECKING:
    from railwatch.imagery.read import FileItemScaling, Radiometry
    from railwatch.settings import Settings
    from railwatch.storage.db import Database

#: The width the consoles lay out to when their stream is not a terminal and COLUMNS is
#: not set: wide enough that no line a command prints is ever broken or cut.
UNBOUNDED_WIDTH = 100_000


def _columns(environ: Mapping[str, str]) -> int | None:
    """The width COLUMNS asks for (a positive whole number), or None."""
    text = environ.get("COLUMNS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


class CliConsole(Console):
    """A console that never breaks a line where a script or a log would read it.

    Rich lays its output out to 80 columns when its stream is not a terminal (a pipe,
    a file, cron's mail, a CI log), so a long path, an alert's explanation or a summary
    line that scripts grep came out broken across lines, and table cells were cut with
    an ellipsis. Here:

    * text (messages, summaries, paths) is printed with soft wrap: one line as written,
      never broken by railwatch (a terminal wraps it on the screen; copied, it is whole);
    * tables are laid out to ``COLUMNS`` when it is set, else to the terminal's width,
      else (not a terminal) to :data:`UNBOUNDED_WIDTH`, which is as wide as each row
      needs: one line per row;
    * ``COLUMNS`` is read when the output is laid out, not when this module is
      imported (``NO_COLOR``, ``FORCE_COLOR`` and ``TERM`` are rich's own: ``NO_COLOR``
      set and not empty, no colours).
    """

    def __init__(self, *, width: int | None = None, **kwargs: Any) -> None:
        super().__init__(width=width, **kwargs)
        # rich fixed COLUMNS as the width when the console was made (at import): a width
        # is set here only when asked for (``width=``, ``console.width = N``); COLUMNS
        # is read by :attr:`size` when the output is laid out
        self._width = width

    @property
    def size(self) -> ConsoleDimensions:
        base = super().size
        if self._width is not None:
            return base
        columns = _columns(os.environ)
        if columns is not None:
            return ConsoleDimensions(columns, base.height)
        if self._is_tty():
            return base
        return ConsoleDimensions(UNBOUNDED_WIDTH, base.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]

    def _is_tty(self) -> bool:
        """Whether the stream is a terminal itself: FORCE_COLOR (set by CI runners whose
        logs show colours) makes rich's ``is_terminal`` true for a log file too, which
        has no width to fit."""
        try:
            return bool(self.file.isatty())
        except (AttributeError, ValueError):  # no isatty, or a closed stream
            return False

    @property
    def width(self) -> int:
        return self.size.width

    @width.setter
    def width(self, width: int) -> None:
        """Fix the width; given the width it would have anyway (as a test's monkeypatch
        puts back the width it read), it stays unset and follows COLUMNS and the stream."""
        self._width = None
        if width != self.size.width:
            self._width = width

    @property
    def unbounded(self) -> bool:
        """Whether the layout has no width to fill (output not to a terminal, COLUMNS
        not set): tables that fill the terminal's width (``expand``) must not here."""
        return self.width >= UNBOUNDED_WIDTH

    def on_broken_pipe(self) -> None:
        """The reader of this console's stream went away (``railwatch scene list SITE |
        head``). Rich's answer pointed *stdout* at the null device (even for the console
        on stderr) and exited with status 1; here the text that could not be written is
        dropped and the error goes on to :func:`railwatch.cli.main.main`, which ends the
        command quietly with status 141, as for any other closed output."""
        del self._buffer[:]
        raise BrokenPipeError(errno.EPIPE, "the reader of the output went away")


console = CliConsole(soft_wrap=True)
err_console = CliConsole(stderr=True, soft_wrap=True)


def make_streams_safe(streams: Iterable[Any] | None = None) -> None:
    """Let stdout and stderr write every character railwatch prints, whatever the locale.

    An ASCII stream (a C locale where Python's UTF-8 mode is off, ``PYTHONUTF8=0``;
    ``PYTHONIOENCODING=ascii``) is made UTF-8, as click already writes ``--json`` there;
    a stream of another encoding that is not UTF-8 (``LANG=en_US.ISO-8859-1``) writes
    ``?`` for a character it has not. Until 2026-12-07 (session 47) ``railwatch alerts``
    there ended with "internal error: UnicodeEncodeError" (status 70) at the first ``–``
    or ``·`` of an alert, and a cron job's log held no alert at all."""
    import codecs

    for stream in (sys.stdout, sys.stderr) if streams is None else streams:
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = getattr(stream, "encoding", None)
        if reconfigure is None or not isinstance(encoding, str):
            continue
        try:
            name = codecs.lookup(encoding).name
            if name == "ascii":
                reconfigure(encoding="utf-8", errors="surrogateescape")
            elif name != "utf-8":
                reconfigure(errors="replace")
        except (LookupError, ValueError, OSError):  # an unknown codec, a closed stream
            continue


T = TypeVar("T")


@dataclass
class CliState:
    """Options given before the command (``railwatch --db URL CMD``)."""

    db_url: str | None = None
    debug: bool = False
    #: ``db_url`` came from ``RAILWATCH_DB`` (``--db``'s environment variable), not ``--db``
    db_from_env: bool = False

    @property
    def db_source(self) -> str:
        """Where ``db_url`` came from, as errors name it: ``--db`` or ``RAILWATCH_DB``."""
        return "RAILWATCH_DB" if self.db_from_env else "--db"

    def settings(self) -> Settings:
        """The settings of this run, with the database URL of ``--db`` (or
        ``RAILWATCH_DB``, or the default) checked: :func:`check_cli_db_url`."""
        # `--db ""` is a URL too (an empty one, refused), not "no --db": it silently
        # fell back to ./railwatch.db
        overrides = {"db": self.db_url} if self.db_url is not None else {}
        # a bad RAILWATCH_* value ended every command, `site list` too, with
        # "internal error: ValidationError" and pydantic's lines (status 70)
        settings = checked_settings(**overrides)
        check_cli_db_url(settings.db, self.db_source)
        return settings


def open_db(ctx: typer.Context, *, create: bool = False) -> Database:
    """The database named by ``--db`` / ``RAILWATCH_DB`` (or the default
    ``railwatch.db`` of the current folder), migrated on open.

    A SQLite file that is not there is created only with ``create`` (``site add``, the
    one command that starts from an empty database; ``serve`` opens its own, as the web
    API adds sites too). Every other command works on sites and records already
    recorded, and is refused with a :class:`~railwatch.storage.db.NoDatabaseError`
    saying where it looked and what to do, creating nothing: run from another folder
    than the analyst's, ``scene list`` (or ``alerts``, ``report``...) made an empty
    railwatch.db there, and said "no site named ..." then and at every later run."""
    from railwatch.storage.db import Database, NoDatabaseError

    cli = state(ctx)
    settings = cli.settings()
    try:
        return Database.from_settings(settings, create=create)
    except NoDatabaseError as err:
        raise NoDatabaseError(
            no_database_message(err.path, cli.db_url, ctx.command_path, cli.db_source), err.path
        ) from err


def no_database_message(path: Path, given: str | None, command: str, source: str) -> str:
    """What :func:`open_db` says of a SQLite database file that is not there: where it
    looked (and why there: the default, or ``given`` from ``source``, ``--db`` or
    ``RAILWATCH_DB``: :attr:`CliState.db_source`), that ``command`` created nothing,
    and what to do."""
    if given is None:
        return (
            f"no database at {path} (the default database: railwatch.db in the current "
            f"folder): `{command}` works on an existing database and created none. Run "
            "railwatch in the folder that holds your railwatch.db, or name it with --db "
            "sqlite:///PATH or RAILWATCH_DB; `railwatch site add` creates a new database"
        )
    said = f"RAILWATCH_DB={given}" if source == "RAILWATCH_DB" else f"{source} {given}"
    return (
        f"no database at {path} ({said}): `{command}` works on an existing database and "
        "created none. Check the path (sqlite:///PATH is relative to the current folder, "
        "sqlite:////PATH absolute); `railwatch site add` creates a new database"
    )


def check_cli_db_url(url: str, source: str) -> None:
    """A :class:`ConfigError` for a database URL no command can use: an empty one,
    in-memory SQLite (``sqlite://``, ``sqlite:///:memory:``), where everything a command
    writes is lost when it exits and a reading command sees an empty database, and a
    SQLite file's with query parameters or a ``file:`` URI, where SQLite opens another
    file than railwatch checks (:func:`~railwatch.storage.db.sqlite_url_problem`;
    session 52), said to come from ``source`` (``--db`` or ``RAILWATCH_DB``)."""
    from railwatch.storage.db import is_memory_url, sqlite_url_problem

    if not url.strip():
        raise ConfigError(
            f"invalid database URL {url!r}: use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB (--db or RAILWATCH_DB is empty)"
        )
    if is_memory_url(url):
        raise ConfigError(
            f"database URL {url!r} is an in-memory SQLite database: whatever a command "
            "writes there is lost when it exits; use a file, e.g. --db sqlite:///railwatch.db"
        )
    problem = sqlite_url_problem(url)
    if problem is not None:
        raise ConfigError(f"database URL {url} ({source}) {problem}")


def state(ctx: typer.Context) -> CliState:
    """The :class:`CliState` of this invocation (a default one when called directly)."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState()


def table_width_needed(table: Table, out: Console) -> int:
    """The narrowest width at which ``table`` shows every cell whole: each column that
    does not wrap as wide as its widest cell, each column that wraps as wide as its
    longest word (one that folds long words: one character), and no column narrower
    than its ``min_width``; with the table's borders and padding."""
    options = out.options.update_width(UNBOUNDED_WIDTH)
    _, pad_right, _, pad_left = table.padding
    last = len(table.columns) - 1
    need = (2 if table.box and table.show_edge else 0) + (last if table.box else 0)
    for index, column in enumerate(table.columns):
        cells: list[RenderableType] = [*column.cells]
        if table.show_header:
            cells.append(column.header)
        widths = [Measurement.get(out, options, cell) for cell in cells]
        if column.width is not None:
            width = column.width
        elif column.no_wrap:
            width = max((m.maximum for m in widths), default=1)
        elif column.overflow == "fold":
            width = 1
        else:
            width = max((m.minimum for m in widths), default=1)
        width = max(width, column.min_width or 0)
        left = 0 if not table.pad_edge and index == 0 else pad_left
        right = 0 if not table.pad_edge and index == last else pad_right
        need += width + left + right
    return need


def print_table(table: Table, out: Console | None = None) -> None:
    """Print ``table`` on ``out`` (stdout's console by default), as a table where it fits
    the width (the terminal's, or ``COLUMNS``), else one block of "header  value" lines
    per row, every value whole.

    Laid out to a width narrower than its columns need, rich shrinks every column and
    cuts each cell to an ellipsis: at ``COLUMNS=40`` `scene list` lost its id column
    altogether and showed every date as "2024-03-01 0…", `site list` every name as
    "…", `detect` its total as "34 (26–5…" (nothing said that anything was cut)."""
    out = console if out is None else out
    caption = table.caption
    # a caption wider than the terminal (or COLUMNS) is printed after the table, wrapped
    # (session 32): soft-wrapped, as all text is, it ran on unbroken past the edge
    wrapped = caption is not None and _wider_than(caption, out)
    if wrapped:
        table.caption = None
    try:
        if table.columns and table_width_needed(table, out) > out.width:
            _print_records(table, out)
        else:
            out.print(table)
    finally:
        table.caption = caption
    if wrapped and caption is not None:
        _print_wrapped(caption, out)


def _wider_than(text: str | Text, out: Console) -> bool:
    """Whether a line of ``text`` (console markup where a str) is wider than ``out``'s
    layout; never where that has no width (output not to a terminal, COLUMNS not set:
    nothing is broken there)."""
    if out.unbounded if isinstance(out, CliConsole) else out.width >= UNBOUNDED_WIDTH:
        return False
    plain = Text.from_markup(text).plain if isinstance(text, str) else text.plain
    return max(cell_len(line) for line in plain.split("\n")) > out.width


def _print_wrapped(text: str | Text, out: Console) -> None:
    """A table's caption ``text``, wrapped to ``out``'s width at spaces only: a word
    longer than the line (a path, a URL, a command) stays whole on a line of its own,
    so that it can be copied, which is what the consoles' ``soft_wrap`` is for
    (8145407: summaries and paths broken across lines at 80 columns)."""
    shown = Text.from_markup(text) if isinstance(text, str) else text.copy()
    shown.stylize("table.caption")
    for line in shown.split("\n", allow_blank=True):
        # rich wraps at spaces only with a width to cut words at (overflow "fold" breaks
        # a path in two, "crop" cuts it, "ignore" does not wrap): the breaks are made here
        breaks: list[int] = []
        used = 0
        for word in re.finditer(r"\S+\s*", line.plain):
            width = cell_len(word.group().rstrip())
            if used and used + width > out.width:
                breaks.append(word.start())
                used = 0
            used += cell_len(word.group())
        for part in line.divide(breaks):
            part.rstrip()
            out.print(part, soft_wrap=True, highlight=False)


def _print_records(table: Table, out: Console) -> None:
    """``table`` as one block of lines per row: each column's header, then the row's
    value of it (folded where it is longer than the line), a blank line between rows;
    the table's title first and its caption last."""
    if table.title:
        out.print(table.title, style="table.title", highlight=False)
    columns = table.columns
    cells = [list(column.cells) for column in columns]
    for row in range(table.row_count):
        block = Table.grid(
            Column(style="bold", no_wrap=True),
            Column(overflow="fold"),
            padding=(0, 2),
        )
        for column, values in zip(columns, cells, strict=True):
            header = column.header
            # a header of two lines ("total\n(90 %)") is one here
            block.add_row(
                " ".join(header.split()) if isinstance(header, str) else header, values[row]
            )
        if row:
            out.print()
        out.print(block)
    if table.caption:
        out.print(table.caption, style="table.caption", highlight=False)


def print_json(data: Any) -> None:
    """Write JSON to stdout (no rich markup, stable key order)."""
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


#: Seconds between two progress lines in a log (stderr not a terminal); overridden by
#: the environment variable ``RAILWATCH_PROGRESS_SECONDS`` (0: none).
LOG_PROGRESS_SECONDS = 60.0


class _LoggedProgress(Progress):
    """A rich progress bar that, when it is not drawn (stderr is not a terminal: cron,
    CI, ``2> file``), writes one plain line per task at most every
    :data:`LOG_PROGRESS_SECONDS`, ``SITE: 120/500 (24 %), 3 min 10 s``, so that a
    long backfill run by a scheduler shows in its log that it is moving and how far it
    got; a run shorter than that writes none. Until 2026-12-06 (session 35) such a run
    wrote nothing until its summary."""

    def __init__(self, *args: Any, interval: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._interval = interval
        self._logged: dict[TaskID, float] = {}

    def update(self, task_id: TaskID, **kwargs: Any) -> None:
        super().update(task_id, **kwargs)
        self._log(task_id)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._log(task_id)

    def _log(self, task_id: TaskID) -> None:
        if not self.disable or self._interval <= 0:
            return
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or task.start_time is None:
                return
            now = self.get_time()
            last = self._logged.get(task_id, task.start_time)
            if now - last < self._interval:
                return
            self._logged[task_id] = now
            done, total, desc = task.completed, task.total, task.description
            elapsed = now - task.start_time
        of = f"/{total:.0f} ({100.0 * done / total:.0f} %)" if total else ""
        minutes, seconds = divmod(int(elapsed), 60)
        took = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
        err_console.print(
            f"{Text.from_markup(desc).plain}: {done:.0f}{of}, {took}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def _log_interval() -> float:
    raw = os.environ.get("RAILWATCH_PROGRESS_SECONDS")
    if raw is None or not raw.strip():
        return LOG_PROGRESS_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(
            f"RAILWATCH_PROGRESS_SECONDS={raw!r} is not a number of seconds: give e.g. 60, "
            "or 0 for no progress lines in logs"
        ) from None
    if value != value or value < 0:  # NaN or negative
        raise ConfigError(
            f"RAILWATCH_PROGRESS_SECONDS={raw!r} must be 0 or more seconds (0: no progress "
            "lines in logs)"
        )
    return value


def progress_bar(transient: bool = False) -> Progress:
    """A rich progress bar on stderr, so stdout stays clean for data; drawn only when
    stderr is a terminal: in a log (cron, CI, ``2> file``) rich printed the bar's last
    state as a line of bar characters after the run, which told nothing the summary does
    not. There a long task writes a plain line every :data:`LOG_PROGRESS_SECONDS`
    instead (:class:`_LoggedProgress`)."""
    return _LoggedProgress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
        # the stream a terminal itself: FORCE_COLOR (CI runners set it) makes rich's
        # is_terminal true for a log file too, and the bar's frames and cursor codes went
        # into the log until 2026-12-06 (session 35)
        disable=not (err_console._is_tty() and not err_console.is_dumb_terminal),
        interval=_log_interval(),
    )


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar on stderr."""
    with progress_bar() as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)


def plural_s(n: int) -> str:
    """The ``s`` of a plural noun: "" for 1, else "s" (``f"{n} file{plural_s(n)}"``)."""
    return "" if n == 1 else "s"


def left_out_by_limit(
    matched: int, shown: int, limit: int | None, noun: str, *, older: str, of: str = "matched"
) -> str:
    """What ``--limit`` of a list command left out ("2 older scenes left out by --limit 2
    (4 matched)"; ``alerts``, ``scene list``, ``event list``), or "" where it left out
    nothing."""
    left = matched - shown
    if not left:
        return ""
    return f"{left} {older} {noun}{plural_s(left)} left out by --limit {limit} ({matched} {of})"


def say_left_out(more: str, *, as_json: bool) -> None:
    """:func:`left_out_by_limit`'s words, if any: under the table, or with ``--json`` as
    a note on stderr (the JSON stays the list, as without ``--limit``)."""
    if not more:
        return
    if as_json:
        err_console.print(f"note: {more}", highlight=False)
    else:
        console.print(f"{more}: give a larger --limit, or none, to list them.", highlight=False)


def labelled_count(cars: int | None, labels: int, per_class: str) -> str:
    """Labelled cars said honestly (import-labels, train --labels; session 40): chips
    overlap and a car in an overlap is a label of each, so ``labels`` are cars only where
    ``cars`` (the distinct cars, None where they cannot be known) says so. ``per_class``:
    the labels by class, as shown."""
    if cars is None:
        return (
            f"{labels} labelled object{plural_s(labels)} ({per_class}; how many distinct "
            "cars is not known: chips may overlap, a car in the overlap labelled in each)"
        )
    if cars == labels:
        return f"{cars} car{plural_s(cars)} ({per_class})"
    return (
        f"{cars} car{plural_s(cars)} in {labels} labels ({per_class} by label: chips "
        "overlap, and a car in the overlap is labelled in each)"
    )


def partly_failed(
    failed: int, found: int, new: int, noun: str, again: str, *, left: str = ""
) -> str:
    """The error of a batch (``ingest``, ``ingest-stac``) in which ``failed`` of the
    ``found`` ``noun``s failed while the others were recorded: how many, that the ``new``
    new scenes are kept, and what to do; ``again`` says why running it again is safe
    ("files already ingested are not ingested twice"); ``left``, when given, what was
    left for the next run and is no failure (``ingest``'s files still being copied in:
    :func:`railwatch.cli.ingest.in_transit_note`; session 51)."""
    verb = "is" if new == 1 else "are"
    kept = f"the {new} new scene{plural_s(new)} {verb} kept; " if new else ""
    return (
        f"{failed} of {found} {noun}{plural_s(found)} failed (listed above with the reason); "
        f"{kept}{left + '; ' if left else ''}fix what each reason says and run it again: "
        f"{again}"
    )


def refused_of(refused: int, found: int, noun: str) -> str:
    """The subject of "... refused" in a batch where none was recorded: "the file was",
    "all 3 files were", and where ``found`` counts more than the ``refused`` (files
    still being copied in, left for the next run) "2 of the 3 files were" (session 51
    review: "all 2 files were refused" of three found)."""
    if refused == found:
        return f"the {noun} was" if refused == 1 else f"all {refused} {noun}s were"
    verb = "was" if refused == 1 else "were"
    return f"{refused} of the {found} {noun}{plural_s(found)} {verb}"


def comma_list(value: str) -> tuple[str, ...]:
    """The non-empty, stripped items of a comma-separated option (``"a, b,"`` -> a, b)."""
    return tuple(s.strip() for s in value.split(",") if s.strip())


# ------------------------------------------------------------------------------ ids

# MAX_RECORD_ID (imported above from railwatch.limits, where the core reads it too) is
# the largest id a scene, event or alert can have.


def check_record_id(value: int, kind: str, see: str) -> int:
    """``value`` when it can be the id of a ``kind`` (a scene, an event, an alert);
    otherwise the :class:`NotFoundError` an unknown id of that kind gets (``see`` says
    where the ids are listed), before any database is asked."""
    if value > MAX_RECORD_ID:
        raise NotFoundError(f"no {kind} with id {value}: {see}")
    return value


# ---------------------------------------------------------------------------- dates

# calendar_error, parse_time and the message of a date that is none (_not_a_date) are
# railwatch.limits' (imported above): the web API's alert lists read their since and
# until by the same rules (2026-12-06, session 35; they were defined here).


def parse_day(text: str, what: str) -> date:
    """A YYYY-MM-DD value (of the option or argument named ``what`` in messages) as a
    date. Refused with an :class:`~railwatch.errors.InputError`: text that is not a date,
    and a date that does not exist (2024-02-30, 2024-13-01), which is said as such. Only
    the YYYY-MM-DD form: Python's parser also takes 20240418 and week dates (2024-W16-3,
    the 17th of April), which a typo can turn into a date nobody meant. A day with a time
    or a time zone (2023-09-13T10:00+09:00, 2023-09-13 10:00) is refused with a message
    that says to give the day only: it is not cut to its date, since the day in UTC and
    the local day (of an event, the day it happened there) can differ."""
    expected = "a date YYYY-MM-DD (e.g. 2023-09-13)"
    if not _DAY.fullmatch(text.strip()):
        if _DAY_AND_TIME.fullmatch(text.strip()):
            why = calendar_error(text.strip()[:10])
            if why is not None:
                raise InputError(f"{what} {text!r} is not a valid calendar date: {why}")
            raise InputError(
                f"{what} {text!r} has a time or time zone: this date is a day, give the "
                "day only, YYYY-MM-DD (for an event, the local day it happened there, "
                "e.g. 2023-09-13). A time is not converted: the day in UTC and the local "
                "day can differ"
            )
        raise InputError(f"{what} {text!r} is not {expected}")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _not_a_date(what, text, expected) from None


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: A day followed by a time of day (and perhaps a zone: "T10:00", " 10:00:05.5+09:00",
#: "T10Z") or by a zone alone ("Z", "+09:00", "+0900"): told to give the day only.
_DAY_AND_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:"
    r"[Tt ]+\d{1,2}(?::?\d{2}){0,2}(?:[.,]\d+)?\s*(?:[Zz]|UTC|GMT|[-+−]\d{2}(?::?\d{2})?)?"
    r"|\s*(?:[Zz]|UTC|GMT|[-+−]\d{2}:?\d{2})"
    r")"
)


def parse_acquisition_option(text: str | None, option: str = "--date") -> datetime | date | None:
    """``ingest --date``'s value: a :class:`~datetime.date` for a date alone (a day at
    the site: the ingest dates it noon there, ``railwatch.imagery.dates.local_noon``;
    since 2026-12-05, session 32, it was midnight UTC, the day before west of
    Greenwich), an aware UTC datetime for a date and time (:func:`parse_time`); None
    when the option is not given."""
    if text is None:
        return None
    when = parse_time(text, option)
    return when.date() if _DAY.fullmatch(text.strip()) else when


def parse_date_option(text: str | None, option: str = "--date") -> datetime | None:
    """``option``'s value as an aware UTC datetime (a date alone is midnight UTC; an
    impossible date such as 2024-02-30 is said to be one): :func:`parse_time`; None when
    the option is not given."""
    return None if text is None else parse_time(text, option)


# ------------------------------------------------------------ shared image options
# --bands and --radiometry mean the same in every command that reads images (ingest,
# ingest-stac, detect, eval): one flag, one metavar, one parser and one error message;
# each command's help says what the option does there.


def bands_option(help: str) -> Any:
    """The ``--bands R,G,B`` option, with the command's ``help``."""
    return typer.Option("--bands", metavar="R,G,B", help=help)


def parse_bands_option(text: str | None) -> tuple[int, int, int] | None:
    """``--bands``'s value as 1-based red, green and blue band numbers (None when not
    given), or the :class:`InputError` of ``imagery.read.parse_rgb_bands`` naming the
    option (``--bands '1,2': give the red, green and blue band numbers...``)."""
    if text is None:
        return None
    from railwatch.imagery.read import parse_rgb_bands

    try:
        return parse_rgb_bands(text)
    except InputError as err:
        raise InputError(f"--{err}") from None


def radiometry_option(help: str) -> Any:
    """The ``--radiometry linear|display`` option, with the command's ``help``."""
    return typer.Option("--radiometry", metavar="linear|display", help=help)


def parse_radiometry_option(text: str | None) -> Radiometry | None:
    """``--radiometry``'s value (None when not given), or the :class:`InputError` of
    ``imagery.read.parse_radiometry`` that says which there are."""
    if text is None:
        return None
    from railwatch.imagery.read import parse_radiometry

    return parse_radiometry(text)


def say_item_scaling(image: Path, beside: FileItemScaling | None) -> None:
    """On stderr: that the bands were read with the scales the STAC item beside the file
    declares, and a warning where the file declares others (the file's are read)."""
    if beside is not None and beside.words is not None:
        err_console.print(
            f"[dim]note: {escape(image.name)}: {escape(beside.words)}.[/]", highlight=False
        )
    if beside is not None and beside.note is not None:
        err_console.print(
            f"[bold yellow]warning:[/] {escape(image.name)}: {escape(beside.note)}.",
            highlight=False,
        )


# -------------------------------------------------------------------- confirmations


def stdin_is_terminal() -> bool:
    """Whether standard input is a terminal, where someone can answer a question."""
    try:
        return bool(sys.stdin is not None and sys.stdin.isatty())
    except (AttributeError, ValueError):  # no stdin, or a closed one
        return False


def confirm(question: str, refusal: str) -> bool:
    """Ask ``question [y/N]`` when standard input is a terminal: True only for y/yes.

    When it is not (a script, a pipe, a cron job) nothing is asked and the command is
    refused with ``refusal`` (an :class:`InputError`, status 2), which should say to
    pass --yes; so is a question left unanswered (end of input). Ctrl-C at the question
    aborts ("Aborted.", status 130). This is how every destructive command without
    --yes behaves (`site remove`, `event remove`, `restore`).

    The question is written on standard error, as git and pip ask theirs, so that a
    command's output on standard output (``restore --json`` piped to another program)
    holds nothing else (since 2026-12-06, session 35: it was written on standard
    output, before the JSON)."""
    if not stdin_is_terminal():
        raise InputError(f"{refusal} (standard input is not a terminal, so nothing was asked)")
    typer.echo(f"{question} [y/N]: ", nl=False, err=True)
    try:
        answer = input()
    except EOFError:
        typer.echo(err=True)
        raise InputError(f"no answer to the confirmation: {refusal}") from None
    except KeyboardInterrupt:
        typer.echo(err=True)
        raise typer.Abort() from None  # "Aborted.", 130
    return answer.strip().lower() in ("y", "yes")


# ------------------------------------------------------------- psycopg's second errors


class PsycopgSecondErrors(logging.Filter):
    """Keeps psycopg's "error ignored terminating <psycopg.Pipeline [BAD] ...>: the
    connection is lost" (and "error ignored exiting ...", "error ignored in rollback
    ...") off the command's stderr, logged at DEBUG by railwatch instead (``--debug``
    shows it). psycopg logs these at WARNING from the ``except`` of a pipeline's,
    copy's or transaction's exit when it fails while an exception raised inside the
    block is on its way out: a second failure of a connection already lost, above the
    one error line railwatch prints for the first ("the connection to the server was
    lost ..."), where it came out as a stray WARNING (2026-12-07, session 51).

    Only such records are dropped: a WARNING whose message starts "error ignored ",
    logged while an exception is being handled; every other psycopg record passes.

    It is installed by the ``railwatch`` command alone (:func:`quiet_psycopg_second_errors`,
    from ``railwatch.cli.main``'s root callback, beside its ``logging.basicConfig``): a
    filter on the ``psycopg`` logger is process-wide, and would hide those warnings of an
    application's own psycopg connections too, so the library (``railwatch.storage``)
    never installs it (session 51 review: ``make_engine`` did, for every PostgreSQL
    URL). An application that embeds railwatch and wants the same may add it to
    ``logging.getLogger("psycopg")`` itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.levelno != logging.WARNING
            or not str(record.msg).startswith("error ignored ")
            or sys.exc_info()[1] is None
        ):
            return True
        _log.debug("psycopg, after the error raised: %s", record.getMessage())
        return False


_log = logging.getLogger("railwatch.cli")
_PSYCOPG_SECOND_ERRORS = PsycopgSecondErrors()


def quiet_psycopg_second_errors() -> None:
    """Put :class:`PsycopgSecondErrors` on psycopg's logger, once (the CLI's root
    callback; psycopg itself is not imported)."""
    psycopg_log = logging.getLogger("psycopg")
    if not any(isinstance(f, PsycopgSecondErrors) for f in psycopg_log.filters):
        psycopg_log.addFilter(_PSYCOPG_SECOND_ERRORS)
