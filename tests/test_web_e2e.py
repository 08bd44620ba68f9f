"""End to end: the dashboard in headless Chromium (Debian's, driven by Playwright)
against the app served by uvicorn on 127.0.0.1.

The main database is the built-in Tumangang demo cut to 15 visits around the 2023
rise (rendered and ingested as ``railwatch demo`` does), processed through the API's
job endpoint by the real pipeline with the shipped default detector, then analysed.
The expected counts, detections and alerts are read from the API, never hard-coded:
the detector's output is what it is. A second server holds a generated scene with
5,000 detections (the dashboard must draw them on its canvas renderer).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from helpers import serve_db

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from railwatch.storage import Database  # noqa: E402
from web_db import ALERT_DAY, DEMO_DATES, populate, populate_many, prepare_demo  # noqa: E402

TOKEN = "e2e-token"
#: Screenshots go to a temporary folder; set RAILWATCH_SCREENSHOT_DIR=docs/img to refresh the
#: ones in the docs (a plain test run never changes tracked files).
IMG = Path(
    os.environ.get("RAILWATCH_SCREENSHOT_DIR")
    or Path(tempfile.gettempdir()) / "railwatch-e2e-screenshots"
)
DENSE = 5000

pytestmark = [pytest.mark.slow, pytest.mark.services]


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def _post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.load(r)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo subset, ingested, then processed by a job of the running server."""
    tmp = tmp_path_factory.mktemp("e2e")
    db = Database(f"sqlite:///{tmp / 'e2e.db'}")
    site = prepare_demo(db, tmp / "imagery")
    try:
        # the default detector
        with serve_db(db, tmp / "cache", token=TOKEN, stop_timeout=30) as url:
            status, job = _post(f"{url}/api/sites/{site}/jobs", {})
            snapshots = [job]
            deadline = time.monotonic() + 600
            while job["status"] in ("queued", "running") and time.monotonic() < deadline:
                time.sleep(0.02)
                job = _get(f"{url}/api/jobs/{job['id']}")
                snapshots.append(job)
            if job["status"] != "succeeded":
                pytest.fail(f"the processing job did not succeed: {job}")
            yield {"url": url, "db": db, "site": site, "post_status": status, "jobs": snapshots}
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def dense(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A site whose latest image has 5,000 detections."""
    tmp = tmp_path_factory.mktemp("dense")
    db = Database(f"sqlite:///{tmp / 'dense.db'}")
    ids = populate_many(db, tmp, n_scenes=3, n_dets=DENSE, dense_last=1)
    try:
        with serve_db(db, tmp / "cache") as url:
            yield {"url": url, "scene_ids": ids}
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The hand-made six-image site of the API tests with an alert on the site total and
    one on tanks (on another image), and a site with an event and no image at all."""
    from shapely.geometry import box

    from railwatch.analysis.types import Alert
    from railwatch.sites import SiteSpec
    from railwatch.storage import repo

    tmp = tmp_path_factory.mktemp("small")
    db = Database(f"sqlite:///{tmp / 'small.db'}")
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
                    "spike:tank:2023-09-01", "spike", "medium",
                    datetime(2023, 9, 1, 2, 30, tzinfo=UTC), "tank", 2.0,
                    "2 tanks, a spike", scene_id=scenes[3],
                ),
                Alert(
                    "drop:tank:2023-11-02", "drop", "low",
                    datetime(2023, 11, 2, 2, 30, tzinfo=UTC), "tank", 0.0,
                    "no tank", scene_id=scenes[5],
                ),
            ],
        )  # fmt: skip
        repo.add_site(s, SiteSpec(name="empty", geometry=box(130.6, 42.42, 130.61, 42.43)))
        repo.add_event(s, "empty", date(2024, 3, 1), "New siding opened")
    try:
        with serve_db(db, tmp / "cache") as url:
            yield {"url": url, "site": ids["site"], "scene_ids": scenes}
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def closed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The hand-made site of the API tests on a server whose reads need the token (as
    `railwatch serve --host 0.0.0.0` without --public-reads)."""
    tmp = tmp_path_factory.mktemp("closed")
    db = Database(f"sqlite:///{tmp / 'closed.db'}")
    ids = populate(db, tmp / "img")
    try:
        with serve_db(db, tmp / "cache", token=TOKEN, open_reads=False) as url:
            yield {"url": url, **ids}
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def browser(browser: Any) -> Any:
    """conftest's browser, whose new pages wait up to a minute."""
    return _Patient(browser)


class _Patient:
    """The browser, whose new pages wait up to a minute (CI machines can be busy)."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def new_page(self, **kwargs: Any) -> Any:
        page = self._browser.new_page(**kwargs)
        page.set_default_timeout(60_000)
        return page


def _shot(page: Any, name: str) -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    import io

    from PIL import Image

    path = IMG / f"dashboard_{name}.png"
    shot = Image.open(io.BytesIO(page.screenshot(type="png"))).convert("RGB")
    # 256-colour palette, no dithering: the noisy imagery would make a full-colour PNG ~1 MB
    shot.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        path, optimize=True
    )
    assert path.stat().st_size < 500_000


def _fmt(v: float) -> str:
    """A count as the dashboard writes it (one decimal at most)."""
    r = round(v * 10) / 10
    return str(int(r)) if r == int(r) else str(r)


def _scenes(server: dict[str, Any]) -> list[dict[str, Any]]:
    page = _get(f"{server['url']}/api/sites/{server['site']}/scenes?limit=1000")
    return list(page["items"])


def _day(scenes: list[dict[str, Any]], iso: str) -> dict[str, Any]:
    return next(s for s in scenes if s["acquired_at"][:10] == iso)


def test_job_processed_the_demo_in_the_background(server: dict[str, Any]) -> None:
    jobs = server["jobs"]
    assert server["post_status"] == 202 and jobs[0]["status"] in ("queued", "running")
    final = jobs[-1]
    n = len(DEMO_DATES)
    assert final["status"] == "succeeded", final
    assert final["done"] == final["total"] == n and final["progress"] == 1.0
    assert final["result"]["detector"] == "railwatch-default"
    assert final["result"]["processed"] + final["result"]["unusable"] == n
    assert final["result"]["failed"] == 0 and final["result"]["alerts"] >= 1
    # progress was readable while the job ran, and only ever went forward
    running = [j for j in jobs if j["status"] == "running"]
    assert any(0 < j["done"] < n and j["current"].endswith(".tif") for j in running)
    done = [j["done"] for j in jobs]
    assert done == sorted(done)
    scenes = _scenes(server)
    assert {s["status"] for s in scenes} <= {"processed", "unusable"}
    assert _day(scenes, ALERT_DAY.isoformat())["count"]["total"] > 0


def test_site_list_shows_latest_count_trend_and_alerts(
    server: dict[str, Any], browser: Any
) -> None:
    site = _get(f"{server['url']}/api/sites/{server['site']}")
    summary = site["summary"]
    assert summary["open_alerts"] >= 1
    page = browser.new_page(viewport={"width": 1100, "height": 300})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server["url"] + "/")
    row = page.locator(f'tr.site-row[data-site="{server["site"]}"]')
    row.wait_for(timeout=60_000)
    latest = row.locator(".latest").inner_text()
    assert _fmt(summary["latest_count"]) in latest
    assert {"up": "▲", "down": "▼", "flat": "▶"}[summary["trend"]] in latest
    badges = {b.get_attribute("data-severity"): b.inner_text() for b in row.locator(".badge").all()}
    assert badges == {sev: f"{n} {sev}" for sev, n in summary["open_by_severity"].items() if n}, (
        badges
    )
    assert sum(summary["open_by_severity"].values()) == summary["open_alerts"]
    _shot(page, "sites")
    assert errors == []
    page.close()


def test_step_to_alert_day_see_detections_and_acknowledge(
    server: dict[str, Any], browser: Any
) -> None:
    url, site = server["url"], server["site"]
    scenes = _scenes(server)
    target = _day(scenes, ALERT_DAY.isoformat())
    before = scenes[scenes.index(target) - 1]
    n_target = _get(f"{url}/api/scenes/{target['id']}/detections?limit=1")["numberMatched"]
    n_before = _get(f"{url}/api/scenes/{before['id']}/detections?limit=1")["numberMatched"]
    assert n_target > 0
    # the alert the analysis stored for the site total on 2023-10-05, or the nearest one
    alerts = [a for a in _get(f"{url}/api/sites/{site}/alerts?limit=1000")["items"]]
    totals = [a for a in alerts if a["cls"] == "all"]
    assert totals, alerts
    alert = min(totals, key=lambda a: abs((date.fromisoformat(a["when"][:10]) - ALERT_DAY).days))
    unusable = [s for s in scenes if s["status"] == "unusable"]
    assert unusable  # the subset keeps unusable images

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(url) else None)
    page.goto(f"{url}/sites/{site}")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    # unusable images are marked in the list and in the chart
    assert page.locator("button.scene.unusable").count() == len(unusable)
    assert page.locator(".chart-svg .pt-unusable").count() == len(unusable)
    # pick the image before 2023-10-05 in the list, then step once to the next: 2023-10-05
    page.click(f"button.scene[data-scene='{before['id']}']")
    page.wait_for_function(
        f"document.getElementById('det-count').textContent.includes('{n_before} detections')",
        timeout=60_000,
    )
    page.click("#next")
    assert page.locator("button.scene.active").get_attribute("data-date") == ALERT_DAY.isoformat()
    page.wait_for_function(
        f"document.getElementById('det-count').textContent.includes('{n_target} detections')",
        timeout=60_000,
    )
    assert f"{_fmt(target['count']['total'])} railcars" in page.locator("#scene-info").inner_text()
    assert page.locator("#map canvas.det-canvas").count() == 1  # detections on one canvas
    page.wait_for_selector(f"body[data-tiles='{target['id']}']", timeout=60_000)  # image tiles
    page.wait_for_timeout(400)  # tile fade-in
    box = page.locator(f".alert[data-alert='{alert['id']}']")
    assert box.locator(".expl").inner_text() == alert["explanation"]
    assert box.get_attribute("data-date") == alert["when"][:10]
    if alert["scene_id"] == target["id"]:  # the alert of the image shown is marked
        assert "current" in (box.get_attribute("class") or "")
    # only the site-total alerts are listed until a class is chosen
    assert page.locator(".alert").count() == len(totals)
    box.scroll_into_view_if_needed()
    _shot(page, "site")
    # acknowledging without a token is refused and says why
    box.locator("button.ack").click()
    page.wait_for_function(
        f"document.querySelector(\".alert[data-alert='{alert['id']}'] .ack-msg\")"
        ".textContent.includes('token')",
        timeout=30_000,
    )
    # sign in with the token (header form): the session cookie then carries the write
    page.fill("#token", TOKEN)
    page.click("#signin button[type='submit']")
    page.locator("#auth .signed-in").wait_for(timeout=30_000)
    box.locator(".ack-note").fill("checked the imagery")
    box.locator("button.ack").click()
    acked = page.locator(f".alert.acked[data-alert='{alert['id']}'] .acked-note")
    acked.wait_for(timeout=30_000)
    assert "checked the imagery" in acked.inner_text()
    # clicking a chart point opens that scene (a 3 m image counted by track length)
    coarse = next(s for s in scenes if s["gsd"] >= 3 and s["status"] == "processed")
    page.click(f".chart-svg circle[data-scene='{coarse['id']}']")
    # its line under the map loaded (since ad94696 a length-counted image says it has no
    # car outlines there, not "0 detections": wait for the line itself, not the word)
    page.wait_for_function(
        f"document.querySelector('button.scene.active')?.dataset.scene === '{coarse['id']}'"
        " && !document.getElementById('det-count').textContent.includes('loading')",
        timeout=60_000,
    )
    assert page.locator("button.scene.active").get_attribute("data-scene") == str(coarse["id"])
    assert coarse["count"]["method"] == "length"
    assert errors == [] and external == []
    page.close()
    # the API state changed
    body = _get(f"{url}/api/alerts/{alert['id']}")
    assert body["acknowledged"] is True and body["ack_note"] == "checked the imagery"
    after = _get(f"{url}/api/sites/{site}")["summary"]["open_alerts"]
    assert after == len([a for a in alerts if not a["acknowledged"]]) - 1


def test_dashboard_draws_5000_detections_on_canvas(dense: dict[str, Any], browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{dense['url']}/sites/dense")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    assert f"{DENSE} detections" in page.locator("#det-count").inner_text()
    # one canvas for every polygon, no SVG path or layer object per detection
    assert page.locator("#map canvas.det-canvas").count() == 1
    assert page.locator("#map svg path").count() == 0
    # the canvas really has polygons drawn: find a painted pixel in the visible map
    hit = page.evaluate(
        """() => { const c = document.querySelector('#map canvas.det-canvas');
        const m = document.getElementById('map').getBoundingClientRect();
        const r = c.getBoundingClientRect(), sx = c.width / r.width, sy = c.height / r.height;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let painted = 0, at = null;
        for (let i = 3; i < d.length; i += 4) if (d[i]) painted++;
        // a painted pixel well inside the map (clear of the zoom buttons)
        const x0 = Math.ceil((m.left + 60 - r.left) * sx);
        const x1 = Math.floor((m.right - 20 - r.left) * sx);
        const y0 = Math.ceil((m.top + 20 - r.top) * sy);
        const y1 = Math.floor((m.bottom - 20 - r.top) * sy);
        for (let y = y0; y < y1 && !at; y++) for (let x = x0; x < x1; x++)
          if (d[4 * (y * c.width + x) + 3]) { at = [r.left + x / sx, r.top + y / sy]; break; }
        return { painted, at }; }"""
    )
    assert hit["painted"] > 1000 and hit["at"], hit
    # clicking a drawn detection opens its popup (hit-tested on the canvas)
    page.mouse.click(*hit["at"])
    popup = page.locator(".det-popup")
    popup.wait_for(timeout=30_000)
    assert "score 0.9" in popup.inner_text()
    assert errors == []
    page.close()


def _alert_points(page: Any) -> set[int]:
    return {
        int(str(n.get_attribute("data-scene")))
        for n in page.locator(".chart-svg circle.pt-alert").all()
    }


def test_chart_marks_the_alerts_of_the_chosen_class(small: dict[str, Any], browser: Any) -> None:
    """Choosing tank under the chart listed the tank alerts but marked no point red: the
    chart kept only the site-total alerts of those it was given (the tank ones)."""
    url, site, ids = small["url"], small["site"], small["scene_ids"]
    alerts = _get(f"{url}/api/sites/{site}/alerts")["items"]
    by_cls: dict[str, set[int]] = {}
    for a in alerts:
        by_cls.setdefault(a["cls"], set()).add(a["scene_id"])
    assert by_cls == {"all": {ids[4]}, "tank": {ids[3], ids[5]}}
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/sites/{site}")
    page.wait_for_selector("body[data-ready='1']")
    assert _alert_points(page) == by_cls["all"]
    page.select_option("#cls", "tank")
    page.wait_for_function("document.querySelectorAll('.chart-svg circle.pt-alert').length === 2")
    assert _alert_points(page) == by_cls["tank"]
    assert page.locator(".alert").count() == 2  # the panel lists the same two
    page.select_option("#cls", "boxcar")  # a class without alerts: no red point
    page.wait_for_function("document.querySelectorAll('.chart-svg circle.pt-alert').length === 0")
    assert "No alerts for boxcar" in page.locator("#alerts").inner_text()
    page.select_option("#cls", "all")
    page.wait_for_function("document.querySelectorAll('.chart-svg circle.pt-alert').length === 1")
    assert _alert_points(page) == by_cls["all"]
    assert errors == []
    page.close()


def test_site_without_images_says_so_and_draws_its_events(
    small: dict[str, Any], browser: Any
) -> None:
    """A site with no image stayed on 'Loading…' (select() returned at once) and its
    chart had no event line."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{small['url']}/sites/empty")
    page.wait_for_selector("body[data-ready='1']")
    info = page.locator("#scene-info").inner_text()
    assert "Loading" not in info and "No images of this site yet" in info
    assert "railwatch ingest empty" in info
    assert page.locator(".chart-svg line.event").count() == 1
    assert "New siding opened" in str(page.locator(".chart-svg .event-label").text_content())
    assert "no processed images" in str(page.locator(".chart-svg").text_content())
    assert page.locator("button.scene").count() == 0
    assert errors == []
    page.close()


def test_sign_in_when_reads_need_the_token_then_tiles_and_acknowledge(
    closed: dict[str, Any], browser: Any
) -> None:
    """With reads behind the token the site list said only "Cannot load sites" (no
    token field) and every map tile was a 401 (an <img> sends no Authorization
    header). The page now says that it needs the token and where it comes from, signs
    in once (a session cookie) and then shows the sites, the map tiles and writes."""
    url, site = closed["url"], closed["site"]
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    tiles: list[int] = []
    page.on("response", lambda r: tiles.append(r.status) if "/tiles/" in r.url else None)
    page.goto(url + "/")
    needed = page.locator("#signin-needed")
    needed.wait_for(timeout=60_000)
    text = needed.inner_text()
    assert "RAILWATCH_API_TOKEN" in text and "railwatch serve" in text, text
    assert page.locator("tr.site-row").count() == 0
    page.fill("#token", "not-the-token")
    page.click("#signin button[type='submit']")
    page.wait_for_function("document.getElementById('signin-msg').textContent.includes('wrong')")
    page.fill("#token", TOKEN)
    page.click("#signin button[type='submit']")
    page.locator(f'tr.site-row[data-site="{site}"]').wait_for(timeout=60_000)  # reloaded
    assert page.locator("#auth .signed-in").count() == 1
    (cookie,) = [c for c in page.context.cookies() if c["name"].startswith("railwatch_session")]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
    assert cookie["value"] != TOKEN and "railwatch_session" not in page.evaluate("document.cookie")

    # the site page: its map tiles are loaded with the cookie
    page.goto(f"{url}/sites/{site}")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    page.wait_for_selector("body[data-tiles]", timeout=60_000)
    drawn = page.evaluate(
        "[...document.querySelectorAll('#map img.leaflet-tile-loaded')]"
        ".filter((i) => i.complete && i.naturalWidth === 256).length"
    )
    assert drawn >= 1 and 200 in tiles and 401 not in tiles, (drawn, tiles)
    # a write from the page, carried by the cookie (Origin checked by the server)
    box = page.locator(f".alert[data-alert='{closed['alert_id']}']")
    box.locator(".ack-note").fill("seen after signing in")
    box.locator("button.ack").click()
    page.locator(f".alert.acked[data-alert='{closed['alert_id']}']").wait_for(timeout=30_000)
    assert all(TOKEN not in u for u in urls)  # the token never went into a URL

    # sign out: the server forgets the session, the page asks for the token again
    page.click("#signout")
    page.locator("#signin-needed").wait_for(timeout=30_000)
    assert page.evaluate("fetch('/api/sites').then((r) => r.status)") == 401
    assert errors == []
    page.close()


@pytest.fixture(scope="module")
def coarse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A site with 0.5 m counts, a 3 m estimate and two 10 m presence images (the newest
    with a long train): no image files, counts only."""
    from datetime import timedelta

    from railwatch.sites import SiteSpec
    from railwatch.storage import repo
    from report_db import SITE_UTM, FakeCount, add_counted_scene, to_wgs84

    tmp = tmp_path_factory.mktemp("coarse")
    db = Database(f"sqlite:///{tmp / 'coarse.db'}")
    t0 = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)
    plan = (
        (1, 0.5, FakeCount(10.0, 9.0, 12.0, {"railcar": (10, 9, 12)}, 0)),
        (2, 10.0, FakeCount(0.0, 0.0, 0.0, {}, 0, method="presence")),
        (3, 3.0, FakeCount(20.0, 15.0, 30.0, {}, 0, method="length")),
        (4, 0.5, FakeCount(12.0, 11.0, 14.0, {"railcar": (12, 11, 14)}, 0)),
        (5, 10.0, FakeCount(1.0, 1.0, 1.0, {}, 0, method="presence")),
    )
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="coarse", geometry=to_wgs84(SITE_UTM)))
        ids = [add_counted_scene(s, site, t0 + timedelta(days=d), gsd, c, d) for d, gsd, c in plan]
    try:
        with serve_db(db, tmp / "cache") as url:
            yield {"url": url, "site": "coarse", "scene_ids": ids}
    finally:
        db.dispose()


def test_presence_images_are_markers_under_the_chart_never_counts(
    coarse: dict[str, Any], browser: Any
) -> None:
    """A 10 m image (whether a long train is present, stored as 1 or 0) was drawn as a
    point at 0 or 1 railcars on the count line, listed as '0 cars'/'1 cars', and was the
    site list's latest count (1)."""
    url, site, ids = coarse["url"], coarse["site"], coarse["scene_ids"]
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/")
    row = page.locator(f'tr.site-row[data-site="{site}"]')
    row.wait_for(timeout=60_000)
    latest = row.locator(".latest").inner_text()
    assert latest.startswith("12") and "▲" in latest  # 12 against 10, both at 0.5 m
    assert "2024-07-06: long train present" in row.locator(".presence").inner_text()
    page.goto(f"{url}/sites/{site}")
    page.wait_for_selector("body[data-ready='1']")
    chart = ".chart-svg"
    circles = {
        int(str(n.get_attribute("data-scene"))) for n in page.locator(f"{chart} circle.pt").all()
    }
    assert circles == {ids[0], ids[2], ids[3]}  # the counts only
    polyline = str(page.locator(f"{chart} polyline.series").get_attribute("points"))
    assert len(polyline.split()) == 3
    markers = {
        int(str(n.get_attribute("data-scene"))): (
            n.evaluate("e => e.firstChild.nodeValue"),
            "pt-train" in str(n.get_attribute("class")),
        )
        for n in page.locator(f"{chart} .pt-presence").all()
    }
    assert markers == {ids[1]: ("○", False), ids[4]: ("▲", True)}
    # the markers sit in their own row under the axis, below every count
    lane = {float(str(n.get_attribute("y"))) for n in page.locator(f"{chart} .pt-presence").all()}
    dots = page.locator(f"{chart} circle.pt").all()
    lowest = max(float(str(n.get_attribute("cy"))) for n in dots)
    assert len(lane) == 1 and lane.pop() > lowest + 10
    labels = {
        int(str(b.get_attribute("data-scene"))): b.locator(".c").inner_text()
        for b in page.locator("button.scene").all()
    }
    assert labels[ids[1]] == "no long train" and labels[ids[4]] == "long train"
    assert labels[ids[0]] == "10 cars"
    # the newest image (10 m, a long train) is shown first; a marker opens its image
    assert "long train present" in page.locator("#scene-info").inner_text()
    assert "railcars" not in page.locator("#scene-info").inner_text()
    page.locator(f'{chart} .pt-presence[data-scene="{ids[1]}"]').click()
    page.wait_for_function(
        f"document.querySelector('button.scene.active')?.dataset.scene === '{ids[1]}'"
    )
    assert "no long train" in page.locator("#scene-info").inner_text()
    assert errors == []
    page.close()
