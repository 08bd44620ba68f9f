"""Events of one day come back in one order (by id) every time (session 24)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import event as sa_event

from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo

BBOX = "130.60,42.28,130.63,42.30"


def test_events_of_one_day_are_listed_by_id(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'e.db'}")
    with db.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
        for label in ("b flood", "a summit", "c visit"):
            repo.add_event(s, "tum", date(2024, 4, 15), label, "")
        repo.add_event(s, "tum", date(2024, 1, 2), "earlier", "")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", seen)
    with db.session(readonly=True) as s:
        rows = [(e.date.isoformat(), e.label) for e in repo.list_events(s, "tum")]
    sa_event.remove(db.engine, "before_cursor_execute", seen)
    assert rows == [
        ("2024-01-02", "earlier"),
        ("2024-04-15", "b flood"),
        ("2024-04-15", "a summit"),
        ("2024-04-15", "c visit"),
    ]
    # the order is asked of the database, not left to how it happens to store rows
    listing = next(q for q in statements if "FROM events" in q)
    assert "ORDER BY events.date, events.id" in listing
    db.dispose()
