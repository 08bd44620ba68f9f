"""Database connection: engine creation, sessions, automatic migration.

SQLite is the default (a file, ``sqlite:///railwatch.db``), tuned for several
processes: WAL journal, a busy timeout, foreign keys enforced. Any other
SQLAlchemy URL works (``postgresql+psycopg://user@host/db`` with the ``postgres``
extra): moving to PostgreSQL is a URL change.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import socket
import threading
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from railwatch.errors import ConfigError, MissingDependencyError, StorageError, some

if TYPE_CHECKING:
    from railwatch.settings import Settings

__all__ = [
    "CONNECT_TIMEOUT_S",
    "READ_ISOLATION",
    "SQLITE_BEGIN_OPTION",
    "SQLITE_BUSY_TIMEOUT_MS",
    "BusyError",
    "Database",
    "LockLostError",
    "NoDatabaseError",
    "database_doing",
    "explain_db_error",
    "is_memory_url",
    "is_sqlite_locked",
    "make_engine",
    "mask_password",
    "path_problem",
    "refuses_writes",
    "sqlite_path",
]

log = logging.getLogger(__name__)

#: How long a SQLite writer waits for another one before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: How long connecting to a database server may take (seconds), unless the URL says
#: (``?connect_timeout=N``): without it a server that accepts the connection and never
#: answers (a firewall, another service on the port) held a command for ever.
CONNECT_TIMEOUT_S = 15
#: Execution option naming the SQLite BEGIN mode ("IMMEDIATE" by default, or "DEFERRED").
SQLITE_BEGIN_OPTION = "railwatch_sqlite_begin"


class BusyError(StorageError):
    """Another process holds a lock of :meth:`Database.exclusive` (e.g. it is
    processing the same site)."""


class NoDatabaseError(StorageError):
    """The SQLite file of a database opened with ``create=False`` is not there (nothing
    was created): a command that works on existing records was given the path of no
    database (the default ``railwatch.db`` of another folder, a mistyped ``--db``)."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class LockLostError(StorageError):
    """A lock of :meth:`Database.exclusive` went while its block ran: on PostgreSQL its
    connection closed (a server restart, a network cut, ``pg_terminate_backend``, an
    idle timeout), and another process may hold it now."""


#: The advisory lock of key ``:k`` (two 32-bit halves) in ``pg_locks``.
_PG_LOCK_ROW = (
    "locktype = 'advisory' AND granted AND objsubid = 1 AND "
    "classid = ((:k >> 32) & 4294967295)::bigint::text::oid AND "
    "objid = (:k & 4294967295)::bigint::text::oid"
)


@dataclass
class _PgHold:
    """The advisory locks of one :meth:`Database.exclusive` block on PostgreSQL: the
    connection (server session) that holds them, its backend pid, and why they were
    found lost (kept: a lost lock is never taken for held again)."""

    conn: Connection
    keys: dict[str, int]
    pid: int
    lost: str | None = None
    guard: threading.Lock = field(default_factory=threading.Lock)

    def check(self, name: str) -> str | None:
        """Why the lock ``name`` is no longer held (None while it is): one query on
        the lock's own connection, asking the server whether this session holds it. A
        plain ``SELECT 1`` is not enough: after a failure SQLAlchemy may give the
        connection a new server session, which holds nothing."""
        with self.guard:
            if self.lost is None:
                try:
                    pid, held = self.conn.execute(
                        text(
                            "SELECT pg_backend_pid(), EXISTS (SELECT 1 FROM pg_locks WHERE "
                            f"pid = pg_backend_pid() AND {_PG_LOCK_ROW})"
                        ),
                        {"k": self.keys[name]},
                    ).one()
                except SQLAlchemyError as err:
                    orig = getattr(err, "orig", None) or err
                    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
                    self.lost = f"the connection that held it failed: {first}"
                else:
                    if pid != self.pid:
                        self.lost = (
                            f"the connection that held it (backend pid {self.pid}) closed, "
                            f"and its replacement (pid {pid}) holds nothing"
                        )
                    elif not held:
                        self.lost = f"backend pid {pid} no longer holds it"
            return self.lost


@dataclass
class _FileHold:
    """The ``flock`` locks of one :meth:`Database.exclusive` block on a SQLite file: the
    lock file of each key and its open descriptor. A lock file deleted (or replaced)
    under the run lets another run create a new file and lock it: the lock is then lost
    though this process still holds its flock on the old file."""

    keys: dict[str, tuple[Path, int]]
    lost: str | None = None

    def check(self, name: str) -> str | None:
        """Why the lock ``name`` is no longer held (None while it is): its file is gone
        or is another file than the one locked (two ``stat`` calls, no query)."""
        if self.lost is None:
            path, fd = self.keys[name]
            try:
                now = os.stat(path)
            except OSError:
                self.lost = f"its lock file {path} was deleted"
            else:
                mine = os.fstat(fd)
                if (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino):
                    self.lost = f"its lock file {path} was replaced by another"
        return self.lost


def _lock_name(name: str) -> str:
    """``name`` (of :meth:`Database.exclusive`'s locks) in Unicode NFC, the form site
    names are stored in: a site name typed in decomposed form (NFD, "u" and a combining
    diaeresis) finds the same site, and its lock must be the same lock. Keyed as typed,
    ``railwatch process`` given one form was not refused while a run given the other
    processed the site, and :meth:`Database.lost_lock` asked by the stored name found
    no lock held and checked nothing (until session 39)."""
    return unicodedata.normalize("NFC", name)


def _lock_key(name: str) -> int:
    """A signed 64-bit key for ``name`` (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _file_mode(path: Path) -> int | None:
    """The read and write permission bits of the database file ``path`` (None where it
    cannot be read)."""
    try:
        return path.stat().st_mode & 0o666
    except OSError:
        return None


def _share(target: Path, like: int | None, fd: int | None = None) -> None:
    """Give the lock folder or lock file ``target`` (this user's) the read and write
    permissions of the database file (``like``), as SQLite gives its ``-wal`` and ``-shm``
    files, a folder also the search bits where it is readable: a database that a group's
    users write (a cron job's user, an analyst's) has its lock files written by each of
    them. They were made 0644 under a 0755 folder, so the other users could open no lock
    file the first one made: `railwatch process` said "cannot open the lock file ...:
    Permission denied" for good (until session 39). Only bits are added, never taken;
    another user's file or folder is left as it is."""
    if like is None:
        return
    try:
        st = os.fstat(fd) if fd is not None else target.stat()
        if st.st_uid != os.geteuid():
            return
        want = like | ((like & 0o444) >> 2) if fd is None else like
        mode = st.st_mode & 0o7777
        if mode | want != mode:
            if fd is not None:
                os.fchmod(fd, mode | want)
            else:
                target.chmod(mode | want)
    except OSError:  # not ours to change after all (a file system without modes)
        pass


#: Open files left to the rest of the process (database, sockets, a Dask cluster's
#: pipes, images) beside the lock files of :meth:`Database.exclusive`.
_OTHER_FILES = 1024


def _room_for_files(count: int) -> None:
    """Raise this process's soft limit of open files (up to its hard limit) so that
    ``count`` lock files fit beside everything else: a run over 1,000 sites on a
    SQLite database holds 1,000 of them, and the usual soft limit is 1,024."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + _OTHER_FILES
    if soft == resource.RLIM_INFINITY or soft >= want:
        return
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if new > soft:
        with suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def _write_holder(fd: int) -> None:
    """Write which process holds the lock file ``fd`` (what a refused run is told).
    The lock is the ``flock``, not these words: where they cannot be written (a full
    disk, a quota) the file is left empty and the lock held. On a full disk, with the
    database open elsewhere (``railwatch serve``), ``railwatch process`` said "internal
    error: OSError: [Errno 28] No space left on device" here (until session 41)."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"held by process {os.getpid()} on {socket.gethostname()}".encode(), 0)
    except OSError as err:
        log.debug("could not write the holder's name into its lock file: %s", err)


def _busy_message(what: str, holder: str) -> str:
    return f"{what} ({holder}): wait for it to finish and run again, or stop that run first"


#: ``flock`` errors of a file system that takes no such locks: NFS without its lock
#: daemon (``ENOLCK``), some SMB/CIFS and FUSE mounts (``EOPNOTSUPP``, ``ENOSYS``,
#: ``EINVAL``).
_NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EINVAL})


def lock_failed_message(lock: Path, database: Path, err: OSError) -> str:
    """What to say when ``flock`` on the lock file ``lock`` of the SQLite ``database``
    fails other than "held by another run" (:class:`BlockingIOError`): where the file
    system takes no locks (a network file system), that it does not and what to do.
    Until 2026-12-06 (session 41) such an error was an internal error (exit 70)."""
    reason = err.strerror or str(err)
    advice = (
        "put the database on a local disk (move the file there and give --db "
        "sqlite:///LOCAL/PATH.db), or use PostgreSQL (--db "
        "postgresql+psycopg://USER@HOST/DB) for a database shared over the network"
    )
    if err.errno in _NO_LOCKS:
        return (
            f"cannot lock {lock}: {reason}: the file system of the database's folder "
            f"{database.parent} does not support file locks (flock; some network file "
            f"systems do not), which railwatch needs to keep two runs apart: {advice}"
        )
    return (
        f"cannot lock {lock}: {reason}; if the database's folder is on a network file "
        f"system, {advice}"
    )


def _pg_busy_message(conn: Connection, key: int, what: str) -> str:
    """:func:`_busy_message` for the PostgreSQL advisory lock ``key`` that another
    session holds: its backend pid, where it connected from and since when (as far as
    ``pg_stat_activity`` shows them to this user), and how to end it when the run
    holding it is gone. A run whose machine crashed or was cut off leaves its session,
    and the lock, on the server until the server's TCP keepalive gives up (2 hours and
    more by default), and the message named the pid alone (until session 39)."""
    row = conn.execute(
        text(
            "SELECT l.pid, host(a.client_addr), a.application_name, a.backend_start, "
            "a.state, a.state_change FROM pg_locks l LEFT JOIN pg_stat_activity a ON "
            f"a.pid = l.pid WHERE {_PG_LOCK_ROW} LIMIT 1"
        ),
        {"k": key},
    ).first()
    if row is None:  # let go meanwhile
        return _busy_message(what, "held by another PostgreSQL session a moment ago")
    pid, addr, app, since, state, changed = row
    where = [f"held by PostgreSQL backend pid {pid}"]
    if addr:
        where.append(f"from {addr}")
    if app:
        where.append(f"({app})")
    if since is not None:
        where.append(f"connected since {since.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    if state == "idle" and changed is not None:  # a run asks before each scene it records
        where.append(f"last active {changed.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    return (
        f"{_busy_message(what, ', '.join(where))}; if that run is gone (its machine "
        "crashed or was cut off: the server keeps its session until it notices), end "
        f"the session with SELECT pg_terminate_backend({pid}) and run again"
    )


#: The first word of a statement that reads, and of one that writes (a failure in a
#: statement of neither kind, or at commit, is said as a plain "database error").
_READS = frozenset({"SELECT", "WITH", "PRAGMA", "SHOW", "EXPLAIN"})
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP"})


def database_doing(err: SQLAlchemyError, *, readonly: bool = False) -> str | None:
    """What failed, for :func:`explain_db_error`: "database read" for a statement that
    reads, "database write" for one that writes (by the statement's first word), else
    "database read" in a read-only session and None (said "database error") otherwise.
    Before session 26 every error of a session said "database write failed", a read in
    a read-only session too."""
    statement = getattr(err, "statement", None)
    words = statement.split(None, 1) if isinstance(statement, str) else []
    verb = words[0].upper() if words else ""
    if verb in _WRITES or (verb == "BEGIN" and not readonly):  # SQLite's BEGIN IMMEDIATE
        return "database write"
    if verb in _READS or readonly:
        return "database read"
    return None


def is_sqlite_locked(err: BaseException) -> bool:
    """Whether ``err``, or the error it was raised from, is SQLite's "database is locked"
    (another writer held the lock past the busy timeout)."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        orig = getattr(current, "orig", None) or current
        first = (str(orig).strip().splitlines() or [""])[0]
        if "database is locked" in first or "database table is locked" in first:
            return True
        current = current.__cause__
    return False


#: Words of a driver's error for a write that found no room: SQLite's SQLITE_FULL and
#: PostgreSQL's ``could not extend file ...: No space left on device``.
_DISK_FULL = (
    "database or disk is full",
    "no space left on device",
    "disk quota exceeded",
    "could not extend file",
)


#: Free space (bytes) below which a SQLite "disk I/O error" is taken for a full disk.
_FULL_BELOW = 1 << 20


def _folder_is_full(url: str) -> bool:
    """Whether the file system of the folder of the SQLite database ``url`` has less than
    :data:`_FULL_BELOW` free: SQLite says a write that found no room as "disk I/O error"
    (not "database or disk is full") when it is its ``-shm`` file that cannot be grown,
    which a command meets first on a full disk (session 34)."""
    path = sqlite_path(url)
    if path is None:
        return False
    try:
        stat = os.statvfs(path.parent)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < _FULL_BELOW


def file_size_limit() -> int | None:
    """The most bytes this process may write to one file (``ulimit -f``, a systemd
    service's ``LimitFSIZE=``), or None where it is unlimited. SQLite says a write past
    it as "disk I/O error" (Python ignores SIGXFSZ, so the write fails with EFBIG)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows: no such limit
        return None
    try:
        soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    except (OSError, ValueError):
        return None
    return None if soft == resource.RLIM_INFINITY else int(soft)


def file_size_limit_message(limit: int) -> str:
    """What to say of a write refused under :func:`file_size_limit`'s ``limit``."""
    return (
        f"this process may not write files larger than {limit / 1e6:.3g} MB (a file size "
        "limit: ulimit -f, or LimitFSIZE= of a systemd service), likely what stopped the "
        "write: raise it (ulimit -f unlimited) and run the command again"
    )


def refuses_writes(err: BaseException) -> bool:
    """Whether ``err`` is PostgreSQL's "cannot execute ... in a read-only transaction"
    (SQLSTATE 25006): in a writing session, the server or database accepts no writes."""
    orig = getattr(err, "orig", None) or err
    return getattr(orig, "sqlstate", None) == "25006"


def _sqlite_locked_message(url: str) -> str:
    waited = SQLITE_BUSY_TIMEOUT_MS / 1000.0
    return (
        f"SQLite database {url} stayed locked by another writer for {waited:g} s: let the "
        "other railwatch run finish and try again, or use PostgreSQL for concurrent runs "
        "(a postgresql+psycopg://... URL: Database(url) in Python, --db URL on the command "
        "line)"
    )


#: What PostgreSQL says when it refuses a connection, and what to do about each.
_REFUSED_DATABASE = re.compile(r'database "(.+)" does not exist')
_REFUSED_ROLE = re.compile(r'role "(.+)" does not exist')


def _connect_advice(first: str, url: str) -> str:
    """What to do about a connection the server refused, told by PostgreSQL's words in
    ``first``: a wrong or missing password, a database or user the server does not
    have, a host pg_hba.conf does not let in; else what to check (2026-12-07, session
    46: each said "check that the server is running and the database URL (host, port,
    user, database name ...)", the password, PGPASSWORD and ~/.pgpass not named, and
    an operator's RAILWATCH_DB, the variable docs/storage.md sets, neither)."""
    low = first.lower()
    user = _user_of(url)
    where = "the database URL"
    if "password authentication failed" in low:
        return (
            f"the server refused user {user}'s password: check the user name and the "
            f"password in {where}, postgresql+psycopg://USER:PASSWORD@HOST/DB (@, :, / and % "
            "in a password written %40, %3A, %2F, %25), or the one PGPASSWORD or ~/.pgpass "
            "gives where the URL has none"
        )
    if "no password supplied" in low:
        return (
            f"the server asks user {user} for a password and none was given: put it in "
            f"{where}, postgresql+psycopg://USER:PASSWORD@HOST/DB, or in ~/.pgpass or "
            "PGPASSWORD"
        )
    missing = _REFUSED_DATABASE.search(first)
    if missing:
        return (
            f"the server has no database {missing.group(1)!r}: check its name in {where}, "
            f"or create it (as a user who may: createdb -O {user} {missing.group(1)}, or "
            f"CREATE DATABASE ... OWNER {user}); railwatch creates its tables in it on "
            "first use"
        )
    role = _REFUSED_ROLE.search(first)
    if role:
        return (
            f"the server has no user {role.group(1)!r}: check the user name in {where}, "
            "or have the server's administrator create it (CREATE ROLE NAME LOGIN "
            "PASSWORD '...')"
        )
    if "pg_hba.conf" in low:
        return (
            "the server does not let this user into this database from this machine: "
            "have its administrator allow it in pg_hba.conf (or connect from a host "
            f"it allows); check the user and database names in {where}"
        )
    if "connection refused" in low:
        return "nothing listens there: check that the server is running, and the host and port"
    return "check that the server is running and the database URL (host, port, user, database name;"


#: PostgreSQL's words (libpq, psycopg, the server) for a connection lost once made.
_LOST_CONNECTION = (
    "server closed the connection unexpectedly",
    "the connection is lost",
    "terminating connection due to administrator command",
    "connection to server was lost",
)


def explain_db_error(err: SQLAlchemyError, url: str, doing: str | None = None) -> str:
    """A one-line message for a database error: SQLite's lock wait, an unreachable
    server, a full disk, a file that is not a SQLite database or a damaged one (since
    session 28), and SQLite's "disk I/O error" (since session 34: said as a full disk
    where the database's folder has under 1 MiB free) say what to do; anything else
    gives the driver's first line, after "{doing} failed" (e.g. "database read failed",
    :func:`database_doing`) or, with no ``doing``, "database error"."""
    failed = f"{doing} failed" if doing else "database error"
    orig = getattr(err, "orig", None) or err
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    if is_sqlite_locked(err):
        return _sqlite_locked_message(url)
    if any(words in first.lower() for words in _LOST_CONNECTION):
        # said "cannot connect ... check the database URL" until session 50, though the
        # URL had connected: a server stopped in the middle of a copy-db, a run
        return (
            f"{failed} ({url}): the connection to the server was lost ({first}): the server "
            "stopped or restarted, or the network to it dropped; check that it runs "
            "(pg_isready), then run the command again (its unfinished transaction was "
            "rolled back, and everything recorded before is kept)"
        )
    if isinstance(err, OperationalError) and any(
        word in first.lower()
        for word in ("connection", "could not connect", "resolve host", "translate host name")
    ):
        advice = _connect_advice(first, url)
        return f"cannot connect to database {url} ({first}): {advice} " + (
            "Database(url) in Python, --db URL on the command line)"
            if advice.endswith(";")
            else "(the database URL: --db URL on the command line, else the RAILWATCH_DB "
            "variable; Database(url) in Python)"
        )
    low = first.lower()
    if refuses_writes(err) and doing != "database read":
        return (
            f"{failed} ({url}): {first}: this database accepts no writes (a PostgreSQL "
            "standby, or default_transaction_read_only set for the database or its user): "
            "give the URL of the primary server, or have its administrator allow writes; "
            "nothing was written"
        )
    if getattr(orig, "sqlstate", None) == _PG_NO_PRIVILEGE:
        user = _user_of(url)
        return (
            f"{failed} ({url}): {first}: PostgreSQL's user {user} may not do this in that "
            "database: connect as the user that owns railwatch's tables there (the one "
            "that created them), or have the database's administrator give this one what "
            f"railwatch needs (a new database: ALTER DATABASE ... OWNER TO {user}, or GRANT "
            f"CREATE ON SCHEMA public TO {user}); nothing was written"
        )
    if getattr(orig, "sqlstate", None) == _PG_NO_SCHEMA:
        schema = _search_path_of(url)
        which = (
            f"schema {schema}, which the URL's search_path names, does not exist in this "
            f"database: create it first (CREATE SCHEMA {schema}, as the database's owner) "
            "or give its right name in the URL (?options=-csearch_path%3DNAME)"
            if schema
            else "the database's search_path names no schema that exists: create the schema "
            "first (CREATE SCHEMA NAME) and name it in the URL (?options=-csearch_path%3DNAME)"
        )
        return f"{failed} ({url}): {first}: {which}; nothing was written"
    if any(word in low for word in _DISK_FULL) or (
        "disk i/o error" in low and _folder_is_full(url)
    ):
        return (
            f"{failed} ({url}): {first}: the disk holding the database is full, or a quota "
            "was reached; free space and run the command again (its unfinished transaction "
            "was rolled back, and everything recorded before is kept)"
        )
    limit = file_size_limit()
    if url.startswith("sqlite") and "disk i/o error" in low and limit is not None:
        # a file size limit (ulimit -f) was said as a disk fault until session 50
        return (
            f"{failed} ({url}): {first}: {file_size_limit_message(limit)} (its unfinished "
            "transaction was rolled back, and everything recorded before is kept)"
        )
    if url.startswith("sqlite") and "disk i/o error" in low:
        return (
            f"{failed} ({url}): {first}: the operating system refused a read or write of "
            "the database file or of its -wal or -shm file beside it (a disk fault, a "
            "network file system that does not support SQLite's locking, the file moved "
            "or removed while open): check the disk (dmesg, df) and run the command again "
            "(its unfinished transaction was rolled back, and everything recorded before "
            "is kept)"
        )
    if url.startswith("sqlite") and "file is not a database" in low:
        return (
            f"{failed} ({url}): {first}: this file is not a SQLite database (another kind "
            "of file, or an encrypted one), and was left as it is: give the path of a "
            "railwatch database, or a file name that does not exist yet to create one"
        )
    if url.startswith("sqlite") and "malformed" in low:
        return (
            f"{failed} ({url}): {first}: the database file is damaged (copied while it "
            "was written, without its -wal file beside it, or a disk fault): restore it "
            "from a backup (`railwatch restore BACKUP`), or save what it still holds with "
            "`sqlite3 FILE .recover | sqlite3 NEW.db` and use NEW.db"
        )
    if url.startswith("sqlite") and (
        "unable to open database file" in low or "readonly database" in low
    ):
        return (
            f"{failed} ({url}): {first}. SQLite needs to write both the database "
            "file and its folder (its write-ahead journal lies beside the file), even to "
            "read: check that both exist and are writable, or copy the database to a "
            "writable folder"
        )
    return f"{failed} ({url}): {first}"


#: PostgreSQL's SQLSTATE for a privilege the user lacks ("permission denied for ...").
_PG_NO_PRIVILEGE = "42501"


#: PostgreSQL's SQLSTATE for "no schema has been selected to create in" (a search_path
#: naming only schemas that do not exist).
_PG_NO_SCHEMA = "3F000"


def _search_path_of(url: str) -> str | None:
    """The search_path the database URL ``url`` sets (``options=-csearch_path=NAME``), or
    None where it sets none. A schema not created yet (``CREATE SCHEMA`` forgotten, or
    its name mistyped) gave "migrating the database failed (URL): no schema has been
    selected to create in" and nothing of what to do (until session 41)."""
    try:
        options = make_url(url).query.get("options")
    except (ArgumentError, ValueError):
        return None
    for option in [options] if isinstance(options, str) else list(options or ()):
        found = re.search(r"-c\s*search_path\s*=\s*(\S+)", option)
        if found:
            return found.group(1)
    return None


def _user_of(url: str) -> str:
    """The user name of the database URL ``url`` as SQL names it (double-quoted unless a
    plain lower-case name), or CURRENT_USER where the URL names none."""
    try:
        user = make_url(url).username
    except ArgumentError:
        user = None
    if not user:
        return "CURRENT_USER"
    return user if re.fullmatch(r"[a-z_][a-z0-9_$]*", user) else '"' + user.replace('"', '""') + '"'


_PASSWORD_IN_URL = re.compile(r"(://[^/@:]*:)[^/]*@")


def mask_password(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part replaced by ``***``,
    also when the URL cannot be parsed (error messages never show a password)."""
    return _PASSWORD_IN_URL.sub(r"\1***@", url)


def _is_memory_sqlite(database: str | None) -> bool:
    return database in (None, "", ":memory:") or (database or "").startswith("file::memory:")


def is_memory_url(url: str) -> bool:
    """Whether ``url`` names an in-memory SQLite database (``sqlite://``,
    ``sqlite:///:memory:``, ``sqlite:///file::memory:?...``): it lives as long as the
    engine. False for other URLs and for text that is not a URL."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return False
    return parsed.get_backend_name() == "sqlite" and _is_memory_sqlite(parsed.database)


def _sqlite_file_url(url: str) -> URL | None:
    """``url`` parsed where it names a SQLite file; None for another database, in-memory
    SQLite or text that is not a URL."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or _is_memory_sqlite(parsed.database):
        return None
    return parsed


def sqlite_path(url: str) -> Path | None:
    """The absolute path of the file of a SQLite database URL (``~`` expanded), or None:
    another database, in-memory SQLite, text that is not a URL."""
    parsed = _sqlite_file_url(url)
    return None if parsed is None else _sqlite_file(parsed)


def _sqlite_file(parsed: URL) -> Path:
    """The absolute path of the file of the parsed SQLite URL ``parsed`` (not in memory),
    ``~`` expanded: where :func:`make_engine` opens it, and what :func:`sqlite_path` says."""
    return Path(str(parsed.database)).expanduser().resolve()


#: Options of Python's ``sqlite3.connect`` that SQLAlchemy takes from a SQLite URL's
#: query without ``uri=true``; railwatch sets those it needs itself.
_DRIVER_OPTIONS = frozenset(
    {"timeout", "isolation_level", "detect_types", "check_same_thread", "cached_statements"}
)


def _uri_path(database: str) -> str:
    """The file's path of a SQLite URI ``file:PATH?...`` (``file:///abs/x.db``)."""
    from urllib.parse import unquote, urlsplit

    rest = database.removeprefix("file:").split("?", 1)[0].split("#", 1)[0]
    if rest.startswith("//"):
        rest = urlsplit(database).path
    return unquote(rest)


def sqlite_url_problem(url: str) -> str | None:
    """Why the SQLite file URL ``url`` is refused, in words that follow "database URL
    URL" and say what to give instead; None where it is a plain ``sqlite:///PATH`` (or
    in-memory SQLite, or no SQLite URL).

    railwatch checks, creates, migrates, locks and backs up the file of the URL's path;
    with a query or a ``file:`` URI, SQLite opened another: ``sqlite:///x.db?mode=ro&
    uri=true`` gave SQLite the name ``x.db?mode=ro`` as a plain file name (SQLAlchemy
    passes a path not starting ``file:`` so), and a new empty database was made and
    migrated there (``site list`` said "No sites yet" of a database of sites; ``vfs``,
    ``immutable``, ``nolock`` the same); ``sqlite:///file:x.db?uri=true`` made railwatch
    look at a file named ``file:x.db`` while SQLite opened ``x.db``; without
    ``uri=true``, SQLAlchemy ignores ``mode`` and the like (``?mode=ro`` opened the file
    read-write) and railwatch's own ``timeout`` replaces the URL's. None is kept:
    ``mode=ro`` would be the useful one, but railwatch's commands that only read (``site
    list``, ``report``, ``serve``'s pages) write nothing to the database already, and
    one opened read-only still needs its ``-shm`` and lock files written beside it
    (2026-12-08, session 52)."""
    parsed = _sqlite_file_url(url)
    if parsed is None:
        return None
    database = str(parsed.database)
    names = ", ".join(sorted(parsed.query))
    if database.startswith("file:") and "uri" in parsed.query:  # without uri: a file name
        plain = _uri_path(database)
        return (
            f"names a SQLite URI ({database}) where the path of a file goes: railwatch "
            f"checks, creates and backs up a file named {database!r} while SQLite opens "
            f"{plain!r}; railwatch takes no SQLite URI: give sqlite:///{plain}"
        )
    if not parsed.query:
        return None
    query = "&".join(
        f"{key}={value}"
        for key, values in parsed.normalized_query.items()
        if key != "uri"
        for value in values
    )
    if "uri" in parsed.query:
        opened = f"{Path(database).name}?{query}" if query else Path(database).name
        why = (
            f"with uri=true SQLite opens a file named {opened!r} (made new and empty), "
            f"not {database}, the file railwatch checks, migrates, locks and backs up"
        )
    elif all(key in _DRIVER_OPTIONS for key in parsed.query):
        why = (
            "railwatch sets SQLite's options itself (busy timeout, WAL journal, foreign "
            "keys) and takes no driver options in the URL"
        )
    else:
        why = (
            f"without uri=true SQLAlchemy ignores {names} (SQLite never sees them: "
            "?mode=ro opens the file read-write), and with it SQLite opens another file "
            "than the one railwatch checks"
        )
    return (
        f"has query parameters ({names}): {why}; railwatch takes none: give "
        f"sqlite:///{database} (commands that only read, such as site list or report, "
        "write nothing to the database)"
    )


def path_problem(path: Path) -> str | None:
    """Why the file system refuses to look up ``path`` at all (a name longer than it
    allows, a folder on the way this user may not search, a loop of links), in words
    that say what to do; None where it can be looked up (there or not). Python's
    ``Path.exists()`` and ``is_dir()`` raise these instead of answering, and a ``--db``
    path or a backup's name of 256 characters gave "internal error: OSError: [Errno 36]
    File name too long" (until session 41)."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        why = err.strerror or type(err).__name__
        if err.errno == errno.ENAMETOOLONG:
            return f"{path}: {why} for the file system: give a shorter name or path"
        if err.errno in (errno.EACCES, errno.EPERM):
            return (
                f"{path}: {why} (a folder on the way may not be searched by this user): "
                "check the path and its folders' permissions"
            )
        return f"{path}: {why}: check the path"
    return None


def _is_empty_file(path: Path) -> bool:
    """Whether ``path`` is a file of 0 bytes with no write-ahead log holding pages beside
    it: SQLite takes it for an empty database and writes a new one into it, so a command
    given a database file cut short to nothing said "No sites yet" and made it a new
    empty railwatch database (session 34)."""
    try:
        if path.stat().st_size != 0:
            return False
        wal = path.with_name(path.name + "-wal")
        return not wal.exists() or wal.stat().st_size == 0
    except OSError:  # not there, or not readable: SQLite says what it finds
        return False


def _sqlite_schema(path: Path, url: str) -> tuple[list[str], list[str] | None] | None:
    """The tables of the SQLite file ``path`` (SQLite's own aside) and the rows of its
    version table ``alembic_version`` (None where it has none), read through a read-only
    connection; None where the file cannot be read so (SQLite says why at the first
    connection), and :class:`StorageError` where another connection held it past the
    busy timeout."""
    import sqlite3

    try:
        con = sqlite3.connect(
            f"{path.as_uri()}?mode=ro", uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000.0
        )
        try:
            names = [
                str(name)
                for (name,) in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
                )
            ]
            versions = (
                [str(row[0]) for row in con.execute("SELECT version_num FROM alembic_version")]
                if "alembic_version" in names
                else None
            )
        finally:
            con.close()
    except sqlite3.Error as err:
        if is_sqlite_locked(err):  # waited the busy timeout: said now, not waited twice
            raise StorageError(_sqlite_locked_message(url)) from err
        return None
    return sorted(names), versions


def _refuse_foreign_sqlite(path: Path, url: str, *, create: bool) -> None:
    """A :class:`StorageError` for the SQLite file ``path`` of ``url`` when it is not a
    railwatch database, said before any connection of :func:`make_engine`'s, which
    switches the file to WAL mode (a database refused so was changed all the same: its
    journal mode, for every application using it; until session 41). Refused whatever
    ``create``: one that holds tables of railwatch's names but no schema version (the
    message of :func:`~railwatch.storage.migrate.foreign_tables_message`), and one whose
    version table holds another application's revision (it uses Alembic too:
    :func:`~railwatch.storage.migrate.is_railwatch_schema`; it was called one "written
    by a newer railwatch"). Where no database is to be made (``create`` False: a
    command that works on existing records) also one that holds other tables and no
    version table: ``railwatch site list`` wrote railwatch's whole schema into such a
    file and said "No sites yet" (until session 41); ``railwatch site add`` adds
    railwatch's tables beside them, as before. A file with no tables (new), a railwatch
    database and a version table that is empty or of several rows go on to the
    migration, which says what it finds."""
    schema = _sqlite_schema(path, url)
    if schema is None or not schema[0]:
        return
    tables, versions = schema
    from railwatch.storage.migrate import (
        foreign_tables_message,
        is_railwatch_schema,
        other_application_message,
        railwatch_table_names,
    )

    if versions is not None:
        if len(versions) == 1 and not is_railwatch_schema(versions[0], tables):
            raise StorageError(
                other_application_message(url, versions[0], tables, "it was left as it is")
            )
        return
    taken = [name for name in tables if name in railwatch_table_names()]
    if taken:
        raise StorageError(foreign_tables_message(url, taken, version_table=False))
    if not create:
        raise StorageError(
            f"cannot open database {url}: {path} is a SQLite database but not a railwatch "
            f"one (it has table(s) {some(tables, 5)}, and no railwatch schema version, table "
            "alembic_version), and was left as it is: give the URL of a railwatch database "
            "(--db URL, or RAILWATCH_DB), or a new file name with `railwatch site add` to "
            "start one"
        )


def _create_sqlite_file(path: Path) -> bool:
    """Make a new SQLite database file at ``path`` whole, never seen empty: written beside
    it (a database of one page, in WAL mode, as :func:`make_engine`'s connections set it),
    then linked to ``path`` unless a file is there by then (another process made it
    first: it is kept). SQLite made the file on its first connection, of 0 bytes until
    that connection set WAL mode, so another process opening the new database at that
    moment took it for a database file cut short to nothing and said so, "restore it from
    a backup", though the database was being made and ended up right (review r6,
    2026-12-06, session 39). Where the file system cannot link, SQLite makes the file as
    before.

    True when this call made the file at ``path`` (False: another process made it
    first, or SQLite is left to make it; 2026-12-07, session 51)."""
    import sqlite3
    import uuid

    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.new")
    made = False
    try:
        conn = sqlite3.connect(tmp)
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # writes the database's first page
        finally:
            conn.close()
        with suppress(FileExistsError):  # made meanwhile by another process: it stands
            os.link(tmp, path)
            made = True
    except (OSError, sqlite3.Error) as err:  # no links here, or no room: SQLite makes it
        log.debug("could not make %s whole beforehand (%s): SQLite makes it", path, err)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            with suppress(OSError):
                leftover.unlink()
    return made


def make_engine(url: str, *, echo: bool = False, create: bool = True) -> Engine:
    """An engine for ``url``; SQLite gets WAL, busy timeout and foreign keys.

    SQLite creates the file of a new database when it is first connected to; with
    ``create=False`` a SQLite file that is not there is a :class:`NoDatabaseError`
    instead, and nothing is created, and an empty file (0 bytes) is a
    :class:`StorageError` left as it is; with ``create`` an empty file is logged as a
    warning before a new database is made in it (``serve`` said only "no sites yet";
    session 34 review). Other databases are never created here: a PostgreSQL database
    that does not exist is the server's error."""
    if not isinstance(url, str):  # a Path failed in SQLAlchemy as a TypeError (session 46)
        raise ConfigError(
            f"database URL {url!r} is a {type(url).__name__}, not a URL: give "
            f"'sqlite:///{url}' for a SQLite file, or postgresql+psycopg://USER@HOST[:PORT]/DB"
        )
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as err:  # ValueError: a port that is not a number
        why = f" ({err})" if isinstance(err, ValueError) else ""
        raise ConfigError(
            f"invalid database URL {mask_password(url)!r}{why}: use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST[:PORT]/DB"
        ) from err
    shown = parsed.render_as_string(hide_password=True)
    kwargs: dict[str, Any] = {"echo": echo}
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite:
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000.0}
        if _is_memory_sqlite(parsed.database):
            kwargs["poolclass"] = StaticPool
            kwargs["connect_args"]["check_same_thread"] = False
        else:
            problem = sqlite_url_problem(url)
            if problem is not None:  # SQLite would open another file (session 52)
                raise ConfigError(f"database URL {shown} {problem}")
            path = _sqlite_file(parsed)
            parent = path.parent
            problem = path_problem(path)
            if problem is not None:
                raise StorageError(f"cannot open database {url}: {problem}")
            if path.is_dir():  # SQLite said "unable to open database file" of a folder
                raise StorageError(
                    f"cannot open database {url}: {path} is a folder, not a database file: "
                    f"give the path of a file in it, e.g. sqlite:///{path / 'railwatch.db'}"
                )
            if not create and not path.exists():
                raise NoDatabaseError(
                    f"no database at {path} ({url}), and none was created: give the URL "
                    "of an existing railwatch database",
                    path,
                )
            if not create and _is_empty_file(path):
                raise StorageError(
                    f"cannot open database {url}: {path} is an empty file (0 bytes), not a "
                    "railwatch database, and was left as it is: if it held one, it was cut "
                    "short (a copy or restore that did not finish, a full disk); restore it "
                    "from a backup (`railwatch restore BACKUP`), or give the URL of an existing "
                    "railwatch database (`railwatch site add` starts a new one in it)"
                )
            if create and _is_empty_file(path):  # serve, site add, the demo: said, then made
                log.warning(
                    "database file %s is empty (0 bytes): a new, empty railwatch database is "
                    "made in it; if it held one, it was cut short (a copy or restore that did "
                    "not finish, a full disk): restore it from a backup (`railwatch restore "
                    "BACKUP`)",
                    path,
                )
            if not parent.is_dir():
                raise StorageError(
                    f"cannot open database {url}: folder {parent} does not exist; create it "
                    "or give another database URL (Database(url) in Python, --db URL on the "
                    "command line)"
                )
            if create and not path.exists():
                _create_sqlite_file(path)
            elif path.is_file():
                _refuse_foreign_sqlite(path, shown, create=create)
            if str(parsed.database).startswith("~"):
                # SQLite opens "~/x.db" under a folder named "~" (it expands nothing):
                # the file railwatch looked at and made, given (session 51 review: a
                # new ~/x.db failed "unable to open database file")
                parsed = parsed.set(database=str(Path(str(parsed.database)).expanduser()))
    else:
        kwargs["pool_pre_ping"] = True
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        engine = create_engine(parsed, **kwargs)
    except NoSuchModuleError as err:
        hint = (
            " (write postgresql://, not postgres://)"
            if parsed.get_backend_name() == "postgres"
            else ""
        )
        raise ConfigError(
            f"unsupported database URL {shown!r}{hint}: railwatch stores its data in SQLite "
            "or PostgreSQL; use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        ) from err
    except ArgumentError as err:  # parsed, but not a URL of its dialect (sqlite://x.db)
        raise ConfigError(
            f"invalid database URL {shown!r} ({str(err).splitlines()[0]}): use "
            "sqlite:///PATH (three slashes; four for an absolute path) or "
            "postgresql+psycopg://USER@HOST/DB"
        ) from err
    except ImportError as err:
        if parsed.get_backend_name() != "postgresql":
            raise ConfigError(
                f"unsupported database URL {shown!r}: railwatch stores its data in SQLite or "
                "PostgreSQL; use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
            ) from err
        if parsed.get_driver_name() != "psycopg":
            raise ConfigError(
                f"database driver {parsed.get_driver_name()!r} of {shown!r} is not installed: "
                "railwatch talks to PostgreSQL through psycopg 3, write the URL as "
                "postgresql+psycopg://USER@HOST/DB"
            ) from err
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


#: Isolation of :meth:`Database.session` ``(readonly=True)`` on PostgreSQL: one snapshot
#: for the whole session.
READ_ISOLATION = "REPEATABLE READ"


def _read_options(engine: Engine) -> dict[str, Any]:
    """Execution options of read-only sessions: SQLite's deferred BEGIN (no write lock),
    and on PostgreSQL one read-only snapshot (:data:`READ_ISOLATION`)."""
    options: dict[str, Any] = {SQLITE_BEGIN_OPTION: "DEFERRED"}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = READ_ISOLATION
        options["postgresql_readonly"] = True
    return options


class Database:
    """A railwatch database: an engine, a session factory, an up-to-date schema.

    Opening a :class:`Database` migrates the schema to the latest revision
    (``migrate=False`` skips that, for tools that manage migrations themselves). A
    SQLite file that is not there is created, empty, unless ``create=False``: then it
    is a :class:`NoDatabaseError` and nothing is created (the CLI's commands that work
    on existing records open their database so).
    """

    def __init__(
        self, url: str, *, migrate: bool = True, echo: bool = False, create: bool = True
    ) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, create=create)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(**_read_options(self.engine)),
            expire_on_commit=False,
        )
        # the PostgreSQL locks each thread holds through exclusive(), for lost_lock()
        self._holds = threading.local()
        if migrate:
            from railwatch.storage.migrate import upgrade

            try:
                upgrade(self.engine)
            except BaseException:
                # its connections closed now, not when collected: a caller that made the
                # file removes it (copy-db's hidden file, session 51), and a pooled
                # connection closing later would remove the -wal and -shm files of
                # whatever is there by then
                self.engine.dispose()
                raise

    @classmethod
    def from_settings(cls, settings: Settings, *, create: bool = True) -> Database:
        """The database named by ``settings.db`` (``create``: as :class:`Database`)."""
        return cls(settings.db, create=create)

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        On SQLite a writing session holds the write lock from its first statement
        (other writers wait up to the busy timeout); ``readonly=True`` sessions never
        block writers (WAL) and must not write.

        A ``readonly=True`` session reads one snapshot: every statement sees the
        database as it was at the first one, so a listing, a report or an export made
        of several statements never mixes two states while another process commits
        (a scene counted again between reading it and its counts). SQLite's deferred
        read transaction in WAL mode is one already; on PostgreSQL the transaction is
        ``REPEATABLE READ, READ ONLY`` (:data:`READ_ISOLATION`; before session 24 it
        was READ COMMITTED, a snapshot per statement), and a write in it is refused.
        """
        session = (self._read_sessions if readonly else self._sessions)()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as err:
            session.rollback()
            # a writing session refused by a read-only server: a write failed, even where
            # the statement was a locking read (SELECT ... FOR UPDATE; session 34)
            writes = not readonly and refuses_writes(err)
            doing = "database write" if writes else database_doing(err, readonly=readonly)
            raise StorageError(explain_db_error(err, self.safe_url, doing)) from err
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def exclusive(self, locks: Mapping[str, str]) -> Iterator[None]:
        """Hold a lock for each key of ``locks`` (e.g. ``process:SITE``) across
        processes, or raise :class:`BusyError` at once when another process holds one,
        with its value (what is busy, e.g. ``site 'yard' is being processed by another
        railwatch run``) and the holder. The locks go when the block ends, and with the
        process however it ends (even ``kill -9``): PostgreSQL advisory locks on a
        connection held for the block; for a SQLite file, ``flock`` on one file per key
        in the folder ``FILE.locks`` beside it. An in-memory SQLite database (one
        process) and other backends take no lock.

        A PostgreSQL advisory lock goes silently with its connection (a server restart,
        a network cut, an idle timeout): before writing what the lock protects, ask
        :meth:`lost_lock` whether it is still held."""
        locks = {_lock_name(name): what for name, what in locks.items()}
        backend = self.engine.url.get_backend_name()
        if backend == "postgresql":
            with self._pg_locks(locks):
                yield
        elif backend == "sqlite" and not _is_memory_sqlite(self.engine.url.database):
            with self._file_locks(locks):
                yield
        else:
            yield

    @contextmanager
    def _pg_locks(self, locks: Mapping[str, str]) -> Iterator[None]:
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as err:
            raise StorageError(explain_db_error(err, self.safe_url, "locking")) from err
        held: list[int] = []
        hold: _PgHold | None = None
        keys: dict[str, int] = {}
        try:
            try:
                # keyed within the schema railwatch's tables are in: advisory locks are
                # the whole database's, and two railwatch databases in two schemas of it
                # (search_path) held each other's sites of the same name (session 39)
                schema = conn.execute(text("SELECT current_schema()")).scalar()
                within = "" if schema in (None, "public") else f"schema {schema}:"
                keys = {name: _lock_key(within + name) for name in locks}
                for name in sorted(locks):
                    key = keys[name]
                    got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
                    if not got:
                        raise BusyError(_pg_busy_message(conn, key, locks[name]))
                    held.append(key)
            except SQLAlchemyError as err:
                if "out of shared memory" in str(getattr(err, "orig", err)):
                    raise StorageError(
                        f"cannot hold {len(locks)} locks (one per site) at once on "
                        f"{self.safe_url}: PostgreSQL's lock table is full (out of shared "
                        "memory); process fewer sites per run (a few hundred), or raise "
                        "max_locks_per_transaction on the server"
                    ) from err
                raise StorageError(explain_db_error(err, self.safe_url, "locking")) from err
            try:
                backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
            except SQLAlchemyError as err:
                raise StorageError(explain_db_error(err, self.safe_url, "locking")) from err
            hold = _PgHold(conn, keys, backend)
            with self._holding(hold):
                yield
        finally:
            if hold is not None and hold.lost is not None:
                held.clear()  # gone with their session; a reconnected one holds none
            try:
                for key in held:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            except SQLAlchemyError:  # server gone: the locks went with the connection
                pass
            finally:
                with suppress(SQLAlchemyError):  # closing a dead connection
                    conn.close()

    def _thread_holds(self) -> list[_PgHold | _FileHold]:
        holds: list[_PgHold | _FileHold] | None = getattr(self._holds, "holds", None)
        if holds is None:
            holds = self._holds.holds = []
        return holds

    @contextmanager
    def _holding(self, hold: _PgHold | _FileHold) -> Iterator[None]:
        """Keep ``hold`` among this thread's locks (for :meth:`lost_lock`) for the block."""
        holds = self._thread_holds()
        holds.append(hold)
        try:
            yield
        finally:
            holds.remove(hold)

    def holds_locks(self) -> bool:
        """Whether this thread holds locks of :meth:`exclusive` on this database (so
        that :meth:`lost_lock` has something to check)."""
        return bool(self._thread_holds())

    def lost_lock(self, name: str) -> str | None:
        """Why the lock ``name``, held by this thread through :meth:`exclusive`, is no
        longer held (its connection closed: the server let it go, and another process
        may hold it now; for SQLite, its lock file deleted or replaced), or None while it
        is held. One query on the lock's connection (PostgreSQL) or two ``stat`` calls
        (SQLite). None too where there is nothing to check: a lock this thread does not
        hold here."""
        name = _lock_name(name)
        for hold in self._thread_holds():
            if name in hold.keys:
                why = hold.check(name)
                if why is not None:
                    return why
        return None

    @contextmanager
    def _file_locks(self, locks: Mapping[str, str]) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock (Windows): no lock
            yield
            return
        path = Path(str(self.engine.url.database)).expanduser().resolve()
        folder = path.with_name(path.name + ".locks")
        like = _file_mode(path)  # the database's own: its users share its lock files
        fds: list[int] = []
        hold = _FileHold({})
        try:
            try:
                folder.mkdir(exist_ok=True)
            except OSError as err:
                more = (
                    ": the disk holding the database is full; free space and run the "
                    "command again (nothing was written)"
                    if err.errno in (errno.ENOSPC, errno.EDQUOT)
                    else ""
                )
                raise StorageError(f"cannot create the lock folder {folder}: {err}{more}") from err
            _share(folder, like)
            _room_for_files(len(locks))
            for name in sorted(locks):
                lock = folder / f"{_lock_key(name) & (2**64 - 1):016x}.lock"
                writable = True
                try:
                    try:
                        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
                    except PermissionError:
                        # another user's lock file, which this one may not write: a
                        # read-only descriptor takes the flock as well (only the holder's
                        # name is not written)
                        fd = os.open(lock, os.O_RDONLY)
                        writable = False
                except OSError as err:
                    more = (
                        f": {len(locks)} locks (one per site) are held open at once; raise "
                        "the limit (ulimit -n) or process fewer sites per run"
                        if err.errno == errno.EMFILE
                        else f": let every user who runs railwatch on {path} write the "
                        f"folder {folder} (as they write the database)"
                        if err.errno in (errno.EACCES, errno.EPERM, errno.ENOENT)
                        else ""
                    )
                    raise StorageError(f"cannot open the lock file {lock}: {err}{more}") from err
                _share(lock, like, fd)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                    os.close(fd)
                    raise BusyError(
                        _busy_message(locks[name], holder or f"lock file {lock}")
                    ) from None
                except OSError as err:  # a file system without locks (session 41)
                    os.close(fd)
                    raise StorageError(lock_failed_message(lock, path, err)) from err
                fds.append(fd)
                hold.keys[name] = (lock, fd)
                if writable:
                    _write_holder(fd)
            with self._holding(hold):
                yield
        finally:
            for fd in fds:
                os.close(fd)  # releases its flock

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
