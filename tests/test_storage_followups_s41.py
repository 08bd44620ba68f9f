"""Follow-ups of the storage review of session 41 (2026-12-06).

1. A model file with a long name (over ~123 characters) gave the detector ``onnx:FILE``
   (``ultralytics:FILE``) a name longer than the store's 128-character column: on
   PostgreSQL ``railwatch process`` stopped at the first scene ("value too long for type
   character varying(128)") while SQLite stored it whole. The name now is bounded,
   stable across runs and one per file name (:func:`railwatch.detect.base.
   model_file_name`); a longer name reaching the store is refused, not cut.
2. ``flock`` failing other than "held" (``ENOLCK``, ``EOPNOTSUPP``: a network file
   system without locks) was an internal error (exit 70): now a StorageError that says
   the folder's file system does not support locks and what to do.
3. ``railwatch demo`` analyses as of its last image (its history is simulated up to
   2024-07-28) and a later ``railwatch analyze tumangang`` as of today, which adds the
   silence since that image: one medium alert more than the demo listed, unexplained.
   Not a fault of ``analyze`` (run again it changes nothing); the demo now says the day
   its alerts are as of and the alerts ``analyze`` adds.
"""

from __future__ import annotations

import errno
import fcntl
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from railwatch.detect.base import DETECTOR_NAME_MAX, model_file_name
from railwatch.detect.onnx_backend import OnnxObbDetector
from railwatch.detect.registry import get_detector
from railwatch.errors import StorageError
from railwatch.storage import Database, repo
from railwatch.storage.backup import _no_run_holds
from railwatch.storage.db import BusyError
from test_detect_onnx import ROWS, _model, _output

# ------------------------------------------------------------------ 1. long names


def _det(spec: str) -> OnnxObbDetector:
    det = get_detector(spec)
    assert isinstance(det, OnnxObbDetector)
    return det


def test_a_long_model_file_name_gives_a_bounded_stable_detector_name(tmp_path: Path) -> None:
    long = tmp_path / ("yolo11n-obb-railcars-" + "x" * 180 + ".onnx")
    path = _model(long, _output(ROWS), names="{0: 'tank car', 1: 'hopper'}")
    det = _det(f"onnx:{path}")
    assert len(det.name) <= DETECTOR_NAME_MAX
    assert det.name.startswith("onnx:yolo11n-obb-railcars-xxx") and det.name.endswith(".onnx")
    assert _det(f"onnx:{path}").name == det.name  # the same on every run
    # another long name with the same start: another name (one per file name)
    other = _model(
        tmp_path / ("yolo11n-obb-railcars-" + "x" * 179 + "y.onnx"),
        _output(ROWS),
        names="{0: 'tank car', 1: 'hopper'}",
    )
    assert _det(f"onnx:{other}").name != det.name
    # a short name is as it was
    short = _model(tmp_path / "best.onnx", _output(ROWS), names="{0: 'tank car', 1: 'hopper'}")
    assert _det(f"onnx:{short}").name == "onnx:best.onnx"


def test_model_file_name_of_both_kinds() -> None:
    name = "m" * 250 + ".pt"
    for kind in ("onnx", "ultralytics"):
        got = model_file_name(kind, Path("/models") / name)
        assert len(got) == DETECTOR_NAME_MAX
        assert got.startswith(f"{kind}:mmm") and got.endswith(".pt")
        assert model_file_name(kind, Path("/elsewhere") / name) == got  # the file's name
    exact = "a" * (DETECTOR_NAME_MAX - len("onnx:"))
    assert model_file_name("onnx", Path(exact)) == f"onnx:{exact}"  # fits: kept whole


def test_the_store_refuses_a_detector_name_longer_than_its_column(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    try:
        with db.session() as s, pytest.raises(StorageError, match="at most 128"):
            repo.record_scene_result(s, 1, object(), [], None, "custom:" + "n" * 200, "1")  # type: ignore[arg-type]
    finally:
        db.dispose()


# ------------------------------------------------------------------ 2. flock errors


def _failing_flock(code: int) -> Any:
    def flock(fd: int, op: int) -> None:
        raise OSError(code, f"{errno.errorcode[code]} from the test")

    return flock


@pytest.mark.parametrize("code", [errno.ENOLCK, errno.EOPNOTSUPP])
def test_a_file_system_without_locks_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    monkeypatch.setattr(fcntl, "flock", _failing_flock(code))
    try:
        with pytest.raises(StorageError) as err, db.exclusive({"process:yard": "busy"}):
            pass
    finally:
        db.dispose()
    assert not isinstance(err.value, BusyError)
    text = str(err.value)
    assert "does not support file locks" in text and str(tmp_path) in text
    assert "local disk" in text and "PostgreSQL" in text


def test_another_flock_error_is_a_storage_error_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    monkeypatch.setattr(fcntl, "flock", _failing_flock(errno.EIO))
    try:
        with (
            pytest.raises(StorageError, match=r"cannot lock .*local disk"),
            db.exclusive({"process:yard": "busy"}),
        ):
            pass
    finally:
        db.dispose()


def test_a_held_lock_is_still_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def held(fd: int, op: int) -> None:
        raise BlockingIOError(errno.EAGAIN, "held")

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    monkeypatch.setattr(fcntl, "flock", held)
    try:
        with (
            pytest.raises(BusyError, match="site yard is busy"),
            db.exclusive({"process:yard": "site yard is busy"}),
        ):
            pass
    finally:
        db.dispose()


def test_restore_says_so_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "rw.db"
    (tmp_path / "rw.db.locks").mkdir()
    (tmp_path / "rw.db.locks" / "0000000000000001.lock").write_text("")
    monkeypatch.setattr(fcntl, "flock", _failing_flock(errno.ENOLCK))
    with pytest.raises(StorageError, match="does not support file locks"), _no_run_holds(target):
        pass


# ------------------------------------------------------- 3. the demo's "as of" said


def test_the_alerts_analyze_adds_as_of_today_are_those_the_demo_names(tmp_path: Path) -> None:
    from railwatch.analysis.store import analyze_and_store, analyze_site
    from railwatch.demo import added_as_of_today
    from web_db import SITE, populate

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    try:
        populate(db, tmp_path / "scenes")
        with db.session() as s:
            demo = analyze_site(s, SITE)  # as the demo: as of the last image (2023-11-02)
            now = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
            added = added_as_of_today(s, SITE, demo.alerts, now)
            # as of the last image's day itself, nothing more
            assert (
                added_as_of_today(s, SITE, demo.alerts, datetime(2023, 11, 2, 23, tzinfo=UTC)) == []
            )
        assert [a.kind for a in added] == ["quality"]
        assert "No usable image of this site since 2023-11-02" in added[0].explanation
        # what `railwatch analyze SITE` then stores: exactly these more, and again nothing
        first = analyze_and_store(db, SITE, as_of=now)
        assert first.created == len(added)
        assert {a.key for a in first.alerts} == {a.key for a in demo.alerts} | {added[0].key}
        again = analyze_and_store(db, SITE, as_of=now)
        assert (again.created, again.updated, again.removed) == (0, 0, 0)
    finally:
        db.dispose()


def test_the_demo_says_its_alerts_are_as_of_its_last_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import railwatch.demo as demo
    from railwatch.cli.main import main

    result = demo.DemoResult(
        out_dir=tmp_path, db_url=f"sqlite:///{tmp_path / 'd.db'}", site="tumangang"
    )
    result.alerts = [demo.DemoAlert("2023-10-05", "record", "high", "68 railcars. More.")]
    result.as_of = "2024-07-28"
    silence = (
        "No usable image of this site since 2024-07-28: 45 days on 2024-09-11 (the "
        "alert's date), 90 days (twice that) on 2024-10-26, and none since."
    )
    result.added_today = [demo.DemoAlert("2024-09-11", "quality", "medium", silence)]
    monkeypatch.setattr(demo, "earlier_run", lambda *a, **k: None)
    monkeypatch.setattr(demo, "run_demo", lambda *a, **k: result)
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "alerts as of the last image (2024-07-28)" in out
    assert "`railwatch analyze tumangang` judges as of today and adds this:" in out
    assert "2024-09-11  quality  medium  No usable image of this site since 2024-07-28" in out
    assert main(["demo", "--out", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["as_of"] == "2024-07-28"
    assert [a["kind"] for a in data["added_as_of_today"]] == ["quality"]


@pytest.mark.services
def test_a_long_model_file_name_is_stored_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    from report_db import FakeQuality
    from web_db import SITE, populate

    unusable = FakeQuality(clear_fraction=0.3, cloud_fraction=0.7, usable=False, reasons=("x",))
    name = model_file_name("onnx", Path("/models") / ("yolo11n-obb-" + "x" * 200 + ".onnx"))
    db = Database(postgres_url)
    try:
        populate(db, tmp_path / "scenes")
        with db.session() as s:
            scene_id = repo.list_scenes(s, SITE)[0].id
            # the whole name: refused with what to do (was PostgreSQL's "value too long")
            with pytest.raises(StorageError, match="at most 128"):
                repo.record_scene_result(s, scene_id, unusable, [], None, "onnx:" + "x" * 200, "1")
            repo.record_scene_result(s, scene_id, unusable, [], None, name, "onnx+abc")
        with db.session(readonly=True) as s:
            assert repo.get_scene(s, scene_id).detector == name
    finally:
        db.dispose()
