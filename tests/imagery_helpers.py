"""Tiny synthetic GeoTIFFs and scenes for the imagery tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.enums import Resampling
from shapely.geometry import Polygon, box

if TYPE_CHECKING:
    from railwatch.sim import RenderedScene, SceneParams

UTM52 = "EPSG:32652"
# Near Tumangang station (42.4214 N, 130.6081 E), in UTM zone 52 N.
_TO_UTM = Transformer.from_crs("EPSG:4326", UTM52, always_xy=True)
_TO_WGS = Transformer.from_crs(UTM52, "EPSG:4326", always_xy=True)
ORIGIN_X, ORIGIN_Y = (round(v) for v in _TO_UTM.transform(130.6081, 42.4214))


def north_up(x: float, y: float, res: float) -> Affine:
    """The geotransform of a north-up grid whose top-left corner is (x, y)."""
    return Affine(res, 0.0, x, 0.0, -res, y)


def write_geotiff(
    path: Path,
    data: np.ndarray,
    *,
    crs: str | None = UTM52,
    res: float = 0.5,
    origin: tuple[float, float] | None = None,
    transform: Any = None,
    nodata: float | None = None,
    alpha: bool = False,
    tags: dict[str, str] | None = None,
    tag_domains: dict[str, dict[str, str]] | None = None,
    overviews: tuple[int, ...] = (),
    tiled: bool = False,
    photometric: str | None = None,
) -> Path:
    """Write (B, H, W) or (H, W) ``data`` as a GeoTIFF; returns ``path``."""
    arr = data[np.newaxis] if data.ndim == 2 else data
    count, height, width = arr.shape
    if transform is None:
        ox, oy = origin if origin is not None else (ORIGIN_X, ORIGIN_Y)
        transform = north_up(ox, oy, res)
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": arr.dtype.name,
        "crs": crs,
        "transform": transform,
    }
    if nodata is not None:
        profile["nodata"] = nodata
    if tiled:
        profile.update(tiled=True, blockxsize=256, blockysize=256, compress="deflate")
    if alpha:
        profile.update(photometric="RGB", alpha="YES")
    elif photometric:
        profile["photometric"] = photometric
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr)
        if tags:
            dst.update_tags(**tags)
        for ns, items in (tag_domains or {}).items():
            dst.update_tags(ns=ns, **items)
        if overviews:
            dst.build_overviews(list(overviews), Resampling.average)
    return path


def utm_box_wgs84(minx: float, miny: float, maxx: float, maxy: float) -> Polygon:
    """A UTM 52N rectangle as a WGS84 polygon (densified)."""
    poly = box(minx, miny, maxx, maxy).segmentize(max(maxx - minx, maxy - miny) / 20)
    out = shapely.transform(poly, lambda xy: np.column_stack(_TO_WGS.transform(xy[:, 0], xy[:, 1])))
    assert isinstance(out, Polygon)
    return out


def image_box_wgs84(
    col0: float, row0: float, col1: float, row1: float, res: float = 0.5
) -> Polygon:
    """The WGS84 polygon of a pixel rectangle of an image written with the defaults."""
    return utm_box_wgs84(
        ORIGIN_X + col0 * res, ORIGIN_Y - row1 * res, ORIGIN_X + col1 * res, ORIGIN_Y - row0 * res
    )


def yard_scene(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A clear, summer-like rail yard: green-brown ground, grey ballast strips with
    dark rails, coloured cars with gaps, some buildings and shadows. (3, H, W) uint8."""
    rng = np.random.default_rng(seed)
    img = np.empty((3, height, width), dtype=np.float32)
    img[0], img[1], img[2] = 95.0, 110.0, 70.0
    img += rng.normal(0, 9, size=(1, height, width)).astype(np.float32)
    for top in range(10, height - 12, 14):
        img[:, top : top + 8, :] = np.array([125, 120, 112], np.float32)[:, None, None]
        img[:, top : top + 8, :] += rng.normal(0, 12, size=(3, 8, width)).astype(np.float32)
        img[:, top + 2, :] = 45.0
        img[:, top + 5, :] = 45.0
        col = int(rng.integers(0, 20))
        while col < width - 30:
            length = 28
            colour = rng.choice(
                np.array([[150, 60, 40], [60, 70, 80], [170, 170, 165], [40, 90, 60]]), axis=0
            )
            img[:, top + 1 : top + 7, col : col + length] = np.asarray(colour, np.float32)[
                :, None, None
            ]
            img[:, top + 7 : top + 9, col : col + length] = 25.0  # shadow
            col += length + int(rng.integers(2, 30))
    for _ in range(max(1, height * width // 40000)):
        r, c = int(rng.integers(0, height - 30)), int(rng.integers(0, width - 40))
        img[:, r : r + 24, c : c + 36] = 140.0
        img[:, r + 24 : r + 30, c : c + 36] = 30.0
    return np.clip(img, 0, 255).astype(np.uint8)


def add_cloud(img: np.ndarray, fraction_cols: float, *, puffy: float = 0.0) -> np.ndarray:
    """Cover the left ``fraction_cols`` of the image with a soft-edged white cloud;
    ``puffy`` > 0 adds a lumpy texture of that amplitude (grey levels)."""
    out = img.astype(np.float32).copy()
    _, h, w = out.shape
    edge = int(w * fraction_cols)
    cols = np.arange(w, dtype=np.float32)
    alpha = np.clip((edge - cols) / 6.0 + 0.5, 0.0, 1.0)  # soft edge, ~6 px wide
    rng = np.random.default_rng(1)
    cloud = 240.0 + rng.normal(0, 2, size=(h, w)).astype(np.float32)
    if puffy:
        lumps = rng.normal(0, 1, size=(h // 16 + 2, w // 16 + 2)).astype(np.float32)
        lumps = np.kron(lumps, np.ones((16, 16), np.float32))[:h, :w]
        k = np.ones(9, np.float32) / 9  # soften the blocks
        lumps = np.apply_along_axis(lambda v: np.convolve(v, k, "same"), 0, lumps)
        lumps = np.apply_along_axis(lambda v: np.convolve(v, k, "same"), 1, lumps)
        cloud += puffy * lumps / max(float(lumps.std()), 1e-6) - puffy
    out = out * (1 - alpha) + cloud[np.newaxis] * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


def scene_site_and_tracks(scene: Any, inner: float = 0.15) -> tuple[Polygon, Any]:
    """A rendered scene's site (the image less ``inner`` of its side on every edge) and
    its track centrelines, both in WGS84 lon/lat."""
    from shapely.geometry import LineString, MultiLineString

    to_wgs84 = Transformer.from_crs(scene.crs, "EPSG:4326", always_xy=True)
    h, w = scene.image.shape[:2]
    x0, y0 = scene.transform @ (0, 0)
    x1, y1 = scene.transform @ (w, h)
    dx, dy = x1 - x0, y0 - y1
    site = box(x0 + inner * dx, y1 + inner * dy, x0 + (1 - inner) * dx, y1 + (1 - inner) * dy)
    site = shapely.transform(
        site, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1]))
    )
    tracks = MultiLineString(
        [LineString([to_wgs84.transform(*xy) for xy in t.coords]) for t in scene.tracks]
    )
    return site, tracks


@cache
def rendered_scene(params: SceneParams) -> RenderedScene:
    """``railwatch.sim.render_scene(params)``, rendered once per test process (the same
    parameters give the same pixels) for the tests that render the same images again for
    each test (coarse_site's five and their centrelines, test_pipeline's yard; session 49).
    Read only: its arrays refuse writes; its callers write it (``write_scene``) or read
    its tracks."""
    from railwatch.sim import render_scene

    scene = render_scene(params)
    for array in (scene.image, scene.mask, scene.labels, scene.valid, *scene.layers.values()):
        array.flags.writeable = False
    return scene
