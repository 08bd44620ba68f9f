"""Read counts from CSV: ``date,count`` plus optional ``low,high,usable,class,site,gsd,method``.

``gsd`` is the image's ground sample distance in metres per pixel; it picks the alert
thresholds the count is judged with (``AlertSettings.coarse_from_gsd``). Without it
(or with an empty cell) a count is judged with the fine images' thresholds. ``method``
is how the count was made (``objects``, ``length``, ``presence`` or ``manual``, the
default): counts are judged against earlier counts of their own method only.

The counts file ``railwatch export SITE --format csv`` writes reads as it is: its
other columns (scene id, sensor, clear fraction, coverage, covered and the per-class
``count_*`` columns) are passed over, and a gap (an unusable image, no method) is
taken as a gap of the cars counted one by one, as the database's own analysis does.

Columns may be separated by commas, semicolons (Excel's "CSV" where the comma is the
decimal separator, as in most of Europe) or tabs: the separator is the one that makes
the header hold ``date`` and ``count``. In a semicolon-separated file a decimal comma
(``0,5``) is read as a decimal point.

Every error names the line (1 = the header) and what to fix, as an :class:`InputError`:
also a date before 1900 (a mistyped year, as for events) and a count ``nan`` (an empty
count is the gap). Several different counts of one series on one UTC day are warned
about (``warn``), naming the lines: the analysis keeps one count a day, the highest, as
it keeps the best image of several on one day (``railwatch.analysis.series``).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from railwatch.analysis.types import CountPoint
from railwatch.detect.base import ALL_CLASSES
from railwatch.errors import InputError
from railwatch.limits import check_year

REQUIRED = ("date", "count")
OPTIONAL = ("low", "high", "usable", "class", "site", "gsd", "method")
#: Columns of ``railwatch export --format csv`` that the analysis does not use.
EXPORT_ONLY = ("scene_id", "sensor", "clear_fraction", "coverage", "covered")
METHODS = ("objects", "length", "presence", "manual")
#: Column separators a counts file may use, in the order they are tried on its header.
SEPARATORS = (",", ";", "\t")
_SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "tab"}
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def parse_when(text: str, line: int) -> datetime:
    """A date or ISO 8601 datetime as UTC (naive values are taken as UTC)."""
    raw = text.strip()
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as err:
        raise InputError(
            f"line {line}: cannot read date {raw!r}; use YYYY-MM-DD or an ISO 8601 datetime"
        ) from err
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    check_year(when, f"line {line}: date")
    return when


#: Largest count accepted: far above any rail yard (the biggest hold some 10,000 cars),
#: far below what would make alert texts print 300-digit numbers.
MAX_COUNT = 1_000_000

#: Cells read as "no value" (``nan``, the result of a failed computation, is an error).
BLANK = ("", "na", "none", "null")


def _decimal(raw: str, decimal_comma: bool) -> str:
    """``raw`` with a decimal comma read as a point, in a file whose separator is not the
    comma (``0,5`` -> ``0.5``)."""
    return raw.replace(",", ".") if decimal_comma and _DECIMAL_COMMA.fullmatch(raw) else raw


def _number(text: str, column: str, line: int, decimal_comma: bool = False) -> float | None:
    raw = text.strip()
    if raw.lower() in BLANK:
        return None
    try:
        value = float(_decimal(raw, decimal_comma))
    except ValueError as err:
        raise InputError(f"line {line}: {column} {raw!r} is not a number") from err
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


def _flag(text: str, line: int) -> bool:
    raw = text.strip().lower()
    if raw == "" or raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise InputError(f"line {line}: usable {text!r} must be true/false, yes/no or 1/0")


def _class(text: str, line: int) -> str:
    """``all`` (an empty cell too) or a railcar class a detector reports, in lower case."""
    raw = text.strip()
    cls = raw.lower() or "all"
    if cls != "all" and cls not in ALL_CLASSES:
        raise InputError(
            f"line {line}: class {raw!r} is not a railcar class: use all (the total) or one "
            f"of {', '.join(ALL_CLASSES)}"
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


def separator(text: str) -> str:
    """The column separator of a counts file: the first of :data:`SEPARATORS` that makes
    its header line hold the required columns (a comma when none does: the error then
    names the columns missing)."""
    first = next(iter(text.lstrip("\ufeff").splitlines()), "")
    for sep in SEPARATORS:
        names = {h.strip().lower() for h in next(csv.reader([first], delimiter=sep), [])}
        if all(c in names for c in REQUIRED):
            return sep
    return ","


def parse_counts_csv(
    text: str, *, source: str = "CSV", warn: Callable[[str], None] | None = None
) -> dict[str, list[CountPoint]]:
    """Parse CSV text into count points per site (site "" when there is no site column).

    An empty ``count`` or ``usable`` false makes an unusable point (a gap, never a zero).
    Columns are separated by commas, semicolons or tabs (:func:`separator`). ``warn`` is
    given one line for each series and UTC day with several different counts.
    """
    sep = separator(text)
    decimal_comma = sep == ";"
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=sep)
    try:
        header = next(reader)
    except StopIteration as err:
        raise InputError(f"{source} is empty; it needs a header line 'date,count'") from err
    names = [h.strip().lower() for h in header]
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        raise InputError(
            f"line 1: duplicate column(s) {', '.join(twice)} in the header of {source}; "
            f"name each column once (date,count, optional: {','.join(OPTIONAL)})"
        )
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InputError(
            f"line 1: {source} lacks column(s) {', '.join(missing)}; "
            f"the header must contain date,count (optional: {','.join(OPTIONAL)})"
        )
    exported = "scene_id" in names  # the counts file of `railwatch export --format csv`
    unknown = [
        n
        for n in names
        if n not in REQUIRED + OPTIONAL
        and not (exported and (n in EXPORT_ONLY or n.startswith("count_")))
    ]
    if unknown:
        raise InputError(
            f"line 1: unknown column(s) {', '.join(unknown)}; "
            f"allowed: {','.join(REQUIRED + OPTIONAL)}"
        )
    col = {n: i for i, n in enumerate(names)}
    out: dict[str, list[CountPoint]] = {}
    #: usable counts per (site, class, UTC day), with their lines, for the warning
    days: dict[tuple[str, str, date], list[tuple[int, float]]] = {}
    for line, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            declared = ",".join(names) + (
                "" if sep == "," else f" (separated by {_SEPARATOR_NAMES[sep]})"
            )
            quote = ' and quote a value that holds a comma ("1,5")' if sep == "," else ""
            raise InputError(
                f"line {line}: {len(row)} fields, expected {len(names)}: the header declares "
                f"{declared}; give one value per column (an empty one for no value){quote}"
            )

        def cell(name: str, row: list[str] = row) -> str:
            return row[col[name]] if name in col else ""

        when = parse_when(cell("date"), line)
        count = _number(cell("count"), "count", line, decimal_comma)
        low = _number(cell("low"), "low", line, decimal_comma)
        high = _number(cell("high"), "high", line, decimal_comma)
        usable = _flag(cell("usable"), line) and count is not None
        order = "the interval must hold the count: low <= count <= high (swapped columns?)"
        if low is not None and high is not None and low > high:
            raise InputError(f"line {line}: low {low:g} is greater than high {high:g}; {order}")
        if count is not None and low is not None and low > count:
            raise InputError(f"line {line}: low {low:g} is greater than count {count:g}; {order}")
        if count is not None and high is not None and high < count:
            raise InputError(f"line {line}: high {high:g} is less than count {count:g}; {order}")
        cls = _class(cell("class"), line)
        site = cell("site").strip()
        gsd = _gsd(cell("gsd"), line, decimal_comma)
        gap_of_export = "method" in col and not usable
        method = _method(cell("method"), line, default="objects" if gap_of_export else "manual")
        point = CountPoint(
            when=when,
            count=count if usable else None,
            low=low if usable else None,
            high=high if usable else None,
            usable=usable,
            cls=cls,
            method=method,
            gsd=gsd,
        )
        out.setdefault(site, []).append(point)
        if usable and count is not None:
            days.setdefault((site, cls, when.date()), []).append((line, count))
    if not out:
        raise InputError(f"{source} has a header but no count lines")
    if warn is not None:
        for (site, cls, day), counts in sorted(days.items()):
            if len({c for _, c in counts}) > 1:
                warn(_several_counts(site, cls, day, counts))
    return out


def _several_counts(site: str, cls: str, day: date, counts: list[tuple[int, float]]) -> str:
    """The warning for several different counts of one series on one UTC day."""
    lines = [str(line) for line, _ in counts]
    kept_line, kept = max(counts, key=lambda lc: (lc[1], -lc[0]))  # the first highest
    what = "railcars" if cls == "all" else f"{cls} cars"
    where = f" at site {site}" if site else ""
    return (
        f"lines {', '.join(lines[:-1])} and {lines[-1]} count {what}{where} on the same day, "
        f"{day.isoformat()} UTC, differently ({', '.join(f'{c:g}' for _, c in counts)}): the "
        f"analysis keeps one count a day, the highest ({kept:g}, line {kept_line}), as it "
        "keeps the best image of several on one day; correct or remove the others"
    )


def read_counts_csv(
    path: str | Path, *, warn: Callable[[str], None] | None = None
) -> dict[str, list[CountPoint]]:
    """Read a CSV file of hand counts; see :func:`parse_counts_csv`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError as err:
        raise InputError(f"no such file: {p}") from err
    except IsADirectoryError as err:
        raise InputError(
            f"{p} is a folder: give a CSV file of counts (a header line date,count, then one "
            "line per count)"
        ) from err
    except UnicodeDecodeError as err:
        raise InputError(f"{p} is not UTF-8 text: save it as UTF-8 CSV") from err
    except OSError as err:
        raise InputError(f"cannot read {p}: {err.strerror}; give a CSV file you can read") from err
    return parse_counts_csv(text, source=str(p), warn=warn)
