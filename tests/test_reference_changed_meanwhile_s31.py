"""A coarse scene's result read with a reference that changed while it was processed is
not recorded (session 31). A 3 m scene is registered against, and takes its empty track
from, up to 16 of the site's other images (its references). `record_outcome` checked
that the scene itself still had the mask, sidecars, item scales and bands its job read
it with, but not its references: when `railwatch scene bands`, `ingest-stac` (new item
scales, another mask) or `ingest` changed a reference's scene while the run was going,
the scene's result, read with the reference as it was, was recorded, and nothing counted
it again. Now the check covers the references read too: the result is not recorded, the
scene stays to be counted again (marked `+reference-changed` when it keeps earlier
results), and the run lists it as failed, saying why. Each interleaving is played by
calling the pieces in order (job, reading, the other command, the write), no threads or
sleeps; the Dask path is played by holding its recording until the other command ran."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from railwatch.imagery.inspect import ITEM_SCALING_KEY
from railwatch.ingest import FILE_STAMP_KEY, MASK_STAMP_KEY, mask_stamp
from railwatch.pipeline import (
    REFERENCE_CHANGED,
    SceneOutcome,
    pending_jobs,
    process_scene,
    process_site,
    record_outcome,
)
from railwatch.storage import Database, repo
from railwatch.storage.models import Count
from test_imagery_register import (  # noqa: F401  (the fixture)
    BrightBlobDetector,
    coarse_site,
    coarse_site_at,
)

MEANWHILE = "one of the other images it was registered against and took its empty track from"


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def _read(db: Database, reprocess: bool = False) -> SceneOutcome:
    """The first scene's job, read: a result with its references."""
    job = pending_jobs(db, "yard", detector=_detector(), reprocess=reprocess)[0][0]
    outcome = process_scene(job, _detector())
    assert outcome.error is None and outcome.quality is not None and outcome.quality.usable
    assert len(outcome.references_read) == 4
    return outcome


def _bands(db: Database, scene_id: int) -> None:
    """`railwatch scene bands` of the reference."""
    with db.session() as s:
        assert repo.set_scene_bands(s, scene_id, (3, 2, 1))


def _scales(db: Database, scene_id: int) -> None:
    """`ingest-stac` recording the scales the reference's item declares."""
    with db.session() as s:
        scene = repo.get_scene(s, scene_id)
        scale = {"scale": [2.0, 2.0, 2.0], "offset": [0.0, 0.0, 0.0]}
        scene.meta = {**(scene.meta or {}), ITEM_SCALING_KEY: scale}


def _mask(db: Database, scene_id: int) -> None:
    """`ingest-stac` taking another quality mask for the reference (other bytes)."""
    import rasterio

    with db.session() as s:
        scene = repo.get_scene(s, scene_id)
        old = Path(str(scene.mask_uri))
        new = old.with_name(f"other-{old.name}")
        with rasterio.open(old) as src:
            profile, data = src.profile, src.read(1)
        data[:5, :5] = np.where(data[:5, :5] == 0, 1, 0)
        profile.update(driver="GTiff")
        with rasterio.open(new, "w", **profile) as dst:
            dst.write(data, 1)
        scene.mask_uri = str(new)
        scene.meta = {**(scene.meta or {}), MASK_STAMP_KEY: mask_stamp(str(new))}


def _radiometry(db: Database, scene_id: int) -> None:
    """`railwatch ingest --radiometry display` of the reference."""
    with db.session() as s:
        scene = repo.get_scene(s, scene_id)
        scene.meta = {**(scene.meta or {}), "radiometry": "display"}


def _counts(db: Database, scene_id: int) -> tuple[tuple[str, float], ...]:
    with db.session(readonly=True) as s:
        rows = s.scalars(select(Count).where(Count.scene_id == scene_id))
        return tuple(sorted((c.cls, float(c.count)) for c in rows))


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_bands, "its colour bands changed"),
        (_scales, "the scale and offset its STAC item declares for its bands changed"),
        (_mask, "its quality mask is "),
        (_radiometry, "its radiometry is display now, not linear"),
    ],
)
def test_a_result_read_with_a_reference_changed_meanwhile_is_not_recorded(
    coarse_site: Database,  # noqa: F811
    change: Callable[[Database, int], None],
    said: str,
) -> None:
    outcome = _read(coarse_site)
    ref = outcome.references_read[0].scene_id
    assert ref is not None
    change(coarse_site, ref)

    got = record_outcome(coarse_site, outcome, _detector())
    assert got.error is not None and MEANWHILE in got.error and said in got.error
    assert f"scene {outcome.scene_id}: scene {ref}," in got.error
    assert "is counted again with its references as they are now" in got.error
    with coarse_site.session(readonly=True) as s:  # left pending, as it was
        scene = repo.get_scene(s, outcome.scene_id)
        assert scene.status == "ingested" and scene.processed_at is None
    assert _counts(coarse_site, outcome.scene_id) == ()

    summary = process_site(coarse_site, "yard", detector=_detector())
    assert outcome.scene_id in summary.processed and not summary.failed


def test_a_scene_counted_before_keeps_its_result_and_is_marked(
    coarse_site: Database,  # noqa: F811
) -> None:
    """A --reprocess run: the earlier result stays, marked, and the next plain run
    counts the scene again."""
    first = process_site(coarse_site, "yard", detector=_detector())
    assert len(first.processed) == 5
    outcome = _read(coarse_site, reprocess=True)
    before = _counts(coarse_site, outcome.scene_id)
    assert before
    ref = outcome.references_read[1].scene_id
    assert ref is not None
    _scales(coarse_site, ref)

    got = record_outcome(coarse_site, outcome, _detector())
    assert got.error is not None and MEANWHILE in got.error
    with coarse_site.session(readonly=True) as s:
        scene = repo.get_scene(s, outcome.scene_id)
        assert scene.status == "processed" and scene.detector_version is not None
        assert scene.detector_version.endswith(REFERENCE_CHANGED)
    assert _counts(coarse_site, outcome.scene_id) == before

    again = process_site(coarse_site, "yard", detector=_detector())  # not --reprocess
    assert outcome.scene_id in again.processed and not again.failed
    # and, since the references each result was read with are recorded (session 31),
    # the other scenes that read the reference before its scales changed
    others = set(first.processed) - {outcome.scene_id, ref}
    assert set(again.processed) == {outcome.scene_id} | others
    assert set(dict(again.recounted)) == others
    with coarse_site.session(readonly=True) as s:
        version = repo.get_scene(s, outcome.scene_id).detector_version
        assert version is not None and not version.endswith(REFERENCE_CHANGED)


def test_references_stamped_anew_in_the_same_run_are_no_change(
    coarse_site: Database,  # noqa: F811
) -> None:
    """What a run itself records on the references (their masks stamped at first use,
    their files' new stamps after their times moved, their own results) does not decline
    the scenes read with them."""
    with coarse_site.session() as s:
        for scene in repo.list_scenes(s, "yard"):
            scene.meta = {k: v for k, v in scene.meta.items() if k != MASK_STAMP_KEY}
            assert FILE_STAMP_KEY in scene.meta
            os.utime(scene.uri)  # new times, same bytes: hashed again, stamped anew
    summary = process_site(coarse_site, "yard", detector=_detector())
    assert len(summary.processed) == 5 and not summary.failed


def test_a_reference_unchanged_is_recorded_and_one_removed_is_said(
    coarse_site: Database,  # noqa: F811
) -> None:
    outcome = _read(coarse_site)
    assert record_outcome(coarse_site, outcome, _detector()).error is None
    outcome = _read(coarse_site)  # the next scene, read with the first among its refs
    ref = outcome.references_read[-1].scene_id
    assert ref is not None
    with coarse_site.session() as s:
        s.delete(repo.get_scene(s, ref))
    got = record_outcome(coarse_site, outcome, _detector())
    assert got.error is not None and f"scene {ref}," in got.error and "it was removed" in got.error


@pytest.mark.services
@pytest.mark.parametrize("after", [1, 2])
def test_on_postgresql_the_references_are_read_as_committed(
    postgres_url: str, tmp_path: Path, after: int
) -> None:
    """`railwatch scene bands` of a reference comes right after the first (1) or second
    (2) statement of the write that reads scenes: it waits on the reference's lock, and
    its bands are written after the result, read with them as they were until then.
    Since session 32 the scene's row and its references' are locked in the first of
    those statements (the lock order, tests/test_lock_order_s32.py); before, the first
    locked the scene's own row only, and bands committed then were seen and the result
    not recorded (a change committed before the write is seen:
    test_a_result_read_with_a_reference_changed_meanwhile_is_not_recorded)."""
    pytest.importorskip("pystac")
    from test_scene_write_races_s30 import _Between, _nth_read_of_scenes

    db = coarse_site_at(tmp_path, postgres_url)
    other = Database(postgres_url, migrate=False)
    try:
        outcome = _read(db)
        ref = outcome.references_read[0].scene_id
        assert ref is not None

        def bands() -> bool:
            with other.session() as s:
                return repo.set_scene_bands(s, ref, (3, 2, 1))

        between = _Between(db, postgres_url, _nth_read_of_scenes(after), bands)
        with between:
            got = record_outcome(db, outcome, _detector())
        assert between.result()["value"] is True
        with db.session(readonly=True) as s:
            scene = repo.get_scene(s, outcome.scene_id)
            assert repo.get_scene(s, ref).meta.get("rgb_bands") == [3, 2, 1]
            assert got.error is None and scene.status == "processed"
    finally:
        other.dispose()
        db.dispose()


@pytest.mark.slow
def test_the_dask_path_checks_the_references_too(
    coarse_site: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    from railwatch import distributed
    from railwatch.distributed import ClusterSpec, process_sites_distributed

    real = distributed.record_outcome
    changed: list[tuple[int, int]] = []

    def record(db: Any, outcome: SceneOutcome, detector: Any) -> SceneOutcome:
        if not changed and outcome.references_read:  # the other command, before the write
            ref = outcome.references_read[0].scene_id
            assert ref is not None
            _bands(db, ref)
            changed.append((outcome.scene_id, ref))
        return real(db, outcome, detector)

    monkeypatch.setattr(distributed, "record_outcome", record)

    def run() -> Any:
        with (
            LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            [summary] = process_sites_distributed(
                coarse_site, ["yard"], detector=_detector(), client=client, cluster=ClusterSpec()
            )
        return summary

    summary = run()
    [(scene_id, ref)] = changed
    failed = dict(summary.failed)
    assert scene_id in failed and MEANWHILE in failed[scene_id]
    assert f"scene {ref}," in failed[scene_id] and "its colour bands changed" in failed[scene_id]
    assert scene_id not in summary.processed
    again = run()  # the scene is counted again, with the reference as it is now
    assert scene_id in again.processed and not again.failed
