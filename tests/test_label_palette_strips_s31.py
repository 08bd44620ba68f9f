"""Label reading reads a palette image's index band strip by strip (session 31).

``detect.labels.read_label_image`` read a palette file's whole index band and built each
colour plane at full size before shrinking it (several hundred MB for a large 16-bit
scene); it now reads strips of the index band (``_palette_shrunk``), each reduced to the
shrunk grid by area in integers. The colours are the exact area average rounded half up
(OpenCV's area average, used before, is within 1 of it; the same on a whole-number
shrink) and a stored pixel is valid where at least half of the file's pixels under it
are, as non-palette images have been read since 5f9db13 (before, a float area average
put some exactly-half pixels at no data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import rasterio
from rasterio.io import DatasetReader
from rasterio.transform import from_origin
from rasterio.windows import Window

from railwatch.detect import labels
from railwatch.detect.labels import read_label_image

X0, Y0, GSD = 500000.0, 4000000.0, 0.5
#: Entries of the short tables: the second is transparent (alpha 0), so no data.
COLOURS = [(200, 10, 10, 255), (10, 200, 10, 0), (10, 10, 200, 255), (250, 250, 3, 255)]
STRIP_ROWS = 5  # forced: uneven strips that end inside a shrunk row


def _palette(folder: Path, index: np.ndarray, name: str = "yard") -> Path:
    """A palette image of ``index`` with the 4-entry table :data:`COLOURS` (a VRT: a
    GeoTIFF's table always has 2**bits entries), so any index above 3 has no entry."""
    big = int(index.max()) > 255
    dtype = "uint16" if big else "uint8"
    h, w = index.shape
    raw = folder / f"{name}.index.tif"
    with rasterio.open(
        raw,
        "w",
        driver="GTiff",
        width=w,
        height=h,
        count=1,
        dtype=dtype,
        crs="EPSG:32633",
        transform=from_origin(X0, Y0, GSD, GSD),
    ) as dst:
        dst.write(index.astype(dtype)[None])
    entries = "".join(f'<Entry c1="{r}" c2="{g}" c3="{b}" c4="{a}"/>' for r, g, b, a in COLOURS)
    vrt = folder / f"{name}.vrt"
    vrt.write_text(
        f'<VRTDataset rasterXSize="{w}" rasterYSize="{h}">'
        "<SRS>EPSG:32633</SRS>"
        f"<GeoTransform>{X0}, {GSD}, 0, {Y0}, 0, {-GSD}</GeoTransform>"
        f'<VRTRasterBand dataType="{"UInt16" if big else "Byte"}" band="1">'
        "<ColorInterp>Palette</ColorInterp>"
        f"<ColorTable>{entries}</ColorTable>"
        f'<SimpleSource><SourceFilename relativeToVRT="1">{raw.name}</SourceFilename>'
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>",
        encoding="utf-8",
    )
    return vrt


def _indexes(past: int, h: int = 64, w: int = 61, seed: int = 1) -> np.ndarray:
    """Random entries (a quarter transparent), a few pixels and a block past the table."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, 4, (h, w)).astype(np.int64)
    index[rng.random((h, w)) < 0.05] = past
    index[8:30, 10:27] = past
    index[40:, 45:] = 1  # a transparent corner
    return index


def _old(path: Path, width: int, height: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Label reading's palette path before (the index band read whole, each colour
    plane built at full size and shrunk by OpenCV's area average, the mask by a float
    area average)."""
    from railwatch.detect.api import _masks_of, window_valid
    from railwatch.imagery.read import file_bands, palette_colours

    with rasterio.open(path) as ds:
        bands, _ = file_bands(ds, path)
        masks = _masks_of(ds, bands)
        assert masks.lut is not None
        index = ds.read(bands[0])
        whole = Window(0, 0, ds.width, ds.height)
        valid = window_valid(ds, bands, whole, index[None], masks, index=index)
    planes = []
    for c in range(3):
        colour = palette_colours(index, masks.lut[:, c : c + 1])[0][..., 0]
        if valid is not None:
            colour[~valid] = 0
        if colour.shape != (height, width):
            colour = cv2.resize(colour, (width, height), interpolation=cv2.INTER_AREA)
        planes.append(colour)
    out = np.stack(planes, axis=-1)
    shrunk = valid
    if valid is not None and valid.shape != (height, width):
        share = cv2.resize(valid.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
        shrunk = share >= 0.5
    if shrunk is not None and shrunk.all():
        shrunk = None
    if shrunk is not None:
        out[~shrunk] = 0
    return out, shrunk


def _exact_sums(full: np.ndarray, width: int, height: int) -> np.ndarray:
    """``full`` (h, w, ...) summed by area over each of ``width`` x ``height`` stored
    pixels, in units of 1/(w*h) of a file pixel: each file pixel repeated ``height``
    times down and ``width`` across, each stored pixel then ``h`` x ``w`` of those."""
    h, w = full.shape[:2]
    big = np.repeat(np.repeat(full.astype(np.int64), height, axis=0), width, axis=1)
    return big.reshape(height, h, width, w, *full.shape[2:]).sum(axis=(1, 3))


def _exact(path: Path, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The exact area average (rounded half up) of the file's colours, the exact share
    of valid file pixels under each stored pixel (x 2 against the total: ``2 * valid``
    ``>= total`` is the rule) and the total."""
    colours, valid = _old(path, *_size(path))
    v = np.ones(colours.shape[:2], bool) if valid is None else valid
    total = colours.shape[0] * colours.shape[1]
    sums = _exact_sums(colours, width, height)
    counts = _exact_sums(v, width, height)
    return (2 * sums + total) // (2 * total), 2 * counts, np.full(counts.shape, total)


def _size(path: Path) -> tuple[int, int]:
    with rasterio.open(path) as ds:
        return int(ds.width), int(ds.height)


@pytest.fixture
def small_strips(monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[int, int]]]:
    """Strips of :data:`STRIP_ROWS` rows (a VRT's block is 128 rows, so the real
    strips of these files would be one); records the strips each read used."""
    used: list[list[tuple[int, int]]] = []

    def strips(ds: Any) -> list[tuple[int, int]]:
        out = [(r, min(r + STRIP_ROWS, ds.height)) for r in range(0, ds.height, STRIP_ROWS)]
        used.append(out)
        return out

    monkeypatch.setattr(labels, "_strips", strips, raising=False)
    return used


SIZES = [(23, 29), (61, 64), (30, 32), (61, 23), (7, 5), (1, 1), (40, 63)]


@pytest.mark.parametrize("past", [300, 7], ids=["16-bit", "8-bit"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_strips_give_the_full_size_colours_and_mask(
    tmp_path: Path, small_strips: list[Any], past: int, width: int, height: int
) -> None:
    path = _palette(tmp_path, _indexes(past))
    old_rgb, old_valid = _old(path, width, height)
    rgb, valid = read_label_image(path, width, height)
    assert small_strips and len(small_strips[-1]) > 1
    want_rgb, twice_valid, total = _exact(path, width, height)
    exact_valid = twice_valid >= total
    # the mask: the full-size one's, but where exactly half is valid (the rule: valid)
    assert (valid is None) == bool(exact_valid.all())  # None: valid everywhere
    valid = np.ones((height, width), bool) if valid is None else valid
    old_valid = np.ones((height, width), bool) if old_valid is None else old_valid
    tie = twice_valid == total
    np.testing.assert_array_equal(valid[~tie], old_valid[~tie])
    np.testing.assert_array_equal(valid, exact_valid)
    # the colours: the exact area average, no data black; within 1 of OpenCV's
    want_rgb[~exact_valid] = 0
    np.testing.assert_array_equal(rgb, want_rgb)
    both = valid & old_valid
    diff = np.abs(rgb.astype(int) - old_rgb.astype(int))
    assert diff[both].max(initial=0) <= 1
    assert (rgb[~valid] == 0).all()
    whole = (64 % height == 0) and (61 % width == 0)
    if whole:  # a whole-number shrink (or none): OpenCV's average is exact too
        np.testing.assert_array_equal(rgb[both], old_rgb[both])


def test_a_file_with_no_no_data_has_no_mask(tmp_path: Path, small_strips: list[Any]) -> None:
    index = np.random.default_rng(2).choice([0, 2, 3], (40, 37))
    path = _palette(tmp_path, index)
    old_rgb, old_valid = _old(path, 17, 19)
    rgb, valid = read_label_image(path, 17, 19)
    assert valid is None and old_valid is None
    assert np.abs(rgb.astype(int) - old_rgb.astype(int)).max() <= 1
    np.testing.assert_array_equal(rgb, _exact(path, 17, 19)[0])


def test_a_stored_pixel_exactly_half_no_data_is_valid(
    tmp_path: Path, small_strips: list[Any]
) -> None:
    """Every other row transparent, rows shrunk 2:1 and columns 23 -> 7: every stored
    pixel is exactly half no data, valid by the rule; the float area average put some
    at just under one half (no data, black)."""
    index = np.full((64, 23), 3, np.int64)
    index[::2] = 1
    path = _palette(tmp_path, index)
    _, old_valid = _old(path, 7, 32)
    assert old_valid is not None and not old_valid.all()  # the old rounding
    rgb, valid = read_label_image(path, 7, 32)
    assert valid is None  # all valid
    np.testing.assert_array_equal(
        rgb, np.broadcast_to(np.array([125, 125, 2], np.uint8), rgb.shape)
    )


@pytest.mark.parametrize("past", [300, 7], ids=["16-bit", "8-bit"])
def test_no_read_covers_the_whole_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_strips: list[Any], past: int
) -> None:
    """Every read of the file is a strip; before, the index band was read whole."""
    path = _palette(tmp_path, _indexes(past))
    w, h = _size(path)
    reads: list[tuple[int, int]] = []
    real_read, real_mask = DatasetReader.read, DatasetReader.dataset_mask

    def shape_of(ds: Any, kwargs: dict[str, Any]) -> tuple[int, int]:
        win = kwargs.get("window")
        if win is None:
            return int(ds.height), int(ds.width)
        if not isinstance(win, Window):
            win = Window.from_slices(*win, height=ds.height, width=ds.width)
        return int(win.height), int(win.width)

    def read(self: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(shape_of(self, kwargs))
        return real_read(self, *args, **kwargs)

    def dataset_mask(self: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(shape_of(self, kwargs))
        return real_mask(self, *args, **kwargs)

    monkeypatch.setattr(DatasetReader, "read", read)
    monkeypatch.setattr(DatasetReader, "dataset_mask", dataset_mask)
    _, valid = read_label_image(path, 23, 29)
    assert valid is not None
    assert reads  # the index band was read
    assert all(rows <= STRIP_ROWS for rows, _ in reads), reads
    assert (h, w) not in reads
