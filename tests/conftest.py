"""Generic fixtures shared by every test module (keep this file small)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def tmp_db_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite database file in the test's tmp dir (not created yet)."""
    return f"sqlite:///{tmp_path / 'railwatch-test.db'}"
