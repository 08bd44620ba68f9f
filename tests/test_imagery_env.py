"""Regression: rasterio reads GDAL_CACHEMAX as bytes; a bare 128 made reads ~500x slower."""

from __future__ import annotations

import rasterio

from railwatch.imagery.inspect import gdal_env


def test_gdal_block_cache_is_megabytes_not_bytes() -> None:
    with gdal_env():
        cache = rasterio.env.getenv()["GDAL_CACHEMAX"]
    assert int(cache) >= 16 * 1024 * 1024
