"""`railwatch scene bands` (or `ingest --bands`) while `process` counts the scene: the
command leaves the scene to be counted again with the new bands (pending, its results
removed), and the result read with the old bands must not undo that. Before, it was
recorded: the scene stood processed with counts read with the old bands, the new bands
in its metadata, and no later `process` counted it again (bands are not part of the
processing version). The interleaving is played in order, no threads or sleeps."""

from __future__ import annotations

from pathlib import Path

from shapely.geometry import box

from railwatch.imagery import inspect_scene
from railwatch.ingest import ingest_paths
from railwatch.pipeline import pending_jobs, process_scene, process_site, record_outcome
from railwatch.sim import SceneParams, render_scene, write_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def test_a_result_read_with_the_old_bands_is_not_recorded(tmp_path: Path) -> None:
    p = SceneParams(seed=3, layout_seed=2, size_px=(300, 300), gsd=0.5, n_cars=8)
    path = write_scene(render_scene(p), tmp_path / "imgs", "v0", preview=False).image
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        aoi = box(*inspect_scene(path).footprint.buffer(-0.0001).bounds)
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi))
    ingest_paths(db, "yard", [tmp_path / "imgs"])
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    outcome = process_scene(job, _detector())  # read with the file's own bands
    assert outcome.error is None and outcome.quality is not None
    with db.session() as s:  # meanwhile: `railwatch scene bands ID 3,2,1`
        assert repo.set_scene_bands(s, job.scene_id, (3, 2, 1))
    got = record_outcome(db, outcome, _detector())
    assert got.error is not None and "colour bands were set to 3,2,1" in got.error
    with db.session(readonly=True) as s:
        scene = repo.get_scene(s, job.scene_id)
        assert scene.status == "ingested" and not scene.counts
        assert scene.meta["rgb_bands"] == [3, 2, 1]
    summary = process_site(db, "yard", detector=_detector())  # counted with them now
    assert summary.processed == [job.scene_id]
    db.dispose()
