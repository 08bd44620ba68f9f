"""Right / wrong / refused counts of the scale measured from the rails
(railwatch.imagery.scale.estimate_gsd_from_rails), before and after a change.

An answer is *right* when it is measured within 10 % of the truth, *wrong* when it is
measured further off (a confident wrong scale: the case to avoid), *refused* when nothing
is measured. Refusing is right only where no honest measurement exists, so refusals are
counted apart, not as errors.

Cases:
- Simulator scenes (railwatch.sim draws two rails per track, 1.58 m between centres;
  measured with 1.58 m so the truth is the scene's gsd) at 0.15, 0.2, 0.25, 0.3, 0.4,
  0.5 and 0.75 m per pixel: the default ``railwatch simulate --scene`` image (600 m a
  side, at most 1200 px) for seeds 4-11; the other four landscape styles (seeds 4-7);
  fixed yard angles 0, 30, 45 and 90 degrees (seeds 4-5); conditions drawn from the seed
  as ``--random`` does (seeds 20-25).
- Muttenz (SWISSIMAGE, 0.10 m, standard gauge) area-averaged to 0.10-0.50 m, and the
  China panel (standard gauge, 0.22-0.25 m by hand: counted right within 10 % of 0.235),
  when /work/shared/data/real is present.

``--before REV`` measures every case also with src/railwatch/imagery/scale.py as it is
at git revision REV (loaded from ``git show``) and prints both. Run:

    nice -n 15 .venv/bin/python benchmarks/bench_rail_scale.py [--before REV] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
from _images import read_rgb

from railwatch.imagery import scale as current

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"
SIM_RAIL_CENTRES_M = 1.58  # railwatch.sim.render: rails at ±0.79 m from the centreline
GSDS = (0.15, 0.20, 0.25, 0.30, 0.40, 0.50, 0.75)
OTHER_STYLES = ("continental", "arid", "winter", "industrial-dark")
ANGLES = (0.0, 30.0, 45.0, 90.0)
MUTTENZ_GSDS = (0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.50)
CHINA_GSD = 0.235  # by hand: rails and wagons put it at 0.22-0.25 m
RIGHT_WITHIN = 0.10


@dataclass(frozen=True)
class Case:
    group: str  # row of the table
    name: str
    gsd: float  # truth
    image: Callable[[], np.ndarray]
    rail_centres_m: float


def _sim(gsd: float, seed: int, **changes: object) -> Callable[[], np.ndarray]:
    def make() -> np.ndarray:
        from railwatch.sim import SceneParams, random_params, render_scene

        side = min(round(600 / gsd), 1200)
        if changes.get("random"):
            p = random_params(seed, gsd=gsd, size_px=(side, side)).with_(n_cars=40)
        else:
            p = SceneParams(seed=seed, gsd=gsd, size_px=(side, side), n_cars=40)
            if changes:
                p = p.with_(**changes)
        return np.asarray(render_scene(p).image)

    return make


def cases(quick: bool, gsds: tuple[float, ...] = GSDS, real: bool = True) -> Iterator[Case]:
    seeds = range(4, 8) if quick else range(4, 12)
    for g in gsds:
        for s in seeds:
            yield Case("sim, --scene default (temperate)", f"seed {s}", g, _sim(g, s), 1.58)
        for style in OTHER_STYLES[: 2 if quick else 4]:
            for s in range(4, 6 if quick else 8):
                yield Case(
                    "sim, other styles", f"{style} seed {s}", g, _sim(g, s, style=style), 1.58
                )
        for a in ANGLES:
            for s in range(4, 5 if quick else 6):
                yield Case(
                    "sim, yard angle 0/30/45/90°",
                    f"{a:g}° seed {s}",
                    g,
                    _sim(g, s, yard_angle=a),
                    1.58,
                )
        for s in range(20, 23 if quick else 26):
            yield Case("sim, --random conditions", f"seed {s}", g, _sim(g, s, random=True), 1.58)
    if not real:
        return
    if (REAL / "muttenz_10cm.png").is_file():
        m = read_rgb(REAL / "muttenz_10cm.png")
        for g in MUTTENZ_GSDS:

            def down(g: float = g) -> np.ndarray:
                h, w = m.shape[:2]
                k = g / 0.10
                if k == 1.0:
                    return m
                return cv2.resize(m, (round(w / k), round(h / k)), interpolation=cv2.INTER_AREA)

            yield Case("Muttenz, area-averaged", f"{g:.2f} m", g, down, current.RAIL_CENTRES_M)
    if (REAL / "china_freight_panel.png").is_file():
        c = read_rgb(REAL / "china_freight_panel.png")
        yield Case("China panel", "0.22-0.25 m", CHINA_GSD, lambda: c, current.RAIL_CENTRES_M)


def _load_at(rev: str) -> ModuleType:
    src = subprocess.run(
        ["git", "show", f"{rev}:src/railwatch/imagery/scale.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="rail_scale_")) / "scale_before.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("scale_before", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load scale.py at {rev}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["scale_before"] = mod
    spec.loader.exec_module(mod)
    return mod


def verdict(measured: bool, gsd: float | None, truth: float) -> str:
    if not measured or gsd is None:
        return "refused"
    return "right" if abs(gsd / truth - 1) <= RIGHT_WITHIN else "wrong"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", metavar="REV", help="also measure with scale.py at REV")
    ap.add_argument("--quick", action="store_true", help="fewer seeds")
    ap.add_argument("--gsds", help="only these simulated m/px, comma-separated; no real images")
    ap.add_argument("--show", default="", help="print every case of groups containing this")
    args = ap.parse_args()
    versions: list[tuple[str, ModuleType]] = []
    if args.before:
        versions.append((f"before ({args.before})", _load_at(args.before)))
    versions.append(("now", current))
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    t0 = time.perf_counter()
    # counts[group][gsd][version] = {right, wrong, refused}
    counts: dict[str, dict[float, dict[str, dict[str, int]]]] = {}
    wrongs: list[str] = []
    gsds = tuple(float(g) for g in args.gsds.split(",")) if args.gsds else GSDS
    for case in cases(args.quick, gsds, real=not args.gsds):
        img = case.image()
        for label, mod in versions:
            r = mod.estimate_gsd_from_rails(img, rail_centres_m=case.rail_centres_m)
            v = verdict(r.measured, r.gsd, case.gsd)
            cell = counts.setdefault(case.group, {}).setdefault(case.gsd, {})
            cell.setdefault(label, {"right": 0, "wrong": 0, "refused": 0})[v] += 1
            line = (
                f"{label:>22} {case.group}, {case.name}, truth {case.gsd:.3f}: "
                + (f"{r.gsd:.3f} ({r.strips} strips)" if r.measured else "refused")
                + f" -> {v}"
            )
            if v == "wrong":
                wrongs.append(line)
            if args.show and args.show in case.group:
                print(line, flush=True)
    seconds = time.perf_counter() - t0
    print(
        f"Machine: {platform.node()} ({platform.processor() or platform.machine()}, "
        f"{platform.python_version()}); {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load: "
        f"`{load}`; command: `nice -n 15 .venv/bin/python benchmarks/bench_rail_scale.py"
        + (f" --before {args.before}" if args.before else "")
        + (" --quick" if args.quick else "")
        + (f" --gsds {args.gsds}" if args.gsds else "")
        + f"`; {seconds:.0f} s.\n"
    )
    labels = [lab for lab, _ in versions]
    head = "| cases | m/px | " + " | ".join(f"{lab}: right / wrong / refused" for lab in labels)
    print(head + " |\n|---|---|" + "---|" * len(labels))
    totals = {lab: {"right": 0, "wrong": 0, "refused": 0} for lab in labels}
    for group, by_gsd in counts.items():
        for g, cell in sorted(by_gsd.items()):
            parts = []
            for lab in labels:
                c = cell[lab]
                for k in c:
                    totals[lab][k] += c[k]
                w = f"**{c['wrong']}**" if c["wrong"] else "0"
                parts.append(f"{c['right']} / {w} / {c['refused']}")
            print(f"| {group} | {g:.3g} | " + " | ".join(parts) + " |")
    print(
        "| **all** | | "
        + " | ".join(f"{t['right']} / {t['wrong']} / {t['refused']}" for t in totals.values())
        + " |"
    )
    if wrongs:
        print("\nwrong:\n" + "\n".join(wrongs))


if __name__ == "__main__":
    main()
