"""Storage and ingest throughput on a SQLite file (or any database with ``--db``).

Measures: `railwatch ingest` of N small GeoTIFFs (inspect + hash + one transaction
each), `record_scene_result` with D detections per scene, `count_series` over all
scenes, the size each table takes per row (PostgreSQL: ``pg_total_relation_size``,
indexes and TOAST included; SQLite: the file), and removing the site (cascade).
Prints one line per figure.

    .venv/bin/python benchmarks/bench_storage.py [--files 200] [--scenes 300] [--detections 200]
        [--db postgresql+psycopg://USER@HOST/EMPTY_DB]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine
from sqlalchemy import func, select, text

from railwatch.cli.main import main
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, DetectionRecord, repo
from railwatch.storage.models import Count, Detection, Scene, Site

UTM = "EPSG:32652"
ORIGIN = (632_000.0, 4_683_000.0)
FOOTPRINT = shapely.box(130.60, 42.28, 130.63, 42.30)


@dataclass(frozen=True)
class _Info:
    uri: str
    content_hash: str
    acquired: datetime
    crs: str = UTM
    footprint: shapely.Polygon = FOOTPRINT
    gsd: float = 0.5
    width: int = 4000
    height: int = 4000
    band_count: int = 3
    dtype: str = "uint8"
    sensor: str | None = "bench"
    mask_uri: str | None = None
    date_source: str = "option"
    metadata: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Quality:
    clear_fraction: float = 0.95
    coverage: float = 1.0
    cloud_fraction: float = 0.05
    haze_fraction: float = 0.0
    snow_fraction: float = 0.0
    nodata_fraction: float = 0.0
    usable: bool = True
    reasons: tuple[str, ...] = ()
    source: str = "mask"


@dataclass(frozen=True)
class _Count:
    total: float
    low: float
    high: float
    by_class: dict[str, tuple[float, float, float]]
    covered: int = 0
    method: str = "objects"
    coverage: float = 1.0


def _write_tifs(folder: Path, n: int, size: int) -> None:
    rng = np.random.default_rng(0)
    for i in range(n):
        data = rng.integers(0, 255, size=(3, size, size), dtype=np.uint8)
        day = datetime(2020, 1, 1) + timedelta(days=i)
        with rasterio.open(
            folder / f"scene_{day:%Y%m%d}.tif", "w", driver="GTiff", width=size, height=size,
            count=3, dtype="uint8", crs=UTM, transform=Affine(1, 0, ORIGIN[0], 0, -1, ORIGIN[1]),
        ) as dst:  # fmt: skip
            dst.write(data)


def _sizes(db: Database, sqlite_file: Path | None) -> list[str]:
    """One line per table: rows and bytes per row (PostgreSQL), or the file (SQLite)."""
    lines = []
    with db.session(readonly=True) as s:
        rows = {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
                for m in (Site, Scene, Detection, Count)}  # fmt: skip
        if db.engine.dialect.name == "postgresql":
            for table, n in rows.items():
                size = s.scalar(text(f"SELECT pg_total_relation_size('{table}')")) or 0
                per = f"{size / n:.0f} B/row" if n else "-"
                lines.append(f"size {table}: {n} rows, {size / 1024:.0f} KiB with indexes, {per}")
        elif sqlite_file is not None:
            size = sqlite_file.stat().st_size
            lines.append(f"size (SQLite file): {size / 1024:.0f} KiB for {rows}")
    return lines


def main_bench() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--scenes", type=int, default=300)
    ap.add_argument("--detections", type=int, default=200)
    ap.add_argument("--db", help="database URL for the record/series part (default: SQLite)")
    args = ap.parse_args()
    print(f"# {platform.node()} {platform.machine()} python {sys.version.split()[0]}, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        url = f"sqlite:///{base / 'bench.db'}"
        imgs = base / "imgs"
        imgs.mkdir()
        _write_tifs(imgs, args.files, args.size)
        main(["--db", url, "site", "add", "tum", "--bbox", "130.60,42.28,130.62,42.30"])
        t0 = time.perf_counter()
        code = main(["--db", url, "ingest", "tum", str(imgs), "--json"])
        print()
        dt = time.perf_counter() - t0
        print(f"ingest: {args.files} files of {args.size}x{args.size} px in {dt:.2f} s "
              f"({args.files / dt:.1f} files/s, exit {code})")  # fmt: skip

        sqlite_file = None if args.db else base / "bench2.db"
        db = Database(args.db or f"sqlite:///{sqlite_file}")
        print(f"record/series/size on {db.engine.dialect.name}")
        with db.session() as s:
            repo.add_site(s, site_from_bbox("bench", "130.60,42.28,130.63,42.30"))
        ids = []
        with db.session() as s:
            for i in range(args.scenes):
                info = _Info(f"/b/{i}.tif", f"{i:064x}", datetime(2019, 1, 1, tzinfo=UTC) +
                             timedelta(days=i))  # fmt: skip
                ids.append(repo.add_scene(s, "bench", info, 1.0)[0].id)
        poly = shapely.box(130.61, 42.29, 130.6102, 42.29005)
        native = shapely.box(632_700.0, 4_682_700.0, 632_714.0, 4_682_703.0)
        dets = [DetectionRecord("tank", 0.9, poly, native, UTM) for _ in range(args.detections)]
        count = _Count(float(args.detections), args.detections - 5.0, args.detections + 5.0,
                       {"tank": (float(args.detections),) * 3})  # fmt: skip
        t0 = time.perf_counter()
        for sid in ids:
            with db.session() as s:
                repo.record_scene_result(s, sid, _Quality(), dets, count, "bench", "1")
        dt = time.perf_counter() - t0
        print(f"record_scene_result: {args.scenes} scenes x {args.detections} detections, "
              f"one transaction each: {1000 * dt / args.scenes:.1f} ms/scene")  # fmt: skip
        t0 = time.perf_counter()
        with db.session(readonly=True) as s:
            series = repo.count_series(s, "bench")
        dt = time.perf_counter() - t0
        print(f"count_series: {len(series)} points in {1000 * dt:.1f} ms")
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        for line in _sizes(db, sqlite_file):
            print(line)
        t0 = time.perf_counter()
        with db.session() as s:
            gone = repo.remove_site(s, "bench")
        dt = time.perf_counter() - t0
        print(f"remove_site (cascade {gone.detections} detections, {gone.counts} counts): "
              f"{1000 * dt:.0f} ms")  # fmt: skip
        db.dispose()


if __name__ == "__main__":
    main_bench()
