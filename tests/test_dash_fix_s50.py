"""The review of the dashboard's session-50 work (720dac16), each finding fixed and
checked here (2026-12-07, session 50):

* ``GET /api/sites/{site}/baseline`` filled the report's caches (each call left about
  35 MiB held at 10,000 images, up to 16 calls' worth) and computed inside its read
  session; it had no ``ETag``, and took 2-3 s at 10,000 images;
* the chart waited for it before drawing, and it was asked for again after every
  review, removal and analysis, a class's chart shown or not;
* a report's database mark hashed the URL's text: ``sqlite:///railwatch.db`` from two
  folders was one database, one file by relative and absolute path two;
* a stray ``loadReports()`` in the event form reset a report being made;
* a report's download links were its ``report.json``'s, in a folder servers share:
  ``"javascript:..."`` there was the href of the page's download;
* the alerts panel put an acknowledged high above an open medium.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from railwatch.storage import Database
from test_walk_dash_s50 import TOKEN, _site, world
from web_db import populate

__all__ = ["world"]  # the walk's module-scoped served site, one of this module's own

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[Any, str, Database]]:
    """A test client of the API tests' six-image site, with a token."""
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        ids = populate(db, tmp_path / "img")
        app = create_app(
            Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache"), db
        )
        yield TestClient(app), ids["site"], db
    finally:
        db.dispose()


# ------------------------------------------------------------------ the baseline's API


def test_the_baseline_fills_no_cache_and_is_computed_after_its_read(
    client: tuple[Any, str, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    import railwatch.report.data as data
    import railwatch.web.routes.counts as counts

    c, site, _ = client
    monkeypatch.setattr(data, "_RECENT", ())
    data._traces.cache_clear()
    data._parts.cache_clear()
    open_reads: list[int] = []
    seen: list[int] = []
    real_read, real_track = counts.read_session, data.baseline_track

    @contextmanager
    def read(db: Any) -> Iterator[Any]:
        with real_read(db) as s:
            open_reads.append(1)
            try:
                yield s
            finally:
                open_reads.pop()

    def track(*args: Any, **kwargs: Any) -> Any:
        seen.append(len(open_reads))
        return real_track(*args, **kwargs)

    monkeypatch.setattr(counts, "read_session", read)
    monkeypatch.setattr(data, "baseline_track", track)
    for _ in range(2):
        r = c.get(f"/api/sites/{site}/baseline")
        assert r.status_code == 200, r.text
        assert [b["record"] for b in r.json()["items"] if b["record"] is not None]
    assert seen == [0, 0], "the track was computed inside the read session"
    assert data._RECENT == ()
    assert data._traces.cache_info().currsize == 0
    assert data._parts.cache_info().currsize == 0


def test_the_baseline_has_an_etag_that_a_review_changes(
    client: tuple[Any, str, Database],
) -> None:
    c, site, _ = client
    url = f"/api/sites/{site}/baseline"
    first = c.get(url)
    etag = first.headers.get("etag")
    assert first.status_code == 200 and etag, first.headers
    assert first.headers["cache-control"] == "private, no-cache"
    again = c.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    # an analyst's count changes the track: a new ETag, the whole answer
    scene = max(
        (
            s
            for s in c.get(f"/api/sites/{site}/scenes").json()["items"]
            if s["status"] == "processed"
        ),
        key=lambda s: s["acquired_at"],
    )
    put = c.put(f"/api/scenes/{scene['id']}/review", json={"counts": {"all": 90}}, headers=AUTH)
    assert put.status_code in (200, 201), put.text
    after = c.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert after.json()["items"]
    # the OpenAPI document declares the 304 and the ETag
    answers = c.get("/openapi.json").json()["paths"]["/api/sites/{site}/baseline"]["get"]
    assert "304" in answers["responses"] and "ETag" in answers["responses"]["200"]["headers"]


# ------------------------------------------------------------------ reports


def _fake_db(url: str) -> Any:
    from sqlalchemy.engine import make_url

    return SimpleNamespace(
        url=url, safe_url=make_url(url).render_as_string(hide_password=True), engine=object()
    )


def test_a_reports_database_mark_names_the_file_not_the_urls_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.web.routes.reports import _database_mark

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    in_a = _database_mark(_fake_db("sqlite:///railwatch.db"))
    assert in_a == _database_mark(_fake_db(f"sqlite:///{tmp_path / 'a' / 'railwatch.db'}"))
    (tmp_path / "link.db").symlink_to(tmp_path / "a" / "railwatch.db")
    assert in_a == _database_mark(_fake_db(f"sqlite:///{tmp_path / 'link.db'}"))
    monkeypatch.chdir(tmp_path / "b")
    assert in_a != _database_mark(_fake_db("sqlite:///railwatch.db"))
    # another database: its URL without the password, the driver or the host's case
    pg = _database_mark(_fake_db("postgresql+psycopg://rw:one@DB.example:5432/railwatch"))
    assert pg == _database_mark(_fake_db("postgresql://rw:two@db.example:5432/railwatch"))
    assert pg != _database_mark(_fake_db("postgresql://rw:one@db.example:5432/other"))


def _write_report(root: Path, report_id: str, **meta: Any) -> None:
    folder = root / report_id
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html>report</html>", encoding="utf-8")
    (folder / "report.json").write_text(json.dumps({"id": report_id, **meta}), encoding="utf-8")


HOSTILE = "d" * 32


def test_a_reports_links_are_the_apis_own_whatever_its_file_says(
    client: tuple[Any, str, Database],
) -> None:
    from railwatch.web.routes.reports import _legacy_mark

    c, site, db = client
    root = c.app.state.report_dir
    _write_report(
        root,
        HOSTILE,
        site=site,
        created_at="2026-12-07T10:00:00+00:00",
        formats=["html", 'pdf"><img src=x onerror=alert(1)>'],
        links={"html": "javascript:alert(document.cookie)", "pdf": "https://elsewhere/x"},
    )
    # a report of the first mark (the URL's text) is this database's still; one of
    # another database's is not listed
    _write_report(
        root, "e" * 32, site=site, created_at="2026-12-07T09:00:00+00:00", formats=["html"],
        database=_legacy_mark(db),
    )  # fmt: skip
    _write_report(
        root, "f" * 32, site=site, created_at="2026-12-07T08:00:00+00:00", formats=["html"],
        database="0123456789abcdef",
    )  # fmt: skip
    # a folder named otherwise is no report of the API's
    _write_report(root, "not-an-id", site=site, formats=["html"])
    listed = c.get("/api/reports", params={"site": site}).json()["items"]
    assert [r["id"] for r in listed] == [HOSTILE, "e" * 32]
    assert listed[0]["links"] == {"html": f"/api/reports/{HOSTILE}/html"}
    assert listed[0]["formats"] == ["html"]
    one = c.get(f"/api/reports/{HOSTILE}").json()
    assert one["links"] == {"html": f"/api/reports/{HOSTILE}/html"} and one["id"] == HOSTILE


# ------------------------------------------------------------------ the page


def test_the_page_links_a_reports_download_to_the_api_whatever_it_is_told(
    browser: Any, world: dict[str, Any]
) -> None:
    """The page makes each link from the report's id, never takes the answer's (an older
    server, or a proxy's cache, may still give a report.json's)."""
    hostile = {
        "items": [
            {
                "id": HOSTILE,
                "site": world["site"],
                "created_at": "2026-12-07T10:00:00+00:00",
                "formats": ["html", "xml"],
                "links": {"html": "javascript:document.body.dataset.pwned='1'", "xml": "x"},
            }
        ],
        "total": 1,
        "limit": 5,
        "offset": 0,
    }
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    try:
        page.route(
            "**/api/reports?*",
            lambda route: route.fulfill(
                status=200, content_type="application/json", body=json.dumps(hostile)
            ),
        )
        page.goto(f"{world['url']}/sites/{world['site']}")
        page.wait_for_selector("body[data-ready='1']")
        link = page.wait_for_selector(f"#reports li[data-report='{HOSTILE}'] a.report-html")
        assert link.get_attribute("href") == f"/api/reports/{HOSTILE}/html"
        hrefs = page.evaluate("[...document.querySelectorAll('a')].map((a) => a.href)")
        assert not [h for h in hrefs if h.startswith("javascript:")], hrefs
        assert page.locator("#reports a.report-xml").count() == 0
    finally:
        page.close()


def _signed_in(browser: Any, world: dict[str, Any]) -> Any:
    """The site's page, signed in."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{world['url']}/sites/{world['site']}")
    page.wait_for_selector("body[data-ready='1']")
    page.fill("#token", TOKEN)
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#signout")
    page.errors = errors
    return page


def test_the_chart_is_drawn_before_its_record_comes(browser: Any, world: dict[str, Any]) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    held: list[Any] = []
    try:
        page.route("**/baseline", lambda route: held.append(route))
        page.goto(f"{world['url']}/sites/{world['site']}")
        # the counts are drawn while the record is still on its way
        page.wait_for_selector("#chart svg .pt", timeout=15_000)
        assert page.evaluate("document.body.dataset.record") == "pending"
        assert page.locator("#chart path.record").count() == 0
        assert held, "the record was not asked for"
        held[0].continue_()
        page.wait_for_selector("body[data-ready='1']")
        assert page.evaluate("document.body.dataset.record") == "drawn"
        assert page.locator("#chart path.record").count() == 1
        # the image shown is still the chart's selected point
        shown = page.evaluate("location.hash.slice(1)")
        assert page.locator(f"#chart .pt.selected[data-scene='{shown}']").count() == 1
    finally:
        page.close()


def test_a_report_being_made_is_not_reset_by_adding_an_event(
    browser: Any, world: dict[str, Any]
) -> None:
    page = _signed_in(browser, world)
    held: list[Any] = []
    try:
        page.route("**/api/sites/*/reports", lambda route: held.append(route))
        page.click("#report-make")
        page.wait_for_function(
            "document.getElementById('report-msg').textContent.includes('making')"
        )
        page.fill("#event-date", "2023-11-15")
        page.fill("#event-label", "Bridge inspection")
        page.click("#event-add")
        page.wait_for_selector("#chart line.event[data-date='2023-11-15']", state="attached")
        page.wait_for_function("document.getElementById('event-msg').textContent.includes('Added')")
        # the report is still being made: its button stays off, its words stay
        assert page.locator("#report-make").is_disabled()
        assert "making" in page.locator("#report-msg").inner_text()
        assert len(held) == 1
        held[0].fulfill(
            status=201,
            content_type="application/json",
            body=json.dumps(
                {
                    "id": "a" * 32,
                    "site": world["site"],
                    "created_at": "2026-12-07T10:00:00+00:00",
                    "formats": ["html"],
                    "links": {"html": f"/api/reports/{'a' * 32}/html"},
                    "warnings": [],
                }
            ),
        )
        page.wait_for_function(
            "document.getElementById('report-msg').textContent.includes('Made the report')"
        )
        assert page.errors == []
    finally:
        page.close()


def test_open_alerts_are_listed_before_acknowledged_ones(
    browser: Any, world: dict[str, Any]
) -> None:
    alerts = httpx.get(f"{world['url']}/api/alerts", params={"site": world["site"]}).json()
    high = next(a for a in alerts["items"] if a["severity"] == "high")
    r = httpx.post(
        f"{world['url']}/api/alerts/{high['id']}/acknowledge",
        json={"note": "checked the image"},
        headers=AUTH,
    )
    assert r.status_code == 200, r.text
    page = _site(browser, world)
    try:
        order = page.evaluate(
            "[...document.querySelectorAll('#alerts .alert')].map((a) => a.dataset.date)"
        )
        # the open medium silence first, the acknowledged high record after it
        assert order == ["2023-12-20", "2023-10-05"], order
        said = page.locator("#alerts-open .open-shown").inner_text()
        assert "the open ones first, most severe first, then the acknowledged" in said, said
        assert page.errors == []
    finally:
        page.close()


# last: it analyses the site again, which replaces the alerts the tests above read
def test_the_record_is_asked_for_only_with_the_total_shown(
    browser: Any, world: dict[str, Any]
) -> None:
    page = _signed_in(browser, world)
    # counted as the browser hands each request over (its answer waits for that): after
    # the page is ready, the record it opened with
    asked: list[str] = []

    def count(route: Any) -> None:
        asked.append(route.request.url)
        route.continue_()

    page.route("**/baseline", count)
    try:
        page.select_option("#cls", "tank")
        page.wait_for_selector("body[data-record='none']")
        page.fill("#event-date", "2023-10-20")
        page.fill("#event-label", "Port strike")
        page.click("#event-add")
        page.wait_for_selector("#event-analyze")
        page.click("#event-analyze")
        page.wait_for_function(
            "document.getElementById('event-msg').textContent.includes('nalysed')"
        )
        page.wait_for_timeout(300)  # (a request made would be handed over by now)
        # a class's chart: the analysis did not ask for the total's record
        assert asked == [], asked
        # the total shown again: asked again (the analysis may have changed it), drawn
        page.select_option("#cls", "all")
        page.wait_for_selector("body[data-record='drawn']")
        assert len(asked) == 1, asked
        assert page.locator("#chart path.record").count() == 1
        assert page.errors == []
    finally:
        page.close()


def test_a_slower_answer_for_an_earlier_class_is_not_drawn_over_the_chart(
    browser: Any, world: dict[str, Any]
) -> None:
    """Switching class quickly, the answer for the class asked first could come last and
    be drawn over the chart of the class shown (review of session 50)."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    held: list[Any] = []
    try:
        page.goto(f"{world['url']}/sites/{world['site']}")
        page.wait_for_selector("body[data-ready='1']")
        page.route("**/counts?class=boxcar*", lambda route: held.append(route))
        page.select_option("#cls", "boxcar")
        for _ in range(50):
            if held:
                break
            page.wait_for_timeout(100)
        assert held, "the boxcar counts were not asked for"
        page.select_option("#cls", "tank")
        page.wait_for_selector("#chart svg .pt")
        points = page.locator("#chart svg .pt").count()
        assert points > 1
        # the boxcar answer comes last, one image alone: it must not replace the tank chart
        one = page.evaluate(
            f"""async () => {{
                const r = await fetch("/api/sites/{world["site"]}/counts?class=tank&limit=1");
                const answer = await r.json();
                return JSON.stringify({{items: answer.items, total: 1}});
            }}"""
        )
        held[0].fulfill(status=200, content_type="application/json", body=one)
        page.wait_for_timeout(500)
        assert page.locator("#chart svg .pt").count() == points
        assert page.eval_on_selector("#cls", "e => e.value") == "tank"
    finally:
        page.close()
