"""The dashboard's site list shows every site, in Chromium (session 29 web audit).

The list asked ``/api/sites?limit=1000`` once: from the 1001st site on, sites were
never listed, while the page said "1003 sites" above them. It now reads the list page
by page (``RW.all``), as the site page reads its scenes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from shapely.geometry import box

from helpers import chromium, serve_db

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo

pytestmark = [pytest.mark.slow, pytest.mark.services]

#: More sites than one page of the API holds (its largest ``limit`` is 1000).
N_SITES = 1003


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    db = Database(f"sqlite:///{tmp_path / 'many-sites.db'}")
    with db.session() as s:
        for i in range(N_SITES):
            x = 100.0 + (i % 100) * 0.02
            y = 40.0 + (i // 100) * 0.02
            spec = SiteSpec(name=f"yard-{i:04d}", geometry=box(x, y, x + 0.01, y + 0.01))
            repo.add_site(s, spec)
    try:
        with serve_db(db, tmp_path / "cache") as url:
            yield url
    finally:
        db.dispose()


def test_the_site_list_shows_every_site_past_the_first_thousand(server: str) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        asked: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: asked.append(r.url))
        page.goto(server)
        page.wait_for_function("/ sites?$/.test(document.getElementById('status').textContent)")
        assert page.locator("#status").inner_text() == f"{N_SITES} sites"
        names = page.eval_on_selector_all("tr.site-row", "rows => rows.map(r => r.dataset.site)")
        assert names == [f"yard-{i:04d}" for i in range(N_SITES)]
        link = page.locator("tr[data-site='yard-1002'] a")
        assert link.get_attribute("href") == "/sites/yard-1002"
        lists = [u for u in asked if "/api/sites?" in u]
        assert len(lists) == 2 and "offset=1000" in lists[1], lists
        assert errors == []
        page.close()
