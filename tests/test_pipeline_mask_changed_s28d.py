"""A quality-mask file replaced after ingest: `process` read the new mask silently, so
the scene's usable/unusable decision and clear fraction changed without a word (the
image itself is checked, and a deleted mask fails clearly). Now the mask's size, times
and SHA-256 are recorded at ingest and checked before it is read: a changed mask fails
the scene with what to do; a result judged with the ingested mask is kept; a scene
ingested before railwatch kept the mask's digest is judged as before."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from shapely.geometry import box

from railwatch.imagery import inspect_scene
from railwatch.imagery.inspect import file_sha256
from railwatch.ingest import MASK_STAMP_KEY, ingest_paths
from railwatch.pipeline import pending_jobs, process_site
from railwatch.sim import SceneParams, render_scene, write_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import Count, Scene
from test_detect_fakes import BrightBlobDetector

CHANGED = "quality mask changed since ingest (its hash differs): re-ingest its image"


@pytest.fixture
def yard(tmp_path: Path) -> tuple[Database, Path, Path]:
    """A site with one ingested 0.5 m image (``yard.tif``, 4 cars) and its quality mask
    (``yard.mask.tif``, the simulator's); returns the database, image and mask."""
    params = SceneParams(
        seed=5, size_px=(320, 320), n_cars=4, gsd=0.5, date=datetime(2023, 5, 1, tzinfo=UTC)
    )
    paths = write_scene(render_scene(params), tmp_path / "imgs", "yard", preview=False)
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    aoi = box(*inspect_scene(paths.image).footprint.buffer(-0.0005).bounds)
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi))
    summary = ingest_paths(db, "yard", [paths.image])
    assert len(summary.ingested) == 1, summary.failed
    return db, paths.image, paths.mask


def _cloud_everywhere(mask: Path) -> None:
    """Replace the mask file by one that marks every pixel cloud (code 1), as a
    provider's re-delivered mask or a wrong file copied over it would."""
    with rasterio.open(mask) as ds:
        profile, data = ds.profile, ds.read()
    tmp = mask.with_name("new.mask.tif")
    with rasterio.open(tmp, "w", **profile) as ds:
        ds.write(np.ones_like(data))
    os.replace(tmp, mask)


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


_State = tuple[str, bool | None, str | None, dict[str, object], list[tuple[str, float]]]


def _scene(db: Database) -> _State:
    """The one scene's status, usable, error, metadata and counts."""
    with db.session(readonly=True) as s:
        (sc,) = repo.list_scenes(s, "yard")
        counts = sorted((c.cls, c.count) for c in s.query(Count).filter_by(scene_id=sc.id))
        return sc.status, sc.usable, sc.error, dict(sc.meta), counts


def test_ingest_records_the_masks_digest(yard: tuple[Database, Path, Path]) -> None:
    db, _, mask = yard
    _, _, _, meta, _ = _scene(db)
    stamp = meta[MASK_STAMP_KEY]
    assert isinstance(stamp, dict)
    assert stamp["sha256"] == file_sha256(mask) and stamp["size"] == mask.stat().st_size
    [job], _ = pending_jobs(db, "yard", detector=_detector())
    assert job.mask_stamp == stamp


def test_a_mask_replaced_before_processing_fails_its_scene(
    yard: tuple[Database, Path, Path],
) -> None:
    db, image, mask = yard
    _cloud_everywhere(mask)
    summary = process_site(db, "yard", detector=_detector())
    assert not summary.processed and not summary.unusable  # not judged "all cloud"
    [(_, reason)] = summary.failed
    assert reason.startswith(f"{mask}: {CHANGED} {image} with `railwatch ingest`")
    assert "put back the mask that was ingested" in reason
    status, usable, error, _, counts = _scene(db)
    assert status == "failed" and usable is None and error == reason and counts == []


def test_a_mask_replaced_after_processing_keeps_the_result(
    yard: tuple[Database, Path, Path],
) -> None:
    """--reprocess (or a new detector) with the mask replaced: the scene fails with the
    reason, and its result, judged with the ingested mask and image, is kept."""
    db, _, mask = yard
    det = _detector()
    assert len(process_site(db, "yard", detector=det).processed) == 1
    status, usable, _, meta, before = _scene(db)
    assert status == "processed" and usable is True and before
    _cloud_everywhere(mask)
    summary = process_site(db, "yard", detector=det, reprocess=True)
    assert len(summary.failed) == 1 and CHANGED in summary.failed[0][1]
    status, usable, error, after_meta, after = _scene(db)
    assert status == "processed" and usable is True and after == before
    assert error is not None and CHANGED in error and "the earlier result" in error
    assert after_meta == meta


def test_re_ingest_takes_the_new_mask(yard: tuple[Database, Path, Path]) -> None:
    """What the message says to do works: the scene is described anew with the mask as
    it is now and judged with it (all cloud: unusable)."""
    db, image, mask = yard
    det = _detector()
    assert len(process_site(db, "yard", detector=det).processed) == 1
    _cloud_everywhere(mask)
    again = ingest_paths(db, "yard", [image])
    [entry] = again.duplicates
    assert "yard.mask.tif (its quality mask) changed" in entry["reason"]
    _, _, _, meta, counts = _scene(db)
    stamp = meta[MASK_STAMP_KEY]
    assert isinstance(stamp, dict)
    assert stamp["sha256"] == file_sha256(mask) and counts == []
    summary = process_site(db, "yard", detector=det)
    assert not summary.failed and len(summary.unusable) == 1
    # an unchanged mask re-ingested is a plain duplicate (nothing counted again)
    [entry] = ingest_paths(db, "yard", [image]).duplicates
    assert "quality mask" not in entry["reason"]
    assert _scene(db)[0] == "unusable"


def test_a_scene_ingested_without_a_mask_digest_is_judged_as_before(
    yard: tuple[Database, Path, Path],
) -> None:
    db, _, mask = yard
    with db.session() as s:
        sc = s.query(Scene).one()
        sc.meta = {k: v for k, v in sc.meta.items() if k != MASK_STAMP_KEY}
    _cloud_everywhere(mask)
    summary = process_site(db, "yard", detector=_detector())
    assert not summary.failed and len(summary.unusable) == 1  # read with the mask as now
    status, usable, error, meta, _ = _scene(db)
    assert status == "unusable" and usable is False and error is None
    # stamped at this first use (session 30): a mask replaced from now on is refused
    stamp = meta[MASK_STAMP_KEY]
    assert isinstance(stamp, dict) and stamp["sha256"] == file_sha256(mask)


def test_a_mask_copied_back_with_new_times_is_hashed_then_restamped(
    yard: tuple[Database, Path, Path],
) -> None:
    """The same bytes written again (new times): the scene is processed, and the new
    stamp recorded so the next run needs only a stat."""
    db, _, mask = yard
    data = mask.read_bytes()
    mask.unlink()
    mask.write_bytes(data)
    os.utime(mask, ns=(1_000_000_000, 1_000_000_000))
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    _, _, _, meta, _ = _scene(db)
    stamp = meta[MASK_STAMP_KEY]
    assert isinstance(stamp, dict)
    assert stamp["mtime_ns"] == 1_000_000_000 and stamp["sha256"] == file_sha256(mask)


def test_cli_process_names_the_changed_mask(
    yard: tuple[Database, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from railwatch.cli.main import main
    from railwatch.detect import registry

    db, _, mask = yard
    monkeypatch.setattr(registry, "get_detector", lambda name="default": _detector())
    shutil.copyfile(mask, mask.with_name("saved.tif"))
    _cloud_everywhere(mask)
    assert main(["--db", db.url, "process", "yard"]) == 1
    out, err = capsys.readouterr()
    flat = "".join(out.split())  # the console wraps long temporary paths
    assert "".join(f"scene 1 failed: {mask}: {CHANGED}".split()) in flat
    assert "Traceback" not in out + err
    # the ingested mask put back: the scene is counted
    os.replace(mask.with_name("saved.tif"), mask)
    assert main(["--db", db.url, "process", "yard"]) == 0
