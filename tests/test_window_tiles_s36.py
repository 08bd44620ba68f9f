"""The site window read from its file strip by strip and tile by tile (session 36,
bounded memory of ``railwatch process`` at 0.3-1.5 m): ``read_site_window(..., lazy=True)``
gives the pixels, validity, mask and quality the whole read gives, whatever the height
of its bands of rows, and ``process_scene`` gives the same boxes, quality and counts as
with the whole window read at once."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from imagery_helpers import (
    ORIGIN_X,
    ORIGIN_Y,
    add_cloud,
    image_box_wgs84,
    write_geotiff,
    yard_scene,
)
from railwatch.imagery import assess_quality, read_site_window, site_grid
from railwatch.imagery import quality as quality_module
from railwatch.imagery import read as read_module

H, W = 620, 700


def _scene(seed: int = 0) -> np.ndarray:
    img = add_cloud(yard_scene(H, W, seed=seed), 0.15)
    img[:, 400:470, 300:420] = (img[:, 400:470, 300:420] * 0.45 + 205 * 0.55).astype(np.uint8)
    return img


def _u8_nodata(tmp: Path) -> dict[str, Any]:
    img = _scene()
    img[:, 500:560, :90] = 0  # no data the file declares
    return {"uri": write_geotiff(tmp / "u8.tif", img, nodata=0, tiled=True)}


def _u8_fill(tmp: Path) -> dict[str, Any]:
    img = _scene(1)
    img[:, 100:160, 200:280] = 0  # a black fill the file does not declare (1,200 m²)
    img[:, 300:303, 10:14] = 0  # a small black patch: ground
    # small black patches on the image's edges: fill with the zeros outside it, where the
    # window reaches past the image
    img[:, 450:455, 0:3] = 0
    img[:, H - 3 :, 100:104] = 0
    return {"uri": write_geotiff(tmp / "fill.tif", img, tiled=True)}


def _u8_mask(tmp: Path) -> dict[str, Any]:
    mask = np.zeros((H, W), np.uint8)
    mask[:120] = 1
    mask[120:150, 100:400] = 2
    mask[300:330] = 4
    mask[590:] = 255
    return {
        "uri": write_geotiff(tmp / "m.tif", _scene(2), tiled=True),
        "mask_uri": write_geotiff(tmp / "m_mask.tif", mask),
    }


def _reprojected(tmp: Path) -> dict[str, Any]:
    """The scene in UTM zone 51 (the site's grid is in zone 52: rotated, resampled)."""
    to51 = Transformer.from_crs("EPSG:32652", "EPSG:32651", always_xy=True)
    x, y = to51.transform(ORIGIN_X - 40, ORIGIN_Y + 40)
    img = _scene(3)
    return {
        "uri": write_geotiff(
            tmp / "z51.tif", img, crs="EPSG:32651", origin=(x, y), res=0.6, tiled=True
        )
    }


def _u16(tmp: Path, radiometry: str) -> dict[str, Any]:
    img = _scene(4).astype(np.uint16) * 37 + 500
    img[:, :40, :] = 0
    return {
        "uri": write_geotiff(tmp / f"u16{radiometry}.tif", img, nodata=0, tiled=True),
        "radiometry": radiometry,
        "item_scaling": ((0.5, 0.25, 2.0), (10.0, 0.0, -100.0)),
    }


def _float_nan(tmp: Path) -> dict[str, Any]:
    img = _scene(5).astype(np.float32) / 255.0
    img[:, 200:260, 500:] = np.nan
    return {"uri": write_geotiff(tmp / "f32.tif", img, tiled=True)}


def _palette(tmp: Path) -> dict[str, Any]:
    path = write_geotiff(tmp / "pal.tif", (_scene(6)[0] // 16).astype(np.uint8))
    with rasterio.open(path, "r+") as ds:
        ds.write_colormap(1, {i: (i * 16, 255 - i * 16, (i * 40) % 256, 255) for i in range(12)})
    return {"uri": path}


CASES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "u8-nodata": _u8_nodata,
    "u8-undeclared-fill": _u8_fill,
    "u8-mask": _u8_mask,
    "reprojected": _reprojected,
    "u16-linear-scaled": lambda tmp: _u16(tmp, "linear"),
    "u16-display-scaled": lambda tmp: _u16(tmp, "display"),
    "float-nan": _float_nan,
    "palette": _palette,
}
#: Site windows in the file's pixels: corner on the file's pixel grid but off its 256 px
#: tiles, a corner between pixels, one partly outside the image.
SITES: dict[str, BaseGeometry] = {
    "off-tiles": image_box_wgs84(37, 41, 611, 590),
    "between-pixels": image_box_wgs84(12.3, 20.7, 540.2, 600.6),
    "partly-outside": image_box_wgs84(-90, 380, 420, 760),
}


@contextlib.contextmanager
def _small_bands(monkeypatch: pytest.MonkeyPatch, rows: int, cache_rows: int) -> Iterator[None]:
    """Bands of ``rows`` rows, ``cache_rows`` of them kept, and quality strips of 23 rows,
    so that every strip and tile spans bands, some read again."""
    with monkeypatch.context() as m:
        m.setattr(read_module, "WINDOW_ROWS_PIXELS", rows * 800)
        m.setattr(read_module, "WINDOW_CACHE_BYTES", cache_rows * 800 * 3)
        m.setattr(quality_module, "BLOCK_PIXELS", 23 * 600)
        yield


@pytest.mark.parametrize("site", list(SITES))
@pytest.mark.parametrize("case", list(CASES))
def test_window_read_by_rows_equals_the_whole_read(
    case: str, site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # few pixels in the stretch's sample, so that it takes every n-th valid pixel
    monkeypatch.setattr(read_module, "_STRETCH_SAMPLE", 5_000)
    options = CASES[case](tmp_path)
    uri = options.pop("uri")
    geom = SITES[site]
    grid = site_grid(geom, 0.5)
    whole = read_site_window(uri, grid, site_geom=geom, **options)
    assert whole.valid.any()
    expected = assess_quality(whole)
    h, w = grid.shape
    for rows, cache_rows in ((1, 1), (7, 20), (64, 1000)):
        with (
            _small_bands(monkeypatch, rows, cache_rows),
            read_site_window(uri, grid, site_geom=geom, lazy=True, **options) as window,
        ):
            assert window.file_offset == whole.file_offset
            assert np.array_equal(window.valid, whole.valid)
            assert np.array_equal(window.inside, whole.inside)
            if whole.mask is None:
                assert window.mask is None
            else:
                assert window.mask is not None and np.array_equal(window.mask, whole.mask)
            assert window.image.shape == whole.image.shape
            assert np.array_equal(window.image[0:h], whole.image), (case, site, rows)
            for a, b, c, d in ((5, 90, 17, 300), (h - 33, h + 9, w - 70, w), (40, 41, 0, w)):
                assert np.array_equal(window.image[a:b, c:d], whole.image[a:b, c:d])
            assert assess_quality(window) == expected, (case, site, rows)


def test_a_window_image_is_indexed_by_plain_slices_only(tmp_path: Path) -> None:
    uri = _u8_nodata(tmp_path)["uri"]
    geom = SITES["off-tiles"]
    with read_site_window(uri, site_grid(geom, 0.5), site_geom=geom, lazy=True) as window:
        with pytest.raises(TypeError, match="slices of step 1"):
            window.image[::2]
        with pytest.raises(TypeError, match="indexed by slices"):
            window.image[3]  # type: ignore[index]
        tile = window.image[10:20, 5:9]
        tile[:] = 0  # a copy: the window's rows are not changed
        assert window.image[10:20, 5:9].any()


def test_a_corrupt_file_read_by_rows_says_what_to_do(tmp_path: Path) -> None:
    uri = write_geotiff(tmp_path / "cut.tif", _scene(), tiled=True)
    data = uri.read_bytes()
    uri.write_bytes(data[: len(data) // 2])
    geom = SITES["off-tiles"]
    with pytest.raises(read_module.ImageryError, match=r"corrupt or truncated.*re-download"):
        read_site_window(uri, site_grid(geom, 0.5), site_geom=geom, lazy=True)


@pytest.fixture(scope="module")
def default_detector() -> Any:
    from railwatch.detect.registry import get_detector

    return get_detector("default")


@pytest.mark.parametrize(
    ("case", "site"),
    [
        ("u8-nodata", "off-tiles"),
        ("u8-mask", "partly-outside"),
        ("reprojected", "between-pixels"),
        ("u16-linear-scaled", "off-tiles"),
    ],
)
def test_process_scene_by_tiles_gives_what_the_whole_read_gives(
    case: str,
    site: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    default_detector: Any,
) -> None:
    from railwatch import pipeline
    from railwatch.pipeline import SceneJob, process_scene

    monkeypatch.setattr(pipeline, "LAZY_WINDOW_PIXELS", 0)  # these windows are small
    options = CASES[case](tmp_path)
    job = SceneJob(
        scene_id=1,
        uri=str(options.pop("uri")),
        gsd=0.5,
        site_geometry=SITES[site],
        usable_threshold=0.3,
        mask_uri=str(options["mask_uri"]) if "mask_uri" in options else None,
        radiometry=options.get("radiometry", "linear"),
        item_scaling=options.get("item_scaling"),
    )
    with _small_bands(monkeypatch, 9, 40):
        by_tiles = process_scene(job, default_detector)
    with monkeypatch.context() as m:  # the whole window read at once, as until session 36

        def whole(*args: Any, lazy: bool = False, **kwargs: Any) -> Any:
            assert lazy  # the scene at 0.5 m is read lazily
            return contextlib.nullcontext(read_site_window(*args, **kwargs))

        m.setattr(pipeline, "read_site_window", whole)
        at_once = process_scene(job, default_detector)
    assert by_tiles.error is None and at_once.error is None
    assert by_tiles.quality == at_once.quality
    assert by_tiles.quality is not None and by_tiles.quality.usable
    assert by_tiles.detections == at_once.detections
    assert len(by_tiles.detections) > 10
    assert by_tiles.count == at_once.count


def test_a_window_keeps_at_most_its_cache_of_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = _u8_nodata(tmp_path)["uri"]
    geom = SITES["off-tiles"]
    grid = site_grid(geom, 0.5)
    with (
        _small_bands(monkeypatch, 10, 50),
        read_site_window(uri, grid, site_geom=geom, lazy=True) as window,
    ):
        assess_quality(window)
        window._cache.clear()
        reads: list[int] = []
        real = window._read

        def counted(a: int, b: int) -> np.ndarray:
            reads.append(a)
            return real(a, b)

        monkeypatch.setattr(window, "_read", counted)
        for top in range(0, grid.height, 60):  # rows of tiles 80 px high, 20 overlapping
            for left in range(0, grid.width, 60):
                window.image[top : top + 80, left : left + 80]
        # each band of rows read from the file once, not once per tile of its row
        assert sorted(reads) == sorted(set(reads)) and len(reads) == -(-grid.height // window._rows)
        window.image[0 : grid.height]  # held up to 4 times the cache, not the whole window
        held = sum(rows.nbytes for rows in window._cache.values())
        assert held <= 4 * 50 * 800 * 3 < grid.height * grid.width * 3


def test_connected_components_fall_back_to_four_byte_labels() -> None:
    """Labels of 2 bytes where they fit, else 4 (OpenCV refuses 2 then); the same
    regions either way."""
    many = np.zeros((600, 600), np.uint8)
    many[::2, ::2] = 1  # 90,000 regions
    count, labels = quality_module._components(many, 8)
    assert count == 90_001 and labels.dtype == np.int32
    few = many.copy()
    few[:300] = 1
    count, labels, stats, _ = quality_module._components(few, 8, stats=True)
    assert labels.dtype == np.uint16
    import cv2

    count32, labels32, stats32, _ = cv2.connectedComponentsWithStats(few, connectivity=8)
    assert count == count32 and np.array_equal(labels, labels32)
    assert np.array_equal(stats, stats32)
