"""The dashboard's font for Chinese, Japanese and Korean text, served by the app itself.

The dashboard names system fonts only, and on a computer without a Korean font a Korean
site name or event label showed as empty boxes. With the ``cjk`` extra installed the app
serves the Korean face of Noto Sans CJK (:mod:`railwatch.report.fonts`) at
:data:`FONT_PATH`; ``static/app.css`` names it in an ``@font-face`` rule (a fallback after
the computer's own CJK fonts, fetched by a browser only for a page with such characters:
its ``unicode-range``). Nothing is fetched from elsewhere. Without the extra the route
answers 501 with the command that installs it, and the page looks as before.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response
from starlette.datastructures import Headers
from starlette.staticfiles import NotModifiedResponse

from railwatch import __version__
from railwatch.errors import MissingDependencyError
from railwatch.report import fonts
from railwatch.web.routes.tiles import etag_matches

__all__ = ["FONT_MEDIA_TYPE", "FONT_PATH", "router"]

#: Where the font is served (``static/app.css`` names it) and its media type (RFC 8081).
FONT_PATH = "/fonts/cjk.otf"
FONT_MEDIA_TYPE = "font/otf"

router = APIRouter()


@router.get(FONT_PATH, include_in_schema=False)
def cjk_font(request: Request) -> Response:
    """The CJK font as one OpenType file, with an ``ETag`` (a bodiless 304 to
    ``If-None-Match`` with it) and ``Cache-Control: no-cache`` as the dashboard's other
    files; 501 without the ``cjk`` extra."""
    from railwatch.web.app import DASHBOARD_CACHE_CONTROL

    font = fonts.cjk_font()
    if font is None:
        raise MissingDependencyError(
            fonts.CJK_DISTRIBUTION, fonts.CJK_EXTRA, "Chinese, Japanese and Korean text"
        )
    stat = font.path.stat()
    key = f"{__version__}:{font.path}:{font.face}:{stat.st_size}:{stat.st_mtime_ns}"
    headers = {
        "ETag": f'"{hashlib.sha256(key.encode()).hexdigest()[:32]}"',
        "Cache-Control": DASHBOARD_CACHE_CONTROL,
    }
    if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
        return NotModifiedResponse(Headers(headers))
    body = fonts.face_otf(font.path, font.face)
    return Response(body, media_type=FONT_MEDIA_TYPE, headers=headers)
