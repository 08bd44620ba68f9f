"""A scene that `ingest-stac` registered from a local asset since session 29 carries the
file's SHA-256 and stamp (``railwatch:file``), as one of `railwatch ingest` does, but
`process` skipped the check of every STAC scene: a file replaced after registration was
counted under the item's date. Now it is checked; a STAC scene registered before (under
the item's identity) or with the catalog's ``file:checksum`` is read as before."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from railwatch.ingest import FILE_STAMP_KEY
from railwatch.pipeline import pending_jobs, process_site
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_scene_identity_s29 import multihash, sha256, stac_item, write_items
from test_stac import make_cog, site_db

CHANGED = "file changed since ingest (its hash differs)"


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def _registered(tmp_db_url: str, tmp_path: Path, checksum: bool = False) -> tuple[Database, Path]:
    from railwatch.stac import ingest_stac

    image = make_cog(tmp_path / "a.tif", 0)
    make_cog(tmp_path / "other.tif", 1)
    item = stac_item("a", str(image), checksum=multihash(image) if checksum else None)
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "items.json", item))
    assert len(summary.ingested) == 1 and not summary.failed, summary.as_dict()
    return db, image


def test_a_replaced_local_stac_asset_fails_its_scene(tmp_db_url: str, tmp_path: Path) -> None:
    db, image = _registered(tmp_db_url, tmp_path)
    with db.session(readonly=True) as s:
        (scene,) = repo.list_scenes(s, "yard")
        assert scene.content_hash == sha256(image) and FILE_STAMP_KEY in scene.meta
    jobs, _ = pending_jobs(db, "yard", detector=_detector())
    assert [j.content_hash for j in jobs] == [sha256(image)]
    first = process_site(db, "yard", detector=_detector())
    assert not first.failed, first.failed
    shutil.copyfile(image.with_name("other.tif"), image)
    again = process_site(db, "yard", detector=_detector(), reprocess=True)
    [(_, reason)] = again.failed
    assert CHANGED in reason and str(image) in reason
    # what to do fits a STAC scene: re-ingesting the path finds this scene again
    assert "put back what STAC item yards/a registered" in reason
    assert "give it a path of its own" in reason and "it becomes a new scene" not in reason
    with db.session(readonly=True) as s:
        (scene,) = repo.list_scenes(s, "yard")
        assert scene.status == "failed" and CHANGED in str(scene.error)


@pytest.mark.parametrize("keep_stamp", [False, True])
def test_a_stac_scene_under_the_items_identity_is_not_checked(
    tmp_db_url: str, tmp_path: Path, keep_stamp: bool
) -> None:
    """A row as railwatch wrote it before session 29 (the SHA-256 of
    ``stac-item:COLLECTION/ID:HREF``; also with a file stamp, which no route gives it)
    is not compared with the file: it is read as it is, as before."""
    db, image = _registered(tmp_db_url, tmp_path)
    legacy = hashlib.sha256(f"stac-item:yards/a:{image}".encode()).hexdigest()
    with db.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene.content_hash = legacy
        if not keep_stamp:
            scene.meta = {k: v for k, v in scene.meta.items() if k != FILE_STAMP_KEY}
    shutil.copyfile(image.with_name("other.tif"), image)
    jobs, _ = pending_jobs(db, "yard", detector=_detector())
    assert [j.content_hash for j in jobs] == [None]
    summary = process_site(db, "yard", detector=_detector())
    assert not summary.failed and summary.total == 1


def test_a_stac_scene_of_the_catalogs_checksum_is_not_checked(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """An asset's ``file:checksum`` is the catalog's word, never compared with the file
    at registration (no stamp is kept): not checked, as before."""
    db, _ = _registered(tmp_db_url, tmp_path, checksum=True)
    jobs, _ = pending_jobs(db, "yard", detector=_detector())
    assert [j.content_hash for j in jobs] == [None]
