"""Analysis (not shipped): a 10 m long-train flag from the colour offset averaged along
a whole train's length instead of the occupied length.

The shipped flag (``CoarseEstimate.present``: at least 300 m of occupied track) is right
on about half of ``bench_presence.py``'s scenes. This script tries the statistic that
session 23 expected to do better: for every window of ``--window`` metres along each
track line, the mean of the samples' colour offsets from the local empty-track
reference (``coarse._evidence``: a car string shifts every sample the same way, so
noise averages out over a train's length), in units of the windows' own robust spread
(their 25th percentile of absolute values over the scene, per colour feature); the
scene's statistic is its largest window. A cut is chosen on a fitting set of scenes and
checked on a second set drawn from other seeds.

Seeds: 7_000_000 + ``--fit`` + k and 7_000_000 + ``--check`` + k (defaults 45_000 and
46_000), never ``bench_presence.py``'s 40_000 + k; cars asked as there.

Run: ``python benchmarks/analyse_presence_windows.py [--scenes 48] [--window 300]``
(about 2 minutes on 2 cores).
"""

from __future__ import annotations

import argparse

import numpy as np
from bench_presence import GSD, clear_scene, longest_string_m
from numpy.lib.stride_tricks import sliding_window_view

from railwatch.detect import coarse

STEP = 0.5  #: samples every half pixel, as the estimator


def scene_statistic(image: np.ndarray, valid: np.ndarray, lines: list, window_m: float) -> float:
    """The largest window mean of colour offsets, in robust spread units (0 without a
    window with data along at least 95 % of it)."""
    feats, ok = coarse._readable_features(image, valid)
    e = coarse._evidence(feats, ok, lines, GSD, STEP, given=True)
    if e is None:
        return 0.0
    win = max(2, round(window_m / GSD / STEP))
    means = []
    for a, b in zip(e.bounds[:-1], e.bounds[1:], strict=True):
        if b - a < win:
            continue
        x = np.where(e.ok[a:b, None], e.resid[a:b], 0.0)
        full = sliding_window_view(e.ok[a:b], win).mean(axis=1) >= 0.95
        if full.any():
            means.append(sliding_window_view(x, win, axis=0).mean(axis=2)[full])
    if not means:
        return 0.0
    # 25th percentile of |N(0, s)| is 0.319 s
    spread = np.percentile(np.abs(np.concatenate(means)), 25, axis=0) / 0.319
    return max(float(np.sqrt(((m / spread) ** 2).sum(axis=1)).max()) for m in means)


def run(start: int, n: int, window_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    stats, truth, longest = [], [], []
    for k in range(n):
        sc, lines = clear_scene(start + k, k)
        stats.append(scene_statistic(sc.image, sc.valid, coarse._polylines(lines), window_m))
        longest.append(longest_string_m(sc))
        truth.append(longest[-1] >= coarse.LONG_TRAIN_M)
    return np.array(stats), np.array(truth), np.array(longest)


def _confusion(s: np.ndarray, t: np.ndarray, cut: float) -> str:
    flag = s >= cut
    return (
        f"right {np.mean(flag == t):.0%} (long trains flagged {int((flag & t).sum())} of "
        f"{int(t.sum())}, scenes without one flagged {int((flag & ~t).sum())} of {int((~t).sum())})"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenes", type=int, default=48)
    ap.add_argument("--window", type=float, default=300.0, help="window length (metres)")
    ap.add_argument("--fit", type=int, default=45_000)
    ap.add_argument("--check", type=int, default=46_000)
    args = ap.parse_args()
    s_fit, t_fit, _ = run(args.fit, args.scenes, args.window)
    cuts = np.unique(s_fit)
    right = [float(np.mean((s_fit >= c) == t_fit)) for c in cuts]
    cut = float(cuts[int(np.argmax(right))])
    s_chk, t_chk, longest = run(args.check, args.scenes, args.window)
    print(f"window {args.window:.0f} m, cut {cut:.1f} chosen on seeds {7_000_000 + args.fit:_}+k")
    print(f"  fitting set: {_confusion(s_fit, t_fit, cut)}")
    print(f"  check set:   {_confusion(s_chk, t_chk, cut)}")
    print("  check set, longest string (m): statistic")
    print("  " + "  ".join(f"{m:.0f}:{v:.1f}" for m, v in sorted(zip(longest, s_chk, strict=True))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
