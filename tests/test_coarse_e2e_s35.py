"""Coarse imagery end to end, as an analyst with 3 m and 10 m images only: session 35."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer
from rasterio.features import rasterize
from shapely.geometry import LineString, MultiLineString

from railwatch.counting import count_scene
from railwatch.detect.coarse import estimate_occupancy
from railwatch.errors import InputError
from railwatch.imagery.quality import Quality
from railwatch.imagery.read import SiteGrid, SiteRaster
from railwatch.sim import SceneParams, render_scene

N = 200


def _quality(clear: float = 1.0) -> Quality:
    return Quality(clear, 1.0, 1.0 - clear, 0.0, 0.0, 0.0, 3.0, True, (), "mask")


@pytest.fixture(scope="module")
def yard() -> tuple[SiteRaster, MultiLineString, MultiLineString]:
    """A 3 m image of a yard (60 cars), its centrelines in WGS84 and in pixels."""
    sc = render_scene(SceneParams(seed=4, size_px=(N, N), gsd=3.0, n_cars=60))
    to_wgs = Transformer.from_crs(sc.crs, "EPSG:4326", always_xy=True)
    wgs = MultiLineString(
        [LineString([to_wgs.transform(*xy) for xy in t.coords]) for t in sc.tracks]
    )
    inv = ~sc.transform
    px = MultiLineString([LineString([inv @ xy for xy in t.coords]) for t in sc.tracks])
    grid = SiteGrid(sc.crs, sc.transform, N, N, 3.0)
    raster = SiteRaster(sc.image, sc.valid, np.ones((N, N), bool), None, grid)
    return raster, wgs, px


def _band(px: MultiLineString, width_px: float) -> np.ndarray:
    """A site polygon hugging the tracks, on the raster: ``width_px`` either side."""
    return rasterize([(px.buffer(width_px), 1)], out_shape=(N, N), fill=0).astype(bool)


def test_site_polygon_smaller_than_its_box_does_not_widen_the_interval(
    yard: tuple[SiteRaster, MultiLineString, MultiLineString],
) -> None:
    """The same clear 3 m image of the same yard along the same centrelines, counted for
    a rectangular site and for a site whose polygon hugs the tracks (a part of its
    bounding box, the raster the site is read on): the estimate is the same, and so must
    be its interval. Before, the interval was widened by the share of the *raster*
    without data, and every pixel outside the polygon counted as such: 23.0-85.6 over a
    rectangle became 9.7-118.6 over a polygon filling 28 % of its box (simulated yard,
    2026-12-06)."""
    raster, wgs, px = yard
    box = count_scene([], raster, _quality(), tracks_wgs84=wgs)
    inside = _band(px, 12.0)
    assert 0.1 < inside.mean() < 0.7
    hug = SiteRaster(raster.image, raster.valid, inside, None, raster.grid)
    polygon = count_scene([], hug, _quality(), tracks_wgs84=wgs)
    assert box.method == polygon.method == "length"
    assert polygon.total == pytest.approx(box.total, rel=0.02)
    assert polygon.low == pytest.approx(box.low, rel=0.05, abs=0.5)
    assert polygon.high == pytest.approx(box.high, rel=0.05, abs=0.5)


def test_a_cloud_over_part_of_the_site_still_widens_the_interval(
    yard: tuple[SiteRaster, MultiLineString, MultiLineString],
) -> None:
    """Pixels of the site without data (here: a cloud over a third of the yard) still
    widen the interval on both sides, whatever the site's shape."""
    raster, wgs, px = yard
    inside = _band(px, 12.0)
    clear = count_scene(
        [],
        SiteRaster(raster.image, raster.valid, inside, None, raster.grid),
        _quality(),
        tracks_wgs84=wgs,
    )
    cols = np.arange(N)[None, :].repeat(N, axis=0)
    cloud = (cols < N // 3).astype(np.uint8)  # mask code 1: cloud
    hidden = SiteRaster(raster.image, raster.valid, inside, cloud, raster.grid)
    part = count_scene([], hidden, _quality(0.7), tracks_wgs84=wgs)
    assert part.method == "length"
    assert part.high - part.total > clear.high - clear.total
    assert part.total - part.low > 0.0


def test_area_of_another_shape_is_refused(
    yard: tuple[SiteRaster, MultiLineString, MultiLineString],
) -> None:
    raster, _, px = yard
    with pytest.raises(InputError, match="area mask of shape"):
        estimate_occupancy(raster.image, 3.0, None, px, area=np.ones((N, N + 1), bool))
