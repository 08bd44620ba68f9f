"""``eight_bit_values`` "xK" takes a power of two only (a bit shift): reflectance kept in
thousandths (every value a multiple of 10, the highest 128 to 255 tenths) read "x10"
and got the 8-bit hint (2026-12-07, session 47 review)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from imagery_helpers import write_geotiff, yard_scene
from railwatch.imagery.inspect import eight_bit_values


def test_multiples_of_ten_are_not_eight_bit_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = (rng.integers(20, 240, (3, 300, 300)) * 10).astype("uint16")  # 200 .. 2390
    path = write_geotiff(tmp_path / "thousandths.tif", data, photometric="RGB")
    with rasterio.open(path) as ds:
        assert eight_bit_values(ds) is None


def test_an_eight_bit_image_shifted_is_still_one(tmp_path: Path) -> None:
    rgb8 = yard_scene(400, 400).astype("uint16")
    rgb8[:, 0, 0] = 255
    for factor in (4, 16, 256):
        path = write_geotiff(tmp_path / f"x{factor}.tif", rgb8 * factor, photometric="RGB")
        with rasterio.open(path) as ds:
            assert eight_bit_values(ds) == f"x{factor}", factor
