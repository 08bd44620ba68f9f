"""Wording that said something other than what was shown (2026-12-06, session 40).

* ``railwatch eval --site`` of count-only reviews (``scene review ID --count N``)
  printed "Detection evaluation (1 scene): boxes matched" above a table of 0 scenes and
  dashes: no box was matched, the scene has no box labels, and only its count was
  compared. The heading now says what was evaluated ("no box labels; 1 reviewed by count
  only"), short enough for 80 columns.
* ``railwatch export-labels`` said "2 chips with 322 labelled cars" of a scene of 230
  cars: chips overlap (the last row and column are moved back to fit) and a car in the
  overlap is a label of each chip, so the labels were counted as cars. It now says the
  distinct cars and, where they differ, the labels; ``--json`` and the manifest's scene
  entries give ``cars`` beside ``objects``.
* The dashboard's site list showed the demo's "207 ▼" with a green ▼: the arrows had the
  alert severities' colours (▲ a high alert's red, ▼ a low one's green), which read as a
  judgement of the change, good news for a fall. They are now drawn in the count's own
  colour, and their words say what they compare: "down from 230 on 2024-06-17, 41 days
  before (−23)", not "the previous day's count", which a day six weeks before is not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from counted_site import add_counted_site
from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import PLANS, SITE_UTM, X0, FakeCount, populate, to_wgs84
from test_eval_reviews import _car, _scene


@pytest.fixture
def yard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, int, int]:
    """A site with a scene reviewed by count only (73 cars, the detector 61) and a scene
    not reviewed yet (its id second), whose detector found one car."""
    url = f"sqlite:///{tmp_path / 'eval.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 160)
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        counted = _scene(s, site, 6, [], FakeCount(61, 55, 70, {}, 9))
        boxed = _scene(s, site, 5, [_car(X0 + 100)], FakeCount(1, 1, 1, {}, 0))
    with db.session() as s:
        repo.set_scene_review(s, counted, {"all": 73})
    return db, counted, boxed


def _heading(out: str) -> str:
    return next(ln for ln in out.splitlines() if ln.startswith("Detection evaluation"))


def test_eval_site_of_count_only_reviews_says_no_boxes_were_matched(
    yard: tuple[Database, int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _, _ = yard
    db.dispose()
    assert main(["eval", "--site", "yard"]) == 0
    out = capsys.readouterr().out
    heading = "Detection evaluation (1 scene): no box labels; 1 reviewed by count only"
    assert _heading(out) == heading
    # the table under it: boxes matched in 0 scenes, no precision nor recall
    row = next(ln for ln in out.split("Counts per scene")[0].splitlines() if "│ all " in ln)
    assert [c.strip() for c in row.strip("│").split("│")] == ["all", "0"] + ["–"] * 6
    # the count comparison is there: 73 against 61
    line = next(ln for ln in out.split("Counts per scene")[1].splitlines() if "│ all " in ln)
    assert line.split("│")[2].strip() == "12"


def test_eval_site_of_outlines_and_counts_says_which_were_matched_box_by_box(
    yard: tuple[Database, int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _, boxed = yard
    with db.session() as s:  # the analyst outlined two cars where the detector found one
        repo.set_scene_review(s, boxed, cars=[_car(X0 + 100), _car(X0 + 130)])
    db.dispose()
    assert main(["eval", "--site", "yard"]) == 0
    out = capsys.readouterr().out
    assert _heading(out) == (
        "Detection evaluation (2 scenes): boxes matched in 1; 1 reviewed by count only"
    )
    row = next(ln for ln in out.splitlines() if ln.startswith("│ all ") and "0.667" in ln)
    assert [c.strip() for c in row.strip("│").split("│")][:4] == ["all", "1", "1", "0.5"]


@pytest.fixture(scope="module")
def labelled_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("chips")
    url = f"sqlite:///{tmp / 'rw.db'}"
    db = Database(url)
    populate(db, tmp / "scenes")
    db.dispose()
    return url


def test_export_labels_counts_a_car_in_overlapping_chips_once(
    labelled_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # scene 1's site window is 601 x 300 pixels: chips of 160 overlap (columns at 0, 160,
    # 320 and 441; rows at 0 and 140) and each of its cars is in two of them
    cars = PLANS[0].n
    out = tmp_path / "chips"
    argv = ["--db", labelled_url, "export-labels", "--scene", "1", "--chip", "160"]
    assert main([*argv, "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert (
        f"wrote 8 chips with {cars} labelled cars ({2 * cars} labels: chips overlap, and a car "
        "in the overlap is labelled in each) from 1 scene to"
    ) in " ".join(said.split())
    (entry,) = json.loads((out / "railwatch_export.json").read_text())["scenes"]
    assert (entry["cars"], entry["objects"]) == (cars, 2 * cars)
    assert main([*argv, "--out", str(tmp_path / "again"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["cars"], summary["objects"], summary["chips"]) == (cars, 2 * cars, 8)


def test_export_labels_without_overlap_says_the_cars_alone(
    labelled_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--db", labelled_url, "export-labels", "--scene", "1", "--chip", "1024"]
    assert main([*argv, "--out", str(tmp_path / "one")]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert f"wrote 1 chip with {PLANS[0].n} labelled cars from 1 scene to" in said
    assert "labels:" not in said.split(" to ")[0]


@pytest.fixture(scope="module")
def falling(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard over a site counted 230 cars on 2024-06-17 and 207 on 2024-07-28,
    as the demo's latest days (UTC, the site at 0°E)."""
    pytest.importorskip("uvicorn")
    from helpers import serve_db

    tmp = tmp_path_factory.mktemp("trend")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    counts = [
        (datetime(2024, 6, 17, 10, 0, tzinfo=UTC), 230.0),
        (datetime(2024, 7, 28, 10, 0, tzinfo=UTC), 207.0),
    ]
    try:
        add_counted_site(db, "yard", box(0.001, 51.0, 0.011, 51.01), counts)
        with serve_db(db, tmp / "cache") as url:
            yield url
    finally:
        db.dispose()


@pytest.mark.slow
@pytest.mark.services
def test_the_site_lists_falling_count_is_no_green_arrow_and_says_what_it_compares(
    falling: str,
) -> None:
    from helpers import chromium

    with chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{falling}/")
        page.wait_for_selector(".site-row")
        arrow = page.locator(".site-row .trend")
        assert arrow.inner_text().strip() == "▼"
        colours: dict[str, Any] = page.evaluate(
            """() => {
              const probe = (v) => {  // a CSS colour as the computed rgb() it is drawn in
                const e = document.createElement("span");
                e.style.color = v;
                document.body.append(e);
                const c = getComputedStyle(e).color;
                e.remove();
                return c;
              };
              const root = getComputedStyle(document.documentElement);
              return {
                arrow: getComputedStyle(document.querySelector(".site-row .trend")).color,
                count: getComputedStyle(document.querySelector(".site-row td.latest")).color,
                low: probe(root.getPropertyValue("--low")),
                high: probe(root.getPropertyValue("--high")),
              };
            }"""
        )
        # neither the green of a low alert nor the red of a high one: the count's colour
        assert colours["arrow"] not in (colours["low"], colours["high"]), colours
        assert colours["arrow"] == colours["count"], colours
        words = (
            "trend: down from 230 on 2024-06-17, 41 days before (−23): the last earlier "
            "day with a count made the same way"
        )
        assert page.get_attribute(".site-row .trend-tip", "title") == words
        said = page.locator(".site-row .trend-words").text_content() or ""
        assert said.strip() == f"({words})"
        assert errors == []
        page.close()
