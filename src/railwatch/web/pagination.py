"""``limit``/``offset`` pagination with totals and RFC 8288 ``Link`` headers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Query, Request, Response

from railwatch.web.params import PlainInt

__all__ = ["Page", "PageParams", "last_offset", "page_links", "paginate"]

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


def last_offset(total: int, limit: int, offset: int) -> int:
    """The offset of the list's final page on the grid of ``offset``: the largest of
    ``offset``, ``offset ± limit``, ``offset ± 2 limit``, ... below ``total``, so that
    ``next`` from the current page reaches it (from offset 221 of 223 by 2, offset 221:
    it was 222, a multiple of ``limit``, which ``next`` never reaches and whose ``prev``
    is 220, a page over the current one). Where the grid has no offset below ``total``
    (``offset % limit >= total``: a page past the end of a short list) it is 0, which
    holds the whole list; 0 for an empty list."""
    start = offset % limit
    if total <= start:
        return 0
    return start + ((total - 1 - start) // limit) * limit


def page_links(request: Request, total: int, limit: int, offset: int) -> str:
    """``Link`` header value with first/prev/next/last relations.

    ``next`` is ``offset + limit`` while items are left; ``last`` the final page on the
    same grid (:func:`last_offset`); ``prev`` the ``limit`` items just before the
    current page, ``offset - limit``, and where fewer than ``limit`` are before it, those
    alone (from offset 1 by 2: ``limit=1&offset=0``; it was ``limit=2&offset=0``, a page
    overlapping the current one); from a page past the end, the last page. The pages
    ``prev`` and ``next`` give never overlap the current one, and ``next`` followed from
    any of them ends on ``last``.

    The URLs are percent-encoded: a header is Latin-1, and the request's path is
    decoded (``/api/sites/Туманган/scenes`` made every list of a site named in another
    script a 500)."""
    base = request.url.replace(path=quote(request.url.path, safe=_PATH_SAFE))
    last = last_offset(total, limit, offset)
    links: list[tuple[str, int, int]] = [("first", limit, 0)]
    if offset > 0:
        if offset >= total:
            # from a page past the end, the one before is the last page: offset - limit
            # (before session 29) was past the end too, an empty page again
            links.append(("prev", limit, last))
        elif offset >= limit:
            links.append(("prev", limit, offset - limit))
        else:  # fewer than a page before this one: those items alone (session 38)
            links.append(("prev", offset, 0))
    if offset + limit < total:
        links.append(("next", limit, offset + limit))
    links.append(("last", limit, last))
    parts = []
    for rel, size, off in links:
        url = base.include_query_params(limit=size, offset=off)
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
