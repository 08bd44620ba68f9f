"""API routers, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

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
    """Every resource router under ``/api``."""
    router = APIRouter(prefix="/api")
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
