"""The dashboard walked as an analyst briefing a decision maker (2026-12-07, session 50:
the demo's Tumangang site in Chromium at 1366×900 and 390×844, keyboard only, offline,
an empty site with a Korean and Cyrillic name, the downloads).

What it found, each fixed in the static files and checked here:

* on a 390 px phone the site page was 485 px wide: the chart's key kept its silence
  item ("▼ silence (no count for too long: ...)", 460 px) on one line, and the one
  column of the narrow grid took that width, so the map, the line under it and the
  review form's buttons ran past the screen's right edge;
* the image list was one Tab stop per image: 223 Tab presses past the demo's images
  to reach the alerts and their *Acknowledge* from the keyboard;
* the pages offered no download of the counts the chart shows (only an image's cars),
  nor any report of the site, to make or to read;
* the chart drew no record (nothing on the page showed the five years' record the 2023
  counts were judged against) and scaled its axis to the intervals' tops (to 391 in
  steps of 55 for counts of at most 230: five years under 20 cars flat on its zero line);
* the alerts panel listed the newest first: the demo's opened on an info record, its
  2023 high records nine info alerts further down;
* a site's reports listed those of every database with a site of its name (the
  report folder is the cache's, which the servers of other databases share);
* an event (the summit) could be added with the API or the CLI only, and the alerts
  name it only once the site is analysed again, which the page could not ask for.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import serve_db

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from railwatch.analysis.types import Alert
from railwatch.storage import Database, repo
from web_db import populate

pytestmark = [pytest.mark.slow, pytest.mark.services]

TOKEN = "walk-dash-s50"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The six-image site of the API tests (one unusable image, an event, a high record
    on 2023-10-05) with a silence after its last image (a quality alert: the chart's key
    names it), served with a token."""
    tmp = tmp_path_factory.mktemp("walk-dash-s50")
    db = Database(f"sqlite:///{tmp / 'dash.db'}")
    ids = populate(db, tmp / "img")
    scenes = ids["scene_ids"]
    with db.session() as s:
        repo.replace_alerts(
            s,
            ids["site"],
            [
                Alert(
                    "record:all:2023-10-05", "record", "high",
                    datetime(2023, 10, 5, 2, 30, tzinfo=UTC), "all", 18.0,
                    "18 railcars, 2.6x the record", scene_id=scenes[4],
                ),
                Alert(
                    "quality:all:2023-12-20", "quality", "medium",
                    datetime(2023, 12, 20, tzinfo=UTC), "all", None,
                    "No usable image of this site since 2023-11-02",
                ),
            ],
        )  # fmt: skip
    try:
        with serve_db(db, tmp / "cache", token=TOKEN) as url:
            yield {**ids, "url": url}
    finally:
        db.dispose()


def _site(browser: Any, world: dict[str, Any], width: int = 1366, height: int = 900) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{world['url']}/sites/{world['site']}")
    page.wait_for_selector("body[data-ready='1']")
    page.errors = errors
    return page


def test_a_phone_shows_the_site_page_without_sideways_scrolling(
    browser: Any, world: dict[str, Any]
) -> None:
    page = _site(browser, world, 390, 844)
    try:
        assert page.locator("#chart .chart-key .key-silence").count() == 1
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the site page is {width} px wide on a 390 px phone"
        # the review form's last button is on the screen
        box = page.locator("#review-declare").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, box
        assert page.errors == []
    finally:
        page.close()


def test_the_image_list_is_one_tab_stop_and_arrows_step_it(
    browser: Any, world: dict[str, Any]
) -> None:
    page = _site(browser, world)
    try:
        scenes = world["scene_ids"]
        active = page.locator("#scenes button.scene.active")
        assert active.get_attribute("data-scene") == str(scenes[-1])
        # one entry of the list takes Tab: the one shown
        stops = page.evaluate(
            "[...document.querySelectorAll('#scenes button.scene')]"
            ".filter((b) => b.tabIndex >= 0).map((b) => b.dataset.scene)"
        )
        assert stops == [str(scenes[-1])], stops
        active.focus()
        page.keyboard.press("ArrowUp")
        page.wait_for_function(f"location.hash === '#{scenes[-2]}'")
        focused = page.evaluate("document.activeElement.dataset.scene")
        assert focused == str(scenes[-2])
        page.keyboard.press("Home")
        page.wait_for_function(f"location.hash === '#{scenes[0]}'")
        # Tab leaves the list at once (it went through every image first)
        page.keyboard.press("Tab")
        after = page.evaluate(
            "document.activeElement.closest('#scenes') ? 'list' : document.activeElement.id"
        )
        assert after != "list", after
        assert page.errors == []
    finally:
        page.close()


def test_the_counts_shown_download_as_csv_that_agree_with_the_chart(
    browser: Any, world: dict[str, Any]
) -> None:
    page = _site(browser, world)
    try:
        link = page.locator("#counts-csv")
        href = link.get_attribute("href")
        assert href == f"/api/sites/{world['site']}/counts?class=all&format=csv", href
        r = httpx.get(world["url"] + href)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        points = page.evaluate(
            "[...document.querySelectorAll('#chart svg .pt')]"
            ".map((p) => [p.dataset.scene, p.classList.contains('pt-unusable')])"
        )
        assert sorted(int(s) for s, _ in points) == sorted(int(r["scene_id"]) for r in rows)
        unusable = {int(s) for s, u in points if u}
        # an unusable image is an empty count in the file, never 0, as on the chart
        assert unusable == {int(r["scene_id"]) for r in rows if r["usable"] == "false"}
        assert all(r["count"] == "" for r in rows if int(r["scene_id"]) in unusable)
        # the link follows the class chosen under the chart
        page.select_option("#cls", "tank")
        page.wait_for_function(
            "document.getElementById('counts-csv').getAttribute('href').includes('class=tank')"
        )
        assert page.errors == []
    finally:
        page.close()


def test_the_alerts_panel_lists_the_most_severe_first(browser: Any, world: dict[str, Any]) -> None:
    page = _site(browser, world)
    try:
        # newest first, the medium silence of 2023-12-20 came before the high record
        order = page.evaluate(
            "[...document.querySelectorAll('#alerts .alert')].map((a) => a.dataset.date)"
        )
        assert order[:2] == ["2023-10-05", "2023-12-20"], order
        said = page.locator("#alerts-open .open-shown").inner_text()
        assert "most severe first" in said, said
        assert page.errors == []
    finally:
        page.close()


def test_the_chart_draws_the_record_the_alerts_compare_with(
    browser: Any, world: dict[str, Any]
) -> None:
    track = httpx.get(f"{world['url']}/api/sites/{world['site']}/baseline").json()
    assert track["class"] == "all" and track["method"] == "objects", track
    records = [b["record"] for b in track["items"] if b["record"] is not None]
    assert records, track
    page = _site(browser, world)
    try:
        drawn = page.evaluate(
            """() => {
              const svg = document.querySelector("#chart svg");
              const path = svg.querySelector("path.record");
              const ticks = [...svg.querySelectorAll("text.tick")]
                .filter((t) => /^\\d+$/.test(t.textContent)
                  && t.getAttribute("text-anchor") === "end"
                  && !t.classList.contains("lane-label"))
                .map((t) => [Number(t.textContent), Number(t.getAttribute("y")) - 4]);
              return { d: path && path.getAttribute("d"), ticks };
            }"""
        )
        assert drawn["d"], "no record line on the chart"
        # the last step stands at the API's last record, read on the axis's ticks
        (v0, y0), (v1, y1) = drawn["ticks"][0], drawn["ticks"][1]
        last_y = float(drawn["d"].split()[-1].split(",")[1])
        assert abs(v0 + (last_y - y0) / (y1 - y0) * (v1 - v0) - records[-1]) < 0.2
        # the axis: steps of 1, 2 or 5 x 10^k, scaled to the counts (18 at most)
        values = [v for v, _ in drawn["ticks"]]
        step = values[1] - values[0]
        assert str(step).strip("0") in {"1", "2", "5"}, values
        assert max(values) <= 18 * 1.12, values
        key = page.locator("#chart .chart-key").inner_text()
        assert "trailing record (5 years) of the cars counted one by one" in key, key
        # a single class's chart has no record of its own: none drawn
        page.select_option("#cls", "tank")
        page.wait_for_function("!document.querySelector('#chart path.record')")
        assert page.errors == []
    finally:
        page.close()


def test_a_report_is_made_and_downloaded_from_the_page(browser: Any, world: dict[str, Any]) -> None:
    page = _site(browser, world)
    try:
        page.wait_for_selector("#reports .reports-none")
        page.fill("#token", TOKEN)
        page.click("#signin button[type=submit]")
        page.wait_for_selector("#signout")
        page.click("#report-make")
        link = page.wait_for_selector("#reports a.report-html")
        href = link.get_attribute("href") or ""
        assert href.startswith("/api/reports/") and href.endswith("/html"), href
        assert "Made the report" in page.locator("#report-msg").inner_text()
        r = httpx.get(world["url"] + href)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "attachment" in r.headers["content-disposition"]
        assert world["site"] in r.text
        assert page.errors == []
    finally:
        page.close()


# last: it analyses the site again, which replaces the alerts the tests above read
def test_an_event_is_added_from_the_page_and_drawn(browser: Any, world: dict[str, Any]) -> None:
    page = _site(browser, world)
    try:
        page.fill("#token", TOKEN)
        page.click("#signin button[type=submit]")
        page.wait_for_selector("#signout")
        page.fill("#event-date", "2023-10-01")
        page.fill("#event-label", "Tarpaulins reported")
        page.click("#event-add")
        page.wait_for_selector("#chart line.event[data-date='2023-10-01']", state="attached")
        said = page.locator("#event-msg").inner_text()
        assert "Tarpaulins reported" in said and "analyse" in said.lower(), said
        events = httpx.get(f"{world['url']}/api/sites/{world['site']}/events").json()
        assert ("2023-10-01", "Tarpaulins reported") in [
            (e["date"], e["label"]) for e in events["items"]
        ]
        # the alerts name it once the site is analysed again: the page asks for that
        page.click("#event-analyze")
        page.wait_for_function(
            "document.getElementById('event-msg').textContent.includes('nalysed')"
        )
        assert page.errors == []
    finally:
        page.close()


def test_a_site_lists_the_reports_of_its_own_database_only(tmp_path: Path) -> None:
    """Two servers of two databases, each with a site of one name, share the cache's
    report folder: a report made on one was listed on the other (the demo's page listed
    other demo databases' reports of "tumangang")."""
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.sites import SiteSpec
    from railwatch.web.app import create_app
    from report_db import SITE_UTM, to_wgs84

    shared = tmp_path / "reports"
    first = Database(f"sqlite:///{tmp_path / 'a.db'}")
    other = Database(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        site = populate(first, tmp_path / "img")["site"]
        with other.session() as s:
            repo.add_site(s, SiteSpec(name=site, geometry=to_wgs84(SITE_UTM)))
        clients = [
            TestClient(
                create_app(
                    Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "c"),
                    db,
                    report_dir=shared,
                )
            )
            for db in (first, other)
        ]
        made = clients[0].post(
            f"/api/sites/{site}/reports", json={}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert made.status_code == 201, made.text
        assert "database" not in made.json()
        listed = [c.get("/api/reports", params={"site": site}).json() for c in clients]
        assert [r["id"] for r in listed[0]["items"]] == [made.json()["id"]]
        assert listed[1]["items"] == [] and listed[1]["total"] == 0
        one = clients[0].get(f"/api/reports/{made.json()['id']}").json()
        assert "database" not in one and one["links"]["html"].endswith("/html")
    finally:
        first.dispose()
        other.dispose()
