"""Benchmark: registering 3 m images of a site to each other before the track
centrelines are sampled (``railwatch.imagery.register``, as ``pipeline.register_scene``
does it).

Sites from seeds 7_000_000 + 20_000 + s (``bench_detect_accuracy.scene_params`` at 3 m:
style, paint and conditions drawn from the seed, no clouds), each seen ``--visits``
times: the same yard (``layout_seed``), another day's cars (20-150), season, haze, noise,
sun and seed, and a misregistration drawn N(0, 2.5 m) per axis and clipped to 6 m, as
in the demo's scenario (PlanetScope's specification allows 10 m). Each visit is
registered to the median of the site's other visits (the whole 1.5 km scene is the
window), then its car equivalents are estimated along the site's true centrelines as
given and moved by the shift found (with the sun's position, as the pipeline reads it).
Reported: the lines' offset from the image before and after, and the share of visits
within +-15 % of the visible truth with each, and with the moved lines and the site's
empty track from the other visits (estimator 5; each visit's own empty track is taken
along the lines as given, as the pipeline reads the references); scenes under 80 % clear
are left out as the pipeline leaves them out. ``--cars LOW HIGH`` sets the range of cars
a visit holds.

Run: ``python benchmarks/bench_registration.py [--sites 12] [--visits 8] [--cars 20 150]
[--no-write]``
(writes between ``<!-- registration:start -->`` and ``<!-- registration:end -->`` in the
detection section of docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import UTC, datetime

import numpy as np
from bench_detect_accuracy import SEED0, clear_and_truth, scene_params, update_docs
from shapely.affinity import translate
from shapely.geometry import LineString, MultiLineString

from railwatch.detect.coarse import (
    ESTIMATOR_VERSION,
    empty_track,
    estimate_occupancy,
    site_empty_track,
)
from railwatch.imagery.register import MAX_REFERENCES, highpass, register
from railwatch.sim.params import SEASONS
from railwatch.sim.scene import render_scene

GSD = 3.0
START = 20_000


def run(
    n_sites: int, n_visits: int, cars: tuple[int, int] = (20, 150), size: int = 512
) -> tuple[dict[str, float], list[str]]:
    before: list[float] = []
    after: list[float] = []
    within_given: list[bool] = []
    within_moved: list[bool] = []
    within_site: list[bool] = []
    err_given: list[float] = []
    err_moved: list[float] = []
    err_site: list[float] = []
    # the truth inside each estimate's 90 % interval
    inside_given: list[bool] = []
    inside_moved: list[bool] = []
    inside_site: list[bool] = []
    not_applied = skipped = 0
    for s in range(n_sites):
        base = scene_params(START + s, GSD).with_(
            size_px=(size, size), cloud_cover=0.0, layout_seed=SEED0 + START + s
        )
        rng = np.random.default_rng(SEED0 + START + s)
        visits = []
        for v in range(n_visits):
            shift = np.clip(rng.normal(0.0, 2.5, 2), -6.0, 6.0)
            p = base.with_(
                seed=SEED0 + START + 1000 * (s + 1) + v,
                n_cars=int(rng.integers(*cars)),
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
                skipped += 1
                continue
            clear, truth = usable
            visits.append((p, sc, clear, truth, shift))
        if not visits:
            continue
        # the site's true centrelines: the scene's own minus its misregistration
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
        # each visit's empty track along the lines as given (as the pipeline reads the
        # site's other images: their own misregistration is not known)
        empties = [empty_track(sc.image, GSD, clear, lines) for _, sc, clear, _, _ in visits]
        for i, (p, sc, clear, truth, mis) in enumerate(visits):
            others = [h for j, h in enumerate(hps) if j != i][:MAX_REFERENCES]
            reg = register(hps[i], others, GSD)
            if not reg.applied:
                not_applied += 1
            found = np.array([reg.dx_m, reg.dy_m])
            before.append(float(np.hypot(*mis)))
            after.append(float(np.hypot(*(mis - found))))
            sun = (p.sun_azimuth, p.sun_elevation)
            given = estimate_occupancy(sc.image, GSD, clear, lines, sun=sun)
            moved_lines = translate(lines, xoff=reg.cols, yoff=reg.rows)
            moved = estimate_occupancy(sc.image, GSD, clear, moved_lines, sun=sun)
            site = site_empty_track([t for j, t in enumerate(empties) if j != i][:MAX_REFERENCES])
            with_site = estimate_occupancy(
                sc.image, GSD, clear, moved_lines, sun=sun, site_empty=site
            )
            for est, within, errs, inside in (
                (given, within_given, err_given, inside_given),
                (moved, within_moved, err_moved, inside_moved),
                (with_site, within_site, err_site, inside_site),
            ):
                e = (est.car_equivalents - truth) / max(truth, 1)
                errs.append(abs(e))
                within.append(abs(e) <= 0.15)
                inside.append(est.low <= truth <= est.high)
        print(f"  site {s + 1}/{n_sites}: {len(visits)} usable visits", flush=True)
    rep = {
        "visits": float(len(before)),
        "skipped": float(skipped),
        "not_applied": float(not_applied),
        "offset_before_mean_m": float(np.mean(before)),
        "offset_after_mean_m": float(np.mean(after)),
        "offset_after_p90_m": float(np.percentile(after, 90)),
        "within15_given": float(np.mean(within_given)),
        "within15_moved": float(np.mean(within_moved)),
        "mape_given": float(np.mean(err_given)),
        "mape_moved": float(np.mean(err_moved)),
        "within15_site": float(np.mean(within_site)),
        "mape_site": float(np.mean(err_site)),
        "inside_given": float(np.mean(inside_given)),
        "inside_moved": float(np.mean(inside_moved)),
        "inside_site": float(np.mean(inside_site)),
    }
    rows = [
        "| lines | offset from the image, mean (m) | 90th percentile (m) | "
        "within ±15 % of the truth | mean abs. error | truth inside the 90 % interval |",
        "|---|---|---|---|---|---|",
        f"| as given | {rep['offset_before_mean_m']:.2f} | "
        f"{float(np.percentile(before, 90)):.2f} | {100 * rep['within15_given']:.0f} % | "
        f"{100 * rep['mape_given']:.0f} % | {100 * rep['inside_given']:.0f} % |",
        f"| moved by the registration | {rep['offset_after_mean_m']:.2f} | "
        f"{rep['offset_after_p90_m']:.2f} | {100 * rep['within15_moved']:.0f} % | "
        f"{100 * rep['mape_moved']:.0f} % | {100 * rep['inside_moved']:.0f} % |",
        f"| moved, with the site's empty track | {rep['offset_after_mean_m']:.2f} | "
        f"{rep['offset_after_p90_m']:.2f} | {100 * rep['within15_site']:.0f} % | "
        f"{100 * rep['mape_site']:.0f} % | {100 * rep['inside_site']:.0f} % |",
    ]
    return rep, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=12)
    ap.add_argument("--visits", type=int, default=8)
    ap.add_argument(
        "--cars",
        type=int,
        nargs=2,
        default=(20, 150),
        metavar=("LOW", "HIGH"),
        help="each visit's number of cars is drawn from [LOW, HIGH)",
    )
    ap.add_argument(
        "--size",
        type=int,
        default=512,
        help="each visit's side in pixels (the window registered; 375 px is a transform "
        "size OpenCV takes as it is, odd: session 48)",
    )
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rep, rows = run(args.sites, args.visits, tuple(args.cars), args.size)
    took = time.perf_counter() - t0
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cars_arg = "" if tuple(args.cars) == (20, 150) else f" --cars {args.cars[0]} {args.cars[1]}"
    if args.size != 512:
        cars_arg += f" --size {args.size}"
    machine = f"{platform.machine()} {os.cpu_count()} cores, CPython {platform.python_version()}"
    body = "\n".join(
        [
            f"Registration of 3 m images to their site (`benchmarks/bench_registration.py "
            f"--sites {args.sites} --visits {args.visits}{cars_arg}`), {stamp}, {machine}, "
            f"{took:.0f} s. "
            f"{args.sites} simulated sites (seeds {SEED0 + START}+s), {int(rep['visits'])} "
            f"usable visits ({int(rep['skipped'])} under 80 % clear left out), each "
            "misregistered by N(0, 2.5 m) per axis (clipped to 6 m) and registered to the "
            "median of the site's other visits; car equivalents along the site's true "
            f"centrelines (estimator {ESTIMATOR_VERSION}, with the sun's position), as given "
            "and moved by the shift found, then also with the site's empty track from the "
            "other visits (`coarse.site_empty_track`, as the pipeline gives it). "
            f"{int(rep['not_applied'])} visits were not moved (too weak a correlation).",
            "",
            *rows,
        ]
    )
    print(body)
    if not args.no_write:
        update_docs("registration", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
