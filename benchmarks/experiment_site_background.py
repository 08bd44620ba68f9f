"""Experiment (session 31): a background per position along each line at 3 m.

For a 3 m image read with its site's references (the pipeline's mode: the site's empty
track from three or more other images, estimator 5), each sample's colour offset from
its image's median is compared with the median, over the references, of the same
offset at the same place (``coarse.relative_colours`` per reference, their per-pixel
median ``coarse.site_background``, sampled at the lines moved back by the image's
registration): a car is read against the very stretch of ballast it stands on. Two
features are added to the learned decision's 26 (``coarse.sample_features``): that
evidence averaged over half a car and over one car, in units of its own robust spread on
quiet samples (log1p). A sample where the background is unknown takes today's evidence.

The classifier is refitted on simulated *sites* (training styles, seeds 7_330_000 + …;
each site seen ``--visits`` times with another day's cars, season, haze, noise and sun,
every visit read against the others, the references misregistered N(0, 2.5 m) per axis
as ``bench_registration.py`` draws them), twice with the same data, seeds and recipe
(``fit_coarse_occupancy.fit_ensemble``, ``--seeds``): **A** without the two features,
**B** with them. Both decode with the shipped classifier's cut and switch. A yard read
as crowded or full keeps the crowded classifier (estimator 10), as in the product.

Measured in the pipeline-with-references mode on
- ``bench_registration.py``'s sites (misregistered, registered, the site's empty track):
  sites 0-5 development, 6-11 held out;
- ``bench_crowded_yard.py``'s sites (two packed visits of eight): 0-5 development, 6-11
  held out;
- the second renderer (``fit_coarse_occupancy.synth_yard``), each yard seen ``--visits``
  times with its ground, tracks and distractors the same and another draw of its cars:
  yards k < 400 development, 400-799 held out;
for the shipped classifier (today), A and B: within ±15 %, median absolute error,
the truth inside the interval (estimator 6's widths), gross errors.

Run (PYTHONPATH=src): ``python benchmarks/experiment_site_background.py fit
[--sites 80]`` then ``... eval --set dev|held``. Caches under /tmp/s31_site_bg/.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely.affinity import translate
from shapely.geometry import LineString, MultiLineString

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fit_coarse_occupancy as fco
from bench_crowded_yard import PACKED_CLASSES, _yard_lines
from bench_detect_accuracy import (
    SEED0,
    car_samples,
    clear_and_truth,
    equivalents,
    scene_params,
)

from railwatch.detect import coarse
from railwatch.detect.coarse_model import (
    OccupancyModel,
    load_crowded_model,
    load_model,
)
from railwatch.imagery.register import MAX_REFERENCES, highpass, register
from railwatch.sim.params import SEASONS
from railwatch.sim.scene import render_scene

GSD = 3.0
STEP = 0.5
CACHE = Path("/tmp/s31_site_bg")
SITE_TRAIN_START = 330_000
SUBSAMPLE = 8
SITE_FEATURES = ("log_ev_site_half_car", "log_ev_site_car")


# --- the feature ------------------------------------------------------------------


def site_features(
    e: coarse._Evidence,
    feats: np.ndarray,
    valid: np.ndarray,
    background: np.ndarray,
    shift: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray | None:
    """(N, 2): log1p of the evidence against the site's background per position,
    averaged over half a car and one car, in units of the half-car average's robust
    spread on quiet samples; today's evidence where the background is unknown. None
    when fewer than 20 samples have a background."""
    median = np.median(feats[valid], axis=0)
    seen = np.isfinite(background).all(axis=-1)
    filled = np.where(seen[..., None], background, 0.0).astype(np.float32)
    back = np.asarray(shift, np.float64)
    rs, goods = [], []
    for pts, _, f, ok in e.profiles:
        b = coarse._sample(filled, pts - back).astype(np.float64)
        known = coarse._sample(seen.astype(np.float32), pts - back) > 0.99
        good = ok & known
        r = f - median - b
        r[~good] = 0.0
        rs.append(r)
        goods.append(good)
    r = np.concatenate(rs)
    good = np.concatenate(goods)
    if good.sum() < 20:
        return None
    cars = coarse.CONVENTIONAL_CAR_M / GSD / STEP
    k_half, k_car = max(1, round(0.5 * cars)), max(1, round(cars))
    half = coarse._line_average(r, e.bounds, k_half)
    one = coarse._line_average(r, e.bounds, k_car)
    quiet = good & (np.sqrt(((r / e.noise) ** 2).sum(axis=1)) <= coarse.INLIER)
    if quiet.sum() < 10:
        quiet = good
    spread = np.maximum(np.median(np.abs(half[quiet]), axis=0) * 1.4826, 0.25 * e.noise)
    ev_h = np.sqrt(((half / spread) ** 2).sum(axis=1))
    ev_c = np.sqrt(((one / spread) ** 2).sum(axis=1))
    ev_h = np.where(good, ev_h, e.ev)
    ev_c = np.where(good, ev_c, e.ev)
    return np.stack([np.log1p(ev_h), np.log1p(ev_c)], axis=1)


def background_of(refs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """The site's background from references (image, readable mask)."""
    return coarse.site_background([coarse.relative_colours(img, ok) for img, ok in refs])


def estimate(
    image: np.ndarray,
    clear: np.ndarray,
    lines: MultiLineString,
    sun: tuple[float, float] | None,
    site_empty: coarse.EmptyTrack | None,
    model: OccupancyModel,
    crowded: OccupancyModel,
    background: np.ndarray | None = None,
    shift: tuple[float, float] = (0.0, 0.0),
) -> tuple[float, float, float]:
    """(car equivalents, low, high) as ``coarse.estimate_occupancy`` reads them with the
    learned decision, with ``model`` (given the site's ``background``: its two features
    appended)."""
    feats, ok = coarse._readable_features(image, clear)
    site = None
    if site_empty is not None:
        site = (np.median(feats[ok], axis=0) + site_empty.offset, np.array(site_empty.noise))
    e = coarse._evidence(feats, ok, coarse._polylines(lines), GSD, STEP, site, given=True)
    if e is None:
        return 0.0, 0.0, 1.0
    x = coarse.sample_features(e, feats, GSD, STEP)
    m = model
    if e.empty_from in coarse.CROWDED_READS:
        m = crowded
    elif background is not None:
        xs = site_features(e, feats, ok, background, shift)
        if xs is None:
            raise RuntimeError("no background along the lines")
        x = np.hstack([x, xs])
    if len(m.features) != x.shape[1]:
        raise RuntimeError(f"model has {len(m.features)} features, got {x.shape[1]}")
    prob = m.probability(x)
    occ = coarse.decode_strings(e, prob, m.cut, m.switch)
    if sun is not None:
        occ = coarse._shadow_guard(e, occ, GSD, coarse.check_sun(sun))
    length, n = coarse._strings(e, occ, GSD, STEP, clean=False)
    cars = length / coarse.CONVENTIONAL_CAR_M
    nodata = 1.0 - float(ok.mean())
    ends = n * GSD / coarse.CONVENTIONAL_CAR_M
    below = (1.0 + coarse.REL_LEARNED_LOW * cars + ends) * (1.0 + nodata)
    above = (1.0 + coarse.REL_LEARNED_HIGH * cars + ends) * (1.0 + nodata)
    return cars, max(0.0, cars - below), cars + above


# --- training sites ---------------------------------------------------------------


def train_site(s: int, n_visits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Samples (features with the two site features, labels) of every visit of training
    site ``s``, each read against the others."""
    base = fco.train_params(s).with_(layout_seed=SEED0 + SITE_TRAIN_START + s, cloud_cover=0.0)
    rng = np.random.default_rng(SEED0 + SITE_TRAIN_START + s)
    visits = []
    for v in range(n_visits):
        shift = np.clip(rng.normal(0.0, 2.5, 2), -6.0, 6.0) if v else np.zeros(2)
        p = base.with_(
            seed=SEED0 + SITE_TRAIN_START + 1000 * (s + 1) + v,
            n_cars=0 if rng.random() < 0.1 else int(rng.integers(20, 150)),
            season=str(rng.choice(SEASONS)),
            haze=float(rng.choice([0.0, 0.0, 0.1, 0.25])),
            noise=float(rng.uniform(1.0, 4.0)),
            sun_elevation=float(rng.uniform(20, 70)),
            sun_azimuth=float(rng.uniform(90, 270)),
            misregistration_m=(float(shift[0]), float(shift[1])),
        )
        sc = render_scene(p)
        usable = clear_and_truth(sc)
        if usable is None:
            continue
        visits.append((sc, usable[0], shift))
    if len(visits) < 4:
        return []
    # the site's lines: the first visit is not misregistered
    sc0 = visits[0][0]
    inv = ~sc0.transform
    lines = MultiLineString(
        [LineString([inv @ xy for xy in t.coords]) for t in sc0.tracks if len(t.coords) >= 2]
    )
    empties = [coarse.empty_track(sc.image, GSD, clear, lines) for sc, clear, _ in visits]
    rel = [coarse.relative_colours(sc.image, clear) for sc, clear, _ in visits]
    out = []
    for i, (sc, clear, mis) in enumerate(visits):
        # each visit is read along its own lines (as registered exactly); the
        # background in the site's frame: the lines moved back by its misregistration
        sx, sy = inv @ (float(mis[0]), float(mis[1]))
        ox, oy = inv @ (0.0, 0.0)
        shift_px = (float(sx - ox), float(sy - oy))
        own = MultiLineString(
            [LineString([inv @ xy for xy in t.coords]) for t in sc.tracks if len(t.coords) >= 2]
        )
        others = [j for j in range(len(visits)) if j != i]
        site_empty = coarse.site_empty_track([empties[j] for j in others])
        bg = coarse.site_background([rel[j] for j in others])
        feats, ok = coarse._readable_features(sc.image, clear)
        site = None
        if site_empty is not None:
            site = (np.median(feats[ok], axis=0) + site_empty.offset, np.array(site_empty.noise))
        e = coarse._evidence(feats, ok, coarse._polylines(own), GSD, STEP, site, given=True)
        if e is None or bg is None or e.empty_from in coarse.CROWDED_READS:
            continue
        xs = site_features(e, feats, ok, bg, shift_px)
        if xs is None:
            continue
        x = np.hstack([coarse.sample_features(e, feats, GSD, STEP), xs])
        pts = np.concatenate([p for p, _, _, _ in e.profiles])
        union = car_samples(sc, GSD)
        y = (
            shapely.contains_xy(union, pts[:, 0], pts[:, 1]).astype(np.float64)
            if union is not None
            else np.zeros(len(pts))
        )
        keep = np.zeros(len(pts), dtype=bool)
        for a, b in itertools.pairwise(e.bounds):
            keep[a:b:SUBSAMPLE] = True
        keep &= e.ok
        out.append((x[keep].astype(np.float32), y[keep].astype(np.float32)))
    return out


def collect_training(n_sites: int, n_visits: int) -> tuple[np.ndarray, np.ndarray]:
    path = CACHE / f"train_{n_sites}x{n_visits}.npz"
    if path.exists():
        d = np.load(path)
        return d["x"], d["y"]
    xs, ys = [], []
    t0 = time.perf_counter()
    for s in range(n_sites):
        for x, y in train_site(s, n_visits):
            xs.append(x)
            ys.append(y)
        if s % 10 == 0:
            print(f"  training site {s}: {time.perf_counter() - t0:.0f} s", flush=True)
    x, y = np.concatenate(xs), np.concatenate(ys)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x=x, y=y)
    return x, y


def fit_both(n_sites: int, n_visits: int, seeds: list[int]) -> None:
    x, y = collect_training(n_sites, n_visits)
    print(f"{len(x)} samples, {y.mean():.1%} occupied", flush=True)
    shipped = load_model()
    nf = len(coarse.FEATURES)
    for name, cols, names in (
        ("A", slice(0, nf), coarse.FEATURES),
        ("B", slice(0, nf + len(SITE_FEATURES)), coarse.FEATURES + SITE_FEATURES),
    ):
        print(f"fitting {name}", flush=True)
        m = fco.fit_ensemble(x[:, cols].astype(np.float64), y.astype(np.float64), 32, 8, seeds)
        m = OccupancyModel(
            **{
                **m.__dict__,
                "features": tuple(names),
                "cut": shipped.cut,
                "switch": shipped.switch,
                "meta": {"sites": n_sites, "visits": n_visits, "seeds": seeds},
            }
        )
        (CACHE / f"{name}.json").write_text(json.dumps(m.to_json()))


# --- evaluation -------------------------------------------------------------------

Row = tuple[float, float, float, float]  # estimate, low, high, truth


def summary(name: str, rows: list[Row]) -> str:
    if not rows:
        return f"{name}: none"
    r = np.asarray(rows, np.float64)
    e = (r[:, 0] - r[:, 3]) / np.maximum(r[:, 3], 1.0)
    a = np.abs(e)
    inside = (r[:, 1] <= r[:, 3]) & (r[:, 3] <= r[:, 2])
    return (
        f"{name}: n {len(r)}, within ±15 % {np.mean(a <= 0.15):.1%}, median abs "
        f"{np.median(a):.1%}, bias {np.median(e):+.1%}, interval {np.mean(inside):.1%}, "
        f"over 1.6x {int(np.sum(e > 0.6))}, under 0.6x {int(np.sum(e < -0.4))}"
    )


def eval_registration(sites: range, models: dict[str, OccupancyModel]) -> dict[str, list[Row]]:
    """``bench_registration.py``'s visits, read as its 'moved, with the site's empty
    track' column (today) and with the refitted classifiers."""
    start = 20_000
    crowded = load_crowded_model()
    rows: dict[str, list[Row]] = {k: [] for k in ("today", *models)}
    for s in sites:
        base = scene_params(start + s, GSD).with_(
            size_px=(512, 512), cloud_cover=0.0, layout_seed=SEED0 + start + s
        )
        rng = np.random.default_rng(SEED0 + start + s)
        visits = []
        for v in range(8):
            shift = np.clip(rng.normal(0.0, 2.5, 2), -6.0, 6.0)
            p = base.with_(
                seed=SEED0 + start + 1000 * (s + 1) + v,
                n_cars=int(rng.integers(20, 150)),
                season=str(rng.choice(SEASONS)),
                haze=float(rng.choice([0.0, 0.0, 0.1, 0.25])),
                noise=float(rng.uniform(1.0, 4.0)),
                sun_elevation=float(rng.uniform(20, 70)),
                sun_azimuth=float(rng.uniform(90, 270)),
                misregistration_m=(float(shift[0]), float(shift[1])),
            )
            sc = render_scene(p)
            usable = clear_and_truth(sc)
            if usable is None:
                continue
            visits.append((p, sc, usable[0], usable[1], shift))
        if not visits:
            continue
        _, sc0, _, _, mis0 = visits[0]
        inv = ~sc0.transform
        lines = MultiLineString(
            [
                LineString([inv @ (x - mis0[0], y - mis0[1]) for x, y in t.coords])
                for t in sc0.tracks
                if len(t.coords) >= 2
            ]
        )
        hps = [highpass(sc.image, clear, GSD) for _, sc, clear, _, _ in visits]
        empties = [coarse.empty_track(sc.image, GSD, clear, lines) for _, sc, clear, _, _ in visits]
        rel = [coarse.relative_colours(sc.image, clear) for _, sc, clear, _, _ in visits]
        for i, (p, sc, clear, truth, _) in enumerate(visits):
            others = [j for j in range(len(visits)) if j != i][:MAX_REFERENCES]
            reg = register(hps[i], [hps[j] for j in others], GSD)
            moved = translate(lines, xoff=reg.cols, yoff=reg.rows)
            sun = (p.sun_azimuth, p.sun_elevation)
            site = coarse.site_empty_track([empties[j] for j in others])
            bg = coarse.site_background([rel[j] for j in others])
            today = coarse.estimate_occupancy(sc.image, GSD, clear, moved, sun=sun, site_empty=site)
            rows["today"].append((today.car_equivalents, today.low, today.high, truth))
            for name, m in models.items():
                got = estimate(
                    sc.image,
                    clear,
                    moved,
                    sun,
                    site,
                    m,
                    crowded,
                    bg if len(m.features) > len(coarse.FEATURES) else None,
                    (reg.cols, reg.rows),
                )
                rows[name].append((*got, truth))
        print(f"  registration site {s}: {len(visits)} visits", flush=True)
    return rows


def eval_crowded(sites: range, models: dict[str, OccupancyModel]) -> dict[str, list[Row]]:
    """``bench_crowded_yard.py``'s visits (two of eight packed), with the site's empty
    track from the other visits."""
    start = 30_000
    crowded = load_crowded_model()
    rows: dict[str, list[Row]] = {
        f"{k} {kind}": [] for k in ("today", *models) for kind in ("packed", "ordinary")
    }
    for s in sites:
        base = scene_params(start + s, GSD).with_(
            size_px=(512, 512),
            cloud_cover=0.0,
            haze=0.0,
            coverage=1.0,
            misregistration_m=(0.0, 0.0),
            layout_seed=SEED0 + start + s,
        )
        lines = _yard_lines(base)
        rng = np.random.default_rng(SEED0 + start + s)
        visits = []
        for v in range(8):
            p = base.with_(
                seed=SEED0 + start + 1000 * (s + 1) + v, noise=float(rng.uniform(1.0, 4.0))
            )
            packed = v >= 6
            if packed:
                p = p.with_(cars_by_class=((str(rng.choice(PACKED_CLASSES)), 2000),))
            else:
                p = p.with_(n_cars=int(rng.integers(10, 60)))
            sc = render_scene(p)
            usable = clear_and_truth(sc)
            if usable is not None:
                visits.append((packed, p, sc, *usable))
        own = [coarse.empty_track(sc.image, GSD, clear, lines) for _, _, sc, clear, _ in visits]
        rel = [coarse.relative_colours(sc.image, clear) for _, _, sc, clear, _ in visits]
        for i, (packed, p, sc, clear, truth) in enumerate(visits):
            others = [j for j in range(len(visits)) if j != i]
            site = coarse.site_empty_track([own[j] for j in others])
            bg = coarse.site_background([rel[j] for j in others])
            sun = (p.sun_azimuth, p.sun_elevation)
            kind = "packed" if packed else "ordinary"
            today = coarse.estimate_occupancy(sc.image, GSD, clear, lines, sun=sun, site_empty=site)
            rows[f"today {kind}"].append((today.car_equivalents, today.low, today.high, truth))
            for name, m in models.items():
                got = estimate(
                    sc.image,
                    clear,
                    lines,
                    sun,
                    site,
                    m,
                    crowded,
                    bg if len(m.features) > len(coarse.FEATURES) else None,
                )
                rows[f"{name} {kind}"].append((*got, truth))
        print(f"  crowded site {s}: {len(visits)} visits", flush=True)
    return rows


class _Switch:
    """A random generator that hands over to a second one once ``on`` is set: the
    second renderer's ground, tracks and distractors from the yard's own stream, its
    cars from the visit's."""

    def __init__(self, a: np.random.Generator, b: np.random.Generator) -> None:
        self.a, self.b, self.on = a, b, False

    def __getattr__(self, name: str) -> object:
        return getattr(self.b if self.on else self.a, name)


def synth_visits(k: int, n_visits: int) -> tuple[MultiLineString, list[tuple[np.ndarray, float]]]:
    """Yard ``k`` of the second renderer seen ``n_visits`` times: the same ground, tracks
    and distractors, each visit another draw of the cars (the last of an even yard
    empty) and of the sensor noise. (lines, [(image, car equivalents)])."""
    import cv2

    from railwatch.detect import model_synth as ms

    yard = fco.synth_yard(k)
    if yard is None:
        return MultiLineString(), []
    lines = yard[1]
    orig = ms._distractors
    size_m = 768.0
    out = []
    for v in range(n_visits):
        sw = _Switch(
            np.random.default_rng(7_400_000 + k), np.random.default_rng((7_400_000 + k, v, 1))
        )

        def patched(*a: object, _sw: _Switch = sw, **kw: object) -> None:
            orig(*a, **kw)
            _sw.on = True

        ms._distractors = patched
        try:
            empty = v == n_visits - 1 and k % 2 == 0
            img, cars = ms.draw_yard(sw, size_m, GSD / 2, occupied=not empty)  # type: ignore[arg-type]
        finally:
            ms._distractors = orig
        n = round(size_m / GSD)
        img = cv2.resize(img, (n, n), interpolation=cv2.INTER_AREA).astype(np.float32)
        img += (
            np.random.default_rng((7_400_000 + k, v, 2))
            .normal(0, 2.0, img.shape)
            .astype(np.float32)
        )
        img = np.clip(img, 0, 255).astype(np.uint8)
        inside = [float(c.length) for c in cars if 0 <= c.cx < size_m and 0 <= c.cy < size_m]
        out.append((img, equivalents(inside)))
    return lines, out


def eval_synth(
    yards: range, n_visits: int, models: dict[str, OccupancyModel]
) -> dict[str, list[Row]]:
    crowded = load_crowded_model()
    rows: dict[str, list[Row]] = {k: [] for k in ("today", *models)}
    for k in yards:
        lines, visits = synth_visits(k, n_visits)
        if not visits:
            continue
        empties = [coarse.empty_track(img, GSD, None, lines) for img, _ in visits]
        rel = [coarse.relative_colours(img, None) for img, _ in visits]
        for i, (img, truth) in enumerate(visits):
            others = [j for j in range(len(visits)) if j != i]
            site = coarse.site_empty_track([empties[j] for j in others])
            bg = coarse.site_background([rel[j] for j in others])
            today = coarse.estimate_occupancy(img, GSD, None, lines, learned=True, site_empty=site)
            rows["today"].append((today.car_equivalents, today.low, today.high, truth))
            for name, m in models.items():
                got = estimate(
                    img,
                    np.ones(img.shape[:2], bool),
                    lines,
                    None,
                    site,
                    m,
                    crowded,
                    bg if len(m.features) > len(coarse.FEATURES) else None,
                )
                rows[name].append((*got, truth))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("fit", "eval", "sanity"))
    ap.add_argument("--sites", type=int, default=80, help="training sites")
    ap.add_argument("--visits", type=int, default=5, help="visits per training site")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--set", choices=("dev", "held"), default="dev")
    ap.add_argument("--only", nargs="+", default=["registration", "crowded", "synth"])
    ap.add_argument("--synth-yards", type=int, default=40)
    ap.add_argument("--synth-visits", type=int, default=5)
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.what == "fit":
        fit_both(args.sites, args.visits, args.seeds)
        print(f"fitted ({time.perf_counter() - t0:.0f} s)")
        return 0
    if args.what == "sanity":
        # this harness with the shipped classifier reads as coarse.estimate_occupancy
        rows = eval_registration(range(1), {"shipped": load_model()})
        for a, b in zip(rows["today"], rows["shipped"], strict=True):
            print(a, b)
        return 0
    models = {n: load_model(CACHE / f"{n}.json") for n in ("A", "B")}
    held = args.set == "held"
    sites = range(6, 12) if held else range(0, 6)
    results: dict[str, dict[str, list[Row]]] = {}
    if "registration" in args.only:
        results["registration"] = eval_registration(sites, models)
    if "crowded" in args.only:
        results["crowded"] = eval_crowded(sites, models)
    if "synth" in args.only:
        first = 400 if held else 0
        results["synth"] = eval_synth(
            range(first, first + args.synth_yards), args.synth_visits, models
        )
    for set_name, rows in results.items():
        print(f"== {set_name} ({args.set})")
        for name, r in rows.items():
            print("  " + summary(name, r))
    out = CACHE / f"eval_{args.set}_{'_'.join(args.only)}.json"
    out.write_text(json.dumps(results))
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
