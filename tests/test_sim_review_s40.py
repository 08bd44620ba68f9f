"""Simulator review against DOMAIN.md (session 40)."""

from __future__ import annotations

import pytest

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
