"""Acquisition dates: parse them from text, TIFF tags and file names, always in UTC.

Pure functions on strings and mappings; :mod:`railwatch.imagery.inspect` decides the
order of the sources (option, sidecar, TIFF tags, file name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime

__all__ = [
    "date_from_filename",
    "date_from_tags",
    "parse_datetime",
    "rejected_filename_dates",
    "to_utc",
]

# Years outside this range are taken as "not a date" (IDs, counters, sizes).
_MIN_YEAR = 1960
_MAX_YEAR = 2100

# Tags that hold an acquisition time, most specific first. IMAGERY is GDAL's
# domain for acquisition metadata; TIFFTAG_DATETIME is the file's date-time
# tag, used last because writers often put the processing time there.
_IMAGERY_KEYS = ("ACQUISITIONDATETIME", "ACQUISITION_DATETIME", "ACQUISITIONDATE")
_DEFAULT_KEYS = (
    "ACQUISITIONDATETIME",
    "ACQUISITION_DATETIME",
    "ACQUISITION_DATE",
    "ACQUISITIONDATE",
    "DATETIME",
    "TIFFTAG_DATETIME",
)

# File-name patterns, tried in order; each captures year, month, day and,
# optionally, hour, minute, second. Digits may not touch the match on either
# side, so long IDs are not read as dates.
_FILENAME_PATTERNS = (
    # 20231005T053212, 20231005_053212 (Planet), 20231005-053212
    re.compile(
        r"(?<!\d)(\d{4})(\d{2})(\d{2})[T_\-](\d{2})(\d{2})(\d{2})(?!\d)",
        re.IGNORECASE,
    ),
    # 2023-10-05, 2023_10_05, 2023-10-05T05:32:12, 2023-10-05_05-32-12
    re.compile(
        r"(?<!\d)(\d{4})([-_.])(\d{2})\2(\d{2})"
        r"(?:[T_ \-](\d{2})[:\-_]?(\d{2})[:\-_]?(\d{2}))?(?!\d)",
        re.IGNORECASE,
    ),
    # 20231005
    re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"),
)


def to_utc(value: datetime | date) -> datetime:
    """Return ``value`` as an aware UTC datetime (naive values are taken as UTC;
    a bare date means midnight UTC)."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_datetime(text: str) -> datetime | None:
    """Parse an ISO 8601 or TIFF (``YYYY:MM:DD HH:MM:SS``) date-time into UTC.

    Returns ``None`` when ``text`` is not a valid date or date-time.
    """
    s = text.strip().strip('"').strip()
    if not s:
        return None
    # TIFF/EXIF form: 2023:10:05 05:32:12
    m = re.fullmatch(r"(\d{4}):(\d{2}):(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?)?", s)
    if m:
        return _make(*m.groups()[:6])
    iso = s.replace(" ", "T", 1) if re.match(r"\d{4}-\d{2}-\d{2} \d", s) else s
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        return None
    return to_utc(parsed)


def date_from_tags(
    default: Mapping[str, str], imagery: Mapping[str, str] | None = None
) -> datetime | None:
    """Acquisition time from raster tags: GDAL's IMAGERY domain first, then the
    default domain (``ACQUISITIONDATETIME``..., ``TIFFTAG_DATETIME`` last)."""
    for tags, keys in ((imagery or {}, _IMAGERY_KEYS), (default, _DEFAULT_KEYS)):
        upper = {k.upper(): v for k, v in tags.items()}
        for key in keys:
            value = upper.get(key)
            if value:
                parsed = parse_datetime(value)
                if parsed is not None:
                    return parsed
    return None


def date_from_filename(name: str) -> datetime | None:
    """The first valid date (and time, when present) in a file name, in UTC.

    Recognises ``YYYYMMDDTHHMMSS``, ``YYYYMMDD_HHMMSS``, ``YYYY-MM-DD`` (also with
    ``_`` or ``.``) and ``YYYYMMDD``; impossible dates (month 13, 30 February) are
    skipped.
    """
    for pattern in _FILENAME_PATTERNS:
        for m in pattern.finditer(name):
            parts = _parts(m)
            value = _make(*parts)
            if value is not None:
                return value
    return None


def rejected_filename_dates(name: str) -> list[str]:
    """Date-like tokens in ``name`` that are not valid dates (for error messages)."""
    rejected: list[str] = []
    for pattern in _FILENAME_PATTERNS:
        for m in pattern.finditer(name):
            year = int(m.group(1))
            if _MIN_YEAR <= year <= _MAX_YEAR and _make(*_parts(m)) is None:
                rejected.append(m.group(0))
    return rejected


def _parts(m: re.Match[str]) -> tuple[str | None, ...]:
    groups = m.groups()
    if len(groups) == 7:  # the separator pattern carries the separator as group 2
        groups = (groups[0], *groups[2:])
    return tuple(groups) + (None,) * (6 - len(groups))


def _make(
    year: str | None,
    month: str | None,
    day: str | None,
    hour: str | None = None,
    minute: str | None = None,
    second: str | None = None,
) -> datetime | None:
    if year is None or month is None or day is None:
        return None
    y = int(year)
    if not _MIN_YEAR <= y <= _MAX_YEAR:
        return None
    try:
        return datetime(
            y,
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError:
        return None
