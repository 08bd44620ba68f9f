"""A GDAL VRT whose source image is missing: ingest said "unexpected error:
CPLE_OpenFailedError: ..." (GDAL's error escaped), and a VRT whose source went away
after ingest failed at process as "corrupt or truncated (Read failed. See previous
exception for details.): re-download or re-export it". Both now name the missing
source and say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagery_helpers import ORIGIN_X, ORIGIN_Y, image_box_wgs84, write_geotiff, yard_scene
from railwatch.errors import ImageryError
from railwatch.imagery import inspect_scene, read_site_window, site_grid

SIZE = 120
RES = 0.5


def _vrt(folder: Path, source: str = "data.tif") -> Path:
    bands = "".join(
        f"""  <VRTRasterBand dataType="Byte" band="{b}">
    <ColorInterp>{name}</ColorInterp>
    <SimpleSource>
      <SourceFilename relativeToVRT="1">{source}</SourceFilename>
      <SourceBand>{b}</SourceBand>
    </SimpleSource>
  </VRTRasterBand>
"""
        for b, name in ((1, "Red"), (2, "Green"), (3, "Blue"))
    )
    path = folder / "scene_2024-05-01.vrt"
    path.write_text(
        f'<VRTDataset rasterXSize="{SIZE}" rasterYSize="{SIZE}">\n  <SRS>EPSG:32652</SRS>\n'
        f"  <GeoTransform>{ORIGIN_X}, {RES}, 0, {ORIGIN_Y}, 0, {-RES}</GeoTransform>\n"
        f"{bands}</VRTDataset>\n",
        encoding="utf-8",
    )
    return path


def test_ingest_names_the_missing_source_of_a_vrt(tmp_path: Path) -> None:
    vrt = _vrt(tmp_path, "gone.tif")
    with pytest.raises(ImageryError) as err:
        inspect_scene(vrt)
    message = str(err.value)
    assert "is a VRT whose source file is missing" in message
    assert str(tmp_path / "gone.tif") in message and "CPLE" not in message


def test_process_names_the_source_of_a_vrt_that_went_away_after_ingest(tmp_path: Path) -> None:
    write_geotiff(tmp_path / "data.tif", yard_scene(SIZE, SIZE))
    vrt = _vrt(tmp_path)
    info = inspect_scene(vrt)
    site = image_box_wgs84(10, 10, SIZE - 10, SIZE - 10)
    grid = site_grid(site, info.gsd)
    assert read_site_window(info.uri, grid, site_geom=site).valid.any()
    (tmp_path / "data.tif").unlink()
    with pytest.raises(ImageryError) as err:
        read_site_window(info.uri, grid, site_geom=site)
    message = str(err.value)
    assert "source file is missing" in message and "data.tif" in message
    assert "See previous exception" not in message and "re-download" not in message
