"""An event edited or removed while another command removes it (PostgreSQL: the
dashboard and ``railwatch event remove`` at once) failed with SQLAlchemy's words,
"database error (URL): UPDATE statement on table 'events' expected to update 1 row(s);
0 were matched" (or "DELETE ... expected to delete 1 row(s); Only 0 were matched"),
which say nothing of what happened. The event's row is now locked and read again
before it is changed, so the second writer waits for the first and then says the event
is gone. Found in review r2 of session 39 (2026-12-06)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
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


def _removed_meanwhile(
    db: Database, monkeypatch: pytest.MonkeyPatch, change: Callable[[int], None]
) -> BaseException | None:
    """Run ``change(event_id)`` in a thread that, once it has read the event, waits while
    another transaction removes the event and commits; what ``change`` raised."""
    with db.session() as s:
        event_id = repo.add_event(s, "yard", date(2024, 3, 1), "Strike").id
    read, removed = threading.Event(), threading.Event()
    real = repo._get_event

    def get_event(session: Any, eid: int) -> Any:
        ev = real(session, eid)
        if threading.current_thread().name == "changer":
            read.set()
            removed.wait(30)
        return ev

    monkeypatch.setattr(repo, "_get_event", get_event)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            change(event_id)
        except BaseException as err:  # handed to the test
            raised.append(err)

    thread = threading.Thread(target=run, name="changer")
    thread.start()
    assert read.wait(30)
    with db.session() as s:
        repo.remove_event(s, event_id)
    removed.set()
    thread.join(60)
    return raised[0] if raised else None


def _edit(db: Database) -> Callable[[int], None]:
    def edit(event_id: int) -> None:
        with db.session() as s:
            repo.update_event(s, event_id, description="new words")

    return edit


def _remove(db: Database) -> Callable[[int], None]:
    def remove(event_id: int) -> None:
        with db.session() as s:
            repo.remove_event(s, event_id)

    return remove


@pytest.mark.parametrize("change", [_edit, _remove], ids=["edit", "remove"])
def test_an_event_removed_meanwhile_is_said_to_be_gone(
    db: Database, monkeypatch: pytest.MonkeyPatch, change: Callable[[Database], Any]
) -> None:
    err = _removed_meanwhile(db, monkeypatch, change(db))
    assert isinstance(err, NotFoundError), repr(err)
    assert "no event with id" in str(err)
    assert "0 were matched" not in str(err)
    with db.session(readonly=True) as s:
        assert repo.list_events(s, "yard") == []
