"""HTTP methods: ``HEAD`` answered like ``GET`` without a body, ``OPTIONS`` answered
with the methods of the resource, and the ``Allow`` header of a 405 listing them too.

FastAPI routes declared with ``@router.get`` answer only ``GET``, so ``curl -I`` and
uptime monitors got a 405 for every page and endpoint (RFC 9110 asks every resource
that answers GET to answer HEAD). And a 405 named only the methods of the first route
whose path matched (``Allow: GET`` for ``PUT /api/sites``, which also takes ``POST``).

``OPTIONS`` was itself such a 405. Since 2026-12-06 (session 37) it is a ``204`` whose
``Allow`` is :func:`resource_methods` (RFC 9110 section 9.3.7), the header a 405 of the
same path sends; a path of no resource stays a 404. The app serves no other origin
(no CORS setting: its pages come from itself), so a browser's CORS preflight gets the
same answer, with no ``Access-Control-Allow-*`` header: the browser then refuses the
cross-origin request, as before. The OpenAPI document declares no ``options``
operation (schemathesis, as most tools, takes ``HEAD`` and ``OPTIONS`` for the
framework's own).
"""

from __future__ import annotations

import re
import stat
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

from starlette.responses import Response
from starlette.routing import Match, Mount, compile_path
from starlette.staticfiles import StaticFiles

__all__ = ["AnswerOptions", "HeadAsGet", "allowed_methods", "resource_methods"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class HeadAsGet:
    """ASGI middleware: a ``HEAD`` request runs as ``GET`` and its answer is sent with
    the same status and headers (``Content-Length`` included) and no body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def headless(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.body":
                if ended:
                    return
                if message.get("more_body", False):
                    return  # the body's parts are dropped; the end is sent once
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headless)


def _api_paths(spec: dict[str, Any]) -> list[tuple[re.Pattern[str], set[str]]]:
    out = []
    for path, item in (spec.get("paths") or {}).items():
        methods = {m.upper() for m in item if m in _HTTP_METHODS}
        if "GET" in methods:
            methods.add("HEAD")
        out.append((compile_path(path)[0], methods))
    return out


def allowed_methods(spec: dict[str, Any], path: str) -> list[str]:
    """Every method the OpenAPI document ``spec`` declares for a path that matches
    ``path`` (``HEAD`` wherever ``GET`` is), sorted; empty when none matches."""
    methods: set[str] = set()
    for pattern, declared in _api_paths(spec):
        if pattern.match(path):
            methods |= declared
    return sorted(methods)


#: The methods a route may take, asked of each route in turn (HEAD and OPTIONS follow).
_ROUTED = ("GET", "POST", "PUT", "PATCH", "DELETE")


def resource_methods(app: Any, path: str) -> list[str]:
    """Every method ``app`` (a Starlette or FastAPI app) answers at ``path``: each one
    some route takes there (asked of the routes themselves, as the router does; a
    static mount answers ``GET``), ``HEAD`` wherever ``GET`` is (:class:`HeadAsGet`)
    and ``OPTIONS`` wherever any is (:class:`AnswerOptions`), sorted; empty when no
    route matches (a 404)."""
    methods: set[str] = set()
    for route in getattr(app, "routes", ()):
        if isinstance(route, Mount):
            if isinstance(route.app, StaticFiles) and _static_file(route, path):
                methods.add("GET")
            continue
        for method in _ROUTED:
            scope = {"type": "http", "path": path, "root_path": "", "method": method}
            if method not in methods and route.matches(scope)[0] == Match.FULL:
                methods.add(method)
    if "GET" in methods:
        methods.add("HEAD")
    if methods:
        methods.add("OPTIONS")
    return sorted(methods)


def _static_file(mount: Mount, path: str) -> bool:
    """Whether the static files of ``mount`` hold a file at ``path`` (what a ``GET``
    answers 200): a missing file, or a folder, is a 404 to ``GET`` and so to ``OPTIONS``
    (it answered 204 for any path under the mount until session 37's review)."""
    scope: dict[str, Any] = {"type": "http", "path": path, "root_path": "", "method": "GET"}
    match, child = mount.matches(scope)
    if match != Match.FULL:
        return False
    files = mount.app
    assert isinstance(files, StaticFiles)
    try:
        _, found = files.lookup_path(files.get_path({**scope, **child}))
    except (OSError, ValueError):  # a name the file system refuses
        return False
    return found is not None and stat.S_ISREG(found.st_mode)


def _route_path(scope: Scope) -> str:
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


class AnswerOptions:
    """ASGI middleware: an ``OPTIONS`` request of a resource is answered ``204`` with
    its methods in ``Allow`` (:func:`resource_methods`); of no resource, as the app
    answers a ``GET`` there (a 404). Runs inside the app, whose routes it reads
    (``scope["app"]``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "OPTIONS":
            await self.app(scope, receive, send)
            return
        methods = resource_methods(scope.get("app"), _route_path(scope))
        if not methods:
            # no resource: the app's answer to a GET there (a 404; the static files
            # answer any other method of a missing file with a 405)
            await self.app({**scope, "method": "GET"}, receive, send)
            return
        response = Response(status_code=204, headers={"Allow": ", ".join(methods)})
        await response(cast(Any, scope), cast(Any, receive), cast(Any, send))
