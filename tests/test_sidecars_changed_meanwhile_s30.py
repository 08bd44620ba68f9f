"""`railwatch ingest` run while `process` counted a scene, its image's sidecars (here the
``NAME.aux.xml`` that gives its CRS and geotransform) changed, describes the scene anew
from them (another place, its results removed, pending). The result the job read from
the sidecars as they were was then written over that description: the scene stood as
processed with cars counted where the image no longer is, and the next run did not count
it again. Now `record_outcome` compares the job's file stamp with the scene's by the
sidecars' digests (the same files stamped anew are no change): if they differ nothing of
the outcome is recorded, the scene stays pending, and the run lists it as failed, saying
why. Each interleaving is played by calling the pieces in order (job, read, the other
run, the write), no threads or sleeps."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from imagery_helpers import ORIGIN_X, ORIGIN_Y
from railwatch import pipeline
from railwatch.ingest import FILE_STAMP_KEY, file_stamp, ingest_paths, sidecars_changed
from railwatch.pipeline import pending_jobs, process_scene, process_site, record_outcome
from railwatch.storage import Database, repo
from test_imagery_qa24_stamp import NAME, RES, _aux, _detector, _scene
from test_imagery_qa24_stamp import aux_image as aux_image  # the fixture

ANEW = "`railwatch ingest` described it anew while it was processed"


def _moved(path: Path) -> None:
    """The image shifted 20 m east by a geotransform in its aux.xml."""
    gt = f"<GeoTransform>{ORIGIN_X + 20}, {RES}, 0, {ORIGIN_Y}, 0, {-RES}</GeoTransform>"
    _aux(path, extra=gt)


def _footprint(db: Database) -> bytes:
    with db.session(readonly=True) as s:
        (sc,) = repo.list_scenes(s, "yard")
        return bytes(sc.footprint_wkb)


def test_a_result_read_before_ingest_described_the_scene_anew_is_not_recorded(
    aux_image: tuple[Database, Path],
) -> None:
    """The job reads the image as first placed; its aux.xml then moves it and `railwatch
    ingest` describes the scene anew before the outcome is written: the scene stays as
    that ingest left it (pending, no counts), and the next run counts it."""
    db, path = aux_image
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    (job,) = pending_jobs(db, "yard", detector=_detector(), reprocess=True)[0]
    outcome = process_scene(job, _detector())
    assert outcome.error is None and outcome.quality is not None
    _moved(path)
    [dup] = ingest_paths(db, "yard", [path]).duplicates
    assert "counts it again" in dup["reason"]
    described = _footprint(db)

    got = record_outcome(db, outcome, _detector())
    status, error, meta, counts = _scene(db)
    assert status == "ingested" and counts == 0 and error is None
    assert meta[FILE_STAMP_KEY] == file_stamp(path) and _footprint(db) == described
    assert got.error is not None and ANEW in got.error
    assert f"({NAME}.aux.xml changed)" in got.error and "counted again" in got.error

    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    assert _scene(db)[0] == "processed" and _scene(db)[3] > 0


def test_a_failure_read_before_ingest_described_the_scene_anew_is_not_recorded(
    aux_image: tuple[Database, Path],
) -> None:
    """The job is made, the aux.xml changes and `railwatch ingest` takes it, then the
    job reads the file against its old stamp and fails ("changed since ingest"): that
    failure, already answered, does not fail the scene described anew."""
    db, path = aux_image
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    _moved(path)
    ingest_paths(db, "yard", [path])
    outcome = process_scene(job, _detector())
    assert outcome.error is not None and "aux.xml changed" in outcome.error
    got = record_outcome(db, outcome, _detector())
    status, error, _, _ = _scene(db)
    assert status == "ingested" and error is None
    assert got.error is not None and ANEW in got.error
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1


def test_process_site_says_the_result_was_not_recorded(
    aux_image: tuple[Database, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving inside a run: `railwatch ingest` takes the moved aux.xml right
    after the scene was read. The run files it as failed, saying why, not as counted."""
    db, path = aux_image
    real = pipeline.process_scene

    def read_then_described_anew(job: Any, detector: Any) -> Any:
        outcome = real(job, detector)
        _moved(path)
        ingest_paths(db, "yard", [path])
        return outcome

    monkeypatch.setattr(pipeline, "process_scene", read_then_described_anew)
    summary = process_site(db, "yard", detector=_detector())
    assert not summary.processed and not summary.unusable
    [(_, reason)] = summary.failed
    assert ANEW in reason
    assert _scene(db)[0] == "ingested" and _scene(db)[3] == 0


def test_the_same_sidecars_stamped_anew_meanwhile_are_no_change(
    aux_image: tuple[Database, Path],
) -> None:
    """The aux.xml touched (its times moved, its contents the same), and the scene's stamp
    renewed between the read and the write (as another scene's run records it for a
    reference): the result is recorded, and the newer stamp stays."""
    db, path = aux_image
    aux = path.with_name(NAME + ".aux.xml")
    st = aux.stat()
    os.utime(aux, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    outcome = process_scene(job, _detector())
    assert outcome.file_stamp is not None  # hashed again, unchanged
    os.utime(aux, ns=(st.st_atime_ns, st.st_mtime_ns + 2 * 10**9))
    renewed = file_stamp(path)
    with db.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {**scene.meta, FILE_STAMP_KEY: renewed}
    recorded = record_outcome(db, outcome, _detector())
    status, _, meta, counts = _scene(db)
    assert recorded is outcome and status == "processed" and counts > 0
    assert meta[FILE_STAMP_KEY] == renewed


def test_sidecars_changed_compares_digests_only(aux_image: tuple[Database, Path]) -> None:
    _, path = aux_image
    was = file_stamp(path)
    assert sidecars_changed(was, {**was, "mtime_ns": 1}) == []
    assert sidecars_changed(was, None) is None
    assert sidecars_changed({"size": 1}, was) is None  # a stamp from before session 24
    _moved(path)
    assert sidecars_changed(was, file_stamp(path)) == [(NAME + ".aux.xml", "changed")]
    path.with_name(NAME + ".aux.xml").unlink()
    assert sidecars_changed(was, file_stamp(path)) == [(NAME + ".aux.xml", "went away")]
