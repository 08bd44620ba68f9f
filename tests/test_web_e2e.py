"""End to end: the dashboard in headless Chromium (Debian's, driven by Playwright)
against the app served by uvicorn on 127.0.0.1 with a small populated database."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import require_service

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from pydantic import SecretStr  # noqa: E402

from railwatch.settings import Settings  # noqa: E402
from railwatch.storage import Database  # noqa: E402
from railwatch.web.app import create_app  # noqa: E402
from web_db import ALERT_DAY, populate  # noqa: E402

TOKEN = "e2e-token"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IMG = Path(__file__).resolve().parents[1] / "docs" / "img"

pytestmark = [pytest.mark.slow, pytest.mark.services]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("e2e")
    db = Database(f"sqlite:///{tmp / 'e2e.db'}")
    ids = populate(db, tmp / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, db), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not srv.started:
        pytest.fail("uvicorn did not start")
    try:
        yield {**ids, "url": f"http://127.0.0.1:{port}", "db": db}
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file() and shutil.which("chromium") is None:
        require_service("chromium", "apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_service("playwright", "pip install playwright")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


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


def test_site_list_shows_latest_count_trend_and_alerts(
    server: dict[str, Any], browser: Any
) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 420})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server["url"] + "/")
    row = page.locator(f'tr.site-row[data-site="{server["site"]}"]')
    row.wait_for(timeout=15_000)
    text = row.inner_text()
    assert "6" in row.locator(".latest").inner_text() and "▼" in text
    assert row.locator(".badge-high").inner_text() == "1"
    _shot(page, "sites")
    assert errors == []
    page.close()


def test_step_to_alert_day_see_detections_and_acknowledge(
    server: dict[str, Any], browser: Any
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    external: list[str] = []
    page.on(
        "request",
        lambda r: external.append(r.url) if not r.url.startswith(server["url"]) else None,
    )
    page.goto(f"{server['url']}/sites/{server['site']}")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    # the unusable image is marked in the list and in the chart
    assert page.locator("button.scene.unusable").count() == 1
    assert page.locator(".chart-svg .pt-unusable").count() == 1
    # pick 2023-09-01 in the list, then step once to the next image: 2023-10-05
    page.click("button.scene[data-date='2023-09-01']")
    page.wait_for_function(
        "document.getElementById('det-count').textContent.includes('7 detections')",
        timeout=15_000,
    )
    page.click("#next")
    assert page.locator("button.scene.active").get_attribute("data-date") == ALERT_DAY.isoformat()
    page.wait_for_function(
        "document.getElementById('det-count').textContent.includes('18 detections')",
        timeout=15_000,
    )
    assert "18 railcars" in page.locator("#scene-info").inner_text()
    # detections are drawn on the canvas renderer
    assert page.locator("#map canvas").count() >= 1
    sid = server["scene_ids"][4]
    page.wait_for_selector(f"body[data-tiles='{sid}']", timeout=20_000)  # image tiles loaded
    page.wait_for_timeout(400)  # tile fade-in
    alert = page.locator(".alert[data-date='2023-10-05']")
    assert "18 railcars" in alert.locator(".expl").inner_text()
    _shot(page, "site")
    # acknowledging without a token is refused and says why
    alert.locator("button.ack").click()
    page.wait_for_function(
        "document.querySelector('.ack-msg').textContent.includes('token')", timeout=10_000
    )
    page.fill("#token", TOKEN)
    alert.locator(".ack-note").fill("checked the imagery")
    alert.locator("button.ack").click()
    page.wait_for_selector(".alert.acked .acked-note", timeout=10_000)
    assert "checked the imagery" in page.locator(".alert.acked .acked-note").inner_text()
    # clicking a chart point opens that scene
    page.click(".chart-svg circle[data-date='2023-06-01']")
    page.wait_for_function(
        "document.getElementById('det-count').textContent.includes('5 detections')",
        timeout=15_000,
    )
    assert page.locator("button.scene.active").get_attribute("data-date") == "2023-06-01"
    assert errors == [] and external == []
    page.close()
    # the API state changed
    import json
    import urllib.request

    with urllib.request.urlopen(f"{server['url']}/api/alerts/{server['alert_id']}") as r:
        body = json.load(r)
    assert body["acknowledged"] is True and body["ack_note"] == "checked the imagery"
