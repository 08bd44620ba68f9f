"""Review r2 of e49257f (session 38): a file with a mask of its own (an internal mask, as
JPEG-compressed visual COGs carry, or NAME.tif.msk) and no nodata value, whose STAC item
declares a nodata value. The pipeline's warp was given the item's value as its source
nodata, and GDAL's warper then leaves the file's mask out wherever a pixel of a chunk
holds that value: the masked area (whatever its fill) was read as ground by `process`,
while `ingest-stac` measured the site's coverage with the mask (50 % against 100 %).
Before e49257f the mask was read. The file's mask says which pixels hold data, as a
nodata value or an alpha band of its own does: the item's nodata is not applied to it
(the file's own wins), by every reader alike (the warp, the stretch, the coverage, the
web tiles, the label chips)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from railwatch.imagery.inspect import site_data_coverage
from railwatch.imagery.read import read_site_window, site_grid, stretch_ranges
from railwatch.storage import repo

pytest.importorskip("pystac")

from test_stac import GSD, ORIGIN, SIZE, site_db

#: The site (test_stac.site_db) lies over columns and rows 40 to 120; the file's mask
#: hides the columns before this one, a third of the site's width and more.
MASKED = 70


def masked_image(path: Path, dtype: str = "uint8", *, stripes: int | None = None) -> Path:
    """A 3-band GeoTIFF with an internal mask hiding the columns before :data:`MASKED`
    (50 under it, not 0), no nodata value, and a few pixels 0 in every band over the
    site (dark ground: what the item's nodata 0 would hide); with ``stripes``, every
    7th column that value in every band."""
    rng = np.random.default_rng(7)
    data = rng.integers(60, 200, size=(3, SIZE, SIZE)).astype(dtype)
    if stripes is not None:
        data[:, :, ::7] = stripes
    data[:, :, :MASKED] = 50
    data[:, 90:94, 100:104] = 0
    mask = np.full((SIZE, SIZE), 255, dtype=np.uint8)
    mask[:, :MASKED] = 0
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=3, dtype=dtype,
        crs="EPSG:32652", transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]),
        tiled=True, blockxsize=256, blockysize=256,
    ) as dst:  # fmt: skip
        dst.write(data)
        dst.write_mask(mask)
    return path


def test_a_file_with_its_own_mask_takes_no_item_nodata(tmp_path: Path) -> None:
    from railwatch.imagery.inspect import takes_item_nodata

    path = masked_image(tmp_path / "m.tif")
    with rasterio.open(path) as ds:
        assert ds.nodata is None
        assert not takes_item_nodata(ds)


def test_process_reads_the_files_mask_not_the_items_nodata(tmp_path: Path, tmp_db_url: str) -> None:
    """Read with the item's nodata 0, the masked third of the site is no data, as read
    without it (the file's mask); the coverage ingest-stac measures says the same."""
    db = site_db(tmp_db_url)
    with db.session(readonly=True) as s:
        geom = repo.get_site(s, "yard").geometry
    path = masked_image(tmp_path / "m.tif")
    grid = site_grid(geom, GSD)
    with_item = read_site_window(path, grid, site_geom=geom, nodata=0.0)
    without = read_site_window(path, grid, site_geom=geom)
    inside = with_item.inside
    share = (MASKED - 40) / 80
    assert without.valid[inside].mean() == pytest.approx(1 - share, abs=0.03)
    assert np.array_equal(with_item.valid, without.valid)
    assert np.array_equal(with_item.image, without.image)
    with read_site_window(path, grid, site_geom=geom, nodata=0.0, lazy=True) as lazy:
        assert np.array_equal(lazy.valid, without.valid)
    coverage = site_data_coverage(str(path), geom, item_nodata=0.0)
    assert coverage == pytest.approx(1 - share, abs=0.03)


def test_the_stretch_of_a_masked_16_bit_file_ignores_the_items_nodata(tmp_path: Path) -> None:
    path = masked_image(tmp_path / "m16.tif", "uint16", stripes=40)
    with rasterio.open(path) as ds:
        with_item = stretch_ranges(ds, [1, 2, 3], nodata=40.0)
        without = stretch_ranges(ds, [1, 2, 3])
    assert with_item is not None and without is not None
    assert np.array_equal(with_item[0], without[0])
    assert np.array_equal(with_item[1], without[1])


def test_web_tiles_of_a_masked_file_take_no_item_nodata(tmp_path: Path) -> None:
    from railwatch.web.routes.tiles import _render_params

    path = masked_image(tmp_path / "m.tif")
    assert _render_params(str(path), None, "linear", None, None, 0.0).nodata is None


def test_label_chips_of_a_masked_file_take_no_item_nodata(tmp_path: Path) -> None:
    """`export labels` reads the file's mask; pixels at the item's value stay as they
    are (they were made black, no data)."""
    from railwatch.imagery.read import ITEM_NODATA_KEY
    from test_label_chips_scaling_s30 import _chip, _site

    db, path, eight = _site(tmp_path, None)
    eight[:, :, ::7] = 120  # ground at the item's value, in every band
    mask = np.full(eight.shape[1:], 255, dtype=np.uint8)
    mask[:, : eight.shape[2] // 3] = 0
    with rasterio.open(path) as ds:
        profile = ds.profile
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **profile) as dst:
        dst.write(eight)
        dst.write_mask(mask)
    plain = _chip(db, tmp_path / "plain")
    assert (plain == 120).all(axis=2).any()
    with db.session() as s:
        scene = repo.get_scene(s, 1)
        scene.meta = {**(scene.meta or {}), ITEM_NODATA_KEY: 120}
    got = _chip(db, tmp_path / "item")
    assert np.array_equal(got, plain)
    db.dispose()
