"""A site page with no image shows a plain line where the image stepper stands
(2026-12-06, session 38, web review): it showed an empty slider and its ◀ ▶ arrows,
which did nothing. The line says what to do: ingest images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import chromium, serve_db

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from shapely.geometry import box

from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo

pytestmark = [pytest.mark.slow, pytest.mark.services]

EMPTY = "empty-yard"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("no-images")
    db = Database(f"sqlite:///{tmp / 'web.db'}")
    with db.session() as s:
        repo.add_site(s, SiteSpec(name=EMPTY, geometry=box(130.6, 42.41, 130.61, 42.42)))
    try:
        with serve_db(db, tmp / "cache", token="t") as served:
            yield served
    finally:
        db.dispose()


def test_no_stepper_without_images(url: str) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/sites/{EMPTY}")
        page.wait_for_selector("body[data-ready='1']")
        assert not page.locator(".stepper").is_visible()
        assert not page.locator("#slider").is_visible()
        assert not page.locator("#prev").is_visible() and not page.locator("#next").is_visible()
        side: Any = page.locator(".side .no-images-side")
        assert side.is_visible()
        text = side.inner_text()
        assert "No images yet" in text and f"railwatch ingest {EMPTY}" in text, text
        # the line under the map says it too, as before
        assert "No images of this site yet" in page.locator("#scene-info").inner_text()
        # the arrow keys do nothing, and say nothing wrong
        page.keyboard.press("ArrowRight")
        assert errors == []
