"""A silence's ``when`` is a true UTC instant (session 32): the UTC instant of local
midnight of its day at the site, as every other alert's ``when`` is its image's UTC
time. Until then it was that day's midnight written as if it were UTC, and the readers
took silences apart (``analysis.events.alert_day``). Storage revision 0005 moves the
silences a database written before holds; re-analysis then finds them as stored (ids,
acknowledgements and notes kept), and every reader shows the days it showed before."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from shapely.geometry import box
from sqlalchemy import create_engine, text

from counted_site import add_counted_site
from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.events import local_day
from railwatch.analysis.store import analyze_site, site_utc_offset
from railwatch.analysis.types import CountPoint
from railwatch.storage import Database, repo
from railwatch.storage.migrate import alembic_config, current_revision, head_revision
from railwatch.storage.models import Alert as AlertRow

#: sites and their nominal offsets: UTC+12, UTC-5, UTC
SITES = {
    "east": (box(175.0, -41.3, 175.01, -41.29), timedelta(hours=12)),
    "west": (box(-75.0, 40.0, -74.99, 40.01), timedelta(hours=-5)),
    "zero": (box(2.0, 48.0, 2.01, 48.01), timedelta(0)),
}
FIRST = datetime(2023, 1, 1, 22, 30, tzinfo=UTC)  # 10:30 the next day at UTC+12
AS_OF = datetime(2024, 3, 1, tzinfo=UTC)


def _counts() -> list[tuple[datetime, float]]:
    """8 images 10 days apart, none for 120 days (an ended silence), 8 more, then none
    up to AS_OF (an ongoing one)."""
    first = [FIRST + timedelta(days=10 * k) for k in range(8)]
    later = [first[-1] + timedelta(days=120 + 10 * k) for k in range(8)]
    return [(when, 10.0 + k % 3) for k, when in enumerate(first + later)]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db_url(request: pytest.FixtureRequest, tmp_db_url: str) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return tmp_db_url


def _sql(url: str, statement: str, **params: object) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement), params)
    finally:
        engine.dispose()


def _rows(db: Database) -> dict[int, dict[str, Any]]:
    with db.session(readonly=True) as s:
        return {
            a.id: {
                "site": a.site.name,
                "key": a.key,
                "kind": a.kind,
                "when": a.when,
                "acknowledged": a.acknowledged,
                "ack_note": a.ack_note,
                "ack_at": a.ack_at,
                "created_at": a.created_at,
                "updated_at": a.updated_at,
                "version": repo.alert_version(a),
            }
            for a in s.query(AlertRow).order_by(AlertRow.id)
        }


def _analyze(db: Database) -> dict[str, Any]:
    out = {}
    with db.session() as s:
        for name in SITES:
            out[name] = analyze_site(s, name, as_of=AS_OF)
    return out


def test_a_silence_is_dated_at_local_midnight_in_utc() -> None:
    """analyze_series gives a UTC+12 site's silence of day D the instant D-1 12:00 UTC
    and a UTC-5 site's D 05:00 UTC (it gave D 00:00 at both)."""
    for offset in (timedelta(hours=12), timedelta(hours=-5)):
        points = [
            CountPoint(when=when, cls="all", count=n, low=n - 2, high=n + 2)
            for when, n in _counts()
        ]
        found = analyze_series(points, as_of=AS_OF, utc_offset=offset)
        silences = [a for a in found if a.kind == "quality"]
        assert len(silences) == 2, [a.key for a in found]
        for a in silences:
            at = a.when + offset  # the local time at the site
            assert at.time() == time(0), (offset, a.when)
            assert a.when.time() == (datetime(2000, 1, 1) - offset).time()


def test_an_old_database_keeps_its_silences_days_ids_and_acknowledgements(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    with Database(db_url) as db:
        for name, (geometry, _) in SITES.items():
            add_counted_site(db, name, geometry, _counts())
        with db.session(readonly=True) as s:  # the offsets the code gives these sites
            assert {n: site_utc_offset(repo.get_site(s, n)) for n in SITES} == {
                n: off for n, (_, off) in SITES.items()
            }
        _analyze(db)
        silences = {i: r for i, r in _rows(db).items() if r["kind"] == "quality"}
        assert len(silences) == 2 * len(SITES)
        with db.session() as s:  # an analyst acknowledged one silence of each site
            for site in SITES:
                first = min(i for i, r in silences.items() if r["site"] == site)
                repo.acknowledge_alert(s, first, "seen: no imagery ordered")
        new = _rows(db)
    # the database as the previous version wrote it: a silence's local day at 00:00 as UTC
    old_when: dict[int, datetime] = {}
    for i, r in new.items():
        offset = SITES[r["site"]][1]
        if r["kind"] == "quality":
            assert (r["when"] + offset).time() == time(0)  # local midnight, a UTC instant
            assert r["when"].time() != time(0) or not offset
            local = local_day(r["when"], offset)
            old_when[i] = datetime(local.year, local.month, local.day, tzinfo=UTC)
    with Database(db_url) as db:
        with db.session() as s:
            for i, when in old_when.items():
                s.get_one(AlertRow, i).when = when
        before = _rows(db)
    _sql(db_url, "UPDATE alembic_version SET version_num = '0004_site_areas'")
    # the days the previous version showed: a silence's its when's date as written
    old_days = {
        i: (old_when[i].date() if i in old_when else local_day(r["when"], SITES[r["site"]][1]))
        for i, r in new.items()
    }
    assert sum(before[i]["when"] != new[i]["when"] for i in old_when) == 4  # east's, west's

    with Database(db_url) as db:  # opening it migrates it
        assert current_revision(db.engine) == head_revision() == "0005_silence_utc"
        migrated = _rows(db)
        for i, r in migrated.items():
            assert r["when"] == new[i]["when"], r  # as the analysis now raises it
            for field in ("key", "acknowledged", "ack_note", "ack_at", "created_at"):
                assert r[field] == before[i][field], (field, r)
            assert r["updated_at"] == before[i]["updated_at"]
            # a moved silence has a new version (it hashes when); the others keep theirs
            assert (r["version"] != before[i]["version"]) == (r["when"] != before[i]["when"])
        assert sum(r["acknowledged"] for r in migrated.values()) == len(SITES)
        # re-analysis finds every alert as stored: nothing retired, re-created or written
        for result in _analyze(db).values():
            assert (result.created, result.updated, result.removed, result.retired) == (0,) * 4
            assert result.unchanged == len(result.alerts)
        assert _rows(db) == migrated
        # the report's days
        from railwatch.report.data import alert_rows

        with db.session(readonly=True) as s:
            for site in SITES:
                for row in alert_rows(s, repo.get_site(s, site)):
                    (i,) = [i for i, r in new.items() if (r["site"], r["key"]) == (site, row.key)]
                    assert row.day == old_days[i], row.key

    # the same days in `railwatch alerts` ...
    assert main(["--db", db_url, "alerts", "--json"]) == 0
    listed = {a["id"]: a["day"] for a in json.loads(capsys.readouterr().out)}
    assert listed == {i: d.isoformat() for i, d in old_days.items()}
    # ... whose --since of a day at the site keeps a silence of that day and not the next
    for i in old_when:
        day = old_days[i]
        for since, kept in ((day, True), (day + timedelta(days=1), False)):
            argv = ["--db", db_url, "alerts", new[i]["site"], "--since", since.isoformat()]
            assert main([*argv, "--json"]) == 0
            assert (i in {a["id"] for a in json.loads(capsys.readouterr().out)}) == kept
    # ... and in the API's day
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    token = "s32h-token"
    app = create_app(Settings(db=db_url, api_token=SecretStr(token), cache_dir=tmp_path / "cache"))
    with TestClient(app) as client:
        for site in SITES:
            resp = client.get(f"/api/sites/{site}/alerts?limit=1000")
            assert resp.status_code == 200, resp.text
            for a in resp.json()["items"]:
                assert a["day"] == old_days[a["id"]].isoformat(), a
        # an acknowledgement sent with a version read before the upgrade: a 409 with the
        # alert as it is now, nothing acknowledged (accepted: docs/storage.md)
        (moved,) = [
            i for i in old_when if new[i]["site"] == "west" and not migrated[i]["acknowledged"]
        ]
        resp = client.post(
            f"/api/alerts/{moved}/acknowledge",
            json={"version": before[moved]["version"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status_code == 409, resp.text
        assert resp.json()["alert"]["version"] == migrated[moved]["version"]
        assert resp.json()["alert"]["day"] == old_days[moved].isoformat()
        assert not client.get(f"/api/alerts/{moved}").json()["acknowledged"]


def _whens(url: str) -> dict[int, datetime]:
    """Each alert's stored ``when`` (UTC), read without migrating the database."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text('SELECT id, "when" FROM alerts')).all()
    finally:
        engine.dispose()
    out = {}
    for alert_id, when in rows:
        at = datetime.fromisoformat(when) if isinstance(when, str) else when
        out[alert_id] = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return out


def test_downgrading_moves_the_silences_back_and_upgrading_moves_them_once(
    db_url: str,
) -> None:
    with Database(db_url) as db:
        for name, (geometry, _) in SITES.items():
            add_counted_site(db, name, geometry, _counts())
        _analyze(db)
        new = _rows(db)
    command.downgrade(alembic_config(db_url), "0004_site_areas")
    down = _whens(db_url)
    for i, r in new.items():
        offset = SITES[r["site"]][1]
        if r["kind"] == "quality":  # the local day's midnight written as UTC
            assert down[i] == r["when"] + offset
            assert down[i].time() == time(0)
        else:
            assert down[i] == r["when"]
    with Database(db_url) as db:  # upgraded again
        assert _rows(db) == new
    # a database at 0004 whose silences were moved already (its version table recreated
    # by hand, say) is not moved again: only a silence at 00:00 moves
    _sql(db_url, "UPDATE alembic_version SET version_num = '0004_site_areas'")
    with Database(db_url) as db:
        assert current_revision(db.engine) == "0005_silence_utc"
        assert _rows(db) == new
