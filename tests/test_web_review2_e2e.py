"""The site page's review loop in headless Chromium: the *Images to check* panel lists
the images to check first and opens one as the image list does; the selected image's
cars are downloaded, corrected and uploaded as the analyst's review (a file that is not
JSON, or that the API refuses, says why); the site list marks an analyst's latest count."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import chromium, live_server

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from fastapi.testclient import TestClient  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy import select  # noqa: E402

from railwatch.settings import Settings  # noqa: E402
from railwatch.storage import Database  # noqa: E402
from railwatch.storage.models import ANALYST, Count  # noqa: E402
from railwatch.web.app import create_app  # noqa: E402
from web_db import populate  # noqa: E402

TOKEN = "review2-e2e-token"

pytestmark = [pytest.mark.slow, pytest.mark.services]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'e2e.db'}")
    ids = populate(db, tmp_path / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    app = create_app(settings, db)
    try:
        with live_server(app) as url:
            yield {**ids, "db": db, "url": url, "api": TestClient(app), "path": tmp_path}
    finally:
        db.dispose()


def _total(db: Database, scene_id: int) -> tuple[float, str]:
    with db.session(readonly=True) as s:
        row = s.scalar(select(Count).where(Count.scene_id == scene_id, Count.cls == "all"))
        assert row is not None
        return row.count, row.detector


def test_images_to_check_and_corrected_cars_uploaded(world: dict[str, Any], tmp_path: Path) -> None:
    ids, db = world["scene_ids"], world["db"]
    sid = ids[4]  # the record alert's image: 18 cars found by the detector
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True)
        page.set_default_timeout(60_000)
        errors: list[str] = []
        away: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "request", lambda r: away.append(r.url) if not r.url.startswith(world["url"]) else None
        )
        page.goto(f"{world['url']}/sites/{world['site']}")
        page.wait_for_selector("body[data-ready='1']")
        items = page.locator("#to-review button.to-review-item")
        assert items.count() == 5
        assert [int(b) for b in items.evaluate_all("bs => bs.map(b => b.dataset.scene)")] == [
            ids[4],
            ids[0],
            ids[5],
            ids[1],
            ids[3],
        ]
        first = items.nth(0).text_content() or ""
        assert "2023-10-05" in first and "18" in first and "alerts: high record" in first
        assert "interval 4–6, 40% as wide as the count" in (items.nth(1).text_content() or "")

        # a click opens the image as the image list does
        items.nth(1).click()
        page.wait_for_selector(f"button.scene.active[data-scene='{ids[0]}']")
        assert page.evaluate("location.hash") == f"#{ids[0]}"
        items.nth(0).click()
        page.wait_for_selector(f"button.scene.active[data-scene='{sid}']")
        page.wait_for_selector("#review-download")

        # the download is the scene's cars in its CRS, named for the scene
        with page.expect_download() as got:
            page.click("#review-download")
        download = got.value
        assert download.suggested_filename == f"scene_{sid}_cars.geojson"
        fc = json.loads(Path(download.path()).read_text())
        assert fc["scene_id"] == sid and len(fc["features"]) == 18

        page.fill("#token", TOKEN)
        page.click("#signin button[type=submit]")
        page.wait_for_selector("#auth[data-signed-in='1']")

        # a file that is not JSON, and one the API refuses: each says why, nothing stored
        msg = page.locator(".review-file-msg")
        page.click("#review-upload")
        page.wait_for_selector(".review-file-msg:has-text('choose the corrected')")
        bad = tmp_path / "notes.txt"
        bad.write_text("18 cars, two of them are shadows")
        page.set_input_files("#review-file", str(bad))
        page.click("#review-upload")
        page.wait_for_selector(".review-file-msg:has-text('is not a JSON file')")
        assert "notes.txt" in (msg.text_content() or "")
        pixels = tmp_path / "pixels.geojson"
        pixels.write_text(json.dumps({**fc, "crs": None}))
        page.set_input_files("#review-file", str(pixels))
        page.click("#review-upload")
        page.wait_for_selector(".review-file-msg:has-text('pixel coordinates')")
        assert _total(db, sid) == (18.0, "test")

        # corrected (two cars were shadows) and sent back with a note
        fc["features"] = fc["features"][2:]
        fixed = tmp_path / "fixed.geojson"
        fixed.write_text(json.dumps(fc))
        page.set_input_files("#review-file", str(fixed))
        page.fill("#review-note", "two shadows removed in QGIS")
        page.click("#review-upload")
        page.wait_for_selector(f"body[data-review-changed^='{sid}:16']")
        assert _total(db, sid) == (16.0, ANALYST)
        entry = page.locator(f"button.scene[data-scene='{sid}'] .c")
        assert entry.text_content() == "16 ✓ analyst"
        state = page.locator(".review-state").text_content() or ""
        assert "from 16 outlines" in state and "two shadows removed" in state
        # the reviewed image left the images to check
        page.wait_for_function(
            f"!document.querySelector(\"#to-review button[data-scene='{sid}']\")"
        )
        assert page.locator("#to-review button.to-review-item").count() == 4
        assert page.locator("#review-download").get_attribute("href") == f"/api/scenes/{sid}/cars"

        # the site list: the latest image's count given by an analyst is marked
        r = world["api"].put(
            f"/api/scenes/{ids[5]}/review",
            json={"counts": {"all": 7}},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert r.status_code == 201, r.text
        page.goto(f"{world['url']}/")
        row = page.locator(f"tr.site-row[data-site='{world['site']}'] td.latest")
        row.locator(".reviewed-mark").wait_for()
        assert "7 ✓ analyst" in (row.text_content() or "")
        assert errors == [] and away == []


def test_a_read_only_server_still_offers_the_cars(world: dict[str, Any]) -> None:
    """Without an API token the page cannot record a review, but its cars can still be
    downloaded (to correct, then `railwatch scene review ID --cars FILE`)."""
    sid = world["scene_ids"][4]
    settings = Settings(db=world["db"].url, cache_dir=world["path"] / "cache-ro")
    with live_server(create_app(settings, world["db"])) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/sites/{world['site']}#{sid}")
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector(".review-off")
        assert page.locator("#review-form").count() == 0
        assert page.locator("#review-file").count() == 0
        link = page.locator("#review-download")
        assert link.get_attribute("href") == f"/api/scenes/{sid}/cars"
        assert page.locator("#to-review button.to-review-item").count() == 5
