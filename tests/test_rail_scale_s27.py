"""The rail scale must not read simulated 0.5 m yards as about 0.24 m (session 27 audit:
``railwatch simulate --scene --gsd 0.5 --cars 40 --seed 7`` read 0.242 m, seed 6 0.230 m).

At 0.5 m the rails of a track are about 3 px apart, closer than MIN_SPACING_PX, so no
honest measurement exists; the pairs found were the near rails of two neighbouring tracks
(seed 7) and a car's shadowed side beside a rail (seed 6)."""

from __future__ import annotations

import numpy as np
import pytest

from railwatch.imagery.scale import RAIL_CENTRES_M, estimate_gsd_from_rails
from railwatch.sim import SceneParams, render_scene


@pytest.mark.parametrize("seed", [6, 7])
def test_simulated_half_metre_yard_is_not_read_as_a_quarter_metre(seed: int) -> None:
    # The image `railwatch simulate --scene --gsd 0.5 --cars 40 --seed N` writes.
    scene = render_scene(SceneParams(seed=seed, gsd=0.5, size_px=(1200, 1200), n_cars=40))
    r = estimate_gsd_from_rails(scene.image)
    # The simulator draws 1520 mm gauge (1.58 m between rail centres): read with the
    # standard-gauge constant, the truth is 0.5 * 1.505 / 1.58 = 0.476 m per pixel.
    truth = 0.5 * RAIL_CENTRES_M / 1.58
    assert not r.measured or r.gsd == pytest.approx(truth, rel=0.10), r


# Session 27, second pass: the bench's remaining wrong reads (benchmarks/bench_rail_scale.py,
# the same scenes). Each pair found lay across something wider than a rail: the ballast
# gaps either side of one track with its 2.7 m sleeper band between them (0.15 m read as
# 0.05 m: the track spacing taken for the gauge), the same edge of cars on neighbouring
# tracks with a roof and a lit side between (arid seed 6), or the near rails of two tracks
# with the bright ballast between them (0.5 and 0.75 m). Between a track's rails lies
# only its sleeper bed, which varies less than the rails stand out from it.
_MISREAD = [
    pytest.param(0.15, 7, {}, id="0.15m-temperate-seed7-read-0.051"),
    pytest.param(0.15, 7, {"style": "continental"}, id="0.15m-continental-seed7-read-0.051"),
    pytest.param(0.15, 6, {"style": "arid"}, id="0.15m-arid-seed6-read-0.050"),
    pytest.param(0.15, 7, {"style": "arid"}, id="0.15m-arid-seed7-read-0.051"),
    pytest.param(0.15, 7, {"style": "winter"}, id="0.15m-winter-seed7-read-0.051"),
    pytest.param(0.5, 4, {"yard_angle": 90.0}, id="0.5m-angle90-seed4-read-0.227"),
    pytest.param(0.5, 24, {"random": True}, id="0.5m-random-seed24-read-0.156"),
    pytest.param(0.75, 7, {"style": "arid"}, id="0.75m-arid-seed7-read-0.348"),
]


@pytest.mark.parametrize(("gsd", "seed", "changes"), _MISREAD)
def test_bench_scene_is_not_misread(gsd: float, seed: int, changes: dict[str, object]) -> None:
    from railwatch.sim import random_params

    side = min(round(600 / gsd), 1200)
    if changes.get("random"):
        p = random_params(seed, gsd=gsd, size_px=(side, side)).with_(n_cars=40)
    else:
        p = SceneParams(seed=seed, gsd=gsd, size_px=(side, side), n_cars=40).with_(**changes)
    r = estimate_gsd_from_rails(render_scene(p).image, rail_centres_m=1.58)
    assert not r.measured or r.gsd == pytest.approx(gsd, rel=0.10), r


def _one_track_at_15_cm(rails: bool) -> np.ndarray:
    """A 0.15 m image drawn here, like the simulator's yards: one track's 4 m bright
    ballast bed with its 2.7 m dark sleeper band, the darker ground between its bed and the
    next ones (a gap 0.65 m wide either side, 4.65 m apart), dark cars beyond; the rails
    (0.24 m wide, 1.58 m apart) drawn or not."""
    gsd, h, w = 0.15, 240, 100
    x = (np.arange(w) + 0.5) * gsd
    c = w * gsd / 2
    row = np.full(w, 0.30)
    row[np.abs(x - c) <= 3.3] = 0.62
    row[np.abs(np.abs(x - c) - 2.325) <= 0.325] = 0.42
    row[np.abs(x - c) <= 1.35] = 0.28
    if rails:
        for side in (-0.79, 0.79):
            lo, hi = c + side - 0.12, c + side + 0.12
            cover = np.clip(np.minimum(x + gsd / 2, hi) - np.maximum(x - gsd / 2, lo), 0, None)
            row = row * (1 - cover / gsd) + 0.12 * cover / gsd
    noise = np.random.default_rng(3).normal(0, 0.01, (h, w))
    return np.clip(np.tile(row, (h, 1)) + noise, 0, 1).astype(np.float32)


def test_gaps_either_side_of_a_sleeper_band_are_not_rails() -> None:
    # Without the rails, the two gaps are thin dark lines 31 px apart (the track spacing
    # less nothing): read as rails they gave 0.051 m. The sleeper band between them is a
    # step 4 times their contrast: not one track's bed.
    r = estimate_gsd_from_rails(_one_track_at_15_cm(rails=False), rail_centres_m=1.58)
    assert not r.measured, r


def test_rails_on_a_sleeper_band_are_still_measured() -> None:
    r = estimate_gsd_from_rails(_one_track_at_15_cm(rails=True), rail_centres_m=1.58)
    assert r.measured and r.gsd == pytest.approx(0.15, rel=0.03), r
