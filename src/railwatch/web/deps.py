"""Shared FastAPI dependencies: the database, access checks, pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from railwatch.storage import Database
from railwatch.web.pagination import PageParams, page_params

__all__ = ["DB", "Paging", "get_db"]


def get_db(request: Request) -> Database:
    """The application's database (endpoints open their own sessions, so a write is
    committed before its response is sent)."""
    db = request.app.state.db
    if not isinstance(db, Database):  # pragma: no cover - set by create_app
        raise RuntimeError("app.state.db is not a Database")
    return db


DB = Annotated[Database, Depends(get_db)]
Paging = Annotated[PageParams, Depends(page_params)]
