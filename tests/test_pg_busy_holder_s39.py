"""A PostgreSQL site held by another run is refused with where that run's session
connected from and since when, and how to end it when the run is gone: a run whose
machine crashed or was cut off keeps its session, and the site's lock, on the server
until the server notices (its TCP keepalive: 2 hours and more by default), and the
refusal named a backend pid alone, with "wait for it to finish". Found in review r2 of
session 39 (2026-12-06)."""

from __future__ import annotations

import re

import pytest

from railwatch.pipeline import processing_lock
from railwatch.storage import Database
from railwatch.storage.db import BusyError

pytestmark = pytest.mark.services


def test_the_refusal_says_who_holds_the_site_and_how_to_end_a_lost_run(postgres_url: str) -> None:
    holder, second = Database(postgres_url), Database(postgres_url)
    with (
        processing_lock(holder, ["yard"]),
        pytest.raises(BusyError) as err,
        processing_lock(second, ["yard"]),
    ):
        pass
    words = str(err.value)
    assert "site 'yard' is being processed by another railwatch run" in words
    pid = re.search(r"held by PostgreSQL backend pid (\d+)", words)
    assert pid is not None, words
    assert re.search(r"connected since \d{4}-\d\d-\d\d \d\d:\d\d UTC", words), words
    assert f"SELECT pg_terminate_backend({pid.group(1)})" in words
    with processing_lock(second, ["yard"]):  # let go with its block
        pass
    holder.dispose()
    second.dispose()
