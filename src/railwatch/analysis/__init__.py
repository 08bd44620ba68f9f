"""Count series, robust baselines and explained alerts (pure functions on count points).

Main verb: :func:`analyze_series`. CSV hand counts: :func:`read_counts_csv`.

The names below are imported from their modules when first used (module ``__getattr__``,
as :mod:`railwatch` does), so ``from railwatch.analysis.types import CountPoint`` (the
value types storage and the simulator import) does not import NumPy, shapely and pyproj
with the alert rules (session 36; 0.5-1.4 s before).
"""

from __future__ import annotations

import sys as _sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers see; at run time each name is imported when used
    from railwatch.analysis.alerts import (
        JudgedBaseline,
        analyze_series,
        baseline_trace,
        count_alerts,
        quality_alerts,
    )
    from railwatch.analysis.baseline import Baseline, Record, robust_baseline, trailing_record
    from railwatch.analysis.events import latest_event, link_events
    from railwatch.analysis.series import CountSeries, build_series
    from railwatch.analysis.settings import AlertSettings
    from railwatch.analysis.types import (
        ALERT_KINDS,
        SEVERITIES,
        Alert,
        CountPoint,
        Event,
        lower_severity,
        severity_rank,
    )

#: Each re-exported name and the module it lives in.
_LAZY: dict[str, str] = {
    "analyze_series": "railwatch.analysis.alerts",
    "baseline_trace": "railwatch.analysis.alerts",
    "JudgedBaseline": "railwatch.analysis.alerts",
    "count_alerts": "railwatch.analysis.alerts",
    "quality_alerts": "railwatch.analysis.alerts",
    "Baseline": "railwatch.analysis.baseline",
    "Record": "railwatch.analysis.baseline",
    "robust_baseline": "railwatch.analysis.baseline",
    "trailing_record": "railwatch.analysis.baseline",
    "latest_event": "railwatch.analysis.events",
    "link_events": "railwatch.analysis.events",
    "CountSeries": "railwatch.analysis.series",
    "build_series": "railwatch.analysis.series",
    "AlertSettings": "railwatch.analysis.settings",
    "ALERT_KINDS": "railwatch.analysis.types",
    "SEVERITIES": "railwatch.analysis.types",
    "Alert": "railwatch.analysis.types",
    "CountPoint": "railwatch.analysis.types",
    "Event": "railwatch.analysis.types",
    "lower_severity": "railwatch.analysis.types",
    "severity_rank": "railwatch.analysis.types",
}

__all__ = [
    "ALERT_KINDS",
    "SEVERITIES",
    "Alert",
    "AlertSettings",
    "Baseline",
    "CountPoint",
    "CountSeries",
    "Event",
    "JudgedBaseline",
    "Record",
    "analyze_series",
    "baseline_trace",
    "build_series",
    "count_alerts",
    "latest_event",
    "link_events",
    "lower_severity",
    "quality_alerts",
    "robust_baseline",
    "severity_rank",
    "trailing_record",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'railwatch.analysis' has no attribute {name!r}")
    __import__(module)
    value = getattr(_sys.modules[module], name)
    globals()[name] = value  # the next use is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
