"""Expand the paths given to ``railwatch ingest`` into candidate raster files."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PICTURE_SUFFIXES",
    "QUALITY_MASK_ENDINGS",
    "RASTER_SUFFIXES",
    "Scan",
    "is_quality_mask",
    "is_sidecar",
    "scan",
    "scan_paths",
]

#: File suffixes taken as rasters when a directory is expanded.
RASTER_SUFFIXES = frozenset({".tif", ".tiff", ".gtif", ".jp2", ".vrt", ".img", ".ntf"})

#: Pictures GDAL reads that a folder's expansion passes over (not taken as images, each
#: named to the caller with :attr:`Scan.pictures`): screenshots, browse images and
#: previews beside a scene, which would be counted twice. Named directly, such a file
#: is checked as any other (a PNG with a world file is ingested).
PICTURE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"})

#: Quality masks beside a scene (railwatch simulate's ``NAME.mask.tif``, Planet's usable
#: data masks): rasters, but of codes (clear, cloud, haze, snow, shadow), not images.
QUALITY_MASK_ENDINGS = (".mask.tif", ".mask.tiff", "_udm2.tif", "_udm.tif")

# Files that accompany a scene and are never scenes themselves.
_SIDECAR_ENDINGS = (
    *QUALITY_MASK_ENDINGS,
    ".truth.geojson",
    ".json",
    ".geojson",
    ".xml",
    ".aux.xml",
    ".ovr",
    ".msk",
    ".preview.png",  # railwatch simulate's picture of NAME.tif (sim.io.scene_paths)
)


def is_quality_mask(path: Path) -> bool:
    """True for a quality mask's name (:data:`QUALITY_MASK_ENDINGS`)."""
    return path.name.lower().endswith(QUALITY_MASK_ENDINGS)


def is_sidecar(path: Path) -> bool:
    """True for quality masks, metadata and ground-truth files beside a scene."""
    name = path.name.lower()
    return name.endswith(_SIDECAR_ENDINGS)


@dataclass(frozen=True)
class Scan:
    """What :func:`scan` found under the paths given."""

    #: Files named directly (as given, missing ones included) and the rasters of the
    #: folders, in :func:`scan_paths`'s order.
    files: tuple[Path, ...]
    #: Files of the folders that accompany an image (:func:`is_sidecar`: quality
    #: masks, metadata, truth, simulator previews), left out: sorted.
    sidecars: tuple[Path, ...]
    #: Files of the folders with a :data:`PICTURE_SUFFIXES` suffix that are no
    #: sidecar (a screenshot, a browse image), passed over: sorted.
    pictures: tuple[Path, ...]


def scan_paths(paths: Iterable[str | Path]) -> list[Path]:
    """The candidate raster files under ``paths`` (:attr:`Scan.files` of :func:`scan`)."""
    return list(scan(paths).files)


def scan(paths: Iterable[str | Path]) -> Scan:
    """Files named directly are kept as given (they are checked later, so a bad
    file is reported rather than silently dropped); directories are expanded
    recursively to raster files, sorted, skipping hidden entries and sidecars.
    Links to folders are followed, each real folder once (a link back up the tree
    is no loop); links to files are kept under their own name (it may carry the
    date). Duplicates are removed, first occurrence wins. Missing paths are kept so
    the caller reports them. The sidecars and pictures of the folders are returned
    apart, so that the caller can say what it passed over (2026-12-06, session 37:
    they were dropped without a word).
    """
    seen: set[Path] = set()
    side_keys: set[Path] = set()
    pic_keys: set[Path] = set()
    out: list[Path] = []
    sidecars: list[Path] = []
    pictures: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            found, sides, pics = _walk(path)
        else:
            found, sides, pics = [path], [], []
        for item in found:
            key = item.absolute()
            if key not in seen:
                seen.add(key)
                out.append(item)
        for items, into, keys in ((sides, sidecars, side_keys), (pics, pictures, pic_keys)):
            for item in items:
                if (key := item.absolute()) not in keys:
                    keys.add(key)
                    into.append(item)
    # a file named directly is checked as named, even after a folder that holds it
    # (review r3, session 37: a georeferenced PNG named after its folder was passed over
    # with "name it to ingest it", and a named mask counted as a folder's sidecar)
    return Scan(
        tuple(out),
        tuple(p for p in sidecars if p.absolute() not in seen),
        tuple(p for p in pictures if p.absolute() not in seen),
    )


def walk_files(root: Path) -> Iterator[Path]:
    """Every file under the folder ``root`` but hidden ones, hidden folders left out;
    links to folders followed, each real folder once (a link back up the tree is no
    loop). What a folder's scan reads, and what ``ingest`` asks of a drop folder (does it
    hold any file at all)."""
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
            if not name.startswith("."):
                yield Path(dirpath) / name


def _walk(root: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """The rasters, sidecars and pictures under ``root``, each sorted."""
    files: list[Path] = []
    sidecars: list[Path] = []
    pictures: list[Path] = []
    for p in walk_files(root):
        suffix = p.suffix.lower()
        if is_sidecar(p):
            sidecars.append(p)
        elif suffix in RASTER_SUFFIXES:
            files.append(p)
        elif suffix in PICTURE_SUFFIXES:
            pictures.append(p)
    return sorted(files), sorted(sidecars), sorted(pictures)
