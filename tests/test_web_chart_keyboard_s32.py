"""The dashboard's count chart is usable from the keyboard (session 32).

Its points (and presence markers, event lines) could be reached with a mouse only: their
details were native tooltips (hover) and a click opened a point's image; only the
silence marks took the focus, each its own tab stop. Now the chart is one tab stop (the
roving tabindex: hundreds of points would be hundreds of Tab presses), the arrow keys
move between its marks in time order, the focused mark has a ring and its details shown
beside it and as its label, and Enter or Space does what a click does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from counted_site import LOCAL
from railwatch.storage import Database

SITE = "wellington"
JS = Path(__file__).resolve().parents[1] / "src" / "railwatch" / "web" / "static" / "js"

#: where the site page test leaves a picture of its chart with the focus ring (to look at)
SHOT = os.environ.get("RW_CHART_SHOT")

pytestmark = [pytest.mark.slow, pytest.mark.services]


def _point(when: str, scene_id: int, count: float | None, **extra: Any) -> dict[str, Any]:
    return {
        "when": when, "day": when[:10], "count": count,
        "low": None if count is None else count - 2, "high": None if count is None else count + 2,
        "usable": True, "scene_id": scene_id, "long_train_present": None, **extra,
    }  # fmt: skip


POINTS = [
    _point("2024-01-10T00:00:00+00:00", 1, 10),
    _point("2024-01-20T00:00:00+00:00", 2, None, usable=False),
    _point("2024-01-30T00:00:00+00:00", 3, None, long_train_present=True),
    _point("2024-02-14T00:00:00+00:00", 4, 30),
]
SPIKE = {
    "id": 5, "kind": "spike", "severity": "high", "cls": "all", "scene_id": 4,
    "when": "2024-02-14T00:00:00+00:00", "day": "2024-02-14", "value": 30,
    "explanation": "30 railcars on 2024-02-14",
}  # fmt: skip
SILENCE = {
    "id": 7, "kind": "quality", "severity": "medium", "cls": "all", "scene_id": None,
    "when": "2024-02-20T00:00:00+00:00", "day": "2024-02-20", "value": None,
    "explanation": "No usable image of this site since 2024-02-14",
}  # fmt: skip

STATE = """() => {
  const a = document.activeElement;
  const tip = document.querySelector(".chart-tip");
  const ring = document.querySelector(".focus-ring");
  const box = (n) => n.getBoundingClientRect();
  const inRing = ring && ring.style.display !== "none" && (() => {
    const r = box(ring), b = box(a);
    return r.left <= b.left && r.right >= b.right && r.top <= b.top && r.bottom >= b.bottom;
  })();
  return {
    key: a.dataset ? a.dataset.key || null : null, id: a.id || null,
    label: a.getAttribute ? a.getAttribute("aria-label") : null,
    role: a.getAttribute ? a.getAttribute("role") : null,
    title: a.querySelector && a.querySelector("title")
      ? a.querySelector("title").textContent : null,
    tip: tip && !tip.hidden && tip.offsetWidth > 0 ? tip.textContent : null,
    ring: Boolean(inRing),
    stops: [...document.querySelectorAll(".chart-svg [tabindex='0']")].map((n) => n.dataset.key),
  };
}"""


def _chart_page(browser: Any) -> Any:
    page = browser.new_page(viewport={"width": 900, "height": 500})
    page.set_content(
        "<html><body><button id='before'>before</button>"
        "<div id='c' style='width:760px'></div><button id='after'>after</button></body></html>"
    )
    page.add_script_tag(path=str(JS / "chart.js"))
    page.evaluate(
        """([points, alerts]) => {
          window.picked = []; window.alerted = []; window.pageKeys = [];
          document.addEventListener("keydown", (e) => {
            if (e.key !== "Tab" && e.key !== "Shift") window.pageKeys.push(e.key);
          });
          window.chart = RWChart.draw(document.getElementById("c"), points, {
            events: [{date: "2024-02-01", label: "Flood"}], alerts, zone: "UTC+12",
            onPick: (id) => window.picked.push(id), onAlert: (a) => window.alerted.push(a.id),
          });
        }""",
        [POINTS, [SPIKE, SILENCE]],
    )
    return page


def test_the_chart_is_one_tab_stop_and_the_arrows_walk_its_marks(browser: Any) -> None:
    page = _chart_page(browser)
    page.focus("#before")
    page.keyboard.press("Tab")
    first = page.evaluate(STATE)
    assert first["key"] == "scene:1" and first["stops"] == ["scene:1"], first
    order = [first["key"]]
    for _ in range(6):
        page.keyboard.press("ArrowRight")
        order.append(page.evaluate(STATE)["key"])
    # in time order: the event (2024-02-01 at the site) between the presence marker and the
    # last point, the silence last; the last press stays on the last mark
    assert order == [
        "scene:1", "scene:2", "scene:3", "event:2024-02-01:Flood", "scene:4",
        "silence:2024-02-20", "silence:2024-02-20",
    ]  # fmt: skip
    page.keyboard.press("Home")
    assert page.evaluate(STATE)["key"] == "scene:1"
    page.keyboard.press("End")
    assert page.evaluate(STATE)["key"] == "silence:2024-02-20"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowUp")
    assert page.evaluate(STATE)["key"] == "event:2024-02-01:Flood"
    page.keyboard.press("PageDown")
    assert page.evaluate(STATE)["key"] == "silence:2024-02-20"
    # the arrows stay in the chart: the page's ←/→ (the previous/next image) never saw them
    assert page.evaluate("window.pageKeys") == []
    # one tab stop: Tab leaves the chart, Shift+Tab comes back to the mark last focused
    page.keyboard.press("Tab")
    assert page.evaluate(STATE)["id"] == "after"
    page.keyboard.press("Shift+Tab")
    back = page.evaluate(STATE)
    assert back["key"] == "silence:2024-02-20" and back["stops"] == ["silence:2024-02-20"]
    page.close()


def test_the_focused_mark_has_a_ring_and_its_details_shown_and_read(browser: Any) -> None:
    page = _chart_page(browser)
    page.focus("#before")
    page.keyboard.press("Tab")
    st = page.evaluate(STATE)
    assert st["role"] == "button" and st["ring"], st
    assert st["title"].startswith("2024-01-10: 10 railcars (8–12)"), st
    assert "image taken 2024-01-10 00:00 UTC" in st["title"]
    assert st["label"].startswith(st["title"]) and "Enter opens this image" in st["label"]
    assert st["tip"] == st["label"]
    page.keyboard.press("ArrowRight")
    st = page.evaluate(STATE)
    assert st["label"].startswith("2024-01-20: unusable image (not counted)") and st["ring"], st
    page.keyboard.press("ArrowRight")
    assert "long train seen" in page.evaluate(STATE)["label"]
    page.keyboard.press("ArrowRight")
    st = page.evaluate(STATE)
    assert st["role"] == "img" and st["label"] == "event 2024-02-01 at the site: Flood", st
    assert st["tip"] == st["label"] and st["ring"]
    page.keyboard.press("ArrowRight")
    st = page.evaluate(STATE)
    # its red says an alert rests on it: said in words too, in the tooltip and the label
    assert "alert: high spike" in st["title"] and "alert: high spike" in st["label"], st
    page.keyboard.press("ArrowRight")
    st = page.evaluate(STATE)
    assert st["label"].startswith("2024-02-20 at the site (UTC+12 nominal): silence, medium")
    assert st["tip"] == st["label"] and st["ring"]
    # the details go when the focus leaves the chart
    page.focus("#after")
    st = page.evaluate(STATE)
    assert st["tip"] is None and not st["ring"]
    page.close()


def test_enter_and_space_do_what_a_click_does(browser: Any) -> None:
    page = _chart_page(browser)
    page.focus("#before")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")  # an event: nothing to open
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    assert page.evaluate("window.picked") == [1, 4]
    assert page.evaluate("window.alerted") == [7]
    assert page.evaluate("window.pageKeys") == ["Enter"]  # the event's, not handled
    # a click picks too, and shows no keyboard ring (the selection marks it)
    page.locator(".chart-svg [data-key='scene:3']").click()
    st = page.evaluate(STATE)
    assert page.evaluate("window.picked") == [1, 4, 3]
    assert st["stops"] == ["scene:3"] and st["tip"] is None and not st["ring"]
    page.close()


def test_select_moves_the_tab_stop_to_the_image_shown(browser: Any) -> None:
    page = _chart_page(browser)
    page.evaluate("window.chart.select(4)")
    assert page.evaluate(STATE)["stops"] == ["scene:4"]
    assert page.get_attribute(".chart-svg [data-key='scene:4']", "aria-current") == "true"
    page.focus("#before")
    page.keyboard.press("Tab")
    assert page.evaluate(STATE)["key"] == "scene:4"
    page.close()


def test_a_redraw_keeps_the_focus_on_its_mark(browser: Any) -> None:
    """Another class chosen or a review sent redraws the chart: the keyboard's mark has
    the focus again, not the page."""
    page = _chart_page(browser)
    page.focus("#before")
    page.keyboard.press("Tab")
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(STATE)["key"] == "scene:4"
    page.evaluate(
        """([points, alerts]) => { window.chart = RWChart.draw(document.getElementById("c"),
             points, {alerts, zone: "UTC+12", onPick: (id) => window.picked.push(id)}); }""",
        [POINTS, [SPIKE, SILENCE]],
    )
    st = page.evaluate(STATE)
    assert st["key"] == "scene:4" and st["stops"] == ["scene:4"], st
    page.keyboard.press("Enter")
    assert page.evaluate("window.picked") == [4]
    page.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A UTC+12 site of 121 counted images, the last a rise (a spike alert)."""
    pytest.importorskip("fastapi")
    from helpers import add_analysed_wellington
    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    tmp = tmp_path_factory.mktemp("chart-keyboard")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    try:
        add_analysed_wellington(db, SITE, analysed_after=timedelta(days=1))
        yield create_app(Settings(db=db.url, cache_dir=tmp / "cache"), db)
    finally:
        db.dispose()


def test_site_page_chart_from_the_keyboard(world: Any, browser: Any) -> None:
    """On the site page Tab from the class menu lands on the shown image's point (the
    latest, the spike), ← moves to the image before without opening it, Enter opens it
    as a click does; the focused point's details are shown beside it."""
    pytest.importorskip("uvicorn")
    from helpers import live_server

    with live_server(world) as url:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/sites/{SITE}")
        page.wait_for_selector("body[data-ready='1']")
        shown = page.evaluate("location.hash")
        assert shown == "#121"
        page.focus("#cls")
        page.keyboard.press("Tab")
        st = page.evaluate(STATE)
        assert st["key"] == "scene:121", st
        assert st["label"].startswith(f"{LOCAL}: 50 railcars (48–52)"), st
        assert "alerts: high spike" in st["label"] and st["tip"] == st["label"] and st["ring"]
        if SHOT:
            page.locator("#chart").screenshot(path=SHOT)
        page.keyboard.press("ArrowLeft")
        st = page.evaluate(STATE)
        assert st["key"] == "scene:120" and st["tip"] == st["label"], st
        assert page.evaluate("location.hash") == "#121"  # moving is not opening
        page.keyboard.press("Enter")
        page.wait_for_function("location.hash === '#120'")
        day = page.get_attribute(".chart-svg [data-key='scene:120']", "data-date")
        assert page.locator("#scene-info .scene-day").inner_text() == day
        assert page.locator("button.scene.active").get_attribute("data-scene") == "120"
        # the focus stays on the point opened, the tab stop with it
        st = page.evaluate(STATE)
        assert st["key"] == "scene:120" and st["stops"] == ["scene:120"], st
        assert not errors, errors
        page.close()
