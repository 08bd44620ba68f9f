"""Event labels are stored in Unicode NFC and compared whatever their normal form
(session 29).

A label typed in decomposed form (NFD: "e" and a combining accent, as macOS gives it)
looks the same as its composed form but was another string: ``event add`` recorded it as
a second event of that day, and alerts said "Café opening; also that day: Café opening".
Labels stored before this (perhaps in NFD) still match their NFC form.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import date

import pytest

from railwatch.errors import AlreadyExistsError
from railwatch.limits import check_event_label
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.models import Event

BBOX = "130.60,42.28,130.63,42.30"
DAY = date(2023, 9, 13)
NFC = unicodedata.normalize("NFC", "Café opening at Tumangang")
NFD = unicodedata.normalize("NFD", NFC)


def test_the_two_forms_differ() -> None:
    assert NFC != NFD  # else the tests below prove nothing


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db(request: pytest.FixtureRequest, tmp_db_url: str) -> Iterator[Database]:
    url = tmp_db_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    database = Database(url)
    with database.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    yield database
    database.dispose()


def _labels(db: Database) -> list[str]:
    with db.session(readonly=True) as s:
        return [e.label for e in repo.list_events(s, "tum")]


def test_check_event_label_gives_nfc() -> None:
    assert check_event_label(f"  {NFD} ") == NFC


def test_a_label_typed_decomposed_is_stored_composed(db: Database) -> None:
    with db.session() as s:
        repo.add_event(s, "tum", DAY, NFD)
    assert _labels(db) == [NFC]


@pytest.mark.parametrize(("first", "second"), [(NFC, NFD), (NFD, NFC), (NFC, NFD.upper())])
def test_the_same_label_in_the_other_form_is_the_same_event(
    db: Database, first: str, second: str
) -> None:
    with db.session() as s:
        repo.add_event(s, "tum", DAY, first)
    with pytest.raises(AlreadyExistsError, match="already exists"), db.session() as s:
        repo.add_event(s, "tum", DAY, second)
    assert _labels(db) == [NFC]


def _store_old_nfd_label(db: Database) -> int:
    """An event stored as earlier versions stored it: the label as typed, in NFD."""
    with db.session() as s:
        site_id = repo.get_site(s, "tum").id
        ev = Event(site_id=site_id, date=DAY, label=NFD, description="")
        s.add(ev)
        s.flush()
        return ev.id


def test_a_label_stored_decomposed_before_still_matches(db: Database) -> None:
    old = _store_old_nfd_label(db)
    with (
        pytest.raises(AlreadyExistsError, match=rf"already exists \(id {old}\)"),
        db.session() as s,
    ):
        repo.add_event(s, "tum", DAY, NFC)
    # and it can be edited as the same event: its label in NFC, not a clash with itself
    with db.session() as s:
        repo.update_event(s, old, label=NFC, description="the day the café opened")
    assert _labels(db) == [NFC]
