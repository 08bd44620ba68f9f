"""Limits on what people type: site names, tags, descriptions, event labels, notes.

Defined once here and checked by the core (:mod:`railwatch.sites`,
:mod:`railwatch.storage.repo`) for every caller, so the CLI, the REST API and Python
code accept the same text and refuse it with the same one-line message
(:class:`~railwatch.errors.InputError`: exit status 2 in the CLI, 422 in the API).
The REST API shows the lengths in its OpenAPI schema but leaves the checks to the core.

Text is stripped of surrounding whitespace before it is measured and stored.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from railwatch.errors import InputError, some

__all__ = [
    "DESCRIPTION_MAX",
    "EARLIEST_YEAR",
    "EVENT_DAYS_AHEAD",
    "EVENT_LABEL_MAX",
    "MAX_RECORD_ID",
    "NOTE_MAX",
    "SITE_NAME_MAX",
    "TAGS_MAX",
    "TAG_MAX",
    "calendar_error",
    "check_description",
    "check_event_date",
    "check_event_label",
    "check_note",
    "check_site_name",
    "check_tags",
    "check_year",
    "not_a_date",
    "parse_time",
]

#: A site name: 1-64 letters (of any script), digits, '_', '-' or '.', starting with a
#: letter, digit or '_' (not '-' or '.'; '_' was always accepted first, though messages
#: said "a letter or digit" until session 30). It is the site's key in the CLI, the URLs
#: and report file names.
SITE_NAME_MAX = 64
#: One tag of a site, and how many tags a site may have.
TAG_MAX = 64
TAGS_MAX = 50
#: A site's or an event's description (free text).
DESCRIPTION_MAX = 10_000
#: An event label (the column's size; alerts quote it).
EVENT_LABEL_MAX = 200
#: The note of an acknowledgement.
NOTE_MAX = 2_000
#: How far after today (UTC) an event may be dated: an analyst records a summit or a
#: sanction announced for the coming weeks, not one decades away (a mistyped year).
EVENT_DAYS_AHEAD = 366
#: The earliest year of an event or of an image's acquisition time: a year like 0024 is
#: a mistyped 2024 (it was stored, and the report's chart could not draw it).
EARLIEST_YEAR = 1900
#: The largest id a scene, event or alert can have: ids are given from 1 up, and
#: PostgreSQL's INTEGER column holds at most this. A larger number given as an id
#: (a typo, a pasted hash or timestamp) reached the database as it was: SQLite raised
#: OverflowError past 2**63 - 1 and PostgreSQL refuses any INTEGER past this, each an
#: "internal error" (status 70) instead of "no scene with id N". The CLI's id arguments
#: and the ``scene_id`` column of a counts CSV (``analysis.csvio``) are checked against it.
MAX_RECORD_ID = 2**31 - 1

_SITE_NAME_RE = re.compile(rf"\w[\w.\-]{{0,{SITE_NAME_MAX - 1}}}")


# C0 and C1 control characters and DEL: they reach terminals (an ESC sequence rewrites
# what ``site show`` prints), and a line break splits the one-line alert explanations
# and CSV rows that quote labels and tags.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_NAMES = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", "\x1b": "ESC"}


def _no_control(text: str, what: str, *, lines: bool = False) -> str:
    """``text`` (``\r\n`` made ``\n``), or an :class:`InputError` naming the first control
    character in it and where; with ``lines`` line breaks and tabs are allowed (free
    text: descriptions, notes)."""
    text = text.replace("\r\n", "\n")
    for m in _CONTROL_RE.finditer(text):
        ch = m.group()
        if lines and ch in "\n\t":
            continue
        name = _CONTROL_NAMES.get(ch, f"the control character U+{ord(ch):04X}")
        hint = (
            "keep it on one line (put details in the description)"
            if ch in "\n\r"
            else "remove it (control characters are not text)"
        )
        raise InputError(f"{what} {text[:40]!r} holds {name} at character {m.start() + 1}: {hint}")
    return text


def _too_long(what: str, text: str, maximum: int, hint: str) -> InputError:
    return InputError(f"{what} has at most {maximum} characters, this one {len(text)}: {hint}")


def check_site_name(name: str) -> str:
    """``name`` if it is a usable site name, else :class:`InputError` saying what is
    wrong with it (the characters a name cannot hold, a wrong first character, its
    length) and a valid form of it: "invalid site name ...: use 1-64 letters..." alone
    left the analyst to guess that the space of "Zürich Güterbahnhof" was the fault."""
    if isinstance(name, str) and _SITE_NAME_RE.fullmatch(name):
        return name
    if not isinstance(name, str):
        raise InputError(
            f"invalid site name {name!r}: a site name is text; {_SITE_NAME_RULE} "
            f"(for example {_SITE_NAME_EXAMPLE})"
        )
    shown = repr(name)
    huge = len(name) > 2 * SITE_NAME_MAX
    if huge:  # not echoed whole
        shown = f"{name[:SITE_NAME_MAX]!r}... ({len(name)} characters)"
    faults = _site_name_faults(name, say_length=not huge)
    why = f": {faults}" if faults else ""
    fixed = _site_name_suggestion(name)
    example = f"e.g. {fixed!r}" if fixed is not None else f"for example {_SITE_NAME_EXAMPLE}"
    raise InputError(f"invalid site name {shown}{why}: {_SITE_NAME_RULE}, {example}")


#: What a site name may be, as error messages say it.
_SITE_NAME_RULE = (
    f"use 1-{SITE_NAME_MAX} letters, digits, '_', '-' or '.', starting with a letter, digit or '_'"
)
_SITE_NAME_EXAMPLE = "tumangang-yard"
#: A character a site name cannot hold.
_NOT_IN_SITE_NAME = re.compile(r"[^\w.\-]")
#: How many distinct wrong characters a message names.
_FAULTS_SHOWN = 5


def _site_name_char(ch: str) -> str:
    """A character of a refused site name as a message shows it: quoted, and named
    where it cannot be seen (a space, a tab, a control character)."""
    if ch == " ":
        return "' ' (a space)"
    if ch in _CONTROL_NAMES:
        return _CONTROL_NAMES[ch]
    if ch.isspace() or not ch.isprintable():
        label = unicodedata.name(ch, "").lower()
        return f"U+{ord(ch):04X}" + (f" ({label})" if label else "")
    return repr(ch)


def _site_name_faults(name: str, *, say_length: bool) -> str:
    """What is wrong with ``name`` (not a valid site name), in words: empty, the
    characters it cannot hold, a wrong first character, too long."""
    if not name:
        return "it is empty"
    faults: list[str] = []
    wrong = list(dict.fromkeys(_NOT_IN_SITE_NAME.findall(name)))
    if wrong:
        named = [_site_name_char(ch) for ch in wrong]
        if len(wrong) > _FAULTS_SHOWN:
            listed = some(named, _FAULTS_SHOWN)
        elif len(named) > 1:
            listed = f"{', '.join(named[:-1])} and {named[-1]}"
        else:
            listed = named[0]
        faults.append(f"a site name cannot hold {listed}")
    if name[0] in ".-":  # the only other characters a name holds, but not first
        faults.append(f"it starts with {name[0]!r}")
    if say_length and len(name) > SITE_NAME_MAX:
        faults.append(f"it has {len(name)} characters")
    return "; ".join(faults)


def _site_name_suggestion(name: str) -> str | None:
    """A valid site name close to ``name``: each run of characters a name cannot hold
    made one '-', no '.', '_' or '-' at either end, cut to :data:`SITE_NAME_MAX`; None
    when nothing of it is left."""
    fixed = _NOT_IN_SITE_NAME.sub("-", name)
    fixed = re.sub(r"-{2,}", "-", fixed).strip("._-")[:SITE_NAME_MAX].rstrip("._-")
    return fixed if fixed and _SITE_NAME_RE.fullmatch(fixed) else None


def check_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Stripped, non-empty tags of at most :data:`TAG_MAX` characters and without a
    comma (the exports join them with commas), duplicates dropped (first kept), at most
    :data:`TAGS_MAX` of them."""
    out: list[str] = []
    for tag in tags:
        t = _no_control(str(tag).strip(), "a site tag")
        if not t:
            raise InputError("empty site tag: give tags as non-empty words")
        if len(t) > TAG_MAX:
            raise _too_long("a site tag", t, TAG_MAX, "tags are short words; use the description")
        if "," in t:  # exported as "x,y,z", read back as three (walk-in, session 45)
            words = " ".join(f"--tag {w.strip()}" for w in t.split(",") if w.strip())
            raise InputError(
                f"site tag {t!r} holds a comma: the exports list a site's tags joined by "
                f"commas, where it would read as several; give each tag on its own "
                f"({words} on the command line)"
            )
        if t not in out:
            out.append(t)
    if len(out) > TAGS_MAX:
        raise InputError(
            f"a site has at most {TAGS_MAX} tags, these are {len(out)}: keep the few that "
            "you filter by"
        )
    return tuple(out)


def check_description(text: str, what: str = "a description") -> str:
    """A stripped description of at most :data:`DESCRIPTION_MAX` characters (line breaks
    and tabs allowed, other control characters refused)."""
    text = _no_control(text.strip(), what, lines=True)
    if len(text) > DESCRIPTION_MAX:
        raise _too_long(what, text, DESCRIPTION_MAX, "shorten it, or link to a document")
    return text


def check_event_label(label: str) -> str:
    """A stripped, non-blank event label of at most :data:`EVENT_LABEL_MAX` characters, on
    one line (alert explanations quote it), in Unicode NFC as site names are
    (:func:`railwatch.sites.normalise_name`): a label typed in decomposed form (NFD: "e"
    and a combining accent, as macOS gives it) looks the same but was another string,
    and so a second event that day."""
    label = _no_control(unicodedata.normalize("NFC", label.strip()), "an event label")
    if not label:
        raise InputError("an event needs a label, e.g. 'Kim–Putin summit'")
    if len(label) > EVENT_LABEL_MAX:
        raise _too_long(
            "an event label",
            label,
            EVENT_LABEL_MAX,
            "keep it short and put the rest in the description",
        )
    return label


def check_year(when: date, what: str) -> None:
    """An :class:`InputError` when ``when`` (a date or datetime, named ``what`` in the
    message) lies before :data:`EARLIEST_YEAR`: a mistyped year."""
    day = when.date() if isinstance(when, datetime) else when
    if day.year < EARLIEST_YEAR:
        raise InputError(
            f"{what} {day.isoformat()} is before {EARLIEST_YEAR}: check the year "
            "(YYYY-MM-DD, e.g. 2023-10-05)"
        )


def check_event_date(
    when: date, *, today: date | None = None, utc_offset: timedelta | None = None
) -> date:
    """``when`` (a datetime is taken as its date) if it is at most
    :data:`EVENT_DAYS_AHEAD` days after ``today`` and not before
    :data:`EARLIEST_YEAR`, else :class:`InputError`. Without ``today``, today at the
    site, ``utc_offset`` east of UTC (its nominal zone: events are dated by the site's
    local days), or in UTC where the site is not known (``utc_offset`` None). Since
    2026-12-05 (session 32): it was today in UTC everywhere, so at a UTC-12 site a date
    a year and a day after today there was taken."""
    if isinstance(when, datetime):
        when = when.date()
    check_year(when, "event date")
    if today is None:
        today = (datetime.now(UTC) + (utc_offset or timedelta(0))).date()
    where = "" if utc_offset is None else " at the site"
    latest = today + timedelta(days=EVENT_DAYS_AHEAD)
    if when > latest:
        raise InputError(
            f"event date {when.isoformat()} is more than a year after today{where} "
            f"({today.isoformat()}): an event announced ahead may be dated up to "
            f"{latest.isoformat()}; check the year"
        )
    return when


def check_note(note: str, what: str = "an acknowledgement note") -> str:
    """A stripped note (``what``: an acknowledgement's or a review's) of at most
    :data:`NOTE_MAX` characters (line breaks and tabs allowed, other control characters
    refused)."""
    note = _no_control(note.strip(), what, lines=True)
    if len(note) > NOTE_MAX:
        raise _too_long(what, note, NOTE_MAX, "shorten it, or link to a document")
    return note


# ---------------------------------------------------------------------------- dates
# A date or time typed by a person: the CLI's options (``--since``, ``--date``) and the
# web API's query (the alert lists' ``since`` and ``until``) read it by these rules, with
# the same messages (2026-12-06, session 35: they were the CLI's, in ``cli._common``).

_YMD = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:$|[Tt ])")


def calendar_error(text: str) -> str | None:
    """Why ``text``, which starts like YYYY-MM-DD, names no day of the calendar
    ("February 2024 has 29 days", "there is no month 13"), or None when it names one or
    is not of that form (its other faults are the caller's to say)."""
    m = _YMD.match(text.strip())
    if m is None:
        return None
    year, month, day = (int(g) for g in m.groups())
    if year == 0:
        return "there is no year 0000"
    if not 1 <= month <= 12:
        return f"there is no month {m.group(2)} (months are 01-12)"
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return f"{calendar.month_name[month]} {year} has {days} days"
    return None


def not_a_date(what: str, text: str, expected: str) -> InputError:
    """The error of ``text`` (the value of ``what``), which is no date: an impossible
    date is said as such (:func:`calendar_error`), other text "is not ``expected``"."""
    why = calendar_error(text)
    if why is not None:
        return InputError(f"{what} {text!r} is not a valid calendar date: {why}")
    return InputError(f"{what} {text!r} is not {expected}")


def parse_time(
    text: str,
    what: str,
    expected: str = "ISO 8601: give e.g. 2023-10-05 or 2023-10-05T02:13:00Z",
) -> datetime:
    """An ISO 8601 date or date and time (of ``what``) as an aware UTC datetime: a
    date alone is midnight UTC, a time without a zone is UTC. Refused (an
    :class:`~railwatch.errors.InputError`) as :func:`not_a_date` words it: the date must
    be written YYYY-MM-DD, since Python's parser also takes 20231001 and week dates
    (2023-W40-1), and a time whose zone moves it out of the years 1-9999 in UTC
    (9999-12-31T23:00-05:00) is said to be out of range."""
    raw = text.strip()
    if _YMD.match(raw) is None:
        raise not_a_date(what, text, expected)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise not_a_date(what, text, expected) from None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise InputError(f"{what} {text!r} is out of range in UTC: check the year") from None
