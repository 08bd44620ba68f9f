"""``limit``/``offset`` pagination with totals and RFC 8288 ``Link`` headers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Query, Request, Response

from railwatch.web.params import PlainInt

__all__ = ["Page", "PageParams", "page_links", "paginate"]

T = TypeVar("T")

#: Largest page any list returns.
MAX_LIMIT = 1000

#: Characters left as they are in a path (RFC 3986 pchar and '/'); others are encoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


@dataclass(frozen=True)
class PageParams:
    """The requested window of a list."""

    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page."), PlainInt] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9, description="Items to skip."), PlainInt] = 0,
) -> PageParams:
    """Dependency: the ``limit`` and ``offset`` query parameters."""
    return PageParams(limit=limit, offset=offset)


@dataclass(frozen=True)
class Page:
    """One page of a list: the items and the total number of matches."""

    items: list[Any]
    total: int
    limit: int
    offset: int

    def envelope(self) -> dict[str, Any]:
        """The JSON body of a paginated list."""
        return {
            "items": self.items,
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
        }


def page_links(request: Request, total: int, limit: int, offset: int) -> str:
    """``Link`` header value with first/prev/next/last relations.

    The URLs are percent-encoded: a header is Latin-1, and the request's path is
    decoded (``/api/sites/Туманган/scenes`` made every list of a site named in another
    script a 500)."""
    base = request.url.replace(path=quote(request.url.path, safe=_PATH_SAFE))
    last = max(0, ((total - 1) // limit) * limit) if total else 0
    links: list[tuple[str, int]] = [("first", 0)]
    if offset > 0:
        # from a page past the end, the one before is the last page: offset - limit
        # (before session 29) was past the end too, an empty page again
        links.append(("prev", max(0, min(offset - limit, last))))
    if offset + limit < total:
        links.append(("next", offset + limit))
    links.append(("last", last))
    parts = []
    for rel, off in links:
        url = base.include_query_params(limit=limit, offset=off)
        parts.append(f'<{url}>; rel="{rel}"')
    return ", ".join(parts)


def paginate(
    request: Request, response: Response, items: Sequence[T], total: int, params: PageParams
) -> Page:
    """Set ``Link`` and ``X-Total-Count`` on ``response`` and wrap ``items`` in a :class:`Page`."""
    response.headers["Link"] = page_links(request, total, params.limit, params.offset)
    response.headers["X-Total-Count"] = str(total)
    return Page(items=list(items), total=total, limit=params.limit, offset=params.offset)


def window(items: Sequence[T], params: PageParams) -> list[T]:
    """The slice of ``items`` a page shows."""
    return list(items[params.offset : params.offset + params.limit])
