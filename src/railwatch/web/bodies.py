"""Strict JSON types for request bodies.

Pydantic's lax mode turned ``{"reprocess": "yes"}`` into ``True``, ``"130.6"`` into a
number and ``1694563200`` or ``"1694563200"`` into a date. A request body is JSON, so
its values must already have the JSON type the field needs: a boolean is ``true`` or
``false``, a number is a JSON number, a date is a ``"YYYY-MM-DD"`` string; anything
else is a 422 naming the field. (Query parameters are text: a boolean keeps FastAPI's
parsing, a whole number is ASCII digits, :mod:`railwatch.web.params`.)
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from typing import Annotated, Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BeforeValidator

__all__ = ["JsonBool", "JsonDate", "JsonNumber", "not_null", "unique_members"]

#: ASCII digits only: ``\d`` also matched other scripts' digits, so ``"２０２３-02-03"``
#: passed this check and was refused after it as "invalid character in year" (before
#: 2026-12-05, session 33); it now gets this module's "must be a date written YYYY-MM-DD".
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _json_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"must be true or false (a JSON boolean), not {value!r}")


def _json_number(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"must be a number, not {value!r}")


def _no_such_day(text: str) -> str:
    """Why ``text`` (``YYYY-MM-DD`` in ASCII digits) names no day of the calendar."""
    year, month, _day = (int(part) for part in text.split("-"))
    if not 1 <= month <= 12:
        return f"{text!r} is no date: its month {month:02d} is not 01-12 (YYYY-MM-DD)"
    if year < 1:
        return f"{text!r} is no date: the year 0000 does not exist (YYYY-MM-DD)"
    last = calendar.monthrange(year, month)[1]
    return (
        f"{text!r} is no date: {calendar.month_name[month]} {year} has days 01-{last}; "
        "check the day and month (YYYY-MM-DD)"
    )


def _json_date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            # "2023-02-30": pydantic said only "day value is outside expected range"
            raise ValueError(_no_such_day(value)) from None
    raise ValueError(f"must be a date written YYYY-MM-DD, not {value!r}")


#: ``true`` or ``false`` only.
JsonBool = Annotated[bool, BeforeValidator(_json_bool)]
#: A JSON number (not a string, not a boolean).
JsonNumber = Annotated[float, BeforeValidator(_json_number)]
#: A ``"YYYY-MM-DD"`` string (not a timestamp, not a date-time).
JsonDate = Annotated[dt.date, BeforeValidator(_json_date)]


def not_null(instead: str) -> BeforeValidator:
    """A member of a change (``PATCH``) that may be left out but not sent as ``null``,
    which would otherwise be read as left out: ``{"description": null}`` kept the
    description and answered 200, as if it had been removed (before 2026-12-06, session
    36). ``instead`` says what to send."""

    def check(value: Any) -> Any:
        if value is None:
            raise ValueError(f"null changes nothing here: {instead}")
        return value

    return BeforeValidator(check)


class _Repeated(ValueError):
    """A JSON object that gives one member more than once."""

    def __init__(self, name: str, values: list[Any]) -> None:
        super().__init__(name)
        self.name = name
        self.values = values


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, list[Any]] = {}
    for name, value in pairs:
        seen.setdefault(name, []).append(value)
    for name, values in seen.items():
        if len(values) > 1:
            raise _Repeated(name, values)
    return dict(pairs)


async def unique_members(request: Request) -> None:
    """Refuse (``422``) a JSON request body that gives a member twice in one object
    (``{"name": "a", "name": "b"}``): RFC 8259 leaves such an object's meaning to the
    parser, and Python's kept the last, so ``POST /api/sites`` created a site ``b``
    with a 201 (before 2026-12-06, session 36). Run before the route's own access check
    would answer a request without the token: such a request is left to it (401/403
    first), as :func:`railwatch.web.query.known_query` does. A body that is no JSON is
    left to FastAPI's own error."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if "json" not in request.headers.get("content-type", ""):
        return
    from railwatch.web.security import require_write

    try:
        await require_write(request)
    except HTTPException:
        return
    body = await request.body()  # read once: FastAPI reads the same cached bytes
    if not body:
        return
    try:
        json.loads(body, object_pairs_hook=_no_repeats)
    except _Repeated as err:
        shown = ", ".join(json.dumps(v)[:40] for v in err.values)
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("body", err.name),
                    "msg": f"given {len(err.values)} times in one object ({shown}): a JSON "
                    "object names each member once (RFC 8259), and which one would be read "
                    "is not defined; give it once",
                    "input": err.values,
                }
            ]
        ) from None
    except (ValueError, RecursionError):
        # not JSON (or not UTF-8), or arrays or objects nested deeper than Python's parser
        # goes (a 10 KB body of 5,000 '[' was a 500 on the routes without a body, which
        # FastAPI leaves unread, before 2026-12-06, session 36): FastAPI's own 422 or 400
        # says so where the route reads a body, and the route ignores it where it does not
        return
