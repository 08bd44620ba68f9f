"""A night 16-bit image is a gap, not a low count (review r3, 2026-12-06, session 39).

Linear 16-bit data is stretched per band to full contrast before the quality step sees
it, so a 12-bit yard at 3 % exposure (its brightest band's 99th percentile about 89 of
4095) read as a clear daylight image and review r3's run counted 14 of the 45 railcars
of its daylight copy. Its exposure is now measured on the stored values, before the
stretch (:class:`railwatch.imagery.read.Exposure`), and under
:data:`~railwatch.imagery.quality.MIN_EXPOSURE_FRACTION` of the 12-bit range the scene
is unusable and says it is under-exposed; a normal linear 12-bit image (that uses a
third of the range, as many real products use 11-12 bits) and the same night image
declared display-encoded are judged as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.transform import array_bounds
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from railwatch.imagery import assess_quality
from railwatch.imagery.quality import MIN_EXPOSURE_FRACTION, Quality
from railwatch.imagery.read import Exposure, Radiometry, read_site_window, site_grid
from railwatch.sim import SceneParams, render_scene

N = 400


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A simulated 0.5 m yard as linear 12-bit data (review r3's mapping: 60 DN dark
    level, 3500 DN for white) at normal exposure and at 3 % with 4 DN of read noise;
    the site is the central 70 % of the image."""
    scene = render_scene(SceneParams(seed=3, size_px=(N, N), gsd=0.5, n_cars=30, noise=2.0))
    lin = (scene.image.astype(np.float32) / 255.0) ** 2.2
    rng = np.random.default_rng(2)
    images = {
        "normal": (lin * 3500 + 60).round(),
        "night": lin * 3500 * 0.03 + 40 + rng.normal(0, 4, lin.shape),
    }
    out = tmp_path_factory.mktemp("dark16")
    paths: dict[str, object] = {}
    for name, data in images.items():
        path = out / f"{name}.tif"
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=N,
            height=N,
            count=3,
            dtype="uint16",
            crs=scene.crs,
            transform=scene.transform,
        ) as dst:
            dst.write(np.moveaxis(data.clip(0, 4095).astype(np.uint16), -1, 0))
        paths[name] = path
    west, south, east, north = array_bounds(N, N, scene.transform)
    dx, dy = 0.15 * (east - west), 0.15 * (north - south)
    inner = box(west + dx, south + dy, east - dx, north - dy)
    to_wgs84 = Transformer.from_crs(scene.crs, "EPSG:4326", always_xy=True)
    paths["site"] = shapely.transform(
        inner, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1]))
    )
    paths["crs"] = str(scene.crs)
    return paths


def _judge(
    files: dict[str, object], name: str, *, lazy: bool, radiometry: Radiometry = "linear"
) -> tuple[Quality, Exposure | None]:
    site = files["site"]
    assert isinstance(site, BaseGeometry)
    grid = site_grid(site, 0.5, crs=str(files["crs"]))
    path = files[name]
    assert isinstance(path, Path)
    if lazy:
        with read_site_window(
            path, grid, site_geom=site, lazy=True, radiometry=radiometry
        ) as window:
            return assess_quality(window), window.exposure
    raster = read_site_window(path, grid, site_geom=site, radiometry=radiometry)
    return assess_quality(raster), raster.exposure


@pytest.mark.parametrize("lazy", [False, True], ids=["whole read", "window"])
def test_a_night_linear_12_bit_image_is_unusable_and_called_under_exposed(
    files: dict[str, object], lazy: bool
) -> None:
    quality, exposure = _judge(files, "night", lazy=lazy)
    assert not quality.usable
    assert "under-exposed" in quality.reasons[0]
    assert "of the 4095 its 12-bit range holds" in quality.reasons[0]
    assert exposure is not None and exposure.fraction < MIN_EXPOSURE_FRACTION


@pytest.mark.parametrize("lazy", [False, True], ids=["whole read", "window"])
def test_a_normal_linear_12_bit_image_stays_usable(files: dict[str, object], lazy: bool) -> None:
    quality, exposure = _judge(files, "normal", lazy=lazy)
    assert quality.usable, quality.reasons
    assert exposure is not None and 0.2 < exposure.fraction < 0.6


def test_the_whole_read_and_the_window_measure_the_same_exposure(
    files: dict[str, object],
) -> None:
    _, whole = _judge(files, "night", lazy=False)
    _, window = _judge(files, "night", lazy=True)
    assert whole == window


def test_display_encoded_data_is_not_judged_by_its_range(files: dict[str, object]) -> None:
    """Display-encoded values (an 8-bit image stored in 16 bits) have no sensor range to
    judge against: the reason's advice, --radiometry display, is not refused as dark."""
    quality, exposure = _judge(files, "night", lazy=False, radiometry="display")
    assert exposure is None
    assert not any("under-exposed" in r for r in quality.reasons)
