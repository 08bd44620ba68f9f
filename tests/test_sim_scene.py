"""Simulator: ground truth against pixels, determinism, georeferencing, masks."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.ops import unary_union

from railwatch.errors import ConfigError
from railwatch.sim import STYLES, SceneParams, random_params, render_scene
from railwatch.sim.conditions import CLOUD_ALPHA_OPAQUE, MASK_CLOUD, MASK_NODATA

SMALL = {"size_px": (400, 300), "gsd": 0.5, "n_cars": 40, "yard_angle": 8.0, "n_tracks": 8}


def _params(**kw: object) -> SceneParams:
    base: dict[str, object] = {"seed": 3, **SMALL}
    base.update(kw)
    return SceneParams(**base)


def test_deterministic() -> None:
    p = _params(cloud_cover=0.2, haze=0.1, jpeg_quality=80, off_nadir=10.0)
    a, b = render_scene(p), render_scene(p)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.mask, b.mask)
    assert [t.polygon_crs.wkt for t in a.truth] == [t.polygon_crs.wkt for t in b.truth]
    c = render_scene(p.with_(seed=4))
    assert not np.array_equal(a.image, c.image)


def test_every_truth_polygon_covers_its_car_pixels() -> None:
    s = render_scene(_params(off_nadir=15.0, view_azimuth=40.0))
    assert len(s.truth) > 10
    ids = {t.id for t in s.truth}
    assert set(np.unique(s.labels)) - {0} <= ids  # no car pixels without a polygon
    cols, rows = np.meshgrid(np.arange(s.width) + 0.5, np.arange(s.height) + 0.5)
    for t in s.truth:
        sel = s.labels == t.id
        assert sel.sum() >= 0.8 * t.polygon_px.area  # the polygon covers car pixels
        # every pixel of the car has its centre inside its polygon
        grown = t.polygon_px.buffer(1e-6)
        pts = np.column_stack([cols[sel], rows[sel]])
        from shapely import contains_xy

        assert contains_xy(grown, pts[:, 0], pts[:, 1]).all()


def test_pixels_change_only_at_cars_and_their_shadows() -> None:
    """Rendering the same scene without cars changes pixels only under the truth
    polygons, their lean and their cast shadows (independent random streams)."""
    p = _params(jpeg_quality=None, sun_elevation=40.0, sun_azimuth=160.0)
    with_cars, without = render_scene(p), render_scene(p.with_(n_cars=0))
    assert len(without.truth) == 0
    diff = np.abs(with_cars.image.astype(int) - without.image.astype(int)).max(axis=2) > 6
    assert diff.sum() > 0
    shadow_px = 5.0 / np.tan(np.deg2rad(40.0)) / p.gsd
    allowed = unary_union([t.polygon_px.buffer(shadow_px + 2.5) for t in with_cars.truth])
    rows, cols = np.nonzero(diff)
    from shapely import contains_xy

    inside = contains_xy(allowed, cols + 0.5, rows + 0.5)
    assert inside.mean() == 1.0
    # and every car changed the image somewhere inside its polygon
    for t in with_cars.truth:
        assert diff[with_cars.labels == t.id].any()


def test_georeferencing() -> None:
    s = render_scene(_params())
    assert s.crs == "EPSG:32652"
    assert s.transform.a == pytest.approx(0.5) and s.transform.e == pytest.approx(-0.5)
    for t in s.truth[:10]:
        px = np.asarray(t.polygon_px.exterior.coords)
        crs = np.array([s.transform @ (c, r) for c, r in px])
        assert np.allclose(crs, np.asarray(t.polygon_crs.exterior.coords), atol=1e-6)
        # body size is a real car size (metres in the CRS)
        assert 11.0 < t.length_m < 21.0 and 2.7 < t.width_m < 3.3
        assert t.polygon_crs.area == pytest.approx(t.length_m * t.width_m, rel=1e-3)
    south = render_scene(_params(center_lonlat=(-58.4, -34.6)))
    assert south.crs == "EPSG:32721"
    # centre of the image is at the requested lon/lat
    from pyproj import Transformer

    tr = Transformer.from_crs(s.crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(*(s.transform @ (s.width / 2, s.height / 2)))
    assert lon == pytest.approx(130.6081, abs=1e-4) and lat == pytest.approx(42.4214, abs=1e-4)


def test_misregistration_moves_content_and_truth() -> None:
    a = render_scene(_params())
    b = render_scene(_params(misregistration_m=(3.0, -2.0)))
    assert a.transform == b.transform
    ca = np.array([t.polygon_crs.centroid.coords[0] for t in a.truth])
    cb = np.array([t.polygon_crs.centroid.coords[0] for t in b.truth])
    assert np.allclose(cb - ca, [3.0, -2.0], atol=1e-6)


def test_cloud_mask_matches_cloud_layer() -> None:
    s = render_scene(_params(cloud_cover=0.4, thin_cloud=0.3, size_px=(500, 400)))
    alpha = s.layers["cloud_alpha"]
    cloud = s.mask == MASK_CLOUD
    assert np.array_equal(cloud, (alpha > CLOUD_ALPHA_OPAQUE) & s.valid)
    assert 0.05 < cloud.mean() < 0.6
    # opaque cloud is bright and flat
    assert s.image[cloud].mean() > s.image[s.mask == 0].mean() + 40
    clear = render_scene(_params())
    assert (clear.mask == 0).all()


def test_partial_coverage_is_nodata() -> None:
    s = render_scene(_params(coverage=0.5))
    nod = s.mask == MASK_NODATA
    assert 0.4 < nod.mean() < 0.6
    assert (s.image[nod] == 0).all()
    assert (s.image[~nod] > 0).all()
    assert all(0.0 <= t.valid_fraction <= 1.0 for t in s.truth)


def test_snow_season_and_haze() -> None:
    s = render_scene(_params(season="winter", snow=0.8, style="winter"))
    assert (s.mask == 3).mean() > 0.3
    summer = render_scene(_params())
    assert s.image.mean() > summer.image.mean() + 25
    hazy = render_scene(_params(haze=0.7))
    assert hazy.image.std() < summer.image.std()
    assert (hazy.mask == 2).mean() > 0.5


@pytest.mark.parametrize("gsd", [0.3, 1.0, 3.0, 10.0])
def test_resolutions(gsd: float) -> None:
    extent = 240.0 if gsd < 3 else 1200.0
    side = int(extent / gsd)
    s = render_scene(_params(gsd=gsd, size_px=(side, side), n_cars=30))
    assert s.image.shape == (side, side, 3)
    assert len(s.truth) > 0
    assert s.transform.a == pytest.approx(gsd)
    assert set(np.unique(s.labels)) - {0} <= {t.id for t in s.truth}


def test_random_params_respects_style_allow_list() -> None:
    styles = {random_params(i, styles=["arid", "winter"]).style for i in range(30)}
    assert styles == {"arid", "winter"}
    all_styles = {random_params(i).style for i in range(60)}
    assert all_styles == set(STYLES)
    assert random_params(5, gsd=0.7).gsd == 0.7
    assert random_params(5) == random_params(5)
    with pytest.raises(ConfigError):
        random_params(1, styles=["lunar"])
    with pytest.raises(ConfigError, match="out of range"):
        random_params(1, gsd=float("nan"))  # was a ValueError from round(600 / nan)


def test_params_validation() -> None:
    with pytest.raises(ConfigError):
        SceneParams(style="nope")
    with pytest.raises(ConfigError):
        SceneParams(cars_by_class={"spaceship": 3})
    with pytest.raises(ConfigError):
        SceneParams(cloud_cover=1.5)
    p = SceneParams(cars_by_class={"tank": 3, "boxcar": 2})
    assert p.class_counts() == (("boxcar", 2), ("tank", 3))
    assert hash(p) == hash(SceneParams(cars_by_class={"boxcar": 2, "tank": 3}))


def test_exact_class_counts_and_dimensions() -> None:
    want = {"tank": 6, "boxcar": 4, "gondola": 5, "locomotive": 1, "flat": 3}
    s = render_scene(_params(cars_by_class=want, n_cars=0, size_px=(800, 300)))
    assert s.truth_counts() == want
    for t in s.truth:
        if t.cls == "tank":
            assert t.length_m == pytest.approx(12.02 - 0.95, abs=0.01)
        if t.cls == "locomotive":
            assert 17.0 < t.length_m < 20.1
    covered = render_scene(_params(covered_fraction=1.0, cars_by_class={"flat": 10}, n_cars=0))
    assert sum(t.covered for t in covered.truth) >= 6


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_renders(style: str) -> None:
    from railwatch.sim import PAINTS

    for paint in sorted(PAINTS):
        s = render_scene(
            _params(style=style, paint=paint, size_px=(160, 120), n_cars=8, season="autumn")
        )
        assert s.image.shape == (120, 160, 3) and s.image.std() > 3


def test_tiny_and_empty_scenes() -> None:
    s = render_scene(SceneParams(seed=1, gsd=30.0, size_px=(8, 8), n_cars=0))
    assert s.image.shape == (8, 8, 3) and s.truth == () and not s.labels.any()
    many = render_scene(_params(n_cars=2000, size_px=(200, 120)))
    assert 0 < len(many.truth) < 2000  # only what fits on the tracks is drawn
    assert set(np.unique(many.labels)) - {0} <= {t.id for t in many.truth}


def test_roofed_hoppers_are_not_covered_and_off_by_default() -> None:
    """Covered (roofed) hoppers: a roof, not a tarpaulin. At 0 (the default) no random
    number is drawn for them: the cars are those drawn before the option existed."""
    from dataclasses import replace

    p = SceneParams(
        seed=5,
        gsd=0.5,
        size_px=(512, 512),
        n_cars=40,
        cars_by_class={"hopper": 30, "gondola": 10},
        covered_fraction=0.3,
    )
    plain = render_scene(p)
    assert not any(t.load == "roof" for t in plain.truth)
    roofed = render_scene(replace(p, roofed_hoppers=1.0))
    hoppers = [c for c in roofed.truth if c.cls == "hopper"]
    roofs = [c for c in hoppers if c.load == "roof"]
    assert roofs and all(not c.covered for c in roofs)
    # every hopper not under a tarpaulin has a roof (string loads are shared)
    assert all(c.load in ("roof", "tarp") for c in hoppers)
    assert not np.array_equal(np.asarray(plain.image), np.asarray(roofed.image))
    with pytest.raises(ConfigError, match=r"roofed_hoppers 1.5 must be within 0\.\.1"):
        SceneParams(roofed_hoppers=1.5)
