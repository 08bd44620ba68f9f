"""``railwatch backup`` and ``railwatch restore``: a checked copy of the SQLite database,
taken while runs go on, and putting one back (2026-12-05, session 34)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from railwatch.cli._common import (
    confirm,
    console,
    err_console,
    no_database_message,
    print_json,
    state,
)

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
            no_database_message(err.path, cli.db_url, ctx.command_path), err.path
        ) from err
    if as_json:
        print_json(
            {
                "source": str(result.source),
                "backup": str(result.path),
                "bytes": result.size,
                "revision": result.revision,
                "rows": result.rows,
            }
        )
        return
    rows = ", ".join(f"{n} {table}" for table, n in result.rows.items())
    console.print(
        f"backed up {escape(str(result.source))} to {escape(str(result.path))} "
        f"({result.size / 1e6:.1f} MB, schema {escape(result.revision)}; {rows}); "
        "integrity checked",
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
            }
        )
        return
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


def register(app: typer.Typer) -> None:
    app.command("backup", help=BACKUP_HELP)(backup_command)
    app.command("restore", help=RESTORE_HELP)(restore_command)
