"""railwatch.sim: a simulator of overhead imagery of rail yards with exact ground truth.

Main verbs: :func:`render_scene` (one scene from :class:`SceneParams`),
:func:`write_scene` (COG + quality mask + STAC sidecar + truth GeoJSON),
:func:`random_params` (every parameter from a seed, with style allow-lists), and
scenarios over time (:func:`tumangang`, :func:`render_scenario`).
"""

from __future__ import annotations

from typing import Any

#: Bumped whenever the pixels for given parameters change (invalidates caches).
SIM_VERSION = "1.3"

_EXPORTS = {
    "SceneParams": "railwatch.sim.params",
    "random_params": "railwatch.sim.params",
    "STYLES": "railwatch.sim.params",
    "PAINTS": "railwatch.sim.params",
    "SIM_CLASSES": "railwatch.sim.params",
    "render_scene": "railwatch.sim.scene",
    "RenderedScene": "railwatch.sim.scene",
    "TruthCar": "railwatch.sim.scene",
    "utm_epsg": "railwatch.sim.scene",
    "write_scene": "railwatch.sim.io",
    "ScenePaths": "railwatch.sim.io",
    "truth_geojson": "railwatch.sim.io",
    "Scenario": "railwatch.sim.scenario",
    "Visit": "railwatch.sim.scenario",
    "tumangang": "railwatch.sim.scenario",
    "render_scenario": "railwatch.sim.scenario",
    "get_scenario": "railwatch.sim.scenario",
    "SCENARIOS": "railwatch.sim.scenario",
}

__all__ = ["SIM_VERSION", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'railwatch.sim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
