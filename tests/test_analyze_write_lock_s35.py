"""`railwatch analyze SITE` no longer holds the write lock while it computes (session 35).

It ran the whole analysis (reading the series, computing baselines and alerts, storing
them) in one writing session, which on SQLite takes the write lock at its first
statement (``BEGIN IMMEDIATE``): ``railwatch process`` recording a scene, an
acknowledgement or an event from the CLI or the dashboard, and another analysis waited
for it, and failed with "database is locked" past the busy timeout. Now
(``analysis.store.analyze_and_store``) the counts and events are read in a read-only
session, analysed with no transaction open, and stored in one short writing session
that first checks that what the analysis read is still what is stored: where it is
not, the analysis runs again (up to ``STORE_ATTEMPTS`` times outside the lock, then once
inside), so the stored alerts never reflect counts or events that changed meanwhile.

The other writer here commits through a second :class:`Database` whose SQLite busy
timeout is 1 s: where the analysis held the lock, it failed with "database is locked".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

import railwatch.analysis.store as store
from counted_site import LATE, WELLINGTON, add_counted_site, steady_then_rise
from railwatch.analysis.store import STORE_ATTEMPTS, analyze_and_store, analyze_site
from railwatch.cli.main import main
from railwatch.errors import NotFoundError
from railwatch.storage import Database, repo
from railwatch.storage.db import BusyError
from railwatch.storage.models import Alert, Count, Scene, to_wkb

SITE = "wel"
#: judged as of two days after the rise, as `railwatch analyze` judges as of now
AS_OF = LATE + timedelta(days=2)


def _quick_writer(url: str) -> Database:
    """A second database object whose SQLite writers wait 1 s for the lock, not 30."""
    other = Database(url, migrate=False)
    if other.engine.dialect.name == "sqlite":

        @event.listens_for(other.engine, "connect")
        def _short(dbapi_conn: Any, _record: Any) -> None:  # after the engine's own
            dbapi_conn.execute("PRAGMA busy_timeout=1000")

    return other


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rw.db'}"


@pytest.fixture
def dbs(url: str) -> Iterator[tuple[Database, Database]]:
    """The site of 120 steady images then a rise, analysed once; the database, and a
    second one for the other writer."""
    db = Database(url)
    add_counted_site(db, SITE, WELLINGTON, steady_then_rise())
    with db.session() as s:
        analyze_site(s, SITE, as_of=AS_OF)
    other = _quick_writer(url)
    yield db, other
    other.dispose()
    db.dispose()


def _during_analysis(
    monkeypatch: pytest.MonkeyPatch, write: Callable[[int], None]
) -> list[str | None]:
    """Run ``write(n)`` (n: 1 for the first analysis, 2 for the next...) each time the
    analysis computes, in the middle of it; returns what each write met: None where it
    committed, else its error."""
    outcomes: list[str | None] = []
    real = store.analyze_series
    writing: list[bool] = []  # an analysis that the write runs computes as it is

    def analyze_series(*args: Any, **kwargs: Any) -> Any:
        if writing:
            return real(*args, **kwargs)
        writing.append(True)
        try:
            write(len(outcomes) + 1)
        except Exception as err:  # the lock held: told to the test
            outcomes.append(str(err))
        else:
            outcomes.append(None)
        finally:
            writing.clear()
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "analyze_series", analyze_series)
    return outcomes


def _stored(db: Database) -> dict[str, tuple[str, str, bool]]:
    with db.session(readonly=True) as s:
        return {
            a.key: (a.severity, a.explanation, a.acknowledged)
            for a in s.scalars(select(Alert).where(Alert.active))
        }


def _fresh(db: Database) -> dict[str, tuple[str, str]]:
    """The alerts an analysis of what is stored now raises (nothing stored)."""
    with db.session(readonly=True) as s:
        alerts = analyze_site(s, SITE, as_of=AS_OF, store=False).alerts
    return {a.key: (a.severity, a.explanation) for a in alerts}


def _without_ack(stored: dict[str, tuple[str, str, bool]]) -> dict[str, tuple[str, str]]:
    return {k: (sev, text) for k, (sev, text, _ack) in stored.items()}


def _add_event(db: Database, label: str, when: date) -> None:
    with db.session() as s:
        repo.add_event(s, SITE, when, label)


def _add_image(db: Database, n: float) -> None:
    """A processed, usable image of ``n`` cars, the day after the rise."""
    with db.session() as s:
        site = repo.get_site(s, SITE)
        sc = Scene(
            site_id=site.id, uri="/nowhere/late.tif", content_hash="f" * 64,
            acquired_at=LATE + timedelta(days=1), crs="EPSG:4326",
            footprint_wkb=to_wkb(WELLINGTON), date_source="option", gsd=0.5, width=10,
            height=10, band_count=3, dtype="uint8", coverage=1.0, status="processed",
            usable=True, clear_fraction=1.0,
        )  # fmt: skip
        s.add(sc)
        s.flush()
        s.add(
            Count(
                scene_id=sc.id, cls="all", count=n, low=n - 2, high=n + 2,
                method="objects", detector="test", version="1",
            )
        )  # fmt: skip


def test_an_acknowledgement_commits_while_the_cli_analysis_computes(
    dbs: tuple[Database, Database], url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The defect: `railwatch analyze SITE` held the write lock while it computed, and
    an acknowledgement sent meanwhile failed with "database is locked". It commits now,
    and the analysis keeps it (its inputs did not change: analysed once)."""
    db, other = dbs
    with db.session(readonly=True) as s:
        alert_id = s.scalars(select(Alert.id).where(Alert.severity != "info")).first()
    assert alert_id is not None

    def ack(_n: int) -> None:
        with other.session() as s:
            repo.acknowledge_alert(s, alert_id, note="checked in the images")

    met = _during_analysis(monkeypatch, ack)
    assert main(["--db", url, "analyze", SITE, "--json"]) == 0
    assert met == [None]  # committed at once, and the analysis ran once
    with db.session(readonly=True) as s:
        row = s.get(Alert, alert_id)
        assert row is not None and row.acknowledged and row.ack_note == "checked in the images"


def test_another_analysis_stores_while_one_computes(
    dbs: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two analyses of the site at once: the second stores while the first computes
    (it waited for the whole of the first), and both store the same alerts."""
    db, other = dbs
    results: list[Any] = []

    def analyse_too(n: int) -> None:
        if n == 1:  # the analysis below, in the middle of the first one
            results.append(analyze_and_store(other, SITE, as_of=AS_OF))

    met = _during_analysis(monkeypatch, analyse_too)
    first = analyze_and_store(db, SITE, as_of=AS_OF)
    monkeypatch.undo()
    assert met == [None]  # the inner analysis stored; the outer one ran once
    assert results[0].unchanged == first.unchanged == len(first.alerts)
    assert _without_ack(_stored(db)) == _fresh(db)


@pytest.mark.parametrize("change", ["event", "image"])
def test_counts_or_events_changed_meanwhile_are_analysed_again(
    dbs: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """An event added, or an image recorded, while the analysis computes: the analysis
    sees it at its write and runs again, so the stored alerts are those of what is
    stored (the event named, the new image judged), never of the state it first read."""
    db, other = dbs
    before = _fresh(db)

    def write(n: int) -> None:
        if n == 1 and change == "event":
            _add_event(other, "border reopened", (LATE - timedelta(days=3)).date())
        elif n == 1:
            _add_image(other, 90.0)

    met = _during_analysis(monkeypatch, write)
    result = analyze_and_store(db, SITE, as_of=AS_OF)
    monkeypatch.undo()
    assert met == [None, None]  # committed at once; analysed again
    stored = _without_ack(_stored(db))
    assert stored == _fresh(db) != before
    assert {k: (a.severity, a.explanation) for a in result.alerts for k in [a.key]} == stored
    if change == "event":
        assert any("border reopened" in text for _sev, text in stored.values())
    else:
        assert result.points == 122


def test_inputs_changing_at_every_try_are_analysed_under_the_lock_at_last(
    dbs: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events added during each analysis: after STORE_ATTEMPTS tries the analysis runs
    inside the writing session (on SQLite the writer then waits: it is refused within
    its 1 s here), and what it stores is what is stored, every event named."""
    db, other = dbs

    def write(n: int) -> None:
        _add_event(other, f"event {n}", (LATE - timedelta(days=n)).date())

    met = _during_analysis(monkeypatch, write)
    analyze_and_store(db, SITE, as_of=AS_OF)
    monkeypatch.undo()
    assert met[:STORE_ATTEMPTS] == [None] * STORE_ATTEMPTS
    assert len(met) == STORE_ATTEMPTS + 1
    last = met[-1]
    assert last is not None and "locked" in last
    assert _without_ack(_stored(db)) == _fresh(db)
    with db.session(readonly=True) as s:
        assert len(repo.list_events(s, SITE)) == STORE_ATTEMPTS


def test_a_site_removed_meanwhile_stores_nothing(
    dbs: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, other = dbs

    def remove(_n: int) -> None:
        with other.session() as s:
            repo.remove_site(s, SITE)

    _during_analysis(monkeypatch, remove)
    with pytest.raises(NotFoundError, match="was removed while it was being analysed"):
        analyze_and_store(db, SITE, as_of=AS_OF)
    with db.session(readonly=True) as s:
        assert s.scalars(select(Alert)).first() is None


@pytest.mark.services
def test_postgresql_analyses_again_then_refuses(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the same: an event added meanwhile is analysed again; inputs that
    change at every try, the last one inside the writing session too (nothing holds
    other writers off there), are refused with a BusyError and nothing is stored."""
    pytest.importorskip("psycopg")
    db = Database(postgres_url)
    other = Database(postgres_url, migrate=False)
    try:
        add_counted_site(db, SITE, WELLINGTON, steady_then_rise())
        with db.session() as s:
            analyze_site(s, SITE, as_of=AS_OF)

        def once(n: int) -> None:
            if n == 1:
                _add_event(other, "border reopened", (LATE - timedelta(days=3)).date())

        met = _during_analysis(monkeypatch, once)
        analyze_and_store(db, SITE, as_of=AS_OF)
        monkeypatch.undo()
        assert met == [None, None]
        stored = _stored(db)
        assert _without_ack(stored) == _fresh(db)

        def always(n: int) -> None:
            _add_event(other, f"event {n}", (LATE - timedelta(days=10 + n)).date())

        met = _during_analysis(monkeypatch, always)
        with pytest.raises(BusyError, match=r"changed while it was analysed.*nothing was stored"):
            analyze_and_store(db, SITE, as_of=AS_OF)
        monkeypatch.undo()
        assert met == [None] * (STORE_ATTEMPTS + 1)
        assert _stored(db) == stored
    finally:
        other.dispose()
        db.dispose()


def test_the_web_apis_analysis_lets_an_acknowledgement_commit(
    dbs: tuple[Database, Database],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``POST /api/sites/{site}/analyze`` ran the analysis in one writing session too."""
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db, other = dbs
    token = "s35-analyze-token-0123456789"
    with db.session(readonly=True) as s:
        alert_id = s.scalars(select(Alert.id).where(Alert.severity != "info")).first()
    assert alert_id is not None

    def ack(_n: int) -> None:
        with other.session() as s:
            repo.acknowledge_alert(s, alert_id, note="seen on the dashboard")

    settings = Settings(db=db.url, api_token=SecretStr(token), cache_dir=tmp_path / "cache")
    with TestClient(create_app(settings, db)) as client:
        met = _during_analysis(monkeypatch, ack)
        r = client.post(f"/api/sites/{SITE}/analyze", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert met == [None]
    with db.session(readonly=True) as s:
        row = s.get(Alert, alert_id)
        assert row is not None and row.acknowledged and row.ack_note == "seen on the dashboard"


@pytest.mark.services
def test_postgresql_a_stored_nan_is_not_taken_for_a_change(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL stores a float NaN (SQLite stores NULL), and NaN is never equal to
    itself: the stamps of unchanged rows holding one compared unequal at every try, and
    the analysis was refused as if the counts kept changing."""
    pytest.importorskip("psycopg")
    db = Database(postgres_url)
    try:
        add_counted_site(db, SITE, WELLINGTON, steady_then_rise())
        with db.session() as s:
            first = s.scalars(select(Scene).order_by(Scene.id)).first()
            assert first is not None
            first.clear_fraction = float("nan")
        met = _during_analysis(monkeypatch, lambda _n: None)
        result = analyze_and_store(db, SITE, as_of=AS_OF)
        assert met == [None] and result.stored
    finally:
        db.dispose()
