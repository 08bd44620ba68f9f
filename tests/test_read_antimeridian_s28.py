"""Images in longitude/latitude across the antimeridian are read over a site on
either side of 180° (session 28): GDAL placed the site's grid at longitudes within
±180° and found none (or a sliver) of an image stored as 179.987..180.003 or
-180.013..-179.997, so ``process`` called a scene that ingest measured as covering
the whole site "unusable: 0 % of the site covered"."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box

from railwatch.imagery import inspect_scene, read_site_window, site_coverage, site_grid

LAT = 65.0
DLAT = 0.5 / 111_320
DLON = 0.5 / (111_320 * math.cos(math.radians(LAT)))
WIDTH = int(0.016 / DLON)  # 0.016° of longitude, about 750 m
HEIGHT = int(0.004 / DLAT)


def _write(path: Path, west: float, quality_mask: bool = False) -> Path:
    """A 3-band (or 1-band quality mask) image in EPSG:4326 whose west edge is
    ``west``: 179.987 or -180.013 put it across 180°."""
    count = 1 if quality_mask else 3
    data = np.full((count, HEIGHT, WIDTH), 0 if quality_mask else 120, dtype=np.uint8)
    if not quality_mask:
        rng = np.random.default_rng(0)
        data += rng.integers(0, 60, data.shape, dtype=np.uint8)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=WIDTH,
        height=HEIGHT,
        count=count,
        dtype="uint8",
        crs="EPSG:4326",
        transform=from_origin(west, LAT + 0.004, DLON, DLAT),
        nodata=255 if quality_mask else 0,
    ) as dst:
        dst.write(data)
        if not quality_mask:
            dst.update_tags(TIFFTAG_DATETIME="2023:10:05 02:30:00")
    return path


# sites just west and just east of 180°, both inside both images
WEST_SITE = box(179.990, LAT + 0.001, 179.9995, LAT + 0.003)
EAST_SITE = box(-179.9995, LAT + 0.001, -179.9985, LAT + 0.003)


@pytest.mark.parametrize("west", [179.987, 179.987 - 360.0], ids=["east-of-180", "west-of-180"])
@pytest.mark.parametrize("site", [WEST_SITE, EAST_SITE], ids=["site-west", "site-east"])
def test_lonlat_image_across_180_covers_the_site_on_either_side(
    tmp_path: Path, west: float, site: object
) -> None:
    path = _write(tmp_path / "scene.tif", west)
    info = inspect_scene(path)
    assert site_coverage(info.footprint, site) == pytest.approx(1.0, abs=0.01)  # type: ignore[arg-type]
    grid = site_grid(site, 0.5)  # type: ignore[arg-type]
    raster = read_site_window(path, grid, site_geom=site)  # type: ignore[call-overload]
    inside = raster.inside
    # what ingest measured is what is read: the whole site has data
    assert raster.valid[inside].mean() > 0.99
    assert raster.image[inside].min() >= 100


def test_quality_mask_in_lonlat_across_180_is_placed_too(tmp_path: Path) -> None:
    image = _write(tmp_path / "scene.tif", 179.987)
    mask = _write(tmp_path / "scene.mask.tif", 179.987, quality_mask=True)
    grid = site_grid(EAST_SITE, 0.5)
    raster = read_site_window(image, grid, mask_uri=mask, site_geom=EAST_SITE)
    assert raster.mask is not None
    # 0 (clear) over the site, not the mask's no-data code
    assert (raster.mask[raster.inside] == 0).mean() > 0.99


def test_image_within_180_is_read_as_before(tmp_path: Path) -> None:
    path = _write(tmp_path / "scene.tif", 179.980)  # 179.980..179.996: no wrap
    site = box(179.985, LAT + 0.001, 179.990, LAT + 0.003)
    grid = site_grid(site, 0.5)
    raster = read_site_window(path, grid, site_geom=site)
    assert raster.valid[raster.inside].mean() > 0.99
