"""The dashboard's font for Chinese, Japanese and Korean text, served by the app itself.

The dashboard names system fonts only, and on a computer without a Korean font a Korean
site name or event label showed as empty boxes. With the ``cjk`` extra installed the app
serves the Korean face of Noto Sans CJK (:mod:`railwatch.report.fonts`) at
:data:`FONT_PATH`. Nothing is fetched from elsewhere. Without the extra the route
answers 501 with the command that installs it, and the page looks as before.

``GET /fonts/cjk.otf?text=...`` answers the glyphs of the characters of ``text`` only
(5.6 kB for a Korean page whose site is "두만강 역" and event "김정은-푸틴 정상회담";
the whole face, which ``GET /fonts/cjk.otf`` still answers, is 16.4 MB: 2026-12-06,
session 37). The dashboard's script (``static/js/common.js``, ``RW.cjkFont``) asks for
the characters its page shows once it has shown them, and for each character shown
later, in a CSS font face whose ``unicode-range`` is those characters, after the
computer's own Korean fonts: a page without such characters asks for nothing. A
stylesheet cannot know the text before the page is drawn, hence the script. Subsets
are kept by their set of characters (:data:`CACHE_ENTRIES`, :data:`CACHE_BYTES`, the
least recently used dropped first), with an ``ETag`` that hashes the set.

A subset takes about 1 s to make and one is made at a time, so requests for new
characters queue; at most :data:`MAX_WAITING` wait, each at most :data:`WAIT_SECONDS`,
and any further one is a ``503`` with ``Retry-After`` (:class:`SubsetsBusy`). Before
the review of 2026-12-06 (session 37, r2) they all waited, each holding one of the
server's worker threads (40, shared by every endpoint, all synchronous): one client
asking for 45 distinct subsets at once, with no token, stalled ``GET /api/sites`` for
15 s, and longer the more it asked.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.datastructures import Headers
from starlette.staticfiles import NotModifiedResponse

from railwatch import __version__
from railwatch.errors import InputError, MissingDependencyError
from railwatch.report import fonts
from railwatch.web.routes.tiles import etag_matches

__all__ = [
    "CACHE_BYTES",
    "CACHE_ENTRIES",
    "FONT_MEDIA_TYPE",
    "FONT_PATH",
    "MAX_TEXT",
    "MAX_WAITING",
    "RETRY_AFTER",
    "SUBSET_CACHE_CONTROL",
    "WAIT_SECONDS",
    "SubsetCache",
    "SubsetsBusy",
    "router",
]

#: Where the font is served and its media type (RFC 8081).
FONT_PATH = "/fonts/cjk.otf"
FONT_MEDIA_TYPE = "font/otf"
#: The most characters one request's ``text`` may hold (about 9 kB of URL for as many
#: Hangul syllables; ``common.js`` asks for at most 400 at a time).
MAX_TEXT = 1000
#: Subsets kept: at most this many, of at most this many bytes together (1,000
#: syllables make about 150 kB).
CACHE_ENTRIES = 128
CACHE_BYTES = 16 * 1024 * 1024
#: A subset is the same for the same characters until the font or railwatch changes
#: (its ETag says which): kept by the browser a day, then revalidated. ``private``: the
#: characters are those of a page's site names and labels.
SUBSET_CACHE_CONTROL = "private, max-age=86400"
#: Requests that may wait for the subset being made (a page asks for a few at once),
#: and how long each may wait: the rest are a 503 (:class:`SubsetsBusy`), so that
#: requests for new characters never hold more than ``MAX_WAITING + 1`` of the server's
#: worker threads (session 37, r2).
MAX_WAITING = 8
WAIT_SECONDS = 30.0
#: The ``Retry-After`` of such a 503, in seconds.
RETRY_AFTER = 5

router = APIRouter()


class SubsetsBusy(Exception):
    """Too many requests wait for a subset to be made (:data:`MAX_WAITING`), or this one
    waited :data:`WAIT_SECONDS`: a 503 with ``Retry-After``."""


class SubsetCache:
    """Subsets by their characters, least recently used dropped first beyond
    ``entries`` subsets or ``max_bytes`` bytes. A subset is made once: a request for
    characters being made waits for them (one is made at a time), at most
    ``max_waiting`` requests, each at most ``wait_seconds``; beyond, :class:`SubsetsBusy`."""

    def __init__(
        self,
        entries: int = CACHE_ENTRIES,
        max_bytes: int = CACHE_BYTES,
        *,
        max_waiting: int = MAX_WAITING,
        wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self.max_waiting = max_waiting
        self.wait_seconds = wait_seconds
        self._waiting = 0  # requests in get() not yet holding _making
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # the dict
        self._making = threading.Lock()  # one subset made at a time

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size(self) -> int:
        """Bytes kept."""
        return self._bytes

    def _get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def get(self, font: fonts.CjkFont, chars: str) -> bytes:
        """The subset of ``font`` for ``chars`` (sorted, each once, all in the font);
        :class:`SubsetsBusy` when it is not kept and too many wait, or this waited too
        long, for it to be made."""
        body = self._get(chars)
        if body is not None:
            return body
        with self._lock:
            if self._waiting >= self.max_waiting and self._making.locked():
                raise SubsetsBusy(f"{self._waiting} requests wait for a subset")
            self._waiting += 1
        try:
            held = self._making.acquire(timeout=self.wait_seconds)
        finally:
            with self._lock:
                self._waiting -= 1
        if not held:
            raise SubsetsBusy(f"waited {self.wait_seconds:g} s for a subset")
        try:
            body = self._get(chars)  # made while this request waited
            if body is None:
                body = fonts.face_subset(font.path, font.face, map(ord, chars))
                self._put(chars, body)
        finally:
            self._making.release()
        return body

    def _put(self, key: str, body: bytes) -> None:
        with self._lock:
            self._items[key] = body
            self._bytes += len(body)
            while len(self._items) > 1 and (
                len(self._items) > self.entries or self._bytes > self.max_bytes
            ):
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)


#: The app's subsets (one cache per process, as the font is).
subsets = SubsetCache()


def _wanted(font: fonts.CjkFont, text: str) -> str:
    """The characters of ``text`` the font draws, sorted, each once; an
    :class:`InputError` (422) saying what to send when there are none or too many."""
    if not text:
        raise InputError(
            "text is empty: give the characters the page shows, such as "
            f"{FONT_PATH}?text=%EB%91%90%EB%A7%8C%EA%B0%95 for 두만강 (URL-encoded UTF-8), "
            f"or leave text out for the whole font"
        )
    if len(text) > MAX_TEXT:
        raise InputError(
            f"text holds {len(text)} characters, more than the {MAX_TEXT} one request may "
            f"ask for: ask for the rest in another request"
        )
    chars = "".join(sorted({c for c in text if ord(c) in font.chars}))
    if not chars:
        shown = ", ".join(f"U+{ord(c):04X}" for c in sorted(set(text))[:5])
        raise InputError(
            f"the font draws none of the characters of text ({shown}"
            f"{', ...' if len(set(text)) > 5 else ''}): it is {font.family}, for Chinese, "
            "Japanese and Korean text; ask for such characters"
        )
    return chars


@router.get(FONT_PATH, include_in_schema=False)
def cjk_font(
    request: Request,
    text: Annotated[str | None, Query(description="the characters to draw")] = None,
) -> Response:
    """The CJK font as one OpenType file: with ``text``, the glyphs of its characters
    only (cached by that set, ``Cache-Control: private, max-age=86400``); without it,
    the whole face (``Cache-Control: no-cache`` as the dashboard's other files). Each
    with an ``ETag`` (a bodiless 304 to ``If-None-Match`` with it); 501 without the
    ``cjk`` extra, 422 for a ``text`` that is empty, too long or has no character of
    the font."""
    from railwatch.web.app import DASHBOARD_CACHE_CONTROL

    font = fonts.cjk_font()
    if font is None:
        raise MissingDependencyError(
            fonts.CJK_DISTRIBUTION, fonts.CJK_EXTRA, "Chinese, Japanese and Korean text"
        )
    chars = None if text is None else _wanted(font, text)
    stat = font.path.stat()
    key = f"{__version__}:{font.path}:{font.face}:{stat.st_size}:{stat.st_mtime_ns}"
    if chars is not None:
        key += ":" + chars
    headers = {
        "ETag": f'"{hashlib.sha256(key.encode()).hexdigest()[:32]}"',
        "Cache-Control": DASHBOARD_CACHE_CONTROL if chars is None else SUBSET_CACHE_CONTROL,
    }
    if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
        return NotModifiedResponse(Headers(headers))
    try:
        body = fonts.face_otf(font.path, font.face) if chars is None else subsets.get(font, chars)
    except SubsetsBusy as err:
        raise HTTPException(
            503,
            detail=(
                "the server is making other font subsets: ask again in "
                f"{RETRY_AFTER} s (Retry-After), or leave text out for the whole font"
            ),
            headers={"Retry-After": str(RETRY_AFTER)},
        ) from err
    return Response(body, media_type=FONT_MEDIA_TYPE, headers=headers)
