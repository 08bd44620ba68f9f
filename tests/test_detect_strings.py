"""String support (detect.strings): weak peaks kept only where they continue a string."""

from __future__ import annotations

import math

import pytest

from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.default import DefaultDetector
from railwatch.detect.strings import string_neighbours, support_strings
from railwatch.errors import InputError

GSD = 0.5
CAR_M, WIDTH_M, GAP_M = 14.0, 3.1, 1.0


def string(
    scores: list[float],
    angle: float = 30.0,
    origin: tuple[float, float] = (200.0, 200.0),
    offset_m: float = 0.0,
) -> list[Detection]:
    """Cars coupled along a line at ``angle`` degrees, with the given scores;
    ``offset_m`` moves the whole string sideways (another track)."""
    t = math.radians(angle)
    ux, uy = math.cos(t), math.sin(t)
    step = (CAR_M + GAP_M) / GSD
    ox = origin[0] - uy * offset_m / GSD
    oy = origin[1] + ux * offset_m / GSD
    return [
        Detection(
            OrientedBox(ox + k * step * ux, oy + k * step * uy, CAR_M / GSD, WIDTH_M / GSD, angle),
            score=s,
        )
        for k, s in enumerate(scores)
    ]


def kept_scores(dets: list[Detection], **kw: float) -> list[float]:
    th = dict(threshold=0.45, one_side=0.4, two_sides=0.3) | kw
    return [d.score for d in support_strings(dets, GSD, **th)]


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 137.0])
def test_weak_car_between_confident_cars_is_kept_at_any_angle(angle: float) -> None:
    assert kept_scores(string([0.8, 0.33, 0.7], angle)) == [0.8, 0.33, 0.7]


def test_weak_car_at_a_string_end_needs_the_one_side_score() -> None:
    assert kept_scores(string([0.8, 0.7, 0.35])) == [0.8, 0.7]  # clutter past the end
    assert kept_scores(string([0.8, 0.7, 0.42])) == [0.8, 0.7, 0.42]


def test_isolated_weak_peak_is_dropped_and_strings_grow_from_confident_cars() -> None:
    assert kept_scores(string([0.42])) == []
    assert kept_scores(string([0.42, 0.41, 0.43, 0.42])) == []  # no confident car at all
    # each kept car supports the next one along the string
    assert kept_scores(string([0.9, 0.42, 0.41, 0.43, 0.35])) == [0.9, 0.42, 0.41, 0.43]


def test_neighbours_on_other_tracks_or_across_do_not_support() -> None:
    main = string([0.9, 0.9, 0.9])
    beside = string([0.42, 0.42], offset_m=4.75)  # the next track, 4.75 m away
    assert kept_scores(main + beside) == [0.9, 0.9, 0.9]
    # a peak where the next car would be, but across the track
    last = main[-1].box
    t = math.radians(30.0)
    step = (CAR_M + GAP_M) / GSD
    across = Detection(
        OrientedBox(last.cx + step * math.cos(t), last.cy + step * math.sin(t), 28.0, 6.2, 120.0),
        score=0.42,
    )
    assert kept_scores([*main, across]) == [0.9, 0.9, 0.9]


@pytest.mark.parametrize(("spacing_m", "neighbour"), [(9.0, False), (15.0, True), (25.0, False)])
def test_only_a_car_length_away_is_a_neighbour(spacing_m: float, neighbour: bool) -> None:
    """15 m is one 14 m car plus the coupling gap; 9 m is a second peak on the same car,
    25 m a car after a gap of most of a car."""
    a = Detection(OrientedBox(100.0, 100.0, 28.0, 6.2, 0.0), score=0.9)
    b = Detection(OrientedBox(100.0 + spacing_m / GSD, 100.0, 28.0, 6.2, 0.0), score=0.42)
    assert string_neighbours([a, b], GSD) == (
        [[(1, True)], [(0, False)]] if neighbour else [[], []]
    )
    assert kept_scores([a, b]) == ([0.9, 0.42] if neighbour else [0.9])


def test_no_weak_candidates_and_bad_thresholds() -> None:
    dets = string([0.9, 0.2, 0.8])
    assert kept_scores(dets) == [0.9, 0.8]  # below two_sides: never a car
    assert support_strings([], GSD, threshold=0.45, one_side=0.4, two_sides=0.3) == []
    with pytest.raises(InputError, match="two_sides <= one_side <= threshold"):
        support_strings(dets, GSD, threshold=0.45, one_side=0.5, two_sides=0.3)


def test_default_detector_string_thresholds_are_capped_and_can_be_turned_off() -> None:
    assert DefaultDetector().string_thresholds == (0.4, 0.3)
    assert DefaultDetector(threshold=0.35).string_thresholds == (0.35, 0.3)
    assert DefaultDetector(string_thresholds=(0.45, 0.5)).string_thresholds == (0.45, 0.45)


def test_unreadable_string_thresholds_in_a_card_are_a_clear_error(tmp_path: object) -> None:
    import json
    import shutil
    from pathlib import Path

    from railwatch.detect.default import default_weights
    from railwatch.errors import DetectionError

    w = Path(str(tmp_path)) / "w.onnx"
    shutil.copy(default_weights(), w)
    w.with_suffix(".json").write_text(json.dumps({"string_thresholds": [0.4, 0.3]}))
    with pytest.raises(DetectionError, match="unreadable string_thresholds"):
        DefaultDetector(w)
