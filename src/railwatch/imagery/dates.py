"""Acquisition dates: parse them from text, TIFF tags and file names, always in UTC.

Pure functions on strings and mappings; :mod:`railwatch.imagery.inspect` decides the
order of the sources (option, sidecar, TIFF tags, file name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

__all__ = [
    "DATE_ONLY_HOUR",
    "date_from_filename",
    "date_from_tags",
    "dated_from_filename",
    "file_time_from_tags",
    "local_noon",
    "parse_datetime",
    "rejected_filename_dates",
    "to_utc",
]

#: The local hour at the site an image is dated when only its day is known (``ingest
#: --date 2024-04-10``, a file name with a date and no time): noon, so that the image's
#: day at the site is the day given under any whole-hour zone from UTC-12 to UTC+12
#: (midnight UTC, as it was until 2026-12-05, put it on the day before west of Greenwich).
DATE_ONLY_HOUR = 12

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
)
# The TIFF DateTime tag is, by the TIFF specification, when the file was made: an
# export or a crop made later carries its own day there. Read after the file name.
_FILE_TIME_KEYS = ("DATETIME", "TIFFTAG_DATETIME")

# File-name patterns. Each names its parts: year ``y`` (or two-digit ``yy``), month
# ``m`` (or a month name ``mon``), day ``d`` and optionally ``H``, ``M``, ``S``. Digits
# may not touch a match on either side, so long IDs are not read as dates. Of all the
# matches in a name the leftmost wins (acquisition dates come first in Landsat,
# Sentinel and Planet names, processing dates after them), the longest at one place.
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_FILENAME_PATTERNS = (
    # 20231005T053212, 20231005_053212 (Planet), 20231005-053212, 20231005T0532
    re.compile(
        r"(?<!\d)(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"
        r"(?:[_\-](?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})"
        r"|T(?P<H2>\d{2})(?P<M2>\d{2})(?P<S2>\d{2})?)(?!\d)",
        re.IGNORECASE,
    ),
    # 20231005053212 (Maxar/WorldView catalogue names)
    re.compile(
        r"(?<!\d)(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})(?!\d)"
    ),
    # 23OCT05053212 (Maxar product names: YYMONDDhhmmss)
    re.compile(
        rf"(?<![0-9A-Za-z])(?P<yy>\d{{2}})(?P<mon>{_MONTHS})(?P<d>\d{{2}})"
        r"(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})(?!\d)",
        re.IGNORECASE,
    ),
    # 2023-10-05, 2023_10_05, 2023.10.05, 2023-10-05T05:32:12, 2023-10-05_05-32-12
    re.compile(
        r"(?<!\d)(?P<y>\d{4})(?P<sep>[-_.])(?P<m>\d{2})(?P=sep)(?P<d>\d{2})"
        r"(?:[T_ \-](?P<H>\d{2})[:\-_]?(?P<M>\d{2})[:\-_]?(?P<S>\d{2}))?(?!\d)",
        re.IGNORECASE,
    ),
    # 20231005
    re.compile(r"(?<!\d)(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?!\d)"),
)


def to_utc(value: datetime | date) -> datetime:
    """Return ``value`` as an aware UTC datetime (naive values are taken as UTC;
    a bare date means midnight UTC)."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_noon(day: date, utc_offset: timedelta = timedelta(0)) -> datetime:
    """The UTC instant of noon (:data:`DATE_ONLY_HOUR`) on ``day`` at a site
    ``utc_offset`` east of UTC: how an image is dated when only its day is known. Its
    local day at the site (``analysis.events.local_day``) is ``day``."""
    return datetime.combine(day, time(DATE_ONLY_HOUR), tzinfo=UTC) - utc_offset


def parse_datetime(text: str) -> datetime | None:
    """Parse an ISO 8601 or TIFF (``YYYY:MM:DD HH:MM:SS``) date-time into UTC.

    Returns ``None`` when ``text`` is not a valid date or date-time.
    """
    # TIFF ASCII tags may keep their NUL terminator; some writers spell UTC out.
    s = text.replace("\x00", " ").strip().strip('"').strip()
    s = re.sub(r"\s*(?:UTC|GMT)$", "Z", s, flags=re.IGNORECASE)
    if not s:
        return None
    # TIFF/EXIF form 2023:10:05 05:32:12, and 2023/10/05 05:32:12
    m = re.fullmatch(r"(\d{4})([:/])(\d{2})\2(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?)?Z?", s)
    if m:
        g = m.groups()
        return _make(g[0], g[2], g[3], g[4], g[5], g[6])
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
    default: Mapping[str, str],
    imagery: Mapping[str, str] | None = None,
    *,
    file_time: bool = True,
) -> datetime | None:
    """Acquisition time from raster tags: GDAL's IMAGERY domain first, then the
    default domain (``ACQUISITIONDATETIME``..., and ``TIFFTAG_DATETIME`` last unless
    ``file_time`` is False: it is often when the file was written)."""
    sources = [(imagery or {}, _IMAGERY_KEYS), (default, _DEFAULT_KEYS)]
    if file_time:
        sources.append((default, _FILE_TIME_KEYS))
    for tags, keys in sources:
        upper = {k.upper(): v for k, v in tags.items()}
        for key in keys:
            value = upper.get(key)
            if value:
                parsed = parse_datetime(value)
                if parsed is not None:
                    return parsed
    return None


def file_time_from_tags(default: Mapping[str, str]) -> datetime | None:
    """The TIFF ``DateTime`` tag (``TIFFTAG_DATETIME``), or None: often when the file
    was written rather than when the image was taken."""
    upper = {k.upper(): v for k, v in default.items()}
    for key in _FILE_TIME_KEYS:
        value = upper.get(key)
        if value and (parsed := parse_datetime(value)) is not None:
            return parsed
    return None


def date_from_filename(name: str) -> datetime | None:
    """The leftmost valid date (and time, when present) in a file name, in UTC.

    Recognises ``YYYYMMDDTHHMMSS`` (also ``THHMM``), ``YYYYMMDD_HHMMSS``,
    ``YYYYMMDDHHMMSS``, Maxar's ``YYMONDDHHMMSS``, ``YYYY-MM-DD`` (also with ``_`` or
    ``.``, and a time after it) and ``YYYYMMDD``. Impossible dates and times (month 13,
    30 February, 25:00) are skipped, the date in front of an impossible time too.
    """
    found, _ = _scan_filename(name)
    return found[0][1] if found else None


def dated_from_filename(name: str) -> datetime | date | None:
    """:func:`date_from_filename`'s date, as a :class:`~datetime.date` when the name
    gives the day alone (no time of day: the caller decides which instant that day is
    at the site, :func:`local_noon`), as an aware UTC datetime when it gives a time."""
    found, _ = _scan_filename(name)
    if not found:
        return None
    _, value, timed = found[0]
    return value if timed else value.date()


def rejected_filename_dates(name: str) -> list[str]:
    """Date-like tokens in ``name`` that are not valid dates (for error messages)."""
    return _scan_filename(name)[1]


def _scan_filename(name: str) -> tuple[list[tuple[int, datetime, bool]], list[str]]:
    """The valid dates in ``name`` by position (leftmost first, the longest match at
    one position), each with whether the name gives its time of day, and the date-like
    tokens that are not valid dates."""
    matches: list[tuple[int, int, datetime | None, str, bool]] = []
    for pattern in _FILENAME_PATTERNS:
        for m in pattern.finditer(name):
            timed = any(m.groupdict().get(k) for k in ("H", "H2"))
            matches.append((m.start(), m.end(), _from_match(m), m.group(0), timed))
    matches.sort(key=lambda t: (t[0], -t[1]))
    bad_spans: list[tuple[int, int]] = []
    rejected: list[str] = []
    found: list[tuple[int, datetime, bool]] = []
    for start, end, value, token, timed in matches:
        if any(a <= start and end <= b for a, b in bad_spans):
            continue  # the date part of an impossible date-time
        if value is None:
            if _plausible_year(token):
                bad_spans.append((start, end))
                if token not in rejected:
                    rejected.append(token)
            continue
        found.append((start, value, timed))
    return found, rejected


def _plausible_year(token: str) -> bool:
    head = token[:4]
    if not head.isdigit():  # YYMONDD...: a two-digit year is always 2000-2099
        return True
    return _MIN_YEAR <= int(head) <= _MAX_YEAR


def _from_match(m: re.Match[str]) -> datetime | None:
    parts = m.groupdict()
    if parts.get("yy") is not None:
        year: str | None = str(2000 + int(parts["yy"]))
        month: str | None = str(_MONTHS.split("|").index(parts["mon"].upper()) + 1)
    else:
        year, month = parts.get("y"), parts.get("m")
    hour = parts.get("H") or parts.get("H2")
    minute = parts.get("M") or parts.get("M2")
    second = parts.get("S") or parts.get("S2")
    return _make(year, month, parts.get("d"), hour, minute, second)


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
