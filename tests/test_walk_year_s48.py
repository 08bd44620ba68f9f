"""A team's year of history walked (2026-12-07, session 48): 15 sites of 50, 200 and
1,000 images each (0.3-1 m, some 3 m, 15 % cloudy), events, daily analyses,
acknowledgements, reports, the dashboard and exports.

- The report's evidence asks, alert after alert, for the baseline each alert image was
  judged with (``report.data.judged_at``), of the alert's series. Its cache of a site's
  points held 4 series, and a site's alerts, in date order, are of up to 10 (the total,
  covered loads, the car classes): with 7, the points were built and hashed again for
  most alerts, O(alerts x images): 55 builds for 222 alerts at 1,000 images (the report's
  data 2.7-3.4 s of CPU, now 2.0-2.3 s).
- The analysis read a site's scenes and counts once per series (the total, covered loads,
  each car type): 2 statements and every scene loaded again per class (re-analysing 15
  sites of 1,000 images: 19-20 s of CPU, now 13-15 s; ``analysis.store.site_points``,
  now ``storage.repo.class_series`` reads them once).
- The report's chart set its date axis after drawing: matplotlib then measured every bar,
  line and band again (``relim`` on a change of units): each chart of 1,000 images took
  5.4-7.8 s of CPU, now 5.0-6.6 s (drawn twice for the HTML, once for the PDF).
- The dashboard's chart stacked event labels 9 rows deep over the counts (25 events in
  5 years), and the site page asked for the whole count series again at every resize
  event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from matplotlib.axes import Axes
from matplotlib.dates import date2num

from helpers import statements
from railwatch.analysis.store import analyze_and_store, site_points
from railwatch.detect.base import CAR_CLASSES
from railwatch.report import data
from railwatch.report.charts import StackedBars, timeseries_figure
from railwatch.report.model import SceneRow
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from report_db import FakeCount, add_counted_scene

T0 = datetime(2024, 1, 3, 10, tzinfo=UTC)


def _rows(n: int) -> list[SceneRow]:
    """``n`` images two days apart, 0.5 m, each counted with cars of every class."""
    rows = []
    for i in range(n):
        by_class = {c: float(2 + (i * (k + 3)) % 7) for k, c in enumerate(CAR_CLASSES)}
        total = sum(by_class.values())
        rows.append(
            SceneRow(
                scene_id=i + 1,
                when=T0 + timedelta(days=2 * i),
                sensor="S",
                gsd=0.5,
                usable=True,
                clear_fraction=0.95,
                coverage=1.0,
                total=total,
                low=total - 3,
                high=total + 3,
                by_class=by_class,
                covered=i % 3,
                method="objects",
                class_counts={c: (v, v - 1, v + 1, False) for c, v in by_class.items()},
            )
        )
    return rows


def test_the_evidence_builds_each_series_points_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alerts of 9 series in date order, as a report's evidence asks of them: each
    series's points are built once, not once per alert (before: 4 series held, 90 builds
    for 10 alerts of each of 9 series)."""
    rows = _rows(60)
    built: list[str] = []
    make = data._series_points

    def counting(rows: list[SceneRow], cls: str) -> tuple[object, ...]:
        built.append(cls)
        return make(rows, cls)

    monkeypatch.setattr(data, "_RECENT", ())
    monkeypatch.setattr(data, "_series_points", counting)
    series = ("all", "covered", *CAR_CLASSES)
    for row in rows[40:50]:
        for cls in series:
            assert data.spread_at(rows, row.when, None, cls, "objects") is not None
    assert sorted(built) == sorted(series), built


def _patch_limit_updates(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The patches matplotlib measures into an axes' data limits (a private method of
    its ``Axes``, which every bar passes through once as it is added)."""
    seen: list[object] = []
    update = getattr(Axes, "_update_patch_limits")  # noqa: B009  (private: not typed)

    def counting(self: Axes, patch: object) -> None:
        seen.append(patch)
        update(self, patch)

    monkeypatch.setattr(Axes, "_update_patch_limits", counting)
    return seen


@pytest.mark.parametrize("narrow", [False, True])
def test_the_chart_measures_each_bar_once(monkeypatch: pytest.MonkeyPatch, narrow: bool) -> None:
    """Each bar of the stacked chart is measured into the axes' limits once, when drawn
    (before: twice, the second time by the date axis set after the bars)."""
    seen = _patch_limit_updates(monkeypatch)
    fig = timeseries_figure(_rows(80), narrow=narrow)
    (ax, *_) = fig.axes
    # each class's bars one collection since session 49 (StackedBars), measured into the
    # limits as a whole: no bar is a patch of its own
    bars = [h for c in ax.containers if isinstance(c, StackedBars) for h in c.heights]
    assert len(bars) == 80 * len(CAR_CLASSES)
    assert len(seen) == len(ax.patches), (len(seen), len(ax.patches))
    # the axis is a date axis, as before: ticks at the images' years and months
    assert ax.xaxis.get_converter() is not None
    lo, hi = ax.get_xlim()
    assert lo <= date2num(T0) and date2num(T0 + timedelta(days=158)) <= hi


def _chart_point(k: int) -> dict[str, object]:
    day = (T0 + timedelta(days=2 * k)).date().isoformat()
    count = 60.0 + (k * 37) % 41
    return {
        "when": f"{day}T02:00:00+00:00", "day": day, "count": count, "low": count - 4,
        "high": count + 4, "usable": True, "scene_id": k + 1, "long_train_present": None,
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.services
def test_the_dashboard_chart_keeps_event_labels_over_the_counts() -> None:
    """Two years of images and an event every month: the labels stacked in as many rows
    as they needed (9 on a 760 px chart), down over the counts and alerts. Now two rows
    at most, in the headroom over the counts; every event keeps its line, its tooltip
    and its keyboard label, and a note under the chart says how many have no label."""
    from helpers import chromium
    from railwatch.web.app import static_dir

    points = [_chart_point(k) for k in range(365)]
    events = [
        {"date": (T0 + timedelta(days=30 * k + 5)).date().isoformat(), "label": f"track work {k}"}
        for k in range(24)
    ]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 900, "height": 500})
        page.set_content("<html><body><div id='c' style='width:760px'></div></body></html>")
        page.add_script_tag(path=str(static_dir() / "js" / "chart.js"))
        page.evaluate(
            """([points, events]) => RWChart.draw(
              document.getElementById("c"), points, { events, alerts: [], zone: "UTC+0" })""",
            [points, events],
        )
        rows = page.eval_on_selector_all(
            "#c text.event-label", "ns => ns.map((n) => Number(n.dataset.row))"
        )
        lines = page.eval_on_selector_all(
            "#c line.event", "ls => ls.map((l) => l.getAttribute('aria-label'))"
        )
        notes = page.eval_on_selector_all(
            "#c .chart-events-unlabelled", "ns => ns.map((n) => n.textContent)"
        )
        page.close()
    assert rows and max(rows) <= 1, rows  # before: rows 0-8
    assert len(lines) == 24
    assert lines[-1] == f"event {events[-1]['date']} at the site: track work 23"
    assert len(notes) == 1, notes
    assert notes[0].startswith(f"{24 - len(rows)} of the events drawn have no label"), notes


def _site(db: Database, name: str, bbox: str, classes: tuple[str, ...], n: int) -> None:
    """A site of ``n`` counted 0.5 m images with counts of ``classes`` beside the total."""
    with db.session() as s:
        site = repo.add_site(s, site_from_bbox(name, bbox))
        for k in range(n):
            total = float(10 + (k * 7) % 9)
            by_class = {c: (2.0, 1.0, 3.0) for c in classes}
            count = FakeCount(total, total - 2, total + 2, by_class, covered=k % 2)
            add_counted_scene(s, site, T0 + timedelta(days=3 * k), 0.5, count, 10_000 * n + k)


def test_the_analysis_reads_a_site_once_whatever_its_classes(tmp_path: object) -> None:
    """A site counted in 7 car types is read in as many statements as one counted in 1
    (before: 2 more a class, each loading every scene of the site again); its points
    are those of ``count_series``, class by class, and re-analysing it changes nothing."""
    db = Database(f"sqlite:///{tmp_path}/rw.db")
    _site(db, "plain", "10.0,50.0,10.01,50.005", ("tank",), 40)
    _site(db, "typed", "11.0,50.0,11.01,50.005", CAR_CLASSES, 40)
    seen = {}
    for name in ("plain", "typed"):
        with db.session(readonly=True) as s, statements(db) as sql:
            points = site_points(s, name)
        seen[name] = len(sql)
        with db.session(readonly=True) as s:
            kinds = CAR_CLASSES if name == "typed" else ("tank",)
            classes = sorted({"all", "covered", *kinds})
            assert points == [p for c in classes for p in repo.count_series(s, name, cls=c)]
    assert seen["typed"] == seen["plain"], seen  # before: 12 more
    first = analyze_and_store(db, "typed")
    again = analyze_and_store(db, "typed")
    assert again.unchanged == len(first.alerts) and again.updated == again.created == 0


@pytest.mark.slow
@pytest.mark.services
def test_resizing_the_site_page_asks_for_the_counts_once(tmp_path: Path) -> None:
    """Each resize event fetched the whole count series again (290 kB at 1,000 images;
    a window's edge dragged sends dozens): the chart is drawn again, with its series
    asked for again, once the resizing ends (a fourth of a second after the last)."""
    from helpers import chromium, serve_db
    from web_db import populate

    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    site = populate(db, tmp_path / "img")["site"]
    try:
        with serve_db(db, tmp_path / "cache") as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            asked: list[str] = []
            page.on("request", lambda r: asked.append(r.url) if "/counts?" in r.url else None)
            page.goto(f"{url}/sites/{site}")
            page.wait_for_selector("body[data-ready='1']")
            page.wait_for_selector("#chart svg")
            before = len(asked)
            width_of = "() => document.querySelector('#chart svg').getAttribute('width')"
            first = page.evaluate(width_of)
            # a drag of the window's edge: resize events in quick succession
            page.evaluate(
                "() => { for (let k = 0; k < 12; k++) dispatchEvent(new Event('resize')); }"
            )
            page.set_viewport_size({"width": 900, "height": 900})
            page.wait_for_function(f"w => ({width_of})() !== w", arg=first)
            page.wait_for_timeout(600)  # any later drawing would have asked by now
            assert len(asked) == before + 1, asked[before:]  # before: 13
            page.close()
    finally:
        db.dispose()
