"""An analyst's review of a scene: their count becomes the stored one, the detector's is
kept beside it and comes back when the review is removed, and processing the scene again
keeps the analyst's count."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import box, mapping

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.errors import InputError, NotFoundError
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import ANALYST, Count
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

DETECTED = FakeCount(
    61.0,
    55.0,
    70.0,
    {"boxcar": (40.0, 36.0, 44.0), "tank": (21.0, 19.0, 23.0)},
    12,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'review.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    database = Database(url)
    yield database
    database.dispose()


def _scene(
    db: Database,
    *,
    gsd: float = 0.5,
    count: FakeCount | None = DETECTED,
    meta: dict[str, object] | None = None,
) -> int:
    """A processed scene of site ``yard`` (usable with ``count``, unusable without)."""
    with db.session() as s:
        try:
            site = repo.get_site(s, "yard")
        except NotFoundError:
            site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        n = len(repo.list_scenes(s, site))
        info = FakeInfo(
            uri=f"/imagery/yard_{n}.tif",
            content_hash=f"{n + 1:064d}",
            acquired=datetime(2023, 10, 5 + n, 2, 0, tzinfo=UTC),
            crs=CRS,
            footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
            gsd=gsd,
            width=800,
            height=400,
            metadata=dict(meta or {}),
        )
        scene, _ = repo.add_scene(s, site, info, 1.0)
        if count is None:
            quality = FakeQuality(0.3, usable=False, reasons=("clouds cover 70 % of the site",))
        else:
            quality = FakeQuality(0.97)
        repo.record_scene_result(s, scene.id, quality, [], count, "default", "2.8")
        return scene.id


def _stored(db: Database, scene_id: int) -> dict[str, tuple[float, float, float, str]]:
    with db.session(readonly=True) as s:
        rows = s.query(Count).filter(Count.scene_id == scene_id).all()
        return {r.cls: (r.count, r.low, r.high, r.detector) for r in rows}


def test_the_analysts_count_is_the_stored_one_and_the_detectors_comes_back(db: Database) -> None:
    sid = _scene(db)
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 73, "covered": 30}, note="counted by eye")
    stored = _stored(db, sid)
    assert stored["all"] == (73.0, 73.0, 73.0, ANALYST)
    assert stored["covered"] == (30.0, 30.0, 30.0, ANALYST)
    # types not given keep the detector's counts
    assert stored["boxcar"] == (40.0, 36.0, 44.0, "default")
    with db.session(readonly=True) as s:
        series = repo.count_series(s, "yard")
        assert [(p.count, p.low, p.high) for p in series] == [(73.0, 73.0, 73.0)]
        review = repo.get_scene_review(s, sid)
        assert review is not None
        assert review.machine["all"]["count"] == 61.0
        assert review.machine["covered"]["count"] == 12.0
        assert review.note == "counted by eye"
    with db.session() as s:
        repo.remove_scene_review(s, sid)
    stored = _stored(db, sid)
    assert stored["all"] == (61.0, 55.0, 70.0, "default")
    assert stored["covered"] == (12.0, 12.0, 12.0, "default")
    with db.session(readonly=True) as s:
        assert repo.get_scene_review(s, sid) is None


def test_processing_again_keeps_the_analysts_count(db: Database) -> None:
    sid = _scene(db)
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 73, "gondola": 5})
    again = FakeCount(64.0, 58.0, 72.0, {"boxcar": (44.0, 40.0, 48.0)}, 10)
    with db.session() as s:
        repo.record_scene_result(s, sid, FakeQuality(0.97), [], again, "default", "2.9")
    stored = _stored(db, sid)
    assert stored["all"] == (73.0, 73.0, 73.0, ANALYST)
    assert stored["gondola"] == (5.0, 5.0, 5.0, ANALYST)
    assert stored["boxcar"] == (44.0, 40.0, 48.0, "default")
    with db.session(readonly=True) as s:
        review = repo.get_scene_review(s, sid)
        assert review is not None
        # the detector's newest counts, not the first run's
        assert review.machine["all"]["count"] == 64.0
        assert review.machine["all"]["version"] == "2.9"
        assert review.machine["gondola"] is None  # it found none
    with db.session() as s:
        repo.remove_scene_review(s, sid)
    stored = _stored(db, sid)
    assert stored["all"] == (64.0, 58.0, 72.0, "default")
    assert "gondola" not in stored  # none found: no row, a 0 in the series


def test_an_unusable_run_keeps_the_review_unapplied_until_usable_again(db: Database) -> None:
    sid = _scene(db)
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 73})
        repo.record_scene_result(
            s, sid, FakeQuality(0.3, usable=False, reasons=("cloud",)), [], None, "default", "2.9"
        )
    assert _stored(db, sid) == {}
    with db.session() as s:
        assert repo.get_scene_review(s, sid) is not None
        repo.record_scene_result(s, sid, FakeQuality(0.97), [], DETECTED, "default", "3.0")
    assert _stored(db, sid)["all"] == (73.0, 73.0, 73.0, ANALYST)


def test_a_new_review_replaces_the_earlier_one(db: Database) -> None:
    sid = _scene(db)
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 73, "tank": 30})
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 70, "covered": 20})
    stored = _stored(db, sid)
    assert stored["all"] == (70.0, 70.0, 70.0, ANALYST)
    assert stored["tank"] == (21.0, 19.0, 23.0, "default")  # the earlier review's is gone
    with db.session(readonly=True) as s:
        review = repo.get_scene_review(s, sid)
        assert review is not None and review.machine["all"]["count"] == 61.0


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"covered": 3}, "total count"),
        ({"all": -1}, ">= 0"),
        ({"all": 7.5}, "whole number"),
        ({"all": float("nan")}, ">= 0"),
        ({"all": 5, "wagon": 2}, "not a class"),
        ({"all": 5, "covered": 6}, "more than the total"),
        ({"all": 5, "boxcar": 3, "tank": 3}, "add up to 6"),
        ({"all": 5, "boxcar": 3, "tank": 3}, "give a total of at least 6 or fewer cars"),
    ],
)
def test_bad_counts_are_refused_and_nothing_changes(
    db: Database, counts: dict[str, float], message: str
) -> None:
    sid = _scene(db)
    before = _stored(db, sid)
    with db.session() as s, pytest.raises(InputError, match=message):
        repo.set_scene_review(s, sid, counts)
    assert _stored(db, sid) == before


def test_scenes_without_a_count_to_correct_are_refused(db: Database) -> None:
    unusable = _scene(db, count=None)
    with db.session() as s, pytest.raises(InputError, match=r"unusable.*clouds cover"):
        repo.set_scene_review(s, unusable, {"all": 3})
    presence = _scene(db, gsd=10.0, count=FakeCount(1, 1, 1, {}, 0, method="presence"))
    with db.session() as s, pytest.raises(InputError, match="long train"):
        repo.set_scene_review(s, presence, {"all": 3})
    length = _scene(db, gsd=3.0, count=FakeCount(20.4, 15, 27, {}, 0, method="length"))
    with db.session() as s, pytest.raises(InputError, match="tells no type"):
        repo.set_scene_review(s, length, {"all": 22, "tank": 3})
    with db.session() as s:
        repo.set_scene_review(s, length, {"all": 22.5})  # car equivalents: a fraction is fine
    assert _stored(db, length)["all"] == (22.5, 22.5, 22.5, ANALYST)
    with db.session() as s, pytest.raises(NotFoundError, match="no review"):
        repo.remove_scene_review(s, unusable)


def _car(x: float, y: float, cls: str = "boxcar", covered: bool = False) -> dict[str, object]:
    """A 14 x 3 m car centred at UTM (x, y), as a lon/lat feature."""
    body = to_wgs84(box(x - 7, y - 1.5, x + 7, y + 1.5))
    return {
        "type": "Feature",
        "geometry": mapping(body),
        "properties": {"class": cls, "covered": covered, "score": 0.9},
    }


def _fc(*features: dict[str, object]) -> dict[str, object]:
    return {"type": "FeatureCollection", "features": list(features)}


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 120)
    return Database(url), url


def test_cli_review_from_corrected_outlines(
    cli_db: tuple[Database, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = cli_db
    sid = _scene(db)
    inside_y = Y0 - 100.0
    cars = _fc(
        _car(X0 + 100, inside_y, "tank", covered=False),
        _car(X0 + 115, inside_y, "boxcar", covered=True),
        _car(X0 + 130, inside_y, "boxcar", covered=True),
        _car(X0 + 20, inside_y),  # outside the site (it starts at X0 + 50)
    )
    path = tmp_path / "corrected.geojson"
    path.write_text(json.dumps(cars))
    assert main(["scene", "review", str(sid), "--cars", str(path), "--note", "checked"]) == 0
    out = capsys.readouterr().out
    assert "all 3" in out and "from 4 outlines" in out and "detector's count: 61" in out
    stored = _stored(db, sid)
    assert stored["all"][0] == 3.0 and stored["covered"][0] == 2.0
    assert stored["boxcar"][0] == 2.0 and stored["tank"][0] == 1.0
    assert stored["gondola"][0] == 0.0  # typed outlines tell every type
    assert main(["scene", "show", str(sid), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["review"]["cars"] == 4 and shown["review"]["applied"] is True
    assert shown["review"]["note"] == "checked"
    assert shown["counts"]["all"]["count"] == 3.0
    assert main(["scene", "review", str(sid), "--remove"]) == 0
    assert "61" in capsys.readouterr().out
    assert _stored(db, sid)["all"][0] == 61.0


def test_cli_review_with_counts(
    cli_db: tuple[Database, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = cli_db
    sid = _scene(db)
    args = ["scene", "review", str(sid), "--count", "73", "--class", "boxcar=50"]
    assert main([*args, "--covered", "30", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"] == {"all": 73.0, "boxcar": 50.0, "covered": 30.0}
    assert data["detector_counts"]["all"]["count"] == 61.0
    assert main(["scene", "show", str(sid)]) == 0
    assert "reviewed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give your count"),
        (["--class", "boxcar=3"], "give your count"),
        (["--count", "3", "--class", "boxcar"], "CLASS=N"),
        (["--count", "3", "--class", "boxcar=x"], "not a number"),
        (["--count", "3", "--remove"], "--remove takes no counts"),
    ],
)
def test_cli_review_bad_options(
    cli_db: tuple[Database, str],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    db, _ = cli_db
    sid = _scene(db)
    assert main(["scene", "review", str(sid), *args]) != 0
    assert message in capsys.readouterr().err
    assert _stored(db, sid)["all"][0] == 61.0


@pytest.mark.parametrize(
    ("collection", "message"),
    [
        ({**_fc(), "crs": None}, "pixel coordinates"),
        (
            _fc({**_car(X0 + 100, Y0 - 100), "properties": {"class": "boxcar", "scene_id": 99}}),
            "other scenes",
        ),
        (_fc(_car(X0 + 20, Y0 - 100)), "none of the 1 outlines"),
        (_fc({"type": "Feature", "geometry": None, "properties": {}}), "no geometry"),
    ],
)
def test_cli_review_refuses_outlines_it_cannot_count(
    cli_db: tuple[Database, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    collection: dict[str, object],
    message: str,
) -> None:
    db, _ = cli_db
    sid = _scene(db)
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(collection))
    assert main(["scene", "review", str(sid), "--cars", str(path)]) != 0
    assert message in capsys.readouterr().err
    assert _stored(db, sid)["all"][0] == 61.0


def test_an_empty_collection_says_the_yard_is_empty(
    cli_db: tuple[Database, str], tmp_path: Path
) -> None:
    db, _ = cli_db
    sid = _scene(db)
    path = tmp_path / "empty.geojson"
    path.write_text(json.dumps(_fc()))
    assert main(["scene", "review", str(sid), "--cars", str(path)]) == 0
    stored = _stored(db, sid)
    assert stored["all"][0] == 0.0 and stored["boxcar"][0] == stored["tank"][0] == 0.0


def test_a_total_below_the_detectors_kept_types_is_refused(db: Database) -> None:
    sid = _scene(db)  # the detector: 40 boxcars, 21 tanks, 12 covered
    with db.session() as s, pytest.raises(InputError, match="boxcar 40, tank 21"):
        repo.set_scene_review(s, sid, {"all": 50})
    with db.session() as s, pytest.raises(InputError, match="covered"):
        repo.set_scene_review(s, sid, {"all": 10, "boxcar": 5, "tank": 5})
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 10, "boxcar": 5, "tank": 5, "covered": 2})
    assert _stored(db, sid)["boxcar"] == (5.0, 5.0, 5.0, ANALYST)


def test_series_points_say_which_counts_are_an_analysts(db: Database) -> None:
    first, second = _scene(db), _scene(db)
    with db.session() as s:
        repo.set_scene_review(s, second, {"all": 73, "covered": 30})
    with db.session(readonly=True) as s:
        for series in (repo.count_series(s, "yard"), repo.count_series_page(s, "yard", limit=9)[0]):
            assert [(p.scene_id, p.reviewed) for p in series] == [(first, False), (second, True)]
        covered = repo.count_series_page(s, "yard", cls="covered", limit=9)[0]
        assert [p.reviewed for p in covered] == [False, True]
        tanks = repo.count_series(s, "yard", cls="tank")  # the detector's, kept
        assert [(p.count, p.reviewed) for p in tanks] == [(21.0, False), (21.0, False)]
        latest = repo.latest_counts(s, "yard").latest
        assert latest is not None and latest.reviewed and latest.count == 73.0


def test_a_review_waits_for_the_scenes_processing_on_postgresql(postgres_url: str) -> None:
    """A review sent while a run records the same scene waits for it, then applies to
    the new rows (without the scene's row lock it read the old rows and collided with
    the new ones on (scene_id, cls))."""
    import threading
    import time

    from helpers import pg_sessions_waiting_on_a_lock

    db = Database(postgres_url)
    try:
        sid = _scene(db)
        recorded, release = threading.Event(), threading.Event()
        again = FakeCount(64.0, 58.0, 72.0, {"boxcar": (44.0, 40.0, 48.0)}, 10)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with db.session() as s:
                    repo.record_scene_result(s, sid, FakeQuality(0.97), [], again, "d", "2.9")
                    recorded.set()
                    release.wait(30)
            except BaseException as err:
                errors.append(err)
                recorded.set()

        def review() -> None:
            try:
                with db.session() as s:
                    repo.set_scene_review(s, sid, {"all": 73})
            except BaseException as err:
                errors.append(err)

        runner = threading.Thread(target=run)
        runner.start()
        assert recorded.wait(30)
        reviewer = threading.Thread(target=review)
        reviewer.start()
        deadline = time.monotonic() + 30
        while pg_sessions_waiting_on_a_lock(postgres_url) < 1:
            assert time.monotonic() < deadline, "the review did not wait for the run"
            time.sleep(0.05)
        release.set()
        runner.join(30)
        reviewer.join(30)
        assert errors == []
        assert _stored(db, sid)["all"] == (73.0, 73.0, 73.0, ANALYST)
        with db.session(readonly=True) as s:
            stored = repo.get_scene_review(s, sid)
            assert stored is not None and stored.machine["all"]["count"] == 64.0
    finally:
        db.dispose()


def test_removing_the_site_removes_its_reviews(db: Database) -> None:
    sid = _scene(db)
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 73})
    with db.session() as s:
        repo.remove_site(s, "yard")
    with db.session(readonly=True) as s:
        from railwatch.storage.models import SceneReview

        assert s.query(SceneReview).count() == 0


def _with_detections(db: Database) -> int:
    """A processed scene whose detector found two cars in the site and one outside."""
    from railwatch.storage.records import DetectionRecord

    def car(x: float, cls: str) -> DetectionRecord:
        body = box(x - 7, Y0 - 101.5, x + 7, Y0 - 98.5)
        return DetectionRecord(cls, 0.8, to_wgs84(body), body, CRS, inside=x > X0 + 50)

    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        info = FakeInfo(
            uri="/imagery/yard.tif",
            content_hash="7" * 64,
            acquired=datetime(2023, 10, 5, 2, tzinfo=UTC),
            crs=CRS,
            footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
            gsd=0.5,
            width=800,
            height=400,
        )
        scene, _ = repo.add_scene(s, site, info, 1.0)
        dets = [car(X0 + 100, "tank"), car(X0 + 115, "railcar"), car(X0 + 20, "railcar")]
        count = FakeCount(2, 1, 3, {"tank": (1, 1, 1), "railcar": (1, 1, 1)}, 0)
        repo.record_scene_result(s, scene.id, FakeQuality(0.97), dets, count, "default", "2.8")
        return int(scene.id)


def test_scene_cars_round_trip_through_a_review(
    cli_db: tuple[Database, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = cli_db
    sid = _with_detections(db)
    path = tmp_path / "cars.geojson"
    assert main(["scene", "cars", str(sid), "-o", str(path)]) == 0
    assert f"scene review {sid} --cars" in capsys.readouterr().err
    fc = json.loads(path.read_text())
    assert fc["crs"]["properties"]["name"] == CRS and fc["source"] == "detector"
    assert fc["scene_id"] == sid and len(fc["features"]) == 3  # the one outside too
    # the analyst adds a missed car beside the two and gives it back
    fc["features"].append(_car(X0 + 130, Y0 - 100, "gondola"))
    fc["features"][-1]["geometry"] = mapping(box(X0 + 123, Y0 - 101.5, X0 + 137, Y0 - 98.5))
    path.write_text(json.dumps(fc))
    assert main(["scene", "review", str(sid), "--cars", str(path)]) == 0
    capsys.readouterr()
    stored = _stored(db, sid)
    assert stored["all"][0] == 3.0 and stored["tank"][0] == 1.0 and stored["gondola"][0] == 1.0
    # auto now writes the analyst's outlines; the detector's stay available
    assert main(["scene", "cars", str(sid)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source"] == ANALYST and len(out["features"]) == 4
    assert main(["scene", "cars", str(sid), "--source", "detector"]) == 0
    assert len(json.loads(capsys.readouterr().out)["features"]) == 3


def test_outlines_of_another_scene_or_of_both_sources_are_refused(
    cli_db: tuple[Database, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = cli_db
    sid = _with_detections(db)
    path = tmp_path / "cars.geojson"
    car = _car(X0 + 100, Y0 - 100)
    for fc, message in (
        ({**_fc(car), "scene_id": sid + 1}, f"holds the cars of scene {sid + 1}"),
        (
            _fc(
                {**car, "properties": {"class": "tank", "source": "detector"}},
                {**car, "properties": {"class": "tank", "source": "analyst"}},
            ),
            "count each car twice",
        ),
    ):
        path.write_text(json.dumps(fc))
        assert main(["scene", "review", str(sid), "--cars", str(path)]) != 0
        assert message in capsys.readouterr().err
    assert main(["scene", "cars", str(sid), "--source", "analyst"]) != 0
    assert "no outlines of an analyst" in capsys.readouterr().err


def test_the_exports_cls_column_is_read_as_the_class(
    cli_db: tuple[Database, str], tmp_path: Path
) -> None:
    db, _ = cli_db
    sid = _with_detections(db)
    car = _car(X0 + 100, Y0 - 100)
    car["properties"] = {"cls": "tank", "covered": False, "source": "detector"}
    path = tmp_path / "cars.geojson"
    path.write_text(json.dumps(_fc(car)))
    assert main(["scene", "review", str(sid), "--cars", str(path)]) == 0
    assert _stored(db, sid)["tank"][0] == 1.0


def test_scenes_to_review_put_alerts_first_then_wide_intervals(
    cli_db: tuple[Database, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.analysis.types import Alert

    db, _ = cli_db
    narrow = _scene(db, count=FakeCount(40, 38, 42, {}, 0))
    wide = _scene(db, count=FakeCount(10, 5, 30, {}, 0))
    alerted = _scene(db, count=FakeCount(61, 55, 70, {}, 0))
    reviewed = _scene(db, count=FakeCount(70, 60, 90, {}, 0))
    _scene(db, count=None)  # unusable: nothing to check
    _scene(db, gsd=10.0, count=FakeCount(1, 1, 1, {}, 0, method="presence"))
    with db.session() as s:
        repo.set_scene_review(s, reviewed, {"all": 73})
        when = repo.get_scene(s, alerted).acquired_at
        repo.replace_alerts(
            s,
            "yard",
            [
                Alert(
                    key="record-all",
                    kind="record",
                    severity="high",
                    when=when,
                    cls="all",
                    value=61.0,
                    explanation="61 railcars ...",
                    scene_id=alerted,
                )
            ],
        )
    assert main(["scene", "to-review", "yard", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["scene_id"] for d in listed] == [alerted, wide, narrow]
    assert listed[0]["alerts"] == [{"kind": "record", "severity": "high", "class": "all"}]
    assert listed[1]["spread"] == 2.5
    assert main(["scene", "to-review", "yard", "-n", "1"]) == 0
    out = capsys.readouterr().out
    assert "high record" in out and "scene review ID" in out


def test_a_count_of_zero_empties_every_class(db: Database) -> None:
    sid = _scene(db)  # the detector: 40 boxcars, 21 tanks, 12 covered
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 0}, note="the yard is empty: shadows")
    stored = _stored(db, sid)
    assert stored["all"][0] == stored["boxcar"][0] == stored["tank"][0] == 0.0
    assert stored["covered"][0] == 0.0 and stored["boxcar"][3] == ANALYST


def test_import_reviews_from_the_exports_csv_corrected(
    cli_db: tuple[Database, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv

    db, _ = cli_db
    first = _scene(db)
    second = _scene(db, count=FakeCount(50, 45, 60, {}, 3))
    _scene(db, count=None)  # unusable: its empty line is a gap
    out = tmp_path / "counts.csv"
    assert main(["export", "yard", "--format", "csv", "--out", str(out)]) == 0
    capsys.readouterr()
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["scene_id"] == str(second):
            row["count"] = "55"  # the analyst's correction in a spreadsheet
    with out.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    assert main(["scene", "import-reviews", "yard", str(out), "--note", "sheet"]) == 0
    printed = capsys.readouterr().out
    assert "Recorded 1 review " in printed and "1 image already had" in printed
    assert _stored(db, second)["all"] == (55.0, 55.0, 55.0, ANALYST)
    assert _stored(db, first)["all"][3] == "default"
    # again: nothing changes
    assert main(["scene", "import-reviews", "yard", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again == {
        "recorded": [],
        "unusable": [],  # the images the file declared unusable (since session 37)
        "unchanged": [first, second],
        "by_utc_day": [],
    }


def test_import_reviews_by_day_and_class(
    cli_db: tuple[Database, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = cli_db
    sid = _scene(db)  # 2023-10-05: the detector's 61, 40 boxcars, 21 tanks, 12 covered
    path = tmp_path / "hand.csv"
    path.write_text(
        "date,count,class\n2023-10-05,73,all\n2023-10-05,45,boxcar\n2023-10-05,20,covered\n"
    )
    assert main(["scene", "import-reviews", "yard", str(path)]) == 0
    stored = _stored(db, sid)
    assert stored["all"][0] == 73.0 and stored["boxcar"][0] == 45.0
    assert stored["covered"][0] == 20.0 and stored["tank"] == (21.0, 19.0, 23.0, "default")
    for text, message in (
        (
            "date,count\n2023-10-09,5\n",
            "line 2 (2023-10-09) is a day at site 'yard' (UTC+9 nominal), which has no",
        ),
        ("date,count,class\n2023-10-05,5,tank\n", "(scene 1): give the total count"),
        ("date,count,class\n2023-10-05,5,all\n2023-10-05,30,tank\n", "tank 30 is more than"),
        ("date,count,site\n2023-10-05,5,other\n", "names other, not 'yard'"),
    ):
        path.write_text(text)
        assert main(["scene", "import-reviews", "yard", str(path)]) != 0
        assert message in capsys.readouterr().err
    assert _stored(db, sid)["all"][0] == 73.0  # nothing written by a refused file


def test_a_count_the_site_cannot_hold_is_refused(db: Database) -> None:
    """A digit too many (or 1e20 through the API) is refused, not stored and judged."""
    sid = _scene(db)
    with db.session() as s:
        site = repo.get_site(s, "yard")
        limit = repo.review_count_limit(site.area_km2)
    assert 100 < limit < 1_000_000  # the test yard holds hundreds of cars, not millions
    for bad in (limit + 1, 1e20):
        with db.session() as s, pytest.raises(InputError, match="cannot stand in site 'yard'"):
            repo.set_scene_review(s, sid, {"all": bad})
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": limit})  # the limit itself is allowed
    assert _stored(db, sid)["all"][0] == limit


def test_an_unusable_scene_says_what_to_do_instead_of_processing(db: Database) -> None:
    sid = _scene(db, count=None)
    with db.session() as s, pytest.raises(InputError) as err:
        repo.set_scene_review(s, sid, {"all": 3})
    assert "clouds cover 70 %" in str(err.value)
    assert "clearer image" in str(err.value) and "`railwatch process" not in str(err.value)


def test_cars_of_scenes_without_separable_cars_are_refused(db: Database) -> None:
    from railwatch.review import scene_cars

    cloudy = _scene(db, count=None)
    coarse = _scene(db, gsd=3.0)
    fine = _scene(db)
    with db.session(readonly=True) as s:
        with pytest.raises(InputError, match=r"is unusable .*clouds cover 70 %"):
            scene_cars(s, cloudy)
        with pytest.raises(InputError, match="3 m image: its cars are not separable"):
            scene_cars(s, coarse)
        assert scene_cars(s, fine)["source"] == "detector"


def test_scenes_to_review_put_a_low_sun_before_wide_intervals(
    cli_db: tuple[Database, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Among images without alerts, those whose ten or more cars were counted one by one
    with the sun below 30 degrees come first: long shadows may be counted as cars."""
    db, _ = cli_db
    wide = _scene(db, count=FakeCount(10, 5, 30, {}, 0), meta={"sun_elevation": 55.0})
    low = _scene(
        db,
        count=FakeCount(40, 38, 42, {}, 0),
        meta={"sun_azimuth": 160.0, "sun_elevation": 21.6},
    )
    no_sun = _scene(db, count=FakeCount(12, 6, 30, {}, 0))
    # a nearly empty yard's low-sun count has little to gain: ranked by its interval
    few = _scene(db, count=FakeCount(2, 1, 3, {}, 0), meta={"sun_azimuth": 1, "sun_elevation": 20})
    assert main(["scene", "to-review", "yard", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["scene_id"] for d in listed] == [low, wide, no_sun, few]  # then the widest
    assert listed[0]["low_sun"] is True and listed[0]["sun_elevation"] == 21.6
    assert listed[1]["low_sun"] is False and listed[1]["sun_elevation"] is None  # no azimuth
    assert main(["scene", "to-review", "yard", "-n", "1"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "sun 22°" in out and "shadows" in out  # the table wraps the rest
