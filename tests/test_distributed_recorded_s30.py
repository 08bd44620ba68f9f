"""A Dask run lists each scene as it was recorded: `record_outcome` may decline a result
(judged with a quality mask taken anew meanwhile, 32e41c5), and the local path listed
such a scene as failed, saying why, while the Dask path still listed it as counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from railwatch import distributed
from railwatch.pipeline import task_failed

pytest.importorskip("distributed")

from test_distributed import fake_module, setup_db  # noqa: F401  (the fixture)


@pytest.mark.slow
@pytest.mark.usefixtures("fake_module")
def test_a_result_not_recorded_is_not_listed_as_counted(
    tmp_path: Path, tmp_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rw_fake_rects
    from distributed import Client, LocalCluster

    from railwatch.distributed import ClusterSpec, process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 2)
    real = distributed.record_outcome
    declined: list[int] = []

    def record(db_: Any, outcome: Any, detector: Any) -> Any:
        if not declined:  # the first result comes back not recorded, with why
            declined.append(outcome.scene_id)
            return task_failed(outcome.scene_id, RuntimeError("its mask was taken anew"))
        return real(db_, outcome, detector)

    monkeypatch.setattr(distributed, "record_outcome", record)
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        [summary] = process_sites_distributed(
            db, ["yard"], detector=rw_fake_rects.BrightRects(), client=client, cluster=ClusterSpec()
        )
    assert [sid for sid, _ in summary.failed] == declined
    assert "its mask was taken anew" in summary.failed[0][1]
    assert declined[0] not in summary.processed and len(summary.processed) == 1


def test_a_failed_task_carries_what_its_job_read(tmp_path: Path) -> None:
    """A Dask task that raised is recorded as a failure only while the scene still has
    what its job read (mask, file stamp, item scales, bands; 485fbdb): the local path
    passed the job to task_failed, the Dask path did not."""
    from shapely.geometry import box

    from railwatch.distributed import _outcome_of_failed
    from railwatch.imagery import inspect_scene
    from railwatch.ingest import ingest_paths
    from railwatch.pipeline import pending_jobs
    from railwatch.sim import SceneParams, render_scene, write_scene
    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo
    from test_bands_changed_meanwhile_s30 import _detector

    p = SceneParams(seed=3, layout_seed=2, size_px=(200, 200), gsd=0.5, n_cars=4)
    path = write_scene(render_scene(p), tmp_path / "imgs", "v0", preview=False).image
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        aoi = box(*inspect_scene(path).footprint.buffer(-0.0001).bounds)
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi))
    ingest_paths(db, "yard", [tmp_path / "imgs"])
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]

    class Raised:
        def exception(self) -> BaseException:
            return RuntimeError("model crashed")

    outcome = _outcome_of_failed(Raised(), job)
    assert outcome.scene_id == job.scene_id and "model crashed" in (outcome.error or "")
    assert outcome.job_bands == (job.rgb_bands,)
    assert outcome.job_mask == (job.mask_uri, job.mask_stamp)
    db.dispose()
