"""API routers, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from railwatch.web.bodies import unique_members
from railwatch.web.query import known_query
from railwatch.web.routes import (
    alerts,
    counts,
    detections,
    events,
    jobs,
    reports,
    reviews,
    scenes,
    session,
    sites,
    tiles,
)

__all__ = ["api_router"]


def api_router() -> APIRouter:
    """Every resource router under ``/api``; a query parameter an endpoint does not
    take is a 422 (:func:`railwatch.web.query.known_query`; it was passed over), as is
    a JSON body giving a member twice (:func:`railwatch.web.bodies.unique_members`)."""
    router = APIRouter(prefix="/api", dependencies=[Depends(known_query), Depends(unique_members)])
    for module in (
        sites,
        scenes,
        reviews,
        detections,
        counts,
        alerts,
        events,
        reports,
        jobs,
        tiles,
        session,
    ):
        router.include_router(module.router)
    return router
