"""Shared FastAPI dependencies: the database, access checks, pagination."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from railwatch.storage import Database
from railwatch.web.jobs import JobManager
from railwatch.web.pagination import PageParams, page_params

__all__ = ["DB", "Jobs", "Paging", "get_db", "get_jobs", "read_session"]

#: Isolation of the API's reads on PostgreSQL: one snapshot for the whole answer.
READ_ISOLATION = "REPEATABLE READ"


def get_db(request: Request) -> Database:
    """The application's database (endpoints open their own sessions, so a write is
    committed before its response is sent)."""
    db = request.app.state.db
    if not isinstance(db, Database):  # pragma: no cover - set by create_app
        raise RuntimeError("app.state.db is not a Database")
    return db


@contextmanager
def read_session(db: Database) -> Iterator[Session]:
    """A read-only session whose statements all see the database as it was at the
    first one, so that an answer made of several statements (a scene, then its
    detections; a site, its scenes, their counts) never mixes states while
    ``railwatch process`` or ``analyze`` commits beside the server.

    SQLite's deferred read transaction is such a snapshot already (WAL); PostgreSQL's
    default, READ COMMITTED, gives each statement its own, so there the transaction is
    REPEATABLE READ (a re-counted scene read as 18 detections matched and none
    returned; before session 24)."""
    with db.session(readonly=True) as s:
        if db.engine.dialect.name == "postgresql":
            s.connection(execution_options={"isolation_level": READ_ISOLATION})
        yield s


def get_jobs(request: Request) -> JobManager:
    """The application's background jobs."""
    manager = request.app.state.jobs
    if not isinstance(manager, JobManager):  # pragma: no cover - set by create_app
        raise RuntimeError("app.state.jobs is not a JobManager")
    return manager


DB = Annotated[Database, Depends(get_db)]
Jobs = Annotated[JobManager, Depends(get_jobs)]
Paging = Annotated[PageParams, Depends(page_params)]
