"""Background jobs: process a site's pending scenes, then re-run its analysis.

Jobs run one at a time on a worker thread (processing is CPU-bound and the
pipeline writes each scene in its own transaction); their progress is read from
:class:`JobManager` snapshots.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from railwatch.detect.base import Detector
from railwatch.errors import AlreadyExistsError, NotFoundError, RailwatchError
from railwatch.export.redact import file_name
from railwatch.storage import Database
from railwatch.storage.db import BusyError

__all__ = ["Job", "JobManager"]

log = logging.getLogger(__name__)

DetectorFactory = Callable[[], Detector]

_ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class Job:
    """A snapshot of one job."""

    id: str
    site: str
    reprocess: bool
    status: str = "queued"  # queued | running | succeeded | failed
    done: int = 0
    total: int = 0
    current: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    result: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form. ``current`` is the scene's file name only
        (:func:`railwatch.export.redact.file_name`): no folder, and no query string of a
        signed URL, which cutting at the last ``/`` left to every reader (a STAC
        asset's ``?X-Amz-Signature=...`` or SAS token; a Windows path whole)."""
        return {
            "id": self.id,
            "site": self.site,
            "kind": "process",
            "reprocess": self.reprocess,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "progress": (
                1.0
                if self.status == "succeeded"
                else (self.done / self.total)
                if self.total
                else None
            ),
            "current": file_name(self.current) or "",
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "error": self.error,
            "result": self.result,
        }


class JobManager:
    """Runs processing jobs on one worker thread and keeps their state in memory."""

    def __init__(
        self,
        db: Database,
        *,
        detector_factory: DetectorFactory | None = None,
        usable_threshold: float = 0.8,
    ) -> None:
        self._db = db
        self._detector_factory = detector_factory
        self._threshold = usable_threshold
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="railwatch-job")

    def start(self, site: str, *, reprocess: bool = False) -> Job:
        """Queue processing of ``site`` (409 when a job for it is already queued or running)."""
        with self._lock:
            for job in self._jobs.values():
                if job.site == site and job.status in ("queued", "running"):
                    raise AlreadyExistsError(
                        f"job {job.id} is already {job.status} for site {site!r}: "
                        f"follow it at /api/jobs/{job.id}"
                    )
            job = Job(id=uuid.uuid4().hex, site=site, reprocess=reprocess)
            self._jobs[job.id] = job
        self._pool.submit(self._run, job.id)
        return job

    def active(self, site: str) -> Job | None:
        """The job queued or running for ``site``, if any."""
        with self._lock:
            return next(
                (j for j in self._jobs.values() if j.site == site and j.status in _ACTIVE), None
            )

    def require_idle(self, site: str, then: str) -> None:
        """Refuse (409, :class:`~railwatch.storage.db.BusyError`) a change to ``site``
        while a job of this server processes it, saying to wait for the job and ``then``
        do it. The error a run of another process holding the site gives (2026-12-07,
        session 49: this one said ``AlreadyExistsError``, the name of a duplicate, so a
        client had to know two names for one conflict)."""
        job = self.active(site)
        if job is not None:
            raise BusyError(
                f"site {site!r} is being processed by job {job.id} ({job.status}): wait until "
                f"it ends (/api/jobs/{job.id}), then {then}"
            )

    def get(self, job_id: str) -> Job:
        """The current state of a job."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            # jobs live in the server's memory: a restart forgets them (2026-12-05,
            # session 34: the 404 did not say so, and a script polling a job across a
            # restart could not tell a wrong id from a forgotten one)
            raise NotFoundError(
                f"no job with id {job_id!r}: list them at /api/jobs; jobs are kept in the "
                "server's memory, so a restart of the server forgets them (what a finished "
                "job did is in the database: the site's scenes and alerts)"
            )
        return job

    def list(self) -> list[Job]:
        """Every job of this server run, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created_at, reverse=True)

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)

    def _run(self, job_id: str) -> None:
        from railwatch.analysis.store import analyze_and_store
        from railwatch.counting import needs_tracks
        from railwatch.pipeline import process_site

        with self._lock:
            job = self._jobs[job_id]
            if job.status != "queued":  # cancelled while it waited
                return
            self._jobs[job_id] = replace(job, status="running", started_at=datetime.now(UTC))

        def progress(done: int, total: int, uri: str) -> None:
            self._update(job_id, done=done, total=total, current=uri)

        try:
            detector = self._detector_factory() if self._detector_factory else None
            summary = process_site(
                self._db,
                job.site,
                detector=detector,
                reprocess=job.reprocess,
                usable_threshold=self._threshold,
                on_progress=progress,
            )
            # judged as of now: a site silent since its last image gets a quality alert;
            # computed outside any write transaction, stored in one short one (session 35)
            analysis = analyze_and_store(self._db, job.site, as_of=datetime.now(UTC))
            result = {
                "detector": summary.detector,
                "version": summary.version,
                "processed": len(summary.processed),
                "unusable": len(summary.unusable),
                "failed": len(summary.failed),
                # of them, those not counted for want of the site's track centrelines (as
                # `railwatch process` says; session 40)
                "needs_tracks": sum(1 for _, why in summary.failed if needs_tracks(why)),
                "skipped": summary.skipped,
                # scenes up to date counted again because a reference their result was
                # read with changed or was removed (as `railwatch process` says; session 31)
                "recounted": len(summary.recounted),
                # counted car by car with intervals that rest on an assumed spread of
                # the detector's recall (as `railwatch process` says; session 51)
                "interval_spread_assumed": len(summary.spread_assumed),
                "alerts": len(analysis.alerts),
                # what the analysis did, as POST /api/sites/{site}/analyze answers it:
                # `reopened` are acknowledged alerts raised again at a higher severity
                # (acknowledged no longer; before session 29 a job did not say so)
                "created": analysis.created,
                "unchanged": analysis.unchanged,
                "updated": analysis.updated,
                "removed": analysis.removed,
                "retired": analysis.retired,
                "reopened": analysis.reopened,
                # acknowledged alerts that say something else now at the same or a lower
                # severity: still acknowledged, marked metrics["changed_since_ack"]
                "changed_since_ack": analysis.changed_since_ack,
            }
            self._update(job_id, status="succeeded", finished_at=datetime.now(UTC), result=result)
        except RailwatchError as err:
            from railwatch.web.errors import public_detail, status_for

            status = status_for(err)
            if status >= 500:  # the whole message (a database's URL too): the operator's only
                log.error("job %s for %s failed: %s", job_id, job.site, err)
            # file paths kept: routes.jobs cuts them for readers without the token
            error = public_detail(err, status, paths=True)
            self._update(job_id, status="failed", finished_at=datetime.now(UTC), error=error)
        except Exception as err:  # a job must always end with a state, never vanish
            log.exception("job %s for %s crashed", job_id, job.site)
            self._update(
                job_id,
                status="failed",
                finished_at=datetime.now(UTC),
                error=f"internal error ({type(err).__name__}): see the server log",
            )

    def wait(self, *, cancel_queued: bool = False) -> None:
        """Stop accepting jobs and wait for the running one (server shutdown, tests).

        With ``cancel_queued`` the jobs still waiting for their turn are dropped and
        marked failed (a stopping server does not work through its queue)."""
        if cancel_queued:
            now = datetime.now(UTC)
            with self._lock:
                for job_id, job in self._jobs.items():
                    if job.status == "queued":
                        self._jobs[job_id] = replace(
                            job,
                            status="failed",
                            finished_at=now,
                            error="the server stopped before this job started: start it again",
                        )
        self._pool.shutdown(wait=True, cancel_futures=cancel_queued)
