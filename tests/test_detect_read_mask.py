"""The window reader of detect_file: it skips the per-window dataset mask only when every
pixel is valid, and passes band-sequential windows to detectors that take them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window as RioWindow

from railwatch.detect.api import _all_valid, _reader
from railwatch.detect.base import Detection
from railwatch.detect.default import DefaultDetector
from railwatch.detect.model_core import band_planes
from railwatch.detect.tiling import Window
from railwatch.imagery.read import stretch_ranges


@pytest.mark.parametrize(
    ("kind", "all_valid"), [("plain", True), ("nodata", False), ("alpha", False), ("mask", False)]
)
def test_mask_skipped_only_without_nodata_alpha_or_mask(
    tmp_path: Path, kind: str, all_valid: bool
) -> None:
    path = tmp_path / f"{kind}.tif"
    count = 4 if kind == "alpha" else 3
    profile = {
        "driver": "GTiff",
        "width": 64,
        "height": 48,
        "count": count,
        "dtype": "uint8",
        "crs": "EPSG:32652",
        "transform": from_origin(630_000.0, 4_700_000.0, 0.5, 0.5),
    }
    if kind == "nodata":
        profile["nodata"] = 0
    if kind == "alpha":
        profile.update(photometric="RGB", alpha="YES")
    data = np.full((count, 48, 64), 90, np.uint8)
    data[:, :, :10] = 0  # nodata / transparent / masked columns
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
        if kind == "mask":
            m = np.full((48, 64), 255, np.uint8)
            m[:, :10] = 0
            ds.write_mask(m)
    with rasterio.open(path) as ds:
        assert _all_valid(ds) is all_valid
        img, valid = _reader(ds, [1, 2, 3], None)(Window(0, 0, 64, 48))
        expected = ds.dataset_mask(window=RioWindow(0, 0, 64, 48)) > 0
    assert img.shape == (48, 64, 3)
    if all_valid:
        assert valid is None and expected.all()
    else:
        assert valid is not None and np.array_equal(valid, expected) and not valid[:, :10].any()


@pytest.mark.parametrize("kind", ["plain", "nodata", "uint16"])
def test_planar_reads_give_the_pixels_of_interleaved_reads(tmp_path: Path, kind: str) -> None:
    """The reader for detectors with PLANAR_INPUT returns the (h, w, 3) view of the bands
    as read (band-sequential memory), with the same pixel values and mask as the
    interleaved reader."""
    rng = np.random.default_rng(3)
    dtype = "uint16" if kind == "uint16" else "uint8"
    data = rng.integers(0, 4000 if kind == "uint16" else 256, (3, 70, 90)).astype(dtype)
    profile = {
        "driver": "GTiff",
        "width": 90,
        "height": 70,
        "count": 3,
        "dtype": dtype,
        "crs": "EPSG:32652",
        "transform": from_origin(630_000.0, 4_700_000.0, 0.5, 0.5),
    }
    if kind == "nodata":
        profile["nodata"] = 0
        data[:, :5] = 0
    path = tmp_path / f"{kind}.tif"
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
    with rasterio.open(path) as ds:
        scale = stretch_ranges(ds, [1, 2, 3])
        win = Window(7, 3, 61, 52)
        a, va = _reader(ds, [1, 2, 3], scale)(win)
        b, vb = _reader(ds, [1, 2, 3], scale, planar=True)(win)
    assert a.shape == b.shape == (52, 61, 3) and a.dtype == b.dtype == np.uint8
    assert np.array_equal(a, b)
    assert band_planes(b) is not None and band_planes(a) is None
    if va is None:
        assert vb is None
    else:
        assert vb is not None and np.array_equal(va, vb)


class _Interleaved:
    """The default detector seen without PLANAR_INPUT: detect_file interleaves its tiles."""

    def __init__(self, detector: DefaultDetector) -> None:
        self.inner, self.name, self.version = detector, detector.name, detector.version
        self.tile_px = 400
        self.tile_alignment = detector.tile_alignment  # its tiles where the planar one's are

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        assert band_planes(image) is None
        return self.inner.detect(image, gsd, valid)


class _Planar(DefaultDetector):
    """The default detector, checking that it is given views of band-sequential tiles."""

    tile_px = 400

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        assert band_planes(image) is not None
        return super().detect(image, gsd, valid)


@pytest.mark.parametrize(("nodata", "gsd"), [(False, 0.5), (True, 0.5), (False, 0.3)])
def test_detect_file_gives_the_same_cars_from_planar_tiles(
    tmp_path: Path, nodata: bool, gsd: float
) -> None:
    """detect_file passes the default detector its windows as read (band-sequential,
    since 2026-12-03) and finds the same cars, bit for bit, as from interleaved windows:
    several tiles and seams, with and without a nodata mask, at the working scale and
    resampled to it."""
    from railwatch.detect.api import detect_file
    from railwatch.detect.model_synth import draw_yard

    img, _ = draw_yard(np.random.default_rng(8), 400.0, gsd, occupied=True)
    img = np.ascontiguousarray(img[:700, :760])
    data = np.ascontiguousarray(img.transpose(2, 0, 1))
    profile = {
        "driver": "GTiff",
        "width": img.shape[1],
        "height": img.shape[0],
        "count": 3,
        "dtype": "uint8",
        "crs": "EPSG:32652",
        "transform": from_origin(630_000.0, 4_700_000.0, gsd, gsd),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    if nodata:
        profile["nodata"] = 0
        data[:, :, :90] = 0
    path = tmp_path / "yard.tif"
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
    planar = detect_file(path, detector=_Planar(), workers=2)
    interleaved = detect_file(path, detector=_Interleaved(DefaultDetector()), workers=2)
    assert len(planar.detections) > 20
    assert planar.detections == interleaved.detections
    assert [d.extra for d in planar.detections] == [d.extra for d in interleaved.detections]
