"""Benchmark: the 10 m long-train flag (``method: presence``) against simulated truth.

At 10 m and coarser railwatch only says whether a long train is present: at least
``coarse.LONG_TRAIN_M`` (300 m) of occupied track (``CoarseEstimate.present``). This
script renders 10 m scenes (``bench_detect_accuracy.scene_params`` at 10 m from seeds
7_000_000 + 40_000 + k, never used to fit or tune the coarse estimator; no cloud, haze or
misregistration; the number of cars cycles through ``CARS`` so that about half the
scenes hold a long train) and compares the flag, read along the scene's own track
centrelines ("given") and along lines found in the image ("found"), with the truth.

Truth: a long train is present when the longest string of coupled cars (end to end on
one track, less than 2 m apart: ``railwatch.detect.eval.truth_longest_string_m``, as
``railwatch eval`` judges it) is at least 300 m long, summing its cars' lengths. (Until
session 23 car outlines within 2 m of each other were merged, which joined strings on
neighbouring tracks, 4.75 m apart, into one.)
Also reported: the occupied length the estimate read against the total length of the
scene's cars (the flag compares the former with 300 m).

Run: ``python benchmarks/bench_presence.py [--scenes 48] [--no-write]`` (writes between
``<!-- presence:start -->`` and ``<!-- presence:end -->`` in the detection section of
docs/benchmarks.md). About 3-5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from bench_detect_accuracy import clear_and_truth, scene_params, update_docs
from shapely.geometry import LineString, MultiLineString

from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.coarse import LONG_TRAIN_M, PRESENCE_VERSION, estimate_occupancy
from railwatch.detect.eval import truth_longest_string_m
from railwatch.detect.geojson import FeatureSet
from railwatch.sim.scene import RenderedScene, render_scene

GSD = 10.0
START = 40_000
#: Cars asked for, cycled over the scenes (the yard may hold fewer).
CARS = (5, 30, 80, 160)


def longest_string_m(scene: RenderedScene, visible_only: bool = False) -> float:
    """The length (metres, cars' lengths summed) of the longest string of coupled cars
    (end to end on one track), as ``railwatch eval`` judges a 10 m scene's truth
    (:func:`railwatch.detect.eval.truth_longest_string_m`); with ``visible_only`` of the
    cars at least half inside the data and clear (as the coarse benchmark's truth)."""
    cars = tuple(
        Detection(OrientedBox(c.x, c.y, t.length_m, t.width_m, t.angle_deg))
        for t in scene.truth
        if not visible_only or (t.valid_fraction >= 0.5 and t.clear_fraction >= 0.5)
        for c in [t.polygon_crs.centroid]
    )
    return float(truth_longest_string_m(FeatureSet(cars, scene.crs, GSD)) or 0.0)


@dataclass
class Row:
    k: int
    cars: int
    cars_m: float
    longest_m: float
    given_m: float
    given: bool
    found_m: float
    found: bool
    given_run: float = 0.0  #: the longest string read along one given line (m)

    @property
    def summed(self) -> bool:
        """The flag as it was until session 23: occupied length summed over the given
        lines at least LONG_TRAIN_M (the occupied length itself is unchanged)."""
        return self.given_m >= LONG_TRAIN_M

    @property
    def truth(self) -> bool:
        return self.longest_m >= LONG_TRAIN_M


def clear_scene(seed: int, k: int) -> tuple[RenderedScene, MultiLineString]:
    """Scene ``seed`` at 10 m with ``CARS[k % 4]`` cars asked, no cloud, haze or
    misregistration, and its track centrelines in pixels."""
    p = scene_params(seed, GSD).with_(
        n_cars=CARS[k % len(CARS)],
        cloud_cover=0.0,
        haze=0.0,
        coverage=1.0,
        misregistration_m=(0.0, 0.0),
    )
    sc = render_scene(p)
    return sc, pixel_lines(sc)


def pixel_lines(sc: RenderedScene) -> MultiLineString:
    """A scene's track centrelines in its pixels."""
    inv = ~sc.transform
    return MultiLineString(
        [LineString([inv @ c for c in t.coords]) for t in sc.tracks if len(t.coords) >= 2]
    )


def run(n: int) -> list[Row]:
    rows = []
    for k in range(n):
        sc, lines = clear_scene(START + k, k)
        given = estimate_occupancy(sc.image, GSD, sc.valid, lines)
        found = estimate_occupancy(sc.image, GSD, sc.valid, None)
        rows.append(
            Row(
                k,
                len(sc.truth),
                float(sum(t.length_m for t in sc.truth)),
                longest_string_m(sc),
                given.occupied_length_m,
                given.present,
                found.occupied_length_m,
                found.present,
                given.longest_string_m or 0.0,
            )
        )
    return rows


def confusion(rows: list[Row], flag: str) -> str:
    tp = sum(r.truth and getattr(r, flag) for r in rows)
    fp = sum(not r.truth and getattr(r, flag) for r in rows)
    fn = sum(r.truth and not getattr(r, flag) for r in rows)
    tn = len(rows) - tp - fp - fn
    return (
        f"right {tp + tn} of {len(rows)} ({(tp + tn) / len(rows):.0%}): long trains flagged "
        f"{tp} of {tp + fn}, scenes without one flagged {fp} of {fp + tn}"
    )


#: Bins of the true longest string (metres) for the flag's rate.
BINS = ((0.0, 150.0), (150.0, 300.0), (300.0, 500.0), (500.0, float("inf")))


def by_length(rows: list[Row]) -> str:
    """How often the flag (along given lines) is raised, by the true longest string."""
    cells = []
    for lo, hi in BINS:
        sel = [r for r in rows if lo <= r.longest_m < hi]
        name = f"{lo:.0f}-{hi:.0f} m" if hi < float("inf") else f"{lo:.0f} m or more"
        cells.append(f"{name}: {sum(r.given for r in sel)} of {len(sel)}")
        median = np.median([r.given_run for r in sel]) if sel else float("nan")
        cells[-1] += f" (longest read, median {median:.0f} m)"
    return "; ".join(cells)


def report(rows: list[Row], seconds: float) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ratio_given = np.median([r.given_m / max(r.cars_m, 1.0) for r in rows])
    ratio_found = np.median([r.found_m / max(r.cars_m, 1.0) for r in rows])
    few = [r for r in rows if r.cars_m < LONG_TRAIN_M]
    lines = [
        f"10 m long-train flag (`benchmarks/bench_presence.py --scenes {len(rows)}`, "
        f"long-train flag {PRESENCE_VERSION}), {now}, {platform.machine()} {os.cpu_count()}-core, "
        f"CPython {platform.python_version()}, {seconds:.0f} s. {len(rows)} scenes at 10 m "
        f"(seeds 7_040_000 + k, cars asked {', '.join(map(str, CARS))} in turn; no cloud, "
        f"haze or misregistration); truth: a string of coupled cars of at least "
        f"{LONG_TRAIN_M:.0f} m ({sum(r.truth for r in rows)} scenes). Each image is read "
        "alone (the pipeline also reads it against the site's other images: "
        "`analyse_presence_history.py`).",
        "",
        "| lines | flag | occupied length read / cars' length (median) |",
        "|---|---|---|",
        f"| given (the scene's centrelines) | {confusion(rows, 'given')} | {ratio_given:.1f}× |",
        f"| found in the image | {confusion(rows, 'found')} | {ratio_found:.1f}× |",
        f"| given, the flag until session 23 (occupied length summed over lines ≥ "
        f"{LONG_TRAIN_M:.0f} m) | {confusion(rows, 'summed')} | {ratio_given:.1f}× |",
        "",
        f"Scenes whose cars add up to less than {LONG_TRAIN_M:.0f} m in all "
        f"({len(few)}): flagged {sum(r.given for r in few)} along given lines, "
        f"{sum(r.found for r in few)} along found lines.",
        "",
        f"Flagged along given lines, by the scene's true longest string: {by_length(rows)}.",
    ]
    return "\n".join(lines)


def run_weather(n: int) -> tuple[list[tuple[bool, bool]], int, int]:
    """The flag along given lines on the same seeds with each scene's own weather and
    misregistration (``scene_params``: cloud, haze, a shift of the image against the
    centrelines), read on its clear pixels as the pipeline does. Returns (truth, flag)
    of the scenes it measured, how many were unusable (under 80 % clear) and how many
    read no 300 m of track in one piece (not counted)."""
    pairs: list[tuple[bool, bool]] = []
    unusable = unread = 0
    for k in range(n):
        p = scene_params(START + k, GSD).with_(n_cars=CARS[k % len(CARS)])
        sc = render_scene(p)
        usable = clear_and_truth(sc)
        if usable is None:
            unusable += 1
            continue
        clear, _ = usable
        est = estimate_occupancy(sc.image, GSD, clear, pixel_lines(sc))
        if est.long_windows == 0:
            unread += 1
            continue
        pairs.append((longest_string_m(sc, visible_only=True) >= LONG_TRAIN_M, est.present))
    return pairs, unusable, unread


def report_weather(
    pairs: list[tuple[bool, bool]], unusable: int, unread: int, n: int, seconds: float
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    tp = sum(t and f for t, f in pairs)
    fp = sum(f and not t for t, f in pairs)
    pos = sum(t for t, _ in pairs)
    right = sum(t == f for t, f in pairs)
    return (
        f"10 m long-train flag with weather (`benchmarks/bench_presence.py --scenes {n} "
        f"--weather`, long-train flag {PRESENCE_VERSION}), {now}, {platform.machine()} "
        f"{os.cpu_count()}-core, CPython {platform.python_version()}, {seconds:.0f} s. The same "
        "seeds with each scene's own cloud, haze and misregistration, read on its clear "
        "pixels along its centrelines; truth from the cars at least half clear. "
        f"{unusable} of {n} scenes unusable (under 80 % clear), {unread} read no 300 m of "
        f"track in one piece (not counted); of the other {len(pairs)}: right {right} "
        f"({right / max(len(pairs), 1):.0%}), long trains flagged {tp} of {pos}, scenes "
        f"without one flagged {fp} of {len(pairs) - pos}."
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=48)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument(
        "--weather", action="store_true", help="each scene's own cloud, haze and misregistration"
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.weather:
        pairs, unusable, unread = run_weather(args.scenes)
        text = report_weather(pairs, unusable, unread, args.scenes, time.perf_counter() - t0)
        print(text)
        if not args.no_write:
            update_docs("presence-weather", text)
        return 0
    rows = run(args.scenes)
    if args.verbose:
        for r in rows:
            print(r)
    body = report(rows, time.perf_counter() - t0)
    print(body)
    if not args.no_write:
        update_docs("presence", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
