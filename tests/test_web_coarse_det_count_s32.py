"""The line under the map of an image counted by occupied length (3 m) says it has no car
outlines, where it read "0 detections" beside its count of car equivalents (the
site page's ``#det-count``, session 32); an image counted car by car keeps its number
of detections."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from helpers import chromium, serve_db

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")


from railwatch.storage import Database  # noqa: E402
from test_web_occupied_s30 import build  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.services]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("coarse-det-count")
    db = Database(f"sqlite:///{tmp / 'e2e.db'}")
    ids = build(db, tmp)
    try:
        with serve_db(db, tmp / "cache", token="t") as url:
            yield {**ids, "url": url}
    finally:
        db.dispose()


def test_a_length_counted_image_says_it_has_no_car_outlines(world: dict[str, Any]) -> None:
    sid = world["yard"]["runs"]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(f"{world['url']}/sites/yard#{sid}")
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_function(
            "!document.getElementById('det-count').textContent.includes('loading')"
        )
        text = page.locator("#det-count").text_content() or ""
        assert "no car outlines at this resolution" in text, text
        assert "0 detections" not in text
