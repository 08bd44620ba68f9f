"""The review box of an image counted by occupied track length (3 m) offers no car
outlines (2026-12-06, session 38, web review).

At such an image the API has no cars to give or take: ``GET /api/scenes/{id}/cars`` is a
422 ("its cars are not separable") and a review with ``cars`` is refused. The site page
still showed *Download cars (GeoJSON)* (the browser saved the 422 or failed the
download) and the file input with *Send as my review* (refused after the analyst had
drawn outlines). It now says why there are none and keeps *My count* (a total in car
equivalents); an image counted car by car keeps both.
"""

from __future__ import annotations

from typing import Any

import pytest

from helpers import chromium
from test_web_occupied_e2e_s30 import world  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.services]


def _open(page: Any, url: str, site: str, sid: int) -> None:
    page.goto(f"{url}/sites/{site}#{sid}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#review-form")


def test_a_length_count_offers_no_outlines_to_download_or_send(
    world: dict[str, Any],  # noqa: F811
) -> None:
    sid = world["yard"]["runs"]
    # what the API answers at such an image: no cars to correct
    r = world["client"].get(f"/api/scenes/{sid}/cars")
    assert r.status_code == 422 and "not separable" in r.json()["detail"], r.text
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        _open(page, world["url"], "yard", sid)
        assert page.locator("#review-download").count() == 0
        assert page.locator("#review-file").count() == 0
        assert page.locator("#review-upload").count() == 0
        said = page.locator("#review-no-outlines").text_content() or ""
        assert "No car outlines at 3 m" in said and "occupied track length" in said, said
        # the total stays the analyst's to give, without covered loads
        assert page.locator("#review-total").count() == 1
        assert page.locator("#review-covered").count() == 0

        # an image counted car by car keeps the download and the upload
        objects = world["objects"]
        _open(page, world["url"], objects["site"], objects["scene_ids"][4])
        link = page.locator("#review-download")
        assert link.count() == 1
        href = link.get_attribute("href") or ""
        assert world["client"].get(href).status_code == 200
        assert page.locator("#review-file").count() == 1
        assert page.locator("#review-no-outlines").count() == 0
        assert errors == []
