"""Answers the browser saves as a file: their ``Content-Disposition``."""

from __future__ import annotations

import re
from urllib.parse import quote

__all__ = ["attachment"]


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` that saves the answer as ``filename`` (RFC 6266): an
    ASCII fallback (other characters as ``_``), then the real name, percent-encoded
    UTF-8 (a site named in another script)."""
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", filename)
    return f"attachment; filename=\"{safe}\"; filename*=utf-8''{quote(filename, safe='')}"
