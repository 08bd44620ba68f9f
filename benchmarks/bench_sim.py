"""Simulator speed: CPU seconds to render a 2000 x 2000 px scene, and to render and
write one Tumangang scene. Run: ``.venv/bin/python benchmarks/bench_sim.py``."""

from __future__ import annotations

import platform
import tempfile
import time
from datetime import UTC, datetime

import cv2

from railwatch.sim import SceneParams, render_scene, tumangang, write_scene


def _cpu(fn: object, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()  # type: ignore[operator]
        best = min(best, time.process_time() - t)
    return best


def main() -> None:
    cv2.setNumThreads(1)  # one core, as the budget says
    print(f"# {platform.node()} {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, OpenCV threads: 1")
    for gsd, cars, extra in (
        (0.5, 150, {}),
        (0.5, 150, {"cloud_cover": 0.3, "haze": 0.2, "jpeg_quality": 75, "off_nadir": 15.0}),
        (1.0, 150, {}),
        (3.0, 150, {}),
    ):
        p = SceneParams(seed=7, gsd=gsd, size_px=(2000, 2000), n_cars=cars, **extra)
        sec = _cpu(lambda p=p: render_scene(p))
        print(f"render 2000x2000 px gsd {gsd} m, {cars} cars {extra or ''}: {sec:.3f} s CPU")
    sc = tumangang()
    i = next(k for k, v in enumerate(sc.visits) if v.when.date().isoformat() == "2024-06-17")
    p = sc.params(i)
    sec = _cpu(lambda: render_scene(p))
    print(
        f"render tumangang 2024-06-17 ({p.size_px[0]}x{p.size_px[1]} px, 261 cars): {sec:.3f} s CPU"
    )
    scene = render_scene(p)
    with tempfile.TemporaryDirectory() as d:
        sec = _cpu(lambda: write_scene(scene, d, "x", preview=False))
    print(f"write_scene (COG + mask + STAC + truth): {sec:.3f} s CPU")


if __name__ == "__main__":
    main()
