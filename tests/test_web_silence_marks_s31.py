"""The dashboard's chart marks a silence (session 31).

A silence (a ``quality`` alert) rests on no image, and the site page's chart (chart.js)
marked alerts on their images' points only: an analyst saw a gap in the counts with no
sign that railwatch had flagged it, where the report's chart draws a ▼ at the top of the
plot at noon of the silence's day at the site. Now the dashboard draws the same mark,
with the day and explanation as its tooltip; it takes the keyboard focus, and a click or
Enter outlines the alert in the alerts panel.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from counted_site import LATE, add_counted_site, steady_then_rise
from counted_site import WELLINGTON as GEOM
from railwatch.storage import Database

SITE = "wellington"
CHART_JS = Path(__file__).resolve().parents[1] / "src" / "railwatch" / "web" / "static" / "js"


def _point(when: str, day: str, scene_id: int, count: float) -> dict[str, Any]:
    return {
        "when": when, "day": day, "count": count, "low": count - 1, "high": count + 1,
        "usable": True, "scene_id": scene_id, "long_train_present": None,
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.services
def test_chart_marks_a_silence_at_noon_of_its_day() -> None:
    """A silence of 2024-02-05 at a UTC-5 site is a ▼ at noon there (17:00 UTC), where
    the event of that day is drawn; its tooltip gives its day and explanation, an
    info-only one is grey; a spike (on an image) gets no such mark; the mark takes the
    focus and Enter, Space or a click hand its alert to ``onAlert``. (A silence's
    ``when`` is local midnight of its day in UTC since session 32: 05:00 here.)"""
    from helpers import chromium

    points = [
        _point("2024-01-25T00:00:00+00:00", "2024-01-24", 1, 10),
        _point("2024-02-14T00:00:00+00:00", "2024-02-13", 2, 12),
    ]
    silence = {
        "id": 7, "kind": "quality", "severity": "medium", "cls": "all", "scene_id": None,
        "when": "2024-02-05T05:00:00+00:00", "day": "2024-02-05", "value": None,
        "explanation": "No usable image of this site since 2024-01-24: 12 days on 2024-02-05",
    }  # fmt: skip
    info = {**silence, "id": 8, "severity": "info", "day": "2024-02-09",
            "when": "2024-02-09T05:00:00+00:00", "explanation": "A short silence"}  # fmt: skip
    spike = {**silence, "id": 9, "kind": "spike", "severity": "high", "scene_id": 2,
             "when": "2024-02-14T00:00:00+00:00", "day": "2024-02-13", "value": 12}  # fmt: skip
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 800, "height": 400})
        page.set_content("<html><body><div id='c' style='width:640px'></div></body></html>")
        page.add_script_tag(path=str(CHART_JS / "chart.js"))
        drawn = page.evaluate(
            """([points, alerts]) => {
              const host = document.getElementById("c");
              window.picked = [];
              RWChart.draw(host, points, {
                events: [{date: "2024-02-05", label: "Flood"}], alerts, zone: "UTC-5",
                onAlert: (a) => window.picked.push(a.id),
              });
              const xs = [...host.querySelectorAll("circle.pt")].map((c) => +c.getAttribute("cx"));
              const marks = [...host.querySelectorAll(".silence")].map((n) => {
                const b = n.getBBox();
                return {x: (b.x + b.width / 2 - xs[0]) / (xs[1] - xs[0]),
                        cls: n.getAttribute("class"), alert: n.dataset.alert,
                        date: n.dataset.date, tab: n.getAttribute("tabindex"),
                        title: n.querySelector("title").textContent,
                        label: n.getAttribute("aria-label")};
              });
              const ev = +host.querySelector("line.event").getAttribute("x1");
              return {marks, event: (ev - xs[0]) / (xs[1] - xs[0])};
            }""",
            [points, [silence, info, spike]],
        )
        marks = {m["alert"]: m for m in drawn["marks"]}
        assert set(marks) == {"7", "8"}, drawn  # the spike is on its image's point
        # 2024-01-25 00:00 UTC to 2024-02-14 00:00 UTC: 20 days; 2024-02-05 17:00 UTC
        assert marks["7"]["x"] == pytest.approx((11 + 17 / 24) / 20, abs=1e-6)
        assert drawn["event"] == pytest.approx(marks["7"]["x"], abs=1e-6)
        assert marks["8"]["x"] == pytest.approx((15 + 17 / 24) / 20, abs=1e-6)
        first = marks["7"]
        # one tab stop for the chart, its first mark's (session 32: each silence was one)
        assert first["date"] == "2024-02-05" and first["tab"] == "-1"
        assert first["title"].startswith("2024-02-05 at the site (UTC-5 nominal): silence, medium")
        assert silence["explanation"] in first["title"] and first["label"] == first["title"]
        assert "silence-info" in marks["8"]["cls"] and "silence-info" not in first["cls"]
        # keyboard: Tab reaches the chart (its first point), the arrows the silence (after
        # the event of its day), Enter and Space pick it; so does a click
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.dataset.scene") == "1"
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert page.evaluate("document.activeElement.dataset.alert") == "7"
        page.keyboard.press("Enter")
        page.keyboard.press("Space")
        page.locator(".silence[data-alert='8']").click()
        assert page.evaluate("window.picked") == [7, 7, 8]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A UTC+12 site whose images stop at :data:`LATE` (2024-02-05 at the site), analysed
    as of 120 days later: a medium silence dated 2024-03-21 at the site."""
    pytest.importorskip("fastapi")
    from railwatch.analysis.store import analyze_site
    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    tmp = tmp_path_factory.mktemp("silence-marks")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    try:
        add_counted_site(db, SITE, GEOM, steady_then_rise())
        with db.session() as s:
            analyze_site(s, SITE, as_of=LATE + timedelta(days=120))
        yield {"app": create_app(Settings(db=db.url, cache_dir=tmp / "cache"), db), "db": db}
    finally:
        db.dispose()


@pytest.mark.slow
@pytest.mark.services
def test_site_page_marks_the_stored_silence(world: dict[str, Any]) -> None:
    """The site page's chart has a mark for the stored silence at its day, with its
    explanation; Enter on it outlines the silence in the alerts panel."""
    pytest.importorskip("uvicorn")
    from fastapi.testclient import TestClient

    from helpers import chromium, live_server

    with TestClient(world["app"]) as client:
        alerts = client.get(f"/api/sites/{SITE}/alerts?limit=1000").json()["items"]
    (silence,) = [a for a in alerts if a["kind"] == "quality"]
    assert silence["day"] == "2024-03-21"
    with live_server(world["app"]) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/sites/{SITE}")
        page.wait_for_selector("body[data-ready='1']")
        mark = page.locator(".chart-svg .silence")
        assert mark.count() == 1
        assert mark.get_attribute("data-alert") == str(silence["id"])
        assert mark.get_attribute("data-date") == "2024-03-21"
        title = mark.locator("title").text_content() or ""
        assert title.startswith("2024-03-21 at the site (UTC+12 nominal): silence, medium"), title
        assert silence["explanation"] in title
        # on the time axis: after the last image's point
        last = page.locator(".chart-svg circle.pt").last
        box, last_box = mark.bounding_box(), last.bounding_box()
        assert box is not None and last_box is not None and box["x"] > last_box["x"]
        panel = page.locator(f".alert[data-alert='{silence['id']}']")
        assert "current" not in (panel.get_attribute("class") or "")
        mark.focus()
        page.keyboard.press("Enter")
        assert "current" in (panel.get_attribute("class") or "")
        assert not errors, errors
