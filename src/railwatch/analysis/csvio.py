"""Read counts from CSV: ``date,count`` plus optional
``low,high,usable,class,site,gsd,method,reviewed`` and the image's quality,
``clear_fraction,coverage``.

``reviewed`` (true/false, yes/no, 1/0; empty: false) marks a count that is an analyst's
review of the detector's (``railwatch scene review``; the export writes it, with the
detector's own count in ``detector_count``, which is passed over): it is judged as the
database judges a reviewed image (:attr:`CountPoint.reviewed`). On a gap (an unusable
image) it marks an image an analyst declared unusable (``scene review --unusable``), as
the database's series gives it; the analysis reads it on counts only.

``gsd`` is the image's ground sample distance in metres per pixel; it picks the alert
thresholds the count is judged with (``AlertSettings.coarse_from_gsd``). Without it
(or with an empty cell) a count is judged with the fine images' thresholds. ``method``
is how the count was made (``objects``, ``length``, ``presence`` or ``manual``, the
default): counts are judged against earlier counts of their own method only.

The counts file ``railwatch export SITE --format csv`` writes reads as it is, as the
database's own analysis reads the site's total: its other columns (:data:`EXPORT_ONLY`
and the per-class ``count_*`` and ``covered`` columns) are passed over, so the alerts of
single classes that ``railwatch analyze SITE`` gives are not raised from it (the export
has no per-class intervals, which those alerts are judged with): the columns passed
over that hold a count are in :attr:`CountsFile.class_columns`, and ``analyze
--counts`` says so (2026-12-06, session 40: a code comment alone said it); an
unusable image is a gap of the method its resolution would have had; a 10 m image's
``long_train_present`` is its presence flag (1 or 0, never judged as a count); an
image whose processing failed or that was not processed yet (``status`` failed or
ingested) is left out, with a note.

Columns may be separated by commas, semicolons (Excel's "CSV" where the comma is the
decimal separator, as in most of Europe) or tabs: the separator is the one that makes
the header hold ``date`` and ``count``. In a semicolon-separated file a decimal comma
(``0,5``) is read as a decimal point.

Every error names the line (1 = the header) and what to fix, as an :class:`InputError`:
also a date before 1900 (a mistyped year, as for events), a date written YYYY-MM-DD that
names no day (``2019-13-01``: why, as :func:`railwatch.limits.calendar_error` says it)
and a count ``nan`` (an empty count is the gap). The errors of all bad lines are raised
together, in line order (:class:`LineErrors`; 2026-12-06, session 37: one a run).
Several counts of one series on one UTC day are combined as the database's analysis
combines several images of one day (``railwatch.analysis.series``): the best usable
image's count is kept, the finest method first, then the highest clear fraction x
coverage where the file gives them (``clear_fraction``, ``coverage``: 0 to 1; the export
writes them), and only then the highest count. Days with several different counts are
warned about (``warn``), naming the lines and the one kept, and why.

Files are read as spreadsheets write them (:func:`decode_counts`, :func:`parse_when`,
:func:`date_order`): UTF-8 or UTF-16 with a byte-order mark; units in brackets in the
header; unnamed empty columns and pandas' index column passed over; dates in a
locale's numeric form, their day/month order taken from the file's own dates and
refused when the file cannot tell; Excel serial numbers. A spreadsheet's summary row
(``Total``), a line without a date, one site spelt two ways (``Tumangang``,
``tumangang``) and UTF-16 without its byte-order mark are refused as such (2026-12-05,
session 34); count, low and high columns formatted with three decimals (``73.000``,
``72.500``) read where they cannot be thousands (:func:`_formatted_columns`).
"""

from __future__ import annotations

import bisect
import csv
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from railwatch.analysis.types import CountPoint
from railwatch.detect.base import ALL_CLASSES, cars_words, tells_class
from railwatch.errors import InputError, said_numbers
from railwatch.limits import MAX_RECORD_ID, calendar_error, check_year
from railwatch.rails import PRESENCE_GSD

if TYPE_CHECKING:
    import _csv

REQUIRED = ("date", "count")
OPTIONAL = ("low", "high", "usable", "class", "site", "gsd", "method", "reviewed")
#: Optional columns of the image's quality (fractions from 0 to 1, as the export writes
#: them): of several counts on one day, the clearest image's is kept.
QUALITY = ("clear_fraction", "coverage")
#: Columns of ``railwatch export --format csv`` besides :data:`REQUIRED` and
#: :data:`OPTIONAL` (and the per-class ``count_*``): read only to tell an image that has
#: no count (``status``, ``long_train_present``) and which image a row is (``scene_id``:
#: of two equally good images of one day, the lower id is kept, as in the database), the
#: others passed over.
EXPORT_ONLY = (
    "scene_id",
    "sensor",
    "status",
    "track_lines",  # given or found: the lines a 1.5-10 m count was read along (session 48)
    "covered",
    "long_train_present",
    "no_count_reason",
    "detector_count",
    "day",  # the image's local day at its site (since session 32): each line's day
    # the site's nominal zone (since 2026-12-05, session 33): the zone the lines are read in
    "local_zone",
    # whether low to high rests on an assumed spread of the detector's recall (since
    # 2026-12-08, session 53): the interval is read as given
    "interval_spread_assumed",
)
#: ``status`` values of an exported image that was never analysed: processing failed, or
#: not processed yet. Without a count they are left out, as the database's analysis
#: leaves them out (they are not unusable images: no gap, and never a zero).
NOT_ANALYSED = ("failed", "ingested")
#: The column of `scene import-reviews` that declares an image unusable: the analyst's
#: reason, empty where the image is not declared (read only when asked for).
UNUSABLE = "unusable"
METHODS = ("objects", "length", "presence", "manual")
#: Column separators a counts file may use, in the order they are tried on its header.
SEPARATORS = (",", ";", "\t")
_SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "tab"}
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def parse_when(
    text: str, line: int, order: str | None = None, *, decimal_comma: bool = False
) -> datetime:
    """A date or ISO 8601 datetime as UTC (naive values are taken as UTC); a date alone
    is 00:00 UTC of that date (:func:`read_when` also says whether a time was given).

    Also read: an Excel serial number (:data:`_EXCEL_SERIAL`, Excel's 1900 date system;
    with ``decimal_comma``, in a ``;``-separated file, its fraction may follow a comma,
    ``45204,75``, as Excel writes it where the comma marks decimals) and a numeric date
    with a four-digit year (``05.10.2023``, ``10/5/2023 10:30``) in the day order
    ``order`` (``"dmy"`` or ``"mdy"``, as :func:`date_order` found for the file; dots
    are always day.month.year). A time whose zone moves it out of the years 1-9999
    (``9999-12-31T23:00-05:00``) is an :class:`InputError`, as a date before 1900 is."""
    return read_when(text, line, order, decimal_comma=decimal_comma)[0]


def read_when(
    text: str, line: int, order: str | None = None, *, decimal_comma: bool = False
) -> tuple[datetime, bool]:
    """:func:`parse_when`'s time, and whether the cell gives a time of day (False for a
    date alone, read as 00:00 UTC: ``2024-02-05``, ``05.02.2024``, the whole Excel serial
    ``45327``; True for ``2024-02-05T00:00:00Z``, ``05.02.2024 00:00``, ``45327.0``): a
    time of exactly 00:00 UTC and a date alone are the same instant, not the same cell."""
    raw = text.strip()
    serial = _excel_serial(raw, decimal_comma)
    numeric = _NUMERIC_DATE.fullmatch(raw)
    # a month's name has three letters or more (most dates none: not matched for each)
    named = None
    if serial is None and numeric is None and _LETTERS.search(raw):
        named = _NAMED_MONTH.fullmatch(raw)
    # 2023/10/05; and 2023-10-5, but not ISO's own 2023-10-05 (most dates: left as is)
    ymd = None if _ISO_START.match(raw) else _YMD.fullmatch(raw)
    iso = raw
    if ymd:  # 2023/10/05 (Excel in East Asia): the year first is never ambiguous
        iso = f"{ymd['y']}-{int(ymd['m']):02d}-{int(ymd['d']):02d}" + (ymd["time"] or "")
    if serial is not None:
        when = EXCEL_EPOCH + timedelta(seconds=round(serial * 86_400))
        timed = "." in _decimal(raw, decimal_comma)  # a fraction: the time of day
    elif numeric:
        when = _numeric_date(raw, numeric, line, order)
        timed = numeric["hour"] is not None
    elif named and _month_of(named) is not None:
        when = _named_month_date(raw, named, line)
        timed = named["hour"] is not None
    else:
        timed = not _iso_date_alone(iso)
        try:
            when = datetime.fromisoformat(_UTC_SUFFIX.sub("+00:00", iso))
        except ValueError as err:
            impossible = calendar_error(iso)
            if impossible is not None:  # 2019-13-01: written as asked, but no day
                raise InputError(
                    f"line {line}: cannot read date {raw!r}: it is not a valid calendar "
                    f"date: {impossible}; correct the month or the day"
                ) from err
            raise InputError(
                f"line {line}: cannot read date {raw!r}; use YYYY-MM-DD or an ISO 8601 "
                "datetime (2023-10-05T10:30:00Z)"
            ) from err
    try:
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except OverflowError as err:  # 9999-12-31T23:00-05:00 is in the year 10000 in UTC
        raise InputError(
            f"line {line}: date {raw!r} is out of range in UTC (years 1900-9999): check the year"
        ) from err
    check_year(when, f"line {line}: date")
    return when, timed


def _iso_date_alone(iso: str) -> bool:
    """Whether ``iso`` (an ISO 8601 date or datetime) is a date alone (a "Z" or " UTC"
    after it changes nothing)."""
    try:
        date.fromisoformat(_UTC_SUFFIX.sub("", iso).strip())
    except ValueError:
        return False
    return True


#: A date written as an Excel serial number: days since 1899-12-30 (Excel's 1900 date
#: system), a fraction being the time of day. Five digits: 10000 is 1927-05-18, 99999
#: 2173-10-14 (four digits would be a year alone, e.g. 2023).
_EXCEL_SERIAL = re.compile(r"\d{5}(\.\d+)?")
EXCEL_EPOCH = datetime(1899, 12, 30)


def _excel_serial(raw: str, decimal_comma: bool) -> float | None:
    """``raw`` (stripped) as an Excel serial number (:data:`_EXCEL_SERIAL`), or None
    when it is not one; with ``decimal_comma`` its fraction may follow a comma."""
    text = _decimal(raw, decimal_comma)
    return float(text) if _EXCEL_SERIAL.fullmatch(text) else None


#: A numeric date as spreadsheets write it in their locale: day and month in either
#: order, the year (four digits, or two: refused), an optional time (24 h or AM/PM).
#: A time of day after a date, as spreadsheets write it (24 h or AM/PM).
_CLOCK = (
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
    # " UTC" after it changes nothing (read as UTC): 13/10/2023 10:30 UTC was "cannot
    # read date" though the year-first 2023/10/13 10:30 UTC read (session 34)
    r"(?:\s*(?i:UTC|GMT|Z))?"
)
_NUMERIC_DATE = re.compile(
    r"(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{2,4})" + _CLOCK
)
#: A date with the month's English name, as spreadsheets' named formats write it
#: (Excel's "d-mmm-yyyy" and "Long Date", Google Sheets' "Oct 5, 2023"), an optional
#: weekday first: ``5-Oct-2023``, ``05 October 2023``, ``Thursday, October 5, 2023``
#: (since 2026-12-05, session 34: "cannot read date"). The day and the month cannot be
#: mistaken for one another, so it is read whatever the order.
_NAMED_MONTH = re.compile(
    r"(?:(?P<weekday>[A-Za-z]+\.?),?\s+)?"
    r"(?:(?P<day>\d{1,2})(?:st|nd|rd|th)?[\s\-/]+(?P<month>[A-Za-z]+\.?)"
    r"|(?P<month_first>[A-Za-z]+\.?)[\s\-/]+(?P<day_second>\d{1,2})(?:st|nd|rd|th)?)"
    r",?[\s\-/]+(?P<year>\d{2,4})" + _CLOCK
)
_LETTERS = re.compile(r"[A-Za-z]{3}")
#: ISO 8601's own YYYY-MM-DD at the start of a date (kept as it is: no year-first rebuild)
_ISO_START = re.compile(r"\d{4}-\d\d-\d\d(?!\d)")
_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
#: English month names and their abbreviations (``sept`` too), lower case, to 1-12.
_MONTHS = {
    **{name: k + 1 for k, name in enumerate(_MONTH_NAMES)},
    **{name[:3]: k + 1 for k, name in enumerate(_MONTH_NAMES)},
    "sept": 9,
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: The year first (``2023/10/05``, ``2023.10.05``, and ``2023-10-5`` without the zeros
#: of ISO 8601, since 2026-12-05, session 34: it was "cannot read date").
_YMD = re.compile(
    r"(?P<y>\d{4})(?P<sep>[/.\-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?P<time>[ T].*)?"
)
#: "Z", " UTC" or " GMT" at the end of a time: UTC.
_UTC_SUFFIX = re.compile(r"(?:\s*(?:UTC|GMT)|Z)$", re.IGNORECASE)
_ORDER_NAMES = {"dmy": "day/month/year", "mdy": "month/day/year"}


def _numeric_date(raw: str, m: re.Match[str], line: int, order: str | None) -> datetime:
    """``raw`` (matched by :data:`_NUMERIC_DATE`) in the day order ``order``."""
    iso = "write dates as YYYY-MM-DD (in a spreadsheet: format the column as yyyy-mm-dd)"
    if len(m["year"]) != 4:
        raise InputError(
            f"line {line}: date {raw!r} has a {len(m['year'])}-digit year; write the year "
            f"in full (2023), or {iso}"
        )
    order = "dmy" if m["sep"] == "." else order
    if order is None:
        raise InputError(
            f"line {line}: date {raw!r} could be day/month/year or month/day/year, and no "
            f"date in the file has a day above 12 to tell; {iso}"
        )
    a, b, year = int(m["a"]), int(m["b"]), int(m["year"])
    day, month = (a, b) if order == "dmy" else (b, a)
    hour = _hour(m, raw, line, iso)
    try:
        return datetime(year, month, day, hour, int(m["minute"] or 0), int(m["second"] or 0))
    except ValueError as err:
        raise InputError(
            f"line {line}: date {raw!r} does not exist read as {_ORDER_NAMES[order]} ({err}); "
            f"correct it, or {iso}"
        ) from err


def _hour(m: re.Match[str], raw: str, line: int, iso: str) -> int:
    """The hour (0-23) of a date's time of day (:data:`_CLOCK`; 0 without one)."""
    hour = int(m["hour"] or 0)
    if m["ampm"]:
        if not 1 <= hour <= 12:
            raise InputError(f"line {line}: date {raw!r}: hour {hour} with AM/PM; {iso}")
        hour = hour % 12 + (12 if m["ampm"][0].lower() == "p" else 0)
    return hour


def _month_of(m: re.Match[str]) -> int | None:
    """The month (1-12) a :data:`_NAMED_MONTH` match names, or None when its name is not
    an English month's (``Okt``: not guessed)."""
    return _MONTHS.get((m["month"] or m["month_first"]).lower().rstrip("."))


def _named_month_date(raw: str, m: re.Match[str], line: int) -> datetime:
    """``raw`` (matched by :data:`_NAMED_MONTH`, its month an English name)."""
    iso = "write dates as YYYY-MM-DD (in a spreadsheet: format the column as yyyy-mm-dd)"
    if len(m["year"]) != 4:
        raise InputError(
            f"line {line}: date {raw!r} has a {len(m['year'])}-digit year; write the year "
            f"in full (2023), or {iso}"
        )
    month = _month_of(m) or 0
    day = int(m["day"] or m["day_second"])
    try:
        when = datetime(
            int(m["year"]),
            month,
            day,
            _hour(m, raw, line, iso),
            int(m["minute"] or 0),
            int(m["second"] or 0),
        )
    except ValueError as err:
        raise InputError(f"line {line}: date {raw!r} does not exist ({err}); correct it") from err
    weekday = (m["weekday"] or "").lower().rstrip(".")
    if weekday:
        named = next((k for k, w in enumerate(_WEEKDAYS) if w.startswith(weekday)), None)
        if named is None or len(weekday) < 3:
            raise InputError(
                f"line {line}: cannot read date {raw!r}: {m['weekday']!r} is not a weekday; {iso}"
            )
        if named != when.weekday():
            actual = _WEEKDAYS[when.weekday()].title()
            raise InputError(
                f"line {line}: date {raw!r}: {when:%Y-%m-%d} is a {actual}, not a "
                f"{_WEEKDAYS[named].title()}: check the day, or {iso}"
            )
    return when


def date_order(dates: list[tuple[int, str]]) -> tuple[str | None, str]:
    """The day order of a file's numeric dates with slashes or dashes (``05/10/2023``),
    from those whose first or second number is above 12, as ``("dmy" | "mdy" | None,
    note)``: the note says which line showed the order ("" when nothing was read so).
    Dates of both orders in one file are an :class:`InputError`; with none to tell, the
    order is None and :func:`parse_when` refuses such a date as ambiguous."""
    seen: dict[str, tuple[int, str]] = {}
    for line, text in dates:
        m = _NUMERIC_DATE.fullmatch(text.strip())
        if m is None or m["sep"] == ".":
            continue
        a, b = int(m["a"]), int(m["b"])
        if a > 12 >= b:
            seen.setdefault("dmy", (line, text.strip()))
        elif b > 12 >= a:
            seen.setdefault("mdy", (line, text.strip()))
    if len(seen) == 2:
        (l1, d1), (l2, d2) = sorted(seen.values())
        first, second = ("dmy", "mdy") if seen["dmy"][0] == l1 else ("mdy", "dmy")
        raise InputError(
            f"line {l2}: date {d2!r} is {_ORDER_NAMES[second]}, but line {l1} ({d1!r}) is "
            f"{_ORDER_NAMES[first]}: the dates mix two orders; write them all as YYYY-MM-DD"
        )
    if not seen:
        return None, ""
    ((order, (line, text)),) = seen.items()
    m = _NUMERIC_DATE.fullmatch(text)
    month = max(int(m["a"]), int(m["b"])) if m else 0
    return order, (
        f"dates such as {text!r} read as {_ORDER_NAMES[order]} (line {line} has no month {month})"
    )


#: Largest count accepted: far above any rail yard (the biggest hold some 10,000 cars),
#: far below what would make alert texts print 300-digit numbers.
MAX_COUNT = 1_000_000

#: Cells read as "no value" (``nan``, the result of a failed computation, is an error).
#: ``n/a`` since 2026-12-05 (session 34): ``NA`` was a gap and ``N/A``, the same words,
#: "not a number".
BLANK = ("", "na", "n/a", "none", "null")


def _decimal(raw: str, decimal_comma: bool) -> str:
    """``raw`` with a decimal comma read as a point, in a file whose separator is not the
    comma (``0,5`` -> ``0.5``)."""
    return raw.replace(",", ".") if decimal_comma and _DECIMAL_COMMA.fullmatch(raw) else raw


def _number(
    text: str, column: str, line: int, decimal_comma: bool = False, *, formatted: bool = False
) -> float | None:
    """A count, low or high (>= 0), or None for an empty cell. ``formatted``: the column
    is written with three decimals throughout (:func:`_formatted_columns`), so ``73.000``
    is 73 and ``72.500`` 72.5 (``73,000`` and ``72,500`` in a ';'-separated file)."""
    raw = text.strip()
    if raw.lower() in BLANK:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) < 7:  # most counts: nothing to check
        return float(raw)
    if formatted and _THREE_DECIMALS[decimal_comma].fullmatch(raw):
        return float(_decimal(raw, decimal_comma))
    if decimal_comma and _THOUSANDS_POINT.fullmatch(raw):
        raise InputError(
            f"line {line}: {column} {raw!r} is ambiguous in a ';'-separated file, where a "
            f"comma marks decimals: write {raw.replace('.', '')} without the point that "
            "separates thousands"
            + (f", or {_two_decimals(raw, '.')} if it has decimals" if raw.count(".") == 1 else "")
        )
    if not decimal_comma and _POINT_THOUSANDS.fullmatch(raw):
        # 2026-12-05 (session 34): read as 1.073 railcars, though a count has no three
        # decimals and "1.073" is how German or Dutch write a thousand and 73 (Google
        # Sheets' comma-separated download in such a locale)
        decimals = (
            f", or {round(float(raw), 2):g} if it has decimals" if raw.count(".") == 1 else ""
        )
        raise InputError(
            f"line {line}: {column} {raw!r} is ambiguous: a point that separates thousands, "
            "as German or Dutch write them, or three decimals, which a count of railcars "
            f"does not have; write {raw.replace('.', '')} without the point{decimals}"
            + (_FORMATTED if raw.count(".") == 1 and raw.endswith("0") else "")
        )
    if decimal_comma and _THOUSANDS_COMMA.fullmatch(raw):
        # 2026-12-05 (session 34): read as 1.073 railcars, though a count has no three
        # decimals and "1,073" is how an English text writes a thousand and 73
        raise InputError(
            f"line {line}: {column} {raw!r} is ambiguous in a ';'-separated file: a "
            f"thousands separator or a decimal comma with three decimals, which a count of "
            f"railcars does not have; write {raw.replace(',', '')} without the separator, "
            f"or {_two_decimals(raw, ',')} if it has decimals"
            + (_FORMATTED if raw.endswith("0") else "")
        )
    try:
        value = float(_decimal(raw, decimal_comma))
    except ValueError as err:
        raise InputError(f"line {line}: {column} {raw!r} is not a number; {_hint(raw)}") from err
    if math.isnan(value):
        gap = " (an empty count is a gap: an unusable image)" if column == "count" else ""
        raise InputError(
            f"line {line}: {column} {raw!r} is not a number; leave the cell empty for no value{gap}"
        )
    if not math.isfinite(value):
        raise InputError(f"line {line}: {column} {raw!r} is not a finite number")
    if value < 0:
        raise InputError(f"line {line}: {column} {raw} is negative; counts are >= 0")
    if value > MAX_COUNT:
        raise InputError(
            f"line {line}: {column} {raw} is not a number of railcars at one site (at most "
            f"{MAX_COUNT:,}); check the column and the decimal separator"
        )
    return value


#: ``1.234`` in a file whose decimal separator is the comma: a thousand, or 1.234?
_THOUSANDS_POINT = re.compile(r"\d{1,3}(\.\d{3})+")
#: ``1,234`` there: 1.234 railcars, or a thousand written as English text writes it?
#: (``0,125`` is a fraction: no thousand starts with 0.)
_THOUSANDS_COMMA = re.compile(r"[1-9]\d{0,2},\d{3}")
#: ``1.234`` in a file whose decimal separator is the point: 1.234 railcars, or a
#: thousand as German or Dutch write it? (``0.125`` is a fraction.)
_POINT_THOUSANDS = re.compile(r"[1-9]\d{0,2}(\.\d{3})+")
#: A value written with three decimals (``72.500``; ``72,500`` where the comma marks
#: decimals), by the file's decimal mark (True: the comma).
_THREE_DECIMALS = {False: re.compile(r"\d+\.\d{3}"), True: re.compile(r"\d+,\d{3}")}
#: What to do with a column a spreadsheet writes with three decimals (format 0.000),
#: said of a value whose last decimal is a zero (``65.500``, ``5.000``), as such a
#: column writes whole numbers and halves.
_FORMATTED = (
    " (a spreadsheet column formatted with three decimals, 0.000, writes every value so: "
    "format the column as 0 or 0.00 before you save the CSV)"
)


#: Thousands of railcars no rail yard holds (the biggest hold some 10,000): a value of
#: a column written with three decimals whose part before the point is this or more
#: (``20.000``) is no thousand written with a point.
_NO_YARD = 20


def _formatted_columns(
    rows: list[tuple[int, list[str]]], col: dict[str, int], decimal_comma: bool
) -> tuple[list[str], tuple[int, str] | None]:
    """The count, low and high columns a spreadsheet wrote with three decimals (a column
    formatted 0.000: ``73.000``, ``72.500``), and the first line and value that shows it.

    A column qualifies when every value in it has exactly three decimals (by the file's
    decimal mark); the columns that qualify are read so only when one of their values
    cannot be a thousand written with a point (``1.073``, as German write 1073): one
    that starts with 0 (``0.500``) or has :data:`_NO_YARD` or more before its mark
    (``73.000``: 73,000 railcars, more than any rail yard holds). Columns of ``1.000``
    to ``19.999`` alone stay ambiguous (``12,500`` in a ';' file may be 12,500 railcars
    written as English text writes them), each value refused. Since 2026-12-05
    (session 34): 963d25e and e5123f0 refused each such value as a thousand, so a file
    whose count column was formatted 0.000 was refused whole, though it read before."""
    pattern = _THREE_DECIMALS[decimal_comma]
    qualifying: list[str] = []
    shown: tuple[int, str] | None = None
    for name in ("count", "low", "high"):
        if name not in col:
            continue
        seen = False
        telling: tuple[int, str] | None = None
        for n, r in rows:
            value = r[col[name]].strip()
            if value.lower() in BLANK:
                continue
            if not pattern.fullmatch(value):
                break  # most files: at their first value
            seen = True
            if telling is None and (value[0] == "0" or int(value[:-4]) >= _NO_YARD):
                telling = (n, value)
        else:
            if seen:
                qualifying.append(name)
                shown = shown or telling
    return (qualifying, shown) if shown is not None else ([], None)


def _two_decimals(raw: str, point: str) -> str:
    """``raw`` (``1.073``: one separator, three decimals) rounded to two decimals, with
    a decimal comma, as a ';'-separated file may write a count that has decimals."""
    return f"{round(float(raw.replace(point, '.')), 2):g}".replace(".", ",")


_THOUSANDS = re.compile(r"\d{1,3}([,\u00a0\u202f' ]\d{3})+")
#: A number with words or signs around it: ``~73``, ``73 (est.)``, ``c. 70``, ``>60``.
_DECORATED = re.compile(r"\D*?(\d+(?:[.,]\d+)?)\D*")


#: A spreadsheet's error value: a formula that failed (``#N/A`` of a lookup that found
#: nothing, ``#DIV/0!``, ``#REF!``, ...).
_SHEET_ERROR = re.compile(
    r"#(?:N/A|VALUE!|REF!|DIV/0!|NUM!|NAME\?|NULL!|SPILL!|CALC!|ERROR!)", re.I
)


#: A count written as a range (``70-75``, ``70–75``, ``70 to 75``), since session 34.
_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:-|\u2013|to)\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def _hint(raw: str) -> str:
    """What to do with a count cell that is not a number."""
    if _SHEET_ERROR.fullmatch(raw):
        return (
            "it is the spreadsheet's error value of a formula that failed: correct the "
            "formula or type the count, or leave the cell empty for a gap"
        )
    if raw in ("-", "\u2013", "\u2014"):  # also Excel's accounting format's zero
        return (
            "a dash is a zero or no value: write 0 for none seen, or leave the cell empty for a gap"
        )
    span = _RANGE.fullmatch(raw)
    if span and float(span[1]) <= float(span[2]):
        low, high = float(span[1]), float(span[2])
        return (
            f"a range: give one count (e.g. {(low + high) / 2:g}) and the range in the low "
            f"and high columns (low {low:g}, high {high:g})"
        )
    if _THOUSANDS.fullmatch(raw):
        digits = "".join(c for c in raw if c.isdigit())
        point = f" (or {raw.replace(',', '.')} if the comma marks decimals)" if "," in raw else ""
        return f"write it without the thousands separator: {digits}{point}"
    if re.fullmatch(r"\d*,\d+", raw):
        return f"a decimal comma is read in ';'-separated files only: write {raw.replace(',', '.')}"
    decorated = _DECORATED.fullmatch(raw)
    if decorated:
        return (
            f"give the number alone ({decorated[1]}); an estimate's range goes in the low "
            "and high columns, an unusable image is an empty count"
        )
    return "give a number of railcars (e.g. 73), or leave the cell empty for a gap"


def _gsd(text: str, line: int, decimal_comma: bool = False) -> float | None:
    """The ground sample distance in m/pixel (> 0), or None for an empty cell."""
    raw = text.strip()
    if raw.lower() in BLANK:
        return None
    try:
        value = float(_decimal(raw.removesuffix("m").strip(), decimal_comma))
    except ValueError as err:
        raise InputError(
            f"line {line}: gsd {raw!r} is not a number; give metres per pixel, e.g. 0.5"
        ) from err
    if not math.isfinite(value) or value <= 0:
        raise InputError(
            f"line {line}: gsd {raw} must be a positive number of metres per pixel, e.g. 0.5"
        )
    return value


def _too_coarse(gsd: float, count: float, line: int) -> str:
    """Why a count at a ``gsd`` coarser than :data:`~railwatch.rails.PRESENCE_GSD` (10 m,
    as :data:`railwatch.imagery.quality.MAX_COUNT_GSD`) is refused: a 14 m car is under
    1.4 pixels long there, and a 10 m image tells only whether a long train is present
    (docs/detection.md). A gsd of 50 was 50 cm, read as 50 m and taken silently
    (2026-12-07, session 46); a gap (no count) at such a gsd, as an export's row of a
    coarse image stored unusable, is still read."""
    # a gsd of 10.0000001 was "gsd 10 ... coarser than 10 m" (session 51, fuzzing)
    (said,) = said_numbers([gsd], lambda v: v[0] > PRESENCE_GSD)
    return (
        f"line {line}: count {count:g} at gsd {said} m per pixel: no railcars can be "
        f"counted on an image coarser than {PRESENCE_GSD:g} m per pixel (a 14 m car is "
        f"{14 / gsd:.2g} pixels long; at {PRESENCE_GSD:g} m only the presence of a long "
        f"train shows). gsd is in metres per pixel: if you meant {said} cm, write "
        f"{gsd / 100:g}; if the image really is that coarse, empty its count (a gap)"
    )


def _fraction(text: str, column: str, line: int, decimal_comma: bool = False) -> float | None:
    """A quality fraction from 0 to 1 (``clear_fraction``, ``coverage``), or None for an
    empty cell."""
    raw = text.strip()
    if raw.lower() in BLANK:
        return None
    try:
        value = float(_decimal(raw.removesuffix("%").strip(), decimal_comma))
    except ValueError as err:
        raise InputError(
            f"line {line}: {column} {raw!r} is not a number; give a fraction from 0 to 1 "
            "(0.85 for 85 %), or leave the cell empty"
        ) from err
    if raw.endswith("%") or (math.isfinite(value) and 2 <= value <= 100):
        raise InputError(
            f"line {line}: {column} {raw} must be a fraction from 0 to 1: write "
            f"{value / 100:g} for {value:g} %"
        )
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise InputError(f"line {line}: {column} {raw} must be a fraction from 0 to 1")
    return value


def _scene_id(text: str, line: int) -> int | None:
    """An exported row's ``scene_id`` (a whole number of at most
    :data:`~railwatch.limits.MAX_RECORD_ID`), or None when empty."""
    raw = text.strip()
    if raw.lower() in BLANK:
        return None
    # ASCII digits only: str.isdigit() takes '²' and other digits int() refuses
    if not (raw.isascii() and raw.isdigit()):
        raise InputError(
            f"line {line}: scene_id {raw!r} is not a scene id (a whole number, as "
            "`railwatch export` writes it)"
        )
    value = int(raw)
    if value > MAX_RECORD_ID:
        # no database railwatch uses holds such an id: a pasted hash, a timestamp or a
        # column shifted by one
        shown = raw if len(raw) <= 24 else f"{raw[:20]}... ({len(raw)} digits)"
        raise InputError(
            f"line {line}: scene_id {shown} is not a scene id (ids go up to "
            f"{MAX_RECORD_ID}): check that column, or leave it empty"
        )
    return value


def _flag(text: str, line: int, name: str = "usable", *, empty: bool = True) -> bool:
    """A true/false cell (``empty``: what an empty one means)."""
    raw = text.strip().lower()
    if raw == "":
        return empty
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise InputError(f"line {line}: {name} {text!r} must be true/false, yes/no or 1/0")


def _class(text: str, line: int) -> str:
    """``all`` (an empty cell too), ``covered`` (loads under tarpaulins, a series of the
    database's analysis too) or a railcar class a detector reports, in lower case."""
    raw = text.strip()
    cls = raw.lower() or "all"
    if cls not in ("all", "covered") and cls not in ALL_CLASSES:
        raise InputError(
            f"line {line}: class {raw!r} is not a railcar class: use all (the total), "
            f"covered (loads under tarpaulins) or one of {', '.join(ALL_CLASSES)}"
        )
    return cls


def _method(text: str, line: int, *, default: str) -> str:
    """How the count was made (an empty cell is ``default``)."""
    raw = text.strip()
    method = raw.lower() or default
    if method not in METHODS:
        raise InputError(
            f"line {line}: method {raw!r} is not a count method: use one of {', '.join(METHODS)}"
        )
    return method


#: Units a header may give in brackets after a column's name (``Count (cars)``,
#: ``gsd [m]``, ``date (UTC)``); any other unit is refused rather than guessed at.
_COUNT_UNITS = ("cars", "railcars", "wagons", "n", "#", "number")
UNITS: dict[str, tuple[str, ...]] = {
    "date": ("utc", "z", "gmt"),
    "count": _COUNT_UNITS,
    "low": _COUNT_UNITS,
    "high": _COUNT_UNITS,
    "gsd": ("m", "m/px", "m/pixel", "metres", "meters", "m per pixel", "metres per pixel"),
}
_UNIT = re.compile(r"(?P<name>[^()\[\]]*?)\s*[(\[](?P<unit>[^()\[\]]*)[)\]]")


def column_name(raw: str) -> tuple[str, str | None]:
    """A header cell as (the column's name in lower case, the unit it gives in brackets
    or None)."""
    name = raw.strip().lower()
    m = _UNIT.fullmatch(name)
    return (m["name"].strip(), m["unit"].strip()) if m else (name, None)


def _first_line(text: str) -> str:
    """The header line: the first line that is not blank."""
    return next((ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip()), "")


def separator(text: str) -> str:
    """The column separator of a counts file: the first of :data:`SEPARATORS` that makes
    its header line hold the required columns (a comma when none does: the error then
    names the columns missing)."""
    first = _first_line(text)
    for sep in SEPARATORS:
        names = {column_name(h)[0] for h in next(csv.reader([first], delimiter=sep), [])}
        if all(c in names for c in REQUIRED):
            return sep
    return ","


def _names(header: list[str], line: int) -> list[str]:
    """The columns' names, a unit in brackets checked against :data:`UNITS`."""
    names = []
    for raw in header:
        name, unit = column_name(raw)
        if unit is not None and unit not in UNITS.get(name, ()):
            known = UNITS.get(name)
            if name == "date":
                todo = (
                    "dates are read as UTC: name the column date and give each time with its "
                    "zone (2023-10-05T10:30+09:00)"
                )
            elif known:
                todo = f"name the column {name} (units read: {', '.join(known)})"
            else:
                todo = f"name the column without a unit ({', '.join(REQUIRED + OPTIONAL)})"
            raise InputError(
                f"line {line}: column {raw.strip()!r}: unit {unit!r} is not read; {todo}"
            )
        names.append(name)
    # the dashboard's download (GET /api/sites/{site}/counts?format=csv) names the date
    # `when` and the class `cls`, as the API's JSON does: read as date and class
    for alias, name in (("when", "date"), ("cls", "class")):
        if alias in names and name not in names:
            names[names.index(alias)] = name
    return names


#: Column separators that a counts file does not take but a header may be written with:
#: runs of spaces (text copied from a report or a terminal) and "|" (a Markdown table).
_OTHER_SEPARATORS = re.compile(r"\s*\|\s*|\s+")


def _header_hint(header: list[str], header_line: int) -> str:
    """What the header line that lacks ``date`` or ``count`` is instead, when it can be
    told: a line of counts (the file has no header line), or the names separated by
    spaces or "|" (2026-12-07, session 46: both were "lacks column(s) date, count; the
    header must contain date,count" alone, a header the file seemed to have)."""
    cells = [c.strip() for c in header]
    # the first cell as any separator ends it (the comma was taken: no header holds one)
    first = re.split(r"[;\t]", cells[0])[0].strip() if cells else ""
    if _reads_as_date(first, header_line):
        return (
            f"; line {header_line} is a count ({first!r} is a date), not a header: add a "
            "first line that names the columns, separated as the counts are: date,count "
            "(and the other columns' names in their order)"
        )
    words = {column_name(w)[0] for c in cells for w in _OTHER_SEPARATORS.split(c) if w}
    if all(c in words for c in REQUIRED):
        return (
            f"; line {header_line} names them separated by spaces or '|': separate the "
            "columns with commas (or semicolons, or tabs) on every line"
        )
    return ""


def _reads_as_date(text: str, line: int) -> bool:
    """Whether ``text`` reads as a date in either day order (``05/10/2023`` too)."""
    for order in ("dmy", "mdy"):
        try:
            read_when(text, line, order)
        except InputError:
            continue
        return True
    return False


def _header_below(text: str, header_line: int) -> str:
    """Where the header is when a title or notes stand above it (within 10 lines)."""
    lines = text.lstrip("\ufeff").splitlines()
    for n in range(header_line + 1, min(len(lines), header_line + 10) + 1):
        for sep in SEPARATORS:
            cells = next(csv.reader([lines[n - 1]], delimiter=sep), [])
            if all(c in {column_name(h)[0] for h in cells} for c in REQUIRED):
                return (
                    f"; the header seems to be line {n}: delete the line(s) above it, so "
                    "that the file starts with its header"
                )
    return ""


def _letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0: A, 26: AA)."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


#: How many "several counts on one day" warnings are given one by one; the rest are
#: summed up in one line (a file of several images a day gave one line per day).
MAX_WARNINGS = 10

#: How many bad lines one error lists, in line order; the rest are counted ("and 7
#: more bad lines").
MAX_LINE_ERRORS = 20
_LINE_OF = re.compile(r"line (\d+)\b")


class LineErrors:
    """The errors of a counts file's bad lines, raised together in line order, so that
    one run names every line to fix (2026-12-06, session 37: the first error found was
    raised, and a summary row's check ran before the lines' own, so a file with five bad
    lines took five runs to fix, the first of them not the first line). One error is
    raised as it was found; several as one :class:`InputError`, a line each."""

    def __init__(self, source: str) -> None:
        self.source = source
        #: the errors of the lowest lines, at most MAX_LINE_ERRORS, as (line, seq, error):
        #: a file bad throughout keeps no more (each error holds its traceback's frames)
        self.items: list[tuple[int, int, InputError]] = []
        self.lines: set[int] = set()  # every bad line
        self.count = 0
        self.dropped: int | None = None  # the lowest line of an error not kept

    def add(self, err: InputError, line: int | None = None) -> None:
        """``err``, of ``line`` (None: the line its message starts with, else 0)."""
        if line is None:
            m = _LINE_OF.match(str(err))
            line = int(m[1]) if m else 0
        self.count += 1
        self.lines.add(line)
        bisect.insort(self.items, (line, self.count, err), key=lambda item: item[:2])
        if len(self.items) > MAX_LINE_ERRORS:
            gone = self.items.pop()[0]
            self.dropped = gone if self.dropped is None else min(self.dropped, gone)

    def add_text(self, line: int, message: str) -> None:
        self.add(InputError(message), line)

    def raise_if_any(self) -> None:
        """Raise what was added: one error as it was, several as one."""
        if not self.items:
            return
        if self.count == 1:
            raise self.items[0][2]
        shown = [str(err) for _, _, err in self.items]
        # lines, not errors: a line may hold two (an empty site and a bad value; review
        # r3, session 37: 'and 7 more bad lines' for 6)
        unseen = self.lines - {line for line, _, _ in self.items}
        rest = len(unseen)
        more = (
            [f"and {rest} more bad line{'s' if rest > 1 else ''} (from line {min(unseen)})"]
            if rest
            else [f"and more errors of line {self.dropped}"]
            if self.count > len(shown)
            else []
        )
        n = len(self.lines)
        raise InputError(
            f"{self.source}: {n} line{'s' if n > 1 else ''} cannot be read; correct them all, "
            "then run again (each line's error, in line order):\n" + "\n".join(shown + more)
        ) from self.items[0][2]


def _records(reader: _csv.Reader, source: str) -> Iterator[tuple[int, list[str]]]:
    """The rows of ``reader`` with the line each starts on (a quoted value may span
    lines), a CSV syntax error named with its line."""
    start = reader.line_num + 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
    except csv.Error as err:
        if "field larger than field limit" in str(err):
            raise InputError(
                f'line {start}: a quote (") opened on this line is not closed, so the rest '
                f"of {source} reads as one value: close the quote or remove it"
            ) from err
        raise InputError(f"line {start}: {err}; check the quotes on this line") from err


#: A point's line in a counts file: the line it starts on (1 = the first line, a quoted
#: value may span lines) and its date cell as written, for errors that name the line.
SourceLine = tuple[int, str]


def parse_counts_csv(
    text: str,
    *,
    source: str = "CSV",
    warn: Callable[[str], None] | None = None,
    utc_offset: timedelta | None = None,
    zones: dict[str, timedelta] | None = None,
    lines: dict[str, list[SourceLine]] | None = None,
    zone_spans: dict[str, tuple[timedelta, timedelta]] | None = None,
    zone_misfits: dict[str, str] | None = None,
    stated_zones: dict[str, timedelta] | None = None,
    unusable: dict[str, list[str]] | None = None,
    class_columns: list[str] | None = None,
) -> dict[str, list[CountPoint]]:
    """Parse CSV text into count points per site (site "" when there is no site column).

    An empty ``count`` or ``usable`` false makes an unusable point (a gap, never a zero).
    Columns are separated by commas, semicolons or tabs (:func:`separator`). ``warn`` is
    given one line for each series and day with several different counts (at most
    :data:`MAX_WARNINGS`, then one line for the rest), and a line saying how numeric
    dates were read (day/month order, Excel serial numbers). The day is the UTC day
    (``analyze --counts``: a file's days as it gives them), or with ``utc_offset`` (a
    file read for one stored site, `scene import-reviews`) the site's local day, that
    offset east of UTC, as the site's analysis groups its images: a line's time there,
    or its date as written where it gives a date alone (2026-12-05, session 32; it was
    the UTC day, so two lines of one local day west of Greenwich, 00:30 and 23:30, were
    not said to be one day, and two of different local days were).

    An export's ``day`` column (:data:`EXPORT_ONLY`: each image's local day at its site)
    is each line's day when no ``utc_offset`` is given and it is not empty throughout
    (``analyze --counts`` on an export; since 2026-12-05, session 32: those lines were
    grouped by their UTC days, so at a
    UTC+12 site two images of 02-26 and 02-27 there were "the same day, 2024-02-26
    UTC"). It must be a date (YYYY-MM-DD) at most one day from the line's UTC date, and
    the line must give a time; and the days of one site must follow one whole-hour zone
    from UTC-12 to UTC+12, as the export's (the site's nominal zone) do. That zone is put
    in ``zones`` (by site) when given: the analysis of the points at that offset
    (``analyze_series(..., utc_offset=...)``) groups each line by its ``day``. Of
    several such zones (images taken at one time of day fit many: 17:30 UTC, 10:30 at
    a UTC-7 site, is on its day in every zone from UTC-12 to UTC+6) it is the middle
    one, not necessarily the site's: the file does not say which (2026-12-05, session
    33). ``zone_spans``, when given, is filled with the first and last zone that fit, by
    site: where they differ, a silence's instant (local midnight of its day) in the
    middle one may be hours off the site's.

    With ``utc_offset``, an export's ``day`` column must agree with it: a line whose
    day is not its time's day in that zone is an error naming it (2026-12-05, session
    33: such a column, of a site in another zone, was passed over), or with
    ``zone_misfits`` given, that error's message put there by site, the first of each
    (a file of several sites read for one of them: the caller decides).

    An export's ``local_zone`` column (since 2026-12-05, session 33: the site's nominal
    zone, ``UTC-7``, as the sites layer gives it) says the zone of each site's lines, so
    none is guessed: it must be one zone on every line of a site (:func:`_stated_zones`),
    each line's ``day`` must be its time's day in it (an error naming the line), it is
    the site's zone in ``zones`` and its first and last in ``zone_spans``, and it is put
    in ``stated_zones`` by site. With ``utc_offset`` a site whose ``local_zone`` is
    another is a misfit (as above). A column empty throughout a site's lines (a file
    written before it) says nothing of that site's zone.

    ``lines``, when given, is filled with each point's :data:`SourceLine` (the line it
    starts on and its date as written), by site, in the order of the points: the lines
    `scene import-reviews` names in its errors (2026-12-05, session 32: they were read
    again beside the points by a second reader that had to agree with this one).

    ``unusable``, when given (`scene import-reviews`), reads an optional ``unusable``
    column, the analyst's reason for declaring the image unusable (empty: not declared),
    and is filled with each point's reason ("" where none), by site, in the order of the
    points. A line with a reason is a gap; one that gives a count too is refused with its
    number, and an export's line of a failed or unprocessed image is kept when it has one
    (2026-12-06, session 37). Without ``unusable`` the column is an unknown one.

    ``class_columns``, when given, is filled with an export's per-class columns
    (``count_<class>``, ``covered``) that hold a count on some line: they are passed over
    (only ``count``, the total, is read), so their classes' alerts are not raised.
    """
    sep = separator(text)
    decimal_comma = sep == ";"
    # universal newlines: a file whose lines end in a lone CR (Excel for Mac's "CSV
    # (Macintosh)") was one line, refused with csv's "new-line character seen in
    # unquoted field - do you need to open the file in universal-newline mode?"
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=None), delimiter=sep)
    records = _records(reader, source)
    header_line, header = next(
        ((n, row) for n, row in records if any(c.strip() for c in row)), (1, [])
    )
    if not header:
        raise InputError(f"{source} is empty; it needs a header line 'date,count'")
    names = _names(header, header_line)
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        raise InputError(
            f"line {header_line}: duplicate column(s) {', '.join(twice)} in the header of "
            f"{source}; name each column once (date,count, optional: {','.join(OPTIONAL)})"
        )
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InputError(
            f"line {header_line}: {source} lacks column(s) {', '.join(missing)}; "
            f"the header must contain date,count (optional: {','.join(OPTIONAL)})"
            + (_header_hint(header, header_line) or _header_below(text, header_line))
        )
    exported = "scene_id" in names  # the counts file of `railwatch export --format csv`
    unknown = [
        n
        for n in names
        if n
        and n not in REQUIRED + OPTIONAL + QUALITY
        and not (unusable is not None and n == UNUSABLE)
        and not (exported and (n in EXPORT_ONLY or n.startswith("count_")))
        # the REST counts JSON gives `cls` beside `class`, the same value (session 38):
        # a table made of its items has both; `cls` is checked against `class` below
        and not (n == "cls" and "class" in names)
    ]
    if UNUSABLE in unknown:  # a file meant for `scene import-reviews` (session 37)
        others = [n for n in unknown if n != UNUSABLE]
        raise InputError(
            f"line {header_line}: the column {UNUSABLE} is for `railwatch scene "
            "import-reviews`, which declares images unusable in a site's database (the "
            "analyst's reason on each line); hand counts say an image is unusable with the "
            "column usable (true/false, yes/no, 1/0; false is a gap): rename the column to "
            "usable and write false where it gives a reason, or import the file with "
            "`railwatch scene import-reviews`"
            + (f" (unknown column(s) too: {', '.join(others)})" if others else "")
        )
    if unknown:
        raise InputError(
            f"line {header_line}: unknown column(s) {', '.join(unknown)}; "
            f"allowed: {','.join(REQUIRED + OPTIONAL + QUALITY)}: correct a misspelt name, "
            "or delete the column from the file you export (other columns, such as notes, "
            "are not read: keep them on another sheet)"
        )
    col = {n: i for i, n in enumerate(names) if n}
    #: columns without a name: empty ones (a spreadsheet's trailing columns) are passed
    #: over, and so is a first one of whole numbers (the row index pandas writes)
    unnamed = [i for i, n in enumerate(names) if not n]
    rows: list[tuple[int, list[str]]] = []
    header_cells = _cells(header)
    #: every bad line's error, reported together in line order (session 37: one a run)
    errors = LineErrors(source)

    def checked_row(line: int, row: list[str]) -> list[str] | None:
        """``row`` (of ``line``) as read, None for a blank line; InputError if bad."""
        if not row or all(not cell.strip() for cell in row):
            return None
        while len(row) > len(names) and not row[-1].strip():
            row = row[:-1]  # a trailing separator (an empty cell beyond the header)
        if len(row) < len(names) and all(i in unnamed for i in range(len(row), len(names))):
            row = row + [""] * (len(names) - len(row))
        if len(row) != len(names):
            if col["date"] < len(row):  # 'Total,143' typed below a file of more columns
                count_at = col["count"]
                _dated_line(row[col["date"]], row[count_at] if count_at < len(row) else "", line)
            declared = ",".join(names) + (
                "" if sep == "," else f" (separated by {_SEPARATOR_NAMES[sep]})"
            )
            quote = ' and quote a value that holds a comma ("1,5")' if sep == "," else ""
            raise InputError(
                f"line {line}: {len(row)} fields, expected {len(names)}: the header declares "
                f"{declared}; give one value per column (an empty one for no value){quote}"
            )
        for i in unnamed:
            value = row[i].strip()
            if value and not (i == 0 and value.isdigit()):
                raise InputError(
                    f"line {line}: column {_letter(i)} (column {i + 1}) has no name in the "
                    f"header but holds {value!r}: name it (date,count, optional: "
                    f"{','.join(OPTIONAL)}) or delete the column"
                )
        for name in ("date", "count", "low", "high", "gsd", "usable", "class", "method", UNUSABLE):
            if name in col and "\n" in row[col[name]]:
                raise InputError(
                    f"line {line}: the {name} value {row[col[name]][:40]!r}... spans several "
                    'lines: a quote (") on this line is not closed; close it or remove it'
                )
        date_cell = row[col["date"]].strip().lstrip("\ufeff").strip().lower()
        if date_cell == header_cells[col["date"]] and _cells(row) == header_cells:
            # two files joined one after the other (cat, or a block pasted with its
            # header): it was "cannot read date 'date'; use YYYY-MM-DD" (session 34)
            raise InputError(
                f"line {line} repeats the header of line {header_line}: delete it (files "
                "joined one after the other each keep their header line)"
            )
        # before the checks of all lines (a total row's empty site was "the site is empty")
        _dated_line(row[col["date"]], row[col["count"]], line)
        if "site" in col and not row[col["site"]].isascii():
            # in NFC, as site names are stored (a pasted NFD name is the same name)
            row[col["site"]] = unicodedata.normalize("NFC", row[col["site"]])
        return row

    while True:
        try:
            line, row = next(records)
        except StopIteration:
            break
        except InputError as err:  # a quote not closed: the rest of the file is one value
            errors.add(err)
            break
        try:
            checked = checked_row(line, row)
        except InputError as err:
            errors.add(err, line)
            continue
        if checked is not None:
            rows.append((line, checked))
    if "site" in col:
        sites = [(n, r[col["site"]].strip()) for n, r in rows]
        try:
            _one_spelling(sites)
        except InputError as err:
            errors.add(err)
        named = next(((n, site) for n, site in sites if site), None)
        blank = next((n for n, site in sites if not site), None)
        if named is not None and blank is not None:
            errors.add_text(
                blank,
                f"line {blank}: the site is empty, but line {named[0]} names site "
                f"{named[1]!r}: give every line its site (a site written once above its "
                "lines, or in merged cells, is empty on the other lines of a CSV), or remove "
                "the site column from a file of one site",
            )
    try:
        order, note = date_order([(line, row[col["date"]]) for line, row in rows])
    except InputError as err:  # the file's dates mix two orders: none of them is read
        errors.add(err)
        errors.raise_if_any()
        raise
    serial = next(
        (
            (n, r[col["date"]].strip())
            for n, r in rows
            if _excel_serial(r[col["date"]].strip(), decimal_comma) is not None
        ),
        None,
    )
    #: count, low and high columns written with three decimals (73.000, 72.500)
    formatted, formatted_at = _formatted_columns(rows, col, decimal_comma)
    out: dict[str, list[CountPoint]] = {}
    #: lines of an export's images that were never analysed, by status
    left_out: dict[str, list[int]] = {}
    #: usable counts per (site, class, day: _warn_day), with their lines, for the warning
    days: dict[tuple[str, str, date], list[tuple[int, CountPoint]]] = {}
    #: an export's day column, read as each line's day (no utc_offset given); one left
    #: empty on every line (the dashboard's download as a test writes it) gives none
    by_day = (
        exported
        and "day" in col
        and utc_offset is None
        and any(r[col["day"]].strip() for _, r in rows)
    )
    #: per site, the lines' (line, UTC time, day) of the day column, for its zone
    dated: dict[str, list[tuple[int, datetime, date]]] = {}
    #: per site, the zone its lines' local_zone states, and a disagreement with utc_offset
    stated = _stated_zones(rows, col) if exported and "local_zone" in col else {}
    #: per site, what is wrong with its first day that utc_offset does not give
    misfits: dict[str, str] = {}
    if utc_offset is not None:
        for name, (first_line, text, offset) in stated.items():
            if offset != utc_offset:
                misfits[name] = _zone_disagrees(first_line, text, name, utc_offset)
    #: per site, each point's line and date as written, in the order of its points
    at: dict[str, list[SourceLine]] = {}
    #: per site, each point's unusable reason ("" where none), in the order of its points
    reasons_at: dict[str, list[str]] = {}
    for line, row in rows:

        def cell(name: str, row: list[str] = row) -> str:
            return row[col[name]] if name in col else ""

        try:
            when, timed = read_when(cell("date"), line, order, decimal_comma=decimal_comma)
            local = _day_cell(cell("day"), line, when, timed) if by_day else None
            zone = stated[cell("site").strip()][2] if cell("site").strip() in stated else None
            if zone is not None and timed and cell("day").strip():
                wrong = _day_misfit(cell("day"), line, when, zone, stated_zone=True)
                if wrong is not None:
                    raise InputError(wrong)
            if utc_offset is not None and exported and timed and cell("day").strip():
                misfit = _day_misfit(cell("day"), line, when, utc_offset)
                if misfit is not None:
                    misfits.setdefault(cell("site").strip(), misfit)
            reason = cell(UNUSABLE).strip() if unusable is not None else ""
            if reason and cell("count").strip():
                raise InputError(
                    f"line {line}: gives both a count ({cell('count').strip()}) and an unusable "
                    f"reason ({reason[:60]!r}): an image declared unusable has no count (a gap in "
                    "the series); empty the count to declare it, or the unusable cell to keep the "
                    "count"
                )
            count = _number(
                cell("count"), "count", line, decimal_comma, formatted="count" in formatted
            )
            low = _number(cell("low"), "low", line, decimal_comma, formatted="low" in formatted)
            high = _number(cell("high"), "high", line, decimal_comma, formatted="high" in formatted)
            usable = _flag(cell("usable"), line) and count is not None
            order_msg = "the interval must hold the count: low <= count <= high (swapped columns?)"
            # the numbers with the digits that break the order (5.0000001 was "low 5 is
            # greater than high 5"; session 51, found by fuzzing)
            if low is not None and high is not None and low > high:
                lo, hi = said_numbers([low, high], lambda v: v[0] > v[1])
                raise InputError(f"line {line}: low {lo} is greater than high {hi}; {order_msg}")
            if count is not None and low is not None and low > count:
                lo, n = said_numbers([low, count], lambda v: v[0] > v[1])
                raise InputError(f"line {line}: low {lo} is greater than count {n}; {order_msg}")
            if count is not None and high is not None and high < count:
                hi, n = said_numbers([high, count], lambda v: v[0] < v[1])
                raise InputError(f"line {line}: high {hi} is less than count {n}; {order_msg}")
            cls = _class(cell("class"), line)
            if "cls" in col and cell("cls").strip() and _class(cell("cls"), line) != cls:
                raise InputError(
                    f"line {line}: class {cls!r} and cls {cell('cls').strip()!r} differ; "
                    "cls is the old name of class (the API's JSON gives both, the same "
                    "value): delete the cls column, or make it agree with class"
                )
            site = cell("site").strip()
            gsd = _gsd(cell("gsd"), line, decimal_comma)
            if count is not None and gsd is not None and gsd > PRESENCE_GSD:
                raise InputError(_too_coarse(gsd, count, line))
            if exported and count is None:
                status = cell("status").strip().lower()
                if status in NOT_ANALYSED and not reason:
                    left_out.setdefault(status, []).append(line)
                    continue
                flag = _presence_flag(cell("long_train_present"), cell("method"), line)
                if flag is not None:  # a 10 m image: its long-train flag, 1 or 0, as stored
                    count = 1.0 if flag else 0.0
                    usable = _flag(cell("usable"), line)
                elif not tells_class(cls, cell("method").strip().lower() or None):
                    # a usable image whose method cannot tell this class (a type, or the
                    # covered load, at 3 m: occupied track length): its count is unknown,
                    # and the image is no gap, as `railwatch analyze SITE` reads it
                    # (storage's count series); a gap here raised silences the site never had
                    usable = _flag(cell("usable"), line)
            usable = usable and not reason  # declared unusable: a gap
            gap_of_export = "method" in col and not usable
            method = _method(
                cell("method"),
                line,
                default=_gap_method(gsd) if gap_of_export else "manual",
            )
            point = CountPoint(
                when=when,
                count=count if usable else None,
                low=low if usable else None,
                high=high if usable else None,
                usable=usable,
                cls=cls,
                method=method,
                gsd=gsd,
                clear_fraction=_fraction(
                    cell("clear_fraction"), "clear_fraction", line, decimal_comma
                ),
                coverage=_fraction(cell("coverage"), "coverage", line, decimal_comma),
                scene_id=_scene_id(cell("scene_id"), line) if exported else None,
                # a gap row's flag too: an image an analyst declared unusable is reviewed in
                # the export (534d6ea), and read as false here until session 36's review
                reviewed=_flag(cell("reviewed"), line, "reviewed", empty=False),
                date_only=not timed,
            )
            out.setdefault(site, []).append(point)
            at.setdefault(site, []).append((line, cell("date").strip()))
            reasons_at.setdefault(site, []).append(reason)
            if local is not None:
                dated.setdefault(site, []).append((line, when, local))
            if usable and count is not None:
                day = (
                    local
                    if local is not None
                    else _warn_day(when, timed, utc_offset if utc_offset is not None else zone)
                )
                days.setdefault((site, cls, day), []).append((line, point))
        except InputError as err:  # reported with the other bad lines
            errors.add(err, line)
    errors.raise_if_any()
    if not out and left_out:
        raise InputError(
            f"{source} has no image that was analysed: {_left_out_text(left_out)}; run "
            "`railwatch process` and export again"
        )
    if not out:
        raise InputError(f"{source} has a header but no count lines")
    if misfits:
        if zone_misfits is None:
            raise InputError(next(iter(misfits.values())))
        zone_misfits.update(misfits)
    if class_columns is not None and exported:
        class_columns.extend(
            n
            for n in names
            if (n.startswith("count_") or n == "covered")
            and any(r[col[n]].strip() for _, r in rows)
        )
    spans = {site: _zone_of_days(lines, site) for site, lines in dated.items()}
    # a stated zone is the site's: its days fit it (checked above), no middle one is taken
    hours = {site: round(z[2] / timedelta(hours=1)) for site, z in stated.items()}
    spans.update({site: (h, h) for site, h in hours.items() if site in out})
    if zones is not None:
        zones.update({site: timedelta(hours=(a + b) // 2) for site, (a, b) in spans.items()})
    if zone_spans is not None:
        zone_spans.update(
            {site: (timedelta(hours=a), timedelta(hours=b)) for site, (a, b) in spans.items()}
        )
    if stated_zones is not None:
        stated_zones.update({site: z[2] for site, z in stated.items() if site in out})
    if lines is not None:
        lines.update(at)
    if unusable is not None:
        unusable.update(reasons_at)
    if warn is not None:
        if note:
            warn(note)
        if formatted_at is not None:
            line, text = formatted_at
            cols = " and ".join(
                [", ".join(formatted[:-1]), formatted[-1]] if formatted[1:] else formatted
            )
            warn(
                f"{cols} values such as {text!r} (line {line}) read with their three decimals "
                f"({float(_decimal(text, decimal_comma)):g}): every value of the {cols} "
                f"column{'s' if len(formatted) > 1 else ''} is written so, as a spreadsheet "
                "column formatted 0.000 writes them, and not all can be a thousand written "
                "with a point"
            )
        if left_out:
            warn(
                f"{_left_out_text(left_out)} left out, as `railwatch analyze SITE` leaves "
                "them out (no count, and not unusable images)"
            )
        if serial is not None:
            line, text = serial
            warn(
                f"dates such as {text!r} read as Excel serial numbers (line {line}: "
                f"{parse_when(text, line, decimal_comma=decimal_comma):%Y-%m-%d %H:%M} UTC, "
                "Excel's 1900 date system)"
            )
        several = [
            (key, counts)
            for key, counts in sorted(days.items())
            if len({p.count for _, p in counts}) > 1
        ]
        for (site, cls, day), counts in several[:MAX_WARNINGS]:
            total = None if cls == "all" else days.get((site, "all", day))
            warn(_several_counts(site, cls, day, counts, utc_offset, by_day=by_day, total=total))
        if len(several) > MAX_WARNINGS:
            rest = several[MAX_WARNINGS:]
            first = ", ".join(str(counts[0][0]) for _, counts in rest[:5])
            chosen = (
                "the highest is kept"
                if all(
                    _kept(counts, None if k[1] == "all" else days.get((k[0], "all", k[2])))[2]
                    == "count"
                    for k, counts in rest
                )
                else "the best image's count is kept (the finest method, then the highest "
                "clear fraction x coverage, then the highest count)"
            )
            warn(
                f"and {len(rest):,} more days with several different counts of one series "
                f"(from lines {first}{', ...' if len(rest) > 5 else ''}): on each {chosen}"
            )
    return out


def _cells(row: list[str]) -> list[str]:
    """A line's cells as a header's would be compared: without spaces, a byte-order mark
    (of a second file joined after the first) or letter case."""
    return [c.strip().lstrip("\ufeff").strip().lower() for c in row]


def _one_spelling(sites: list[tuple[int, str]]) -> None:
    """Refuse two spellings of one site name, ``sites`` being each line's (line, site):
    names that differ only in letter case or spaces (``Tumangang``, ``tumangang``,
    ``Tumangang  yard``) were read as two sites, each analysed on part of the counts
    (2026-12-05, session 34)."""
    first: dict[str, tuple[int, str]] = {}
    spelt: set[str] = set()  # the names already seen as written
    for line, site in sites:
        if site in spelt:
            continue
        spelt.add(site)
        seen = first.setdefault(" ".join(site.split()).casefold(), (line, site))
        if seen[1] != site:
            raise InputError(
                f"line {line}: site {site!r} differs from line {seen[0]}'s {seen[1]!r} only "
                "in letter case or spaces, so the two would be analysed as two sites, each "
                "on part of the counts: write one site's name the same way on every line"
            )


#: A date cell that names a spreadsheet's summary row (``Total``, ``Average:``).
_SUMMARY = re.compile(
    r"(?:(?:grand\s+|sub-?)?totals?|sums?|average|avg|mean|median|min|minimum|max|maximum"
    r"|summe|gesamt|somme|moyenne|totaal|suma|promedio|media|итого|合計|合计)(?!\w)",
    re.IGNORECASE,
)


def _dated_line(date_text: str, count_text: str, line: int) -> None:
    """Refuse a counts line without a date, or one that is a spreadsheet's summary row
    (``Total,143`` below the counts), saying so: both were "cannot read date 'Total';
    use YYYY-MM-DD", which sent the analyst to fix a date that is not one (2026-12-05,
    session 34)."""
    raw = date_text.strip()
    if raw[:1].isdigit():  # a date, or not a summary row's word: read as a date
        return
    count = count_text.strip()
    shown = f" (count {count!r})" if count else ""
    if _SUMMARY.match(raw):
        raise InputError(
            f"line {line}: {raw!r}{shown} is a summary row of the spreadsheet, not a count: "
            "delete the line (each line is one count, with its date), or keep the summary "
            "out of the rows you export"
        )
    if not raw:
        raise InputError(
            f"line {line}: the date is empty{shown}: give the date of this count, or delete "
            "the line if it is not a count (a total, a note)"
        )


def _presence_flag(text: str, method: str, line: int) -> bool | None:
    """An exported 10 m image's ``long_train_present`` (None when empty, or when the
    row's method is not ``presence``)."""
    raw = text.strip().lower()
    if method.strip().lower() != "presence" or raw in BLANK:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise InputError(
        f"line {line}: long_train_present {text!r} must be true/false (or empty for no flag)"
    )


def _gap_method(gsd: float | None) -> str:
    """The method of an exported image without one (an unusable image): the one its
    resolution would have had, as the database's analysis gives it (cars one by one when
    the resolution is not known)."""
    from railwatch.detect.coarse import method_for_gsd

    return "objects" if gsd is None else method_for_gsd(round(gsd, 3))


def _left_out_text(left_out: dict[str, list[int]]) -> str:
    """``left_out`` (lines by status) in words: "2 images whose processing failed (lines
    4, 9)"."""
    words = {"failed": "whose processing failed", "ingested": "not processed yet"}
    parts = []
    for status in NOT_ANALYSED:
        lines = left_out.get(status, [])
        if lines:
            shown = ", ".join(str(n) for n in lines[:5]) + (", ..." if len(lines) > 5 else "")
            noun = "image" if len(lines) == 1 else "images"
            parts.append(
                f"{len(lines)} {noun} {words[status]} (line{'s' if len(lines) > 1 else ''} {shown})"
            )
    return " and ".join(parts)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day_cell(text: str, line: int, when: datetime, timed: bool) -> date:
    """An export line's ``day`` (its image's local day at its site), checked: a date
    written YYYY-MM-DD, at most one day from the UTC date of the line's time (no zone is
    more than 12 hours from UTC), on a line that gives a time."""
    raw = text.strip()
    fix = (
        "the day column is the image's local day at its site as `railwatch export` writes "
        "it: correct it, or remove the column to group the lines by their UTC days"
    )
    try:
        day = date.fromisoformat(raw) if _ISO_DAY.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None:
        raise InputError(f"line {line}: day {text!r} is not a date (YYYY-MM-DD); {fix}")
    if not timed:
        raise InputError(
            f"line {line}: date {when:%Y-%m-%d} gives no time of day, but the file has a day "
            "column (the local day of an image's time): give the time as the export wrote it, "
            "or remove the day column"
        )
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if abs((day - utc.date()).days) > 1:
        raise InputError(
            f"line {line}: day {raw} is more than one day from the line's date "
            f"{utc:%Y-%m-%d %H:%M} UTC (a local day is within a day of it); {fix}"
        )
    return day


#: The zones a site's local day may be in: whole hours from UTC-12 to UTC+12, as the
#: site's nominal zone (``railwatch.sites.nominal_utc_offset``) is.
_ZONE_HOURS = range(-12, 13)


def _zone_of_days(lines: list[tuple[int, datetime, date]], site: str) -> tuple[int, int]:
    """The whole-hour zones (UTC-12 to UTC+12) in which every line's time falls on its
    day, as (first, last) hours east of UTC: the export's day column of one site follows
    the site's nominal zone, so there is one, and the analysis at any of them groups each
    line by its day (a file of images at many times of day leaves only the site's own)."""
    spans = []  # per line, the zones that put its time on its day: a run of hours
    for n, when, day in lines:
        utc = when if when.tzinfo else when.replace(tzinfo=UTC)
        # h puts it on its day where midnight <= utc + h < the next midnight
        ahead = (datetime(day.year, day.month, day.day, tzinfo=UTC) - utc).total_seconds()
        first = max(_ZONE_HOURS[0], math.ceil(ahead / 3600))
        last = min(_ZONE_HOURS[-1], math.ceil((ahead + 86400) / 3600) - 1)
        spans.append((n, utc, day, first, last) if first <= last else (n, utc, day, 99, -99))
    first = max(t[3] for t in spans)
    last = min(t[4] for t in spans)
    if first <= last:
        return first, last
    # the two lines no one zone puts on their days: the one that needs the most east
    # zone, and the one that needs the most west
    low = max(spans, key=lambda t: t[3])
    high = min(spans, key=lambda t: t[4])
    where = f" of site {site}" if site else ""
    raise InputError(
        f"the day column{where} follows no one time zone: line {low[0]} "
        f"({low[1]:%Y-%m-%d %H:%M} UTC on {low[2].isoformat()}) needs UTC{low[3]:+d} or "
        f"east of it, line {high[0]} ({high[1]:%Y-%m-%d %H:%M} UTC on {high[2].isoformat()}) "
        f"UTC{high[4]:+d} or west of it; the day column is each image's local day at its "
        "site as `railwatch export` writes it: correct it, or remove the column to group "
        "the lines by their UTC days"
    )


def _day_misfit(
    text: str, line: int, when: datetime, utc_offset: timedelta, *, stated_zone: bool = False
) -> str | None:
    """What is wrong with an export line's ``day`` that is not the day of its time
    ``utc_offset`` east of UTC (the zone the file is read in: a stored site's, or
    ``analyze --counts --zone``'s, or with ``stated_zone`` the line's own ``local_zone``);
    None when it is."""
    from railwatch.analysis.events import offset_text

    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    local = (utc + utc_offset).date()
    if text.strip() == local.isoformat():
        return None
    if stated_zone:
        return (
            f"line {line}: day {text.strip()!r} is not the day of its time "
            f"{utc:%Y-%m-%d %H:%M} UTC in its local_zone {offset_text(utc_offset)} "
            f"({local.isoformat()}): `railwatch export` writes each image's local day in "
            "its site's zone, so one of the two was changed; correct the day or the "
            "local_zone (or export the site again)"
        )
    return (
        f"line {line}: day {text.strip()!r} is not the day of its time "
        f"{utc:%Y-%m-%d %H:%M} UTC in {offset_text(utc_offset)} ({local.isoformat()}): "
        "the file's day column (each image's local day at its site, as `railwatch "
        f"export` writes it) follows another zone than {offset_text(utc_offset)}; check "
        "the zone given for the site (or that the file is of this site)"
    )


#: A zone as ``local_zone``, ``--zone`` or :func:`~railwatch.analysis.events.offset_text`
#: write it: ``UTC-7``, ``UTC+12``, ``GMT+3``, ``-7``, ``+05:00`` (whole hours).
_ZONE = re.compile(r"(?:UTC|GMT)?\s*([+-]\s*\d{1,2})(?::?00)?", re.IGNORECASE)


def zone_offset(text: str) -> timedelta | None:
    """A site's nominal zone written ``UTC-7``, ``UTC+12``, ``UTC`` (as
    :func:`~railwatch.analysis.events.offset_text` writes it, and the export's
    ``local_zone``), ``-7`` or ``+05:00``, as an offset east of UTC: whole hours from
    UTC-12 to UTC+12, as :func:`railwatch.sites.nominal_utc_offset` gives them; None for
    anything else."""
    raw = text.strip().replace("\u2212", "-")
    if raw.upper() in ("UTC", "GMT", "Z", "0", "+0", "-0"):
        return timedelta(0)
    m = _ZONE.fullmatch(raw)
    hours = int(m.group(1).replace(" ", "")) if m else None
    if hours is None or not -12 <= hours <= 12:
        return None
    return timedelta(hours=hours)


def _stated_zones(
    rows: list[tuple[int, list[str]]], col: dict[str, int]
) -> dict[str, tuple[int, str, timedelta]]:
    """The zone an export's ``local_zone`` column gives each site, as (its first line, the
    zone as written, the offset), for the sites whose lines give one. Every line of such
    a site must give that zone (an error naming the line that does not: a site has one
    nominal zone, and its days are in it)."""
    cells: dict[str, list[tuple[int, str]]] = {}
    for line, row in rows:
        site = row[col["site"]].strip() if "site" in col else ""
        cells.setdefault(site, []).append((line, row[col["local_zone"]].strip()))
    out: dict[str, tuple[int, str, timedelta]] = {}
    for site, given in cells.items():
        first = next(((n, t) for n, t in given if t), None)
        if first is None:
            continue  # written before the column (or emptied): its zone is not said
        of = f" of site {site!r}" if site else ""
        fix = (
            ": a site has one nominal zone, and `railwatch export` writes it on every line "
            "of the site; correct the line (in a file of several sites, check its site)"
        )
        for n, text in sorted(given, key=lambda g: g != first):
            offset = zone_offset(text) if text else None
            if text and offset is None:
                raise InputError(
                    f"line {n}: local_zone {text!r} is not a zone: `railwatch export` writes "
                    "the site's nominal zone as UTC-7, UTC+12 or UTC (whole hours from "
                    "UTC-12 to UTC+12); correct it, or export the site again"
                )
            if offset is None:
                raise InputError(
                    f"line {n}: local_zone is empty, but line {first[0]} gives "
                    f"{first[1]!r}{of}{fix}"
                )
            if site not in out:
                out[site] = (n, text, offset)
            elif offset != out[site][2]:
                raise InputError(
                    f"line {n}: local_zone {text!r} is not line {first[0]}'s {first[1]!r}{of}{fix}"
                )
    return out


def _zone_disagrees(line: int, text: str, site: str, utc_offset: timedelta) -> str:
    """The error for a ``local_zone`` that is not ``utc_offset``, the zone the file is
    read in (``analyze --counts --zone``'s, or the stored site's for ``scene
    import-reviews``)."""
    from railwatch.analysis.events import offset_text

    of = f" of site {site!r}" if site else ""
    return (
        f"line {line}: local_zone {text!r}{of} is not {offset_text(utc_offset)}, the zone "
        "the file is read in (`analyze --counts --zone`'s, or the stored site's for `scene "
        "import-reviews`): check that the file is of this site; `analyze --counts` needs "
        "no --zone for a file that gives local_zone"
    )


def _warn_day(when: datetime, timed: bool, utc_offset: timedelta | None) -> date:
    """The day a line is grouped by for the several-counts warning: its UTC day, or with
    ``utc_offset`` the site's local day (a date given alone is that day as written)."""
    if utc_offset is None or not timed:
        return when.date()
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return (utc + utc_offset).date()


def _kept(
    counts: list[tuple[int, CountPoint]], total: list[tuple[int, CountPoint]] | None = None
) -> tuple[int, CountPoint, str]:
    """The line and point the analysis keeps of one series' usable counts on one day
    (:func:`railwatch.analysis.series.build_series`: the best image, as the database's
    analysis keeps it), and what chose it: ``total`` (a type's line of the image whose
    total, of the day's ``total`` lines, the analysis keeps: every class of a day follows
    the total's image where the lines name their scenes), ``method`` (a finer method than
    the others'), ``reviewed`` (an analyst's count among the detector's), ``quality`` (the
    highest clear fraction x coverage among those) or ``count`` (nothing else to choose
    by: the highest count, the first line of equals)."""
    from dataclasses import replace

    from railwatch.analysis.series import METHOD_RANK, build_series, quality_score

    # one day whatever their times (a local day at a site may span two UTC days)
    one_day = counts[0][1].when
    same = [replace(p, when=one_day) for _, p in counts]
    beside = [replace(p, when=one_day) for _, p in total or []]
    cls = counts[0][1].cls

    def kept_of(points: list[CountPoint]) -> int:
        best = build_series(points)[cls].points[0]
        return next(i for i, p in enumerate(same) if p == best)

    i = kept_of(same + beside)
    line, best = counts[i]
    if beside and i != kept_of(same):
        return line, best, "total"
    rank = METHOD_RANK.get(best.method, 1)
    peers = [p for _, p in counts if METHOD_RANK.get(p.method, 1) == rank]
    if len(peers) < len(counts):
        return line, best, "method"
    if len({p.reviewed for p in peers}) > 1:
        return line, best, "reviewed"
    if len({quality_score(p) for p in peers}) > 1:
        return line, best, "quality"
    return line, best, "count"


def _several_counts(
    site: str,
    cls: str,
    day: date,
    counts: list[tuple[int, CountPoint]],
    utc_offset: timedelta | None = None,
    *,
    by_day: bool = False,
    total: list[tuple[int, CountPoint]] | None = None,
) -> str:
    """The warning for several different counts of one series on one day: a UTC day, or
    with ``utc_offset`` a local day at the site (:func:`parse_counts_csv`), or with
    ``by_day`` the day the file's day column gives; ``total``: the same day's lines of
    the total (``all``), whose image a type's count follows (:func:`_kept`)."""
    from railwatch.analysis.events import offset_text
    from railwatch.analysis.series import quality_score

    lines = [str(line) for line, _ in counts]
    kept_line, kept, why = _kept(counts, total)
    value = float(kept.count or 0.0)
    what = cars_words(cls)
    where = f" at site {site}" if site else ""
    if by_day:
        on = "at the site (the file's day column)"
    elif utc_offset is None:
        on = "UTC"
    else:
        on = f"at the site ({offset_text(utc_offset)} nominal)"
    # as many digits as tell the counts apart ("differently (5, 5)" of 5 and 5.0000001;
    # session 51, found by fuzzing); the kept value is written as its own number there
    given = [float(p.count or 0.0) for _, p in counts]
    shown = said_numbers(given, lambda v: len(set(v)) == len(set(given)))
    said = dict(zip(given, shown, strict=True))
    value_said = said.get(value, f"{value:g}")
    head = (
        f"lines {', '.join(lines[:-1])} and {lines[-1]} count {what}{where} on the same day, "
        f"{day.isoformat()} {on}, differently ({', '.join(shown)}): "
        "the analysis keeps one count a day, "
    )
    tail = "; correct or remove the others"
    if why == "count":  # no method or quality to choose by
        return head + (
            f"the highest ({value_said}, line {kept_line}), as it keeps the best image of "
            f"several on one day{tail}"
        )
    if why == "total":
        return head + (
            f"that of the image whose total it keeps ({value_said}, line {kept_line}, scene "
            f"{kept.scene_id}), as every type of a day follows the day's total{tail}"
        )
    if why == "method":
        others = sorted({p.method for _, p in counts} - {kept.method})
        reason = f"counted {kept.method}, finer than {' and '.join(others)}"
    elif why == "reviewed":
        reason = "an analyst's count (reviewed true), the others the detector's"
    else:
        worst = max(quality_score(p) for n, p in counts if n != kept_line)
        reason = (
            f"clear fraction x coverage {quality_score(kept):.2f}, the others {worst:.2f} at most"
        )
    return head + (
        f"the best image's ({value_said}, line {kept_line}: {reason}), as it keeps the best of "
        f"several images on one day (the finest method, then the clearest){tail}"
    )


#: Files that are not text, by their first bytes: what they are.
_NOT_TEXT = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
    (b"\x1f\x8b", "gzip-compressed (decompress it first: gunzip)"),
    (b"%PDF", "a PDF document"),
)
_SAVE_AS = (
    "save it as UTF-8 CSV (Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'; "
    "LibreOffice: File > Save As > 'Text CSV', character set 'Unicode (UTF-8)')"
)


def _position(before: str) -> tuple[int, int]:
    """The line and character (from 1) of what follows the text ``before``, its lines
    ending in LF, CRLF or a lone CR (the line was counted by LFs alone, so every error
    in a "CSV (Macintosh)" file was on line 1; 2026-12-05, session 34)."""
    lines = re.split(r"\r\n|\r|\n", before)
    return len(lines), len(lines[-1]) + 1


def decode_counts(data: bytes, source: str) -> str:
    """The text of a counts file: UTF-8 (with or without a byte-order mark), or UTF-16 /
    UTF-32 with a byte-order mark (Excel's "Unicode Text"). A workbook or other binary
    file, and text in another encoding (Windows-1252, as Excel's plain "CSV (Comma
    delimited)" writes it in Western Europe), is an :class:`InputError` that says what
    it is, where, and how to save it as UTF-8."""
    if data.startswith(b"PK\x03\x04"):
        what = (
            "an Excel workbook (.xlsx)"
            if b"xl/" in data[:65_536]
            else "an OpenDocument spreadsheet (.ods)"
            if b"opendocument.spreadsheet" in data[:200]
            else "a zip archive"
        )
        raise InputError(f"{source} is {what}, not CSV text: open it and {_SAVE_AS}")
    for magic, what in _NOT_TEXT:
        if data.startswith(magic):
            raise InputError(f"{source} is {what}, not CSV text: {_SAVE_AS}")
    wide = data.startswith((b"\xff\xfe", b"\xfe\xff")) and not data.startswith(b"\xff\xfe\x00\x00")
    encoding = (
        "utf-32"
        if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"))
        else "utf-16"
        if wide
        else "utf-8-sig"
    )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        if encoding != "utf-8-sig":
            raise InputError(
                f"{source} starts as {encoding.upper()} text but is not (byte {err.start}): "
                f"{_SAVE_AS}"
            ) from err
        line, column = _position(data[: err.start].decode("utf-8", errors="replace"))
        byte = data[err.start]
        # lines ending in a lone CR: Excel for Mac's "CSV (Macintosh)", in Mac Roman
        mac = b"\r" in data and b"\n" not in data
        guess = bytes([byte]).decode("mac_roman" if mac else "cp1252", errors="replace")
        encoding = (
            "Mac Roman, the encoding of Excel for Mac's 'CSV (Macintosh)'"
            if mac
            else "Windows-1252, the encoding of Excel's plain 'CSV'"
        )
        raise InputError(
            f"{source} is not UTF-8 text: line {line}, character {column} is the byte "
            f"0x{byte:02x} ({guess!r} in {encoding}); {_SAVE_AS}"
        ) from err
    if "\x00" in text:
        # UTF-16 without its byte-order mark reads as UTF-8 with a NUL beside each
        # character: it was "lacks column(s) date, count" of a header that reads date,count
        line, character = _position(text[: text.index("\x00")])
        if data[:200].count(0) * 3 >= min(len(data), 200):
            what = "NUL bytes: it looks like UTF-16 text without a byte-order mark"
        else:
            what = (
                f"a NUL byte (line {line}, character {character}), which CSV text never "
                "holds: it is not a text file, or a damaged one"
            )
        raise InputError(f"{source} holds {what}; {_SAVE_AS}")
    return text


@dataclass(frozen=True)
class CountsFile:
    """A counts CSV as :func:`read_counts_file` reads it: the series and what the CLI
    (`analyze --counts`, `scene import-reviews`) and :mod:`railwatch.api` read beside
    them, each by site ("" for a file without a site column); see
    :func:`parse_counts_csv` for what each means. Since 2026-12-06 (session 38): the
    reader filled dicts its caller passed in."""

    #: the count points of each site, in the file's order
    series: dict[str, list[CountPoint]]
    #: each point's line and date as written (:data:`SourceLine`), in the points' order
    lines: dict[str, list[SourceLine]]
    #: the zone of an export's day column or ``local_zone`` (a site without either: none)
    zones: dict[str, timedelta]
    #: the first and last zone that fit a site's day column
    zone_spans: dict[str, tuple[timedelta, timedelta]]
    #: what is wrong with a site's day column or ``local_zone`` that ``utc_offset`` does
    #: not give (read with ``keep_misfits``; otherwise such a file is an error)
    zone_misfits: dict[str, str]
    #: the zone an export's ``local_zone`` column states
    stated_zones: dict[str, timedelta]
    #: each point's unusable reason ("" where none), in the points' order; empty unless
    #: read with ``unusable`` (`scene import-reviews`)
    unusable: dict[str, list[str]]
    #: an export's per-class columns (``count_<class>``, ``covered``) that hold counts:
    #: passed over, only the total is read (since 2026-12-06, session 40)
    class_columns: tuple[str, ...] = ()


def _file_text(path: str | Path) -> tuple[str, str]:
    """The decoded text of a counts file (:func:`decode_counts`) and its name."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError as err:
        raise InputError(f"no such file: {p}") from err
    except IsADirectoryError as err:
        raise InputError(
            f"{p} is a folder: give a CSV file of counts (a header line date,count, then one "
            "line per count)"
        ) from err
    except OSError as err:
        raise InputError(f"cannot read {p}: {err.strerror}; give a CSV file you can read") from err
    return decode_counts(data, str(p)), str(p)


def read_counts_file(
    path: str | Path,
    *,
    warn: Callable[[str], None] | None = None,
    utc_offset: timedelta | None = None,
    keep_misfits: bool = False,
    unusable: bool = False,
) -> CountsFile:
    """Read a CSV file of hand counts (:func:`decode_counts`, :func:`parse_counts_csv`)
    with what the CLI and :mod:`railwatch.api` read beside the series
    (:class:`CountsFile`). ``warn`` and ``utc_offset`` as :func:`read_counts_csv`;
    ``keep_misfits``: a site whose day column or ``local_zone`` does not fit
    ``utc_offset`` is put in :attr:`CountsFile.zone_misfits` (the caller decides: a file
    of several sites read for one) instead of refusing the file; ``unusable``: read the
    optional ``unusable`` column (`scene import-reviews`; otherwise an unknown column)."""
    text, source = _file_text(path)
    lines: dict[str, list[SourceLine]] = {}
    zones: dict[str, timedelta] = {}
    zone_spans: dict[str, tuple[timedelta, timedelta]] = {}
    zone_misfits: dict[str, str] = {}
    stated_zones: dict[str, timedelta] = {}
    reasons: dict[str, list[str]] = {}
    passed_over: list[str] = []
    series = parse_counts_csv(
        text,
        source=source,
        warn=warn,
        utc_offset=utc_offset,
        zones=zones,
        lines=lines,
        zone_spans=zone_spans,
        zone_misfits=zone_misfits if keep_misfits else None,
        stated_zones=stated_zones,
        unusable=reasons if unusable else None,
        class_columns=passed_over,
    )
    return CountsFile(
        series=series,
        lines=lines,
        zones=zones,
        zone_spans=zone_spans,
        zone_misfits=zone_misfits,
        stated_zones=stated_zones,
        unusable=reasons,
        class_columns=tuple(passed_over),
    )


#: The keywords :func:`read_counts_csv` took until 2026-12-06 (session 38): dicts it
#: filled, now the members of :class:`CountsFile` (:func:`read_counts_file`). Still
#: taken, with a DeprecationWarning, until the next release.
_OUT_PARAMETERS = (
    "zones",
    "lines",
    "zone_spans",
    "zone_misfits",
    "stated_zones",
    "unusable",
)


def read_counts_csv(
    path: str | Path,
    *,
    warn: Callable[[str], None] | None = None,
    utc_offset: timedelta | None = None,
    **deprecated: Any,
) -> dict[str, list[CountPoint]]:
    """The count series of a CSV file of hand counts, by site ("" for a file without a
    site column): a header line with ``date`` and ``count`` (optional ``low``, ``high``,
    ``site``, ``class``, ``usable``, ...; the counts file of ``railwatch export --format
    csv`` and the API's ``format=csv`` read as they are), as ``railwatch analyze
    --counts`` reads it (:func:`parse_counts_csv`). ``warn``: given a line for what is
    worth a word but read (several counts of one day, how numeric dates were read);
    ``utc_offset``: the site's offset east of UTC, for a file of one site's counts whose
    days are the site's local days (None: UTC days, or an export's ``day`` column).
    Raises :class:`railwatch.errors.InputError` naming the line of what cannot be read.

    Until 2026-12-06 (session 38) it also took dicts to fill (``zones``, ``lines``,
    ``zone_spans``, ``zone_misfits``, ``stated_zones``, ``unusable``): still filled, with
    a DeprecationWarning, until the next release; :func:`read_counts_file` gives them as
    the members of a :class:`CountsFile`."""
    unknown = sorted(k for k in deprecated if k not in _OUT_PARAMETERS)
    if unknown:
        raise TypeError(
            f"read_counts_csv() got unexpected keyword argument(s) {', '.join(unknown)}; "
            "it takes path, warn and utc_offset"
        )
    if not deprecated:
        return read_counts_file(path, warn=warn, utc_offset=utc_offset).series
    import warnings

    warnings.warn(
        f"read_counts_csv({', '.join(f'{k}=...' for k in deprecated)}) is deprecated "
        "since 2026-12-06 and goes in the next release: use "
        "railwatch.analysis.csvio.read_counts_file(path, ...), whose result has them "
        "as members (CountsFile.zones, .lines, ...)",
        DeprecationWarning,
        stacklevel=2,
    )
    read = read_counts_file(
        path,
        warn=warn,
        utc_offset=utc_offset,
        keep_misfits=deprecated.get("zone_misfits") is not None,
        unusable=deprecated.get("unusable") is not None,
    )
    for name in _OUT_PARAMETERS:
        out = deprecated.get(name)
        if out is not None:
            out.update(getattr(read, name))
    return read.series
