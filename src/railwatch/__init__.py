"""railwatch: watch rail facilities from satellite imagery.

The public surface is small on purpose; heavy modules are imported lazily
by the functions that need them.
"""

from __future__ import annotations

from railwatch.errors import RailwatchError

__version__ = "0.1.0"

__all__ = ["RailwatchError", "__version__"]
