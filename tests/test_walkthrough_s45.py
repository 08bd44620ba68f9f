"""Faults found by using the later stages as an analyst would (session 45, 2026-12-07):
analyze, alerts, events, report, export and the web API on one small site.

1. The report printed a count's interval with one decimal ("73 [62–87.6]", headline
   "interval 62–87.6") beside its alert's "73 railcars (interval 62–88)": the alerts
   round the bounds of a whole count of cars outward (session 39); the report now too
   (``analysis.types.whole_car_bounds``), in its headline, tables and chart caption, and
   the dashboard (``RW.fmtInterval``: the line under the map, the images to check, the
   chart's point titles), which said "73 railcars (62–87.6, objects)".
2. A report made after an event was removed (or edited, or added) without analysing the
   site again named the event in its alerts ("9 days after: New siding opened") beside
   an events list without it, and gave no note: ``stale_alerts_note`` compared
   everything but the event an alert names.
3. The covered-loads caveat of the alert images not drawn read "At the 1 other alert
   images, ... (33%; at 1 of the images, 33% to 33% of their cars)".
4. A write to a server started without a token, sent without credentials, was a 401
   asking for 'Authorization: Bearer <RAILWATCH_API_TOKEN>', which no client can send
   (the dashboard said "sign in with the API token first"); docs/web.md says 403.
5. ``railwatch analyze SITE`` of a site whose images were ingested and not processed
   said "0 usable of 0 images; 0 alerts" and nothing else: images not processed yet (or
   failed) are in no count; it now says how many and what to run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from counted_site import add_counted_site
from railwatch.analysis.store import alerts_naming_event, analyze_and_store
from railwatch.cli.main import main
from railwatch.report import build_report_data
from railwatch.report.caveats import covered_summary
from railwatch.report.charts import beyond_axis_words
from railwatch.report.format import fmt_count, fmt_scene_count
from railwatch.report.model import SceneRow
from railwatch.settings import Settings
from railwatch.storage import Database, repo
from railwatch.storage.models import Scene, to_wkb

#: near Tumangang (UTC+9 nominal): images at 03:00 UTC are noon there
YARD = box(130.600, 42.415, 130.615, 42.425)
T0 = datetime(2023, 6, 1, 3, 0, tzinfo=UTC)
STEADY = (10.0, 12.0, 9.0, 11.0, 10.0, 13.0, 9.0, 12.0, 10.0, 11.0, 12.0, 10.0)


def _counts() -> list[tuple[datetime, float]]:
    points = [(T0 + timedelta(days=10 * k), n) for k, n in enumerate(STEADY)]
    return [*points, (T0 + timedelta(days=10 * len(STEADY)), 73.0)]


def _interval(n: float) -> tuple[float, float]:
    """The detector's interval, widened for part of the site not clear: 73 is 62-87.6."""
    return (62.0, 87.6) if n == 73.0 else (n - 2.0, n + 2.0)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    add_counted_site(database, "yard", YARD, _counts(), interval=_interval)
    return database


# ----------------------------------------------------------- 1. intervals as the alerts


def test_the_report_words_an_interval_as_its_alert_does(db: Database) -> None:
    analyze_and_store(db, "yard")
    with db.session(readonly=True) as s:
        alerts = [a for a in repo.list_alerts(s, "yard") if a.value == 73.0 and a.cls == "all"]
    assert alerts and all("(interval 62–88)" in a.explanation for a in alerts)
    data = build_report_data(db, "yard")
    h = data.headline
    assert "(latest usable image; interval 62–88)" in h.summary, h.summary
    assert "87.6" not in h.summary
    assert h.current_words == "73 [62–88]"
    latest = h.latest
    assert latest is not None and fmt_scene_count(latest) == "73 [62–88]"


def test_whole_cars_round_outward_car_equivalents_keep_their_decimals() -> None:
    assert fmt_count(73, 62, 87.6) == "73 [62–88]"
    assert fmt_count(137, 116.4, 236.2, "objects") == "137 [116–237]"
    assert fmt_count(73, 70, 76) == "73 [70–76]"  # whole bounds as they were
    assert fmt_count(149.1, 82.3, 307.1, "length") == "149.1 [82.3–307.1]"
    assert fmt_count(5, 5, 5) == "5"


def test_the_chart_caption_gives_the_highest_interval_as_the_table() -> None:
    rows = [
        SceneRow(
            scene_id=k, when=T0 + timedelta(days=10 * k), sensor="S", gsd=0.5, usable=True,
            clear_fraction=0.9, coverage=1.0, total=10.0, low=8.0, high=12.0,
            method="objects",
        )
        for k in range(6)
    ]  # fmt: skip
    wide = SceneRow(
        scene_id=9, when=T0 + timedelta(days=90), sensor="S", gsd=0.5, usable=True,
        clear_fraction=0.9, coverage=1.0, total=12.0, low=10.0, high=400.4, method="objects",
    )  # fmt: skip
    caption = beyond_axis_words([*rows, wide])
    assert caption is not None and "the highest to 401," in caption, caption
    assert fmt_scene_count(wide) == "12 [10–401]"


# ------------------------------------------------- 2. an event changed since the analysis


def test_a_report_says_its_alerts_name_an_event_removed_since(db: Database) -> None:
    with db.session() as s:
        ev = repo.add_event(s, "yard", date(2023, 9, 25), "New siding opened")
        event_id = ev.id
    analyze_and_store(db, "yard")
    with db.session(readonly=True) as s:
        named = [a for a in repo.list_alerts(s, "yard") if a.event_label == "New siding opened"]
    assert named
    assert build_report_data(db, "yard").stale_alerts is None  # as analysed: no note
    with db.session() as s:
        repo.remove_event(s, event_id)
    note = build_report_data(db, "yard").stale_alerts
    assert note is not None and "names no event now" in note, note
    assert "Run `railwatch analyze yard`" in note


def test_a_report_says_its_alerts_miss_an_event_added_since(db: Database) -> None:
    analyze_and_store(db, "yard")
    assert build_report_data(db, "yard").stale_alerts is None
    with db.session() as s:
        repo.add_event(s, "yard", date(2023, 9, 25), "Kim–Putin summit")
    note = build_report_data(db, "yard").stale_alerts
    assert note is not None and "now names 'Kim–Putin summit'" in note, note


# ------------------------------------------------------- 3. the covered-loads caveat


def _row(k: int, total: float, covered: int) -> SceneRow:
    return SceneRow(
        scene_id=k, when=T0 + timedelta(days=10 * k), sensor="S", gsd=0.5, usable=True,
        clear_fraction=1.0, coverage=1.0, total=total, low=total - 2, high=total + 2,
        covered=covered, method="objects",
    )  # fmt: skip


def test_one_other_alert_image_is_one_image() -> None:
    one = _row(1, 6.0, 2)
    text = covered_summary([one])
    assert text == (
        f"At the other alert image ({one.day}), contents cannot be identified for 2 of 6 "
        "cars (33 %): their loads are under tarpaulins or sheets."
    )
    assert not text.startswith(f"{one.day}:")  # dated caveats are the drawn images'
    none = covered_summary([_row(1, 6.0, 0)])
    assert none == (
        f"At the other alert image ({one.day}) no load of the 6 cars was seen under a cover."
    )


def test_equal_shares_are_one_share() -> None:
    text = covered_summary([_row(1, 10.0, 2), _row(2, 20.0, 4), _row(3, 5.0, 0)])
    assert text is not None and "(17 %; at 2 of the images, 20 % of their cars each)" in text
    text = covered_summary([_row(1, 10.0, 2), _row(2, 20.0, 0)])
    assert text is not None and "at 1 of the images, 20 % of its cars)" in text
    text = covered_summary([_row(1, 10.0, 2), _row(2, 20.0, 10)])
    assert text is not None and "at 2 of the images, 20 % to 50 % of their cars)" in text


# ------------------------------------------------------ 4. a server without a token


def test_a_write_to_a_server_without_a_token_says_writes_are_disabled(db: Database) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from railwatch.web.app import create_app

    app = create_app(Settings(db=db.url, cache_dir=Path(db.url[10:]).parent / "cache"), db)
    client = TestClient(app)
    for r in (
        client.post("/api/sites/yard/events", json={"date": "2023-09-25", "label": "x"}),
        client.post("/api/alerts/1/acknowledge", json={"note": "seen"}),
        client.post("/api/alerts/1/acknowledge", json={}, headers={"Authorization": "Bearer x"}),
    ):
        assert r.status_code == 403, r.text
        assert "writes are disabled" in r.json()["detail"]
        assert "WWW-Authenticate" not in r.headers
    assert client.get("/api/sites/yard/events").status_code == 200  # reads stay open
    with db.session(readonly=True) as s:
        assert repo.list_events(s, "yard") == []


# ------------------------------------------- 5. images ingested and not processed yet


def _ingested(db: Database, when: datetime, k: int) -> None:
    with db.session() as s:
        site = repo.get_site(s, "yard")
        s.add(
            Scene(
                site_id=site.id, uri=f"/nowhere/new{k}.tif", content_hash=f"{k + 500:064x}",
                acquired_at=when, crs="EPSG:4326", footprint_wkb=to_wkb(YARD),
                date_source="option", gsd=0.5, width=10, height=10, band_count=3,
                dtype="uint8", coverage=1.0,
            )
        )  # fmt: skip


def test_analyze_says_how_many_images_are_not_processed(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--db", db.url]
    assert main([*base, "analyze", "yard"]) == 0
    out = capsys.readouterr().out
    assert "13 usable of 13 images" in out and "in no count" not in out
    last = T0 + timedelta(days=10 * len(STEADY))
    for k in (1, 2):
        _ingested(db, last + timedelta(days=10 * k), k)
    assert main([*base, "analyze", "yard"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "13 usable of 13 images" in out
    assert "2 images of yard are not processed yet, so in no count" in out, out
    assert "`railwatch process yard` counts them" in out
    assert main([*base, "analyze", "yard", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert (body["points"], body["usable"], body["not_processed"], body["failed"]) == (
        13,
        13,
        2,
        0,
    )
    # a failed image is not one that processing again counts; a look-back leaves out the
    # images after its day (review of session 45)
    with db.session() as s:
        failed = s.query(Scene).filter(Scene.uri == "/nowhere/new2.tif").one()
        failed.status = "failed"
    assert main([*base, "analyze", "yard"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "1 image of yard is not processed yet" in out, out
    assert "1 image of yard failed when processed" in out, out
    assert "`railwatch scene list yard` says why" in out
    as_of = (last + timedelta(days=5)).date().isoformat()
    assert main([*base, "analyze", "yard", "--as-of", as_of, "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert (body["not_processed"], body["failed"]) == (0, 0)


# ----------------------------------------------- 1b. the dashboard's intervals (Chromium)

JS = Path(__file__).resolve().parents[1] / "src" / "railwatch" / "web" / "static" / "js"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from helpers import chromium

    with chromium() as b:
        yield b


@pytest.mark.slow
@pytest.mark.services
def test_the_dashboard_words_intervals_as_the_alerts(browser: Any) -> None:
    page = browser.new_page()
    page.set_content("<html><body><div id='c' style='width:640px'></div></body></html>")
    page.add_script_tag(path=str(JS / "common.js"))
    got = page.evaluate(
        """() => [
          RW.fmtInterval(73, 62.05, 87.6, "objects"),
          RW.fmtInterval(73, 62, 88, "objects"),
          RW.fmtInterval(161.2, 93.42, 312.4, "length"),
          RW.fmtInterval(92.5, 84.3, 169.4, "manual"),
          RW.fmtInterval(46, 39.1, 55.199999999999996, null),
        ]"""
    )
    assert got == ["62–88", "62–88", "93.4–312.4", "84.3–169.4", "39–56"]
    page.add_script_tag(path=str(JS / "chart.js"))  # stands alone: no RW in it
    points = [
        {"when": "2024-01-25T03:00:00+00:00", "day": "2024-01-25", "count": 10, "low": 8,
         "high": 12, "usable": True, "scene_id": 1, "method": "objects",
         "long_train_present": None},
        {"when": "2024-02-14T03:00:00+00:00", "day": "2024-02-14", "count": 73, "low": 62.05,
         "high": 87.6, "usable": True, "scene_id": 2, "method": "objects",
         "long_train_present": None},
        {"when": "2024-03-14T03:00:00+00:00", "day": "2024-03-14", "count": 65.5, "low": 38.3,
         "high": 126.7, "usable": True, "scene_id": 3, "method": "length",
         "long_train_present": None},
    ]  # fmt: skip
    titles = page.evaluate(
        """(points) => {
          const host = document.getElementById("c");
          RWChart.draw(host, points, {events: [], alerts: [], zone: "UTC+9"});
          return [...document.querySelectorAll("circle.pt title")].map((t) => t.textContent);
        }""",
        points,
    )
    assert any("73 railcars (62–88)" in t for t in titles), titles
    assert any("65.5 car equivalents (38.3–126.7)" in t for t in titles), titles
    page.close()


@pytest.mark.slow
@pytest.mark.services
def test_the_line_under_the_map_words_the_interval_as_the_alert(
    db: Database, browser: Any, tmp_path: Path
) -> None:
    pytest.importorskip("uvicorn")
    from helpers import serve_db

    analyze_and_store(db, "yard")
    last = len(STEADY) + 1  # the scene of 73 railcars
    with serve_db(db, tmp_path / "cache") as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/sites/yard#{last}")
        page.wait_for_selector("body[data-ready='1']")
        info = page.locator("#scene-info")
        info.wait_for()
        text = info.inner_text()
        assert "73 railcars (62–88, objects)" in text, text
        alerts = page.locator(".alert").all_inner_texts()
        assert any("(interval 62–88)" in a for a in alerts), alerts
        page.close()


# --------------------------------- 6. deleting an event says which alerts still name it


def test_deleting_an_event_by_the_api_says_how_many_alerts_still_name_it(db: Database) -> None:
    """`railwatch event remove` says how many stored alerts still name the event until
    the site is analysed again; DELETE /api/events/{id} answered only its id."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.web.app import create_app

    with db.session() as s:
        named_id = repo.add_event(s, "yard", date(2023, 9, 25), "New siding opened").id
        other_id = repo.add_event(s, "yard", date(2019, 1, 1), "Nothing happened").id
    analyze_and_store(db, "yard")
    with db.session(readonly=True) as s:
        naming = sum(
            a.active and a.event_label == "New siding opened" for a in repo.list_alerts(s, "yard")
        )
        assert alerts_naming_event(s, other_id) == 0
    assert naming > 0
    settings = Settings(
        db=db.url, api_token=SecretStr("t" * 32), cache_dir=Path(db.url[10:]).parent / "cache"
    )
    client = TestClient(create_app(settings, db))
    auth = {"Authorization": "Bearer " + "t" * 32}
    r = client.delete(f"/api/events/{named_id}", headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"deleted": named_id, "alerts_naming_it": naming}
    r = client.delete(f"/api/events/{other_id}", headers=auth)
    assert r.json() == {"deleted": other_id, "alerts_naming_it": 0}
    assert client.delete(f"/api/events/{other_id}", headers=auth).status_code == 404


# ------------------------------- 7. a 3 m latest image's facts say car equivalents


def test_a_length_latest_images_facts_say_car_equivalents() -> None:
    """The headline's facts of a latest image counted by occupied track length are car
    equivalents, not railcars: they read "13.3 [6.7–26.8]" and "Previous record 17.2"
    above a chart whose record line was the cars' (visual walkthrough, session 45)."""
    from railwatch.report.model import Headline

    def headline(method: str) -> Headline:
        latest = SceneRow(
            scene_id=1, when=T0, sensor="S", gsd=3.0 if method == "length" else 0.5,
            usable=True, clear_fraction=1.0, coverage=1.0, total=13.3, low=6.7, high=26.8,
            method=method,
        )  # fmt: skip
        return Headline(
            site="yard", period=(None, None), latest=latest, current=13.3, current_low=6.7,
            current_high=26.8, record=17.2, baseline=12.0, summary="",
        )  # fmt: skip

    length = headline("length")
    assert length.current_words == "13.3 [6.7–26.8] car equivalents"
    assert length.record_words == "17.2 car equivalents"
    assert length.baseline_words == "12 car equivalents"
    cars = headline("objects")
    assert cars.record_words == "17.2" and cars.baseline_words == "12"
    assert "car equivalents" not in cars.current_words
