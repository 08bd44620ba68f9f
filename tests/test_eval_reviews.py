"""``railwatch eval --site``: the detector's stored results scored against the analyst's
reviews of the site's scenes (boxes where outlines were given, counts otherwise)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import box

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.records import DetectionRecord
from report_db import (
    CRS,
    IMG_H_M,
    IMG_W_M,
    SITE_UTM,
    X0,
    Y0,
    FakeCount,
    FakeInfo,
    FakeQuality,
    to_wgs84,
)

TRACK_Y = Y0 - 100.0


def _car(x: float, cls: str = "boxcar", covered: bool = False, dy: float = 0.0) -> DetectionRecord:
    """A 14 x 3 m car centred at (x, track + dy), stored as the pipeline stores it."""
    body = box(x - 7, TRACK_Y + dy - 1.5, x + 7, TRACK_Y + dy + 1.5)
    return DetectionRecord(
        cls=cls,
        score=0.9,
        polygon=to_wgs84(body),
        native_polygon=body,
        native_crs=CRS,
        covered=covered,
        covered_score=float(covered),
    )


def _scene(s: object, site: object, n: int, dets: list[DetectionRecord], count: FakeCount) -> int:
    info = FakeInfo(
        uri=f"/imagery/yard_{n}.tif",
        content_hash=f"{n:064d}",
        acquired=datetime(2023, 10, n, 2, 0, tzinfo=UTC),
        crs=CRS,
        footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
        gsd=0.5,
        width=800,
        height=400,
    )
    scene, _ = repo.add_scene(s, site, info, 1.0)  # type: ignore[arg-type]
    repo.record_scene_result(s, scene.id, FakeQuality(0.97), dets, count, "default", "2.8")  # type: ignore[arg-type]
    return int(scene.id)


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'eval.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 120)
    return url


def test_eval_site_scores_stored_cars_against_reviewed_outlines(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(url)
    xs = [X0 + 100 + 15 * k for k in range(6)]
    # the detector: 4 of the 6 cars right (one covered flag wrong), one box on the shadow
    # side a car's width off (a false box and a miss), and one false box on a shed
    found = [_car(xs[0]), _car(xs[1], covered=True), _car(xs[2]), _car(xs[3], "tank")]
    found += [_car(xs[4], dy=4.0), _car(X0 + 300, dy=40.0)]
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        boxes = _scene(s, site, 5, found, FakeCount(6, 5, 8, {"boxcar": (5, 4, 6)}, 1))
        counted = _scene(s, site, 6, [], FakeCount(61, 55, 70, {"tank": (20, 18, 22)}, 9))
        _scene(s, site, 7, [], FakeCount(3, 2, 4, {}, 0))  # not reviewed: not scored
    truth = [_car(x) for x in xs[:3]] + [_car(xs[3], "tank"), _car(xs[4]), _car(xs[5])]
    with db.session() as s:
        repo.set_scene_review(s, boxes, cars=truth)
        repo.set_scene_review(s, counted, {"all": 73, "tank": 25, "covered": 30})
    db.dispose()
    assert main(["eval", "--site", "yard", "--json"]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["reviews"] == {"outlines": 1, "counts_only": 1, "unchanged": []}
    at03 = report["overall"]["iou0.3"]
    assert (at03["tp"], at03["fp"], at03["fn"]) == (4, 2, 2)
    assert report["overall"]["covered_accuracy"] == 0.75
    rows = {r["name"]: r for r in report["scenes"]}
    assert rows["scene 1 (2023-10-05)"]["truth"] == 6
    assert rows["scene 1 (2023-10-05)"]["pred"] == 6.0
    assert rows["scene 2 (2023-10-06)"]["count_error"] == -12.0
    assert report["by_class"]["tank"]["truth"] == 1 + 25
    assert "2 reviewed scenes of yard: 1 with your outlines" in out.err
    assert main(["eval", "--site", "yard"]) == 0
    assert "Detection evaluation (2 scenes)" in capsys.readouterr().out


def test_eval_site_without_reviews_says_how_to_make_them(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        _scene(s, site, 5, [], FakeCount(3, 2, 4, {}, 0))
    db.dispose()
    assert main(["eval", "--site", "yard"]) == 1  # nothing to score yet: not a usage error
    assert "no reviewed scene" in capsys.readouterr().err
    assert main(["eval", "--site", "yard", "--truth", "x"]) != 0
    assert "give it alone" in capsys.readouterr().err
    assert main(["eval"]) != 0
    assert "--site SITE" in capsys.readouterr().err
