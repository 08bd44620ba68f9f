"""A checked copy of a SQLite database, taken while other runs go on writing.

Copying ``railwatch.db`` with ``cp`` while a run writes is not a backup: in WAL mode the
latest commits are in ``railwatch.db-wal`` beside it, so the copy misses them, or is
damaged when a checkpoint moves pages into the file during the copy. :func:`backup`
uses SQLite's online backup API instead: it reads one snapshot of the database (WAL
included) without stopping writers, writes it into a new file in DEST's folder, makes
that a self-contained file (rollback journal, nothing beside it), checks it
(``PRAGMA integrity_check``, the schema revision, the rows of each table), and only
then gives it DEST's name. An existing DEST is never overwritten, and a failed copy
leaves nothing behind. PostgreSQL is backed up with ``pg_dump``
(:func:`pg_dump_hint`).

:func:`restore` puts a backup back through SQLite too. Copying the backup over the
database file is not safe: a ``-wal`` file left beside it (a run killed with ``kill
-9``, a crash) is replayed onto the copied file at the next open, mixing the old
database's last commits into the restored one (seen: the backup's newest events gone,
rows of the old ``-wal`` in their place, integrity check "ok"). Added 2026-12-05,
session 34.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from railwatch.errors import InputError, StorageError
from railwatch.storage.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    BusyError,
    NoDatabaseError,
    file_size_limit,
    file_size_limit_message,
    is_memory_url,
    lock_failed_message,
    path_problem,
    sqlite_path,
)
from railwatch.storage.migrate import is_railwatch_schema, other_application_message

__all__ = [
    "BackupResult",
    "RestoreInterrupted",
    "RestoreResult",
    "backup",
    "is_empty_database_file",
    "pg_dump_hint",
    "remove_unfinished_copies",
    "resolved_file_path",
    "restore",
]

#: The revision a backup reports for a database whose version table is empty.
_NO_REVISION = "(none)"

#: Tables whose rows a backup reports (those of the schema, oldest first).
_TABLES = ("sites", "scenes", "detections", "counts", "scene_reviews", "events", "alerts")


@dataclass(frozen=True)
class BackupResult:
    """A finished backup: where it is, its size, the schema revision it holds and its
    rows per table (of the tables it has)."""

    source: Path
    path: Path
    size: int
    revision: str
    rows: dict[str, int] = field(default_factory=dict)
    #: Unfinished copies that backups or restores killed before they ended (``kill -9``,
    #: a crash, a power cut) had left in DEST's folder, removed by this backup.
    removed: tuple[Path, ...] = ()


def pg_dump_hint(url: str) -> str:
    """How to back up and restore the PostgreSQL database of ``url`` with its own tools
    (the URL in libpq's form, password hidden)."""
    parsed = make_url(url)
    libpq = parsed.set(drivername="postgresql")
    shown = libpq.render_as_string(hide_password=True)
    new = libpq.set(database="NEW").render_as_string(hide_password=True)
    # createdb and pg_restore are given the server of the URL: with a bare NEW they went
    # to the local server (PGHOST), not the one railwatch uses (session 34 review)
    return (
        f"pg_dump -Fc -f FILE '{shown}' (while railwatch runs: one consistent snapshot); "
        f"restore into a new, empty database on the same server with createdb "
        f"--maintenance-db='{shown}' NEW && pg_restore -d '{new}' FILE "
        f"(then give railwatch --db {parsed.set(database='NEW').render_as_string(True)})"
        + _pg_tool_notes(parsed.username)
    )


def _pg_tool_notes(user: str | None) -> str:
    """What the commands of :func:`pg_dump_hint` need that the URL does not say
    (2026-12-07, session 46: copied as printed, ``***`` was sent as the password, and
    ``createdb`` run as railwatch's user failed with "permission denied to create
    database")."""
    owner = f" (add -O {user} when another user runs it, so that {user} owns NEW)" if user else ""
    return (
        "; *** stands for the password: write it there, or leave ':***' out and set "
        "PGPASSWORD; createdb needs a user who may create databases (CREATEDB)" + owner
    )


def _no_room(folder: Path) -> bool:
    """Whether the file system of ``folder`` has under 1 MiB free (SQLite says a file it
    could not grow there as "disk I/O error" too)."""
    try:
        stat = os.statvfs(folder)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < (1 << 20)


def _disk_full(err: BaseException | None, folder: Path) -> bool:
    """Whether ``err`` (of SQLite or the OS, writing in ``folder``) says there was no
    room: SQLite says some such writes as "disk I/O error", told by the room left."""
    if err is None:
        return False
    low = str(err).lower()
    return (
        "disk is full" in low
        or "no space left" in low
        or "quota" in low
        or ("disk i/o error" in low and _no_room(folder))
    )


def _failed(what: str, err: BaseException, dest: Path) -> StorageError:
    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
    low = first.lower()
    if _disk_full(err, dest.parent):
        why = f"the disk holding {dest.parent} is full: free space or give another DEST"
    elif "disk i/o error" in low and (limit := file_size_limit()) is not None:
        why = file_size_limit_message(limit)  # "check the disk" until session 50
    elif "database is locked" in low:  # said "check the disk" until session 41
        why = (
            f"another process held the database alone for {SQLITE_BUSY_TIMEOUT_MS / 1000:g} s "
            "(`railwatch restore`, or a program that locks it exclusively): let it finish and "
            "run the backup again"
        )
    elif (
        "readonly" in low
        or "read-only" in low
        or "permission" in low
        or not os.access(dest.parent, os.W_OK)  # SQLite: "unable to open database file"
    ):
        why = f"{dest.parent} cannot be written: give a DEST in a folder you can write"
    else:
        why = "check the disk and run it again"
    return StorageError(
        f"backup failed while {what} ({first}): {why}; nothing was written to {dest}, and "
        "the database was not changed"
    )


@contextlib.contextmanager
def _connection(target: str, *, uri: bool = False) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(target, uri=uri, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000.0)
    try:
        yield con
    finally:
        con.close()


def _sqlite_file(url: str, *, nothing: str, postgres: str) -> Path:
    """The file of the SQLite database ``url`` (not checked to exist), or an error saying
    why there is none: an in-memory database ("there is ``nothing``"), a PostgreSQL URL
    (``postgres`` + " tools: " the pg_dump/pg_restore commands), another URL, a folder."""
    if is_memory_url(url):
        raise InputError(f"{url!r} is an in-memory database: there is {nothing}")
    path = sqlite_path(url)
    if path is None:
        try:
            backend = make_url(url).get_backend_name()
        except (ArgumentError, ValueError):  # said below as "not a SQLite database URL"
            backend = ""
        if backend == "postgresql":
            raise InputError(f"{postgres} tools: {pg_dump_hint(url)}")
        raise InputError(f"{url!r} is not a SQLite database URL: {nothing}")
    problem = path_problem(path)
    if problem is not None:
        raise InputError(f"cannot open the database {problem}; nothing was written")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a database file: give the database's URL")
    return path


def _check_source(url: str) -> Path:
    """The file of the SQLite database ``url``, or an error saying why there is none to
    back up."""
    source = _sqlite_file(
        url,
        nothing="nothing to back up",
        postgres="railwatch backup copies SQLite databases; back up PostgreSQL with its own",
    )
    if not source.exists():
        raise NoDatabaseError(
            f"no database at {source}: give the URL of the database to back up", source
        )
    if source.stat().st_size == 0:
        raise StorageError(f"{source} is an empty file (0 bytes): there is no database to back up")
    return source


def resolved_file_path(path: Path) -> Path:
    """``path`` (``~`` expanded) made absolute with its folders resolved: ``exp5/../bk.db``
    as ``/abs/bk.db``, as the database's own path is said (:func:`sqlite_path`), the
    file's own name kept (a link to a backup is named as given). Backup and restore said
    ``/abs/exp5/../bk.db`` until session 41."""
    path = path.expanduser().absolute()
    if path.name in ("", ".", ".."):
        return path.resolve(strict=False)
    return path.parent.resolve(strict=False) / path.name


def is_empty_database_file(path: Path) -> bool:
    """Whether ``path`` is an existing SQLite file of 0 bytes with no write-ahead log
    holding anything (no ``-wal`` file, or an empty one): a database with nothing in it,
    which a restore fills without replacing anything (as a file that does not exist)."""
    try:
        if path.stat().st_size != 0:
            return False
    except OSError:  # missing (or unreadable): not an empty file
        return False
    wal = path.with_name(path.name + "-wal")
    try:
        return wal.stat().st_size == 0
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _check_dest(source: Path, dest: Path) -> Path:
    dest = dest.expanduser().absolute()
    problem = path_problem(dest)
    if problem is not None:
        raise InputError(f"cannot write the backup to {problem}; nothing was backed up")
    resolved = dest = resolved_file_path(dest)
    if resolved in {
        source,
        source.with_name(source.name + "-wal"),
        source.with_name(source.name + "-shm"),
        source.with_name(source.name + "-journal"),
    }:
        raise InputError(
            f"{dest} is the database itself, or a file SQLite keeps beside it: give another "
            "file name"
        )
    if dest.is_dir():
        raise InputError(
            f"{dest} is a folder: give the backup's file name, e.g. {dest / 'railwatch-backup.db'}"
        )
    if dest.exists() or dest.is_symlink():
        raise InputError(
            f"{dest} exists: railwatch backup never overwrites a file; give a new file name "
            "(or remove that file first)"
        )
    if not dest.parent.is_dir():
        raise InputError(f"folder {dest.parent} does not exist: create it or give another DEST")
    return dest


def _describe(
    con: sqlite3.Connection,
    source: Path,
    nothing: str = "nothing was backed up",
    advice: str | None = None,
) -> tuple[str, dict[str, int]]:
    """The schema revision and rows per table of a database, or the reason it is not a
    railwatch database (``nothing``: what the refusal left undone; a restore's said
    "nothing was backed up" until session 39; ``advice``: what to do instead, for
    another application's database that has a version table: since session 41, which
    a restore called "newer than this railwatch knows" and a backup copied)."""
    tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "alembic_version" not in tables:
        raise StorageError(
            f"{source} is a SQLite database but not a railwatch one (it has no table "
            f"alembic_version): {nothing}"
        )
    row = con.execute("SELECT version_num FROM alembic_version").fetchone()
    revision = str(row[0]) if row else _NO_REVISION
    if row and not is_railwatch_schema(revision, tables):  # another Alembic application's
        raise StorageError(
            other_application_message(str(source), revision, tables, nothing, advice)
        )
    rows = {
        t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
        for t in _TABLES
        if t in tables
    }
    return revision, rows


def _read_uri(source: Path) -> str:
    """The URI that opens ``source`` to read it: read-only; and, in a folder that cannot
    be written (a read-only mount, a file-system snapshot) with no ``-wal`` file beside
    it, immutable, since SQLite cannot make its ``-shm`` file there even to read and no
    run can be writing it (session 34: backing up such a database failed with "unable
    to open database file")."""
    uri = f"{source.as_uri()}?mode=ro"
    if (
        not os.access(source.parent, os.W_OK)
        and not source.with_name(source.name + "-wal").exists()
        and not _has_journal(source)  # immutable would read half-written pages
    ):
        uri += "&immutable=1"
    return uri


def _first_problems(check: list[str]) -> str:
    """The first three problems ``PRAGMA integrity_check`` gave: SQLite gives them as one
    row of many lines (a damaged copy printed a hundred lines, "Page N is never used",
    until 2026-12-07, session 50), or as rows."""
    lines = [line.strip() for row in check for line in str(row).splitlines() if line.strip()]
    more = f"; and {len(lines) - 3} more" if len(lines) > 3 else ""
    return "; ".join(lines[:3]) + more


def _has_journal(source: Path) -> bool:
    """Whether a rollback journal with anything in it lies beside ``source``: a
    transaction in progress, or one that did not finish (a ``railwatch restore``, which
    writes in that mode, or another program, killed while it wrote: a "hot" journal,
    which the next connection that may write rolls back)."""
    try:
        return source.with_name(source.name + "-journal").stat().st_size > 0
    except OSError:
        return False


def _roll_back_unfinished(source: Path) -> None:
    """Put the database ``source`` back as its last commit left it where a transaction
    killed while it wrote left its rollback journal beside it, as SQLite does for the
    next connection that may write (a read-only one cannot: the backup failed with
    "attempt to write a readonly database", said as DEST's folder not writable, until
    2026-12-07, session 50; and in a folder that cannot be written the copy was read
    ``immutable``, the half-written pages without their journal). A writer still at
    work holds its lock: this waits for it like any connection, then finds nothing to
    do."""
    if not _has_journal(source):
        return
    journal = source.with_name(source.name + "-journal")
    if not os.access(source.parent, os.W_OK) or not os.access(source, os.W_OK):
        raise StorageError(
            f"{source} has the journal of a transaction that did not finish beside it "
            f"({journal.name}: a railwatch restore or another program stopped while it "
            "wrote), and SQLite must write the database to put it back as it was before "
            "it can be read, which it cannot here (read-only): copy the database and its "
            f"{journal.name} file together to a folder you can write and back up that copy; "
            "nothing was backed up"
        )
    try:
        with _connection(str(source)) as con:
            con.execute("PRAGMA schema_version").fetchone()  # rolls a hot journal back
    except sqlite3.DatabaseError as err:
        low = str(err).lower()
        if "locked" in low or "busy" in low:
            raise StorageError(
                f"another process held {source} alone for "
                f"{SQLITE_BUSY_TIMEOUT_MS / 1000:g} s (`railwatch restore`, or a program "
                "that locks it exclusively): let it finish and run the backup again; "
                "nothing was backed up"
            ) from err
        raise StorageError(
            f"{source} has the journal of a transaction that did not finish beside it "
            f"({journal.name}), and SQLite could not put the database back as it was "
            f"({err}): check the disk and run the backup again; nothing was backed up"
        ) from err


#: This machine's name in the unfinished copies' names (letters, digits, dots, dashes).
_HOST = re.sub(r"[^A-Za-z0-9.-]", "", socket.gethostname())[:40] or "host"

#: An unfinished copy of :func:`_backup_from` (and the files SQLite keeps beside it):
#: ``.NAME.partial-HOST-PID`` (``.NAME.partial-PID`` before 2026-12-07, session 50).
_PARTIAL = re.compile(r"\.(?P<name>.+)\.partial-(?:(?P<host>[A-Za-z0-9.-]*)-)?(?P<pid>\d+)")
_PARTIAL_ENDS = ("", "-journal", "-wal", "-shm")


def _partial_name(dest: Path) -> Path:
    """Where :func:`_backup_from` writes the copy for ``dest`` until it is checked: a
    hidden file beside it naming this machine and process, so that a later backup can
    tell one left by a process that is gone (:func:`remove_unfinished_copies`); the
    name cut short where a long DEST's would be too long (255 bytes, usually)."""
    return dest.with_name(f".{dest.name[:200]}.partial-{_HOST}-{os.getpid()}")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (EPERM): it is there
        return True
    return True


def remove_unfinished_copies(folder: Path) -> tuple[Path, ...]:
    """Remove the unfinished copies (``.NAME.partial-HOST-PID`` and the ``-journal``,
    ``-wal`` and ``-shm`` files beside them) that a backup, or a restore's copy of the
    database as it was, left in ``folder`` when killed before it ended (``kill -9``, a
    crash, a power cut: each is a whole database, hidden, which nothing removed until
    2026-12-07, session 50). Only those of this machine whose process is gone: a copy of
    a backup still running, here or on another machine sharing the folder, is left.
    Returns the copies removed (not the files beside them)."""
    removed: list[Path] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return ()
    for path in entries:
        name = path.name
        end = next((e for e in _PARTIAL_ENDS[1:] if name.endswith(e)), "")
        match = _PARTIAL.fullmatch(name[: len(name) - len(end)] if end else name)
        if match is None or match["host"] not in (None, _HOST):
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _process_alive(pid):
            continue
        try:
            if path.is_symlink() or not path.is_file():
                continue
            path.unlink()
        except OSError:
            continue
        if not end:
            removed.append(path)
    return tuple(removed)


def _keep(partial: Path, dest: Path) -> None:
    """Give the checked copy ``partial`` the name ``dest``, never replacing a file made
    there meanwhile (a hard link fails on an existing name; a file system without hard
    links gets a rename after a last look)."""
    try:
        os.link(partial, dest)
    except FileExistsError:
        raise InputError(f"{dest} was created while the backup ran: give a new file name") from None
    except OSError:
        if dest.exists():
            raise InputError(
                f"{dest} was created while the backup ran: give a new file name"
            ) from None
        os.rename(partial, dest)


def backup(url: str, dest: str | Path) -> BackupResult:
    """Copy the SQLite database of ``url`` to the new file ``dest`` (see the module's
    docstring); the database is only read, and may be written by other runs meanwhile.
    Nothing is migrated: a database of an older (or newer) railwatch is copied as it is,
    so a backup taken before an upgrade is the database before it."""
    if str(dest).strip() == "-":  # Path("-") made a file named "-" (session 34 review)
        raise InputError(
            "railwatch backup writes a file, not standard output ('-'): give the backup's "
            "file name, e.g. railwatch-backup.db"
        )
    source = _check_source(url)
    checked = _check_dest(source, Path(dest))
    _roll_back_unfinished(source)
    return _backup_from(source, checked)


def _backup_from(
    source: Path, dest: Path, opened: sqlite3.Connection | None = None
) -> BackupResult:
    """Copy the database file ``source`` to the new file ``dest`` (checked, as
    :func:`backup` does), read through ``opened`` where given (:func:`restore`'s
    connection, which alone holds the database), else through a read-only connection."""
    removed = remove_unfinished_copies(dest.parent)
    partial = _partial_name(dest)
    try:
        try:
            with contextlib.ExitStack() as stack:
                src = (
                    opened
                    if opened is not None
                    else stack.enter_context(_connection(_read_uri(source), uri=True))
                )
                _describe(src, source)  # refuse another application's database first
                with _connection(str(partial)) as out:
                    src.backup(out)  # one step: one snapshot, writers go on (WAL)
        except sqlite3.DatabaseError as err:
            low = str(err).lower()
            if "file is not a database" in low or "malformed" in low:
                raise StorageError(
                    f"{source} cannot be backed up: {err} (the file is damaged, or is not a "
                    f"SQLite database); nothing was written to {dest}. Save what it still "
                    f"holds with `sqlite3 {source} .recover | sqlite3 NEW.db`"
                ) from err
            raise _failed("copying the database", err, dest) from err
        try:
            with _connection(str(partial)) as out:
                mode = out.execute("PRAGMA journal_mode=DELETE").fetchone()
                check = [r[0] for r in out.execute("PRAGMA integrity_check")]
                revision, rows = _describe(out, source)
            if not mode or str(mode[0]).lower() != "delete" or check != ["ok"]:
                raise StorageError(
                    f"backup of {source} failed its check ({_first_problems(check)}): "
                    f"nothing was written to {dest}; check the database with `sqlite3 "
                    f"{source} 'PRAGMA integrity_check'`"
                )
            fd = os.open(partial, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            _keep(partial, dest)
        except (sqlite3.DatabaseError, OSError) as err:
            raise _failed("checking and keeping the copy", err, dest) from err
    finally:
        for leftover in [partial] + [
            partial.with_name(partial.name + end) for end in ("-journal", "-wal", "-shm")
        ]:
            # OSError, not only FileNotFoundError: on a read-only file system deleting a
            # file that is not there is EROFS, which hid the error that stopped the copy
            # behind "internal error: OSError" (until session 41)
            with contextlib.suppress(OSError):
                leftover.unlink()
    return BackupResult(source, dest, dest.stat().st_size, revision, rows, removed)


@dataclass(frozen=True)
class RestoreResult:
    """A finished restore: the database restored, the backup it came from, where the
    database as it was before is kept (None where there was none), and the schema
    revision and rows per table it holds now."""

    target: Path
    backup: Path
    kept: Path | None
    revision: str
    rows: dict[str, int] = field(default_factory=dict)
    #: Whether the database file was made by this restore (there was none before, or
    #: only an empty file of 0 bytes: see ``was_empty``).
    created: bool = False
    #: Whether there was a database file of 0 bytes there (filled, nothing replaced).
    was_empty: bool = False
    #: Unfinished copies that interrupted backups or restores had left beside the
    #: database, removed by this restore (:func:`remove_unfinished_copies`).
    removed: tuple[Path, ...] = ()


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from railwatch.storage.migrate import alembic_config

    return {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


@contextlib.contextmanager
def _no_run_holds(target: Path) -> Iterator[None]:
    """Hold every per-site lock file of the database ``target`` (``FILE.locks/``, as
    :meth:`Database.exclusive` makes them) for the block, or raise :class:`BusyError`
    when a run holds one: a run that records scenes while the database is replaced
    would write its results into the restored one."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no flock (Windows): no lock to look at
        yield
        return
    folder = target.with_name(target.name + ".locks")
    fds: list[int] = []
    try:
        for lock in sorted(folder.glob("*.lock")) if folder.is_dir() else []:
            try:
                # read-only: flock needs no more, and a lock file of another user's run
                # (0644) opened for writing failed and was passed over (session 39)
                fd = os.open(lock, os.O_RDONLY)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                os.close(fd)
                raise BusyError(
                    f"a railwatch run is writing to {target} ({holder or lock}): let it "
                    "finish (or stop it), and stop `railwatch serve`, then restore"
                ) from None
            except OSError as err:  # a file system without locks (session 41)
                os.close(fd)
                raise StorageError(lock_failed_message(lock, target, err)) from err
            fds.append(fd)
        yield
    finally:
        for fd in fds:
            os.close(fd)


def _check_backup_file(path: Path, target: Path) -> tuple[str, dict[str, int]]:
    """The revision and rows of the backup ``path``, after checking that it is a whole
    railwatch database this railwatch can open."""
    problem = path_problem(path)
    if problem is not None:
        raise InputError(f"cannot read the backup {problem}; the database was not changed")
    if path.is_dir():
        raise InputError(f"{path} is a folder: give the backup's file")
    if not path.is_file():
        raise InputError(f"no backup at {path}: give the file `railwatch backup` wrote")
    if path.resolve() == target or (target.exists() and os.path.samefile(path, target)):
        # samefile: a hard link to the database (session 34 review: it waited 30 s on
        # its own lock, then said "database is locked ... check the disk")
        raise InputError(f"{path} is the database itself: give the backup's file")
    try:
        with _connection(f"{path.as_uri()}?mode=ro", uri=True) as con:
            check = [r[0] for r in con.execute("PRAGMA integrity_check")]
            revision, rows = _describe(
                con, path, "the database was not changed", "give the file `railwatch backup` wrote"
            )
    except sqlite3.DatabaseError as err:
        raise StorageError(
            f"{path} cannot be restored: {err} (it is damaged, or not a SQLite database); "
            "the database was not changed: give another backup"
        ) from err
    if check != ["ok"]:
        raise StorageError(
            f"{path} cannot be restored: it fails SQLite's integrity check "
            f"({_first_problems(check)}); the database was not changed: give another backup"
        )
    if revision == _NO_REVISION:  # called "newer than this railwatch knows" before
        raise StorageError(
            f"{path} holds a railwatch database with no schema revision (its table "
            "alembic_version is empty, so which railwatch wrote it cannot be told): the "
            "database was not changed; give another backup, or put the revision of the "
            "railwatch that wrote it back into the backup first (INSERT INTO "
            "alembic_version VALUES ('REVISION'); `railwatch backup` names the revision of "
            "each backup it takes)"
        )
    if revision not in _known_revisions():
        raise StorageError(
            f"{path} holds a database of schema revision {revision}, newer than this "
            "railwatch knows: restore it with the railwatch that wrote it (pip install -U "
            "railwatch); the database was not changed"
        )
    return revision, rows


#: How long :func:`restore` waits for another connection to let go of the database
#: before refusing (seconds): a short write of another command ends in time; a
#: connection held open (``railwatch serve``, a run) never does.
RESTORE_WAIT_S = 5.0


def _busy(target: Path, err: BaseException | None = None) -> BusyError:
    why = f" ({err})" if err is not None else ""
    return BusyError(
        f"{target} is open in another process{why} (`railwatch serve`, a railwatch run, a "
        "sqlite3 shell, a notebook): stop it, then run railwatch restore again; nothing "
        "was restored and the database was not changed"
    )


@contextlib.contextmanager
def _sole_access(target: Path) -> Iterator[sqlite3.Connection]:
    """A connection to ``target`` that alone can read or write it until it is closed, or
    :class:`BusyError` when another connection has it open.

    The database leaves WAL mode (its ``-wal`` file checkpointed into it, the content
    the same), which SQLite allows only when no other connection has it open, and the
    connection takes an exclusive lock that it keeps (``locking_mode=EXCLUSIVE``). So
    no commit can fall between the copy of the database as it was and the restore, to
    be in neither (session 34 review: ``railwatch serve`` and ``event add`` committed
    between them; the backup's pages also met a live WAL database of another page size
    with "database is locked ... check the disk"). The next railwatch connection puts
    WAL back."""
    con = sqlite3.connect(str(target), timeout=RESTORE_WAIT_S, isolation_level=None)
    try:
        try:
            con.execute("PRAGMA locking_mode=EXCLUSIVE")
            mode = con.execute("PRAGMA journal_mode=DELETE").fetchone()
            if not mode or str(mode[0]).lower() != "delete":
                raise _busy(target)
            con.execute("BEGIN EXCLUSIVE")
            con.execute("COMMIT")  # the lock stays: locking_mode=EXCLUSIVE
        except sqlite3.OperationalError as err:
            if "locked" in str(err).lower() or "busy" in str(err).lower():
                raise _busy(target, err) from err
            raise
        yield con
    finally:
        con.close()


class RestoreInterrupted(KeyboardInterrupt):
    """:func:`restore` interrupted (Ctrl-C, or SIGTERM as the CLI raises it): a
    ``KeyboardInterrupt`` whose message says what state the database was left in and
    what to do (``restored``: whether the backup's copy was committed, None where that
    could not be told), chained to the interrupt (since 2026-12-06, session 35: the
    CLI said "Interrupted." alone)."""

    def __init__(self, message: str, restored: bool | None) -> None:
        super().__init__(message)
        self.message = message
        self.restored = restored


def _schema_cookie(con: sqlite3.Connection) -> int | None:
    """The schema cookie of ``con``'s database (in its header), which the backup API's
    copy sets to one more than the destination's on commit; None where it cannot be
    read."""
    try:
        row = con.execute("PRAGMA schema_version").fetchone()
    except sqlite3.Error:
        return None
    return int(row[0]) if row else None


def _interrupted(
    target: Path,
    source: Path,
    kept: Path | None,
    restored: bool | None,
    *,
    checked: list[str] | None = None,
) -> RestoreInterrupted:
    """What an interrupted :func:`restore` says of the database ``target``; ``checked``:
    what the integrity check after the copy said, where it ran (restored)."""
    copy = f"; the database as it was is also kept in {kept}" if kept else ""
    if restored and checked is not None:
        said = (
            "and SQLite's integrity check after the copy said ok: nothing else to do"
            if checked == ["ok"]
            else f"but it fails SQLite's integrity check ({_first_problems(checked)})"
        )
        return RestoreInterrupted(
            f"railwatch restore was interrupted once it had restored the database: "
            f"{target} is restored from {source}, {said}{copy}",
            True,
        )
    if restored is None:
        return RestoreInterrupted(
            f"railwatch restore was interrupted while it copied {source} into {target}: "
            "the copy is one SQLite transaction, so the database is whole, either as it "
            f"was or restored{copy}; run `railwatch restore {source}` again to be sure",
            None,
        )
    if restored:
        return RestoreInterrupted(
            f"railwatch restore was interrupted after it had copied the backup: the "
            f"database {target} is restored from {source}, whole (the copy is one SQLite "
            f"transaction, committed before the interrupt){copy}; only the check after "
            f"the copy did not run: check it with `sqlite3 {target} 'PRAGMA "
            "integrity_check'` (it should say ok), nothing else to do",
            True,
        )
    return RestoreInterrupted(
        f"railwatch restore was interrupted before the backup was copied, or while it "
        f"was (the copy is one SQLite transaction, rolled back): nothing was restored, "
        f"the database {target} is as it was{copy}; run `railwatch restore {source}` "
        "again to restore it",
        False,
    )


def _read_only_mount(folder: Path) -> bool:
    """Whether ``folder`` is on a file system mounted read-only."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _megabytes(path: Path) -> str:
    """The size of the SQLite database ``path`` with its ``-wal`` file, as "about N MB"."""
    size = 0
    for file in (path, path.with_name(path.name + "-wal")):
        with contextlib.suppress(OSError):
            size += file.stat().st_size
    return f"about {max(size / 1e6, 0.1):.1f} MB"


def _keep_as_it_was(target: Path, dst: sqlite3.Connection) -> Path | None:
    """Copy the database ``target``, held alone by ``dst``, to
    ``FILE.before-restore-STAMP.db`` beside it (checked as :func:`backup` checks), or
    None where it holds nothing (a new or empty file)."""
    if dst.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = target.with_name(f"{target.name}.before-restore-{stamp}.db")
    n = 1
    while kept.exists():  # two restores in one second: never over an earlier copy
        n += 1
        kept = target.with_name(f"{target.name}.before-restore-{stamp}-{n}.db")
    try:
        _backup_from(target, kept, dst)
    except StorageError as err:
        if _disk_full(err.__cause__, target.parent):
            # said "... give another DEST ... move FILE aside yourself" until session 50:
            # restore has no DEST, and moving the file on the same disk frees nothing
            raise StorageError(
                f"there is no room on the disk holding {target.parent} for the copy of the "
                f"database as it is ({_megabytes(target)}), which railwatch restore keeps "
                f"beside it ({kept.name}) before replacing it: nothing was restored and the "
                "database is as it was; free that much space there, and as much again for "
                "the restore itself, then run railwatch restore again"
            ) from err
        raise StorageError(
            f"the database {target} could not be copied before being replaced ({err}); "
            f"nothing was restored. Move {target.name} and its -wal and -shm files aside "
            "yourself (keep them), then run railwatch restore again"
        ) from err
    return kept


def restore(url: str, backup_file: str | Path) -> RestoreResult:
    """Put the backup ``backup_file`` back as the SQLite database of ``url``.

    The backup is checked first (integrity, a schema revision this railwatch knows).
    Refused while a run holds one of the database's per-site locks, or while any other
    process has the database open (``railwatch serve`` too): this one connection holds
    it alone from start to end. The database as it is now, if there is one, is first
    copied beside it (``FILE.before-restore-STAMP.db``, checked as :func:`backup`
    checks), so nothing is lost; then the backup's pages are written into it through
    SQLite's backup API, in one transaction (an interruption leaves the database as it
    was). A backup of an older revision is migrated by the next command that opens
    the database."""
    target = _sqlite_file(
        url,
        nothing="nothing to restore into",
        postgres="railwatch restore restores SQLite databases; restore PostgreSQL with its own",
    )
    if not target.parent.is_dir():
        raise InputError(f"folder {target.parent} does not exist: create it or give another --db")
    source = Path(backup_file).expanduser().absolute()
    problem = path_problem(source)
    if problem is not None:
        raise InputError(f"cannot read the backup {problem}; the database was not changed")
    source = resolved_file_path(source)
    _check_backup_file(source, target)
    if _read_only_mount(target.parent):  # no user can: said as one until session 50
        raise StorageError(
            f"folder {target.parent} is on a read-only file system, so the database in it "
            "cannot be replaced: nothing was restored (mount it read-write, or restore into "
            "a database elsewhere with --db sqlite:///NEW.db)"
        )
    if not os.access(target.parent, os.W_OK):
        raise StorageError(
            f"folder {target.parent} cannot be written, so the database could not be kept "
            "beside it before being replaced: nothing was restored (let this user write "
            "there, or restore as a user who can)"
        )
    if target.exists() and not os.access(target, os.W_OK):
        # said as "could not be opened to be kept (disk I/O error) ... move it aside"
        # until session 41, though it had been read and could be kept
        raise StorageError(
            f"the database file {target} cannot be written (read-only, or on a read-only "
            "file system): nothing was restored; let this user write it (chmod u+w), or "
            "restore as a user who can"
        )
    existed = target.exists()
    # a file of 0 bytes holds no database: filled as a new one (session 41), though it
    # is left in place, not removed, if the restore fails
    was_empty = is_empty_database_file(target)
    kept: Path | None = None
    removed: tuple[Path, ...] = ()
    check: list[str] | None = None  # the integrity check after the copy, once it ran
    try:
        with _no_run_holds(target), _sole_access(target) as dst:
            before = _schema_cookie(dst)
            try:
                removed = remove_unfinished_copies(target.parent)
                kept = _keep_as_it_was(target, dst)
                where = f" (and is kept in {kept})" if kept else ""
                try:
                    with _connection(f"{source.as_uri()}?mode=ro", uri=True) as src:
                        src.backup(dst)  # one transaction: the old database or the new one
                except sqlite3.DatabaseError as err:
                    advice = (
                        f"the disk holding {target.parent} is full: free space there (the "
                        f"backup needs {_megabytes(source)}) and run railwatch restore again"
                        if _disk_full(err, target.parent)
                        else "check the disk and run railwatch restore again"
                    )
                    raise StorageError(
                        f"restoring {source} into {target} failed ({err}); the database "
                        f"is as it was{where}: {advice}"
                    ) from err
                try:
                    check = [r[0] for r in dst.execute("PRAGMA integrity_check")]
                    revision, rows = _describe(dst, target)
                except sqlite3.DatabaseError as err:
                    raise StorageError(
                        f"{target} was restored from {source} but could not be checked "
                        f"({err}); the database as it was is kept in {kept}: check the disk"
                    ) from err
            except KeyboardInterrupt as err:
                # the copy is one SQLite transaction (committed whole, or rolled back);
                # an interrupt is raised once the copy's C call returns, so whether it
                # was committed is read from the database, not from where Python was
                now = _schema_cookie(dst)
                restored = None if now is None or before is None else now != before
                if not existed and not restored:  # made by this restore: leave no file
                    with contextlib.suppress(OSError):
                        target.unlink()
                raise _interrupted(target, source, kept, restored) from err
            except BaseException:
                if not existed:  # made by this restore, held by it alone: leave no file
                    with contextlib.suppress(OSError):
                        target.unlink()
                raise
    except KeyboardInterrupt as err:
        if isinstance(err, RestoreInterrupted):
            raise
        if check is not None:  # while the database was let go, restored and checked
            raise _interrupted(target, source, kept, True, checked=check) from err
        # before the database was held (the checks): nothing was restored (session 35
        # review: an interrupt as it was let go, once restored, said "nothing was
        # restored, the database is as it was" of a new file)
        raise _interrupted(target, source, kept, False if kept is None else None) from err
    except sqlite3.DatabaseError as err:  # the database could not be opened to be held
        raise StorageError(
            f"the database {target} could not be opened to be kept before being replaced "
            f"({err}); nothing was restored. Move {target.name} and its -wal and -shm "
            "files aside yourself (keep them), then run railwatch restore again"
        ) from err
    if check != ["ok"]:
        raise StorageError(
            f"{target} fails SQLite's integrity check after the restore "
            f"({_first_problems(check)}); the database as it was is kept in {kept}"
        )
    return RestoreResult(
        target,
        source,
        kept,
        revision,
        rows,
        created=not existed or was_empty,
        was_empty=was_empty,
        removed=removed,
    )
