"""Access control and request limits.

* Reads are open when the server listens on a loopback address (``open_reads``);
  otherwise they need the token too.
* Every write (POST, PUT, PATCH, DELETE) needs ``Authorization: Bearer <token>``
  equal to ``RAILWATCH_API_TOKEN``: 401 without a token, 403 with a wrong one
  (and 403 when the server has no token configured: writes are then disabled).
* The dashboard signs in instead (``POST /api/session`` with the token, once): the
  server answers with a random session id in an ``HttpOnly``, ``SameSite=Strict``
  cookie (``Secure`` over https), kept server-side (:class:`SessionStore`). The
  cookie stands for the token on reads (map tiles included: an ``<img>`` cannot send
  a header) and on writes whose ``Origin`` is this server (:func:`same_origin`; with
  SameSite=Strict, the defence against cross-site request forgery). The raw token
  never travels in a URL or a cookie.
* Request bodies are limited (:class:`BodySizeLimit`, 413 beyond the limit).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from railwatch.errors import ConfigError, InputError

__all__ = [
    "API_CACHE_CONTROL",
    "DEFAULT_MAX_BODY",
    "SESSION_SECONDS",
    "AccessPolicy",
    "ApiCacheControl",
    "BodySizeLimit",
    "SessionStore",
    "TrustedHosts",
    "check_listen_address",
    "check_serve_host",
    "clear_session_cookie",
    "is_authenticated",
    "is_loopback",
    "require_read",
    "require_write",
    "same_origin",
    "session_cookie_name",
    "session_of",
    "set_session_cookie",
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


#: How long a dashboard session lasts after sign-in (12 hours), in seconds.
SESSION_SECONDS = 12 * 3600
#: Sessions kept at most (the oldest is dropped beyond it).
MAX_SESSIONS = 1000


class SessionStore:
    """Dashboard sessions, in the server's memory: a session id is 32 random bytes
    (URL-safe text) handed to the browser in a cookie; only its SHA-256 is kept, with
    its expiry. A restart forgets every session (sign in again). ``clock`` is
    :func:`time.monotonic` (tests pass their own)."""

    def __init__(
        self,
        lifetime_s: float = SESSION_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self.lifetime_s = lifetime_s
        self._clock = clock
        self._max = max_sessions
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(session_id: str) -> str:
        return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()

    def create(self) -> str:
        """A new session id, valid for :attr:`lifetime_s`."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._prune(now)
            while len(self._expiry) >= self._max:  # dicts keep insertion order
                del self._expiry[next(iter(self._expiry))]
            self._expiry[self._key(session_id)] = now + self.lifetime_s
        return session_id

    def valid(self, session_id: str | None) -> bool:
        """True for a session id this server handed out, not expired nor ended."""
        if not session_id:
            return False
        key = self._key(session_id)
        with self._lock:
            expiry = self._expiry.get(key)
            if expiry is None:
                return False
            if self._clock() >= expiry:
                del self._expiry[key]
                return False
        return True

    def end(self, session_id: str | None) -> None:
        """End a session (sign-out); nothing happens for an unknown id."""
        if session_id:
            with self._lock:
                self._expiry.pop(self._key(session_id), None)

    def _prune(self, now: float) -> None:
        for key in [k for k, t in self._expiry.items() if now >= t]:
            del self._expiry[key]


def session_cookie_name(request: Request) -> str:
    """The session cookie's name: ``railwatch_session_PORT``, PORT being where this
    server listens (cookies are not kept per port: two servers on one host would
    otherwise overwrite each other's sign-in)."""
    server = request.scope.get("server")
    port = server[1] if server and len(server) > 1 and server[1] else 0
    return f"railwatch_session_{port}"


def _sessions(request: Request) -> SessionStore | None:
    store = getattr(request.app.state, "sessions", None)
    return store if isinstance(store, SessionStore) else None


def session_of(request: Request) -> str | None:
    """The request's session id when it is a valid one, else None."""
    store = _sessions(request)
    sid = request.cookies.get(session_cookie_name(request))
    return sid if store is not None and store.valid(sid) else None


def _is_https(request: Request) -> bool:
    # X-Forwarded-Proto from a TLS proxy in front: trusting it can only make the cookie
    # stricter (a Secure cookie is never sent over plain http)
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    """Give the browser its session id: HttpOnly (no script reads it), SameSite=Strict
    (never sent by another site's page), Secure over https, for the whole server."""
    store = _sessions(request)
    response.set_cookie(
        session_cookie_name(request),
        session_id,
        max_age=int(store.lifetime_s if store is not None else SESSION_SECONDS),
        path="/",
        secure=_is_https(request),
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    """Tell the browser to forget its session cookie."""
    response.delete_cookie(
        session_cookie_name(request),
        path="/",
        secure=_is_https(request),
        httponly=True,
        samesite="strict",
    )


_DEFAULT_PORT = {"http": "80", "https": "443"}


def _netloc(scheme: str, netloc: str) -> str:
    netloc = netloc.strip().lower()
    default = _DEFAULT_PORT.get(scheme.lower())
    if default and netloc.endswith(":" + default):
        netloc = netloc[: -len(default) - 1]
    return netloc


def same_origin(request: Request) -> bool | None:
    """Whether the request's ``Origin`` is this server (its ``Host``, or the
    ``X-Forwarded-Host`` of a reverse proxy that rewrites ``Host``): None when the
    request has no ``Origin`` (browsers send one with every POST, PATCH and DELETE).
    Another site's page cannot set ``X-Forwarded-Host``: a custom header on a
    cross-origin request needs a CORS preflight, which this server never grants."""
    origin = request.headers.get("origin")
    if origin is None:
        return None
    parts = urlsplit(origin.strip())
    if not parts.scheme or not parts.netloc:  # "null" (sandboxed page, file://)
        return False
    mine = _netloc(parts.scheme, parts.netloc)
    hosts = [request.headers.get("host", "")]
    forwarded = request.headers.get("x-forwarded-host")
    if forwarded:
        hosts.append(forwarded.split(",")[0])
    return any(mine == _netloc(parts.scheme, host) for host in hosts if host)


def is_authenticated(request: Request) -> bool:
    """True when the request carries the right bearer token or a valid session cookie
    (whether or not reads are open): such a reader sees the server's file paths."""
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() == "bearer" and given.strip():
        return _policy(request).token_matches(given.strip())
    return session_of(request) is not None


def _policy(request: Request) -> AccessPolicy:
    policy = request.app.state.access
    if not isinstance(policy, AccessPolicy):  # pragma: no cover - set by create_app
        raise RuntimeError("app.state.access is not an AccessPolicy")
    return policy


#: A write to a server started without a token (whatever the request carries).
WRITES_DISABLED = "writes are disabled: start the server with RAILWATCH_API_TOKEN set"


def _check(policy: AccessPolicy, creds: HTTPAuthorizationCredentials | None) -> None:
    if creds is None or not creds.credentials:
        raise HTTPException(
            401,
            "this request needs the header 'Authorization: Bearer <RAILWATCH_API_TOKEN>' "
            "(in a browser: sign in on the dashboard with that token)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if policy.token is None:
        raise HTTPException(403, WRITES_DISABLED)
    if not policy.token_matches(creds.credentials):
        # it said only "the bearer token is wrong" (before 2026-12-05, session 33)
        raise HTTPException(
            403,
            "the bearer token is wrong: send 'Authorization: Bearer <RAILWATCH_API_TOKEN>' "
            "with the RAILWATCH_API_TOKEN in the environment of `railwatch serve`",
        )


def _has_bearer(creds: HTTPAuthorizationCredentials | None) -> bool:
    return creds is not None and bool(creds.credentials)


async def require_write(request: Request) -> None:
    """Dependency of every write endpoint: the bearer token, or the dashboard's session
    cookie on a request whose ``Origin`` is this server."""
    policy = _policy(request)
    if policy.token is None:
        # no token to send: a write without credentials was a 401 asking for the header
        # 'Authorization: Bearer <RAILWATCH_API_TOKEN>' (before session 45), and the
        # dashboard said "sign in with the API token first"
        raise HTTPException(403, WRITES_DISABLED)
    creds = await _bearer(request)
    if not _has_bearer(creds) and session_of(request) is not None:
        if same_origin(request):
            return
        raise HTTPException(
            403,
            "a write signed in by the dashboard's session cookie must come from this "
            "server's own pages (its Origin header is missing or another site's); "
            "scripts send 'Authorization: Bearer <RAILWATCH_API_TOKEN>'",
        )
    _check(policy, creds)


async def require_read(request: Request) -> None:
    """Dependency of every read endpoint (open on loopback by default): the bearer
    token or the dashboard's session cookie."""
    policy = _policy(request)
    if policy.open_reads:
        return
    creds = await _bearer(request)
    if not _has_bearer(creds) and session_of(request) is not None:
        return
    _check(policy, creds)


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
            f"the request body is larger than this server's limit of {self.max_bytes} bytes "
            f"({self.max_bytes / 2**20:.1f} MiB): send less (fewer or simpler GeoJSON "
            "features, one request per part), or start the server with a higher "
            "`railwatch serve --max-body BYTES`",
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


#: What the API's answers tell caches: stored nowhere, where an answer says nothing of
#: its own (a tile, a report's download and the font keep theirs: ``private, no-cache``
#: with an ``ETag``); an answer with an ``ETag`` and no word gets ``private, no-cache``.
API_CACHE_CONTROL = "no-store"


class ApiCacheControl:
    """ASGI middleware: ``Cache-Control`` on every answer under ``/api/`` that has none.

    The API's JSON, GeoJSON and CSV answers said nothing to caches (2026-12-06, session
    38): a reverse proxy set to cache the app's answers (nginx's ``proxy_cache`` with a
    ``proxy_cache_valid``) stored the reads of a signed-in session, keyed by URL, not by
    cookie, and handed them to anyone; a browser was free to keep a site's alerts and
    scene paths on disk. Now they are ``no-store``; an answer with an ``ETag`` of its
    own (a report's download) is ``private, no-cache``, revalidated with a ``304``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                from starlette.datastructures import MutableHeaders

                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = (
                        "private, no-cache" if "etag" in headers else API_CACHE_CONTROL
                    )
            await send(message)

        await self.app(scope, receive, sending)
