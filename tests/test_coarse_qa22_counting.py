"""Coarse counts where no track can be read: QA session 22."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from pyproj import Transformer
from rasterio.features import rasterize
from shapely.geometry import LineString, MultiLineString

from railwatch.counting import count_scene
from railwatch.detect.coarse import estimate_occupancy
from railwatch.errors import DetectionError
from railwatch.imagery.quality import Quality
from railwatch.imagery.read import SiteGrid, SiteRaster
from railwatch.sim import SceneParams, render_scene

N = 200


def _quality() -> Quality:
    # usable: the cloud lies over the yard only, a small part of the site
    return Quality(0.85, 1.0, 0.15, 0.0, 0.0, 0.0, 3.0, True, (), "mask")


@pytest.fixture(scope="module")
def yard() -> tuple[SiteRaster, MultiLineString, MultiLineString]:
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


def test_a_yard_wholly_under_cloud_is_not_counted_0(
    yard: tuple[SiteRaster, MultiLineString, MultiLineString],
) -> None:
    """A usable 3 m image (85 % of the site clear) with a cloud lying over the yard and
    its given centrelines: nothing of the track could be read, and the count was 0
    railcars, interval 0–1, an empty yard (60 cars stood there). Now it is an error that
    says why, and the pipeline records no count."""
    raster, wgs, px = yard
    clear = count_scene([], raster, _quality(), tracks_wgs84=wgs)
    assert clear.total > 10 and clear.track_m is not None and clear.track_m > 1000
    cloud = rasterize([(px.buffer(8.0), 1)], out_shape=(N, N), fill=0, dtype="uint8")
    assert 0.05 < cloud.mean() < 0.95
    hidden = SiteRaster(raster.image, raster.valid, raster.inside, cloud, raster.grid)
    with pytest.raises(DetectionError, match="no track could be read in this 3 m image") as err:
        count_scene([], hidden, _quality(), tracks_wgs84=wgs)
    assert "under cloud" in str(err.value) and "not counted" in str(err.value)
    # the same at 10 m: no presence flag is made up either
    grid10 = SiteGrid(raster.grid.crs, raster.grid.transform @ Affine.scale(10 / 3), N, N, 10.0)
    at10 = SiteRaster(raster.image, raster.valid, raster.inside, np.ones((N, N), np.uint8), grid10)
    with pytest.raises(DetectionError, match="whether a long train"):
        count_scene([], at10, _quality(), tracks_wgs84=wgs)


def test_the_estimate_says_how_much_track_it_read(
    yard: tuple[SiteRaster, MultiLineString, MultiLineString],
) -> None:
    raster, _, px = yard
    given = estimate_occupancy(raster.image, 3.0, raster.valid, px)
    assert given.track_m is not None and given.track_m > 1000
    # no line found in a blank image: 0 m read (its 0 is no measurement of a yard)
    blank = estimate_occupancy(np.full((N, N, 3), 90, np.uint8), 3.0)
    assert blank.car_equivalents == 0 and blank.track_m == 0.0
    assert estimate_occupancy(raster.image, 3.0, np.zeros((N, N), bool)).track_m == 0.0


def test_a_cloud_over_half_the_yard_widens_the_interval_by_the_track_it_hides(
    yard: tuple[SiteRaster, MultiLineString, MultiLineString],
) -> None:
    """A cloud over half the yard's track but 6 % of the site: the interval was widened
    by the site's clear share (0.94) only and read 25.9, 13.5–54.2, for 57.6 car
    equivalents. It is now widened by the share of the track read (about half)."""
    raster, wgs, px = yard
    truth = 57.6  # length over couplers of the scene's 60 cars / 14 m
    cloud = rasterize([(px.buffer(8.0), 1)], out_shape=(N, N), fill=0, dtype="uint8")
    cloud[:, N // 2 :] = 0
    site_clear = 1.0 - float(cloud.mean())
    q = Quality(site_clear, 1.0, 1.0 - site_clear, 0.0, 0.0, 0.0, 3.0, True, (), "mask")
    hidden = SiteRaster(raster.image, raster.valid, raster.inside, cloud, raster.grid)
    c = count_scene([], hidden, q, tracks_wgs84=wgs)
    assert site_clear > 0.9 and c.total < 0.6 * truth
    assert c.low <= c.total < truth <= c.high
    from railwatch.detect.coarse import track_share

    seen = np.ones((N, N), bool)
    share = track_share(px, cloud == 0, seen)
    assert share is not None and 0.3 < share < 0.7
    assert track_share(px, cloud == 0, np.zeros((N, N), bool)) is None
    # a clear image is widened as before: not at all (its track is all read)
    from railwatch.imagery.quality import readable_pixels

    sunny = Quality(1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 3.0, True, (), "mask")
    clear = count_scene([], raster, sunny, tracks_wgs84=wgs)
    readable = readable_pixels(raster.image, raster.valid, None, 3.0)
    assert track_share(px, readable, raster.valid) == 1.0
    est = estimate_occupancy(raster.image, 3.0, readable, px)
    assert (clear.total, clear.low, clear.high) == (est.car_equivalents, est.low, est.high)
