"""Whole numbers in request paths and queries, written in ASCII digits only.

Pydantic's lax mode reads a path or query string as an integer however it is written:
``/api/scenes/3.0``, ``/api/scenes/+3`` and ``/api/scenes/%203`` were scene 3,
``/api/scenes/3_0`` was scene 30 (a 404 naming an id the client never wrote), and
``?limit=10.0`` a page of 10. An id, a tile coordinate, a page size or an offset is
now ASCII digits (a leading ``-`` is read, so ``-1`` is still refused by the
parameter's bound with its own words); anything else is a 422 naming the parameter, as
``abc`` was. ``03`` is 3 (digits only: nothing is guessed).

A site name in a path or query (:data:`LookupName`) cannot hold a NUL character
(``%00``): no site name can, and PostgreSQL refuses the character in any text it is
given, so ``/api/sites/a%00b`` was a 503 "the server's database failed" (and an error in
the server log) where SQLite answered 404 (before 2026-12-05, session 33).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import AfterValidator, BeforeValidator

__all__ = ["LookupName", "PlainInt", "no_nul", "plain_digits"]

#: ASCII digits only (``\d`` would also match other scripts' digits, ``０３`` say).
_WHOLE = re.compile(r"-?[0-9]+")

#: Longest number echoed back in the error (the rest of the text is cut).
_SHOWN = 40


def plain_digits(value: Any) -> Any:
    """``value`` unchanged when it is not text or is ASCII digits (with an optional
    leading ``-``); a :class:`ValueError` saying what to write otherwise."""
    if isinstance(value, str) and not _WHOLE.fullmatch(value):
        shown = value if len(value) <= _SHOWN else value[:_SHOWN] + "..."
        raise ValueError(f"must be a whole number written in digits 0-9 (such as 3), not {shown!r}")
    return value


#: An integer that a path or query gives as ASCII digits only (see the module's docstring):
#: put it after the ``Path()`` or ``Query()`` of an ``Annotated[int, ...]`` (before it,
#: FastAPI writes the bounds into the OpenAPI document as ``ge``/``le`` instead of
#: ``minimum``/``maximum``).
PlainInt = BeforeValidator(plain_digits)


def no_nul(value: str | None) -> str | None:
    """``value`` unchanged when it holds no NUL character; a :class:`ValueError` saying
    where it is and what to send otherwise (see the module's docstring)."""
    if value is not None and "\x00" in value:
        at = value.index("\x00") + 1
        raise ValueError(
            f"a site name cannot hold a NUL character (U+0000, %00 in a URL), this one has "
            f"one at character {at}: give the site's name as /api/sites lists it"
        )
    return value


#: A site name as a path or query gives it, to look a site up: put it after the
#: ``Path()`` or ``Query()`` of an ``Annotated[str, ...]`` (see the module's docstring).
LookupName = AfterValidator(no_nul)
