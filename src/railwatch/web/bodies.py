"""Strict JSON types for request bodies.

Pydantic's lax mode turned ``{"reprocess": "yes"}`` into ``True``, ``"130.6"`` into a
number and ``1694563200`` or ``"1694563200"`` into a date. A request body is JSON, so
its values must already have the JSON type the field needs: a boolean is ``true`` or
``false``, a number is a JSON number, a date is a ``"YYYY-MM-DD"`` string; anything
else is a 422 naming the field. (Query parameters are text: a boolean keeps FastAPI's
parsing, a whole number is ASCII digits, :mod:`railwatch.web.params`.)
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator

__all__ = ["JsonBool", "JsonDate", "JsonNumber"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _json_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"must be true or false (a JSON boolean), not {value!r}")


def _json_number(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"must be a number, not {value!r}")


def _json_date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        return value  # then parsed (and its month and day checked) as a date
    raise ValueError(f"must be a date written YYYY-MM-DD, not {value!r}")


#: ``true`` or ``false`` only.
JsonBool = Annotated[bool, BeforeValidator(_json_bool)]
#: A JSON number (not a string, not a boolean).
JsonNumber = Annotated[float, BeforeValidator(_json_number)]
#: A ``"YYYY-MM-DD"`` string (not a timestamp, not a date-time).
JsonDate = Annotated[dt.date, BeforeValidator(_json_date)]
