"""Write report files whole or not at all.

A report written over an earlier one was written in place: a failure or Ctrl-C half
way through the PDF (a minute on a busy site) left a truncated file that no viewer
opens, and the earlier report was gone. Each file is now written under a temporary name
in its folder and renamed over the target once every file of the report is whole.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _temporary(path: Path) -> Path:
    if path.exists() and not path.is_file():
        # a device or a named pipe (``-o /dev/stdout``) is written as it is: renaming a
        # file over it would replace it, and it holds no earlier report to keep
        return path
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


@contextmanager
def written(*paths: Path) -> Iterator[tuple[Path, ...]]:
    """Temporary names beside ``paths`` to write to, each renamed over its path once the
    block ends without an error (after every file is written: a report and its PDF are
    replaced together); on an error they are removed and the earlier files stay as they
    were. A new file keeps the permissions of the one it replaces. Parent folders are
    created."""
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
    temps = tuple(_temporary(p) for p in paths)
    try:
        yield temps
        for tmp, path in zip(temps, paths, strict=True):
            if tmp == path or not tmp.exists():  # written in place, or nothing written
                continue
            if path.is_file():
                shutil.copymode(path, tmp)
            os.replace(tmp, path)
    finally:
        for tmp, path in zip(temps, paths, strict=True):
            if tmp != path:
                tmp.unlink(missing_ok=True)
