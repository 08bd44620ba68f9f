"""Jobs: start processing a site in the background; status and progress. Also a
synchronous re-analysis of a site's stored counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from railwatch.export.redact import hide_paths
from railwatch.storage import repo
from railwatch.web import schemas
from railwatch.web.bodies import JsonBool
from railwatch.web.deps import DB, Paging, read_session
from railwatch.web.jobs import JobManager
from railwatch.web.pagination import paginate, window
from railwatch.web.routes.sites import SiteName
from railwatch.web.schemas import Page
from railwatch.web.security import is_authenticated, require_read, require_write

router = APIRouter(tags=["jobs"])

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Job id.")]


class JobIn(BaseModel):
    """Options of a processing job."""

    model_config = ConfigDict(extra="forbid")

    reprocess: JsonBool = Field(
        default=False, description="Process already processed scenes again (true or false)."
    )


class AnalyzeIn(BaseModel):
    """The body of a re-analysis: none, or an empty object (it takes no options; a
    field sent is refused with a 422 naming it, as every other endpoint refuses fields
    it does not know, where before session 33 any body was ignored)."""

    model_config = ConfigDict(extra="forbid")


def _shown(job: Any, request: Request) -> dict[str, Any]:
    """A job as this reader may see it: a failed job's error with its file paths and
    URLs cut to file names unless the request carries the token or a session (as the
    scenes' paths: ``routes.scenes``)."""
    out: dict[str, Any] = job.as_dict()
    if not is_authenticated(request):
        out["error"] = hide_paths(out.get("error"))
    return out


def _jobs(request: Request) -> JobManager:
    manager = request.app.state.jobs
    if not isinstance(manager, JobManager):  # pragma: no cover - set by create_app
        raise RuntimeError("app.state.jobs is not a JobManager")
    return manager


@router.post(
    "/sites/{site}/jobs",
    status_code=202,
    dependencies=[Depends(require_write)],
    summary="Start processing a site",
    response_model=schemas.Job,
    response_model_exclude_unset=True,
)
def start_job(
    site: SiteName, request: Request, response: Response, db: DB, body: JobIn | None = None
) -> dict[str, Any]:
    """Queue processing of the site's pending scenes (then its analysis); poll the job."""
    with read_session(db) as s:
        name = repo.get_site(s, site).name
    job = _jobs(request).start(name, reprocess=bool(body and body.reprocess))
    response.headers["Location"] = f"/api/jobs/{job.id}"
    return job.as_dict()


@router.get(
    "/jobs",
    dependencies=[Depends(require_read)],
    summary="List jobs",
    response_model=Page[schemas.Job],
    response_model_exclude_unset=True,
)
def list_jobs(request: Request, response: Response, page: Paging) -> dict[str, Any]:
    """Jobs of this server run, newest first."""
    jobs = _jobs(request).list()
    items = [_shown(j, request) for j in window(jobs, page)]
    return paginate(request, response, items, len(jobs), page).envelope()


@router.get(
    "/jobs/{job_id}",
    dependencies=[Depends(require_read)],
    summary="Job status",
    response_model=schemas.Job,
    response_model_exclude_unset=True,
)
def get_job(job_id: JobId, request: Request) -> dict[str, Any]:
    """Status, progress (done/total, current scene) and result of a job: what it
    processed and what its analysis did to the alerts (as ``analyze`` answers)."""
    return _shown(_jobs(request).get(job_id), request)


@router.post(
    "/sites/{site}/analyze",
    dependencies=[Depends(require_write)],
    summary="Re-run the analysis of a site",
    response_model=schemas.AnalyzeResult,
    response_model_exclude_unset=True,
)
def analyze(site: SiteName, db: DB, body: AnalyzeIn | None = None) -> dict[str, Any]:
    """Rebuild the site's alerts from its stored counts and events, as of now
    (idempotent for the same day; acknowledgements are kept). The counts are those
    ``railwatch analyze`` prints: ``created``, ``unchanged``, ``updated``, ``removed``,
    ``retired`` (acknowledged alerts no longer raised) and ``reopened`` (acknowledged
    alerts raised again at a higher severity: acknowledged no longer, their notes kept;
    before session 29 the API did not say so) and ``changed_since_ack`` (acknowledged
    alerts that say something else now at the same or a lower severity: still
    acknowledged, marked ``metrics["changed_since_ack"]`` with what was acknowledged;
    since session 30)."""
    from railwatch.analysis.store import analyze_and_store

    # computed outside any write transaction, stored in one short one (session 35: the
    # whole analysis held SQLite's write lock, and processing and acks waited for it)
    result = analyze_and_store(db, site, as_of=datetime.now(UTC))
    return {
        "site": result.site,
        "alerts": len(result.alerts),
        "points": result.points,
        "usable": result.usable,
        "created": result.created,
        "unchanged": result.unchanged,
        "updated": result.updated,
        "removed": result.removed,
        "retired": result.retired,
        "reopened": result.reopened,
        "changed_since_ack": result.changed_since_ack,
    }
