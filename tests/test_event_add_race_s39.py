"""Two writers recording the same event at once on PostgreSQL (the dashboard and
``railwatch event add``, two analysts): a site's events are one a day and label, labels
compared without regard to case (``repo.add_event``), but each writer looked for the
other's event before it was committed, so "Strike" and "strike" were both stored, and
the same label twice failed with the unique constraint's raw "duplicate key value"
(a ``StorageError``) instead of "already exists". The writers of one site's day now take
turns (a transaction advisory lock) and the second is refused as when it comes after.
Found in review r2 of session 39 (2026-12-06)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlalchemy import select

from railwatch.errors import AlreadyExistsError
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.models import Event

pytestmark = pytest.mark.services

DAY = date(2024, 3, 1)


@pytest.fixture
def db(postgres_url: str) -> Iterator[Database]:
    db = Database(postgres_url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox("yard", (130.60, 42.40, 130.61, 42.41)))
    yield db
    db.dispose()


def _while_first_is_open(db: Database, second: Callable[[], None]) -> BaseException | None:
    """Add "Strike" on DAY in one transaction and, before committing it, run ``second``
    in another thread (given up to 3 s to end first); what ``second`` raised."""
    added, done = threading.Event(), threading.Event()
    raised: list[BaseException] = []

    def run_second() -> None:
        added.wait(30)
        try:
            second()
        except BaseException as err:  # handed to the test
            raised.append(err)
        finally:
            done.set()

    thread = threading.Thread(target=run_second)
    thread.start()
    with db.session() as s:
        repo.add_event(s, "yard", DAY, "Strike")
        added.set()
        done.wait(3)  # the second ends now unless it waits for this transaction
    thread.join(60)
    return raised[0] if raised else None


def _labels(db: Database) -> list[tuple[str, date]]:
    with db.session(readonly=True) as s:
        return [(e.label, e.date) for e in s.scalars(select(Event).order_by(Event.id))]


@pytest.mark.parametrize("label", ["strike", "Strike"])
def test_the_same_event_added_twice_at_once_is_stored_once(db: Database, label: str) -> None:
    def second() -> None:
        with db.session() as s:
            repo.add_event(s, "yard", DAY, label)

    err = _while_first_is_open(db, second)
    assert isinstance(err, AlreadyExistsError), repr(err)
    assert "already exists" in str(err)
    assert _labels(db) == [("Strike", DAY)]


def test_an_event_moved_onto_one_added_at_once_is_refused(db: Database) -> None:
    with db.session() as s:
        moved = repo.add_event(s, "yard", date(2024, 2, 28), "STRIKE").id

    def second() -> None:
        with db.session() as s:
            repo.update_event(s, moved, when=DAY)

    err = _while_first_is_open(db, second)
    assert isinstance(err, AlreadyExistsError), repr(err)
    assert sorted(_labels(db)) == [("STRIKE", date(2024, 2, 28)), ("Strike", DAY)]
