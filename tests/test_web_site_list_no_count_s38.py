"""The site list says why a site has no latest count (2026-12-06, session 38, web
review).

A site with no image, and one whose images are all unusable, read "– ·" under "Latest
count": a dash and a trend dot, the same for both, so a site of clouded images only
looked like one not processed yet and nothing said its missing counts were missing data.
The cell now says "no images yet" or "no usable image: missing data, not 0", without a
trend mark; a counted site keeps its count, arrow and day.
"""

from __future__ import annotations

from typing import Any

import pytest

from test_dashboard_s35 import CLOUDY, EMPTY, world  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.services]


def _cell(page: Any, site: str) -> Any:
    row = page.locator(f'tr.site-row[data-site="{site}"]')
    row.wait_for()
    return row.locator("td.latest")


def test_a_site_without_a_count_says_why(browser: Any, world: dict[str, Any]) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(world["url"] + "/")
        empty = _cell(page, EMPTY)
        assert empty.inner_text().strip() == "no images yet"
        assert empty.locator(".trend").count() == 0
        cloudy = _cell(page, CLOUDY)
        assert cloudy.inner_text().strip() == "no usable image: missing data, not 0"
        assert cloudy.locator(".trend").count() == 0
        counted = _cell(page, world["site"])
        assert counted.locator(".trend").count() == 1
        assert counted.locator(".no-count").count() == 0
        assert errors == []
    finally:
        page.close()
