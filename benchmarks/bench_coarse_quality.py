"""The mask-free quality estimate at coarse resolution against the simulator's masks.

Session 40's measurement (docs/detection.md, "Haze at coarse resolution" and "Light snow
at coarse resolution"), kept here so it can be run again: simulated scenes 600 m a side
(every style), conditions clear, light haze (0.1-0.3), heavy haze (0.3-0.8), snow
(winter, 0.3-1.0 of strength) and cloud (5-60 %, thin share 0-1), each drawn per scene;
the site is the scene's middle half. Each scene is written with its quality mask and
judged by ``railwatch.assess_file`` with the mask (the truth) and on a copy without it
(the estimate). Cells per gsd and condition: truth usable and judged usable / truth
usable, judged unusable / truth **unusable, judged usable** / both unusable.

The thresholds were tuned on seeds 0-9; 100-111 are held out (the default).

    .venv/bin/python benchmarks/bench_coarse_quality.py [--seeds 100-111] [--gsd 1.5,3,5]
        [--cache DIR] [--json OUT]

Scenes are rendered once into ``--cache`` (about 0.3 MB a scene at 3 m) and read from
there on later runs. About 0.2 s a scene at 3 m on the 2-core VM once rendered.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

import railwatch

STYLES = ("temperate", "continental", "arid", "industrial-dark", "winter")
CONDITIONS = ("clear", "light", "heavy", "snow", "cloud")


def scene_kwargs(seed: int, gsd: float, style: str, cond: str) -> dict[str, object]:
    """``SceneParams`` of one scene (session 40's draws, seed by seed)."""
    rng = np.random.default_rng(
        [seed, int(gsd * 10), STYLES.index(style), CONDITIONS.index(cond), 4040]
    )
    n = round(600 / gsd)
    kw: dict[str, object] = {"seed": seed, "gsd": gsd, "size_px": (n, n), "style": style}
    if cond == "light":
        kw["haze"] = float(rng.uniform(0.1, 0.3))
    elif cond == "heavy":
        kw["haze"] = float(rng.uniform(0.3, 0.8))
    elif cond == "snow":
        kw["season"] = "winter"
        kw["snow"] = float(rng.uniform(0.3, 1.0))
    elif cond == "cloud":
        kw["cloud_cover"] = float(rng.uniform(0.05, 0.6))
        kw["thin_cloud"] = float(rng.uniform(0, 1))
    return kw


def middle_half(path: Path) -> tuple[float, float, float, float]:
    """The middle half of a GeoTIFF's footprint, (W, S, E, N) in degrees."""
    import rasterio
    from rasterio.warp import transform_bounds

    with rasterio.open(path) as src:
        w, s, e, n = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    cx, cy, hw, hh = (w + e) / 2, (s + n) / 2, (e - w) / 4, (n - s) / 4
    return (cx - hw, cy - hh, cx + hw, cy + hh)


def seeds_of(text: str) -> list[int]:
    a, _, b = text.partition("-")
    return list(range(int(a), int(b or a) + 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="100-111", help="first-last (held out: 100-111)")
    ap.add_argument("--gsd", default="1.5,3,5", help="comma-separated metres")
    ap.add_argument("--cache", default=None, help="folder for the rendered scenes")
    ap.add_argument("--json", default=None, help="write every scene's verdicts here")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    cache = Path(args.cache or Path(tempfile.gettempdir()) / "railwatch-coarse-quality")
    cache.mkdir(parents=True, exist_ok=True)
    gsds = [float(g) for g in args.gsd.split(",")]
    rows = []
    start = time.perf_counter()
    for gsd in gsds:
        for style in STYLES:
            for cond in CONDITIONS:
                for seed in seeds_of(args.seeds):
                    name = f"{style}_{cond}_{seed}_{gsd}"
                    path, bare = cache / f"{name}.tif", cache / f"{name}_nomask.tif"
                    if not bare.exists():
                        kw = scene_kwargs(seed, gsd, style, cond)
                        scene = railwatch.render_scene(railwatch.SceneParams(**kw))  # type: ignore[arg-type]
                        railwatch.write_scene(scene, cache, name, preview=False)
                        shutil.copy(path, bare)  # no mask or sidecar beside it
                    site = railwatch.site_from_bbox("s", middle_half(path))
                    truth = railwatch.assess_file(path, site)
                    est = railwatch.assess_file(bare, site)
                    rows.append(
                        {
                            "gsd": gsd,
                            "style": style,
                            "cond": cond,
                            "seed": seed,
                            "truth_usable": truth.usable,
                            "truth_clear": round(truth.clear_fraction, 3),
                            "est_usable": est.usable,
                            "est_clear": round(est.clear_fraction, 3),
                            "est": [
                                round(est.cloud_fraction, 3),
                                round(est.haze_fraction, 3),
                                round(est.snow_fraction, 3),
                            ],
                        }
                    )
    seconds = time.perf_counter() - start
    print("| gsd | " + " | ".join(CONDITIONS) + " | all |")
    print("|---" * (len(CONDITIONS) + 2) + "|")
    for gsd in gsds:
        cells: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for r in rows:
            if r["gsd"] != gsd:
                continue
            # 0 and 1: truth usable, judged usable / not; 2 and 3: truth unusable, likewise
            i = 2 * (not r["truth_usable"]) + (not r["est_usable"])
            cells[str(r["cond"])][i] += 1
            cells["all"][i] += 1
        line = " | ".join("/".join(map(str, cells[c])) for c in (*CONDITIONS, "all"))
        print(f"| {gsd:g} m | {line} |")
    print(f"{len(rows)} scenes, seeds {args.seeds}, {seconds:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
