"""The site list says what a 3 m site's latest count is of (2026-12-06, session 38,
web review).

A 3 m image is counted by occupied track length: its count is of car equivalents
(occupied metres / 14 m), as the site page's chart title and image line say. The site
list showed it as a bare number ("149.1"), read as railcars told one by one. The site
summary of the API now gives ``latest_method`` (a count's ``method``: ``length`` there)
and the list writes "car equivalents" after the number; a site counted car by car
keeps its bare number.
"""

from __future__ import annotations

from typing import Any

import pytest

from helpers import chromium
from test_web_occupied_e2e_s30 import world  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.services]


def test_the_summary_gives_the_latest_counts_method(world: dict[str, Any]) -> None:  # noqa: F811
    c = world["client"]
    sites = {s["name"]: s for s in c.get("/api/sites").json()["items"]}
    yard = sites["yard"]["summary"]
    objects = sites[world["objects"]["site"]]["summary"]
    assert yard["latest_count"] is not None and yard["latest_method"] == "length", yard
    assert objects["latest_count"] is not None and objects["latest_method"] == "objects"
    # the same in the site's own answer, and documented in the OpenAPI document
    assert c.get("/api/sites/yard").json()["summary"]["latest_method"] == "length"
    schema = c.get("/openapi.json").json()["components"]["schemas"]["SiteSummary"]
    assert "latest_method" in schema["required"]
    assert "car equivalents" in schema["properties"]["latest_method"]["description"]


def test_the_site_list_says_car_equivalents(world: dict[str, Any]) -> None:  # noqa: F811
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{world['url']}/")
        page.wait_for_selector("tr.site-row[data-site='yard'] td.latest")
        yard = page.locator("tr.site-row[data-site='yard'] td.latest")
        text = yard.inner_text()
        assert "car equivalents" in text, text
        mark = yard.locator(".car-eq")
        assert "track length" in (mark.get_attribute("title") or "")
        other = page.locator(f"tr.site-row[data-site='{world['objects']['site']}'] td.latest")
        assert "car equivalents" not in other.inner_text(), other.inner_text()
        assert errors == []
