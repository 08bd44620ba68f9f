"""Query parameters an endpoint does not take are refused, not passed over.

Before 2026-12-05 (session 34) FastAPI passed over any query parameter an endpoint did
not declare: a script asking ``/api/sites/tumangang/alerts?since=2024-01-01`` (or
``?kind=record``, ``?severity=high``, ``?class=tank``) got a ``200`` with all 90 alerts
of the demo, as if they were the ones asked for (the alert lists take ``since``,
``until``, ``kind``, ``class`` and ``min_severity`` since session 35), and
``/api/alerts?site_name=x`` every site's. Request bodies were strict already
(``railwatch.web.bodies``: a member the body does not take is a ``422``); a query is now
too: a ``422`` that names each parameter the endpoint does not take and lists those it
does, as its OpenAPI operation declares them
(the document is the one place they are listed, so the two cannot differ). A client
that adds parameters of its own (a cache-buster) sends ``Prefer: handling=lenient``
(RFC 7240) to have them passed over as before (since the same session's review).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from railwatch.web.security import require_read, require_write

__all__ = [
    "ANY_QUERY",
    "DATE_HINT",
    "LENIENT",
    "body_members",
    "extra_member_words",
    "known_query",
    "lenient",
    "list_names",
    "operation_path",
    "query_names",
]

#: What a client asking a list for dates is told: only the alert lists filter by date
#: (``since`` and ``until``, since 2026-12-06, session 35).
DATE_HINT = (
    "this endpoint has no date filter (the alert lists, /api/alerts and "
    "/api/sites/{site}/alerts, take since and until): page through the list (limit, "
    "offset) and pick by each item's `day`"
)

#: Operations that take any query: map tiles, whose URL template map clients may give
#: a cache-buster or key of their own (``?v=2``); a tile has no filter to pass over.
ANY_QUERY: frozenset[str] = frozenset({"/api/scenes/{scene_id}/tiles/{z}/{x}/{y}.png"})

#: Longest parameter name echoed back (the rest is cut).
_SHOWN = 40

#: RFC 7240's preference with which a client asks for a query parameter an endpoint
#: does not take to be passed over, as before session 34 (``Prefer: handling=lenient``;
#: 2026-12-05, session 34: strictness had no way out for a client that adds a parameter
#: of its own, such as jQuery's ``_`` cache-buster).
LENIENT = "handling=lenient"


def lenient(request: Request) -> bool:
    """Whether the request's ``Prefer`` header asks for ``handling=lenient`` (RFC 7240
    section 4.4; the preference's name and value are case-insensitive, its parameters
    after ``;`` ignored, several preferences separated by commas; the first ``handling``
    counts)."""
    for header in request.headers.getlist("prefer"):
        for preference in header.split(","):
            token = preference.split(";", 1)[0].strip().lower().replace(" ", "")
            name, _, value = token.partition("=")
            if name == "handling":
                return value.strip('"') == "lenient"
    return False


def query_names(spec: dict[str, Any], path: str, method: str) -> frozenset[str] | None:
    """The query parameters the OpenAPI document ``spec`` declares for the operation
    ``method`` (lower case) of ``path`` (its template, ``/api/sites/{site}/alerts``);
    None when the document has no such operation (nothing is then refused)."""
    operation = spec.get("paths", {}).get(path, {}).get(method)
    if not isinstance(operation, dict):
        return None
    return frozenset(
        str(p["name"])
        for p in operation.get("parameters", [])
        if isinstance(p, dict) and p.get("in") == "query" and "name" in p
    )


def list_names(spec: dict[str, Any], path: str, method: str) -> frozenset[str]:
    """The query parameters of the operation ``method`` of ``path`` in ``spec`` that take
    several values (their schema an array, or an array or null: a detections list's
    ``class``); the others take one."""
    operation = spec.get("paths", {}).get(path, {}).get(method)
    if not isinstance(operation, dict):
        return frozenset()
    out: set[str] = set()
    for p in operation.get("parameters", []):
        if not isinstance(p, dict) or p.get("in") != "query" or "name" not in p:
            continue
        schema = p.get("schema")
        options: list[Any] = []
        if isinstance(schema, dict):
            options = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
        if any(isinstance(o, dict) and o.get("type") == "array" for o in options):
            out.add(str(p["name"]))
    return frozenset(out)


def body_members(spec: dict[str, Any], path: str, method: str) -> frozenset[str] | None:
    """The members of the JSON object the operation ``method`` of ``path`` takes as
    its body, as ``spec`` declares them (an optional body's ``anyOf`` of the object and
    null included), less those marked deprecated (older names still taken, such as a
    report's ``date_from``: session 46); None when it takes none or the document does not
    say."""
    operation = spec.get("paths", {}).get(path, {}).get(method)
    if not isinstance(operation, dict):
        return None
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = body.get("schema", {}) if isinstance(body, dict) else {}
    options = schema.get("anyOf", [schema]) if isinstance(schema, dict) else []
    for option in options:
        ref = option.get("$ref", "") if isinstance(option, dict) else ""
        if ref.startswith("#/components/schemas/"):
            model = spec.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {})
            props = model.get("properties", {})
            return frozenset(
                str(k)
                for k, v in props.items()
                if not (isinstance(v, dict) and v.get("deprecated"))
            )
    return None


@lru_cache(maxsize=256)
def _pattern(template: str) -> re.Pattern[str]:
    return compile_path(template)[0]


def operation_path(spec: dict[str, Any], url_path: str, route_path: str) -> str | None:
    """The template in ``spec`` of the operation a request for ``url_path`` was routed
    to: one that matches ``url_path`` and ends with the matched route's own template
    ``route_path`` (a route included into the ``/api`` router keeps its template without
    the prefix); None when there is none."""
    for template in spec.get("paths", {}):
        if template.endswith(route_path) and _pattern(template).match(url_path):
            return str(template)
    return None


def _words(name: str, accepted: frozenset[str]) -> str:
    takes = ", ".join(sorted(accepted)) if accepted else "none"
    hint = f"; {DATE_HINT}" if name.lower() in {"since", "until", "from", "to", "date"} else ""
    # '?=x' (a value without a name) said "takes no query parameter ''"
    what = f"query parameter {name!r}" if name else "query parameter without a name ('=...')"
    return (
        f"this endpoint takes no {what}, so it would not be applied: it takes {takes} "
        f"(see /docs){hint}; a client that adds parameters of its own may send the "
        f"header 'Prefer: {LENIENT}' to have them passed over"
    )


async def known_query(request: Request) -> None:
    """Refuse (``422``, one error a parameter) a query parameter that the matched
    route's OpenAPI operation does not declare. Routes outside the document (the
    dashboard's pages and files) are left alone, as is a request whose ``Prefer`` header
    asks for ``handling=lenient`` (:func:`lenient`), and so is a request that may not
    read (a GET) or write (any other method): the route's own access check answers it
    (401 or 403) first, as it does a path the route cannot read."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params or lenient(request):
        return
    allowed = require_read if request.method in ("GET", "HEAD") else require_write
    try:
        await allowed(request)
    except HTTPException:
        return
    spec = request.app.openapi()
    template = operation_path(spec, request.url.path, route.path_format)
    method = "get" if request.method == "HEAD" else request.method.lower()
    if template is None or template in ANY_QUERY:
        return
    accepted = query_names(spec, template, method)
    if accepted is None:
        return
    names = list(dict.fromkeys(request.query_params.keys()))
    unknown = [k for k in names if k not in accepted]
    errors: list[dict[str, Any]] = [
        {
            "type": "extra_forbidden",
            "loc": ("query", _cut(k)),
            "msg": _words(_cut(k), accepted),
            "input": request.query_params.get(k),
        }
        for k in unknown
    ]
    # a parameter of one value given twice (?site=a&site=b) was read as its last value,
    # the others passed over, until the review of 2026-12-05 (session 34)
    many = list_names(spec, template, method)
    for k in names:
        values = request.query_params.getlist(k)
        if k in accepted and k not in many and len(values) > 1:
            shown = ", ".join(repr(_cut(v)) for v in values[:5])
            more = ", ..." if len(values) > 5 else ""
            errors.append(
                {
                    "type": "too_many_values",
                    "loc": ("query", k),
                    "msg": (
                        f"given {len(values)} times ({shown}{more}): this endpoint takes "
                        f"one value of {k!r} and would apply only the last; give it once"
                    ),
                    "input": values,
                }
            )
    if errors:
        raise RequestValidationError(errors)


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def extra_member_words(request: Request, member: str) -> str | None:
    """What a body member the endpoint does not take is told: the members it takes, as
    its OpenAPI operation declares them (pydantic said only "Extra inputs are not
    permitted"; 2026-12-05, session 34); None when the document does not say."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return None
    spec = request.app.openapi()
    template = operation_path(spec, request.url.path, route.path_format)
    members = body_members(spec, template, request.method.lower()) if template else None
    if members is None:
        return None
    shown = member if len(member) <= _SHOWN else member[:_SHOWN] + "..."
    if not members:
        return f"this body takes no member {shown!r}: it takes none (send no body, or {{}})"
    return f"this body takes no member {shown!r}: it takes {', '.join(sorted(members))} (see /docs)"
