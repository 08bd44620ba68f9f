"""How much reading a coarse file delivered in another CRS or at another resolution on
the site grid's resampling costs, against reading the file's own pixels along the
centrelines placed in its CRS (2026-12-06, session 42).

Session 41's protocol (docs/detection.md, "`railwatch detect` and `railwatch process` on
one coarse file"): thirty simulated 3 m yards (seeds 100-129, ``default_rng(seed)
.integers(20, 151)`` cars, clear), the site 30 m inside the image. Each file (and its
quality mask, nearest) is reprojected as a provider would deliver it
(``rasterio.warp.reproject``, nearest or bilinear, the default transform of
``calculate_default_transform``): into the neighbouring UTM zone, Web Mercator
(EPSG:3857), lon/lat (EPSG:4326), and at 2.5 and 3.5 m in its own zone. Each is then
counted

- ``grid``: as ``railwatch process`` reads a scene (``read_site_window`` on the site
  grid at the file's ground resolution in the site's UTM zone, ``assess_quality``,
  ``count_scene`` along the site's centrelines), and
- ``own``: on the file's own pixels (``imagery.read.file_grid``, the cut of the file's
  pixel grid over the site, read and counted the same way: the centrelines placed in
  the file's CRS and pixels, its quality mask and the site polygon applied as on the
  grid).

Run: ``python benchmarks/bench_coarse_other_crs.py [--seeds 100-129] [--only NAME]``.
Prints, per delivery and reader, how many yards read within ±15 % of the truth and
the mean absolute error (truth: the simulator's cars, all inside the site).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from pyproj import Transformer
from rasterio.warp import Resampling, calculate_default_transform, reproject
from shapely.geometry import box

from railwatch.counting import count_scene
from railwatch.imagery import assess_quality, read_site_window, site_grid
from railwatch.sim import SceneParams, render_scene, write_scene
from railwatch.sites import load_tracks

#: (name, CRS or None for the file's own, pixel size in the target CRS's units or None
#: for calculate_default_transform's)
DELIVERIES: list[tuple[str, str | None, float | None]] = [
    ("as rendered (on the grid)", None, None),
    ("neighbouring UTM zone", "next", None),
    ("EPSG:3857", "EPSG:3857", None),
    ("EPSG:4326", "EPSG:4326", None),
    ("2.5 m, own zone", None, 2.5),
    ("3.5 m, own zone", None, 3.5),
]


@dataclass
class Yard:
    seed: int
    cars: int
    folder: Path
    site: Any
    tracks: Any


def _next_zone(crs: str) -> str:
    code = int(crs.split(":")[1])
    return f"EPSG:{code + 1}"


def render(seed: int, root: Path) -> Yard:
    cars = int(np.random.default_rng(seed).integers(20, 151))
    sc = render_scene(SceneParams(seed=seed, size_px=(200, 200), gsd=3.0, n_cars=cars))
    folder = root / f"s{seed}"
    paths = write_scene(sc, folder, "yard", preview=False)
    with rasterio.open(paths.image) as ds:
        b, crs = ds.bounds, str(ds.crs)
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    inner = box(b.left + 30, b.bottom + 30, b.right - 30, b.top - 30)
    site = shapely.transform(
        shapely.segmentize(inner, 3.0),
        lambda xy: np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1])),
    )
    return Yard(seed, len(sc.truth), folder, site, load_tracks(paths.tracks))


def deliver(yard: Yard, name: str, crs: str | None, res: float | None, how: str) -> Path:
    """The yard's image and mask reprojected as ``name`` (``how``: nearest/bilinear)."""
    out = yard.folder / f"{name.replace(' ', '_').replace(':', '')}_{how}"
    if out.exists():
        return out / "yard.tif"
    out.mkdir()
    with rasterio.open(yard.folder / "yard.tif") as src:
        src_crs = str(src.crs)
    dst_crs = src_crs if crs is None else (_next_zone(src_crs) if crs == "next" else crs)
    for fname, resampling in (
        ("yard.tif", Resampling[how]),
        ("yard.mask.tif", Resampling.nearest),
    ):
        with rasterio.open(yard.folder / fname) as src:
            kw: dict[str, Any] = {} if res is None else {"resolution": res}
            t, w, h = calculate_default_transform(
                src.crs, dst_crs, src.width, src.height, *src.bounds, **kw
            )
            profile = src.profile.copy()
            profile.update(crs=dst_crs, transform=t, width=w, height=h, tiled=False)
            profile.pop("blockxsize", None)
            profile.pop("blockysize", None)
            with rasterio.open(out / fname, "w", **profile) as dst:
                for i in range(1, src.count + 1):
                    reproject(
                        rasterio.band(src, i),
                        rasterio.band(dst, i),
                        src_transform=src.transform,
                        src_crs=src.crs,
                        dst_transform=t,
                        dst_crs=dst_crs,
                        resampling=resampling,
                        src_nodata=src.nodata,
                        dst_nodata=src.nodata,
                    )
    return out / "yard.tif"


def count_grid(image: Path, yard: Yard) -> float:
    """As ``railwatch process`` reads the scene now: on the site grid."""
    from railwatch.imagery.inspect import ground_gsd
    from railwatch.pipeline import grid_gsd

    with rasterio.open(image) as ds:
        gsd = ground_gsd(ds)
    grid = site_grid(yard.site, grid_gsd(gsd))
    raster = read_site_window(
        str(image), grid, mask_uri=str(image.with_name("yard.mask.tif")), site_geom=yard.site
    )
    quality = assess_quality(raster, threshold=0.8)
    return count_scene([], raster, quality, tracks_wgs84=yard.tracks).total


def count_own(image: Path, yard: Yard) -> float:
    """On the file's own pixels: the cut of its pixel grid over the site."""
    from railwatch.imagery.read import file_grid

    with rasterio.open(image) as ds:
        grid = file_grid(ds, yard.site)
    if grid is None:
        raise ValueError(f"{image} has no pixel grid over the site")
    raster = read_site_window(
        str(image), grid, mask_uri=str(image.with_name("yard.mask.tif")), site_geom=yard.site
    )
    quality = assess_quality(raster, threshold=0.8)
    return count_scene([], raster, quality, tracks_wgs84=yard.tracks).total


def _seeds(text: str) -> list[int]:
    a, _, b = text.partition("-")
    return list(range(int(a), int(b or a) + 1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="100-129")
    ap.add_argument("--only", default=None, help="deliveries whose name contains this")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args(argv)
    root = Path(args.workdir or tempfile.mkdtemp(prefix="bench_other_crs_"))
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    yards = [render(s, root) for s in _seeds(args.seeds)]
    print(f"{len(yards)} yards rendered in {time.time() - t0:.0f} s under {root}", flush=True)
    rendered = [count_grid(y.folder / "yard.tif", y) for y in yards]
    print(
        "| delivery | provider resampling | reader | within ±15 % | mean abs. error "
        "| changed by over 15 % from the file as rendered | closer to the truth than "
        "the other reader |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, crs, res in DELIVERIES:
        if args.only and args.only not in name:
            continue
        hows = ["nearest"] if crs is None and res is None else ["nearest", "bilinear"]
        for how in hows:
            rows: dict[str, list[float]] = {"grid": [], "own": []}
            moved: dict[str, int] = {"grid": 0, "own": 0}
            for yard, before in zip(yards, rendered, strict=True):
                image = (
                    yard.folder / "yard.tif"
                    if crs is None and res is None
                    else deliver(yard, name, crs, res, how)
                )
                for reader, fn in (("grid", count_grid), ("own", count_own)):
                    try:
                        got = fn(image, yard)
                    except Exception as err:  # a reader's failure is a miss, said
                        print(f"  {name} {how} {reader} seed {yard.seed}: {err}", file=sys.stderr)
                        got = float("nan")
                    rows[reader].append((got - yard.cars) / yard.cars)
                    if not abs(got - before) <= 0.15 * max(before, 1.0):
                        moved[reader] += 1
            errors = {r: np.abs(np.asarray(e)) for r, e in rows.items()}
            for reader, e in errors.items():
                other = errors["own" if reader == "grid" else "grid"]
                closer = int(np.sum(e < other - 1e-9))
                ok = int(np.sum(e <= 0.15))
                shown = "–" if crs is None and res is None else how
                print(
                    f"| {name} | {shown} | {reader} | {ok} of {len(e)} | "
                    f"{100 * float(np.nanmean(e)):.1f} % | {moved[reader]} | {closer} |",
                    flush=True,
                )
    print(f"({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
