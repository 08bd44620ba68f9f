"""railwatch.export: a site's data for GIS tools, notebooks and training pipelines.

* :func:`export_site` — GeoPackage, GeoParquet, GeoJSON or CSV (``gis``).
* :func:`export_labels` — PNG chips + COCO / DOTA / YOLO-OBB labels (``label_chips``).
* :func:`import_labels`, :func:`read_labels`, :func:`write_labels` (``labels``).

Modules are imported on first use, so ``import railwatch.export`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from railwatch.export.gis import export_site
    from railwatch.export.label_chips import export_labels
    from railwatch.export.labels import import_labels, read_labels, write_labels

_WHERE = {
    "export_site": "railwatch.export.gis",
    "export_labels": "railwatch.export.label_chips",
    "import_labels": "railwatch.export.labels",
    "read_labels": "railwatch.export.labels",
    "write_labels": "railwatch.export.labels",
}
__all__ = ["export_labels", "export_site", "import_labels", "read_labels", "write_labels"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'railwatch.export' has no attribute {name!r}")
