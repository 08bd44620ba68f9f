"""counting.count_scene: site restriction, classes, covered count, intervals, methods."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from railwatch.counting import count_interval, count_scene
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.coarse import CoarseEstimate
from railwatch.errors import DetectionError
from railwatch.imagery.quality import Quality
from railwatch.imagery.read import SiteGrid, SiteRaster


def _raster(gsd: float = 0.5, size: int = 200) -> SiteRaster:
    inside = np.zeros((size, size), bool)
    inside[:, : size // 2] = True  # the site is the left half
    grid = SiteGrid("EPSG:32652", Affine(gsd, 0, 0, 0, -gsd, 0), size, size, gsd)
    return SiteRaster(
        np.zeros((size, size, 3), np.uint8), np.ones((size, size), bool), inside, None, grid
    )


def _quality(clear: float = 1.0, haze: float = 0.0, coverage: float = 1.0) -> Quality:
    return Quality(clear, coverage, 0.0, haze, 0.0, 0.0, 0.5, True, (), "estimated")


def _det(
    x: float, y: float, cls: str = "tank", score: float = 0.9, covered: bool = False
) -> Detection:
    return Detection(OrientedBox(x, y, 28, 6, 0), cls=cls, score=score, covered=covered)


def test_only_detections_inside_site_are_counted() -> None:
    dets = [
        _det(20, 20),
        _det(60, 50, "hopper", covered=True),
        _det(99.4, 80),  # inside
        _det(100.5, 80),
        _det(150, 150, "hopper"),
        _det(-5, 10),
        _det(50, 250),  # outside
    ]
    c = count_scene(dets, _raster(), _quality())
    assert c.method == "objects" and c.total == 3
    assert set(c.by_class) == {"tank", "hopper"}
    assert c.by_class["tank"][0] == 2 and c.by_class["hopper"][0] == 1
    assert c.covered == 1
    assert c.low <= c.total <= c.high


def test_empty_scene_counts_zero_with_zero_interval() -> None:
    c = count_scene([], _raster(), _quality())
    assert (c.total, c.low, c.high, c.by_class, c.covered) == (0, 0, 0, {}, 0)


def test_interval_from_scores_and_quality() -> None:
    sure = count_interval([1.0] * 20, gsd=0.3)
    unsure = count_interval([0.6] * 20, gsd=0.3)
    assert sure[0] == unsure[0] == 20
    assert unsure[2] - unsure[1] > sure[2] - sure[1]
    _, low, high = unsure
    expected, sd = 12.0, np.sqrt(20 * 0.24)
    assert low == pytest.approx(expected - 1.645 * sd, abs=0.01)
    hazy = count_interval([0.6] * 20, gsd=0.3, haze_fraction=0.4)
    cloudy = count_interval([0.6] * 20, gsd=0.3, clear_fraction=0.85)
    coarse = count_interval([0.6] * 20, gsd=1.0)
    for widened in (hazy, cloudy, coarse):
        assert widened[1] == low and widened[2] > high


def test_coarse_scene_uses_length_estimate() -> None:
    est = CoarseEstimate(23.4, 19.0, 28.5, 327.6, "length", True)
    c = count_scene([_det(20, 20)], _raster(gsd=3.0), _quality(), coarse=est)
    assert c.method == "length" and c.total == pytest.approx(23.4)
    assert (c.low, c.high) == (19.0, 28.5)
    assert c.by_class == {"railcar": (23.4, 19.0, 28.5)}


def test_coarse_scene_with_no_track_found_is_not_counted() -> None:
    """A blank 3 m image of a site without centrelines: no track line is found, so
    nothing is measured; it was counted 0 (an empty yard) until session 22."""
    with pytest.raises(DetectionError, match="no track line was found"):
        count_scene([], _raster(gsd=3.0), _quality(coverage=0.7))


def test_presence_at_10m() -> None:
    from shapely.geometry import LineString

    est = CoarseEstimate(40.0, 30.0, 50.0, 560.0, "presence", True)
    tracks = LineString([(126.0, 37.0), (126.01, 37.0)])
    c = count_scene([], _raster(gsd=10.0), _quality(), coarse=est, tracks_wgs84=tracks)
    assert c.method == "presence" and c.total == 1.0
    # without the site's centrelines the flag is not read (lines found at 10 m are
    # short pieces): not counted, rather than "no long train"
    with pytest.raises(DetectionError, match="only along the site's track centrelines"):
        count_scene([], _raster(gsd=10.0), _quality(), coarse=est)


def test_near_tracks_keeps_cars_on_the_analysts_tracks() -> None:
    from pyproj import Transformer
    from shapely.geometry import LineString, MultiLineString

    from railwatch.counting import near_tracks

    # grid in UTM 52N at 0.5 m; a track along row 100 (y = -50 m), given in WGS84
    grid = _raster(0.5).grid
    to_wgs = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True)
    x0, y0 = 500_000.0, 4_700_000.0
    grid = type(grid)(grid.crs, Affine(0.5, 0, x0, 0, -0.5, y0), 200, 200, 0.5)
    track = MultiLineString(
        [LineString([to_wgs.transform(x0, y0 - 50), to_wgs.transform(x0 + 100, y0 - 50)])]
    )
    on = _det(50, 100)
    lean = _det(80, 115)  # 7.5 m off: oblique view or misregistration
    lorry = _det(60, 150)  # 25 m away, on a road
    assert near_tracks([on, lean, lorry], track, grid) == [on, lean]
    assert near_tracks([on, lorry], None, grid) == [on, lorry]  # no tracks: keep all
    assert near_tracks([], track, grid) == []


def test_coarse_estimate_reads_only_clear_ground() -> None:
    """The occupied-length estimate read every pixel with data, cloud included (a
    cloud's bright edge along a track read as cars: the demo's 2022-09-03 visit, 6 cars,
    read 45). It now reads only pixels the quality mask calls clear or snow (estimated
    cloud and haze are left out when there is no mask)."""
    from shapely.geometry import LineString, MultiLineString

    from railwatch.imagery.quality import readable_pixels
    from railwatch.sim import SceneParams, render_scene

    p = SceneParams(seed=4, size_px=(240, 240), gsd=3.0, n_cars=80, cloud_cover=0.0)
    sc = render_scene(p)
    inv = ~sc.transform
    tracks = MultiLineString([LineString([inv @ xy for xy in t.coords]) for t in sc.tracks])
    grid = SiteGrid(sc.crs, sc.transform, 240, 240, 3.0)
    inside = np.ones((240, 240), bool)
    mask = np.zeros((240, 240), np.uint8)

    def count(m: np.ndarray | None) -> float:
        r = SiteRaster(sc.image, sc.valid, inside, m, grid)
        return count_scene([], r, _quality(), tracks_wgs84=None, coarse=None).total

    # along the scene's own lines (pixels), as count_scene would sample them
    from railwatch.detect.coarse import estimate_occupancy

    clear_all = estimate_occupancy(
        sc.image, 3.0, readable_pixels(sc.image, sc.valid, mask, 3.0), tracks
    )
    mask[:, 120:] = 1  # the right half under cloud
    half = estimate_occupancy(sc.image, 3.0, readable_pixels(sc.image, sc.valid, mask, 3.0), tracks)
    assert clear_all.car_equivalents > 10
    assert half.car_equivalents < 0.75 * clear_all.car_equivalents
    assert readable_pixels(sc.image, sc.valid, np.full((240, 240), 3, np.uint8), 3.0).all()
    assert not readable_pixels(sc.image, sc.valid, np.full((240, 240), 2, np.uint8), 3.0).any()
    # count_scene passes the readable pixels on (a cloud over the whole site: nothing
    # read, so no track found: not counted)
    with pytest.raises(DetectionError, match="no track line was found"):
        count(np.full((240, 240), 1, np.uint8))
