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

A copy into a new SQLite file is written to a hidden file beside it and put at its name
once committed and checked (linked: a file made there meanwhile is never replaced); a
copy that fails, is refused or is interrupted (a full disk, Ctrl-C) removes only that
hidden file, which no other process knows. An existing file is copied into in place and
never removed (2026-12-07, session 51: the new file was left with empty tables; then,
made first and removed when it seemed to hold no row, it could be removed under a
writer that had opened it; session 51 review).

A copy killed outright (``kill -9``, the machine stopping) cannot remove its hidden file:
the next ``railwatch copy-db`` to the same destination removes those whose process is
gone and that nothing wrote for :data:`LEFTOVER_QUIET_S` (:func:`remove_dead_copies`;
2026-12-08, session 52).
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Table, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from railwatch.errors import ConfigError, RailwatchError, StorageError
from railwatch.storage.db import (
    SQLITE_BEGIN_OPTION,
    Database,
    explain_db_error,
    mask_password,
    path_problem,
    sqlite_path,
)
from railwatch.storage.migrate import VERSION_TABLE, upgrade
from railwatch.storage.models import Base, Site

__all__ = [
    "LEFTOVER_QUIET_S",
    "CopyProgress",
    "CopyResult",
    "DestFile",
    "Leftovers",
    "copy_database",
    "dest_file_of",
    "remove_dead_copies",
    "sqlite_dest_problem",
]

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
    #: the hidden files of earlier copies to ``dest`` killed outright, found and
    #: removed before this one (:func:`remove_dead_copies`; session 53)
    leftovers: Leftovers = field(default_factory=lambda: Leftovers())

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
        raised = conn.execute(
            text("UPDATE sqlite_sequence SET seq = max(seq, :v) WHERE name = :t"),
            {"t": table.name, "v": highest},
        )
        if raised.rowcount == 0:  # no row of the table yet: no id given on this side
            # (a database made at the head before session 51's review had none): without
            # one, a table copied empty gave ids from 1 again
            conn.execute(
                text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :v)"),
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


#: The attribute of the exception that stopped :func:`copy_database` that says what
#: became of the new SQLite file of its destination (:func:`dest_file_of`).
_FATE = "_railwatch_dest_file"


@dataclass(frozen=True)
class DestFile:
    """What :func:`copy_database` did with the new SQLite file of its destination when
    an error or Ctrl-C stopped it (:func:`dest_file_of`): ``path``, the destination's
    file, not there when the copy began; ``staged``, the hidden file beside it the copy
    was written to (None: not made yet, the copy had not begun); ``removed``, whether
    that file is removed; ``placed``, whether the copy, whole and checked, was at
    ``path`` already (stopped as it ended). ``railwatch copy-db`` says from it what
    happened (2026-12-07, session 51 review: it said "the new file ... made for the
    copy, was removed" of a file never made)."""

    path: Path
    staged: Path | None
    removed: bool
    placed: bool


def dest_file_of(err: BaseException) -> DestFile | None:
    """What :func:`copy_database` did with the new SQLite file of its destination before
    ``err`` stopped it; None where the destination was no new SQLite file (a file there
    already, PostgreSQL) or ``err`` did not come out of :func:`copy_database`."""
    fate = getattr(err, _FATE, None)
    return fate if isinstance(fate, DestFile) else None


def sqlite_dest_problem(dest: str) -> str | None:
    """Why the SQLite URL ``dest`` cannot be a copy's destination, in words that follow
    its name ("has query parameters ..."); None where it can be (or is no SQLite file).

    A query (``?mode=ro&uri=true``, ``?uri=true``, ``?vfs=...``) or a ``file:`` URI as
    the path makes SQLite open another file than the path railwatch looks at (that
    ``sqlite:///c.db?mode=ro&uri=true`` is not there, that the copy goes to a file
    beside it), or open it read-only: the copy was written to ``c.db`` while railwatch
    made and checked ``c.db?mode=ro`` (2026-12-07, session 51 review)."""
    try:
        parsed = make_url(dest)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or sqlite_path(dest) is None:
        return None
    if parsed.query:
        return (
            f"has query parameters ({', '.join(sorted(parsed.query))}): the copy goes to a "
            "new SQLite file named by its path alone, and with them SQLite opens another "
            "file than that path (uri, vfs, mode...); give sqlite:///PATH without ?..."
        )
    if str(parsed.database).startswith("file:"):
        return (
            f"names a SQLite URI ({parsed.database}) where the path of a file goes: SQLite "
            "reads it as a URI, railwatch as a file name; give sqlite:///PATH"
        )
    return None


def _is_there(path: Path) -> bool:
    """Whether there is a file (or anything) at ``path``; True where it cannot be told."""
    try:
        return path.exists() or path.is_symlink()
    except OSError:
        return True


def _holds_bytes(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


class _Staging:
    """A copy into a new SQLite file, written to a hidden file beside it (same folder)
    that no other process knows, and put at the destination's name once committed and
    checked: linked there, unless a file is there by then (never replaced), then its
    hidden name removed. A copy that fails or is interrupted removes its own hidden file
    and its ``-wal`` and ``-shm``, and nothing at the destination's name.

    Until the session 51 review the destination's file itself was made first and, on
    failure, removed when it held no row as a read-only connection saw it: a writer's
    transaction not yet committed in it (``railwatch site add`` given the new name, or a
    ``serve`` that opened the file during the copy) could not be seen, and committed
    into a file removed. The copy also is no longer seen half made: the destination
    appears whole, its rows checked.

    Where the file system cannot link (some network and FAT file systems), the hidden
    file is renamed to the destination's name when no file is there: a file made there
    in the instant between the look and the rename would be replaced (os.rename; on
    Windows it refuses instead)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.copy")
        #: the hidden file's name is taken (its database is made, or being made)
        self.made = False
        #: the copy is at :attr:`path`
        self.placed = False
        #: a file made at :attr:`path` by another process during the copy refused it
        self.taken = False

    @property
    def url(self) -> str:
        """The hidden file's URL."""
        return f"sqlite:///{self.tmp}"

    def _beside(self) -> tuple[Path, ...]:
        return tuple(self.tmp.with_name(self.tmp.name + end) for end in ("-wal", "-shm"))

    def _whole(self) -> None:
        """Check that the copy lies in the hidden file alone, its write-ahead log folded
        in (SQLite does so when the last connection closes; done here where it did not):
        the log beside the destination's name would be another file."""
        wal = self._beside()[0]
        if not _holds_bytes(wal):
            return
        con = sqlite3.connect(self.tmp)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()
        if _holds_bytes(wal):
            raise StorageError(
                f"the copy's write-ahead log {wal} could not be folded into it; nothing "
                "was copied: check that nothing else opened it, and copy again"
            )

    def _refuse_taken(self) -> StorageError:
        self.taken = True
        return StorageError(
            f"{self.path} was made by another process during the copy (a railwatch "
            "command or `serve` given it?): it was left as it is, and the copy, written to "
            "a hidden file beside it, was removed; nothing was copied: stop what made it, "
            "then copy into a file not there yet"
        )

    def place(self) -> None:
        """Put the copy, committed and its engine disposed, at :attr:`path`."""
        self._whole()
        try:
            os.link(self.tmp, self.path)
        except FileExistsError:
            raise self._refuse_taken() from None
        except OSError as err:  # no hard links here: renamed, where nothing is there
            log.debug("could not link %s to %s (%s): renamed", self.tmp, self.path, err)
            if _is_there(self.path):
                raise self._refuse_taken() from None
            try:
                os.rename(self.tmp, self.path)
            except FileExistsError:
                raise self._refuse_taken() from None
            except OSError as err2:
                raise StorageError(
                    f"the copy could not be put at {self.path} ({err2.strerror or err2}); "
                    "nothing was copied: check the folder, and copy again"
                ) from err2
        self.placed = True
        try:
            self.tmp.unlink(missing_ok=True)
        except OSError as err:
            log.warning("could not remove %s, a second name of %s: %s", self.tmp, self.path, err)

    def discard(self) -> None:
        """Remove the hidden file and its ``-wal`` and ``-shm`` (only its second name
        where the copy was put in place already)."""
        if not self.made:
            return
        for leftover in (self.tmp,) if self.placed else (self.tmp, *self._beside()):
            try:
                leftover.unlink(missing_ok=True)
            except OSError as err:
                log.debug("could not remove %s: %s", leftover, err)

    def fate(self) -> DestFile:
        return DestFile(
            path=self.path,
            staged=self.tmp if self.made else None,
            removed=self.made and not _is_there(self.tmp),
            placed=self.placed,
        )


#: How long the hidden file of a copy whose process is gone must have been left
#: unchanged (it, its ``-wal`` and ``-shm``) before :func:`remove_dead_copies` removes it.
LEFTOVER_QUIET_S = 30 * 60


@dataclass(frozen=True)
class Leftovers:
    """What :func:`remove_dead_copies` found beside a destination: ``removed``, the files
    of copies whose process is gone; ``recent``, those of such copies written to within
    :data:`LEFTOVER_QUIET_S` (kept); ``failed``, files it could not remove, and why."""

    removed: tuple[Path, ...] = ()
    recent: tuple[Path, ...] = ()
    failed: tuple[tuple[Path, str], ...] = ()

    @property
    def pids(self) -> list[int]:
        """The processes that left the removed files."""
        return sorted({_pid_of(p) for p in self.removed})


#: The hidden file of :class:`_Staging` (and its ``-wal``, ``-shm`` or ``-journal``):
#: ``.NAME.PID.TAG.copy``; PID and TAG groups, NAME escaped in by :func:`_leftover_name`.
_LEFTOVER = r"\.{name}\.(?P<pid>[0-9]+)\.(?P<tag>[0-9a-f]{{8}})\.copy(?:-wal|-shm|-journal)?"


def _leftover_name(name: str) -> re.Pattern[str]:
    return re.compile(_LEFTOVER.format(name=re.escape(name)))


def _pid_of(path: Path) -> int:
    return int(path.name.rsplit(".copy", 1)[0].rsplit(".", 2)[-2])


def _process_runs(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine; True where it cannot be told (not
    POSIX: Windows' ``os.kill`` would end it), or for this process itself."""
    if os.name != "posix" or pid <= 0 or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether it is there
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        return True
    return True


def remove_dead_copies(dest: str, *, quiet_s: float = LEFTOVER_QUIET_S) -> Leftovers:
    """Remove the hidden files that copies into the new SQLite file of ``dest`` left
    beside it when killed (``kill -9``: no ``finally`` ran), named
    ``.NAME.PID.TAG.copy`` and its ``-wal``, ``-shm``, NAME the destination's file name
    exactly (another destination's are never touched).

    A copy's files are removed only where both hold: its process PID does not run on
    this machine (``os.kill(PID, 0)``; a PID given again to another process since keeps
    them, the safe side), and none of its files was written to for ``quiet_s``
    (:data:`LEFTOVER_QUIET_S`): the PID names a process of the machine that made the
    file, and a copy running on another machine or in another container sharing the
    folder has a PID that means nothing here, while it writes its file as it copies
    (each batch of rows). A lock held by the copy was not used: SQLite's are released
    while it reads, and ``flock`` is emulated by those same locks on NFS, where two
    machines meet. Those written to more recently are kept and listed in ``recent``.
    Nothing is done for a destination that is no SQLite file or whose folder is not
    there (2026-12-08, session 52)."""
    path = sqlite_path(dest)
    if path is None or path_problem(path) is not None:
        return Leftovers()
    pattern = _leftover_name(path.name)
    groups: dict[tuple[int, str], list[Path]] = {}
    try:
        for entry in os.scandir(path.parent):
            found = pattern.fullmatch(entry.name)
            if found is not None:
                key = (int(found["pid"]), found["tag"])
                groups.setdefault(key, []).append(path.parent / entry.name)
    except OSError as err:  # no folder, or not readable: the copy says what it finds
        log.debug("could not look for leftovers of %s: %s", path, err)
        return Leftovers()
    removed: list[Path] = []
    recent: list[Path] = []
    failed: list[tuple[Path, str]] = []
    now = time.time()
    for (pid, _tag), files in sorted(groups.items()):
        if _process_runs(pid):
            continue  # a copy in progress (or a PID given again: kept)
        try:
            infos = [f.lstat() for f in files]
        except OSError:  # one went meanwhile: its copy is alive, or another cleans up
            continue
        if any(not stat.S_ISREG(i.st_mode) for i in infos):
            continue  # no file a copy made
        if now - max(i.st_mtime for i in infos) < quiet_s:
            recent.extend(sorted(files))
            continue
        for leftover in sorted(files):
            try:
                leftover.unlink()
            except FileNotFoundError:
                continue
            except OSError as err:
                failed.append((leftover, err.strerror or str(err)))
            else:
                removed.append(leftover)
    return Leftovers(tuple(removed), tuple(recent), tuple(failed))


def _staging(dest: str) -> _Staging | None:
    """The staging of ``dest`` when it is a SQLite file not there yet, in a folder that
    is there (None otherwise: a file there is copied into in place, as before; a
    missing folder or a name the file system refuses is said by ``make_engine``)."""
    path = sqlite_path(dest)
    if path is None or path_problem(path) is not None:
        return None
    try:
        if _is_there(path) or not path.parent.is_dir():
            return None
    except OSError:
        return None
    return _Staging(path)


def _tell_fate(err: BaseException, staging: _Staging, dest: str) -> None:
    """Put on ``err`` what became of the destination's new file (:func:`dest_file_of`)
    and, on a railwatch error, say it in its words, the hidden file's name there
    replaced by the destination's (the error is about the copy into it)."""
    fate = staging.fate()
    setattr(err, _FATE, fate)
    if not (isinstance(err, RailwatchError) and err.args and isinstance(err.args[0], str)):
        return
    said = err.args[0]
    with suppress(ArgumentError, ValueError):
        said = said.replace(staging.url, make_url(dest).render_as_string(hide_password=True))
    said = said.replace(str(staging.tmp), str(staging.path))
    if fate.staged is not None and not fate.placed and not staging.taken:
        said += (
            f"; {staging.path} was not made (the copy was written to a hidden file beside "
            "it, removed)"
            if fate.removed
            else f"; {staging.path} was not made, and the hidden file {fate.staged} the copy "
            "was written to could not be removed: remove it"
        )
    # the same error (its type says the exit status: busy, ...), its words told
    err.args = (said, *err.args[1:])


def copy_database(
    source: str,
    dest: str,
    *,
    batch: int = BATCH_ROWS,
    on_progress: CopyProgress | None = None,
    on_leftovers: Callable[[Leftovers], None] | None = None,
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

    A ``dest`` that is a SQLite file not there yet is written as a hidden file beside it
    and put at its name once checked (:class:`_Staging`): a copy that fails, is refused
    or is interrupted leaves no file at its name, and one made there meanwhile by
    another process is never replaced (the copy is then refused); the error says what
    became of it (:func:`dest_file_of`; session 51). A SQLite ``dest`` with query
    parameters is refused (:func:`sqlite_dest_problem`).

    ``on_progress(table, done, total)``, when given, is called before the first row (0
    of ``total``, the rows of every table in the snapshot, counted first) and after each
    batch written (``done`` rows of all tables so far, ``table`` the one being copied);
    without it nothing is counted ahead (``railwatch copy-db`` shows it as a progress
    bar, 2026-12-07, session 46).

    Once the source is open and held, the hidden files that earlier copies to ``dest``
    killed outright left beside it are removed (:func:`remove_dead_copies`): what was
    found is in the result's ``leftovers`` and given to ``on_leftovers`` as soon as it
    is known, so it is said also when the copy then fails (session 53; a source that
    cannot be opened leaves them as they are)."""
    if _same_database(source, dest):
        raise ConfigError(
            f"the source and the destination are the same database ({mask_password(dest)}): "
            "give a new, empty one as the destination"
        )
    problem = sqlite_dest_problem(dest)
    if problem is not None:
        raise ConfigError(f"the destination {mask_password(dest)} {problem}")
    staging = _staging(dest)
    try:
        return _copy(source, dest, staging, batch, on_progress, on_leftovers)
    except BaseException as err:
        if staging is not None:
            staging.discard()  # its engine disposed by _copy's exit
            _tell_fate(err, staging, dest)
        raise


def _copy(
    source: str,
    dest: str,
    staging: _Staging | None,
    batch: int,
    on_progress: CopyProgress | None,
    on_leftovers: Callable[[Leftovers], None] | None,
) -> CopyResult:
    with ExitStack() as stack:
        src = Database(source, create=False)
        stack.callback(src.dispose)
        with src.session(readonly=True) as session:
            names = list(session.scalars(select(Site.name).order_by(Site.name)))
        # held first: a copy refused for a run in progress leaves DEST untouched
        stack.enter_context(_no_run(src, names))
        leftovers = remove_dead_copies(dest)
        if on_leftovers is not None:
            on_leftovers(leftovers)
        # its schema made or upgraded only once it is known to hold no row: a DEST
        # refused is left as it was (an older railwatch's was upgraded first; session 51)
        if staging is not None:
            staging.made = True  # its name taken: removed if the copy goes no further
        dst = Database(dest if staging is None else staging.url, migrate=False)
        stack.callback(dst.dispose)
        shown = dst.safe_url if staging is None else make_url(dest).render_as_string(True)
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
            raise StorageError(explain_db_error(err, shown, "database read")) from err
        held = {name: n for name, n in counted.items() if n}
        if held:
            listed = ", ".join(f"{t} {n}" for t, n in held.items())  # table, rows
            new = (  # a SQLite file was told to createdb (session 46's copy-db)
                "a file not there yet, sqlite:///NEW.db"
                if dst.engine.dialect.name == "sqlite"
                else "createdb NEW, then postgresql+psycopg://USER@HOST/NEW"
            )
            raise StorageError(
                f"database {shown} is not empty ({listed}): copy into a new, empty "
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
                            f"copying {src.safe_url} to {shown} gave different row "
                            f"counts ({differ}): "
                            "nothing was copied (rolled back); report this with the railwatch "
                            "version"
                        )
                    doing = "database write"
        except SQLAlchemyError as err:
            url = src.safe_url if doing == "database read" else shown
            raise StorageError(
                explain_db_error(err, url, doing) + "; nothing was copied (rolled back)"
            ) from err
        if staging is not None:  # committed and checked: put in place, its engine closed
            dst.dispose()
            staging.place()
        return CopyResult(source=src.safe_url, dest=shown, rows=rows, leftovers=leftovers)


def _snapshot(conn: Connection) -> dict[str, object]:
    """Options of a read of one snapshot: PostgreSQL's REPEATABLE READ, read only;
    SQLite's deferred read transaction in WAL mode is one already."""
    if conn.dialect.name == "postgresql":
        return {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    return {SQLITE_BEGIN_OPTION: "DEFERRED"}
