"""Count calibration: what a detector's detections mean as a number of railcars.

A detector misses some cars and reports some things that are not cars, and how many
depends on its score and on the resolution. A :class:`Calibration` records both,
measured on labelled scenes the detector was not trained on:

- **precision by score**: the share of detections in each score bin that matched a true
  car (IoU 0.3), smoothed and made non-decreasing in the score;
- **recall by resolution**: the share of true cars detected at each ground sample
  distance, with its scene-to-scene spread.

A scene's count is then ``sum(precision(score_i)) / recall(gsd)`` with a 90 % interval
from three sources of error: which detections are real (a sum of Bernoulli variables),
how many cars were missed (given the real ones and the recall, negative binomial), and
how far this scene's recall may sit from the average (the measured scene-to-scene
spread). The interval is the 5th to 95th percentile of the number of cars drawn from
these three (:meth:`Calibration.estimate`, a fixed-seed Monte Carlo), not a normal
approximation: with few detections a normal interval shrinks to the detections
themselves (0 to 0 for none), while cars can still have been missed. The numbers behind
a calibration are stored with the detector's weights (``railwatch calibrate``); a
detector without one gets the uncalibrated interval of
:func:`railwatch.counting.count_interval`.

For detectors that report class probabilities (``p_<class>`` in a detection's
``extra``), the calibration also measures **class precision by confidence**: among
detections that matched a true car, the share whose most probable class is the true
one, per bin of that class's probability. From it comes the **class threshold**: the
lowest confidence at which labelled types are right at least
:data:`CLASS_PRECISION_TARGET` of the time; below it a detection is reported as the
generic ``railcar``.
"""

from __future__ import annotations

import bisect
import json
import math
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from railwatch.detect.base import CAR_CLASSES, GENERIC_CLASS
from railwatch.errors import InputError

if TYPE_CHECKING:
    from railwatch.detect.labels import LabelledSet

#: Score bins of the precision table (the last bin ends at 1).
DEFAULT_SCORE_EDGES: tuple[float, ...] = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
#: Recall is never taken below this (a count would explode on a scene unlike the
#: calibration set).
MIN_RECALL = 0.25
#: The scene-to-scene spread (sd) of recall a calibration assumes at a resolution with
#: fewer than two scenes of 5 or more cars, where none can be measured; marked in the
#: card (``recall_sd_assumed``, since 2026-12-07, session 50).
ASSUMED_RECALL_SD = 0.1
#: Draws of the Monte Carlo that gives the calibrated interval, and its seed (fixed: the
#: same scores at the same resolution always give the same interval).
INTERVAL_DRAWS = 4000
INTERVAL_SEED = 20261204
#: Up to this many detections, which of them are real is drawn detection by detection;
#: beyond, their number is drawn from its normal approximation (exact enough there).
EXACT_DETECTIONS = 200
#: Confidence bins (probability of the most probable class) of the class precision table.
DEFAULT_CLASS_EDGES: tuple[float, ...] = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
#: A type is reported only where labelled types were right at least this often.
CLASS_PRECISION_TARGET = 0.8
#: Fewest matched detections at or above a candidate class threshold to trust it.
MIN_CLASS_SAMPLES = 20

__all__ = [
    "Calibration",
    "CalibrationSample",
    "fit_calibration",
]


@dataclass(frozen=True)
class CalibrationSample:
    """One labelled scene: the detections' scores, which of them matched a true car,
    and how many true cars there were."""

    gsd: float
    scores: tuple[float, ...]
    matched: tuple[bool, ...]
    n_truth: int
    #: For matched detections with class probabilities: the most probable class's
    #: probability, and whether that class is the true car's class.
    class_conf: tuple[float, ...] = ()
    class_hit: tuple[bool, ...] = ()
    #: The most probable class of each of those detections (empty in samples made
    #: before per-class thresholds; then only the common threshold is fitted).
    class_pred: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.scores) != len(self.matched):
            raise InputError("a calibration sample needs one matched flag per score")
        if len(self.class_conf) != len(self.class_hit):
            raise InputError("a calibration sample needs one class hit flag per confidence")
        if self.class_pred and len(self.class_pred) != len(self.class_conf):
            raise InputError("a calibration sample needs one predicted class per confidence")


@dataclass(frozen=True)
class Calibration:
    """Precision by score bin and recall by resolution of one detector (module docs)."""

    score_edges: tuple[float, ...]
    precision: tuple[float, ...]
    gsd: tuple[float, ...]
    recall: tuple[float, ...]
    recall_sd: tuple[float, ...]
    scenes: int = 0
    source: str = ""
    #: Class precision by confidence bin (empty when the detector has no class
    #: probabilities) and the class threshold chosen from it (None: never label types).
    class_edges: tuple[float, ...] = ()
    class_precision: tuple[float, ...] = ()
    class_counts: tuple[int, ...] = ()
    class_threshold: float | None = None
    #: Per class (since detector 2.8): the confidence from which that class is reported
    #: (None: never). Empty in calibrations made before; then ``class_threshold`` serves
    #: every class (:meth:`type_threshold`).
    class_thresholds: Mapping[str, float | None] = field(default_factory=dict)
    #: Per resolution of :attr:`gsd`: whether its ``recall_sd`` is the assumed
    #: :data:`ASSUMED_RECALL_SD`, not measured (fewer than two scenes of 5 or more cars
    #: there). Empty in calibrations made before 2026-12-07 (session 50), whose cards
    #: did not say so: unknown, read as measured.
    recall_sd_assumed: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        if len(self.score_edges) != len(self.precision) + 1 or not self.precision:
            raise InputError("calibration: score_edges must have one more entry than precision")
        if not (len(self.gsd) == len(self.recall) == len(self.recall_sd)) or not self.gsd:
            raise InputError("calibration: gsd, recall and recall_sd must have the same length")
        if self.recall_sd_assumed and len(self.recall_sd_assumed) != len(self.gsd):
            raise InputError(
                "calibration: recall_sd_assumed must have one flag per gsd (or be absent)"
            )
        if list(self.gsd) != sorted(self.gsd):
            raise InputError("calibration: gsd values must be increasing")
        values = (*self.precision, *self.recall, *self.class_precision)
        if any(not 0.0 <= v <= 1.0 for v in values):
            raise InputError("calibration: precision and recall must lie in [0, 1]")
        if self.class_edges and not (
            len(self.class_edges) == len(self.class_precision) + 1 == len(self.class_counts) + 1
        ):
            raise InputError(
                "calibration: class_edges must have one more entry than class_precision "
                "and class_counts"
            )
        for c, t in self.class_thresholds.items():
            if t is not None and not 0.0 <= t <= 1.0:
                raise InputError(
                    f"calibration: the class threshold of {c!r} must lie in [0, 1] or be null "
                    f"(never reported), got {t}"
                )

    def type_threshold(self, cls: str) -> float | None:
        """The confidence from which a detection whose most probable class is ``cls`` is
        reported as that class (None: never). With per-class thresholds a class they do
        not name is never reported."""
        if self.class_thresholds:
            return self.class_thresholds.get(cls)
        return self.class_threshold

    def precision_of(self, scores: Sequence[float] | np.ndarray) -> np.ndarray:
        """Probability that a detection with each score is a railcar."""
        s = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
        edges = np.asarray(self.score_edges[1:-1])
        idx = np.searchsorted(edges, s, side="right")
        return np.asarray(self.precision, dtype=np.float64)[idx]

    @property
    def sd_assumed(self) -> bool:
        """Whether the spread of recall is assumed at any of its resolutions."""
        return any(self.recall_sd_assumed)

    def spread_assumed_at(self, gsd: float) -> bool:
        """Whether the scene-to-scene spread :meth:`recall_at` gives at ``gsd`` rests on
        an assumed value: that of the nearest resolution on either side (beyond the
        range, the end one) is assumed."""
        if not self.recall_sd_assumed:
            return False
        i = bisect.bisect_left(self.gsd, gsd)
        if i < len(self.gsd) and math.isclose(self.gsd[i], gsd):
            return self.recall_sd_assumed[i]
        near = {min(max(i - 1, 0), len(self.gsd) - 1), min(i, len(self.gsd) - 1)}
        return any(self.recall_sd_assumed[j] for j in near)

    def spread_note(self, gsd: float) -> str | None:
        """What a count's interval at ``gsd`` should say of its spread when it is assumed
        (None when measured, or not known): the interval then rests on a guess."""
        if not self.spread_assumed_at(gsd):
            return None
        _, sd = self.recall_at(gsd)
        return (
            f"the interval at {gsd:g} m rests on an assumed scene-to-scene spread of recall "
            f"(sd {sd:.2f}), not a measured one: the calibration had fewer than 2 scenes of "
            "5 or more cars at that resolution; calibrate on more labelled images there"
        )

    def recall_at(self, gsd: float) -> tuple[float, float]:
        """Average recall at ``gsd`` and its scene-to-scene standard deviation
        (interpolated; constant beyond the calibrated range)."""
        r = float(np.interp(gsd, self.gsd, self.recall))
        sd = float(np.interp(gsd, self.gsd, self.recall_sd))
        return max(r, MIN_RECALL), sd

    def estimate(
        self, scores: Sequence[float] | np.ndarray, gsd: float
    ) -> tuple[float, float, float]:
        """``(count, low, high)``: the calibrated number of railcars behind detections
        with these ``scores`` at ``gsd`` (``sum(precision) / recall``), with a 90 %
        interval: the 5th and 95th percentiles of the number of cars when which
        detections are real (Bernoulli with their precision), this scene's recall
        (normal around the calibrated one with its scene-to-scene spread, kept within
        [``MIN_RECALL``, 1]) and the cars missed given both (negative binomial: the
        failures before one more detection than the real ones) are drawn together,
        ``INTERVAL_DRAWS`` times with a fixed seed. No detections at 0.5 m (recall
        about 0.8) give 0 to 1 or 2 cars, not 0 to 0."""
        p = self.precision_of(scores)
        tp = float(p.sum())
        r, sd = self.recall_at(gsd)
        count = tp / r
        rng = np.random.default_rng(INTERVAL_SEED)
        if len(p) <= EXACT_DETECTIONS:
            real = (rng.random((INTERVAL_DRAWS, len(p))) < p).sum(axis=1)
        else:
            sigma = math.sqrt(float((p * (1.0 - p)).sum()))
            real = np.maximum(np.rint(rng.normal(tp, sigma, INTERVAL_DRAWS)), 0.0).astype(np.int64)
        recall = np.clip(rng.normal(r, sd, INTERVAL_DRAWS), MIN_RECALL, 1.0)
        cars = real + rng.negative_binomial(real + 1, recall)
        low = float(np.quantile(cars, 0.05, method="lower"))
        high = float(np.quantile(cars, 0.95, method="higher"))
        return round(count, 2), round(min(low, count), 2), round(max(high, count), 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "score_edges": list(self.score_edges),
            "precision": list(self.precision),
            "gsd": list(self.gsd),
            "recall": list(self.recall),
            "recall_sd": list(self.recall_sd),
            "scenes": self.scenes,
            "source": self.source,
            "class_edges": list(self.class_edges),
            "class_precision": list(self.class_precision),
            "class_counts": list(self.class_counts),
            "class_threshold": self.class_threshold,
            "class_thresholds": dict(self.class_thresholds),
            # only where some spread is assumed: a card of measured ones is as before
            **({"recall_sd_assumed": list(self.recall_sd_assumed)} if self.sd_assumed else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        try:
            return cls(
                score_edges=tuple(float(v) for v in data["score_edges"]),
                precision=tuple(float(v) for v in data["precision"]),
                gsd=tuple(float(v) for v in data["gsd"]),
                recall=tuple(float(v) for v in data["recall"]),
                recall_sd=tuple(float(v) for v in data["recall_sd"]),
                scenes=int(data.get("scenes", 0)),
                source=str(data.get("source", "")),
                class_edges=tuple(float(v) for v in data.get("class_edges", ())),
                class_precision=tuple(float(v) for v in data.get("class_precision", ())),
                class_counts=tuple(int(v) for v in data.get("class_counts", ())),
                class_threshold=(
                    None if data.get("class_threshold") is None else float(data["class_threshold"])
                ),
                class_thresholds={
                    str(k): None if v is None else float(v)
                    for k, v in dict(data.get("class_thresholds") or {}).items()
                },
                recall_sd_assumed=tuple(bool(v) for v in data.get("recall_sd_assumed") or ()),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(
                f"calibration record is incomplete or malformed ({err}): "
                "re-run `railwatch calibrate` on the weights"
            ) from err


def _monotone(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted isotonic (non-decreasing) fit by pooling adjacent violators."""
    blocks: list[list[float]] = []  # [value, weight, size]
    for v, w in zip(values, weights, strict=True):
        blocks.append([float(v), float(w), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            wt = w1 + w2
            blocks.append([(v1 * w1 + v2 * w2) / wt if wt > 0 else v1, wt, n1 + n2])
    return np.concatenate([np.full(int(n), v) for v, _, n in blocks])


def choose_class_threshold(
    conf: np.ndarray,
    hit: np.ndarray,
    edges: Sequence[float] = DEFAULT_CLASS_EDGES,
    target: float = CLASS_PRECISION_TARGET,
    min_samples: int = MIN_CLASS_SAMPLES,
) -> float | None:
    """The lowest bin edge ``t`` such that detections whose class confidence is at least
    ``t`` have the right class at least ``target`` of the time (over at least
    ``min_samples`` of them); None when no edge qualifies (types are never reported)."""
    for t in edges[:-1]:
        sel = conf >= t
        n = int(sel.sum())
        if n >= min_samples and float(hit[sel].mean()) >= target:
            return float(t)
    return None


def choose_class_thresholds(
    conf: np.ndarray,
    pred: Sequence[str],
    hit: np.ndarray,
    classes: Sequence[str] = (),
    edges: Sequence[float] = DEFAULT_CLASS_EDGES,
    target: float = CLASS_PRECISION_TARGET,
    min_samples: int = MIN_CLASS_SAMPLES,
) -> dict[str, float | None]:
    """Per class, :func:`choose_class_threshold` over the detections whose most probable
    class is that class: the lowest confidence from which it is right at least
    ``target`` of the time. Every class in ``classes`` or in ``pred`` gets an entry;
    one never predicted, or never right often enough, gets None (never reported)."""
    pred_arr = np.asarray(pred, dtype=object)
    out: dict[str, float | None] = {}
    for c in sorted({*classes, *(str(p) for p in pred)}):
        sel = pred_arr == c
        out[c] = choose_class_threshold(conf[sel], hit[sel], edges, target, min_samples)
    return out


def fit_calibration(
    samples: Sequence[CalibrationSample],
    *,
    classes: Sequence[str] = (),
    score_edges: Sequence[float] = DEFAULT_SCORE_EDGES,
    class_edges: Sequence[float] = DEFAULT_CLASS_EDGES,
    class_target: float = CLASS_PRECISION_TARGET,
    source: str = "",
) -> Calibration:
    """Fit precision by score and recall by resolution from labelled scenes.

    Precision per bin is smoothed towards 0.5 with one pseudo-count each way and made
    non-decreasing in the score; recall per resolution is pooled over that
    resolution's scenes, with the standard deviation of the per-scene recall of scenes
    holding at least five cars. Where the samples carry class confidences, the class
    precision per confidence bin and the class threshold
    (:func:`choose_class_threshold` with ``class_target``) are fitted too, and where
    they also carry the predicted classes, one threshold per class
    (:func:`choose_class_thresholds`; ``classes``: the detector's classes, so that one
    it never predicts is recorded as never reported).
    """
    if not samples:
        raise InputError("calibration needs at least one labelled scene")
    edges = np.asarray(score_edges, dtype=np.float64)
    scores = np.concatenate([np.asarray(s.scores, dtype=np.float64) for s in samples])
    hits = np.concatenate([np.asarray(s.matched, dtype=np.float64) for s in samples])
    idx = np.searchsorted(edges[1:-1], np.clip(scores, 0.0, 1.0), side="right")
    k = len(edges) - 1
    n = np.bincount(idx, minlength=k).astype(np.float64)
    tp = np.bincount(idx, weights=hits, minlength=k)
    prec = _monotone((tp + 1.0) / (n + 2.0), n + 2.0)
    gsds = sorted({round(s.gsd, 3) for s in samples})
    recall, spread, assumed = [], [], []
    for g in gsds:
        group = [s for s in samples if round(s.gsd, 3) == g]
        truth = sum(s.n_truth for s in group)
        found = sum(sum(s.matched) for s in group)
        recall.append(found / truth if truth else 1.0)
        per_scene = [sum(s.matched) / s.n_truth for s in group if s.n_truth >= 5]
        measured = len(per_scene) > 1
        spread.append(float(np.std(per_scene, ddof=1)) if measured else ASSUMED_RECALL_SD)
        assumed.append(not measured)
    conf = np.concatenate([np.asarray(s.class_conf, dtype=np.float64) for s in samples])
    chit = np.concatenate([np.asarray(s.class_hit, dtype=np.float64) for s in samples])
    cls_fields: dict[str, Any] = {}
    if conf.size:
        cedges = np.asarray(class_edges, dtype=np.float64)
        cidx = np.searchsorted(cedges[1:-1], np.clip(conf, 0.0, 1.0), side="right")
        kc = len(cedges) - 1
        cn = np.bincount(cidx, minlength=kc)
        ctp = np.bincount(cidx, weights=chit, minlength=kc)
        cls_fields = {
            "class_edges": tuple(float(e) for e in cedges),
            "class_precision": tuple(float(v) for v in (ctp + 1.0) / (cn + 2.0)),
            "class_counts": tuple(int(v) for v in cn),
            "class_threshold": choose_class_threshold(
                conf, chit > 0.5, tuple(float(e) for e in cedges), class_target
            ),
        }
        preds = [p for s in samples for p in s.class_pred]
        if len(preds) == conf.size:
            cls_fields["class_thresholds"] = choose_class_thresholds(
                conf, preds, chit > 0.5, classes, tuple(float(e) for e in cedges), class_target
            )
    return Calibration(
        score_edges=tuple(float(e) for e in edges),
        precision=tuple(float(p) for p in np.clip(prec, 0.0, 1.0)),
        gsd=tuple(float(g) for g in gsds),
        recall=tuple(float(min(max(r, 0.0), 1.0)) for r in recall),
        recall_sd=tuple(spread),
        scenes=len(samples),
        source=source,
        recall_sd_assumed=tuple(assumed) if any(assumed) else (),
        **cls_fields,
    )


def _truth_box(poly_px: np.ndarray) -> Any:
    import cv2

    from railwatch.detect.base import Detection, OrientedBox

    (cx, cy), (a, b), ang = cv2.minAreaRect(np.asarray(poly_px, dtype=np.float32))
    if a < b:
        a, b, ang = b, a, ang + 90.0
    return Detection(OrientedBox(cx, cy, a, b, ang % 180.0))


def sample_scene(
    detections: Sequence[Any],
    truth_px: Sequence[np.ndarray],
    hidden_px: Sequence[np.ndarray],
    shape: tuple[int, int],
    gsd: float,
    *,
    truth_classes: Sequence[str] | None = None,
    border_m: float = 8.0,
) -> CalibrationSample:
    """Score one labelled scene for calibration. ``truth_px`` are the visible cars'
    pixel polygons, ``hidden_px`` cars under opaque cloud or outside the data
    (detections on them are neither hits nor false alarms). Cars and detections
    centred within ``border_m`` of the image edge are left out (cut by the edge).
    With ``truth_classes`` (one per visible car), matched detections that carry class
    probabilities (``p_<class>`` in ``extra``) also record their class confidence and
    whether their most probable class is right (a car labelled ``railcar``, type unknown,
    records none)."""
    from railwatch.detect.eval import match, without_matches

    h, w = shape
    m = border_m / gsd

    def inner(x: float, y: float) -> bool:
        return m <= x <= w - m and m <= y <= h - m

    if truth_classes is not None and len(truth_classes) != len(truth_px):
        raise InputError("sample_scene: give one truth class per visible car")
    dets = [d for d in detections if inner(d.box.cx, d.box.cy)]
    dets = without_matches(dets, [_truth_box(p) for p in hidden_px])
    kept = [
        (_truth_box(p), truth_classes[i] if truth_classes is not None else None)
        for i, p in enumerate(truth_px)
    ]
    kept = [(t, c) for t, c in kept if inner(t.box.cx, t.box.cy)]
    truth = [t for t, _ in kept]
    mm = match(truth, dets, 0.3)
    hit = {b for _, b, _ in mm.pairs}
    conf: list[float] = []
    right: list[bool] = []
    pred: list[str] = []
    for a, b, _ in mm.pairs:
        true_cls = kept[a][1]
        probs = {k[2:]: v for k, v in dets[b].extra.items() if k.startswith("p_")}
        if true_cls is None or true_cls == GENERIC_CLASS or not probs:  # untyped: no record
            continue
        best = max(probs, key=lambda k: probs[k])
        conf.append(float(probs[best]))
        right.append(best == true_cls)
        pred.append(best)
    return CalibrationSample(
        gsd=float(gsd),
        scores=tuple(float(d.score) for d in dets),
        matched=tuple(i in hit for i in range(len(dets))),
        n_truth=len(truth),
        class_conf=tuple(conf),
        class_hit=tuple(right),
        class_pred=tuple(pred),
    )


def calibrate_on_simulator(
    detector: Any,
    *,
    styles: Sequence[str],
    gsds: Sequence[float] = (0.3, 0.5, 0.75, 1.0),
    scenes_per_gsd: int = 6,
    seed: int = 5_000_000,
    progress: Callable[[int, int], None] | None = None,
) -> Calibration:
    """Calibrate ``detector`` on freshly rendered simulator scenes of the style families
    ``styles`` (seeds from ``seed``, none of which training uses), ``scenes_per_gsd``
    at each resolution in ``gsds``. ``progress(done, total)`` is called per scene."""
    from railwatch import sim
    from railwatch.detect.api import detect_array

    if scenes_per_gsd < 1:
        raise InputError("calibration needs at least one scene per resolution")
    samples: list[CalibrationSample] = []
    seen_classes: set[str] = set()
    total = len(gsds) * scenes_per_gsd
    for i, gsd in enumerate(gsds):
        for k in range(scenes_per_gsd):
            params = sim.random_params(seed + 1000 * i + k, float(gsd), styles=tuple(styles))
            scene = sim.render_scene(params)
            img = np.ascontiguousarray(np.asarray(scene.image)[..., :3])
            dets = detect_array(img, float(gsd), detector=detector, valid=scene.valid)
            vis: list[np.ndarray] = []
            hid: list[np.ndarray] = []
            vis_cls: list[str] = []
            for t in scene.truth:
                poly = np.asarray(t.polygon_px.exterior.coords, dtype=np.float64)[:4]
                if t.clear_fraction >= 0.6 and t.valid_fraction >= 0.6:
                    vis.append(poly)
                    vis_cls.append(str(t.cls))
                    seen_classes.add(str(t.cls))
                else:
                    hid.append(poly)
            samples.append(
                sample_scene(dets, vis, hid, img.shape[:2], float(gsd), truth_classes=vis_cls)
            )
            if progress is not None:
                progress(len(samples), total)
    source = (
        f"railwatch.sim styles {','.join(styles)}, {scenes_per_gsd} scenes at each of "
        f"{', '.join(f'{g:g}' for g in gsds)} m, seeds from {seed}"
    )
    return fit_calibration(samples, classes=sorted(seen_classes), source=source)


def check_detector_weights(path: Path, command: str) -> None:
    """An :class:`InputError` unless ``path`` is the fp32 ONNX file of railwatch's
    default detector (what ``railwatch train`` writes), said before minutes of rendering
    scenes: the INT8 copy ``NAME.int8.onnx`` (whose card is ``NAME.json``: calibrating it
    wrote a ``NAME.int8.json`` nothing reads), a file that is not ONNX, and a model of
    another layout (a YOLO-OBB model was an internal error from ONNX Runtime) are each
    named with what to give. ``command`` names the command in the message."""
    import onnxruntime as ort

    from railwatch.detect.default import INT8_SUFFIX
    from railwatch.detect.model_core import N_OUT

    if path.name.endswith(INT8_SUFFIX):
        fp32 = path.with_name(path.name[: -len(INT8_SUFFIX)] + ".onnx")
        raise InputError(
            f"{path} is the INT8 copy of {fp32.name}: {command} the fp32 weights {fp32} "
            f"(their card, {fp32.with_suffix('.json').name}, serves both)"
        )
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own, unexported exception types
        raise InputError(
            f"{path} is not ONNX weights ({str(err).rstrip('.')}): give the .onnx file that "
            "railwatch train wrote"
        ) from err
    inputs, outputs = session.get_inputs(), session.get_outputs()
    out_shape = list(outputs[0].shape) if outputs else []
    in_shape = list(inputs[0].shape) if inputs else []
    if (
        len(inputs) != 1
        or len(in_shape) != 4
        or in_shape[1] != 3
        or any(isinstance(d, int) for d in in_shape[2:])  # the network takes any size
        or len(out_shape) != 4
        or out_shape[1] != N_OUT
    ):
        raise InputError(
            f"{path} is not railwatch's default detector network (input "
            f"{tuple(in_shape)}, output {tuple(out_shape)}; the default detector takes "
            f"(1, 3, h, w) and gives {N_OUT} maps): {command} takes weights made by "
            "`railwatch train`; a YOLO-OBB model runs as it is as detector 'onnx:PATH' "
            "(detector='onnx:PATH' in Python, --detector onnx:PATH on the command line)"
        )


def read_card(weights: str | Path, *, todo: str | None = None) -> dict[str, Any]:
    """The card next to ``weights`` (``.json``; empty when there is none), or an
    :class:`InputError` when it is a folder or another file that is not a regular file (a
    FIFO, a socket, a device: refused before it is opened, which waited on a FIFO), cannot
    be read, is not JSON or is not a JSON object, ending with ``todo`` (what to do then,
    for a caller that only reads it: ``train --init``,
    :func:`railwatch.detect.train.read_init_card`). By default the writers' advice
    (calibrate, quantize: :func:`update_card`): a writer would replace the card, and what
    it holds (calibration, INT8 entry, training record) would be lost with it, so it is
    mended or moved away knowingly."""
    from railwatch.detect.default import json_kind, unreadable_card_advice

    card = Path(weights).with_suffix(".json")
    advice = unreadable_card_advice(weights) if todo is None else todo
    # what the card is, asked before it is opened: opening a named pipe (FIFO) named like
    # the card waited for a writer, for ever (until session 31: exists(), is_dir(), then
    # read_text() on anything else)
    try:
        mode = os.stat(card).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as err:
        raise InputError(f"cannot read the card {card} ({err}); {advice}") from err
    _check_card_kind(card, weights, mode)
    try:
        # O_NONBLOCK: a card swapped for a FIFO after the check is refused, not waited on
        fd = os.open(card, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise InputError(f"cannot read the card {card} ({err}); {advice}") from err
    with open(fd, encoding="utf-8") as stream:
        _check_card_kind(card, weights, os.fstat(stream.fileno()).st_mode)
        try:
            loaded = json.loads(stream.read())
        except (OSError, ValueError) as err:
            raise InputError(f"cannot read the card {card} ({err}); {advice}") from err
    if not isinstance(loaded, dict):
        written = (
            ", and writing it would replace it with the new entries alone" if todo is None else ""
        )
        raise InputError(
            f"the card {card} is not a JSON object (it holds a JSON {json_kind(loaded)})"
            f"{written}; {advice}"
        )
    return loaded


def _check_card_kind(card: Path, weights: str | Path, mode: int) -> None:
    """An :class:`InputError` unless ``mode`` (of the card ``card`` of ``weights``) is a
    regular file's: a folder, a named pipe (FIFO), a socket or a device is named, with
    what to do (a symbolic link to a regular file is read)."""
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise InputError(
            f"the card {card} of {weights} is a folder: move it away (the card is the "
            "JSON file beside the weights)"
        )
    if stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    else:
        kind = "a special file"
    raise InputError(
        f"the card {card} of {weights} is {kind}, not a regular file, and is not read: "
        "move it away (the card is the JSON file beside the weights)"
    )


def update_card(weights: str | Path, values: dict[str, Any]) -> Path:
    """Set ``values`` in the card next to ``weights`` (``.json``; other keys are kept),
    writing a temporary file first so a crash never leaves a broken card. A card that is
    not a JSON object is refused (:func:`read_card`), not replaced."""
    data = read_card(weights)
    card = Path(weights).with_suffix(".json")
    data.update(values)
    tmp = card.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, card)
    return card


#: Resolutions a calibration from labelled images is pooled at: each image counts at the
#: nearest of these (in log scale), so that a few images of scattered resolutions give a
#: recall per band, not one noisy value per image.
LABEL_GSD_BANDS: tuple[float, ...] = (0.3, 0.5, 0.75, 1.0)
#: Fewer labelled cars than this give a calibration :func:`calibrate_on_labels` warns of.
FEW_LABELLED_CARS = 300


def calibrate_on_labels(
    detector: Any,
    labelled: LabelledSet,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Calibration:
    """Calibrate ``detector`` on the analyst's own labelled images (a
    ``detect.labels.LabelledSet``, as ``railwatch train --labels`` reads them): every
    car of an image must be labelled; cars labelled ``railcar`` (type unknown) count for
    precision and recall but not for the class thresholds. Each image is detected at the
    resolution it is held at (images finer than ``labels.STORE_GSD`` at that) and pooled
    at the band nearest its own resolution (:data:`LABEL_GSD_BANDS`); the calibration's
    recall is known at the bands that have images and held constant beyond them."""
    from railwatch.detect.api import detect_array

    images = list(labelled.images)
    if not images or not any(item.cars for item in images):
        raise InputError(
            f"{labelled.root} has no labelled car: a calibration needs images whose every "
            "car is labelled"
        )
    samples: list[CalibrationSample] = []
    classes: set[str] = set()
    for n, item in enumerate(images, start=1):
        band = min(LABEL_GSD_BANDS, key=lambda g: abs(math.log(g / item.native_gsd)))
        dets = detect_array(item.image, item.gsd, detector=detector)
        polys = [np.asarray(c.polygon, dtype=np.float64) for c in item.cars]
        cls = [str(c.cls) for c in item.cars]
        classes.update(c for c in cls if c in CAR_CLASSES)
        one = sample_scene(dets, polys, [], item.image.shape[:2], item.gsd, truth_classes=cls)
        samples.append(replace(one, gsd=band))
        if progress is not None:
            progress(n, len(images))
    bands = sorted({s.gsd for s in samples})
    # distinct cars where known: a car in the overlap of export-labels chips is a label
    # of each (2026-12-07, session 46: "169 cars" under the warning "119 labelled cars")
    distinct = labelled.distinct_cars
    single = labelled.cars == 1
    if distinct is None:
        cars = f"{labelled.cars} labelled object{'' if single else 's'} (chips may overlap)"
    elif distinct == labelled.cars:
        cars = f"{labelled.cars} car{'' if single else 's'}"
    else:
        cars = f"{distinct} car{'' if distinct == 1 else 's'} in {labelled.cars} labels"
    source = (
        f"labelled images in {labelled.root}: {len(images)} "
        f"image{'' if len(images) == 1 else 's'}, {cars}, "
        f"pooled at {', '.join(f'{g:g}' for g in bands)} m"
    )
    cal = fit_calibration(samples, classes=sorted(classes), source=source)
    if not cal.class_thresholds:  # no matched car with a labelled type: nothing shows
        # that any type is right, so none is reported (not the detector's default 0.5)
        cal = replace(
            cal,
            class_thresholds=dict.fromkeys(CAR_CLASSES, None),
            source=f"{source}; no matched car has a labelled type, so no type is reported",
        )
    return cal


def write_calibration(weights: str | Path, calibration: Calibration, **values: Any) -> Path:
    """Store ``calibration`` (and any other ``values``, e.g. ``threshold``) in the card
    next to ``weights`` (:func:`update_card`)."""
    return update_card(weights, {**values, "calibration": calibration.as_dict()})
