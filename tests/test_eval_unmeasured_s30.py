"""Precision, recall and F1 with nothing to measure are null, not a perfect 1.

`railwatch eval --site SITE --json` on a site whose reviews are counts only (no outline,
so no box to match) reported precision, recall and F1 of 1.0 at both IoUs with tp, fp and
fn all 0, and its boxes block counted the counts-only scenes as if their boxes had been
matched. The CLI table showed "–" since 2c2d0cc; the core and the JSON now agree with it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.eval import PRF, SceneEval, evaluate_scene, summarise
from railwatch.detect.geojson import FeatureSet
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import (
    SITE_UTM,
    FakeCount,
    add_counted_scene,
    to_wgs84,
)


def _car(x: float) -> Detection:
    return Detection(OrientedBox(x, 0.0, 14, 3.2, 0.0), cls="boxcar")


def test_a_figure_with_nothing_to_measure_is_none() -> None:
    nothing = PRF(0, 0, 0)
    assert (nothing.precision, nothing.recall, nothing.f1) == (None, None, None)
    assert nothing.as_dict() == {
        "tp": 0,
        "fp": 0,
        "fn": 0,
        "precision": None,
        "recall": None,
        "f1": None,
    }
    # nothing detected, 3 cars missed: no precision, recall 0, F1 0
    missed = PRF(0, 0, 3)
    assert (missed.precision, missed.recall, missed.f1) == (None, 0.0, 0.0)
    # no car in the truth, 3 false alarms: precision 0, no recall, F1 0
    alarms = PRF(0, 3, 0)
    assert (alarms.precision, alarms.recall, alarms.f1) == (0.0, None, 0.0)
    # the figures that could be measured are as before
    some = PRF(4, 2, 1)
    assert some.precision == pytest.approx(4 / 6) and some.recall == pytest.approx(0.8)
    assert some.f1 == pytest.approx(2 * (4 / 6) * 0.8 / (4 / 6 + 0.8))


def test_an_empty_yard_read_as_empty_has_no_f1() -> None:
    empty = evaluate_scene("e", FeatureSet((), None, 0.5), FeatureSet((), None, 0.5))
    row = summarise([empty])["scenes"][0]
    assert row["f1_iou0.3"] is None and row["f1_iou0.5"] is None


def test_the_boxes_block_counts_only_the_scenes_matched_box_by_box() -> None:
    cars = tuple(_car(20.0 * i) for i in range(4))
    boxed = evaluate_scene("b", FeatureSet(cars, None, 0.5), FeatureSet(cars[:3], None, 0.5))
    # a scene reviewed by count only (as railwatch.review.evaluate_reviews makes it)
    counted = SceneEval("c", 0.5, "objects", 41, 28.0, {})
    o = summarise([boxed, counted])["overall"]
    assert o["scenes"] == 2 and o["count"]["scenes"] == 2
    assert o["iou0.3"] == {
        "scenes": 1,
        "tp": 3,
        "fp": 0,
        "fn": 1,
        "precision": 1.0,
        "recall": 0.75,
        "f1": pytest.approx(0.8571),
    }
    only_counted = summarise([counted])["overall"]
    for key in ("iou0.3", "iou0.5"):
        block = only_counted[key]
        assert block["scenes"] == 0
        assert (block["precision"], block["recall"], block["f1"]) == (None, None, None)


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A site with one scene reviewed by count only (41 cars against the detector's 28)."""
    url = f"sqlite:///{tmp_path / 'eval.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 120)
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        when = datetime(2023, 10, 5, 2, 0, tzinfo=UTC)
        scene_id = add_counted_scene(s, site, when, 0.5, FakeCount(28, 23, 50, {}, 0), 5)
    with db.session() as s:
        repo.set_scene_review(s, scene_id, {"all": 41})
    db.dispose()
    return url


def test_eval_site_json_on_counts_only_reviews(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--site", "yard", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    o = report["overall"]
    for key in ("iou0.3", "iou0.5"):
        assert o[key] == {
            "scenes": 0,
            "tp": 0,
            "fp": 0,
            "fn": 0,
            "precision": None,
            "recall": None,
            "f1": None,
        }
    assert o["count"]["scenes"] == 1 and o["count"]["mae"] == 13.0
    assert report["reviews"] == {"outlines": 0, "counts_only": 1, "unchanged": []}


def test_eval_site_table_still_shows_dashes(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--site", "yard"]) == 0
    head = capsys.readouterr().out.split("Counts per scene")[0]
    line = next(ln for ln in head.splitlines() if ln.startswith("│ all "))
    cells = [c.strip() for c in line.strip("│").split("│")]
    assert cells[2:] == ["–"] * 6
