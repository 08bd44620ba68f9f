"""A new SQLite database of a test, made as a copy of one made whole once per test process
(2026-12-07, session 49).

Making a new railwatch database replayed every migration of its schema (Alembic, with
SQLite's table rebuilds; since session 51 it is made at the head directly, about 0.015 s
of CPU, which the copy still spares): 0.06 s of CPU on an idle machine, 0.1-0.16 s under
the suite's load, for each of the new SQLite databases the suite makes (about one a second of test
time: some 1,900 in all, by three samples of 165 files). Each test process (pytest-xdist worker)
makes one new database the product's way, :data:`TEMPLATE`, and conftest has
``railwatch.storage.db._create_sqlite_file`` (which makes the file of a new SQLite
database before its first connection) write a copy of it instead, when
:func:`from_template` says so: when ``Database(url)`` (``migrate=True``, the default)
opens a SQLite file that is not there, in a test module that says nothing about
migrations or the making of database files (:data:`REAL_CREATION`). ``upgrade`` then
finds the schema at its latest revision, as it finds any database made before, and
the test goes on with a database equal to the one it made before, made by the same
code, once. The copy is linked into place as the product links its new file: where a
file is there by then, it is kept.

Everything else is made the product's way: ``Database(url, migrate=False)``,
``upgrade(url, REVISION)``, ``make_engine`` alone, a subprocess
(``railwatch ...``, ``_cli_proc``), and every database of a module that names one of
:data:`REAL_CREATION`'s words (migrations, revisions, empty or cut-short files, links,
backups and restores). ``RAILWATCH_TEST_REAL_CREATION=1`` makes every one the product's
way (to compare, or to rule the template out).

A PostgreSQL database of conftest's ``postgres_url`` is a copy of one migrated once per
test process, likewise, except in the modules :func:`pg_from_template` turns down
(session 50; the end of this file)."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from functools import cache
from pathlib import Path

#: A test module whose source matches this makes its new databases the product's way.
REAL_CREATION = re.compile(
    r"upgrade|migrat(?!e=)|alembic|_create_sqlite_file|make_engine|HEAD_REVISION|stored_revisions"
    r"|database_reusing_ids|creating the schema|0 bytes|empty file|os\.link|journal_mode"
    r"|wal_checkpoint|page_count|freelist|\bbackup|\brestore\b|_fresh_db"
)

#: The test module whose test is being set up, run or torn down (conftest sets it).
current_module: Path | None = None

_lock = threading.Lock()
_template: Path | None = None
_folder: Path | None = None


@cache
def real_creation(module: Path) -> bool:
    """Whether the test module at ``module`` makes its new databases the product's way."""
    try:
        return REAL_CREATION.search(module.read_text(encoding="utf-8")) is not None
    except OSError:
        return True


def _template_file(real: Callable[[Path], bool]) -> Path:
    """The template: a new database made by ``Database`` with the product's own
    ``_create_sqlite_file`` (``real``) and migrations, its WAL folded into the file."""
    global _template, _folder
    with _lock:
        if _template is None:
            import railwatch.storage.db as db

            _folder = Path(tempfile.mkdtemp(prefix="railwatch-template-"))
            path = _folder / "template.db"
            made = db._create_sqlite_file
            db._create_sqlite_file = real  # type: ignore[assignment]  # the product's way
            try:
                db.Database(f"sqlite:///{path}").dispose()
            finally:
                db._create_sqlite_file = made
            conn = sqlite3.connect(path)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
            _template = path
        return _template


def _opened_to_migrate() -> bool:
    """Whether the new file is being made for ``Database(url)`` with ``migrate=True``:
    ``_create_sqlite_file`` called by ``make_engine`` called by ``Database.__init__``."""
    from railwatch.storage.db import Database

    frame = sys._getframe(2)  # _create_sqlite_file's caller: make_engine
    outer = frame.f_back
    return (
        frame.f_code.co_name == "make_engine"
        and outer is not None
        and outer.f_code.co_name == "__init__"
        and isinstance(outer.f_locals.get("self"), Database)
        and outer.f_locals.get("migrate") is True
    )


def from_template(real: Callable[[Path], bool]) -> Callable[[Path], bool]:
    """``_create_sqlite_file`` (``real``) that makes the file a copy of the template
    where the module's test may (see the module's docstring), else ``real``; True, as
    ``real``, when it made the file (session 51)."""

    def create(path: Path) -> bool:
        module = current_module
        if (
            module is None
            or os.environ.get("RAILWATCH_TEST_REAL_CREATION") == "1"
            or real_creation(module)
            or not _opened_to_migrate()
        ):
            return real(path)
        template = _template_file(real)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tpl")
        made = False
        try:
            # with the template's mode, the one SQLite gave it (0644 less the umask), not
            # a new copy's 0666 less it (session 49 review: group-writable under umask 002)
            shutil.copyfile(template, tmp)
            shutil.copymode(template, tmp)
            with suppress(FileExistsError):  # made meanwhile by another: it stands
                os.link(tmp, path)
                made = True
        except OSError:
            return real(path)
        finally:
            with suppress(OSError):
                tmp.unlink()
        return made

    return create


def remove_template() -> None:
    """Remove the template's folder (at the end of the test process)."""
    if _folder is not None:
        shutil.rmtree(_folder, ignore_errors=True)


# ---------------------------------------------------------------- PostgreSQL (session 50)
# conftest's ``postgres_url`` made each test's database empty (CREATE DATABASE), and the
# test's ``Database(url)`` then replayed every migration on it: about 0.5 s a database on
# a loaded machine, against 0.1 s for a copy of one made so (CREATE DATABASE ... TEMPLATE).
# A test module that :func:`pg_from_template` accepts gets such a copy: the migrations
# made it once per test process and server, the product's way (``Database(url)``), and
# ``Database(url)`` finds it at its latest revision, as it finds any database made before.

#: A test module whose source matches this (or :data:`REAL_CREATION`) gets an empty
#: PostgreSQL database from ``postgres_url``: one that opens it without migrating it
#: (``migrate=False``), makes tables or schemas of its own, or looks at the catalogue.
PG_EMPTY = re.compile(
    r"migrate=False|create_all|CREATE (?:TABLE|SCHEMA)|DROP TABLE|TRUNCATE\b|search_path"
    r"|information_schema|pg_tables|pg_class|pg_namespace|foreign[ _]tables?\b"
    r"|other application|not a railwatch|\.metadata\b|RAILWATCH_TEST_REAL_CREATION"
)


@cache
def pg_from_template(module: Path) -> bool:
    """Whether ``postgres_url`` gives the tests of the module at ``module`` a copy of a
    migrated database (else an empty one, as before session 50)."""
    if os.environ.get("RAILWATCH_TEST_REAL_CREATION") == "1":
        return False
    try:
        source = module.read_text(encoding="utf-8")
    except OSError:
        return False
    return REAL_CREATION.search(source) is None and PG_EMPTY.search(source) is None


def make_pg_template(server_url: str) -> str:
    """A new database on ``server_url`` made by ``Database(url)`` (the migrations), with
    no connection left to it; returns its name (to give ``CREATE DATABASE`` as its
    ``TEMPLATE``, and to drop at the end)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from railwatch.storage.db import Database

    name = f"rw_template_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            Database(make_url(server_url).set(database=name).render_as_string(False)).dispose()
        except BaseException:
            # a migration that fails (one being written) leaves no template behind for
            # every later test to add another to
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            raise
    finally:
        admin.dispose()
    return name


def drop_pg_template(server_url: str, name: str) -> None:
    """Drop the template ``name`` of :func:`make_pg_template` (a server gone: nothing)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except SQLAlchemyError:
        pass
    finally:
        admin.dispose()
