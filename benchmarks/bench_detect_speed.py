"""Detection speed and memory benchmark.

Speed: a 0.5 m scene of 8192 x 8192 px (a 2048 px simulated yard tiled 4 x 4 into a
tiled, deflate-compressed GeoTIFF), processed end to end (windowed read, detect,
seam merge, GeoJSON write) by the default detector (its shipped INT8 network, and with
``--also default-fp32``, the default, its fp32 network), and side by side in the same run
by sliced YOLOv8n-OBB inference (1024 px tiles, 20 % overlap, ONNX Runtime on the
CPU; architecture from Ultralytics' ``yolov8n-obb.yaml``, random weights, 15 classes
as for DOTA). The YOLO model is built only when ``ultralytics`` and ``torch`` are
installed (benchmark-only: Ultralytics is AGPL-3.0 and never imported by railwatch).

Memory (``--rss``): a 20000 x 20000 px GeoTIFF is written block by block and
``detect_file`` runs on it in a child process; its peak RSS is reported (target
< 1.5 GB).

    python benchmarks/bench_detect_speed.py [--rss] [--detector default]
        [--also default-fp32] [--repeat 1] [--write-docs]

With ``--repeat N`` every pipeline runs N times in turn (railwatch detectors, then
YOLO) and the fastest run of each is reported (another job on the machine only ever
slows a run down), and, below the table, each round's ratio of railwatch to YOLO (wall clock
and CPU seconds), to show how much the fastest-of-N ratio depends on the round. The load
average at the start and the end is written with the figures, and so is the SHA-256 of
each railwatch pipeline's GeoJSON (speed changes that must not change any detection are
checked against it).

Figures go to stdout and, with ``--write-docs``, to the detection section of
docs/benchmarks.md (between ``<!-- detect-speed:start -->`` and ``<!-- detect-speed:end -->``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import importlib.machinery
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

from railwatch.detect.api import detect_file
from railwatch.detect.geojson import to_feature_collection, write_geojson
from railwatch.detect.merge import box_array, merge_detections, seam_distance
from railwatch.detect.onnx_backend import decode_obb, letterbox
from railwatch.detect.registry import get_detector
from railwatch.detect.tiling import tile_windows

GSD = 0.5
TILE_SEED = 424242

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
START, END = "<!-- detect:start -->", "<!-- detect:end -->"


def _replace(text: str, start: str, end: str, body: str) -> str:
    if start in text and end in text:
        a = text.index(start) + len(start)
        b = text.index(end)
        return text[:a] + "\n" + body.strip() + "\n" + text[b:]
    return text.rstrip() + "\n\n" + start + "\n" + body.strip() + "\n" + end + "\n"


def update_docs(key: str, body: str, docs: Path = DOCS) -> None:
    """Replace the ``key`` sub-section (``<!-- KEY:start -->``...) inside the detection
    section, creating the file, the section or the sub-section as needed."""
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    if START not in text:
        text = text.rstrip() + "\n\n## Detection\n\n" + START + "\n" + END + "\n"
    a = text.index(START) + len(START)
    b = text.index(END)
    section = text[a:b].strip("\n")
    section = _replace(section, f"<!-- {key}:start -->", f"<!-- {key}:end -->", body).strip("\n")
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(text[:a] + "\n" + section + "\n" + text[b:])


def _tile_image(size: int = 2048) -> tuple[np.ndarray, np.ndarray, int]:
    from railwatch.sim.params import SceneParams
    from railwatch.sim.scene import render_scene

    sc = render_scene(SceneParams(seed=TILE_SEED, gsd=GSD, size_px=(size, size), n_cars=160))
    return sc.image, sc.valid, len(sc.truth)


def write_mosaic(path: Path, side: int, tile: np.ndarray) -> None:
    """A ``side`` x ``side`` GeoTIFF filled block by block with copies of ``tile``."""
    th, tw = tile.shape[:2]
    profile = {
        "driver": "GTiff",
        "width": side,
        "height": side,
        "count": 3,
        "dtype": "uint8",
        "crs": "EPSG:32652",
        "transform": from_origin(630_000.0, 4_700_000.0, GSD, GSD),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "BIGTIFF": "IF_SAFER",
    }
    chw = np.ascontiguousarray(tile.transpose(2, 0, 1))
    with rasterio.open(path, "w", **profile) as ds:
        for r in range(0, side, th):
            for c in range(0, side, tw):
                h, w = min(th, side - r), min(tw, side - c)
                ds.write(chw[:, :h, :w], window=Window(c, r, w, h))


def run_default(path: Path, detector_name: str, workers: int | None) -> dict[str, object]:
    det = get_detector(detector_name)
    det.detect(np.zeros((64, 64, 3), np.uint8), GSD)  # load the network outside the timing
    c0 = _cpu_seconds()
    t0 = time.perf_counter()
    res = detect_file(path, detector=det, workers=workers)
    fc = to_feature_collection(res.detections, crs=res.crs, gsd=res.gsd)
    with tempfile.TemporaryDirectory() as tmp:
        write_geojson(Path(tmp) / "out.geojson", fc)
        secs = time.perf_counter() - t0
        cpu = _cpu_seconds() - c0
        digest = hashlib.sha256((Path(tmp) / "out.geojson").read_bytes()).hexdigest()
    mpx = res.width * res.height / 1e6
    return {
        "seconds": secs,
        "cpu_seconds": cpu,
        "mpx_per_s": mpx / secs,
        "detections": len(res.detections),
        "version": str(getattr(det, "version", "?")),
        "geojson_sha256": digest,
    }


def _cpu_seconds() -> float:
    """User + system CPU time of this process so far (all threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _stub_torchvision() -> None:
    """Ultralytics imports torchvision at import time; the CPU-only torch here has no
    matching torchvision build, and building + exporting the model needs none of it."""
    with contextlib.suppress(Exception):
        import torchvision  # noqa: F401

        return
    import importlib.metadata as md

    def stub(name: str) -> types.ModuleType:
        m = types.ModuleType(name)
        m.__spec__ = importlib.machinery.ModuleSpec(name, None)
        m.__path__ = []
        sys.modules[name] = m
        return m

    tv = stub("torchvision")
    tv.__version__ = "0.0-stub"  # type: ignore[attr-defined]
    for sub in ("ops", "transforms", "datasets", "models", "io", "utils"):
        setattr(tv, sub, stub(f"torchvision.{sub}"))
    real_version = md.version
    md.version = lambda n: "0.0" if n == "torchvision" else real_version(n)  # type: ignore[assignment]


def build_yolo_obb(path: Path, imgsz: int = 1024, nc: int = 15) -> str:
    """Export YOLOv8n-OBB (random weights) to ONNX; returns a description or raises."""
    _stub_torchvision()
    import torch
    from ultralytics.nn.tasks import OBBModel

    model = OBBModel("yolov8n-obb.yaml", nc=nc, verbose=False).eval()
    for mod in model.modules():
        if hasattr(mod, "export"):
            mod.export = True
            mod.format = "onnx"
    x = torch.zeros(1, 3, imgsz, imgsz)
    torch.onnx.export(
        model,
        x,
        str(path),
        opset_version=17,
        input_names=["images"],
        output_names=["output0"],
        dynamo=False,
    )
    params = sum(p.numel() for p in model.parameters())
    return f"YOLOv8n-OBB ({params / 1e6:.1f} M parameters, nc={nc}, random weights)"


def run_yolo(path: Path, model: Path, tile: int = 1024, overlap: float = 0.2) -> dict[str, float]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])
    nc = sess.get_outputs()[0].shape[1] - 5
    class_map = ("railcar",) * nc
    c0 = _cpu_seconds()
    t0 = time.perf_counter()
    with rasterio.open(path) as ds:
        wins = tile_windows(ds.width, ds.height, tile, round(tile * overlap))
        dets, dists = [], []
        for win in wins:
            data = ds.read(
                [1, 2, 3], window=Window(win.col_off, win.row_off, win.width, win.height)
            )
            img = np.ascontiguousarray(data.transpose(1, 2, 0))
            tensor, scale, pad = letterbox(img, (tile, tile))
            out = sess.run(None, {"images": tensor})[0]
            tile_dets = decode_obb(out, class_map, scale=scale, pad=pad)
            from railwatch.detect.api import _shift

            tile_dets = _shift(tile_dets, win.col_off, win.row_off)
            dets += tile_dets
            dists.append(seam_distance(box_array(tile_dets), win, ds.width, ds.height))
        merged = merge_detections(dets, np.concatenate(dists) if dists else None)
        mpx = ds.width * ds.height / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        write_geojson(Path(tmp) / "yolo.geojson", to_feature_collection(merged, crs=None))
    secs = time.perf_counter() - t0
    return {
        "seconds": secs,
        "cpu_seconds": _cpu_seconds() - c0,
        "mpx_per_s": mpx / secs,
        "tiles": len(wins),
        "detections": len(merged),
    }


def run_rss(side: int, detector_name: str, tile: np.ndarray) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"big_{side}.tif"
        t0 = time.perf_counter()
        write_mosaic(path, side, tile)
        gen = time.perf_counter() - t0
        code = (
            "import json,resource,time,sys\n"
            "from railwatch.detect.api import detect_file\n"
            "from railwatch.detect.registry import get_detector\n"
            "from railwatch.detect.geojson import to_feature_collection, write_geojson\n"
            "t=time.perf_counter()\n"
            f"r=detect_file({str(path)!r}, detector=get_detector({detector_name!r}))\n"
            f"out={str(Path(tmp) / 'big.geojson')!r}\n"
            "write_geojson(out, to_feature_collection(r.detections, crs=r.crs))\n"
            # VmHWM is this process's own peak since exec; ru_maxrss also holds the peak of
            # the process it was spawned from (Linux keeps it across execve), which made
            # this figure the benchmark parent's (up to 1.9 GB with YOLO loaded) until
            # 2026-12-03
            "try:\n"
            "    hwm=[l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
            "    peak=int(hwm[0].split()[1])/1024\n"
            "except (OSError, IndexError):\n"
            "    peak=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024\n"
            "print(json.dumps({'seconds': time.perf_counter()-t, 'detections': len(r.detections),"
            " 'maxrss_mb': peak}))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "failed")
        res = json.loads(out.stdout.strip().splitlines()[-1])
        res["generate_seconds"] = gen
        res["file_mb"] = path.stat().st_size / 1e6
        res["megapixels"] = side * side / 1e6
        return res


def _per_run_ratios(names: list[str], runs: dict[str, list[dict[str, object]]]) -> str:
    """Each run's ratio to the YOLO run of the same round (wall clock and CPU seconds),
    for every railwatch pipeline: how much the fastest-of-N figure depends on the round."""

    def num(r: dict[str, object], key: str) -> float:
        v = r.get(key)
        return float(v) if isinstance(v, int | float) else float("nan")

    parts = []
    for name in names:
        pairs = [  # round k's railwatch run and round k's YOLO run, both timed
            (num(y, "seconds") / num(r, "seconds"), num(y, "cpu_seconds") / num(r, "cpu_seconds"))
            for r, y in zip(runs.get(name, []), runs.get("yolo", []), strict=False)
            if isinstance(r.get("seconds"), float) and isinstance(y.get("seconds"), float)
        ]
        if len(pairs) > 1:
            wall = ", ".join(f"{w:.1f}x" for w, _ in pairs)
            cpu = ", ".join(f"{c:.1f}x" for _, c in pairs)
            parts.append(f"`{name}` {wall} (by CPU seconds {cpu})")
    if not parts:
        return ""
    return (
        "Ratio to YOLOv8n-OBB run by run (each round's railwatch run against its YOLO run): "
        + "; ".join(parts)
        + "."
    )


def _digests(names: list[str], runs: dict[str, list[dict[str, object]]]) -> str:
    """The SHA-256 of each railwatch pipeline's GeoJSON output (the digest of its first
    run, and how many runs wrote other bytes): speed changes that must not change any
    detection are checked against it."""
    parts = []
    for name in names:
        digests = [str(r["geojson_sha256"]) for r in runs.get(name, []) if "geojson_sha256" in r]
        if digests:
            other = sum(d != digests[0] for d in digests)
            note = f", {other} of {len(digests)} runs differ" if other else ""
            parts.append(f"`{name}` {digests[0]}{note}")
    return "GeoJSON SHA-256: " + "; ".join(parts) + "." if parts else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default="default")
    ap.add_argument(
        "--also",
        action="append",
        default=None,
        help="more railwatch detectors to time in the same run (default: default-fp32; "
        "'none' for none)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs of each pipeline; the fastest")
    ap.add_argument("--side", type=int, default=8192)
    ap.add_argument("--workers", type=int, default=None, help="tiles at once (default: auto)")
    ap.add_argument("--rss", action="store_true", help="also run the 20000 px memory test")
    ap.add_argument("--rss-side", type=int, default=20000)
    ap.add_argument("--skip-yolo", action="store_true")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    also = args.also if args.also is not None else ["default-fp32"]
    names = [args.detector, *[a for a in also if a != "none" and a != args.detector]]

    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()} {os.cpu_count()} cores, CPython {platform.python_version()}"
    load0 = os.getloadavg()
    tile, _valid, n_tile = _tile_image()
    results: dict[str, dict[str, object]] = {}
    runs: dict[str, list[dict[str, object]]] = {}

    def best(key: str, r: dict[str, object]) -> None:
        """Keep the fastest run of ``key`` (an error only while there is no run)."""
        runs.setdefault(key, []).append(r)
        old = results.get(key)
        secs = r.get("seconds")
        old_secs = old.get("seconds") if old is not None else None
        if old is None or (
            isinstance(secs, float) and (not isinstance(old_secs, float) or secs < old_secs)
        ):
            results[key] = r

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scene.tif"
        write_mosaic(path, args.side, tile)
        print(
            f"scene: {args.side} x {args.side} px at {GSD} m ({n_tile * (args.side // 2048) ** 2} "
            f"cars), {path.stat().st_size / 1e6:.0f} MB"
        )
        yolo_desc: str | None = None
        if not args.skip_yolo:
            try:
                yolo_desc = build_yolo_obb(Path(tmp) / "yolo.onnx")
            except Exception as err:  # ultralytics/torch missing: say so
                results["yolo"] = {"error": f"{type(err).__name__}: {err}"}
                print("YOLOv8n-OBB baseline not built:", err)
        for k in range(max(1, args.repeat)):
            for name in names:
                try:
                    r = run_default(path, name, args.workers)
                except Exception as err:  # report and carry on with the baseline
                    r = {"error": str(err)}
                print(f"run {k + 1}, railwatch {name}:", r)
                best(name, r)
            if yolo_desc is not None:
                r = {"model": yolo_desc, **run_yolo(path, Path(tmp) / "yolo.onnx")}
                print(f"run {k + 1}, YOLOv8n-OBB sliced:", r)
                best("yolo", r)
    load1 = os.getloadavg()
    reps = f", fastest of {args.repeat} runs each" if args.repeat > 1 else ""
    lines = [
        "Detection speed (`benchmarks/bench_detect_speed.py"
        + (f" --repeat {args.repeat}" if args.repeat > 1 else "")
        + f"`), {stamp}, {machine}; load average {load0[0]:.2f} at the start, "
        f"{load1[0]:.2f} at the end{reps}."
    ]
    rows = [
        "| pipeline | seconds | CPU seconds | megapixels/s | detections | ratio to YOLOv8n-OBB |",
        "|---|---|---|---|---|---|",
    ]
    y = results.get("yolo", {})
    for name in names:
        r = results.get(name, {})
        label = f"railwatch `{name}` ({r.get('version', '?')}), end to end"
        if "seconds" in r and "seconds" in y:
            ratio = f"**{float(r['mpx_per_s']) / float(y['mpx_per_s']):.1f}x**"  # type: ignore[arg-type]
        else:
            ratio = "-"
        if "seconds" in r:
            rows.append(
                f"| {label} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | {r['mpx_per_s']:.2f} "
                f"| {r['detections']} | {ratio} |"
            )
        else:
            rows.append(f"| {label} | not run: {r.get('error')} | | | | |")
    if "seconds" in y:
        rows.append(
            "| sliced YOLOv8n-OBB 1024 px / 20 % overlap, ONNX Runtime CPU | "
            f"{y['seconds']:.1f} | {y['cpu_seconds']:.1f} | {y['mpx_per_s']:.2f} | "
            f"{y['detections']} | 1 |"
        )
    elif y:
        rows.append(f"| sliced YOLOv8n-OBB | not run: {y.get('error')} | | | | |")
    rows.append("")
    digests = _digests(names, runs)
    if digests:
        rows += [digests, ""]
    per_run = _per_run_ratios(names, runs)
    if per_run:
        rows += [per_run, ""]
    rows.append(
        f"Scene {args.side} x {args.side} px at 0.5 m; targets: >= 10 Mpx/s and >= 5x YOLOv8n-OBB. "
        "The ratio is of wall-clock throughput; CPU seconds (all threads of this process) "
        "are less sensitive to other jobs on the machine."
    )
    lines += ["", *rows]
    detector_name = args.detector
    if args.rss:
        try:
            rss = run_rss(args.rss_side, detector_name, tile)
            results["rss"] = dict(rss)
            lines += [
                "",
                f"Memory: `detect_file` on a {args.rss_side} x {args.rss_side} px GeoTIFF "
                f"({rss['megapixels']:.0f} Mpx, {rss['file_mb']:.0f} MB deflate): peak RSS "
                f"**{rss['maxrss_mb']:.0f} MB** (target < 1500 MB), {rss['seconds']:.0f} s, "
                f"{rss['detections']} detections.",
            ]
        except Exception as err:
            results["rss"] = {"error": str(err)}
            lines += ["", f"Memory test not run: {err}"]
        print("rss:", results["rss"])
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        update_docs("detect-speed", text)
    print(
        "(peak RSS of this process: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
