"""``--json`` for the commands that write files and say so in lines of text (``train``,
``calibrate``, ``quantize``; session 37): the command runs as without ``--json``, with
what it would print on standard output sent to standard error instead, and returns what
it wrote as a dict; that dict is then the one JSON object on standard output.

Errors are unchanged: raised out of the command, said by ``railwatch`` on standard
error as "error: ..." with status 1 or 2, and nothing on standard output.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any

from railwatch.cli._common import print_json

JSON_HELP = (
    "Print one JSON object on standard output: the files written (paths and bytes) and "
    "the figures otherwise printed as text; the text goes to standard error."
)


def run_for_json(command: Callable[..., dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    """``command(**args)`` with ``as_json`` false and standard output sent to standard
    error, then its summary printed as JSON on standard output; returns the summary."""
    with contextlib.redirect_stdout(sys.stderr):
        summary = command(**{**args, "as_json": False})
    print_json(summary)
    return summary


def file_entry(path: Any) -> dict[str, Any]:
    """A file written, as the JSON gives it: its path and size in bytes."""
    from pathlib import Path

    p = Path(path)
    return {"path": str(p), "bytes": p.stat().st_size if p.is_file() else None}
