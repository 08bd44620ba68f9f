"""The report's version caveat: two detector versions among object counts are flagged;
length counts, recorded with the detector's version plus the length estimator's, are
not a second detector, but two estimator versions among them are flagged."""

from __future__ import annotations

from datetime import UTC, datetime

from railwatch.report.caveats import build_caveats
from railwatch.report.model import SceneRow


def _row(i: int, method: str, version: str) -> SceneRow:
    return SceneRow(
        scene_id=i,
        when=datetime(2023, 1, 1 + i, tzinfo=UTC),
        sensor=None,
        gsd=0.5 if method == "objects" else 3.0,
        usable=True,
        clear_fraction=1.0,
        coverage=1.0,
        total=10.0,
        low=8.0,
        high=12.0,
        method=method,
        detector="railwatch-default",
        detector_version=version,
    )


def _version_caveats(rows: list[SceneRow]) -> list[str]:
    return [c for c in build_caveats(rows) if "versions" in c]


def test_length_counts_are_not_a_second_detector() -> None:
    rows = [_row(0, "objects", "2.3"), _row(1, "objects", "2.3"), _row(2, "length", "2.3+length2")]
    assert _version_caveats(rows) == []


def test_mixed_versions_within_a_method_are_flagged() -> None:
    rows = [_row(0, "objects", "2.2"), _row(1, "objects", "2.3"), _row(2, "length", "2.3+length2")]
    (caveat,) = _version_caveats(rows)
    assert "2 detector versions" in caveat and "2.2" in caveat and "length2" not in caveat
    rows = [_row(0, "length", "2.3"), _row(1, "length", "2.3+length2")]
    (caveat,) = _version_caveats(rows)
    assert "2 versions (length counts)" in caveat
