"""Detection on images whose pixels are not square on the ground (lon/lat delivery).

The same simulated 0.5 m scenes (``railwatch.sim``, cars along yards at several angles)
are written three ways and counted with ``railwatch.detect.api.detect_file`` and the
default detector:

- ``utm``: the simulator's own UTM GeoTIFF (square 0.5 m pixels), the reference;
- ``lonlat``: warped (bilinear) to EPSG:4326 with square-degree pixels whose ground
  size has a geometric mean of 0.5 m: ``0.5 sqrt(cos lat)`` wide and
  ``0.5 / sqrt(cos lat)`` tall (0.43 x 0.58 m at 42.4 N, 0.23 x 1.10 m at 78 N);
- ``lonlat→utm``: that lon/lat file warped back to a 0.5 m UTM grid (what ``railwatch
  process`` reads: the two resamplings of the field report), the best a square-pixel
  view of the lon/lat file can do.

Detections are asked in the scene's UTM CRS (``out_crs``) and matched one to one with
the drawn cars at IoU 0.3 (``railwatch.detect.eval.match``); ``IoU img`` is the mean
IoU with its drawn car (0.3 and over) of the polygons written in the image's own CRS
(what ``railwatch detect`` writes), reprojected corner by corner to UTM.

    nice -n 15 .venv/bin/python benchmarks/bench_anisotropic.py [--scenes 6] [--lats 42.4,78]
"""

from __future__ import annotations

import argparse
import math
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rasterio
from pyproj import Geod, Transformer
from rasterio.transform import from_origin
from rasterio.warp import Resampling, reproject, transform_bounds
from shapely import STRtree
from shapely.geometry import Polygon

from railwatch.detect.api import detect_file
from railwatch.detect.base import Detection
from railwatch.detect.eval import match
from railwatch.detect.geojson import box_from_polygon
from railwatch.detect.registry import get_detector
from railwatch.sim import SceneParams, render_scene, write_scene

LON = 130.6081


def degree_pixel(lon: float, lat: float, gsd: float) -> float:
    """A square-degree pixel size whose ground width and height have ``gsd`` as their
    geometric mean at (lon, lat)."""
    geod = Geod(ellps="WGS84")
    d = 1e-4
    gx = geod.inv(lon, lat, lon + d, lat)[2] / d
    gy = geod.inv(lon, lat, lon, lat + d)[2] / d
    return gsd / math.sqrt(gx * gy)


def warp(src_path: Path, dst_path: Path, crs: str, transform: object, shape: tuple[int, int]):
    with rasterio.open(src_path) as src:
        data = src.read()
        profile = src.profile.copy()
        out = np.zeros((src.count, *shape), data.dtype)
        reproject(
            data,
            out,
            src_transform=src.transform,
            src_crs=src.crs,
            src_nodata=0,
            dst_transform=transform,
            dst_crs=crs,
            dst_nodata=0,
            resampling=Resampling.bilinear,
        )
    profile.update(
        driver="GTiff", crs=crs, transform=transform, width=shape[1], height=shape[0], nodata=0
    )
    for key in ("blockxsize", "blockysize", "tiled", "compress", "interleave"):
        profile.pop(key, None)
    with rasterio.open(dst_path, "w", **profile) as dst:
        dst.write(out)


def to_lonlat(utm_path: Path, dst: Path, lat: float) -> None:
    with rasterio.open(utm_path) as src:
        left, bottom, right, top = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    d = degree_pixel(LON, lat, 0.5)
    w, h = math.ceil((right - left) / d), math.ceil((top - bottom) / d)
    warp(utm_path, dst, "EPSG:4326", from_origin(left, top, d, d), (h, w))


def to_utm(ll_path: Path, dst: Path, crs: str) -> None:
    with rasterio.open(ll_path) as src:
        left, bottom, right, top = transform_bounds(src.crs, crs, *src.bounds)
    x0, y0 = math.floor(left / 0.5) * 0.5, math.ceil(top / 0.5) * 0.5
    w, h = math.ceil((right - x0) / 0.5), math.ceil((y0 - bottom) / 0.5)
    warp(ll_path, dst, crs, from_origin(x0, y0, 0.5, 0.5), (h, w))


def score(
    truth: list[Detection], path: Path, utm: str, detector: object
) -> tuple[int, int, int, float, float, float]:
    """(detections, tp, fn, mean IoU in UTM, mean IoU of the image-CRS polygons, s)."""
    t0 = time.perf_counter()
    res = detect_file(path, detector=detector, out_crs=utm, workers=1)
    took = time.perf_counter() - t0
    m = match(truth, list(res.detections), 0.3)
    own = detect_file(path, detector=detector, workers=1)
    tr = Transformer.from_crs(own.crs, utm, always_xy=True)
    polys = []
    for d in own.detections:
        xs, ys = tr.transform(*d.box.corners().T)
        polys.append(Polygon(zip(xs, ys, strict=True)))
    tree = STRtree(polys)
    best = []
    for t in truth:
        tp_ = t.polygon
        ious = [
            tp_.intersection(polys[i]).area / tp_.union(polys[i]).area
            for i in tree.query(tp_, predicate="intersects")
        ]
        if ious and max(ious) >= 0.3:
            best.append(max(ious))
    iou = float(np.mean([p[2] for p in m.pairs])) if m.pairs else 0.0
    iou_own = float(np.mean(best)) if best else 0.0
    return len(res.detections), m.tp, m.fn, iou, iou_own, took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=6)
    ap.add_argument("--lats", default="42.4,78")
    ap.add_argument("--size", type=int, default=1024)
    args = ap.parse_args()
    det = get_detector("default")
    lats = [float(x) for x in args.lats.split(",")]
    rows: dict[str, list[tuple[int, int, int, int, float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.scenes):
            angle = 180.0 * k / max(1, args.scenes)
            for lat in lats:
                p = SceneParams(
                    seed=29_000 + k,
                    gsd=0.5,
                    size_px=(args.size, args.size),
                    center_lonlat=(LON, lat),
                    n_cars=40,
                    yard_angle=angle,
                    distractors=True,
                )
                sc = render_scene(p)
                truth = [Detection(box_from_polygon(t.polygon_crs)) for t in sc.truth]
                paths = write_scene(sc, tmp, f"s{k}_{lat:g}", preview=False)
                ll = Path(tmp) / f"s{k}_{lat:g}_ll.tif"
                back = Path(tmp) / f"s{k}_{lat:g}_back.tif"
                to_lonlat(paths.image, ll, lat)
                to_utm(ll, back, sc.crs)
                for name, path in (("utm", paths.image), ("lonlat", ll), ("lonlat→utm", back)):
                    n, tp, fn, iou, iou_own, took = score(truth, path, sc.crs, det)
                    rows.setdefault(f"{lat:g}|{name}", []).append(
                        (len(truth), n, tp, fn, iou, iou_own, took)
                    )
                    print(
                        f"scene {k} angle {angle:.0f} lat {lat:g} {name}: truth {len(truth)} "
                        f"found {n} tp {tp} iou {iou:.2f} iou(img crs) {iou_own:.2f} "
                        f"{took:.1f} s",
                        flush=True,
                    )
    print()
    print(
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.node()}, {args.scenes} scenes of "
        f"{args.size} px at 0.5 m, default detector"
    )
    print(
        "| latitude | file | truth | detections | F1 (IoU 0.3) | count error | IoU | IoU img | s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for key, rr in rows.items():
        lat, name = key.split("|")
        a = np.array(rr, float)
        truth, n, tp = a[:, 0].sum(), a[:, 1].sum(), a[:, 2].sum()
        f1 = 2 * tp / (truth + n) if truth + n else 0.0
        print(
            f"| {lat} | {name} | {truth:.0f} | {n:.0f} | {f1:.3f} | "
            f"{100 * (n - truth) / truth:+.1f} % | {a[:, 4].mean():.2f} | "
            f"{a[:, 5].mean():.2f} | {a[:, 6].sum():.1f} |"
        )


if __name__ == "__main__":
    main()
