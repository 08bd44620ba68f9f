"""Access control and request limits.

* Reads are open when the server listens on a loopback address (``open_reads``);
  otherwise they need the token too.
* Every write (POST, PUT, PATCH, DELETE) needs ``Authorization: Bearer <token>``
  equal to ``RAILWATCH_API_TOKEN``: 401 without a token, 403 with a wrong one
  (and 403 when the server has no token configured: writes are then disabled).
* Request bodies are limited (:class:`BodySizeLimit`, 413 beyond the limit).
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import ipaddress
import json
import re
import socket
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from railwatch.errors import ConfigError, InputError

__all__ = [
    "DEFAULT_MAX_BODY",
    "AccessPolicy",
    "BodySizeLimit",
    "TrustedHosts",
    "check_listen_address",
    "check_serve_host",
    "is_loopback",
    "require_read",
    "require_write",
]

#: Default request body limit in bytes (1 MiB).
DEFAULT_MAX_BODY = 1_048_576

_bearer = HTTPBearer(auto_error=False, description="RAILWATCH_API_TOKEN")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def send_problem(
    scope: Scope, send: Send, status: int, title: str, detail: str, *, close: bool = False
) -> None:
    """Answer at the ASGI level (below FastAPI's error handlers) with an RFC 9457
    problem+json document, as every other error of the API is answered."""
    body = json.dumps(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": scope.get("path", ""),
        }
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class AccessPolicy:
    """Who may read and write: the token (None = writes disabled), open reads or not."""

    token: str | None
    open_reads: bool = True

    def token_matches(self, given: str) -> bool:
        """Constant-time comparison with the configured token."""
        return self.token is not None and hmac.compare_digest(
            given.encode("utf-8"), self.token.encode("utf-8")
        )


def is_loopback(host: str) -> bool:
    """True for loopback addresses and ``localhost``."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _check_host_syntax(host: str) -> str:
    """``host`` without IPv6 brackets, if it is an IP address or a DNS host name."""
    name = host.strip()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return name
    labels = name.rstrip(".").split(".")
    if name and all(label.isdigit() for label in labels):
        raise InputError(
            f"--host {host} is not an IPv4 address: it has four numbers of 0-255 "
            "(e.g. 127.0.0.1, or 0.0.0.0 for every interface)"
        )
    if not name or len(name) > 253 or not all(_HOST_LABEL.fullmatch(x) for x in labels):
        raise InputError(
            f"--host {host!r} is not an IP address or a host name: give an address such as "
            "127.0.0.1 (this machine only) or 0.0.0.0 (every interface), or a name such as "
            "localhost (no scheme, port or path)"
        )
    return name


def check_listen_address(host: str, port: int) -> str:
    """Check that ``railwatch serve`` can listen on ``host``:``port`` before it starts:
    a bad address is an :class:`InputError`, an address that cannot be bound now (not
    this machine's, port in use or privileged) a :class:`ConfigError`; one line each,
    instead of uvicorn's log line and exit status 3 (or a traceback). Returns the address
    to give uvicorn (an IPv6 address without its brackets)."""
    name = _check_host_syntax(host)
    if not 1 <= port <= 65535:
        raise InputError(f"--port {port} is not a TCP port: use 1-65535, e.g. 8000")
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as err:
        raise ConfigError(
            f"cannot listen on {host}: the name does not resolve ({err}); give an IP address "
            "such as 127.0.0.1 or 0.0.0.0"
        ) from err
    unavailable: ConfigError | None = None
    bound = 0
    for family, kind, proto, _canon, address in infos:
        # as asyncio's create_server (uvicorn) binds: SO_REUSEADDR, IPv6 only on v6, and
        # an address family the machine lacks (EADDRNOTAVAIL) skipped while another binds
        try:
            made = socket.socket(family, kind, proto)
        except OSError:  # a family this machine does not have: asyncio skips it too
            continue
        with made as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as err:
                problem = ConfigError(_bind_error(host, port, str(address[0]), err))
                if err.errno != errno.EADDRNOTAVAIL:
                    raise problem from err
                unavailable = problem
            else:
                bound += 1
    if not bound:
        raise unavailable or ConfigError(
            f"cannot listen on {host}:{port}: this machine has no network of the kind "
            f"{host} is; use 127.0.0.1 or 0.0.0.0"
        )
    return name


def _bind_error(host: str, port: int, address: str, err: OSError) -> str:
    where = f"{host}:{port}" if address == host else f"{host}:{port} ({address})"
    if err.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {where}: the port is already in use (another railwatch serve?); "
            "stop that server or give another --port"
        )
    if err.errno == errno.EADDRNOTAVAIL:
        return (
            f"cannot listen on {where}: {address} is not an address of this machine; use "
            "127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of its addresses"
        )
    if err.errno in (errno.EACCES, errno.EPERM):
        return (
            f"cannot listen on {where}: ports below 1024 need administrator rights; use a "
            "higher --port such as 8000 (behind a reverse proxy for port 80 or 443)"
        )
    return f"cannot listen on {where}: {err.strerror or err}"


def check_serve_host(host: str, token: str | None) -> None:
    """Refuse to serve on a non-loopback address without a token."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"refusing to listen on {host} without a token: set RAILWATCH_API_TOKEN "
            "(a long random string) or listen on 127.0.0.1"
        )


def _policy(request: Request) -> AccessPolicy:
    policy = request.app.state.access
    if not isinstance(policy, AccessPolicy):  # pragma: no cover - set by create_app
        raise RuntimeError("app.state.access is not an AccessPolicy")
    return policy


def _check(policy: AccessPolicy, creds: HTTPAuthorizationCredentials | None) -> None:
    if creds is None or not creds.credentials:
        raise HTTPException(
            401,
            "this request needs the header 'Authorization: Bearer <RAILWATCH_API_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if policy.token is None:
        raise HTTPException(
            403, "writes are disabled: start the server with RAILWATCH_API_TOKEN set"
        )
    if not policy.token_matches(creds.credentials):
        raise HTTPException(403, "the bearer token is wrong")


async def require_write(request: Request) -> None:
    """Dependency of every write endpoint."""
    _check(_policy(request), await _bearer(request))


async def require_read(request: Request) -> None:
    """Dependency of every read endpoint (open on loopback by default)."""
    policy = _policy(request)
    if policy.open_reads:
        return
    _check(policy, await _bearer(request))


class BodySizeLimit:
    """ASGI middleware: reject request bodies larger than ``max_bytes`` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.max_bytes:
                    await self._reject(scope, send)
                    return
        received = 0
        too_big = False

        async def limited() -> Message:
            nonlocal received, too_big
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_big = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if not too_big:  # once over the limit, the app's own answer is replaced
                await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, limited, guarded_send)
        if too_big:
            await self._reject(scope, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        await send_problem(
            scope,
            send,
            413,
            "Content Too Large",
            f"request body is larger than {self.max_bytes} bytes",
            close=True,
        )


class _BodyTooLarge(Exception):
    pass


class TrustedHosts:
    """ASGI middleware: answer only requests whose ``Host`` is one of ``allowed_hosts``
    (DNS rebinding); any other is a 400 problem-details document like every error
    (Starlette's ``TrustedHostMiddleware``, which decides here, answers text/plain)."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        self.app = app
        self.allowed = tuple(allowed_hosts)
        # Starlette's host parsing and matching (ports, IPv6 brackets, *.domain), with
        # an inner app that only records that the host was accepted
        self._check = TrustedHostMiddleware(_accept, allowed_hosts=self.allowed, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        probe: Scope = {**scope, _ACCEPTED: False}

        async def discard(_message: Message) -> None:
            return None

        await self._check(probe, receive, discard)
        if probe[_ACCEPTED]:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        host = next((v for k, v in scope.get("headers", ()) if k == b"host"), b"")
        shown = host.decode("latin-1")[:100]
        await send_problem(
            scope,
            send,
            400,
            "Bad Request",
            f"invalid Host header {shown!r}: this server answers only requests for "
            f"{', '.join(self.allowed)} (protection against DNS rebinding): use "
            "one of these names in the URL",
        )


_ACCEPTED = "railwatch.host_accepted"


async def _accept(scope: Scope, _receive: Receive, _send: Send) -> None:
    scope[_ACCEPTED] = True
