"""The web API on big sites (session 24, web speed): pages are cut in SQL and the site
list reads only what it shows, with the same answers as before.

Before, every page of ``/api/sites/{site}/scenes`` loaded all the site's scenes and cut
the page out in Python, ``/api/sites/{site}/counts?limit=1`` read the whole series,
and ``/api/sites`` and ``/api/sites/{site}`` computed the whole count series of each
site for its latest count and trend (0.4-0.7 s each on a site of 5,000 images). Here
a generated world of sites (every scene state, counts by objects, length and presence,
missing total rows, ties in time, alerts open, acknowledged and retired) is read through
the new paths and through the straightforward computation from whole lists (the code
before), and the answers must be identical; a spy on the ORM checks that a page loads
only its own scenes (no timing is asserted).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from helpers import postgres_database
from railwatch.analysis.events import alert_day, local_day
from railwatch.analysis.series import at_site, build_series
from railwatch.analysis.store import site_local_days, site_utc_offset
from railwatch.analysis.types import Alert as AlertValue
from railwatch.analysis.types import CountPoint
from railwatch.detect.base import is_presence, long_train_present
from railwatch.errors import InputError
from railwatch.settings import Settings
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import Alert, Count, Scene, Site
from railwatch.storage.serialize import alert_dict, site_dict
from railwatch.web.app import create_app
from railwatch.web.routes.counts import _json_point, _row
from railwatch.web.routes.scenes import _public
from report_db import (
    CRS,
    IMG_H_M,
    IMG_W_M,
    SITE_UTM,
    X0,
    Y0,
    FakeCount,
    FakeInfo,
    FakeQuality,
    to_wgs84,
)

T0 = datetime(2024, 1, 1, 2, 0, tzinfo=UTC)
KINDS = ("ingested", "failed", "unusable", "objects", "objects", "length", "presence",
         "no-total", "no-rows", "unjudged")  # fmt: skip
SEVERITIES = ("high", "medium", "low", "info")


def _count(kind: str, rng: np.random.Generator) -> FakeCount:
    n = float(rng.integers(0, 30))
    if kind == "length":
        return FakeCount(n, n * 0.8, n * 1.5, {"railcar": (n, n * 0.8, n * 1.5)}, 0, "length")
    if kind == "presence":
        flag = float(rng.integers(0, 2))
        return FakeCount(flag, flag, flag, {}, 0, method="presence")
    classes = ["tank", "hopper", "railcar", "mystery"]  # mystery: a custom detector's
    by_class = {
        c: (float(k), float(k), float(k))
        for c in classes
        if rng.random() < 0.6 and (k := int(rng.integers(1, 9)))
    }
    return FakeCount(n, max(0.0, n - 2), n + 2, by_class, int(rng.integers(0, 4)))


def _fill(db: Database, n_sites: int = 9, seed: int = 24) -> list[str]:
    """Sites with random histories (site 0 none); returns their names."""
    from shapely.geometry import box

    rng = np.random.default_rng(seed)
    foot = to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0))
    names = []
    with db.session() as s:
        for k in range(n_sites):
            name = f"site-{(k * 7) % n_sites:02d}"  # stored out of name order
            names.append(name)
            site = repo.add_site(s, SiteSpec(name=name, geometry=to_wgs84(SITE_UTM)))
            n_scenes = 0 if k == 0 else int(rng.integers(1, 45))
            kinds = ("presence", "unusable") if k == 1 else KINDS  # no count of cars at all
            for i in range(n_scenes):
                kind = str(rng.choice(kinds))
                gsd = {"length": 3.0, "presence": 10.0}.get(kind, float(rng.choice([0.3, 0.5])))
                info = FakeInfo(
                    uri=f"/nowhere/{name}/{i}.tif",
                    content_hash=f"{k:04d}{i:060d}",
                    acquired=T0 + timedelta(days=int(rng.integers(0, 25))),  # many ties
                    crs=CRS,
                    footprint=foot,
                    gsd=gsd,
                    width=100,
                    height=100,
                )
                scene, _ = repo.add_scene(s, site, info, 1.0)
                if kind == "ingested":
                    continue
                if kind == "failed":
                    repo.mark_scene_failed(s, scene.id, "/data/x.tif: cannot read")
                    continue
                if kind == "unusable":
                    quality = FakeQuality(0.2, cloud_fraction=0.8, usable=False, reasons=("cloud",))
                    repo.record_scene_result(s, scene.id, quality, [], None, "test", "1")
                    continue
                count = _count("objects" if kind in ("no-total", "no-rows") else kind, rng)
                quality = FakeQuality(float(rng.uniform(0.5, 1.0)))
                repo.record_scene_result(s, scene.id, quality, [], count, "test", "1")
                if kind in ("no-total", "no-rows"):  # rows an older version left out
                    gone = [] if kind == "no-rows" else ["all"]
                    cond = [Count.scene_id == scene.id]
                    if gone:
                        cond.append(Count.cls.in_(gone))
                    s.execute(delete(Count).where(*cond))
                if kind == "unjudged":  # processed, usable never set (an old database)
                    scene.usable = None
                s.flush()
            _alerts(s, site, rng)
            for d in range(int(rng.integers(0, 3))):
                repo.add_event(s, site, date(2024, 1, 1) + timedelta(days=d), f"event {d}")
    return names


def _alerts(s: Session, site: Site, rng: np.random.Generator) -> None:
    values = [
        AlertValue(
            key=f"a{j}",
            kind="record",
            severity=str(rng.choice(SEVERITIES)),
            when=T0 + timedelta(days=j),
            cls="all",
            value=1.0,
            explanation="test",
        )
        for j in range(int(rng.integers(0, 8)))
    ]
    repo.replace_alerts(s, site, values)
    rows = repo.list_alerts(s, site)
    for row in rows[::3]:
        repo.acknowledge_alert(s, row.id, "seen")
    repo.replace_alerts(s, site, values[::2])  # acknowledged ones left out are retired


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)],
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The generated sites on SQLite and on PostgreSQL (the queries differ by dialect)."""
    tmp = tmp_path_factory.mktemp("speed")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp / 'speed.db'}"
        else:
            url = stack.enter_context(
                postgres_database(request.getfixturevalue("postgres_server_url"))
            )
        db = Database(url)
        stack.callback(db.dispose)
        names = _fill(db)
        app = create_app(Settings(db=db.url, cache_dir=tmp / "cache"), db)
        yield {"db": db, "names": sorted(names), "client": TestClient(app)}


# ------------------------------------------------------------ the reference (before)


def _ref_summary(session: Session, site: Site) -> dict[str, Any]:
    """The site summary from the whole count series: since session 32 its daily points
    at the site (build_series of the points at the site's time: one image a local day),
    the previous day's count made the same way; before, its images."""
    offset = site_utc_offset(site)  # the local days added in session 31
    days = build_series(at_site(repo.count_series(session, site), offset)).get("all")
    usable = [p for p in days.points if p.is_usable] if days else []
    points = [p for p in usable if not is_presence(p.method)]
    latest = points[-1] if points else None
    newest = usable[-1] if usable else None

    def utc(p: CountPoint) -> str:
        return (p.when - offset).isoformat()

    latest_presence = (
        {
            "when": utc(newest),
            "day": newest.when.date().isoformat(),
            "scene_id": newest.scene_id,
            "long_train_present": long_train_present(newest.method, newest.count),
        }
        if newest is not None and is_presence(newest.method)
        else None
    )
    previous = next(
        (p for p in reversed(points[:-1]) if latest is not None and p.method == latest.method),
        None,
    )
    trend = "none"
    if latest is not None and previous is not None:
        diff = float(latest.count or 0.0) - float(previous.count or 0.0)
        trend = "up" if diff > 0.5 else "down" if diff < -0.5 else "flat"
    by_severity = {
        str(sev): int(n)
        for sev, n in session.execute(
            select(Alert.severity, func.count(Alert.id))
            .where(Alert.site_id == site.id, Alert.active.is_(True), Alert.acknowledged.is_(False))
            .group_by(Alert.severity)
        )
    }
    return {
        "latest_count": latest.count if latest else None,
        "latest_method": latest.method if latest else None,  # session 38
        "latest_when": utc(latest) if latest else None,
        "latest_day": latest.when.date().isoformat() if latest else None,
        "latest_scene_id": latest.scene_id if latest else None,
        "previous_count": previous.count if previous else None,
        "previous_day": previous.when.date().isoformat() if previous else None,
        "previous_scene_id": previous.scene_id if previous else None,
        "trend": trend,
        "latest_presence": latest_presence,
        "open_alerts": sum(by_severity.values()),
        "open_by_severity": {
            sev: by_severity.get(sev, 0) for sev in ("high", "medium", "low", "info")
        },
        "latest_reviewed": bool(latest is not None and latest.reviewed),
    }


def _ref_site(session: Session, site: Site, *, geometry: bool) -> dict[str, Any]:
    stats = repo.site_stats(session, site)
    out = site_dict(site, stats, geometry=geometry)
    out.update(site_local_days(site, stats))
    out["summary"] = _ref_summary(session, site)
    return out


def _ref_scenes(
    session: Session, name: str, status: str | None, usable: bool | None, limit: int, offset: int
) -> dict[str, Any]:
    """A page of scenes as before: the whole list read, filtered and cut in Python."""
    scenes = repo.list_scenes(session, name, status=status)
    if usable is not None:
        scenes = [sc for sc in scenes if bool(sc.usable) == usable]
    shown = scenes[offset : offset + limit]
    counts = {
        c.scene_id: c
        for c in session.scalars(
            select(Count).where(Count.scene_id.in_([sc.id for sc in shown]), Count.cls == "all")
        )
    }
    items = [_public(sc, counts.get(sc.id), footprint=True, paths=False) for sc in shown]
    return {"items": items, "total": len(scenes), "limit": limit, "offset": offset}


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value))


# ----------------------------------------------------------------------------- tests


def test_world_has_every_case(world: dict[str, Any]) -> None:
    """The generated sites hold what the comparisons are about (else they prove little)."""
    with world["db"].session(readonly=True) as s:
        statuses = set(s.scalars(select(Scene.status)))
        methods = set(s.scalars(select(Count.method)))
        classes = set(s.scalars(select(Count.cls)))
        unjudged = s.scalar(
            select(func.count(Scene.id)).where(Scene.status == "processed", Scene.usable.is_(None))
        )
        ties = s.execute(
            select(Scene.site_id, Scene.acquired_at)
            .group_by(Scene.site_id, Scene.acquired_at)
            .having(func.count(Scene.id) > 1)
        ).all()
        acked = s.scalar(select(func.count(Alert.id)).where(Alert.acknowledged.is_(True)))
        retired = s.scalar(select(func.count(Alert.id)).where(Alert.active.is_(False)))
    assert statuses == {"ingested", "failed", "unusable", "processed"}
    assert methods == {"objects", "length", "presence"}
    assert {"all", "covered", "tank", "railcar", "mystery"} <= classes
    assert unjudged and ties and acked and retired


def test_site_list_pages_match_the_whole_computation(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    with world["db"].session(readonly=True) as s:
        ref = [_json(_ref_site(s, site, geometry=False)) for site in repo.list_sites(s)]
    assert [r["name"] for r in ref] == world["names"]
    trends = {r["summary"]["trend"] for r in ref}
    assert {"up", "down", "none"} <= trends  # the trend compared in every way
    assert any(r["summary"]["latest_presence"] for r in ref)
    for limit, offset in [(100, 0), (1, 0), (2, 3), (4, 4), (3, 8), (5, 9), (10, 100)]:
        r = c.get(f"/api/sites?limit={limit}&offset={offset}")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body == {
            "items": ref[offset : offset + limit],
            "total": len(ref),
            "limit": limit,
            "offset": offset,
        }
        assert r.headers["X-Total-Count"] == str(len(ref))


def test_site_matches_the_whole_computation(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    for name in world["names"]:
        with world["db"].session(readonly=True) as s:
            ref = _json(_ref_site(s, repo.get_site(s, name), geometry=True))
        r = c.get(f"/api/sites/{name}")
        assert r.status_code == 200, r.text
        assert r.json() == ref


def test_latest_counts_are_the_series_last_points(world: dict[str, Any]) -> None:
    """The repository function against the usable points of the whole series."""
    with world["db"].session(readonly=True) as s:
        for site in repo.list_sites(s):
            usable = [p for p in repo.count_series(s, site) if p.usable]
            points = [p for p in usable if not is_presence(p.method)]
            found = repo.latest_counts(s, site)
            assert found.newest == (usable[-1] if usable else None)
            assert found.latest == (points[-1] if points else None)
            before = [p for p in points[:-1] if points and p.method == points[-1].method]
            assert found.previous == (before[-1] if before else None)
            stats = repo.sites_stats(s, [site])
            assert stats == {site.id: repo.site_stats(s, site)}


@pytest.mark.parametrize("status", [None, "processed", "unusable", "ingested", "failed"])
@pytest.mark.parametrize("usable", [None, True, False])
def test_scene_pages_match_the_whole_list(
    world: dict[str, Any], status: str | None, usable: bool | None
) -> None:
    c: TestClient = world["client"]
    for name in world["names"][:5]:
        for limit, offset in [(100, 0), (1, 0), (7, 3), (10, 10), (3, 40), (5, 1000)]:
            query = f"footprint=true&limit={limit}&offset={offset}"
            query += f"&status={status}" if status else ""
            query += f"&usable={str(usable).lower()}" if usable is not None else ""
            with world["db"].session(readonly=True) as s:
                ref = _json(_ref_scenes(s, name, status, usable, limit, offset))
                shown, total = repo.scene_page(
                    s, name, status=status, usable=usable, limit=limit, offset=offset
                )
                whole = repo.list_scenes(s, name, status=status)
                if usable is not None:
                    whole = [sc for sc in whole if bool(sc.usable) == usable]
                assert [sc.id for sc in shown] == [sc.id for sc in whole[offset : offset + limit]]
                assert total == len(whole)
            r = c.get(f"/api/sites/{name}/scenes?{query}")
            assert r.status_code == 200, r.text
            assert r.json() == ref
            assert r.headers["X-Total-Count"] == str(ref["total"])


@pytest.mark.parametrize("cls", ["all", "covered", "tank", "railcar", "boxcar", "mystery"])
def test_count_pages_match_the_whole_series(world: dict[str, Any], cls: str) -> None:
    c: TestClient = world["client"]
    for name in world["names"]:
        with world["db"].session(readonly=True) as s:
            try:
                series = repo.count_series(s, name, cls=cls)
            except InputError as err:  # a custom class this site never had
                with pytest.raises(InputError, match="is not a railcar class") as now:
                    repo.count_series_page(s, name, cls=cls, limit=10)
                assert str(now.value) == str(err)
                assert c.get(f"/api/sites/{name}/counts?class={cls}").status_code == 422
                continue
        for limit, offset in [(10_000, 0), (1, 0), (7, 3), (10, 10), (5, 1000)]:
            with world["db"].session(readonly=True) as s:
                page, total = repo.count_series_page(s, name, cls=cls, limit=limit, offset=offset)
            assert page == series[offset : offset + limit]
            assert total == len(series)
            r = c.get(f"/api/sites/{name}/counts?class={cls}&limit={limit}&offset={offset}")
            assert r.status_code == 200, r.text
            body = r.json()
            with world["db"].session(readonly=True) as s:
                offset_east = site_utc_offset(repo.get_site(s, name))
            rows = [
                _json_point(_row(p), local_day(p.when, offset_east).isoformat())
                for p in series[offset : offset + limit]
            ]
            assert body["items"] == _json(rows)
            assert body["total"] == len(series)
            csv = c.get(f"/api/sites/{name}/counts?class={cls}&limit={limit}&format=csv")
            assert csv.status_code == 200
            assert csv.text.count("\n") == 1 + min(limit, len(series))


def test_count_page_of_an_unknown_class_is_refused_as_before(world: dict[str, Any]) -> None:
    name = world["names"][3]
    with world["db"].session(readonly=True) as s:
        with pytest.raises(InputError) as before:
            repo.count_series(s, name, cls="nosuch")
        with pytest.raises(InputError) as now:
            repo.count_series_page(s, name, cls="nosuch", limit=10)
    assert str(now.value) == str(before.value)
    r = world["client"].get(f"/api/sites/{name}/counts?class=nosuch")
    assert r.status_code == 422
    assert "is not a railcar class" in r.text


class _Loads:
    """Counts the objects of ``model`` the ORM loads (from any thread) while it is open."""

    def __init__(self, model: type[Any] = Scene) -> None:
        self.model = model
        self.n = 0

    def __enter__(self) -> _Loads:
        event.listen(self.model, "load", self._load)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.model, "load", self._load)

    def _load(self, target: Any, context: Any) -> None:
        self.n += 1


def test_a_page_reads_only_its_rows(world: dict[str, Any]) -> None:
    """Before, a page of 2 scenes loaded all the site's scenes, the site list and a
    one-point page of counts loaded every scene of the site (the whole series), and a
    page of one alert every alert."""
    c: TestClient = world["client"]
    with world["db"].session(readonly=True) as s:
        name = max(world["names"], key=lambda n: repo.site_stats(s, n).scenes)
        assert repo.site_stats(s, name).scenes > 20
    with _Loads() as loads:
        assert c.get(f"/api/sites/{name}/scenes?limit=2&offset=5").status_code == 200
    assert loads.n == 2
    for path in ("/api/sites", f"/api/sites/{name}", f"/api/sites/{name}/counts?limit=1"):
        with _Loads() as loads:
            assert c.get(path).status_code == 200
        assert loads.n == 0, path
    with _Loads(Alert) as loads:
        r = c.get("/api/alerts?active_only=false&limit=1&offset=1")
    assert r.status_code == 200 and r.json()["total"] > 2
    assert loads.n == 1


@pytest.mark.parametrize("active_only", [True, False])
@pytest.mark.parametrize("open_only", [False, True])
def test_alert_pages_match_the_whole_list(
    world: dict[str, Any], active_only: bool, open_only: bool
) -> None:
    c: TestClient = world["client"]
    flags = f"active_only={str(active_only).lower()}&open_only={str(open_only).lower()}"
    for name in [None, *world["names"][:4]]:
        with world["db"].session(readonly=True) as s:
            rows = repo.list_alerts(s, name, active_only=active_only, unacknowledged_only=open_only)
            whole = [
                _json(
                    {
                        **alert_dict(a),
                        "day": alert_day(a.when, site_utc_offset(a.site)).isoformat(),
                        # the members of `railwatch alerts --json` (session 33)
                        "reviewed": bool((a.metrics or {}).get("reviewed")),
                        "changed_since_ack": (a.metrics or {}).get("changed_since_ack"),
                    }
                )
                for a in rows
            ]
        base = f"/api/sites/{name}/alerts?" if name else "/api/alerts?"
        for limit, offset in [(100, 0), (1, 0), (3, 2), (5, 10), (4, 1000)]:
            r = c.get(f"{base}{flags}&limit={limit}&offset={offset}")
            assert r.status_code == 200, r.text
            assert r.json() == {
                "items": whole[offset : offset + limit],
                "total": len(whole),
                "limit": limit,
                "offset": offset,
            }
