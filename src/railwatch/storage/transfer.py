"""Copy a railwatch database into a new, empty one: SQLite to PostgreSQL as a team
outgrows one file (or back, or between two servers).

docs/scaling.md names the path from one site on a laptop (SQLite) to many on
PostgreSQL, and nothing moved a site's history there: ``railwatch backup`` copies
SQLite to SQLite, ``pg_dump`` PostgreSQL to PostgreSQL, and ingesting the images again
loses what only the database holds (analysts' reviews, events, acknowledgements and
their notes) and processes every image again. :func:`copy_database` copies every row of
every table, ids included, from one snapshot of the source, in one transaction on the
destination, then checks the rows of each table on both sides. Ids stay never given
twice (``models.NEVER_REUSED_IDS``): the destination's next id of each table is past
the highest its source ever gave, a deleted one included. Added 2026-12-07, session 46.

A copy into a new SQLite file that fails or is refused after making the file (a run
holding the source, a full disk, Ctrl-C) removes the file it made, when it is still that
file and holds no row; an existing file is never removed (2026-12-07, session 51: it
was left with empty tables).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from sqlalchemy import Connection, Table, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from railwatch.errors import ConfigError, RailwatchError, StorageError
from railwatch.storage import db as storage_db
from railwatch.storage.db import (
    SQLITE_BEGIN_OPTION,
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    explain_db_error,
    mask_password,
    path_problem,
    sqlite_path,
)
from railwatch.storage.migrate import VERSION_TABLE, upgrade
from railwatch.storage.models import Base, Site

__all__ = ["CopyProgress", "CopyResult", "copy_database"]

#: Rows read and written at a time.
BATCH_ROWS = 2000

log = logging.getLogger(__name__)

#: What :func:`copy_database` reports as it copies: the table being copied, the rows of
#: every table copied so far and the rows to copy in all (2026-12-07, session 46).
CopyProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class CopyResult:
    """What :func:`copy_database` copied: the URLs (passwords hidden) and the rows of
    each table, checked equal on both sides."""

    source: str
    dest: str
    rows: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        shown = ", ".join(f"{t} {n}" for t, n in self.rows.items())  # table, rows
        return f"copied {self.source} to {self.dest} ({shown}); rows checked on both sides"


def _same_database(a: str, b: str) -> bool:
    try:
        ua, ub = make_url(a), make_url(b)
    except ArgumentError:
        return a == b
    return ua.set(password=None) == ub.set(password=None)


def _tables() -> list[Table]:
    """railwatch's tables, each after those it refers to."""
    return list(Base.metadata.sorted_tables)


def _highest_id_given(conn: Connection, table: Table) -> int:
    """The highest id ``table`` ever gave on this database: its highest row's, or more
    where rows at the top were deleted (SQLite's ``sqlite_sequence`` of an AUTOINCREMENT
    table, PostgreSQL's sequence)."""
    pk = list(table.primary_key.columns)
    if len(pk) != 1 or not pk[0].autoincrement:
        return 0
    highest = int(conn.execute(select(func.coalesce(func.max(pk[0]), 0))).scalar_one())
    if conn.dialect.name == "sqlite":
        if inspect(conn).has_table("sqlite_sequence"):
            seq = conn.execute(
                text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table.name}
            ).scalar()
            highest = max(highest, int(seq or 0))
    elif conn.dialect.name == "postgresql":
        seq = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name}
        ).scalar()
        if seq:
            last, called = conn.execute(
                text(f"SELECT last_value, is_called FROM {seq}")  # the server's own name
            ).one()
            highest = max(highest, int(last) if called else 0)
    return highest


def _set_next_id(conn: Connection, table: Table, highest: int) -> None:
    """Make the destination's next id of ``table`` ``highest`` + 1."""
    pk = list(table.primary_key.columns)
    if len(pk) != 1 or not pk[0].autoincrement or highest < 1:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence(:t, :c), :v, true)"),
            {"t": table.name, "c": pk[0].name, "v": highest},
        )
    elif (
        conn.dialect.name == "sqlite"
        and table.dialect_options["sqlite"].get("autoincrement")
        and inspect(conn).has_table("sqlite_sequence")
    ):
        conn.execute(
            text("UPDATE sqlite_sequence SET seq = max(seq, :v) WHERE name = :t"),
            {"t": table.name, "v": highest},
        )


def _rows(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@contextmanager
def _no_run(db: Database, sites: list[str]) -> Iterator[None]:
    """Hold each site of the source as a processing run does, so that none runs (or
    has its tracks edited) during the copy: what it recorded after the snapshot would
    be in the source alone."""
    with db.exclusive(
        {
            f"process:{name}": f"site {name!r} is being processed by a railwatch run: let it "
            "finish (or stop it), then copy the database; nothing was copied"
            for name in sites
        }
    ):
        yield


@dataclass(frozen=True)
class _MadeFile:
    """The new SQLite file :func:`copy_database` made for its destination: its path, its
    identity (device, inode) and the files beside it (``-wal``, ``-shm``, ``-journal``)
    that were not there before it."""

    path: Path
    ident: tuple[int, int]
    beside: tuple[Path, ...]
    #: its size as made: one page, no table
    size: int


def _make_dest_file(dest: str) -> _MadeFile | None:
    """Make the file of ``dest`` when it is a SQLite file not there yet, and say so
    (None: another database, a file there already, one another process made first, or
    one that cannot be made here: :func:`~railwatch.storage.db.make_engine` then says
    what is wrong, or SQLite makes it where the file system cannot link, and it stays)."""
    path = sqlite_path(dest)
    if path is None or path_problem(path) is not None:
        return None
    if path.exists() or path.is_symlink() or not path.parent.is_dir():
        return None
    beside = tuple(
        side
        for side in (path.with_name(path.name + end) for end in ("-wal", "-shm", "-journal"))
        if not side.exists()
    )
    if not storage_db._create_sqlite_file(path):
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return _MadeFile(path, (st.st_dev, st.st_ino), beside, st.st_size)


def _still_bare(made: _MadeFile) -> bool:
    """Whether the file ``made`` is still as made, without a table: its one page, and no
    write-ahead log holding pages (a table would have its own page, written to the log
    first). Told without SQLite, which cannot open it where it cannot grow its ``-shm``
    file (a file size limit, a full disk: what stopped the copy)."""
    wal = made.path.with_name(made.path.name + "-wal")
    try:
        return made.path.stat().st_size == made.size and (
            not wal.exists() or wal.stat().st_size == 0
        )
    except OSError:
        return False


def _holds_rows(path: Path) -> bool:
    """Whether the SQLite file ``path`` holds a row in any table but the schema version
    (or cannot be read to tell: taken as holding one)."""
    try:
        con = sqlite3.connect(
            f"{path.as_uri()}?mode=ro", uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000.0
        )
        try:
            tables = [
                str(name)
                for (name,) in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite!_%' ESCAPE '!' AND name <> 'alembic_version'"
                )
            ]
            return any(
                con.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() is not None for t in tables
            )
        finally:
            con.close()
    except sqlite3.Error as err:
        log.debug("cannot tell whether %s holds rows (%s): it is kept", path, err)
        return True


def _remove_made(made: _MadeFile) -> bool:
    """Remove the file ``made`` for a copy that failed, with the files beside it that
    were not there before, when it is still that file (not replaced) and holds no row
    (another process may have written into it meanwhile: kept). True when removed."""
    try:
        st = made.path.stat()
    except OSError:
        return False
    if (st.st_dev, st.st_ino) != made.ident:
        return False
    if not _still_bare(made) and _holds_rows(made.path):
        return False
    try:
        made.path.unlink()
    except OSError as err:
        log.debug("could not remove %s: %s", made.path, err)
        return False
    for side in made.beside:
        with suppress(OSError):
            side.unlink()
    return True


def _removing_on_failure(
    made: _MadeFile,
) -> Callable[[type[BaseException] | None, BaseException | None, TracebackType | None], bool]:
    """The exit callback (``ExitStack.push``) that removes the file ``made`` when the copy
    fails, is refused or is interrupted, and adds to a railwatch error's words that it
    was removed."""

    def on_exit(
        kind: type[BaseException] | None, err: BaseException | None, _tb: TracebackType | None
    ) -> bool:
        if kind is None or not _remove_made(made):
            return False
        if isinstance(err, RailwatchError) and err.args and isinstance(err.args[0], str):
            # the same error (its type says the exit status: busy, ...), its words longer
            err.args = (
                f"{err.args[0]}; the new file {made.path} made for the copy was removed",
                *err.args[1:],
            )
        return False

    return on_exit


def copy_database(
    source: str,
    dest: str,
    *,
    batch: int = BATCH_ROWS,
    on_progress: CopyProgress | None = None,
) -> CopyResult:
    """Copy every row of the railwatch database ``source`` into ``dest``, a new or empty
    database (its tables are created), and check the rows of each table on both sides.

    ``source`` is read in one snapshot while its sites are held against processing runs
    (a run in progress refuses the copy, :class:`~railwatch.storage.db.BusyError`);
    other writers (``serve``, ``event add``, ``alert ack``) should be stopped first:
    what they write after the snapshot stays in the source alone. A source of an older
    railwatch is upgraded first, as every command upgrades it. ``dest`` is written in one
    transaction: a copy that fails leaves it empty, and a new SQLite file it made for
    ``dest`` is removed when the copy fails, is refused or is interrupted (the error then
    says so; never a file that was there before; session 51). A ``dest`` that holds any
    row is refused, nothing written. The source is left as it is.

    ``on_progress(table, done, total)``, when given, is called before the first row (0
    of ``total``, the rows of every table in the snapshot, counted first) and after each
    batch written (``done`` rows of all tables so far, ``table`` the one being copied);
    without it nothing is counted ahead (``railwatch copy-db`` shows it as a progress
    bar, 2026-12-07, session 46)."""
    if _same_database(source, dest):
        raise ConfigError(
            f"the source and the destination are the same database ({mask_password(dest)}): "
            "give a new, empty one as the destination"
        )
    with ExitStack() as stack:
        src = Database(source, create=False)
        stack.callback(src.dispose)
        with src.session(readonly=True) as session:
            names = list(session.scalars(select(Site.name).order_by(Site.name)))
        # held first: a copy refused for a run in progress leaves DEST untouched
        stack.enter_context(_no_run(src, names))
        made = _make_dest_file(dest)
        if made is not None:  # removed if the copy fails: after dst is disposed (LIFO)
            stack.push(_removing_on_failure(made))
        # its schema made or upgraded only once it is known to hold no row: a DEST
        # refused is left as it was (an older railwatch's was upgraded first; session 51)
        dst = Database(dest, migrate=False)
        stack.callback(dst.dispose)
        tables = _tables()
        try:
            with dst.engine.connect() as conn:
                there = set(inspect(conn).get_table_names())
                # a railwatch database's rows (one without a version table, its tables
                # another application's, is said so by upgrade, as by every command)
                counted = (
                    {t.name: _rows(conn, t) for t in tables if t.name in there}
                    if VERSION_TABLE in there
                    else {}
                )
        except SQLAlchemyError as err:
            raise StorageError(explain_db_error(err, dst.safe_url, "database read")) from err
        held = {name: n for name, n in counted.items() if n}
        if held:
            shown = ", ".join(f"{t} {n}" for t, n in held.items())  # table, rows
            new = (  # a SQLite file was told to createdb (session 46's copy-db)
                "a file not there yet, sqlite:///NEW.db"
                if dst.engine.dialect.name == "sqlite"
                else "createdb NEW, then postgresql+psycopg://USER@HOST/NEW"
            )
            raise StorageError(
                f"database {dst.safe_url} is not empty ({shown}): copy into a new, empty "
                f"database ({new}); nothing was copied"
            )
        upgrade(dst.engine)
        rows: dict[str, int] = {}
        doing = "database read"
        try:
            with src.engine.connect() as rconn, dst.engine.connect() as wconn:
                read = rconn.execution_options(**_snapshot(rconn))
                with read.begin(), wconn.begin():
                    done = total = 0
                    if on_progress is not None:  # in the snapshot, as the copy
                        total = sum(_rows(read, t) for t in tables)
                        on_progress(tables[0].name if tables else "", 0, total)
                    for table in tables:
                        doing = "database read"
                        pk = list(table.primary_key.columns)
                        result = read.execution_options(yield_per=batch).execute(
                            select(table).order_by(*pk)
                        )
                        for chunk in result.partitions(batch):
                            doing = "database write"
                            wconn.execute(table.insert(), [dict(r._mapping) for r in chunk])
                            doing = "database read"
                            if on_progress is not None:
                                done += len(chunk)
                                on_progress(table.name, done, total)
                        rows[table.name] = _rows(read, table)
                        _set_next_id(wconn, table, _highest_id_given(read, table))
                    doing = "database read"
                    copied = {t.name: _rows(wconn, t) for t in tables}
                    if copied != rows:
                        differ = ", ".join(
                            f"{t}: {rows[t]} -> {copied.get(t)}"
                            for t in rows
                            if copied.get(t) != rows[t]
                        )
                        raise StorageError(
                            f"copying {src.safe_url} to {dst.safe_url} gave different row "
                            f"counts ({differ}): "
                            "nothing was copied (rolled back); report this with the railwatch "
                            "version"
                        )
                    doing = "database write"
        except SQLAlchemyError as err:
            url = src.safe_url if doing == "database read" else dst.safe_url
            raise StorageError(
                explain_db_error(err, url, doing) + "; nothing was copied (rolled back)"
            ) from err
        return CopyResult(source=src.safe_url, dest=dst.safe_url, rows=rows)


def _snapshot(conn: Connection) -> dict[str, object]:
    """Options of a read of one snapshot: PostgreSQL's REPEATABLE READ, read only;
    SQLite's deferred read transaction in WAL mode is one already."""
    if conn.dialect.name == "postgresql":
        return {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    return {SQLITE_BEGIN_OPTION: "DEFERRED"}
