"""Query parameters an endpoint does not take are refused, not passed over.

Before 2026-12-05 (session 34) FastAPI passed over any query parameter an endpoint did
not declare: a script asking ``/api/sites/tumangang/alerts?since=2024-01-01`` (or
``?kind=record``, ``?severity=high``, ``?class=tank``) got a ``200`` with all 90 alerts
of the demo, as if they were the ones asked for, and ``/api/alerts?site_name=x`` every
site's. Request bodies were strict already (``railwatch.web.bodies``: a member the body
does not take is a ``422``); a query is now too: a ``422`` that names each parameter the
endpoint does not take and lists those it does, as its OpenAPI operation declares them
(the document is the one place they are listed, so the two cannot differ).
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
    "body_members",
    "extra_member_words",
    "known_query",
    "operation_path",
    "query_names",
]

#: What a client asking a list for dates is told: the API has no date filter.
DATE_HINT = (
    "the API has no date filter: page through the list (limit, offset), newest first "
    "for alerts, and pick by each item's `day`"
)

#: Operations that take any query: map tiles, whose URL template map clients may give
#: a cache-buster or key of their own (``?v=2``); a tile has no filter to pass over.
ANY_QUERY: frozenset[str] = frozenset({"/api/scenes/{scene_id}/tiles/{z}/{x}/{y}.png"})

#: Longest parameter name echoed back (the rest is cut).
_SHOWN = 40


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


def body_members(spec: dict[str, Any], path: str, method: str) -> frozenset[str] | None:
    """The members of the JSON object the operation ``method`` of ``path`` takes as
    its body, as ``spec`` declares them (an optional body's ``anyOf`` of the object and
    null included); None when it takes none or the document does not say."""
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
            return frozenset(str(k) for k in model.get("properties", {}))
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
    return (
        f"this endpoint takes no query parameter {name!r}, so it would not be applied: "
        f"it takes {takes} (see /docs){hint}"
    )


async def known_query(request: Request) -> None:
    """Refuse (``422``, one error a parameter) a query parameter that the matched
    route's OpenAPI operation does not declare. Routes outside the document (the
    dashboard's pages and files) are left alone, and so is a request that may not
    read (a GET) or write (any other method): the route's own access check answers it
    (401 or 403) first, as it does a path the route cannot read."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
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
    unknown = [k for k in dict.fromkeys(request.query_params.keys()) if k not in accepted]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", k if len(k) <= _SHOWN else k[:_SHOWN] + "..."),
                    "msg": _words(k if len(k) <= _SHOWN else k[:_SHOWN] + "...", accepted),
                    "input": request.query_params.get(k),
                }
                for k in unknown
            ]
        )


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
