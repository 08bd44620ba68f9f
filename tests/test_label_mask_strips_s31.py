"""Label reading finds where a shrunk image holds data strip by strip (session 31).

``detect.labels.read_label_image`` read a non-palette file's bands once more at full size to
build the valid mask of an image it shrinks (GBs for a large 16-bit scene). It now reads
strips of whole block rows (``_valid_shrunk``), each reduced to the shrunk grid, with
the black fill of a file that declares no nodata still measured over the whole file
(its regions joined across strips). The mask is the one the whole-file read gave:
detect's rule (``detect.api.window_valid``) shrunk by area (``_shrunk``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.io import DatasetReader
from rasterio.transform import from_origin
from rasterio.windows import Window

from railwatch.detect import labels
from railwatch.detect.api import _masks_of, window_valid
from railwatch.detect.labels import _area_weights, _shrunk, _valid_shrunk, read_label_image

W, H = 203, 171  # shrunk to 77 x 61: 2.64 and 2.80 file pixels per stored pixel
SW, SH = 77, 61
GSD = 1.0  # the fill's regions are 400 px or more
BLOCK = 16


def _scene(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(200, 4000, (3, H, W)).astype("uint16")


def _write(path: Path, data: np.ndarray, **extra: Any) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[2],
        height=data.shape[1],
        count=data.shape[0],
        dtype=data.dtype,
        crs="EPSG:32633",
        transform=from_origin(500000.0, 4000000.0, GSD, GSD),
        tiled=True,
        blockxsize=BLOCK,
        blockysize=BLOCK,
        **extra,
    ) as dst:
        dst.write(data)
    return path


def _fill_file(folder: Path) -> Path:
    """No nodata declared: black fill of a rotated scene's corners, a U whose two arms
    (each under 400 px) meet only in a lower strip, two bars that touch only corner to
    corner across a strip boundary, and black specks too small to be fill."""
    data = _scene(np.random.default_rng(1))
    rows, cols = np.mgrid[0:H, 0:W]
    data[:, rows + cols < 60] = 0  # a corner: 1,830 px
    data[:, (H - rows) + (W - cols) < 45] = 0
    data[:, 20:140, 90:92] = 0  # U: arms of 240 px, joined at rows 138-139
    data[:, 20:140, 120:122] = 0
    data[:, 138:140, 90:122] = 0
    data[:, 40:48, 150:180] = 0  # bars of 240 px meeting diagonally at rows 47/48
    data[:, 48:56, 180:210] = 0
    data[:, 100:110, 20:30] = 0  # 100 px: dark ground, not fill
    data[:, 5, 150:153] = 0
    return _write(folder / "fill.tif", data)


def _nodata_file(folder: Path) -> Path:
    """nodata 0 declared: random no-data specks and a no-data band of rows."""
    rng = np.random.default_rng(2)
    data = _scene(rng)
    data[:, rng.random((H, W)) < 0.3] = 0
    data[:, 60:67, :] = 0
    return _write(folder / "nodata.tif", data, nodata=0)


def _nan_file(folder: Path) -> Path:
    """float32 with NaN blobs and no nodata declared (NaN is no data; the zero block
    below is fill)."""
    rng = np.random.default_rng(3)
    data = rng.random((3, H, W)).astype("float32") + 0.1
    data[:, rng.random((H, W)) < 0.2] = np.nan
    data[:, 90:130, 30:80] = np.nan
    data[:, 10:40, 100:130] = 0.0
    return _write(folder / "float.tif", data)


def _alpha_file(folder: Path) -> Path:
    """RGBA without ExtraSamples (an alpha band GDAL does not know): 0 in a wedge."""
    rng = np.random.default_rng(4)
    data = np.concatenate([_scene(rng), np.full((1, H, W), 65535, "uint16")])
    rows, cols = np.mgrid[0:H, 0:W]
    data[3, cols > rows + 40] = 0
    data[3, rng.random((H, W)) < 0.1] = 0
    return _write(folder / "rgba.tif", data, photometric="RGB")


FILES = {"fill": _fill_file, "nodata": _nodata_file, "nan": _nan_file, "alpha": _alpha_file}


def _whole_file_mask(path: Path, width: int, height: int) -> np.ndarray | None:
    """The mask as label reading built it before (the file's bands read at full size)."""
    from railwatch.imagery.read import file_bands

    with rasterio.open(path) as ds:
        bands, _ = file_bands(ds, path)
        masks = _masks_of(ds, bands, GSD)
        raw = ds.read(bands)
        valid = window_valid(ds, bands, Window(0, 0, ds.width, ds.height), raw, masks)
        return _shrunk(valid, width, height)


@pytest.fixture
def small_strips(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strips of one block row (16 rows), so each file is read in 11 strips."""
    monkeypatch.setattr(labels, "MASK_STRIP_PX", W * 10)


@pytest.mark.usefixtures("small_strips")
@pytest.mark.parametrize("kind", sorted(FILES))
@pytest.mark.parametrize(("width", "height"), [(SW, SH), (W, SH), (150, 170), (7, 5)])
def test_the_strip_mask_is_the_whole_file_mask(
    tmp_path: Path, kind: str, width: int, height: int
) -> None:
    path = FILES[kind](tmp_path)
    want = _whole_file_mask(path, width, height)
    if (width, height) == (SW, SH):  # a mask to compare
        assert want is not None and want.any()
    from railwatch.imagery.read import file_bands

    with rasterio.open(path) as ds:
        bands, _ = file_bands(ds, path)
        got = _valid_shrunk(ds, bands, _masks_of(ds, bands, GSD), width, height)
    if want is None:
        assert got is None
    else:
        assert got is not None
        np.testing.assert_array_equal(got, want)


@pytest.mark.usefixtures("small_strips")
def test_the_fill_is_measured_over_the_whole_file(tmp_path: Path) -> None:
    """The U's arms and the diagonal bars are fill only joined across strips."""
    path = _fill_file(tmp_path)
    from railwatch.imagery.read import file_bands

    with rasterio.open(path) as ds:
        bands, _ = file_bands(ds, path)
        got = _valid_shrunk(ds, bands, _masks_of(ds, bands, GSD), W, H - 1)
    assert got is not None
    assert not got[70, 90] and not got[70, 121]  # the U's arms
    assert not got[44, 165] and not got[52, 195]  # the bars
    assert got[104, 25]  # the 100 px speck is ground


def test_a_clean_file_has_no_mask(tmp_path: Path) -> None:
    path = _write(tmp_path / "clean.tif", _scene(np.random.default_rng(5)))
    from railwatch.imagery.read import file_bands

    with rasterio.open(path) as ds:
        bands, _ = file_bands(ds, path)
        assert _valid_shrunk(ds, bands, _masks_of(ds, bands, GSD), SW, SH) is None


def test_area_weights_cover_each_shrunk_pixel_by_its_span() -> None:
    for n, m in [(203, 77), (171, 61), (10, 10), (9, 1), (20000, 1687)]:
        first, head, tail = _area_weights(n, m)
        covered = np.bincount(first, head, minlength=m + 1)
        covered[1:] += np.bincount(first, tail, minlength=m + 1)[:-1]
        assert (covered[:m] == n).all() and covered[m] == 0


@pytest.mark.usefixtures("small_strips")
@pytest.mark.parametrize("kind", sorted(FILES))
def test_label_reading_never_reads_the_file_whole_at_full_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Every full-resolution read is a strip; before, one read took the whole file."""
    path = FILES[kind](tmp_path)
    want = _whole_file_mask(path, SW, SH)
    reads: list[tuple[int, int, tuple[int, ...] | None]] = []
    real_read, real_mask = DatasetReader.read, DatasetReader.dataset_mask

    def shape_of(ds: Any, kwargs: dict[str, Any]) -> tuple[int, int]:
        win = kwargs.get("window")
        if win is None:
            return ds.height, ds.width
        if not isinstance(win, Window):
            win = Window.from_slices(*win, height=ds.height, width=ds.width)
        return int(win.height), int(win.width)

    def read(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out_shape")
        reads.append((*shape_of(self, kwargs), None if out is None else tuple(out)))
        return real_read(self, *args, **kwargs)

    def dataset_mask(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out_shape")
        reads.append((*shape_of(self, kwargs), None if out is None else tuple(out)))
        return real_mask(self, *args, **kwargs)

    monkeypatch.setattr(DatasetReader, "read", read)
    monkeypatch.setattr(DatasetReader, "dataset_mask", dataset_mask)
    _, valid = read_label_image(path, SW, SH, gsd=GSD)
    assert valid is not None and want is not None
    np.testing.assert_array_equal(valid, want)
    # the whole file at its own resolution: never (the reads given an out_shape are the
    # shrunk image's and the stretch's, decimated to about 1024 px: this file is smaller)
    whole = [r for r in reads if r == (H, W, None)]
    assert whole == []
    strips = [r for r in reads if r[2] is None and r[1] == W and r[0] < H]
    assert strips and max(r[0] for r in strips) <= 2 * BLOCK


@pytest.mark.usefixtures("small_strips")
def test_a_stored_pixel_half_no_data_is_valid(tmp_path: Path) -> None:
    """At least half of the file's pixels under it hold data: valid, as before (an even
    shrink, where the float area average is exactly one half too)."""
    data = _scene(np.random.default_rng(6))[:, :170, :202]
    data[:, ::2, :] = 0  # every other row: each 2 x 2 block is half no data
    data[:, 100:, :] = 0
    path = _write(tmp_path / "half.tif", data, nodata=0)
    want = _whole_file_mask(path, 101, 85)
    assert want is not None and want[:50].all() and not want[50:].any()
    from railwatch.imagery.read import file_bands

    with rasterio.open(path) as ds:
        bands, _ = file_bands(ds, path)
        got = _valid_shrunk(ds, bands, _masks_of(ds, bands, GSD), 101, 85)
    assert got is not None
    np.testing.assert_array_equal(got, want)
