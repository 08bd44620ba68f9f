"""Two events of one site and day whose labels differ only in letter case (or in spaces
around them) are the same event: the second is refused as a duplicate.

Before, ``event add SITE 2023-09-13 "kim–putin summit"`` beside an existing "Kim–Putin
summit" of that day recorded a second event, and alerts said "also that day: kim–putin
summit". Checked on SQLite and on PostgreSQL (a ``services`` test)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from railwatch.cli.main import main
from railwatch.errors import AlreadyExistsError
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo

BBOX = "130.60,42.28,130.63,42.30"
DAY = date(2023, 9, 13)
LABEL = "Kim–Putin summit"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db(request: pytest.FixtureRequest, tmp_db_url: str) -> Iterator[Database]:
    url = tmp_db_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    database = Database(url)
    with database.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
        repo.add_event(s, "tum", DAY, LABEL)
    yield database
    database.dispose()


def _labels(db: Database) -> list[tuple[str, str]]:
    with db.session(readonly=True) as s:
        return [(e.date.isoformat(), e.label) for e in repo.list_events(s, "tum")]


@pytest.mark.parametrize(
    "label", ["kim–putin summit", "KIM–PUTIN SUMMIT", "  kim–Putin Summit ", "Kim–Putin summit"]
)
def test_add_refuses_a_label_that_differs_only_in_case(db: Database, label: str) -> None:
    with pytest.raises(AlreadyExistsError) as info, db.session() as s:
        repo.add_event(s, "tum", DAY, label)
    # the existing wording, naming the event that is there
    assert str(info.value) == f"event {LABEL!r} on 2023-09-13 already exists (id 1)"
    assert _labels(db) == [("2023-09-13", LABEL)]


def test_case_folding_is_unicode_not_ascii_only(db: Database) -> None:
    # SQL's lower() in SQLite folds ASCII letters only
    with db.session() as s:
        repo.add_event(s, "tum", DAY, "Визит ÉTÉ Straße")
    for variant in ("визит été STRASSE", "ВИЗИТ ÉTÉ straße"):
        with pytest.raises(AlreadyExistsError, match="already exists"), db.session() as s:
            repo.add_event(s, "tum", DAY, variant)
    assert len(_labels(db)) == 2


def test_other_days_and_other_labels_are_still_accepted(db: Database) -> None:
    with db.session() as s:
        repo.add_event(s, "tum", date(2023, 9, 14), "kim–putin summit")
        repo.add_event(s, "tum", DAY, "Kim–Putin summit, day 2")
    assert len(_labels(db)) == 3


def test_update_refuses_a_label_or_date_that_makes_a_case_duplicate(db: Database) -> None:
    with db.session() as s:
        other = repo.add_event(s, "tum", date(2023, 9, 14), "kim–putin SUMMIT").id
        second = repo.add_event(s, "tum", DAY, "flood").id
    with pytest.raises(AlreadyExistsError) as info, db.session() as s:
        repo.update_event(s, other, when=DAY)  # its label is that day's event's
    assert str(info.value) == f"event {LABEL!r} on 2023-09-13 already exists (id 1)"
    with pytest.raises(AlreadyExistsError, match="already exists"), db.session() as s:
        repo.update_event(s, second, label=" KIM–putin summit ")
    assert _labels(db) == [
        ("2023-09-13", LABEL),
        ("2023-09-13", "flood"),
        ("2023-09-14", "kim–putin SUMMIT"),
    ]


def test_an_event_may_change_the_case_of_its_own_label(db: Database) -> None:
    with db.session() as s:
        ev = repo.update_event(s, 1, label="KIM–PUTIN Summit", when=DAY)
        assert ev.label == "KIM–PUTIN Summit"
    assert _labels(db) == [("2023-09-13", "KIM–PUTIN Summit")]


def test_event_add_on_the_command_line(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", tmp_db_url, "site", "add", "tum", "--bbox", BBOX]) == 0
    assert main(["--db", tmp_db_url, "event", "add", "tum", "2023-09-13", LABEL]) == 0
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "event", "add", "tum", "2023-09-13", "kim–putin summit"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert f"event {LABEL!r} on 2023-09-13 already exists" in err
    with Database(tmp_db_url) as db, db.session(readonly=True) as s:
        assert [e.label for e in repo.list_events(s, "tum")] == [LABEL]


def test_events_recorded_before_as_case_duplicates_can_still_be_edited(db: Database) -> None:
    from railwatch.storage.models import Event

    with db.session() as s:  # as add_event recorded it before labels were casefolded
        site_id = repo.get_site(s, "tum").id
        s.add(Event(site_id=site_id, date=DAY, label="kim–putin summit", description=""))
        s.flush()
    with db.session() as s:
        ev = repo.update_event(s, 1, description="Vladivostok")
        assert ev.description == "Vladivostok"
        repo.update_event(s, 2, label="KIM–PUTIN summit")  # still the same event
    with pytest.raises(AlreadyExistsError), db.session() as s:
        repo.update_event(s, 2, label="Kim–Putin summit, day 2", when=date(2023, 9, 14))
        repo.add_event(s, "tum", date(2023, 9, 14), "kim–putin summit, DAY 2")
    assert _labels(db) == [("2023-09-13", LABEL), ("2023-09-13", "KIM–PUTIN summit")]
