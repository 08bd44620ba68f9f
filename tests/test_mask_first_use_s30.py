"""Quality masks ingested before masks were stamped, what session 30's STAC first-use
stamps (e4cf609) left: (1) a mask of `railwatch ingest` from then was read unchecked and
never stamped: `process` (and a re-run of `railwatch ingest`) now stamps it at its first
use, and checks it from then on; (2) a reference's unstamped mask (of a STAC scene or
of a file) is stamped as a coarse scene reads it, recorded on its scene."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.ingest import MASK_STAMP_KEY, ingest_paths
from railwatch.pipeline import pending_jobs, process_scene, process_site, record_outcome
from railwatch.storage import Database, repo

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_imagery_register import coarse_site  # noqa: F401  (the fixture)
from test_integrity_stac_mask_s29 import (
    CHANGED,
    _detector,
    _scene,
)
from test_pipeline_mask_changed_s28d import _cloud_everywhere
from test_pipeline_mask_changed_s28d import yard as file_yard  # noqa: F401  (the fixture)
from test_scene_identity_s29 import sha256


def _unstamp(db: Database) -> None:
    """Make the site's one scene as it was ingested before masks were stamped."""
    with db.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != MASK_STAMP_KEY}


# ----------------------------------------------- 1. masks of `railwatch ingest`


def test_process_stamps_an_unstamped_mask_of_railwatch_ingest_at_first_use(
    file_yard: tuple[Database, Path, Path],  # noqa: F811
) -> None:
    """Read as it is (the result as before) and stamped, marked as taken at first use;
    a mask replaced after that is refused."""
    db, image, mask = file_yard
    _unstamp(db)
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    assert job.mask_stamp is None and job.stac_item is None
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    stamp = _scene(db).meta[MASK_STAMP_KEY]
    assert stamp["sha256"] == sha256(mask) and "railwatch process" in stamp["first_use"]
    _cloud_everywhere(mask)
    [(_, reason)] = process_site(db, "yard", detector=_detector(), reprocess=True).failed
    assert CHANGED in reason and f"re-ingest its image {image}" in reason
    assert _scene(db).status == "processed"  # the result judged with the stamped mask


def test_a_rerun_of_railwatch_ingest_stamps_an_unstamped_mask_once(
    file_yard: tuple[Database, Path, Path],  # noqa: F811
) -> None:
    db, image, mask = file_yard
    process_site(db, "yard", detector=_detector())
    _unstamp(db)
    before = _scene(db)
    [entry] = ingest_paths(db, "yard", [image]).duplicates
    assert entry["reason"] == (
        f"already ingested as scene {before.id}; its quality mask {mask} had no integrity "
        "stamp (ingested before railwatch kept one): it is stamped as it is now, and "
        "`railwatch process` refuses the scene if it is replaced"
    )
    assert entry["mask_stamped"] == "first use"
    after = _scene(db)
    assert after.meta[MASK_STAMP_KEY]["sha256"] == sha256(mask)
    assert "railwatch ingest," in after.meta[MASK_STAMP_KEY]["first_use"]
    assert (after.status, after.detector_version) == (before.status, before.detector_version)
    [entry] = ingest_paths(db, "yard", [image]).duplicates  # stamped: nothing to say
    assert entry["reason"] == f"already ingested as scene {before.id}"


# ------------------------------------------------------------ 2. references' masks


def test_a_references_unstamped_mask_is_stamped_as_it_is_read(
    coarse_site: Database,  # noqa: F811
) -> None:
    """v1, ingested before masks were stamped, read as v0's reference: its mask is
    stamped at that first use and recorded on v1's scene with v0's outcome; the next
    scene that reads it checks it."""
    with coarse_site.session() as s:
        (v1,) = [sc for sc in repo.list_scenes(s, "yard") if Path(sc.uri).name == "v1.tif"]
        v1.meta = {k: v for k, v in v1.meta.items() if k != MASK_STAMP_KEY}
        v1_id, v1_mask = v1.id, str(v1.mask_uri)
    jobs, _ = pending_jobs(coarse_site, "yard", detector=_detector(), reprocess=True)
    (v0,) = [j for j in jobs if Path(j.uri).name == "v0.tif"]
    (ref,) = [r for r in v0.references if r.scene_id == v1_id]
    assert ref.mask_stamp is None
    outcome = process_scene(v0, _detector())
    assert outcome.error is None
    assert [r.scene_id for r in outcome.reference_stamps] == [v1_id]
    record_outcome(coarse_site, outcome, _detector())
    with coarse_site.session(readonly=True) as s:
        stamp = repo.get_scene(s, v1_id).meta[MASK_STAMP_KEY]
    assert stamp["sha256"] == sha256(Path(v1_mask)) and "first_use" in stamp
