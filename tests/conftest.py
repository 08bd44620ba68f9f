"""Generic fixtures shared by every test module (keep this file small)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


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


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database (dropped after the test)."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"rw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(postgres_server_url).set(database=name).render_as_string(False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (``helpers.chromium``) shared by the tests of one module:
    skipped, or failed under RAILWATCH_REQUIRE_SERVICES=1, when it is missing."""
    from helpers import chromium

    with chromium() as b:
        yield b
