"""HTTP methods: ``HEAD`` answered like ``GET`` without a body, and the ``Allow``
header of a 405 listing every method of the resource.

FastAPI routes declared with ``@router.get`` answer only ``GET``, so ``curl -I`` and
uptime monitors got a 405 for every page and endpoint (RFC 9110 asks every resource
that answers GET to answer HEAD). And a 405 named only the methods of the first route
whose path matched (``Allow: GET`` for ``PUT /api/sites``, which also takes ``POST``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.routing import compile_path

__all__ = ["HeadAsGet", "allowed_methods"]

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
