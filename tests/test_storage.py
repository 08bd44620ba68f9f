"""Storage: migrations, round trips, dedupe, transactions, cascades, alerts, events.

Every test that touches a database runs twice: on SQLite and on a real PostgreSQL
server started by the tests (``postgres_url``; skipped without PostgreSQL, failed
under ``RAILWATCH_REQUIRE_SERVICES=1``). Only the SQLite-specific tuning tests run on
SQLite alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import shapely
from affine import Affine
from sqlalchemy import func, inspect, select, text

from railwatch.analysis.types import Alert as AlertValue
from railwatch.detect.base import Detection as PixelDetection
from railwatch.detect.base import OrientedBox
from railwatch.errors import (
    AlreadyExistsError,
    ConfigError,
    InputError,
    NotFoundError,
    StorageError,
)
from railwatch.sites import site_from_bbox, site_from_geojson
from railwatch.storage import Database, DetectionRecord, records_from_detections, repo
from railwatch.storage.migrate import current_revision, head_revision
from railwatch.storage.models import Alert, Base, Count, Detection, Event, Scene, Site

BBOX = "130.60,42.28,130.63,42.30"
FOOTPRINT = shapely.box(130.59, 42.27, 130.62, 42.31)


@dataclass(frozen=True)
class FakeSceneInfo:
    uri: str
    content_hash: str
    acquired: datetime
    crs: str = "EPSG:32652"
    footprint: Any = FOOTPRINT
    gsd: float = 0.5
    width: int = 1000
    height: int = 800
    band_count: int = 3
    dtype: str = "uint8"
    sensor: str | None = "SkySat-sim"
    mask_uri: str | None = None
    date_source: str = "stac"
    metadata: dict[str, Any] = field(default_factory=lambda: {"eo:cloud_cover": 3.5})


@dataclass(frozen=True)
class FakeQuality:
    clear_fraction: float = 0.95
    coverage: float = 0.7
    cloud_fraction: float = 0.03
    haze_fraction: float = 0.02
    snow_fraction: float = 0.0
    nodata_fraction: float = 0.0
    gsd: float = 0.5
    usable: bool = True
    reasons: tuple[str, ...] = ()
    source: str = "mask"


@dataclass(frozen=True)
class FakeCount:
    total: float = 3.0
    low: float = 2.0
    high: float = 4.0
    by_class: dict[str, tuple[float, float, float]] = field(
        default_factory=lambda: {"tank": (2.0, 2.0, 2.0), "hopper": (1.0, 0.0, 1.0)}
    )
    covered: int = 1
    method: str = "objects"
    coverage: float = 0.7


class ExplodingCount:
    """A count whose per-class figures fail while the scene's results are being written."""

    total, low, high, covered, method, coverage = 3.0, 2.0, 4.0, 1, "objects", 0.7

    @property
    def by_class(self) -> dict[str, tuple[float, float, float]]:
        raise RuntimeError("disk full (simulated)")


def det_record(cls: str = "tank", x: float = 130.61) -> DetectionRecord:
    wgs = shapely.box(x, 42.29, x + 0.0002, 42.29005)
    native = shapely.box(550_000.0, 4_682_000.0, 550_016.0, 4_682_003.0)
    return DetectionRecord(
        cls=cls, score=0.9, polygon=wgs, native_polygon=native, native_crs="EPSG:32652"
    )


def when(day: int) -> datetime:
    return datetime(2023, 10, 1, 2, 30, tzinfo=UTC) + timedelta(days=day)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db_url(request: pytest.FixtureRequest, tmp_db_url: str) -> str:
    """A fresh, empty database on each backend: a SQLite file, then PostgreSQL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return tmp_db_url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()  # PostgreSQL: no connection left open when the test drops its database


@pytest.fixture
def site_db(db: Database) -> Database:
    with db.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX, description="Tumangang", tags=("dprk",)))
    return db


def add_scene(db: Database, n: int, **kw: Any) -> int:
    with db.session() as s:
        info = FakeSceneInfo(uri=f"/data/s{n}.tif", content_hash=f"{n:064x}", acquired=when(n))
        scene, created = repo.add_scene(s, "tum", replace(info, **kw), 0.7)
        assert created
        return scene.id


def table_counts(db: Database) -> dict[str, int]:
    with db.session() as s:
        return {
            m.__tablename__: int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Site, Scene, Detection, Count, Event, Alert)
        }


# -------------------------------------------------------------------- migrations


def test_migrations_create_the_schema_from_nothing(db_url: str) -> None:
    with Database(db_url) as db:
        names = set(inspect(db.engine).get_table_names())
        assert {"sites", "scenes", "detections", "counts", "events", "alerts"} <= names
        assert "alembic_version" in names
        assert current_revision(db.engine) == head_revision() == "0005_silence_utc"
    with Database(db_url) as again:  # a second open finds the schema current
        assert current_revision(again.engine) == head_revision()


def test_migrated_schema_matches_the_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_reopening_keeps_data(db_url: str) -> None:
    with Database(db_url) as first, first.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    with Database(db_url) as db, db.session() as s:
        assert [x.name for x in repo.list_sites(s)] == ["tum"]


def test_sqlite_is_tuned(tmp_db_url: str) -> None:
    db = Database(tmp_db_url)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_in_memory_database_works() -> None:
    db = Database("sqlite://")
    with db.session() as s:
        repo.add_site(s, site_from_bbox("mem", BBOX))
    with db.session() as s:
        assert repo.get_site(s, "mem").name == "mem"


def test_bad_urls_are_clear(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        Database(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    with pytest.raises(ConfigError, match="invalid database URL"):
        Database("not a url")
    with pytest.raises(ConfigError, match="unsupported database URL"):
        Database("nosuchdb://x/y")
    # two slashes: parsed, then refused by the SQLite dialect (was sqlalchemy's ArgumentError)
    with pytest.raises(ConfigError, match=r"invalid database URL .*three slashes"):
        Database("sqlite://relative.db")
    # a PostgreSQL server that is not there: one line saying what to check
    with pytest.raises(StorageError, match=r"cannot connect to database .*check that the server") \
            as err:  # fmt: skip
        Database(f"postgresql+psycopg://rw@/railwatch?host={tmp_path}")
    assert "\n" not in str(err.value)


def test_newer_schema_is_refused(db_url: str) -> None:
    with Database(db_url) as db, db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(StorageError, match="newer than this railwatch"):
        Database(db_url)


# --------------------------------------------------------------------- sites


def test_site_geometry_round_trips_exactly(db: Database) -> None:
    parts = [
        shapely.box(130.6012345678901, 42.28, 130.62, 42.3),
        shapely.box(130.63, 42.28, 130.6400000000001, 42.29),
    ]
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(p)}
            for p in parts
        ],
    }
    tracks = {"type": "LineString", "coordinates": [[130.601, 42.29], [130.619, 42.2912345]]}
    spec = site_from_geojson("multi", fc, tracks=tracks)
    with db.session() as s:
        repo.add_site(s, spec)
    with db.session() as s:
        back = repo.site_spec(repo.get_site(s, "multi"))
    assert back.geometry.wkb == spec.geometry.wkb
    assert back.tracks is not None and spec.tracks is not None
    assert back.tracks.wkb == spec.tracks.wkb
    assert back == spec


def test_duplicate_site_name(site_db: Database) -> None:
    with pytest.raises(AlreadyExistsError, match=r"already exists.*site remove tum --yes"), \
            site_db.session() as s:  # fmt: skip
        repo.add_site(s, site_from_bbox("tum", BBOX))


def test_unknown_site_lists_known_ones(site_db: Database) -> None:
    with pytest.raises(NotFoundError, match=r"no site named 'tumm'.*known sites: tum"), \
            site_db.session() as s:  # fmt: skip
        repo.get_site(s, "tumm")


# -------------------------------------------------------------------- scenes


def test_scene_is_recorded_once_per_content_hash(site_db: Database) -> None:
    sid = add_scene(site_db, 1)
    with site_db.session() as s:
        info = FakeSceneInfo(uri="/elsewhere/copy.tif", content_hash=f"{1:064x}", acquired=when(1))
        scene, created = repo.add_scene(s, "tum", info, 0.7)
        assert not created and scene.id == sid and scene.uri == "/data/s1.tif"
    with site_db.session() as s:
        scene = repo.get_scene(s, sid)
        assert scene.acquired_at == when(1) and scene.acquired_at.tzinfo is not None
        assert scene.footprint.equals(FOOTPRINT)
        assert scene.meta == {"eo:cloud_cover": 3.5} and scene.status == "ingested"


def test_naive_acquisition_time_and_bad_coverage_are_refused(site_db: Database) -> None:
    with pytest.raises(InputError, match="without a timezone"), site_db.session() as s:
        naive = FakeSceneInfo(uri="/n.tif", content_hash="a" * 64, acquired=datetime(2023, 1, 1))
        repo.add_scene(s, "tum", naive, 0.5)
    with pytest.raises(InputError, match="between 0 and 1"), site_db.session() as s:
        info = FakeSceneInfo(uri="/n.tif", content_hash="b" * 64, acquired=when(0))
        repo.add_scene(s, "tum", info, 1.5)


def test_times_in_other_zones_are_stored_as_utc(site_db: Database) -> None:
    kst = datetime(2023, 10, 5, 11, 30, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Seoul")
    )
    sid = add_scene(site_db, 7, acquired=kst)
    with site_db.session() as s:
        got = repo.get_scene(s, sid).acquired_at
    assert got == datetime(2023, 10, 5, 11, 30, tzinfo=UTC) and got.utcoffset() == timedelta(0)


def test_record_result_and_count_series_with_gaps(site_db: Database) -> None:
    ok = add_scene(site_db, 1)
    cloudy = add_scene(site_db, 2)
    add_scene(site_db, 3)  # ingested, never processed: not in the series
    with site_db.session() as s:
        repo.record_scene_result(
            s, ok, FakeQuality(), [det_record(), det_record("hopper")], FakeCount(), "d", "1.0"
        )
        q = FakeQuality(clear_fraction=0.2, usable=False, reasons=("cloud 80% of the site",))
        repo.record_scene_result(s, cloudy, q, [det_record()], FakeCount(), "d", "1.0")
    with site_db.session() as s:
        series = repo.count_series(s, "tum")
        tanks = repo.count_series(s, "tum", cls="tank")
        flats = repo.count_series(s, "tum", cls="flat")
        # a class no detector reports read 0 on every usable scene (the API served them)
        with pytest.raises(InputError, match="'spaceship' is not a railcar class"):
            repo.count_series(s, "tum", cls="spaceship")
        assert len(repo.list_scenes(s, "tum", usable_only=True)) == 1
        gap = repo.get_scene(s, cloudy)
        assert gap.status == "unusable" and gap.reasons == ["cloud 80% of the site"]
        assert gap.detections == [] and gap.counts == []
        counts = {c.cls: c.count for c in repo.get_scene(s, ok).counts}
    assert counts == {"all": 3.0, "tank": 2.0, "hopper": 1.0, "covered": 1.0}
    assert [(p.count, p.usable, p.scene_id) for p in series] == [
        (3.0, True, ok),
        (None, False, cloudy),
    ]
    assert series[0].low == 2.0 and series[0].high == 4.0 and series[0].when == when(1)
    assert series[1].clear_fraction == 0.2 and series[1].count is None
    assert [p.count for p in tanks] == [2.0, None]
    assert [p.count for p in flats] == [0.0, None]


def test_rerecording_replaces_previous_results(site_db: Database) -> None:
    sid = add_scene(site_db, 1)
    with site_db.session() as s:
        repo.record_scene_result(s, sid, FakeQuality(), [det_record()] * 3, FakeCount(), "d", "1")
    with site_db.session() as s:
        repo.record_scene_result(
            s, sid, FakeQuality(), [det_record()], FakeCount(total=1.0), "d", "2"
        )
    with site_db.session() as s:
        scene = repo.get_scene(s, sid)
        assert len(scene.detections) == 1 and scene.detector_version == "2"
        assert {c.cls: c.count for c in scene.counts}["all"] == 1.0


def test_failure_mid_write_leaves_nothing_half_written(site_db: Database) -> None:
    sid = add_scene(site_db, 1)
    with site_db.session() as s:
        repo.record_scene_result(s, sid, FakeQuality(), [det_record()] * 2, FakeCount(), "d", "1")
    before = table_counts(site_db)
    # inside the caller's session: the savepoint is rolled back, the session goes on
    with site_db.session() as s:
        with pytest.raises(RuntimeError, match="disk full"):
            repo.record_scene_result(
                s, sid, FakeQuality(clear_fraction=0.5), [det_record()] * 5, ExplodingCount(),
                "d", "2",
            )  # fmt: skip
        other = add_scene_in(s, 2)
    assert table_counts(site_db) == {**before, "scenes": before["scenes"] + 1}
    with site_db.session() as s:
        scene = repo.get_scene(s, sid)
        assert scene.detector_version == "1" and scene.clear_fraction == 0.95
        assert len(scene.detections) == 2 and repo.get_scene(s, other).status == "ingested"
    # and when the error escapes the session, the whole transaction is undone
    with pytest.raises(RuntimeError), site_db.session() as s:
        add_scene_in(s, 3)
        repo.record_scene_result(s, sid, FakeQuality(), [det_record()], ExplodingCount(), "d", "3")
    assert table_counts(site_db) == {**before, "scenes": before["scenes"] + 1}


def add_scene_in(s: Any, n: int) -> int:
    info = FakeSceneInfo(uri=f"/data/s{n}.tif", content_hash=f"{n:064x}", acquired=when(n))
    return repo.add_scene(s, "tum", info, 0.5)[0].id


def test_usable_scene_needs_counts_and_failures_are_recorded(site_db: Database) -> None:
    sid = add_scene(site_db, 1)
    with pytest.raises(StorageError, match="no counts"), site_db.session() as s:
        repo.record_scene_result(s, sid, FakeQuality(), [], None, "d", "1")
    with site_db.session() as s:
        repo.mark_scene_failed(s, sid, "read error: truncated")
    with site_db.session() as s:
        scene = repo.get_scene(s, sid)
        assert scene.status == "failed" and scene.error == "read error: truncated"
        assert repo.count_series(s, "tum") == []
    with pytest.raises(NotFoundError, match="no scene with id 999"), site_db.session() as s:
        repo.get_scene(s, 999)


def test_records_from_pixel_detections() -> None:
    transform = Affine(0.5, 0, 632_700.0, 0, -0.5, 4_682_700.0)
    dets = [
        PixelDetection(OrientedBox(20, 10, 28, 6, 0), "tank", 0.8),
        PixelDetection(OrientedBox(5000, 10, 28, 6, 90), "flat", 0.6),
    ]
    site = site_from_bbox("s", "130.60,42.28,130.63,42.30").geometry
    recs = records_from_detections(dets, transform, "EPSG:32652", site_geom_wgs84=site)
    assert recs[0].native_polygon.bounds == pytest.approx(
        (632_703.0, 4_682_693.5, 632_717.0, 4_682_696.5)
    )
    assert recs[0].native_polygon.area == pytest.approx(14.0 * 3.0)
    lon, lat = recs[0].polygon.centroid.coords[0]
    assert 130.609 < lon < 130.611 and 42.28 < lat < 42.29
    assert recs[0].inside and not recs[1].inside  # 2.5 km further east: outside the site


# ------------------------------------------------------------------- cascades


def test_removing_a_site_cascades_to_everything(site_db: Database) -> None:
    with site_db.session() as s:
        repo.add_site(s, site_from_bbox("other", "130.70,42.28,130.72,42.30"))
    sid = add_scene(site_db, 1)
    with site_db.session() as s:
        repo.record_scene_result(s, sid, FakeQuality(), [det_record()] * 2, FakeCount(), "d", "1")
        repo.add_event(s, "tum", date(2023, 9, 13), "summit")
        repo.replace_alerts(s, "tum", [alert("a")])
        other = FakeSceneInfo(uri="/o.tif", content_hash="f" * 64, acquired=when(1))
        repo.add_scene(s, "other", other, 1.0)
    with site_db.session() as s:
        gone = repo.remove_site(s, "tum")
    assert gone == repo.SiteRemoval(scenes=1, detections=2, counts=4, events=1, alerts=1)
    assert table_counts(site_db) == {
        "sites": 1, "scenes": 1, "detections": 0, "counts": 0, "events": 0, "alerts": 0
    }  # fmt: skip


def test_foreign_keys_are_enforced(site_db: Database) -> None:
    with pytest.raises(StorageError, match=r"(?i)foreign key"), site_db.session() as s:
        s.add(Event(site_id=999, date=date(2023, 1, 1), label="x", description=""))


# --------------------------------------------------------------- events, alerts


def test_events(site_db: Database) -> None:
    with site_db.session() as s:
        ev = repo.add_event(s, "tum", date(2023, 9, 13), " Putin-Kim summit ", "Vostochny")
        repo.add_event(s, "tum", datetime(2023, 1, 2, tzinfo=UTC), "new year")
        ev_id = ev.id
    with pytest.raises(AlreadyExistsError), site_db.session() as s:
        repo.add_event(s, "tum", date(2023, 9, 13), "Putin-Kim summit")
    with pytest.raises(InputError, match="needs a label"), site_db.session() as s:
        repo.add_event(s, "tum", date(2023, 9, 13), "  ")
    # a label longer than its column (200) was stored on SQLite (a DataError on PostgreSQL)
    with (
        pytest.raises(InputError, match="at most 200 characters, this one 5000"),
        site_db.session() as s,
    ):
        repo.add_event(s, "tum", date(2023, 9, 14), "x" * 5000)
    with site_db.session() as s:
        repo.add_event(s, "tum", date(2023, 9, 14), "x" * 200)
    with site_db.session() as s:
        values = repo.event_values(s, "tum")
        assert [(v.when, v.label) for v in values] == [
            (date(2023, 1, 2), "new year"),
            (date(2023, 9, 13), "Putin-Kim summit"),
            (date(2023, 9, 14), "x" * 200),
        ]
        repo.remove_event(s, ev_id)
    with site_db.session() as s:
        assert [e.label for e in repo.list_events(s, "tum")] == ["new year", "x" * 200]
        with pytest.raises(NotFoundError):
            repo.remove_event(s, ev_id)


def alert(key: str, value: float = 73.0, severity: str = "high") -> AlertValue:
    return AlertValue(
        key=key,
        kind="record",
        severity=severity,
        when=when(4),
        cls="all",
        value=value,
        explanation="73 cars, 3.6x the 5-year record of 20",
        metrics={"record": 20.0, "window": "5y"},
        event_label="summit",
        event_days=22,
    )


def test_replace_alerts_is_idempotent_and_keeps_acknowledgements(site_db: Database) -> None:
    with site_db.session() as s:
        first = repo.replace_alerts(s, "tum", [alert("a"), alert("b"), alert("c")])
    assert (first.created, first.updated, first.removed) == (3, 0, 0)
    with site_db.session() as s:
        a_id = next(a.id for a in repo.list_alerts(s, "tum") if a.key == "a")
        b_id = next(a.id for a in repo.list_alerts(s, "tum") if a.key == "b")
        repo.acknowledge_alert(s, a_id, "seen; confirmed by analyst")
        repo.acknowledge_alert(s, b_id, "")
    with site_db.session() as s:
        again = repo.replace_alerts(s, "tum", [alert("a", 74.0), alert("c")])
    # "a" changed (its value), "c" is raised again as stored (since session 24: unchanged)
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert (again.removed, again.retired) == (0, 1)
    with site_db.session() as s:
        active = {a.key: a for a in repo.list_alerts(s, "tum")}
        everything = {a.key: a for a in repo.list_alerts(s, active_only=False)}
        assert set(active) == {"a", "c"} and set(everything) == {"a", "b", "c"}
        a = active["a"]
        assert a.acknowledged and a.ack_note == "seen; confirmed by analyst" and a.value == 74.0
        # since session 30 the changed value is marked with what was acknowledged
        # (tests/test_alert_ack_changes_s30.py)
        mark = a.metrics[repo.CHANGED_SINCE_ACK]
        assert mark["value"] == 73.0 and mark["severity"] == "high"
        rest = {k: v for k, v in a.metrics.items() if k != repo.CHANGED_SINCE_ACK}
        assert rest == {"record": 20.0, "window": "5y"} and a.when == when(4)
        assert not everything["b"].active and everything["b"].acknowledged
        assert [x.key for x in repo.list_alerts(s, "tum", unacknowledged_only=True)] == ["c"]
    with site_db.session() as s:
        final = repo.replace_alerts(s, "tum", [])
    assert (final.removed, final.retired) == (1, 1)
    with pytest.raises(NotFoundError, match="no alert with id 999"), site_db.session() as s:
        repo.acknowledge_alert(s, 999, "x")


def test_site_stats(site_db: Database) -> None:
    a = add_scene(site_db, 1)
    add_scene(site_db, 5)
    with site_db.session() as s:
        repo.record_scene_result(s, a, FakeQuality(), [], FakeCount(), "d", "1")
        st = repo.site_stats(s, "tum")
    assert (st.scenes, st.processed, st.usable) == (2, 1, 1)
    assert st.first == when(1) and st.last == when(5)


def test_concurrent_writers_wait_instead_of_failing(site_db: Database) -> None:
    """Three writers (threads, separate engines as in separate processes) each read then
    write in one transaction: on SQLite they serialise (BEGIN IMMEDIATE, busy timeout),
    on PostgreSQL they run side by side; none fails, nothing is lost."""
    import threading

    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        db = Database(site_db.url)
        try:
            for i in range(15):
                with db.session() as s:
                    repo.site_stats(s, "tum")  # read first, then write in the same transaction
                    info = FakeSceneInfo(
                        uri=f"/w{offset}/{i}.tif",
                        content_hash=f"{offset * 1000 + i:064x}",
                        acquired=when(i),
                    )
                    repo.add_scene(s, "tum", info, 0.5)
        except BaseException as err:  # collected and re-raised by the test thread
            errors.append(err)
        finally:
            db.dispose()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert table_counts(site_db)["scenes"] == 45


def test_sqlite_lock_held_too_long_is_a_clear_error(
    tmp_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds SQLite's write lock past the busy timeout: the writer gets
    a one-line StorageError saying what to do; readers are never blocked (WAL)."""
    import sqlite3

    import railwatch.storage.db as dbmod

    with Database(tmp_db_url).session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    monkeypatch.setattr(dbmod, "SQLITE_BUSY_TIMEOUT_MS", 300)
    db = Database(tmp_db_url)
    other = sqlite3.connect(tmp_db_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the other writer: holds the lock, never commits
    try:
        with db.session(readonly=True) as s:  # readers go on
            assert [x.name for x in repo.list_sites(s)] == ["tum"]
        with pytest.raises(StorageError, match="stayed locked by another writer") as err, \
                db.session() as s:  # fmt: skip
            repo.add_site(s, site_from_bbox("b", "130.70,42.28,130.72,42.30"))
        msg = str(err.value)
        assert "0.3 s" in msg and "PostgreSQL" in msg and "\n" not in msg, msg
    finally:
        other.execute("ROLLBACK")
        other.close()
    with db.session() as s:  # once the lock is free, the same write goes through
        repo.add_site(s, site_from_bbox("b", "130.70,42.28,130.72,42.30"))
    assert table_counts(db)["sites"] == 2


def test_readonly_sessions_see_committed_data(site_db: Database) -> None:
    add_scene(site_db, 1)
    with site_db.session(readonly=True) as s:
        assert len(repo.list_scenes(s, "tum")) == 1


def test_require_service_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers import require_service

    monkeypatch.delenv("RAILWATCH_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL is not available: gone"):
        require_service("PostgreSQL", "gone")
    monkeypatch.setenv("RAILWATCH_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="RAILWATCH_REQUIRE_SERVICES=1 requires it"):
        require_service("PostgreSQL", "gone")
