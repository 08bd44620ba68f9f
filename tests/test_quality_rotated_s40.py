"""A clear scene is judged clear however its file is gridded (2026-12-06, session 40).

Every scene is warped to its site's grid bilinear. Where the file's pixels are not the
grid's (a rotated geotransform, or a north-up image whose corner is not on a multiple
of the pixel size), that resampling smooths the darkest pixels, the local contrast and
the colours that the quality estimate tells haze by: a clear simulated 3 m scene
(temperate, seed 7) was 100 % clear, but 78 % ("haze covers 22 %", unusable) half a
pixel off the grid and 81 % with its geotransform rotated by 20 degrees. The estimate
now reads the file's own pixels (nearest) where the grid is resampled
(``SiteRaster.sharp``, ``imagery.read.pixels_of``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.warp import transform_bounds

import railwatch
from railwatch.imagery.quality import assess_quality
from railwatch.imagery.read import read_site_window, site_grid


def _copy(src: Path, dst: Path, change: Affine, dtype: str = "uint8") -> Path:
    """``src``'s RGB with its geotransform times ``change`` (no quality mask beside it)."""
    with rasterio.open(src) as s:
        data = s.read([1, 2, 3])
        crs, transform = s.crs, s.transform
    if dtype != "uint8":
        data = data.astype(dtype) * 16  # 12-bit-like linear data
    profile = {
        "driver": "GTiff",
        "width": data.shape[2],
        "height": data.shape[1],
        "count": 3,
        "dtype": dtype,
        "crs": crs,
        "transform": transform @ change,
    }
    with rasterio.open(dst, "w", **profile) as d:
        d.write(data)
    return dst


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, railwatch.SiteSpec]:
    folder = tmp_path_factory.mktemp("rotated")
    params = railwatch.SceneParams(seed=7, gsd=3.0, size_px=(200, 200), style="temperate")
    path = Path(railwatch.write_scene(railwatch.render_scene(params), folder, "yard").image)
    with rasterio.open(path) as s:
        w, so, e, n = transform_bounds(s.crs, "EPSG:4326", *s.bounds)
    # the middle half of the scene: inside the rotated copies' footprint too
    cx, cy, hw, hh = (w + e) / 2, (so + n) / 2, (e - w) / 4, (n - so) / 4
    site = railwatch.site_from_bbox("yard", (cx - hw, cy - hh, cx + hw, cy + hh))
    return path, site


def _rotation(path: Path, degrees: float) -> Affine:
    with rasterio.open(path) as s:
        cx, cy = s.width / 2, s.height / 2
    return Affine.translation(cx, cy) @ Affine.rotation(degrees) @ Affine.translation(-cx, -cy)


def test_clear_scene_is_clear_off_the_grid(
    scene: tuple[Path, railwatch.SiteSpec], tmp_path: Path
) -> None:
    path, site = scene
    plain = _copy(path, tmp_path / "plain.tif", Affine.identity())
    original = railwatch.assess_file(plain, site)
    assert original.usable and original.clear_fraction > 0.99
    copies = {
        "half a pixel off": _copy(path, tmp_path / "shift.tif", Affine.translation(0.5, 0.5)),
        "rotated 20 degrees": _copy(path, tmp_path / "rot.tif", _rotation(path, 20.0)),
        "rotated 45 degrees": _copy(path, tmp_path / "rot45.tif", _rotation(path, 45.0)),
    }
    for what, copy in copies.items():
        q = railwatch.assess_file(copy, site)
        assert q.usable, (what, q.reasons)
        assert q.haze_fraction < 0.01, (what, q.reasons)
        assert q.clear_fraction == pytest.approx(original.clear_fraction, abs=0.01), what


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_window_and_whole_read_give_the_same_sharp_pixels(
    scene: tuple[Path, railwatch.SiteSpec], tmp_path: Path, dtype: str
) -> None:
    path, site = scene
    rotated = _copy(path, tmp_path / f"rot_{dtype}.tif", _rotation(path, 20.0), dtype)
    grid = site_grid(site.geometry, 3.0)
    whole = read_site_window(rotated, grid, site_geom=site.geometry)
    assert whole.file_offset is None and whole.sharp is not None
    # the nearest pixels are the file's own values: a uint8 file's are among its pixels
    with rasterio.open(rotated) as s:
        values = s.read([1, 2, 3]).reshape(3, -1).T
    ok = whole.valid
    if dtype == "uint8":
        own = {tuple(v) for v in values.tolist()}
        got = whole.sharp[ok]
        assert all(tuple(v) in own for v in got[:: max(1, len(got) // 500)].tolist())
        # and not the bilinear image
        assert not np.array_equal(whole.sharp[ok], whole.image[ok])
    with read_site_window(rotated, grid, site_geom=site.geometry, lazy=True) as window:
        assert window.sharp is not None
        h = grid.height
        np.testing.assert_array_equal(window.sharp[0:h], whole.sharp)
        np.testing.assert_array_equal(window.image[0:h], whole.image)
        np.testing.assert_array_equal(window.sharp[10:40, 5:60], whole.sharp[10:40, 5:60])
        a, b = assess_quality(window), assess_quality(whole)
        assert a == b
    if dtype == "uint8":  # (16-bit data is judged on its stretch: another image)
        assert b.usable and b.haze_fraction < 0.01, b.reasons


def test_file_on_the_grid_has_no_second_image(scene: tuple[Path, railwatch.SiteSpec]) -> None:
    path, site = scene
    raster = read_site_window(path, site_grid(site.geometry, 3.0), site_geom=site.geometry)
    assert raster.file_offset is not None
    assert raster.sharp is None


def test_track_lines_are_found_off_the_grid(
    scene: tuple[Path, railwatch.SiteSpec], tmp_path: Path
) -> None:
    # the occupied-length count reads only the pixels not estimated cloud or haze: half
    # a pixel off the grid, 22 % of the site read as haze and no track line was found
    from railwatch.counting import count_scene

    path, site = scene
    grid = site_grid(site.geometry, 3.0)
    found = {}
    for what, change in (("on", Affine.identity()), ("off", Affine.translation(0.5, 0.5))):
        copy = _copy(path, tmp_path / f"{what}.tif", change)
        raster = read_site_window(copy, grid, site_geom=site.geometry)
        counted = count_scene([], raster, assess_quality(raster))
        found[what] = counted.track_m
    assert found["on"] is not None and found["on"] > 100
    assert found["off"] == pytest.approx(found["on"], rel=0.1)
