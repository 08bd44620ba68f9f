"""The API and the dashboard name a stored site's local days, as its alerts do (session 31).

Since 7451306 the analysis groups a stored site's images by the site's local day (its
nominal solar zone) and keys and dates its alerts by it, but the API gave only UTC times
and the dashboard labelled by their first ten characters: at a UTC+12 site an image of
2024-02-04 22:30 UTC, and its alert "50 railcars on 2024-02-05", were listed under
2024-02-04, beside a chart point labelled 2024-02-04. Now each count point, scene, image
to review and alert has its ``day`` at the site, the page shows it, and ``railwatch
alerts --since DATE`` takes DATE as that day.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from counted_site import LATE, LOCAL, add_counted_site, steady_then_rise
from counted_site import WELLINGTON as GEOM
from railwatch.analysis.store import analyze_site
from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app

SITE = "wellington"


def _store(url: str) -> None:
    """120 steady images every 10 days at 22:30 UTC, then 50 cars at :data:`LATE`, and
    the site analysed as of the next day."""
    db = Database(url)
    try:
        add_counted_site(db, SITE, GEOM, steady_then_rise())
        with db.session() as s:
            analyze_site(s, SITE, as_of=LATE + timedelta(days=1))
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("local-day")
    url = f"sqlite:///{tmp / 'rw.db'}"
    _store(url)
    db = Database(url)
    app = create_app(Settings(db=db.url, cache_dir=tmp / "cache"), db)
    try:
        with TestClient(app) as client:
            yield {"client": client, "url": url, "app": app, "db": db}
    finally:
        db.dispose()


def _get(world: dict[str, Any], path: str) -> Any:
    r = world["client"].get(path)
    assert r.status_code == 200, r.text
    return r.json()


def _spike(world: dict[str, Any]) -> dict[str, Any]:
    alerts = _get(world, f"/api/sites/{SITE}/alerts?limit=1000")["items"]
    (spike,) = [a for a in alerts if a["key"] == f"spike:all:{LOCAL}"]
    return spike


def test_a_late_image_has_the_next_day_at_the_site(world: dict[str, Any]) -> None:
    counts = _get(world, f"/api/sites/{SITE}/counts?limit=1000")
    assert counts["local_zone"] == "UTC+12"
    last = counts["items"][-1]
    assert last["when"] == "2024-02-04T22:30:00+00:00"  # the UTC time as before
    assert last["day"] == LOCAL
    assert all(
        p["day"] == (datetime.fromisoformat(p["when"]) + timedelta(hours=12)).date().isoformat()
        for p in counts["items"]
    )
    scenes = _get(world, f"/api/sites/{SITE}/scenes?limit=1000")["items"]
    scene = next(sc for sc in scenes if sc["id"] == last["scene_id"])
    assert scene["acquired_at"].startswith("2024-02-04T22:30") and scene["day"] == LOCAL
    assert _get(world, f"/api/scenes/{scene['id']}")["day"] == LOCAL
    review = _get(world, f"/api/sites/{SITE}/to-review?limit=1000")["items"]
    assert next(c for c in review if c["scene_id"] == scene["id"])["day"] == LOCAL
    site = _get(world, f"/api/sites/{SITE}")
    assert (site["local_zone"], site["last_day"]) == ("UTC+12", LOCAL)
    assert site["last"][:10] == "2024-02-04"  # the UTC time as before
    assert site["summary"]["latest_day"] == LOCAL
    (listed,) = _get(world, "/api/sites")["items"]
    assert listed["last_day"] == LOCAL
    # the CSV download has `day` after `when` since session 32 (the counts reader reads
    # it back: tests/test_web_counts_csv_day_s32d.py)
    csv = world["client"].get(f"/api/sites/{SITE}/counts?format=csv").text
    assert csv.splitlines()[0].split(",")[:4] == ["when", "day", "local_zone", "scene_id"]


def test_an_alerts_day_is_the_day_its_key_and_text_name(world: dict[str, Any]) -> None:
    spike = _spike(world)
    assert spike["when"].startswith("2024-02-04T22:30")
    assert spike["day"] == LOCAL and f"on {LOCAL}" in spike["explanation"]
    alerts = _get(world, "/api/alerts?limit=1000")["items"]
    assert alerts and all(a["day"] == a["key"].rpartition(":")[2] for a in alerts), [
        (a["key"], a["day"]) for a in alerts
    ]
    assert _get(world, f"/api/alerts/{spike['id']}")["day"] == LOCAL


def test_a_silence_keeps_its_day_at_the_site() -> None:
    """A silence's ``when`` is local midnight of its day at the site as a UTC instant
    (since session 32; before, that day's midnight written as UTC, which alert_day took
    apart), so a UTC-5 site's silence of 2024-03-01 (05:00 UTC) keeps its day, as a UTC+12
    site's (12:00 UTC the day before); dated as every other alert."""
    from railwatch.analysis.events import alert_day

    midnight = datetime(2024, 3, 1, tzinfo=UTC)
    local_midnight = midnight + timedelta(hours=5)
    assert alert_day(local_midnight, timedelta(hours=-5)) == date(2024, 3, 1)
    east = midnight - timedelta(hours=12)
    assert alert_day(east, timedelta(hours=12)) == date(2024, 3, 1)
    assert alert_day(midnight, timedelta(hours=-5)) == date(2024, 2, 29)
    assert alert_day(LATE, timedelta(hours=12)).isoformat() == LOCAL


def test_alerts_since_takes_a_day_at_the_site(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """``--since 2024-02-05`` keeps the alert of 2024-02-05 at the site (22:30 UTC the
    day before: it compared the UTC time with midnight UTC and left it out); the table
    and --json give its local day."""
    from railwatch.cli.main import main

    base = ["--db", world["url"], "alerts", SITE]
    assert main([*base, "--since", LOCAL, "--class", "all", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    spikes = [r for r in rows if r["key"] == f"spike:all:{LOCAL}"]
    assert len(spikes) == 1 and spikes[0]["day"] == LOCAL
    assert all(r["day"] >= LOCAL for r in rows)
    assert main([*base, "--since", "2024-02-06", "--json"]) == 0
    assert f"spike:all:{LOCAL}" not in capsys.readouterr().out
    # a time with its zone is an instant, as before
    assert main([*base, "--since", "2024-02-05T00:00Z", "--json"]) == 0
    assert f"spike:all:{LOCAL}" not in capsys.readouterr().out
    assert main([*base, "--since", LOCAL, "--min-severity", "low", "--class", "all"]) == 0
    table = capsys.readouterr().out
    assert LOCAL in table and "2024-02-04" not in table


@pytest.mark.slow
@pytest.mark.services
def test_the_site_page_shows_the_local_day(world: dict[str, Any]) -> None:
    """The alerts panel, the chart's point and the image list show 2024-02-05, the day
    the alert's text names; the tooltips give the image's UTC time and the zone."""
    pytest.importorskip("uvicorn")
    from helpers import chromium, live_server

    spike = _spike(world)
    with live_server(world["app"]) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/sites/{SITE}")
        page.wait_for_selector("body[data-ready='1']")
        alert = page.locator(f".alert[data-alert='{spike['id']}']")
        assert alert.get_attribute("data-date") == LOCAL
        head = alert.locator(".alert-head").inner_text()
        assert LOCAL in head and "2024-02-04" not in head, head
        assert f"on {LOCAL}" in alert.locator(".expl").inner_text()
        point = page.locator(f".chart-svg [data-scene='{spike['scene_id']}']")
        assert point.get_attribute("data-date") == LOCAL
        title = point.locator("title").text_content() or ""
        assert title.startswith(f"{LOCAL}: 50 railcars"), title
        assert "2024-02-04 22:30 UTC" in title and "UTC+12 nominal" in title, title
        entry = page.locator(f"button.scene[data-scene='{spike['scene_id']}']")
        assert entry.get_attribute("data-date") == LOCAL
        assert entry.locator(".d").inner_text() == LOCAL
        assert not errors, errors
