"""A colour-table (palette) image whose table makes some entries transparent (alpha 0)
and that declares no nodata: GDAL gives it no mask (flags ``all_valid``), so those
pixels were read as ground (black, the table's colour) and the footprint was the whole
image. They are no data now. (A PNG with one transparent entry is given a nodata value
by GDAL and was read right; a GeoTIFF colour table has no alpha.)"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import MaskFlags

from imagery_helpers import ORIGIN_X, ORIGIN_Y, image_box_wgs84, write_geotiff
from railwatch.imagery import inspect_scene, read_site_window, site_grid
from railwatch.imagery.inspect import transparent_entries

SIZE = 400


def _palette_vrt(folder: Path, alphas: dict[int, int]) -> Path:
    index = np.random.default_rng(0).integers(2, 255, (SIZE, SIZE)).astype("uint8")
    index[:, :150] = 0
    index[:, 150:160] = 1
    write_geotiff(folder / "index.tif", index)
    entries = "".join(
        f'<Entry c1="{i}" c2="{255 - i}" c3="{(i * 7) % 256}" c4="{alphas.get(i, 255)}"/>'
        for i in range(256)
    )
    path = folder / "palette_2024-05-01.vrt"
    path.write_text(
        f'<VRTDataset rasterXSize="{SIZE}" rasterYSize="{SIZE}"><SRS>EPSG:32652</SRS>'
        f"<GeoTransform>{ORIGIN_X}, 0.5, 0, {ORIGIN_Y}, 0, -0.5</GeoTransform>"
        '<VRTRasterBand dataType="Byte" band="1"><ColorInterp>Palette</ColorInterp>'
        f"<ColorTable>{entries}</ColorTable><SimpleSource>"
        '<SourceFilename relativeToVRT="1">index.tif</SourceFilename>'
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>\n",
        encoding="utf-8",
    )
    return path


def _valid(path: Path) -> tuple[str, float]:
    info = inspect_scene(path, date=date(2024, 5, 1))
    site = image_box_wgs84(10, 10, SIZE - 10, SIZE - 10)
    raster = read_site_window(info.uri, site_grid(site, info.gsd), site_geom=site)
    return info.metadata["footprint_from"], float(raster.valid.mean())


def test_transparent_entries_of_a_colour_table_are_no_data(tmp_path: Path) -> None:
    path = _palette_vrt(tmp_path, {0: 0, 1: 0})
    with rasterio.open(path) as ds:
        assert ds.mask_flag_enums == ([MaskFlags.all_valid],)  # GDAL says nothing
        assert list(transparent_entries(ds, 1)) == [0, 1]  # type: ignore[arg-type]
    where, valid = _valid(path)
    assert where == "valid-data"  # was "bounds"
    assert abs(valid - 230 / 380) < 0.01  # was 1.0: columns 10-159 of 10-389 are clear


def test_a_table_without_alpha_or_all_transparent_masks_nothing(tmp_path: Path) -> None:
    """A table whose alpha is 0 everywhere does not use it: read as opaque."""
    for alphas in ({}, dict.fromkeys(range(256), 0)):
        folder = tmp_path / str(len(alphas))
        folder.mkdir()
        path = _palette_vrt(folder, alphas)
        with rasterio.open(path) as ds:
            assert transparent_entries(ds, 1) is None
        assert _valid(path) == ("bounds", 1.0)
