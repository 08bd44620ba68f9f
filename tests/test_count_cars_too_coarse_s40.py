"""``railwatch.count_cars`` of an image coarser than 10 m says it is too coarse
(2026-12-06, session 40): since 020097c ``detect`` reads no long-train flag there (it
was measured at 10 m only, and ``process`` stores such an image as unusable), and the
Python count said "only along given track centrelines ... no flag was read" of an image
given its centrelines."""

from __future__ import annotations

from pathlib import Path

import pytest

import railwatch
from railwatch.cli.main import main
from railwatch.errors import DetectionError
from railwatch.sites import load_tracks


def test_count_cars_of_a_15_m_image_says_too_coarse(tmp_path: Path) -> None:
    assert main(
        ["simulate", "--scene", "--gsd", "15", "--cars", "40", "--seed", "7",
         "--out", str(tmp_path), "--name", "c15"]
    ) == 0  # fmt: skip
    tracks = load_tracks(tmp_path / "c15.tracks.geojson")
    result = railwatch.detect_file(tmp_path / "c15.tif", tracks=tracks)
    assert result.method == "presence"
    with pytest.raises(DetectionError, match="too coarse to count railcars or to flag a long"):
        railwatch.count_cars(result)
