"""String support (detect.strings): weak peaks kept only where they continue a string."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
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


def kept_scores(dets: list[Detection], **kw: float | bool) -> list[float]:
    th: dict[str, Any] = dict(threshold=0.45, one_side=0.4, two_sides=0.3) | kw
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


def _string_maps(scores: list[float], gh: int = 24, gw: int = 48) -> np.ndarray:
    """Network output (N_OUT, gh, gw) with one centre peak per score along grid row 12,
    7 cells (14 m at the working scale) apart: 14 m cars, axis along x, coupled in a
    string."""
    from railwatch.detect.model_core import N_OUT

    out = np.zeros((N_OUT, gh, gw), dtype=np.float32)
    out[0] = -10.0  # heat logit: nothing
    out[5] = 1.0  # cos 2θ: axis along x
    for k, s in enumerate(scores):
        out[0, 12, 5 + 7 * k] = math.log(s / (1.0 - s))
    return out


@pytest.mark.parametrize(
    ("gsd", "found"),
    [(0.3, 1), (0.5, 1), (0.7, 1), (0.75, 2), (1.0, 2), (1.5, 2)],
)
def test_coarse_string_thresholds_apply_only_from_their_resolution(
    monkeypatch: pytest.MonkeyPatch, gsd: float, found: int
) -> None:
    # a confident car (0.9) and a weak peak (0.37) one car length further along its
    # string: one side only, so 0.37 is a car from 0.75 m (one side 0.35), not finer (0.4)
    det = DefaultDetector(string_thresholds=(0.4, 0.3), coarse_string_thresholds=(0.75, 0.35, 0.3))
    maps = _string_maps([0.9, 0.37])
    monkeypatch.setattr(det, "predict_maps", lambda img, g, valid=None: (maps, g / 0.5))
    dets = det.detect(np.zeros((400, 400, 3), np.uint8), gsd)
    assert sorted(round(d.score, 2) for d in dets) == ([0.37, 0.9] if found == 2 else [0.9])
    assert det.string_thresholds_at(gsd) == ((0.35, 0.3) if found == 2 else (0.4, 0.3))
    # the same peaks without the coarse pair: 0.37 is never kept
    plain = DefaultDetector(string_thresholds=(0.4, 0.3))
    monkeypatch.setattr(plain, "predict_maps", lambda img, g, valid=None: (maps, g / 0.5))
    assert [round(d.score, 2) for d in plain.detect(np.zeros((400, 400, 3), np.uint8), gsd)] == [
        0.9
    ]


def test_shipped_card_lowers_the_one_side_threshold_from_06_m_only() -> None:
    """v2.4: the coarse pair from 0.6 m (v2.3: from 0.75 m)."""
    det = DefaultDetector()
    assert det.string_thresholds == (0.4, 0.3)
    assert det.coarse_string_thresholds == (0.6, 0.35, 0.3)
    fine, coarse = (0.4, 0.3), (0.35, 0.3)
    gsds = (0.24, 0.5, 0.55, 0.5999999, 0.6, 0.7, 0.75, 1.0)
    assert [det.string_thresholds_at(g) for g in gsds] == [fine] * 3 + [coarse] * 5


def test_coarse_string_thresholds_in_a_card_version_and_errors(tmp_path: object) -> None:
    import json
    import shutil
    from pathlib import Path

    from railwatch.detect.default import default_weights
    from railwatch.errors import DetectionError

    w = Path(str(tmp_path)) / "w.onnx"
    shutil.copy(default_weights(), w)
    card = {"threshold": 0.45, "string_thresholds": {"one_side": 0.4, "two_sides": 0.3}}
    w.with_suffix(".json").write_text(json.dumps(card))
    plain = DefaultDetector(w)
    assert plain.coarse_string_thresholds is None and plain.string_thresholds_at(1.0) == (0.4, 0.3)
    coarse = {"from_gsd": 0.75, "one_side": 0.5, "two_sides": 0.2}
    w.with_suffix(".json").write_text(json.dumps({**card, "string_thresholds_coarse": coarse}))
    det = DefaultDetector(w)
    # capped like the fine pair: one side at most the threshold
    assert det.coarse_string_thresholds == (0.75, 0.45, 0.2)
    assert det.string_thresholds_at(0.5) == (0.4, 0.3) and det.string_thresholds_at(1) == (
        0.45,
        0.2,
    )
    # the coarse pair is part of the version digest, so `railwatch process` redoes scenes
    assert det.version != plain.version and det.version.startswith("custom+")
    # explicit string thresholds alone apply at every resolution (the card's coarse pair
    # is not mixed in); explicit coarse ones keep the card's fine pair
    assert DefaultDetector(w, string_thresholds=(0.4, 0.3)).version == plain.version
    assert DefaultDetector(w, string_thresholds=(0.4, 0.3)).coarse_string_thresholds is None
    own = DefaultDetector(w, coarse_string_thresholds=(0.75, 0.5, 0.2))
    assert own.string_thresholds == (0.4, 0.3) and own.version == det.version
    for bad in ({"from_gsd": 0.75, "one_side": 0.35}, [0.75, 0.35, 0.3]):
        w.with_suffix(".json").write_text(json.dumps({**card, "string_thresholds_coarse": bad}))
        with pytest.raises(DetectionError, match="unreadable string_thresholds_coarse"):
            DefaultDetector(w)
    with pytest.raises(DetectionError, match="from_gsd, one_side, two_sides"):
        DefaultDetector(w, string_thresholds=(0.4, 0.3), coarse_string_thresholds=(0.35, 0.3))  # type: ignore[arg-type]


def test_pairs_let_two_weak_cars_continue_a_string_together() -> None:
    """The China panel's case (v2.7): a confident car, then a weak one (0.39, under the
    one-side 0.4) and a stronger end one (0.42) beyond it. Neither has a kept neighbour on
    its far side, so without ``pairs`` the string stops at the confident car; with them
    the inner one is supported on both sides and the end one then by it."""
    dets = string([0.9, 0.39, 0.42])
    assert kept_scores(dets) == [0.9]
    assert kept_scores(dets, pairs=True) == [0.9, 0.39, 0.42]


@pytest.mark.parametrize(
    ("scores", "kept"),
    [
        ([0.9, 0.39, 0.38], [0.9]),  # the end one is under one side: clutter past the end
        ([0.9, 0.29, 0.42], [0.9]),  # the inner one is under both sides
        ([0.42, 0.39, 0.42], []),  # no confident car: nothing grows
        ([0.9, 0.35, 0.41, 0.36], [0.9, 0.35, 0.41]),  # the last is an end under one side
        ([0.9, 0.33, 0.41, 0.8], [0.9, 0.33, 0.41, 0.8]),  # as before, kept on both sides
    ],
)
def test_pairs_keep_the_end_rule_and_need_a_confident_car(
    scores: list[float], kept: list[float]
) -> None:
    assert kept_scores(string(scores, angle=63.0), pairs=True) == kept


def test_string_pairs_from_the_card_apply_with_the_fine_pair_only(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import shutil
    from pathlib import Path

    from railwatch.detect.default import default_weights
    from railwatch.errors import DetectionError

    w = Path(str(tmp_path)) / "w.onnx"
    shutil.copy(default_weights(), w)
    strings = {"one_side": 0.4, "two_sides": 0.3}
    coarse = {"from_gsd": 0.6, "one_side": 0.4, "two_sides": 0.3}
    card = {"threshold": 0.45, "string_thresholds": strings, "string_thresholds_coarse": coarse}
    w.with_suffix(".json").write_text(json.dumps(card))
    plain = DefaultDetector(w)
    w.with_suffix(".json").write_text(
        json.dumps({**card, "string_thresholds": {**strings, "pairs": True}})
    )
    det = DefaultDetector(w)
    assert det.string_pairs and not plain.string_pairs
    assert [det.string_pairs_at(g) for g in (0.3, 0.59, 0.6, 1.0)] == [True, True, False, False]
    # part of the version digest (`railwatch process` redoes scenes); an explicit
    # string_pairs=False is the plain detector
    assert det.version != plain.version
    assert DefaultDetector(w, string_pairs=False).version == plain.version
    maps = _string_maps([0.9, 0.39, 0.42])
    for d in (det, plain):
        monkeypatch.setattr(d, "predict_maps", lambda img, g, valid=None: (maps, g / 0.5))
    found = {
        (name, g): sorted(round(x.score, 2) for x in d.detect(np.zeros((400, 400, 3), np.uint8), g))
        for name, d in (("pairs", det), ("plain", plain))
        for g in (0.5, 0.75)
    }
    assert found == {
        ("pairs", 0.5): [0.39, 0.42, 0.9],
        ("pairs", 0.75): [0.9],
        ("plain", 0.5): [0.9],
        ("plain", 0.75): [0.9],
    }
    w.with_suffix(".json").write_text(
        json.dumps({**card, "string_thresholds": {**strings, "pairs": "yes"}})
    )
    with pytest.raises(DetectionError, match="pairs 'yes', not true or false"):
        DefaultDetector(w)
