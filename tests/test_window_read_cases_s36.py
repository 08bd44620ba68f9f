"""Second review of session 36's lazy site window (r2): ``read_site_window(..., lazy=True)``
gives the valid pixels, mask, pixels and quality the whole read gives on the inputs
tests/test_window_tiles_s36.py does not cover: rotated and skewed geotransforms, a file
in lon/lat, overviews under a coarser grid, alpha bands (declared, undeclared, grey with
alpha), extra bands and ``bands``, a quality mask on another grid or in another CRS,
float data with infinities and a scale that overflows float32, windows that touch the
file's last row and column, lie wholly outside it (no valid pixel), or are one row
high; and ``process_scene`` gives the same outcome both ways on some of them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.enums import ColorInterp
from shapely.geometry.base import BaseGeometry

from imagery_helpers import (
    ORIGIN_X,
    ORIGIN_Y,
    add_cloud,
    image_box_wgs84,
    utm_box_wgs84,
    write_geotiff,
    yard_scene,
)
from railwatch.imagery import assess_quality, read_site_window, site_grid
from railwatch.imagery import quality as quality_module
from railwatch.imagery import read as read_module

H, W = 300, 340
INSIDE = image_box_wgs84(-15, 10, 320, 290)


def _scene(seed: int) -> np.ndarray:
    return add_cloud(yard_scene(H, W, seed=seed), 0.2)


def _rotated(tmp: Path) -> dict[str, Any]:
    t = Affine.translation(ORIGIN_X, ORIGIN_Y) @ Affine.rotation(17) @ Affine.scale(0.5, -0.5)
    uri = write_geotiff(tmp / "rot.tif", _scene(1), transform=t, tiled=True)
    return {
        "uri": uri,
        "geom": utm_box_wgs84(ORIGIN_X + 10, ORIGIN_Y - 150, ORIGIN_X + 130, ORIGIN_Y - 5),
    }


def _skewed(tmp: Path) -> dict[str, Any]:
    t = Affine(0.5, 0.08, ORIGIN_X, 0.05, -0.5, ORIGIN_Y)
    uri = write_geotiff(tmp / "skew.tif", _scene(2).astype(np.uint16) * 40 + 7, transform=t)
    return {
        "uri": uri,
        "geom": utm_box_wgs84(ORIGIN_X + 10, ORIGIN_Y - 150, ORIGIN_X + 130, ORIGIN_Y - 5),
    }


def _lonlat(tmp: Path) -> dict[str, Any]:
    to_wgs = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(ORIGIN_X, ORIGIN_Y)
    t = Affine(6e-6, 0.0, lon, 0.0, -4.5e-6, lat)
    img = _scene(3).astype(np.uint16) * 3 + 1
    uri = write_geotiff(tmp / "geo.tif", img, crs="EPSG:4326", transform=t, tiled=True)
    return {"uri": uri, "geom": image_box_wgs84(-20, 20, 200, 250), "radiometry": "display"}


def _overviews(tmp: Path) -> dict[str, Any]:
    img = np.concatenate([_scene(4), _scene(5)], axis=2)
    uri = write_geotiff(tmp / "ovr.tif", img, res=0.3, overviews=(2, 4), tiled=True)
    return {"uri": uri, "geom": image_box_wgs84(5, 5, 660, 290, res=0.3), "gsd": 1.2}


def _alpha(tmp: Path) -> dict[str, Any]:
    a = np.full((1, H, W), 255, np.uint8)
    a[0, 50:120, 40:200] = 0
    a[0, 200:204] = 128
    return {
        "uri": write_geotiff(tmp / "a.tif", np.concatenate([_scene(6), a]), alpha=True),
        "geom": INSIDE,
    }


def _undeclared_alpha(tmp: Path) -> dict[str, Any]:
    a = np.full((1, H, W), 255, np.uint8)
    a[0, 50:120, 40:200] = 0
    uri = write_geotiff(tmp / "rgba.tif", np.concatenate([_scene(7), a]), tiled=True)
    return {"uri": uri, "geom": INSIDE}


def _grey_alpha(tmp: Path) -> dict[str, Any]:
    a = np.full((1, H, W), 255, np.uint8)
    a[0, :40] = 0
    grey = np.concatenate([_scene(8)[:1], a])
    uri = write_geotiff(tmp / "ga.tif", grey, tiled=True, photometric="MINISBLACK")
    with rasterio.open(uri, "r+") as ds:
        ds.colorinterp = [ColorInterp.gray, ColorInterp.alpha]
    return {"uri": uri, "geom": INSIDE}


def _extra_band(tmp: Path) -> dict[str, Any]:
    img = _scene(9)
    img[:, 100:160, 100:200] = 0  # undeclared black fill
    data = np.concatenate([img, img[:1] // 2])
    uri = write_geotiff(tmp / "rgbn.tif", data, tiled=True, photometric="MINISBLACK")
    with rasterio.open(uri, "r+") as ds:  # red, green, blue and a fourth band, no alpha
        ds.colorinterp = [
            ColorInterp.red,
            ColorInterp.green,
            ColorInterp.blue,
            ColorInterp.undefined,
        ]
    return {"uri": uri, "geom": INSIDE, "bands": (4, 1, 2)}


def _mask_other_grid(tmp: Path) -> dict[str, Any]:
    to51 = Transformer.from_crs("EPSG:32652", "EPSG:32651", always_xy=True)
    x, y = to51.transform(ORIGIN_X - 5, ORIGIN_Y + 5)
    mask = np.zeros((H // 2, W // 2), np.uint8)
    mask[:30] = 1
    mask[60:70] = 2
    mask[100:] = 255
    return {
        "uri": write_geotiff(tmp / "m.tif", _scene(10), tiled=True),
        "mask_uri": write_geotiff(tmp / "m51.tif", mask, res=1.0, crs="EPSG:32651", origin=(x, y)),
        "geom": INSIDE,
    }


def _float_inf(tmp: Path) -> dict[str, Any]:
    img = _scene(11).astype(np.float32) / 255.0
    img[:, :, :30] = np.nan
    img[0, 100:140] = np.inf
    return {
        "uri": write_geotiff(tmp / "inf.tif", img, tiled=True),
        "geom": INSIDE,
        # band 1 times 1e38 overflows float32: fewer finite valid values than valid ones
        "item_scaling": ((1e38, 1.0, 1.0), (0.0, 0.0, 0.0)),
    }


def _edges(tmp: Path, geom: BaseGeometry, dtype: str = "uint8") -> dict[str, Any]:
    img = _scene(12)
    data = img if dtype == "uint8" else img.astype(np.uint16) * 90 + 2
    return {"uri": write_geotiff(tmp / f"e_{dtype}.tif", data, tiled=True), "geom": geom}


CASES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "rotated": _rotated,
    "skewed-u16": _skewed,
    "lonlat-u16-display": _lonlat,
    "overviews-1.2m": _overviews,
    "alpha": _alpha,
    "undeclared-alpha": _undeclared_alpha,
    "grey-alpha": _grey_alpha,
    "extra-band-bands": _extra_band,
    "mask-other-crs": _mask_other_grid,
    "float-inf-overflow": _float_inf,
    "last-row-col": lambda tmp: _edges(tmp, image_box_wgs84(200, 180, W, H)),
    "past-last-row-col-u16": lambda tmp: _edges(
        tmp, image_box_wgs84(200, 180, W + 25, H + 30), "u16"
    ),
    "wholly-outside": lambda tmp: _edges(tmp, image_box_wgs84(W + 50, 10, W + 200, 120)),
    "wholly-outside-u16": lambda tmp: _edges(tmp, image_box_wgs84(W + 50, 10, W + 200, 120), "u16"),
    "one-row": lambda tmp: _edges(tmp, image_box_wgs84(3, 100.2, 330, 100.7)),
    "one-row-u16": lambda tmp: _edges(tmp, image_box_wgs84(3, 100.2, 330, 100.7), "u16"),
    "one-column-u16": lambda tmp: _edges(tmp, image_box_wgs84(100, 3, 101, 290), "u16"),
}


@contextlib.contextmanager
def _bands_of(monkeypatch: pytest.MonkeyPatch, rows: int, width: int) -> Iterator[None]:
    """Bands of ``rows`` rows of the window, a cache of two bands, strips of 11 rows."""
    with monkeypatch.context() as m:
        m.setattr(read_module, "WINDOW_ROWS_PIXELS", rows * width)
        m.setattr(read_module, "WINDOW_CACHE_BYTES", 2 * rows * width * 3)
        m.setattr(quality_module, "BLOCK_PIXELS", 11 * width)
        yield


@pytest.mark.parametrize("case", list(CASES))
def test_lazy_window_equals_the_whole_read(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_module, "_STRETCH_SAMPLE", 997)  # every n-th valid pixel
    options = CASES[case](tmp_path)
    uri, geom = options.pop("uri"), options.pop("geom")
    grid = site_grid(geom, options.pop("gsd", 0.5))
    whole = read_site_window(uri, grid, site_geom=geom, **options)
    expected = assess_quality(whole)
    h, w = grid.shape
    for rows in (1, 5, 64):
        with (
            _bands_of(monkeypatch, rows, w),
            read_site_window(uri, grid, site_geom=geom, lazy=True, **options) as window,
        ):
            assert window.file_offset == whole.file_offset
            assert np.array_equal(window.valid, whole.valid), (case, rows)
            assert np.array_equal(window.inside, whole.inside)
            if whole.mask is None:
                assert window.mask is None
            else:
                assert window.mask is not None and np.array_equal(window.mask, whole.mask)
            assert np.array_equal(window.image[0:h], whole.image), (case, rows)
            assert np.array_equal(window.image[h - 1 : h, w - 3 : w], whole.image[h - 1 :, w - 3 :])
            assert assess_quality(window) == expected, (case, rows)


def test_the_cases_cover_what_they_say(tmp_path: Path) -> None:
    """The edge cases are what they are named: no valid pixel, one row, the last row."""
    for case, check in (
        ("wholly-outside", lambda r: not r.valid.any()),
        ("wholly-outside-u16", lambda r: not r.valid.any()),
        ("one-row", lambda r: r.grid.height == 1 and r.valid.all()),
        ("last-row-col", lambda r: r.valid[-1].all() and r.valid[:, -1].all()),
        ("past-last-row-col-u16", lambda r: not r.valid[-1].any() and r.valid.any()),
        ("alpha", lambda r: not r.valid.all() and r.valid.any()),
        ("float-inf-overflow", lambda r: not r.valid.all()),
        # the black fill no nodata or alpha declares is no data (60 x 100 px, 1,500 m2)
        (
            "extra-band-bands",
            lambda r: not r.valid[92:148, 117:213].any() and r.valid[:88, 20:].all(),
        ),
    ):
        folder = tmp_path / case
        folder.mkdir()
        options = CASES[case](folder)
        uri, geom = options.pop("uri"), options.pop("geom")
        grid = site_grid(geom, options.pop("gsd", 0.5))
        whole = read_site_window(uri, grid, site_geom=geom, **options)
        assert check(whole), case


@pytest.fixture(scope="module")
def default_detector() -> Any:
    from railwatch.detect.registry import get_detector

    return get_detector("default")


@pytest.mark.parametrize("case", ["rotated", "alpha", "wholly-outside-u16", "float-inf-overflow"])
def test_process_scene_lazy_gives_the_whole_reads_outcome(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, default_detector: Any
) -> None:
    from railwatch import pipeline
    from railwatch.pipeline import SceneJob, process_scene

    monkeypatch.setattr(pipeline, "LAZY_WINDOW_PIXELS", 0)  # these windows are small (9806d9e)
    options = CASES[case](tmp_path)
    job = SceneJob(
        scene_id=1,
        uri=str(options.pop("uri")),
        gsd=0.5,
        site_geometry=options.pop("geom"),
        usable_threshold=0.0,  # detected and counted even when cloudy
        mask_uri=None,
        radiometry=options.get("radiometry", "linear"),
        item_scaling=options.get("item_scaling"),
    )
    with _bands_of(monkeypatch, 9, 300):
        by_rows = process_scene(job, default_detector)
    with monkeypatch.context() as m:

        def whole(*args: Any, lazy: bool = False, **kwargs: Any) -> Any:
            assert lazy
            return contextlib.nullcontext(read_site_window(*args, **kwargs))

        m.setattr(pipeline, "read_site_window", whole)
        at_once = process_scene(job, default_detector)
    assert by_rows.error == at_once.error
    assert by_rows.quality == at_once.quality
    assert by_rows.detections == at_once.detections
    assert by_rows.count == at_once.count
    if case != "wholly-outside-u16":
        assert by_rows.detections  # cars found: the tiles were read and compared
