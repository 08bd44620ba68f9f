"""``/docs``: the API reference as one plain HTML page, rendered from the OpenAPI document.

FastAPI's Swagger UI and ReDoc load their scripts from a CDN, so they are off; this page
needs nothing from the network and no script: every operation with its summary,
description, parameters, request body and responses, grouped by tag. All text is escaped.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

_METHODS = ("get", "post", "put", "patch", "delete")


def _schema_name(schema: dict[str, Any] | None) -> str:
    """A short name for a schema: its ``$ref`` name, type, or the types of an anyOf."""
    if not schema:
        return ""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_schema_name(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"array of {_schema_name(schema.get('items')) or 'any'}"
    return str(schema.get("type", ""))


def _limits(schema: dict[str, Any] | None) -> str:
    """What values a schema takes beyond its type, in words: ``one of "json", "csv"``,
    ``1 to 1000``, ``at most 64 characters``, ``at most 20 items`` (of the branches of
    an anyOf too). Before 2026-12-06 (session 38) ``/docs`` gave the type alone, so
    ``format`` of the counts read "string (default "json")", with no word of ``csv``,
    and ``limit`` no bound, though the OpenAPI document declares both."""
    if not schema:
        return ""
    words: list[str] = []

    def add(s: dict[str, Any]) -> None:
        if "enum" in s:
            words.append("one of " + ", ".join(json.dumps(v) for v in s["enum"]))
        low, high = s.get("minimum"), s.get("maximum")
        if low is not None and high is not None:
            words.append(f"{low} to {high}")
        elif low is not None:
            words.append(f"at least {low}")
        elif high is not None:
            words.append(f"at most {high}")
        if s.get("minLength") is not None and s.get("maxLength") is not None:
            words.append(f"{s['minLength']} to {s['maxLength']} characters")
        elif s.get("maxLength") is not None and "enum" not in s:
            words.append(f"at most {s['maxLength']} characters")
        if s.get("maxItems") is not None:
            words.append(f"at most {s['maxItems']} items")
        items = s.get("items")
        if isinstance(items, dict):
            inner = _limits(items)
            if inner:
                words.append(f"each {inner}")

    for branch in schema.get("anyOf") or [schema]:
        if isinstance(branch, dict):
            add(branch)
    return "; ".join(words)


def _parameters(op: dict[str, Any]) -> str:
    params = op.get("parameters") or []
    if not params:
        return ""
    rows = []
    for p in params:
        schema = p.get("schema") or {}
        default = f"default {json.dumps(schema['default'])}" if "default" in schema else ""
        limits = ", ".join(w for w in (_limits(schema), default) if w)
        default = f" ({limits})" if limits else ""
        rows.append(
            "<tr>"
            f"<td><code>{escape(str(p.get('name', '')))}</code></td>"
            f"<td>{escape(str(p.get('in', '')))}</td>"
            f"<td>{'required' if p.get('required') else 'optional'}</td>"
            f"<td>{escape(_schema_name(schema))}{escape(default)}</td>"
            f"<td>{escape(str(p.get('description') or schema.get('description') or ''))}</td>"
            "</tr>"
        )
    return (
        '<table class="api"><thead><tr><th>parameter</th><th>in</th><th></th><th>type</th>'
        f"<th>description</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _body(op: dict[str, Any], schemas: dict[str, Any]) -> str:
    content = (op.get("requestBody") or {}).get("content") or {}
    if not content:
        return ""
    media, spec = next(iter(content.items()))
    schema = spec.get("schema") or {}
    name = _schema_name(schema)
    fields = ""
    ref = schemas.get(name) if "$ref" in schema else None
    if isinstance(ref, dict) and ref.get("properties"):
        required = set(ref.get("required") or ())
        items = [
            f"<li><code>{escape(k)}</code> {escape(_schema_name(v))}"
            + (f" ({escape(_limits(v))})" if _limits(v) else "")
            + (" (required)" if k in required else "")
            + (f": {escape(str(v['description']))}" if v.get("description") else "")
            + "</li>"
            for k, v in ref["properties"].items()
        ]
        fields = f"<ul>{''.join(items)}</ul>"
    return f"<p><b>Body</b> <code>{escape(media)}</code> {escape(name)}</p>{fields}"


#: Headers of a page of a list (``railwatch.web.pagination``), declared on the 2xx answer
#: of every operation that takes ``limit`` and ``offset``.
PAGE_HEADERS: dict[str, dict[str, Any]] = {
    "X-Total-Count": {
        "description": "The number of items of the whole list (all pages).",
        "schema": {"type": "integer"},
    },
    "Link": {
        "description": 'RFC 8288 links to the pages: rel="first", "prev", "next" and "last" '
        "(percent-encoded URLs).",
        "schema": {"type": "string"},
    },
}

#: The header of a 201 or 202: where the new resource (or job) is read.
LOCATION_HEADER: dict[str, dict[str, Any]] = {
    "Location": {
        "description": "The path of the resource created (of the job, for a 202).",
        "schema": {"type": "string"},
    }
}


def conditional_responses(media: str, what: str) -> dict[int | str, dict[str, Any]]:
    """The answers of a download that has an ``ETag`` (a tile, a report's file): its
    ``200`` of ``media`` with ``ETag`` and ``Cache-Control``, and the bodiless ``304`` to
    ``If-None-Match`` (2026-12-07, session 49: the document declared neither, so a
    client generated from it, or a checker such as schemathesis, took a ``304`` for an
    undeclared answer, and nothing said which header to send it back in). ``what`` says
    what the ``ETag`` stays the same while."""
    etag = {
        "ETag": {
            "description": "The version of this answer: send it back as `If-None-Match` "
            f"to be answered `304` while {what}.",
            "schema": {"type": "string"},
        }
    }
    return {
        200: {
            "content": {media: {}},
            "headers": {
                **etag,
                "Cache-Control": {
                    "description": "`private, no-cache`: a browser may keep it, and asks "
                    "again with `If-None-Match` before using it.",
                    "schema": {"type": "string"},
                },
            },
        },
        304: {
            "description": "Not Modified: the `If-None-Match` sent holds this answer's "
            f"`ETag`, and {what}; no body.",
            "headers": etag,
        },
    }


def declare_headers(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with the headers the API sends declared on its answers: ``X-Total-Count``
    and ``Link`` on the 2xx answer of every list (an operation that takes ``limit`` and
    ``offset``), ``Location`` on every 201 and 202 (2026-12-05, session 34: docs/web.md
    promised them, the OpenAPI document did not say). Changed in place and returned."""
    for item in (spec.get("paths") or {}).values():
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            query = {p.get("name") for p in op.get("parameters") or [] if p.get("in") == "query"}
            for code, answer in (op.get("responses") or {}).items():
                if not (str(code).startswith("2") and isinstance(answer, dict)):
                    continue
                headers = answer.setdefault("headers", {})
                if {"limit", "offset"} <= query:
                    headers.update(PAGE_HEADERS)
                if str(code) in ("201", "202"):
                    headers.update(LOCATION_HEADER)
                if not headers:
                    del answer["headers"]
    return spec


def _answer(r: Any) -> str:
    """What an answer is sent as: each media type with its schema's name, and its
    headers (2026-12-06, session 36: the page named the headers only, so a GeoJSON or
    CSV answer read as JSON)."""
    if not isinstance(r, dict):
        return ""
    parts = []
    for media, spec in (r.get("content") or {}).items():
        schema = (spec or {}).get("schema") or {}
        name = _schema_name(schema) if "$ref" in schema else schema.get("title", "")
        parts.append(f"{media} {name}".strip())
    sent = f" ({escape('; '.join(parts))})" if parts else ""
    if r.get("headers"):
        sent += f" (headers: {escape(', '.join(r['headers']))})"
    return sent


def _responses(op: dict[str, Any]) -> str:
    # by status, so that a 304 declared with a route's own answers (a tile's) comes
    # before the 4XX and 5XX every route shares (2026-12-07, session 49)
    answers = sorted((op.get("responses") or {}).items(), key=lambda item: str(item[0]))
    items = [
        f"<code>{escape(str(code))}</code> {escape(str(r.get('description', '')))}" + _answer(r)
        for code, r in answers
    ]
    return f"<p><b>Responses</b> {' · '.join(items)}</p>" if items else ""


def render_api_docs(spec: dict[str, Any]) -> str:
    """The API reference page for an OpenAPI 3 document ``spec``."""
    info = spec.get("info") or {}
    schemas = (spec.get("components") or {}).get("schemas") or {}
    by_tag: dict[str, list[str]] = {}
    for path, item in (spec.get("paths") or {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            tag = (op.get("tags") or ["other"])[0]
            summary = op.get("summary") or ""
            description = op.get("description") or ""
            anchor = escape(str(op.get("operationId") or f"{method}-{path}"), quote=True)
            by_tag.setdefault(tag, []).append(
                f'<section class="op" id="{anchor}">'
                f'<h3><span class="method">{method.upper()}</span> <code>{escape(path)}</code>'
                f" {escape(summary)}</h3>"
                + (f'<p class="desc">{escape(description)}</p>' if description else "")
                + _parameters(op)
                + _body(op, schemas)
                + _responses(op)
                + "</section>"
            )
    sections = "".join(
        f"<h2>{escape(tag)}</h2>{''.join(ops)}" for tag, ops in sorted(by_tag.items())
    )
    title = escape(str(info.get("title", "API")))
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} · API</title>"
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
        '<link rel="stylesheet" href="/static/app.css"></head><body>'
        f'<header class="top"><a class="brand" href="/">{title}</a>'
        '<span class="crumb">API</span>'
        '<a class="right" href="/openapi.json">OpenAPI document (JSON)</a></header>'
        f'<main class="page api-docs"><h1>{title} API {escape(str(info.get("version", "")))}</h1>'
        f'<p class="muted">{escape(str(info.get("description", "")))}</p>'
        f"{sections}</main></body></html>\n"
    )
