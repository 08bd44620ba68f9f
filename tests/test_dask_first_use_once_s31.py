"""A Dask run hashes each unstamped quality mask once, as the local run does (6c002ac).

Masks ingested before session 29 carry no stamp; a run stamps each at its first use.
The local run keeps the stamps it took for the run (``pipeline._one_hash_per_mask``),
but a Dask task runs on a worker, outside that run's context: each task hashed every
unstamped mask it read, its own and its references' (five 3 m scenes: each mask five
times). Now the client stamps them once before the tasks go out, and each task is given
the stamps of the masks it may read."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

import railwatch.imagery.inspect as inspect_module
from railwatch.imagery.inspect import file_sha256
from railwatch.ingest import MASK_STAMP_KEY
from railwatch.pipeline import (
    pending_jobs,
    process_scene,
    record_outcome,
    with_first_use_stamps,
)
from railwatch.storage import Database, repo
from test_imagery_register import BrightBlobDetector, coarse_site  # noqa: F401  (the fixture)


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def _unstamp_all(db: Database) -> dict[int, str]:
    """Every scene's mask as if ingested before masks were stamped; their paths."""
    with db.session() as s:
        masks = {}
        for scene in repo.list_scenes(s, "yard"):
            scene.meta = {k: v for k, v in scene.meta.items() if k != MASK_STAMP_KEY}
            masks[scene.id] = str(scene.mask_uri)
    return masks


def _counting(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each file is hashed from now on (in this process: the workers of
    the test's cluster are its threads)."""
    hashed: Counter[str] = Counter()
    real = inspect_module.file_sha256

    def counted(path: str | Path) -> str:
        hashed[str(path)] += 1
        return real(Path(path))

    monkeypatch.setattr(inspect_module, "file_sha256", counted)
    return hashed


def _run_on_dask(db: Database) -> list:
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    from railwatch.distributed import ClusterSpec, process_sites_distributed

    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        return process_sites_distributed(
            db, ["yard"], detector=_detector(), client=client, cluster=ClusterSpec()
        )


@pytest.mark.slow
def test_a_dask_run_hashes_each_unstamped_mask_once(
    coarse_site: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    masks = _unstamp_all(coarse_site)
    assert len(masks) == 5
    hashed = _counting(monkeypatch)
    [summary] = _run_on_dask(coarse_site)
    assert len(summary.processed) == 5 and not summary.failed
    assert {m: hashed[m] for m in masks.values()} == {m: 1 for m in masks.values()}
    with coarse_site.session(readonly=True) as s:
        for scene_id, mask in masks.items():  # each stamped, of its own bytes
            stamp = repo.get_scene(s, scene_id).meta[MASK_STAMP_KEY]
            assert stamp["sha256"] == file_sha256(Path(mask)) and "first_use" in stamp


def test_the_client_hashes_each_shared_mask_once_and_the_tasks_none(
    coarse_site: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a Dask run does, without the cluster: the client's stamps, then each job run
    outside any run's context (as on a worker)."""
    masks = _unstamp_all(coarse_site)
    hashed = _counting(monkeypatch)
    jobs, _ = pending_jobs(coarse_site, "yard", detector=_detector())
    jobs = with_first_use_stamps(jobs)
    assert {m: hashed[m] for m in masks.values()} == {m: 1 for m in masks.values()}
    outcomes = [process_scene(job, _detector()) for job in jobs]
    assert {m: hashed[m] for m in masks.values()} == {m: 1 for m in masks.values()}
    for outcome in outcomes:
        assert outcome.error is None
        assert outcome.mask_stamp is not None and "first_use" in outcome.mask_stamp
        assert record_outcome(coarse_site, outcome, _detector()).error is None


def test_a_mask_rewritten_after_the_client_stamped_it_is_hashed_again(
    coarse_site: Database,  # noqa: F811
) -> None:
    """The stamps are keyed by the mask's size and times: one rewritten between the
    client's stamp and the task is hashed again by the task, its new bytes stamped."""
    masks = _unstamp_all(coarse_site)
    jobs = with_first_use_stamps(pending_jobs(coarse_site, "yard", detector=_detector())[0])
    job = jobs[0]
    mask = Path(masks[job.scene_id])
    [taken] = [v for k, v in (job.first_use_stamps or {}).items() if k[0] == str(mask)]
    mask.write_bytes(mask.read_bytes())  # the same bytes, new times...
    with mask.open("ab") as f:  # ...and one more byte (a TIFF reader ignores it)
        f.write(b"\0")
    outcome = process_scene(job, _detector())
    assert outcome.mask_stamp is not None
    assert outcome.mask_stamp["sha256"] == file_sha256(mask) != taken["sha256"]


def test_a_mask_only_one_job_reads_is_left_to_that_job(
    coarse_site: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing is gained hashing it on the client (the workers hash in parallel)."""
    _unstamp_all(coarse_site)
    jobs, _ = pending_jobs(coarse_site, "yard", detector=_detector())
    lone = replace(jobs[0], references=())
    hashed = _counting(monkeypatch)
    assert with_first_use_stamps([lone]) == [lone] and not hashed


def test_only_the_references_a_task_reads_first_are_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job lists up to 3 x MAX_REFERENCES candidates and reads the first MAX_REFERENCES
    usable ones: a candidate past them is read only when some before are unusable, and a
    mask hashed and not read would have its stamp recorded by no one (hashed again by
    every run)."""
    from shapely.geometry import box

    from railwatch.imagery.register import MAX_REFERENCES
    from railwatch.pipeline import ReferenceScene, SceneJob

    masks = []
    for k in range(MAX_REFERENCES + 4):
        masks.append(tmp_path / f"m{k}.tif")
        masks[-1].write_bytes(bytes([k]) * 10)
    refs = tuple(ReferenceScene(f"i{k}.tif", str(m), scene_id=k + 10) for k, m in enumerate(masks))
    jobs = [SceneJob(k, f"s{k}.tif", 3.0, box(0, 0, 1, 1), references=refs) for k in (1, 2)]
    hashed = _counting(monkeypatch)
    stamped = with_first_use_stamps(jobs)
    assert {str(m): hashed[str(m)] for m in masks} == {
        str(m): int(k < MAX_REFERENCES) for k, m in enumerate(masks)
    }
    assert stamped[0].first_use_stamps == stamped[1].first_use_stamps
    assert len(stamped[0].first_use_stamps or {}) == MAX_REFERENCES
