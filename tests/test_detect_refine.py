"""Across-track refinement of detected boxes (``detect.refine``, detector v2.5)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.default import DefaultDetector, default_weights
from railwatch.detect.merge import box_array
from railwatch.detect.refine import (
    CARD_KEY,
    N_FEATURES,
    OFFSETS_M,
    Refiner,
    features,
)
from railwatch.errors import DetectionError

RED = (185, 60, 50)
GROUND = (120, 115, 105)
SHADOW = (40, 38, 36)


@pytest.fixture(scope="module")
def refiner() -> Refiner:
    ref = DefaultDetector().refiner
    assert ref is not None
    return ref


def _yard(
    gsd: float, angle: float, shadow_m: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, list[OrientedBox], np.ndarray]:
    """Three tracks 9.5 m apart, five 14 x 3 m red cars on each, on grey ground with a
    little noise; with ``shadow_m`` a dark band that wide beside every car on its
    positive across side. Returns the image, the cars' boxes and that direction."""
    n = round(200.0 / gsd)
    a = np.deg2rad(angle)
    u, v = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])  # as boxes
    rng = np.random.default_rng(seed)
    img = np.full((n, n, 3), GROUND, np.float32) + rng.normal(0.0, 4.0, (n, n, 3))
    cars = []
    for track in (-1, 0, 1):
        for k in range(-2, 3):
            c = np.array([n / 2, n / 2]) + u * k * 15.0 / gsd + v * track * 9.5 / gsd
            cars.append(OrientedBox(float(c[0]), float(c[1]), 14.0 / gsd, 3.0 / gsd, angle))
    for b in cars:
        if shadow_m:
            c = np.array([b.cx, b.cy]) + v * (1.5 + shadow_m / 2) / gsd
            s = OrientedBox(float(c[0]), float(c[1]), b.length, shadow_m / gsd, angle)
            cv2.fillPoly(img, [np.round(s.corners()).astype(np.int32)], SHADOW)
    for b in cars:
        cv2.fillPoly(img, [np.round(b.corners()).astype(np.int32)], RED)
    blurred = cv2.GaussianBlur(img, (0, 0), 0.6)
    return np.clip(blurred, 0, 255).astype(np.uint8), cars, v


def _boxes_at(
    cars: list[OrientedBox], v: np.ndarray, off_m: float, gsd: float, every: int = 1
) -> list[Detection]:
    """Detections of ``cars``, every ``every``-th one (from the first) moved ``off_m``
    metres along ``v``."""
    out = []
    for i, b in enumerate(cars):
        o = off_m / gsd if i % every == 0 else 0.0
        box = OrientedBox(b.cx + v[0] * o, b.cy + v[1] * o, b.length, b.width, b.angle)
        out.append(Detection(box, score=0.8))
    return out


@pytest.mark.parametrize("gsd", [0.3, 0.5])
@pytest.mark.parametrize("angle", [0.0, 20.0, 75.0])
def test_boxes_off_a_car_move_back(refiner: Refiner, gsd: float, angle: float) -> None:
    img, cars, v = _yard(gsd, angle)
    for off in (1.5, -1.5):
        # a third of the boxes 1.5 m off their cars, the others on them
        dets = _boxes_at(cars, v, off, gsd, every=3)
        moved = refiner.refine(img, gsd, dets)
        for i, (d, m, car) in enumerate(zip(dets, moved, cars, strict=True)):
            before = np.hypot(d.box.cx - car.cx, d.box.cy - car.cy) * gsd
            after = np.hypot(m.box.cx - car.cx, m.box.cy - car.cy) * gsd
            assert before == pytest.approx(1.5 if i % 3 == 0 else 0.0, abs=1e-9)
            assert after <= 0.5 + 1e-6, (i, off, after)
            if i % 3:
                assert m.box == d.box  # boxes on their cars stay
            # only the centre moves, across the car
            assert (m.box.length, m.box.width, m.box.angle) == (
                d.box.length,
                d.box.width,
                d.box.angle,
            )
            assert (m.score, m.cls) == (d.score, d.cls)


@pytest.mark.parametrize("gsd", [0.3, 0.5])
@pytest.mark.parametrize("angle", [0.0, 20.0, 75.0])
def test_not_moved_onto_a_shadow_band(refiner: Refiner, gsd: float, angle: float) -> None:
    img, cars, v = _yard(gsd, angle, shadow_m=3.0)
    # boxes on the cars stay, though a dark band of a car's width lies beside each
    on_car = refiner.offsets(img, gsd, _boxes_at(cars, v, 0.0, gsd))
    assert np.all(on_car == 0.0)
    # boxes leaning half onto the shadow never move further onto it (offsets are along
    # each box's across direction, which is v here)
    leaning = refiner.offsets(img, gsd, _boxes_at(cars, v, 1.5, gsd))
    assert np.all(leaning <= 0.0)
    assert np.mean(leaning < 0.0) >= 0.5  # and most move back onto the car


def _darkest_band_scorer(margin: float, **kw: float) -> Refiner:
    """A scorer that prefers the darkest band (minus the mean of the three channels at
    the window's centre): the shadow trap itself."""
    nw = (N_FEATURES - 2) // 5
    w1 = np.zeros((1, N_FEATURES), np.float32)
    w1[0, (nw // 2) * 3 : (nw // 2) * 3 + 3] = -1.0
    one = np.ones(N_FEATURES, np.float32)
    return Refiner(
        one * 0, one, w1, np.array([50.0], np.float32), np.ones(1, np.float32), margin, **kw
    )


def test_the_shadow_veto_keeps_boxes_off_the_shadow() -> None:
    img, cars, v = _yard(0.3, 20.0, shadow_m=3.0)
    dets = _boxes_at(cars, v, 0.0, 0.3)
    trap = _darkest_band_scorer(0.5, shadow_veto=np.inf)
    assert np.all(trap.offsets(img, 0.3, dets) >= 1.0)  # onto the shadow band
    kept = _darkest_band_scorer(0.5)
    assert np.all(kept.offsets(img, 0.3, dets) == 0.0)


@pytest.mark.parametrize("noise", [0.0, 4.0])
def test_nothing_moves_on_a_uniform_image(refiner: Refiner, noise: float) -> None:
    rng = np.random.default_rng(3)
    img = np.clip(128.0 + rng.normal(0.0, noise, (600, 600, 3)), 0, 255).astype(np.uint8)
    _, cars, v = _yard(0.5, 20.0)
    for off in (0.0, 1.5):
        assert np.all(refiner.offsets(img, 0.5, _boxes_at(cars, v, off, 0.5)) == 0.0)
    assert refiner.refine(img, 0.5, []) == []


def test_planar_view_gives_the_same_boxes(refiner: Refiner) -> None:
    img, cars, v = _yard(0.5, 20.0)
    dets = _boxes_at(cars, v, 1.5, 0.5, every=3)
    planar = np.ascontiguousarray(img.transpose(2, 0, 1)).transpose(1, 2, 0)
    assert not planar.flags.c_contiguous
    assert refiner.refine(planar, 0.5, dets) == refiner.refine(img, 0.5, dets)


def test_features_shape_and_offsets(refiner: Refiner) -> None:
    img, cars, v = _yard(0.5, 20.0)
    f, side, _ = features(img, box_array(_boxes_at(cars, v, 0.0, 0.5)), 0.5)
    assert f.shape == (len(cars), len(OFFSETS_M), refiner.mean.shape[0])
    assert f.dtype == np.float32 and np.isfinite(f).all()
    assert set(np.unique(side)) <= {-1.0, 1.0}
    assert OFFSETS_M[len(OFFSETS_M) // 2] == 0.0


def test_detector_v25_runs_the_card_refiner() -> None:
    det = DefaultDetector()
    assert det.version == DefaultDetector.version == det.card["version"] == "2.9"
    assert isinstance(det.refiner, Refiner)
    off = DefaultDetector(refine=False)
    assert off.refiner is None
    assert off.version.startswith("2.9+") and off.version != det.version
    # the detector moves a box on a tile as the refiner does
    img = _yard(0.5, 20.0)[0]
    assert det.refiner is not None
    raw = off.detect(img, 0.5)
    assert [d.box for d in det.detect(img, 0.5)] == [
        d.box for d in det.refiner.refine(img, 0.5, raw)
    ]


def test_unreadable_refiner_entries(tmp_path) -> None:  # type: ignore[no-untyped-def]
    weights = tmp_path / "w.onnx"
    weights.write_bytes(default_weights().read_bytes())
    card = json.loads(default_weights().with_suffix(".json").read_text())
    card.pop("int8", None)
    # a copy of the shipped card without the refiner's file: the package's refiner
    weights.with_suffix(".json").write_text(json.dumps(card))
    copy = DefaultDetector(weights)
    shipped = DefaultDetector().refiner
    assert copy.refiner is not None and shipped is not None
    assert copy.refiner.w1.tobytes() == shipped.w1.tobytes()
    card[CARD_KEY] = {"file": "missing.json"}
    weights.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(DetectionError, match="refiner weights"):
        DefaultDetector(weights)
    assert DefaultDetector(weights, refine=False).refiner is None
    card[CARD_KEY] = "yes"
    weights.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(DetectionError, match="unreadable refine entry"):
        DefaultDetector(weights)
    (tmp_path / "bad.json").write_text(json.dumps({"mean": [0.0] * 3}))
    card[CARD_KEY] = {"file": "bad.json"}
    weights.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(DetectionError):
        DefaultDetector(weights)
