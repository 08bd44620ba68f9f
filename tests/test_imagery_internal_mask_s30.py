"""GDAL's mask of a file (a TIFF internal mask, or ``NAME.tif.msk``) overrides its nodata
value: the site-window read (the warp) and the whole-file ranges (masked reads) honoured
it, but the ingest footprint looked at it only when the file declared no nodata, and the
8-bit hint not at all."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

from imagery_helpers import ORIGIN_X, ORIGIN_Y, UTM52, image_box_wgs84
from railwatch.imagery.inspect import eight_bit_values, inspect_scene
from railwatch.imagery.read import read_site_window, site_grid

H = W = 300
HIDDEN = 100  # the left columns the mask hides


def _masked_file(path: Path, data: np.ndarray, **profile: Any) -> Path:
    """``data`` (3, H, W uint16) with an internal mask that hides the left columns."""
    full = dict(
        driver="GTiff", width=W, height=H, count=3, dtype="uint16", crs=UTM52,
        transform=Affine(0.5, 0.0, ORIGIN_X, 0.0, -0.5, ORIGIN_Y), **profile,
    )  # fmt: skip
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **full) as ds:
        ds.write(data)
        mask = np.full((H, W), 255, np.uint8)
        mask[:, :HIDDEN] = 0
        ds.write_mask(mask)
    return path


@pytest.mark.parametrize("nodata", [None, 0])
def test_the_footprint_leaves_out_what_the_mask_hides(tmp_path: Path, nodata: int | None) -> None:
    """With nodata 0 declared as well, the footprint was the whole image (the hidden
    pixels hold 60000, not 0): the site coverage read half as large again."""
    rng = np.random.default_rng(0)
    data = rng.integers(100, 3000, size=(3, H, W)).astype(np.uint16)
    data[:, :, :HIDDEN] = 60000
    extra = {} if nodata is None else {"nodata": nodata}
    path = _masked_file(tmp_path / "m.tif", data, **extra)
    info = inspect_scene(path, date=date(2026, 1, 2))
    assert info.metadata["footprint_from"] == "valid-data"
    shown = image_box_wgs84(HIDDEN, 0, W, H)
    assert info.footprint.area == pytest.approx(shown.area, rel=0.03)
    # the pipeline's read agrees
    grid = site_grid(image_box_wgs84(0.25, 0.25, W - 0.25, H - 0.25), 0.5)
    raster = read_site_window(path, grid)
    assert not raster.valid[:, :HIDDEN].any() and raster.valid[:, HIDDEN + 1 :].all()


def test_the_eight_bit_hint_leaves_out_what_the_mask_hides(tmp_path: Path) -> None:
    """8-bit values in uint16 with junk (60000) under the mask were taken for 16-bit
    data: no hint to ingest it with --radiometry display."""
    rng = np.random.default_rng(1)
    data = rng.integers(1, 256, size=(3, H, W)).astype(np.uint16)
    data[:, :, :HIDDEN] = 60000
    path = _masked_file(tmp_path / "d.tif", data)
    with rasterio.open(path) as ds:
        assert eight_bit_values(ds) == "0-255"
