"""``railwatch site edit NAME -d TEXT`` (or ``--tag``, and the dashboard's same edit)
meeting the site's removal by another command (PostgreSQL) failed with SQLAlchemy's
"UPDATE statement on table 'sites' expected to update 1 row(s); 0 were matched". It now
holds the site's row first, as the other writers of a site do (``repo.hold_site``): it
waits for the removal and says the site was removed meanwhile, or the removal waits for
it. Found in review r2 of session 39 (2026-12-06)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import railwatch.storage.repo as repo
from railwatch.errors import NotFoundError
from railwatch.sites import site_from_bbox
from railwatch.storage import Database

pytestmark = pytest.mark.services


@pytest.fixture
def db(postgres_url: str) -> Iterator[Database]:
    db = Database(postgres_url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox("yard", (130.60, 42.40, 130.61, 42.41)))
    yield db
    db.dispose()


def test_an_edit_that_meets_the_sites_removal_says_so(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    read, removed = threading.Event(), threading.Event()
    real = repo.get_site

    def get_site(session: Any, name: Any) -> Any:
        site = real(session, name)
        if threading.current_thread().name == "editor":
            read.set()
            removed.wait(30)
        return site

    monkeypatch.setattr(repo, "get_site", get_site)
    raised: list[BaseException] = []

    def edit() -> None:
        try:
            with db.session() as s:
                repo.update_site(s, "yard", description="the north yard")
        except BaseException as err:  # handed to the test
            raised.append(err)

    thread = threading.Thread(target=edit, name="editor")
    thread.start()
    assert read.wait(30)
    with db.session() as s:
        repo.remove_site(s, real(s, "yard"))
    removed.set()
    thread.join(60)
    assert raised and isinstance(raised[0], NotFoundError), repr(raised)
    assert "was removed while" in str(raised[0])
    assert "0 were matched" not in str(raised[0])
