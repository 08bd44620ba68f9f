"""Fit (and check) the learned per-sample occupancy classifier of the coarse estimate.

Data: 3 m simulator scenes drawn as the benchmark draws them (``scene_params`` of
``bench_detect_accuracy.py``, 512 x 512 px, no cloud, pixels under haze or cloud shadow
not read, scenes under 80 % clear left out), from seeds 7_300_000 + k (never the
benchmark's 7_010_000 + k nor the development seeds 7_050_000 + k / 7_060_000 + k),
with the style replaced by one of the *training* families (temperate, continental,
industrial-dark; arid and winter are held out) and 10 % of the scenes empty. Every
sample along the scene's track centrelines (every half pixel) gets the features of
``coarse.sample_features`` and a label: inside a car's length over couplers (its drawn
body extended by half the coupler gap, 0.475 m, at either end) or not. Every fourth
sample of every line is kept for fitting.

Model: each feature clipped to its 0.5th-99.5th percentile on the training samples,
standardised, a one-hidden-layer perceptron (32 ReLU units), logistic loss, Adam (8
epochs), fitted with NumPy (fixed seed: the same command gives the same weights;
``--seeds S1 S2 ...`` fits one per seed and writes the mean of their log-odds as one
wider perceptron, steadier from seed to seed but, on the development sets, no better on
average than one fit: docs/detection-history.md, "Several fits of the coarse
classifier"). The decoding (``coarse.decode_strings``: cut on the probability, cost per
on/off change) is chosen on 60 further training-style scenes (seeds 7_300_240 + k) and
120 development scenes (seeds 7_050_000 + k, every style; 135 usable with cars), pooled:
the pair with the most scenes within ±15 %, ties by the median absolute error. Writes
``src/railwatch/detect/coarse_occupancy.json``. About 10-15 min on the 2-core VM
(rendering and features; the fit itself 1-2 min per seed).

Check (``--check N``, ``--check-synth N``, or ``--model FILE`` to check without fitting):
car equivalents along the centrelines with the hand-set rules and with the model on
development scenes (seeds 7_050_000 + k, every style, so arid and winter are held-out
families), and on yards drawn by the project's second renderer
(``detect.model_synth.draw_yard``, seeds 7_400_000 + k), which the model never saw.

    python benchmarks/fit_coarse_occupancy.py [--train 240] [--check 120]

Paint (experiment, session 41): the simulator's default drawing paints every car about
1.4 times its body area at 3 m (docs/simulator.md, "Known bias"). ``--exact-paint``
draws the training and tuning scenes with ``render_scene(..., exact_paint=True)``
(true size) and records ``"exact_paint": true`` in the model's meta; ``--check-paint
default|exact|both`` draws the development check scenes so (default: default paint, as
before). ``--model`` takes several files, each checked on the same scenes, rendered
once; every check also prints the summed estimate against the summed truth. Without
these options the script does what it did before (the same command gives the shipped
model). The experiment (docs/detection.md, "What to do next"):

    python benchmarks/fit_coarse_occupancy.py --exact-paint --out /tmp/occ_exact.json
    python benchmarks/fit_coarse_occupancy.py --model src/railwatch/detect/coarse_occupancy.json \
        /tmp/occ_exact.json --check 80 --check-paint both --check-synth 80

Mixed paint (experiment, session 43): ``--exact-paint-share P`` draws a share ``P`` of
the training and tuning scenes with exact paint and the rest with the default paint,
which scenes fixed by their seed (:func:`exact_for`: the same seed is drawn the same way
in every run, and a scene drawn exactly at one share is so at every larger share);
``--exact-paint`` is share 1, share 0 (the default) what the script did before. The
share and the number of scenes drawn exactly are recorded in the model's meta, and
``--cache`` files record the share they were made with (one made with another share is
refused). ``--cuts C1 C2 ...`` replaces the decoding's grid of cuts on the probability
(default 0.3-0.45, as before), e.g. to try cuts below 0.3; a grid other than the default
is recorded in the meta. The experiment (docs/detection.md, "What to do next"):

    python benchmarks/fit_coarse_occupancy.py --exact-paint-share 0.5 \
        --cuts 0.15 0.2 0.25 0.3 0.35 0.4 0.45 --out /tmp/occ_mixed.json

The classifier for yards read as crowded (``coarse_occupancy_crowded.json``, estimator 9)
is the same recipe with dense training yards and five members:

    python benchmarks/fit_coarse_occupancy.py --dense-every 4 --seeds 0 1 2 3 4 \
        --out src/railwatch/detect/coarse_occupancy_crowded.json
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_detect_accuracy import (
    car_samples,
    clear_and_truth,
    equivalents,
    scene_params,
    truth_equivalents,
)

from railwatch.detect import coarse
from railwatch.detect.coarse_model import MODEL_PATH, OccupancyModel
from railwatch.sim.params import SceneParams
from railwatch.sim.scene import RenderedScene, render_scene

GSD = 3.0
STEP = 0.5
TRAIN_START = 300_000
CHECK_START = 50_000
TRAIN_STYLES = ("temperate", "continental", "industrial-dark")
SUBSAMPLE = 4


#: With ``--dense-every N`` (N > 0), every N-th training scene (k % N == 1, unless it is
#: one of the empty ones) holds 300-699 cars instead of 20-149: yards half full or more,
#: which the benchmark's scenes never are (session 28: such yards read 20-50 % low).
DENSE_EVERY = 0


def train_params(k: int, gsd: float = GSD) -> SceneParams:
    """Training scene ``k``: the benchmark's draw from seed 7_300_000 + k, a training
    style, 10 % of scenes empty and, with :data:`DENSE_EVERY`, some dense."""
    dense = DENSE_EVERY > 0 and k % DENSE_EVERY == 1
    p = scene_params(TRAIN_START + k, gsd).with_(
        size_px=(512, 512),
        n_cars=0
        if k % 10 == 9
        else int(300 + (k * 53) % 400)
        if dense
        else int(20 + (k * 37) % 130),
        cloud_cover=0.0,
        style=TRAIN_STYLES[k % len(TRAIN_STYLES)],
    )
    return p


def check_params(k: int, gsd: float = GSD, start: int = CHECK_START) -> SceneParams:
    """Development scene ``k`` exactly as the interval derivation draws it."""
    return scene_params(start + k, gsd).with_(
        size_px=(512, 512), n_cars=int(20 + (k * 37) % 130), cloud_cover=0.0
    )


def prepare(sc: RenderedScene) -> tuple[np.ndarray, MultiLineString, int] | None:
    """Clear-pixel mask, centrelines in pixels and the visible truth count; None when
    the scene is under 80 % clear."""
    usable = clear_and_truth(sc)
    if usable is None:
        return None
    clear, truth = usable
    inv = ~sc.transform
    tracks = MultiLineString(
        [LineString([inv @ xy for xy in t.coords]) for t in sc.tracks if len(t.coords) >= 2]
    )
    return clear, tracks, truth


def scene_samples(sc: RenderedScene) -> tuple[np.ndarray, np.ndarray] | None:
    """Features and labels of every usable sample along the scene's centrelines."""
    prep = prepare(sc)
    if prep is None:
        return None
    clear, tracks, _ = prep
    img = sc.image[..., :3]
    feats = coarse._invariant_colour(img)
    feats[~clear] = np.median(feats[clear], axis=0)
    e = coarse._evidence(feats, clear, coarse._polylines(tracks), GSD, STEP, given=True)
    if e is None:
        return None
    x = coarse.sample_features(e, feats, GSD, STEP)
    pts = np.concatenate([p for p, _, _, _ in e.profiles])
    union = car_samples(sc, GSD)
    if union is not None:
        y = shapely.contains_xy(union, pts[:, 0], pts[:, 1]).astype(np.float64)
    else:
        y = np.zeros(len(pts))
    keep = np.zeros(len(pts), dtype=bool)
    for a, b in itertools.pairwise(e.bounds):
        keep[a:b:SUBSAMPLE] = True
    keep &= e.ok
    return x[keep].astype(np.float32), y[keep].astype(np.float32)


#: The golden ratio's fractional part: :func:`exact_for` steps through [0, 1) by it, seed
#: by seed, which spreads any share of consecutive seeds evenly.
_GOLDEN = 0.6180339887498949


def exact_for(seed: int, share: float) -> bool:
    """Whether the scene of ``seed`` is drawn with exact paint when a ``share`` of the
    scenes is (``--exact-paint-share``): the fractional part of ``seed`` times the golden
    ratio is below ``share``. A fixed choice per seed, independent of the order the
    scenes are drawn in; of n consecutive seeds about ``share`` x n (to within one or
    two) are drawn exactly; share 0 draws none and share 1 every one."""
    if share <= 0.0:
        return False
    if share >= 1.0:
        return True
    return (seed * _GOLDEN) % 1.0 < share


def collect(n: int, share: float = 0.0) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Training scenes 0 .. n - 1 (a ``share`` of them drawn with exact paint:
    :func:`exact_for`; ``True`` is share 1)."""
    for k in range(n):
        p = train_params(k)
        out = scene_samples(render_scene(p, exact_paint=exact_for(p.seed, float(share))))
        if out is not None:
            yield k, *out


def fit(x: np.ndarray, y: np.ndarray, hidden: int, epochs: int, seed: int = 0) -> OccupancyModel:
    """One hidden layer, ReLU, logistic loss, Adam (lr 3e-3, batch 2048, L2 1e-5)."""
    rng = np.random.default_rng(seed)
    low, high = np.quantile(x, 0.005, axis=0), np.quantile(x, 0.995, axis=0)
    x = np.clip(x, low, high)
    mean = x.mean(axis=0)
    scale = np.maximum(x.std(axis=0), 1e-6)
    z = (x - mean) / scale
    f = z.shape[1]
    params = {
        "w1": rng.normal(0, np.sqrt(2.0 / f), (f, hidden)),
        "b1": np.zeros(hidden),
        "w2": rng.normal(0, np.sqrt(1.0 / hidden), hidden),
        "b2": np.array([np.log(max(y.mean(), 1e-3) / max(1 - y.mean(), 1e-3))]),
    }
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(v) for k, v in params.items()}
    lr, b1_, b2_, eps, l2, batch = 3e-3, 0.9, 0.999, 1e-8, 1e-5, 2048
    t = 0
    for ep in range(epochs):
        order = rng.permutation(len(z))
        loss_sum = 0.0
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            zb, yb = z[idx], y[idx]
            pre = zb @ params["w1"] + params["b1"]
            hid = np.maximum(pre, 0.0)
            logit = hid @ params["w2"] + params["b2"][0]
            p = 1.0 / (1.0 + np.exp(-np.clip(logit, -40, 40)))
            loss_sum += float(-(yb * np.log(p + 1e-9) + (1 - yb) * np.log(1 - p + 1e-9)).sum())
            g = (p - yb) / len(idx)
            grads = {
                "w2": hid.T @ g + l2 * params["w2"],
                "b2": np.array([g.sum()]),
            }
            gh = np.outer(g, params["w2"]) * (pre > 0)
            grads["w1"] = zb.T @ gh + l2 * params["w1"]
            grads["b1"] = gh.sum(axis=0)
            t += 1
            for k in params:
                m[k] = b1_ * m[k] + (1 - b1_) * grads[k]
                v[k] = b2_ * v[k] + (1 - b2_) * grads[k] ** 2
                mh = m[k] / (1 - b1_**t)
                vh = v[k] / (1 - b2_**t)
                params[k] = params[k] - lr * mh / (np.sqrt(vh) + eps)
        print(f"  epoch {ep + 1}: log loss {loss_sum / len(z):.4f}", flush=True)
    return OccupancyModel(
        features=coarse.FEATURES,
        low=low,
        high=high,
        mean=mean.astype(np.float64),
        scale=scale.astype(np.float64),
        w1=params["w1"],
        b1=params["b1"],
        w2=params["w2"],
        b2=float(params["b2"][0]),
    )


def fit_ensemble(
    x: np.ndarray, y: np.ndarray, hidden: int, epochs: int, seeds: Sequence[int]
) -> OccupancyModel:
    """The mean log-odds of one perceptron per seed in ``seeds``, written as one
    perceptron: the members share the clipping and standardisation (both depend on the
    data only), so their hidden layers side by side with each output weight divided by
    the number of members give the mean of their logits exactly."""
    members = []
    for seed in seeds:
        print(f" member seed {seed}", flush=True)
        members.append(fit(x, y, hidden, epochs, seed=seed))
    n = len(members)
    return dataclasses.replace(
        members[0],
        w1=np.concatenate([m.w1 for m in members], axis=1),
        b1=np.concatenate([m.b1 for m in members]),
        w2=np.concatenate([m.w2 for m in members]) / n,
        b2=float(np.mean([m.b2 for m in members])),
    )


CUTS = (0.3, 0.35, 0.4, 0.45)
SWITCHES = (0.0, 2.0, 5.0, 10.0, 20.0)


def tune_scenes(first: int, n: int, dev: int) -> list[SceneParams]:
    """The scenes :func:`tune_decoding` draws: training-style scenes ``first`` .. ``first +
    n - 1`` and the first ``dev`` development scenes."""
    return [train_params(k) for k in range(first, first + n)] + [
        check_params(k) for k in range(dev)
    ]


def tune_decoding(
    model: OccupancyModel,
    first: int,
    n: int,
    dev: int,
    share: float = 0.0,
    cuts: Sequence[float] = CUTS,
) -> tuple[float, float]:
    """The cut on the probability and the switch cost of the string decoding
    (``coarse.decode_strings``) with the most scenes within ±15 % (ties: the smaller
    median absolute error) on training-style scenes ``first`` .. ``first + n - 1`` (not
    used for fitting) and the first ``dev`` development scenes (seeds 7_050_000 + k,
    every style), pooled; scenes without cars left out. ``share``: that share of the
    scenes drawn with exact paint (:func:`exact_for`; ``True`` is share 1); ``cuts``: the
    cuts tried (each with every switch cost of :data:`SWITCHES`)."""
    errs: dict[tuple[float, float], list[float]] = {(c, w): [] for c in cuts for w in SWITCHES}
    for params in tune_scenes(first, n, dev):
        sc = render_scene(params, exact_paint=exact_for(params.seed, float(share)))
        prep = prepare(sc)
        if prep is None:
            continue
        clear, tracks, truth = prep
        if truth == 0:
            continue
        feats = coarse._invariant_colour(sc.image[..., :3])
        feats[~clear] = np.median(feats[clear], axis=0)
        e = coarse._evidence(feats, clear, coarse._polylines(tracks), GSD, STEP, given=True)
        if e is None:
            continue
        prob = model.probability(coarse.sample_features(e, feats, GSD, STEP))
        for c, w in errs:
            occ = coarse.decode_strings(e, prob, c, w)
            length, _ = coarse._strings(e, occ, GSD, STEP, clean=False)
            errs[(c, w)].append((length / coarse.CONVENTIONAL_CAR_M - truth) / truth)
    for (c, w), v in errs.items():
        print("  " + summary(f"cut {c}, switch {w}", v))

    def rank(key: tuple[float, float]) -> tuple[float, float]:
        a = np.abs(errs[key])
        return -float(np.mean(a <= 0.15)), float(np.median(a))

    return min(errs, key=rank)


def estimate(sc: RenderedScene, model: OccupancyModel | None) -> tuple[float, int] | None:
    """(car equivalents along the centrelines, truth); None when unusable."""
    prep = prepare(sc)
    if prep is None:
        return None
    clear, tracks, truth = prep
    est = coarse.estimate_occupancy(
        sc.image, GSD, clear, tracks, model=model, learned=model is not None
    )
    return est.car_equivalents, truth


def synth_scene(k: int, size_m: float = 768.0) -> tuple[np.ndarray, MultiLineString, int] | None:
    """:func:`synth_yard` with the number of its cars instead of their lengths.
    ``derive_coarse_interval.py`` uses it too."""
    yard = synth_yard(k, size_m)
    return None if yard is None else (yard[0], yard[1], len(yard[2]))


def synth_yard(
    k: int, size_m: float = 768.0
) -> tuple[np.ndarray, MultiLineString, list[float]] | None:
    """A yard drawn by the project's second renderer (``detect.model_synth.draw_yard``,
    flat shapes at 1.5 m area-averaged to 3 m, then Gaussian noise of 2 DN), seed
    7_400_000 + k: the image, its track centrelines in pixels (replayed from the same
    random stream: ``draw_yard`` does not return them; as long as it draws the tracks,
    1.6 yard widths to either side of the track's origin, so every car lies on one) and
    the body lengths (m) of the cars whose centre is inside the image. None for a yard
    drawn without tracks."""
    import cv2

    from railwatch.detect import model_synth as ms

    seed = 7_400_000 + k
    rng = np.random.default_rng(seed)
    img, cars = ms.draw_yard(rng, size_m, GSD / 2)
    n = round(size_m / GSD)
    img = cv2.resize(img, (n, n), interpolation=cv2.INTER_AREA).astype(np.float32)
    img += np.random.default_rng(seed + 1).normal(0, 2.0, img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    # replay the random stream up to the track layout
    r2 = np.random.default_rng(seed)
    ms._background(ms._Canvas(size_m, GSD / 2, r2))
    r2.uniform(0, 2 * np.pi)
    r2.uniform(0.15, 1.3)
    if not r2.random() < 0.9:
        return None
    ang = r2.uniform(0, 180)
    ntr = int(r2.integers(1, 14))
    spacing = r2.uniform(4.3, 6.0)
    centre = np.array([size_m / 2, size_m / 2]) + r2.uniform(-size_m / 3, size_m / 3, 2)
    a = np.deg2rad(ang)
    u, v = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    span = size_m * 1.6
    lines = []
    for t in range(ntr):
        o = centre + v * (-spacing * (ntr - 1) / 2 + t * spacing)
        lines.append(LineString([(o - u * span) / GSD, (o + u * span) / GSD]))
    for c in cars:  # every car on a replayed line (the replay is exact)
        d = min(ln.distance(shapely.Point(c.cx / GSD, c.cy / GSD)) for ln in lines)
        if d > 0.3:
            raise RuntimeError(f"synth scene {k}: track replay failed ({d:.2f} px)")
    inside = [float(c.length) for c in cars if 0 <= c.cx < size_m and 0 <= c.cy < size_m]
    return img, MultiLineString(lines), inside


def check_synth(models: Sequence[tuple[str, OccupancyModel]], n: int) -> None:
    """The second renderer's yards, against their car count and (the quantity the
    estimate measures) their car equivalents; the hand-set rules and each of ``models``
    (name, model) on the same yards."""
    rows = []
    for k in range(n):
        yard = synth_yard(k)
        if yard is None:
            continue
        img, tracks, lengths = yard
        truth, eq = len(lengths), equivalents(lengths)
        ests = [coarse.estimate_occupancy(img, GSD, None, tracks, learned=False).car_equivalents]
        ests += [
            coarse.estimate_occupancy(img, GSD, None, tracks, learned=True, model=m).car_equivalents
            for _, m in models
        ]
        rows.append(((float(truth), eq), ests))
    names = ["rules"] + [f"model {name}" if len(models) > 1 else "model" for name, _ in models]
    for against in ("count", "car equivalents"):
        ref = 0 if against == "count" else 1
        for i, name in enumerate(names):
            errs = [(r[1][i] - r[0][ref]) / max(r[0][ref], 1) for r in rows]
            print(summary(f"second renderer, {name}, against {against}", errs))
        for lo, hi in ((0, 1), (1, 40), (40, 150), (150, 10_000)):
            sub = [r for r in rows if lo <= r[0][0] < hi]
            for i, name in enumerate(names):
                errs = [(r[1][i] - r[0][ref]) / max(r[0][ref], 1) for r in sub]
                print(f"  truth {lo}-{hi}: " + summary(name, errs))
    for i, name in enumerate(names):
        print(summed(f"second renderer, {name}", rows, i))


def summed(name: str, rows: Sequence[tuple[tuple[float, float], list[float]]], i: int) -> str:
    """The summed estimate (column ``i`` of each row's estimates) against the summed
    truth count and the summed car equivalents of ``rows`` ((truth, equivalents),
    estimates)."""
    est = sum(r[1][i] for r in rows)
    truth = sum(r[0][0] for r in rows)
    eq = sum(r[0][1] for r in rows)
    return (
        f"{name}: summed {est:.1f} car equivalents, truth {truth:.0f} "
        f"({(est - truth) / max(truth, 1):+.1%}), truth equivalents {eq:.1f} "
        f"({(est - eq) / max(eq, 1):+.1%})"
    )


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a share ``k`` of ``n`` (95 % by default): with 150
    scenes a share near 60 % is known to about ±8 points, so estimators a few points
    apart on these sets are not told apart."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, float(mid - half)), min(1.0, float(mid + half))


def summary(name: str, errs: list[float]) -> str:
    """Within ±15 %, median and mean absolute error, bias, and the gross errors: scenes
    read at more than 1.6 times or under 0.6 times the truth (relative errors ``errs``;
    an empty scene's error is its reading in cars, so one read as more than 0.6 car
    counts as over)."""
    e = np.asarray(errs, dtype=np.float64)
    a = np.abs(e)
    if not len(a):
        return f"{name}: none"
    lo, hi = wilson(int(np.sum(a <= 0.15)), len(a))
    return (
        f"{name}: {len(a)} scenes, within ±15 % {np.mean(a <= 0.15):.1%} "
        f"(95 % {lo:.0%}-{hi:.0%}), median "
        f"{np.median(a):.1%}, mean {a.mean():.1%}, bias {np.median(e):+.1%}, "
        f"over 1.6x {int(np.sum(e > 0.6))}, under 0.6x {int(np.sum(e < -0.4))}"
    )


def check(
    models: Sequence[tuple[str, OccupancyModel]], n: int, start: int, exact: bool = False
) -> None:
    """Development scenes, against their visible car count and their car equivalents:
    the hand-set rules and each of ``models`` (name, model) on the same scenes
    (``exact``: drawn with exact paint)."""
    rows: list[tuple[str, tuple[float, float], list[float]]] = []
    for k in range(n):
        p = check_params(k, start=start)
        sc = render_scene(p, exact_paint=exact)
        r0 = estimate(sc, None)
        if r0 is None:
            continue
        ests = [r0[0]]
        for _, m in models:
            r1 = estimate(sc, m)
            assert r1 is not None  # the same scene, so usable as r0
            ests.append(r1[0])
        rows.append((p.style, (float(r0[1]), truth_equivalents(sc)), ests))
    names = ["rules"] + [f"model {name}" if len(models) > 1 else "model" for name, _ in models]
    paint = "exact paint" if exact else "default paint"
    for against in ("count", "car equivalents"):
        ref = 0 if against == "count" else 1
        for label, sel in (
            ("all", lambda s: True),
            ("training styles", lambda s: s in TRAIN_STYLES),
            ("held-out styles (arid, winter)", lambda s: s not in TRAIN_STYLES),
        ):
            sub = [r for r in rows if sel(r[0])]
            for i, name in enumerate(names):
                errs = [(r[2][i] - r[1][ref]) / max(r[1][ref], 1) for r in sub]
                print(summary(f"{name}, {label}, against {against}", errs))
    for i, name in enumerate(names):
        print(summed(f"{paint}, {name}", [(r[1], r[2]) for r in rows], i))


def paint_share(exact_paint: bool, share: float | None) -> float:
    """The share of training and tuning scenes drawn with exact paint from the options
    ``--exact-paint`` (share 1) and ``--exact-paint-share`` (default 0)."""
    if share is None:
        return 1.0 if exact_paint else 0.0
    if exact_paint and share != 1.0:
        raise SystemExit("--exact-paint is --exact-paint-share 1: give one of them")
    if not 0.0 <= share <= 1.0:
        raise SystemExit(f"--exact-paint-share must lie in 0..1, got {share}")
    return share


def paint_meta(share: float, train: int, tune: int, tune_dev: int) -> dict[str, object]:
    """The model meta's record of the paint: nothing at share 0 (the meta the script
    wrote before session 43); otherwise the share and how many of the training and
    tuning scenes were drawn exactly, and ``"exact_paint": true`` at share 1 (as
    ``--exact-paint`` wrote it since session 41)."""
    if share <= 0.0:
        return {}
    n_train = sum(exact_for(train_params(k).seed, share) for k in range(train))
    n_tune = sum(exact_for(p.seed, share) for p in tune_scenes(train, tune, tune_dev))
    meta: dict[str, object] = {
        "exact_paint_share": share,
        "exact_paint_scenes": f"{n_train} of {train} training, {n_tune} of "
        f"{tune + tune_dev} tuning",
    }
    if share >= 1.0:
        meta["exact_paint"] = True
    return meta


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=240, help="training scenes")
    ap.add_argument("--tune", type=int, default=60, help="training-style scenes to tune on")
    ap.add_argument("--tune-dev", type=int, default=120, help="development scenes to tune on")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0],
        help="one member per seed, their log-odds averaged (default: one fit, seed 0)",
    )
    ap.add_argument("--check", type=int, default=0, help="development scenes to check on")
    ap.add_argument("--check-synth", type=int, default=0, help="second-renderer yards")
    ap.add_argument(
        "--model",
        type=Path,
        nargs="+",
        default=None,
        help="check these models (each on the same scenes), no fit",
    )
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--cache", type=Path, default=None, help="npz cache of the samples")
    ap.add_argument(
        "--dense-every",
        type=int,
        default=0,
        help="every N-th training scene holds 300-699 cars (0: none, as until session 28)",
    )
    ap.add_argument(
        "--exact-paint",
        action="store_true",
        help="draw the training and tuning scenes with exact paint (experiment, session 41)",
    )
    ap.add_argument(
        "--exact-paint-share",
        type=float,
        default=None,
        metavar="P",
        help="draw this share of the training and tuning scenes with exact paint, chosen "
        "by seed (experiment, session 43; 0: none, as before; --exact-paint is 1)",
    )
    ap.add_argument(
        "--cuts",
        type=float,
        nargs="+",
        default=list(CUTS),
        help=f"cuts on the probability the decoding tries (default {' '.join(map(str, CUTS))})",
    )
    ap.add_argument(
        "--check-paint",
        choices=("default", "exact", "both"),
        default="default",
        help="paint of the --check development scenes (default: default paint)",
    )
    args = ap.parse_args()
    share = paint_share(args.exact_paint, args.exact_paint_share)
    global DENSE_EVERY
    DENSE_EVERY = args.dense_every
    t0 = time.perf_counter()
    paints = {"default": (False,), "exact": (True,), "both": (False, True)}[args.check_paint]
    if args.model is not None:
        from railwatch.detect.coarse_model import load_model

        models = [(str(f), load_model(f)) for f in args.model]
        for exact in paints if args.check else ():
            print(f"development scenes, {'exact' if exact else 'default'} paint:")
            check(models, args.check, CHECK_START, exact)
        if args.check_synth:
            check_synth(models, args.check_synth)
        print(f"checked ({time.perf_counter() - t0:.0f} s)")
        return 0
    if args.cache is not None and args.cache.exists():
        d = np.load(args.cache)
        x, y = d["x"], d["y"]
        if "exact_paint_share" in d and float(d["exact_paint_share"]) != share:
            ap.error(
                f"{args.cache} was made with exact-paint share "
                f"{float(d['exact_paint_share'])}, not {share}"
            )
    else:
        xs, ys = [], []
        for k, xk, yk in collect(args.train, share):
            xs.append(xk)
            ys.append(yk)
            if k % 20 == 0:
                print(f"scene {k}: {len(xk)} samples, {yk.mean():.1%} occupied", flush=True)
        x, y = np.concatenate(xs), np.concatenate(ys)
        if args.cache is not None:
            np.savez_compressed(args.cache, x=x, y=y, exact_paint_share=np.float64(share))
    print(f"{len(x)} samples, {y.mean():.1%} occupied ({time.perf_counter() - t0:.0f} s)")
    model = fit_ensemble(
        x.astype(np.float64), y.astype(np.float64), args.hidden, args.epochs, args.seeds
    )
    meta = {
        "fitted_by": "benchmarks/fit_coarse_occupancy.py",
        "train_scenes": args.train,
        "train_seeds": f"{7_000_000 + TRAIN_START}..{7_000_000 + TRAIN_START + args.train - 1}",
        "train_styles": list(TRAIN_STYLES),
        "gsd": GSD,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "member_seeds": list(args.seeds),
        "dense_every": args.dense_every,
        "samples": len(x),
    }
    meta.update(paint_meta(share, args.train, args.tune, args.tune_dev))
    if tuple(args.cuts) != CUTS:
        meta["decoding_cuts"] = list(args.cuts)
    cut, switch = (
        tune_decoding(model, args.train, args.tune, args.tune_dev, share, args.cuts)
        if args.tune
        else (0.5, 0.0)
    )
    first = 7_000_000 + TRAIN_START + args.train
    meta["decoding_chosen_on_seeds"] = (
        f"{first}..{first + args.tune - 1} and 7050000..{7_050_000 + args.tune_dev - 1}"
    )
    model = OccupancyModel(**{**model.__dict__, "cut": cut, "switch": switch, "meta": meta})
    print(f"cut {cut}, switch {switch}")
    args.out.write_text(json.dumps(model.to_json()))
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f} s)")
    for exact in paints if args.check else ():
        print(f"development scenes, {'exact' if exact else 'default'} paint:")
        check([(str(args.out), model)], args.check, CHECK_START, exact)
    if args.check_synth:
        check_synth([(str(args.out), model)], args.check_synth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
