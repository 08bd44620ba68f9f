"""Memory of the detection step of ``railwatch process`` on a large site window
(session 38): while the tiles of a window read from its file are detected, GDAL's block
cache is bounded (``detect.api.WINDOW_GDAL_CACHE_MB``) and the C heap's free pages are
given back to the system as each tile is read (``detect.api._trim_heap``). Neither may
change a pixel, a mask or a detection: the tiles a detector is handed from a window
read by rows are the whole-array slices of the window read at once, for windows of
several shapes and angles, cut by tile borders, with no-data holes on tile seams, and
``process_scene`` gives the same boxes, quality and counts."""

from __future__ import annotations

import contextlib
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.env import get_gdal_config
from shapely import affinity
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from imagery_helpers import image_box_wgs84, write_geotiff, yard_scene
from railwatch.detect import api
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.tiling import plan_tiles
from railwatch.imagery import read as read_module
from railwatch.imagery import read_site_window, site_grid
from railwatch.imagery.inspect import gdal_env
from test_window_tiles_s36 import CASES, default_detector  # noqa: F401

H, W = 620, 700
TILE = 128  # tiles of the recording detector: 5-6 across these windows
GSD = 0.5


class Recorder:
    """A detector that keeps what it is handed (pixels, valid mask, GDAL's cache setting)
    and finds one "car" per tile at its brightest valid pixel, so that a wrong pixel or
    mask shows in its detections too."""

    name = "recorder"
    version = "1"

    def __init__(self) -> None:
        self.tiles: list[tuple[np.ndarray, np.ndarray | None]] = []
        self.cache: list[str | int | None] = []

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        self.tiles.append((image.copy(), None if valid is None else valid.copy()))
        self.cache.append(get_gdal_config("GDAL_CACHEMAX"))
        lum = image.astype(np.int64).sum(axis=2)
        if valid is not None:
            lum = np.where(valid, lum, -1)
        r, c = np.unravel_index(int(np.argmax(lum)), lum.shape)
        box = OrientedBox(float(c) + 0.5, float(r) + 0.5, 12.0, 5.0, 0.0)
        return [Detection(box, score=float(lum[r, c]) / 765.0)]


def _holes_on_seams(tmp: Path) -> dict[str, Any]:
    """No data (declared 0) in stripes across the seams of 128 px tiles and a block
    without any data (its tiles skipped), in the file's pixels."""
    img = yard_scene(H, W, seed=7)
    img[img == 0] = 1  # no pixel of the scene itself is no data
    img[:, :, 86:134] = 0  # a column stripe over the first column seam
    img[:, 170:178, :] = 0  # a row stripe over a row seam
    img[:, 300:520, 420:700] = 0  # a block with no data: whole tiles of it skipped
    img[:, 440:443, 200:203] = 0  # a hole of a few pixels
    return {"uri": write_geotiff(tmp / "holes.tif", img, nodata=0, tiled=True)}


WINDOW_CASES = {
    "holes-on-seams": _holes_on_seams,
    "u8-undeclared-fill": CASES["u8-undeclared-fill"],
    "reprojected": CASES["reprojected"],
    "u16-linear-scaled": CASES["u16-linear-scaled"],
}


def _rotated(col0: float, row0: float, col1: float, row1: float, angle: float) -> Polygon:
    return affinity.rotate(image_box_wgs84(col0, row0, col1, row1), angle, origin="centroid")


#: Sites in the file's pixels: off the file's tiles, rotated (so that the site polygon's
#: edge crosses tile borders at an angle), a triangle, partly outside the image.
SITES: dict[str, BaseGeometry] = {
    "off-tiles": image_box_wgs84(37, 41, 611, 590),
    "rotated-20": _rotated(60, 50, 640, 560, 20.0),
    "triangle": Polygon(
        [
            image_box_wgs84(20, 30, 21, 31).centroid.coords[0],
            image_box_wgs84(690, 100, 691, 101).centroid.coords[0],
            image_box_wgs84(150, 600, 151, 601).centroid.coords[0],
        ]
    ),
    "partly-outside": image_box_wgs84(-90, 380, 420, 760),
}


def _expected_tiles(
    image: np.ndarray, valid: np.ndarray, origin: tuple[int, int]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The tiles of the whole arrays, straight from their slices (a detector that names
    no alignment: tiles moved back inside at the edges, not padded)."""
    h, w = valid.shape
    plan = plan_tiles(w, h, GSD, tile_px=TILE, origin=origin, shift_edges=True)
    out = []
    for win in plan.windows:
        rows, cols = win.slices()
        if valid[rows, cols].any():
            out.append((image[rows, cols], valid[rows, cols]))
    return out


def _detect(image: Any, valid: np.ndarray, origin: tuple[int, int] | None) -> Recorder:
    rec = Recorder()
    api.detect_array(
        image, GSD, detector=rec, valid=valid, tile_px=TILE, workers=1, origin=origin or (0, 0)
    )
    return rec


@pytest.mark.parametrize("site", list(SITES))
@pytest.mark.parametrize("case", list(WINDOW_CASES))
def test_tiles_of_a_window_read_by_rows_are_the_whole_arrays_slices(
    case: str, site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = WINDOW_CASES[case](tmp_path)
    uri = options.pop("uri")
    geom = SITES[site]
    grid = site_grid(geom, GSD)
    whole = read_site_window(uri, grid, site_geom=geom, **options)
    valid = whole.valid & whole.inside  # a mask that differs from the data's
    expected = _expected_tiles(whole.image, valid, whole.file_offset or (0, 0))
    assert len(expected) >= 6, "the window should span several tiles with data"
    at_once = _detect(whole.image, valid, whole.file_offset)
    # bands of 9 rows, 40 of them kept: tiles span bands, some read from the file again
    monkeypatch.setattr(read_module, "WINDOW_ROWS_PIXELS", 9 * grid.width)
    monkeypatch.setattr(read_module, "WINDOW_CACHE_BYTES", 40 * grid.width * 3)
    with read_site_window(uri, grid, site_geom=geom, lazy=True, **options) as window:
        assert np.array_equal(window.valid, whole.valid)
        assert np.array_equal(window.inside, whole.inside)
        by_rows = _detect(window.image, window.valid & window.inside, window.file_offset)
    for rec in (at_once, by_rows):
        assert len(rec.tiles) == len(expected), (case, site)
        for k, ((img, ok), (img0, ok0)) in enumerate(zip(rec.tiles, expected, strict=True)):
            assert ok is not None
            assert img.shape == img0.shape and np.array_equal(img, img0), (case, site, k)
            assert np.array_equal(ok, ok0), (case, site, k)


def test_an_off_by_one_tile_would_be_seen() -> None:
    """The comparison above tells a tile one pixel off from the right one, in its
    pixels and in its mask (the test's own check)."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (300, 300, 3), dtype=np.uint8)
    valid = rng.random((300, 300)) > 0.3
    tiles = _expected_tiles(image, valid, (0, 0))
    shifted = _expected_tiles(image[1:], valid[1:], (0, 1))
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(tiles, shifted, strict=False))
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(tiles, shifted, strict=False))


def _window(tmp_path: Path) -> tuple[Path, BaseGeometry]:
    uri = _holes_on_seams(tmp_path)["uri"]
    return uri, SITES["off-tiles"]


def test_the_block_cache_is_bounded_while_a_window_s_tiles_are_read(tmp_path: Path) -> None:
    uri, geom = _window(tmp_path)
    grid = site_grid(geom, GSD)
    want = min(
        api.GDAL_CACHE_MB * 2**20,
        max(api.WINDOW_GDAL_CACHE_MB * 2**20, 2 * 512 * grid.width * 4),
    )
    assert want < 128 * 2**20
    with read_site_window(uri, grid, site_geom=geom, lazy=True) as window:
        held = get_gdal_config("GDAL_CACHEMAX")
        assert held == 128 * 2**20  # the window's reads run under railwatch's settings
        rec = _detect(window.image, window.valid, window.file_offset)
        assert rec.cache and set(rec.cache) == {want}
        assert get_gdal_config("GDAL_CACHEMAX") == held  # restored after
        # the same pixels read again afterwards, under the restored cache
        assert window.image[0:40, 0:40].any()


def test_the_block_cache_grows_with_the_window_s_width_up_to_railwatch_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def bound(width: int) -> int:
        wide = object.__new__(read_module.WindowImage)  # only its shape is asked for
        with monkeypatch.context() as m:
            m.setattr(read_module.WindowImage, "shape", property(lambda self: (10, width, 3)))
            with gdal_env(), api._window_block_cache(wide):
                return int(get_gdal_config("GDAL_CACHEMAX"))

    assert bound(2_000) == api.WINDOW_GDAL_CACHE_MB * 2**20
    assert bound(12_000) == 2 * 512 * 12_000 * 4  # 49 MB: two rows of 512 px blocks
    assert bound(40_000) == api.GDAL_CACHE_MB * 2**20
    with gdal_env(), api._window_block_cache(np.zeros((10, 40_000, 3), np.uint8)):
        assert get_gdal_config("GDAL_CACHEMAX") == 128 * 2**20  # an array: unchanged


def test_the_heap_is_trimmed_as_each_tile_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trims: list[int] = []

    def trim(pad: int) -> int:
        trims.append(pad)
        return 1

    monkeypatch.setattr(api, "_MALLOC_TRIM", trim)
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (400, 500, 3), dtype=np.uint8)
    valid = np.ones((400, 500), bool)
    valid[:, :200] = False  # tiles without data are read (and trimmed before) too
    rec = _detect(image, valid, None)
    plan = plan_tiles(500, 400, GSD, tile_px=TILE, shift_edges=True)
    assert trims == [0] * (len(plan.windows) + 1)  # before each tile's read, once after
    assert 0 < len(rec.tiles) < len(plan.windows)


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="malloc_trim is glibc's",
)
def test_glibc_s_malloc_trim_is_found() -> None:
    assert api._MALLOC_TRIM is not None
    assert api._MALLOC_TRIM(0) in (0, 1)


def test_process_scene_with_holes_on_tile_seams_gives_what_the_whole_read_gives(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    default_detector: Any,  # noqa: F811
) -> None:
    from railwatch import pipeline
    from railwatch.pipeline import SceneJob, process_scene

    monkeypatch.setattr(pipeline, "LAZY_WINDOW_PIXELS", 0)  # these windows are small
    uri, _ = _window(tmp_path)
    trimmed = 0
    real = api._trim_heap

    def counted() -> None:
        nonlocal trimmed
        trimmed += 1
        real()

    for site in ("rotated-20", "off-tiles"):
        job = SceneJob(
            scene_id=1, uri=str(uri), gsd=GSD, site_geometry=SITES[site], usable_threshold=0.3
        )
        trimmed = 0
        with monkeypatch.context() as m:
            m.setattr(api, "_trim_heap", counted)
            m.setattr(read_module, "WINDOW_ROWS_PIXELS", 9 * 800)
            by_tiles = process_scene(job, default_detector)
        assert trimmed > 0  # the window was detected tile by tile, bounded
        with monkeypatch.context() as m:  # the whole window read at once

            def whole(*args: Any, lazy: bool = False, **kwargs: Any) -> Any:
                assert lazy
                return contextlib.nullcontext(read_site_window(*args, **kwargs))

            m.setattr(pipeline, "read_site_window", whole)
            m.setattr(api, "WINDOW_GDAL_CACHE_MB", api.GDAL_CACHE_MB)
            with rasterio.Env(GDAL_CACHEMAX=api.GDAL_CACHE_MB * 2**20):
                at_once = process_scene(job, default_detector)
        assert by_tiles.error is None and at_once.error is None, site
        assert by_tiles.quality == at_once.quality
        assert by_tiles.detections == at_once.detections
        assert len(by_tiles.detections) > 5
        assert by_tiles.count == at_once.count


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (8, 8), (33, 5)])
def test_a_window_s_inside_is_packed_while_detected_and_restored_as_it_was(
    shape: tuple[int, int],
) -> None:
    from railwatch.pipeline import _inside_packed

    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    inside = rng.random(shape) > 0.5
    window = object.__new__(read_module.SiteWindow)  # only its inside is used
    window.inside = inside.copy()
    with _inside_packed(window):
        assert window.inside.nbytes == 0  # not held at a byte a pixel meanwhile
    assert window.inside.dtype == bool and np.array_equal(window.inside, inside)
    with pytest.raises(RuntimeError, match="tile failed"), _inside_packed(window):
        raise RuntimeError("tile failed")
    assert np.array_equal(window.inside, inside)  # also after a failure
    raster = read_module.SiteRaster(
        image=np.zeros((*shape, 3), np.uint8),
        valid=inside,
        inside=inside,
        mask=None,
        grid=None,  # type: ignore[arg-type]
        file_offset=None,
    )
    with _inside_packed(raster):  # a window read whole: left as it is
        assert raster.inside is inside


def test_process_scene_holds_no_byte_a_pixel_inside_while_detecting(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    default_detector: Any,  # noqa: F811
) -> None:
    from railwatch import pipeline
    from railwatch.pipeline import SceneJob, process_scene

    monkeypatch.setattr(pipeline, "LAZY_WINDOW_PIXELS", 0)
    uri, geom = _window(tmp_path)
    opened: list[read_module.SiteWindow] = []
    seen: list[int] = []
    real_read, real_detect = pipeline.read_site_window, api.detect_array

    def read(*args: Any, **kwargs: Any) -> Any:
        window = real_read(*args, **kwargs)
        opened.append(window)
        return window

    def detect(*args: Any, **kwargs: Any) -> list[Detection]:
        seen.append(opened[-1].inside.nbytes)
        return real_detect(*args, **kwargs)

    monkeypatch.setattr(pipeline, "read_site_window", read)
    monkeypatch.setattr(api, "detect_array", detect)
    job = SceneJob(scene_id=1, uri=str(uri), gsd=GSD, site_geometry=geom, usable_threshold=0.3)
    outcome = process_scene(job, default_detector)
    assert outcome.error is None and outcome.detections
    assert seen == [0]
    whole = real_read(uri, site_grid(geom, GSD), site_geom=geom)
    assert np.array_equal(opened[0].inside, whole.inside)  # given back for the count
