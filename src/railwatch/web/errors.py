"""Library exceptions to HTTP problem details (RFC 9457), in one table.

The core raises :class:`~railwatch.errors.RailwatchError` subclasses and knows
nothing of HTTP; this module is the only place that picks a status code for them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from railwatch import sites
from railwatch.errors import (
    AlreadyExistsError,
    ConfigError,
    DetectionError,
    GeometryError,
    ImageryError,
    InputError,
    MissingDependencyError,
    NoOverlapError,
    NotFoundError,
    RailwatchError,
    StorageError,
)
from railwatch.export.redact import hide_paths
from railwatch.storage.db import BusyError, is_sqlite_locked
from railwatch.web.methods import resource_methods
from railwatch.web.query import extra_member_words

__all__ = [
    "API_HINTS",
    "DATABASE_FAILED",
    "DATABASE_LOCKED",
    "PROBLEM_JSON",
    "PROBLEM_RESPONSES",
    "STATUS_FOR",
    "api_words",
    "install_error_handlers",
    "problem",
    "public_detail",
    "status_for",
]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

#: The JSON schema of every error body (RFC 9457 problem details and our members).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What is wrong and what to do."},
        "instance": {"type": "string"},
        "error": {"type": "string", "description": "The library exception's class."},
        "errors": {
            "type": "array",
            "description": "Request validation errors (422).",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}

#: The error answers of every API operation, as the OpenAPI document declares them:
#: problem details for any 4xx and 5xx (before session 22 the document declared only
#: a 422 of FastAPI's own ``application/json`` shape, which the API never sends).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "Client error (problem details): 400 unreadable body, 401/403 token, "
        "404 unknown id or name, 405 method, 409 conflict, 413 body too large, 422 invalid "
        "input.",
        "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
    },
    "5XX": {
        "description": "Server error (problem details; details in the server log).",
        "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
    },
}

#: Longest value a 422 quotes back (the rest is cut).
_SHOWN = 40

#: FastAPI's answer to a body it cannot decode (not UTF-8, say, or nested too deeply for
#: Python's JSON parser: a RecursionError).
_UNPARSED_BODY = "There was an error parsing the body"

#: The one table: most specific classes first (the first ``isinstance`` match wins).
STATUS_FOR: tuple[tuple[type[RailwatchError], int], ...] = (
    (NotFoundError, 404),
    (AlreadyExistsError, 409),
    (GeometryError, 422),
    (NoOverlapError, 422),
    (InputError, 422),
    (ConfigError, 422),
    (MissingDependencyError, 501),
    (BusyError, 409),  # another run holds the site (deleting it while it is processed)
    (StorageError, 503),
    (ImageryError, 500),
    (DetectionError, 500),
    (RailwatchError, 500),
)


def status_for(err: RailwatchError) -> int:
    """The HTTP status of a library error (see :data:`STATUS_FOR`)."""
    for cls, status in STATUS_FOR:
        if isinstance(err, cls):
            return status
    return 500


def problem(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem-details response (``application/problem+json``)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


#: What a ``503`` says of a database failure. The server's own message names the database
#: (its URL: user, host or socket, database name) and repeats the driver's words (a host,
#: a role, a file path), which the API's readers (anyone, on a server with
#: --public-reads) must not see: that message goes to the server log only.
DATABASE_LOCKED = (
    "the database is locked by another writer (another railwatch run, such as process): "
    "try again when it has finished"
)
DATABASE_FAILED = (
    "the server's database failed (the server log says why): try again later, and tell "
    "the server's operator if it goes on"
)


def public_detail(err: RailwatchError, status: int, *, paths: bool = False) -> str:
    """What the API says of ``err``. A 4xx (the client's input) is its message. A database
    failure (a ``503``) says only whether to wait for another writer
    (:data:`DATABASE_LOCKED`) or that the server failed (:data:`DATABASE_FAILED`); before
    session 26 its message, with the database's URL, was the body. Any other 5xx (an
    image that cannot be read, a detector that cannot load) is its message with every
    file path and URL cut to its file name (:func:`railwatch.export.redact.hide_paths`):
    what failed and what to do stay, the server's folders (a user's home, where the
    weights and the cache are) go to the server log only; before session 27 a 500 named
    them. ``paths`` keeps them: for a failed job's stored error, which
    :mod:`railwatch.web.routes.jobs` shows whole only to the token or a session, as a
    scene's."""
    if isinstance(err, StorageError) and status == 503:
        return DATABASE_LOCKED if is_sqlite_locked(err) else DATABASE_FAILED
    if status >= 500 and not paths:
        return hide_paths(str(err)) or HTTPStatus(status).phrase
    return str(err)


#: Where the library's "not found" messages send a CLI user, and where an API client
#: looks instead. Before 2026-12-05 (session 34) the API passed the CLI's words on, so
#: ``GET /api/events/9`` said "list them at /api/sites/SITE/events" and ``DELETE`` of the
#: same id "see `railwatch event list SITE`" (the library's message).
API_HINTS: tuple[tuple[str, str], ...] = (
    ("see `railwatch scene list SITE`", "list a site's scenes at /api/sites/SITE/scenes"),
    ("see `railwatch event list SITE`", "list a site's events at /api/sites/SITE/events"),
    ("see `railwatch alerts`", "list them at /api/alerts"),
    ("add one with `railwatch site add NAME --bbox W,S,E,N`", "add one with POST /api/sites"),
    ("more: railwatch site list)", "more: /api/sites)"),
    # a site's GeoJSON: the command line's options and Python's arguments it names
    # (2026-12-06, session 41: POST /api/sites was told --geojson FILE --tracks FILE)
    (sites.MIXED_HOW, "send it as both `geometry` and `tracks`: the site is made of its "
     "polygons, the tracks of its lines"),
    # (PATCH /api/sites/SITE takes the file whole since session 41, as site edit does)
    (sites.MIXED_ELSEWHERE_HOW, "for a site given by `bbox`, remove the polygons from "
     "`tracks`"),
    # the tracks of a stored site holding another polygon than the site's (PATCH)
    (sites.STORED_TRACKS_FILE + " holds a site polygon", "`tracks` holds a site polygon"),
    (sites.STORED_POLYGON_HOW, "remove the polygons from `tracks` to give only its lines, "
     "or add a new site for the new polygon (POST /api/sites with it as both `geometry` "
     "and `tracks`)"),
    (sites.LINES_HOW, "`tracks`, beside the site's polygon as `geometry` or its box as `bbox`"),
    ("give W,S,E,N (" + sites.POINT_HOW + ")", "give W,S,E,N as `bbox` in place of `geometry`"),
    # track lines that touch the site only with each position's numbers swapped, or not
    # at all (2026-12-06, session 41: a PATCH was told to swap them "in the tracks file")
    (sites.SWAPPED_HOW["file"], "`geometry` or `tracks` is written as lat,lon; GeoJSON "
     "(RFC 7946) gives each position as lon,lat: swap the numbers in the one that is the "
     "wrong way round and try again"),
    (sites.SWAPPED_HOW["same file"], "the polygons or the lines of the GeoJSON sent as "
     "both `geometry` and `tracks` are written as lat,lon; GeoJSON (RFC 7946) gives each "
     "position as lon,lat: swap the numbers of the ones that are the wrong way round and "
     "try again"),
    (sites.SWAPPED_HOW["bbox"], "`bbox` is given latitude first or `tracks` is written as "
     "lat,lon; `bbox` is [W,S,E,N] (lon,lat,lon,lat) and GeoJSON (RFC 7946) gives each "
     "position as lon,lat: swap the numbers in the one that is the wrong way round and "
     "try again"),
    (sites.SWAPPED_HOW["stored"], "`tracks` is written as lat,lon (or the site was); "
     "GeoJSON (RFC 7946) gives each position as lon,lat: swap the numbers of each "
     "position in `tracks` (if it is the site that is the wrong way round, a stored "
     "site's polygon cannot be changed: add the site anew under another name with POST "
     "/api/sites)"),
    (sites.APART_HOW["file"], "check that `geometry` and `tracks` describe the same place "
     "(GeoJSON is lon,lat)"),
    (sites.APART_HOW["same file"], "check that the polygons and the lines of the GeoJSON "
     "sent as both `geometry` and `tracks` describe the same place (GeoJSON is lon,lat)"),
    (sites.APART_HOW["bbox"], "check that `bbox` and `tracks` describe the same place "
     "(GeoJSON is lon,lat)"),
    (sites.APART_HOW["stored"], "check that `tracks` and the site describe the same place "
     "(GeoJSON is lon,lat)"),
    # what is wrong in it: the GeoJSON the API takes as `geometry` (2026-12-06, session
    # 41: "site GeoJSON geometry must be a Polygon or MultiPolygon, got Point")
    (sites.SITE_GEOJSON + " geometry", "`geometry`"),
    (sites.SITE_GEOJSON, "`geometry`"),
)  # fmt: skip


#: The CLI commands a 422 of the library names for a scene's review and cars, and the
#: requests that do the same through the API. Before 2026-12-06 (session 38) an API client
#: (and the dashboard, which shows the API's words beside the review's upload) was told
#: to run ``railwatch scene review 222 --count N`` or ``railwatch scene cars 12``.
API_COMMANDS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"`railwatch scene review (\d+) --count N`"),
        r'PUT /api/scenes/\1/review with {"counts": {"all": N}}',
    ),
    (
        re.compile(r"give it to `railwatch scene review (\d+)`"),
        r"send it as scene \1's review (PUT /api/scenes/\1/review)",
    ),
    (
        re.compile(r"write scene (\d+)'s with `railwatch scene cars \1`"),
        r"download scene \1's with GET /api/scenes/\1/cars",
    ),
    (re.compile(r"`railwatch scene cars (\d+)`"), r"GET /api/scenes/\1/cars"),
    (
        re.compile(r"run `railwatch process ([^`]+)` first"),
        r"process the site first (POST /api/sites/\1/jobs)",
    ),
    # a coarse scene of a site without track centrelines (its stored error, with the
    # site named or SITE: railwatch.counting.GIVE_TRACKS); the dashboard has no form for
    # them (2026-12-06, session 41: the API and the dashboard named the CLI's site edit)
    (
        re.compile(r"`railwatch site edit ([\w.\-]+) --tracks FILE`"),
        r"PATCH /api/sites/\1 with them as `tracks`",
    ),
    # a 409 of POST /api/sites for a name taken, and a 422 of a count given for a scene
    # an analyst declared unusable, an unusable scene's (2026-12-07, session 49: they
    # named `railwatch site remove`, `scene review --remove`, `process`, `scene list`)
    (
        re.compile(r"remove it first with `railwatch site remove ([^`]+) --yes`"),
        r"remove it first with DELETE /api/sites/\1 (which deletes everything stored for "
        r"it: its scenes, counts, events, alerts and reviews)",
    ),
    (
        re.compile(
            r"remove that review \(`railwatch scene review (\d+) --remove`\), run "
            r"`railwatch process ([^`]+)`, then"
        ),
        r"remove that review (DELETE /api/scenes/\1/review), process the site again "
        r"(POST /api/sites/\2/jobs), then",
    ),
    (
        re.compile(r"\(`railwatch scene list SITE`\)"),
        r"(GET /api/sites/SITE/scenes?usable=true)",
    ),
    # a site tag holding a comma (2026-12-07, session 49: the API was told `--tag a
    # --tag b on the command line`)
    (
        re.compile(
            r"give each tag on its own \(((?:--tag [^()]+?)(?: --tag [^()]+?)*) on the "
            r"command line\)"
        ),
        lambda m: (
            "give each tag on its own, as items of `tags`: "
            + json.dumps(
                [w.strip() for w in m.group(1).split("--tag ") if w.strip()], ensure_ascii=False
            )
        ),
    ),
    # a report's warnings (POST /api/sites/{site}/reports answers them; 2026-12-07,
    # session 49: they named `railwatch process`, `analyze`, `scene list` and the
    # options --since/--until)
    (
        re.compile(
            r"Run `railwatch process ([^`]+)` \(it tries the failed images again; "
            r"`railwatch scene list \1` says why they failed\)"
        ),
        r"Process the site again (POST /api/sites/\1/jobs: it tries the failed images "
        r"again; GET /api/sites/\1/scenes?status=failed says why they failed)",
    ),
    (
        re.compile(r"Run `railwatch process ([^`]+)` to count them"),
        r"Process the site to count them (POST /api/sites/\1/jobs)",
    ),
    (
        re.compile(r"Run `railwatch analyze ([^`]+)` to update them"),
        r"Analyse the site again to update them (POST /api/sites/\1/analyze)",
    ),
    (
        re.compile(r" and run `railwatch process ([^`]+)`"),
        r" and process the site again (POST /api/sites/\1/jobs)",
    ),
    (re.compile(r"check --since/--until\."), "check `since` and `until`."),
    # an event that repeats another: the library names its id alone (a 409 of POST and
    # PATCH; session 49: nothing said what to do)
    (
        re.compile(r"^(event .* already exists \(id (\d+)\))$", re.DOTALL),
        r"\1: it is /api/events/\2; change that one (PATCH /api/events/\2), or give "
        r"another date or label",
    ),
)


def api_words(detail: str) -> str:
    """``detail`` with the CLI's pointers replaced by the API's: a 404's, a 409's and a
    422's (:data:`API_HINTS`), a 422's about a scene's review or cars, a 409's about a
    site or an event that exists, and a failed scene's stored error
    (:data:`API_COMMANDS`)."""
    for cli, api in API_HINTS:
        detail = detail.replace(cli, api)
    for command, request in API_COMMANDS:
        detail = command.sub(request, detail)
    return detail


async def _railwatch_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RailwatchError):  # pragma: no cover - registered for that class
        raise exc
    status = status_for(exc)
    if status >= 500:  # the whole message (a database's URL too): for the operator only
        log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
    detail = public_detail(exc, status)
    if status in (404, 409, 422):  # 409 since session 49 (a site name taken)
        detail = api_words(detail)
    return problem(status, detail, instance=request.url.path, error=type(exc).__name__)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        raise exc
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 400 and detail == _UNPARSED_BODY:
        detail = (
            "invalid request: the body cannot be read as JSON (it is not UTF-8 text, or it "
            "nests arrays or objects too deeply); send a JSON object with Content-Type: "
            "application/json"
        )
    if exc.status_code == 404 and detail == HTTPStatus.NOT_FOUND.phrase:
        # the router's own 404 (no route matched) said only "Not Found"
        detail = (
            f"nothing at {request.url.path}: the API's endpoints are listed at /docs (and "
            "in /openapi.json), the dashboard is at /; check the address"
        )
    if exc.status_code == 405:
        # every method of the resource, not only those of the first route that matched;
        # the Allow of an OPTIONS (railwatch.web.methods, session 37)
        allowed = resource_methods(request.app, request.url.path)
        if allowed:
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        detail = f"{request.method} is not allowed here: use {(headers or {}).get('Allow', 'GET')}"
    return problem(exc.status_code, detail, instance=request.url.path, headers=headers)


#: What a ``limit`` or ``offset`` out of its bounds adds to the 422's detail.
_PAGING: dict[str, str] = {
    "limit": "; limit is how many items a page holds: page through a longer list with "
    "offset (the Link header gives the next page's URL, X-Total-Count how many there are)",
    "offset": "; offset is how many items to skip, from 0 (past the end of the list the "
    "page is empty)",
}

#: What a malformed report or job id in a path is told (2026-12-05, session 34: pydantic
#: said only "String should match pattern '^[0-9a-f]{32}$'")
HEX_IDS: dict[str, str] = {
    "report_id": "a report id is the 32 hex digits (0-9, a-f) of the `id` that "
    "POST /api/sites/{site}/reports answered; the reports are listed at /api/reports",
    "job_id": "a job id is the 32 hex digits (0-9, a-f) of the `id` that "
    "POST /api/sites/{site}/jobs answered; the jobs are listed at /api/jobs",
}


def without_null_branch(raw: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors of a request with the ``null`` branch of a member's union left
    out, and the other branches' names cut from the members' ``loc``.

    A member of a change that may be left out but not sent as ``null`` (a site's
    ``description`` or ``tags``, an event's ``date``, ``label`` or ``description``:
    :func:`railwatch.web.bodies.not_null`) is a union of its type and ``None`` for its
    default; pydantic reports a wrong value against each branch, so ``{"date": 5}`` was
    ``body.date.function-before[_json_date(), date]: ...`` followed by ``body.date.none:
    Input should be None``, a hint to send the ``null`` that is refused (before
    2026-12-06, session 38). A ``none`` branch's error is dropped only beside another
    branch's error of the same member; a lone one is kept."""
    errors = [dict(e) for e in raw]
    nulls = {
        tuple(e.get("loc", ()))[:-1]
        for e in errors
        if e.get("type") == "none_required" and tuple(e.get("loc", ()))[-1:] == ("none",)
    }
    out: list[dict[str, Any]] = []
    for e in errors:
        loc = tuple(e.get("loc", ()))
        for member in nulls:
            # another branch's error of a member whose union has a `none` branch
            branches = [
                o
                for o in errors
                if tuple(o.get("loc", ()))[: len(member)] == member
                and len(tuple(o.get("loc", ()))) > len(member)
                and o.get("type") != "none_required"
            ]
            if not branches or loc[: len(member)] != member or len(loc) <= len(member):
                continue
            if e.get("type") == "none_required" and loc == (*member, "none"):
                loc = ()  # dropped below
            else:
                loc = member + loc[len(member) + 1 :]
            break
        if loc or not e.get("loc"):
            out.append({**e, "loc": loc})
    return out


#: What a body member of the wrong JSON type is told to send, by pydantic's error type
#: (2026-12-07, session 49: ``{"bbox": "130,42,131,43"}`` said only "Input should be a
#: valid list", ``{"geometry": "POLYGON(...)"}`` "Input should be a valid dictionary",
#: and a body that is an array "... or object to extract fields from").
_JSON_TYPES: dict[str, str] = {
    "list_type": "a JSON array",
    "tuple_type": "a JSON array",
    "dict_type": "a JSON object",
    "model_type": "a JSON object",
    "model_attributes_type": "a JSON object",
    "string_type": "a JSON string",
}

#: What those members hold, where the words above are not enough.
_MEMBER_SHAPES: dict[str, str] = {
    "bbox": "[W, S, E, N], four numbers in degrees",
    "geometry": "GeoJSON in WGS84 lon/lat: a Polygon or MultiPolygon, a Feature or a "
    "FeatureCollection; text such as WKT is not read",
    "tracks": "GeoJSON of the track centrelines in WGS84 lon/lat; text such as WKT is not read",
    "cars": "a GeoJSON FeatureCollection",
    "tags": 'a list of strings, ["a", "b"]',
}


def _json_type(value: Any) -> str:
    """The JSON name of a value's type, as a client wrote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _type_words(raw: dict[str, Any], loc: Sequence[str]) -> str:
    """What to add to a body's type error: the JSON type to send and the one sent, and
    what the member holds (:data:`_MEMBER_SHAPES`); empty for other errors."""
    want = _JSON_TYPES.get(str(raw.get("type")))
    if want is None or not loc or loc[0] != "body":
        return ""
    shape = _MEMBER_SHAPES.get(loc[-1], "") if len(loc) == 2 else ""
    return f"; send {want} here{f' ({shape})' if shape else ''}, not {_json_type(raw.get('input'))}"


def _words(error: dict[str, Any]) -> str:
    """An error's message without pydantic's ``Value error, `` before the words of the
    API's own checks (``body.date: '2023-02-30' is no date: ...``; before 2026-12-06,
    session 38: ``body.date: Value error, '2023-02-30' is no date: ...``)."""
    msg = str(error.get("msg", ""))
    return msg.removeprefix("Value error, ") if error.get("type") == "value_error" else msg


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    raws = without_null_branch(exc.errors())
    errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": _words(e)} for e in raws]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"])
    detail = f"invalid request: {where}: {first['msg']}"
    raw = raws[0] if raws else {}
    if raw.get("type") == "json_invalid":  # was 'body.1: JSON decode error'
        at = first["loc"][1] if len(first["loc"]) > 1 else "?"
        reason = (raw.get("ctx") or {}).get("error", "")
        detail = f"invalid request: the body is not valid JSON (at character {at}: {reason})"
    elif first["loc"] == ["body"] and "json" not in request.headers.get("content-type", ""):
        detail += "; send a JSON object with Content-Type: application/json"
    elif type_words := _type_words(raw, first["loc"]):
        detail += type_words
    elif (
        raw.get("type") == "string_pattern_mismatch"
        and len(first["loc"]) == 2
        and first["loc"][0] == "path"
        and first["loc"][1] in HEX_IDS
    ):
        given = str(raw.get("input", ""))
        shown = given if len(given) <= _SHOWN else given[:_SHOWN] + "..."
        detail = f"invalid request: {where}: {shown!r} is no id here: {HEX_IDS[first['loc'][1]]}"
    elif (
        raw.get("type") == "extra_forbidden"
        and len(first["loc"]) == 2
        and first["loc"][0] == "body"
    ):
        words = extra_member_words(request, first["loc"][1])
        if words is not None:
            detail = f"invalid request: {where}: {words}"
    elif first["loc"] == ["body"] and raw.get("type") == "missing":
        # an empty body (a PATCH or POST sent without one) said only "Field required"
        # (2026-12-06, session 36)
        detail = (
            "invalid request: the request has no body: send a JSON object with "
            "Content-Type: application/json (its members are listed at /docs)"
        )
    elif (
        len(first["loc"]) == 2
        and first["loc"][0] == "query"
        and first["loc"][1] in _PAGING
        and raw.get("type") in ("less_than_equal", "greater_than_equal")
    ):
        # ?limit=5000 said only "less than or equal to 1000", not how to read the rest
        # (2026-12-06, session 36)
        detail += _PAGING[first["loc"][1]]
    elif raw.get("type") == "bool_parsing":
        # a query's true/false (?usable=maybe): pydantic's words said what was wrong, not
        # what to write (before 2026-12-05, session 33)
        given = str(raw.get("input", ""))
        shown = given if len(given) <= _SHOWN else given[:_SHOWN] + "..."
        detail += f"; write true or false (or 1 or 0), not {shown!r}"
    return problem(422, detail, instance=request.url.path, errors=errors)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        500,
        "internal error: see the server log",
        instance=request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem-details handlers on ``app``."""
    app.add_exception_handler(RailwatchError, _railwatch_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
