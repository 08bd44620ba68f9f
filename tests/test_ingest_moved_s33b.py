"""Three faults of `railwatch ingest` pointing a moved file's scene at its new place
(57cd30f, session 33), found by that session's review:

1. the move could land on the path another scene of the site reads (its image replaced
   by this one): two scenes read one file, and the other's image was never read again;
2. a scene ingested before its mask (or its sidecars) was stamped had any mask of that
   name taken as its own, its results kept beside a mask they were not made from;
3. a STAC item's scene whose file was moved was told to `railwatch ingest` the new
   place, which does not move a STAC scene: it failed again at every `process`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from railwatch.ingest import FILE_STAMP_KEY, MASK_STAMP_KEY, SIDECARS_KEY
from railwatch.storage import Database, repo
from report_db import FakeCount, FakeQuality
from test_ingest_qa22_dates import db, image, ingest_json, run  # noqa: F401  (db: the fixture)
from test_ingest_qa22_files import sim_folder


def _scenes(url: str) -> dict[int, dict[str, Any]]:
    database = Database(url)
    try:
        with database.session(readonly=True) as s:
            return {
                sc.id: {
                    "uri": sc.uri,
                    "mask_uri": sc.mask_uri,
                    "status": sc.status,
                    "counts": [c.count for c in sc.counts if c.cls == "all"],
                    "meta": dict(sc.meta or {}),
                }
                for sc in repo.list_scenes(s, "tum")
            }
    finally:
        database.dispose()


def _count_and_forget(url: str, *, mask: bool = False, sidecars: bool = False) -> None:
    """Give the site's one scene a count, and take out of its stamps what railwatch did
    not keep before: the mask's stamp (``mask``), the sidecars' digests (``sidecars``)."""
    database = Database(url)
    try:
        with database.session() as s:
            (scene,) = repo.list_scenes(s, "tum")
            count = FakeCount(12.0, 10.0, 15.0, {}, 0, method="objects")
            repo.record_scene_result(s, scene.id, FakeQuality(0.97), [], count, "test", "1")
        with database.session() as s:
            (scene,) = repo.list_scenes(s, "tum")
            meta = dict(scene.meta or {})
            if mask:
                meta.pop(MASK_STAMP_KEY)
            if sidecars:
                meta[FILE_STAMP_KEY] = {
                    k: v for k, v in meta[FILE_STAMP_KEY].items() if k != SIDECARS_KEY
                }
            scene.meta = meta
    finally:
        database.dispose()


def test_a_file_moved_over_another_scenes_file_does_not_move_its_scene(
    tmp_path: Path,
    db: str,  # noqa: F811  (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
) -> None:
    image(tmp_path / "a" / "yard_20231005.tif", 1)
    image(tmp_path / "b" / "yard_20231005.tif", 2)  # another image, another day
    assert ingest_json(capsys, db, "tum", str(tmp_path / "a"), "--date", "2023-10-05")[0] == 0
    assert ingest_json(capsys, db, "tum", str(tmp_path / "b"), "--date", "2023-10-06")[0] == 0
    before = _scenes(db)
    assert len(before) == 2
    shutil.move(tmp_path / "a" / "yard_20231005.tif", tmp_path / "b" / "yard_20231005.tif")
    code, summary, err = ingest_json(capsys, db, "tum", str(tmp_path / "b"))
    assert code == 0, err
    (dup,) = summary["duplicates"]
    after = _scenes(db)
    assert {i: sc["uri"] for i, sc in after.items()} == {
        i: sc["uri"] for i, sc in before.items()
    }, "a scene was pointed at another scene's file"
    assert "moved_from" not in dup and dup["path_taken_by"] == 2
    reason = dup["reason"]
    # worded as what is known since test_ingest_moved_s33c.py (scene 2's image may have
    # been moved elsewhere rather than replaced)
    assert "yard_20231005.tif here is the path scene 2 reads" in reason, reason
    assert "this file is scene 1's image (same SHA-256)" in reason
    assert f"put this image back at {(tmp_path / 'a' / 'yard_20231005.tif').resolve()}" in reason
    # the text line says it too
    code, out, err = run(capsys, "--db", db, "ingest", "tum", str(tmp_path / "b"))
    assert "the path scene 2 reads" in out + err


def test_a_scene_whose_mask_was_never_stamped_is_counted_again_when_moved(
    tmp_path: Path,
    db: str,  # noqa: F811  (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim_folder(tmp_path / "imgs")
    assert ingest_json(capsys, db, "tum", str(tmp_path / "imgs"))[0] == 0
    _count_and_forget(db, mask=True)
    shutil.move(tmp_path / "imgs", tmp_path / "moved")
    mask = tmp_path / "moved" / "yard_20231005.mask.tif"
    with rasterio.open(mask, "r+") as ds:  # another mask now: all cloud
        ds.write(np.ones((1, ds.height, ds.width), dtype=np.uint8))
    code, summary, err = ingest_json(capsys, db, "tum", str(tmp_path / "moved"))
    assert code == 0, err
    (dup,) = summary["duplicates"]
    assert dup["described_anew"] is True, dup
    assert "its quality mask yard_20231005.mask.tif (it had no SHA-256)" in dup["reason"]
    assert "its detections and counts removed" in dup["reason"]
    (scene,) = _scenes(db).values()
    new_folder = (tmp_path / "moved").resolve()
    assert scene["uri"] == str(new_folder / "yard_20231005.tif")
    assert scene["mask_uri"] == str(new_folder / "yard_20231005.mask.tif")
    # no result made with the old mask is kept: `process` counts it again
    assert scene["counts"] == [] and scene["status"] == "ingested"
    assert scene["meta"][MASK_STAMP_KEY]["sha256"]  # the mask it is counted with, stamped
    code, summary, _ = ingest_json(capsys, db, "tum", str(tmp_path / "moved"))
    assert "moved" not in summary["duplicates"][0]["reason"]


def test_a_scene_whose_sidecars_were_never_stamped_is_counted_again_when_moved(
    tmp_path: Path,
    db: str,  # noqa: F811  (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
) -> None:
    image(tmp_path / "imgs" / "yard_20231005.tif", 1)
    assert ingest_json(capsys, db, "tum", str(tmp_path / "imgs"))[0] == 0
    _count_and_forget(db, sidecars=True)  # a stamp of before session 24
    shutil.move(tmp_path / "imgs", tmp_path / "moved")
    code, summary, err = ingest_json(capsys, db, "tum", str(tmp_path / "moved"))
    assert code == 0, err
    (dup,) = summary["duplicates"]
    assert dup.get("described_anew") is True, dup
    assert "the files GDAL reads with it (no digests were kept of them)" in dup["reason"]
    (scene,) = _scenes(db).values()
    assert scene["uri"] == str((tmp_path / "moved" / "yard_20231005.tif").resolve())
    assert scene["counts"] == [] and scene["status"] == "ingested"
    assert SIDECARS_KEY in scene["meta"][FILE_STAMP_KEY]  # compared from now on


def test_a_scene_with_its_stamps_keeps_its_results_when_moved(
    tmp_path: Path,
    db: str,  # noqa: F811  (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The fix of the two above leaves a fully stamped scene's move as it was."""
    sim_folder(tmp_path / "imgs")
    assert ingest_json(capsys, db, "tum", str(tmp_path / "imgs"))[0] == 0
    _count_and_forget(db)
    shutil.move(tmp_path / "imgs", tmp_path / "moved")
    code, summary, err = ingest_json(capsys, db, "tum", str(tmp_path / "moved"))
    assert code == 0, err
    (dup,) = summary["duplicates"]
    assert "results kept" in dup["reason"] and "described_anew" not in dup, dup
    assert dup["uri"] == str((tmp_path / "moved" / "yard_20231005.tif").resolve())
    (scene,) = _scenes(db).values()
    assert scene["counts"] == [12.0]


def test_a_moved_stac_scene_is_told_what_brings_it_back(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pystac")
    from railwatch.pipeline import process_site
    from railwatch.stac import ingest_stac
    from test_integrity_stac_process_s29 import _detector, _registered
    from test_scene_identity_s29 import stac_item, write_items

    database, registered = _registered(tmp_db_url, tmp_path)
    (tmp_path / "moved").mkdir()
    moved = tmp_path / "moved" / "a.tif"
    shutil.move(registered, moved)
    [(_, reason)] = process_site(database, "yard", detector=_detector()).failed
    assert "no such file" in reason
    assert "a scene a STAC item registered reads only the path its item names" in reason
    assert "put the file back there" in reason
    # what the message rules out does not bring it back: ingest of the new place, and
    # ingest-stac of an item naming it there, leave the scene where its item put it
    assert run(capsys, "--db", tmp_db_url, "ingest", "yard", str(tmp_path / "moved"))[0] == 0
    ingest_stac(database, "yard", write_items(tmp_path / "now.json", stac_item("a", str(moved))))
    assert process_site(database, "yard", detector=_detector()).failed
    # what it advises does
    shutil.move(moved, registered)
    again = process_site(database, "yard", detector=_detector())
    assert not again.failed and len(again.processed) == 1
