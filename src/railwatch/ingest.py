"""Register image files of a site: one scene per distinct file (by content hash).

A bad file never stops the batch: each file's outcome (ingested, already there,
not overlapping the site, failed with its reason) is filed in an :class:`IngestSummary`.

Each scene keeps the SHA-256 of its file and, in its metadata (``railwatch:file``), the
file's size and modification and status-change times when it was hashed
(:func:`file_stamp`). Before a scene is counted, :func:`check_unchanged` compares those
with the file as it is now (a ``stat``, microseconds) and hashes the file again only when
they differ: a file replaced by another image after ingest is then refused, never counted
under the ingested scene's date. Its quality mask (``NAME.mask.tif``, ``NAME_udm2.tif``)
is stamped and checked the same way (``railwatch:mask``, :func:`check_mask_unchanged`):
a mask replaced after ingest is refused, never read in silence. A mask ingested before
it was stamped is stamped at its first use (:func:`first_use_stamp`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import date as Day
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from railwatch.errors import ImageryError, InputError, NotFoundError, RailwatchError, plural, some
from railwatch.limits import check_year
from railwatch.storage import Database, repo
from railwatch.storage.db import is_sqlite_locked

__all__ = [
    "EIGHT_BIT_NOTE",
    "FILE_DATE_KEY",
    "FILE_STAMP_KEY",
    "FIRST_USE_KEY",
    "MASK_CHANGED",
    "MASK_STAMP_KEY",
    "NODATA_CHANGED",
    "RESULTS_KEPT",
    "SCALE_CHANGED",
    "SIDECARS_KEY",
    "STAC_ALIASES_KEY",
    "FileChangedError",
    "FirstUseHashes",
    "IngestSummary",
    "MaskChangedError",
    "SiteRemovedError",
    "check_mask_unchanged",
    "check_unchanged",
    "exchanged",
    "file_stamp",
    "first_use_stamp",
    "first_use_stamps",
    "gdal_sidecars",
    "hash_is_content",
    "hashed_file",
    "ingest_paths",
    "local_uris",
    "mark_mask_changed",
    "mark_to_count_again",
    "mask_changed",
    "mask_stamp",
    "passed_over_reason",
    "record_scene",
    "same_stat",
    "scene_entry",
    "scene_origin",
    "set_radiometry",
    "sidecar_digest",
    "sidecars_changed",
    "sidecars_listed",
    "stac_item_hash",
    "swapped_site_hint",
    "swapped_site_note",
    "take_item_scaling",
]

log = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    """What happened to each file of one ``ingest`` run."""

    site: str
    ingested: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    #: Files named that accompany an image (quality masks, metadata: a shell glob over
    #: a folder names them too), left out: they are read with their image.
    sidecars: list[dict[str, Any]] = field(default_factory=list)
    #: Sidecars found in the folders named (quality masks, metadata, truth, the
    #: simulator's previews), left out without a line each: they are read with their
    #: image (2026-12-06, session 37: dropped without a word).
    folder_sidecars: list[str] = field(default_factory=list)
    #: Pictures found in the folders named (PNG, JPEG: a screenshot, a browse image),
    #: passed over with why and what to do (:func:`passed_over_reason`); not failures.
    passed_over: list[dict[str, Any]] = field(default_factory=list)
    #: Folders named that hold no image file.
    empty_folders: list[str] = field(default_factory=list)
    #: When nothing lies over the site but something would were its longitude and
    #: latitude exchanged: what is wrong and what to do (:func:`swapped_site_note`).
    #: The site is left as it is: a guess never changes stored data.
    site_swapped: str | None = None
    #: Why the batch stopped before its end (its site removed while it ran,
    #: :func:`stop_if_site_removed`); None: every file was tried.
    stopped: str | None = None
    #: Files that could not be read and were written to in the last
    #: :data:`IN_TRANSIT_SECONDS` (or while they were read): taken as still being copied
    #: into the folder, left for the next run, not failures (:func:`in_transit_reason`;
    #: 2026-12-07, session 49: a GeoTIFF half copied failed the whole run).
    in_transit: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, name: str, err: Exception) -> None:
        """File ``name`` as failed with the reason ``err`` gives (a one-line message
        for railwatch errors; the exception type otherwise)."""
        if isinstance(err, RailwatchError):
            reason = str(err)
        else:
            log.debug("unexpected error ingesting %s", name, exc_info=err)
            reason = f"unexpected error: {type(err).__name__}: {str(err)[:300]}"
        self.failed.append({"file": name, "reason": reason})

    @property
    def nothing_delivered(self) -> bool:
        """Only folders that hold no file at all were named (a drop folder on a day
        nothing was delivered: :func:`ingest_paths`), listed in ``empty_folders``."""
        return bool(self.empty_folders) and not (
            self.ingested
            or self.duplicates
            or self.skipped
            or self.failed
            or self.sidecars
            or self.folder_sidecars
            or self.passed_over
            or self.in_transit
        )

    @property
    def only_in_transit(self) -> bool:
        """Nothing recorded, refused or failed: the files found are all still being
        copied (:attr:`in_transit`); the next run reads them."""
        return bool(self.in_transit) and not (
            self.ingested or self.duplicates or self.skipped or self.failed or self.sidecars
        )

    @property
    def ok(self) -> bool:
        """At least one file is in the database (new or already there)."""
        return bool(self.ingested or self.duplicates)

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "ingested": self.ingested,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "failed": self.failed,
            "sidecars": self.sidecars,
            "folder_sidecars": self.folder_sidecars,
            "passed_over": self.passed_over,
            "empty_folders": self.empty_folders,
            **({"site_swapped": self.site_swapped} if self.site_swapped else {}),
            **({"stopped": self.stopped} if self.stopped else {}),
            # only when any: the summary of a run without one is as before session 49
            **({"in_transit": self.in_transit} if self.in_transit else {}),
        }

    def judge_swapped(
        self, site_geom: BaseGeometry, what: str = "image", *, events: int | None = None
    ) -> None:
        """Set :attr:`site_swapped` when no ``what`` lies over the site (none new nor
        already there) and some skipped ones would were the site's lon and lat
        exchanged (their entries carry ``site_swapped``). ``events``: how many events
        the site holds, for the advice (:func:`swapped_site_note`). The caller judges
        only a site without an image stored: one stored over the site shows that its
        coordinates are right (:func:`ingest_paths`, ``stac.ingest_stac``)."""
        if self.ingested or self.duplicates:
            return  # something lies over the site as it is
        swapped, total = sum(1 for d in self.skipped if d.get("site_swapped")), len(self.skipped)
        if not swapped:
            return
        if total == 1:
            evidence = f"the {what} not ingested lies"
        elif swapped == total:
            evidence = f"{'both' if total == 2 else f'all {total}'} {what}s not ingested lie"
        else:
            evidence = f"{swapped} of the {total} {what}s not ingested lie"
        self.site_swapped = swapped_site_note(site_geom, self.site, what, evidence, events=events)


#: Key of the file's stamp (:func:`file_stamp`) in a scene's metadata.
FILE_STAMP_KEY = "railwatch:file"
#: Key, in a scene's metadata, of the date the file carries itself (``acquired_at``,
#: ``date_source``) when ``ingest --date D --force-date`` dated the scene ``D`` over it
#: (the scene's ``date_source`` is then ``forced``).
FILE_DATE_KEY = "file_date"


#: Key, in a file's stamp, of the other files GDAL reads for it (:func:`gdal_sidecars`).
SIDECARS_KEY = "sidecars"
_STAT_KEYS = ("size", "mtime_ns", "ctime_ns")


class SiteRemovedError(NotFoundError):
    """The site of a batch was removed while it ran (:func:`stop_if_site_removed`).

    Carries the batch's :class:`IngestSummary` (its :attr:`~IngestSummary.stopped` set
    to the message), so that ``--json`` prints what the batch did before it stopped
    (session 32)."""

    def __init__(self, message: str, summary: IngestSummary) -> None:
        super().__init__(message)
        self.summary = summary


#: A file that cannot be read and was written to less than this many seconds before it
#: was read is taken as still being copied into the folder (2026-12-07, session 49):
#: left for the next run with a warning (:attr:`IngestSummary.in_transit`), not a bad
#: file. Copying writes to the file all along, so its modification time stays within
#: seconds of the clock while it runs; five minutes allows for a copy that stalls a
#: while. A file unreadable longer than that is a bad file, as before.
IN_TRANSIT_SECONDS = 300


#: A modification time this many seconds ahead of the clock is not a copy running now
#: (a zip's local times, a sender's wrong clock): such a file is judged as it is, not left
#: for later (session 49 review: one 30 days ahead was "written to 0 s ago" for 30 days).
FUTURE_MTIME_SECONDS = 60


def _raster_magic() -> tuple[bytes, ...]:
    """The first bytes of the raster files a drop folder receives: the image signatures
    :mod:`railwatch.imagery.inspect` knows (TIFF, BigTIFF, PNG, JPEG, JPEG 2000), NITF
    and ERDAS Imagine (``.img``): a partial copy starts with them
    (:func:`in_transit_reason`). One list with the reader's (session 49 review: a copy
    of it missed ``.img``)."""
    from railwatch.imagery.inspect import IMAGE_SIGNATURES

    return (*(magic for magic, _ in IMAGE_SIGNATURES), b"NITF", b"EHFA_HEADER_TAG")


class StillWritingError(ImageryError):
    """The file changed while it was ingested: it is being written or copied."""


def in_transit_reason(path: Path, err: BaseException, now: float | None = None) -> str | None:
    """Why ``path``, which failed with ``err``, is taken as still being copied into the
    folder (:data:`IN_TRANSIT_SECONDS`), or None where it is a bad file. Only the errors a
    partial copy gives count (empty, corrupt or truncated, changed while read): a complete
    file of the wrong kind (no georeference, no date, outside the site) is told at once,
    and so is one that does not start as a raster file does (text under a .tif name)."""
    from railwatch.imagery.inspect import CorruptImageError

    if isinstance(err, StillWritingError):
        return f"{err}; left for the next run"
    if not isinstance(err, CorruptImageError):
        return None
    magic = _raster_magic()
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
        with path.open("rb") as fh:
            head = fh.read(max(len(m) for m in magic))
    except OSError:
        return None
    # the start of a raster file (of its first bytes, those there): a text or another
    # format under a .tif name is no copy of an image in progress
    if head and not any(m.startswith(head[: len(m)]) for m in magic):
        return None
    if age >= IN_TRANSIT_SECONDS or age < -FUTURE_MTIME_SECONDS:
        return None
    ago = f"{max(age, 0.0):.0f} s" if age < 120 else f"{age / 60:.0f} minutes"
    detail, advice = _detail_and_advice(err)
    # the advice to fetch it again is for when it stays unreadable (it may be complete
    # soon); until session 50 it was dropped, and the file's warning said nothing to do
    then = f": then {advice}" if advice else ""
    return (
        f"{detail}, and was written to {ago} ago: taken as still being copied in, left for "
        f"the next run (a bad file only if still unreadable {IN_TRANSIT_SECONDS // 60} "
        f"minutes after its last change{then})"
    )


#: The advice a corrupt file's message ends with (``": re-download or re-export it"``).
_ADVICE = re.compile(r"^(?P<detail>.*?)[:,] (?P<advice>re-(?:download or re-)?export it)$", re.S)


def _detail_and_advice(err: BaseException) -> tuple[str, str | None]:
    """A corrupt file's message (``err``) split into what is wrong and what to do
    ("re-download or re-export it"; None where the message has no such end)."""
    text = str(err)
    found = _ADVICE.match(text)
    if found is None:
        return text, None
    return found["detail"], found["advice"]


#: A file a run left as still being copied in (:func:`in_transit_reason`) and that is
#: still unreadable this long after a run first did so, and this long after a run last
#: found it progressed (it grew, or more of a file given its full size at the start is
#: written: :func:`written_probes`; until the session 50 review, only since the previous
#: run, and by its size alone), is a failure (status 1) with what to do, not left again:
#: a file rewritten every few minutes (a sync or export that restarts, two copies to one
#: name) stayed "still being copied" for ever, each run's warning alike and its status
#: 75 (until 2026-12-07, session 50). A copy that keeps progressing, or a name whose
#: copy starts over (:meth:`TransitLog.seen`), is left up to
#: :data:`IN_TRANSIT_GROWING_SECONDS`. The times are kept in railwatch's cache folder
#: (:class:`TransitLog`).
IN_TRANSIT_MAX_SECONDS = 3600
#: The longest a file is left as being copied in, however it progresses or starts over
#: (a day).
IN_TRANSIT_GROWING_SECONDS = 86400
#: The file, in railwatch's cache folder (``RAILWATCH_CACHE_DIR``), that holds when each
#: file still unreadable was first left as being copied in (:class:`TransitLog`).
TRANSIT_LOG_NAME = "ingest-in-transit.json"
#: Entries of the transit log older than this are dropped (a file never seen again).
_TRANSIT_LOG_DAYS = 30
#: The longest a run waits for another run's hold on the transit log (its ``.lock``
#: file) before it writes the log without it.
TRANSIT_LOCK_SECONDS = 10.0
#: How many places of a file :func:`written_probes` reads, and how many bytes at each.
_PROBES = 256
_PROBE_BYTES = 512


def written_probes(path: Path, size: int) -> int:
    """How many of :data:`_PROBES` places spread evenly over the file ``path`` (of
    ``size`` bytes) hold a byte other than zero: how much of it is written, for a copy
    that gives the file its full size before it writes (a download manager,
    ``fallocate``, a download in several pieces at once), whose size tells no progress
    (session 50 review: such a copy still progressing failed after an hour as "not a
    copy that will finish"). Read for files left as being copied in only (256 reads of
    512 bytes); 0 where it cannot be read."""
    if size <= 0:
        return 0
    count = min(_PROBES, max(1, size // _PROBE_BYTES))
    found = 0
    try:
        with path.open("rb") as fh:
            for i in range(count):
                fh.seek(i * size // count)
                if any(fh.read(_PROBE_BYTES)):
                    found += 1
    except OSError:
        return 0
    return found


@dataclass(frozen=True)
class TransitState:
    """What :meth:`TransitLog.seen` tells of a file left as being copied in."""

    #: When a run first left this copy of the file (epoch seconds).
    first: float
    #: When a run first left a file under this name, through copies started over.
    since: float
    #: Whether it progressed (grew, or more of it is written) past every run before.
    progressed: bool
    #: When a run last found it progressed (``first`` where none has since).
    progress: float
    #: How many times a new copy started under the name (another file, or a shorter one).
    restarts: int


@contextmanager
def _held(lock: Path, timeout: float) -> Iterator[bool]:
    """Hold ``flock`` on the file ``lock`` for the block, waiting up to ``timeout``
    seconds for another run's hold; yield whether it is held (False where the file
    system takes no locks, or the wait ran out: the caller goes on without it, the log
    being a cache). The lock file stays: removing it would let two runs lock two files."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no flock (Windows)
        yield False
        return
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as err:
        log.warning("cannot lock %s: %s", lock, err)
        yield False
        return
    try:
        end = time.monotonic() + timeout
        held = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if time.monotonic() >= end:
                    log.warning("%s is held by another run for %.0f s: going on", lock, timeout)
                    break
                time.sleep(0.05)
            except OSError as err:  # a file system without locks
                log.warning("cannot lock %s: %s", lock, err)
                break
        yield held
    finally:
        os.close(fd)  # releases the flock


#: What the transit log keeps of each file (:meth:`TransitLog.seen`).
_TRANSIT_FIELDS = (
    "first",
    "since",
    "progress",
    "size",
    "written",
    "dev",
    "ino",
    "restarts",
    "told",
)


class TransitLog:
    """When each file a run left as still being copied in was first left so, which file
    it was (device and inode), and the most of it seen (size, :func:`written_probes`),
    kept in a small JSON file between runs (``path``; None: nothing kept, each run judges
    alone, as before session 50). A lost or unreadable log only starts the clocks again:
    it is a cache, not a record. Runs at the same time (two cron jobs sharing the cache
    folder) each write only what they changed, under a lock (``<log>.lock``; until the
    session 50 review each wrote the whole log it had read, and lost the other's)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, float]] = self._read()
        #: The files left (or failed as left too long) by this run.
        self.left: set[str] = set()
        #: The files this run forgot (read, refused or failed otherwise).
        self.forgotten: set[str] = set()

    def _read(self) -> dict[str, dict[str, float]]:
        entries: dict[str, dict[str, float]] = {}
        if self.path is None:
            return entries
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return entries
        if isinstance(data, dict):
            for k, v in data.items():
                if isinstance(v, dict) and isinstance(v.get("first"), int | float):
                    entries[str(k)] = {
                        f: v[f] for f in _TRANSIT_FIELDS if isinstance(v.get(f), int | float)
                    }
        return entries

    @staticmethod
    def key(file: Path) -> str:
        try:
            return str(file.resolve())
        except (OSError, RuntimeError):  # RuntimeError: a loop of links (Python < 3.13)
            return str(file.absolute())

    def seen(self, file: Path, now: float, st: os.stat_result, written: int) -> TransitState:
        """Record ``file`` (``st``: its ``stat``; ``written``: :func:`written_probes`) as
        left now. Another file under its name (another device or inode: deleted and
        copied again) or a shorter one (a copy that starts over in place) is a new copy:
        its clock starts again, the name's (``since``) goes on (session 50 review: a
        fresh download under the name failed at once, judged by the old one's times). A
        file failed as left too long (:meth:`told`) starts both afresh only as a new
        copy (another file, a shorter one, or less of it written: the download the
        failure asks for); written to in place since, its clocks go on (until the
        session 50 second review any write started both again, and a sync that keeps
        starting over went back to "still being copied", status 75, for up to a day)."""
        key = self.key(file)
        self.left.add(key)
        size = float(st.st_size)
        ident = {"dev": st.st_dev, "ino": st.st_ino}  # ints: an inode may pass 2**53
        entry = self.entries.get(key)
        new = entry is None
        progressed = True
        if entry is not None:
            other = "ino" in entry and (entry.get("dev"), entry["ino"]) != (st.st_dev, st.st_ino)
            restart = (
                other
                or size < entry.get("size", 0.0)
                or written < entry.get("written", 0.0)  # a pre-sized copy started over
            )
            progressed = size > entry.get("size", -1.0) or written > entry.get("written", -1.0)
            if "told" in entry and restart:
                # failed as left too long, and a new copy since (the download the failure
                # asks for; an inode is often reused, so also a shorter one): a fresh start
                entry, new = {"first": now}, True
            elif "told" in entry:
                # written to in place since the failure: its clocks go on (told again
                # by the caller while still too long)
                del entry["told"]
            elif restart:
                since = entry.get("since", entry["first"])
                restarts = entry.get("restarts", 0) + 1
                entry, new = {"first": now, "since": since, "restarts": restarts}, True
        if entry is None:
            entry = {"first": now}
        progressed = progressed or new
        if progressed and not new:
            entry["progress"] = now
        entry.update(ident)
        entry["size"] = max(entry.get("size", -1.0), size)
        entry["written"] = max(entry.get("written", -1.0), float(written))
        self.entries[key] = entry
        self.forgotten.discard(key)
        return TransitState(
            first=entry["first"],
            since=entry.get("since", entry["first"]),
            progressed=progressed,
            progress=entry.get("progress", entry["first"]),
            restarts=int(entry.get("restarts", 0)),
        )

    def told(self, file: Path) -> None:
        """Mark ``file`` as failed for being left too long: a new copy under its name
        after that (the one the failure asks for) starts afresh, its name's day too."""
        entry = self.entries.get(self.key(file))
        if entry is not None:
            entry["told"] = 1

    def forget(self, file: Path) -> None:
        """Stop ``file``'s clock: read, refused or failed otherwise. Recorded (for
        :meth:`save`) only where the log held it: a run with nothing in transit and
        nothing kept before touches nothing (until the session 50 second review each
        run created the cache folder and the lock file)."""
        key = self.key(file)
        if self.entries.pop(key, None) is not None:
            self.forgotten.add(key)

    def save(self, now: float, timeout: float = TRANSIT_LOCK_SECONDS) -> None:
        """Write this run's changes into the log as it is now (read again under its
        lock: another run's entries kept), entries of files that are gone, or older than
        :data:`_TRANSIT_LOG_DAYS`, dropped; a log that cannot be written is logged."""
        if self.path is None or not (self.left or self.forgotten):
            return
        lock = self.path.with_name(self.path.name + ".lock")
        try:
            with _held(lock, timeout):
                entries = self._read()
                for k in self.forgotten:
                    entries.pop(k, None)
                entries.update({k: self.entries[k] for k in self.left if k in self.entries})
                keep = {
                    k: v
                    for k, v in entries.items()
                    if now - v.get("since", v["first"]) < _TRANSIT_LOG_DAYS * 86400
                    and os.path.lexists(k)
                }
                if not keep and not self.path.exists():
                    return
                tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
                try:
                    tmp.write_text(json.dumps(keep, sort_keys=True), encoding="utf-8")
                    os.replace(tmp, self.path)
                except OSError:
                    with suppress(OSError):
                        tmp.unlink(missing_ok=True)  # a full disk: no leftover
                    raise
        except OSError as err:
            log.warning("cannot keep the files still being copied in %s: %s", self.path, err)


def stuck_in_transit_reason(
    path: Path, err: BaseException, first: float, now: float | None = None, restarts: int = 0
) -> str:
    """Why ``path``, left as still being copied in since ``first`` (epoch seconds) and
    unreadable still (``err``), is now a failure (:data:`IN_TRANSIT_MAX_SECONDS`);
    ``restarts``: how many times a new copy started under its name since."""
    now = time.time() if now is None else now
    detail, advice = _detail_and_advice(err)
    try:
        age = max(0.0, now - path.stat().st_mtime)
    except OSError:
        age = 0.0
    ago = f"{age:.0f} s" if age < 120 else f"{age / 60:.0f} minutes"
    since = datetime.fromtimestamp(first, UTC).strftime("%Y-%m-%d %H:%M UTC")
    hours = (now - first) / 3600
    span = f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.0f} days"
    times = "once" if restarts == 1 else f"{restarts} times"
    over = f", a new copy of it started {times} since" if restarts else ""
    return (
        f"{detail}; it has been unreadable for {span}, since a run first found it being "
        f"written to ({since}){over}, and was written to again {ago} ago: not a copy that "
        "will finish. Find what keeps writing to it (a sync or export that starts over, a "
        "download that restarts, two copies to one name) and stop it, then ingest the "
        f"file again once it is complete{'; if it is complete, ' + advice if advice else ''}"
    )


class FileChangedError(ImageryError):
    """The file at a scene's path is no longer the image that was ingested as it."""


class MaskChangedError(ImageryError):
    """The scene's quality-mask file is no longer the one ingested with it. The image is
    the one ingested, so a result judged with the ingested mask is kept (unlike
    :class:`FileChangedError`)."""


#: Key, in a scene's metadata, of its quality-mask file's size, times and SHA-256 when
#: it was ingested (:func:`mask_stamp`). Scenes ingested before railwatch kept it have
#: none until their mask's first use (:func:`first_use_stamp`).
MASK_STAMP_KEY = "railwatch:mask"

#: Key, in a quality-mask stamp taken at its first use rather than at ingest (a scene
#: ingested, or registered from a STAC catalog, before masks were stamped), of when and
#: by what it was taken.
FIRST_USE_KEY = "first_use"


def _stat(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns}


# ---------------------------------------------------------------- scene identity
# One image is one scene of a site, whichever route reached it (docs/storage.md, "One
# image, one scene"): `railwatch ingest` (the file's SHA-256), `ingest-stac` (the
# asset's checksum, a local asset's SHA-256, or the item's identity), two STAC items
# naming the same asset.

#: Key, in a scene's metadata, of the other STAC items (``COLLECTION/ID``) found to
#: name its image after it was recorded: the scene keeps the metadata of the route
#: that recorded it first, and lists these.
STAC_ALIASES_KEY = "stac_aliases"


def stac_item_hash(collection: str | None, item_id: str, href: str) -> str:
    """The ``content_hash`` ``ingest-stac`` gives a scene whose image asset is remote
    and has no SHA-256 ``file:checksum`` (before session 29 also a local one): the
    SHA-256 of ``stac-item:COLLECTION/ID:HREF``. It names the item, not the image."""
    ident = f"stac-item:{collection or ''}/{item_id}:{href}"
    return hashlib.sha256(ident.encode("utf-8")).hexdigest()


def hash_is_content(scene: Any) -> bool:
    """Whether the scene's ``content_hash`` is the SHA-256 of its image (a file of
    ``railwatch ingest``, a STAC asset's ``file:checksum``, a local STAC asset hashed
    at ingest since session 29) rather than the identity of the STAC item that
    registered it (:func:`stac_item_hash`), which says nothing of the image's bytes.
    Told from the row itself: no migration, no flag."""
    meta = scene.meta or {}
    if "stac_collection" not in meta:
        return True
    item_id = meta.get("stac_id")
    if not isinstance(item_id, str):
        return True
    ident = stac_item_hash(meta.get("stac_collection"), item_id, scene.uri)
    return bool(ident != scene.content_hash)


def stac_item_of(scene: Any) -> str | None:
    """``COLLECTION/ID`` of the STAC item that registered ``scene`` (``-`` for an item
    without a collection), or None for a file of ``railwatch ingest``."""
    meta = scene.meta or {}
    if "stac_collection" not in meta:
        return None
    return f"{meta.get('stac_collection') or '-'}/{meta.get('stac_id')}"


def scene_origin(scene: Any) -> str:
    """The route that recorded a scene, as messages name it: ``STAC item
    COLLECTION/ID`` (:func:`stac_item_of`) or ``file PATH``."""
    item = stac_item_of(scene)
    return f"STAC item {item}" if item is not None else f"file {scene.uri}"


def local_uris(path: Path) -> set[str]:
    """The ``uri`` a scene of the local file ``path`` may carry: its resolved path (what
    ``railwatch ingest`` records), or its absolute path as given, or a ``file://`` URL of
    either (a STAC asset's href)."""
    import os

    absolute = Path(os.path.abspath(path))
    resolved = path.resolve()
    out = {str(path), str(absolute), str(resolved)}
    for p in (absolute, resolved):
        out.update((p.as_uri(), f"file://{p}"))
    return out


def hashed_file(path: Path) -> tuple[dict[str, int], str]:
    """The file's size and modification and status-change times (taken before it is
    hashed) and its SHA-256; an :class:`ImageryError` when they changed while it was
    hashed (a file still being written or copied)."""
    from railwatch.imagery.inspect import file_sha256

    try:
        before = _stat(path)
        digest = file_sha256(path)
        after = _stat(path)
    except OSError as err:
        raise ImageryError(
            f"cannot read {path.name} ({err.strerror or err}): check that the file is "
            "there and readable, then run the ingest again"
        ) from err
    if after != before:
        raise ImageryError(
            f"{path.name} changed while it was hashed: it is still being written or "
            "copied; wait until it is complete and run the ingest again (nothing was "
            "recorded for it)"
        )
    return before, digest


def same_stat(path: Path, stamp: Any) -> bool:
    """Whether the file's size and times are those of ``stamp`` (a :func:`file_stamp`
    or :func:`hashed_file` stamp): the file is then the one hashed, unread."""
    if not isinstance(stamp, Mapping):
        return False
    try:
        return _stats_only_side(stamp) == _stat(path)
    except OSError:
        return False


def gdal_sidecars(path: Path) -> dict[str, Path]:
    """The other local files GDAL reads for the image at ``path``, as rasterio lists them
    (``dataset.files``) with the folder listed, as ``process`` opens it: its
    ``NAME.aux.xml`` (a CRS, a geotransform, nodata, band labels), a world file or
    ``.prj`` when they are used, ``NAME.msk`` (its mask), ``NAME.ovr`` (overviews, read
    for coarse site grids), a VRT's source files. Keyed by their path relative to the
    image's folder; empty when GDAL cannot open it (its ingest or read says why)."""
    import os
    import warnings

    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    from railwatch.imagery.inspect import gdal_env, uri_scheme

    # opened by its absolute path: rasterio names the files relative to the path it was
    # given, and they are looked for below in the image's folder; opened as a relative
    # path with a folder (`ingest SITE imgs/`), none was found, and `process`, which opens
    # the stored absolute path, refused the scene for its sidecars "appeared since
    # ingest" (until 2026-12-06, session 41)
    here = os.path.abspath(path)
    try:
        # a file that is not georeferenced (a PNG, a screenshot saved as .tif) is refused
        # by its ingest with why; rasterio's warning printed two lines of Python first
        with gdal_env(read_dir=True), warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(here) as ds:
                names = list(ds.files)
    except (rasterio.errors.RasterioError, OSError, ValueError):
        return {}
    except Exception as err:  # GDAL errors rasterio passes on as they are (CPLE_...)
        log.debug("cannot list the files GDAL reads for %s", path, exc_info=err)
        return {}
    folder = os.path.dirname(here)
    out: dict[str, Path] = {}
    for name in names:
        if name.startswith("/vsi") or uri_scheme(name) is not None:
            continue  # a remote source of a VRT: not checked (as a remote scene is not)
        full = os.path.abspath(os.path.join(folder, name))
        if full == here or not os.path.isfile(full):
            continue
        out[os.path.relpath(full, folder)] = Path(full)
    return out


def _stats_of(path: Path) -> dict[str, Any]:
    """The file's :func:`_stat` and that of each of its :func:`gdal_sidecars` (no hash)."""
    stamp: dict[str, Any] = _stat(path)
    sides: dict[str, Any] = {}
    for key, side in sorted(gdal_sidecars(path).items()):
        try:
            sides[key] = _stat(side)
        except OSError:  # gone since it was listed: as if it were not there
            continue
    stamp[SIDECARS_KEY] = sides
    return stamp


def _stats_only(stamp: Mapping[str, Any]) -> dict[str, Any]:
    """``stamp`` without its sidecars' digests (what :func:`_stats_of` gives)."""
    out: dict[str, Any] = {k: stamp.get(k) for k in _STAT_KEYS}
    sides = stamp.get(SIDECARS_KEY)
    if isinstance(sides, Mapping):
        out[SIDECARS_KEY] = {
            k: {s: v.get(s) for s in _STAT_KEYS} if isinstance(v, Mapping) else v
            for k, v in sides.items()
        }
    return out


def sidecar_digest(path: Path) -> str | None:
    """The SHA-256 of what a sidecar tells GDAL, or None when it tells nothing (or is not
    there). For ``NAME.aux.xml``, the statistics and histograms GDAL or QGIS cache there
    (``STATISTICS_*``, ``<Histograms>``: railwatch reads none of them) are left out, so a
    viewer that computes them after ingest does not make the image look changed; its CRS,
    geotransform, nodata, band labels, scale and offset count."""
    from railwatch.imagery.inspect import file_sha256

    if not path.is_file():
        return None
    if not path.name.lower().endswith(".aux.xml"):
        return file_sha256(path)
    import hashlib
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(path.read_bytes())
    except ET.ParseError:
        return file_sha256(path)
    _drop_statistics(root)
    if len(root) == 0 and not root.attrib and not (root.text or "").strip():
        return None
    text = ET.canonicalize(ET.tostring(root, encoding="unicode"), strip_text=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _drop_statistics(el: Any) -> bool:
    """Remove the cached statistics under ``el`` (a PAM element); True when ``el`` is then
    an empty metadata or band element that says nothing."""
    for child in list(el):
        key = child.get("key", "") if child.tag == "MDI" else ""
        cached = child.tag == "Histograms" or key.upper().startswith("STATISTICS_")
        if cached or _drop_statistics(child):
            el.remove(child)
    if len(el) or (el.text or "").strip():
        return False
    return el.tag == "Metadata" or (el.tag == "PAMRasterBand" and set(el.attrib) <= {"band"})


def file_stamp(path: Path) -> dict[str, Any]:
    """The file's size and its modification and status-change times in nanoseconds: a
    cheap fingerprint that changes when the file is written, replaced or moved over
    (the status-change time also when a copy kept the old modification time, as
    ``cp -p`` or ``rsync -t`` do); and, under :data:`SIDECARS_KEY`, the same of each
    file GDAL reads with it (:func:`gdal_sidecars`) with its :func:`sidecar_digest`
    (``sha256``): an image whose CRS, geotransform, mask or overviews lie in a sidecar,
    or a VRT whose source is replaced, is another image though its own bytes are the
    same. The main file's times are taken before it is hashed, so a file changed while it
    is hashed no longer matches it."""
    stamp = _stats_of(path)
    folder = path.parent
    for key, side in stamp[SIDECARS_KEY].items():
        side["sha256"] = sidecar_digest(folder / key)
    return stamp


def check_unchanged(
    uri: str, content_hash: str, stamp: Mapping[str, Any] | None, *, todo: str | None = None
) -> dict[str, Any] | None:
    """Check that the file at a scene's ``uri`` is still the one ingested (``content_hash``,
    its SHA-256), and so are the files GDAL reads with it (its sidecars, a VRT's sources:
    :func:`file_stamp`). The file's stamp is compared with ``stamp`` (recorded at ingest)
    first; only when they differ, or no stamp was recorded (a scene ingested before
    railwatch kept one), is the file hashed again, and only the sidecars whose stamp
    differs. A stamp recorded before railwatch kept the sidecars' (before session 24) has
    them taken as they are now and recorded: their changes are noticed from then on.

    Returns None when the stamp matched (or the file is not a local one, or is missing:
    reading it says so), or the file's new stamp when it was hashed and is unchanged, to
    be recorded; raises :class:`FileChangedError` when its hash, or what a sidecar says,
    differs. ``todo`` says what to do then, where re-ingesting the file with `railwatch
    ingest` would not help (a scene a STAC item registered)."""
    from railwatch.imagery.inspect import UnsupportedFormatError, file_sha256, local_path

    try:
        path = local_path(uri)
    except UnsupportedFormatError:
        return None
    if not path.is_file():
        return None
    now = _stats_of(path)
    if stamp is not None and _stats_only(stamp) == now:
        return None
    same_file = stamp is not None and all(stamp.get(k) == now[k] for k in _STAT_KEYS)
    if not same_file and file_sha256(path) != content_hash:
        raise FileChangedError(
            f"{path}: file changed since ingest (its hash differs): "
            + (
                todo
                or "re-ingest it with `railwatch ingest` (it becomes a new scene), or put "
                "back the image that was ingested; nothing is counted from it under this scene"
            )
        )
    known = stamp.get(SIDECARS_KEY) if stamp is not None else None
    before: Mapping[str, Any] = known if isinstance(known, Mapping) else {}
    sides: dict[str, Any] = {}
    for key, st in now[SIDECARS_KEY].items():
        old = before.get(key)
        if isinstance(old, Mapping) and "sha256" in old and _stats_only_side(old) == st:
            sides[key] = {**st, "sha256": old["sha256"]}
        else:
            sides[key] = {**st, "sha256": sidecar_digest(path.parent / key)}
    if isinstance(known, Mapping):
        changed = _changed_sidecars(before, sides)
        if changed:
            raise FileChangedError(_sidecars_changed_message(path, changed, todo))
    return {**{k: now[k] for k in _STAT_KEYS}, SIDECARS_KEY: sides}


def _local_mask(mask_uri: str | None) -> Path | None:
    """The local file of a quality mask, or None (no mask, or a remote one)."""
    from railwatch.imagery.inspect import UnsupportedFormatError, is_remote, local_path

    if mask_uri is None or is_remote(mask_uri):
        return None
    try:
        return local_path(mask_uri)
    except UnsupportedFormatError:
        return None


def mask_stamp(mask_uri: str | None) -> dict[str, Any] | None:
    """The quality mask's size, modification and status-change times and SHA-256
    (``sha256``), recorded at ingest under :data:`MASK_STAMP_KEY`; None when the scene
    has no mask, or it is not a local file. Its times are taken before it is hashed."""
    from railwatch.imagery.inspect import file_sha256

    path = _local_mask(mask_uri)
    if path is None or not path.is_file():
        return None
    stamp: dict[str, Any] = _stat(path)
    stamp["sha256"] = file_sha256(path)
    return stamp


#: Appended to the ``detector_version`` of a processed scene whose quality mask was
#: taken anew (``railwatch ingest-stac``, :func:`mark_mask_changed`): it no longer
#: matches the processing version, so the next ``railwatch process`` counts the scene
#: again, and its results (counts, detections, quality, an analyst's review) stay until
#: then, as for new track centrelines (``storage.repo.TRACKS_CHANGED``).
MASK_CHANGED = "+mask-changed"
_VERSION_LENGTH = 64  # of the scenes.detector_version column


def mark_mask_changed(scene: Any) -> None:
    """Have the next ``railwatch process`` count ``scene`` (a row in a session) again
    for the quality mask it has now: a processed or unusable one keeps its results until
    then (:data:`MASK_CHANGED`), a failed one is pending again."""
    mark_to_count_again(scene, MASK_CHANGED)


def mark_to_count_again(scene: Any, mark: str) -> None:
    """Have the next ``railwatch process`` count ``scene`` (a row in a session) again:
    a processed or unusable one keeps its results until then, ``mark`` appended to its
    ``detector_version`` (which then no longer matches the processing version:
    :data:`MASK_CHANGED`, :data:`SCALE_CHANGED`), a failed one is pending again."""
    if scene.status in ("processed", "unusable"):
        version = scene.detector_version or ""
        if not version.endswith(mark):
            keep = _VERSION_LENGTH - len(mark)
            scene.detector_version = version[:keep] + mark
    elif scene.status == "failed":
        scene.status, scene.error, scene.processed_at = "ingested", None, None


#: Appended to the ``detector_version`` of a processed or unusable scene whose STAC item
#: declares other scales and offsets for its bands now (:func:`take_item_scaling`:
#: ``railwatch ingest-stac`` over its catalog, ``railwatch ingest`` over a file whose
#: ``NAME.json`` changed): the next ``railwatch process`` counts it again, its results
#: kept until then, as for :data:`MASK_CHANGED`.
SCALE_CHANGED = "+scale-changed"

#: Appended to the ``detector_version`` of a processed or unusable scene whose STAC item
#: declares another nodata value for its image now (``railwatch.stac``: `railwatch
#: ingest-stac` over its catalog, a scene registered before session 38 or an item
#: corrected): the next ``railwatch process`` counts it again, its results kept until
#: then, as for :data:`MASK_CHANGED`.
NODATA_CHANGED = "+nodata-changed"

#: Said of a processed or unusable scene marked to be counted again (by `railwatch
#: ingest` and `railwatch ingest-stac`).
RESULTS_KEPT = " (its results so far are kept until then)"


def take_item_scaling(scene: Any, declared: dict[str, list[float]] | None, by: str) -> str | None:
    """Give ``scene`` (a row in a session) the scales and offsets its STAC item declares
    for its bands now (``declared``, as ``imagery.inspect.item_band_scaling`` gives them;
    recorded under ``ITEM_SCALING_KEY``) when it has others, and have the next ``railwatch
    process`` count it again (:func:`mark_to_count_again`, :data:`SCALE_CHANGED`). Returns
    what was done, to add to its summary line (``by`` names the item: ``its item``,
    ``its STAC item a.json``), or None when nothing changed (an 8-bit scene is read as
    stored)."""
    from railwatch.imagery.inspect import ITEM_SCALING_KEY, scaling_numbers

    meta = dict(scene.meta or {})
    if meta.get(ITEM_SCALING_KEY) == declared or scene.dtype == "uint8":
        return None
    meta.pop(ITEM_SCALING_KEY, None)
    if declared is not None:
        meta[ITEM_SCALING_KEY] = declared
    scene.meta = meta
    status = str(scene.status)
    mark_to_count_again(scene, SCALE_CHANGED)
    head = (
        f"its bands' scale and offset are now those {by} declares (raster:bands: "
        f"{scaling_numbers(declared['scale'])} and {scaling_numbers(declared['offset'])})"
        if declared is not None
        else f"{by} declares no scale or offset for its bands now (the file's are read)"
    )
    return f"{head}, and `railwatch process` counts it again" + (
        RESULTS_KEPT if status in ("processed", "unusable") else ""
    )


#: First-use stamps taken in one run (:func:`first_use_stamp`'s ``hashed``), by the
#: mask's path, size, modification and status-change times.
FirstUseHashes = dict[tuple[str, int, int, int], dict[str, Any]]


def first_use_stamp(
    mask_uri: str | None, by: str, *, hashed: FirstUseHashes | None = None
) -> dict[str, Any] | None:
    """:func:`mask_stamp` of a mask ingested without one (before masks were stamped: a
    file of `railwatch ingest`, a STAC item's asset registered before session 29), marked
    (:data:`FIRST_USE_KEY`) as taken now ``by`` (``railwatch ingest``, ``railwatch
    ingest-stac``, ``railwatch process``): trust on first use, what it vouches for is
    the mask from then on, not the one ingested. None when the mask is no local file
    there. ``hashed`` holds the stamps taken before in the same run: a mask with the
    same path, size and times as one of them is not hashed again (a coarse scene's run
    reads each unstamped reference mask for every scene it is a reference of, before any
    stamp is recorded), as a stamp's size and times stand for its hash elsewhere."""
    path = _local_mask(mask_uri)
    if hashed is not None and path is not None and path.is_file():
        taken = hashed.get(_stat_key(path, _stat(path)))
        if taken is not None:
            return dict(taken)
    stamp = mask_stamp(mask_uri)
    if stamp is None:
        return None
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    stamp = {**stamp, FIRST_USE_KEY: f"{by}, {when}"}
    if hashed is not None and path is not None:  # by its times taken before it was hashed
        hashed[_stat_key(path, stamp)] = stamp
    return dict(stamp)


def first_use_stamps(
    mask_uris: Iterable[str | None], by: str, *, hashed: FirstUseHashes
) -> FirstUseHashes:
    """:func:`first_use_stamp` of each of ``mask_uris`` (hashed once however often it is
    named, and not at all when ``hashed`` holds it as it is now), keyed as ``hashed``
    keeps them: given as ``hashed`` to :func:`first_use_stamp` elsewhere (the task of a
    Dask worker), a mask among them is not hashed again while its size and times stay
    those it was hashed with. A mask that is no local file here, or cannot be read here,
    is left out (whoever reads it stamps it then, or says why it cannot)."""
    taken: FirstUseHashes = {}
    for uri in dict.fromkeys(mask_uris):
        path = _local_mask(uri)
        try:
            stamp = first_use_stamp(uri, by, hashed=hashed)
        except OSError as err:
            log.debug("quality mask %s not stamped here: %s", uri, err)
            continue
        if stamp is not None and path is not None:
            taken[_stat_key(path, stamp)] = stamp
    return taken


def _stat_key(path: Path, stat: Mapping[str, Any]) -> tuple[str, int, int, int]:
    return (str(path), int(stat["size"]), int(stat["mtime_ns"]), int(stat["ctime_ns"]))


def check_mask_unchanged(
    uri: str,
    mask_uri: str | None,
    stamp: Mapping[str, Any] | None,
    *,
    todo: str | None = None,
) -> dict[str, Any] | None:
    """Check that the scene's quality mask (``mask_uri``; ``uri`` is its image) is still
    the file ingested with it (``stamp``, its :func:`mask_stamp` at ingest): its size and
    times first, its SHA-256 only when they differ. Returns None when its stamp matched,
    or none was recorded (a scene ingested before railwatch kept one: the caller stamps
    it at this first use, :func:`first_use_stamp`), or the mask is not there (reading
    it says so); its new stamp when it was hashed and
    is unchanged, to be recorded; raises :class:`MaskChangedError` when its hash
    differs: the scene's usable/unusable decision and clear fraction would otherwise
    change without a word. ``todo`` says what to do then, where re-ingesting the image
    with `railwatch ingest` would not help (a scene a STAC item registered: `railwatch
    ingest-stac` takes the new mask)."""
    path = _local_mask(mask_uri)
    if stamp is None or path is None or not path.is_file():
        return None
    now = _stat(path)
    if _stats_only_side(stamp) == now:
        return None
    if _hash_differs(path, stamp):
        raise MaskChangedError(
            f"{path}: quality mask changed since ingest (its hash differs): "
            + (
                todo
                or f"re-ingest its image {uri} with `railwatch ingest` to judge the scene "
                "with this mask (it is then counted again), or put back the mask that was "
                "ingested; nothing is counted from it under this scene until then"
            )
        )
    return {**now, "sha256": stamp.get("sha256")}


def mask_changed(mask_uri: str | None, stamp: Any) -> str | None:
    """What happened to the scene's quality mask since it was recorded (``stamp``, its
    :func:`mask_stamp` at ingest): ``changed``, ``went away``, or None when it is the
    same or none was recorded. The mask is hashed only when its size or times differ
    from the stamp's (a re-run over unchanged files only stats them)."""
    if not isinstance(stamp, Mapping):
        return None
    path = _local_mask(mask_uri)
    if path is None or not path.is_file():
        return "went away"
    if _stats_only_side(stamp) == _stat(path):
        return None  # a re-run over an ingested folder hashes no unchanged mask
    return "changed" if _hash_differs(path, stamp) else None


def _hash_differs(path: Path, stamp: Mapping[str, Any]) -> bool:
    """Whether the file at ``path`` hashes otherwise than ``stamp`` recorded."""
    from railwatch.imagery.inspect import file_sha256

    return file_sha256(path) != stamp.get("sha256")


def _stats_only_side(side: Mapping[str, Any]) -> dict[str, Any]:
    return {s: side.get(s) for s in _STAT_KEYS}


def _digest_of(sides: Mapping[str, Any], key: str) -> str | None:
    entry = sides.get(key)
    return entry.get("sha256") if isinstance(entry, Mapping) else None


def _changed_sidecars(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The sidecars whose :func:`sidecar_digest` differs, each with what happened."""
    out = []
    for key in sorted(set(before) | set(after)):
        was, now = _digest_of(before, key), _digest_of(after, key)
        if was == now:
            continue
        what = "appeared" if was is None else "went away" if now is None else "changed"
        out.append((key, what))
    return out


def sidecars_changed(
    was: Mapping[str, Any] | None, now: Mapping[str, Any] | None
) -> list[tuple[str, str]] | None:
    """What changed in the files GDAL reads with an image between two of its
    :func:`file_stamp` stamps (``was`` and ``now``): each sidecar whose
    :func:`sidecar_digest` differs, with ``appeared``, ``went away`` or ``changed``. The
    image's own size and times are not compared (a file's new bytes are another scene's
    hash), nor a sidecar's: the same contents stamped anew are no change. None when
    either stamp does not hold the sidecars' digests (none recorded, or recorded before
    session 24): nothing can be told."""
    before = was.get(SIDECARS_KEY) if isinstance(was, Mapping) else None
    after = now.get(SIDECARS_KEY) if isinstance(now, Mapping) else None
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return None
    return _changed_sidecars(before, after)


def sidecars_listed(changed: Sequence[tuple[str, str]]) -> str:
    """The sidecars of :func:`sidecars_changed` in words, the first four named:
    ``NAME.aux.xml changed, NAME.ovr appeared and 2 more``."""
    return some([f"{key} {what}" for key, what in changed], 4)


def _sidecars_changed_message(
    path: Path, changed: Sequence[tuple[str, str]], todo: str | None = None
) -> str:
    return (
        f"{path}: the files GDAL reads with it (its CRS, geotransform, mask, overviews or, "
        f"for a VRT, its sources) changed since ingest ({sidecars_listed(changed)}), so "
        "its pixels may no longer be the image ingested: "
        + (
            todo
            or "put them back as they were, or run `railwatch ingest` on it again to take "
            "them as they are now (the scene is then counted again); nothing is counted "
            "from it under this scene until then"
        )
    )


#: How far past now an acquisition time may lie (a local date given as UTC, clock skew).
FUTURE_SLACK = timedelta(days=1)


def check_acquisition_date(when: datetime, what: str = "--date") -> datetime:
    """``when`` (aware), or an :class:`InputError` when it lies in the future: no image
    is acquired tomorrow, and an analysis as of today would leave the scene out; or
    before :data:`~railwatch.limits.EARLIEST_YEAR` (a mistyped year)."""
    check_year(when, what)
    now = datetime.now(UTC)
    if when > now + FUTURE_SLACK:
        raise InputError(
            f"{what} {when:%Y-%m-%d %H:%M} UTC is in the future (now {now:%Y-%m-%d %H:%M} "
            "UTC): give the time the image was acquired"
        )
    return when


def ingest_paths(
    db: Database,
    site: str,
    paths: Iterable[str | Path],
    *,
    date: datetime | Day | None = None,
    on_file: Callable[[int, int, Path], None] | None = None,
    bands: Sequence[int] | None = None,
    force_date: bool = False,
    radiometry: str | None = None,
    transit_log: Path | None = None,
) -> IngestSummary:
    """Inspect and record every raster file under ``paths`` for ``site``.

    ``date`` is the acquisition time of files that carry none (no STAC sidecar, no
    date tag, no date in the name); a :class:`~datetime.date` (a day without a time) is
    that day at the site, stored as noon there in UTC (the site's nominal zone:
    :func:`railwatch.imagery.dates.local_noon`, marked with
    :data:`~railwatch.imagery.inspect.DATE_ONLY_KEY`; since 2026-12-05, session 32, it
    was 00:00 UTC, the day before at a site west of Greenwich), as is a file name's date
    without a time. A file with its own date keeps it, and its summary
    line says so (``note``). With ``force_date``, every file is dated ``date``: one
    with a date of its own gets ``date_source`` ``forced`` and keeps its own date in
    its metadata (:data:`FILE_DATE_KEY`), and a file already ingested is dated anew
    (its summary line says from what); ``radiometry`` (``linear`` or ``display``,
    :data:`railwatch.imagery.read.RADIOMETRIES`) is recorded for each non-8-bit scene,
    new or already ingested (then counted again by ``railwatch process``), and says how
    its pixels are mapped to 8 bits (an 8-bit file is read as it is: its line says so);
    ``on_file(i, total, path)`` is called before each file (for progress bars);
    ``bands`` (1-based red, green, blue) are recorded as each scene's colour bands
    (``rgb_bands``), over what its STAC sidecar or its own labels say. A file with four
    or more bands and nothing to say which are red, green and blue is ingested with a
    ``warning`` in its summary line.
    Raises :class:`InputError` only when ``paths`` hold no image file at all, except
    where they are folders that hold no file at all (:func:`_quiet_day`: a drop folder
    on a day nothing was delivered, whose summary has nothing but ``empty_folders``).
    ``transit_log``: the JSON file that keeps, between runs, when each file left as
    still being copied in was first left so (:class:`TransitLog`; the CLI's is
    :data:`TRANSIT_LOG_NAME` in railwatch's cache folder): such a file still unreadable
    :data:`IN_TRANSIT_MAX_SECONDS` later fails. None: each run judges alone.
    """
    from railwatch.imagery.scan import is_sidecar, scan

    if force_date and date is None:
        raise InputError(
            "forcing the date needs the date to force (force_date=True needs date= in "
            "Python, --force-date needs --date on the command line): give the acquisition "
            "time to date every file with"
        )
    if radiometry is not None:
        from railwatch.imagery.read import parse_radiometry

        radiometry = parse_radiometry(radiometry)
    from railwatch.analysis.store import site_utc_offset
    from railwatch.imagery.dates import local_noon, to_utc

    with db.session() as s:
        row = repo.get_site(s, site)
        site_name, site_geom, site_area_m2 = row.name, row.geometry, row.area_km2 * 1e6
        utc_offset = site_utc_offset(row)
    # a day alone is that day at the site: noon there (whole-hour zones keep its day)
    date_only = date is not None and not isinstance(date, datetime)
    when = None if date is None else local_noon(date, utc_offset) if date_only else to_utc(date)
    if when is not None:
        check_acquisition_date(when)

    summary = IngestSummary(site=site_name)
    given = [Path(p) for p in paths]
    existing = [p for p in given if p.exists()]
    for p in given:
        if not p.exists():
            summary.failed.append({"file": str(p), "reason": _missing_reason(p)})
    found = scan(existing)
    files = list(found.files)
    summary.folder_sidecars = [str(f) for f in found.sidecars]
    summary.passed_over = [
        {"file": str(f), "reason": passed_over_reason(f, site_name)} for f in found.pictures
    ]
    for p in existing:
        if p.is_dir() and not any(_under(f, p) for f in files):
            summary.empty_folders.append(str(p))
    scenes = []
    for f in files:
        if is_sidecar(f) and not f.is_dir():
            summary.sidecars.append({"file": str(f), "reason": _sidecar_reason(f)})
        else:
            scenes.append(f)
    files = _without_vrt_sources(scenes, summary)
    if not files and not summary.failed and not summary.sidecars:
        if _quiet_day(summary, existing):
            return summary  # a drop folder with nothing delivered: nothing to do
        raise InputError(
            "no image files found in "
            + ", ".join(str(p) for p in given)
            + ": ingest reads GeoTIFF/COG files (.tif, .tiff)"
            + _passed_over_text(summary.passed_over)
        )

    transits = TransitLog(transit_log)

    def ingest_one(path: Path, undated: list[Path] | None) -> None:
        _ingest_one(db, summary, path, when, site_geom, site_area_m2, bands, undated,
                    force=force_date, radiometry=radiometry, utc_offset=utc_offset,
                    date_only=date_only, transits=transits)  # fmt: skip

    # A file without a date is judged after the others: the same bytes under a dated
    # name later in the batch make it a duplicate (of the dated scene), not a bad file
    # nor a scene under the --date meant for others.
    undated: list[Path] = []
    # a file that fails checks that the site is still there: once it is removed (by
    # another command or the dashboard), every later file would fail too
    site_id = _site_id(db, site_name)
    for i, path in enumerate(files):
        if on_file is not None:
            on_file(i, len(files), path)
        failed = len(summary.failed)
        ingest_one(path, undated)
        stop_if_site_removed(db, summary, site_id, failed, len(files) - i - 1 + len(undated))
    for j, path in enumerate(undated):
        failed = len(summary.failed)
        ingest_one(path, None)  # dated ``date`` now, or failed without it
        stop_if_site_removed(db, summary, site_id, failed, len(undated) - j - 1)
    # a site with an image stored lies where its images are: a batch of images of the
    # place with lon and lat exchanged is no sign of a swap (review, session 32: it
    # said so, and to remove the site, with all its images, counts and reviews)
    held = _site_holds(db, site_name)
    if held is not None and not held.scenes:
        summary.judge_swapped(site_geom, events=held.events)
    for f in files:  # read, refused or failed otherwise this run: its clock stops
        if transits.key(f) not in transits.left:
            transits.forget(f)
    transits.save(time.time())
    return summary


def _site_holds(db: Database, name: str) -> repo.SiteStats | None:
    """What site ``name`` holds (its images, events), or None where it is gone."""
    try:
        with db.session(readonly=True) as s:
            return repo.site_stats(s, name)
    except NotFoundError:
        return None


def _site_id(db: Database, name: str) -> int:
    """The id of the site named ``name``."""
    with db.session(readonly=True) as s:
        return int(repo.get_site(s, name).id)


def stop_if_site_removed(
    db: Database,
    summary: IngestSummary,
    site_id: int,
    failed: int,
    left: int | None,
    *,
    what: str = "file",
) -> None:
    """Stop a batch whose site was removed while it ran (session 32).

    Called after each file (``what``: STAC ``item``) with how many had failed before it
    (``failed``) and how many are left (``left``; None: not known, a STAC search). Where
    the file failed and the site of id ``site_id`` is gone, raises
    :class:`SiteRemovedError` (a :class:`~railwatch.errors.NotFoundError`, carrying
    ``summary``, its ``stopped`` set) saying so, with the file's error, how many
    images the batch had stored (removed with the site) and that the rest were not
    tried. Before, the batch went on: the file that met the removal failed with "site
    'X' was removed while ...", and every later one with "no site named 'X' ... add one
    with `railwatch site add`", one line each."""
    from sqlalchemy import select

    from railwatch.storage.models import Site

    if len(summary.failed) == failed:
        return
    with db.session(readonly=True) as s:
        if s.scalar(select(Site.id).where(Site.id == site_id)) is not None:
            return
    last = summary.failed[-1]
    # the file's error, unless it is the removal's ("site 'X' was removed while ...",
    # or "no site named 'X'" where it met the site gone)
    named = (f"site {summary.site!r}", f"site named {summary.site!r}")
    why = "" if any(n in last["reason"] for n in named) else f" ({last['reason']})"
    stored, there = len(summary.ingested), len(summary.duplicates)
    if stored or there:
        kept = " and ".join(
            text
            for n, text in (
                (stored, f"{plural(stored, what)} stored by this run"),
                (there, f"{there} already there"),
            )
            if n
        )
        before = f"the {kept} went with the site"
    else:
        before = f"no {what} had been stored before it"
    if left is None:
        rest = "the rest were not tried"
    elif left:
        rest = f"the {plural(left, what)} left {'were' if left > 1 else 'was'} not tried"
    else:
        rest = f"it was the last {what}"
    summary.stopped = (
        f"site {summary.site!r} was removed while its images were being ingested (by "
        f"another railwatch command or the dashboard), so the batch stopped at {what} "
        f"{last['file']}{why}: {before}, and {rest}. Add the site again "
        "(`railwatch site add`) and run the ingest again to store them"
    )
    raise SiteRemovedError(summary.stopped, summary)


def _vrt_sources(vrt: Path) -> set[Path]:
    """The files a GDAL VRT reads (resolved); empty when it cannot be opened (its own
    ingest then says why)."""
    import rasterio

    from railwatch.imagery.inspect import gdal_env

    try:
        with gdal_env(read_dir=True), rasterio.open(vrt) as ds:
            names = list(ds.files)
    except (rasterio.errors.RasterioError, OSError, ValueError):
        return set()
    here = vrt.resolve()
    return {q for n in names if (q := Path(n).resolve()) != here}


def _without_vrt_sources(files: list[Path], summary: IngestSummary) -> list[Path]:
    """``files`` less those a VRT among them reads: the same image would be two scenes
    of one date (the VRT and its source). They are listed with the sidecars, with why."""
    sources: dict[Path, Path] = {}
    for f in files:
        if f.suffix.lower() == ".vrt":
            for src in _vrt_sources(f):
                sources.setdefault(src, f)
    if not sources:
        return files
    kept = []
    for f in files:
        vrt = sources.get(f.resolve())
        if vrt is None:
            kept.append(f)
            continue
        summary.sidecars.append(
            {
                "file": str(f),
                "reason": (
                    f"a source of {vrt.name}, named in the same run: the image is ingested "
                    "once, through the VRT (name the source alone, without the VRT, to "
                    "ingest it on its own)"
                ),
            }
        )
    return kept


#: Characters of a shell pattern: a path holding them that does not exist is most
#: likely a pattern that matched nothing (the shell passes it on as it is).
_GLOB_CHARS = frozenset("*?[")


def _link_reason(path: Path) -> str:
    """Why ``path``, a link that leads to no file, cannot be read, with what to do: a
    link whose target is not there, or links that lead back to themselves (a loop;
    before 2026-12-07, session 46, each link of a loop was "a broken link (to X, which
    does not exist)" of an X that was there, and a link named to ingest "no such file
    or folder")."""
    chain = [path]
    while chain[-1].is_symlink() and len(chain) <= 40:
        target = chain[-1].readlink()
        nxt = target if target.is_absolute() else chain[-1].parent / target
        if any(os.path.abspath(nxt) == os.path.abspath(c) for c in chain):
            names = " -> ".join(str(c.readlink()) for c in chain)
            return (
                f"{path.name} is a link that leads round a loop of links ({path.name} -> "
                f"{names}), never to a file: point it at the image or remove it"
            )
        chain.append(nxt)
    if len(chain) > 40:
        return f"{path.name} is a chain of more than 40 links: point it at the image or remove it"
    return (
        f"{path.name} is a broken link (to {path.readlink()}, which does not exist): "
        "fix the link or remove it"
    )


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` (there, not a folder) is no image file to ingest, with what to do, or
    None: a pipe (``<(...)``, a FIFO) or a device, which ingest blocked on, read forever
    (a link to /dev/zero) or read once as an empty file ("stdin is empty (0 bytes)"),
    while a scene records its file's path to read it again (2026-12-07, session 46)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None  # said where the file is read
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kind = (
        "a pipe"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a plain file"
    )
    return (
        f"{path.name} is {kind}, not an image file: a scene keeps its file's path and reads "
        "it again to process it; save the image to a file and ingest that"
    )


def _missing_reason(path: Path) -> str:
    """Why a path given to ingest is not there, with what to do."""
    if path.is_symlink():
        return _link_reason(path)
    if str(path) == "-":  # "no such file or folder" until 2026-12-07, session 46
        return (
            "no such file: '-' is not standard input here (a scene keeps its file's path "
            "and reads it again to process it); give the image files or folders by name"
        )
    if _GLOB_CHARS & set(path.name):
        return (
            "no such file or folder: a pattern that matched no file (the shell passes it "
            "on as it is); check the folder and the pattern"
        )
    return "no such file or folder"


def _under(path: Path, folder: Path) -> bool:
    """Is ``path`` (found by scanning) inside ``folder`` (as given)?"""
    return path.is_relative_to(folder.expanduser())


#: The world file GDAL reads beside a picture (``NAME.pgw`` beside ``NAME.png``).
_WORLD_FILES = {".png": ".pgw", ".jpg": ".jgw", ".jpeg": ".jgw", ".gif": ".gfw", ".bmp": ".bpw"}


def passed_over_reason(path: Path, site: str) -> str:
    """Why a picture (PNG, JPEG: :data:`~railwatch.imagery.scan.PICTURE_SUFFIXES`)
    found in a folder is not ingested, and what to do: a folder's pictures are never
    taken (a browse image or preview beside a scene would be a second scene of its
    date), but one GDAL reads as georeferenced is ingested when named; one that is not
    can be counted alone by ``railwatch detect``. ``site``: the site's name, for the
    command to type."""
    import warnings

    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    from railwatch.imagery.inspect import gdal_env

    try:
        with gdal_env(read_dir=True), warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as ds:
                georeferenced = not ds.transform.is_identity or bool(ds.gcps[0])
    except (rasterio.errors.RasterioError, OSError, ValueError):
        return (
            "a picture GDAL cannot read (corrupt, or a format this GDAL lacks): a folder's "
            "PNG and JPEG files are passed over; ingest reads GeoTIFF/COG files"
        )
    if georeferenced:
        return (
            "georeferenced, but a folder's PNG and JPEG files are passed over (a browse "
            f"image or preview beside a scene would count it twice): name it to ingest it "
            f"(`railwatch ingest {site} {path}`)"
        )
    world = path.with_suffix(_WORLD_FILES.get(path.suffix.lower(), ".wld")).name
    return (
        f"not georeferenced (no world file {world}, no geotransform in "
        f"{path.name}.aux.xml): `railwatch detect {path} --gsd M` counts its cars alone "
        f"(M metres per pixel); to ingest it, give it a world file {world} and its CRS in "
        f"{path.name}.aux.xml (as export-labels writes them) and name it"
    )


def _quiet_day(summary: IngestSummary, paths: Sequence[Path]) -> bool:
    """Whether ``paths`` (each there) are folders that hold no file at all, nothing
    ingested from them: a drop folder on a day nothing was delivered. Hidden files and
    folders (a name starting with a dot: ``.DS_Store``, ``.gitkeep``, the partial file
    of a transfer still running) count as none, as the scan leaves them out. A folder
    holding files of which none is an image (pictures, sidecars, documents) is not one:
    named by mistake, it is refused (status 2), as a path that is not there. Until
    2026-12-07 (session 48) an empty folder was refused too, and a daily cron job over a
    drop folder emptied after each run failed on every quiet day."""
    if not paths or len(summary.empty_folders) != len(paths):
        return False
    if summary.passed_over or summary.sidecars or summary.failed or summary.folder_sidecars:
        return False
    return all(_holds_no_file(Path(folder)) for folder in summary.empty_folders)


def _holds_no_file(root: Path) -> bool:
    """Whether the folder ``root``, and every folder below it, holds no file but hidden
    ones (walked as the scan walks it: :func:`railwatch.imagery.scan.walk_files`)."""
    from railwatch.imagery.scan import walk_files

    return next(walk_files(root), None) is None


def _passed_over_text(entries: list[dict[str, Any]]) -> str:
    """The pictures passed over, for the error of a run that found no image: the first
    three with why, then how many more."""
    if not entries:
        return ""
    n = len(entries)
    shown = "; ".join(f"{d['file']}: {d['reason']}" for d in entries[:3])
    more = "" if n <= 3 else f"; and {n - 3} more"
    return f"; passed over {n} picture{'s' if n > 1 else ''} (PNG/JPEG): {shown}{more}"


def _sidecar_reason(path: Path) -> str:
    """Why a file named to ingest is left out as a sidecar of an image."""
    from railwatch.imagery.scan import is_quality_mask

    name = path.name.lower()
    if is_quality_mask(path):
        what = "a quality mask"
    elif name.endswith((".aux.xml", ".ovr", ".msk")):
        what = "a GDAL sidecar"
    elif name.endswith(".preview.png"):
        return (
            "a preview picture (railwatch simulate writes one beside each image), not an "
            "image of its own: name the image (or its folder)"
        )
    elif _is_stac_item(path):
        # a STAC item named alone (its image elsewhere, or not there): ingest-stac reads
        # it and the image it names (2026-12-05, session 33: "a metadata or label file")
        return (
            "a STAC item, not an image: name the image it describes (or its folder), or "
            f"register it with `railwatch ingest-stac SITE --stac {path}`"
        )
    else:
        what = "a metadata or label file"
    return (
        f"{what}, read with the image beside it, not an image of its own: name the "
        "image (or its folder)"
    )


def _is_stac_item(path: Path) -> bool:
    """Whether ``path`` is a JSON file holding one STAC item (a GeoJSON Feature with
    ``stac_version`` and ``assets``); a file that cannot be read so is not."""
    import json

    if path.suffix.lower() != ".json":
        return False
    try:
        with path.open("rb") as fh:
            doc = json.loads(fh.read(4_000_000))
    except (OSError, ValueError):
        return False
    return (
        isinstance(doc, dict)
        and doc.get("type") == "Feature"
        and "stac_version" in doc
        and isinstance(doc.get("assets"), dict)
    )


def _known_duplicate(
    db: Database,
    summary: IngestSummary,
    name: str,
    digest: str,
    path: Path,
    bands: Sequence[int] | None,
    forced: datetime | None = None,
    radiometry: str | None = None,
    *,
    forced_date_only: bool = False,
    stamp: Mapping[str, Any] | None = None,
    site: tuple[BaseGeometry, float] | None = None,
) -> bool:
    """File ``name`` as already ingested when the site has a scene of its hash (with
    ``bands`` recorded as its colour bands when given, and dated ``forced`` when given:
    :func:`_redate`, and with ``radiometry`` recorded when given); False when it has
    none. When the files GDAL reads with it changed since the scene was ingested from
    this path (``stamp``, its :func:`file_stamp` now), the scene is described anew from
    them (:func:`_refresh_scene`, over ``site``: its geometry and area) and counted
    again; else its local quality mask, when it was ingested unstamped (before masks
    were stamped), is stamped as it is now (:func:`_stamp_mask_at_first_use`). A scene
    of this file takes the scales and offsets the STAC item beside it declares for its
    bands now (:func:`take_item_scaling`: it is counted again when they changed)."""
    from railwatch.imagery.inspect import item_scaling_beside
    from railwatch.imagery.read import check_rgb_bands

    with db.session(readonly=True) as s:
        known, matched = _known_scene(s, summary.site, digest, path)
        if known is None:
            return False
        entry = {**scene_entry(name, known), "reason": f"already ingested as scene {known.id}"}
        if matched is not None:
            entry["reason"] += f" ({matched} as {scene_origin(known)})"
            entry["matched"] = matched
            if matched == "same asset href" and hash_is_content(known):
                entry["reason"] += (
                    "; the file is no longer the one that item registered (its SHA-256 "
                    "differs): it was replaced since, and the scene reads it as it is now"
                )
        known_id, known_count, known_dtype = known.id, known.band_count, known.dtype
        known_uri, known_stamp = known.uri, (known.meta or {}).get(FILE_STAMP_KEY)
        known_mask = known.mask_uri, (known.meta or {}).get(MASK_STAMP_KEY)
        from_stac = "stac_collection" in (known.meta or {})
    if stamp is not None and not from_stac and _moved_from(known_uri, path):
        moved = _relocate(
            db,
            entry,
            (summary.site, known_id),
            known_uri,
            path,
            stamp,
            known_stamp,
            known_mask,
            digest=digest,
            site_area=site,
        )
        if moved is not None:  # read where it is now, as a scene of this path
            known_uri, known_mask = str(path.resolve()), moved
            if entry.get("described_anew"):
                known_stamp = stamp  # described from the files here: nothing left to compare
    # a STAC item's scene keeps the item's description; the item beside this file is
    # read before anything is written, so that one it refuses leaves the scene as it was
    scaling = (
        item_scaling_beside(path) if not from_stac and known_uri == str(path.resolve()) else None
    )
    if (
        stamp is not None
        and site is not None
        and not from_stac  # a STAC item's scene keeps the item's description
        and known_uri == str(path.resolve())
    ):
        was = known_stamp.get(SIDECARS_KEY) if isinstance(known_stamp, Mapping) else None
        changed = (
            _changed_sidecars(was, stamp.get(SIDECARS_KEY) or {})
            if isinstance(was, Mapping)
            else []
        )
        masked = mask_changed(*known_mask)
        if masked is not None:
            # its quality mask was replaced (or went away): `process` refuses the scene
            # until it is ingested again, so it is judged with the mask as it is now
            changed.append((f"{Path(known_mask[0] or '').name} (its quality mask)", masked))
        if changed:
            scene = _refresh_scene(db, known_id, path, digest, stamp, *site)
            entry = {**scene_entry(name, scene), "reason": entry["reason"]}
            known_count, known_dtype = scene.band_count, scene.dtype
            listed = ", ".join(f"{key} {what}" for key, what in changed[:4])
            entry["reason"] += (
                f"; the files GDAL reads with it changed since ({listed}): it is described "
                f"from them again and {_counted_again(scene)}"
            )
        elif known_mask[1] is None and _stamp_mask_at_first_use(db, known_id, known_mask[0]):
            entry["reason"] += (
                f"; its quality mask {known_mask[0]} had no integrity stamp (ingested before "
                "railwatch kept one): it is stamped as it is now, and `railwatch process` "
                "refuses the scene if it is replaced"
            )
            entry["mask_stamped"] = "first use"
    if scaling is not None:
        _take_scaling_beside(db, entry, known_id, path, *scaling)
    if bands is not None:
        rgb = check_rgb_bands(bands, known_count, path.name)
        with db.session() as s:
            if repo.set_scene_bands(s, known_id, rgb):
                entry["reason"] += (
                    f"; its colour bands are now {','.join(map(str, rgb))} "
                    "(`railwatch process` reads it again)"
                )
    if forced is not None:
        was = _redate(db, known_id, forced, date_only=forced_date_only)
        if was is not None:
            entry.update(acquired_at=forced.isoformat(), date_source=was[2])
            entry["reason"] += (
                f"; dated {_when(forced)} UTC by --date --force-date (was {_when(was[0])} "
                f"UTC, from {was[1]}): run `railwatch analyze {summary.site}` again"
            )
            entry["redated_from"] = {"acquired_at": was[0].isoformat(), "date_source": was[1]}
    if radiometry is not None:
        if known_dtype == "uint8":
            entry["radiometry_note"] = EIGHT_BIT_NOTE
        elif set_radiometry(db, known_id, radiometry):
            entry["reason"] += (
                f"; its radiometry is now {radiometry} (`railwatch process` counts it again)"
            )
    summary.duplicates.append(entry)
    return True


def _moved_from(known_uri: str, path: Path) -> bool:
    """Whether the scene's file ``known_uri`` is a local file that is gone, and ``path``
    (the same content, by its hash) is another file: the image was moved since ingest."""
    from railwatch.imagery.inspect import uri_scheme

    if uri_scheme(known_uri) is not None or known_uri == str(path.resolve()):
        return False
    return not Path(known_uri).exists() and path.is_file()


def _relocate(
    db: Database,
    entry: dict[str, Any],
    scene: tuple[str, int],
    known_uri: str,
    path: Path,
    stamp: Mapping[str, Any],
    known_stamp: Any,
    known_mask: tuple[str | None, Any],
    *,
    digest: str,
    site_area: tuple[BaseGeometry, float] | None,
) -> tuple[str | None, Any] | None:
    """Have the scene (``scene``: its site's name and its id) read its file at ``path``,
    where it was moved (same SHA-256), when what GDAL reads with it is the same there
    (each sidecar's digest) and so is its quality mask (the same name beside it, the
    same SHA-256): its results and review stay, as they are of the same image. Says in
    ``entry`` what was done, or why not; returns the scene's quality mask and its stamp
    now, or None when it was not moved.

    Never onto a path another scene of the site reads (:func:`_path_taken`): that
    scene's image was replaced by this one or moved elsewhere (:func:`_say_path_taken`).
    When the sidecars or the mask cannot be checked (the scene was ingested before
    railwatch stamped them, ``digest``'s file alone was compared), the scene is pointed
    here and described anew from the files here over ``site_area``
    (:func:`_refresh_scene`): its detections and counts are removed and ``railwatch
    process`` counts it again (``entry``'s ``described_anew``); without ``site_area`` it
    is not moved. A quality mask that stayed where it was (the image moved alone) stays
    the scene's, either way. Sidecars that tell GDAL nothing (a statistics-only
    ``.aux.xml``: no digest) are not compared, as ``process`` does not.

    Before 2026-12-05 (session 33) a moved folder ingested again was "already ingested"
    and every `railwatch process` failed its scenes: "no such file (was it moved after
    ingest?)", with no way to point them at the new place. Later that day (session 33)
    a move onto another scene's path pointed both scenes at one file, and a scene
    without those stamps kept its results beside a mask or sidecars never compared."""
    site, scene_id = scene
    old = Path(known_uri)
    with db.session(readonly=True) as s:
        taken = _path_taken(s, site, scene_id, path)
    if taken is not None:
        _say_path_taken(entry, scene_id, taken, old, path)
        return None
    why_not = None
    unchecked: list[str] = []  # what was not stamped at ingest, so cannot be compared
    was_sides = known_stamp.get(SIDECARS_KEY) if isinstance(known_stamp, Mapping) else None
    now_sides = stamp.get(SIDECARS_KEY) or {}
    if isinstance(was_sides, Mapping):
        if _changed_sidecars(was_sides, now_sides):
            why_not = "the files GDAL reads with it there differ from those it was ingested with"
    else:
        unchecked.append("the files GDAL reads with it (no digests were kept of them)")
    mask_uri, mask_was = known_mask
    new_mask: str | None = None
    mask_now: dict[str, Any] | None = None
    stayed: tuple[str, Any] | None = None  # its quality mask, which was not moved with it
    if why_not is None and mask_uri is not None and _local_mask(mask_uri) is not None:
        moved_mask = path.parent / Path(mask_uri).name
        if Path(mask_uri).exists():
            new_mask = mask_uri  # the mask stayed where it was
            stayed = (mask_uri, mask_was)
        elif not moved_mask.is_file():
            why_not = f"its quality mask {Path(mask_uri).name} is not beside it"
        else:
            new_mask = str(moved_mask.resolve())
            mask_now = mask_stamp(new_mask)
            sha = mask_was.get("sha256") if isinstance(mask_was, Mapping) else None
            if mask_now is None or (sha is not None and mask_now.get("sha256") != sha):
                why_not = f"its quality mask {moved_mask.name} there is not the one ingested"
            elif sha is None:
                unchecked.append(f"its quality mask {moved_mask.name} (it had no SHA-256)")
    if why_not is None and unchecked and site_area is None:
        why_not = f"{' and '.join(unchecked)} cannot be compared with what it was ingested with"
    if why_not is not None:
        entry["reason"] += (
            f"; its file {old} is gone, but it is not moved here: {why_not}. "
            f"Put the files back in {old.parent}, or ingest this copy into another site"
        )
        return None
    if unchecked and site_area is not None:
        return _relocate_anew(
            db, entry, scene, known_uri, path, stamp, unchecked, digest, site_area, stayed
        )
    with db.session() as s:
        row = repo.lock_scene(s, scene_id)
        moved, taken = _repoint(s, row, scene, known_uri, path)
        if not moved:
            if taken is not None:
                _say_path_taken(entry, scene_id, taken, old, path)
            return None
        meta = {**(row.meta or {}), FILE_STAMP_KEY: dict(stamp)}
        if mask_now is not None:
            row.mask_uri = new_mask
            meta[MASK_STAMP_KEY] = {
                **mask_now,
                **{k: v for k, v in (mask_was or {}).items() if k == FIRST_USE_KEY},
            }
        row.meta = meta
        now_mask = (row.mask_uri, meta.get(MASK_STAMP_KEY))
    entry["reason"] += (
        f"; its file was moved here from {old.parent} (same content): the scene reads it "
        "here now, its results kept" + _mask_stayed(stayed)
    )
    entry.update(moved_from=str(old), uri=str(path.resolve()))
    return now_mask


def _repoint(
    s: Any, row: Any, scene: tuple[str, int], known_uri: str, path: Path
) -> tuple[bool, int | None]:
    """Point the locked scene ``row`` (``scene``: its site's name and its id) at ``path``
    in session ``s``, when it still reads ``known_uri`` and no other scene of the site
    reads ``path``: checked again in the writing transaction of :func:`_relocate` and
    :func:`_relocate_anew`, as another run may have moved it, or recorded a scene of
    that path, meanwhile. Returns whether it was pointed there, and the id of the other
    scene that reads ``path`` when that is why not (None otherwise)."""
    site, scene_id = scene
    if row.uri != known_uri:  # another run moved it meanwhile
        return False, None
    other = _path_taken(s, site, scene_id, path)
    if other is not None:  # another scene of this path recorded meanwhile
        return False, other
    row.uri = str(path.resolve())
    return True, None


def _mask_stayed(stayed: tuple[str, Any] | None) -> str:
    """The words of :func:`_relocate` for a quality mask that stayed where it was."""
    if stayed is None:
        return ""
    return f"; its quality mask stays at {stayed[0]} (it was not moved with it)"


def _relocate_anew(
    db: Database,
    entry: dict[str, Any],
    scene: tuple[str, int],
    known_uri: str,
    path: Path,
    stamp: Mapping[str, Any],
    unchecked: Sequence[str],
    digest: str,
    site_area: tuple[BaseGeometry, float],
    stayed: tuple[str, Any] | None = None,
) -> tuple[str | None, Any] | None:
    """:func:`_relocate` of a scene whose ``unchecked`` files (sidecars, quality mask)
    were not stamped at ingest: pointed at ``path`` and described anew from the files
    there in one transaction (:func:`_refresh_scene`), its detections and counts removed
    (``railwatch process`` counts it again; a review, of the same image, stays).
    ``stayed``: its local quality mask and that mask's stamp, when the mask stayed where
    it was (the image moved alone): the scene keeps it, as a verified move does.

    Until 2026-12-05 (session 33, late) such a mask was dropped (the scene took the mask
    beside ``path``: none), and ``process`` counted it again without its cloud mask."""
    scene_id = scene[1]
    old = Path(known_uri)
    taken: list[int] = []

    def repoint(s: Any, row: Any) -> bool:
        moved, other = _repoint(s, row, scene, known_uri, path)
        if other is not None:
            taken.append(other)
        return moved

    row = _refresh_scene(db, scene_id, path, digest, stamp, *site_area, before=repoint, mask=stayed)
    if row is None:
        if taken:
            _say_path_taken(entry, scene_id, taken[0], old, path)
        return None
    entry["reason"] += (
        f"; its file was moved here from {old.parent} (same content), but "
        f"{' and '.join(unchecked)} cannot be compared with what it was ingested with "
        "(stamped before railwatch kept that): the scene reads it here now, described "
        f"from the files here, its detections and counts removed, and {_counted_again(row)}"
        + _mask_stayed(stayed)
    )
    entry.update(moved_from=str(old), described_anew=True, uri=row.uri)
    entry.update(coverage=round(row.coverage, 4), gsd=row.gsd)
    return row.mask_uri, (row.meta or {}).get(MASK_STAMP_KEY)


def _counted_again(scene: Any) -> str:
    """What becomes of a scene :func:`_refresh_scene` described anew: counted again, or,
    declared unusable by an analyst (``railwatch scene review ID --unusable``), kept so."""
    if scene.status == "ingested":
        return "`railwatch process` counts it again"
    return (
        f"it stays unusable as an analyst declared it (`railwatch scene review {scene.id} "
        "--remove` has it counted again)"
    )


def _path_taken(s: Any, site: str, scene_id: int, path: Path) -> int | None:
    """The id of another scene of ``site`` whose file is ``path`` (by any of its
    :func:`local_uris`), or None: moving scene ``scene_id`` there would have two scenes
    read one file, and the other one never its own image again."""
    for other in repo.find_scenes_by_uri(s, site, local_uris(path)):
        if other.id != scene_id:
            return int(other.id)
    return None


def _say_path_taken(
    entry: dict[str, Any], scene_id: int, other: int, old: Path, path: Path
) -> None:
    """Say in ``entry`` that scene ``scene_id`` (its file ``old`` gone) is not moved to
    ``path``, the path scene ``other`` reads, and the two ways to put things right.
    What is known is only that this path is scene ``other``'s and this file is scene
    ``scene_id``'s image: scene ``other``'s image may have been replaced, or moved
    elsewhere first (ingest does not move a scene whose path still holds a file).

    Until 2026-12-05 (session 33, late) it said scene ``other``'s image "was replaced by
    this one", also when that image had merely been moved elsewhere."""
    entry["reason"] += (
        f"; its file {old} is gone, but it is not moved here: {path.name} here is the path "
        f"scene {other} reads, and this file is scene {scene_id}'s image (same SHA-256). "
        f"Nothing is changed. If scene {other}'s image was moved elsewhere: move this file "
        f"back to {old}, run `railwatch ingest` on the folder that holds scene {other}'s "
        f"image now (scene {other} is then pointed there), then move this file here again "
        f"and ingest this folder again. If scene {other}'s image is gone: put this image "
        f"back at {old} and scene {other}'s image back here (until then `railwatch "
        f"process` fails scene {scene_id}, no such file, and scene {other}, its file "
        "changed since ingest)"
    )
    entry["path_taken_by"] = other


def _take_scaling_beside(
    db: Database,
    entry: dict[str, Any],
    scene_id: int,
    path: Path,
    declared: dict[str, list[float]] | None,
    note: str | None,
) -> None:
    """Give the scene of the file ``path`` filed as ``entry`` (already ingested) the
    scales and offsets the STAC item beside it declares now (``declared``,
    ``imagery.inspect.item_scaling_beside``), saying so in ``entry``, and say ``note``
    there (the file declares others: the file's are used)."""
    if note is not None:
        entry["reason"] += f"; {note}"
    item = path.with_suffix(".json")
    by = f"its STAC item {item.name}" + ("" if item.is_file() else " (not there now)")
    with db.session() as s:
        done = take_item_scaling(repo.lock_scene(s, scene_id), declared, by)
    if done is not None:
        entry["reason"] += f"; {done}"
        entry["scaling_taken"] = declared


def _stamp_mask_at_first_use(db: Database, scene_id: int, mask_uri: str | None) -> bool:
    """Stamp the local quality mask ``mask_uri`` of a scene ingested before masks were
    stamped (read at ``process`` unchecked until now) as it is now (trust on first use,
    :func:`first_use_stamp`), when the scene still has that mask and no stamp (another
    run may have stamped it meanwhile). Its results stay: nothing is known to have
    changed. False when nothing was stamped (no local mask there: reading it says so)."""
    stamp = first_use_stamp(mask_uri, "railwatch ingest")
    if stamp is None:
        return False
    with db.session() as s:
        scene = repo.lock_scene(s, scene_id)
        meta = dict(scene.meta or {})
        if scene.mask_uri != mask_uri or meta.get(MASK_STAMP_KEY) is not None:
            return False
        scene.meta = {**meta, MASK_STAMP_KEY: stamp}
    return True


def _known_scene(s: Any, site: str, digest: str, path: Path) -> tuple[Any, str | None]:
    """The scene of ``site`` that the file at ``path`` (SHA-256 ``digest``) already is,
    and, when a STAC item recorded it, why it matched: ``same file content`` (its hash
    is this file's) or ``same asset href`` (the item's asset is this file: a scene
    registered before session 29 carries the item's identity, :func:`hash_is_content`;
    two scenes of one path would both read what is there, and such a scene is not
    checked at processing); ``(None, None)`` when there is none. A scene of
    ``railwatch ingest`` at this path with another hash is of the file it replaced."""
    known = repo.find_scene_by_hash(s, site, digest)
    if known is not None:
        return known, "same file content" if "stac_collection" in (known.meta or {}) else None
    for scene in repo.find_scenes_by_uri(s, site, local_uris(path)):
        if "stac_collection" in (scene.meta or {}):
            return scene, "same asset href"
    return None, None


#: Metadata a scene keeps when it is described anew (:func:`_refresh_scene`): what the
#: analyst gave (``--bands``, ``--radiometry``, the file's own date under ``--force-date``).
#: ``date_only``: its date was a day alone (:data:`railwatch.imagery.inspect.DATE_ONLY_KEY`).
_KEPT_ON_REFRESH = ("rgb_bands", "radiometry", FILE_DATE_KEY, STAC_ALIASES_KEY, "date_only")


def _refresh_scene(
    db: Database,
    scene_id: int,
    path: Path,
    digest: str,
    stamp: Mapping[str, Any],
    site_geom: BaseGeometry,
    site_area_m2: float,
    *,
    before: Callable[[Any, Any], bool] | None = None,
    mask: tuple[str, Any] | None = None,
) -> Any:
    """Describe an ingested scene anew from its file and the files GDAL reads with it
    (CRS, footprint, resolution, bands, mask, metadata, coverage of the site), record
    ``stamp`` as its file's, and have it counted again: its detections and counts are
    removed and it is pending. Its date stays. Returns the scene (detached).
    ``before(session, scene)`` runs first in the writing transaction, the scene locked
    (:func:`_relocate_anew` points it at ``path`` there): when it returns False nothing
    is written, and None is returned. ``mask``: the local quality mask it keeps and that
    mask's stamp (kept when it holds a SHA-256, else taken as the mask is now), instead
    of the mask beside ``path`` (a mask that stayed where it was, :func:`_relocate_anew`)."""
    from railwatch.imagery import inspect_scene, site_coverage
    from railwatch.storage.models import to_wkb

    with db.session(readonly=True) as s:
        when = repo.get_scene(s, scene_id).acquired_at
    info = inspect_scene(path, date=when, content_hash=digest)
    _check_still(path, stamp)
    coverage = float(site_coverage(info.footprint, site_geom))
    if coverage * site_area_m2 < info.gsd * info.gsd:
        raise ImageryError(
            f"{path.name}: the files GDAL reads with it changed since ingest and place it "
            f"off the site now ({_where(info.footprint, site_geom, info.crs)}); put them "
            "back as they were"
        )
    with db.session() as s:
        scene = repo.lock_scene(s, scene_id)
        if before is not None and not before(s, scene):
            return None
        keep = {k: v for k, v in (scene.meta or {}).items() if k in _KEPT_ON_REFRESH}
        repo.mark_scene_failed(s, scene_id, "")  # removes its detections and counts
        # an analyst's verdict stays (`scene review ID --unusable`): a gap, not pending
        if repo.unusable_reason(repo.get_scene_review(s, scene_id)) is None:
            scene.status, scene.usable, scene.processed_at = "ingested", None, None
        scene.error = None
        scene.crs = info.crs
        scene.footprint_wkb = to_wkb(info.footprint)
        scene.gsd = float(info.gsd)
        scene.width, scene.height = int(info.width), int(info.height)
        scene.band_count, scene.dtype = int(info.band_count), str(info.dtype)
        scene.sensor, scene.mask_uri, scene.coverage = info.sensor, info.mask_uri, coverage
        scene.meta = {**info.metadata, **keep, FILE_STAMP_KEY: dict(stamp)}
        masked: Any = mask_stamp(info.mask_uri)
        if mask is not None:
            scene.mask_uri = mask[0]
            kept = mask[1] if isinstance(mask[1], Mapping) else {}
            masked = dict(kept) if kept.get("sha256") else mask_stamp(mask[0])
        if masked is not None:
            scene.meta = {**scene.meta, MASK_STAMP_KEY: masked}
        s.flush()
        s.expunge(scene)
    return scene


#: Why ``--radiometry`` changes nothing for an 8-bit file.
EIGHT_BIT_NOTE = "8-bit: read as it is, --radiometry is for 16-bit and float files"


def eight_bit_note(code: str, dtype: str, *, command: str = "the ingest") -> str:
    """What to tell of a new scene of a 16-bit or float file whose values are 8-bit ones
    (``code``: :func:`railwatch.imagery.inspect.eight_bit_values`, recorded as the
    scene's ``eight_bit_values``), ingested without ``--radiometry``: a visual product,
    which read as linear radiance is washed out and taken for snow or haze, and what to
    do. ``command``: what to run again ("the ingest", "`railwatch ingest-stac`")."""
    from railwatch.imagery.inspect import eight_bit_words

    return (
        f"its {dtype} values are 8-bit ones ({eight_bit_words(code)}): a visual product "
        f"stored {_stored_in(dtype)}, read as linear radiance (the default) it is "
        "stretched with a display gamma and comes out washed out (taken for snow or "
        f"haze, the scene unusable); if it is one, run {command} again with "
        "--radiometry display"
    )


def _stored_in(dtype: str) -> str:
    """How a file of ``dtype`` stores its values, in words: "in 16 bits" (int16, uint16),
    "as float32"."""
    return "in 16 bits" if dtype in ("int16", "uint16") else f"as {dtype}"


def set_radiometry(db: Database, scene_id: int, radiometry: str) -> bool:
    """Record ``radiometry`` as the scene's (its metadata's ``radiometry``); True when
    that changed it. The scene's processing version then differs
    (:func:`railwatch.pipeline.processing_version`): ``railwatch process`` counts it
    again with the new mapping."""
    from railwatch.imagery.read import radiometry_of

    with db.session() as s:
        scene = repo.lock_scene(s, scene_id)
        meta = dict(scene.meta or {})
        changed = radiometry_of(meta) != radiometry
        if meta.get("radiometry") != radiometry:
            scene.meta = {**meta, "radiometry": radiometry}
    return changed


def _when(t: datetime) -> str:
    """``t`` as the summaries write it (UTC, to the minute)."""
    return f"{t.astimezone(UTC):%Y-%m-%d %H:%M}"


def _redate(
    db: Database, scene_id: int, when: datetime, *, date_only: bool = False
) -> tuple[datetime, str, str] | None:
    """Date an ingested scene ``when`` (``ingest --date --force-date`` on a file already
    ingested). Its detections and counts stay (the image is the same); the series and
    alerts read the new date once analysed again. The date the file carries itself is
    kept in its metadata (:data:`FILE_DATE_KEY`) the first time it is replaced; a scene
    dated by ``--date`` because its file carries none stays ``option``. Returns the
    previous date and its source, and the new source; None when the date was ``when``
    already. ``date_only``: ``when`` is a day's noon at the site, no time given
    (:data:`~railwatch.imagery.inspect.DATE_ONLY_KEY` is set, else removed)."""
    from railwatch.imagery.inspect import DATE_ONLY_KEY

    with db.session() as s:
        scene = repo.lock_scene(s, scene_id)
        before, source = scene.acquired_at, scene.date_source
        if before == when:
            return None
        new_source = source if source in ("option", "forced") else "forced"
        if new_source == "forced" and source != "forced":
            scene.meta = {
                **(scene.meta or {}),
                FILE_DATE_KEY: {"acquired_at": before.isoformat(), "date_source": source},
            }
        meta = {k: v for k, v in (scene.meta or {}).items() if k != DATE_ONLY_KEY}
        scene.meta = {**meta, DATE_ONLY_KEY: True} if date_only else meta
        scene.acquired_at = when
        scene.date_source = new_source
    return before, source, new_source


def _ingest_one(
    db: Database,
    summary: IngestSummary,
    path: Path,
    when: datetime | None,
    site_geom: BaseGeometry,
    site_area_m2: float,
    bands: Sequence[int] | None = None,
    undated: list[Path] | None = None,
    *,
    force: bool = False,
    radiometry: str | None = None,
    utc_offset: timedelta = timedelta(0),
    date_only: bool = False,
    transits: TransitLog | None = None,
) -> None:
    """Inspect and record one file, filing the outcome in ``summary``; never raises but for
    SQLite's "database is locked" (:func:`railwatch.storage.db.is_sqlite_locked`).
    ``transits``: when files were first left as still being copied in (one left too
    long fails, :data:`IN_TRANSIT_MAX_SECONDS`).
    ``utc_offset``: the site's nominal zone, where a file name's day alone is dated
    (noon there); ``date_only``: ``when`` is such a noon, for a day given alone.
    A file that carries no date is put in ``undated`` when given, to be ingested again
    after the batch (then dated ``when``, or failed without it). With ``force``, the
    file is dated ``when`` whatever date it carries (:func:`ingest_paths`)."""
    from railwatch.imagery import file_sha256, inspect_scene
    from railwatch.imagery.inspect import (
        DATE_ONLY_KEY,
        MissingDateError,
        alpha_as_data_said_elsewhere,
    )
    from railwatch.imagery.read import check_rgb_bands

    name = str(path)
    try:
        if path.is_symlink() and not path.exists():
            raise ImageryError(_link_reason(path))
        not_file = _not_a_file(path)
        if not_file is not None:
            raise ImageryError(not_file)
        # The hash first: a known file (even renamed, even without a date) is a
        # duplicate, and re-runs do not inspect every file again. Its stamp before it.
        try:
            stamp = file_stamp(path)
            digest = file_sha256(path)
        except OSError as err:
            raise ImageryError(
                f"cannot read {path.name} ({err.strerror or err}): check that the file is "
                "there and readable, then run the ingest again"
            ) from err
        if _known_duplicate(
            db,
            summary,
            name,
            digest,
            path,
            bands,
            when if force else None,
            radiometry,
            forced_date_only=force and date_only,
            stamp=stamp,
            site=(site_geom, site_area_m2),
        ):
            return
        try:
            with alpha_as_data_said_elsewhere():  # said in the file's warning (below)
                info = inspect_scene(
                    path,
                    default_date=None if undated is not None else when,
                    content_hash=digest,
                    utc_offset=utc_offset,
                )
        except MissingDateError:
            if undated is None:
                raise
            undated.append(path)
            return
        _check_still(path, stamp)
        info.metadata[FILE_STAMP_KEY] = stamp
        masked = mask_stamp(info.mask_uri)
        if masked is not None:
            info.metadata[MASK_STAMP_KEY] = masked
        if force and when is not None and info.date_source != "option":
            info.metadata[FILE_DATE_KEY] = {
                "acquired_at": info.acquired.isoformat(),
                "date_source": info.date_source,
            }
            info.metadata.pop(DATE_ONLY_KEY, None)  # the file's own day alone, replaced
            info = replace(info, acquired=when, date_source="forced")
        if date_only and info.date_source in ("option", "forced"):
            info.metadata[DATE_ONLY_KEY] = True  # --date gave a day alone
        if bands is not None:
            info.metadata["rgb_bands"] = list(check_rgb_bands(bands, info.band_count, path.name))
        if radiometry is not None and info.dtype != "uint8":
            info.metadata["radiometry"] = radiometry
        record_scene(db, summary, name, info, site_geom, site_area_m2)
        last = summary.ingested[-1] if summary.ingested else None
        if last is None or last["file"] != name:
            return
        own = info.metadata.get(FILE_DATE_KEY) if info.date_source == "forced" else None
        if own is not None:
            last["file_date"] = own
            last["note"] = (
                f"its own date {own['acquired_at'][:16].replace('T', ' ')} UTC "
                f"({own['date_source']}) was replaced by --date (--force-date)"
            )
        elif when is not None and info.date_source != "option":
            last["note"] = (
                f"its own date {info.acquired:%Y-%m-%d %H:%M} UTC ({info.date_source}) was "
                "kept: --date is for files that carry none (--force-date gives them --date)"
            )
        if radiometry is not None and info.dtype == "uint8":
            last["radiometry_note"] = EIGHT_BIT_NOTE
        notes = []
        if info.metadata.get("bands_unlabelled") and "rgb_bands" not in info.metadata:
            notes.append(
                f"{info.band_count} bands, none labelled red, green or blue: bands 1,2,3 "
                "will be read as red, green, blue; if the file is blue, green, red, NIR "
                "(Planet analytic, Maxar), run the ingest again with --bands 3,2,1"
            )
        eight_bit = info.metadata.get("eight_bit_values")
        if eight_bit is not None and radiometry is None:
            notes.append(eight_bit_note(str(eight_bit), info.dtype))
        if info.item_scaling_note is not None:
            notes.append(info.item_scaling_note)
        as_data = alpha_as_data_note(info.metadata, path.name)
        if as_data is not None:
            notes.append(as_data)
        mask_note = mask_codes_note(info.mask_uri)
        if mask_note is not None:
            notes.append(mask_note)
        if notes:
            last["warning"] = "; ".join(notes)
    except Exception as err:  # one bad file never fails the batch
        if is_sqlite_locked(err):
            # another writer kept the database past SQLite's wait: no fault of this file,
            # and each file after it would wait as long; the batch stops, busy (status 75;
            # the files recorded before it stay, and running it again goes on; review,
            # session 48)
            raise
        now = time.time()
        transit = in_transit_reason(path, err, now)
        if transit is not None and transits is not None:
            try:
                st = path.stat()
            except OSError:
                st = None
            if st is not None:
                held = transits.seen(path, now, st, written_probes(path, st.st_size))
                long = (
                    now - held.since >= IN_TRANSIT_GROWING_SECONDS
                    or now - held.progress >= IN_TRANSIT_MAX_SECONDS
                )
                if long:  # rewritten again and again: told, to act on (session 50)
                    transits.told(path)
                    reason = stuck_in_transit_reason(path, err, held.since, now, held.restarts)
                    summary.failed.append({"file": name, "reason": reason})
                    return
        if transit is not None:  # a partial copy: the next run reads it (session 49)
            summary.in_transit.append({"file": name, "reason": transit})
            return
        summary.fail(name, err)


def alpha_as_data_note(metadata: Mapping[str, Any], name: str) -> str | None:
    """What to tell of a file (``name``) whose band GDAL labels alpha is read as image
    data (``metadata["alpha_as_data"]``, :func:`railwatch.imagery.inspect.alpha_as_data`:
    NIR written as RGB with an extra sample), with the way to make it transparency;
    None for another file. Said in the file's warning since 2026-12-07 (session 46),
    not in the log (``imagery.inspect.alpha_as_data_said_elsewhere``), so it is said once."""
    from railwatch.imagery.inspect import ALPHA_AS_DATA_KEY, alpha_as_data_text

    found = metadata.get(ALPHA_AS_DATA_KEY)
    if not isinstance(found, Mapping):
        return None
    text = alpha_as_data_text(name, int(found["band"]), str(found["why"]))
    return text.removeprefix(f"{name}: ")  # the warning names the file


#: Longest side (px) the mask is read at to find its values.
_MASK_LOOK_PX = 1024


def mask_codes_note(mask_uri: str | None) -> str | None:
    """What to tell of a local one-band quality mask whose values (read at most
    :data:`_MASK_LOOK_PX` a side) include some that are none of
    :data:`railwatch.imagery.read.MASK_CODES`: they are read as no data, which a mask in
    another convention (a 0/128 cloud mask) does not mean. None for a mask in the codes, an
    8-band (UDM2) or remote mask, or one that cannot be read here (processing says why).
    Review r3, session 39."""
    import numpy as np
    import rasterio
    from rasterio.errors import RasterioError

    from railwatch.imagery.read import MASK_CODES

    path = _local_mask(mask_uri)
    if path is None:
        return None
    try:
        with rasterio.open(path) as src:
            if src.count != 1:
                return None
            k = max(1, -(-max(src.width, src.height) // _MASK_LOOK_PX))
            shape = (max(1, src.height // k), max(1, src.width // k))
            values = np.unique(src.read(1, out_shape=shape))
    except (RasterioError, OSError):
        return None
    odd = [v for v in values.tolist() if v not in MASK_CODES]
    if not odd:
        return None
    shown = some([f"{v:g}" for v in odd], 6)
    return (
        f"its quality mask {path.name} holds values that are none of its codes ({shown}), "
        "read as no data: one band holds 0 clear, 1 cloud, 2 haze, 3 snow, 4 cloud shadow, "
        "255 no data; if the mask means something else by them (cloud, clear), write it in "
        "these codes and ingest the image again"
    )


def _check_still(path: Path, stamp: Mapping[str, Any]) -> None:
    """Refuse a file whose :func:`file_stamp` (its own or a sidecar's size and times)
    changed while it was hashed and inspected: it is being written or copied, so its
    hash is not that of the image read (the scene would fail at ``process`` as "changed
    since ingest", and a second ingest would add the finished file as another scene)."""
    try:
        now = _stats_of(path)
    except OSError as err:
        raise ImageryError(
            f"{path.name} went away while it was ingested ({err.strerror or err}): check "
            "that the file is there, then run the ingest again"
        ) from err
    if now != _stats_only(stamp):
        grew = now["size"] - stamp["size"]
        how = f" (it grew by {grew:,} bytes)" if grew > 0 else ""
        raise StillWritingError(
            f"{path.name} changed while it was ingested{how}: it is still being written or "
            "copied; wait until it is complete and run the ingest again (nothing was "
            "recorded for it)"
        )


def record_scene(
    db: Database,
    summary: IngestSummary,
    name: str,
    info: Any,
    site_geom: BaseGeometry,
    site_area_m2: float,
    *,
    coverage: float | None = None,
) -> None:
    """Record an inspected scene (an ``imagery.SceneInfo``) unless it misses the site,
    filing the outcome (ingested, already there, or skipped) in ``summary``. Its
    ``coverage`` of the site is that of its footprint (a file's valid-data footprint)
    unless given (a STAC item's: measured on its pixels, ``railwatch.stac``)."""
    from railwatch.imagery import site_coverage

    if coverage is None:
        coverage = float(site_coverage(info.footprint, site_geom))
    if coverage * site_area_m2 < info.gsd * info.gsd:
        entry: dict[str, Any] = {
            "file": name,
            "reason": f"does not overlap site {summary.site} (0 pixels): "
            + _where(info.footprint, site_geom, info.crs, summary.site),
        }
        if swapped_site_hint(info.footprint, site_geom, summary.site) is not None:
            entry["site_swapped"] = True
        summary.skipped.append(entry)
        return
    with db.session() as s:
        scene, created = repo.add_scene(s, summary.site, info, coverage)
        entry = scene_entry(name, scene)
    if created:
        summary.ingested.append(entry)
    else:
        entry["reason"] = f"already ingested as scene {entry['scene_id']}"
        summary.duplicates.append(entry)


def _where(
    footprint: BaseGeometry, site_geom: BaseGeometry, crs: str, site: str | None = None
) -> str:
    """Where an image that misses a site lies, and what to check: a wrong CRS in the
    file puts it hundreds or thousands of km away, a neighbouring site's image next
    door; with ``site`` (its name), a site drawn as lat,lon (:func:`swapped_site_hint`)."""
    from pyproj import Geod

    from railwatch.sites import lat_lon_text

    here, there = footprint.representative_point(), site_geom.representative_point()
    _, _, metres = Geod(ellps="WGS84").inv(there.x, there.y, here.x, here.y)
    km = metres / 1000.0
    far = f"{km:,.0f} km" if km >= 10 else f"{km:.1f} km"
    where = lat_lon_text(footprint)
    crs_text = crs if len(crs) <= 20 else "the one in the file"
    swapped = None if site is None else swapped_site_hint(footprint, site_geom, site)
    if swapped is not None:
        return f"the image lies around {where}, {far} from the site; {swapped}"
    return (
        f"the image lies around {where}, {far} from the site; if it should cover "
        f"the site, check its CRS ({crs_text}) and geotransform"
    )


def swapped_site_hint(footprint: BaseGeometry, site_geom: BaseGeometry, site: str) -> str | None:
    """What to do when an image (or STAC item) misses a site that it would cover were
    the site's longitude and latitude exchanged: a site drawn as lat,lon where both
    are within ±90° (western Europe read so lies in the Indian Ocean) passes every
    check of ``site add``, and then every image of the yard "lies thousands of km
    away"; the file's CRS, which the general hint names, is not what is wrong.
    None when the exchange would not bring the site over the footprint, and when the
    footprint lies within :func:`swap_near_m` of the site as it is: a site near the
    lat = lon diagonal (51.37 N 51.39 E) is exchanged onto its own neighbourhood, where
    an image that misses it is a neighbouring yard's, not evidence of a swap
    (2026-12-05, session 33: an image 0.007°, under 1 km, from such a site got the
    swap advice)."""

    minx, _, maxx, _ = site_geom.bounds
    if minx < -90.0 or maxx > 90.0:
        return None  # exchanged, its longitudes would be latitudes beyond ±90
    if not exchanged(site_geom).intersects(footprint):
        return None
    if _distance_m(footprint, site_geom) < swap_near_m(site_geom):
        return None  # next door: a neighbouring yard's image, or a swap; not told apart
    # no "remove the site" here: said of each image, also of a site whose other images
    # lie over it as it is, and a removal deletes its images, counts and reviews
    return (
        "it would lie over the site if the site's longitude and latitude were exchanged: "
        f"if site {site} was drawn as lat,lon (GeoJSON and --bbox are lon,lat), add it "
        "again under a new name with each pair of numbers swapped (a site's polygon "
        "cannot be changed)"
    )


#: How near a site (metres) an image that misses it is "next door" whatever the site's
#: coordinate order, so no swap is said of it: 10 km. Neighbouring yards lie that close
#: (Khasan is 3.2 km from Tumangang), and the images of one yard (a SkySat or Pleiades
#: scene, a few km to 20 km across) reach the next. A lat,lon swap moves a site by
#: 130-157 km per degree of difference between its latitude and longitude (at 52° and
#: 0° latitude), so only sites within about 0.08° of the lat = lon diagonal lose the
#: hint; their images keep the general one (where the image lies, how far from the
#: site, check its CRS). A site larger than that counts its own size.
SWAP_NEAR_M = 10_000.0


def swap_near_m(site_geom: BaseGeometry) -> float:
    """The distance (metres) within which an image that misses ``site_geom`` (WGS84) is
    not said to show a swapped site: :data:`SWAP_NEAR_M`, or the site's own size (the
    diagonal of its bounds) where that is larger."""
    minx, miny, maxx, maxy = site_geom.bounds
    return max(SWAP_NEAR_M, _geodesic_m(minx, miny, maxx, maxy))


def _geodesic_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres between two WGS84 points on the ellipsoid."""
    from pyproj import Geod

    _, _, metres = Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)
    return float(metres)


def _distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """About how many metres apart the nearest points of two WGS84 geometries are (the
    nearest points found in degrees, their distance measured on the ellipsoid: close
    enough for the km that :data:`SWAP_NEAR_M` tells apart)."""
    from shapely.ops import nearest_points

    pa, pb = nearest_points(a, b)
    return _geodesic_m(pa.x, pa.y, pb.x, pb.y)


def exchanged(geom: BaseGeometry) -> BaseGeometry:
    """``geom`` with each coordinate's x and y exchanged (lon,lat <-> lat,lon)."""
    import shapely

    return shapely.transform(geom, lambda xy: xy[:, ::-1])


def swapped_site_note(
    site_geom: BaseGeometry, site: str, what: str, evidence: str, *, events: int | None = None
) -> str:
    """The one message for a site without an image that no ``what`` (image, STAC item)
    lies over while some would were its longitude and latitude exchanged (``evidence``:
    which, e.g. "all 3 images not ingested lie"): what is wrong (where the site is,
    where it would be) and what to do (add it again in lon,lat order under a new name,
    then remove the old one). The site is not changed: it is a guess, for the analyst
    to confirm. A site's polygon cannot be edited (``site edit`` keeps it), and the
    advice loses nothing (session 32; it said to remove the site first): the new site
    is added before the old one is removed, and the removal says what it deletes and
    asks; ``events`` (how many the site holds; None: not known) are named, as they
    would go with it."""
    import shapely
    from shapely.geometry import box

    from railwatch.sites import lat_lon_text

    here, there = lat_lon_text(site_geom), lat_lon_text(exchanged(site_geom))
    x, y = (float(v) for v in shapely.get_coordinates(site_geom)[0])
    mirrored = exchanged(site_geom)
    as_box = ""
    if site_geom.equals(box(*site_geom.bounds)):  # a --bbox site: its box, swapped
        as_box = ", here --bbox " + ",".join(_degrees(v) for v in mirrored.bounds)
    if events:
        kept = (
            f", and its {events} event{'' if events == 1 else 's'} would go with it: add "
            f"{'it' if events == 1 else 'them'} to the new site first"
        )
    elif events == 0:
        kept = ": it holds no image nor event"
    else:
        kept = ": it holds no image; it lists what it would delete and asks first"
    return (
        f"the site's coordinates look swapped: no {what} lies over site {site} where it is "
        f"(around {here}), but {evidence} over the place with its longitude and latitude "
        f"exchanged (around {there}); GeoJSON (RFC 7946) and --bbox give "
        "each position as lon,lat. If the site is meant to be there, add it again under "
        "a new name with the two numbers of each position swapped (its first, "
        f"[{x:g}, {y:g}], becomes [{y:g}, {x:g}]{as_box}) and ingest into that one (a "
        "site's polygon cannot be changed: `railwatch site edit` keeps it); then "
        f"`railwatch site remove {site}` removes this one{kept}. The site was left as it is"
    )


def _degrees(v: float) -> str:
    """A coordinate in degrees as a --bbox takes it (to 1e-6°, no trailing zeros)."""
    return f"{v:.6f}".rstrip("0").rstrip(".")


def scene_entry(name: str, scene: Any) -> dict[str, Any]:
    """The summary line of a recorded scene."""
    return {
        "file": name,
        "uri": scene.uri,
        "scene_id": scene.id,
        "acquired_at": scene.acquired_at.isoformat(),
        "date_source": scene.date_source,
        "coverage": round(scene.coverage, 4),
        "gsd": scene.gsd,
    }
