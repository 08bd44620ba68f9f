"""Acknowledging an alert that re-analysis changed while it was on screen (session 31).

An analyst reads an alert (the dashboard, `railwatch alerts`) and acknowledges it;
meanwhile `railwatch analyze` recounts it (another count, explanation, severity or
image). Before, the acknowledgement applied to the version the analyst never saw. Now
every alert carries a ``version`` (:func:`repo.alert_version`, 16 hex digits of what it
says); ``repo.acknowledge_alert(..., expect=VERSION)``, the API's ``version`` and the
CLI's ``--expect`` acknowledge only that version, checked on the locked row in the
acknowledgement's own transaction; a changed alert is a 409 (the API answers the
alert as it is now) and nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.analysis.types import Alert as AlertValue
from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.settings import Settings
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.web.app import create_app
from test_storage_qa24_concurrency import _in_thread, _until_blocked_or_done

BBOX = "130.60,42.28,130.63,42.30"
KEY = "spike:all:2024-03-01"
TOKEN = "s31-ack-version-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HEX16 = re.compile(r"[0-9a-f]{16}")


def _spike(
    value: float = 40.0, severity: str = "medium", scene_id: int | None = None
) -> AlertValue:
    return AlertValue(
        key=KEY,
        kind="spike",
        severity=severity,
        when=datetime(2024, 3, 1, 2, 30, tzinfo=UTC),
        cls="all",
        value=value,
        explanation=f"{value:g} railcars on 2024-03-01, against a usual 12",
        metrics={"baseline": 12.0},
        scene_id=scene_id,
    )


def _make(url: str) -> tuple[Database, int]:
    db = Database(url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
        repo.replace_alerts(s, "tum", [_spike()])
        return db, int(repo.list_alerts(s, "tum")[0].id)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def world(request: pytest.FixtureRequest, tmp_db_url: str) -> Iterator[dict[str, Any]]:
    url = (
        str(request.getfixturevalue("postgres_url"))
        if request.param == "postgresql"
        else tmp_db_url
    )
    db, alert_id = _make(url)
    yield {"db": db, "url": url, "id": alert_id}
    db.dispose()


def _version(db: Database, alert_id: int) -> str:
    with db.session(readonly=True) as s:
        return repo.alert_version(repo.get_alert(s, alert_id))


def _reanalyse(db: Database, alert: AlertValue) -> repo.AlertChanges:
    with db.session() as s:
        return repo.replace_alerts(s, "tum", [alert])


def _row(db: Database, alert_id: int) -> Any:
    with db.session(readonly=True) as s:
        return repo.get_alert(s, alert_id)


# --- storage (SQLite, and PostgreSQL when available) ----------------------------------


def test_the_version_changes_with_what_the_alert_says_only(world: dict[str, Any]) -> None:
    db, aid = world["db"], world["id"]
    v0 = _version(db, aid)
    assert HEX16.fullmatch(v0)
    assert _reanalyse(db, _spike()).unchanged == 1
    assert _version(db, aid) == v0  # raised again as it is: the same version
    with db.session() as s:
        repo.acknowledge_alert(s, aid, "first look", expect=v0)
    assert _version(db, aid) == v0  # an acknowledgement and its note are no change
    assert _reanalyse(db, _spike(31.0)).changed_since_ack == 1  # recounted: marked
    v1 = _version(db, aid)
    assert v1 != v0
    with db.session() as s:  # acknowledging again clears the mark: the same version
        repo.acknowledge_alert(s, aid, expect=v1)
    assert repo.CHANGED_SINCE_ACK not in _row(db, aid).metrics
    assert _version(db, aid) == v1


def test_another_severity_explanation_or_image_is_another_version(
    world: dict[str, Any],
) -> None:
    db, aid = world["db"], world["id"]
    seen = {_version(db, aid)}
    high = _spike(40.0, "high")
    recounts = [
        high,  # the severity
        replace(high, explanation="40 railcars, worded again"),
        replace(high, metrics={"baseline": 11.0}),
        replace(high, event_label="summit", event_days=5),
    ]
    for alert in recounts:
        _reanalyse(db, alert)
        seen.add(_version(db, aid))
    assert len(seen) == 1 + len(recounts)


def test_an_ack_of_a_version_re_analysis_changed_writes_nothing(
    world: dict[str, Any],
) -> None:
    db, aid = world["db"], world["id"]
    read = _version(db, aid)
    _reanalyse(db, _spike(31.0))  # while the analyst looked at 40
    with db.session() as s, pytest.raises(repo.AlertChangedError) as caught:
        repo.acknowledge_alert(s, aid, "checked at 40", expect=read)
    msg = str(caught.value)
    assert f"alert {aid} changed since it was read (version {read}, now " in msg
    assert "medium, 31: '31 railcars on 2024-03-01, against a usual 12'" in msg
    assert msg.endswith("Nothing was acknowledged: check what it says now and acknowledge it again")
    assert caught.value.alert.value == 31.0
    row = _row(db, aid)
    assert not row.acknowledged and row.ack_note is None and row.ack_at is None
    with db.session() as s:  # the version now shown
        repo.acknowledge_alert(s, aid, "checked at 31", expect=_version(db, aid))
    row = _row(db, aid)
    assert row.acknowledged and row.ack_note == "checked at 31"


def test_a_version_in_capitals_or_with_spaces_is_the_same_version(
    world: dict[str, Any],
) -> None:
    """A token copied through a spreadsheet or a terminal (capitalised, padded) is the
    same version: compared as the lower-case hex digits it is (session 31 review)."""
    db, aid = world["db"], world["id"]
    token = f" {_version(db, aid).upper()}\n"
    with db.session() as s:
        assert repo.acknowledge_alert(s, aid, "copied", expect=token).acknowledged


def test_an_ack_without_a_version_acknowledges_what_the_alert_says_now(
    world: dict[str, Any],
) -> None:
    db, aid = world["db"], world["id"]
    _reanalyse(db, _spike(31.0))
    with db.session() as s:
        assert repo.acknowledge_alert(s, aid, "as before session 31").acknowledged


@pytest.mark.parametrize("bad", ["", "abc", "3f0c9a1e2b4d5c6f0", "zz" * 8, "3F0C9A1E2B4D5C6G"])
def test_a_version_that_is_not_one_is_said(tmp_db_url: str, bad: str) -> None:
    db, aid = _make(tmp_db_url)
    try:
        with db.session() as s, pytest.raises(InputError, match="is not an alert version"):
            repo.acknowledge_alert(s, aid, "x", expect=bad)
        assert not _row(db, aid).acknowledged
    finally:
        db.dispose()


@pytest.mark.services
def test_postgresql_an_ack_waiting_on_a_reanalysis_is_checked_against_what_it_wrote(
    postgres_url: str,
) -> None:
    """The re-analysis (40 to 31) holds the row, not committed; the analyst's
    acknowledgement of version 40 waits on the row lock, then reads 31 as committed and
    refuses. Without the lock it read 40, matched, and acknowledged 31 once the
    re-analysis committed."""
    db, aid = _make(postgres_url)
    read = _version(db, aid)
    a, b = Database(postgres_url, migrate=False), Database(postgres_url, migrate=False)

    def ack() -> Any:
        with b.session() as s:
            return repo.acknowledge_alert(s, aid, "checked at 40", expect=read).ack_note

    try:
        with a.session() as s:
            repo.replace_alerts(s, "tum", [_spike(31.0)])
            s.flush()
            worker, out = _in_thread(ack)
            _until_blocked_or_done(postgres_url, worker)
            assert worker.is_alive(), f"the acknowledgement did not wait: {out}"
        worker.join(timeout=60)
        assert isinstance(out.get("error"), repo.AlertChangedError), out
        row = _row(db, aid)
        assert row.value == 31.0 and not row.acknowledged and row.ack_note is None
    finally:
        a.dispose()
        b.dispose()
        db.dispose()


# --- the web API --------------------------------------------------------------------


@pytest.fixture()
def client(world: dict[str, Any], tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(db=world["url"], api_token=SecretStr(TOKEN), cache_dir=tmp_path / "c")
    with TestClient(create_app(settings, world["db"])) as c:
        yield c


def test_the_api_shows_the_version_and_acknowledges_that_version(
    world: dict[str, Any], client: TestClient
) -> None:
    aid = world["id"]
    one = client.get(f"/api/alerts/{aid}").json()
    (listed,) = client.get("/api/sites/tum/alerts").json()["items"]
    assert one["version"] == listed["version"] == _version(world["db"], aid)
    r = client.post(
        f"/api/alerts/{aid}/acknowledge",
        json={"note": "ok", "key": KEY, "version": one["version"]},
        headers=AUTH,
    )
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged"] and r.json()["version"] == one["version"]


def test_the_api_answers_409_with_the_alert_as_it_is_now(
    world: dict[str, Any], client: TestClient
) -> None:
    db, aid = world["db"], world["id"]
    shown = client.get(f"/api/alerts/{aid}").json()
    _reanalyse(db, _spike(31.0))
    r = client.post(
        f"/api/alerts/{aid}/acknowledge",
        json={"note": "checked at 40", "key": KEY, "version": shown["version"]},
        headers=AUTH,
    )
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["error"] == "AlertChangedError"
    assert f"alert {aid} changed since it was read" in body["detail"]
    assert "Nothing was acknowledged" in body["detail"]
    now = body["alert"]
    assert now["id"] == aid and now["value"] == 31.0 and not now["acknowledged"]
    assert now["version"] == _version(db, aid) != shown["version"]
    assert now == client.get(f"/api/alerts/{aid}").json()
    row = _row(db, aid)
    assert not row.acknowledged and row.ack_note is None
    again = client.post(
        f"/api/alerts/{aid}/acknowledge",
        json={"note": "checked at 31", "key": KEY, "version": now["version"]},
        headers=AUTH,
    )
    assert again.status_code == 200 and again.json()["ack_note"] == "checked at 31"


def test_the_api_without_a_version_acknowledges_as_before(
    world: dict[str, Any], client: TestClient
) -> None:
    aid = world["id"]
    _reanalyse(world["db"], _spike(31.0))
    r = client.post(f"/api/alerts/{aid}/acknowledge", json={"note": "x"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["acknowledged"]


def test_the_api_says_a_version_that_is_not_one(world: dict[str, Any], client: TestClient) -> None:
    r = client.post(f"/api/alerts/{world['id']}/acknowledge", json={"version": "v1"}, headers=AUTH)
    assert r.status_code == 422, r.text
    assert "'v1' is not an alert version" in r.json()["detail"]
    assert not _row(world["db"], world["id"]).acknowledged


# --- the CLI ------------------------------------------------------------------------


def test_the_cli_lists_the_version_and_acknowledges_only_it(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    db, aid, url = world["db"], world["id"], world["url"]
    assert main(["--db", url, "alerts", "tum", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    read = listed["version"]
    assert read == _version(db, aid)
    _reanalyse(db, _spike(31.0))
    rc = main(["--db", url, "alert", "ack", str(aid), "--note", "at 40", "--expect", read])
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert rc == 1, captured
    now = _version(db, aid)
    assert f"alert {aid} changed since it was read (version {read}, now {now})" in err
    assert "Nothing was acknowledged" in err
    assert f"(`railwatch alert ack {aid} --expect {now}` once checked)" in err
    assert not _row(db, aid).acknowledged
    rc = main(["--db", url, "alert", "ack", str(aid), "--note", "at 31", "--expect", now])
    assert rc == 0, capsys.readouterr()
    assert _row(db, aid).ack_note == "at 31"


def test_the_cli_says_an_expect_that_is_not_a_version(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db, aid = _make(tmp_db_url)
    try:
        rc = main(["--db", tmp_db_url, "alert", "ack", str(aid), "--expect", "latest"])
        assert rc == 2
        assert "'latest' is not an alert version" in capsys.readouterr().err
        assert not _row(db, aid).acknowledged
    finally:
        db.dispose()


# --- the site page (headless Chromium) ------------------------------------------------


@pytest.mark.slow
@pytest.mark.services
def test_the_site_page_shows_the_409_and_the_alert_as_it_is_now(tmp_path: Path) -> None:
    """The alert is recounted (18 to 16) after the page showed it; Acknowledge sends the
    version shown: nothing is acknowledged, the alert is shown as it is now with the
    server's words, the note kept; a second click acknowledges what it says now."""
    from helpers import chromium, serve_db
    from web_db import populate

    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    ids = populate(db, tmp_path / "img")
    site, alert_id = ids["site"], ids["alert_id"]
    try:
        with serve_db(db, tmp_path / "cache", token=TOKEN) as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.context.set_extra_http_headers(AUTH)
            page.goto(f"{url}/sites/{site}")
            page.wait_for_selector("body[data-ready='1']")
            box = page.locator(f".alert[data-alert='{alert_id}']")
            assert box.locator(".expl").inner_text().startswith("18 railcars")
            with db.session() as s:  # `railwatch analyze` meanwhile
                repo.replace_alerts(
                    s,
                    site,
                    [
                        AlertValue(
                            key="record-all-2023-10-05",
                            kind="record",
                            severity="high",
                            when=datetime(2023, 10, 5, 2, 30, tzinfo=UTC),
                            cls="all",
                            value=16.0,
                            explanation="16 railcars: 2.3x the record of 7 over the previous year.",
                            metrics={"record": 7.0},
                            scene_id=ids["scene_ids"][4],
                        )
                    ],
                )
            box.locator("input.ack-note").fill("checked at 18")
            box.locator("button.ack").click()
            conflict = page.locator(f".alert[data-alert='{alert_id}'] .ack-conflict")
            conflict.wait_for()
            assert f"alert {alert_id} changed since it was read" in conflict.inner_text()
            box = page.locator(f".alert[data-alert='{alert_id}']")
            assert box.locator(".expl").inner_text().startswith("16 railcars")
            assert box.locator("input.ack-note").input_value() == "checked at 18"
            with db.session(readonly=True) as s:
                assert not repo.get_alert(s, alert_id).acknowledged
            box.locator("input.ack-note").fill("checked at 16")
            box.locator("button.ack").click()
            page.locator(f".alert[data-alert='{alert_id}'] .acked-note").wait_for()
            assert page.locator(f".alert[data-alert='{alert_id}'] .ack-conflict").count() == 0
            assert errors == []
            page.close()
        with db.session(readonly=True) as s:
            a = repo.get_alert(s, alert_id)
            assert a.acknowledged and a.ack_note == "checked at 16" and a.value == 16.0
    finally:
        db.dispose()
