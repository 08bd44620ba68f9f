"""A file replaced after ingest: `process` counted the new image under the ingested
scene's date and hash. Now the file is checked before it is read (its size and times
recorded at ingest, its SHA-256 when they differ) and the scene fails with the reason."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import box

from railwatch import pipeline
from railwatch.imagery import inspect as inspect_mod
from railwatch.imagery import inspect_scene
from railwatch.ingest import FILE_STAMP_KEY, check_unchanged, file_stamp, ingest_paths
from railwatch.pipeline import pending_jobs, process_site
from railwatch.sim import SceneParams, render_scene, write_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import Count, Scene
from test_detect_fakes import BrightBlobDetector

CHANGED = "file changed since ingest (its hash differs): re-ingest it with `railwatch ingest`"


def _render(out: Path, name: str, cars: int, seed: int) -> Path:
    params = SceneParams(
        seed=seed, size_px=(320, 320), n_cars=cars, gsd=0.5, date=datetime(2023, 5, 1, tzinfo=UTC)
    )
    return write_scene(render_scene(params), out, name, preview=False).image


@pytest.fixture
def yard(tmp_path: Path) -> tuple[Database, Path, Path]:
    """A site with one ingested 0.5 m image (``yard.tif``, 4 cars) and, in another
    folder, another image of the same place (``other.tif``, 30 cars) to replace it with
    and a copy of the ingested one (``original.tif``)."""
    imgs, spare = tmp_path / "imgs", tmp_path / "spare"
    image = _render(imgs, "yard", 4, seed=5)
    other = _render(spare, "other", 30, seed=6)
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    aoi = box(*inspect_scene(image).footprint.buffer(-0.0005).bounds)
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi))
    summary = ingest_paths(db, "yard", [image])
    assert len(summary.ingested) == 1, summary.failed
    shutil.copyfile(image, spare / "original.tif")
    return db, image, other


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def _scene(db: Database) -> tuple[str, str | None, dict[str, object], list[tuple[str, float]]]:
    """The one scene's status, error, metadata and counts."""
    with db.session(readonly=True) as s:
        (sc,) = repo.list_scenes(s, "yard")
        counts = sorted((c.cls, c.count) for c in s.query(Count).filter_by(scene_id=sc.id))
        return sc.status, sc.error, dict(sc.meta), counts


def _count_hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file hashed from now on (the check imports ``file_sha256`` when it runs)."""
    hashed: list[Path] = []
    real: Callable[[Path], str] = inspect_mod.file_sha256

    def spy(path: Path) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(inspect_mod, "file_sha256", spy)
    return hashed


def test_ingest_records_the_files_stamp(yard: tuple[Database, Path, Path]) -> None:
    db, image, _ = yard
    _, _, meta, _ = _scene(db)
    assert meta[FILE_STAMP_KEY] == file_stamp(image)


def test_a_file_replaced_before_processing_fails_its_scene(
    yard: tuple[Database, Path, Path],
) -> None:
    db, image, other = yard
    shutil.copyfile(other, image)
    summary = process_site(db, "yard", detector=_detector())
    assert not summary.processed and not summary.unusable
    [(_, reason)] = summary.failed
    assert CHANGED in reason and str(image) in reason
    status, error, _, counts = _scene(db)
    assert status == "failed" and error is not None and CHANGED in error
    assert counts == []  # nothing counted from the other image
    with db.session(readonly=True) as s:
        assert repo.count_series(s, "yard") == []  # not a point, not a gap
    # the ingested image put back: it is counted ("process retries failed scenes")
    shutil.copyfile(other.with_name("original.tif"), image)
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1


def test_a_file_replaced_after_processing_keeps_no_counts_of_the_other_image(
    yard: tuple[Database, Path, Path],
) -> None:
    """Re-processing (--reprocess, or a new detector) a scene whose file was replaced:
    the scene fails; its counts are never those of the other image."""
    db, image, other = yard
    det = _detector()
    assert len(process_site(db, "yard", detector=det).processed) == 1
    status, _, _, before = _scene(db)
    assert status == "processed" and before
    shutil.copyfile(other, image)
    summary = process_site(db, "yard", detector=det, reprocess=True)
    assert len(summary.failed) == 1 and CHANGED in summary.failed[0][1]
    status, error, _, after = _scene(db)
    assert status == "failed" and CHANGED in str(error) and after == []


def test_same_size_and_modification_time_is_not_enough(
    yard: tuple[Database, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A byte changed in place with the modification time put back (``cp -p``, ``touch
    -r``): size and mtime match, the status-change time does not, so the file is hashed."""
    db, image, _ = yard
    st = image.stat()
    with image.open("r+b") as fh:
        fh.seek(st.st_size - 100)
        byte = fh.read(1)
        fh.seek(st.st_size - 100)
        fh.write(bytes([byte[0] ^ 0xFF]))
    os.utime(image, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert image.stat().st_size == st.st_size and image.stat().st_mtime_ns == st.st_mtime_ns
    hashed = _count_hashes(monkeypatch)
    summary = process_site(db, "yard", detector=_detector())
    assert hashed == [image] and len(summary.failed) == 1
    assert CHANGED in summary.failed[0][1]


def test_an_unchanged_file_is_hashed_only_when_its_stamp_differs(
    yard: tuple[Database, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stamp matches: no hash (a stat is all a run costs). Touched but the same
    bytes: hashed once, counted, and the new stamp recorded, so the next run need not."""
    db, image, _ = yard
    det = _detector()
    hashed = _count_hashes(monkeypatch)
    assert len(process_site(db, "yard", detector=det).processed) == 1
    assert hashed == []
    st = image.stat()
    os.utime(image, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert len(process_site(db, "yard", detector=det, reprocess=True).processed) == 1
    assert hashed == [image]
    _, _, meta, counts = _scene(db)
    assert meta[FILE_STAMP_KEY] == file_stamp(image) and counts
    assert len(process_site(db, "yard", detector=det, reprocess=True).processed) == 1
    assert hashed == [image]


def test_a_scene_ingested_without_a_stamp_is_hashed_then_stamped(
    yard: tuple[Database, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scenes ingested before the stamp was kept are checked by their hash."""
    db, image, other = yard
    with db.session() as s:
        (sc,) = repo.list_scenes(s, "yard")
        sc.meta = {k: v for k, v in sc.meta.items() if k != FILE_STAMP_KEY}
    hashed = _count_hashes(monkeypatch)
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    assert hashed == [image]
    assert _scene(db)[2][FILE_STAMP_KEY] == file_stamp(image)
    with db.session() as s:  # old again, and replaced
        (sc,) = repo.list_scenes(s, "yard")
        sc.meta = {k: v for k, v in sc.meta.items() if k != FILE_STAMP_KEY}
    shutil.copyfile(other, image)
    summary = process_site(db, "yard", detector=_detector(), reprocess=True)
    assert len(summary.failed) == 1 and CHANGED in summary.failed[0][1]


def test_stac_scenes_and_missing_files_are_not_hashed(yard: tuple[Database, Path, Path]) -> None:
    """A scene registered from a STAC catalog with its asset's checksum, or before
    session 29 with a hash of the item's identity (no file stamp either way), is not
    checked (a local asset hashed since session 29 is: tests/test_integrity_stac_process_s29.py).
    A missing file is left to the read, which says so."""
    db, image, _ = yard
    with db.session() as s:
        (sc,) = repo.list_scenes(s, "yard")
        assert isinstance(sc, Scene)
        meta = {k: v for k, v in sc.meta.items() if k != FILE_STAMP_KEY}
        sc.meta = {**meta, "stac_collection": "skysat"}
    jobs, _ = pending_jobs(db, "yard", detector=_detector())
    assert [j.content_hash for j in jobs] == [None]
    assert check_unchanged(str(image.with_name("gone.tif")), "0" * 64, None) is None
    assert check_unchanged("https://example.org/a.tif", "0" * 64, None) is None


def test_cli_process_names_the_changed_file(
    yard: tuple[Database, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from railwatch.cli.main import main
    from railwatch.detect import registry

    db, image, other = yard
    monkeypatch.setattr(registry, "get_detector", lambda name="default": _detector())
    shutil.copyfile(other, image)
    assert main(["--db", db.url, "process", "yard"]) == 1
    out, err = (" ".join(t.split()) for t in capsys.readouterr())
    # without whitespace: the console wraps the long temporary path at its width
    assert "".join(f"scene 1 failed: {image}: {CHANGED}".split()) in "".join(out.split())
    assert "nothing processed: the scene failed" in err


def test_the_job_carries_the_hash_and_stamp(yard: tuple[Database, Path, Path]) -> None:
    db, image, _ = yard
    (job,), _ = pipeline.pending_jobs(db, "yard", detector=_detector())
    with db.session(readonly=True) as s:
        (sc,) = repo.list_scenes(s, "yard")
        assert job.content_hash == sc.content_hash
    assert job.file_stamp == file_stamp(image)
