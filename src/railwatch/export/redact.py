"""Server file paths and URLs cut to their file names in what railwatch publishes.

Library messages name the server's files (an image, a weights file, a cache folder) by
their full path. What others read does not show them: every 5xx body of the web API
(:func:`railwatch.web.errors.public_detail`), the scenes' and jobs' errors unless the
request carries the token or a session (``web.routes.scenes``, ``web.routes.jobs``),
and a report's note on an image it could not read (``report.builder``).
"""

from __future__ import annotations

import re

__all__ = ["file_name", "hide_paths"]


def file_name(uri: str | None) -> str | None:
    """The last part of a path or URL (no directory, query string or fragment)."""
    if not uri:
        return None
    bare = uri.split("?", 1)[0].split("#", 1)[0] if "://" in uri else uri
    return bare.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or None


_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"()<>]+")
#: One part of a path (a file name), and a folder's name, which may hold single spaces
#: between words ("/home/Jane Doe/imagery/x.tif" named the user before session 27).
_PART = r"[^\s/\\'\"():,;<>]+"
_FOLDER = rf"{_PART}(?: {_PART})*"
#: A POSIX path of two parts or more, absolute, from the home folder (``~/``) or from
#: the current one (``./``, ``../``); a ratio such as 1/2 is not one, nor an address of
#: the API (``/api/...``: what to ask next, not a file of the server).
_POSIX_PATH = re.compile(rf"(?<![\w.~/\\])(?!/api/)(?:~|\.\.?)?(?:/{_FOLDER})+/({_PART})")
#: A Windows path: from a drive (``C:\\``) or a share (``\\\\server\\share``).
_WINDOWS_PATH = re.compile(
    rf"(?<![\w\\])(?:[A-Za-z]:|\\\\{_PART})(?:[\\/]{_FOLDER})*[\\/]({_PART})"
)


def hide_paths(text: str | None) -> str | None:
    """``text`` with every URL and file path cut to its file name: what a reader without
    the token or a session sees of a library message (no directory layout of the server,
    no user name of a home folder, no signed URL's query string)."""
    if not text:
        return text

    def url_file(m: re.Match[str]) -> str:
        url = m.group()
        bare = url.rstrip(":.,;")  # the sentence's punctuation after the URL stays
        return (file_name(bare) or "") + url[len(bare) :]

    text = _URL.sub(url_file, text)
    text = _WINDOWS_PATH.sub(r"\1", text)
    return _POSIX_PATH.sub(r"\1", text)
