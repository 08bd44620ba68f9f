"""Wording that said something other than what was shown (2026-12-06, session 40).

* ``railwatch eval --site`` of count-only reviews (``scene review ID --count N``)
  printed "Detection evaluation (1 scene): boxes matched" above a table of 0 scenes and
  dashes: no box was matched, the scene has no box labels, and only its count was
  compared. The heading now says what was evaluated.
* ``railwatch export-labels`` said "2 chips with 322 labelled cars" of a scene of 230
  cars: chips overlap (the last row and column are moved back to fit) and a car in the
  overlap is a label of each chip, so the labels were counted as cars. It now says the
  distinct cars and, where they differ, the labels; ``--json`` and the manifest's scene
  entries give ``cars`` beside ``objects``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
    assert _heading(out) == (
        "Detection evaluation (1 scene): no boxes matched; 1 reviewed by count only (no "
        "box labels): its count compared below"
    )
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
        "Detection evaluation (2 scenes): boxes matched in 1; 1 reviewed by count only (no "
        "box labels): its count compared below"
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
