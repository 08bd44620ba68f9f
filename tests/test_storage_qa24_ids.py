"""QA (session 24): SQLite never hands a deleted id to another row of scenes, events or
alerts.

SQLite gave a new row the highest id plus one: ``replace_alerts(site, [])`` then
``replace_alerts(site, [new])`` gave the new alert the removed one's id, so a page or
script still holding the old id acknowledged (showed, removed) another alert. The
tables now have ``AUTOINCREMENT``; migration ``0002_sqlite_autoincrement`` rebuilds them
in databases made before, keeping every row and id, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Table, create_engine, inspect, select, text

from railwatch.analysis.types import Alert as AlertValue
from railwatch.errors import StorageError
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.migrate import current_revision, head_revision, upgrade
from railwatch.storage.models import Alert, Base, SceneReview
from test_storage import FakeCount, FakeQuality, FakeSceneInfo, det_record, when

BBOX = "130.60,42.28,130.63,42.30"
PREVIOUS = "0001_initial"
TABLES = ("sites", "scenes", "detections", "counts", "events", "alerts")


def _alert(key: str, scene_id: int | None = None) -> AlertValue:
    return AlertValue(
        key=key,
        kind="record",
        severity="high",
        when=datetime(2023, 10, 5, 2, 30, tzinfo=UTC),
        cls="all",
        value=68.0,
        explanation="68 railcars, 4.5x the 5-year record of 15",
        metrics={"record": 15.0},
        scene_id=scene_id,
    )


def _scene(n: int) -> FakeSceneInfo:
    return FakeSceneInfo(uri=f"/data/s{n}.tif", content_hash=f"{n:064x}", acquired=when(n))


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'old.db'}"


@pytest.fixture
def old_db(url: str) -> Iterator[str]:
    """A SQLite database made by the previous schema (revision 0001_initial) and filled
    as railwatch fills it: two sites, scenes with detections and counts, events, alerts
    (one acknowledged, one pointing at a scene), the highest alert and scene deleted."""
    upgrade(url, PREVIOUS)
    db = Database(url, migrate=False)
    # today's repository functions read scene reviews (a later revision's table): an
    # empty one while they fill the database, dropped after, leaves 0001's schema
    reviews = SceneReview.__table__
    assert isinstance(reviews, Table)
    reviews.create(db.engine)
    try:
        with db.session() as s:
            repo.add_site(s, site_from_bbox("tum", BBOX))
            repo.add_site(s, site_from_bbox("yard", BBOX))
        scene_ids = []
        for n in range(1, 5):
            with db.session() as s:
                scene, _ = repo.add_scene(s, "tum" if n < 4 else "yard", _scene(n), 0.7)
                recs = [det_record("tank"), det_record("hopper", 130.612)]
                repo.record_scene_result(s, scene.id, FakeQuality(), recs, FakeCount(), "d", "1")
                scene_ids.append(scene.id)
        with db.session() as s:
            repo.add_event(s, "tum", date(2023, 9, 13), "summit")
            repo.add_event(s, "tum", date(2023, 9, 20), "visit")
            alerts = [_alert("a", scene_ids[0]), _alert("b"), _alert("c")]
            repo.replace_alerts(s, "tum", alerts)
        with db.session() as s:
            first = repo.list_alerts(s, "tum", active_only=False)[-1]
            repo.acknowledge_alert(s, first.id, "checked")
            repo.replace_alerts(s, "tum", alerts[:2])  # c, the highest id, removed
            repo.remove_site(s, "yard")  # scene 4, the highest id, removed
        reviews.drop(db.engine)
    finally:
        db.dispose()
    yield url


def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
                for t in TABLES
            }
    finally:
        engine.dispose()


def _table_sql(conn: Connection, table: str) -> str:
    return str(
        conn.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
        ).scalar_one()
    )


def test_an_alert_removed_by_a_reanalysis_never_lends_its_id(tmp_db_url: str) -> None:
    with Database(tmp_db_url) as db:
        with db.session() as s:
            repo.add_site(s, site_from_bbox("tum", BBOX))
            repo.replace_alerts(s, "tum", [_alert("record-all-2023-10-05")])
            old = repo.list_alerts(s, "tum")[0].id
        with db.session() as s:
            repo.replace_alerts(s, "tum", [])
        with db.session() as s:
            repo.replace_alerts(s, "tum", [_alert("spike-all-2023-11-02")])
            new = repo.list_alerts(s, "tum")[0].id
        assert new > old
        with db.session() as s:
            assert s.get(Alert, old) is None


def test_a_removed_scene_and_event_never_lend_their_ids(tmp_db_url: str) -> None:
    with Database(tmp_db_url) as db:
        with db.session() as s:
            repo.add_site(s, site_from_bbox("tum", BBOX))
            scene, _ = repo.add_scene(s, "tum", _scene(1), 0.7)
            event = repo.add_event(s, "tum", date(2023, 9, 13), "summit")
            old_scene, old_event = scene.id, event.id
        with db.session() as s:
            repo.remove_event(s, old_event)
            repo.remove_site(s, "tum")
        with db.session() as s:
            repo.add_site(s, site_from_bbox("tum", BBOX))
            scene, _ = repo.add_scene(s, "tum", _scene(1), 0.7)
            event = repo.add_event(s, "tum", date(2023, 9, 13), "summit")
            assert scene.id > old_scene and event.id > old_event


def test_a_database_of_the_previous_schema_keeps_every_row_and_id(old_db: str) -> None:
    before = _rows(old_db)
    assert [r[0] for r in before["alerts"]] == [1, 2] and [r[0] for r in before["scenes"]] == [
        1,
        2,
        3,
    ]
    assert len(before["detections"]) == 6 and len(before["counts"]) == 12
    with Database(old_db) as db:
        assert current_revision(db.engine) == head_revision()
        assert _rows(old_db) == before  # every row, every id, every value
        with db.engine.connect() as conn:
            for table in ("scenes", "events", "alerts"):
                assert "AUTOINCREMENT" in _table_sql(conn, table), table
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert list(conn.exec_driver_sql("PRAGMA foreign_key_check")) == []
            # foreign keys are enforced again on the connections handed out
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            # indexes and unique constraints are as the models have them
            found = inspect(conn)
            for table in ("scenes", "alerts"):
                names = {i["name"] for i in found.get_indexes(table)}
                wanted = {i.name for i in Base.metadata.tables[table].indexes}
                assert wanted <= names, table
            assert {c["name"] for c in found.get_unique_constraints("alerts")} == {
                "uq_alerts_site_id_key"
            }
        with db.session() as s:
            # the ids of the rows there are never given again (one deleted from the top
            # before the migration, 3, can be: nothing recorded it) ...
            repo.replace_alerts(s, "tum", [_alert("a", 1), _alert("b"), _alert("d")])
            new = repo.list_alerts(s, "tum", active_only=False)
            assert sorted(a.id for a in new) == [1, 2, 3]
            assert {a.key: a.id for a in new}["d"] == 3
            kept = next(a for a in new if a.key == "a")
            assert kept.acknowledged and kept.ack_note == "checked" and kept.scene_id == 1
        with db.session() as s:
            repo.replace_alerts(s, "tum", [_alert("a"), _alert("b")])
        with db.session() as s:  # ... and none deleted after the migration either
            repo.replace_alerts(s, "tum", [_alert("a"), _alert("b"), _alert("e")])
            assert {a.key: a.id for a in repo.list_alerts(s, "tum")}["e"] == 4
        with db.session() as s:  # the cascades still hold: a site goes with all it has
            repo.remove_site(s, "tum")
    after = _rows(old_db)
    assert all(after[t] == [] for t in TABLES), after


def test_a_migration_that_fails_changes_nothing(old_db: str) -> None:
    """The three tables are rebuilt in one transaction: a failure at the last (here a
    table already named as Alembic's temporary one) leaves the database as it was."""
    engine = create_engine(old_db)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE _alembic_tmp_alerts (x INTEGER)"))
    finally:
        engine.dispose()
    before = _rows(old_db)
    with pytest.raises(StorageError, match="migrating the database failed") as err:
        Database(old_db)
    assert "_alembic_tmp_alerts" in str(err.value)
    assert _rows(old_db) == before
    engine = create_engine(old_db)
    try:
        with engine.connect() as conn:
            assert "AUTOINCREMENT" not in _table_sql(conn, "scenes")  # rolled back too
            assert (
                conn.execute(
                    select(text("version_num")).select_from(text("alembic_version"))
                ).scalar_one()
                == PREVIOUS
            )
    finally:
        engine.dispose()


@pytest.mark.services
def test_postgresql_needs_no_rebuild_and_never_reuses_ids(postgres_url: str) -> None:
    with Database(postgres_url) as db:
        assert current_revision(db.engine) == head_revision()
        with db.session() as s:
            repo.add_site(s, site_from_bbox("tum", BBOX))
            repo.replace_alerts(s, "tum", [_alert("a")])
            old = repo.list_alerts(s, "tum")[0].id
        with db.session() as s:
            repo.replace_alerts(s, "tum", [])
        with db.session() as s:
            repo.replace_alerts(s, "tum", [_alert("b")])
            assert repo.list_alerts(s, "tum")[0].id > old


def test_a_migration_leaving_rows_without_their_parent_is_rolled_back(old_db: str) -> None:
    """Foreign keys are not enforced while a migration runs (SQLite asks so to rebuild
    a table others refer to); what it leaves is checked before committing."""
    from railwatch.storage import make_engine
    from railwatch.storage.migrate import _migrating

    before = _rows(old_db)
    engine = make_engine(old_db)  # railwatch's: foreign keys enforced
    try:
        # 6 detections, 12 counts and the alert of scene 1
        broken = r"left 19 row\(s\) without their parent"
        with pytest.raises(StorageError, match=broken), _migrating(engine) as conn:
            conn.execute(text("DELETE FROM scenes"))  # a migration that drops scenes' rows
        assert _rows(old_db) == before
        with engine.connect() as conn:  # enforcement is back on the pooled connection
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
