"""railwatch: watch rail facilities from satellite imagery.

The public surface is small on purpose. Besides :class:`RailwatchError` and
``__version__``, the names a notebook needs (docs/python.md) are attributes of this
package, each imported from its own module the first time it is used, so that
``import railwatch`` imports neither NumPy nor rasterio nor the detector:

- detection: :func:`detect_file`, :func:`detect_array`, :class:`DetectionResult`,
  :func:`get_detector`, :class:`Detection`, :class:`OrientedBox`, and
  :func:`count_cars` (the count per class with its interval), :func:`to_geojson`,
  :func:`to_geodataframe`;
- image quality over a site: :func:`assess_file`, :class:`Quality`, and sites:
  :func:`site_from_bbox`, :func:`site_from_geojson`, :class:`SiteSpec`;
- alerts: :func:`analyze_counts` (pairs, count points or a CSV file),
  :func:`analyze_series`, :func:`read_counts_csv`, :class:`CountPoint`,
  :class:`Event`, :class:`Alert`, :class:`AlertSettings`, :class:`SceneCount`;
- a database: :class:`Database`, :func:`site_counts`, :func:`site_alerts`;
- the simulator: :class:`SceneParams`, :func:`render_scene`, :func:`write_scene`.

``__init__.pyi`` declares their types; ``tests/test_python_api_s36.py`` checks that it
and :data:`_LAZY` name the same objects.
"""

import sys as _sys

from railwatch.errors import RailwatchError

__version__ = "0.1.0"

#: Each public name and the module it lives in (imported when the name is first used).
_LAZY: dict[str, str] = {
    "detect_file": "railwatch.detect.api",
    "detect_array": "railwatch.detect.api",
    "DetectionResult": "railwatch.detect.api",
    "get_detector": "railwatch.detect.registry",
    "Detection": "railwatch.detect.base",
    "OrientedBox": "railwatch.detect.base",
    "SceneCount": "railwatch.counting",
    "Quality": "railwatch.imagery.quality",
    "SiteSpec": "railwatch.sites",
    "site_from_bbox": "railwatch.sites",
    "site_from_geojson": "railwatch.sites",
    "CountPoint": "railwatch.analysis.types",
    "Event": "railwatch.analysis.types",
    "Alert": "railwatch.analysis.types",
    "AlertSettings": "railwatch.analysis.settings",
    "analyze_series": "railwatch.analysis.alerts",
    "read_counts_csv": "railwatch.analysis.csvio",
    "Database": "railwatch.storage.db",
    "SceneParams": "railwatch.sim.params",
    "render_scene": "railwatch.sim.scene",
    "write_scene": "railwatch.sim.io",
    "count_cars": "railwatch.api",
    "to_geojson": "railwatch.api",
    "to_geodataframe": "railwatch.api",
    "assess_file": "railwatch.api",
    "analyze_counts": "railwatch.api",
    "site_counts": "railwatch.api",
    "site_alerts": "railwatch.api",
}

__all__ = ["RailwatchError", "__version__", *_LAZY]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'railwatch' has no attribute {name!r}")
    __import__(module)  # not importlib (7 ms), nor typing (20 ms): import railwatch stays light
    value = getattr(_sys.modules[module], name)
    globals()[name] = value  # the next use is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
