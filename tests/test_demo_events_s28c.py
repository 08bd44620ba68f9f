"""Running the demo again into a folder whose site holds one of the demo's events under a
label that differs only in letter case or surrounding spaces keeps that event and adds
nothing.

Since the repository refuses a label that differs from one of that day only so (commit
b3660fc), ``demo.ensure_site``, which looked its events up by exact label, tried to add
"Kim–Putin summit" beside the user's "kim–putin summit" and the demo stopped with
"event 'kim–putin summit' on 2023-09-13 already exists (id 1)"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from railwatch.demo import ensure_site
from railwatch.sim.scenario import get_scenario
from railwatch.storage import Database, repo


@pytest.fixture
def db(tmp_db_url: str) -> Iterator[Database]:
    database = Database(tmp_db_url)
    yield database
    database.dispose()


@pytest.mark.parametrize("variant", ["kim–putin summit", "  KIM–PUTIN SUMMIT "])
def test_a_case_variant_of_a_demo_event_is_that_event(db: Database, variant: str) -> None:
    sc = get_scenario("tumangang")
    (when, label), *_ = sc.events
    ensure_site(db, sc)
    with db.session() as s:
        (ev,) = repo.list_events(s, sc.name)
        assert (ev.date, ev.label) == (when, label)
        # the user renames the demo's event (its own label's case: allowed)
        repo.update_event(s, ev.id, label=variant)
    ensure_site(db, sc)  # the demo run again into the same folder
    with db.session() as s:
        events = repo.list_events(s, sc.name)
        assert [(e.date, e.label) for e in events] == [(when, variant.strip())]


def test_a_missing_demo_event_is_still_added(db: Database) -> None:
    sc = get_scenario("tumangang")
    ensure_site(db, sc)
    with db.session() as s:
        (ev,) = repo.list_events(s, sc.name)
        repo.remove_event(s, ev.id)
    ensure_site(db, sc)
    with db.session() as s:
        assert [(e.date, e.label) for e in repo.list_events(s, sc.name)] == list(sc.events)
