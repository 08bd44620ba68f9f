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

Without ``scheduler`` a local cluster is started (one single-threaded worker
process per CPU core unless ``workers`` says otherwise) and stopped afterwards.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from railwatch.detect.base import Detector
from railwatch.errors import ConfigError, RailwatchError, lazy_import
from railwatch.pipeline import (
    ProcessSummary,
    SceneJob,
    SceneOutcome,
    pending_jobs,
    process_scene,
    processing_lock,
    record_outcome,
)
from railwatch.storage import Database

__all__ = [
    "ClusterError",
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
        """Dask done-callback: report ``future`` unless already reported."""
        try:
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


@dataclass(frozen=True)
class ClusterSpec:
    """Where tasks run: ``scheduler`` (``tcp://HOST:PORT`` of a running cluster), or a
    local cluster of ``workers`` single-threaded processes (CPU count when None).
    ``retries``: extra attempts of a task that raised."""

    workers: int | None = None
    scheduler: str | None = None
    retries: int = 2

    def __post_init__(self) -> None:
        if self.workers is not None and self.scheduler is not None:
            raise ConfigError("pass either --workers or --scheduler, not both")
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {self.workers}")
        if self.retries < 0:
            raise ConfigError(f"retries must be 0 or more, got {self.retries}")
        if self.scheduler is not None and "://" not in self.scheduler:
            raise ConfigError(
                f"--scheduler {self.scheduler!r} is not an address: use tcp://HOST:PORT"
            )

    def local_workers(self) -> int:
        """Worker processes of the local cluster."""
        return self.workers if self.workers is not None else max(1, os.cpu_count() or 1)


def run_scene_task(job: SceneJob, detector: Detector | str) -> SceneOutcome:
    """The task body: :func:`process_scene` on a worker (module-level, so it pickles).
    ``detector`` is a detector object, or a registry name loaded once per worker."""
    if isinstance(detector, str):
        try:
            det = _worker_detector(detector)
        except Exception as err:  # any import or load error: the worker's, not the scene's
            raise WorkerSetupError(
                f"a Dask worker cannot load detector {detector!r} ({type(err).__name__}: {err})"
            ) from err
    else:
        det = detector
    return process_scene(job, det)


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


def _open(dd: Any, spec: ClusterSpec) -> Iterator[Any]:
    if spec.scheduler is not None:
        try:
            client = dd.Client(spec.scheduler, timeout="20s")
        except (OSError, TimeoutError) as err:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {spec.scheduler} ({err}): "
                "start it with `dask scheduler` or check the address"
            ) from err
        try:
            yield client
        finally:
            client.close()
        return
    try:
        with _worker_environ(), _workers_ignore_sigint():
            cluster = dd.LocalCluster(
                n_workers=spec.local_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
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


def _outcome_of_failed(future: Any, scene_id: int) -> SceneOutcome:
    """A failed outcome for a task that raised (after its retries) or was lost."""
    try:
        err = future.exception()
    except Exception as exc:  # the future itself could not be queried
        err = exc
    return SceneOutcome(scene_id, None, error=f"task failed: {type(err).__name__}: {err}")


def _detector_value(detector: Any) -> Any:
    """The detector itself, as the result of a cluster task (see its use)."""
    return detector


def _setup_failure(future: Any, det_future: Any) -> str | None:
    """Why a scene's task failed for a reason that is the cluster's, not the scene's
    (the workers cannot load or unpickle the detector), else None."""
    # only "error": a detector lost with its worker ("lost") is computed again
    if det_future is not None and det_future.status == "error":
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
) -> list[ProcessSummary]:
    """Process the pending scenes of ``sites`` on a Dask cluster; one summary per site,
    in the order given. Same incremental rule as :func:`railwatch.pipeline.process_site`.

    ``detector`` is sent to the workers when it pickles; otherwise each worker loads
    ``detector_name`` (a :func:`~railwatch.detect.registry.get_detector` name) once.
    ``client``: an open ``distributed.Client`` to reuse (``cluster`` is then ignored).
    ``on_task`` sees each scene once as its task finishes on the cluster (called from
    Dask's callback thread: keep it quick and thread-safe); ``on_progress`` follows the
    recorded scenes. A site named twice is processed once."""
    spec = cluster or ClusterSpec()
    # each scene is one task under one key: a site given twice made every key twice,
    # and Dask cancelled the duplicates (FutureCancelledError after one scene)
    sites = list(dict.fromkeys(sites))
    with processing_lock(db, sites):
        return _process_sites(
            db,
            sites,
            spec=spec,
            detector=detector,
            detector_name=detector_name,
            client=client,
            reprocess=reprocess,
            usable_threshold=usable_threshold,
            on_progress=on_progress,
            on_task=on_task,
        )


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
        summaries[site] = summary
        jobs.extend((site, job) for job in site_jobs)
    total = len(jobs)
    if on_progress is not None:
        on_progress(0, total, "")
    if not jobs:
        return list(summaries.values())
    dd = _distributed()
    shipped = _shippable(detector, detector_name)
    with _client_for(spec, client) as client:
        run = uuid.uuid4().hex[:8]  # task keys unique per run on a shared scheduler
        # A detector object travels as the result of one task, not as scattered data: if
        # the worker holding it dies, the scheduler recomputes the task, whereas
        # scattered data is lost for good (and every scene task with it).
        det_future = (
            None
            if isinstance(shipped, str)
            else client.submit(_detector_value, shipped, key=f"railwatch-detector-{run}")
        )
        det_arg = shipped if det_future is None else det_future
        futures = client.map(
            run_scene_task,
            [job for _, job in jobs],
            detector=det_arg,
            retries=spec.retries,
            pure=False,
            key=[f"railwatch-scene-{job.scene_id}-{run}" for _, job in jobs],
        )
        where = {f.key: (site, job) for f, (site, job) in zip(futures, jobs, strict=True)}
        stream = _TaskStream({k: (site, job.scene_id) for k, (site, job) in where.items()}, on_task)
        for future in futures:
            future.add_done_callback(stream.future_done)
        for done, future in enumerate(dd.as_completed(futures), start=1):
            site, job = where[future.key]
            stream.seen(future.key, future.status)
            if future.status == "finished":
                outcome = future.result()
            else:
                setup = _setup_failure(future, det_future)
                if setup is not None:  # every scene would fail so: stop, touching none
                    client.cancel(futures)
                    recorded = sum(s.total for s in summaries.values())
                    raise WorkerSetupError(
                        f"{setup}: install the same railwatch, with the detector's extras "
                        "and weights, on every worker, then run again; "
                        f"{recorded} scene(s) were recorded before this, the "
                        f"{total - recorded} others were left as they were"
                    )
                outcome = _outcome_of_failed(future, job.scene_id)
            record_outcome(db, outcome, detector)
            summaries[site].add(job.scene_id, outcome)
            future.release()
            if on_progress is not None:
                on_progress(done, total, site)
    return list(summaries.values())
