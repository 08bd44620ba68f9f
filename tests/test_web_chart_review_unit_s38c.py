"""The chart's hover names an analyst's count of a 3 m image as car equivalents
(2026-12-06, session 38).

An image counted by occupied track length (3 m, method ``length``) is counted in car
equivalents (occupied metres / 14 m); the review form asks the analyst for a total in
car equivalents, and the site list says so of it. The chart's point for such a reviewed
image said "N railcars (analyst's count ✓)"; the detector's point of the same image
said "car equivalents"; the line under the map said "12.5 railcars ✓ analyst's count".
Both say "car equivalents" now; an analyst's count of an image counted car by car stays
"railcars".
"""

from __future__ import annotations

from typing import Any

import pytest

from helpers import chromium
from test_web_occupied_e2e_s30 import world  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.services]

AUTH = {"Authorization": "Bearer t"}


def _title(page: Any, sid: int) -> str:
    sel = f"#chart [data-scene='{sid}'] title"
    page.wait_for_selector(sel, state="attached")
    return page.locator(sel).first.text_content() or ""


def test_an_analysts_count_of_a_3m_image_is_of_car_equivalents_on_hover(
    world: dict[str, Any],  # noqa: F811
) -> None:
    c = world["client"]
    points = c.get("/api/sites/yard/counts").json()["items"]
    counted = [p for p in points if p["method"] == "length" and p["count"] is not None]
    assert len(counted) >= 2, points
    reviewed, detected = counted[0]["scene_id"], counted[1]["scene_id"]
    r = c.put(
        f"/api/scenes/{reviewed}/review",
        json={"counts": {"all": 12.5}, "note": "by length"},
        headers=AUTH,
    )
    assert r.status_code in (200, 201), r.text
    after = {p["scene_id"]: p for p in c.get("/api/sites/yard/counts").json()["items"]}
    # the API keeps the image's method for the analyst's count: length
    assert after[reviewed]["reviewed"] and after[reviewed]["method"] == "length"
    assert after[reviewed]["count"] == 12.5
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{world['url']}/sites/yard")
        page.wait_for_selector("body[data-ready='1']")
        mine = _title(page, reviewed)
        assert "12.5 car equivalents (analyst's count ✓)" in mine, mine
        assert "railcars" not in mine, mine
        # the detector's point of a 3 m image said so already
        theirs = _title(page, detected)
        assert "car equivalents" in theirs and "railcars" not in theirs, theirs
        # and the line under the map of the reviewed image
        page.click(f"button.scene[data-scene='{reviewed}']")
        page.wait_for_selector("#scene-info .reviewed-count")
        line = page.locator("#scene-info .reviewed-count").text_content() or ""
        assert line.startswith("12.5 car equivalents ✓ analyst's count"), line
        assert errors == []

    # an analyst's count of an image counted car by car stays railcars
    objects = world["objects"]
    sid = objects["scene_ids"][4]
    r = c.put(f"/api/scenes/{sid}/review", json={"counts": {"all": 70}}, headers=AUTH)
    assert r.status_code in (200, 201), r.text
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(f"{world['url']}/sites/{objects['site']}")
        page.wait_for_selector("body[data-ready='1']")
        title = _title(page, sid)
        assert "70 railcars (analyst's count ✓)" in title, title
        page.click(f"button.scene[data-scene='{sid}']")
        page.wait_for_selector("#scene-info .reviewed-count")
        line = page.locator("#scene-info .reviewed-count").text_content() or ""
        assert line.startswith("70 railcars ✓ analyst's count"), line
