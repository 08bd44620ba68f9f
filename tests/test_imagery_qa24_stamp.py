"""The stamp that tells ``process`` whether an ingested image changed covered only the
image file. An image whose CRS, mask or overviews lie in a sidecar GDAL reads
(``NAME.aux.xml``, ``NAME.msk``, ``NAME.ovr``), or a VRT whose source was replaced, was
counted from other pixels (another place, another mask) under the ingested scene
without a word. Now the stamp covers the files GDAL reads with the image (rasterio's
``dataset.files``); a stamp recorded before (without them) takes them as they are on
the next check; cached statistics a viewer writes into ``NAME.aux.xml`` are no change;
and ingesting the image again takes its new sidecars."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.enums import Resampling

from imagery_helpers import ORIGIN_X, ORIGIN_Y, UTM52, image_box_wgs84, write_geotiff, yard_scene
from railwatch import ingest as ingest_mod
from railwatch.imagery import inspect as inspect_mod
from railwatch.ingest import (
    FILE_STAMP_KEY,
    SIDECARS_KEY,
    FileChangedError,
    check_unchanged,
    file_stamp,
    ingest_paths,
)
from railwatch.pipeline import process_site
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import Count
from test_detect_fakes import BrightBlobDetector

SIZE = 200
RES = 0.5
NAME = "yard_2024-05-01.tif"


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def _aux(path: Path, crs: str | None = UTM52, extra: str = "") -> Path:
    """Write ``NAME.aux.xml`` beside ``path`` with ``crs`` (none: no SRS) and ``extra``."""
    srs = f"<SRS>{rasterio.crs.CRS.from_user_input(crs).to_wkt()}</SRS>" if crs else ""
    aux = path.with_name(path.name + ".aux.xml")
    aux.write_text(f"<PAMDataset>{srs}{extra}</PAMDataset>\n", encoding="utf-8")
    return aux


def _site(db: Database) -> None:
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=image_box_wgs84(20, 20, 180, 180)))


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    _site(db)
    return db


def _ingest(db: Database, path: Path) -> None:
    summary = ingest_paths(db, "yard", [path])
    assert len(summary.ingested) == 1, summary.as_dict()


def _scene(db: Database) -> tuple[str, str | None, dict[str, object], int]:
    """The one scene's status, error, metadata and number of count rows."""
    with db.session(readonly=True) as s:
        (sc,) = repo.list_scenes(s, "yard")
        counts = s.query(Count).filter_by(scene_id=sc.id).count()
        return sc.status, sc.error, dict(sc.meta), counts


def _hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of every file hashed from now on."""
    hashed: list[str] = []
    real: Callable[[Path], str] = inspect_mod.file_sha256

    def spy(path: Path) -> str:
        hashed.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(inspect_mod, "file_sha256", spy)
    return hashed


@pytest.fixture
def aux_image(tmp_path: Path) -> tuple[Database, Path]:
    """An ingested image whose CRS is given only by its ``NAME.aux.xml``."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    path = write_geotiff(folder / NAME, yard_scene(SIZE, SIZE), crs=None)
    _aux(path)
    db = _db(tmp_path)
    _ingest(db, path)
    return db, path


def test_the_stamp_lists_the_sidecars_gdal_reads(aux_image: tuple[Database, Path]) -> None:
    db, path = aux_image
    stamp = _scene(db)[2][FILE_STAMP_KEY]
    assert isinstance(stamp, dict) and stamp == file_stamp(path)
    assert list(stamp[SIDECARS_KEY]) == [NAME + ".aux.xml"]
    assert len(stamp[SIDECARS_KEY][NAME + ".aux.xml"]["sha256"]) == 64


def test_a_crs_changed_in_the_aux_xml_after_ingest_fails_the_scene(
    aux_image: tuple[Database, Path],
) -> None:
    db, path = aux_image
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    assert _scene(db)[3] > 0
    _aux(path, "EPSG:32653")  # the image is now 600 km east (it was counted there)
    summary = process_site(db, "yard", detector=_detector(), reprocess=True)
    [(_, reason)] = summary.failed
    assert f"{path}: the files GDAL reads with it" in reason
    assert f"({NAME}.aux.xml changed)" in reason and "railwatch ingest" in reason
    status, error, _, counts = _scene(db)
    assert status == "failed" and error is not None and "aux.xml changed" in error
    assert counts == 0  # the earlier counts no longer describe the image
    # put back, it is counted again
    _aux(path)
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1


def test_an_aux_xml_that_appears_after_ingest_fails_the_scene(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    path = write_geotiff(folder / NAME, yard_scene(SIZE, SIZE))
    db = _db(tmp_path)
    _ingest(db, path)
    assert _scene(db)[2][FILE_STAMP_KEY][SIDECARS_KEY] == {}  # type: ignore[index]
    _aux(path, "EPSG:32653")  # overrides the CRS inside
    summary = process_site(db, "yard", detector=_detector())
    [(_, reason)] = summary.failed
    assert f"({NAME}.aux.xml appeared)" in reason
    path.with_name(NAME + ".aux.xml").unlink()
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1


def test_statistics_a_viewer_caches_in_the_aux_xml_are_no_change(
    aux_image: tuple[Database, Path], tmp_path: Path
) -> None:
    """QGIS and GDAL write band statistics and histograms into ``NAME.aux.xml``: nothing
    railwatch reads. Added to an existing one or written where there was none, the
    image is counted; the new stamp is recorded."""
    db, path = aux_image
    stats = (
        '<PAMRasterBand band="1"><Histograms><HistItem><HistMin>0</HistMin></HistItem>'
        '</Histograms><Metadata><MDI key="STATISTICS_MEAN">93.2</MDI>'
        '<MDI key="STATISTICS_MAXIMUM">255</MDI></Metadata></PAMRasterBand>'
    )
    _aux(path, extra=stats)
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    assert _scene(db)[2][FILE_STAMP_KEY] == file_stamp(path)
    # an image without one gets one of statistics only
    other = write_geotiff(tmp_path / "alone.tif", yard_scene(SIZE, SIZE))
    stamp = file_stamp(other)
    digest = inspect_mod.file_sha256(other)
    _aux(other, crs=None, extra=stats)
    new = check_unchanged(str(other), digest, stamp)
    assert new is not None and list(new[SIDECARS_KEY]) == ["alone.tif.aux.xml"]
    assert check_unchanged(str(other), digest, new) is None
    # a band's nodata or scale added beside the statistics is a change
    _aux(other, crs=None, extra='<PAMRasterBand band="1"><NoDataValue>0</NoDataValue>'
         + stats[len('<PAMRasterBand band="1">'):])  # fmt: skip
    with pytest.raises(FileChangedError, match=r"\(alone.tif.aux.xml appeared\)"):
        check_unchanged(str(other), digest, new)


def test_a_changed_external_mask_fails_the_scene(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    path = folder / NAME

    def write(masked_cols: int) -> None:
        mask = np.full((SIZE, SIZE), 255, np.uint8)
        mask[:, :masked_cols] = 0
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=False), rasterio.open(
            path, "w", driver="GTiff", width=SIZE, height=SIZE, count=3, dtype="uint8",
            crs=UTM52, transform=Affine(RES, 0, ORIGIN_X, 0, -RES, ORIGIN_Y), photometric="RGB",
        ) as dst:  # fmt: skip
            dst.write(yard_scene(SIZE, SIZE))
            dst.write_mask(mask)

    write(20)
    db = _db(tmp_path)
    _ingest(db, path)
    stamp = _scene(db)[2][FILE_STAMP_KEY]
    assert list(stamp[SIDECARS_KEY]) == [NAME + ".msk"]  # type: ignore[index]
    digest = inspect_mod.file_sha256(path)
    msk = path.with_name(NAME + ".msk")
    kept = msk.read_bytes()
    write(150)  # the same pixels, most of them masked now
    msk_new = msk.read_bytes()
    assert inspect_mod.file_sha256(path) == digest and msk_new != kept  # only the mask
    summary = process_site(db, "yard", detector=_detector())
    [(_, reason)] = summary.failed
    assert f"({NAME}.msk changed)" in reason


def test_overviews_added_in_an_external_ovr_are_noticed(
    aux_image: tuple[Database, Path],
) -> None:
    """``NAME.ovr`` is read for site grids coarser than the image: overviews made after
    ingest are other pixels."""
    db, path = aux_image
    stamp = _scene(db)[2][FILE_STAMP_KEY]
    with rasterio.Env(TIFF_USE_OVR=True), rasterio.open(path, "r+") as ds:
        ds.build_overviews([2, 4], Resampling.average)
    assert path.with_name(NAME + ".ovr").is_file()
    with pytest.raises(FileChangedError, match=rf"\({NAME}.ovr appeared\)"):
        check_unchanged(str(path), inspect_mod.file_sha256(path), stamp)  # type: ignore[arg-type]


def test_a_vrt_whose_source_is_replaced_fails_the_scene(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    source = write_geotiff(folder / "data.tif", yard_scene(SIZE, SIZE, seed=1))
    vrt = folder / "scene_2024-05-01.vrt"
    bands = "".join(
        f'<VRTRasterBand dataType="Byte" band="{b}"><ColorInterp>{c}</ColorInterp>'
        f'<SimpleSource><SourceFilename relativeToVRT="1">data.tif</SourceFilename>'
        f"<SourceBand>{b}</SourceBand></SimpleSource></VRTRasterBand>"
        for b, c in ((1, "Red"), (2, "Green"), (3, "Blue"))
    )
    vrt.write_text(
        f'<VRTDataset rasterXSize="{SIZE}" rasterYSize="{SIZE}"><SRS>EPSG:32652</SRS>'
        f"<GeoTransform>{ORIGIN_X}, {RES}, 0, {ORIGIN_Y}, 0, {-RES}</GeoTransform>"
        f"{bands}</VRTDataset>\n",
        encoding="utf-8",
    )
    db = _db(tmp_path)
    _ingest(db, vrt)
    assert list(_scene(db)[2][FILE_STAMP_KEY][SIDECARS_KEY]) == ["data.tif"]  # type: ignore[index]
    write_geotiff(source, yard_scene(SIZE, SIZE, seed=2))  # another image under the name
    summary = process_site(db, "yard", detector=_detector())
    [(_, reason)] = summary.failed
    assert "(data.tif changed)" in reason and str(vrt) in reason


def test_a_stamp_recorded_before_sidecars_were_kept_takes_them_as_they_are(
    aux_image: tuple[Database, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scene stamped before session 24 (no ``sidecars``) is not hashed again nor made
    to look changed: its sidecars are recorded on the next check, then watched."""
    db, path = aux_image
    with db.session() as s:
        (sc,) = repo.list_scenes(s, "yard")
        old = {k: v for k, v in sc.meta[FILE_STAMP_KEY].items() if k != SIDECARS_KEY}
        sc.meta = {**sc.meta, FILE_STAMP_KEY: old}
    hashed = _hashes(monkeypatch)
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    assert NAME not in hashed  # the image itself: its stamp matched
    assert _scene(db)[2][FILE_STAMP_KEY] == file_stamp(path)
    _aux(path, "EPSG:32653")
    summary = process_site(db, "yard", detector=_detector(), reprocess=True)
    assert len(summary.failed) == 1 and "aux.xml changed" in summary.failed[0][1]


def test_a_sidecar_touched_but_the_same_is_hashed_once(
    aux_image: tuple[Database, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, path = aux_image
    aux = path.with_name(NAME + ".aux.xml")
    st = aux.stat()
    os.utime(aux, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    hashed = _hashes(monkeypatch)
    det = _detector()
    assert len(process_site(db, "yard", detector=det).processed) == 1
    assert _scene(db)[2][FILE_STAMP_KEY] == file_stamp(path)
    assert len(process_site(db, "yard", detector=det, reprocess=True).processed) == 1
    assert NAME not in hashed  # the image's own stamp matched throughout


def test_ingesting_again_takes_the_new_sidecars(aux_image: tuple[Database, Path]) -> None:
    """The way out the message gives: the image ingested again is described from its
    sidecars as they are now (here a geotransform that moves it 20 m) and counted again."""
    db, path = aux_image
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    # the image shifted 20 m east by a geotransform in its aux.xml
    gt = f"<GeoTransform>{ORIGIN_X + 20}, {RES}, 0, {ORIGIN_Y}, 0, {-RES}</GeoTransform>"
    _aux(path, extra=gt)
    with db.session(readonly=True) as s:
        (sc,) = repo.list_scenes(s, "yard")
        before = sc.footprint_wkb, sc.coverage
    summary = ingest_paths(db, "yard", [path])
    [dup] = summary.duplicates
    assert "changed since (" in dup["reason"] and "counts it again" in dup["reason"]
    status, _, meta, counts = _scene(db)
    assert status == "ingested" and counts == 0
    assert meta[FILE_STAMP_KEY] == file_stamp(path)
    with db.session(readonly=True) as s:
        (sc,) = repo.list_scenes(s, "yard")
        assert sc.footprint_wkb != before[0] and sc.coverage < before[1]
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    # a second ingest changes nothing
    again = ingest_paths(db, "yard", [path])
    assert again.duplicates[0]["reason"] == f"already ingested as scene {dup['scene_id']}"
    assert _scene(db)[0] == "processed"


def test_gdal_sidecars_of_a_file_gdal_cannot_open_are_none(tmp_path: Path) -> None:
    junk = tmp_path / "notes.tif"
    junk.write_text("not an image", encoding="utf-8")
    assert ingest_mod.gdal_sidecars(junk) == {}
    assert file_stamp(junk)[SIDECARS_KEY] == {}
