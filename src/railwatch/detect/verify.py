"""Second-stage verification of car candidates from the image at its own resolution.

The default network's heat map decides alone which peaks are cars (with string support,
``detect.strings``). Half of its false boxes are clutter (empty track, container stacks,
sheds, lorries) and a fifth lie beside a found car at the next track's distance, mostly
on its shadow side; a third or more of its misses are weak peaks (0.3–0.45) that string
support left out (docs/detection.md, "Where the F1 is lost"). This module looks again at
every candidate peak down to a low score and decides car / not car:

1. **Candidates.** The decoder's peaks down to :attr:`Verifier.min_peak` that pass the
   detector's size and valid-data filters, with the network's outputs (peak height,
   class probabilities, covered score, length, width) and whether v2.5's string support
   keeps them.
2. **Features** (:func:`features`, all boxes at once):

   * the network: peak height and its logit, the largest class probability, the covered
     score, length and width in metres, the ground sample distance, the car-body map at
     the centre and along the car, and the heat map one car length ahead and behind
     (where string neighbours would peak);
   * the across profile of ``detect.refine`` (the tile sampled in the box's frame,
     normalised by the profile's own median and spread, turned so that its positive side
     is the tile's shadow side): 9 m of RGB around the box, each sample's colour
     distance from the band under the box, the luminance gradient;
   * an along profile: the box's centre line from 1.5 half-lengths behind to 1.5
     ahead (car-relative, so the car's ends and the next car's coupling gap land on the
     same samples at any length), luminance and colour distance from the band's mean;
   * context: string neighbours kept by string support on each side, the strongest
     candidate at either string position, the nearest stronger candidate (its distance
     along and across and its height: duplicates), and the strongest stronger candidate
     beside the box at 3.5–5.5 m across on the shadow side and on the other side, with
     how much darker this box's band is than that one's.
3. **Scorer.** One hidden layer of :data:`DEFAULT_HIDDEN` rectified units and a
   logistic output (weights in a JSON file next to the network, named by the card's
   ``verify`` entry, :data:`CARD_KEY`), fitted by ``benchmarks/train_verify.py`` on
   simulator development scenes and drawn yards: the probability that the candidate is a
   visible car.
4. **Decision.** A candidate that v2.5's string support keeps stays unless its
   probability is below :attr:`Verifier.drop_below`; any other stays when its
   probability reaches :attr:`Verifier.admit_from`.

No box moves here; the across refinement (``detect.refine``) runs afterwards on the
boxes kept. An opt-in (``DefaultDetector(verify=True)``, ``--detector
'default?verify=true'``): 0.03–0.04 F1 better on simulated development scenes, but not
on the real Muttenz yard at 0.3 and 0.5 m, so the shipped card names no verifier (figures
in docs/detection.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from scipy.spatial import cKDTree

from railwatch.detect.base import Detection
from railwatch.detect.merge import box_array
from railwatch.detect.model_core import CLASSES
from railwatch.detect.refine import (
    MIN_BOXES_FOR_SHADOW,
    REMAP_MAX_COLS,
    SHADOW_REACH_M,
    SPREAD_FLOOR,
    STEP_M,
    WINDOW_M,
    across_profiles,
    card_json,
)
from railwatch.detect.strings import GAP_M, string_neighbours
from railwatch.errors import DetectionError

#: The card entry naming the verifier:
#: ``{"file": NAME.json, "min_peak": P, "drop_below": D, "admit_from": A}``.
CARD_KEY = "verify"
#: Defaults for a card entry that does not set them.
DEFAULT_MIN_PEAK = 0.25
DEFAULT_DROP_BELOW = 0.5
DEFAULT_ADMIT_FROM = 0.5
DEFAULT_HIDDEN = 24
#: Samples of the along profile, over ±:data:`ALONG_REACH` half-lengths of the car.
ALONG_N = 25
ALONG_REACH = 1.5
#: Where "beside" is (metres across, centre to centre) and how far along (share of the
#: length) a parallel box may be off to count.
BESIDE_M = (3.5, 5.5)
BESIDE_ALONG = 0.5
PARALLEL_DEG = 15.0
#: Clip of the context distances (metres).
FAR_M = 20.0

_S = np.arange(-(2.5 + WINDOW_M), 2.5 + WINDOW_M + 1e-9, STEP_M)  # refine's profile grid
_N_WIN = round(2 * WINDOW_M / STEP_M) + 1
_LO = (len(_S) - _N_WIN) // 2
_T_ALONG = np.linspace(-ALONG_REACH, ALONG_REACH, ALONG_N)
_ACROSS_FRAC = (-0.25, 0.0, 0.25)
#: The class probabilities the default detector records with each detection.
_P_KEYS = tuple(f"p_{c}" for c in CLASSES)

#: Names of the features, in order (also recorded with the weights).
NETWORK_FEATURES = (
    "score",
    "score_logit",
    "p_max",
    "covered",
    "length_m",
    "width_m",
    "gsd",
    "body_centre",
    "body_along",
    "heat_ahead",
    "heat_behind",
)
CONTEXT_FEATURES = (
    "kept",
    "kept_sides",
    "cand_ahead",
    "cand_behind",
    "stronger_along_m",
    "stronger_across_m",
    "stronger_score",
    "beside_shadow",
    "beside_sun",
    "beside_shadow_darker",
    "beside_sun_darker",
    "shadow_strength",
)
FEATURE_NAMES = (
    NETWORK_FEATURES
    + CONTEXT_FEATURES
    + tuple(f"across_{c}_{i}" for i in range(_N_WIN) for c in "rgb")
    + tuple(f"across_dist_{i}" for i in range(_N_WIN))
    + tuple(f"across_grad_{i}" for i in range(_N_WIN))
    + tuple(f"along_lum_{i}" for i in range(ALONG_N))
    + tuple(f"along_dist_{i}" for i in range(ALONG_N))
)
N_FEATURES = len(FEATURE_NAMES)


@dataclasses.dataclass(frozen=True)
class NetworkMaps:
    """The network's maps a candidate's features read: the heat and body maps
    (probabilities, on the output grid) and how many grid cells one image pixel is."""

    heat: np.ndarray
    body: np.ndarray
    cells_per_px: float


def _sample_grid(m: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of the grid map ``m`` at cell coordinates ``x, y`` (cell centres
    at integer coordinates; outside: the edge value)."""
    mx = np.ascontiguousarray(x, dtype=np.float32).reshape(1, -1)
    my = np.ascontiguousarray(y, dtype=np.float32).reshape(1, -1)
    if mx.shape[1] == 0:
        return np.zeros(np.shape(x))
    src = np.ascontiguousarray(m, dtype=np.float32)
    out = np.concatenate(  # in parts: OpenCV maps are fewer than 32767 wide
        [
            cv2.remap(
                src,
                mx[:, i : i + REMAP_MAX_COLS],
                my[:, i : i + REMAP_MAX_COLS],
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            for i in range(0, mx.shape[1], REMAP_MAX_COLS)
        ],
        axis=1,
    )
    return np.asarray(out, dtype=np.float64).reshape(np.shape(x))


def _along_profiles(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """RGB along every box's centre line, ``(N, ALONG_N, 3)``: at :data:`_T_ALONG`
    half-lengths along, averaged over three lines at −¼, 0 and +¼ of the width."""
    n = len(boxes)
    per_call = REMAP_MAX_COLS // ALONG_N
    if n > per_call:  # a map column per box and point along: OpenCV takes < 32767
        return np.concatenate(
            [_along_profiles(image, boxes[i : i + per_call]) for i in range(0, n, per_call)]
        )
    a = np.deg2rad(boxes[:, 4])
    cos, sin = np.cos(a)[:, None, None], np.sin(a)[:, None, None]
    along = _T_ALONG[None, None, :] * boxes[:, 2, None, None] / 2.0
    across = np.array(_ACROSS_FRAC)[None, :, None] * boxes[:, 3, None, None]
    mx = (boxes[:, 0, None, None] + cos * along - sin * across).astype(np.float32)
    my = (boxes[:, 1, None, None] + sin * along + cos * across).astype(np.float32)
    shape = (len(_ACROSS_FRAC), n * ALONG_N)
    mx = mx.transpose(1, 0, 2).reshape(shape)
    my = my.transpose(1, 0, 2).reshape(shape)
    img = np.ascontiguousarray(image[..., :3])
    smp = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    x = cv2.reduce(smp, 0, cv2.REDUCE_AVG, dtype=cv2.CV_32F)
    return np.asarray(x, dtype=np.float32).reshape(n, ALONG_N, 3)


def _shadow(lum: np.ndarray, boxes: np.ndarray, gsd: float, voters: np.ndarray) -> np.ndarray:
    """The tile's shadow direction (pixels' across frame, length: how clear) from the
    votes of the ``voters`` (as ``detect.refine.shadow_sides``; zero with too few)."""
    if int(voters.sum()) < MIN_BOXES_FOR_SHADOW:
        return np.zeros(2)
    half = boxes[:, 3:4] * gsd / 2.0
    plus = (_S[None, :] >= half) & (_S[None, :] <= half + SHADOW_REACH_M)
    minus = (_S[None, :] <= -half) & (_S[None, :] >= -half - SHADOW_REACH_M)
    delta = (lum * minus).sum(1) / np.maximum(minus.sum(1), 1) - (lum * plus).sum(1) / np.maximum(
        plus.sum(1), 1
    )
    med = np.median(lum, axis=1)
    spread = np.median(np.abs(lum - med[:, None]), axis=1) + SPREAD_FLOOR
    a = np.deg2rad(boxes[:, 4])
    v = np.stack([-np.sin(a), np.cos(a)], 1)
    votes = np.clip(delta / spread, -3.0, 3.0)[:, None] * v
    return np.asarray(np.median(votes[voters], axis=0), dtype=np.float64)


def features(
    image: np.ndarray,
    gsd: float,
    cands: Sequence[Detection],
    kept: np.ndarray,
    maps: NetworkMaps | None = None,
) -> np.ndarray:
    """The verifier's input ``(N, N_FEATURES)`` float32 for the candidates ``cands``
    (pixel coordinates of ``image`` at ``gsd`` m per pixel), ``kept`` saying which of
    them string support keeps; ``maps`` the network's heat and body maps (zeros for
    their features without)."""
    n = len(cands)
    f = np.zeros((n, N_FEATURES), dtype=np.float32)
    if n == 0:
        return f
    kept = np.asarray(kept, dtype=bool)
    boxes = box_array(cands)
    score = np.array([d.score for d in cands], dtype=np.float64)
    a = np.deg2rad(boxes[:, 4])
    u = np.stack([np.cos(a), np.sin(a)], 1)  # along, pixels
    v = np.stack([-np.sin(a), np.cos(a)], 1)  # across
    length_m, width_m = boxes[:, 2] * gsd, boxes[:, 3] * gsd
    col = 0

    def put(x: np.ndarray) -> None:
        nonlocal col
        x2 = x.reshape(n, -1)
        f[:, col : col + x2.shape[1]] = x2
        col += x2.shape[1]

    # --- the network
    s = np.clip(score, 1e-4, 1 - 1e-4)
    pmax = np.array([max(d.extra.get(k, 0.0) for k in _P_KEYS) for d in cands])
    put(score)
    put(np.log(s / (1 - s)))
    put(pmax)
    put(np.array([d.covered_score for d in cands]))
    put(length_m)
    put(width_m)
    put(np.full(n, gsd))
    step = (boxes[:, 2] + GAP_M / gsd)[:, None]  # one car further along, pixels
    if maps is not None:
        c = maps.cells_per_px
        t = np.array([-0.3, -0.15, 0.0, 0.15, 0.3])[None, :] * boxes[:, 2, None]
        bx = (boxes[:, 0, None] + u[:, 0, None] * t) * c
        by = (boxes[:, 1, None] + u[:, 1, None] * t) * c
        body = _sample_grid(maps.body, bx, by)
        put(body[:, 2])
        put(body.mean(axis=1))
        sgn = np.array([1.0, -1.0])[None, :]
        hx = (boxes[:, 0, None] + u[:, 0, None] * step * sgn) * c
        hy = (boxes[:, 1, None] + u[:, 1, None] * step * sgn) * c
        put(_sample_grid(maps.heat, hx, hy))
    else:
        col += 4

    # --- the across profile (refine's frame), the tile's shadow side
    prof = across_profiles(image, boxes, gsd)  # (N, len(_S), 3)
    lum = prof.mean(axis=2)
    voters = kept if kept.sum() >= MIN_BOXES_FOR_SHADOW else np.ones(n, dtype=bool)
    shadow = _shadow(lum, boxes, gsd, voters)
    side = np.sign(v @ shadow)
    side[side == 0] = 1.0
    med = np.median(prof, axis=1, keepdims=True)  # (N, 1, 3)
    spread = np.median(np.abs(prof - med), axis=1).mean(axis=1)[:, None, None] + SPREAD_FLOOR
    p = (prof - med) / spread
    p = np.where(side[:, None, None] > 0, p, p[:, ::-1])  # + = shadow side
    win = p[:, _LO : _LO + _N_WIN]  # (N, nw, 3), centred on the box
    r = (np.arange(_N_WIN) - _N_WIN // 2) * STEP_M
    band_mask = np.abs(r)[None, :] <= np.maximum(width_m / 2.0 - 0.25, 0.0)[:, None]
    band_mask[:, _N_WIN // 2] = True
    band = (win * band_mask[:, :, None]).sum(1) / band_mask.sum(1)[:, None]  # (N, 3)
    band_lum = band.mean(axis=1)

    # --- context: string neighbours, stronger candidates nearby, boxes beside
    xy = boxes[:, :2]
    nb = string_neighbours(cands, gsd)
    kept_sides = np.zeros(n)
    ahead = np.zeros(n)
    behind = np.zeros(n)
    for a_, ns in enumerate(nb):
        kept_sides[a_] = len({h for b_, h in ns if kept[b_]})
        for b_, h in ns:
            if h:
                ahead[a_] = max(ahead[a_], score[b_])
            else:
                behind[a_] = max(behind[a_], score[b_])
    st_al = np.full(n, FAR_M)
    st_ac = np.full(n, FAR_M)
    st_sc = np.zeros(n)
    bes = np.zeros((n, 2))  # strongest stronger box beside: shadow side, other side
    dark = np.zeros((n, 2))
    pairs = cKDTree(xy).query_pairs(FAR_M / gsd, output_type="ndarray")
    if len(pairs):
        # directed pairs (i, j) with j stronger than i
        i = np.concatenate([pairs[:, 0], pairs[:, 1]])
        j = np.concatenate([pairs[:, 1], pairs[:, 0]])
        stronger = score[j] > score[i]
        i, j = i[stronger], j[stronger]
        d = xy[j] - xy[i]
        al = np.abs((d * u[i]).sum(1)) * gsd
        ac = (d * v[i]).sum(1) * gsd  # + : box i's positive across direction
        # the nearest stronger candidate
        order = np.lexsort((np.hypot(al, ac), i))
        first = order[np.unique(i[order], return_index=True)[1]]
        st_al[i[first]], st_ac[i[first]], st_sc[i[first]] = (
            al[first],
            np.abs(ac[first]),
            score[j[first]],
        )
        # the strongest parallel stronger candidate beside, on each side
        dang = np.abs((boxes[j, 4] - boxes[i, 4] + 90.0) % 180.0 - 90.0)
        ok = (
            (dang <= PARALLEL_DEG)
            & (np.abs(ac) >= BESIDE_M[0])
            & (np.abs(ac) <= BESIDE_M[1])
            & (al <= BESIDE_ALONG * length_m[i])
        )
        i, j, w = i[ok], j[ok], np.where(ac[ok] * side[i[ok]] > 0, 0, 1)
        if len(i):
            order = np.lexsort((-score[j], w, i))
            key = i[order] * 2 + w[order]
            first = order[np.unique(key, return_index=True)[1]]
            bes[i[first], w[first]] = score[j[first]]
            dark[i[first], w[first]] = band_lum[j[first]] - band_lum[i[first]]  # > 0: i darker
    put(kept.astype(np.float64))
    put(kept_sides)
    put(ahead)
    put(behind)
    put(np.minimum(st_al, FAR_M))
    put(np.minimum(st_ac, FAR_M))
    put(st_sc)
    put(bes[:, 0])
    put(bes[:, 1])
    put(dark[:, 0])
    put(dark[:, 1])
    put(np.full(n, float(np.hypot(*shadow))))

    # --- across window: RGB, colour distance from the band, gradient
    put(win.reshape(n, -1))
    put(np.sqrt(((win - band[:, None, :]) ** 2).sum(axis=2)))
    put(np.abs(np.gradient(p.mean(axis=2), axis=1))[:, _LO : _LO + _N_WIN])

    # --- along profile, normalised like the across one
    al_prof = (_along_profiles(image, boxes) - med) / spread
    put(al_prof.mean(axis=2))
    put(np.sqrt(((al_prof - band[:, None, :]) ** 2).sum(axis=2)))
    assert col == N_FEATURES
    return f


@dataclasses.dataclass(frozen=True)
class Verifier:
    """The fitted scorer (feature mean and scale, one hidden layer, logistic output) and
    the rule: a candidate kept by string support stays unless its probability is below
    ``drop_below``; another is admitted from ``admit_from``; candidates below
    ``min_peak`` are not looked at."""

    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray  # (hidden, N_FEATURES)
    b1: np.ndarray  # (hidden,)
    w2: np.ndarray  # (hidden,)
    b2: float = 0.0
    min_peak: float = DEFAULT_MIN_PEAK
    drop_below: float = DEFAULT_DROP_BELOW
    admit_from: float = DEFAULT_ADMIT_FROM

    def __post_init__(self) -> None:
        shapes = (self.mean.shape, self.scale.shape, self.w1.shape[1:], self.b1.shape)
        if shapes[:3] != ((N_FEATURES,),) * 3 or self.w2.shape != self.b1.shape:
            raise DetectionError(
                f"verifier weights of shapes {shapes}, {self.w2.shape} do not fit "
                f"{N_FEATURES} features: refit them with benchmarks/train_verify.py"
            )

    def probabilities(self, feats: np.ndarray) -> np.ndarray:
        """The probability that each candidate is a visible car, ``(N,)``."""
        if len(feats) == 0:
            return np.zeros(0)
        z = (feats - self.mean) / self.scale
        hidden = np.maximum(z @ self.w1.T + self.b1, 0.0)
        logit = np.asarray(hidden @ self.w2, dtype=np.float64) + self.b2
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logit, -30.0, 30.0))))

    def decide(self, prob: np.ndarray, kept: np.ndarray) -> np.ndarray:
        """Which candidates stay (see the class docstring)."""
        kept = np.asarray(kept, dtype=bool)
        return np.where(kept, prob >= self.drop_below, prob >= self.admit_from)

    def select(
        self,
        image: np.ndarray,
        gsd: float,
        cands: Sequence[Detection],
        kept: np.ndarray,
        maps: NetworkMaps | None = None,
    ) -> list[Detection]:
        """The candidates that stay, in their input order."""
        if not cands:
            return []
        prob = self.probabilities(features(image, gsd, cands, kept, maps))
        keep = self.decide(prob, kept)
        return [d for d, k in zip(cands, keep.tolist(), strict=True) if k]

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(FEATURE_NAMES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "w1": self.w1.tolist(),
            "b1": self.b1.tolist(),
            "w2": self.w2.tolist(),
            "b2": float(self.b2),
        }

    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any],
        *,
        min_peak: float | None = None,
        drop_below: float | None = None,
        admit_from: float | None = None,
    ) -> Verifier:
        names = data.get("features")
        if names is not None and list(names) != list(FEATURE_NAMES):
            raise DetectionError(
                "the verifier weights were fitted on other features than this version "
                "computes: refit them with benchmarks/train_verify.py"
            )
        try:
            arrays = {
                k: np.asarray(data[k], dtype=np.float32)
                for k in ("mean", "scale", "w1", "b1", "w2")
            }
            b2 = float(data.get("b2", 0.0))
        except (KeyError, TypeError, ValueError) as err:
            raise DetectionError(f"unreadable verifier weights: {err}") from err
        return cls(
            **arrays,
            b2=b2,
            min_peak=DEFAULT_MIN_PEAK if min_peak is None else float(min_peak),
            drop_below=DEFAULT_DROP_BELOW if drop_below is None else float(drop_below),
            admit_from=DEFAULT_ADMIT_FROM if admit_from is None else float(admit_from),
        )

    @classmethod
    def from_card(cls, entry: Any, weights: Path) -> Verifier:
        """The verifier named by a card's :data:`CARD_KEY` entry: its file next to
        ``weights``, else the package's file of that name."""
        data = card_json(
            entry,
            weights,
            CARD_KEY,
            "verifier",
            '{"file": NAME.json, "min_peak": P, "drop_below": D, "admit_from": A}',
        )
        return cls.from_dict(
            data,
            min_peak=entry.get("min_peak"),
            drop_below=entry.get("drop_below"),
            admit_from=entry.get("admit_from"),
        )


def fit(
    feats: np.ndarray,
    labels: np.ndarray,
    *,
    hidden: int = DEFAULT_HIDDEN,
    weight_decay: float = 1e-3,
    seed: int = 0,
    max_iter: int = 500,
) -> Verifier:
    """Fit the scorer: logistic loss of the candidates' labels (1: a visible car), one
    hidden layer, L-BFGS with an L2 penalty on the weights."""
    from scipy.optimize import minimize

    x = feats.astype(np.float64)
    y = np.asarray(labels, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    n, f = z.shape
    rng = np.random.default_rng(seed)
    sizes = (hidden * f, hidden, hidden, 1)
    p0 = np.concatenate(
        [
            rng.normal(0, 1 / np.sqrt(f), sizes[0]),
            np.zeros(hidden),
            rng.normal(0, 0.1, hidden),
            np.zeros(1),
        ]
    )

    def unpack(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        w1 = p[: sizes[0]].reshape(hidden, f)
        b1 = p[sizes[0] : sizes[0] + hidden]
        w2 = p[sizes[0] + hidden : sizes[0] + 2 * hidden]
        return w1, b1, w2, float(p[-1])

    def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
        w1, b1, w2, b2 = unpack(p)
        pre = z @ w1.T + b1
        h = np.maximum(pre, 0.0)
        s = h @ w2 + b2
        # log(1 + e^s) - y s, stably
        value = float((np.logaddexp(0.0, s) - y * s).mean())
        value += weight_decay * float((w1**2).sum() + (w2**2).sum())
        ds = (1.0 / (1.0 + np.exp(-s)) - y) / n
        g_w2 = h.T @ ds + 2 * weight_decay * w2
        g_b2 = ds.sum()
        dh = ds[:, None] * w2[None, :] * (pre > 0)
        g_w1 = dh.T @ z + 2 * weight_decay * w1
        g_b1 = dh.sum(axis=0)
        return value, np.concatenate([g_w1.ravel(), g_b1, g_w2, [g_b2]])

    res = minimize(loss, p0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    w1, b1, w2, b2 = unpack(res.x)
    return Verifier(
        mean.astype(np.float32),
        scale.astype(np.float32),
        w1.astype(np.float32),
        b1.astype(np.float32),
        w2.astype(np.float32),
        b2=b2,
    )


def candidate_labels(
    cands: Sequence[Detection],
    truth: Sequence[Detection],
    kept: np.ndarray,
    iou: float = 0.3,
    loose: float = 0.1,
) -> np.ndarray:
    """For fitting: 1 for the candidates that are a visible car, else 0. The candidates
    string support keeps are matched first (one to one, at ``iou``), then the others
    to the truth cars still unmatched, then all still unmatched at ``loose`` (a car
    the across refinement can still reach): a second box on a car already found is 0."""
    from railwatch.detect.eval import match

    y = np.zeros(len(cands))
    free_t = list(range(len(truth)))
    kept = np.asarray(kept, dtype=bool)
    for group, thr in ((kept, iou), (~kept, iou), (np.ones(len(cands), dtype=bool), loose)):
        idx = [i for i in np.nonzero(group)[0].tolist() if y[i] == 0]
        if not idx or not free_t:
            continue
        m = match([truth[i] for i in free_t], [cands[i] for i in idx], thr)
        used = set()
        for a, b, _ in m.pairs:
            y[idx[b]] = 1.0
            used.add(free_t[a])
        free_t = [t for t in free_t if t not in used]
    return y
