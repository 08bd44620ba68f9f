"""STAC scenes' quality masks, the three cases session 29 left: (1) a scene registered
before its mask was stamped is stamped at its first use (the next `ingest-stac` over
its catalog, or the next `process` that reads it), saying so, and checked from then on;
(2) an item whose mask asset names a local file that is not there, or is no raster,
fails at `ingest-stac` with what to do (the catalog's other items are registered), where
it was registered and failed only at `process`; (3) `ingest-stac` run again over an item
whose mask href now names another file (the old one still there, unchanged) takes it,
as a replaced mask is taken, and says so."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from railwatch.ingest import MASK_STAMP_KEY, mask_stamp
from railwatch.pipeline import pending_jobs, process_site
from railwatch.storage import Database, repo

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

import test_scene_identity_s29
from railwatch.imagery.quality import QUALITY_VERSION
from test_integrity_stac_mask_s29 import (
    CHANGED,
    _counts,
    _detector,
    _registered,
    _scene,
    item_with_mask,
    write_mask,
)
from test_scene_identity_s29 import sha256, write_items
from test_stac import SIZE, make_cog, site_db

Q = f"+q{QUALITY_VERSION}"  # ends every processing version (session 43)

hashes = test_scene_identity_s29.hashes  # the fixture: the files hashed from now on


def _unstamped(db: Database) -> None:
    """Make the site's scene as `ingest-stac` registered it before session 29: no mask
    stamp."""
    with db.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != MASK_STAMP_KEY}


def _run_cli(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str]:
    from railwatch.cli.main import main

    capsys.readouterr()
    code = main(["--db", url, *args])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


# ------------------------------------------------------------ 1. rows without a stamp


def test_an_old_row_is_stamped_by_the_next_ingest_stac_and_checked_from_then_on(
    tmp_db_url: str, tmp_path: Path, hashes: list[Path]
) -> None:
    """The re-run stamps the mask as it is (hashed once), says so once, and keeps the
    scene's results; a mask replaced after that is refused by `process`."""
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    process_site(db, "yard", detector=_detector())
    _unstamped(db)
    before = _scene(db)
    hashes.clear()
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert entry["reason"] == (
        f"already ingested as scene {before.id}; its quality mask {mask} had no integrity "
        "stamp (registered before session 29): it is stamped as it is now, and `railwatch "
        "process` refuses the scene if it is replaced"
    )
    assert entry["mask_stamped"] == "first use" and hashes == [mask]
    after = _scene(db)
    stamp = after.meta[MASK_STAMP_KEY]
    assert stamp["sha256"] == sha256(mask) and "ingest-stac" in stamp["first_use"]
    assert (after.status, after.detector_version, after.mask_uri) == (
        before.status,
        before.detector_version,
        before.mask_uri,
    )
    hashes.clear()  # a second re-run: stamped, unchanged, nothing said or hashed
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert entry["reason"] == f"already ingested as scene {before.id}" and hashes == []
    write_mask(mask, cloud_rows=SIZE)
    [(_, reason)] = process_site(db, "yard", detector=_detector(), reprocess=True).failed
    assert CHANGED in reason


def test_an_old_row_is_stamped_at_its_first_process_read(tmp_db_url: str, tmp_path: Path) -> None:
    """`process` reads the mask as it is, as before (a mask replaced before is not
    refused: nothing tells it), and records its stamp with the result, marked as taken
    at first use; from then on a replaced mask is refused."""
    db, mask, _ = _registered(tmp_db_url, tmp_path)
    _unstamped(db)
    write_mask(mask, cloud_rows=SIZE)  # replaced before any stamp: read as it is
    (job,), _ = pending_jobs(db, "yard", detector=_detector())
    assert job.mask_stamp is None
    summary = process_site(db, "yard", detector=_detector())
    assert not summary.failed and _scene(db).status == "unusable"
    stamp = _scene(db).meta[MASK_STAMP_KEY]
    assert stamp["sha256"] == sha256(mask) and "process" in stamp["first_use"]
    write_mask(mask, cloud_rows=0)
    [(_, reason)] = process_site(db, "yard", detector=_detector(), reprocess=True).failed
    assert CHANGED in reason
    assert _scene(db).status == "unusable"  # the result judged with the stamped mask


def test_a_file_of_railwatch_ingest_without_a_mask_stamp_is_stamped_by_process(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """A scene of `railwatch ingest` without a mask stamp is read as before and stamped
    at that first use too (session 30, tests/test_mask_first_use_s30.py)."""
    db, _, _ = _registered(tmp_db_url, tmp_path)
    _unstamped(db)
    with db.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {
            k: v for k, v in scene.meta.items() if k not in ("stac_collection", "stac_id")
        }
    assert not process_site(db, "yard", detector=_detector()).failed
    assert "railwatch process" in _scene(db).meta[MASK_STAMP_KEY]["first_use"]


def test_an_old_row_whose_mask_is_gone_is_told_at_the_rerun(
    tmp_db_url: str, tmp_path: Path
) -> None:
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    _unstamped(db)
    mask.unlink()
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert (
        f"its quality mask {mask} is not there, and the item still names it: put the mask "
        "back (or take the mask asset out of the item) and run `railwatch ingest-stac` again"
    ) in entry["reason"]
    assert MASK_STAMP_KEY not in _scene(db).meta


# ------------------------------------------------------ 2. a mask that cannot be read


def _two_items(tmp_path: Path, mask_b: Path) -> str:
    """Item ``a`` with a good mask, item ``b`` with ``mask_b``."""
    a = make_cog(tmp_path / "a.tif", 0)
    b = make_cog(tmp_path / "b.tif", 1)
    good = write_mask(tmp_path / "a.mask.tif")
    return write_items(
        tmp_path / "items.json",
        item_with_mask("a", a, good),
        item_with_mask("b", b, mask_b),
    )


def _not_a_raster(path: Path) -> Path:
    path.write_text("<html>404 Not Found</html>\n")
    return path


def _without_crs(path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NotGeoreferencedWarning: the point here
        with rasterio.open(
            path, "w", driver="GTiff", width=8, height=8, count=1, dtype="uint8"
        ) as dst:
            dst.write(np.zeros((1, 8, 8), dtype=np.uint8))
    return path


@pytest.mark.parametrize(
    ("make", "problem", "todo"),
    [
        (
            lambda p: p,
            "does not exist",
            "check the asset's href (a relative one resolves against the item JSON's "
            "folder) or put the mask there",
        ),
        (_not_a_raster, "cannot be read as a raster (", "replace it with a mask GDAL can read"),
        (_without_crs, "has no CRS", "replace it with a mask GDAL can read"),
    ],
    ids=["missing", "not-a-raster", "no-crs"],
)
def test_an_item_whose_mask_cannot_be_read_fails_and_the_others_are_registered(
    tmp_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Any,
    problem: str,
    todo: str,
) -> None:
    mask_b = make(tmp_path / "b.mask.tif")
    catalog = _two_items(tmp_path, mask_b)
    site_db(tmp_db_url)
    code, text = _run_cli(capsys, tmp_db_url, "ingest-stac", "yard", "--stac", catalog)
    assert code == 1, text
    assert "1 new scene, 0 already there, 0 skipped, 1 failed" in text
    assert f"failed yards/b: its quality mask asset 'mask' ({mask_b}) {problem}" in text
    assert todo in text
    assert "or take the mask asset out of the item, then run `railwatch ingest-stac` again" in text
    db = Database(tmp_db_url)
    with db.session(readonly=True) as s:
        assert [sc.meta["stac_id"] for sc in repo.list_scenes(s, "yard")] == ["a"]


def test_the_failed_item_is_registered_once_its_mask_is_there(
    tmp_db_url: str, tmp_path: Path
) -> None:
    from railwatch.stac import ingest_stac

    mask_b = tmp_path / "b.mask.tif"
    catalog = _two_items(tmp_path, mask_b)
    db = site_db(tmp_db_url)
    first = ingest_stac(db, "yard", catalog)
    assert [f["file"] for f in first.failed] == ["yards/b"]
    write_mask(mask_b)
    again = ingest_stac(db, "yard", catalog)
    assert not again.failed and [e["file"] for e in again.ingested] == ["yards/b"]
    with db.session(readonly=True) as s:
        b = next(sc for sc in repo.list_scenes(s, "yard") if sc.meta["stac_id"] == "b")
        assert b.mask_uri == str(mask_b) and b.meta[MASK_STAMP_KEY] == mask_stamp(str(mask_b))


def test_a_registered_mask_replaced_by_a_file_gdal_cannot_read_is_not_taken(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """The re-run does not take a replacement that is no raster (`process` would fail
    reading it): the scene keeps its mask and stamp, and the line says what to do."""
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    before = _scene(db)
    _not_a_raster(mask)
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert (
        f"; its quality mask {mask} changed since it was registered, and the item still "
        "names it, which cannot be read as a raster ("
    ) in entry["reason"]
    assert "replace it with a mask GDAL can read" in entry["reason"]
    assert "mask_taken" not in entry
    assert (_scene(db).mask_uri, _scene(db).meta) == (before.mask_uri, before.meta)


# --------------------------------------------------------- 3. the mask href changed


def _rename_mask(catalog: str, tmp_path: Path, new: Path | None) -> None:
    write_items(Path(catalog), item_with_mask("a", tmp_path / "a.tif", new))


def test_a_mask_href_changed_to_another_file_is_taken(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The old mask still there, unchanged: the re-run takes the new one (its stamp),
    says so, keeps the results until the next `process` counts the scene again with it."""
    from railwatch.stac import MASK_CHANGED, ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    process_site(db, "yard", detector=_detector())
    before = _scene(db)
    assert before.status == "processed" and before.clear_fraction == pytest.approx(1.0)
    counted = _counts(db, before.id)
    new = write_mask(tmp_path / "a.v2.mask.tif", cloud_rows=48)
    _rename_mask(catalog, tmp_path, new)
    code, text = _run_cli(capsys, tmp_db_url, "ingest-stac", "yard", "--stac", catalog)
    assert code == 0, text
    assert (
        f"already there: yards/a (scene {before.id}); the item names another quality mask "
        f"now, {new} (the scene had {mask}): the scene takes it, and `railwatch process` "
        "counts it again (its results so far are kept until then)"
    ) in text
    taken = _scene(db)
    assert taken.mask_uri == str(new) and taken.meta[MASK_STAMP_KEY] == mask_stamp(str(new))
    assert taken.detector_version.endswith(MASK_CHANGED) and taken.status == "processed"
    assert taken.content_hash == before.content_hash and _counts(db, before.id) == counted
    [entry] = ingest_stac(db, "yard", catalog).duplicates  # taken: nothing more to say
    assert entry["reason"] == f"already ingested as scene {before.id}"

    summary = process_site(db, "yard", detector=_detector())  # not --reprocess
    assert summary.total == 1 and not summary.failed, summary
    after = _scene(db)
    assert after.quality_source == "mask" and after.cloud_fraction == pytest.approx(0.1, abs=0.02)
    assert after.detector_version == f"1{Q}"


def test_json_says_what_was_taken(tmp_db_url: str, tmp_path: Path) -> None:
    from railwatch.stac import ingest_stac

    db, _, catalog = _registered(tmp_db_url, tmp_path)
    _rename_mask(catalog, tmp_path, write_mask(tmp_path / "a.v2.mask.tif", cloud_rows=8))
    [entry] = ingest_stac(db, "yard", catalog).as_dict()["duplicates"]
    assert entry["mask_taken"] == "other href"


def test_a_mask_href_changed_to_a_copy_is_taken_without_counting_again(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """The same bytes at another path (the catalog's masks moved): the scene takes the
    path; nothing it was judged with changed, so it is not counted again."""
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    process_site(db, "yard", detector=_detector())
    before = _scene(db)
    copy = tmp_path / "moved" / "a.mask.tif"
    copy.parent.mkdir()
    shutil.copy(mask, copy)
    _rename_mask(catalog, tmp_path, copy)
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert entry["reason"].endswith(
        f"; the item names another quality mask now, {copy} (the scene had {mask}): the "
        "scene takes it; it holds the same bytes as the mask registered, so nothing is "
        "counted again"
    )
    after = _scene(db)
    assert after.mask_uri == str(copy) and after.detector_version == before.detector_version
    assert not process_site(db, "yard", detector=_detector()).total  # up to date


def test_a_mask_href_changed_to_a_missing_file_is_not_taken(
    tmp_db_url: str, tmp_path: Path
) -> None:
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    before = _scene(db)
    gone = tmp_path / "a.v2.mask.tif"
    _rename_mask(catalog, tmp_path, gone)
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert (
        f"the item names another quality mask now, {gone} (the scene has {mask}), which "
        "does not exist: check the asset's href"
    ) in entry["reason"]
    assert "the scene keeps its mask until then" in entry["reason"]
    after = _scene(db)
    assert (after.mask_uri, after.meta) == (before.mask_uri, before.meta)


def test_a_mask_taken_out_of_the_item_or_put_in_is_taken(tmp_db_url: str, tmp_path: Path) -> None:
    """The old mask still there: an item that names no mask now leaves the scene
    without one; one that names a mask again gives it that mask."""
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    _rename_mask(catalog, tmp_path, None)
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert entry["reason"].endswith(
        f"; the item names no quality mask now (the scene had {mask}): the scene takes "
        "none, and `railwatch process` counts it again"
    )
    assert _scene(db).mask_uri is None and MASK_STAMP_KEY not in _scene(db).meta
    _rename_mask(catalog, tmp_path, mask)
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert entry["reason"].endswith(
        f"; the item names a quality mask now, {mask} (the scene had none): the scene "
        "takes it, and `railwatch process` counts it again"
    )
    assert _scene(db).meta[MASK_STAMP_KEY] == mask_stamp(str(mask))


@pytest.mark.parametrize("href", ["./a.mask.tif", "file-url"])
def test_the_same_mask_named_otherwise_is_no_change(
    tmp_db_url: str, tmp_path: Path, href: str
) -> None:
    """A relative href, or a file:// URL, of the mask the scene has: nothing taken."""
    from railwatch.stac import ingest_stac

    db, _, catalog = _registered(tmp_db_url, tmp_path)
    before = _scene(db)
    doc = item_with_mask("a", tmp_path / "a.tif", tmp_path / "a.mask.tif")
    doc["assets"]["mask"]["href"] = (
        (tmp_path / "a.mask.tif").as_uri() if href == "file-url" else href
    )
    write_items(Path(catalog), doc)
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert entry["reason"] == f"already ingested as scene {before.id}"
    assert _scene(db).mask_uri == before.mask_uri
