"""``railwatch eval --site`` says which reviews kept the detector's cars unchanged: such a
review scores the detector as perfect, which says nothing of its accuracy unless the
analyst checked the cars on the image (session 47: the README's review walk reviews a
scene with the detector's own outlines and `eval --site` then reads F1 1.0)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.detect.base import Detection, OrientedBox
from railwatch.review import evaluate_reviews, outlines_unchanged
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import SITE_UTM, X0, FakeCount, to_wgs84
from test_eval_reviews import _car, _scene


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'eval.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 120)
    monkeypatch.setattr(_common.err_console, "width", 120)
    return url


def _det(x: float, cls: str = "boxcar", covered: bool = False, dy: float = 0.0) -> Detection:
    return Detection(OrientedBox(x, dy, 14.0, 3.0, 0.0), cls, 0.9, covered, float(covered))


def test_outlines_unchanged_only_when_every_car_is_the_detectors() -> None:
    pred = [_det(0.0), _det(15.0, "tank"), _det(30.0, covered=True)]
    assert outlines_unchanged([_det(0.0), _det(15.0, "tank"), _det(30.0, covered=True)], pred)
    # the same cars in another order
    assert outlines_unchanged(list(reversed(pred)), pred)
    # one car moved by a metre along the track: corrected
    assert not outlines_unchanged([_det(1.0), pred[1], pred[2]], pred)
    # a type or a covered flag corrected
    assert not outlines_unchanged([pred[0], _det(15.0), pred[2]], pred)
    assert not outlines_unchanged([pred[0], pred[1], _det(30.0)], pred)
    # a car added or removed
    assert not outlines_unchanged([*pred, _det(45.0)], pred)
    assert not outlines_unchanged(pred[:2], pred)
    # an empty yard confirmed empty is a review like any other
    assert not outlines_unchanged([], [])


def _two_reviewed_scenes(url: str) -> tuple[int, int]:
    db = Database(url)
    xs = [X0 + 100 + 15 * k for k in range(4)]
    found = [_car(x) for x in xs]
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        kept = _scene(s, site, 5, found, FakeCount(4, 3, 6, {"boxcar": (4, 3, 6)}, 0))
        fixed = _scene(s, site, 6, found, FakeCount(4, 3, 6, {"boxcar": (4, 3, 6)}, 0))
    with db.session() as s:
        repo.set_scene_review(s, kept, cars=[_car(x) for x in xs])
        repo.set_scene_review(s, fixed, cars=[_car(x) for x in xs] + [_car(X0 + 160)])
    db.dispose()
    return kept, fixed


def test_evaluate_reviews_names_the_scenes_reviewed_unchanged(url: str) -> None:
    kept, fixed = _two_reviewed_scenes(url)
    db = Database(url)
    with db.session(readonly=True) as s:
        ev = evaluate_reviews(s, "yard")
    db.dispose()
    assert ev.outlines == 2
    assert ev.unchanged == (kept,)
    assert fixed not in ev.unchanged


def test_eval_site_says_which_reviews_kept_the_detectors_cars(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    kept, _ = _two_reviewed_scenes(url)
    assert main(["eval", "--site", "yard", "--json"]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["reviews"]["unchanged"] == [kept]
    err = " ".join(out.err.split())
    said = f"1 of the 2 reviews with outlines kept the detector's cars unchanged (scene {kept})"
    assert said in err
    assert "it scores as perfect" in err


def test_eval_site_says_nothing_when_every_review_corrected_the_cars(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    kept, _ = _two_reviewed_scenes(url)
    db = Database(url)
    with db.session() as s:
        repo.set_scene_review(s, kept, cars=[_car(X0 + 100), _car(X0 + 115)])
    db.dispose()
    assert main(["eval", "--site", "yard", "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["reviews"]["unchanged"] == []
    assert "unchanged" not in out.err
