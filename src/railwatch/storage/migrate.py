"""Schema migrations with Alembic, driven from code (no alembic.ini needed).

The Alembic environment ships inside the package (``storage/migrations``);
:func:`upgrade` brings any database to the latest revision and is run
automatically when a :class:`~railwatch.storage.db.Database` is opened.

Alembic is imported only when a database is not at :data:`HEAD_REVISION` (an older or
a newer database): opening an up-to-date one reads its version table with SQLAlchemy
alone (:func:`stored_revisions`). Importing Alembic cost every command that opens a
database about 0.25 s of CPU (2026-12-06, session 39; docs/benchmarks.md, "CLI
start-up"). A new database (no tables at all) is made at the head directly, the models'
tables and the version table at :data:`HEAD_REVISION` in one transaction, without
Alembic (:func:`_create_at_head`; 2026-12-07, session 51: replaying every revision took
about 6 times the CPU, and the import as much again); ``tests/test_ops_leftovers_s51.py``
checks that the schema made so is the migrated one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    inspect,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from railwatch.errors import StorageError, some

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "foreign_tables_message",
    "head_revision",
    "is_railwatch_schema",
    "is_up_to_date",
    "other_application_message",
    "railwatch_table_names",
    "stored_revisions",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: The newest revision of ``migrations/versions`` (the head), known without Alembic: a
#: new migration changes it too (``tests/test_migrate_lazy_s39.py`` checks it against
#: the scripts; were it left behind, :func:`upgrade` would not trust it: see
#: :func:`_head_is_known`).
HEAD_REVISION = "0005_silence_utc"
#: The table Alembic keeps the revision in (its default; env.py does not change it).
VERSION_TABLE = "alembic_version"
log = logging.getLogger(__name__)
_PG_LOCK_KEY = 0x7261696C  # "rail": advisory lock held while migrating PostgreSQL


def alembic_config(url: str | None = None) -> Config:
    """An Alembic :class:`Config` pointing at the packaged migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The latest revision shipped with this railwatch (read from the scripts by
    Alembic; :data:`HEAD_REVISION` is the same, known without it)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise StorageError("no database migrations found in the railwatch package")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    from railwatch.storage.db import SQLITE_BEGIN_OPTION

    with engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"}).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def stored_revisions(engine: Engine) -> tuple[str, ...] | None:
    """The revisions the database's version table holds, read with SQLAlchemy alone
    (no Alembic): None when it has no version table (a new database, or another
    application's), else its rows (one, for a railwatch database)."""
    from railwatch.storage.db import SQLITE_BEGIN_OPTION

    with engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"}).connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return tuple(str(row[0]) for row in rows)


@cache
def _head_is_known() -> bool:
    """Whether :data:`HEAD_REVISION` is the newest script in ``migrations/versions``
    (each named after its revision, numbered in order): a migration added without
    changing the constant leaves every database to Alembic, rather than one at the old
    head unmigrated."""
    scripts = sorted(p.stem for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))
    return bool(scripts) and scripts[-1] == HEAD_REVISION


def is_up_to_date(engine: Engine) -> bool:
    """Whether the database is at the head revision, found without importing Alembic
    (when :func:`_head_is_known`; else False, and :func:`upgrade` asks Alembic)."""
    return _head_is_known() and stored_revisions(engine) == (HEAD_REVISION,)


#: Tables added after the first revision, each with the revision that added it, oldest
#: first: a database whose version table was lost is at the newest one its tables show.
_ADDED_IN = {"scene_reviews": "0003_scene_reviews"}


def _refuse_foreign_tables(conn: Connection, url: str) -> None:
    """A :class:`StorageError` when a database without railwatch's schema version holds
    tables of railwatch's names (another application's, or a railwatch database whose
    ``alembic_version`` table was lost): creating the schema there failed with
    "relation "sites" already exists" and nothing to do about it. A SQLite file is
    looked at before its first connection too (``db._foreign_sqlite``), so that it is
    refused as it is, not switched to WAL mode first."""
    taken = sorted(set(inspect(conn).get_table_names()) & railwatch_table_names())
    if not taken:
        return
    raise StorageError(
        foreign_tables_message(url, taken, version_table=inspect(conn).has_table(VERSION_TABLE))
    )


#: How railwatch names its revisions: a number, then words (``0005_silence_utc``).
_REVISION_FORM = re.compile(r"[0-9]{4}_[a-z0-9_]+")


def is_railwatch_schema(revision: str, tables: Iterable[str]) -> bool:
    """Whether a database whose version table holds ``revision``, with the tables
    ``tables``, is a railwatch database (of this railwatch or a newer one): railwatch
    numbers its revisions and every one of them has the tables ``sites`` and ``scenes``.
    Another application that uses Alembic has a version table too (its revisions are
    Alembic's hex ids by default), and its database was called one "written by a newer
    railwatch: upgrade railwatch" (until session 41)."""
    return bool(_REVISION_FORM.fullmatch(revision)) and {"sites", "scenes"} <= set(tables)


def other_application_message(
    url: str, revision: str, tables: Iterable[str], done: str, advice: str | None = None
) -> str:
    """What is said of the database ``url`` whose version table holds ``revision`` and
    that is not railwatch's (:func:`is_railwatch_schema`); ``done``: what was left
    undone ("it was left as it is", "nothing was backed up"); ``advice``: what to do
    instead (by default, to give railwatch a database of its own)."""
    names = sorted(set(tables) - {VERSION_TABLE})
    has = f", and its tables are {some(names, 5)}" if names else ""
    return (
        f"database {url} is not a railwatch database but another application's, which uses "
        f"Alembic too: its schema version table {VERSION_TABLE} holds revision {revision!r}"
        f"{has} (railwatch's revisions are numbered, e.g. {HEAD_REVISION}, and its tables "
        f"include sites and scenes); {done}: "
        + (
            advice
            or "give the URL of a railwatch database, or railwatch a database of its own (on "
            "PostgreSQL a schema of its own will do: add ?options=-csearch_path%3Drailwatch to "
            "the URL after CREATE SCHEMA railwatch)"
        )
    )


def railwatch_table_names() -> frozenset[str]:
    """The names of railwatch's tables (its models'; the version table aside)."""
    from railwatch.storage.models import Base

    return frozenset(Base.metadata.tables)


def foreign_tables_message(url: str, taken: list[str], *, version_table: bool) -> str:
    """What :func:`_refuse_foreign_tables` says of the database ``url`` that holds the
    tables ``taken`` (of railwatch's names) and no schema version (``version_table``:
    whether its version table is there, empty)."""
    from alembic.script import ScriptDirectory

    rev = ScriptDirectory.from_config(alembic_config()).get_base()
    for table, added_in in _ADDED_IN.items():  # the newest revision its tables show
        if table in taken:
            rev = added_in
    insert = f"INSERT INTO alembic_version VALUES ('{rev}')"
    if version_table:  # there, empty: CREATE TABLE would fail
        lost = f"alembic_version table is empty, give it its row: {insert}"
    else:
        lost = (
            "alembic_version table was lost, recreate it: CREATE TABLE alembic_version "
            f"(version_num VARCHAR(32) PRIMARY KEY); {insert}"
        )
    return (
        f"database {url} already has tables named {', '.join(taken)} but no railwatch "
        "schema version (table alembic_version): give railwatch a database of its own "
        "(on PostgreSQL a schema of its own will do: add ?options=-csearch_path%3Drailwatch "
        f"to the URL after CREATE SCHEMA railwatch); if this is a railwatch database whose {lost}"
    )


def _refuse_several_versions(engine: Engine) -> None:
    """A :class:`StorageError` when the version table holds more than one row: railwatch
    keeps one (its migrations do not branch), and Alembic said only "has more than one
    head present; please use get_current_heads()", an internal error to the CLI (review
    r6, 2026-12-06, session 39)."""
    stored = stored_revisions(engine)
    if stored is None or len(stored) < 2:
        return
    url = engine.url.render_as_string(hide_password=True)
    raise StorageError(
        f"database {url} has {len(stored)} rows in its schema version table "
        f"{VERSION_TABLE} ({', '.join(sorted(stored))}), where railwatch keeps one: it was "
        f"edited by hand or by another tool. Keep the row of the revision the schema is "
        f"at (DELETE FROM {VERSION_TABLE} WHERE version_num <> 'REVISION'; the newest "
        f"railwatch has is {HEAD_REVISION}), or restore the database from a backup "
        "(`railwatch restore BACKUP`); the database was not changed"
    )


def _fk_violations(conn: Connection) -> set[tuple[object, ...]]:
    """SQLite's foreign-key violations: (table, rowid, parent table) of each row whose
    parent is missing (checked whether enforcement is on or not)."""
    return {tuple(row[:3]) for row in conn.exec_driver_sql("PRAGMA foreign_key_check")}


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for migrating, committed when the block ends.

    On SQLite, foreign keys are not enforced while it runs (they cannot be switched off
    inside a transaction, so before it begins): a migration that rebuilds a table other
    tables refer to drops the old one, and with enforcement on that drop deleted its
    children (``ON DELETE CASCADE``). Before committing, the foreign keys are checked:
    a row left without its parent by the migration rolls everything back. Enforcement
    is switched on again whatever happens (the connection is discarded if it cannot
    be)."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # no transaction yet: it takes effect
        try:
            with conn.begin():
                before = _fk_violations(conn) if raw is not None else set()
                yield conn
                if raw is not None:
                    broken = sorted(_fk_violations(conn) - before, key=str)
                    if broken:
                        table, rowid, parent = broken[0]
                        raise StorageError(
                            f"migrating the database left {len(broken)} row(s) without "
                            f"their parent (first: {table} row {rowid}, in {parent}); "
                            "nothing was changed: report this with the railwatch version"
                        )
        finally:
            if raw is not None:
                try:
                    raw.execute("PRAGMA foreign_keys=ON")
                except Exception:  # never hand out a connection without enforcement:
                    conn.invalidate()  # discarded (the pool opens a new one, tuned)


def _version_table() -> Table:
    """The version table as Alembic makes it (``alembic.ddl.impl.DefaultImpl.
    version_table_impl``: ``version_num`` VARCHAR(32), primary key ``alembic_version_pkc``),
    so that a database made at the head has the table a migrated one has."""
    return Table(
        VERSION_TABLE,
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
    )


def _lock_schema(conn: Connection) -> None:
    """Hold PostgreSQL's advisory lock of schema changes until ``conn``'s transaction
    ends (SQLite's migrating transaction holds the write lock already: BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})


def _create_at_head(conn: Connection) -> bool:
    """Make the schema at :data:`HEAD_REVISION` in ``conn``'s transaction when the
    database has no table at all: the models' tables (``Base.metadata.create_all``:
    indexes, constraints, SQLite's ``AUTOINCREMENT`` of ``models.NEVER_REUSED_IDS``)
    and the version table holding the head, as replaying every revision makes it
    (``tests/test_ops_leftovers_s51.py`` compares the two), in a sixth of its CPU and
    without importing Alembic (2026-12-07, session 51). False, nothing done, where it
    has tables: another process made the schema meanwhile, or they are another
    application's; the migrations then say what they find, as before.

    On SQLite each ``AUTOINCREMENT`` table gets its row in ``sqlite_sequence`` at 0, as
    the migrations leave it (``0002_sqlite_autoincrement`` rebuilds ``scenes``,
    ``events`` and ``alerts`` by an INSERT ... SELECT, which writes the row even of no
    row copied): a file made here had none, and ``copy-db``, which only raised a row
    there, gave ids from 1 again of a table emptied in its source (session 51 review)."""
    if inspect(conn).get_table_names():
        return False
    from railwatch.storage.models import Base

    Base.metadata.create_all(conn, checkfirst=False)
    version = _version_table()
    version.create(conn, checkfirst=False)
    conn.execute(version.insert().values(version_num=HEAD_REVISION))
    if conn.dialect.name == "sqlite":
        for table in Base.metadata.sorted_tables:
            if table.dialect_options["sqlite"].get("autoincrement"):
                conn.execute(
                    text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, 0)"),
                    {"t": table.name},
                )
    return True


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Migrate the database (a URL or an engine) to ``revision`` (default: latest).

    Upgrading a database that had a schema (not creating one) is logged as a warning
    once committed, naming both revisions: the CLI shows it on stderr, so an operator
    learns that an older railwatch can no longer open the database (since session 34:
    it was silent).

    A database without any table (a new one) is made at :data:`HEAD_REVISION` directly,
    its tables and version table in one transaction, without Alembic
    (:func:`_create_at_head`; 2026-12-07, session 51); any other is migrated by Alembic.

    An error before the upgrade itself begins (reading the schema's revision, which is
    the first statement a command sends) is said as "opening the database failed", the
    one during it as "migrating the database failed" ("creating the schema failed" for a
    new one): a database at the latest revision
    on a full disk or in a read-only folder was said to have failed a migration that was
    never needed (2026-12-07, session 46)."""
    from railwatch.storage.db import explain_db_error, make_engine

    engine = make_engine(target) if isinstance(target, str) else target
    doing = "opening the database"
    try:
        # up to date: known without Alembic, which is imported only to migrate
        if revision == "head" and is_up_to_date(engine):
            return
        # no version table (a new database, or another application's): one without any
        # table is made at the head, without Alembic (session 51)
        if revision == "head" and _head_is_known() and stored_revisions(engine) is None:
            with _migrating(engine) as conn:
                _lock_schema(conn)
                doing = "creating the schema"
                made = _create_at_head(conn)
            if made:
                return
            doing = "opening the database"
        _refuse_several_versions(engine)
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(alembic_config())
        known = {r.revision for r in script.walk_revisions()}
        if revision == "head" and current_revision(engine) == script.get_current_head():
            return
        # Migrate under a lock, re-reading the revision, so that two processes opening
        # a new database at once do not both create the schema.
        with _migrating(engine) as conn:
            _lock_schema(conn)
            current = MigrationContext.configure(conn).get_current_revision()
            if current is not None and current not in known:
                from railwatch import __version__

                tables = inspect(conn).get_table_names()
                if not is_railwatch_schema(current, tables):
                    raise StorageError(
                        other_application_message(
                            engine.url.render_as_string(hide_password=True),
                            current,
                            tables,
                            "it was left as it is",
                        )
                    )
                raise StorageError(
                    f"database {engine.url.render_as_string(hide_password=True)} has schema "
                    f"revision {current}, newer than this railwatch knows (railwatch "
                    f"{__version__}, newest revision {script.get_current_head()}): it was "
                    "written by a newer railwatch; upgrade railwatch (pip install -U "
                    "railwatch) or use the one that wrote it. The database was not changed"
                )
            if revision == "head" and current == script.get_current_head():
                return
            if current is None:
                _refuse_foreign_tables(conn, engine.url.render_as_string(hide_password=True))
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            doing = "migrating the database" if current is not None else "creating the schema"
            command.upgrade(cfg, revision)
            after = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as err:
        url = engine.url.render_as_string(hide_password=True)
        raise StorageError(explain_db_error(err, url, doing)) from err
    finally:
        if isinstance(target, str):
            engine.dispose()
    if current is not None and after != current:  # committed: say it once, on stderr
        from railwatch import __version__

        log.warning(
            "upgraded database %s from schema revision %s to %s (railwatch %s): an older "
            "railwatch can no longer open it",
            engine.url.render_as_string(hide_password=True),
            current,
            after,
            __version__,
        )
