"""A result judged with a quality mask that `railwatch ingest-stac` or `railwatch ingest`
took anew while `process` was counting the scene was recorded as current: the old mask's
stamp over the new one's (when it was hashed), the `+mask-changed` mark cleared, so a
count judged with the old mask stood beside the new mask's href and the scene was never
counted with it. Now `record_outcome` checks that the scene still has the mask its job
read (the same bytes stamped anew are the same mask): if not, nothing is recorded, the
scene stays to be counted again, and the run lists it as failed, saying why. Each
interleaving is played by calling the pieces in order (job, judgement, the other run,
the write), no threads or sleeps."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from railwatch import pipeline
from railwatch.ingest import MASK_STAMP_KEY, ingest_paths, mask_stamp
from railwatch.pipeline import pending_jobs, process_scene, process_site, record_outcome
from railwatch.storage import Database, repo

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from railwatch.imagery.quality import QUALITY_VERSION
from test_integrity_stac_mask_s29 import (
    _counts,
    _detector,
    _registered,
    _scene,
    item_with_mask,
    write_mask,
)
from test_pipeline_mask_changed_s28d import _cloud_everywhere
from test_pipeline_mask_changed_s28d import yard as file_yard  # noqa: F401  (the fixture)
from test_scene_identity_s29 import sha256, write_items
from test_stac import SIZE

Q = f"+q{QUALITY_VERSION}"  # ends every processing version (session 43)

MEANWHILE = "its quality mask was taken anew while it was processed"


def test_a_result_judged_with_a_mask_ingest_stac_replaced_meanwhile_is_not_recorded(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """The job reads the clear mask; `ingest-stac` then takes the item's other mask (a
    strip of cloud) before the outcome is written: the scene keeps its earlier result,
    the new mask's stamp and its mark to be counted again; the next run counts it."""
    from railwatch.stac import MASK_CHANGED, ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    process_site(db, "yard", detector=_detector())
    before = _scene(db)
    counted = _counts(db, before.id)
    (job,) = pending_jobs(db, "yard", detector=_detector(), reprocess=True)[0]
    outcome = process_scene(job, _detector())  # judged with the clear mask
    assert outcome.error is None and outcome.quality is not None
    new = write_mask(tmp_path / "a.v2.mask.tif", cloud_rows=48)
    write_items(Path(catalog), item_with_mask("a", tmp_path / "a.tif", new))
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert entry["mask_taken"] == "other href"

    got = record_outcome(db, outcome, _detector())
    after = _scene(db)
    assert after.mask_uri == str(new) and after.meta[MASK_STAMP_KEY] == mask_stamp(str(new))
    assert after.detector_version.endswith(MASK_CHANGED) and after.status == "processed"
    assert _counts(db, before.id) == counted and after.error is None
    assert got.error is not None and MEANWHILE in got.error
    assert f"it was judged with {mask}; the scene has {new} now" in got.error

    summary = process_site(db, "yard", detector=_detector())  # not --reprocess
    assert summary.total == 1 and not summary.failed
    counted_now = _scene(db)
    assert counted_now.detector_version == f"1{Q}"
    assert counted_now.cloud_fraction == pytest.approx(0.1, abs=0.02)


def test_the_same_mask_replaced_at_its_href_meanwhile_is_caught_too(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """The mask rewritten in place between the job's read and the write, and taken by
    `ingest-stac`: the result of the old bytes is not recorded."""
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    outcome = process_scene(job, _detector())
    write_mask(mask, cloud_rows=SIZE)
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert entry["mask_taken"] == "changed"
    got = record_outcome(db, outcome, _detector())
    after = _scene(db)
    assert after.status == "ingested" and after.meta[MASK_STAMP_KEY]["sha256"] == sha256(mask)
    assert got.error is not None and MEANWHILE in got.error
    assert process_site(db, "yard", detector=_detector()).unusable == [after.id]  # all cloud


def test_a_mask_railwatch_ingest_took_meanwhile_is_not_overwritten(
    file_yard: tuple[Database, Path, Path],  # noqa: F811
) -> None:
    """`railwatch ingest` of the image, its mask replaced, describes the scene anew
    (counted again) while a job judged it with the old mask: that result is not
    recorded over it."""
    db, image, mask = file_yard
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    outcome = process_scene(job, _detector())
    assert outcome.quality is not None and outcome.quality.usable
    _cloud_everywhere(mask)
    [entry] = ingest_paths(db, "yard", [image]).duplicates
    assert "yard.mask.tif (its quality mask) changed" in entry["reason"]
    got = record_outcome(db, outcome, _detector())
    after = _scene(db)
    assert after.status == "ingested" and after.meta[MASK_STAMP_KEY]["sha256"] == sha256(mask)
    assert got.error is not None and MEANWHILE in got.error


def test_process_site_says_the_result_was_not_recorded(
    tmp_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving inside a run: `ingest-stac` takes the new mask right after the
    scene was judged. The run files the scene as failed, saying why, not as counted."""
    from railwatch.stac import ingest_stac

    db, _, catalog = _registered(tmp_db_url, tmp_path)
    real = pipeline.process_scene

    def judged_then_taken(job: Any, detector: Any) -> Any:
        outcome = real(job, detector)
        new = write_mask(tmp_path / "a.v2.mask.tif", cloud_rows=48)
        write_items(Path(catalog), item_with_mask("a", tmp_path / "a.tif", new))
        ingest_stac(db, "yard", catalog)
        return outcome

    monkeypatch.setattr(pipeline, "process_scene", judged_then_taken)
    summary = process_site(db, "yard", detector=_detector())
    assert not summary.processed and not summary.unusable
    [(scene_id, reason)] = summary.failed
    assert scene_id == _scene(db).id
    assert MEANWHILE in reason and "counted again" in reason
    assert _scene(db).status == "ingested" and _scene(db).error is None


def test_a_stamp_renewed_meanwhile_for_the_same_bytes_is_no_change(
    file_yard: tuple[Database, Path, Path],  # noqa: F811
) -> None:
    """The scene's mask stamp renewed between the read and the write (times moved, as a
    reference of another scene records it; or first-use stamped by a re-run): the same
    mask, so the result is recorded, and the newer stamp stays."""
    db, _, mask = file_yard
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    outcome = process_scene(job, _detector())
    st = mask.stat()
    os.utime(mask, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    renewed = mask_stamp(str(mask))
    with db.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {**scene.meta, MASK_STAMP_KEY: renewed}
    recorded = record_outcome(db, outcome, _detector())
    after = _scene(db)
    assert after.status == "processed" and after.meta[MASK_STAMP_KEY] == renewed
    assert recorded is outcome  # filed as counted
