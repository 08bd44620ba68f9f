"""Output paths that must not be written: the database and the images it counts.

``railwatch export yard -f csv -o railwatch.db`` (a slip of the tab key) replaced the
SQLite database with a CSV file and every stored count was gone; a report written
over an ingested image made that scene fail from then on. Exports and reports check
their output path here first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from railwatch.errors import InputError
from railwatch.storage import Database
from railwatch.storage.db import is_memory_url

#: Files SQLite keeps beside its database (write-ahead log, shared memory, journal).
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _resolved(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()


def database_files(db: Database) -> tuple[Path, ...]:
    """The files of a SQLite database (with its side files and lock folder); none for
    other backends and in-memory databases."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or is_memory_url(str(db.url)) or not url.database:
        return ()
    main = _resolved(url.database)
    return (
        main,
        *(main.with_name(main.name + s) for s in SQLITE_SIDE_FILES),
        main.with_name(main.name + ".locks"),
    )


def site_images(db: Database, site: str) -> list[str]:
    """The image and mask files of ``site``'s scenes (:class:`NotFoundError` for an
    unknown site)."""
    from railwatch.storage import repo

    with db.session(readonly=True) as s:
        scenes = repo.list_scenes(s, repo.get_site(s, site))
        return [u for sc in scenes for u in (sc.uri, sc.mask_uri) if u]


def check_output(
    out: str | Path, db: Database, images: Iterable[str | None] = (), *, what: str
) -> None:
    """Raise :class:`InputError` when ``out`` is the database (or one of its files) or
    one of ``images`` (the site's image and mask files), saying what to give instead."""
    target = _resolved(out)
    if target in database_files(db):
        raise InputError(
            f"--out {out} is the railwatch database ({db.safe_url}): writing the {what} there "
            "would destroy every stored count; give --out another file name"
        )
    for uri in images:
        if uri and "://" not in uri and _resolved(uri) == target:
            raise InputError(
                f"--out {out} is an image of this site ({uri}): writing the {what} there would "
                "destroy the image the counts come from; give --out another file name"
            )
    other = _image_of_any_site(db, target, {Path(out).name, target.name})
    if other is not None:
        site, scene_id, uri = other
        raise InputError(
            f"--out {out} is an image of site {site!r} (scene {scene_id}, {uri}): writing the "
            f"{what} there would destroy the image its counts come from; give --out another "
            "file name"
        )


def _image_of_any_site(db: Database, target: Path, names: set[str]) -> tuple[str, int, str] | None:
    """The site, scene id and file of any scene of the database whose image or mask is
    ``target`` (resolved), or None. A report of one site written over another site's image
    destroyed that image (before session 26 only the site's own images were checked).
    Only the files named as ``target`` is (``names``) are resolved: one query of every
    scene's file names, and no file-system call for the others."""
    from sqlalchemy import select

    from railwatch.storage.models import Scene, Site

    with db.session(readonly=True) as s:
        rows = s.execute(
            select(Site.name, Scene.id, Scene.uri, Scene.mask_uri).join(
                Site, Scene.site_id == Site.id
            )
        ).all()
    for site, scene_id, *uris in rows:
        for uri in uris:
            if not uri or "://" in uri:
                continue
            if uri.replace("\\", "/").rsplit("/", 1)[-1] in names and _resolved(uri) == target:
                return str(site), int(scene_id), str(uri)
    return None


__all__ = ["check_output", "database_files", "site_images"]


def check_parent_folder(path: Path, what: str) -> None:
    """Refuse ``path`` when the first of its parents that exists is not a folder (a
    path below a file), saying which file is in the way; ``what`` names the output
    ("the csv export", "the report")."""
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise InputError(
                    f"cannot write {what} to {path}: {parent} is a file, not a folder; "
                    "give --out a path in a folder"
                )
            return


def files_in_folders(root: Path, folders: Iterable[tuple[str, Sequence[str]]]) -> list[str]:
    """``"SUB/ with N files"`` for each folder ``root/SUB`` of ``folders`` (name,
    lower-case suffixes) holding files of those suffixes: what an export or import
    would write over there."""
    found = []
    for sub, suffixes in folders:
        folder = root / sub
        if folder.is_dir():
            n = sum(1 for f in folder.iterdir() if f.suffix.lower() in suffixes)
            if n:
                found.append(f"{sub}/ with {n} file{'s' if n != 1 else ''}")
    return found
