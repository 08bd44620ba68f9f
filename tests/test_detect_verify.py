"""Second-stage verification of car candidates (``detect.verify``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.default import DefaultDetector, default_weights
from railwatch.detect.merge import box_array
from railwatch.detect.model_core import decode
from railwatch.detect.registry import get_detector
from railwatch.detect.strings import support_strings
from railwatch.detect.verify import (
    CARD_KEY,
    FEATURE_NAMES,
    N_FEATURES,
    Verifier,
    candidate_labels,
    features,
    fit,
)
from railwatch.errors import DetectionError

RED = (185, 60, 50)
GROUND = (120, 115, 105)
SHADOW = (40, 38, 36)


def _yard(gsd: float, angle: float, seed: int = 0) -> tuple[np.ndarray, list[OrientedBox]]:
    """Three tracks 9.5 m apart, five 14 x 3 m red cars on each with a dark shadow band
    1.5 m wide beside every car, on grey ground with a little noise."""
    n = round(200.0 / gsd)
    a = np.deg2rad(angle)
    u, v = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    rng = np.random.default_rng(seed)
    img = np.full((n, n, 3), GROUND, np.float32) + rng.normal(0.0, 4.0, (n, n, 3))
    cars = []
    for track in (-1, 0, 1):
        for k in range(-2, 3):
            c = np.array([n / 2, n / 2]) + u * k * 15.0 / gsd + v * track * 9.5 / gsd
            cars.append(OrientedBox(float(c[0]), float(c[1]), 14.0 / gsd, 3.0 / gsd, angle))
    for b in cars:
        c = np.array([b.cx, b.cy]) + v * 2.25 / gsd
        s = OrientedBox(float(c[0]), float(c[1]), b.length, 1.5 / gsd, angle)
        cv2.fillPoly(img, [np.round(s.corners()).astype(np.int32)], SHADOW)
    for b in cars:
        cv2.fillPoly(img, [np.round(b.corners()).astype(np.int32)], RED)
    blurred = cv2.GaussianBlur(img, (0, 0), 0.6)
    return np.clip(blurred, 0, 255).astype(np.uint8), cars


@pytest.fixture(scope="module")
def verified() -> DefaultDetector:
    return DefaultDetector(verify=True)


def test_verify_false_gives_the_v25_detections_exactly() -> None:
    """Without the verifier the detector's boxes are v2.5's path, step by step: peaks
    down to the lower string threshold, string support, across refinement."""
    det = DefaultDetector(verify=False)
    assert det.verifier is None
    for gsd, angle in ((0.5, 20.0), (0.75, 100.0)):
        img, _ = _yard(gsd, angle, seed=3)
        out, scale = det.predict_maps(img, gsd)
        one, two = det.string_thresholds_at(gsd)
        raw = decode(out, two)
        cands = [d for r in raw if (d := det._to_detection(r, scale, gsd, img.shape, None))]
        kept = support_strings(cands, gsd, threshold=det.threshold, one_side=one, two_sides=two)
        assert det.refiner is not None
        expected = det.refiner.refine(img, gsd, kept)
        got = det.detect(img, gsd)
        assert [(d.box, d.score, d.cls) for d in got] == [(d.box, d.score, d.cls) for d in expected]
        # the candidates' kept flags are string support's
        c2, k2 = det.candidates(img, gsd, out, scale, low=two)
        assert [d.box for d, k in zip(c2, k2, strict=True) if k] == [d.box for d in kept]


def test_verifier_drops_boxes_moved_onto_the_shadow_side(verified: DefaultDetector) -> None:
    """The detector's own boxes on a yard of red cars with dark shadow bands score high;
    copies of them moved 4.75 m across onto the shadow side (shadow and ground, where a
    false box beside a car sits) score low, though string support would keep them."""
    ver = verified.verifier
    assert ver is not None
    gsd, angle = 0.3, 120.0
    img, _ = _yard(gsd, angle, seed=1)
    out, scale = verified.predict_maps(img, gsd)
    cands, kept = verified.candidates(img, gsd, out, scale)
    on = [d for d, k in zip(cands, kept, strict=True) if k]
    assert len(on) >= 6
    a = np.deg2rad(angle)
    v = np.array([-np.sin(a), np.cos(a)]) * 4.75 / gsd
    off = [
        dataclasses.replace(
            d,
            box=OrientedBox(
                d.box.cx + v[0], d.box.cy + v[1], d.box.length, d.box.width, d.box.angle
            ),
        )
        for d in on
    ]
    both = on + off
    p = ver.probabilities(
        features(img, gsd, both, np.ones(len(both), bool), verified.network_maps(out, scale))
    )
    p_on, p_off = p[: len(on)], p[len(on) :]
    assert np.median(p_on) > 0.8
    assert np.median(p_off) < 0.5
    assert p_on.mean() - p_off.mean() > 0.4


def test_detector_with_verifier_finds_more_of_the_yard(verified: DefaultDetector) -> None:
    """On yards of red cars with dark shadow bands (weak peaks for the network) the
    verifier admits cars that string support leaves out, and no false box."""
    from railwatch.detect.eval import match

    plain = DefaultDetector(verify=False)
    found = {"verify": 0, "plain": 0}
    for gsd in (0.3, 0.5):
        for angle in (10.0, 75.0, 120.0):
            img, cars = _yard(gsd, angle, seed=2)
            truth = [Detection(b) for b in cars]
            for name, det in (("verify", verified), ("plain", plain)):
                dets = det.detect(img, gsd)
                m = match(truth, dets, 0.3)
                assert len(dets) == len(m.pairs)  # no false box
                found[name] += len(m.pairs)
    assert found["verify"] >= found["plain"] + 5
    # nothing on empty ground with noise
    rng = np.random.default_rng(0)
    flat = np.clip(
        np.full((400, 400, 3), GROUND, np.float32) + rng.normal(0, 6, (400, 400, 3)), 0, 255
    )
    assert verified.detect(flat.astype(np.uint8), 0.5) == []


def test_decision_rule() -> None:
    """Kept candidates stay unless below drop_below; others need admit_from."""
    h = 2
    ver = Verifier(
        np.zeros(N_FEATURES, np.float32),
        np.ones(N_FEATURES, np.float32),
        np.zeros((h, N_FEATURES), np.float32),
        np.zeros(h, np.float32),
        np.zeros(h, np.float32),
        drop_below=0.3,
        admit_from=0.7,
    )
    prob = np.array([0.1, 0.5, 0.9, 0.1, 0.5, 0.9])
    kept = np.array([True, True, True, False, False, False])
    assert ver.decide(prob, kept).tolist() == [False, True, True, False, False, True]
    assert ver.probabilities(np.zeros((3, N_FEATURES), np.float32)).tolist() == [0.5] * 3


def test_fit_separates_and_json_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, N_FEATURES)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 3] > 0).astype(float)
    ver = fit(x, y, hidden=4, max_iter=200)
    p = ver.probabilities(x)
    assert ((p >= 0.5) == (y == 1)).mean() > 0.95
    path = tmp_path / "v.json"
    path.write_text(json.dumps(ver.to_dict()))
    back = Verifier.from_card(
        {"file": "v.json", "drop_below": 0.1, "admit_from": 0.9, "min_peak": 0.3},
        tmp_path / "w.onnx",
    )
    assert np.array_equal(back.probabilities(x), p)
    assert (back.drop_below, back.admit_from, back.min_peak) == (0.1, 0.9, 0.3)
    data = ver.to_dict()
    data["features"] = [*FEATURE_NAMES[:-1], "something else"]
    with pytest.raises(DetectionError, match="other features"):
        Verifier.from_dict(data)
    with pytest.raises(DetectionError, match="unreadable"):
        Verifier.from_card({"files": "v.json"}, tmp_path / "w.onnx")


def test_labels_prefer_kept_candidates() -> None:
    car = OrientedBox(100, 100, 28, 6, 0)
    truth = [Detection(car)]
    strong = Detection(OrientedBox(101, 100, 28, 6, 0), score=0.9)  # IoU ~0.93
    dup = Detection(OrientedBox(100, 100, 28, 6, 0), score=0.35)  # IoU 1, not kept
    far = Detection(OrientedBox(100, 160, 28, 6, 0), score=0.35)
    y = candidate_labels([strong, dup, far], truth, np.array([True, False, False]))
    assert y.tolist() == [1.0, 0.0, 0.0]
    near = Detection(OrientedBox(100, 104, 28, 6, 0), score=0.5)  # IoU ~0.2: loose match
    assert candidate_labels([near], truth, np.array([True])).tolist() == [1.0]


def test_options_and_versions(verified: DefaultDetector) -> None:
    plain = DefaultDetector(verify=False)
    card_has = CARD_KEY in plain.card
    assert verified.verifier is not None
    assert (verified.version == plain.version) is False
    named = get_detector("default?verify=true")
    assert named.verifier is not None  # type: ignore[attr-defined]
    assert named.version == verified.version
    off = get_detector("default?views=2&verify=false")
    assert off.verifier is None and off.views == 2  # type: ignore[attr-defined]
    assert get_detector(f"default:{default_weights()}?verify=no").verifier is None  # type: ignore[attr-defined]
    with pytest.raises(DetectionError, match="true or false"):
        get_detector("default?verify=maybe")
    with pytest.raises(DetectionError, match="unknown option"):
        get_detector("default?verfy=true")
    # the card's own choice is the plain version
    assert DefaultDetector().version == (verified.version if card_has else plain.version)


def test_features_shape_and_empty(verified: DefaultDetector) -> None:
    img, cars = _yard(0.5, 0.0)
    dets = [Detection(b, score=0.5) for b in cars]
    f = features(img, 0.5, dets, np.ones(len(dets), bool))
    assert f.shape == (len(cars), N_FEATURES) and np.isfinite(f).all()
    assert features(img, 0.5, [], np.zeros(0, bool)).shape == (0, N_FEATURES)
    assert box_array(dets).shape == (len(cars), 5)
    assert verified.verifier is not None
    assert verified.verifier.select(img, 0.5, [], np.zeros(0, bool)) == []
