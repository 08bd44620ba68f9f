"""The site page in headless Chromium while cron's ``process``, ``analyze`` and an
operator change the database under it (session 24).

* A site removed while its page is open, or while it loads: the page says the site is
  no longer in the database (it stayed on "Loading…", or said "no scene with id 5",
  and a class change was an unhandled rejection).
* An alert id that a re-analysis gave to another alert (SQLite reuses a deleted highest
  id): the page's *Acknowledge* is refused with why, the other alert untouched.
* A chart point of an image processed after the page loaded says so (it opened the
  first image of the list).
* Two browsers acknowledging the same alert: both notes kept, no request leaving the
  machine.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from helpers import database_reusing_ids, serve_db

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from shapely.geometry import box  # noqa: E402

from railwatch.analysis.types import Alert  # noqa: E402
from railwatch.storage import Database, repo  # noqa: E402
from report_db import (  # noqa: E402
    CRS,
    IMG_H_M,
    IMG_W_M,
    X0,
    Y0,
    FakeCount,
    FakeInfo,
    FakeQuality,
    to_wgs84,
    write_scene,
)
from web_db import populate  # noqa: E402

TOKEN = "qa24-e2e-token"

pytestmark = [pytest.mark.slow, pytest.mark.services]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The six-image site of the API tests on a server of its own (writes with the
    token), fresh for each test: they remove sites and rewrite alerts."""
    # built at migration 0001, where SQLite still gave a deleted id to the next row (the
    # stale-page test needs that; since 0002 an id is never given out again)
    url = f"sqlite:///{tmp_path / 'e2e.db'}"
    db = database_reusing_ids(url)
    ids = populate(db, tmp_path / "img")
    try:
        with serve_db(db, tmp_path / "cache", token=TOKEN) as url:
            yield {**ids, "db": db, "url": url, "tmp": tmp_path}
    finally:
        db.dispose()


def _page(browser: Any, world: dict[str, Any]) -> tuple[Any, list[str], list[str]]:
    """A page with its errors and the requests that went elsewhere than the server."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(60_000)
    errors: list[str] = []
    away: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: away.append(r.url) if not r.url.startswith(world["url"]) else None)
    return page, errors, away


def _open_site(page: Any, world: dict[str, Any]) -> None:
    page.goto(f"{world['url']}/sites/{world['site']}")
    page.wait_for_selector("body[data-ready='1']")


def _delete_site(world: dict[str, Any]) -> None:
    req = urllib.request.Request(
        f"{world['url']}/api/sites/{world['site']}",
        method="DELETE",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200


def _alert(world: dict[str, Any], alert_id: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"{world['url']}/api/alerts/{alert_id}", timeout=30) as r:
        return dict(json.load(r))


GONE = "is no longer in the database (removed since this page was opened)"


def test_site_removed_while_its_page_is_open(world: dict[str, Any], browser: Any) -> None:
    page, errors, away = _page(browser, world)
    _open_site(page, world)
    _delete_site(world)  # `railwatch site remove` from another terminal
    page.click("#prev")  # another image: its detections are gone with the site
    page.wait_for_function(
        "document.getElementById('det-count').textContent.includes('no longer in the database')"
    )
    assert f"site {world['site']} {GONE}" in page.locator("#det-count").inner_text()
    page.select_option("#cls", "tank")  # the chart of another class
    page.locator(".chart-error").wait_for()
    assert GONE in page.locator(".chart-error").inner_text()
    assert errors == [] and away == []
    page.close()


def test_site_removed_while_its_page_loads(world: dict[str, Any], browser: Any) -> None:
    page, errors, away = _page(browser, world)

    def remove_then_answer(route: Any) -> None:  # removed between two of its requests
        _delete_site(world)
        route.continue_()

    page.route(f"**/api/sites/{world['site']}/scenes*", remove_then_answer)
    page.goto(f"{world['url']}/sites/{world['site']}")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)  # was 'Loading…' for ever
    info = page.locator("#scene-info").inner_text()
    assert "Loading" not in info
    assert f"Cannot load site: site {world['site']} {GONE}" in info
    assert page.locator("#scene-info a[href='/']").count() == 1
    assert errors == [] and away == []
    page.close()


def test_acknowledge_on_a_page_whose_alert_id_now_names_another(
    world: dict[str, Any], browser: Any
) -> None:
    page, errors, away = _page(browser, world)
    page.context.set_extra_http_headers({"Authorization": f"Bearer {TOKEN}"})
    _open_site(page, world)
    old = world["alert_id"]
    db: Database = world["db"]
    # cron's analyze drops the record, a later one raises a spike: SQLite reuses the id
    with db.session() as s:
        repo.replace_alerts(s, world["site"], [])
    with db.session() as s:
        repo.replace_alerts(
            s,
            world["site"],
            [
                Alert(
                    "spike-all-2023-11-02", "spike", "low",
                    datetime(2023, 11, 2, 2, 30, tzinfo=UTC), "all", 6.0,
                    "a spike of a later analysis", scene_id=world["scene_ids"][5],
                )
            ],
        )  # fmt: skip
    assert _alert(world, old)["key"] == "spike-all-2023-11-02"
    box_ = page.locator(f".alert[data-alert='{old}']")  # the page still shows the record
    box_.locator(".ack-note").fill("the record of 2023-10-05 checked")
    box_.locator("button.ack").click()
    page.wait_for_function(
        f"document.querySelector(\".alert[data-alert='{old}'] .ack-msg\").textContent.length > 0"
    )
    msg = box_.locator(".ack-msg").inner_text()
    assert "is now spike-all-2023-11-02" in msg and "reload" in msg
    stored = _alert(world, old)
    assert stored["acknowledged"] is False and stored["ack_note"] is None
    assert errors == [] and away == []
    page.close()


def test_two_browsers_acknowledging_one_alert_keep_both_notes(
    world: dict[str, Any], browser: Any
) -> None:
    alert_id = world["alert_id"]
    pages = []
    for _ in range(2):
        page, errors, away = _page(browser, world)
        page.context.set_extra_http_headers({"Authorization": f"Bearer {TOKEN}"})
        _open_site(page, world)
        pages.append((page, errors, away))
    notes = ("A: checked 38 North", "B: seen on the next image")
    for (page, _, _), note in zip(pages, notes, strict=True):
        box_ = page.locator(f".alert[data-alert='{alert_id}']")
        box_.locator(".ack-note").fill(note)  # B's page still shows it open
        box_.locator("button.ack").click()
        page.locator(f".alert.acked[data-alert='{alert_id}']").wait_for()
    shown = pages[1][0].locator(f".alert[data-alert='{alert_id}'] .acked-note").inner_text()
    assert "A: checked 38 North" in shown and "B: seen on the next image" in shown
    note = _alert(world, alert_id)["ack_note"]
    assert note.startswith("A: checked 38 North\n") and note.endswith("B: seen on the next image")
    for page, errors, away in pages:
        assert errors == [] and away == []
        page.close()


def _add_processed_scene(world: dict[str, Any]) -> int:
    """A new image, ingested and counted by cron while the page is open."""
    db: Database = world["db"]
    path = write_scene(world["tmp"] / "late.tif", 4, 0.5, seed=99)
    info = FakeInfo(
        uri=str(path),
        content_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
        acquired=datetime(2023, 12, 1, 2, 30, tzinfo=UTC),
        crs=CRS,
        footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
        gsd=0.5,
        width=int(IMG_W_M / 0.5),
        height=int(IMG_H_M / 0.5),
    )
    with db.session() as s:
        scene, _ = repo.add_scene(s, world["site"], info, 1.0)
        count = FakeCount(4.0, 3.0, 5.0, {}, 0)
        repo.record_scene_result(s, scene.id, FakeQuality(clear_fraction=0.97), [], count, "t", "1")
        return int(scene.id)


def test_chart_point_of_an_image_processed_after_the_page_loaded(
    world: dict[str, Any], browser: Any
) -> None:
    page, errors, away = _page(browser, world)
    _open_site(page, world)
    active = page.locator("button.scene.active").get_attribute("data-scene")
    new_id = _add_processed_scene(world)
    page.set_viewport_size({"width": 1180, "height": 900})  # the chart is drawn again
    point = page.locator(f".chart-svg circle[data-scene='{new_id}']")
    point.wait_for()
    point.click()
    page.locator("#scene-info .new-image").wait_for()
    assert "reload the page" in page.locator("#scene-info").inner_text()
    # the image shown stays: it opened the first image of the list
    assert page.locator("button.scene.active").get_attribute("data-scene") == active
    assert errors == [] and away == []
    page.close()


def test_an_image_counted_again_after_the_page_loaded_is_shown_as_it_is_now(
    world: dict[str, Any], browser: Any
) -> None:
    page, errors, away = _page(browser, world)
    _open_site(page, world)  # the latest image, 2023-11-02
    scene_id = world["scene_ids"][4]  # 2023-10-05: 18 railcars when the page loaded
    assert "18 cars" in page.locator(f"button.scene[data-scene='{scene_id}']").inner_text()
    db: Database = world["db"]
    with db.session() as s:  # `railwatch process --reprocess` judges it unusable now
        quality = FakeQuality(clear_fraction=0.2, usable=False, reasons=("cloud covers 80%",))
        repo.record_scene_result(s, scene_id, quality, [], None, "test", "2.0")
    page.click("#prev")
    page.wait_for_function(
        "document.getElementById('det-count').textContent.includes('0 detections')"
    )
    info = page.locator("#scene-info").inner_text()
    assert "unusable: cloud covers 80%" in info and "railcars" not in info, info
    assert "processed again since the page loaded" in info
    button = page.locator(f"button.scene[data-scene='{scene_id}']")
    assert "unusable" in button.inner_text()
    assert "unusable" in str(button.get_attribute("class"))
    assert errors == [] and away == []
    page.close()
