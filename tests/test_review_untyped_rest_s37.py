"""An analyst's total replaces the detector's untyped cars (``railcar``, type unsure):
the classes of a reviewed scene add up to its total. Until session 37 the detector's
untyped count was kept beside the analyst's total, so ``scene review ID --count 9`` on a
scene the detector read as 10 untyped cars was refused ("less than the types it would
keep from the detector (railcar 10)"), found by the session's fresh-eyes walkthrough."""

from __future__ import annotations

import json

import pytest

from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.storage import Database, repo
from railwatch.storage.models import ANALYST
from report_db import FakeCount, FakeQuality
from test_scene_review import _scene, _stored, db  # noqa: F401

UNTYPED = FakeCount(10.0, 8.0, 12.0, {"railcar": (10.0, 8.0, 12.0)}, 0)


def test_a_total_below_the_untyped_count_replaces_it(db: Database) -> None:  # noqa: F811
    sid = _scene(db, count=UNTYPED)
    with db.session() as s:
        review = repo.set_scene_review(s, sid, {"all": 9})
        assert review.counts == {"all": 9.0}  # what the analyst gave, as given
    stored = _stored(db, sid)
    assert stored["all"] == (9.0, 9.0, 9.0, ANALYST)
    assert stored["railcar"] == (9.0, 9.0, 9.0, ANALYST)
    with db.session() as s:
        repo.remove_scene_review(s, sid)
    stored = _stored(db, sid)
    assert stored["railcar"] == (10.0, 8.0, 12.0, "default")
    assert stored["all"] == (10.0, 8.0, 12.0, "default")


def test_the_types_kept_and_the_rest_add_up_to_the_total(db: Database) -> None:  # noqa: F811
    sid = _scene(
        db, count=FakeCount(61.0, 55, 70, {"boxcar": (40, 36, 44), "railcar": (21, 19, 23)}, 0)
    )
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 74, "tank": 20})
    stored = _stored(db, sid)
    assert stored["boxcar"] == (40.0, 36.0, 44.0, "default")
    assert stored["tank"] == (20.0, 20.0, 20.0, ANALYST)
    assert stored["railcar"] == (14.0, 14.0, 14.0, ANALYST)
    with db.session() as s:
        repo.remove_scene_review(s, sid)
    assert _stored(db, sid)["railcar"] == (21.0, 19.0, 23.0, "default")
    assert "tank" not in _stored(db, sid)


def test_no_untyped_series_is_begun_from_a_total_alone(db: Database) -> None:  # noqa: F811
    sid = _scene(db)  # boxcar 40, tank 21 of 61, none untyped (review r1)
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 90, "tank": 20})
    stored = _stored(db, sid)
    assert "railcar" not in stored
    assert stored["all"] == (90.0, 90.0, 90.0, ANALYST)


def test_a_total_equal_to_the_types_adds_no_untyped_row(db: Database) -> None:  # noqa: F811
    sid = _scene(db)
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 61})
    assert "railcar" not in _stored(db, sid)


def test_a_railcar_count_given_is_kept_as_given(db: Database) -> None:  # noqa: F811
    sid = _scene(db, count=UNTYPED)
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 12, "railcar": 2, "boxcar": 10})
    stored = _stored(db, sid)
    assert stored["railcar"] == (2.0, 2.0, 2.0, ANALYST)
    assert stored["boxcar"] == (10.0, 10.0, 10.0, ANALYST)


def test_types_above_the_total_are_still_refused_without_naming_railcar(
    db: Database,  # noqa: F811
) -> None:
    sid = _scene(
        db, count=FakeCount(70.0, 60, 80, {"boxcar": (40, 36, 44), "railcar": (30, 25, 35)}, 0)
    )
    before = _stored(db, sid)
    with db.session() as s, pytest.raises(InputError) as err:
        repo.set_scene_review(s, sid, {"all": 35})
    assert "boxcar 40" in str(err.value) and "railcar" not in str(err.value).split("(")[1]
    assert _stored(db, sid) == before


def test_processing_again_recomputes_the_rest(db: Database) -> None:  # noqa: F811
    sid = _scene(db, count=UNTYPED)
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 9})
    again = FakeCount(11.0, 9.0, 13.0, {"tank": (3.0, 2.0, 4.0), "railcar": (8.0, 6.0, 10.0)}, 0)
    with db.session() as s:
        repo.record_scene_result(s, sid, FakeQuality(0.97), [], again, "default", "2.8")
    stored = _stored(db, sid)
    assert stored["all"] == (9.0, 9.0, 9.0, ANALYST)
    assert stored["tank"] == (3.0, 2.0, 4.0, "default")
    assert stored["railcar"] == (6.0, 6.0, 6.0, ANALYST)


def test_the_cli_accepts_a_total_below_the_untyped_count(
    db: Database,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    sid = _scene(db, count=UNTYPED)
    code = main(["--db", db.url, "scene", "review", str(sid), "--count", "9", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["counts"]["all"] == 9
    assert _stored(db, sid)["railcar"] == (9.0, 9.0, 9.0, ANALYST)
