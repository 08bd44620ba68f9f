"""The web API's alert lists take the filters of ``railwatch alerts`` (2026-12-06,
session 35): ``since``, ``until``, ``min_severity``, ``class`` and ``kind``, read by the
CLI's rules (:mod:`railwatch.storage.alert_filter`) and applied in SQL, so that a page's
``total``, ``X-Total-Count`` and ``Link`` count only the matching alerts. Before, the
lists took ``site``, ``active_only`` and ``open_only`` only and refused the others (422).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from shapely.geometry import box

from railwatch.analysis.types import ALERT_KINDS, SEVERITIES, Alert
from railwatch.cli.main import main
from railwatch.settings import Settings
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.web.app import create_app

#: Two sites in far zones: Tumangang (130.6 E, UTC+9) and one at 100 W (UTC-7).
EAST, WEST = "east-yard", "west-yard"
CLASSES = ("all", "tank", "covered")


def _alerts(site: str, start: datetime, n: int) -> list[Alert]:
    out = []
    for i in range(n):
        when = start + timedelta(hours=7 * i)
        kind = ALERT_KINDS[i % len(ALERT_KINDS)]
        cls = CLASSES[i % len(CLASSES)]
        out.append(
            Alert(
                key=f"{kind}-{cls}-{site}-{i}",
                kind=kind,
                severity=SEVERITIES[i % len(SEVERITIES)],
                when=when,
                cls=cls,
                value=float(i),
                explanation=f"alert {i} of {site}",
                metrics={},
            )
        )
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("alert-filters-s35")
    db = Database(f"sqlite:///{tmp / 'a.db'}")
    start = datetime(2023, 10, 1, 1, 0, tzinfo=UTC)
    with db.session() as s:
        for name, lon in ((EAST, 130.6), (WEST, -100.0)):
            site = repo.add_site(s, SiteSpec(name=name, geometry=box(lon, 42.4, lon + 0.01, 42.41)))
            repo.replace_alerts(s, site, _alerts(name, start, 40))
        # one acknowledged alert, for open_only / --unacked
        first = repo.list_alerts(s, EAST)[-1]
        repo.acknowledge_alert(s, first.id, "seen")
    app = create_app(Settings(db=db.url, cache_dir=tmp / "cache"), db)
    yield {"client": TestClient(app), "url": db.url}
    db.dispose()


def _cli(url: str, args: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["--db", url, "alerts", *args, "--json"]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return rows


def _web(c: TestClient, path: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Every alert of the list, page by page (10 a page), checking each page's totals."""
    items: list[dict[str, Any]] = []
    total = None
    while True:
        r = c.get(path, params=[*params, ("limit", "10"), ("offset", str(len(items)))])
        assert r.status_code == 200, r.text
        body = r.json()
        assert total is None or body["total"] == total
        total = body["total"]
        assert r.headers["x-total-count"] == str(total)
        items += body["items"]
        if len(items) >= total or not body["items"]:
            break
        assert 'rel="next"' in r.headers["link"]
    assert len(items) == total
    return items


#: (CLI arguments, the web's query) meaning the same
CASES: list[tuple[list[str], list[tuple[str, str]]]] = [
    ([], []),
    (["--since", "2023-10-05"], [("since", "2023-10-05")]),
    (["--until", "2023-10-04"], [("until", "2023-10-04")]),
    (
        ["--since", "2023-10-03", "--until", "2023-10-05"],
        [("since", "2023-10-03"), ("until", "2023-10-05")],
    ),
    (["--since", "2023-10-05T00:00Z"], [("since", "2023-10-05T00:00Z")]),
    (["--until", "2023-10-04T12:00+09:00"], [("until", "2023-10-04T12:00+09:00")]),
    (["--min-severity", "medium"], [("min_severity", "medium")]),
    (["--class", "tank"], [("class", "tank")]),
    (["--kind", "record,shift"], [("kind", "record,shift")]),
    (["--kind", "spike", "--kind", "drop"], [("kind", "spike"), ("kind", "drop")]),
    (
        ["--unacked", "--min-severity", "info", "--kind", "record"],
        [("open_only", "true"), ("kind", "record")],
    ),
    (
        [
            "--since",
            "2023-10-02",
            "--min-severity",
            "low",
            "--class",
            "all",
            "--kind",
            "record,spike,quality",
        ],
        [
            ("since", "2023-10-02"),
            ("min_severity", "low"),
            ("class", "all"),
            ("kind", "record,spike,quality"),
        ],
    ),
]


@pytest.mark.parametrize(("args", "query"), CASES)
def test_the_web_lists_filter_as_the_cli_does(
    world: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    query: list[tuple[str, str]],
) -> None:
    c: TestClient = world["client"]
    for site in (None, EAST, WEST):
        want = _cli(world["url"], [*([site] if site else []), *args], capsys)
        path = "/api/alerts" if site is None else f"/api/sites/{site}/alerts"
        got = _web(c, path, query)
        assert [a["id"] for a in got] == [a["id"] for a in want], (site, args)
        assert [a["day"] for a in got] == [a["day"] for a in want]
    # the site parameter of /api/alerts as well
    assert _web(c, "/api/alerts", [("site", WEST), *query]) == _web(
        c, f"/api/sites/{WEST}/alerts", query
    )


def test_a_day_is_each_alerts_day_at_its_site(world: dict[str, Any]) -> None:
    """2023-10-05 at the UTC+9 site began at 2023-10-04 15:00 UTC, at the UTC-7 site at
    2023-10-05 07:00 UTC: a day is the `day` each alert gives, not a UTC day."""
    c: TestClient = world["client"]
    every = _web(c, "/api/alerts", [])
    for day in ("2023-10-03", "2023-10-05", "2023-10-09"):
        on = _web(c, "/api/alerts", [("since", day), ("until", day)])
        assert on == [a for a in every if a["day"] == day]
        assert {a["site"] for a in on} == {EAST, WEST}
        # the UTC day would have been something else at both sites
        assert [a for a in every if a["when"][:10] == day] != on
    after = _web(c, "/api/alerts", [("since", "2023-10-05")])
    assert after == [a for a in every if a["day"] >= "2023-10-05"]


def test_the_totals_and_links_count_the_matching_alerts(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    r = c.get("/api/alerts", params={"kind": "record", "min_severity": "high", "limit": 2})
    body = r.json()
    every = _web(c, "/api/alerts", [])
    want = [a for a in every if a["kind"] == "record" and a["severity"] == "high"]
    assert body["total"] == len(want) > 2
    assert body["items"] == want[:2]
    last = (len(want) - 1) // 2 * 2
    assert f"offset={last}" in r.headers["link"] and "kind=record" in r.headers["link"]


@pytest.mark.parametrize(
    ("query", "name", "words"),
    [
        (
            {"since": "2023-02-30"},
            "since",
            "since '2023-02-30' is not a valid calendar date: February 2023 has 28 days",
        ),
        ({"until": "June"}, "until", "until 'June' is not a date YYYY-MM-DD"),
        ({"since": "20231005"}, "since", "since '20231005' is not a date YYYY-MM-DD"),
        (
            {"min_severity": "urgent"},
            "min_severity",
            "min_severity 'urgent': use one of info, low, medium, high",
        ),
        (
            {"class": "tanks"},
            "class",
            "class 'tanks' is not a railcar class: use all (the total), covered or one of boxcar",
        ),
        (
            {"kind": "record,bogus"},
            "kind",
            "kind 'bogus' (in 'record,bogus') is not an alert "
            "kind: use one or more of record, spike, shift, drop, quality",
        ),
        ({"kind": ""}, "kind", "kind '' is not an alert kind"),
        (
            {"since": "2023-10-05", "until": "2023-10-01"},
            "until",
            "since 2023-10-05 is after until 2023-10-01",
        ),
    ],
)
def test_a_bad_value_is_a_422_naming_the_parameter_the_value_and_what_it_may_be(
    world: dict[str, Any], query: dict[str, str], name: str, words: str
) -> None:
    c: TestClient = world["client"]
    for path in ("/api/alerts", f"/api/sites/{EAST}/alerts"):
        r = c.get(path, params=query)
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["detail"].startswith(f"invalid request: query.{name}: {words}"), body
        assert ["query", name] in [e["loc"] for e in body["errors"]]


def test_every_bad_parameter_is_said(world: dict[str, Any]) -> None:
    r = world["client"].get(
        "/api/alerts", params={"since": "x", "min_severity": "y", "class": "z", "kind": "w"}
    )
    assert r.status_code == 422
    locs = [e["loc"] for e in r.json()["errors"]]
    assert locs == [
        ["query", "since"],
        ["query", "min_severity"],
        ["query", "class"],
        ["query", "kind"],
    ]


def test_the_openapi_document_declares_the_filters(world: dict[str, Any]) -> None:
    from railwatch.web.query import list_names, query_names

    spec = world["client"].get("/openapi.json").json()
    for path in ("/api/alerts", "/api/sites/{site}/alerts"):
        names = query_names(spec, path, "get")
        assert names is not None
        assert {"since", "until", "min_severity", "class", "kind"} <= names
        assert list_names(spec, path, "get") == {"kind"}  # kind may be repeated
