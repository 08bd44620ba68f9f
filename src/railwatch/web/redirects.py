"""Redirects to the app itself with a relative ``Location`` (no scheme, no host).

Starlette's router answers a path with (or without) the trailing slash of a route with
a ``307`` to the other spelling (``redirect_slashes``), and writes its ``Location`` as
an absolute URL made of the request's scheme and ``Host``: ``http://...`` for a
request that came over https to a TLS-terminating reverse proxy, which hands the app
plain http. ``railwatch serve`` runs uvicorn with ``proxy_headers=False`` (it trusts
no ``X-Forwarded-*`` header for the scheme), so a browser behind such a proxy was sent
to ``http://`` (a downgrade, or a page that does not load where only https is open).

:class:`RelativeRedirects` rewrites the ``Location`` of every redirect (3xx) whose URL
is on the request's own scheme and host into an absolute-path reference
(``/api/sites?limit=2``), which a client resolves against the URL it asked for, https
included (RFC 9110 section 10.2.2). Since 2026-12-06, session 38. A target path that
would read as a network-path reference (``//host/...``: the request
``GET //evil.example/`` redirected to ``//evil.example``) keeps its absolute URL, so
the rewrite never makes a redirect to another host.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import URL

__all__ = ["RelativeRedirects", "relative_location"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def relative_location(location: str, own: URL) -> str:
    """``location`` as an absolute-path reference where it is a URL of ``own``'s scheme
    and host (``http://h:8000/api/sites?x=1`` → ``/api/sites?x=1``); else as it is."""
    parts = urlsplit(location)
    if not parts.scheme or not parts.netloc:
        return location  # already relative
    if parts.scheme.lower() != own.scheme.lower() or parts.netloc.lower() != own.netloc.lower():
        return location  # another server's: not ours to change
    path = parts.path or "/"
    if path.startswith("//") or path.startswith("/\\"):
        return location  # would read as another host's URL
    return urlunsplit(("", "", path, parts.query, parts.fragment))


class RelativeRedirects:
    """ASGI middleware: a redirect's ``Location`` on the app's own host made relative
    (:func:`relative_location`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                own = URL(scope=scope)
                headers = [
                    (k, relative_location(v.decode("latin-1"), own).encode("latin-1"))
                    if k.lower() == b"location"
                    else (k, v)
                    for k, v in message.get("headers", [])
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, relative)
