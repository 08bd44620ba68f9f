"""Expand the paths given to ``railwatch ingest`` into candidate raster files."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["RASTER_SUFFIXES", "is_sidecar", "scan_paths"]

#: File suffixes taken as rasters when a directory is expanded.
RASTER_SUFFIXES = frozenset({".tif", ".tiff", ".gtif", ".jp2", ".vrt", ".img", ".ntf"})

# Files that accompany a scene and are never scenes themselves.
_SIDECAR_ENDINGS = (
    ".mask.tif",
    ".mask.tiff",
    "_udm2.tif",
    "_udm.tif",
    ".truth.geojson",
    ".json",
    ".geojson",
    ".xml",
    ".aux.xml",
    ".ovr",
    ".msk",
)


def is_sidecar(path: Path) -> bool:
    """True for quality masks, metadata and ground-truth files beside a scene."""
    name = path.name.lower()
    return name.endswith(_SIDECAR_ENDINGS)


def scan_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly are kept as given (they are checked later, so a bad
    file is reported rather than silently dropped); directories are expanded
    recursively to raster files, sorted, skipping hidden entries and sidecars.
    Links to folders are followed, each real folder once (a link back up the tree
    is no loop); links to files are kept under their own name (it may carry the
    date). Duplicates are removed, first occurrence wins. Missing paths are kept so
    the caller reports them.
    """
    seen: set[Path] = set()
    out: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        found = _walk(path) if path.is_dir() else iter([path])
        for item in found:
            key = item.absolute()
            if key not in seen:
                seen.add(key)
                out.append(item)
    return out


def _walk(root: Path) -> Iterator[Path]:
    files: list[Path] = []
    visited: set[str] = {os.path.realpath(root)}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        keep = []
        for d in sorted(dirnames):
            if d.startswith("."):
                continue
            real = os.path.realpath(os.path.join(dirpath, d))
            if real in visited:  # a loop, or a folder already reached another way
                continue
            visited.add(real)
            keep.append(d)
        dirnames[:] = keep
        for name in filenames:
            if name.startswith("."):
                continue
            p = Path(dirpath) / name
            if p.suffix.lower() in RASTER_SUFFIXES and not is_sidecar(p):
                files.append(p)
    yield from sorted(files)
