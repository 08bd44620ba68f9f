"""Helpers shared by tests: tiny GeoTIFFs, the external-service policy and loading the
scripts in benchmarks/."""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from glob import glob
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """The script ``benchmarks/NAME.py`` as a module (benchmarks/ is not a package), loaded
    once per test process and registered in ``sys.modules`` (dataclasses look their module
    up there); the scripts it imports from benchmarks/ are found as when it is run."""
    key = f"_benchmark_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    # a script imports its siblings (``from _images import ...``) as it does when run
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[key]
        raise
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def require_service(name: str, reason: str = "") -> None:
    """Skip the calling test because service ``name`` is missing, or fail under
    ``RAILWATCH_REQUIRE_SERVICES=1`` (CI), where every service must be present."""
    why = f"{name} is not available" + (f": {reason}" if reason else "")
    if os.environ.get("RAILWATCH_REQUIRE_SERVICES", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{why} (RAILWATCH_REQUIRE_SERVICES=1 requires it)")
    pytest.skip(why)


def make_geotiff(
    path: Path,
    *,
    crs: str | None = "EPSG:32652",
    origin: tuple[float, float] = (500_000.0, 4_680_000.0),
    gsd: float = 0.5,
    width: int = 64,
    height: int = 48,
    bands: int = 3,
    dtype: str = "uint8",
    nodata: float | None = None,
    data: np.ndarray | None = None,
    tags: dict[str, str] | None = None,
    **profile: Any,
) -> Path:
    """Write a small north-up GeoTIFF whose top-left corner is ``origin`` (CRS units).

    Pixels are a deterministic gradient unless ``data`` (bands, H, W) is given.
    """
    import rasterio
    from affine import Affine

    if data is None:
        yy, xx = np.mgrid[0:height, 0:width]
        base = (xx * 3 + yy * 5) % 200 + 20
        data = np.stack([(base + 10 * b) for b in range(bands)]).astype(dtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=bands,
        dtype=dtype,
        crs=crs,
        transform=Affine(gsd, 0.0, origin[0], 0.0, -gsd, origin[1]),
        nodata=nodata,
        **profile,
    ) as dst:
        dst.write(data)
        if tags:
            dst.update_tags(**tags)
    return path


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway PostgreSQL cluster (unix socket only, fsync off) and yield the
    SQLAlchemy URL of its ``postgres`` database; stop and delete it afterwards.

    Needs ``initdb``/``pg_ctl`` (Debian package ``postgresql``); when run as root the
    server runs as the ``postgres`` user. Calls :func:`require_service` when missing.
    """
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = shutil.which("initdb") or (found[-1] if found else None)
    if initdb is None:
        require_service("PostgreSQL", "initdb not found (apt-get install postgresql)")
    bindir = Path(str(initdb)).parent
    pg_ctl = shutil.which("pg_ctl", path=str(bindir)) or shutil.which("pg_ctl")
    prefix: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="rwpg-"))  # short path: socket names are limited
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            require_service("PostgreSQL", "running as root and no 'postgres' user to run it")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = base / "data"
    try:
        subprocess.run(
            [*prefix, str(initdb), "-D", str(data), "-A", "trust", "-U", "postgres",
             "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        subprocess.run(
            [*prefix, str(pg_ctl), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
             f"-k {base} -c listen_addresses='' -F", "start"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as err:
        shutil.rmtree(base, ignore_errors=True)
        require_service("PostgreSQL", f"could not start a test server: {err}")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={base}"
    finally:
        subprocess.run(
            [*prefix, str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


#: Chromium for the browser tests, as Debian installs it (.ci/run), and its options.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium driven by Playwright (a missing Chromium or Playwright is a
    missing service: skipped, or failed under RAILWATCH_REQUIRE_SERVICES=1).

    One Chromium is launched per test process and lent to each block (2026-12-07,
    session 50: some 100 modules launched one each, about 1.2 s apiece). Each block gets
    the browser with no page open, and every context it opened is closed when it ends,
    as closing the browser closed them; a Chromium that crashed or was closed is
    launched again. Between blocks Playwright's event loop is not left marked as the
    thread's running loop (:class:`_SharedChromium`), so that tests after a browser
    test may run an asyncio loop of their own, as when each block stopped Playwright."""
    if not Path(CHROMIUM).is_file() and shutil.which("chromium") is None:
        require_service("chromium", "apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require_service("playwright", "pip install playwright")
    with _SHARED.lend() as b:
        lent = _PatientBrowser(b)
        try:
            yield lent
        finally:
            lent.close_contexts()


class _SharedChromium:
    """The test process's one Playwright driver and Chromium, lent by :func:`chromium`.

    Playwright's sync API marks its event loop as the thread's running loop between its
    calls (``playwright._impl._greenlets.wait_for_future``): an ``asyncio.run`` or a
    ``sync_playwright()`` of the thread fails while it is marked. A lend marks it again
    (the driver's calls need it) and the end of the outermost lend unmarks it, so that
    outside the blocks the thread has no running loop, as after ``sync_playwright()``
    stopped; the driver's messages wait in its pipe until the next lend."""

    def __init__(self) -> None:
        self._manager: Any = None  # the started sync_playwright() context manager
        self._playwright: Any = None
        self._browser: Any = None
        self._depth = 0

    def _mark(self) -> None:
        import asyncio.events

        asyncio.events._set_running_loop(self._manager._loop)

    def _unmark(self) -> None:
        import asyncio.events

        if self._manager is not None and asyncio.events._get_running_loop() is self._manager._loop:
            asyncio.events._set_running_loop(None)

    def _alive(self) -> bool:
        return self._manager is not None and not self._manager._dispatcher_fiber.dead

    @contextmanager
    def lend(self) -> Iterator[Any]:
        if self._depth == 0:
            if not self._alive():
                self.stop()
                from playwright.sync_api import sync_playwright

                manager = sync_playwright()
                self._playwright = manager.start()
                self._manager = manager
            else:
                self._mark()
            if self._browser is None or not self._browser.is_connected():
                try:
                    self._browser = self._playwright.chromium.launch(
                        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                    )
                except BaseException:
                    self._unmark()
                    raise
        self._depth += 1
        try:
            yield self._browser
        finally:
            self._depth -= 1
            if self._depth == 0:
                try:
                    if self._browser.is_connected():
                        for context in list(self._browser.contexts):
                            context.close()
                finally:
                    self._unmark()

    def stop(self) -> None:
        """Close the browser and stop the driver (at the end of the test process)."""
        manager, self._manager = self._manager, None
        browser, self._browser = self._browser, None
        self._playwright = None
        if manager is None:
            return
        import asyncio.events

        asyncio.events._set_running_loop(manager._loop)
        try:
            if browser is not None and browser.is_connected():
                browser.close()
        except Exception:  # a driver gone already: nothing to close
            pass
        finally:
            try:
                manager.__exit__(None, None, None)
            finally:
                if asyncio.events._get_running_loop() is manager._loop:
                    asyncio.events._set_running_loop(None)


_SHARED = _SharedChromium()


def stop_chromium() -> None:
    """Close the test process's Chromium, if one was launched (conftest, at the end)."""
    _SHARED.stop()


#: Playwright's wait for a page's elements and navigations (ms): its default of 30 s
#: bounds a stuck page, and a loaded CI machine's first page load (fonts, charts) can
#: come near it; 60 s is still a bound on a hang, not a measure (session 43).
PAGE_TIMEOUT_MS = 60_000


class _PatientBrowser:
    """A Playwright ``Browser`` whose pages and contexts wait :data:`PAGE_TIMEOUT_MS`."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self._contexts: list[Any] = []  # the contexts opened through it

    def new_page(self, *args: Any, **kwargs: Any) -> Any:
        page = self._browser.new_page(*args, **kwargs)
        self._contexts.append(page.context)
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
        return page

    def new_context(self, *args: Any, **kwargs: Any) -> Any:
        context = self._browser.new_context(*args, **kwargs)
        self._contexts.append(context)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
        return context

    def close_contexts(self) -> None:
        """Close the contexts (and their pages) opened through this browser."""
        contexts, self._contexts = self._contexts, []
        if not self._browser.is_connected():
            return
        for context in contexts:
            with suppress(Exception):  # closed already, by the test itself
                context.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@contextmanager
def sqlite_write_lock_held(path: Path, db: Any) -> Iterator[list[str]]:
    """Another connection holds SQLite's write lock on the database file ``path`` (as
    ``railwatch process`` does while it records a scene); yields the BEGIN statements
    (upper case) that ``db``'s own sessions send meanwhile, to show they took no lock."""
    import sqlite3

    from sqlalchemy import event

    begins: list[str] = []

    def seen(_conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        if statement.upper().startswith("BEGIN"):
            begins.append(statement.upper())

    event.listen(db.engine, "before_cursor_execute", seen)
    # waits, were another writer busy (a loaded machine's slow commit), only to take it
    writer = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE scenes SET error = NULL WHERE 0")
        yield begins
        writer.execute("COMMIT")
    finally:
        writer.close()
        event.remove(db.engine, "before_cursor_execute", seen)


@contextmanager
def postgres_database(server_url: str, *, template: str | None = None) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database on the server ``server_url`` for the
    block, dropped after, also when the block raises: conftest's ``postgres_url`` (a
    test's), and a fixture's of a wider scope. With ``template``, the database is a
    copy of the database of that name (``CREATE DATABASE ... TEMPLATE``)."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"rw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            copy = f' TEMPLATE "{template}"' if template is not None else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def pg_sessions_waiting_on_a_lock(url: str) -> int:
    """How many sessions of the PostgreSQL database at ``url`` wait for a lock now."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def database_reusing_ids(url: str) -> Any:
    """A SQLite database at migration ``0001_initial``, where SQLite still gives the id
    of a deleted highest row to the next one (since ``0002`` it never does), with the
    tables of later revisions that today's code reads and that change nothing about ids
    (``scene_reviews``, revision ``0003``), opened without migrating."""
    from sqlalchemy import Table

    from railwatch.storage import Database
    from railwatch.storage.migrate import upgrade
    from railwatch.storage.models import SceneReview

    upgrade(url, "0001_initial")
    db = Database(url, migrate=False)
    # a declarative model's ``__table__`` is typed as its FromClause; it is a Table
    cast(Table, SceneReview.__table__).create(db.engine)
    return db


@contextmanager
def live_server(app: Any, *, stop_timeout: float = 10) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free loopback port, for browser tests;
    yields its URL and stops it after (waiting up to ``stop_timeout`` seconds for its
    thread). The port is bound here and handed to uvicorn as its socket: no other
    process can take it between its choice and uvicorn's start (session 43; it was
    closed, then bound again by uvicorn)."""
    import socket
    import threading
    import time

    import pytest
    import uvicorn

    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        srv = uvicorn.Server(config)
        thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60  # a bound on a stuck start, not a measure
        while not srv.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not srv.started:
            srv.should_exit = True
            pytest.fail("uvicorn did not start")
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            srv.should_exit = True
            thread.join(timeout=stop_timeout)
    finally:
        sock.close()


@contextmanager
def serve_db(
    db: Any,
    cache_dir: Path,
    *,
    token: str | None = None,
    stop_timeout: float = 10,
    **app_options: Any,
) -> Iterator[str]:
    """The web app over database ``db`` (its cache in ``cache_dir``; writes need
    ``token`` when given, else the environment's ``RAILWATCH_API_TOKEN``, as
    ``Settings`` reads it) served by :func:`live_server`; ``app_options`` go to
    ``create_app``. Yields the URL; ``db`` stays open (its owner disposes of it)."""
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    if token is None:
        settings = Settings(db=db.url, cache_dir=cache_dir)
    else:
        settings = Settings(db=db.url, api_token=SecretStr(token), cache_dir=cache_dir)
    with live_server(create_app(settings, db, **app_options), stop_timeout=stop_timeout) as url:
        yield url


def add_analysed_wellington(db: Any, site: str, *, analysed_after: timedelta) -> None:
    """Site ``site`` of counted_site: 121 counted images at 175°E (UTC+12), 120 steady
    then a rise to 50 cars, analysed ``analysed_after`` the rise (the site of the
    dashboard's keyboard, hover and accessibility tests)."""
    from counted_site import LATE, WELLINGTON, add_counted_site, steady_then_rise
    from railwatch.analysis.store import analyze_site

    add_counted_site(db, site, WELLINGTON, steady_then_rise())
    with db.session() as s:
        analyze_site(s, site, as_of=LATE + analysed_after)


@contextmanager
def statements(db: Any) -> Iterator[list[str]]:
    """The SQL statements ``db``'s engine runs inside the block (BEGIN, COMMIT, ROLLBACK
    and PRAGMA left out)."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn: Any, _cur: Any, sql: str, *_a: Any) -> None:
        if not sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def sigint_default() -> None:
    """``preexec_fn`` of a child that a test interrupts with SIGINT: Ctrl-C as a
    terminal sends it, even when the test run itself was started in the background (a
    shell's ``&`` without job control ignores SIGINT, and the child inherits that: it
    would never see the signal)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
