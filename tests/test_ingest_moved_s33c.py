"""Three faults of `railwatch ingest` pointing a moved file's scene at its new place
(57cd30f and b212945, session 33), found by that session's second review:

1. a scene described anew (its file stamp without sidecar digests) whose image moved
   alone, its quality mask left where it was, lost that mask (and its stamp): `process`
   counted it again without its cloud mask, and nothing said so;
2. a statistics-only ``NAME.aux.xml`` (as QGIS writes when it opens a file: it tells
   GDAL nothing) beside the moved file made the move refused, "the files GDAL reads with
   it there differ", though `process` ignores such a sidecar;
3. a file moved onto the path of another scene whose image had itself been moved
   elsewhere was said to have "replaced" that image, and the advice was only to put
   both images back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from railwatch.ingest import MASK_STAMP_KEY
from test_ingest_moved_s33b import _count_and_forget, _scenes
from test_ingest_qa22_dates import db, image, ingest_json  # noqa: F401  (db: the fixture)
from test_ingest_qa22_files import sim_folder


@pytest.mark.parametrize("mask_stamped", [True, False])
def test_a_scene_described_anew_keeps_the_quality_mask_that_stayed(
    tmp_path: Path,
    db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    mask_stamped: bool,
) -> None:
    sim_folder(tmp_path / "imgs")
    assert ingest_json(capsys, db, "tum", str(tmp_path / "imgs"))[0] == 0
    (before,) = _scenes(db).values()
    mask_sha = before["meta"][MASK_STAMP_KEY]["sha256"]
    _count_and_forget(db, sidecars=True, mask=not mask_stamped)  # stamps before session 24
    (tmp_path / "moved").mkdir()
    shutil.move(tmp_path / "imgs" / "yard_20231005.tif", tmp_path / "moved" / "yard_20231005.tif")

    code, summary, err = ingest_json(capsys, db, "tum", str(tmp_path / "moved"))

    assert code == 0, err
    (dup,) = summary["duplicates"]
    assert dup["described_anew"] is True
    (scene,) = _scenes(db).values()
    assert scene["uri"] == str((tmp_path / "moved" / "yard_20231005.tif").resolve())
    assert scene["mask_uri"] == before["mask_uri"]
    assert scene["meta"][MASK_STAMP_KEY]["sha256"] == mask_sha  # stamped, and the same mask
    assert scene["status"] == "ingested" and scene["counts"] == []  # counted again
    assert f"its quality mask stays at {before['mask_uri']}" in dup["reason"]


def test_a_verified_move_says_its_quality_mask_stayed(
    tmp_path: Path,
    db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim_folder(tmp_path / "imgs")
    assert ingest_json(capsys, db, "tum", str(tmp_path / "imgs"))[0] == 0
    (before,) = _scenes(db).values()
    _count_and_forget(db)
    (tmp_path / "moved").mkdir()
    shutil.move(tmp_path / "imgs" / "yard_20231005.tif", tmp_path / "moved" / "yard_20231005.tif")

    code, summary, err = ingest_json(capsys, db, "tum", str(tmp_path / "moved"))

    assert code == 0, err
    (dup,) = summary["duplicates"]
    assert "its results kept" in dup["reason"]
    assert f"its quality mask stays at {before['mask_uri']}" in dup["reason"]
    (scene,) = _scenes(db).values()
    assert scene["mask_uri"] == before["mask_uri"] and scene["counts"] == [12.0]


#: What QGIS writes beside a file it opens: cached statistics, nothing GDAL reads.
STATS_ONLY = """<PAMDataset>
  <PAMRasterBand band="1">
    <Metadata>
      <MDI key="STATISTICS_MAXIMUM">229</MDI>
      <MDI key="STATISTICS_MEAN">124.5</MDI>
    </Metadata>
  </PAMRasterBand>
</PAMDataset>
"""


def test_a_statistics_only_aux_xml_at_the_new_place_does_not_stop_the_move(
    tmp_path: Path,
    db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    image(tmp_path / "imgs" / "yard_20231005.tif", 1)
    assert ingest_json(capsys, db, "tum", str(tmp_path / "imgs"))[0] == 0
    _count_and_forget(db)
    shutil.move(tmp_path / "imgs", tmp_path / "moved")
    (tmp_path / "moved" / "yard_20231005.tif.aux.xml").write_text(STATS_ONLY)

    code, summary, err = ingest_json(capsys, db, "tum", str(tmp_path / "moved"))

    assert code == 0, err
    (dup,) = summary["duplicates"]
    assert "its results kept" in dup["reason"], dup["reason"]
    (scene,) = _scenes(db).values()
    assert scene["uri"] == str((tmp_path / "moved" / "yard_20231005.tif").resolve())
    assert scene["counts"] == [12.0]


def test_a_file_moved_onto_a_path_whose_image_moved_on_is_not_said_to_replace_it(
    tmp_path: Path,
    db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """b/yard (scene 2) moved to c/, then a/yard (scene 1) to b/: both images exist."""
    root = tmp_path / "root"
    image(root / "a" / "yard_20231005.tif", 1)
    image(root / "b" / "yard_20231005.tif", 2)
    assert ingest_json(capsys, db, "tum", str(root / "a"), "--date", "2023-10-05")[0] == 0
    assert ingest_json(capsys, db, "tum", str(root / "b"), "--date", "2023-10-06")[0] == 0
    (root / "c").mkdir()
    shutil.move(root / "b" / "yard_20231005.tif", root / "c" / "yard_20231005.tif")
    shutil.move(root / "a" / "yard_20231005.tif", root / "b" / "yard_20231005.tif")

    code, summary, err = ingest_json(capsys, db, "tum", str(root / "b"))

    assert code == 0, err
    (dup,) = summary["duplicates"]
    assert dup["path_taken_by"] == 2
    reason = dup["reason"]
    assert "replaced by this one" not in reason
    assert "is the path scene 2 reads, and this file is scene 1's image" in reason
    old = str((root / "a" / "yard_20231005.tif").resolve())
    assert f"If scene 2's image was moved elsewhere: move this file back to {old}" in reason
    assert f"If scene 2's image is gone: put this image back at {old}" in reason
    assert {i: v["uri"] for i, v in _scenes(db).items()} == {
        1: old,
        2: str((root / "b" / "yard_20231005.tif").resolve()),
    }  # nothing changed

    # The first way, followed, puts both scenes right.
    shutil.move(root / "b" / "yard_20231005.tif", root / "a" / "yard_20231005.tif")
    code, summary, err = ingest_json(capsys, db, "tum", str(root / "c"))
    assert code == 0 and "moved here" in summary["duplicates"][0]["reason"], err
    shutil.move(root / "a" / "yard_20231005.tif", root / "b" / "yard_20231005.tif")
    code, summary, err = ingest_json(capsys, db, "tum", str(root / "b"))
    assert code == 0 and "moved here" in summary["duplicates"][0]["reason"], err
    assert {i: v["uri"] for i, v in _scenes(db).items()} == {
        1: str((root / "b" / "yard_20231005.tif").resolve()),
        2: str((root / "c" / "yard_20231005.tif").resolve()),
    }
