"""The site page in headless Chromium draws the stretches of track a 3 m count by
occupied length read as occupied (session 30): cyan lines over the image, one per run
from ``/api/scenes/{id}/occupied``, each with the tooltip "track read as occupied: N m
≈ K car equivalents", their sum under the map and a legend entry; an image counted
before the runs were kept says so and how to record them. Before, a 3 m image showed
its count and "0 detections", nothing to check it on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from helpers import chromium, live_server

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from fastapi.testclient import TestClient  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from railwatch.report.style import OCCUPIED_COLOUR  # noqa: E402
from railwatch.settings import Settings  # noqa: E402
from railwatch.storage import Database  # noqa: E402
from railwatch.web.app import create_app  # noqa: E402
from test_web_occupied_s30 import build  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.services]

#: The colour of the runs: none of the classes', the report's (served as /style.js since
#: session 45; the dashboard's own was #00e5ff, the report's analyst colour)
OCCUPIED = OCCUPIED_COLOUR


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("occupied-e2e")
    db = Database(f"sqlite:///{tmp / 'e2e.db'}")
    ids = build(db, tmp)
    settings = Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp / "cache")
    app = create_app(settings, db)
    try:
        with live_server(app) as url:
            yield {**ids, "url": url, "client": TestClient(app)}
    finally:
        db.dispose()


def _hover_middle(page: Any, selector: str) -> None:
    """Move the mouse onto the middle of an SVG line (its bounding box's centre may be
    off a bent line)."""
    x, y = page.evaluate(
        """(sel) => {
          const p = document.querySelector(sel), m = p.getScreenCTM();
          const q = p.getPointAtLength(p.getTotalLength() / 2);
          return [m.a * q.x + m.c * q.y + m.e, m.b * q.x + m.d * q.y + m.f];
        }""",
        selector,
    )
    page.mouse.move(x, y)


def test_the_site_page_draws_the_track_read_as_occupied(world: dict[str, Any]) -> None:
    sid = world["yard"]["runs"]
    fc = world["client"].get(f"/api/scenes/{sid}/occupied").json()
    assert fc["recorded"] and len(fc["features"]) >= 2
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        away: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "request", lambda r: away.append(r.url) if not r.url.startswith(world["url"]) else None
        )
        page.goto(f"{world['url']}/sites/yard#{sid}")
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector(f"body[data-occupied='{sid}:{len(fc['features'])}']")
        runs = page.locator("path.occ-run")
        assert runs.count() == len(fc["features"])
        assert {runs.nth(k).get_attribute("stroke") for k in range(runs.count())} == {OCCUPIED}
        # over the map, where the image is
        box = page.locator("#map").bounding_box()
        first = runs.first.bounding_box()
        assert box is not None and first is not None
        assert box["x"] <= first["x"] + first["width"] / 2 <= box["x"] + box["width"]
        assert box["y"] <= first["y"] + first["height"] / 2 <= box["y"] + box["height"]

        # each line's tooltip: its length and car equivalents
        _hover_middle(page, "path.occ-run")
        tip = page.wait_for_selector(".leaflet-tooltip.occ-tip")
        p = fc["features"][0]["properties"]
        want = (
            f"track read as occupied: {round(p['length_m']):,} m ≈ "
            f"{round(p['car_equivalents'] * 10) / 10:g} car equivalents"
        )
        assert tip is not None and tip.text_content() == want

        # the sum under the map, and the legend
        info = page.locator("#occ-info").text_content() or ""
        total = f"{round(fc['occupied_length_m']):,} m ≈ {round(fc['car_equivalents'] * 10) / 10:g}"
        assert f"track read as occupied: {total} car equivalents" in info
        assert "track read as occupied" in (page.locator("#legend").text_content() or "")

        # an image counted before the runs were kept: no line, and how to record them
        old = world["yard"]["before_s30"]
        page.click(f"button.scene[data-scene='{old}']")
        page.wait_for_selector(f"body[data-occupied='{old}:none']")
        assert page.locator("path.occ-run").count() == 0
        info = page.locator("#occ-info").text_content() or ""
        assert "occupied track not recorded" in info and "railwatch process" in info

        # back to the first: drawn again
        page.click(f"button.scene[data-scene='{sid}']")
        page.wait_for_selector(f"body[data-occupied='{sid}:{len(fc['features'])}']")
        assert page.locator("path.occ-run").count() == len(fc["features"])
        assert errors == [] and away == []
