"""Peak memory of ``railwatch process`` on one large scene, step by step.

Usage: .venv/bin/python benchmarks/bench_process_memory.py [--mpx 4,16,36]
       [--detector default|none] [--mode steps|window|process|both|all] [--write-docs]

For each size, a synthetic 8-bit GeoTIFF (UTM 32N, 0.5 m, tiled, deflate) is written
under a temporary folder: a textured ground with dark rails and cars, an opaque cloud
(bright grey disc, about 8 % of the site) and a hazy band, so that every rule of the
quality estimate runs. Its site is the scene's footprint less 5 m, so the site window
is the whole scene (a 12,000 x 12,000 px window is 144 Mpx). A fresh Python process
then runs the pipeline's steps on it (``steps``: ``read_site_window``, ``assess_quality``,
``detect_array`` with ``--detector``, the window read whole as until session 36;
``window``: the same steps on ``read_site_window(..., lazy=True)``, the window's image
read from the file strip by strip and tile by tile, as ``process`` reads it at 0.3-1.5 m since
session 36, its ``valid`` and ``inside`` held at one bit a pixel through the quality and
detection steps as ``process`` holds them since session 39; ``process``: the whole
``process_scene``; ``both``: steps and process; ``all``: the three) and reports its
peak resident memory (``VmHWM`` of ``/proc/self/status``, reset between steps through
``/proc/self/clear_refs``) and the wall time of each step, and in ``window`` mode how
many times the quality step reads the window's rows from the file (session 37: about
once; 3 to 5 times before). ``--write-docs`` replaces
the block between ``<!-- process-memory:start -->`` and ``<!-- process-memory:end -->``
in docs/benchmarks.md with the figures, the machine and the date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
START, END = "<!-- process-memory:start -->", "<!-- process-memory:end -->"
GSD = 0.5
ORIGIN = (500_000.0, 5_400_000.0)  # UTM 32N, metres
CRS = "EPSG:32632"
BLOCK = 1024


def _block(row0: int, col0: int, h: int, w: int, size: int) -> np.ndarray:
    """Pixels (3, h, w) of the synthetic scene at (row0, col0), deterministic."""
    rng = np.random.default_rng(row0 * 100_003 + col0)
    rr, cc = np.mgrid[row0 : row0 + h, col0 : col0 + w]
    base = np.array([96, 104, 82], np.float32)[:, None, None]
    img = base + rng.normal(0.0, 14.0, (3, h, w)).astype(np.float32)
    # rails every 40 px (20 m) and dark cars on every other track
    rail = (rr % 40) < 2
    img[:, rail] = 45.0
    car = ((rr % 80) >= 36) & ((rr % 80) < 42) & ((cc % 32) < 28)
    img[:, car] = np.array([60.0, 40.0, 35.0], np.float32)[:, None]
    # an opaque cloud: a bright grey disc with a soft rim
    cy, cx, rad = size * 0.3, size * 0.6, size * 0.16
    d = np.hypot(rr - cy, cc - cx)
    cloud = np.clip((rad - d) / (0.1 * rad), 0.0, 1.0)
    img = img * (1 - cloud) + 235.0 * cloud
    # a hazy band: raised dark channel, washed-out contrast
    haze = ((rr > size * 0.7) & (rr < size * 0.8)).astype(np.float32) * 0.6
    img = img * (1 - haze) + 200.0 * haze
    return np.clip(img, 0, 255).astype(np.uint8)


def write_scene(path: Path, size: int) -> None:
    import rasterio
    from affine import Affine

    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 3,
        "dtype": "uint8",
        "crs": CRS,
        "transform": Affine(GSD, 0.0, ORIGIN[0], 0.0, -GSD, ORIGIN[1]),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "photometric": "RGB",
        "BIGTIFF": "IF_SAFER",
    }
    with rasterio.open(path, "w", **profile) as dst:
        for r in range(0, size, BLOCK):
            for c in range(0, size, BLOCK):
                h, w = min(BLOCK, size - r), min(BLOCK, size - c)
                dst.write(_block(r, c, h, w, size), window=((r, r + h), (c, c + w)))


def _child(path: str, size: int, detector: str, mode: str) -> None:
    """Run in a fresh process: the steps on ``path``, one JSON line of figures."""
    from pyproj import Transformer
    from shapely.geometry import box

    def hwm() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    def reset() -> None:
        Path("/proc/self/clear_refs").write_text("5")

    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    x0, y1 = ORIGIN
    x1, y0 = x0 + size * GSD, y1 - size * GSD
    lon0, lat0 = to_wgs.transform(x0 + 5, y0 + 5)
    lon1, lat1 = to_wgs.transform(x1 - 5, y1 - 5)
    site = box(lon0, lat0, lon1, lat1)

    from railwatch.detect.base import Detection, Detector

    class Nothing(Detector):
        name = "none"
        version = "0"

        def detect(
            self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
        ) -> list[Detection]:
            return []

    if detector == "default":
        from railwatch.detect.registry import get_detector

        det: Detector = get_detector("default")
        det.detect(np.zeros((64, 64, 3), np.uint8), GSD)
    else:
        det = Nothing()
    out: dict[str, object] = {"start": hwm()}
    if mode == "process":
        from railwatch.pipeline import SceneJob, process_scene

        job = SceneJob(scene_id=1, uri=path, gsd=GSD, site_geometry=site, width=size, height=size)
        reset()
        t = time.perf_counter()
        outcome = process_scene(job, det)
        out["process_s"] = time.perf_counter() - t
        out["process"] = hwm()
        if outcome.error:
            raise SystemExit(outcome.error)
        assert outcome.quality is not None
        out["clear"] = outcome.quality.clear_fraction
        out["detections"] = len(outcome.detections)
    else:
        from contextlib import ExitStack

        from railwatch.detect.api import detect_array
        from railwatch.imagery import assess_quality, read_site_window, site_grid
        from railwatch.imagery.read import SiteRaster, SiteWindow

        pre = "w_" if mode == "window" else ""
        grid = site_grid(site, GSD)
        with ExitStack() as held:
            reset()
            t = time.perf_counter()
            raster: SiteRaster | SiteWindow
            if mode == "window":
                from railwatch.pipeline import _masks_packed

                raster = held.enter_context(read_site_window(path, grid, site_geom=site, lazy=True))
                # valid and inside at one bit a pixel while judged and detected, as
                # process_scene holds them (session 39)
                held.enter_context(_masks_packed(raster))
            else:
                raster = read_site_window(path, grid, site_geom=site)
            out[pre + "read_s"] = time.perf_counter() - t
            out[pre + "read"] = hwm()
            read_rows = [0]
            if isinstance(raster, SiteWindow):  # rows the quality step reads from the file
                plain = SiteWindow._read

                def counted(self: SiteWindow, a: int, b: int) -> np.ndarray:
                    read_rows[0] += b - a
                    return plain(self, a, b)

                SiteWindow._read = counted  # type: ignore[method-assign]
            reset()
            t = time.perf_counter()
            quality = assess_quality(raster)
            out[pre + "quality_s"] = time.perf_counter() - t
            out[pre + "quality"] = hwm()
            if isinstance(raster, SiteWindow):
                SiteWindow._read = plain  # type: ignore[method-assign]
                out["w_quality_reads"] = read_rows[0] / raster.grid.height
            out["clear"] = quality.clear_fraction
            reset()
            t = time.perf_counter()
            dets = detect_array(
                raster.image,
                GSD,
                detector=det,
                valid=raster.valid,
                origin=raster.file_offset or (0, 0),
            )
            out[pre + "detect_s"] = time.perf_counter() - t
            out[pre + "detect"] = hwm()
            out[pre + "detections"] = len(dets)
    print(json.dumps(out))


def measure(path: Path, size: int, detector: str, mode: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", str(path), str(size), detector, mode]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the measuring process failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _mb(x: float) -> str:
    return f"{x / 1e6:,.0f} MB"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mpx", default="4,16,36", help="window sizes in megapixels")
    ap.add_argument("--detector", default="default", choices=("default", "none"))
    ap.add_argument("--mode", default="all", choices=("steps", "window", "process", "both", "all"))
    ap.add_argument("--tmp", default=None, help="folder for the scene files")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        for mpx in (float(x) for x in args.mpx.split(",")):
            size = round((mpx * 1e6) ** 0.5)
            path = Path(tmp) / f"scene_{size}.tif"
            write_scene(path, size)
            row: dict[str, float] = {"mpx": size * size / 1e6}
            if args.mode in ("steps", "both", "all"):
                row.update(measure(path, size, args.detector, "steps"))
            if args.mode in ("window", "all"):
                row.update(measure(path, size, args.detector, "window"))
            if args.mode in ("process", "both", "all"):
                row.update(measure(path, size, args.detector, "process"))
            path.unlink()
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()} "
        f"({os.cpu_count()} cores, {platform.python_version()}), detector "
        f"`{args.detector}`, `benchmarks/bench_process_memory.py --mpx {args.mpx} "
        f"--mode {args.mode}`. Peak RSS (VmHWM) of a fresh process, reset before each step "
        "(the loaded detector included); *whole*: the window read whole "
        "(`read_site_window`, as until session 36), *by rows*: "
        "`read_site_window(..., lazy=True)` (its "
        "image read from the file strip by strip and tile by tile, as `process_scene` "
        "reads windows of 32 Mpx and more at 0.3-1.5 m since session 36, "
        "`pipeline.LAZY_WINDOW_PIXELS`; smaller ones whole; its `valid` and `inside` at "
        "one bit a pixel through quality and detection, `pipeline._masks_packed`, since "
        "session 39); - where not measured:",
        "",
        "| window | read whole / by rows | quality whole / by rows | detect whole / by rows "
        "| whole `process_scene` | time (s), whole: read / quality / detect; by rows: read / "
        "quality / detect; process_scene | file reads of the quality step by rows |",
        "|---|---|---|---|---|---|---|",
    ]

    def mb(r: dict[str, float], key: str) -> str:
        return _mb(r[key]) if key in r else "-"

    def secs(r: dict[str, float], key: str) -> str:
        return f"{r[key]:.1f}" if key in r else "-"

    for r in rows:
        lines.append(
            f"| {r['mpx']:.0f} Mpx | {mb(r, 'read')} / {mb(r, 'w_read')} | "
            f"{mb(r, 'quality')} / {mb(r, 'w_quality')} | "
            f"{mb(r, 'detect')} / {mb(r, 'w_detect')} | {mb(r, 'process')} | "
            f"{secs(r, 'read_s')} / {secs(r, 'quality_s')} / {secs(r, 'detect_s')}; "
            f"{secs(r, 'w_read_s')} / {secs(r, 'w_quality_s')} / {secs(r, 'w_detect_s')}; "
            f"{secs(r, 'process_s')} | "
            + (f"{r['w_quality_reads']:.2f} x the window |" if "w_quality_reads" in r else "- |")
        )
    print("\n".join(lines))
    if args.write_docs:
        text = DOCS.read_text()
        block = START + "\n" + "\n".join(lines) + "\n" + END
        if START in text:
            head, rest = text.split(START, 1)
            text = head + block + rest.split(END, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        DOCS.write_text(text)


if __name__ == "__main__":
    main()
