"""Throughput of ``process`` on simulated scenes: in-process vs a local Dask cluster
of 1 and 2 workers (scaling ratio, per-scene overhead of the distributed path).

Usage: .venv/bin/python benchmarks/bench_process.py [N_SCENES] [--write-docs]
Scenes: railwatch.sim, 512x512 px at 0.5 m, clear weather (no cloud, haze or snow:
every scene is counted), 10 distinct renders copied to N files,
one site per scene (the site is the scene's footprint less 10 m). Detector: the
default one when it loads, else a trivial bright-blob detector (reported).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from railwatch.distributed import ClusterSpec, open_client, process_sites_distributed
from railwatch.imagery import inspect_scene
from railwatch.ingest import ingest_paths
from railwatch.pipeline import process_site
from railwatch.sim import random_params, render_scene, write_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
UNIQUE = 10


def _detector() -> tuple[object, str]:
    try:
        from railwatch.detect.registry import get_detector

        det = get_detector("default")
        det.detect(np.zeros((64, 64, 3), np.uint8), 0.5)  # the weights load
        return det, f"{det.name} {det.version}"
    except Exception as err:  # report which detector was measured
        tests = str(Path(__file__).resolve().parents[1] / "tests")
        sys.path.insert(0, tests)
        # the worker processes import the fake from there too
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (tests, os.environ.get("PYTHONPATH")) if p
        )
        from test_detect_fakes import BrightBlobDetector

        why = " ".join(str(err).split())[:90]
        return BrightBlobDetector(), f"fake bright-blob detector (default unavailable: {why})"


def build(root: Path, n: int) -> str:
    renders = []
    for k in range(UNIQUE):
        params = random_params(1000 + k, gsd=0.5, size_px=(512, 512))
        clear = replace(params, snow=0.0, haze=0.0, cloud_cover=0.0)  # every scene counted
        scene = render_scene(clear)
        write_scene(scene, root / "src", f"s{k:02d}", preview=False)
        renders.append(root / "src" / f"s{k:02d}")
    url = f"sqlite:///{root / 'base.db'}"
    db = Database(url)
    (root / "img").mkdir()
    for i in range(n):
        base = renders[i % UNIQUE]
        name = f"scene{i:04d}"
        for ext in (".tif", ".mask.tif", ".json"):
            shutil.copy(f"{base}{ext}", root / "img" / f"{name}{ext}")
        img = root / "img" / f"{name}.tif"
        fp = inspect_scene(img).footprint
        with db.session() as s:
            repo.add_site(s, SiteSpec(name=f"site{i:04d}", geometry=fp.buffer(-0.0001)))
        ingest_paths(db, f"site{i:04d}", [img])
    db.dispose()
    return url


def fresh_db(root: Path, url: str, mode: str) -> Database:
    path = root / f"{mode}.db"
    shutil.copy(url.removeprefix("sqlite:///"), path)
    return Database(f"sqlite:///{path}")


def run_inprocess(db: Database, det: object, sites: list[str]) -> tuple[float, dict[str, int]]:
    t0 = time.perf_counter()
    out = [process_site(db, s, detector=det) for s in sites]  # type: ignore[arg-type]
    return time.perf_counter() - t0, _tally(out)


def run_cluster(
    db: Database, det: object, det_name: str, sites: list[str], workers: int
) -> tuple[float, float, float, dict[str, int]]:
    """(cluster start s, warm-up s, processing s, outcome counts): the first site is a
    warm-up (every worker loads the detector), the rest are timed."""
    name = "default" if det_name.startswith("railwatch-default") else None
    t0 = time.perf_counter()
    with open_client(ClusterSpec(workers=workers)) as client:
        client.wait_for_workers(workers)
        t1 = time.perf_counter()
        warm = sites[:workers]
        process_sites_distributed(db, warm, detector=det, detector_name=name, client=client)  # type: ignore[arg-type]
        t2 = time.perf_counter()
        out = process_sites_distributed(
            db,
            sites[workers:],
            detector=det,
            detector_name=name,
            client=client,  # type: ignore[arg-type]
        )
        t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, _tally(out)


def _tally(summaries: list[object]) -> dict[str, int]:
    keys = ("processed", "unusable", "failed")
    return {k: sum(len(getattr(s, k)) for s in summaries) for k in keys}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 200
    det, det_name = _detector()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        url = build(root, n)
        build_s = time.perf_counter() - t0
        sites = [f"site{i:04d}" for i in range(n)]
        db = fresh_db(root, url, "inprocess")
        t_in, tally = run_inprocess(db, det, sites)
        db_bytes = (root / "inprocess.db").stat().st_size
        cl = {w: run_cluster(fresh_db(root, url, f"w{w}"), det, det_name, sites, w) for w in (1, 2)}
    per_in = t_in / n
    rows = [f"| in-process | - | {t_in:.1f} | {per_in:.3f} | {60 / per_in:.0f} |"]
    per = {}
    for w, (start, warm, t, _) in cl.items():
        per[w] = t / (n - w)
        rows.append(
            f"| Dask, {w} worker{'s' if w > 1 else ''} | {start:.1f} + {warm:.1f} | {t:.1f} "
            f"| {per[w]:.3f} | {60 / per[w]:.0f} |"
        )
    overhead = (per[1] - per_in) / per_in * 100
    lines = [
        f"`benchmarks/bench_process.py {n}`: {platform.machine()}, {os.cpu_count()} cores "
        f"shared with other jobs, 24 GB, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
        f"Detector: {det_name}.",
        f"{n} simulated scenes (railwatch.sim, 512x512 px at 0.5 m; {UNIQUE} distinct renders), "
        f"one site each, SQLite; outcomes {tally} (build: {build_s:.0f} s).",
        "",
        "| run | cluster start + warm-up s | processing s | s/scene | scenes/min |",
        "| --- | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        f"Scaling 1 -> 2 workers: x{per[1] / per[2]:.2f} throughput. Distributed overhead per "
        f"scene (1 worker vs in-process, warm cluster): {overhead:+.1f} %. "
        f"Database: {db_bytes / n / 1024:.1f} KiB per scene (SQLite file / scenes).",
    ]
    text = "\n".join(lines)
    print(text)
    if "--write-docs" in sys.argv and DOCS.exists():
        doc = DOCS.read_text()
        block = f"<!-- scale:start -->\n{text}\n<!-- scale:end -->"
        if "<!-- scale:start -->" in doc:
            doc = re.sub(r"<!-- scale:start -->.*?<!-- scale:end -->", block, doc, flags=re.S)
        else:
            doc = doc.rstrip() + "\n\n## Scale: distributed processing\n\n" + block + "\n"
        DOCS.write_text(doc)


if __name__ == "__main__":
    main()
