"""The other images a coarse (3 m) scene is registered against, and whose empty track
it takes (its references), were read without the check a scene's own file and quality
mask get before they are read: a reference file or mask replaced after ingest changed
another scene's registration and count without a word. Now a reference whose file or
mask changed since ingest is left out (the scene is counted from the others), and one
hashed again and found unchanged (its times moved) has its new stamp recorded, so the
next scene need not hash it."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import rasterio

from railwatch import pipeline
from railwatch.imagery import inspect as inspect_mod
from railwatch.ingest import FILE_STAMP_KEY, MASK_STAMP_KEY, file_stamp
from railwatch.pipeline import SceneJob, pending_jobs, process_scene, record_outcome
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector
from test_imagery_register import coarse_site  # noqa: F401  (the fixture)


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def _job(db: Database, name: str) -> SceneJob:
    """The job of the scene whose file is ``NAME.tif``."""
    jobs, _ = pending_jobs(db, "yard", detector=_detector(), reprocess=True)
    (job,) = [j for j in jobs if Path(j.uri).name == f"{name}.tif"]
    return job


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files read from now on (``read_site_window``'s image)."""
    seen: list[str] = []
    real = pipeline.read_site_window

    def spy(uri: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(Path(uri).name)
        return real(uri, *args, **kwargs)

    monkeypatch.setattr(pipeline, "read_site_window", spy)
    return seen


def _same_result(a: pipeline.SceneOutcome, b: pipeline.SceneOutcome) -> None:
    assert a.error is None and b.error is None, (a.error, b.error)
    assert a.count == b.count
    assert a.registration == b.registration
    assert a.empty_track_images == b.empty_track_images


def test_a_replaced_reference_is_left_out(
    coarse_site: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """v1.tif replaced by another image after ingest: v0 is counted as if v1 were not
    among its references, and v1's file is never read for it."""
    job = _job(coarse_site, "v0")
    v1 = next(Path(r.uri) for r in job.references if Path(r.uri).name == "v1.tif")
    assert job.references[0].content_hash is not None  # it is checked
    without = replace(job, references=tuple(r for r in job.references if r.uri != str(v1)))
    expected = process_scene(without, _detector())
    shutil.copyfile(v1.with_name("v4.tif"), v1)  # another day's image over it
    reads = _reads(monkeypatch)
    got = process_scene(job, _detector())
    assert "v1.tif" not in reads and "v2.tif" in reads
    _same_result(got, expected)
    assert got.registration is not None and got.registration.references == 3


def test_a_reference_whose_mask_changed_is_left_out(
    coarse_site: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """v1.mask.tif rewritten after ingest (a strip marked cloud, v1 still usable): v1 is
    left out, as with a replaced image; the scene being processed does not fail."""
    job = _job(coarse_site, "v0")
    (ref,) = [r for r in job.references if Path(r.uri).name == "v1.tif"]
    assert ref.mask_uri is not None and ref.mask_stamp is not None
    without = replace(job, references=tuple(r for r in job.references if r is not ref))
    expected = process_scene(without, _detector())
    mask = Path(ref.mask_uri)
    with rasterio.open(mask) as ds:
        profile, data = ds.profile, ds.read()
    data[:, :10, :] = 1  # cloud over the top rows
    tmp = mask.with_name("new.mask.tif")
    with rasterio.open(tmp, "w", **profile) as ds:
        ds.write(data)
    os.replace(tmp, mask)
    reads = _reads(monkeypatch)
    got = process_scene(job, _detector())
    assert "v1.tif" not in reads
    _same_result(got, expected)


def test_a_touched_reference_is_hashed_once_then_stamped(
    coarse_site: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reference's file and mask with new times but the same bytes: hashed, read, and
    their new stamps recorded with the scene's outcome on the reference's scene, so the
    next scene that reads it only stats it."""
    job = _job(coarse_site, "v0")
    (ref,) = [r for r in job.references if Path(r.uri).name == "v1.tif"]
    image, mask = Path(ref.uri), Path(str(ref.mask_uri))
    for path in (image, mask):
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    hashed: list[str] = []
    real = inspect_mod.file_sha256

    def spy(path: Path) -> str:
        hashed.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(inspect_mod, "file_sha256", spy)
    reads = _reads(monkeypatch)
    outcome = process_scene(job, _detector())
    assert outcome.error is None and "v1.tif" in reads
    assert sorted(hashed) == ["v1.mask.tif", "v1.tif"]
    (stamps,) = outcome.reference_stamps
    assert stamps.scene_id == ref.scene_id
    record_outcome(coarse_site, outcome, _detector())
    with coarse_site.session(readonly=True) as s:
        meta = repo.get_scene(s, int(ref.scene_id or 0)).meta
    assert meta[FILE_STAMP_KEY] == file_stamp(image)
    assert meta[MASK_STAMP_KEY]["mtime_ns"] == mask.stat().st_mtime_ns
    assert meta[MASK_STAMP_KEY]["sha256"] == real(mask)
    hashed.clear()
    again = process_scene(_job(coarse_site, "v2"), _detector())
    assert again.error is None and hashed == [] and again.reference_stamps == ()


def test_a_reference_stamp_is_not_recorded_over_a_scene_ingested_anew(
    coarse_site: Database,  # noqa: F811
) -> None:
    """Renewed stamps are recorded only on a scene that still has the hash and stamp
    they were checked against."""
    job = _job(coarse_site, "v0")
    ref = job.references[0]
    assert ref.scene_id is not None
    stale = pipeline.ReferenceStamps(
        ref.scene_id, "0" * 64, ref.file_stamp, {"size": 1}, ref.mask_stamp, None
    )
    with coarse_site.session() as s:
        before = dict(repo.get_scene(s, ref.scene_id).meta)
        pipeline._record_reference_stamps(s, stale)
    with coarse_site.session(readonly=True) as s:
        assert repo.get_scene(s, ref.scene_id).meta == before
    assert before[FILE_STAMP_KEY] == ref.file_stamp
