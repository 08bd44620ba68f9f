"""A result read with band scales that `railwatch ingest-stac` replaced while `process`
was counting the scene was recorded as current: a scene registered before its item's
`raster:bands` scales were kept (or whose item was corrected) takes them at the next
`ingest-stac` and is marked `+scale-changed` to be counted again, but a run that had
read it with the old scales wrote its result over that and cleared the mark, so the
scene was never counted with the scales. Now `record_outcome` checks that the scene's
item still declares the scales its job read it with (as it checks the quality mask,
32e41c5): if not, nothing is recorded, the scene stays to be counted again, and the run
lists it as failed, saying why. Each interleaving is played by calling the pieces in
order (job, reading, the other run, the write), no threads or sleeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from railwatch import pipeline
from railwatch.imagery.read import ITEM_SCALING_KEY, item_scaling_of
from railwatch.pipeline import pending_jobs, process_scene, process_site, record_outcome
from railwatch.storage import Database, repo

pytest.importorskip("pystac")

from test_scene_identity_s29 import write_items
from test_stac import site_db
from test_stac_item_scaling_s30 import (
    OFFSETS,
    SCALES,
    _detector,
    _scene,
    declared,
    item,
    write_reflectance,
)

MEANWHILE = "the scale and offset its STAC item declares for its bands changed while it"
SCALING = (tuple(SCALES), tuple(OFFSETS))


def _registered_before(tmp_db_url: str, tmp_path: Path) -> tuple[Database, str]:
    """A STAC scene whose item declares :data:`SCALES`, registered as before session 30
    (no item scaling kept), and its catalog."""
    from railwatch.stac import ingest_stac

    image = write_reflectance(tmp_path / "a.tif")
    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "items.json", item(image, declared()))
    ingest_stac(db, "yard", catalog)
    with db.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != ITEM_SCALING_KEY}
    return db, catalog


def _taken(db: Database, catalog: str) -> None:
    """`ingest-stac` run again over the catalog: the scene takes its item's scales."""
    from railwatch.stac import ingest_stac

    [dup] = ingest_stac(db, "yard", catalog).duplicates
    assert "scale and offset are now those its item declares" in dup["reason"]


def _results(db: Database, scene_id: int) -> tuple[Any, ...]:
    """The scene's status, when it was counted, and its counts."""
    from sqlalchemy import select

    from railwatch.storage.models import Count

    with db.session(readonly=True) as s:
        scene = repo.get_scene(s, scene_id)
        rows = s.scalars(select(Count).where(Count.scene_id == scene_id))
        counts = sorted((c.cls, float(c.count)) for c in rows)
        return scene.status, scene.processed_at, tuple(counts)


def test_a_result_read_without_the_scales_ingest_stac_took_meanwhile_is_not_recorded(
    tmp_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted before; a --reprocess run reads it without scales, `ingest-stac` takes
    them (and marks it) before the write: the earlier result and the mark stay, and the
    next run (not --reprocess) counts it with the scales."""
    from railwatch.stac import SCALE_CHANGED

    db, catalog = _registered_before(tmp_db_url, tmp_path)
    assert process_site(db, "yard", detector=_detector()).total == 1
    scene_id = _scene(db).id
    before = _results(db, scene_id)
    (job,) = pending_jobs(db, "yard", detector=_detector(), reprocess=True)[0]
    assert job.item_scaling is None
    outcome = process_scene(job, _detector())  # read as stored
    assert outcome.error is None and outcome.quality is not None
    _taken(db, catalog)

    got = record_outcome(db, outcome, _detector())
    after = _scene(db)
    assert after.detector_version.endswith(SCALE_CHANGED) and after.status == "processed"
    assert item_scaling_of(after.meta) == SCALING
    assert _results(db, scene_id) == before and after.error is None
    assert got.error is not None and MEANWHILE in got.error
    assert "it was read without them" in got.error
    assert "its item declares scale 0.0001, 0.0002, 0.0004 and offset -0.1, 0, 0" in got.error

    seen: list[Any] = []
    real = pipeline.read_site_window

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("item_scaling"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "read_site_window", spy)
    summary = process_site(db, "yard", detector=_detector())  # not --reprocess
    assert summary.total == 1 and not summary.failed and seen == [SCALING]
    assert not _scene(db).detector_version.endswith(SCALE_CHANGED)


def test_a_pending_scene_read_without_them_stays_pending(tmp_db_url: str, tmp_path: Path) -> None:
    db, catalog = _registered_before(tmp_db_url, tmp_path)
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    outcome = process_scene(job, _detector())
    _taken(db, catalog)
    got = record_outcome(db, outcome, _detector())
    after = _scene(db)
    assert after.status == "ingested" and after.processed_at is None and after.error is None
    assert got.error is not None and MEANWHILE in got.error
    assert process_site(db, "yard", detector=_detector()).total == 1
    assert _scene(db).status in ("processed", "unusable")


def test_other_scales_taken_meanwhile_are_caught_too(tmp_db_url: str, tmp_path: Path) -> None:
    """The job read the item's first scales; the item corrected and taken meanwhile."""
    from railwatch.stac import SCALE_CHANGED, ingest_stac

    image = write_reflectance(tmp_path / "a.tif")
    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "items.json", item(image, declared()))
    ingest_stac(db, "yard", catalog)
    process_site(db, "yard", detector=_detector())
    (job,) = pending_jobs(db, "yard", detector=_detector(), reprocess=True)[0]
    assert job.item_scaling == SCALING
    outcome = process_scene(job, _detector())
    write_items(Path(catalog), item(image, declared([2e-4, 2e-4, 4e-4])))
    ingest_stac(db, "yard", catalog)
    got = record_outcome(db, outcome, _detector())
    assert got.error is not None and MEANWHILE in got.error
    assert "read with scale 0.0001, 0.0002, 0.0004" in got.error
    assert _scene(db).detector_version.endswith(SCALE_CHANGED)


def test_process_site_says_the_result_was_not_recorded(
    tmp_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving inside a run: `ingest-stac` takes the scales right after the
    scene was read. The run files the scene as failed, saying why, not as counted."""
    db, catalog = _registered_before(tmp_db_url, tmp_path)
    real = pipeline.process_scene

    def read_then_taken(job: Any, detector: Any) -> Any:
        outcome = real(job, detector)
        _taken(db, catalog)
        return outcome

    monkeypatch.setattr(pipeline, "process_scene", read_then_taken)
    summary = process_site(db, "yard", detector=_detector())
    assert not summary.processed and not summary.unusable
    [(scene_id, reason)] = summary.failed
    assert scene_id == _scene(db).id
    assert MEANWHILE in reason and "counted again" in reason
    assert _scene(db).status == "ingested" and _scene(db).error is None


def test_the_same_scales_are_recorded(tmp_db_url: str, tmp_path: Path) -> None:
    """Nothing taken meanwhile (or the same scales recorded again): recorded as counted."""
    from railwatch.stac import ingest_stac

    image = write_reflectance(tmp_path / "a.tif")
    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "items.json", item(image, declared()))
    ingest_stac(db, "yard", catalog)
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    outcome = process_scene(job, _detector())
    ingest_stac(db, "yard", catalog)  # the same scales: nothing taken
    assert record_outcome(db, outcome, _detector()) is outcome
    assert _scene(db).status in ("processed", "unusable")
