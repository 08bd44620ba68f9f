"""`ingest-stac` (and `railwatch ingest`) read a scene and then wrote its metadata and
recount mark back from that copy, without locking its row: on PostgreSQL, when it took
a new mask while `process` was recording the scene's first result, its update waited
behind that write and then went through with the status it had read ('ingested'): the
scene stood 'processed', judged with the old mask, holding the new one, and unmarked,
so it was never counted again though ingest-stac said it would be; its `meta` copy also
dropped what the result had just written (the occupied stretches, the registration).
Now those writers lock the scene and read it as committed (`repo.lock_scene`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from railwatch.ingest import MASK_STAMP_KEY, mask_stamp
from railwatch.pipeline import pending_jobs, process_scene, record_outcome
from railwatch.storage import Database

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_integrity_stac_mask_s29 import _detector, _registered, _scene, item_with_mask, write_mask
from test_scene_identity_s29 import write_items
from test_scene_write_races_s30 import _Between


def _the_locking_read(statement: str, _params: Any) -> bool:
    # FOR NO KEY UPDATE since session 32 (repo.lock_scene)
    return "FROM scenes" in statement and ("FOR UPDATE" in statement or "KEY UPDATE" in statement)


@pytest.mark.services
def test_a_mask_taken_while_the_first_result_is_written_marks_the_scene(
    postgres_url: str, tmp_path: Path
) -> None:
    from railwatch.stac import MASK_CHANGED, ingest_stac

    db, _mask, catalog = _registered(postgres_url, tmp_path)  # registered, not processed
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    outcome = process_scene(job, _detector())  # judged with the clear mask
    assert outcome.error is None and outcome.quality is not None
    new = write_mask(tmp_path / "a.v2.mask.tif", cloud_rows=48)
    write_items(Path(catalog), item_with_mask("a", tmp_path / "a.tif", new))
    other = Database(postgres_url, migrate=False)
    # ingest-stac starts once record_outcome holds the scene's row
    between = _Between(
        db, postgres_url, _the_locking_read, lambda: ingest_stac(other, "yard", catalog)
    )
    try:
        with between:
            record_outcome(db, outcome, _detector())
        [entry] = between.result()["value"].duplicates
    finally:
        other.dispose()
    assert entry["mask_taken"] == "other href"
    scene = _scene(db)
    assert scene.status == "processed" and scene.mask_uri == str(new)
    new_stamp = mask_stamp(str(new))
    assert new_stamp is not None and scene.meta[MASK_STAMP_KEY]["sha256"] == new_stamp["sha256"]
    # counted again by the next process, with the new mask, as ingest-stac said
    assert scene.detector_version.endswith(MASK_CHANGED), scene.detector_version
    db.dispose()
