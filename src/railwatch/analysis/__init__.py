"""Count series, robust baselines and explained alerts (pure functions on count points).

Main verb: :func:`analyze_series`. CSV hand counts: :func:`read_counts_csv`.
"""

from __future__ import annotations

from railwatch.analysis.alerts import analyze_series, count_alerts, quality_alerts
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

__all__ = [
    "ALERT_KINDS",
    "SEVERITIES",
    "Alert",
    "AlertSettings",
    "Baseline",
    "CountPoint",
    "CountSeries",
    "Event",
    "Record",
    "analyze_series",
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
