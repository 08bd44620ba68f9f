"""Whole numbers in request paths and queries, written in ASCII digits only.

Pydantic's lax mode reads a path or query string as an integer however it is written:
``/api/scenes/3.0``, ``/api/scenes/+3`` and ``/api/scenes/%203`` were scene 3,
``/api/scenes/3_0`` was scene 30 (a 404 naming an id the client never wrote), and
``?limit=10.0`` a page of 10. An id, a tile coordinate, a page size or an offset is
now ASCII digits (a leading ``-`` is read, so ``-1`` is still refused by the
parameter's bound with its own words); anything else is a 422 naming the parameter, as
``abc`` was. ``03`` is 3 (digits only: nothing is guessed).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BeforeValidator

__all__ = ["PlainInt", "plain_digits"]

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
