"""Files whose georeferencing or mask lies in a GDAL sidecar beside them (``NAME.aux.xml``
with the CRS, ``NAME.tfw`` with the geotransform, ``NAME.msk`` with the mask) are read
by ``process`` as ``ingest`` judged them: before, ingest listed the folder (and found the
sidecars) while the site reads did not, so a CRS in ``.aux.xml`` failed at process ("has
no CRS"), a wrong CRS inside corrected by ``.aux.xml`` put the image 600 km away (read
as 0 % covered), and the area an external ``.msk`` masks was read as clear ground."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

from imagery_helpers import ORIGIN_X, ORIGIN_Y, UTM52, image_box_wgs84, write_geotiff, yard_scene
from railwatch.imagery import inspect_scene, read_site_window, site_grid

SIZE = 200
RES = 0.5
DATE = "2024-05-01"


def _aux_xml(path: Path, crs: str) -> None:
    wkt = rasterio.crs.CRS.from_user_input(crs).to_wkt()
    path.with_name(path.name + ".aux.xml").write_text(
        f"<PAMDataset><SRS>{wkt}</SRS></PAMDataset>\n", encoding="utf-8"
    )


def _read(path: Path) -> np.ndarray:
    """The valid pixels of the file read over its own extent, as process reads it."""
    info = inspect_scene(path, date=None)
    site = image_box_wgs84(20, 20, SIZE - 20, SIZE - 20)
    grid = site_grid(site, info.gsd)
    raster = read_site_window(info.uri, grid, site_geom=site)
    return raster.valid[raster.inside]


def test_a_crs_given_only_by_aux_xml_is_read_by_process(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / f"scene_{DATE}.tif", yard_scene(SIZE, SIZE), crs=None)
    _aux_xml(path, UTM52)
    valid = _read(path)  # raised MissingCRSError: "has no CRS"
    assert valid.mean() > 0.99


def test_a_wrong_crs_inside_corrected_by_aux_xml_places_the_image_as_ingest_did(
    tmp_path: Path,
) -> None:
    path = write_geotiff(tmp_path / f"scene_{DATE}.tif", yard_scene(SIZE, SIZE), crs="EPSG:32653")
    _aux_xml(path, UTM52)
    info = inspect_scene(path)
    assert info.crs == UTM52
    valid = _read(path)
    assert valid.mean() > 0.99  # was 0.0: read in zone 53, 600 km east of the site


def test_a_geotransform_given_only_by_a_world_file_is_read_by_process(tmp_path: Path) -> None:
    path = tmp_path / f"scene_{DATE}.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=3, dtype="uint8", crs=UTM52
    ) as dst:  # a CRS inside, no geotransform
        dst.write(yard_scene(SIZE, SIZE))
    path.with_suffix(".tfw").write_text(
        f"{RES}\n0\n0\n{-RES}\n{ORIGIN_X + RES / 2}\n{ORIGIN_Y - RES / 2}\n", encoding="utf-8"
    )
    valid = _read(path)  # was "not georeferenced" at process
    assert valid.mean() > 0.99


def test_the_area_an_external_msk_masks_is_no_data_at_process(tmp_path: Path) -> None:
    path = tmp_path / f"scene_{DATE}.tif"
    data = yard_scene(SIZE, SIZE)
    data[:, :, : SIZE // 2] = 37  # what lies under the mask: flat grey "ground"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=False), rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=3, dtype="uint8",
        crs=UTM52, transform=Affine(RES, 0, ORIGIN_X, 0, -RES, ORIGIN_Y), photometric="RGB",
    ) as dst:  # fmt: skip
        dst.write(data)
        mask = np.full((SIZE, SIZE), 255, np.uint8)
        mask[:, : SIZE // 2] = 0
        dst.write_mask(mask)
    assert path.with_name(path.name + ".msk").is_file()
    valid = _read(path)
    # the left half of the site window (cols 20-100 of 20-180) is masked
    assert 0.4 < valid.mean() < 0.6  # was 1.0: the grey fill read as clear ground
