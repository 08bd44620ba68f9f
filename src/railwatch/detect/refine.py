"""Across-track refinement of detected boxes from the image at its own resolution.

The default network places cars on a 2 m grid; tall cars, tank cars and locomotives
are often found with their box leaning by 1.5–2.5 m across the track, towards the
car's shadow or the footprint of an off-nadir view, so that the box misses the roof
(IoU below 0.3) and counts as a miss and a false alarm at once (docs/detection.md,
"Where the F1 is lost"). This module looks again at each box in the tile itself:

1. **Across profiles.** For every box the image is sampled (``cv2.remap``, bilinear,
   all boxes at once) in the box's own frame: every :data:`SAMPLE_STEP_M` (0.25 m)
   across the car over ±:data:`HALF_M` and at :data:`ALONG_SAMPLES` points along its
   central :data:`ALONG_FRACTION`, averaged along the car and smoothed onto a 0.5 m
   grid (:data:`STEP_M`): one RGB profile across the track per box, in metres,
   whatever the ground sample distance.
2. **Shadow side per tile.** A scene's shadows all fall the same way. Each box votes
   with how much darker the 1.5 m beside one long side is than beside the other; the
   median of the votes (times the box's across direction) is the tile's shadow
   direction, and
   every profile is flipped so that its positive side is the shadow side (with fewer
   than :data:`MIN_BOXES_FOR_SHADOW` boxes the profiles are left as they are).
3. **Scoring offsets.** For each candidate offset of the box across the track
   (:data:`OFFSETS_M`, −2.5 to 2.5 m in steps of 0.5 m) a small fixed scorer (one
   hidden layer of 16 rectified units, fitted on simulated development scenes by
   ``benchmarks/train_refine.py``) reads the 9 m of profile around the shifted box:
   the three channels normalised by the profile's own median and spread, each
   sample's colour distance from the shifted band's mean, and the luminance gradient.
4. **Not onto the shadow.** An offset towards the shadow side whose band (its central
   1.5 m) is darker than the band under the box by more than
   :attr:`Refiner.shadow_veto` is never chosen: a dark band of a car's width beside a
   car is the obvious trap, and the simulator's scenes alone did not teach the scorer
   to avoid it (drawn test scenes did show it).
5. **Moving only on clear evidence.** A box moves to its best offset only when that
   offset is at least :attr:`Refiner.min_move_m` away (1 m: smaller errors still match)
   and its score beats the unmoved box's by :attr:`Refiner.margin`; otherwise it is
   kept. Only the centre moves; length, width, angle, class and scores do not.

No box is added or removed in a tile (the pipeline's site and track filters and the
seam merge see the moved boxes, so a scene's count can still change). The weights live in
a JSON file next to the network named by the card's ``refine`` entry
(:data:`CARD_KEY`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.merge import box_array
from railwatch.errors import DetectionError

#: The card entry naming the refiner: ``{"file": NAME.json, "margin": M, "min_move_m": D}``.
CARD_KEY = "refine"
#: Spacing of the across profile the scorer reads and of the candidate offsets (metres).
STEP_M = 0.5
#: Spacing at which the image is sampled across the car (metres); the samples are
#: smoothed (weights 1/4, 1/2, 1/4) onto the :data:`STEP_M` grid.
SAMPLE_STEP_M = 0.25
#: Largest offset tried (metres either way).
RANGE_M = 2.5
#: Half the width of the profile the scorer reads around a shifted box (metres).
WINDOW_M = 4.5
#: Half the width of the sampled profile (metres).
HALF_M = RANGE_M + WINDOW_M
#: Candidate offsets across the box (metres; positive: towards the shadow side).
OFFSETS_M = np.arange(-RANGE_M, RANGE_M + 1e-9, STEP_M)
#: Where the image is sampled across the box (metres).
_S_SAMPLED = np.arange(-HALF_M - SAMPLE_STEP_M, HALF_M + SAMPLE_STEP_M + 1e-9, SAMPLE_STEP_M)
#: Samples along the car that are averaged, over this central share of its length.
ALONG_SAMPLES = 6
ALONG_FRACTION = 0.6
#: How far beside a box the shadow vote looks (metres).
SHADOW_REACH_M = 1.5
#: Fewest boxes in a tile from which the shadow side is estimated.
MIN_BOXES_FOR_SHADOW = 3
#: Grey levels added to a profile's spread before normalising (flat profiles stay flat).
SPREAD_FLOOR = 4.0
#: Defaults for a card entry that does not set them.
DEFAULT_MARGIN = 0.75
DEFAULT_MIN_MOVE_M = 1.0
#: How much darker (in the profile's normalised units) than the band under the box the
#: band at a candidate offset towards the shadow side may be (darker: never chosen).
DEFAULT_SHADOW_VETO = 0.5
#: The veto applies only where the tile's shadow side is this clear (see
#: :func:`shadow_sides`); without shadows the side is a guess and a dark car on it would
#: be vetoed.
DEFAULT_SHADOW_STRENGTH = 0.5

_N_OFF = len(OFFSETS_M)
_N_WIN = round(2 * WINDOW_M / STEP_M) + 1
_S = np.arange(-HALF_M, HALF_M + 1e-9, STEP_M)
_R = np.arange(_N_WIN) * STEP_M - WINDOW_M
#: Features per candidate offset: 3 channels, colour distance and gradient per window
#: sample, then |offset| and offset squared.
N_FEATURES = 5 * _N_WIN + 2
#: The widest map ``cv2.remap`` takes (its destination is at most ``SHRT_MAX`` - 1
#: columns): a tile of more than 555 boxes is profiled in parts.
REMAP_MAX_COLS = 32_766


def _across(boxes: np.ndarray) -> np.ndarray:
    a = np.deg2rad(boxes[:, 4])
    return np.stack([-np.sin(a), np.cos(a)], 1)


def across_profiles(image: np.ndarray, boxes: np.ndarray, gsd: float) -> np.ndarray:
    """RGB profiles across every box, ``(N, len(_S), 3)`` float32: the image sampled
    every :data:`SAMPLE_STEP_M` m across the box and at :data:`ALONG_SAMPLES` points
    along its central :data:`ALONG_FRACTION`, averaged along, then smoothed onto the
    :data:`STEP_M` grid ``_S`` (centre at index ``len(_S) // 2``)."""
    n = len(boxes)
    per_call = REMAP_MAX_COLS // len(_S_SAMPLED)
    if n > per_call:  # a map row per box and sample across: OpenCV takes < 32767
        return np.concatenate(
            [across_profiles(image, boxes[i : i + per_call], gsd) for i in range(0, n, per_call)]
        )
    a = np.deg2rad(boxes[:, 4])
    cos = np.cos(a).astype(np.float32)[None, :, None]
    sin = np.sin(a).astype(np.float32)[None, :, None]
    t = ((np.arange(ALONG_SAMPLES) + 0.5) / ALONG_SAMPLES - 0.5) * ALONG_FRACTION
    along = (t[:, None] * boxes[None, :, 2]).astype(np.float32)[:, :, None]  # (na, N, 1) px
    across = (_S_SAMPLED / gsd).astype(np.float32)[None, None, :]  # (1, 1, ns) px
    ns = len(_S_SAMPLED)
    cx = boxes[:, 0].astype(np.float32)[None, :, None]
    cy = boxes[:, 1].astype(np.float32)[None, :, None]
    # one row per point along the car, one column per (box, sample across): wide rows
    # are what cv2.remap and cv2.reduce are fast on
    shape = (ALONG_SAMPLES, n * ns)
    map_x = (cx + cos * along - sin * across).reshape(shape)
    map_y = (cy + sin * along + cos * across).reshape(shape)
    img = image[..., :3]
    if img.flags.c_contiguous:  # interleaved RGB: one remap
        smp = cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    else:  # e.g. a view of band-sequential planes: each plane as it lies, no copy
        smp = np.stack(
            [
                cv2.remap(
                    np.ascontiguousarray(img[..., c]),
                    map_x,
                    map_y,
                    cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REFLECT,
                )
                for c in range(3)
            ],
            axis=-1,
        )
    # the mean along the car (cv2.reduce over the rows)
    x = cv2.reduce(smp, 0, cv2.REDUCE_AVG, dtype=cv2.CV_32F).reshape(n, ns, 3)
    # onto the STEP_M grid: _S[j] is _S_SAMPLED[2 j + 1]
    return 0.25 * x[:, 0:-2:2] + 0.5 * x[:, 1:-1:2] + 0.25 * x[:, 2::2]


def _median_last(x: np.ndarray) -> np.ndarray:
    """The median along the last axis, of odd length (one partition, no NaN checks)."""
    k = x.shape[-1] // 2
    return np.partition(x, k, axis=-1)[..., k]


def shadow_sides(profiles: np.ndarray, boxes: np.ndarray, gsd: float) -> tuple[np.ndarray, float]:
    """For each box, +1 when the tile's shadow side is its positive across direction
    (``(-sin a, cos a)`` in pixels), −1 when it is the other (+1 for all with fewer than
    :data:`MIN_BOXES_FOR_SHADOW` boxes or no side darker on the whole); and how clear
    that side is (the length of the median vote: 0 for none, about 3 for dark shadows
    beside every box)."""
    n = len(boxes)
    if n < MIN_BOXES_FOR_SHADOW:
        return np.ones(n), 0.0
    lum = profiles.mean(axis=2)
    half = boxes[:, 3:4] * gsd / 2.0
    plus = (_S[None, :] >= half) & (_S[None, :] <= half + SHADOW_REACH_M)
    minus = (_S[None, :] <= -half) & (_S[None, :] >= -half - SHADOW_REACH_M)
    delta = (lum * minus).sum(1) / np.maximum(minus.sum(1), 1) - (lum * plus).sum(1) / np.maximum(
        plus.sum(1), 1
    )  # > 0: the positive side is darker
    spread = _median_last(np.abs(lum - _median_last(lum)[:, None])) + SPREAD_FLOOR
    v = _across(boxes)
    # the coordinate-wise median of the votes: boxes that are off their cars (one side
    # is the car) are a minority and do not decide the side
    shadow = np.median(np.clip(delta / spread, -3.0, 3.0)[:, None] * v, axis=0)
    side = np.sign(v @ shadow)
    side[side == 0] = 1.0
    return side, float(np.hypot(*shadow))


def features(
    image: np.ndarray, boxes: np.ndarray, gsd: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """The scorer's input ``(N, len(OFFSETS_M), N_FEATURES)`` float32, each box's
    shadow side and how clear the tile's shadow side is (see :func:`shadow_sides`;
    offsets are counted towards the shadow side)."""
    prof = across_profiles(image, boxes, gsd)
    side, strength = shadow_sides(prof, boxes, gsd)
    # medians along the profile, on a (N, 3, samples) copy (faster along the last axis)
    pt = np.ascontiguousarray(prof.transpose(0, 2, 1))
    med = _median_last(pt)[..., None]
    spread = _median_last(np.abs(pt - med)).mean(axis=1)[:, None, None]
    med = med.transpose(0, 2, 1)
    p = (prof - med) / (spread + SPREAD_FLOOR)
    p = np.where(side[:, None, None] > 0, p, p[:, ::-1]).astype(np.float32)  # + = shadow side
    grad = np.abs(np.gradient(p.mean(axis=2), axis=1))
    n = len(boxes)
    f = np.empty((n, _N_OFF, N_FEATURES), dtype=np.float32)
    nw = _N_WIN
    pw = f[:, :, : 3 * nw].reshape(n, _N_OFF, nw, 3)
    # (N, offsets, window, 3): the window of each offset (a strided view, copied once)
    pw[...] = sliding_window_view(p, nw, axis=1).transpose(0, 1, 3, 2)
    # the shifted band's mean colour: window samples with |r| <= width / 2 - 0.25 m, a
    # run of 2 h + 1 samples around the window's centre (cumulative sums)
    h = np.floor((boxes[:, 3] * gsd / 2.0 - 0.25) / STEP_M + 1e-6).astype(np.int64)
    h = np.clip(h, 0, nw // 2)
    cs = np.concatenate([np.zeros((n, 1, 3), np.float32), np.cumsum(p, axis=1)], axis=1)
    centre = np.arange(_N_OFF)[None, :] + nw // 2  # profile index of each window centre
    rows = np.arange(n)[:, None]
    lo, hi = centre - h[:, None], centre + h[:, None] + 1
    band = (cs[rows, hi] - cs[rows, lo]) / (2 * h + 1).astype(np.float32)[:, None, None]
    diff = pw - band[:, :, None, :]
    f[:, :, 3 * nw : 4 * nw] = np.sqrt(np.einsum("nowc,nowc->now", diff, diff))
    f[:, :, 4 * nw : 5 * nw] = sliding_window_view(grad, nw, axis=1)
    f[:, :, 5 * nw] = np.abs(OFFSETS_M)
    f[:, :, 5 * nw + 1] = OFFSETS_M**2
    return f, side, strength


def shifted(det: Detection, offset_px: float) -> Detection:
    """``det`` moved by ``offset_px`` pixels along its across direction."""
    b = det.box
    a = np.deg2rad(b.angle)
    box = OrientedBox(
        float(b.cx - np.sin(a) * offset_px),
        float(b.cy + np.cos(a) * offset_px),
        b.length,
        b.width,
        b.angle,
    )
    return dataclasses.replace(det, box=box)


def card_json(entry: Any, weights: Path, key: str, what: str, want: str) -> dict[str, Any]:
    """The JSON object of the file that a weights card's ``key`` entry names
    (``{"file": NAME.json, ...}``): next to ``weights``, else the package's file of that
    name. ``what`` names it in errors, ``want`` shows the entry's expected form."""
    if not (isinstance(entry, dict) and isinstance(entry.get("file"), str)):
        raise DetectionError(
            f"the card of {weights} has an unreadable {key} entry {entry!r} (want {want})"
        )
    name = Path(entry["file"]).name
    path = weights.with_name(name)
    shipped = Path(str(resources.files("railwatch.detect") / "weights" / name))
    if not path.is_file() and shipped.is_file():
        path = shipped
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise DetectionError(f"cannot read the {what} weights {path}: {err}") from err
    if not isinstance(data, dict):
        raise DetectionError(f"the {what} weights {path} are not a JSON object")
    return data


@dataclasses.dataclass(frozen=True)
class Refiner:
    """The fitted scorer (feature mean and scale, one hidden layer) and the rule for
    moving a box: at least ``min_move_m`` metres, a score at least ``margin`` above the
    unmoved box's, and not onto a band darker by more than ``shadow_veto`` on the
    shadow side."""

    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray  # (hidden, N_FEATURES)
    b1: np.ndarray  # (hidden,)
    w2: np.ndarray  # (hidden,)
    margin: float = DEFAULT_MARGIN
    min_move_m: float = DEFAULT_MIN_MOVE_M
    shadow_veto: float = DEFAULT_SHADOW_VETO
    shadow_strength: float = DEFAULT_SHADOW_STRENGTH

    def __post_init__(self) -> None:
        shapes = (self.mean.shape, self.scale.shape, self.w1.shape[1:], self.b1.shape)
        if shapes[:3] != ((N_FEATURES,),) * 3 or self.w2.shape != self.b1.shape:
            raise DetectionError(
                f"refiner weights of shapes {shapes}, {self.w2.shape} do not fit "
                f"{N_FEATURES} features: refit them with benchmarks/train_refine.py"
            )

    def scores(self, feats: np.ndarray) -> np.ndarray:
        """The score of every candidate offset, ``(N, len(OFFSETS_M))``."""
        z = (feats - self.mean) / self.scale
        hidden = np.maximum(z @ self.w1.T + self.b1, 0.0)
        return np.asarray(hidden @ self.w2, dtype=np.float64)

    def offsets(self, image: np.ndarray, gsd: float, dets: Sequence[Detection]) -> np.ndarray:
        """How far to move each box across (metres, along ``(-sin a, cos a)``; 0 where
        the evidence is not clear)."""
        if not dets:
            return np.zeros(0)
        boxes = box_array(dets)
        feats, side, strength = features(image, boxes, gsd)
        s = self.scores(feats)
        # the shadow trap: a dark band of a car's width beside it, on the shadow side. A
        # candidate towards the shadow side whose band core (1.5 m) is darker than the
        # core under the box by more than shadow_veto is never chosen.
        nw = _N_WIN
        core = (
            feats[:, :, : 3 * nw]
            .reshape(len(boxes), _N_OFF, nw, 3)[:, :, nw // 2 - 1 : nw // 2 + 2]
            .mean(axis=(2, 3))
        )
        darker = core < core[:, _N_OFF // 2, None] - self.shadow_veto
        vetoed = (OFFSETS_M[None, :] > 0) & darker & (strength >= self.shadow_strength)
        best = s.argmax(axis=1)
        rows = np.arange(len(s))
        gain = s[rows, best] - s[:, _N_OFF // 2]
        off = OFFSETS_M[best] * side
        move = (gain > self.margin) & (np.abs(off) >= self.min_move_m - 1e-9)
        move &= ~vetoed[rows, best]  # the best place is the shadow band: keep the box
        return np.where(move, off, 0.0)

    def refine(self, image: np.ndarray, gsd: float, dets: Sequence[Detection]) -> list[Detection]:
        """``dets`` with the boxes that the image clearly places elsewhere moved across."""
        off = self.offsets(image, gsd, dets)
        return [shifted(d, o / gsd) if o != 0 else d for d, o in zip(dets, off, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": N_FEATURES,
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "w1": self.w1.tolist(),
            "b1": self.b1.tolist(),
            "w2": self.w2.tolist(),
        }

    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any],
        *,
        margin: float | None = None,
        min_move_m: float | None = None,
        shadow_veto: float | None = None,
        shadow_strength: float | None = None,
    ) -> Refiner:
        try:
            names = ("mean", "scale", "w1", "b1", "w2")
            arrays = {k: np.asarray(data[k], dtype=np.float32) for k in names}
        except (KeyError, TypeError, ValueError) as err:
            raise DetectionError(f"unreadable refiner weights: {err}") from err
        return cls(
            **arrays,
            margin=DEFAULT_MARGIN if margin is None else float(margin),
            min_move_m=DEFAULT_MIN_MOVE_M if min_move_m is None else float(min_move_m),
            shadow_veto=DEFAULT_SHADOW_VETO if shadow_veto is None else float(shadow_veto),
            shadow_strength=(
                DEFAULT_SHADOW_STRENGTH if shadow_strength is None else float(shadow_strength)
            ),
        )

    @classmethod
    def from_card(cls, entry: Any, weights: Path) -> Refiner:
        """The refiner named by a card's :data:`CARD_KEY` entry: its file next to
        ``weights``, else the package's file of that name (a copy of the shipped card,
        e.g. next to weights being fine-tuned: the refiner reads only the image, so the
        shipped one applies)."""
        data = card_json(
            entry,
            weights,
            CARD_KEY,
            "refiner",
            '{"file": NAME.json, "margin": M, "min_move_m": D, "shadow_veto": V}',
        )
        return cls.from_dict(
            data,
            margin=entry.get("margin"),
            min_move_m=entry.get("min_move_m"),
            shadow_veto=entry.get("shadow_veto"),
            shadow_strength=entry.get("shadow_strength"),
        )


def target_offsets(
    dets: Sequence[Detection], truth: Sequence[Detection], gsd: float, min_iou: float = 0.1
) -> np.ndarray:
    """For fitting: each detection's across offset (metres, along ``(-sin a, cos a)``) to
    the truth box it overlaps most (IoU at least ``min_iou``), NaN where none."""
    from railwatch.detect.eval import iou_pairs

    out = np.full(len(dets), np.nan)
    ti, pi, iou = iou_pairs(list(truth), list(dets))
    best: dict[int, tuple[int, float]] = {}
    for a, b, v in zip(ti.tolist(), pi.tolist(), iou.tolist(), strict=True):
        if v >= min_iou and v > best.get(b, (-1, -1.0))[1]:
            best[b] = (a, v)
    for b, (a, _) in best.items():
        tb, pb = truth[a].box, dets[b].box
        ang = np.deg2rad(pb.angle)
        out[b] = ((tb.cx - pb.cx) * -np.sin(ang) + (tb.cy - pb.cy) * np.cos(ang)) * gsd
    return out


def fit(
    feats: np.ndarray,
    targets_m: np.ndarray,
    *,
    hidden: int = 16,
    weight_decay: float = 1e-3,
    sigma_m: float = 0.3,
    seed: int = 0,
    max_iter: int = 400,
) -> Refiner:
    """Fit the scorer: a softmax over each box's candidate offsets (``feats``: ``(N,
    len(OFFSETS_M), N_FEATURES)``) against a Gaussian of ``sigma_m`` around its true
    offset (``targets_m``, metres towards the shadow side), L-BFGS with an L2 penalty."""
    from scipy.optimize import minimize

    x = feats.astype(np.float64)
    flat = x.reshape(-1, x.shape[2])
    mean = flat.mean(axis=0)
    scale = flat.std(axis=0) + 1e-6
    z = (x - mean) / scale
    y = np.exp(-0.5 * ((OFFSETS_M[None, :] - targets_m[:, None]) / sigma_m) ** 2)
    y /= y.sum(axis=1, keepdims=True)
    n, _, f = z.shape
    rng = np.random.default_rng(seed)
    sizes = (hidden * f, hidden, hidden)
    p0 = np.concatenate(
        [rng.normal(0, 1 / np.sqrt(f), sizes[0]), np.zeros(hidden), rng.normal(0, 0.1, hidden)]
    )

    def unpack(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w1 = p[: sizes[0]].reshape(hidden, f)
        b1 = p[sizes[0] : sizes[0] + hidden]
        return w1, b1, p[sizes[0] + hidden :]

    def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
        w1, b1, w2 = unpack(p)
        pre = z @ w1.T + b1
        h = np.maximum(pre, 0.0)
        s = h @ w2
        s = s - s.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        ds = (np.exp(logp) - y) / n  # (n, offsets)
        g_w2 = np.einsum("no,noh->h", ds, h)
        dh = ds[:, :, None] * w2[None, None, :] * (pre > 0)
        g_w1 = np.einsum("noh,nof->hf", dh, z)
        g_b1 = dh.sum(axis=(0, 1))
        value = -(y * logp).sum() / n + weight_decay * (w1**2).sum() + weight_decay * (w2**2).sum()
        grad = np.concatenate(
            [(g_w1 + 2 * weight_decay * w1).ravel(), g_b1, g_w2 + 2 * weight_decay * w2]
        )
        return float(value), grad

    res = minimize(loss, p0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    w1, b1, w2 = unpack(res.x)
    return Refiner(
        mean.astype(np.float32),
        scale.astype(np.float32),
        w1.astype(np.float32),
        b1.astype(np.float32),
        w2.astype(np.float32),
    )
