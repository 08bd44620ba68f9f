"""The HTML report's layout in a real browser (Chromium via Playwright)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import chromium
from railwatch.report.html import write_html
from railwatch.report.model import Headline, ReportData, SceneRow

REASON = (
    "cloud and cloud shadow cover 59 % of the site, haze covers 23 % of the site, only 18 % "
    "of the site is clear (needs 80 %), resolution 3.0 m: cars are not separable, counts "
    "come from occupied track length"
)


@pytest.mark.services
def test_images_table_keeps_the_counts_in_view(tmp_path: Path) -> None:
    """On the demo report the reasons of unusable images (one line, up to 200
    characters) pushed clear, coverage, count and the classes out of the table's box:
    only date, sensor, GSD and 'usable' showed without scrolling sideways."""
    t0 = datetime(2023, 1, 1, tzinfo=UTC)
    rows = tuple(
        SceneRow(i, t0 + timedelta(days=20 * i), "PlanetScope-sim", 3.0, i % 2 == 0, 0.9, 1.0,
                 5.0 + i, 4.0 + i, 6.0 + i, {"tank": 2.0, "gondola": 1.0, "hopper": 1.0}, 1,
                 "objects", reasons=() if i % 2 == 0 else (REASON,))
        for i in range(6)
    )  # fmt: skip
    data = ReportData(
        site="layout", description="", generated=t0, scenes=rows, baseline=(), events=(),
        alerts=(), evidence=(), caveats=("c",), method=(("detector", "d"),),
        classes=("gondola", "hopper", "tank"),
        headline=Headline("layout", (None, None), rows[-2], 9.0, 8.0, 10.0, 9.0, 6.0, "summary"),
    )  # fmt: skip
    html = write_html(data, tmp_path / "r.html")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(html.as_uri())
        box = page.locator("#table .tablewrap").bounding_box()
        heads = {
            (th.text_content() or "").strip(): th.bounding_box()
            for th in page.locator("#table th").all()
        }
    assert box is not None
    right = box["x"] + box["width"] + 1
    for name in ("count [interval]", "gondola", "hopper", "tank", "covered", "method", "clear"):
        head = heads[name]
        assert head is not None and head["x"] + head["width"] <= right, name
    usable = heads["usable"]  # the reasons, wrapped, come last
    assert usable is not None and usable["x"] + usable["width"] <= right
