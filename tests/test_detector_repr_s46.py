"""``repr(DefaultDetector())`` is one line a notebook can read (2026-12-07, session 46:
it was ``<railwatch.detect.default.DefaultDetector object at 0x...>``)."""

from __future__ import annotations

from railwatch.detect.default import DefaultDetector


def test_the_default_detector_says_its_weights_version_threshold_and_views() -> None:
    det = DefaultDetector()
    text = repr(det)
    assert text.startswith("DefaultDetector(weights=") and "object at 0x" not in text
    assert f"version={det.version!r}" in text and "threshold=0.45" in text
    assert "views" not in text
    assert ", views=4)" in repr(DefaultDetector(views=4))
