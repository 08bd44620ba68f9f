"""The dashboard on a 320 px phone (the narrowest common screen, e.g. an iPhone SE's
first generation): no sideways scrolling on the site list or a site's page.

At 320 px the site page was 332 px wide (12 px of sideways scroll): under 900 px its
grid is one column as wide as its widest child, and the chart drew itself at least 320 px
wide beside the page's 12 px padding; it now takes down to 280 px (session 34; the
session-33 test checks 390 px only).
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from test_web_dashboard_views_s33 import _open, world  # noqa: F401  (world: a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.services]


@pytest.mark.parametrize("where", ["/", "/sites/yard"])
def test_a_320_px_phone_does_not_scroll_sideways(
    browser: Any,
    world: dict[str, Any],  # noqa: F811
    where: str,
) -> None:
    page = _open(browser, world["url"] + where, 320, 640)
    try:
        page.wait_for_selector("#token")
        if where == "/":
            page.wait_for_selector("#sites-body tr")
        else:
            page.wait_for_selector("body[data-ready='1']")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"the page is {width} px wide on a 320 px screen"
    finally:
        page.close()
