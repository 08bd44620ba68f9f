"""The chart's title speaks of 3 m car equivalents only where the series shown has some
(2026-12-06, session 38, web review).

At an image counted by occupied track length (3 m) only the total is known: a type's
series (``boxcar``, ``tank``, ``covered``, ...) has no count there (``count`` null, a
"·" under the axis), though its points keep ``method`` ``length``. The title read
"Railcars per image (3 m images: car equivalents from track length)" for such a class
too, where no point on the axis is a car equivalent; it now says so for the series that
has them (the site total) alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from helpers import chromium
from test_web_occupied_e2e_s30 import world  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.services]

LENGTH_TITLE = "Railcars per image (3 m images: car equivalents from track length)"


def test_the_title_names_car_equivalents_only_for_a_series_that_has_them(
    world: dict[str, Any],  # noqa: F811
) -> None:
    c = world["client"]
    classes = [k for k in c.get("/api/sites/yard/counts?limit=1").json()["classes"] if k != "all"]
    assert classes, "the 3 m yard has a type's series"
    cls = classes[0]
    points = c.get(f"/api/sites/yard/counts?class={cls}").json()["items"]
    # what the API says of the type at 3 m: counted by length, no count of the type
    assert any(p["method"] == "length" for p in points), points
    assert all(p["count"] is None for p in points), points
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(f"{world['url']}/sites/yard")
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_function(
            f"document.getElementById('chart-title').textContent === {LENGTH_TITLE!r}"
        )
        page.select_option("#cls", cls)
        page.wait_for_function(
            "document.getElementById('chart-title').textContent === 'Railcars per image'",
            timeout=20_000,
        )
        page.select_option("#cls", "all")
        page.wait_for_function(
            f"document.getElementById('chart-title').textContent === {LENGTH_TITLE!r}"
        )
