"""Simulator review against DOMAIN.md (session 40)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from railwatch.sim.io import scene_paths, stac_item
from railwatch.sim.params import SceneParams, sensor_for_gsd
from railwatch.sim.scene import render_scene


@pytest.mark.parametrize("gsd", [15.0, 30.0])
def test_landsat_resolutions_are_not_called_sentinel_2(gsd: float) -> None:
    # DOMAIN.md: Sentinel-2 is 10 m, Landsat 8/9 15 m pan and 30 m multispectral.
    # A 15 m or 30 m simulated scene was labelled "Sentinel-2-sim" (its STAC platform).
    assert sensor_for_gsd(gsd) == "Landsat-sim"
    scene = render_scene(SceneParams(seed=1, gsd=gsd, size_px=(16, 16), n_cars=0))
    assert scene.params.sensor_name == "Landsat-sim"


@pytest.mark.parametrize(
    ("gsd", "name"),
    [
        (0.3, "WorldView-sim"),
        (0.5, "SkySat-sim"),
        (3.0, "PlanetScope-sim"),
        (10.0, "Sentinel-2-sim"),
        (12.0, "Sentinel-2-sim"),
    ],
)
def test_other_resolutions_keep_their_sensor(gsd: float, name: str) -> None:
    assert sensor_for_gsd(gsd) == name


@pytest.mark.parametrize("view_azimuth", [40.0, 200.0, 310.0])
def test_stac_view_azimuth_points_the_way_tall_objects_lean(
    view_azimuth: float, tmp_path: Path
) -> None:
    # STAC view:azimuth is measured from the sub-satellite point to the scene centre, so
    # tall objects (leaning away from the satellite) lean along it. The simulator leans
    # them away from ``view_azimuth`` (its azimuth of the satellite seen from the scene)
    # and wrote that value as view:azimuth, 180 degrees off.
    base = SceneParams(seed=3, gsd=0.5, size_px=(400, 400), n_cars=12, layout_seed=5)
    upright = render_scene(base)
    leaning = render_scene(base.with_(off_nadir=20.0, view_azimuth=view_azimuth))
    assert [t.id for t in upright.truth] == [t.id for t in leaning.truth]
    dx = np.mean(
        [
            b.polygon_crs.centroid.x - a.polygon_crs.centroid.x
            for a, b in zip(upright.truth, leaning.truth, strict=True)
        ]
    )
    dy = np.mean(
        [
            b.polygon_crs.centroid.y - a.polygon_crs.centroid.y
            for a, b in zip(upright.truth, leaning.truth, strict=True)
        ]
    )
    assert np.hypot(dx, dy) > 0.5  # roofs 3-5 m up lean 1-2 m at 20 degrees
    lean_azimuth = np.degrees(np.arctan2(dx, dy)) % 360.0  # clockwise from north
    stac = stac_item(leaning, scene_paths(tmp_path, "lean"))["properties"]["view:azimuth"]
    off = (stac - lean_azimuth + 180.0) % 360.0 - 180.0
    assert abs(off) < 1.0, (stac, lean_azimuth)
    assert leaning.params.view_azimuth == view_azimuth  # the parameter keeps its meaning


def _painted_on_top(scene_params: SceneParams) -> tuple[np.ndarray, np.ndarray]:
    """The scene's labels, and a reference built independently with shapely: at each
    pixel centre, the car drawn last over it (render.draw_car paints a car's side faces,
    the hull of its footprint and its roof, then its roof), its id where that is its
    roof, 0 where it is its side face."""
    import shapely
    from shapely.geometry import MultiPoint, Polygon

    from railwatch.sim.render import Projection, make_light
    from railwatch.sim.scene import scene_cars, scene_yard

    scene = render_scene(scene_params)
    p = scene_params
    cars = scene_cars(p, scene_yard(p))
    light = make_light(p)
    w, h = p.size_px
    proj = Projection(w * p.gsd, h * p.gsd, p.gsd, *p.misregistration_m)
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    ref = np.zeros((h, w), np.int32)
    for car in cars:
        fp = car.corners()
        top = fp + light.lean * car.height
        side = MultiPoint(proj.px(np.vstack([fp, top]))).convex_hull
        ref[shapely.intersects_xy(side, xs, ys)] = 0
        ref[shapely.intersects_xy(Polygon(proj.px(top)), xs, ys)] = car.id
    return scene.labels, ref


def test_labels_follow_what_is_painted_over_leaning_cars() -> None:
    # Steeply off nadir, a car's side faces are painted over the roof of a car drawn
    # before it on the next track; the labels kept the covered roof's id there.
    p = SceneParams(
        seed=2,
        gsd=0.5,
        size_px=(360, 360),
        n_cars=60,
        layout_seed=5,
        off_nadir=40.0,
        view_azimuth=0.0,
        yard_angle=0.0,
        sun_elevation=60.0,
    )
    labels, ref = _painted_on_top(p)
    covered = (ref == 0) & (labels > 0)
    assert ref.any() and labels.any()
    assert int(covered.sum()) == 0, f"{int(covered.sum())} labelled pixels show another car's side"
    assert (labels == ref).mean() > 0.9999


def test_labels_of_upright_cars_are_their_roofs() -> None:
    p = SceneParams(seed=2, gsd=0.5, size_px=(240, 240), n_cars=30, layout_seed=5)
    labels, ref = _painted_on_top(p)
    assert labels.any() and (labels == ref).mean() > 0.9999
