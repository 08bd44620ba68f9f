"""Review r1 of session 37 (2026-12-06): what the session's review changes left
untested.

8df98b8 stopped counting the detector's ``railcar`` row as a type a review keeps. At
3 m (occupied track length) the detector stores its car equivalents as ``railcar``
too, so before it a 3 m total below the detector's (``scene review ID --count 5`` on a
scene read as 7.5 car equivalents) was refused as "less than the types it would keep
from the detector (railcar 7.5) ... (--class CLASS=N ...)", an option a 3 m scene
refuses. Now it is taken; the detector's ``railcar`` row stays (a length tells no type,
so no reader shows it) and ``--remove`` puts back exactly what was there.

``scene import-reviews`` said the review a declaring line replaced (ee42bb3) but not the
one a count replaced, types and note with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.storage import Database, repo
from railwatch.storage.models import ANALYST
from report_db import FakeCount, FakeQuality
from test_import_reviews_unusable_s37 import _export, _import, _three, _write, cli_db  # noqa: F401
from test_scene_review import _scene, _stored, db  # noqa: F401

LENGTH = FakeCount(7.5, 5.0, 10.0, {"railcar": (7.5, 5.0, 10.0)}, 0, method="length")
UNTYPED = FakeCount(10.0, 8.0, 12.0, {"railcar": (10.0, 8.0, 12.0)}, 4)


def test_a_3m_total_below_the_detectors_is_taken_and_removed_exactly(
    db: Database,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    sid = _scene(db, gsd=3.0, count=LENGTH)
    before = _stored(db, sid)
    code = main(["--db", db.url, "scene", "review", str(sid), "--count", "5"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "railcar" not in out.err
    stored = _stored(db, sid)
    assert stored["all"] == (5.0, 5.0, 5.0, ANALYST)
    # no untyped rest at 3 m (a length tells no type): the detector's row stays, unread
    assert stored["railcar"] == (7.5, 5.0, 10.0, "default")
    with db.session(readonly=True) as s:
        (point,) = repo.count_series(s, "yard", cls="railcar")
        assert point.count is None and point.usable
        (total,) = repo.count_series(s, "yard")
        assert (total.count, total.reviewed) == (5.0, True)
    with db.session() as s:
        repo.remove_scene_review(s, sid)
    assert _stored(db, sid) == before


def test_the_rest_derived_after_processing_again_goes_with_the_review(
    db: Database,  # noqa: F811
) -> None:
    """Processed again, the detector typed every car: the analyst's total leaves 3 cars
    of no type, but no railcar series is begun from it (the detector has no railcar row
    now); removing the review leaves no railcar row either."""
    sid = _scene(db, count=UNTYPED)
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 9})
    typed = FakeCount(6.0, 5.0, 7.0, {"tank": (6.0, 5.0, 7.0)}, 1)
    with db.session() as s:
        repo.record_scene_result(s, sid, FakeQuality(0.97), [], typed, "default", "2.8")
    stored = _stored(db, sid)
    assert stored["all"] == (9.0, 9.0, 9.0, ANALYST)
    assert stored["tank"] == (6.0, 5.0, 7.0, "default")
    assert "railcar" not in stored
    with db.session() as s:
        repo.remove_scene_review(s, sid)
    assert _stored(db, sid) == {
        "all": (6.0, 5.0, 7.0, "default"),
        "tank": (6.0, 5.0, 7.0, "default"),
        "covered": (1.0, 1.0, 1.0, "default"),
    }


def test_an_imported_count_says_the_count_review_it_replaced(
    cli_db: Database,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The export's total corrected in a spreadsheet and imported replaces the analyst's
    earlier review, its types with it (tank 20 went back to the detector's 21): the
    import said nothing of it, where ``scene review --count`` and a declaring line say
    "It replaced your earlier review of ..."."""
    first, _failed, third = _three(cli_db)
    with cli_db.session() as s:
        repo.set_scene_review(s, first, {"all": 74, "tank": 20}, note="by eye")
    rows = _export(tmp_path, capsys)
    for r in rows:
        if r["scene_id"] == str(first):
            r.update(count="80", low="", high="")
    path = tmp_path / "corrected.csv"
    _write(path, rows)
    code, out, err = _import(path, capsys, "--json")
    assert code == 0, err
    (recorded,) = json.loads(out)["recorded"]
    assert recorded["scene_id"] == first and recorded["counts"] == {"all": 80.0}
    assert recorded["replaced"]["counts"] == {"all": 74.0, "tank": 20.0}
    assert recorded["replaced"]["note"] == "by eye"
    assert _stored(cli_db, first)["tank"][3] == "default"  # the detector's again
    rows[[r["scene_id"] for r in rows].index(str(first))]["count"] = "81"
    _write(path, rows)
    code, out, err = _import(path, capsys)
    assert code == 0, err
    assert f"scene {first}: all 81" in out
    assert "It replaced your earlier review of" in out and "all 80" in out
    assert _stored(cli_db, third)["all"][3] == "default"  # not in the file's changes
