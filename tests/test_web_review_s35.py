"""Second engineer's review of the web API's alert filters (3589506) and response schemas
(ad1ce56), 2026-12-06, session 35.

* The alert lists and ``railwatch alerts`` list the same alerts for random combinations
  of their filters, at sites in zones far apart (UTC-12 to UTC+12; nominal zones, so no
  summer time: a site at New York's longitude is UTC-5 in July too), with alerts at and
  next to local midnight; each list is also what the filters mean, worked out here from
  the unfiltered list (each alert's ``day``, ``when``, severity, class and kind).
* A page of alerts of many sites reads their sites in one statement (it was one statement
  a site: 99 for 100 alerts of 100 sites).
* A report folder whose metadata the response schema refuses is left out of the list
  and a 404 saying so (it made ``GET /api/reports`` a 500 "internal error").
* The 409 of an acknowledgement of another version declares its ``alert`` member, and
  the answers the schema test did not request (events PATCH/DELETE, reports, a review's
  outlines, a PATCH of the tracks, 4xx bodies) match their declared schemas with
  undeclared members refused.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

import jsonschema_rs
from fastapi.testclient import TestClient
from pydantic import SecretStr
from shapely.geometry import box
from sqlalchemy import event, select

from railwatch.analysis.types import ALERT_KINDS, SEVERITIES, Alert
from railwatch.cli.main import main
from railwatch.settings import Settings
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import Alert as StoredAlert
from railwatch.web.app import create_app
from test_web_response_schemas_s35 import NoCarDetector, _closed
from web_db import populate

#: (name, longitude): nominal zones UTC-12, UTC-5 (New York), UTC+0 (London), UTC+9,
#: UTC+12 (New Zealand: UTC+13 in its summer, not here)
SITES: tuple[tuple[str, float], ...] = (
    ("minus12", -178.5),
    ("newyork", -74.0),
    ("london", -0.12),
    ("tumangang", 130.6),
    ("auckland", 174.8),
)
OFFSETS = {"minus12": -12, "newyork": -5, "london": 0, "tumangang": 9, "auckland": 12}
CLASSES = ("all", "covered", "tank", "boxcar")
DAYS = [date(2023, 7, 1) + timedelta(days=i) for i in range(6)]  # northern summer


def _midnight(site: str, day: date) -> datetime:
    """The UTC instant ``day`` begins at ``site``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=OFFSETS[site])


def _site_alerts(site: str, rng: random.Random) -> list[Alert]:
    out: list[Alert] = []
    for n, day in enumerate(DAYS):
        start = _midnight(site, day)
        # at local midnight, a microsecond before it, and some time in the day
        for k, when in enumerate(
            (
                start,
                start - timedelta(microseconds=1),
                start + timedelta(seconds=rng.randrange(86400)),
            )
        ):
            i = 3 * n + k
            kind, cls = ALERT_KINDS[rng.randrange(len(ALERT_KINDS))], CLASSES[i % len(CLASSES)]
            out.append(
                Alert(
                    key=f"{kind}-{cls}-{site}-{i}",
                    kind=kind,
                    severity=SEVERITIES[rng.randrange(len(SEVERITIES))],
                    when=when,
                    cls=cls,
                    value=float(i),
                    explanation=f"alert {i} of {site}",
                    metrics={},
                )
            )
    return out


@pytest.fixture(scope="module")
def zones(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("web-review-s35")
    db = Database(f"sqlite:///{tmp / 'z.db'}")
    rng = random.Random(35)
    with db.session() as s:
        for name, lon in SITES:
            site = repo.add_site(s, SiteSpec(name=name, geometry=box(lon, 40.0, lon + 0.01, 40.01)))
            repo.replace_alerts(s, site, _site_alerts(name, rng))
        stored = list(s.scalars(select(StoredAlert).order_by(StoredAlert.id)))
        for a in stored[::7]:  # some acknowledged, for open_only / --unacked
            repo.acknowledge_alert(s, a.id, "seen")
        for a in stored[3::11]:  # some retired, for active_only=false / --all
            a.acknowledged, a.active = True, False
    app = create_app(Settings(db=db.url, cache_dir=tmp / "cache"), db)
    yield {"client": TestClient(app), "url": db.url, "db": db}
    db.dispose()


def _every(c: TestClient, path: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The whole list, page by page (13 a page), each page's total, X-Total-Count and
    Link agreeing."""
    items: list[dict[str, Any]] = []
    total = None
    while True:
        r = c.get(path, params=[*params, ("limit", "13"), ("offset", str(len(items)))])
        assert r.status_code == 200, r.text
        body = r.json()
        assert total is None or body["total"] == total
        total = body["total"]
        assert r.headers["x-total-count"] == str(total)
        items += body["items"]
        if not body["items"]:
            break
        assert ('rel="next"' in r.headers["link"]) == (len(items) < total)
    assert len(items) == total
    return items


def _instant(rng: random.Random, near: datetime) -> tuple[str, datetime]:
    """An instant at, just before or just after ``near``, written in a random zone."""
    at = near + timedelta(microseconds=rng.choice((-1, 0, 1)))
    hours = rng.choice((-12, -5, 0, 9, 14))
    text = at.astimezone(timezone(timedelta(hours=hours))).isoformat()
    return (text.replace("+00:00", "Z") if hours == 0 else text), at


def _when(rng: random.Random, every: list[dict[str, Any]]) -> tuple[str, date | datetime]:
    if rng.random() < 0.5:
        day = rng.choice([*DAYS, DAYS[0] - timedelta(days=1), DAYS[-1] + timedelta(days=1)])
        return day.isoformat(), day
    near = datetime.fromisoformat(rng.choice(every)["when"])
    return _instant(rng, near)


def _matches(a: dict[str, Any], f: dict[str, Any]) -> bool:
    """What the filters mean, from an alert's members."""
    when, day = datetime.fromisoformat(a["when"]), date.fromisoformat(a["day"])
    for bound, keep in (("since", lambda x, y: x >= y), ("until", lambda x, y: x <= y)):
        value = f.get(bound)
        if value is not None and not keep(when if isinstance(value, datetime) else day, value):
            return False
    if SEVERITIES.index(a["severity"]) < SEVERITIES.index(f.get("min_severity", "info")):
        return False
    if f.get("cls") is not None and a["cls"] != f["cls"]:
        return False
    return not f.get("kinds") or a["kind"] in f["kinds"]


def _combination(
    rng: random.Random, every: list[dict[str, Any]]
) -> tuple[list[str], list[tuple[str, str]], dict[str, Any]]:
    """Random filters: the CLI's arguments, the API's query, and their meaning."""
    args: list[str] = []
    query: list[tuple[str, str]] = []
    meaning: dict[str, Any] = {}
    since_text = until_text = None
    if rng.random() < 0.6:
        since_text, meaning["since"] = _when(rng, every)
    if rng.random() < 0.6:
        until_text, meaning["until"] = _when(rng, every)
    since, until = meaning.get("since"), meaning.get("until")
    if (
        since is not None
        and until is not None
        and isinstance(since, datetime) == isinstance(until, datetime)
        and since > until
    ):
        since_text, until_text = until_text, since_text
        meaning["since"], meaning["until"] = until, since
    for name, text in (("since", since_text), ("until", until_text)):
        if text is not None:
            args += [f"--{name}", text]
            query.append((name, text))
    if rng.random() < 0.4:
        sev = rng.choice(SEVERITIES)
        args += ["--min-severity", sev]
        query.append(("min_severity", sev))
        meaning["min_severity"] = sev
    if rng.random() < 0.4:
        cls = rng.choice([*CLASSES, "hopper"])  # a class no alert has: none listed
        args += ["--class", cls]
        query.append(("class", cls))
        meaning["cls"] = cls
    if rng.random() < 0.5:
        kinds = rng.sample(ALERT_KINDS, rng.randint(1, 3))
        if rng.random() < 0.5:
            args += ["--kind", ",".join(kinds)]
            query.append(("kind", ",".join(kinds)))
        else:
            for k in kinds:
                args += ["--kind", k]
                query.append(("kind", k))
        meaning["kinds"] = set(kinds)
    return args, query, meaning


def _cli(url: str, args: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["--db", url, "alerts", *args, "--json"]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return rows


@pytest.mark.parametrize("state", ["active", "all", "open"])
def test_random_filters_list_the_same_alerts_in_the_cli_and_the_api(
    zones: dict[str, Any], capsys: pytest.CaptureFixture[str], state: str
) -> None:
    c: TestClient = zones["client"]
    flags = {"active": ([], []), "all": (["--all"], [("active_only", "false")])}.get(
        state, (["--unacked"], [("open_only", "true")])
    )
    every = _every(c, "/api/alerts", flags[1])
    assert len(every) > 40 and {a["site"] for a in every} == set(OFFSETS)
    # each alert's day is its local day in its site's nominal zone (no summer time)
    for a in every:
        when = datetime.fromisoformat(a["when"])
        assert a["day"] == (when + timedelta(hours=OFFSETS[a["site"]])).date().isoformat()
    rng = random.Random(f"s35-{state}")
    for _ in range(25):
        args, query, meaning = _combination(rng, every)
        site = rng.choice([None, None, *OFFSETS])
        want = [a for a in every if _matches(a, meaning) and site in (None, a["site"])]
        path = "/api/alerts" if site is None else f"/api/sites/{site}/alerts"
        got = _every(c, path, [*flags[1], *query])
        cli = _cli(zones["url"], [*([site] if site else []), *flags[0], *args], capsys)
        assert [a["id"] for a in got] == [a["id"] for a in want], (site, query)
        assert [a["id"] for a in cli] == [a["id"] for a in want], (site, args)


def test_an_alert_at_local_midnight_is_of_the_day_it_begins(zones: dict[str, Any]) -> None:
    c: TestClient = zones["client"]
    day = DAYS[2].isoformat()
    for site in OFFSETS:
        on = _every(c, f"/api/sites/{site}/alerts", [("since", day), ("until", day)])
        starts = {a["when"] for a in on}
        midnight = _midnight(site, DAYS[2])
        assert midnight.isoformat() in starts  # the day's first instant is in it
        before = (midnight - timedelta(microseconds=1)).isoformat()
        assert before not in starts  # the previous day's last one is not
        # since == until as instants: the alert at that instant alone
        at = _every(
            c,
            f"/api/sites/{site}/alerts",
            [("since", midnight.isoformat()), ("until", midnight.isoformat())],
        )
        assert [a["when"] for a in at] == [midnight.isoformat()]


def test_an_offset_past_the_end_keeps_the_filtered_total(zones: dict[str, Any]) -> None:
    c: TestClient = zones["client"]
    query: dict[str, str | int] = {"kind": "record", "min_severity": "low", "limit": 5}
    query["offset"] = 500
    r = c.get("/api/alerts", params=query)
    body = r.json()
    total = len(_every(c, "/api/alerts", [("kind", "record"), ("min_severity", "low")]))
    assert r.status_code == 200 and body["items"] == [] and body["total"] == total
    assert r.headers["x-total-count"] == str(total)
    last = (total - 1) // 5 * 5
    assert f'offset={last}>; rel="last"' in r.headers["link"]
    assert "kind=record" in r.headers["link"] and "min_severity=low" in r.headers["link"]
    assert 'rel="next"' not in r.headers["link"]


def test_a_page_of_alerts_reads_its_sites_in_one_statement(zones: dict[str, Any]) -> None:
    """A page of 90 alerts of 5 sites is 4 statements, filtered or not, whatever the
    number of sites (before the review: one more a site, each alert's site read alone)."""
    db: Database = zones["db"]
    c: TestClient = zones["client"]
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for query in ({}, {"since": DAYS[1].isoformat(), "kind": "record,spike,shift"}):
            seen.clear()
            r = c.get("/api/alerts", params={**query, "limit": "100"})
            assert r.status_code == 200 and len({a["site"] for a in r.json()["items"]}) == 5
            reads = [q for q in seen if q.lstrip().upper().startswith("SELECT")]
            # the sites' zones (a day filter), the count, the page, the page's sites
            assert len(reads) <= 4, "\n".join(reads)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


# ------------------------------------------------------------------ response schemas

TOKEN = "review-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("web-review-schemas-s35")
    db = Database(f"sqlite:///{tmp / 'w.db'}")
    ids = populate(db, tmp / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    app = create_app(settings, db, detector_factory=NoCarDetector)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield {**ids, "client": client, "app": app}
    db.dispose()


def _declared(spec: dict[str, Any], method: str, path: str, status: int, media: str) -> Any:
    template = next(
        t for t in spec["paths"] if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), path)
    )
    responses = spec["paths"][template][method.lower()]["responses"]
    key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
    assert key in responses, f"{method} {template}: {status} not declared"
    content = responses[key]["content"]
    assert media in content, f"{method} {template} {status}: {media} not declared"
    return {**content[media]["schema"], "components": spec["components"]}


def _check(
    c: TestClient, spec: dict[str, Any], method: str, url: str, **kw: Any
) -> tuple[int, list[str], Any]:
    """The answer's status, its departures from the declared schema (undeclared members
    refused) and its body."""
    r = c.request(method, url, headers=AUTH, **kw)
    media = r.headers.get("content-type", "").split(";")[0]
    body = r.json()
    schema = _declared(spec, method, url.split("?")[0], r.status_code, media)
    errors = [
        f"{method} {url} {r.status_code}: {e.message} at {list(e.instance_path)}"
        for e in jsonschema_rs.validator_for(schema).iter_errors(body)
    ]
    return r.status_code, errors, body


def test_a_changed_alerts_conflict_declares_its_alert(world: dict[str, Any]) -> None:
    """The 409 of another version has ``alert``, the alert as it is now: declared."""
    c: TestClient = world["client"]
    spec = _closed(copy.deepcopy(world["app"].openapi()))
    status, errors, body = _check(
        c,
        spec,
        "POST",
        f"/api/alerts/{world['alert_id']}/acknowledge",
        json={"version": "0000000000000000"},
    )
    assert status == 409 and body["alert"]["id"] == world["alert_id"]
    assert not errors, "\n".join(errors)
    assert not c.get(f"/api/alerts/{world['alert_id']}", headers=AUTH).json()["acknowledged"]


def test_the_answers_the_schema_test_left_out_match_their_schemas(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    spec = _closed(copy.deepcopy(world["app"].openapi()))
    site, sc, al, ev = world["site"], world["scene_ids"], world["alert_id"], world["event_id"]
    bounds = c.get(f"/api/sites/{site}", headers=AUTH).json()["bounds"]
    mid_y = (bounds[1] + bounds[3]) / 2
    track = {"type": "LineString", "coordinates": [[bounds[0], mid_y], [bounds[2], mid_y]]}
    added = c.post(
        f"/api/sites/{site}/events", headers=AUTH, json={"date": "2023-10-02", "label": "y"}
    )
    requests: list[tuple[str, str, dict[str, Any], int]] = [
        ("PATCH", f"/api/events/{ev}", {"json": {"label": "renamed"}}, 200),
        ("DELETE", f"/api/events/{added.json()['id']}", {}, 200),
        ("PUT", f"/api/scenes/{sc[4]}/review", {"json": {"counts": {"all": 21}}}, 201),
        ("PUT", f"/api/scenes/{sc[4]}/review", {"json": {"counts": {"all": 22}}}, 200),
        ("GET", f"/api/scenes/{sc[4]}/review?outlines=true", {}, 200),
        ("GET", f"/api/scenes/{sc[2]}", {}, 200),  # an unusable scene: its nulls
        ("PATCH", f"/api/sites/{site}", {"json": {"tracks": track}}, 200),
        ("PATCH", f"/api/sites/{site}", {"json": {"tracks": None}}, 200),
        ("POST", f"/api/sites/{site}/reports", {"json": {}}, 201),
        ("GET", "/api/reports", {}, 200),
        # problem bodies
        ("GET", "/api/sites/nope", {}, 404),
        ("GET", "/api/alerts?kind=bogus&since=x", {}, 422),
        ("GET", "/api/alerts?site_name=x", {}, 422),
        ("POST", f"/api/alerts/{al}/acknowledge", {"json": {"key": "another"}}, 409),
        ("POST", "/api/sites", {"json": {"name": site, "bbox": [1, 1, 1.01, 1.01]}}, 409),
        ("PUT", f"/api/scenes/{sc[2]}/review", {"json": {"counts": {"all": 3}}}, 422),
        ("GET", "/api/reports/0123456789abcdef0123456789abcdef", {}, 404),
    ]
    failures: list[str] = []
    for method, url, kw, want in requests:
        status, errors, body = _check(c, spec, method, url, **kw)
        assert status == want, (method, url, status, body)
        failures += errors[:3]
        if method == "POST" and url.endswith("/reports"):
            status, errors, _ = _check(c, spec, "GET", f"/api/reports/{body['id']}")
            assert status == 200
            failures += errors[:3]
    assert not failures, "\n".join(failures)


def test_a_report_whose_metadata_is_odd_is_left_out_not_a_500(world: dict[str, Any]) -> None:
    """A ``report.json`` the Report schema refuses (no id, formats not a list) made the
    answer's validation fail: ``GET /api/reports`` was a 500 for every report."""
    c: TestClient = world["client"]
    root: Path = world["app"].state.report_dir
    odd = {"b" * 32: {"site": "x"}, "c" * 32: {"id": "c" * 32, "formats": "html", "date_from": 5}}
    for rid, meta in odd.items():
        (root / rid).mkdir(parents=True)
        (root / rid / "report.json").write_text(json.dumps(meta), encoding="utf-8")
    r = c.get("/api/reports", headers=AUTH)
    assert r.status_code == 200, r.text
    assert not {i["id"] for i in r.json()["items"]} & set(odd)
    for rid, words in (("b" * 32, "(id: Field required)"), ("c" * 32, "(date_from: ")):
        r = c.get(f"/api/reports/{rid}", headers=AUTH)
        assert r.status_code == 404, r.text
        detail = r.json()["detail"]
        assert f"report {rid} cannot be read: its report.json is not a report's" in detail
        assert words in detail and "generate the report again" in detail
        assert c.get(f"/api/reports/{rid}/html", headers=AUTH).status_code == 404


def test_railwatch_alerts_reads_the_sites_in_one_statement(
    zones: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """``railwatch alerts`` over 5 sites: the alerts and their sites in 2 reads (it read
    each alert's site alone: 1,002 statements for 3,000 alerts of 1,000 sites)."""
    from sqlalchemy.engine import Engine

    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(Engine, "before_cursor_execute", count)
    try:
        rows = _cli(zones["url"], ["--all"], capsys)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert len({r["site"] for r in rows}) == 5
    reads = [q for q in seen if "FROM alerts" in q or "FROM sites" in q]
    assert len(reads) <= 2, "\n".join(reads)
