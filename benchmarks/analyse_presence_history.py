"""Analysis: the 10 m long-train flag read against the site's other images.

Sites from seeds 7_000_000 + ``--start`` + s (``bench_detect_accuracy.scene_params`` at
10 m, no cloud, haze or misregistration), each seen ``--visits`` times (the same yard,
another day's cars, 5, 30, 80 or 160 asked at random). For each visit the flag is read
as shipped (:func:`railwatch.detect.coarse.longest_string_run` on the image alone) and
with the site's background removed first: the per-pixel median, over the site's other
visits, of each image's invariant colours relative to its own median ("hist"), or the
median of the other visits' offsets from their empty track at the same samples
("eres"); "and" variants flag only where the image alone flags too. A bridge or a
platform along a line then cancels out; cars that stand at the same place in most
visits would cancel too. "shipped" is what the pipeline does since PRESENCE_VERSION 3:
``estimate_occupancy(..., background=site_background(...))`` with the other visits'
``relative_colours``, kept in half precision as the pipeline keeps them ("hist and
alone" through the product's own functions).

Run: ``python benchmarks/analyse_presence_history.py [--start 45500] [--sites 16]
[--visits 8]`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import types

import numpy as np
from bench_detect_accuracy import SEED0, scene_params
from bench_presence import CARS, GSD, longest_string_m, pixel_lines
from shapely.geometry import LineString, MultiLineString

from railwatch.detect import coarse
from railwatch.sim.scene import render_scene

STEP = 0.5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--start", type=int, default=45_500)
    ap.add_argument("--sites", type=int, default=16)
    ap.add_argument("--visits", type=int, default=8)
    args = ap.parse_args()
    res: dict[str, list[tuple[bool, bool]]] = {
        k: [] for k in ("alone", "hist", "hist and alone", "eres", "eres and alone", "shipped")
    }
    for s in range(args.sites):
        seed = args.start + s
        base = scene_params(seed, GSD).with_(
            cloud_cover=0.0,
            haze=0.0,
            coverage=1.0,
            misregistration_m=(0.0, 0.0),
            layout_seed=SEED0 + seed,
        )
        rng = np.random.default_rng(seed)
        visits = []
        for v in range(args.visits):
            p = base.with_(seed=SEED0 + seed + 1000 * (s + 1) + v, n_cars=int(rng.choice(CARS)))
            sc = render_scene(p)
            inv = ~sc.transform
            lines = coarse._polylines(
                MultiLineString(
                    [
                        LineString([inv @ c for c in t.coords])
                        for t in sc.tracks
                        if len(t.coords) >= 2
                    ]
                )
            )
            feats, ok = coarse._readable_features(sc.image, sc.valid)
            rel = (feats - np.median(feats[ok], axis=0)).astype(np.float32)
            e = coarse._evidence(feats, ok, lines, GSD, STEP, given=True)
            visits.append(
                (
                    sc,
                    lines,
                    feats,
                    ok,
                    rel,
                    e,
                    coarse.relative_colours(sc.image, sc.valid).astype(np.float16),
                )
            )
        for i, (sc, lines, feats, ok, _, e, _) in enumerate(visits):
            others = [v for j, v in enumerate(visits) if j != i]
            truth = longest_string_m(sc) >= coarse.LONG_TRAIN_M
            alone = coarse.longest_string_run(e, GSD, STEP)[0] >= coarse.LONG_TRAIN_M
            # hist: the image's relative colours minus the others' median, along the lines
            rel = visits[i][4]
            bg = np.median(np.stack([v[4] for v in others]), axis=0).astype(np.float32)
            prof = coarse._profiles(feats, ok, lines, GSD, STEP)
            resid = np.concatenate(
                [
                    coarse._sample(rel, pts).astype(np.float64)
                    - coarse._sample(bg, pts).astype(np.float64)
                    for pts, _, _, _ in prof
                ]
            )
            ok_all = np.concatenate([o for _, _, _, o in prof])
            resid[~ok_all] = 0.0
            bounds = np.cumsum([0, *[len(p[0]) for p in prof]])
            hist_e = types.SimpleNamespace(bounds=bounds, ok=ok_all, resid=resid, noise=e.noise)
            hist = coarse.longest_string_run(hist_e, GSD, STEP)[0] >= coarse.LONG_TRAIN_M  # type: ignore[arg-type]
            # eres: the offsets from the empty track minus the others' median offsets
            oth = np.stack([np.where(v[5].ok[:, None], v[5].resid, np.nan) for v in others])
            with np.errstate(all="ignore"):
                med = np.nan_to_num(np.nanmedian(oth, axis=0))
            eres_e = types.SimpleNamespace(
                bounds=e.bounds,
                ok=e.ok,
                resid=np.where(e.ok[:, None], e.resid - med, 0.0),
                noise=e.noise,
            )
            eres = coarse.longest_string_run(eres_e, GSD, STEP)[0] >= coarse.LONG_TRAIN_M  # type: ignore[arg-type]
            background = coarse.site_background([v[6] for v in others])
            shipped = coarse.estimate_occupancy(
                sc.image, GSD, sc.valid, pixel_lines(sc), background=background
            ).present
            for key, flag in (
                ("alone", alone),
                ("hist", hist),
                ("hist and alone", hist and alone),
                ("eres", eres),
                ("eres and alone", eres and alone),
                ("shipped", shipped),
            ):
                res[key].append((truth, flag))
        print(f"  site {s + 1}/{args.sites}", flush=True)
    for key, pairs in res.items():
        t = np.array([a for a, _ in pairs])
        f = np.array([b for _, b in pairs])
        print(
            f"{key}: right {np.mean(t == f):.0%} of {len(t)}, long trains flagged "
            f"{int((t & f).sum())} of {int(t.sum())}, scenes without one flagged "
            f"{int((f & ~t).sum())} of {int((~t).sum())}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
