"""An RGBA (or grey + alpha) TIFF written without the ExtraSamples tag that says its last
band is alpha: GDAL 3.10 reports that band ``undefined`` with no mask (flags
``all_valid``), so railwatch read its transparent area (here not black: white, as many
tools fill it) as ground: the footprint was the whole image, the site window valid
everywhere, and a grey-labelled RGBA was flagged as four unlabelled bands. The band is
now taken as alpha when its values are only 0 and opaque; a near-infrared band is
not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp, MaskFlags

from imagery_helpers import ORIGIN_X, ORIGIN_Y, image_box_wgs84, write_geotiff, yard_scene
from railwatch.imagery import inspect_scene, read_site_window, site_grid
from railwatch.imagery.inspect import undeclared_alpha, unlabelled_bands
from railwatch.imagery.read import rgb_bands

SIZE = 200
CUT = 80  # columns 0-79 are transparent


def _rgba(dtype: str = "uint8", *, grey: bool = False, nir: bool = False) -> np.ndarray:
    rgb = yard_scene(SIZE, SIZE).astype(dtype)
    if dtype == "uint16":
        rgb = rgb * 257
    top = 65535 if dtype == "uint16" else 255
    rgb[:, :, :CUT] = round(top * 0.94)  # the transparent area's fill: white, not black
    if nir:
        last = (rgb[0] // 2 + 30).astype(dtype)[np.newaxis]  # a data band
    else:
        last = np.full((1, SIZE, SIZE), top, dtype)
        last[:, :, :CUT] = 0
    return np.concatenate([rgb[:1] if grey else rgb, last])


def _write(path: Path, data: np.ndarray, photometric: str, **extra: Any) -> Path:
    return write_geotiff(path, data, photometric=photometric, **extra)


def _valid_left_right(path: Path) -> tuple[float, float]:
    """Valid fraction of the site window over the transparent columns and the others."""
    info = inspect_scene(path, date=None)
    site = image_box_wgs84(10, 10, SIZE - 10, SIZE - 10)
    grid = site_grid(site, info.gsd)
    raster = read_site_window(info.uri, grid, site_geom=site)
    half = raster.valid.shape[1] * (CUT - 10) // (SIZE - 20)
    return float(raster.valid[:, : half - 2].mean()), float(raster.valid[:, half + 2 :].mean())


def test_gdal_reports_an_rgba_without_extrasamples_as_a_fourth_undefined_band(
    tmp_path: Path,
) -> None:
    """The evidence: neither the colour interpretation nor the mask flags say alpha."""
    path = _write(tmp_path / "rgba_2024-05-01.tif", _rgba(), "RGB")
    with rasterio.open(path) as ds:
        assert ds.colorinterp[3] == ColorInterp.undefined
        assert all(f == [MaskFlags.all_valid] for f in ds.mask_flag_enums)
        assert undeclared_alpha(ds) == 4


def test_the_transparent_area_of_an_rgba_without_extrasamples_is_no_data(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "rgba_2024-05-01.tif", _rgba(), "RGB")
    info = inspect_scene(path)
    assert info.metadata["undeclared_alpha"] == 4
    assert info.metadata["footprint_from"] == "valid-data"  # was "bounds"
    whole = image_box_wgs84(0, 0, SIZE, SIZE)
    assert info.footprint.area < 0.7 * whole.area  # the left 40 % is left out
    left, right = _valid_left_right(path)
    assert left == 0.0 and right == 1.0  # left was 1.0: the white fill read as ground


def test_a_16_bit_rgba_without_extrasamples(tmp_path: Path) -> None:
    path = _write(tmp_path / "rgba16_2024-05-01.tif", _rgba("uint16"), "RGB")
    left, right = _valid_left_right(path)
    assert left == 0.0 and right == 1.0


def test_a_near_infrared_fourth_band_is_no_alpha(tmp_path: Path) -> None:
    path = _write(tmp_path / "rgbn_2024-05-01.tif", _rgba(nir=True), "RGB")
    with rasterio.open(path) as ds:
        assert undeclared_alpha(ds) is None
    assert "undeclared_alpha" not in inspect_scene(path).metadata
    assert _valid_left_right(path) == (1.0, 1.0)


def test_a_grey_labelled_rgba_is_three_colour_bands_and_alpha(tmp_path: Path) -> None:
    """``PHOTOMETRIC=MINISBLACK`` with 4 bands: grey and 3 undefined. Its values make
    the 4th an alpha band: bands 1-3 are read as colour without the "4 unlabelled
    bands" warning, and the transparent area is no data."""
    path = _write(tmp_path / "rgba_grey_2024-05-01.tif", _rgba(), "MINISBLACK")
    with rasterio.open(path) as ds:
        assert not unlabelled_bands(ds)  # was True: "4 bands, none labelled"
        assert rgb_bands(ds) == [1, 2, 3]
    assert "bands_unlabelled" not in inspect_scene(path).metadata
    left, right = _valid_left_right(path)
    assert left == 0.0 and right == 1.0


@pytest.mark.parametrize("declared", [False, True])
def test_grey_and_alpha(tmp_path: Path, declared: bool) -> None:
    """Two bands, grey and alpha, with and without ExtraSamples."""
    data = _rgba(grey=True)
    path = tmp_path / f"ga_{declared}_2024-05-01.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=2, dtype="uint8",
        crs="EPSG:32652", transform=rasterio.transform.from_origin(ORIGIN_X, ORIGIN_Y, 0.5, 0.5),
        photometric="MINISBLACK", **({"alpha": "YES"} if declared else {}),
    ) as dst:  # fmt: skip
        dst.write(data)
    with rasterio.open(path) as ds:
        assert rgb_bands(ds) == [1]
    left, right = _valid_left_right(path)
    assert left == 0.0 and right == 1.0
