"""Database connection: engine creation, sessions, automatic migration.

SQLite is the default (a file, ``sqlite:///railwatch.db``), tuned for several
processes: WAL journal, a busy timeout, foreign keys enforced. Any other
SQLAlchemy URL works (``postgresql+psycopg://user@host/db`` with the ``postgres``
extra): moving to PostgreSQL is a URL change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from railwatch.errors import ConfigError, MissingDependencyError, StorageError

if TYPE_CHECKING:
    from railwatch.settings import Settings

__all__ = [
    "SQLITE_BEGIN_OPTION",
    "SQLITE_BUSY_TIMEOUT_MS",
    "Database",
    "explain_db_error",
    "is_memory_url",
    "make_engine",
]

log = logging.getLogger(__name__)

#: How long a SQLite writer waits for another one before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Execution option naming the SQLite BEGIN mode ("IMMEDIATE" by default, or "DEFERRED").
SQLITE_BEGIN_OPTION = "railwatch_sqlite_begin"


def explain_db_error(err: SQLAlchemyError, url: str, doing: str = "database write") -> str:
    """A one-line message for a database error: SQLite's lock wait and an unreachable
    server say what to do; anything else gives the driver's first line."""
    orig = getattr(err, "orig", None) or err
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    if "database is locked" in first or "database table is locked" in first:
        waited = SQLITE_BUSY_TIMEOUT_MS / 1000.0
        return (
            f"SQLite database {url} stayed locked by another writer for {waited:g} s: let the "
            "other railwatch run finish and try again, or use PostgreSQL "
            "(--db postgresql+psycopg://...) for concurrent runs"
        )
    if isinstance(err, OperationalError) and (
        "connection" in first.lower() or "could not connect" in first.lower()
    ):
        return (
            f"cannot connect to database {url} ({first}): check that the server is running "
            "and the --db URL (host, port, user, database name)"
        )
    low = first.lower()
    if url.startswith("sqlite") and (
        "unable to open database file" in low or "readonly database" in low
    ):
        return (
            f"{doing} failed ({url}): {first}. SQLite needs to write both the database "
            "file and its folder (its write-ahead journal lies beside the file), even to "
            "read: check that both exist and are writable, or copy the database to a "
            "writable folder"
        )
    return f"{doing} failed ({url}): {first}"


def _is_memory_sqlite(database: str | None) -> bool:
    return database in (None, "", ":memory:") or (database or "").startswith("file::memory:")


def is_memory_url(url: str) -> bool:
    """Whether ``url`` names an in-memory SQLite database (``sqlite://``,
    ``sqlite:///:memory:``, ``sqlite:///file::memory:?...``): it lives as long as the
    engine. False for other URLs and for text that is not a URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False
    return parsed.get_backend_name() == "sqlite" and _is_memory_sqlite(parsed.database)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets WAL, busy timeout and foreign keys."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise ConfigError(
            f"invalid database URL {url!r}: use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        ) from err
    kwargs: dict[str, Any] = {"echo": echo}
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite:
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000.0}
        if _is_memory_sqlite(parsed.database):
            kwargs["poolclass"] = StaticPool
            kwargs["connect_args"]["check_same_thread"] = False
        else:
            parent = Path(str(parsed.database)).expanduser().resolve().parent
            if not parent.is_dir():
                raise StorageError(
                    f"cannot open database {url}: folder {parent} does not exist; create it "
                    "or give another --db URL"
                )
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except NoSuchModuleError as err:
        raise ConfigError(
            f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql+psycopg://..."
        ) from err
    except ArgumentError as err:  # parsed, but not a URL of its dialect (sqlite://x.db)
        shown = parsed.render_as_string(hide_password=True)
        raise ConfigError(
            f"invalid database URL {shown!r} ({str(err).splitlines()[0]}): use "
            "sqlite:///PATH (three slashes; four for an absolute path) or "
            "postgresql+psycopg://USER@HOST/DB"
        ) from err
    except ImportError as err:
        raise MissingDependencyError(
            err.name or "database driver", "postgres", "this database URL"
        ) from err
    if is_sqlite:
        _tune_sqlite(engine, memory=_is_memory_sqlite(parsed.database))
    return engine


def _tune_sqlite(engine: Engine, *, memory: bool) -> None:
    """Per-connection pragmas; explicit BEGIN so SAVEPOINTs work (SQLAlchemy recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cur = dbapi_conn.cursor()
        try:
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE) so that two processes
        # never both read, then both try to write (SQLite would fail one at once
        # instead of waiting). Read-only sessions use a plain deferred BEGIN.
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """A railwatch database: an engine, a session factory, an up-to-date schema.

    Opening a :class:`Database` migrates the schema to the latest revision
    (``migrate=False`` skips that, for tools that manage migrations themselves).
    """

    def __init__(self, url: str, *, migrate: bool = True, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"}),
            expire_on_commit=False,
        )
        if migrate:
            from railwatch.storage.migrate import upgrade

            upgrade(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The database named by ``settings.db``."""
        return cls(settings.db)

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        On SQLite a writing session holds the write lock from its first statement
        (other writers wait up to the busy timeout); ``readonly=True`` sessions never
        block writers (WAL) and must not write.
        """
        session = (self._read_sessions if readonly else self._sessions)()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as err:
            session.rollback()
            raise StorageError(explain_db_error(err, self.safe_url)) from err
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"
