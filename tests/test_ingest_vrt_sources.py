"""A folder holding a GDAL VRT and the image it reads, both dated: ingest took them as
two scenes of the same image and date, counted twice in the series (found in session
23's imagery QA). The source is now left out with why, and the VRT ingested once."""

from __future__ import annotations

from pathlib import Path

from imagery_helpers import image_box_wgs84, write_geotiff, yard_scene
from railwatch.ingest import ingest_paths
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from test_imagery_qa23_vrt import SIZE, _vrt


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        repo.add_site(
            s, SiteSpec(name="yard", geometry=image_box_wgs84(10, 10, SIZE - 10, SIZE - 10))
        )
    return db


def test_a_vrt_and_its_source_in_one_folder_are_one_scene(tmp_path: Path) -> None:
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    write_geotiff(imgs / "data_2024-05-01.tif", yard_scene(SIZE, SIZE))
    _vrt(imgs, "data_2024-05-01.tif")
    db = _db(tmp_path)
    summary = ingest_paths(db, "yard", [imgs])
    assert [Path(r["file"]).suffix for r in summary.ingested] == [".vrt"]
    (left,) = summary.sidecars
    assert left["file"].endswith("data_2024-05-01.tif")
    assert "a source of scene_2024-05-01.vrt" in left["reason"]
    with db.session() as s:
        assert len(repo.list_scenes(s, "yard")) == 1
    db.dispose()


def test_a_source_named_alone_is_ingested(tmp_path: Path) -> None:
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    tif = write_geotiff(imgs / "data_2024-05-01.tif", yard_scene(SIZE, SIZE))
    _vrt(imgs, "data_2024-05-01.tif")
    db = _db(tmp_path)
    summary = ingest_paths(db, "yard", [tif])
    assert len(summary.ingested) == 1 and not summary.sidecars
    db.dispose()
