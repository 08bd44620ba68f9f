"""The FastAPI application: REST API under ``/api``, dashboard under ``/``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib.resources import files
from os import PathLike
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from railwatch import __version__
from railwatch.errors import checked_settings
from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web import schemas
from railwatch.web.apidocs import declare_headers, render_api_docs
from railwatch.web.errors import PROBLEM_RESPONSES, install_error_handlers
from railwatch.web.fonts import router as fonts_router
from railwatch.web.jobs import DetectorFactory, JobManager
from railwatch.web.methods import AnswerOptions, HeadAsGet
from railwatch.web.redirects import RelativeRedirects
from railwatch.web.routes import api_router
from railwatch.web.security import (
    DEFAULT_MAX_BODY,
    AccessPolicy,
    ApiCacheControl,
    BodySizeLimit,
    SessionStore,
    TrustedHosts,
)

__all__ = ["DASHBOARD_CACHE_CONTROL", "create_app", "static_dir"]

#: The dashboard's pages, scripts and styles are revalidated at each use (their ETag and
#: Last-Modified: a bodiless 304 while unchanged). Without it a browser kept them by its
#: own rule (a tenth of their age, days for a package's files) and ran the old script
#: against a server upgraded under it (before session 24).
DASHBOARD_CACHE_CONTROL = "no-cache"


class _RevalidatedFiles(StaticFiles):
    """Static files sent with ``Cache-Control: no-cache`` (see above)."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = DASHBOARD_CACHE_CONTROL
        return response


def dashboard_style_js() -> str:
    """``/style.js``: ``const RW_STYLE = {...}``, the report's colours
    (:mod:`railwatch.report.style`) per class, for classes without one, of the stretches of
    track read as occupied and of an analyst's outlines."""
    import json

    from railwatch.report import style

    palette = {
        "classes": dict(style.CLASS_COLOURS),
        "other": style.OTHER_COLOUR,
        "occupied": style.OCCUPIED_COLOUR,
        "analyst": style.ANALYST_COLOUR,
        "length": style.LENGTH_COLOUR,
    }
    return f"const RW_STYLE = Object.freeze({json.dumps(palette, sort_keys=True)});\n"


def static_dir() -> Path:
    """Folder of the dashboard's HTML, JS, CSS and vendored Leaflet."""
    return Path(str(files("railwatch.web") / "static"))


def _settings_from_environment() -> Settings:
    """:class:`Settings` read from the ``RAILWATCH_*`` variables now; a value they refuse
    is a :class:`ConfigError` with one line per variable (its name as set, its value,
    what it must be, "fix or unset it"), not pydantic's ValidationError."""
    return checked_settings()


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    *,
    open_reads: bool = True,
    max_body: int = DEFAULT_MAX_BODY,
    report_dir: Path | None = None,
    detector_factory: DetectorFactory | None = None,
    allowed_hosts: Sequence[str] | None = None,
) -> FastAPI:
    """Build the application.

    ``settings`` default to the environment (``RAILWATCH_*``); ``db`` to the database
    they name. Writes need ``settings.api_token``; reads need it too unless
    ``open_reads`` (the default, for a server on a loopback address). Reports are
    written under ``report_dir`` (default ``settings.cache_dir / "reports"``).
    ``allowed_hosts`` restricts the ``Host`` header (``railwatch serve`` on loopback
    passes the loopback names, so a web page cannot read the API by DNS rebinding).
    """
    cfg = settings if settings is not None else _settings_from_environment()
    database = db if db is not None else Database.from_settings(cfg)
    token = cfg.api_token.get_secret_value() if cfg.api_token is not None else None
    jobs = JobManager(
        database, detector_factory=detector_factory, usable_threshold=cfg.usable_threshold
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.wait(cancel_queued=True)  # finish the running job, drop the queued ones

    app = FastAPI(
        title="railwatch",
        version=__version__,
        description=(
            "Railcar counts, scenes, detections, alerts and events of monitored rail yards. "
            "Reads are open on localhost; every write needs `Authorization: Bearer <token>` "
            "(the dashboard signs in once at `/api/session` and sends its session cookie). "
            # what a script needs before its first request, said where it reads first (the
            # top of /docs and of /openapi.json; 2026-12-05, session 34: only docs/web.md
            # said it)
            "Lists take `limit` and `offset` and answer `{items, total, limit, offset}` "
            "(detections: GeoJSON with `numberMatched`), with `X-Total-Count` and a `Link` "
            "header (first, prev, next, last). A query parameter or body member an "
            "endpoint does not take is a 422, as is a query parameter of one value given "
            "twice (`Prefer: handling=lenient` has such query parameters passed over); "
            "of the lists only the alerts' take a date filter (`since`, `until`): pick "
            "the others' items by `day`. "
            "Times (`when`, `acquired_at`) are UTC; `day` is the local day at the site "
            "(its nominal zone, `local_zone`), the day alerts name. Every error is "
            "`application/problem+json` whose `detail` says what is wrong and what to do. "
            # a served API's reader cannot open a path of the source tree: /docs said "The
            # whole guide: docs/web.md" (2026-12-06, session 38)
            "This page (`/docs`) and `/openapi.json` are the reference this server serves; "
            "the whole guide (security, paging, errors, the dashboard) is `docs/web.md` in "
            "railwatch's documentation, a file of its source distribution, not served here."
        ),
        lifespan=lifespan,
        # Swagger UI and ReDoc load their scripts from a CDN: off, so the server works
        # offline; the OpenAPI document is at /openapi.json and /docs renders it as a
        # plain page (railwatch.web.apidocs).
        docs_url=None,
        redoc_url=None,
    )
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        """The OpenAPI document with the headers the API sends (paging, Location)."""
        if app.openapi_schema is None:
            app.openapi_schema = declare_headers(default_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.db = database
    app.state.settings = cfg
    app.state.access = AccessPolicy(token=token or None, open_reads=open_reads)
    app.state.sessions = SessionStore()  # the dashboard's sign-ins (routes.session)
    app.state.jobs = jobs
    app.state.report_dir = (report_dir or (cfg.cache_dir / "reports")).resolve()
    install_error_handlers(app)
    app.include_router(api_router(), responses=PROBLEM_RESPONSES)
    app.add_middleware(BodySizeLimit, max_bytes=max_body)
    app.add_middleware(ApiCacheControl)  # the API's answers stored by no cache
    app.add_middleware(HeadAsGet)  # HEAD answered as GET, without the body
    app.add_middleware(AnswerOptions)  # OPTIONS: 204 with the resource's methods in Allow
    # the trailing-slash redirect's Location relative: no http:// behind a TLS proxy
    app.add_middleware(RelativeRedirects)
    if allowed_hosts:
        app.add_middleware(TrustedHosts, allowed_hosts=list(allowed_hosts))

    static = static_dir()
    app.mount("/static", _RevalidatedFiles(directory=static), name="static")
    app.include_router(fonts_router)  # the CJK font app.css names (railwatch.web.fonts)
    page_headers = {"Cache-Control": DASHBOARD_CACHE_CONTROL}

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(static / "index.html", media_type="text/html", headers=page_headers)

    @app.get("/sites/{site}", include_in_schema=False)
    def site_page(site: Annotated[str, PathParam(max_length=64)]) -> FileResponse:
        return FileResponse(static / "site.html", media_type="text/html", headers=page_headers)

    @app.get("/style.js", include_in_schema=False)
    def style_js() -> Response:
        """The colours the report draws with (``report.style``), for the dashboard's
        script: one palette, so a class, an occupied stretch or an analyst's outline looks
        the same in a report and on the map (until 2026-12-07, session 45, the dashboard
        had a palette of its own: pink was a car of unsure type in a report and a
        container on the map)."""
        return Response(
            dashboard_style_js(),
            media_type="text/javascript",
            headers={"Cache-Control": DASHBOARD_CACHE_CONTROL},
        )

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(render_api_docs(app.openapi()))

    # its errors declared as every other route's (2026-12-07, session 50: it declared
    # none, though a POST gets a 405 problem as any route's wrong method does)
    @app.get(
        "/api/health",
        tags=["meta"],
        summary="Liveness",
        response_model=schemas.Health,
        responses=PROBLEM_RESPONSES,
    )
    def health() -> dict[str, str]:
        """``{"status": "ok"}`` and the version."""
        return {"status": "ok", "version": __version__}

    return app
