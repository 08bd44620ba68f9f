"""``railwatch backup`` and ``railwatch restore``: a checked copy of the SQLite database,
taken while runs go on, and putting one back (2026-12-05, session 34); ``railwatch
copy-db``: the database copied whole into a new, empty one, SQLite to PostgreSQL as a
team outgrows one file (``storage.transfer.copy_database``; 2026-12-07, session 46)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from railwatch.cli._common import (
    confirm,
    console,
    err_console,
    no_database_message,
    plural_s,
    print_json,
    progress_bar,
    state,
)

if TYPE_CHECKING:
    from railwatch.storage.transfer import Leftovers

BACKUP_HELP = """Copy the SQLite database to DEST (a new file), consistently, while other
railwatch runs go on writing: SQLite's online backup (not `cp`, which misses the latest
commits kept in the -wal file beside the database, or copies a damaged file), made one
self-contained file, checked (integrity, schema revision, rows per table) before it is
given DEST's name. An existing DEST is never overwritten. Nothing is migrated: run it
before upgrading railwatch to keep the database as it was. To put it back, use
`railwatch restore DEST` (not cp). PostgreSQL: it says the pg_dump and pg_restore
commands to use.

Example: [bold]railwatch backup backups/railwatch-2026-12-05.db[/]
"""


def backup_command(
    ctx: typer.Context,
    dest: Annotated[Path, typer.Argument(help="The backup's file (new; never overwritten).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Copy the SQLite database to DEST, checked, while other runs go on writing."""
    from railwatch.storage.backup import backup
    from railwatch.storage.db import NoDatabaseError

    cli = state(ctx)
    url = cli.settings().db
    try:
        result = backup(url, dest)
    except NoDatabaseError as err:  # said as every command says it (where it looked)
        raise NoDatabaseError(
            no_database_message(err.path, cli.db_url, ctx.command_path, cli.db_source), err.path
        ) from err
    if as_json:
        print_json(
            {
                "source": str(result.source),
                "backup": str(result.path),
                "bytes": result.size,
                "revision": result.revision,
                "rows": result.rows,
                "removed": [str(p) for p in result.removed],
            }
        )
        return
    rows = ", ".join(f"{n} {table}" for table, n in result.rows.items())
    _say_removed(result.removed)
    console.print(
        f"backed up {escape(str(result.source))} to {escape(str(result.path))} "
        f"({result.size / 1e6:.1f} MB, schema {escape(result.revision)}; {rows}); "
        "integrity checked",
        highlight=False,
        soft_wrap=True,
    )


def _say_removed(removed: tuple[Path, ...]) -> None:
    """Say which unfinished copies, left by backups or restores killed before they ended,
    this one removed (2026-12-07, session 50: they were left, hidden, for good)."""
    if not removed:
        return
    names = ", ".join(p.name for p in removed[:3]) + (", ..." if len(removed) > 3 else "")
    n = len(removed)
    console.print(
        escape(
            f"removed {n} unfinished cop{'y' if n == 1 else 'ies'} that a backup or restore "
            f"killed before it ended had left in {removed[0].parent} ({names}): "
            f"{'it was' if n == 1 else 'they were'} never a backup"
        ),
        highlight=False,
        soft_wrap=True,
    )


RESTORE_HELP = """Put BACKUP (a file `railwatch backup` wrote) back as the SQLite database.
BACKUP is checked first (integrity, a schema revision this railwatch knows); the database
as it is now is first backed up beside it (FILE.before-restore-STAMP.db), so nothing is
lost; then BACKUP is written into it through SQLite, in one transaction. Do not copy a
backup over the database file with cp: a -wal file left beside it (a run killed, a crash)
is replayed onto the copy at the next open and mixes in the old database's last commits.
Refused while a railwatch run processes a site of the database; stop `railwatch serve`
too: it is refused while any other process has the database open. A backup of an older
railwatch is upgraded by the next command (restore says so). Interrupted (Ctrl-C), it
says whether the database is as it was or restored: never half of each.

Example: [bold]railwatch restore backups/railwatch-2026-12-05.db --yes[/]
"""


def restore_command(
    ctx: typer.Context,
    backup_file: Annotated[
        Path, typer.Argument(metavar="BACKUP", help="The backup's file (railwatch backup).")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Put BACKUP back as the SQLite database, keeping the database as it was beside it."""
    from railwatch.storage.backup import (
        RestoreInterrupted,
        is_empty_database_file,
        resolved_file_path,
        restore,
    )
    from railwatch.storage.db import sqlite_path
    from railwatch.storage.migrate import head_revision

    url = state(ctx).settings().db
    target = sqlite_path(url)
    # a database that does not exist yet is created, not replaced: nothing to confirm
    # (it asked for --yes "to replace the database" until session 41); nor does an
    # empty file of 0 bytes (session 41), but a file with anything in it does
    shown = resolved_file_path(backup_file)  # as the result names it
    # no backup file there (a typo): restore says so without asking first (it asked for
    # --yes, then said "no backup at"; walk-in, 2026-12-07, session 45)
    if (
        not yes
        and shown.is_file()
        and target is not None
        and target.exists()
        and not is_empty_database_file(target)
    ):
        question = f"Replace the database {target} with the backup {shown}"
        if not confirm(
            f"{question} (the database as it is now is kept beside it)?",
            f"restoring replaces the database {target} with {shown}; pass --yes to confirm",
        ):
            # an answer, not an error (status 0); with --json, stdout holds JSON only
            (err_console if as_json else console).print("Nothing restored.", highlight=False)
            return
    try:
        result = restore(url, backup_file)
    except RestoreInterrupted as err:  # what state the database is in, then "Interrupted."
        err_console.print(escape(err.message), highlight=False, soft_wrap=True)
        raise
    except KeyboardInterrupt:  # before restore held the database, or as it returned
        where = f"the database {target}" if target is not None else "the database"
        err_console.print(
            escape(
                f"railwatch restore was interrupted: {where} is whole, as it was or "
                "restored (the copy is one SQLite transaction); run `railwatch restore "
                f"{backup_file}` again to be sure"
            ),
            highlight=False,
            soft_wrap=True,
        )
        raise
    head = head_revision()
    if result.revision != head:  # older (a newer one is refused): said, on stderr
        err_console.print(
            f"note: the backup holds schema revision {escape(result.revision)}, older than "
            f"this railwatch's {escape(head)}: the next railwatch command that opens the "
            "database upgrades it (it says so), after which an older railwatch can no "
            "longer open it",
            highlight=False,
            soft_wrap=True,
        )
    if as_json:
        print_json(
            {
                "database": str(result.target),
                "backup": str(result.backup),
                "kept": str(result.kept) if result.kept else None,
                "created": result.created,
                "was_empty": result.was_empty,
                "revision": result.revision,
                "upgrade_pending": result.revision != head,
                "rows": result.rows,
                "removed": [str(p) for p in result.removed],
            }
        )
        return
    _say_removed(result.removed)
    rows = ", ".join(f"{n} {table}" for table, n in result.rows.items())
    kept = f"; the database as it was is kept in {escape(str(result.kept))}" if result.kept else ""
    if result.was_empty:
        kept = "; the database file there was empty (0 bytes): nothing was replaced"
    elif result.created:
        kept = "; there was no database there: it was created"
    console.print(
        f"restored {escape(str(result.target))} from {escape(str(result.backup))} "
        f"(schema {escape(result.revision)}; {rows}); integrity checked{kept}",
        highlight=False,
        soft_wrap=True,
    )


COPY_DB_HELP = """Copy the whole database into DEST, a new, empty database: SQLite to
PostgreSQL as a team outgrows one file, or back, or between two servers.

Every row of every table is copied, ids kept: sites, every image's results, analysts'
reviews, events, alerts and their acknowledgements; nothing is ingested or processed
again. The database of --db (or RAILWATCH_DB) is read in one snapshot and left as it
was; DEST is written in one transaction (a copy that fails or is interrupted leaves it
empty; a new SQLite file is written beside it under a hidden name and appears at DEST
only once the copy is whole), its tables created, and the rows of each table are checked
equal on both sides.
A DEST that holds any row is refused, as is the database itself; the copy is refused
while a railwatch run processes a site of the database. Stop `railwatch serve` and other
writers first: what they write after the snapshot stays in the old database alone. Then
point --db or RAILWATCH_DB at DEST; keep the old database as the backup of the move.

Example: [bold]createdb -O railwatch railwatch[/]
then: [bold]railwatch --db sqlite:///railwatch.db copy-db postgresql+psycopg://railwatch@db.example.org/railwatch[/]
"""


def _db_url_argument(dest: str) -> None:
    """An :class:`InputError` (status 2) for a DEST no copy can go to: not a URL (a path
    given as the file: said how to write it), in-memory SQLite (lost at exit)."""
    from railwatch.errors import InputError
    from railwatch.storage.db import is_memory_url

    if not dest.strip():
        raise InputError(
            "DEST is empty: give the database to copy into, sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        )
    if "://" not in dest:
        raise InputError(
            f"DEST {dest!r} is not a database URL: write sqlite:///{dest} for a SQLite "
            "file, or postgresql+psycopg://USER@HOST/DB"
        )
    if is_memory_url(dest):
        raise InputError(
            f"DEST {dest!r} is an in-memory SQLite database: the copy would be lost when "
            "the command exits; give a file (sqlite:///PATH) or a PostgreSQL database"
        )
    from railwatch.storage.transfer import sqlite_dest_problem

    problem = sqlite_dest_problem(dest)  # ?mode=ro&uri=true...: another file (session 51)
    if problem is not None:
        raise InputError(f"DEST {dest!r} {problem}")


#: Where the library's database errors say a URL comes from (``--db``, RAILWATCH_DB,
#: Python), and what copy-db says of DEST instead: its argument.
_URL_FROM = (
    (
        "(the database URL: --db URL on the command line, else the RAILWATCH_DB variable; "
        "Database(url) in Python)",
        "(the database URL: DEST, copy-db's argument)",
    ),
    ("Database(url) in Python, --db URL on the command line)", "DEST, copy-db's argument)"),
)


def _of_dest(message: str, source: str, dest: str) -> str:
    """``message``, a database error, naming DEST as the URL to check where it is about
    DEST: the library's words name --db and RAILWATCH_DB, which give the source here."""
    import contextlib
    import re

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from railwatch.storage.db import mask_password

    def names(url: str) -> bool:
        # as given, or as SQLAlchemy writes it (?host=/tmp/x as ?host=%2Ftmp%2Fx): DEST's
        # errors kept "--db URL" until session 50 where it wrote the URL otherwise
        shown = {mask_password(url)}
        with contextlib.suppress(ArgumentError, ValueError):
            shown.add(make_url(url).render_as_string(hide_password=True))
        return any(
            re.search(re.escape(form) + r"(?![\w./%-])", message) is not None for form in shown
        )

    if names(source) or not names(dest):
        return message
    for said, instead in _URL_FROM:
        message = message.replace(said, instead)
    return message


def _next_step(dest: str) -> str:
    """What to do after the copy: run railwatch on DEST (``***`` where its password is)."""
    import shlex

    hidden = "; *** stands for the password" if ":***@" in dest else ""
    return (
        f"next: point railwatch at the copy, with --db before the command (railwatch --db "
        f"{shlex.quote(dest)} site list) or for every command with export "
        f"RAILWATCH_DB={shlex.quote(dest)}{hidden}. Stop using the old database, or what "
        "is written there is not in the copy; keep it as the backup of the move."
    )


def _interrupted(err: KeyboardInterrupt, dest: str) -> str:
    """What ``copy-db`` says when Ctrl-C stopped it: what became of DEST, from what the
    copy did (:func:`railwatch.storage.transfer.dest_file_of`; session 51 review: "the
    new file ... made for the copy, was removed" was said of one never made)."""
    from railwatch.storage.transfer import dest_file_of

    fate = dest_file_of(err)
    source = "the database copied from is as it was"
    if fate is None:  # a file there already, or PostgreSQL: written in one transaction
        return (
            "railwatch copy-db was interrupted: DEST is written in one transaction, so it "
            "holds none of the copy (or, interrupted as the copy ended, all of it: the same "
            f"command then says DEST is not empty); {source}. Run the same command again "
            "to copy."
        )
    if fate.placed:
        return (
            f"railwatch copy-db was interrupted as the copy ended: DEST, {fate.path}, holds "
            f"all of it, its rows checked on both sides; {source}; " + _next_step(dest)
        )
    if fate.staged is None:
        dest_said = f"the copy had not begun: nothing was made for DEST, {fate.path}"
    elif fate.removed:
        dest_said = (
            f"DEST, {fate.path}, was not made: the copy was being written to a hidden file "
            "beside it, which was removed"
        )
    else:
        dest_said = (
            f"DEST, {fate.path}, was not made; the hidden file {fate.staged} the copy was "
            "being written to could not be removed: remove it"
        )
    return (
        f"railwatch copy-db was interrupted: {dest_said}; {source}. Run the same command "
        "again to copy."
    )


def _say_leftovers(found: Leftovers) -> None:
    """Say in one line each on standard error what became of the hidden files that a
    copy-db to DEST killed outright (``kill -9``) left beside it, which
    :func:`~railwatch.storage.transfer.copy_database` removes once the source is open
    (2026-12-08, sessions 52-53)."""
    from railwatch.storage.transfer import LEFTOVER_QUIET_S

    said: list[str] = []
    if found.removed:
        pids = ", ".join(str(p) for p in found.pids)
        said.append(
            f"removed {len(found.removed)} hidden file{plural_s(len(found.removed))} left "
            f"beside DEST by an earlier copy-db that was killed (process {pids}, gone): "
            + ", ".join(p.name for p in found.removed)
        )
    if found.recent:
        said.append(
            f"kept {', '.join(p.name for p in found.recent)} beside DEST: left by a copy-db "
            "whose process does not run on this machine, but written to within the last "
            f"{LEFTOVER_QUIET_S // 60} minutes (a copy from another machine sharing the "
            "folder?); a later copy-db removes it once unchanged that long"
        )
    for path, why in found.failed:
        said.append(
            f"could not remove {path}, left by a copy-db that was killed ({why}): remove it"
        )
    for line in said:
        err_console.print(line, highlight=False, soft_wrap=True, markup=False)


def copy_db_command(
    ctx: typer.Context,
    dest: Annotated[
        str,
        typer.Argument(
            metavar="DEST",
            help="The database to copy into, new or empty: sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB.",
            show_default=False,
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Copy the whole database into DEST, a new, empty database, checked."""
    from railwatch.errors import StorageError
    from railwatch.storage.db import NoDatabaseError
    from railwatch.storage.transfer import copy_database

    _db_url_argument(dest)
    cli = state(ctx)
    url = cli.settings().db
    try:
        with progress_bar(transient=True) as bar:
            task = bar.add_task("opening the databases", total=None)

            def report(table: str, done: int, total: int) -> None:
                bar.update(task, description=f"copying {table}", completed=done, total=total)

            result = copy_database(url, dest, on_progress=report, on_leftovers=_say_leftovers)
    except NoDatabaseError as err:  # said as every command says it (where it looked)
        raise NoDatabaseError(
            no_database_message(err.path, cli.db_url, ctx.command_path, cli.db_source), err.path
        ) from err
    except StorageError as err:
        said = _of_dest(str(err), url, dest)
        if said == str(err):
            raise
        raise StorageError(said) from err
    except KeyboardInterrupt as err:
        err_console.print(
            _interrupted(err, dest),
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
        raise
    total = sum(result.rows.values())
    if as_json:
        print_json(
            {
                "source": result.source,
                "dest": result.dest,
                "sites": result.rows.get("sites", 0),
                "scenes": result.rows.get("scenes", 0),
                "rows": result.rows,
                "total_rows": total,
                "checked": True,
            }
        )
        return
    sites, scenes = result.rows.get("sites", 0), result.rows.get("scenes", 0)
    tables = ", ".join(f"{table} {n}" for table, n in result.rows.items())
    console.print(
        f"copied {escape(result.source)} to {escape(result.dest)}: "
        f"{sites} site{plural_s(sites)}, {scenes} scene{plural_s(scenes)}, "
        f"{total} row{plural_s(total)} in {len(result.rows)} table{plural_s(len(result.rows))} "
        f"({escape(tables)}); "
        "the rows of each table checked equal on both sides",
        highlight=False,
        soft_wrap=True,
    )
    console.print(escape(_next_step(result.dest)), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("backup", help=BACKUP_HELP)(backup_command)
    app.command("restore", help=RESTORE_HELP)(restore_command)
    app.command("copy-db", help=COPY_DB_HELP)(copy_db_command)
