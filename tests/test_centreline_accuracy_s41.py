"""How accurate a site's track centrelines must be (session 41): the benchmark's
perturbation moves each line by the distance asked (so its table means what it says),
and `site add --help` / `site edit --help` tell the analyst the accuracy needed."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import LineString, MultiLineString, Point

from helpers import load_benchmark
from railwatch.cli.main import main

bench = load_benchmark("bench_detect_accuracy")
GSD = 3.0


def _yard() -> MultiLineString:
    """Three parallel lines 1.6 px (4.8 m) apart across a 200 x 200 px image, running
    past its edges, and one diagonal line."""
    rows = (90.0, 91.6, 93.2)
    lines = [LineString([(-50.0, r), (250.0, r)]) for r in rows]
    lines.append(LineString([(20.0, 20.0), (180.0, 180.0)]))
    return MultiLineString(lines)


@pytest.mark.parametrize("offset_m", [0.5, 1.0, 3.0])
def test_each_line_is_moved_across_the_track_by_the_offset(offset_m: float) -> None:
    yard = _yard()
    moved = bench._perturbed(yard, (200, 200), GSD, np.random.default_rng(3), offset_m)
    assert len(moved.geoms) == len(yard.geoms)
    for old, new in zip(yard.geoms, moved.geoms, strict=True):
        # clipped to the image, then every point of the new line is offset_m away
        for f in (0.1, 0.5, 0.9):
            d_px = old.distance(new.interpolate(f, normalized=True))
            assert d_px * GSD == pytest.approx(offset_m, abs=1e-6)
        assert min(c for xy in new.coords for c in xy) >= 0.0
        assert max(c for xy in new.coords for c in xy) <= 200.0 + offset_m / GSD


def test_turn_moves_the_ends_and_keeps_the_middle() -> None:
    line = MultiLineString([LineString([(0.0, 100.0), (200.0, 100.0)])])
    turned = bench._perturbed(line, (200, 200), GSD, np.random.default_rng(1), 0.0, 0.2)
    new = turned.geoms[0]
    assert new.centroid.distance(Point(100.0, 100.0)) < 1e-6
    # 0.2 degrees over half of 600 m: 1.05 m at each end
    end_m = abs(new.coords[0][1] - 100.0) * GSD
    assert end_m == pytest.approx(300.0 * np.tan(np.radians(0.2)), rel=1e-3)


@pytest.mark.parametrize("command", ["add", "edit"])
def test_site_help_states_the_accuracy_the_tracks_need(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["site", command, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "within about 0.5 m of the middle of its track" in out
    assert "1 m or finer" in out
