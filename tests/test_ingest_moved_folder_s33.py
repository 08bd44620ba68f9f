"""A folder of images moved after ingest (session 33, a new analyst renamed theirs):
`railwatch ingest` of the new place said "already ingested" and kept the old paths, and
every `railwatch process` failed the scenes with "no such file (was it moved after
ingest?)", with nothing that could point them at the new place. Ingest now finds a
moved file by its content and has its scene read it there (its mask too), results kept;
a copy whose mask is not the one ingested is not taken for it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from railwatch.ingest import check_unchanged
from railwatch.storage import Database, repo
from report_db import FakeCount, FakeQuality
from test_ingest_qa22_dates import db, ingest_json  # noqa: F401  (db: the fixture)
from test_ingest_qa22_files import sim_folder


def _scene(url: str) -> tuple[str, str | None, float | None, dict[str, object]]:
    database = Database(url)
    try:
        with database.session(readonly=True) as s:
            (scene,) = repo.list_scenes(s, "tum")
            totals = [c.count for c in scene.counts if c.cls == "all"]
            total = totals[0] if totals else None
            return (
                scene.uri,
                scene.mask_uri,
                total,
                {**(scene.meta or {}), "hash": scene.content_hash},
            )
    finally:
        database.dispose()


def _record_a_count(url: str) -> None:
    database = Database(url)
    try:
        with database.session() as s:
            (scene,) = repo.list_scenes(s, "tum")
            count = FakeCount(12.0, 10.0, 15.0, {}, 0, method="objects")
            repo.record_scene_result(s, scene.id, FakeQuality(0.97), [], count, "test", "1")
    finally:
        database.dispose()


def test_a_moved_folder_ingested_again_points_its_scenes_there(
    tmp_path: Path,
    db: str,  # noqa: F811  (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim_folder(tmp_path / "imgs")
    code, summary, err = ingest_json(capsys, db, "tum", str(tmp_path / "imgs"))
    assert code == 0 and len(summary["ingested"]) == 1, err
    _record_a_count(db)
    shutil.move(tmp_path / "imgs", tmp_path / "imagery_2023")
    code, summary, err = ingest_json(capsys, db, "tum", str(tmp_path / "imagery_2023"))
    assert code == 0, err
    (dup,) = summary["duplicates"]
    assert "its file was moved here from" in dup["reason"], dup
    assert "results kept" in dup["reason"]
    uri, mask, total, meta = _scene(db)
    new_folder = (tmp_path / "imagery_2023").resolve()
    assert uri == str(new_folder / "yard_20231005.tif")
    assert mask == str(new_folder / "yard_20231005.mask.tif")
    assert total == 12.0  # the same image: its results stay
    # process reads it there: the file and its stamp agree, nothing to hash again
    check_unchanged(uri, str(meta["hash"]), meta["railwatch:file"])  # type: ignore[arg-type]
    # a run over it again says nothing more
    code, summary, _ = ingest_json(capsys, db, "tum", str(tmp_path / "imagery_2023"))
    assert "moved" not in summary["duplicates"][0]["reason"]


def test_a_copy_with_another_mask_is_not_taken_for_the_moved_file(
    tmp_path: Path,
    db: str,  # noqa: F811  (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim_folder(tmp_path / "imgs")
    code, _, err = ingest_json(capsys, db, "tum", str(tmp_path / "imgs"))
    assert code == 0, err
    shutil.move(tmp_path / "imgs", tmp_path / "moved")
    mask = tmp_path / "moved" / "yard_20231005.mask.tif"
    import rasterio

    with rasterio.open(mask, "r+") as ds:  # another mask: all cloud
        ds.write(np.ones((1, ds.height, ds.width), dtype=np.uint8))
    code, summary, err = ingest_json(capsys, db, "tum", str(tmp_path / "moved"))
    (dup,) = summary["duplicates"]
    assert (
        "it is not moved here: its quality mask yard_20231005.mask.tif there is not"
        in (dup["reason"])
    ), dup
    uri, _, _, _ = _scene(db)
    assert uri == str((tmp_path / "imgs" / "yard_20231005.tif").resolve())
