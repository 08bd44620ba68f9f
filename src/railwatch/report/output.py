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

from railwatch.errors import InputError
from railwatch.export.paths import check_parent_folder


def report_target(out: str | Path, site: str, *, pdf: bool = False) -> Path:
    """``out`` as the file a report is written to, ``~`` being the home folder; an
    :class:`InputError` saying what to give instead when it cannot be one: a folder
    (``-o reports`` failed with "Is a directory", as if the folder were not writable), a
    path below a file ("File exists"), or, with ``pdf`` (the PDF written beside the
    HTML), a device, a named pipe or a socket, or a companion ``.pdf`` that is one or a
    folder: ``-o /dev/null --pdf`` wrote a plain file ``/dev/null.pdf``. A device is
    written as it is otherwise (``-o /dev/stdout`` pipes the HTML, or the PDF alone)."""
    path = Path(out).expanduser()
    alone = path.suffix.lower() == ".pdf"
    example = path / f"{site}-report{'.pdf' if alone else '.html'}"
    if path.is_dir():
        raise InputError(
            f"--out {out} is a folder: give the name of the report file to write in it, "
            f"e.g. --out {example}"
        )
    check_parent_folder(path, "the report")
    if not pdf or alone:
        return path
    beside = path.with_suffix(".pdf")
    if path.exists() and not path.is_file():
        raise InputError(
            f"--out {out} is not a regular file (a device, a named pipe or a socket) and "
            f"--pdf writes the PDF beside the HTML report, as a file {beside}: give --out "
            "a file name (the PDF goes beside it), or --out NAME.pdf for the PDF alone"
        )
    if beside.is_dir() or (beside.exists() and not beside.is_file()):
        kind = "a folder" if beside.is_dir() else "not a regular file"
        raise InputError(
            f"--pdf writes the PDF beside the HTML report, as {beside}, which is {kind}: "
            "give --out another file name"
        )
    return path


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
    were. A new file keeps the permissions of the one it replaces; a symbolic link is
    written through. Parent folders are created."""
    # a symbolic link is written through: the file it points to is replaced and the
    # link kept (renaming over the link replaced it with a plain file, and the file it
    # pointed to kept the old report); a link to a device is written as the device
    # (/dev/stdout: a link to the process's pipe)
    paths = tuple(
        p.resolve() if p.is_symlink() and (p.is_file() or not p.exists()) else p for p in paths
    )
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
