"""Process scenes on a Dask distributed cluster.

Each pending scene is one task running :func:`railwatch.pipeline.process_scene` on a
worker (read window, quality, detect, count). Only the client touches the database:
it writes each outcome in its own transaction as soon as the task completes
(``as_completed``), so an interrupted run loses at most the scenes in flight and
never leaves half a scene. Progress comes from the cluster: each task's future reports
its completion (``on_task``, from Dask's callback thread, as the scheduler tells the
client) before the client records it (``on_progress``). Tasks are retried when they
raise, and the scheduler reschedules a task whose worker died, so a dying worker costs
time, not results.

A scene whose task kills its worker (out of memory, a crash in GDAL) makes Dask fail
with ``KilledWorker`` every task that was on that worker when it died, after
``distributed.scheduler.allowed-failures`` deaths, not only the one that killed it.
Each scene failed so is run again alone, one at a time, once the others are done: only
the scene that kills its worker on its own is recorded as failed, with that reason.
While the client waits it checks that the cluster still has workers, and stops with
:class:`ClusterError` when it has had none for ``ClusterSpec.no_workers_timeout``.

Without ``scheduler`` a local cluster is started (one single-threaded worker
process per CPU core unless ``workers`` says otherwise) and stopped afterwards.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import Any

from railwatch.detect.base import Detector
from railwatch.detect.coarse import method_for_gsd
from railwatch.errors import ConfigError, InputError, RailwatchError, lazy_import, plural
from railwatch.imagery import site_grid
from railwatch.pipeline import (
    ProcessSummary,
    SceneJob,
    SceneOutcome,
    grid_gsd,
    pending_jobs,
    process_scene,
    processing_lock,
    record_outcome,
    scene_failed,
    split_history,
    task_failed,
    with_first_use_stamps,
    with_history,
)
from railwatch.sites import one_name_a_site
from railwatch.storage import Database
from railwatch.storage.db import BusyError, LockLostError

__all__ = [
    "ClusterError",
    "ClusterOptionError",
    "ClusterSpec",
    "TaskDone",
    "WorkerSetupError",
    "open_client",
    "process_sites_distributed",
    "run_scene_task",
]

log = logging.getLogger(__name__)

#: ``on_progress(done, total, site)`` after each recorded scene (and once at the start).
ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True)
class TaskDone:
    """One scene's task finished on the cluster (its result not yet recorded).

    ``status`` is the Dask future's: ``finished``, ``error`` (raised after its
    retries), ``cancelled`` or ``lost``; ``done`` counts the tasks finished so far,
    this one included, out of ``total``."""

    scene_id: int
    site: str
    status: str
    done: int
    total: int


#: ``on_task(TaskDone)`` once per scene, as its task finishes on the cluster.
TaskCallback = Callable[[TaskDone], None]


class _TaskStream:
    """Turns future completions into exactly one :class:`TaskDone` per scene.

    Dask calls :meth:`future_done` from its callback thread as the scheduler reports
    each key; the client's ``as_completed`` loop calls it too (:meth:`seen`), so every
    scene is reported once, before it is recorded, whichever comes first."""

    def __init__(self, where: dict[str, tuple[str, int]], callback: TaskCallback | None) -> None:
        self._where = where
        self._callback = callback
        self._lock = threading.Lock()
        self._reported: set[str] = set()

    def future_done(self, future: Any) -> None:
        """Dask done-callback: report ``future`` unless already reported, or failed
        with its worker (its scene is run again alone: reported when that ends)."""
        try:
            if future.status == "error" and _killed_worker(future):
                return
            self.seen(future.key, future.status)
        except Exception:  # a failing UI callback must not kill Dask's callback thread
            log.exception("progress callback failed")

    def seen(self, key: str, status: str) -> None:
        """Report the task ``key`` with ``status``, the first time only."""
        with self._lock:
            if key in self._reported or key not in self._where:
                return
            self._reported.add(key)
            site, scene_id = self._where[key]
            event = TaskDone(scene_id, site, status, len(self._reported), len(self._where))
            if self._callback is not None:
                self._callback(event)


class ClusterError(RailwatchError, RuntimeError):
    """The Dask cluster cannot be started or reached."""


class WorkerSetupError(ClusterError):
    """A worker cannot load the run's detector (railwatch, the detector's extras or its
    weights missing or different there): no scene's fault, so no scene is marked failed."""


class ClusterOptionError(ConfigError, InputError):
    """A bad ``--workers`` or ``--scheduler`` (more workers than this machine can run, an
    address that is no ``tcp://HOST:PORT``, both given; a scheduler that cannot be reached
    is a :class:`ClusterError`, status 1): a bad value on the command line, so exit
    status 2 as for any other (README, "Exit status"; ``--workers 0``, refused by the
    option itself, was 2 while ``--workers 100000`` was 1 until 2026-12-07, session 46).
    Still a :class:`~railwatch.errors.ConfigError` for a caller that catches that."""


@dataclass(frozen=True)
class ClusterSpec:
    """Where tasks run: ``scheduler`` (``tcp://HOST:PORT`` of a running cluster), or a
    local cluster of ``workers`` single-threaded processes (CPU count when None).
    ``retries``: extra attempts of a task that raised; ``no_workers_timeout``: seconds
    the run waits on a cluster left without any worker before it stops;
    ``connect_timeout``: seconds the scheduler has to answer as a Dask scheduler."""

    workers: int | None = None
    scheduler: str | None = None
    retries: int = 2
    no_workers_timeout: float = 120.0
    connect_timeout: float = 20.0

    def __post_init__(self) -> None:
        if self.workers is not None and self.scheduler is not None:
            raise ClusterOptionError("pass either --workers or --scheduler, not both")
        if self.workers is not None and self.workers < 1:
            raise ClusterOptionError(f"--workers must be at least 1, got {self.workers}")
        cores = _cpu_count()
        if self.workers is not None and self.workers > MAX_WORKERS_PER_CORE * cores:
            raise ClusterOptionError(
                f"--workers {self.workers} would start {self.workers} worker processes on "
                f"this machine, which has {cores} CPU core(s), each worker with its own "
                f"detector (about 1 GB): give at most {MAX_WORKERS_PER_CORE * cores} "
                f"({MAX_WORKERS_PER_CORE} per core), or start a Dask cluster across "
                "machines and pass --scheduler tcp://HOST:PORT"
            )
        if self.retries < 0:
            raise ConfigError(f"retries must be 0 or more, got {self.retries}")
        if not self.no_workers_timeout > 0:
            raise ConfigError(
                f"no_workers_timeout must be more than 0 seconds, got {self.no_workers_timeout}"
            )
        if not self.connect_timeout > 0:
            raise ConfigError(
                f"connect_timeout must be more than 0 seconds, got {self.connect_timeout}"
            )
        if self.scheduler is not None:
            problem = _address_problem(self.scheduler)
            if problem is not None:
                raise ClusterOptionError(f"--scheduler {self.scheduler!r} {problem}")

    def local_workers(self, tasks: int | None = None) -> int:
        """Worker processes of the local cluster (no more than ``tasks``, when given:
        each one started costs a process and a detector loaded for nothing)."""
        workers = self.workers if self.workers is not None else _cpu_count()
        return max(1, workers if tasks is None else min(workers, tasks))


#: ``--workers`` may start at most this many local worker processes per CPU core (more
#: swapped or ran out of memory: each loads its own detector).
MAX_WORKERS_PER_CORE = 4


def _cpu_count() -> int:
    """The CPU cores this process may run on (its affinity, e.g. in a container)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


#: The address schemes of Dask's comms (``distributed.comm.registry``).
_SCHEMES = frozenset({"tcp", "tls", "ws", "wss", "ucx", "inproc"})
#: ``HOST:PORT`` of a network address (an IPv6 host in brackets).
_HOST_PORT = re.compile(r"(?:\[[^\]\s]+\]|[^\s:/\[\]@]+):(\d{1,5})")


def _address_problem(address: str) -> str | None:
    """What is wrong with the scheduler ``address`` (said after it), or None. Dask itself
    raised a ValueError for a missing or bad port or an unknown scheme (an internal error,
    after the sites were locked and their scenes listed)."""
    scheme, sep, where = address.strip().partition("://")
    scheme = scheme.lower()
    if not sep:
        if _HOST_PORT.fullmatch(address.strip()):  # Dask would take it: say what to write
            return f"has no scheme: write tcp://{address.strip()}"
        return "is not an address: use tcp://HOST:PORT"
    if scheme in ("http", "https"):
        return (
            "is a web address (the Dask dashboard's?), not the scheduler's: use "
            "tcp://HOST:PORT (the scheduler listens on port 8786 unless started with "
            "another --port)"
        )
    if scheme not in _SCHEMES:
        return (
            f"has scheme {scheme!r}, which Dask does not know: use tcp://HOST:PORT (or "
            f"one of {', '.join(sorted(_SCHEMES - {'tcp'}))})"
        )
    if scheme == "inproc":
        return None
    match = _HOST_PORT.fullmatch(where)
    if match is None or not 0 < int(match.group(1)) < 65536:
        return (
            f"does not end in HOST:PORT: use {scheme}://HOST:PORT (the scheduler listens "
            "on port 8786 unless started with another --port)"
        )
    return None


def run_scene_task(
    job: SceneJob, detector: Detector | str, expect: tuple[str, str] | None = None
) -> SceneOutcome:
    """The task body: :func:`process_scene` on a worker (module-level, so it pickles).
    ``detector`` is a detector object, or a registry name loaded once per worker;
    ``expect``: the (name, version) the run records its scenes with, which a detector
    loaded by name must have (see :func:`_named_detector`)."""
    det = detector if not isinstance(detector, str) else _named_detector(detector, expect)
    too_big = _window_too_big(job)
    if too_big is not None:  # it would kill its worker, again and again: fail it now
        return scene_failed(job, too_big)
    return process_scene(job, det)


def _run_with_history(
    job: SceneJob,
    history: Sequence[Sequence[Any]],
    detector: Detector | str,
    expect: tuple[str, str] | None = None,
) -> SceneOutcome:
    """:func:`run_scene_task` of ``job`` sent without its history's footprints
    (:func:`railwatch.pipeline.split_history`), given them back: ``history`` holds the
    footprints of its ``history_scenes``, in their order (the results of the run's
    history tasks, :class:`_ClusterHistory`)."""
    return run_scene_task(with_history(job, history), detector, expect)


#: Bytes a scene's task needs per pixel of its site window, beyond what its worker
#: holds already, where the window is read whole (at 1.5 m and coarser, whose windows
#: are small in pixels): the peak of ``process_scene`` grew by 29 B per window pixel
#: from 4 to 36 Mpx windows of a 20,000 px scene (measured 2026-12-06, session 35, most
#: of it the quality estimate's maps then); since the quality step works in strips
#: (3d37b2f) 17 B (a clear scene, 16 to 36 Mpx) to 25 B (a mostly empty window, 16 to
#: 64 Mpx), most of it the window read whole and the detector's tiles: kept at 32 as an
#: upper bound (a killed worker costs far more than a refusal).
WINDOW_BYTES_PER_PX = 32
#: At 0.3-1.5 m (cars one by one) the window's image stays in its file, read strip by
#: strip and tile by tile (``read_site_window(..., lazy=True)``, session 36): what a
#: task needs grows by :data:`OBJECTS_BYTES_PER_PX` a window pixel (its whole-window
#: maps of one or two bytes a pixel: valid, inside, the quality estimate's regions and
#: their labels) over :data:`OBJECTS_FIXED_BYTES` whatever the window (GDAL's block
#: cache, 128 MB, the window's cache of rows, 64 MB, a quality strip's temporaries and
#: the detector's tiles in flight). Measured: see :func:`window_bytes`.
OBJECTS_BYTES_PER_PX = 7
OBJECTS_FIXED_BYTES = 800_000_000


def window_bytes(pixels: int, gsd: float) -> int:
    """What processing a site window of ``pixels`` pixels at ``gsd`` metres (the site
    grid's) needs beyond what the worker holds: :data:`WINDOW_BYTES_PER_PX` a pixel (the
    window read whole, at 1.5 m and coarser), at 0.3-1.5 m no more than
    :data:`OBJECTS_FIXED_BYTES` and :data:`OBJECTS_BYTES_PER_PX` a pixel (from about 32
    Mpx: a smaller window is judged as before, so that no window the guard let through
    until session 36 is refused now).

    Measured 2026-12-06, session 36 (``benchmarks/bench_process_memory.py``, default
    detector, a scene with an opaque cloud and a hazy band, the worst case of the
    quality estimate; 2-core shared VM, three runs): the peak of ``process_scene`` grew
    over the loaded detector by 390-397 MB / 855-936 MB / 1.36-1.49 GB for 4 / 36 / 144
    Mpx windows (4-6 B a pixel from 36 to 144 Mpx, the caches full from about 22 Mpx);
    800 MB + 7 B a pixel bounds them with a margin (12 % at 36 Mpx, 21 % at 144). The
    whole read needed about 17 to 25 B a pixel (2026-12-06, session 35)."""
    whole = WINDOW_BYTES_PER_PX * pixels
    if method_for_gsd(gsd) == "objects":
        return min(whole, OBJECTS_FIXED_BYTES + OBJECTS_BYTES_PER_PX * pixels)
    return whole


def _window_too_big(job: SceneJob) -> str | None:
    """Why ``job``'s site window cannot be processed within this Dask worker's memory
    limit, or None (it fits, the worker has no limit, or this is not a Dask worker).
    Such a task made its worker's nanny kill it as soon as it passed
    ``distributed.worker.memory.terminate`` of the limit, Dask ran it again until it had
    killed ``allowed-failures + 1`` workers, then railwatch ran it alone as many times
    more before it was marked failed, each death costing the tasks then on the worker
    (2026-12-06, session 35: a 12,000 px square window grew a worker past 5 GB)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):  # not in a Dask worker's task
        return None
    limit = getattr(getattr(worker, "memory_manager", None), "memory_limit", None)
    if not limit:
        return None
    # what the worker holds (the measure its nanny kills it by), where Dask says it
    measure = getattr(getattr(worker, "monitor", None), "get_process_memory", None)
    held = int(measure()) if callable(measure) else 0
    grid = site_grid(job.site_geometry, grid_gsd(job.gsd))
    pixels = grid.width * grid.height
    need = held + window_bytes(pixels, grid.gsd)
    dask = lazy_import("dask", "dask", "distributed processing")
    key = "distributed.worker.memory.terminate"  # where the nanny kills its worker
    terminate = dask.config.get(key, default=False)  # type: ignore[attr-defined]
    allowed = limit * (float(terminate) if terminate else 1.0)
    if need <= allowed:
        return None
    return (
        f"the site's window in this scene is {grid.width} x {grid.height} px "
        f"({pixels / 1e6:.0f} Mpx at {grid.gsd:g} m a pixel): processing it needs about "
        f"{need / 1e9:.1f} GB, more than this Dask worker may use ({allowed / 1e9:.1f} GB "
        f"of its {limit / 1e9:.1f} GB memory limit), and it would be killed: give the "
        "workers more memory (`dask worker --memory-limit`, or fewer --workers on this "
        "machine) and run process again, or split the site into smaller sites"
    )


def _named_detector(name: str, expect: tuple[str, str] | None) -> Detector:
    """The detector ``name`` as this worker has it, checked against ``expect``. One
    loaded by an earlier run on a long-lived cluster (``--scheduler``) whose weights or
    model card changed since is loaded again; one that still differs (another railwatch,
    other weights or another precision on this worker) is a :class:`WorkerSetupError`:
    its counts were recorded under the run's version, and never counted again."""
    det = _load_named(name)
    if expect is None or (det.name, det.version) == expect:
        return det
    _worker_detector.cache_clear()  # loaded before its files changed: load it again
    det = _load_named(name)
    if (det.name, det.version) == expect:
        return det
    raise WorkerSetupError(
        f"a Dask worker loaded detector {name!r} as {det.name} {det.version}, not "
        f"{expect[0]} {expect[1]} as this run records its scenes (another railwatch, "
        "weights or model card on that worker)"
    )


def _load_named(name: str) -> Detector:
    """:func:`_worker_detector`, its failure a :class:`WorkerSetupError`."""
    try:
        return _worker_detector(name)
    except Exception as err:  # any import or load error: the worker's, not the scene's
        raise WorkerSetupError(
            f"a Dask worker cannot load detector {name!r} ({type(err).__name__}: {err})"
        ) from err


@functools.cache
def _worker_detector(name: str) -> Detector:
    """The detector ``name`` (see :func:`railwatch.detect.registry.get_detector`),
    loaded once per worker process."""
    from railwatch.detect.registry import get_detector

    return get_detector(name)


def _shippable(detector: Detector, name: str | None) -> Detector | str:
    """What to send to the workers: the detector itself when it pickles, else its
    registry name (models holding sessions or locks are loaded on each worker)."""
    cloudpickle = lazy_import("cloudpickle", "dask", "distributed processing")
    try:
        cloudpickle.dumps(detector)  # type: ignore[attr-defined]
    except Exception as err:  # pickling fails with many error types
        if name is None:
            raise ConfigError(
                f"detector {detector.name} cannot be sent to Dask workers ({type(err).__name__}: "
                f"{err}): pass its registry name (detector_name=...)"
            ) from err
        return name
    return detector


def _distributed() -> Any:
    return lazy_import("distributed", "dask", "distributed processing")


@contextmanager
def open_client(spec: ClusterSpec) -> Iterator[Any]:
    """A connected ``distributed.Client`` for ``spec`` (closed, and a local cluster
    stopped, on exit)."""
    dd = _distributed()
    with _quiet_dask():
        yield from _open(dd, spec)


@contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's INFO chatter (scheduler, nanny) off while railwatch drives the cluster."""
    logger = logging.getLogger("distributed")
    previous = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous)


@contextmanager
def _silenced(name: str) -> Iterator[None]:
    """The logger ``name`` silent, errors included (Dask's logging configuration gives
    ``distributed.client`` its own level, so its parent's does not reach it). Closing a
    client whose scheduler went away cancels its reconnection attempts, and Dask logged
    that as ``ERROR distributed.client`` with a 30-line traceback above the one line the
    run stops with, which says what happened and what to do (2026-12-05, session 33)."""
    logger = logging.getLogger(name)
    previous = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _open(dd: Any, spec: ClusterSpec) -> Iterator[Any]:
    if spec.scheduler is not None:
        _check_answers(dd, spec.scheduler, spec.connect_timeout)
        try:
            client = dd.Client(spec.scheduler, timeout=f"{spec.connect_timeout:g}s")
        except (OSError, TimeoutError, ValueError) as err:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {spec.scheduler} ({err}): "
                "start it with `dask scheduler` or check the address"
            ) from err
        try:
            yield client
        finally:
            with _silenced("distributed.client"):  # see _silenced
                client.close()
        return
    with _keep_nannies():
        yield from _open_local(dd, spec)


def _check_answers(dd: Any, address: str, timeout: float) -> None:
    """Raise :class:`ClusterError` unless a Dask scheduler at ``address`` connects and
    answers Dask's handshake within ``timeout`` seconds. ``distributed.Client`` bounds
    only the connection: a port that accepts it and never answers as Dask does (the
    dashboard's HTTP port, another service, a proxy) held ``process`` for ever."""
    import asyncio

    failed: list[BaseException] = []

    async def handshake() -> None:
        args = dd.Security().get_connection_args("client")  # as the Client connects
        comm = await asyncio.wait_for(
            dd.comm.connect(address, timeout=timeout, **args), timeout + _HANDSHAKE_S
        )
        await comm.close()

    def run() -> None:
        try:
            _resolve(address)  # a host name no resolver knows: said at once
            asyncio.run(handshake())
        except BaseException as err:  # reported by the calling thread
            failed.append(err)

    # its own thread and event loop: the caller may be inside a running loop (Jupyter)
    thread = threading.Thread(target=run, name="railwatch-scheduler-check", daemon=True)
    thread.start()
    thread.join(timeout + 2 * _HANDSHAKE_S)
    err = failed[0] if failed else None
    if not thread.is_alive() and err is None:
        return
    timed_out = thread.is_alive() or isinstance(err, TimeoutError)
    parts = _host_port(address)
    probe = None
    if parts is not None and (timed_out or _connect_timed_out(err)):
        probe = _tcp_probe(*parts)
    if isinstance(probe, ConnectionRefusedError):
        # Dask's retries on a refused port outlasted the wait on a loaded machine (the
        # landing CI of session 42): the port is closed, not silent
        timed_out, err = False, ConnectionRefusedError(f"connection to {address} refused")
    elif isinstance(probe, _Connected):
        # the port accepts connections: Dask's own attempts ran out of time before one
        # was made (its event loop starved on a loaded machine, 2026-12-06, session 43),
        # which is not "nothing answered on the port (a wrong host, a firewall)"
        timed_out = True
    if timed_out:
        raise ClusterError(
            f"{address} accepted the connection but did not answer as a Dask scheduler "
            f"within {timeout:g} s (another service on that port? Dask's dashboard is on "
            "8787, the scheduler on 8786 unless started with another --port): give the "
            "scheduler's address, tcp://HOST:PORT"
        ) from err
    if isinstance(err, _GARBLED):  # connected, then read bytes that are not Dask's
        raise ClusterError(
            f"{address} accepted the connection but answered with something that is not "
            f"Dask's protocol ({type(err).__name__} reading it: {_short(err)}; another "
            "service on that port, e.g. a web server or a proxy): give the Dask "
            "scheduler's address, tcp://HOST:PORT (port 8786 unless it was started with "
            "another --port)"
        ) from err
    why = _why_unreachable(address, err, timeout, probe)
    raise ClusterError(f"cannot reach the Dask scheduler at {address}: {why}") from err


class _Connected(RuntimeError):
    """What :func:`_tcp_probe` returns when its connection was made."""


def _connect_timed_out(err: BaseException | None) -> bool:
    """Whether ``err`` is Dask's own "Timed out trying to connect" (its attempts to
    connect, retried until the timeout, all failed or took too long)."""
    return isinstance(err, OSError) and "Timed out trying to connect" in str(err)


def _tcp_probe(host: str, port: str) -> BaseException:
    """The error of one plain TCP connection to ``host``:``port`` (``ConnectionRefusedError``
    when nothing listens), or a :class:`_Connected` placeholder when it connects."""
    import socket

    try:
        with socket.create_connection((host, int(port)), timeout=_HANDSHAKE_S):
            return _Connected("connected")
    except (OSError, ValueError) as err:
        return err


#: What Dask's handshake raises reading bytes that are not its protocol from the peer:
#: an HTTP "400 Bad Request", an SSH banner or a Redis error line read as frame lengths
#: (MemoryError: "Unable to allocate 3.07 EiB"), or as msgpack (ValueError and kin).
_GARBLED = (MemoryError, ValueError, OverflowError, struct.error)


def _short(err: BaseException, limit: int = 120) -> str:
    """``err``'s message on one line, cut to ``limit`` characters."""
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _UnknownHost(OSError):
    """The scheduler address's host name is not known to this machine's resolver."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: {reason}")
        self.host = host
        self.reason = reason


def _host_port(address: str) -> tuple[str, str] | None:
    """The host (without IPv6 brackets) and port of a network ``address``, or None."""
    where = address.strip().partition("://")[2]
    if _HOST_PORT.fullmatch(where) is None:
        return None
    host, _, port = where.rpartition(":")
    return host.strip("[]"), port


def _resolve(address: str) -> None:
    """Raise :class:`_UnknownHost` when the host name of ``address`` does not exist for
    this machine's resolver (``EAI_NONAME``). Dask retried it for the whole connect
    timeout and said only *Timed out trying to connect … after 20 s*, as for a scheduler
    that does not answer. A resolver that fails for now (``EAI_AGAIN``) is left to Dask's
    retries."""
    import socket

    parts = _host_port(address)
    if parts is None:  # inproc://, or an address Dask reads its own way
        return
    host, port = parts
    try:
        socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        if err.errno in _NO_SUCH_NAME:
            raise _UnknownHost(host, err.strerror or str(err)) from err
    except (OSError, UnicodeError):  # anything else: Dask's connect says what it finds
        return


def _no_such_name() -> frozenset[int]:
    """The ``getaddrinfo`` errors that mean the name does not exist (not "try again")."""
    import socket

    names = ("EAI_NONAME", "EAI_NODATA", "EAI_ADDRFAMILY")
    return frozenset(getattr(socket, n) for n in names if hasattr(socket, n))


_NO_SUCH_NAME = _no_such_name()


def _why_unreachable(
    address: str, err: BaseException | None, timeout: float, probe: BaseException | None = None
) -> str:
    """Why the scheduler at ``address`` could not be reached, and what to do, from the
    connection's error and what caused it (``probe``: what :func:`_tcp_probe` met, when
    the caller asked the port already). Before 2026-12-05 (session 33) every case read
    *(OSError: Timed out trying to connect to tcp://… after 20 s)*: a port where nothing
    listens, a host name that does not exist and a host that never answers alike."""
    start = (
        "start the scheduler (`dask scheduler`, which listens on port 8786 unless given "
        "another --port and prints its address) or check the address"
    )
    if isinstance(err, _UnknownHost):
        return (
            f"the host name {err.host!r} is not known here ({err.reason}): check the host "
            "in --scheduler (the docs' tcp://scheduler:8786 stands for your scheduler's "
            "host), or give its IP address, as `dask scheduler` prints it when it starts"
        )
    causes: list[BaseException] = []
    seen = err
    while seen is not None and len(causes) < 10:
        causes.append(seen)
        seen = seen.__cause__ or seen.__context__
    parts = _host_port(address)
    where = f"port {parts[1]} of {parts[0]}" if parts is not None else address
    if probe is not None:
        causes.append(probe)
    elif parts is not None:  # Dask's last attempt may have timed out: ask the port once more
        causes.append(_tcp_probe(*parts))
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return (
            f"nothing listens on {where} (the connection was refused, tried for "
            f"{timeout:g} s): {start}"
        )
    if any(isinstance(c, OSError) and "Timed out" in str(c) for c in causes):
        return (
            f"nothing answered on {where} within {timeout:g} s (a wrong host, a firewall or "
            f"the network in between; {type(err).__name__}: {err}): {start}"
        )
    return f"{type(err).__name__}: {err}; {start}"


#: Seconds a scheduler has to answer Dask's handshake once connected, after the
#: connection's own ``connect_timeout``.
_HANDSHAKE_S = 2.0


def _open_local(dd: Any, spec: ClusterSpec) -> Iterator[Any]:
    try:
        with _worker_environ(), _workers_ignore_sigint():
            cluster = dd.LocalCluster(
                n_workers=spec.local_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # the scheduler serves its HTTP routes (health, metrics) even without a
                # dashboard, on 8787 unless told: where anything held that port (a Dask
                # scheduler's dashboard, another run's cluster) Dask printed a UserWarning
                # and its source line ("Port 8787 is already in use ... Hosting the HTTP
                # server on port N instead"). Any free port of this machine's loopback.
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                # a task that raises is listed with its reason by railwatch; Dask's worker
                # logged a 7-line "Compute Failed" report for each attempt too
                silence_logs=logging.CRITICAL,
            )
    except (OSError, TimeoutError) as err:
        raise ClusterError(f"cannot start a local Dask cluster ({err})") from err
    try:
        client = dd.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


@contextmanager
def _keep_nannies() -> Iterator[None]:
    """The local cluster keeps each worker's nanny however long its worker takes to come
    back. Dask's ``distributed.deploy.lost-worker-timeout`` (15 s) closes a nanny for
    good when the scheduler has not seen its worker again that long after a death: a
    scene that killed its worker again and again (out of memory) left the cluster with
    fewer workers, then none, and the run waited for ever."""
    dask = lazy_import("dask", "dask", "distributed processing")
    key = "distributed.deploy.lost-worker-timeout"
    with dask.config.set({key: "1 day"}):  # type: ignore[attr-defined]
        yield


@contextmanager
def _workers_ignore_sigint() -> Iterator[None]:
    """SIGINT ignored while the local cluster's processes are started, so that they
    inherit it ignored: Ctrl-C in a terminal goes to the whole process group, and each
    nanny and worker printed its KeyboardInterrupt traceback while this process stopped
    the run cleanly (the cluster is closed by this process, however the run ends). A
    Ctrl-C during those seconds of start-up is lost; outside the main thread (where
    signals cannot be set) nothing changes."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        if previous is not None:  # None: a handler not set from Python, left as it is
            signal.signal(signal.SIGINT, previous)


@contextmanager
def _worker_environ() -> Iterator[None]:
    """Dask's pre-spawn environment for the local workers, less ``MALLOC_TRIM_THRESHOLD_``:
    Dask sets it to 64 KiB to hand memory back to the OS, which makes every large array a
    task allocates and frees go through mmap/munmap and page faults; measured here, it made
    ``process_scene`` about 30 % slower. The variables the user set are left alone."""
    dask = lazy_import("dask", "dask", "distributed processing")
    key = "distributed.nanny.pre-spawn-environ"
    environ = dict(dask.config.get(key, default={}) or {})  # type: ignore[attr-defined]
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({key: environ}):  # type: ignore[attr-defined]
        yield


@contextmanager
def _client_for(spec: ClusterSpec, client: Any) -> Iterator[Any]:
    """``client`` when given (left open), else a new one for ``spec``."""
    if client is not None:
        yield client
        return
    with open_client(spec) as opened:
        yield opened


def _outcome_of_failed(future: Any, job: SceneJob) -> SceneOutcome:
    """A failed outcome for a task that raised (after its retries) or was lost, with
    what its job read the scene with (recorded only while the scene still has it)."""
    try:
        err = future.exception()
    except Exception as exc:  # the future itself could not be queried
        err = exc
    return task_failed(job.scene_id, err, job)


def _task_value(value: Any) -> Any:
    """``value`` itself, as the result of a cluster task: the detector
    (:class:`_ClusterDetector`) or a scene's car footprints (:class:`_ClusterHistory`)."""
    return value


#: The detector's task function, by the name tests replace it under.
_detector_value = _task_value


def _setup_failure(future: Any, det_future: Any) -> str | None:
    """Why a scene's task failed for a reason that is the cluster's, not the scene's
    (the workers cannot load or unpickle the detector), else None."""
    # only "error": a detector lost with its worker ("lost") is computed again, and
    # one whose workers died while computing it (KilledWorker) is submitted again
    if det_future is not None and det_future.status == "error" and not _killed_worker(det_future):
        try:
            err = det_future.exception()
        except Exception as exc:  # the future itself could not be queried
            err = exc
        return f"the Dask workers cannot load the detector ({type(err).__name__}: {err})"
    try:
        err = future.exception()
    except Exception:
        return None
    return str(err) if isinstance(err, WorkerSetupError) else None


def process_sites_distributed(
    db: Database,
    sites: Sequence[str],
    *,
    detector: Detector,
    detector_name: str | None = None,
    cluster: ClusterSpec | None = None,
    client: Any = None,
    reprocess: bool = False,
    usable_threshold: float = 0.8,
    on_progress: ProgressCallback | None = None,
    on_task: TaskCallback | None = None,
    skip_busy: bool = False,
) -> list[ProcessSummary]:
    """Process the pending scenes of ``sites`` on a Dask cluster; one summary per site,
    in the order given. Same incremental rule as :func:`railwatch.pipeline.process_site`.

    A site another run is processing stops the run (:class:`BusyError`) before any
    scene runs; with ``skip_busy`` it is left out, its summary saying why
    (``ProcessSummary.busy``), and the other sites are processed.

    ``detector`` is sent to the workers when it pickles; otherwise each worker loads
    ``detector_name`` (a :func:`~railwatch.detect.registry.get_detector` name) once.
    ``client``: an open ``distributed.Client`` to reuse (``cluster`` is then ignored).
    ``on_task`` sees each scene once as its task finishes on the cluster (called from
    Dask's callback thread: keep it quick and thread-safe); ``on_progress`` follows the
    recorded scenes. A site named twice is processed once."""
    spec = cluster or ClusterSpec()
    # each scene is one task under one key: a site given twice made every key twice,
    # and Dask cancelled the duplicates (FutureCancelledError after one scene); so did
    # one name given in both Unicode forms, NFC and NFD (session 39)
    sites = one_name_a_site(sites)
    with _hold_sites(db, sites, skip_busy) as busy:
        done = _process_sites(
            db,
            [site for site in sites if site not in busy],
            spec=spec,
            detector=detector,
            detector_name=detector_name,
            client=client,
            reprocess=reprocess,
            usable_threshold=usable_threshold,
            on_progress=on_progress,
            on_task=on_task,
        )
    summaries = {summary.site: summary for summary in done}
    for site, why in busy.items():
        summaries[site] = ProcessSummary(
            site=site, detector=detector.name, version=detector.version, busy=why
        )
    return [summaries[site] for site in sites]


@contextmanager
def _hold_sites(db: Database, sites: Sequence[str], skip_busy: bool) -> Iterator[dict[str, str]]:
    """Hold ``sites`` for the run (:func:`processing_lock`) and yield those another run
    holds, each with the refusal's message: none (it raises :class:`BusyError`) unless
    ``skip_busy``. A daily ``process --all`` stopped before any site while one of them
    was being processed elsewhere (a long ``--reprocess``, a web job): the other sites,
    hundreds, were not processed that day (before 2026-12-06, session 35)."""
    if not skip_busy:
        with processing_lock(db, sites):
            yield {}
        return
    busy: dict[str, str] = {}
    for _ in range(len(sites) + 1):  # each round finds at least one more site held
        free = [site for site in sites if site not in busy]
        with ExitStack() as stack:
            try:
                stack.enter_context(processing_lock(db, free))
            except BusyError:
                # which ones: the refusal names only the first; the others are let go
                for site in free:
                    try:
                        with processing_lock(db, [site]):
                            pass
                    except BusyError as err:
                        busy[site] = str(err)
                continue
            yield busy
            return
    with processing_lock(db, [site for site in sites if site not in busy]):
        yield busy  # taken and let go in turns meanwhile: the refusal stands


def _process_sites(
    db: Database,
    sites: Sequence[str],
    *,
    spec: ClusterSpec,
    detector: Detector,
    detector_name: str | None,
    client: Any,
    reprocess: bool,
    usable_threshold: float,
    on_progress: ProgressCallback | None,
    on_task: TaskCallback | None,
) -> list[ProcessSummary]:
    """:func:`process_sites_distributed` once its sites are held."""
    summaries: dict[str, ProcessSummary] = {}
    jobs: list[tuple[str, SceneJob]] = []
    for site in sites:
        site_jobs, skipped = pending_jobs(
            db, site, detector=detector, reprocess=reprocess, usable_threshold=usable_threshold
        )
        summary = ProcessSummary(site=site, detector=detector.name, version=detector.version)
        summary.skipped = skipped
        summary.plan(site_jobs)  # why each scene up to date is counted again
        summaries[site] = summary
        jobs.extend((site, job) for job in site_jobs)
    total = len(jobs)
    if on_progress is not None:
        on_progress(0, total, "")
    if not jobs:
        return list(summaries.values())
    # the run's first-use stamps, taken here once: each task hashed every unstamped mask
    # it read (its own and its references'), outside the run that keeps them
    stamped = with_first_use_stamps([job for _, job in jobs])
    jobs = [(site, job) for (site, _), job in zip(jobs, stamped, strict=True)]
    dd = _distributed()
    shipped = _shippable(detector, detector_name)
    done = 0
    # how a run stopped part-way goes on: a plain run takes every scene this detector
    # already counted as up to date, so a --reprocess run must be given again (it then
    # starts over: which scenes it reached is not kept)
    again = (
        "run process --reprocess again (it starts over: a plain run would take the scenes "
        "not reached as up to date)"
        if reprocess
        else "run process again"
    )
    goes_on = "" if reprocess else ", it goes on with the scenes not recorded yet"

    def record(site: str, job: SceneJob, outcome: SceneOutcome, deaths: _WorkerDeaths) -> None:
        nonlocal done
        # as recorded: a result judged with a mask taken anew meanwhile is not (failed)
        outcome = record_outcome(db, outcome, detector)
        summaries[site].add(job.scene_id, outcome)
        rerun = deaths.why(job.scene_id)
        if rerun is not None and outcome.error is None:  # a failure says why it failed
            summaries[site].retried.append((job.scene_id, rerun))
        done += 1
        if on_progress is not None:
            on_progress(done, total, site)

    if spec.scheduler is None:  # a local cluster: no more workers than scenes to run
        spec = replace(spec, workers=spec.local_workers(total))
    with _client_for(spec, client) as client:
        run = uuid.uuid4().hex[:8]  # task keys unique per run on a shared scheduler
        det = _ClusterDetector(client, shipped, run, detector)
        keys = [f"railwatch-scene-{job.scene_id}-{run}" for _, job in jobs]
        # followed before the tasks go out: a worker may die with the first of them
        deaths = _WorkerDeaths(client)
        deaths.watch({key: job.scene_id for key, (_, job) in zip(keys, jobs, strict=True)})
        history = _ClusterHistory(client, run)
        jobs = [(site, history.lean(job)) for site, job in jobs]
        futures = client.map(
            _run_with_history,
            [job for _, job in jobs],
            [history.arg(job) for _, job in jobs],
            detector=det.arg(),
            expect=det.expect,
            retries=spec.retries,
            pure=False,
            key=keys,
        )
        where = {f.key: (site, job) for f, (site, job) in zip(futures, jobs, strict=True)}
        stream = _TaskStream({k: (site, job.scene_id) for k, (site, job) in where.items()}, on_task)
        for future in futures:
            future.add_done_callback(stream.future_done)
        watch = _WorkerWatch(client, spec.no_workers_timeout)
        killed: list[str] = []
        try:
            for future in _completed(dd.as_completed(futures), watch):
                site, job = where[future.key]
                status, result = _settled(dd, future, watch)
                if status == "error" and _killed_worker(future):
                    # Dask fails every task that was on a worker when it died, not only
                    # the one that killed it: each is run again alone below
                    killed.append(future.key)
                    future.release()
                    continue
                if status == "cancelled":  # not by this run: the cluster's doing
                    raise _Cancelled(job.scene_id)
                stream.seen(future.key, status)
                if status == "finished":
                    outcome = result
                else:
                    setup = _setup_failure(future, det.future)
                    if setup is not None:  # every scene would fail so: stop, touching none
                        client.cancel(futures)
                        raise WorkerSetupError(
                            f"{setup}: install the same railwatch, with the detector's extras "
                            "and weights, on every worker, then run again; "
                            + _recorded_before(done, total)
                        )
                    outcome = _outcome_of_failed(future, job)
                record(site, job, outcome, deaths)
                future.release()
            for key in killed:  # one at a time: a scene that kills its worker fails alone
                site, job = where[key]
                deaths.watch({f"{key}-alone": job.scene_id, f"{key}-alone-1": job.scene_id})
                alone = _run_alone(
                    dd, client, job, det, history, spec.retries, f"{key}-alone", watch
                )
                status, result = _settled(dd, alone, watch)
                if status == "cancelled":
                    raise _Cancelled(job.scene_id)
                stream.seen(key, status)
                if status == "finished":
                    outcome = result
                elif status == "error" and _killed_worker(alone):
                    outcome = SceneOutcome(job.scene_id, None, error=_killed_reason(alone))
                else:
                    outcome = _outcome_of_failed(alone, job)
                record(site, job, outcome, deaths)
                alone.release()
        except LockLostError:
            # the run stops (another run may hold the site now): the scenes still queued
            # on a shared cluster are not computed for nothing
            client.cancel(futures)
            raise
        except _Cancelled as err:
            raise ClusterError(
                f"the Dask cluster cancelled the task of scene {err.scene_id}, which this run "
                f"did not ask for: {_why_cancelled(client, spec)}; {again} once the "
                f"cluster is back{goes_on}; {_recorded_before(done, total)}"
            ) from None
        except _NoWorkers as err:
            client.cancel(futures)
            raise ClusterError(
                f"the Dask cluster has had no workers for {err.seconds:g} s (they died or "
                "were stopped; a worker killed again and again is often out of memory): "
                f"start workers, or give them more memory, and {again}; "
                + _recorded_before(done, total)
            ) from None
        finally:
            deaths.close()
    return list(summaries.values())


def _recorded_before(done: int, total: int) -> str:
    """How far a run that stopped got: "3 scenes were recorded before this, the 2 others
    were left as they were" (it said "scene(s)" and "the 1 others" until session 47)."""
    left = total - done
    rest = (
        "the 1 other was left as it was"
        if left == 1
        else f"the {left} others were left as they were"
    )
    return f"{plural(done, 'scene')} {'was' if done == 1 else 'were'} recorded before this, {rest}"


class _WorkerDeaths:
    """The scenes of this run that a Dask worker had when it died unexpectedly (killed,
    out of memory, crashed), from the scheduler's ``remove-worker`` events (topic
    ``all``): Dask ran their tasks again (or computed again a result lost with it), and
    the run's summary says so (``ProcessSummary.retried``); before 2026-12-06 (session
    35) a run that lost workers said nothing of it. The scheduler sends each event on
    the stream that later brings the next attempt's result, and the client handles them
    in order: a scene's deaths are known when its result is recorded. A worker retired
    or closed on purpose (``expected``) is not a death. The handler is the client's
    for the topic while the run lasts (Dask keeps one per topic and client)."""

    TOPIC = "all"

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._scenes: dict[str, int] = {}  # task key -> scene id
        self._lost: dict[int, list[tuple[str, str]]] = {}  # scene id -> (how, worker)
        self._open = True
        client.subscribe_topic(self.TOPIC, self._event)

    def watch(self, keys: dict[str, int]) -> None:
        """Follow the task ``keys`` (to their scene ids)."""
        with self._lock:
            self._scenes.update(keys)

    def _event(self, event: Any) -> None:
        """Dask's handler for an event of the topic: ``(timestamp, message)``."""
        try:
            _, msg = event
        except (TypeError, ValueError):  # not an event of the scheduler's form
            return
        if not isinstance(msg, dict) or msg.get("action") != "remove-worker":
            return
        if msg.get("expected"):  # retired or closed on purpose
            return
        worker = str(msg.get("worker", "?"))
        with self._lock:
            if not self._open:
                return
            for how in ("processing-tasks", "lost-computed-tasks"):
                for key in msg.get(how) or ():
                    scene_id = self._scenes.get(key)
                    if scene_id is not None:
                        self._lost.setdefault(scene_id, []).append((how, worker))

    def why(self, scene_id: int) -> str | None:
        """Why the scene's task was run again (one line), or None when it was not."""
        with self._lock:
            lost = list(self._lost.get(scene_id, ()))
        if not lost:
            return None
        workers = ", ".join(dict.fromkeys(worker for _, worker in lost))
        times = f" ({len(lost)} times)" if len(lost) > 1 else ""
        if all(how == "lost-computed-tasks" for how, _ in lost):
            return (
                f"its result was lost with the Dask worker that held it ({workers}; killed, "
                f"often for want of memory, or crashed){times} before this run fetched it: "
                "Dask computed it again"
            )
        return (
            f"the Dask worker that had its task died before it finished ({workers}; "
            f"killed, often for want of memory, or crashed){times}: Dask ran it again"
        )

    def close(self) -> None:
        """Stop following: the handler ignores what comes later (Dask keeps it)."""
        with self._lock:
            self._open = False
        try:
            self._client.unsubscribe_topic(self.TOPIC)
        except Exception:  # a closed or lost client: nothing more comes anyway
            log.debug("unsubscribing from the scheduler's events failed", exc_info=True)


def _settled(dd: Any, future: Any, watch: _WorkerWatch) -> tuple[str, Any]:
    """``future``'s final status (``finished``, ``error`` or ``cancelled``) and, when
    finished, its result. A result lost with its worker before this client fetched it
    is computed again (the future is then ``lost``, then pending): waited for, watched,
    instead of being recorded as a failure (or hanging on a cluster with no workers)."""
    while True:
        if future.status == "finished":
            try:
                return "finished", future.result(timeout=_WAIT_S)
            except TimeoutError:  # still fetching, or its result lost meanwhile
                watch.check()
                continue
            except Exception:  # it failed when it was computed again: see its status
                pass
        if future.status in ("error", "cancelled"):
            return future.status, None
        try:
            dd.wait(future, timeout=_WAIT_S)
        except TimeoutError:
            watch.check()


#: Seconds of each wait on one future between checks that the cluster has workers.
_WAIT_S = 5.0


def _run_alone(
    dd: Any,
    client: Any,
    job: SceneJob,
    det: _ClusterDetector,
    history: _ClusterHistory,
    retries: int,
    key: str,
    watch: _WorkerWatch,
) -> Any:
    """The finished (or failed) future of ``job`` run with no other scene task of this
    run on the cluster. Run once more when it failed because workers died while
    computing the detector or history task it needs (submitted again then)."""
    for attempt in range(2):
        alone = client.submit(
            _run_with_history,
            job,
            history.arg(job),
            detector=det.arg(),
            expect=det.expect,
            retries=retries,
            pure=False,
            key=key if not attempt else f"{key}-{attempt}",
        )
        [alone] = _completed(dd.as_completed([alone]), watch)
        if _settled(dd, alone, watch)[0] != "error" or not _killed_worker(alone):
            break
        if getattr(alone.exception(), "task", None) == alone.key:
            break  # its own task killed the workers
        alone.release()
    return alone


def _killed_worker(future: Any) -> bool:
    """Whether ``future`` failed because workers died while it was on them (Dask's
    ``KilledWorker``, after ``distributed.scheduler.allowed-failures`` deaths)."""
    try:
        err = future.exception()
    except Exception:  # cancelled, or the future itself could not be queried
        return False
    return isinstance(err, _distributed().KilledWorker)


def _killed_reason(future: Any) -> str:
    """Why a scene run alone failed with its worker: one line, with what to do."""
    err = future.exception()
    deaths = getattr(err, "allowed_failures", 0) + 1
    return (
        f"the Dask worker process died while processing this scene, alone on the "
        f"cluster (Dask's KilledWorker: {deaths} time(s), as many as Dask allows, "
        "distributed.scheduler.allowed-failures); it usually ran out of memory (or GDAL "
        "or the detector crashed): give each worker more memory (fewer --workers per "
        "machine) and run process again, it retries failed scenes"
    )


class _ClusterDetector:
    """The detector as the scene tasks get it: its registry name, or the future of one
    task returning it. A detector object travels as the result of a task, not as
    scattered data: if the worker holding it dies, the scheduler recomputes the task,
    whereas scattered data is lost for good (and every scene task with it). A detector
    task failed because its workers died (``KilledWorker``) is submitted again."""

    def __init__(self, client: Any, shipped: Detector | str, run: str, detector: Detector) -> None:
        self._client = client
        self._shipped = shipped
        #: What a detector loaded by name on a worker must be (a shipped one is a copy).
        self.expect = (detector.name, detector.version) if isinstance(shipped, str) else None
        self._key = f"railwatch-detector-{run}"
        self._submitted = 0
        self.future: Any = None if isinstance(shipped, str) else self._submit()

    def _submit(self) -> Any:
        key = self._key if not self._submitted else f"{self._key}-{self._submitted}"
        self._submitted += 1
        return self._client.submit(_detector_value, self._shipped, key=key)

    def arg(self) -> Any:
        """The ``detector`` argument of a scene task submitted now."""
        if self.future is None:
            return self._shipped
        if self.future.status == "error" and _killed_worker(self.future):
            self.future.release()
            self.future = self._submit()
        return self.future


class _ClusterHistory:
    """The car footprints the run's jobs judge their scenes by (``SceneJob.history``),
    sent to the cluster once: each scene's that a job's history names is the result of
    one task (a result, not scattered data, as :class:`_ClusterDetector` says why), and
    each job goes without them, its task depending on those of its scenes. Before
    2026-12-06 (session 39, review r5) every job pickled its own copy of the footprints
    of its 20 scenes: 40,000 footprints made each job 4.1 MB, 1,000 jobs 4 GB through the
    scheduler at once. A history task failed because its workers died
    (``KilledWorker``) is submitted again for the jobs run after it."""

    def __init__(self, client: Any, run: str) -> None:
        self._client = client
        self._run = run
        self._parts: dict[int, tuple[Any, ...]] = {}
        self._futures: dict[int, Any] = {}
        self._submitted: dict[int, int] = {}

    def lean(self, job: SceneJob) -> SceneJob:
        """``job`` without its history's footprints, which this keeps to send."""
        lean, parts = split_history(job)
        for scene_id, footprints in parts.items():
            self._parts.setdefault(scene_id, footprints)  # the same for every job
        return lean

    def arg(self, job: SceneJob) -> list[Any]:
        """The ``history`` argument of ``job``'s task (see :func:`_run_with_history`)."""
        return [self._future(scene_id) for scene_id, _ in job.history_scenes]

    def _future(self, scene_id: int) -> Any:
        future = self._futures.get(scene_id)
        if future is not None and future.status == "error" and _killed_worker(future):
            future.release()
            future = None
        if future is None:
            n = self._submitted.get(scene_id, 0)
            self._submitted[scene_id] = n + 1
            key = f"railwatch-history-{scene_id}-{self._run}" + (f"-{n}" if n else "")
            future = self._client.submit(_task_value, self._parts[scene_id], key=key, pure=False)
            self._futures[scene_id] = future
        return future


class _Cancelled(Exception):
    """A scene's task was cancelled by the cluster (this run cancels none before it
    stops): the scheduler went away or was restarted, or another client cancelled it.
    No fault of the scene's: before session 29 each was recorded as failed, with the
    reason ``task failed: NoneType: None``."""

    def __init__(self, scene_id: int) -> None:
        super().__init__(scene_id)
        self.scene_id = scene_id


def _why_cancelled(client: Any, spec: ClusterSpec) -> str:
    """Why the cluster cancelled this run's tasks, as far as the client can tell."""
    where = f" at {spec.scheduler}" if spec.scheduler is not None else ""
    if getattr(client, "status", "running") != "running":
        return (
            f"this client lost its connection to the Dask scheduler{where} (it stopped or "
            "restarted, or the network dropped)"
        )
    return f"the Dask scheduler{where} was restarted, or another client cancelled it"


class _NoWorkers(Exception):
    """The cluster has had no workers for ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class _WorkerWatch:
    """Checks, at most once a second, that the cluster has workers; raises
    :class:`_NoWorkers` once it has had none for ``timeout`` seconds. Without it, tasks
    wait for ever on a cluster whose workers all died."""

    def __init__(self, client: Any, timeout: float) -> None:
        self._client = client
        self._timeout = timeout
        self._checked = float("-inf")
        self._none_since: float | None = None

    def check(self) -> None:
        now = time.monotonic()
        if now - self._checked < 1.0:
            return
        self._checked = now
        try:
            workers = len(self._client.nthreads())
        except (OSError, TimeoutError):  # the scheduler cannot be asked: no worker known
            workers = 0
        if workers:
            self._none_since = None
        elif self._none_since is None:
            self._none_since = now
        elif now - self._none_since >= self._timeout:
            raise _NoWorkers(self._timeout)  # at least that long: said as configured


def _completed(completed: Any, watch: _WorkerWatch) -> Iterator[Any]:
    """The futures of ``completed`` (a ``distributed.as_completed``) as they finish;
    while none is ready, ``watch`` checks that the cluster still has workers."""
    while not completed.is_empty():
        if completed.has_ready():
            yield next(completed)
            continue
        watch.check()
        with completed.thread_condition:  # notified as each future completes
            completed.thread_condition.wait(timeout=0.1)
