"""The count chart's events (2026-12-06, session 38, web review of the demo's site page).

* An event more than 60 days from the images is left off the chart's time axis (so that
  a far event does not squeeze the series); it was left out without a word, so a page
  with an event before its first image showed no sign of it. It is now named in a line
  under the chart, with whether it lies before or after the images.
* Two events a few days apart wrote their labels over each other ("Same day as last"
  and "Later event" read "Sa|Late..." on the demo); a label now goes one row down where
  it would cover another, and left of its line where it would run past the plot.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from helpers import chromium
from railwatch.web.app import static_dir

#: the package's own scripts (those of the railwatch imported)
JS = static_dir() / "js"

pytestmark = [pytest.mark.slow, pytest.mark.services]


def _point(day: str, scene_id: int, count: float) -> dict[str, Any]:
    when = f"{day}T02:00:00+00:00"
    return {
        "when": when, "day": day, "count": count, "low": count - 2, "high": count + 2,
        "usable": True, "scene_id": scene_id, "long_train_present": None,
    }  # fmt: skip


POINTS = [
    _point("2018-04-03", 1, 6),
    _point("2020-06-01", 2, 9),
    _point("2023-10-05", 3, 70),
    _point("2024-07-28", 4, 207),
]
EVENTS = [
    {"date": "2017-06-01", "label": "Early event"},
    {"date": "2023-09-13", "label": "Kim–Putin summit"},
    {"date": "2024-07-28", "label": "Same day as last"},
    {"date": "2024-08-01", "label": "Later event"},
    {"date": "2026-01-01", "label": "Far later event"},
]

LABELS = """() => [...document.querySelectorAll("#c text.event-label")].map((n) => {
  const b = n.getBoundingClientRect();
  return { text: n.textContent, left: b.left, right: b.right, top: b.top, bottom: b.bottom };
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _draw(browser: Any, events: list[dict[str, str]]) -> Any:
    page = browser.new_page(viewport={"width": 900, "height": 500})
    page.set_content("<html><body><div id='c' style='width:760px'></div></body></html>")
    page.add_script_tag(path=str(JS / "chart.js"))
    page.evaluate(
        """([points, events]) => {
          RWChart.draw(document.getElementById("c"), points, { events, alerts: [], zone: "UTC+9" });
        }""",
        [POINTS, events],
    )
    return page


def test_an_event_off_the_time_axis_is_named_under_the_chart(browser: Any) -> None:
    page = _draw(browser, EVENTS)
    drawn = page.eval_on_selector_all("#c line.event", "ls => ls.map((l) => l.dataset.date)")
    assert drawn == ["2023-09-13", "2024-07-28", "2024-08-01"], drawn
    note = page.locator("#c .chart-events-off")
    assert note.count() == 1
    text = note.text_content() or ""
    assert "2017-06-01 Early event (before the images shown)" in text, text
    assert "2026-01-01 Far later event (after the images shown)" in text, text
    assert "Kim–Putin" not in text
    # every event on the axis keeps its line and label; none named twice
    page.close()
    page = _draw(browser, EVENTS[1:4])
    assert page.locator("#c .chart-events-off").count() == 0
    page.close()


def test_event_labels_do_not_cover_each_other_nor_leave_the_plot(browser: Any) -> None:
    page = _draw(browser, EVENTS)
    labels = page.evaluate(LABELS)
    assert [lb["text"] for lb in labels] == ["Kim–Putin summit", "Same day as last", "Later event"]
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            apart = (
                a["right"] <= b["left"]
                or b["right"] <= a["left"]
                or a["bottom"] <= b["top"]
                or b["bottom"] <= a["top"]
            )
            assert apart, (a, b)
    svg = page.evaluate("() => document.querySelector('#c svg').getBoundingClientRect().right")
    assert all(lb["right"] <= svg for lb in labels), (labels, svg)
    page.close()
