"""Generic fixtures shared by every test module (keep this file small)."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

#: The scopes of the fixtures that tie a module's tests to one worker (see below).
SHARED_SCOPES = frozenset({"class", "module", "package"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup`` (``make test``, CI), run the tests of a module that use a
    class-, module- or package-scoped fixture on one worker, which builds that fixture
    once (an ``xdist_group`` named after the module; a test's own mark is kept). Each
    other test is a unit of its own, and pytest-xdist deals them out to both workers by
    turns: each worker built every such fixture (demo databases, simulated yards,
    trained models, Chromium).

    pytest-xdist 3.8 tells its scheduler a test's group by appending ``@GROUP`` to the
    test's ``_nodeid``, which pytest 9.2 no longer reads (its node ids are structured:
    pytest-xdist issue #1386), so no group was kept, ``xdist_group`` marks included.
    Where the node has the structured id this hook appends the suffix itself, as
    pytest-xdist's open fix (#1388) does (session 37)."""
    if not getattr(config.option, "loadgroup", False):  # set by pytest-xdist on a worker
        return
    try:  # pytest before 9.2 has none: pytest-xdist's own hook appends the suffix
        structured: Any = importlib.import_module("_pytest.nodeid").NodeId
    except (ImportError, AttributeError):
        structured = None
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            info = getattr(item, "_fixtureinfo", None)
            defs = info.name2fixturedefs.values() if info is not None else ()
            if any(d and d[-1].scope in SHARED_SCOPES for d in defs):
                stem = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
                item.add_marker(pytest.mark.xdist_group(stem))
        names = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default"))
             for m in item.iter_markers("xdist_group")}
        )  # fmt: skip
        if names and structured is not None and isinstance(getattr(item, "_id", None), structured):
            item._id = structured.parse(f"{item.nodeid}@{'_'.join(names)}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Tell ``_fresh_db`` which test module's test runs (its fixtures' too)."""
    import _fresh_db

    _fresh_db.current_module = item.path
    try:
        return (yield)
    finally:
        _fresh_db.current_module = None


@pytest.fixture(scope="session", autouse=True)
def _new_sqlite_databases_from_a_template() -> Iterator[None]:
    """A new SQLite database that ``Database(url)`` opens is a copy of one made the
    product's way once per test process, except in the modules about migrations and the
    making of database files (``_fresh_db``: replaying the migrations for each was about
    a tenth of the suite's time; session 49)."""
    import _fresh_db
    import railwatch.storage.db as db

    real = db._create_sqlite_file
    db._create_sqlite_file = _fresh_db.from_template(real)  # type: ignore[assignment]
    try:
        yield
    finally:
        db._create_sqlite_file = real
        _fresh_db.remove_template()


@pytest.fixture(scope="session", autouse=True)
def _cache_folder_of_the_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """railwatch's cache folder (``RAILWATCH_CACHE_DIR``) is a folder of the test run's,
    not the user's ``~/.cache/railwatch``, unless the run names one: ``railwatch
    ingest`` keeps its files still being copied in there (session 50), and tests that
    ingest partial copies wrote it into the home folder. Tests of the setting itself set
    or unset it with ``monkeypatch``."""
    if os.environ.get("RAILWATCH_CACHE_DIR"):
        yield
        return
    os.environ["RAILWATCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("railwatch-cache"))
    try:
        yield
    finally:
        os.environ.pop("RAILWATCH_CACHE_DIR", None)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Close the Chromium that ``helpers.chromium`` lends to the test process's browser
    tests, if one was launched (session 50)."""
    helpers = sys.modules.get("helpers")
    if helpers is not None:
        helpers.stop_chromium()


@pytest.fixture
def tmp_db_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite database file in the test's tmp dir (not created yet)."""
    return f"sqlite:///{tmp_path / 'railwatch-test.db'}"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server for ``services`` tests: ``RAILWATCH_TEST_POSTGRES_URL`` when set,
    else a throwaway local cluster (skipped, or failed under RAILWATCH_REQUIRE_SERVICES=1,
    when PostgreSQL is not installed)."""
    url = os.environ.get("RAILWATCH_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    from helpers import postgres_server

    with postgres_server() as started:
        yield started


@pytest.fixture(scope="session")
def _postgres_template(postgres_server_url: str) -> Iterator[Callable[[], str]]:
    """The name of a database of the server made by ``Database(url)`` (the migrations),
    made at its first use, once per test process; dropped at the end (session 50)."""
    import _fresh_db

    made: list[str] = []

    def name() -> str:
        if not made:
            made.append(_fresh_db.make_pg_template(postgres_server_url))
        return made[0]

    yield name
    for template in made:
        _fresh_db.drop_pg_template(postgres_server_url, template)


@pytest.fixture
def postgres_url(
    postgres_server_url: str, _postgres_template: Callable[[], str], request: pytest.FixtureRequest
) -> Iterator[str]:
    """URL of a fresh PostgreSQL database (dropped after the test): a copy of one that
    ``Database(url)`` migrated (``_fresh_db.pg_from_template``: made once, as a new
    SQLite database is), else empty: in the modules about migrations or that open it
    without migrating it, make tables of their own or read the catalogue."""
    import _fresh_db
    from helpers import postgres_database

    template = _postgres_template() if _fresh_db.pg_from_template(request.path) else None
    with postgres_database(postgres_server_url, template=template) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (``helpers.chromium``) shared by the tests of one module:
    skipped, or failed under RAILWATCH_REQUIRE_SERVICES=1, when it is missing. Its pages
    are closed at the end of the module; the Chromium itself is the test process's one
    (session 50)."""
    from helpers import chromium

    with chromium() as b:
        yield b
