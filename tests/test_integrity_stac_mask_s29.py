"""The quality mask of a scene that `ingest-stac` registered is checked before `process`
reads it, as a mask of `railwatch ingest` is: `ingest-stac` recorded no mask stamp, so a
STAC item's local mask replaced after registration silently changed whether its scene
was usable and its clear fraction. Now the mask is stamped at registration, a replaced
one fails the scene with what to do for a STAC scene (run `ingest-stac` again over the
catalog), and that re-run takes the new mask: the scene keeps its results (and an
analyst's review) until the next `process` counts it again with the new mask. The stamp
is checked whatever the scene's hash is (a `file:checksum`, the item's identity)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

from railwatch.detect.base import ALL_CLASSES
from railwatch.ingest import MASK_STAMP_KEY, mask_stamp
from railwatch.pipeline import _references, pending_jobs, process_site
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

import test_scene_identity_s29
from railwatch.imagery.quality import QUALITY_VERSION
from test_scene_identity_s29 import multihash, sha256, stac_item, write_items
from test_stac import GSD, ORIGIN, SIZE, make_cog, site_db

Q = f"+q{QUALITY_VERSION}"  # ends every processing version (session 43)

hashes = test_scene_identity_s29.hashes  # the fixture: the files hashed from now on

CHANGED = "quality mask changed since ingest (its hash differs)"
STAC_TODO = "run `railwatch ingest-stac` again over the catalog that holds STAC item yards/a"


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def write_mask(path: Path, cloud_rows: int = 0) -> Path:
    """A one-band quality mask over the test image (0 clear, 1 cloud over the top
    ``cloud_rows`` rows), written beside and moved over ``path`` (a new file, as a
    provider's re-delivery is), with a later modification time."""
    data = np.zeros((SIZE, SIZE), dtype=np.uint8)
    data[:cloud_rows, :] = 1
    tmp = path.with_name(f"new-{path.name}")
    with rasterio.open(
        tmp, "w", driver="GTiff", width=SIZE, height=SIZE, count=1, dtype="uint8",
        crs="EPSG:32652", transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]),
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    was = path.stat().st_mtime_ns if path.exists() else None
    os.replace(tmp, path)
    if was is not None:  # never the same times as the mask it replaces
        os.utime(path, ns=(was + 10**9, was + 10**9))
    return path


def item_with_mask(ident: str, image: Path, mask: Path | None, **kwargs: Any) -> dict[str, Any]:
    doc = stac_item(ident, str(image), **kwargs)
    if mask is not None:
        doc["assets"]["mask"] = {
            "href": str(mask),
            "roles": ["quality"],
            "type": "image/tiff; application=geotiff",
        }
    return doc


def _registered(
    tmp_db_url: str, tmp_path: Path, *, checksum: bool = False
) -> tuple[Database, Path, str]:
    """Site ``yard`` with STAC item ``yards/a``: a local image and its clear mask."""
    from railwatch.stac import ingest_stac

    image = make_cog(tmp_path / "a.tif", 0)
    mask = write_mask(tmp_path / "a.mask.tif")
    item = item_with_mask("a", image, mask, checksum=multihash(image) if checksum else None)
    catalog = write_items(tmp_path / "items.json", item)
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", catalog)
    assert len(summary.ingested) == 1 and not summary.failed, summary.as_dict()
    return db, mask, catalog


def _scene(db: Database) -> Any:
    with db.session(readonly=True) as s:
        (scene,) = repo.list_scenes(s, "yard")
        return scene


def _counts(db: Database, scene_id: int) -> dict[str, float]:
    from sqlalchemy import select

    from railwatch.storage.models import Count

    with db.session(readonly=True) as s:
        rows = s.scalars(select(Count).where(Count.scene_id == scene_id))
        return {c.cls: float(c.count) for c in rows}


@pytest.mark.parametrize("checksum", [False, True])
def test_a_replaced_stac_mask_fails_the_scene_saying_to_run_ingest_stac_again(
    tmp_db_url: str, tmp_path: Path, checksum: bool
) -> None:
    """Also with the asset's ``file:checksum`` as the scene's hash (the image itself is
    not checked then): the mask's stamp is the mask's own, always checked."""
    db, mask, _ = _registered(tmp_db_url, tmp_path, checksum=checksum)
    scene = _scene(db)
    assert scene.meta[MASK_STAMP_KEY]["sha256"] == sha256(mask)
    first = process_site(db, "yard", detector=_detector())
    assert not first.failed and _scene(db).usable is True
    write_mask(mask, cloud_rows=SIZE)  # all cloud: the scene would turn unusable
    again = process_site(db, "yard", detector=_detector(), reprocess=True)
    [(_, reason)] = again.failed
    assert CHANGED in reason and str(mask) in reason
    assert STAC_TODO in reason and "with `railwatch ingest`" not in reason
    after = _scene(db)  # the image is the one registered: its result is kept
    assert after.status == "processed" and after.usable is True and STAC_TODO in after.error


def test_a_stac_scene_of_its_items_identity_has_its_mask_checked(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """A mask stamp on a scene whose hash is not its file's (here the item's identity):
    the job and a coarse scene's reference carry it, and a replaced mask fails it."""
    import hashlib

    db, mask, _ = _registered(tmp_db_url, tmp_path)
    with db.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene.content_hash = hashlib.sha256(f"stac-item:yards/a:{scene.uri}".encode()).hexdigest()
        stamp = scene.meta[MASK_STAMP_KEY]
    (job,), _ = pending_jobs(db, "yard", detector=_detector())
    assert job.content_hash is None and job.mask_stamp == stamp
    with db.session(readonly=True) as s:
        (scene,) = repo.list_scenes(s, "yard")
        # another scene of the site, at the same resolution, that it would be a reference of
        other = SimpleNamespace(id=scene.id + 1, gsd=scene.gsd, acquired_at=scene.acquired_at)
        (ref,) = _references(other, [scene, other])  # type: ignore[arg-type, list-item]
    assert ref.content_hash is None and ref.mask_stamp == stamp
    write_mask(mask, cloud_rows=SIZE)
    summary = process_site(db, "yard", detector=_detector())
    [(_, reason)] = summary.failed
    assert CHANGED in reason and STAC_TODO in reason


def test_ingest_stac_again_takes_the_new_mask_and_process_counts_it_again(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """The remedy the failure names: the re-run records the new mask's stamp and says so;
    the scene keeps its counts and its analyst's review until the next (plain) `process`
    counts it again, judged with the new mask."""
    from railwatch.stac import MASK_CHANGED, ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    process_site(db, "yard", detector=_detector())
    before = _scene(db)
    assert before.status == "processed" and before.clear_fraction == pytest.approx(1.0)
    reviewed = 3.0  # the analyst's count: three boxcars
    review = {
        **dict.fromkeys(ALL_CLASSES, 0.0),
        "boxcar": reviewed,
        "covered": 0.0,
        "all": reviewed,
    }
    with db.session() as s:
        repo.set_scene_review(s, before.id, review)
    write_mask(mask, cloud_rows=48)  # a cloud over the site's top 8 rows of 80
    process_site(db, "yard", detector=_detector(), reprocess=True)  # refused: kept
    assert CHANGED in _scene(db).error

    rerun = ingest_stac(db, "yard", catalog)
    [entry] = rerun.duplicates
    assert entry["reason"] == (
        f"already ingested as scene {before.id}; its quality mask {mask} changed since it "
        "was registered: the scene takes the item's mask as it is now, and `railwatch "
        "process` counts it again (its results so far are kept until then)"
    )
    assert entry["mask_taken"] == "changed"
    taken = _scene(db)
    assert taken.meta[MASK_STAMP_KEY] == mask_stamp(str(mask))
    assert taken.status == "processed" and taken.detector_version.endswith(MASK_CHANGED)
    assert taken.content_hash == before.content_hash
    assert _counts(db, before.id)["all"] == reviewed  # the results, the review's, kept

    summary = process_site(db, "yard", detector=_detector())  # not --reprocess
    assert summary.total == 1 and not summary.failed, summary
    after = _scene(db)
    assert after.status == "processed" and after.error is None
    assert after.quality_source == "mask" and after.cloud_fraction == pytest.approx(0.1, abs=0.02)
    assert after.detector_version == f"1{Q}"
    assert _counts(db, before.id)["all"] == reviewed  # the review applies again
    with db.session(readonly=True) as s:
        assert repo.get_scene_review(s, before.id) is not None
    assert not process_site(db, "yard", detector=_detector()).total  # up to date


def test_a_scene_that_failed_for_its_mask_is_pending_again(tmp_db_url: str, tmp_path: Path) -> None:
    """Never processed before, the scene failed for its new mask: the re-run makes it
    pending (no error), and `process` counts it with the new mask."""
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    write_mask(mask, cloud_rows=SIZE)
    failed = process_site(db, "yard", detector=_detector())
    assert len(failed.failed) == 1 and _scene(db).status == "failed"
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert entry["reason"].endswith("`railwatch process` counts it again")
    assert (_scene(db).status, _scene(db).error) == ("ingested", None)
    summary = process_site(db, "yard", detector=_detector())
    assert not summary.failed and summary.total == 1
    after = _scene(db)
    assert after.status == "unusable" and after.quality_source == "mask"


def test_a_mask_gone_from_the_item_is_taken_as_none(tmp_db_url: str, tmp_path: Path) -> None:
    """The mask file removed, and the catalog's item no longer names one: the scene is
    judged without a mask from now on."""
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    process_site(db, "yard", detector=_detector())
    mask.unlink()
    write_items(Path(catalog), item_with_mask("a", tmp_path / "a.tif", None))
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert f"its quality mask {mask} went away since it was registered" in entry["reason"]
    assert "the scene takes no mask (the item names none)" in entry["reason"]
    scene = _scene(db)
    assert scene.mask_uri is None and MASK_STAMP_KEY not in scene.meta
    summary = process_site(db, "yard", detector=_detector())
    assert not summary.failed and summary.total == 1
    assert _scene(db).quality_source == "estimated"


def test_a_mask_gone_but_still_named_is_not_taken(tmp_db_url: str, tmp_path: Path) -> None:
    """The item still names the mask that went away: nothing is taken (the scene keeps
    its mask and stamp, its results), and the entry says what to do."""
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    process_site(db, "yard", detector=_detector())
    before = _scene(db)
    mask.unlink()
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert f"its quality mask {mask} went away since it was registered" in entry["reason"]
    assert "the item still names it, which is not there: put the mask back" in entry["reason"]
    after = _scene(db)
    assert (after.mask_uri, after.meta, after.detector_version, after.status) == (
        before.mask_uri,
        before.meta,
        before.detector_version,
        before.status,
    )


def test_an_unchanged_rerun_hashes_nothing(
    tmp_db_url: str, tmp_path: Path, hashes: list[Path]
) -> None:
    """A re-run over the same catalog only stats the image and the mask; a mask touched
    (the same bytes, new times) is hashed, found the same, and nothing is taken."""
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    assert mask in hashes  # its stamp at registration
    before = _scene(db)
    hashes.clear()
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert hashes == [] and entry["reason"] == f"already ingested as scene {before.id}"
    st = mask.stat()
    os.utime(mask, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert hashes == [mask] and entry["reason"] == f"already ingested as scene {before.id}"
    assert _scene(db).meta == before.meta


def test_an_old_stac_row_without_a_mask_stamp_is_read_as_before(
    tmp_db_url: str, tmp_path: Path, hashes: list[Path]
) -> None:
    """A scene registered before the mask was stamped: its mask, replaced, is read as it
    is now (not refused) and stamped at that first use (session 30,
    tests/test_stac_masks_s30.py), so a re-run neither hashes it nor takes it."""
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    with db.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != MASK_STAMP_KEY}
    write_mask(mask, cloud_rows=SIZE)
    (job,), _ = pending_jobs(db, "yard", detector=_detector())
    assert job.mask_stamp is None
    summary = process_site(db, "yard", detector=_detector())
    assert not summary.failed and _scene(db).status == "unusable"
    hashes.clear()
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert hashes == [] and entry["reason"] == f"already ingested as scene {_scene(db).id}"
    assert "railwatch process" in _scene(db).meta[MASK_STAMP_KEY]["first_use"]


def test_the_screens_say_what_to_do_and_what_was_done(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`railwatch process` names `ingest-stac` as the remedy; `railwatch ingest-stac`
    run again lists the item with the mask it took (a plain re-run lists none)."""
    from railwatch.cli.main import main

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["--db", tmp_db_url, *args])
        captured = capsys.readouterr()
        return code, " ".join((captured.out + captured.err).split())

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    write_mask(mask, cloud_rows=SIZE)
    process_site(db, "yard", detector=_detector())
    code, text = run("scene", "show", str(_scene(db).id))
    assert code == 0 and STAC_TODO in text, text
    code, text = run("ingest-stac", "yard", "--stac", catalog)
    assert code == 0 and "0 new scenes, 1 already there" in text, text
    assert (
        f"already there: yards/a (scene 1); its quality mask {mask} changed since it was "
        "registered: the scene takes the item's mask as it is now, and `railwatch process` "
        "counts it again"
    ) in text
    code, text = run("ingest-stac", "yard", "--stac", catalog)
    assert code == 0 and "already there:" not in text
