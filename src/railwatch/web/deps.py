"""Shared FastAPI dependencies: the database, access checks, pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from railwatch.storage import Database
from railwatch.web.jobs import JobManager
from railwatch.web.pagination import PageParams, page_params

__all__ = ["DB", "Jobs", "Paging", "get_db", "get_jobs"]


def get_db(request: Request) -> Database:
    """The application's database (endpoints open their own sessions, so a write is
    committed before its response is sent)."""
    db = request.app.state.db
    if not isinstance(db, Database):  # pragma: no cover - set by create_app
        raise RuntimeError("app.state.db is not a Database")
    return db


def get_jobs(request: Request) -> JobManager:
    """The application's background jobs."""
    manager = request.app.state.jobs
    if not isinstance(manager, JobManager):  # pragma: no cover - set by create_app
        raise RuntimeError("app.state.jobs is not a JobManager")
    return manager


DB = Annotated[Database, Depends(get_db)]
Jobs = Annotated[JobManager, Depends(get_jobs)]
Paging = Annotated[PageParams, Depends(page_params)]
