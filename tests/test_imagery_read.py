"""site_grid and read_site_window: windowed, warped reads to 8-bit RGB + validity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.enums import ColorInterp

from imagery_helpers import (
    ORIGIN_X,
    ORIGIN_Y,
    image_box_wgs84,
    utm_box_wgs84,
    write_geotiff,
    yard_scene,
)
from railwatch.errors import ImageryError, InputError
from railwatch.imagery import (
    MASK_NODATA,
    CorruptImageError,
    assess_quality,
    inspect_scene,
    read_site_window,
    site_coverage,
    site_grid,
    to_rgb8,
)

# ---------------------------------------------------------------- grids


def test_site_grid_is_aligned_utm_and_covers_the_site() -> None:
    site = utm_box_wgs84(ORIGIN_X + 10.2, ORIGIN_Y - 80.7, ORIGIN_X + 150.9, ORIGIN_Y - 3.1)
    grid = site_grid(site, 0.5)
    assert grid.crs == "EPSG:32652"
    assert grid.transform.a == 0.5 and grid.transform.e == -0.5
    assert grid.transform.c % 0.5 == 0 and grid.transform.f % 0.5 == 0
    minx, miny, maxx, maxy = grid.bounds
    assert minx <= ORIGIN_X + 10.2 and maxx >= ORIGIN_X + 150.9
    assert miny <= ORIGIN_Y - 80.7 and maxy >= ORIGIN_Y - 3.1
    assert maxx - (ORIGIN_X + 150.9) < 0.5 + 1e-6 and (ORIGIN_X + 10.2) - minx < 0.5 + 1e-6
    assert grid.shape == (grid.height, grid.width) == (156, 282)
    buffered = site_grid(site, 0.5, buffer_m=20)
    assert buffered.width == pytest.approx(grid.width + 80, abs=2)
    other = site_grid(site, 3.0, crs="EPSG:32653")
    assert other.crs == "EPSG:32653" and other.gsd == 3.0


@pytest.mark.parametrize(
    ("gsd", "crs", "message"),
    [
        (0.0, None, "positive number of metres"),
        (float("nan"), None, "positive number of metres"),
        (0.5, "EPSG:4326", "projected CRS"),
        (0.001, None, "use a coarser resolution"),
    ],
)
def test_site_grid_refuses(gsd: float, crs: str | None, message: str) -> None:
    site = utm_box_wgs84(ORIGIN_X, ORIGIN_Y - 1000, ORIGIN_X + 1000, ORIGIN_Y)
    with pytest.raises(InputError, match=message):
        site_grid(site, gsd, crs=crs)


def test_site_grid_in_feet_crs() -> None:
    site = utm_box_wgs84(ORIGIN_X, ORIGIN_Y - 100, ORIGIN_X + 100, ORIGIN_Y)
    grid = site_grid(site, 0.6096, crs="EPSG:2263")  # any projected CRS, here US feet
    assert grid.transform.a == pytest.approx(2.0, rel=1e-4)


# ---------------------------------------------------------------- reading


def read_all(path: Path, size: int = 64) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Read an image written with the defaults over a grid around it; returns
    (image, valid, col0, row0): image pixel (r, c) is grid pixel (r - row0, c - col0)."""
    grid = site_grid(image_box_wgs84(0, 0, size, size), 0.5)
    raster = read_site_window(path, grid)
    col0 = round((grid.transform.c - ORIGIN_X) / 0.5)
    row0 = round((ORIGIN_Y - grid.transform.f) / 0.5)
    return raster.image, raster.valid, col0, row0


def test_aligned_8bit_read_keeps_pixels(tmp_path: Path) -> None:
    data = yard_scene(120, 160)
    path = write_geotiff(tmp_path / "a.tif", data)
    site = image_box_wgs84(20, 20, 140, 100)
    grid = site_grid(site, 0.5)
    raster = read_site_window(path, grid, site_geom=site)
    assert raster.image.dtype == np.uint8 and raster.image.shape == (*grid.shape, 3)
    assert raster.valid.all() and raster.mask is None
    col = round((grid.transform.c - ORIGIN_X) / 0.5)
    row = round((ORIGIN_Y - grid.transform.f) / 0.5)
    expected = np.moveaxis(data[:, row : row + grid.height, col : col + grid.width], 0, -1)
    assert np.abs(raster.image.astype(int) - expected.astype(int)).max() <= 1
    # pixel centres inside the polygon: almost the whole rectangular grid
    assert raster.inside.mean() > 0.97


def test_utm_site_crossing_image_edge(tmp_path: Path) -> None:
    """Round trip in UTM 52N: a site half outside the image."""
    path = write_geotiff(tmp_path / "edge_2023-10-05.tif", yard_scene(200, 200), tiled=True)
    site = image_box_wgs84(100, 50, 300, 150)  # columns 200..300 are outside the image
    info = inspect_scene(path)
    assert site_coverage(info.footprint, site) == pytest.approx(0.5, abs=0.01)
    grid = site_grid(site, 0.5)
    raster = read_site_window(path, grid, site_geom=site)
    inside = raster.inside
    assert raster.valid[inside].mean() == pytest.approx(0.5, abs=0.01)
    # pixels east of the image edge are not valid, and black
    edge_col = round((ORIGIN_X + 100.0 - grid.transform.c) / 0.5)
    assert not raster.valid[:, edge_col + 1 :].any()
    assert raster.valid[:, : edge_col - 1].all()
    assert (raster.image[~raster.valid] == 0).all()
    quality = assess_quality(raster)
    assert quality.coverage == pytest.approx(0.5, abs=0.01)
    assert quality.nodata_fraction == pytest.approx(0.5, abs=0.01)
    assert not quality.usable
    assert "only 50 % of the site is covered by the image" in quality.reasons


def test_sixteen_bit_four_band_stretched_to_rgb(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(1000, 3000, size=(64, 64)).astype(np.uint16)
    data = np.stack([base, base // 2, base // 4, np.full_like(base, 60000)])
    data[:, 0, 0] = 65000  # an outlier the percentile stretch ignores
    path = write_geotiff(tmp_path / "u16.tif", data)
    grid = site_grid(image_box_wgs84(0, 0, 64, 64), 0.5)
    image = read_site_window(path, grid).image
    assert image.dtype == np.uint8
    for band in range(3):
        values = image[..., band]
        # the outlier does not squeeze the band: it keeps most of the 8-bit range (a
        # 0.01-99.99 % stretch alone would put the band's top at about 66; since
        # 2026-12-03 there is headroom above the 99.9th percentile, so the top is ~212)
        assert np.percentile(values, 1) <= 8 and np.percentile(values, 99) >= 200
    # the fourth band (NIR, constant) is not used: channels follow bands 1-3
    assert np.corrcoef(image[..., 0].ravel(), image[..., 2].ravel())[0, 1] > 0.95
    # outside the image is invalid for 16-bit data too
    _, valid, c0, r0 = read_all(path, size=80)
    assert valid[-r0 : 64 - r0, -c0 : 64 - c0].all() and not valid[:, 65 - c0 :].any()


def test_colorinterp_decides_band_order(tmp_path: Path) -> None:
    data = np.stack(
        [np.full((32, 32), 10, np.uint8), np.full((32, 32), 100, np.uint8),
         np.full((32, 32), 200, np.uint8)]
    )  # fmt: skip
    path = write_geotiff(tmp_path / "bgr.tif", data)
    with rasterio.open(path, "r+") as ds:
        ds.colorinterp = [ColorInterp.blue, ColorInterp.green, ColorInterp.red]
    grid = site_grid(image_box_wgs84(4, 4, 28, 28), 0.5)
    image = read_site_window(path, grid).image
    assert tuple(image[5, 5]) == (200, 100, 10)


def test_one_band_becomes_grey(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "pan.tif", yard_scene(64, 64)[1])
    image = read_site_window(path, site_grid(image_box_wgs84(0, 0, 64, 64), 0.5)).image
    assert (image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all()
    assert image.std() > 5


def test_alpha_marks_invalid(tmp_path: Path) -> None:
    alpha = np.full((1, 64, 64), 255, np.uint8)
    alpha[:, :, :32] = 0
    path = write_geotiff(
        tmp_path / "rgba.tif", np.concatenate([yard_scene(64, 64), alpha]), alpha=True
    )
    _, valid, c0, r0 = read_all(path)
    assert not valid[:, : 31 - c0].any() and valid[-r0 : 64 - r0, 33 - c0 : 64 - c0].all()


def test_nodata_marks_invalid(tmp_path: Path) -> None:
    data = yard_scene(64, 64)
    data = np.maximum(data, 1)
    data[:, 32:, :] = 0
    path = write_geotiff(tmp_path / "nd.tif", data, nodata=0)
    _, valid, c0, r0 = read_all(path)
    assert not valid[33 - r0 :].any() and valid[-r0 : 31 - r0, -c0 : 64 - c0].all()


def test_float_nan_marks_invalid(tmp_path: Path) -> None:
    data = yard_scene(64, 64).astype(np.float32) / 255.0
    data[:, :16, :] = np.nan
    path = write_geotiff(tmp_path / "f32.tif", data)
    image, valid, c0, r0 = read_all(path)
    assert not valid[: 15 - r0].any() and valid[17 - r0 : 64 - r0, -c0 : 64 - c0].all()
    assert not valid[:, 64 - c0 :].any()  # outside the image
    assert image[valid].std() > 20  # stretched from 0-1 floats to 8 bits


def test_image_in_another_zone_is_warped(tmp_path: Path) -> None:
    to53 = Transformer.from_crs("EPSG:32652", "EPSG:32653", always_xy=True)
    x, y = to53.transform(ORIGIN_X, ORIGIN_Y)
    path = write_geotiff(
        tmp_path / "z53_20231005.tif",
        yard_scene(200, 200),
        crs="EPSG:32653",
        origin=(round(x), round(y)),
    )
    site = image_box_wgs84(150, 0, 250, 100)
    raster = read_site_window(path, site_grid(site, 0.5), site_geom=site)
    expected = site_coverage(inspect_scene(path).footprint, site)
    assert 0.1 < expected < 0.9
    assert raster.valid[raster.inside].mean() == pytest.approx(expected, abs=0.02)
    assert raster.image[raster.valid].mean() > 30


def test_quality_mask_read_nearest_with_nodata_outside(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "s.tif", yard_scene(100, 100))
    codes = np.zeros((100, 100), np.uint8)
    codes[:, 50:] = 1
    codes[:10, :] = 3
    mask = write_geotiff(tmp_path / "s.mask.tif", codes)
    site = image_box_wgs84(0, 0, 150, 100)  # a third of the site outside the image
    raster = read_site_window(path, site_grid(site, 0.5), mask_uri=mask, site_geom=site)
    assert raster.mask is not None and raster.mask.dtype == np.uint8
    assert set(np.unique(raster.mask).tolist()) <= {0, 1, 3, MASK_NODATA}
    assert (raster.mask[~raster.valid] == MASK_NODATA).all()
    assert (raster.mask[raster.valid] != MASK_NODATA).all()


def test_udm2_mask_is_converted(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "ps.tif", yard_scene(64, 64)[:, :40, :40])
    udm = np.zeros((8, 40, 40), np.uint8)
    udm[0] = 1  # clear
    udm[0, :10] = 0
    udm[5, :10] = 1  # cloud
    udm[0, 10:20] = 0
    udm[1, 10:20] = 1  # snow
    udm[0, 20:25] = 0
    udm[3, 20:25] = 1  # light haze
    udm[0, 25:30] = 0
    udm[2, 25:30] = 1  # shadow
    udm[7, 30:32] = 1  # black fill
    mask = write_geotiff(tmp_path / "ps_udm2.tif", udm)
    raster = read_site_window(path, site_grid(image_box_wgs84(0, 0, 40, 40), 0.5), mask_uri=mask)
    assert raster.mask is not None
    rows = [int(np.median(raster.mask[r])) for r in (5, 15, 22, 27, 31, 35)]
    assert rows == [1, 3, 2, 4, MASK_NODATA, 0]


def test_corrupt_block_is_reported(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "c.tif", yard_scene(512, 512), tiled=True)
    with rasterio.open(path) as ds:
        offset = int(ds.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=1))
    raw = bytearray(path.read_bytes())
    raw[offset : offset + 400] = b"\xff" * 400
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptImageError, match="corrupt or truncated"):
        read_site_window(path, site_grid(image_box_wgs84(0, 0, 100, 100), 0.5))


def test_truncated_png_is_reported(tmp_path: Path) -> None:
    """GDAL read a PNG cut to a third as a whole image, the missing rows black, so that
    `railwatch detect photo.png --gsd 0.5` counted them (status 0)."""
    from PIL import Image

    from railwatch.detect.api import detect_file
    from railwatch.imagery.read import open_raster

    rgb = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    whole = tmp_path / "whole.png"
    Image.fromarray(rgb).save(whole)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    with open_raster(whole) as ds:
        assert ds.read().shape == (3, 200, 200)
    with pytest.raises(ImageryError, match=r"cut\.png: the PNG is corrupt or truncated"):
        open_raster(cut)
    with pytest.raises(ImageryError, match="corrupt or truncated"):
        detect_file(cut, gsd=0.5, detector=None)


def test_to_rgb8_constant_band_and_no_valid() -> None:
    data = np.full((3, 8, 8), 500, np.uint16)
    out = to_rgb8(data, np.ones((8, 8), bool))
    assert out.shape == (8, 8, 3) and out.dtype == np.uint8
    assert (to_rgb8(data, np.zeros((8, 8), bool)) == 0).all()


def test_alpha_after_four_bands(tmp_path: Path) -> None:
    rgbn = (yard_scene(64, 64).astype(np.uint16) * 100)[[0, 1, 2, 1]]
    alpha = np.full((1, 64, 64), 65535, np.uint16)
    alpha[:, :, :32] = 0
    path = write_geotiff(tmp_path / "rgbna_20231005.tif", np.concatenate([rgbn, alpha]))
    with rasterio.open(path, "r+") as ds:
        ds.colorinterp = [
            ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.undefined,
            ColorInterp.alpha,
        ]  # fmt: skip
    _, valid, c0, r0 = read_all(path)
    assert not valid[:, : 31 - c0].any() and valid[-r0 : 64 - r0, 33 - c0 : 64 - c0].all()
    assert inspect_scene(path).metadata["footprint_from"] == "valid-data"


def test_missing_files_are_named(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "s.tif", yard_scene(64, 64))
    grid = site_grid(image_box_wgs84(0, 0, 64, 64), 0.5)
    with pytest.raises(ImageryError, match="no such file"):
        read_site_window(tmp_path / "gone.tif", grid)
    with pytest.raises(ImageryError, match=r"quality mask .* no such file"):
        read_site_window(path, grid, mask_uri=tmp_path / "gone.mask.tif")


def test_palette_image_is_coloured(tmp_path: Path) -> None:
    index = np.zeros((64, 64), np.uint8)
    index[:, 32:] = 1
    path = write_geotiff(tmp_path / "pal.tif", index, photometric="palette")
    with rasterio.open(path, "r+") as ds:
        ds.write_colormap(1, {0: (10, 20, 30, 255), 1: (200, 100, 50, 255)})
    image, _, c0, r0 = read_all(path)
    assert tuple(image[10 - r0, 10 - c0]) == (10, 20, 30)
    assert tuple(image[10 - r0, 50 - c0]) == (200, 100, 50)


def test_xy_to_pixels_inverts_the_geotransform() -> None:
    from affine import Affine

    from railwatch.imagery._geo import pixel_to_xy, xy_to_pixels

    t = Affine(0.5, 0.1, 630_000.0, 0.05, -0.5, 4_700_000.0)  # rotated, sheared grid
    px = np.array([[0.0, 0.0], [10.5, 3.25], [-4.0, 1000.0]])
    xy = np.array([pixel_to_xy(t, c, r) for c, r in px])
    np.testing.assert_allclose(xy_to_pixels(t, xy), px, atol=1e-6)
