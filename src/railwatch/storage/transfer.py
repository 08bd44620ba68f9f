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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from railwatch.errors import ConfigError, StorageError
from railwatch.storage.db import SQLITE_BEGIN_OPTION, Database, explain_db_error, mask_password
from railwatch.storage.models import Base, Site

__all__ = ["CopyProgress", "CopyResult", "copy_database"]

#: Rows read and written at a time.
BATCH_ROWS = 2000

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
    transaction: a copy that fails leaves it empty. A ``dest`` that holds any row is
    refused, nothing written. The source is left as it is.

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
        dst = Database(dest)
        stack.callback(dst.dispose)
        tables = _tables()
        try:
            with dst.engine.connect() as conn:
                held = {t.name: _rows(conn, t) for t in tables if _rows(conn, t)}
        except SQLAlchemyError as err:
            raise StorageError(explain_db_error(err, dst.safe_url, "database read")) from err
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
        with src.session(readonly=True) as session:
            names = list(session.scalars(select(Site.name).order_by(Site.name)))
        stack.enter_context(_no_run(src, names))
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
