"""The header's sign-in keeps its line beside a long site description (2026-12-06,
session 38, web review of the demo's site page at 1366×768).

The demo's description takes most of the header: the sign-in shrank instead of it, so
*Sign in* went under the token box, and once signed in "signed in" and *Sign out* were
two lines each. The sign-in now keeps its width and the description wraps; a phone's
header still wraps its items (tests/test_web_dashboard_views_s33.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from test_dashboard_s35 import LONG, TOKEN, world  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.services]

#: How many lines each of the given elements' text takes, and their tops.
LINES = """(sels) => sels.map((sel) => {
  const e = document.querySelector(sel);
  const r = document.createRange();
  r.selectNodeContents(e);
  const tops = new Set([...r.getClientRects()].map((q) => Math.round(q.top)));
  return [tops.size, Math.round(e.getBoundingClientRect().top)];
})"""


def test_the_sign_in_stays_on_one_line_beside_a_long_description(
    browser: Any,
    world: dict[str, Any],  # noqa: F811
) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{world['url']}/sites/{LONG}")
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector("#token")
        (_, box_top), (button_lines, button_top) = page.evaluate(
            LINES, ["#token", "#signin button[type=submit]"]
        )
        assert button_lines == 1 and abs(box_top - button_top) <= 4, (box_top, button_top)
        # the description wraps instead, and stays on the screen
        assert page.evaluate(LINES, ["#site-desc"])[0][0] >= 2
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")

        page.fill("#token", TOKEN)
        page.click("#signin button[type=submit]")
        page.wait_for_selector("#auth[data-signed-in='1']")
        (said, _), (button, _) = page.evaluate(LINES, ["#auth .signed-in", "#signout"])
        assert (said, button) == (1, 1), (said, button)
    finally:
        page.close()
