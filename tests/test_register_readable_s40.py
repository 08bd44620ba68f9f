"""A coarse scene's registration and its references read the ground they may use on the
file's own pixels, as the quality step does since bada034 (2026-12-06, session 40).

Where a scene's pixels are resampled to its site's grid (half a pixel off, a rotated
geotransform), the bilinear warp reads as haze: the registration's high-pass luminance
(``pipeline._readable_highpass``) and each reference's empty track
(``pipeline._site_reads_of``) dropped the ground the haze estimate called hazy, most of
a clear scene, and correlated or measured the little left."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

import railwatch
from railwatch import pipeline
from railwatch.imagery.read import read_site_window, site_grid


@pytest.fixture(scope="module")
def clear_3m(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, railwatch.SiteSpec]:
    """A clear simulated 3 m scene (temperate, seed 7), and a copy of it half a pixel off
    its own grid; the site the middle half of the scene."""
    from rasterio.warp import transform_bounds

    folder = tmp_path_factory.mktemp("regreadable")
    params = railwatch.SceneParams(seed=7, gsd=3.0, size_px=(200, 200), style="temperate")
    path = Path(railwatch.write_scene(railwatch.render_scene(params), folder, "yard").image)
    with rasterio.open(path) as s:
        data, profile = s.read([1, 2, 3]), s.profile
        w, so, e, n = transform_bounds(s.crs, "EPSG:4326", *s.bounds)
    profile.update(count=3, transform=profile["transform"] @ Affine.translation(0.5, 0.5))
    off = folder / "off.tif"
    with rasterio.open(off, "w", **profile) as d:
        d.write(data)
    cx, cy, hw, hh = (w + e) / 2, (so + n) / 2, (e - w) / 4, (n - so) / 4
    site = railwatch.site_from_bbox("yard", (cx - hw, cy - hh, cx + hw, cy + hh))
    return path, off, site


def _readable_share(path: Path, site: railwatch.SiteSpec) -> float:
    grid = site_grid(site.geometry, 3.0)
    raster = read_site_window(str(path), grid, site_geom=site.geometry)
    hp = pipeline._readable_highpass(raster)
    inside = np.asarray(raster.inside, bool) & np.asarray(raster.valid, bool)
    return float((hp[inside] != 0).mean())


def test_registration_reads_as_much_ground_off_the_grid(
    clear_3m: tuple[Path, Path, railwatch.SiteSpec],
) -> None:
    on, off, site = clear_3m
    on_grid = _readable_share(on, site)
    assert on_grid > 0.95
    assert _readable_share(off, site) > on_grid - 0.05
