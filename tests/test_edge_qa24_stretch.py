"""The 16-bit stretch of a file measured on its data only (session 24's edge cases).

``imagery.read.stretch_ranges`` (the one mapping of a whole 16-bit or float file to 8
bits: ``railwatch detect FILE``, web tiles, label reading, and the range of a scene
ingested with ``--radiometry display``) read the file with GDAL's mask, which knows
neither an alpha band the file does not declare (an RGBA TIFF without ExtraSamples,
``inspect.undeclared_alpha``) nor a colour table's transparent entries
(``inspect.transparent_entries``). On a 16-bit RGBA whose transparent area is filled at
0.94 x 65535 the range was 6425..61603 where the ground's brightest is 44204: every
reader stretched over the fill and the ground read darker. The pipeline's own site
window already read those pixels as no data; the range now leaves them out too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from imagery_helpers import ORIGIN_X, ORIGIN_Y, image_box_wgs84, write_geotiff, yard_scene
from railwatch.detect.api import detect_file
from railwatch.imagery import read_site_window, site_grid
from railwatch.imagery.read import Radiometry, stretch_ranges

SIZE = 400
CUT = 200  # columns 0-199 are transparent
FILL = round(65535 * 0.94)  # the transparent area's fill (61603), as many tools write it


def _pixels() -> np.ndarray:
    rgb = yard_scene(SIZE, SIZE).astype("uint16") * 257
    rgb[:, :, :CUT] = FILL
    return rgb


def _alpha() -> np.ndarray:
    alpha = np.full((1, SIZE, SIZE), 65535, "uint16")
    alpha[:, :, :CUT] = 0
    return alpha


def _undeclared(folder: Path) -> Path:
    """A 16-bit RGBA GeoTIFF without ExtraSamples: GDAL reports its 4th band
    ``undefined`` and no mask."""
    data = np.concatenate([_pixels(), _alpha()])
    return write_geotiff(folder / "undeclared.tif", data, photometric="RGB")


def _declared(folder: Path) -> Path:
    """The same pixels with their alpha band declared (ExtraSamples): GDAL's mask."""
    return write_geotiff(folder / "declared.tif", np.concatenate([_pixels(), _alpha()]), alpha=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("stretch")
    return _undeclared(folder), _declared(folder)


def _ranges(path: Path, radiometry: Radiometry) -> Any:
    with rasterio.open(path) as ds:
        return stretch_ranges(ds, [1, 2, 3], radiometry=radiometry)


@pytest.mark.parametrize("radiometry", ["linear", "display"])
def test_the_range_of_an_rgba_without_extrasamples_leaves_out_its_transparent_fill(
    files: tuple[Path, Path], radiometry: Radiometry
) -> None:
    undeclared, declared = files
    with rasterio.open(undeclared) as ds:  # what makes this file the case in point
        assert all(list(f) == [rasterio.enums.MaskFlags.all_valid] for f in ds.mask_flag_enums)
    ground_top = int(_pixels()[:, :, CUT:].max())  # 44204
    lows, highs = _ranges(undeclared, radiometry)
    assert float(highs.max()) <= ground_top  # was 61603: the fill's value
    ref_lows, ref_highs = _ranges(declared, radiometry)
    np.testing.assert_array_equal(lows, ref_lows)
    np.testing.assert_array_equal(highs, ref_highs)


class Spy:
    """A detector that keeps the tiles it is given and finds nothing."""

    name = "spy"
    version = "1"

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def detect(self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None) -> list[Any]:
        self.seen.append(image.copy())
        return []


def _ground(path: Path, radiometry: Radiometry) -> np.ndarray:
    """The 8-bit pixels ``railwatch detect FILE`` gives the detector for the opaque half."""
    spy = Spy()
    detect_file(path, detector=spy, workers=1, radiometry=radiometry)
    assert len(spy.seen) == 1
    return spy.seen[0][:, CUT:]


@pytest.mark.parametrize("radiometry", ["linear", "display"])
def test_detect_file_reads_the_ground_as_with_a_declared_alpha(
    files: tuple[Path, Path], radiometry: Radiometry
) -> None:
    undeclared, declared = files
    got, ref = _ground(undeclared, radiometry), _ground(declared, radiometry)
    # the ground was darker: mapped over the fill's range (mean 28 grey levels lower
    # linear, 37 display)
    np.testing.assert_array_equal(got, ref)


def test_a_display_scene_window_reads_the_ground_as_with_a_declared_alpha(
    files: tuple[Path, Path],
) -> None:
    """The pipeline's range of a scene ingested with ``--radiometry display`` (the one
    range of the whole file, ``imagery.read.display_range``)."""
    undeclared, declared = files
    site = image_box_wgs84(CUT + 10, 10, SIZE - 10, SIZE - 10)  # on the opaque half
    grid = site_grid(site, 0.5)
    got = read_site_window(undeclared, grid, site_geom=site, radiometry="display")
    ref = read_site_window(declared, grid, site_geom=site, radiometry="display")
    assert got.valid.all() and ref.valid.all()
    np.testing.assert_array_equal(got.image, ref.image)


def _palette16(folder: Path) -> Path:
    """A 16-bit colour-table VRT whose columns 0-199 are entry 60000, transparent in the
    table, and the rest entries 100-4099 (a UInt16 TIFF may carry a colour table)."""
    index = np.random.default_rng(0).integers(100, 4100, (SIZE, SIZE)).astype("uint16")
    index[:, :CUT] = 60000
    write_geotiff(folder / "index16.tif", index)
    entries = "".join(
        f'<Entry c1="{i % 256}" c2="{255 - i % 256}" c3="0" c4="{0 if i == 60000 else 255}"/>'
        for i in range(60001)
    )
    path = folder / "palette16.vrt"
    path.write_text(
        f'<VRTDataset rasterXSize="{SIZE}" rasterYSize="{SIZE}"><SRS>EPSG:32652</SRS>'
        f"<GeoTransform>{ORIGIN_X}, 0.5, 0, {ORIGIN_Y}, 0, -0.5</GeoTransform>"
        '<VRTRasterBand dataType="UInt16" band="1"><ColorInterp>Palette</ColorInterp>'
        f"<ColorTable>{entries}</ColorTable><SimpleSource>"
        '<SourceFilename relativeToVRT="1">index16.tif</SourceFilename>'
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>\n",
        encoding="utf-8",
    )
    return path


def test_the_range_of_a_colour_table_leaves_out_its_transparent_entries(
    tmp_path: Path,
) -> None:
    """Label reading measures the range of whatever file it is given (a 16-bit colour
    table too): its transparent entries are no data, not the top of the range."""
    with rasterio.open(_palette16(tmp_path)) as ds:
        assert ds.colorinterp[0] == rasterio.enums.ColorInterp.palette
        ranges = stretch_ranges(ds, [1])
    assert ranges is not None
    lows, highs = ranges
    assert float(lows[0]) >= 100 and float(highs[0]) <= 4099  # was 60000


def _black_fill(folder: Path, *, nodata: float | None) -> Path:
    """A 16-bit RGB file whose first quarter of columns is 0 in every band (a rotated
    scene's corner, a blanked area), with that 0 declared nodata or not declared."""
    rgb = yard_scene(SIZE, SIZE).astype("uint16") * 257
    rgb[:, :, : SIZE // 4] = 0
    name = "fill_declared.tif" if nodata is not None else "fill.tif"
    return write_geotiff(folder / name, rgb, nodata=nodata)


@pytest.mark.parametrize("radiometry", ["linear", "display"])
def test_the_range_of_a_file_without_nodata_leaves_out_its_black_fill(
    tmp_path: Path, radiometry: Radiometry
) -> None:
    """A file that declares no nodata has its black fill read as no data by the pipeline
    and by ``detect`` (``imagery.read.undeclared_fill``); its range is of the ground."""
    plain, declared = _black_fill(tmp_path, nodata=None), _black_fill(tmp_path, nodata=0)
    lows, highs = _ranges(plain, radiometry)
    assert float(lows.min()) == 6425  # the ground's darkest (was 0: the fill)
    ref_lows, ref_highs = _ranges(declared, radiometry)
    np.testing.assert_array_equal(lows, ref_lows)
    np.testing.assert_array_equal(highs, ref_highs)
    # detect FILE: the ground mapped as in the file that declares its nodata
    got, ref = Spy(), Spy()
    detect_file(plain, detector=got, workers=1, radiometry=radiometry)
    detect_file(declared, detector=ref, workers=1, radiometry=radiometry)
    np.testing.assert_array_equal(got.seen[0][:, SIZE // 4 :], ref.seen[0][:, SIZE // 4 :])


def test_without_a_georeference_the_fill_is_measured_with_the_gsd_given(
    tmp_path: Path,
) -> None:
    """A file without a CRS has no ground size of its own: only a ``gsd`` given (as
    ``detect --gsd`` has) says its black fill is over 400 m²."""
    rgb = yard_scene(SIZE, SIZE).astype("uint16") * 257
    rgb[:, :, : SIZE // 4] = 0
    path = write_geotiff(tmp_path / "plain.tif", rgb, crs=None)
    with rasterio.open(path) as ds:
        unknown = stretch_ranges(ds, [1, 2, 3])
        given = stretch_ranges(ds, [1, 2, 3], gsd=0.5)
    assert unknown is not None and given is not None
    assert float(unknown[0].min()) == 0.0  # no size: 0 may be ground, kept
    assert float(given[0].min()) == 6425


def test_detect_with_gsd_leaves_the_fill_of_a_file_without_georeference_out_of_the_range(
    tmp_path: Path,
) -> None:
    """``detect FILE --gsd`` on a 16-bit file without a CRS maps its ground as the same
    file that declares its nodata: the range is measured with the gsd given (it was
    measured without, so from 0, the fill, and the ground read darker)."""
    rgb = yard_scene(SIZE, SIZE).astype("uint16") * 257
    rgb[:, :, : SIZE // 4] = 0
    plain = write_geotiff(tmp_path / "plain.tif", rgb, crs=None)
    declared = write_geotiff(tmp_path / "declared.tif", rgb, crs=None, nodata=0)
    got, ref = Spy(), Spy()
    detect_file(plain, detector=got, workers=1, gsd=0.5)
    detect_file(declared, detector=ref, workers=1, gsd=0.5)
    np.testing.assert_array_equal(got.seen[0][:, SIZE // 4 :], ref.seen[0][:, SIZE // 4 :])
