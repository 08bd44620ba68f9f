"""An *open* alert is one that needs an analyst's eyes, everywhere (session 30).

Since 32e20ac an acknowledged alert raised again with another count, explanation or
image at the same or a lower severity stays acknowledged, marked
``metrics["changed_since_ack"]``, and ``railwatch alerts --unacked`` lists it (1b72ba8).
The web API's ``open_only`` (``repo.alert_page``) and the site list's open-alert badges
(``repo.open_alerts_by_severity``) still filtered on ``acknowledged = false`` alone: a
marked alert was left out of both, and ``X-Total-Count`` did not count it. Now all three
mean "not acknowledged, or changed since acknowledged" (``repo.open_alert_sql``), read in
SQL on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from railwatch.analysis.types import Alert as AlertValue
from railwatch.cli.analyze import changed_since_ack
from railwatch.cli.main import main
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.models import Alert

BBOX = "130.60,42.28,130.63,42.30"
MARK = "changed_since_ack"

SPIKE = AlertValue(
    key="spike:all:2024-03-01",
    kind="spike",
    severity="medium",
    when=datetime(2024, 3, 1, 2, 30, tzinfo=UTC),
    cls="all",
    value=40.0,
    explanation="40 railcars on 2024-03-01, against a usual 12: 6.1 spreads above",
    metrics={"baseline": 12.0, "z": 6.1},
)
RECOUNTED = replace(SPIKE, value=31.0, explanation="31 railcars on 2024-03-01: 4.2 spreads")
SEEN = replace(SPIKE, key="spike:all:2024-04-01", when=datetime(2024, 4, 1, tzinfo=UTC))
ODD = replace(SPIKE, key="spike:all:2024-04-15", when=datetime(2024, 4, 15, tzinfo=UTC))
NEW = replace(
    SPIKE,
    key="drop:all:2024-05-01",
    kind="drop",
    severity="high",
    when=datetime(2024, 5, 1, tzinfo=UTC),
    value=2.0,
    explanation="2 railcars on 2024-05-01, against a usual 12",
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db(request: pytest.FixtureRequest, tmp_db_url: str) -> Iterator[Database]:
    url = (
        str(request.getfixturevalue("postgres_url"))
        if request.param == "postgresql"
        else tmp_db_url
    )
    database = Database(url)
    with database.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    yield database
    database.dispose()


def _ids(db: Database) -> dict[str, int]:
    """Four active alerts of tum: the spike acknowledged and since recounted (marked),
    one acknowledged and unchanged, one acknowledged whose metrics hold a
    ``changed_since_ack`` that is no mark (not an object: the CLI reads it as none), and
    a new high drop nobody acknowledged. Returns their ids by name."""
    with db.session() as s:
        repo.replace_alerts(s, "tum", [SPIKE, SEEN, ODD, NEW])
        ids = {a.key: a.id for a in repo.list_alerts(s, "tum")}
        for key in (SPIKE.key, SEEN.key, ODD.key):
            repo.acknowledge_alert(s, ids[key], "checked")
        s.execute(
            update(Alert)
            .where(Alert.id == ids[ODD.key])
            .values(metrics={**ODD.metrics, MARK: "not a mark"})
        )
    with db.session() as s:
        changes = repo.replace_alerts(s, "tum", [RECOUNTED, SEEN, NEW])
        assert changes.changed_since_ack == 1
    with db.session() as s:  # ODD no longer raised: kept (acknowledged), inactive: raise it
        s.execute(update(Alert).where(Alert.id == ids[ODD.key]).values(active=True))
    return {
        "marked": ids[SPIKE.key],
        "seen": ids[SEEN.key],
        "odd": ids[ODD.key],
        "new": ids[NEW.key],
    }


def test_open_means_unacknowledged_or_changed_since(db: Database) -> None:
    ids = _ids(db)
    with db.session() as s:
        everything = repo.list_alerts(s, "tum")
        assert {a.id for a in everything} == set(ids.values())
        # the CLI's reading of a mark (a dict) and the SQL agree
        wanted = [a.id for a in everything if not a.acknowledged or changed_since_ack(a.metrics)]
        assert wanted == [ids["new"], ids["marked"]]  # newest first
        assert [a.id for a in repo.list_alerts(s, "tum", open_only=True)] == wanted
        assert [a.id for a in repo.list_alerts(s, open_only=True)] == wanted
        # paged in SQL: the total counts the marked one, each page in order
        pages = [repo.alert_page(s, "tum", open_only=True, limit=1, offset=i) for i in (0, 1, 2)]
        assert [total for _, total in pages] == [2, 2, 2]
        assert [[a.id for a in rows] for rows, _ in pages] == [[ids["new"]], [ids["marked"]], []]
        # unacknowledged_only keeps its strict meaning
        assert [a.id for a in repo.list_alerts(s, "tum", unacknowledged_only=True)] == [ids["new"]]
        # the badges
        (site,) = repo.list_sites(s)
        assert repo.open_alerts_by_severity(s, [site]) == {site.id: {"high": 1, "medium": 1}}
    with db.session() as s:  # acknowledged again: seen, no longer open
        repo.acknowledge_alert(s, ids["marked"])
    with db.session() as s:
        assert [a.id for a in repo.list_alerts(s, "tum", open_only=True)] == [ids["new"]]
        (site,) = repo.list_sites(s)
        assert repo.open_alerts_by_severity(s, [site]) == {site.id: {"high": 1}}


@pytest.fixture()
def client(db: Database, tmp_path: Path) -> Iterator[Any]:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    settings = Settings(db=db.url, cache_dir=tmp_path / "cache")
    with TestClient(create_app(settings, db)) as c:
        yield c


def test_api_open_only_lists_marked_alerts_and_counts_them(db: Database, client: Any) -> None:
    ids = _ids(db)
    for path in ("/api/alerts", "/api/sites/tum/alerts"):
        r = client.get(path, params={"open_only": "true"})
        assert r.status_code == 200
        assert [a["id"] for a in r.json()["items"]] == [ids["new"], ids["marked"]]
        assert r.headers["X-Total-Count"] == "2" and r.json()["total"] == 2
        marked = r.json()["items"][1]
        assert marked["acknowledged"] and marked["metrics"][MARK]["value"] == 40.0
        # one a page: the second page is the marked alert, the total the same
        r = client.get(path, params={"open_only": "true", "limit": 1, "offset": 1})
        assert [a["id"] for a in r.json()["items"]] == [ids["marked"]]
        assert r.headers["X-Total-Count"] == "2"
    # without open_only: all four
    assert client.get("/api/alerts").headers["X-Total-Count"] == "4"


def test_site_badges_count_marked_alerts(db: Database, client: Any) -> None:
    ids = _ids(db)
    (listed,) = client.get("/api/sites").json()["items"]
    one = client.get("/api/sites/tum").json()
    for summary in (listed["summary"], one["summary"]):
        assert summary["open_alerts"] == 2
        assert summary["open_by_severity"] == {"high": 1, "medium": 1, "low": 0, "info": 0}
    with db.session() as s:
        repo.acknowledge_alert(s, ids["marked"])
    assert client.get("/api/sites/tum").json()["summary"]["open_alerts"] == 1


def test_cli_unacked_lists_what_the_api_calls_open(
    db: Database, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _ids(db)
    capsys.readouterr()
    assert main(["--db", db.url, "alerts", "tum", "--unacked", "--json"]) == 0
    cli = [r["id"] for r in json.loads(capsys.readouterr().out)]
    api = client.get("/api/alerts", params={"open_only": "true"}).json()["items"]
    assert cli == [a["id"] for a in api] and len(cli) == 2
