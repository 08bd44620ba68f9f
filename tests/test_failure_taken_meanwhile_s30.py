"""A failure met with what a scene no longer has is not recorded either. `process`
refused a scene whose quality mask changed since ingest; `ingest-stac` then took the
mask as it is now (the scene left to be counted again) before the failure was written:
the failure was recorded over it (pending scene: failed; processed one: 'processing
again failed ... quality mask changed since ingest' beside its earlier result), listed
as the scene's state although the scene had the new mask already. Now failures carry
what their job read (mask, file stamp, item scales, colour bands) and are checked as
results are (`record_outcome`). Each interleaving is played in order (job, failure,
the other run, the write), no threads or sleeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.ingest import MASK_STAMP_KEY, first_use_stamp
from railwatch.pipeline import (
    pending_jobs,
    process_scene,
    process_site,
    record_outcome,
    task_failed,
)
from railwatch.storage import Database, repo

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_integrity_stac_mask_s29 import CHANGED, _detector, _registered, _scene, write_mask
from test_pipeline_mask_changed_s28d import yard as file_yard  # noqa: F401  (the fixture)
from test_stac import SIZE

MEANWHILE = "its quality mask was taken anew while it was processed"


def test_a_mask_failure_of_a_pending_scene_is_not_recorded_once_ingest_stac_took_the_mask(
    tmp_db_url: str, tmp_path: Path
) -> None:
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    write_mask(mask, cloud_rows=SIZE)  # replaced after ingest: process refuses it
    outcome = process_scene(job, _detector())
    assert outcome.error is not None and CHANGED in outcome.error
    [entry] = ingest_stac(db, "yard", catalog).duplicates  # meanwhile: takes it
    assert entry["mask_taken"] == "changed"

    got = record_outcome(db, outcome, _detector())
    after = _scene(db)
    assert (after.status, after.error) == ("ingested", None)  # as ingest-stac left it
    assert got.error is not None and MEANWHILE in got.error
    assert f"it was read with {mask}" in got.error
    assert "that failure (" in got.error and CHANGED in got.error  # the failure named
    summary = process_site(db, "yard", detector=_detector())  # judged with the new mask
    assert summary.unusable == [after.id] and not summary.failed


def test_a_mask_failure_of_a_processed_scene_is_not_written_beside_its_result(
    tmp_db_url: str, tmp_path: Path
) -> None:
    from railwatch.stac import MASK_CHANGED, ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    process_site(db, "yard", detector=_detector())
    (job,) = pending_jobs(db, "yard", detector=_detector(), reprocess=True)[0]
    write_mask(mask, cloud_rows=SIZE)
    outcome = process_scene(job, _detector())
    assert outcome.error is not None and CHANGED in outcome.error
    ingest_stac(db, "yard", catalog)
    got = record_outcome(db, outcome, _detector())
    after = _scene(db)
    assert after.status == "processed" and after.error is None
    assert after.detector_version.endswith(MASK_CHANGED)  # still counted again next
    assert got.error is not None and MEANWHILE in got.error


def test_a_failure_read_with_the_old_bands_is_not_recorded(
    file_yard: tuple[Database, Path, Path],  # noqa: F811
) -> None:
    """An unexpected error (the scene's task raised) met with bands that `railwatch
    scene bands` replaced meanwhile: the scene stays pending for the new bands."""
    db, _, _ = file_yard
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    outcome = task_failed(job.scene_id, RuntimeError("out of memory"), job)
    with db.session() as s:
        assert repo.set_scene_bands(s, job.scene_id, (3, 2, 1))
    got = record_outcome(db, outcome, _detector())
    assert got.error is not None and "colour bands were set to 3,2,1" in got.error
    failure = "that failure (task failed: RuntimeError: out of memory) is not recorded"
    assert failure in got.error
    assert (_scene(db).status, _scene(db).error) == ("ingested", None)


def test_a_failure_still_stands_when_its_unstamped_mask_was_only_stamped_meanwhile(
    file_yard: tuple[Database, Path, Path],  # noqa: F811
) -> None:
    """The job read the mask unstamped (ingested before masks were stamped) and failed
    before hashing it; a coarse scene's run stamped it at its first use meanwhile (as a
    reference): nothing says the mask changed, so the failure is recorded."""
    db, _, mask = file_yard
    with db.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != MASK_STAMP_KEY}
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    assert job.mask_stamp is None
    outcome = task_failed(job.scene_id, RuntimeError("boom"), job)
    with db.session() as s:
        scene = repo.lock_scene(s, job.scene_id)
        scene.meta = {**scene.meta, MASK_STAMP_KEY: first_use_stamp(str(mask), "test")}
    got = record_outcome(db, outcome, _detector())
    assert got is outcome
    after = _scene(db)
    assert after.status == "failed" and "RuntimeError: boom" in after.error
