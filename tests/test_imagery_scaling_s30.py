"""The scale and offset a band declares (GDAL metadata, rasterio ``scales`` / ``offsets``:
value = stored x scale + offset, e.g. Sentinel-2 L2A and Landsat C2 L2 reflectance in
uint16) are applied before the stretch to 8 bits, in the pipeline's site windows and in
the whole-file ranges that ``detect``, labels and the web tiles use; no data is known
from the stored values first; broken metadata (scale 0) is refused; 8-bit files and
files without a scale read exactly as before."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

from imagery_helpers import ORIGIN_X, ORIGIN_Y, UTM52, image_box_wgs84, write_geotiff
from railwatch.detect.api import _reader
from railwatch.detect.tiling import Window
from railwatch.errors import ImageryError
from railwatch.imagery.inspect import band_scaling, eight_bit_values, inspect_scene
from railwatch.imagery.read import (
    RADIOMETRIES,
    Radiometry,
    read_site_window,
    site_grid,
    stretch_range,
    stretch_ranges,
    stretch_to_uint8,
)

H = W = 48
# the grid of the whole image (the site inset a quarter pixel: no pixel of the grid
# falls outside the image)
GRID = site_grid(image_box_wgs84(0.25, 0.25, W - 0.25, H - 0.25), 0.5)


def _scaled_file(
    path: Path,
    values: np.ndarray,
    scales: list[float],
    offsets: list[float],
    *,
    dtype: str = "uint16",
    nodata: float | None = None,
) -> Path:
    """``values`` (B, H, W: what the pixels stand for) stored as ``dtype`` with these
    per-band scales and offsets."""
    stored = np.stack(
        [(values[b] - offsets[b]) / scales[b] for b in range(values.shape[0])]
    ).round()
    write_geotiff(path, stored.astype(dtype), nodata=nodata)
    with rasterio.open(path, "r+") as ds:
        ds.scales = scales
        ds.offsets = offsets
    return path


def _grey_world(low: float = 0.05, high: float = 0.35, seed: int = 0) -> np.ndarray:
    """Reflectance the same in the three bands: grey ground, so red = green = blue."""
    rng = np.random.default_rng(seed)
    return np.repeat(rng.uniform(low, high, size=(1, H, W)), 3, axis=0)


def _channel_means(image: np.ndarray, valid: np.ndarray) -> list[float]:
    return [float(image[..., c][valid].mean()) for c in range(3)]


def test_display_bands_stored_with_different_scales_keep_their_balance(tmp_path: Path) -> None:
    """Grey ground stored with scales 0.0001, 0.0002, 0.0004 (each band's numbers half
    the one before) read as one range of stored numbers came out red (162, 69, 23)."""
    path = _scaled_file(
        tmp_path / "s.tif", _grey_world(), [0.0001, 0.0002, 0.0004], [-0.1, -0.1, -0.1]
    )
    raster = read_site_window(path, GRID, radiometry="display")
    assert raster.valid.all()
    r, g, b = _channel_means(raster.image, raster.valid)
    assert abs(r - g) < 1.0 and abs(g - b) < 1.0
    # pixel by pixel: the three planes differ only by the rounding of the stored values
    planes = raster.image.astype(int)
    assert np.abs(planes[..., 0] - planes[..., 2]).max() <= 1


def test_whole_file_ranges_are_per_band_in_stored_values(tmp_path: Path) -> None:
    """``detect`` (and label reading, the web tiles) read stored pixels and map each
    band with its range from ``stretch_ranges``: one range of values is one stored range
    per band."""
    scales = [0.0001, 0.0002, 0.0004]
    path = _scaled_file(tmp_path / "s.tif", _grey_world(), scales, [-0.1, -0.1, -0.1])
    with rasterio.open(path) as ds:
        ranges = stretch_ranges(ds, [1, 2, 3], radiometry="display")
        assert ranges is not None
        img, _ = _reader(ds, [1, 2, 3], ranges, radiometry="display")(Window(0, 0, W, H))
    lo, hi = ranges
    # band 1's stored numbers are twice band 2's, four times band 3's
    assert lo[0] == pytest.approx(2 * lo[1]) and hi[0] == pytest.approx(4 * hi[2])
    assert np.abs(img[..., 0].astype(int) - img[..., 2]).max() <= 1
    # the same 8-bit image as the pipeline's site window of the whole file
    window = read_site_window(path, GRID, radiometry="display").image
    assert np.abs(window.astype(int) - img).max() <= 1


def test_negative_values_after_the_offset_are_stretched(tmp_path: Path) -> None:
    """Landsat Collection 2 level 2: scale 2.75e-05, offset -0.2, so dark water and
    shadow read below 0. Bands with different offsets (a product's per-band calibration)
    must read alike where the ground is grey; the values below 0 are the dark end of the
    range, not clipped or wrapped."""
    values = _grey_world(-0.05, 0.3, seed=3)
    offsets = [-0.2, -0.15, -0.1]
    path = _scaled_file(tmp_path / "l.tif", values, [2.75e-05] * 3, offsets)
    for radiometry in RADIOMETRIES:
        raster = read_site_window(path, GRID, radiometry=radiometry)
        planes = raster.image.astype(int)
        assert np.abs(planes[..., 0] - planes[..., 2]).max() <= 1, radiometry
    # the darkest values (below 0) are black, the brightest white, in between in order
    raster = read_site_window(path, GRID, radiometry="display")
    lo, hi = stretch_range(values[0].ravel())
    assert lo < 0
    expected = stretch_to_uint8(values[0].astype(np.float32), lo, hi, radiometry="display")
    assert np.abs(raster.image[..., 0].astype(int) - expected).max() <= 1


def test_a_negative_scale_reads_the_band_the_right_way_round(tmp_path: Path) -> None:
    """A band stored inverted (scale -0.0001, offset 1: stored 10000 is 0) was read
    as its stored numbers: bright where the ground is dark."""
    values = _grey_world()
    path = _scaled_file(tmp_path / "n.tif", values, [0.0001, -0.0001, 0.0001], [0.0, 1.0, 0.0])
    raster = read_site_window(path, GRID)
    planes = raster.image.astype(int)
    assert np.abs(planes[..., 0] - planes[..., 1]).max() <= 1
    with rasterio.open(path) as ds:
        ranges = stretch_ranges(ds, [1, 2, 3])
        assert ranges is not None
        img, _ = _reader(ds, [1, 2, 3], ranges)(Window(0, 0, W, H))
    assert ranges[0][1] > ranges[1][1]  # band 2's stored range runs downwards
    assert np.abs(img[..., 0].astype(int) - img[..., 1]).max() <= 1


# An 8-bit file read over its own grid (written with imagery_helpers.write_geotiff),
# and what it read before scales were applied: the values as stored.
_D8 = ((np.arange(48).reshape(3, 4, 4) * 37 + 11) % 250 + 3).astype(np.uint8)
_E8 = [
    [[14, 51, 88, 125], [162, 199, 236, 23], [60, 97, 134, 171], [208, 245, 32, 69]],
    [[106, 143, 180, 217], [4, 41, 78, 115], [152, 189, 226, 13], [50, 87, 124, 161]],
    [[198, 235, 22, 59], [96, 133, 170, 207], [244, 31, 68, 105], [142, 179, 216, 3]],
]
# The same as uint16 (x 13 + 200, one bright pixel) without a scale, as read before
# (commit 581a80c), (H, W, 3).
_E16 = {
    "linear": [
        [[0, 108, 232], [111, 125, 251], [152, 139, 80], [183, 151, 131]],
        [[208, 0, 165], [231, 68, 193], [250, 93, 216], [58, 112, 236]],
        [[122, 128, 255], [160, 142, 96], [189, 154, 141], [214, 255, 172]],
        [[236, 75, 199], [255, 98, 221], [80, 117, 241], [133, 132, 0]],
    ],
    "display": [
        [[4, 39, 74], [18, 53, 88], [32, 67, 7], [46, 81, 21]],
        [[60, 0, 35], [74, 14, 49], [88, 28, 63], [8, 43, 77]],
        [[22, 57, 91], [36, 71, 11], [50, 85, 25], [64, 255, 39]],
        [[78, 18, 53], [92, 32, 67], [11, 46, 81], [25, 60, 0]],
    ],
}
_SMALL_GRID = site_grid(image_box_wgs84(0.25, 0.25, 3.75, 3.75), 0.5)


@pytest.mark.parametrize("declared", [None, ([0.01, 0.01, 0.01], [0.0, 0.0, 0.0])])
def test_eight_bit_reads_exactly_as_before(
    tmp_path: Path, declared: tuple[list[float], list[float]] | None
) -> None:
    """8-bit data is read as stored, with the default scale (1, 0) and with one declared
    (an 8-bit image is a display product: its numbers are what the screen shows)."""
    path = write_geotiff(tmp_path / "e8.tif", _D8)
    if declared is not None:
        with rasterio.open(path, "r+") as ds:
            ds.scales, ds.offsets = declared
    for radiometry in RADIOMETRIES:
        raster = read_site_window(path, _SMALL_GRID, radiometry=radiometry)
        assert raster.image.dtype == np.uint8
        assert raster.valid.all()
        assert np.moveaxis(raster.image, -1, 0).tolist() == _E8
    with rasterio.open(path) as ds:
        assert stretch_ranges(ds, [1, 2, 3]) is None


@pytest.mark.parametrize("radiometry", RADIOMETRIES)
def test_sixteen_bit_without_a_scale_reads_exactly_as_before(
    tmp_path: Path, radiometry: Radiometry
) -> None:
    data = _D8.astype(np.uint16) * 13 + 200
    data[1, 2, 3] = 9000
    path = write_geotiff(tmp_path / "e16.tif", data)
    with rasterio.open(path) as ds:
        assert band_scaling(ds, [1, 2, 3]) is None
    raster = read_site_window(path, _SMALL_GRID, radiometry=radiometry)
    assert raster.image.tolist() == _E16[radiometry]


def test_a_scale_of_0_is_refused_with_what_to_do(tmp_path: Path) -> None:
    """A scale of 0 makes every pixel of the band its offset; it was ignored without a
    word (the band read as stored, off by any factor against the others)."""
    path = _scaled_file(tmp_path / "z.tif", _grey_world(), [0.0001] * 3, [0.0] * 3)
    with rasterio.open(path, "r+") as ds:
        ds.scales = [0.0001, 0.0, 0.0001]
    for call in (
        lambda: read_site_window(path, GRID, radiometry="display"),
        lambda: read_site_window(path, GRID),
        lambda: inspect_scene(path, date=date(2026, 1, 2)),
    ):
        with pytest.raises(ImageryError) as err:
            call()
        text = str(err.value)
        assert "z.tif: band 2 declares a scale of 0" in text
        assert "gdal_edit.py -scale" in text and "ingest it again" in text
    with rasterio.open(path) as ds, pytest.raises(ImageryError, match="band 2"):
        stretch_ranges(ds, [1, 2, 3])


def test_no_data_is_known_from_the_stored_values_before_the_scale(tmp_path: Path) -> None:
    """nodata 0 (stored) with offset -0.1 stands for -0.1: such pixels are no data,
    not the darkest ground, and stay out of the range."""
    values = _grey_world()
    path = tmp_path / "nd.tif"
    _scaled_file(path, values, [0.0001, 0.0002, 0.0004], [-0.1] * 3, nodata=0)
    with rasterio.open(path, "r+") as ds:
        stored = ds.read()
        stored[:, :, :12] = 0
        ds.write(stored)
    raster = read_site_window(path, GRID, radiometry="display")
    assert not raster.valid[:, :12].any() and raster.valid[:, 13:].all()
    assert (raster.image[:, :12] == 0).all()
    lo, hi = stretch_range(values[:, :, 12:].ravel())
    expected = stretch_to_uint8(values[0].astype(np.float32), lo, hi, radiometry="display")
    got = raster.image[..., 0].astype(int)
    assert np.abs(got[:, 13:] - expected[:, 13:]).max() <= 1
    with rasterio.open(path) as ds:
        ranges = stretch_ranges(ds, [1, 2, 3], radiometry="display")
    assert ranges is not None
    assert ranges[0][0] * 0.0001 - 0.1 == pytest.approx(lo, abs=0.002)


def test_float_with_nan_and_no_nodata_tag_is_scaled_where_valid(tmp_path: Path) -> None:
    values = _grey_world()
    stored = values / np.array([1.0, 2.0, 4.0])[:, None, None]
    stored[:, :10, :] = np.nan
    path = write_geotiff(tmp_path / "f.tif", stored.astype(np.float32))
    with rasterio.open(path, "r+") as ds:
        ds.scales = [1.0, 2.0, 4.0]
    raster = read_site_window(path, GRID, radiometry="display")
    assert not raster.valid[:10].any() and raster.valid[11:].all()
    planes = raster.image.astype(int)
    assert np.abs(planes[11:, :, 0] - planes[11:, :, 2]).max() <= 1
    assert planes[11:].mean() > 60  # not a range spoilt by NaN


def test_an_internal_mask_is_no_data_and_out_of_the_range(tmp_path: Path) -> None:
    """GDAL's per-dataset mask (a TIFF internal mask, or NAME.tif.msk) marks no data
    where the stored values are anything (here 65535): the warp honours it, so the
    masked pixels are not valid and do not widen the range."""
    values = _grey_world()
    stored = np.stack([(values[b] + 0.1) / s for b, s in enumerate((1e-4, 2e-4, 4e-4))])
    stored = stored.round().astype(np.uint16)
    stored[:, :, :16] = 65535
    path = tmp_path / "m.tif"
    profile = dict(
        driver="GTiff", width=W, height=H, count=3, dtype="uint16", crs=UTM52,
        transform=Affine(0.5, 0.0, ORIGIN_X, 0.0, -0.5, ORIGIN_Y),
    )  # fmt: skip
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **profile) as ds:
        ds.write(stored)
        mask = np.full((H, W), 255, np.uint8)
        mask[:, :16] = 0
        ds.write_mask(mask)
        ds.scales = [1e-4, 2e-4, 4e-4]
        ds.offsets = [-0.1] * 3
    raster = read_site_window(path, GRID, radiometry="display")
    assert not raster.valid[:, :16].any() and raster.valid[:, 17:].all()
    assert (raster.image[:, :16] == 0).all()
    lo, hi = stretch_range(values[:, :, 16:].ravel())
    expected = stretch_to_uint8(values[1].astype(np.float32), lo, hi, radiometry="display")
    assert np.abs(raster.image[:, 17:, 1].astype(int) - expected[:, 17:]).max() <= 1
    with rasterio.open(path) as ds:
        ranges = stretch_ranges(ds, [1, 2, 3])
    assert ranges is not None and ranges[1].max() < 65535 / 2


def test_eight_bit_values_are_judged_after_the_scale(tmp_path: Path) -> None:
    """The ingest hint for 8-bit values in a 16-bit file: hundredths with scale 0.01
    (0-255 after the scale) are 8-bit ones; dark reflectance with scale 0.0001 whose
    stored numbers are all under 256 (at most 0.0255) is not."""
    rng = np.random.default_rng(5)
    display = rng.integers(1, 256, size=(3, H, W)).astype(np.float64)
    path = _scaled_file(tmp_path / "d.tif", display, [0.01] * 3, [0.0] * 3)
    with rasterio.open(path) as ds:
        assert ds.read().max() > 255
        assert eight_bit_values(ds) == "0-255"
    dark = rng.uniform(0.0001, 0.025, size=(3, H, W))
    path = _scaled_file(tmp_path / "r.tif", dark, [0.0001] * 3, [0.0] * 3)
    with rasterio.open(path) as ds:
        assert ds.read().max() <= 255
        assert eight_bit_values(ds) is None
    x257 = rng.integers(1, 256, size=(3, H, W)).astype(np.float64) * 257
    path = _scaled_file(tmp_path / "x.tif", x257, [257.0] * 3, [0.0] * 3)
    with rasterio.open(path) as ds:
        assert eight_bit_values(ds) == "x257"
