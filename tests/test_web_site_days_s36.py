"""The dashboard gives the analyst's own times as days at the site, as every other day
on it (2026-12-06, session 36).

An alert's day, an image's day, the chart's ticks and the site list's days are the
site's local days (its nominal zone; session 31); the day an alert was acknowledged,
the day it changed since, and the day an image's count was reviewed were the first ten
characters of the UTC time. At a UTC+12 site an alert of 2024-02-05 acknowledged at
23:30 UTC that evening (10:30 on the 5th at the site, a morning's check) read
"Acknowledged 2024-02-04": acknowledged the day before the day it names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from railwatch.storage import Database
from railwatch.storage.models import Alert, SceneReview

SITE = "wellington"
TOKEN = "site-days-s36"
#: 23:30 UTC on 2024-02-04 is 11:30 on 2024-02-05 at 175°E (UTC+12)
EVENING_UTC = datetime(2024, 2, 4, 23, 30, tzinfo=UTC)
UTC_DAY, SITE_DAY = "2024-02-04", "2024-02-05"

pytestmark = [pytest.mark.slow, pytest.mark.services]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The UTC+12 site of 121 images and its alerts; two alerts of its last image
    acknowledged at :data:`EVENING_UTC` (one changed since, 15 minutes later), and the
    last image reviewed then."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    import httpx

    from helpers import add_analysed_wellington, serve_db

    tmp = tmp_path_factory.mktemp("site-days")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    try:
        add_analysed_wellington(db, SITE, analysed_after=timedelta(days=120))
        with serve_db(db, tmp / "cache", token=TOKEN) as url:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            alerts = httpx.get(f"{url}/api/sites/{SITE}/alerts", params={"limit": 1000}).json()
            last = max(a["scene_id"] or 0 for a in alerts["items"])
            mine = [a for a in alerts["items"] if a["scene_id"] == last][:2]
            assert len(mine) == 2, alerts
            for a in mine:
                r = httpx.post(
                    f"{url}/api/alerts/{a['id']}/acknowledge", json={"note": "seen"}, headers=auth
                )
                assert r.status_code == 200, r.text
            r = httpx.put(
                f"{url}/api/scenes/{last}/review", json={"counts": {"all": 50}}, headers=auth
            )
            assert r.status_code == 201, r.text
            with db.session() as s:
                for a in mine:
                    row = s.get(Alert, a["id"])
                    assert row is not None
                    row.ack_at = EVENING_UTC
                changed = s.get(Alert, mine[1]["id"])
                assert changed is not None
                changed.metrics = {
                    **changed.metrics,
                    "changed_since_ack": {
                        "severity": "low",
                        "value": 40.0,
                        "explanation": "40 railcars",
                        "scene_id": last,
                        "changed_at": (EVENING_UTC + timedelta(minutes=15)).isoformat(),
                    },
                }
                review = s.query(SceneReview).filter_by(scene_id=last).one()
                review.reviewed_at = EVENING_UTC
            yield {"url": url, "alerts": [a["id"] for a in mine], "scene": last}
    finally:
        db.dispose()


def test_acknowledged_changed_and_reviewed_days_are_days_at_the_site(
    world: dict[str, Any], browser: Any
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{world['url']}/sites/{SITE}#{world['scene']}")
    page.wait_for_selector("body[data-ready='1']")
    first, second = world["alerts"]
    for alert_id in (first, second):
        box = page.locator(f".alert[data-alert='{alert_id}']")
        box.wait_for()
        # the alert's own day, and the day it was acknowledged, both at the site
        assert box.locator(".alert-day").inner_text() == SITE_DAY
        note = box.locator(".acked-note")
        assert note.inner_text() == f"Acknowledged {SITE_DAY}: seen", note.inner_text()
        title = note.locator(".ack-day").get_attribute("title") or ""
        assert f"{UTC_DAY} 23:30 UTC" in title and f"{SITE_DAY} at the site" in title, title
        assert "UTC+12 nominal" in title, title
    changed = page.locator(f".alert[data-alert='{second}'] .changed-since")
    title = changed.get_attribute("title") or ""
    assert title.startswith(f"changed on {SITE_DAY} (at the site)"), title
    state = page.locator(".review-state")
    assert (state.text_content() or "").startswith(f"Reviewed {SITE_DAY}: "), state.text_content()
    title = state.locator(".review-day").get_attribute("title") or ""
    assert f"reviewed {UTC_DAY} 23:30 UTC ({SITE_DAY} at the site, UTC+12 nominal)" == title
    # the new titles are tab stops, as every title on the page (session 32)
    for sel in (".ack-day", ".review-day"):
        assert page.locator(sel).first.get_attribute("tabindex") == "0"
    assert errors == []
    page.close()


def test_site_day_of_a_utc_time_in_every_kind_of_zone(browser: Any) -> None:
    """``RW.siteDay``: whole and half-hour zones either side of UTC, an unknown zone
    (an older server: the UTC day), and no time at all."""
    from pathlib import Path

    js = Path(__file__).resolve().parents[1] / "src" / "railwatch" / "web" / "static" / "js"
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(path=str(js / "common.js"))
    got = page.evaluate(
        """() => [
          RW.siteDay("2024-02-04T23:30:00+00:00", "UTC+12"),
          RW.siteDay("2024-02-04T11:59:00+00:00", "UTC+12"),
          RW.siteDay("2024-02-04T12:00:00+00:00", "UTC+12"),
          RW.siteDay("2024-02-04T09:00:00+00:00", "UTC-10"),
          RW.siteDay("2024-02-04T18:29:00+00:00", "UTC+5:30"),
          RW.siteDay("2024-02-04T18:30:00+00:00", "UTC+5:30"),
          RW.siteDay("2024-02-04T23:30:00+00:00", "UTC"),
          RW.siteDay("2024-02-04T23:30:00+00:00", null),
          RW.siteDay(null, "UTC+12"),
        ]"""
    )
    assert got == [
        "2024-02-05",
        "2024-02-04",
        "2024-02-05",
        "2024-02-03",
        "2024-02-04",
        "2024-02-05",
        "2024-02-04",
        "2024-02-04",
        "–",
    ]
    page.close()
