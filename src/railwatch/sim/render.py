"""Rasterisation of a scene: ground, tracks, shadows, buildings, trees, cars.

Everything is drawn with OpenCV's anti-aliased polygon filling at sub-pixel
precision (``shift`` bits) on a canvas that is supersampled for coarse
resolutions and area-averaged down, so a 1 m car is a soft blob, never a block.

That filling paints about 0.65-0.7 canvas pixels beyond every edge (docs/simulator.md,
"Known bias"). A :class:`Painter` made with ``exact=True`` (``render_scene(...,
exact_paint=True)``) fills polygons, circles and ellipses at their exact coverage
instead: each canvas pixel takes the shape's colour in proportion to the share of its
``EXACT_SUB`` x ``EXACT_SUB`` sub-samples (at their centres) inside the shape, so edges
stay soft and the painted area equals the shape's area on average. Lines (roads,
rails, sleepers, masts, wires) are drawn as before either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
import shapely

from railwatch.sim.cars import Car
from railwatch.sim.conditions import fractal, grain, soft_threshold
from railwatch.sim.params import RGB, Paint, SceneParams, Style
from railwatch.sim.yard import CONTAINER_COLORS, Box, Yard, tree_height

SHIFT = 4
ONE = 1 << SHIFT
AA = cv2.LINE_AA
SNOW: RGB = (236, 239, 244)
#: Sub-samples per canvas pixel along each axis for exact painting ...
EXACT_SUB = 8
#: ... lowered (8, 4, 2, 1) for a shape so large that it would take more samples.
EXACT_SAMPLES = 4_000_000

Window = tuple[int, int, int, int]  # (row0, row1, col0, col1) of a canvas


def _window(pts: np.ndarray, shape: tuple[int, ...]) -> Window | None:
    """The canvas pixels a shape with these continuous pixel coordinates can touch."""
    h, w = shape[:2]
    x0 = max(int(np.floor(pts[:, 0].min())), 0)
    x1 = min(int(np.ceil(pts[:, 0].max())), w)
    y0 = max(int(np.floor(pts[:, 1].min())), 0)
    y1 = min(int(np.ceil(pts[:, 1].max())), h)
    if x1 <= x0 or y1 <= y0:
        return None
    return y0, y1, x0, x1


def _sub(win: Window) -> int:
    rows, cols = win[1] - win[0], win[3] - win[2]
    k = EXACT_SUB
    while k > 1 and rows * cols * k * k > EXACT_SAMPLES:
        k //= 2
    return k


def _pool(inside: np.ndarray, win: Window, k: int) -> np.ndarray:
    rows, cols = win[1] - win[0], win[3] - win[2]
    return inside.reshape(rows, k, cols, k).mean(axis=(1, 3), dtype=np.float32)


def polygon_coverage(
    polys_px: list[np.ndarray], shape: tuple[int, ...]
) -> tuple[Window, np.ndarray] | None:
    """Share of each canvas pixel (of a canvas of ``shape``) inside the union of the
    polygons (continuous pixel coordinates, (0, 0) the top-left corner of the canvas;
    each polygon even-odd, any orientation, convex or not): a window of the canvas
    and its float32 coverage in [0, 1], None where no pixel is touched.

    ``k`` x ``k`` sub-samples per pixel at their centres (``k`` = :data:`EXACT_SUB`,
    fewer for very large shapes), each inside when its centre is: the covered area is
    the polygon's area on average, unlike OpenCV's filling (anti-aliased or not),
    which paints past the outline."""
    polys = [np.asarray(q, dtype=np.float64).reshape(-1, 2) for q in polys_px]
    polys = [q for q in polys if len(q) >= 3]
    if not polys:
        return None
    win = _window(np.vstack(polys), shape)
    if win is None:
        return None
    y0, y1, x0, x1 = win
    k = _sub(win)
    n_rows, n_cols = (y1 - y0) * k, (x1 - x0) * k
    ys = y0 + (np.arange(n_rows) + 0.5) / k
    inside = np.zeros((n_rows, n_cols), dtype=bool)
    for q in polys:
        p0, p1 = q, np.roll(q, -1, axis=0)
        keep = p0[:, 1] != p1[:, 1]
        p0, p1 = p0[keep], p1[keep]
        if not len(p0):
            continue
        lo, hi = np.minimum(p0[:, 1], p1[:, 1]), np.maximum(p0[:, 1], p1[:, 1])
        hit = (ys[:, None] >= lo) & (ys[:, None] < hi)  # half-open: each vertex once
        r, e = np.nonzero(hit)
        if not len(r):
            continue
        t = (ys[r] - p0[e, 1]) / (p1[e, 1] - p0[e, 1])
        xc = p0[e, 0] + t * (p1[e, 0] - p0[e, 0])
        # the first sub-sample column whose centre lies at or right of the crossing
        col = np.clip(np.ceil(k * (xc - x0) - 0.5), 0, n_cols).astype(np.intp)
        flips = np.zeros((n_rows, n_cols + 1), dtype=np.uint8)
        np.add.at(flips, (r, col), 1)
        inside |= (np.cumsum(flips[:, :n_cols], axis=1, dtype=np.uint8) & 1).astype(bool)
    return win, _pool(inside, win, k)


def ellipse_coverage(
    center_px: np.ndarray,
    axis_px: np.ndarray,
    r_u: float,
    r_v: float,
    shape: tuple[int, ...],
) -> tuple[Window, np.ndarray] | None:
    """As :func:`polygon_coverage`, for an ellipse with semi-axes ``r_u`` along the unit
    vector ``axis_px`` and ``r_v`` across it (canvas pixels; a circle when equal)."""
    if r_u <= 0 or r_v <= 0:
        return None
    c = np.asarray(center_px, dtype=np.float64).reshape(2)
    r = max(r_u, r_v)
    win = _window(np.array([c - r, c + r]), shape)
    if win is None:
        return None
    y0, y1, x0, x1 = win
    k = _sub(win)
    xs = x0 + (np.arange((x1 - x0) * k) + 0.5) / k - c[0]
    ys = y0 + (np.arange((y1 - y0) * k) + 0.5) / k - c[1]
    ax, ay = float(axis_px[0]), float(axis_px[1])
    u = (xs[None, :] * ax + ys[:, None] * ay) / r_u
    v = (-xs[None, :] * ay + ys[:, None] * ax) / r_v
    return win, _pool(u * u + v * v <= 1.0, win, k)


def blend(img: np.ndarray, cover: tuple[Window, np.ndarray] | None, color: RGB) -> None:
    """Paint ``color`` over ``img`` in proportion to a coverage (from
    :func:`polygon_coverage` or :func:`ellipse_coverage`); a 1-channel ``img`` takes
    the colour's first value, as OpenCV's drawing does."""
    if cover is None:
        return
    (y0, y1, x0, x1), a = cover
    if not a.any():
        return
    region = img[y0:y1, x0:x1]
    if img.ndim == 2:
        col = np.asarray(color[0], dtype=np.float32)
        alpha = a
    else:
        col = np.asarray(color[: img.shape[2]], dtype=np.float32)
        alpha = a[..., None]
    out = region.astype(np.float32)
    out += (col - out) * alpha
    region[...] = np.clip(np.rint(out), 0, 255).astype(img.dtype)


def _u8(x: float) -> int:
    return 0 if x < 0 else (255 if x > 255 else round(x))


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear blend of two colours (t=0 → a, t=1 → b)."""
    t = 0.0 if t < 0 else (1.0 if t > 1 else float(t))
    return (
        _u8(a[0] + (b[0] - a[0]) * t),
        _u8(a[1] + (b[1] - a[1]) * t),
        _u8(a[2] + (b[2] - a[2]) * t),
    )


def scale(c: RGB, k: float) -> RGB:
    """A colour times a brightness factor, saturated."""
    return (_u8(c[0] * k), _u8(c[1] * k), _u8(c[2] * k))


@dataclass(frozen=True)
class Projection:
    """Local metres (x east, y north, origin at the scene centre) to canvas pixels."""

    width_m: float
    height_m: float
    gsd: float  # metres per canvas pixel
    dx: float = 0.0  # content shift (misregistration), metres
    dy: float = 0.0

    @cached_property
    def _coef(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        k = np.array([1.0 / self.gsd, -1.0 / self.gsd])
        b = np.array(
            [
                (self.dx + self.width_m / 2.0) / self.gsd,
                (self.height_m / 2.0 - self.dy) / self.gsd,
            ]
        )
        return k, b, k * ONE, (b - 0.5) * ONE

    def px(self, pts: np.ndarray) -> np.ndarray:
        """Continuous pixel coordinates (col, row); (0, 0) is the top-left corner."""
        k, b, _, _ = self._coef
        return np.asarray(pts, dtype=np.float64).reshape(-1, 2) * k + b

    def cv(self, pts: np.ndarray) -> np.ndarray:
        """Fixed-point int32 coordinates for OpenCV drawing (pixel centres at integers)."""
        _, _, kc, bc = self._coef
        return np.rint(np.asarray(pts, dtype=np.float64).reshape(-1, 2) * kc + bc).astype(np.int32)


@dataclass(frozen=True)
class Light:
    """Sun and view geometry in local metres."""

    to_sun: np.ndarray  # horizontal unit vector toward the sun (x, y)
    elevation: float  # radians
    lean: np.ndarray  # horizontal displacement of a point per metre of height

    def shadow(self, height: float) -> np.ndarray:
        return -self.to_sun * height / np.tan(self.elevation)

    def shade(self, normal: np.ndarray, tilt: float = 0.35) -> float:
        """Brightness factor of a roof face tilted ``tilt`` rad toward ``normal``."""
        up = np.sin(self.elevation)
        horiz = np.cos(self.elevation) * float(np.dot(normal, self.to_sun))
        lit = np.cos(tilt) * up + np.sin(tilt) * horiz
        flat = up
        return float(min(1.18, 0.55 + 0.45 * max(lit, 0.0) / max(flat, 0.2)))


def make_light(p: SceneParams) -> Light:
    az = np.deg2rad(p.sun_azimuth)
    to_sun = np.array([np.sin(az), np.cos(az)])
    vaz = np.deg2rad(p.view_azimuth)
    to_sat = np.array([np.sin(vaz), np.cos(vaz)])
    lean = -to_sat * np.tan(np.deg2rad(p.off_nadir))
    return Light(to_sun, float(np.deg2rad(p.sun_elevation)), lean)


class Painter:
    """Draws world-space shapes on a uint8 RGB canvas and a uint8 shadow layer.

    ``exact``: polygons, circles and ellipses at their exact coverage (the module's
    docstring) instead of OpenCV's anti-aliased filling, which paints past them."""

    def __init__(self, img: np.ndarray, proj: Projection, *, exact: bool = False) -> None:
        self.img = img
        self.proj = proj
        self.g = proj.gsd
        self.exact = exact

    def poly(self, pts: np.ndarray, color: RGB, img: np.ndarray | None = None) -> None:
        target = self.img if img is None else img
        if self.exact:
            blend(target, polygon_coverage([self.proj.px(pts)], target.shape), color)
            return
        cv2.fillPoly(target, [self.proj.cv(pts)], color, AA, SHIFT)

    def polys(self, pts: list[np.ndarray], color: RGB) -> None:
        if pts and self.exact:
            cover = polygon_coverage([self.proj.px(p) for p in pts], self.img.shape)
            blend(self.img, cover, color)
        elif pts:
            cv2.fillPoly(self.img, [self.proj.cv(p) for p in pts], color, AA, SHIFT)

    def ellipse(
        self, c: np.ndarray, along: np.ndarray, r_u_m: float, r_v_m: float, color: RGB
    ) -> None:
        """An ellipse (exact coverage) with semi-axes ``r_u_m`` along the world unit
        vector ``along`` and ``r_v_m`` across it; used where ``exact`` is set."""
        axis = np.array([along[0], -along[1]])  # rows grow southward
        cover = ellipse_coverage(
            self.proj.px(c)[0], axis, r_u_m / self.g, r_v_m / self.g, self.img.shape
        )
        blend(self.img, cover, color)

    def line(
        self,
        pts: np.ndarray,
        color: RGB,
        width_m: float,
        under: RGB | None = None,
        img: np.ndarray | None = None,
    ) -> None:
        """A polyline ``width_m`` wide; thinner than a pixel, its colour is blended
        with ``under`` by coverage (or drawn at value*coverage on a 1-channel layer)."""
        target = self.img if img is None else img
        w_px = width_m / self.g
        if w_px < 1.0:
            cover = float(w_px)
            color = mix(under, color, cover) if under is not None else (int(color[0] * cover), 0, 0)
            thick = 1
        else:
            thick = round(w_px)
        cv2.polylines(target, [self.proj.cv(pts)], False, color, thick, AA, SHIFT)

    def circle(self, c: np.ndarray, r_m: float, color: RGB, img: np.ndarray | None = None) -> None:
        target = self.img if img is None else img
        if self.exact:
            r_px = r_m / self.g
            cover = ellipse_coverage(
                self.proj.px(c)[0], np.array([1.0, 0.0]), r_px, r_px, target.shape
            )
            blend(target, cover, color)
            return
        p = self.proj.cv(c)[0]
        r = max(1, round(r_m / self.g * ONE))
        cv2.circle(target, (int(p[0]), int(p[1])), r, color, -1, AA, SHIFT)


def _rect(
    c: np.ndarray, a: np.ndarray, n: np.ndarray, u0: float, u1: float, v0: float, v1: float
) -> np.ndarray:
    """Corners of the rectangle u0..u1 along ``a`` and v0..v1 along ``n`` around ``c``."""
    uv = np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]])
    return uv @ np.array([a, n]) + c


def swept_hull(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The convex hull of two point sets (N x 2), e.g. a footprint and the same footprint
    shifted by a shadow or a lean: the area it sweeps on the way."""
    pts = np.vstack([a, b]).astype(np.float32)
    return cv2.convexHull(pts).reshape(-1, 2).astype(np.float64)


# ---------------------------------------------------------------------------------
# Ground


def ground(
    rng: np.random.Generator, shape: tuple[int, int], gsd: float, style: Style, p: SceneParams
) -> tuple[np.ndarray, np.ndarray]:
    """Base ground colour (uint8 RGB) and ground snow alpha (float32, canvas size)."""
    h, w = shape
    lo_h, lo_w = max(2, h // 4), max(2, w // 4)
    lo_gsd = gsd * h / lo_h
    veg_field = fractal(rng, (lo_h, lo_w), 120.0 / lo_gsd, octaves=4, persistence=0.6)
    soil_field = fractal(rng, (lo_h, lo_w), 200.0 / lo_gsd, octaves=3)
    bright = fractal(rng, (lo_h, lo_w), 60.0 / lo_gsd, octaves=3)
    veg_amount = (
        style.vegetation * {"spring": 0.9, "summer": 1.0, "autumn": 0.9, "winter": 0.8}[p.season]
    )
    veg = soft_threshold(veg_field, veg_amount, 0.6)
    grass = {
        "spring": mix(style.grass, style.grass_dormant, 0.35),
        "summer": style.grass,
        "autumn": mix(style.grass, style.grass_dormant, 0.75),
        "winter": style.grass_dormant,
    }[p.season]
    s0, s1, s2 = (np.array(c, np.float32) for c in style.soil)
    t = np.clip(soil_field * 0.5 + 0.5, 0, 1)[..., None]
    soil = np.where(t < 0.5, s0 + (s1 - s0) * (t * 2), s1 + (s2 - s1) * (t * 2 - 1))
    g = np.array(grass, np.float32)
    base = soil * (1 - veg[..., None]) + g * veg[..., None]
    _parcels(base, rng, lo_gsd, style, grass)
    base *= (1.0 + 0.1 * bright)[..., None]
    snow_lo: np.ndarray = np.zeros((lo_h, lo_w), np.float32)
    if p.snow > 0:
        sf = fractal(rng, (lo_h, lo_w), 80.0 / lo_gsd, octaves=4, persistence=0.6)
        snow_lo = soft_threshold(sf, min(1.0, p.snow * 1.05), 0.8) * (0.75 + 0.25 * p.snow)
        snow_lo = np.clip(snow_lo - 0.25 * veg * (1 - p.snow), 0, 1).astype(np.float32)
        base = base * (1 - snow_lo[..., None]) + np.array(SNOW, np.float32) * snow_lo[..., None]
    big = cv2.resize(cv2.convertScaleAbs(base), (w, h), interpolation=cv2.INTER_LINEAR)
    if p.snow > 0:
        snow = cv2.resize(snow_lo, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        snow = np.zeros((h, w), np.float32)
    return big, snow


def _parcels(
    base: np.ndarray, rng: np.random.Generator, gsd: float, style: Style, grass: RGB
) -> None:
    """Fields, lots and meadows: quadrilaterals of uniform tone on a common grid."""
    h, w = base.shape[:2]
    ang = rng.uniform(0, np.pi)
    a = np.array([np.cos(ang), np.sin(ang)])
    n = np.array([-a[1], a[0]])
    tones = [*style.soil, grass, style.grass_dormant, mix(grass, style.soil[0], 0.5)]
    area = h * w * gsd * gsd
    for _ in range(int(min(60, area / 25000.0))):
        c = rng.uniform(0, 1, 2) * np.array([w, h])
        lu, lv = rng.uniform(30, 160, 2) / gsd
        pts = np.array(
            [
                c + a * su * lu / 2 + n * sv * lv / 2
                for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1))
            ]
        )
        tone = tones[int(rng.integers(len(tones)))]
        k = float(rng.uniform(0.9, 1.08))
        col = (tone[0] * k, tone[1] * k, tone[2] * k)
        cv2.fillPoly(base, [np.round(pts).astype(np.int32)], col)


def draw_static_ground(
    pt: Painter, yard: Yard, style: Style, p: SceneParams, rng: np.random.Generator
) -> None:
    """Water, roads, pads, ballast, sleepers and rails (flat colours; texture comes later)."""
    snow = p.snow
    for poly in yard.water:
        pt.poly(poly, mix(style.water, (210, 220, 226), 0.8 * snow if p.season == "winter" else 0))
    for road in yard.roads:
        col = style.road if road.paved else mix(style.soil[0], style.concrete, 0.3)
        pt.line(road.line, mix(col, SNOW, 0.35 * snow), road.width)
        if road.paved and pt.g <= 0.6:
            pt.line(road.line, mix(col, (200, 200, 196), 0.25), 0.15, under=col)
    for pad in yard.pads:
        pt.poly(pad, mix(style.concrete, SNOW, 0.5 * snow))
    dirty = mix(style.ballast_dirty, SNOW, 0.7 * snow)
    for bed in yard.ballast:
        pt.poly(bed, dirty)
        if p.season != "winter" and style.vegetation > 0.2:
            _weeds(pt, bed, mix(dirty, style.grass, 0.45), rng)
    rail_dark: RGB = (40, 36, 34)
    for track in yard.tracks:
        jitter = rng.normal(0, 5)
        bal = scale(style.ballast, 1.0 + jitter / 100.0)
        wood = track.kind == "yard" and rng.random() < 0.7
        sleeper: RGB = (66, 54, 46) if wood else (146, 142, 136)
        band = mix(bal, sleeper, 0.7 if wood else 0.35)
        bal = scale(bal, 1.08)
        width = 5.2 if track.kind == "main" else 4.0
        pt.line(track.line, mix(bal, SNOW, 0.6 * snow), width)
        band_s = mix(band, SNOW, 0.45 * snow)
        pt.line(track.line, band_s, 2.7)
        # Rails: 1520 mm gauge; draw both rails with shadow as ~0.2 m dark lines.
        d = np.diff(track.line, axis=0)
        d = np.vstack([d, d[-1:]])
        nrm = np.stack([-d[:, 1], d[:, 0]], axis=1)
        nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-9)
        if pt.g <= 0.36:
            _sleepers(pt, track.line, scale(band_s, 0.8 if wood else 1.12))
        for side in (-0.79, 0.79):
            pt.line(track.line + nrm * side, rail_dark, 0.24, under=band_s)


def _weeds(pt: Painter, bed: np.ndarray, color: RGB, rng: np.random.Generator) -> None:
    """Patches of weeds on the ballast bed (older yards, not in winter)."""
    lo, hi = bed.min(axis=0), bed.max(axis=0)
    n = int(min(3000, (hi - lo).prod() / 400.0))
    pts = rng.uniform(lo, hi, (n, 2))
    inside = shapely.contains_xy(shapely.Polygon(bed), pts[:, 0], pts[:, 1])
    for x, y in pts[inside]:
        pt.circle(
            np.array([x, y]),
            float(rng.uniform(0.4, 1.6)),
            scale(color, float(rng.uniform(0.9, 1.1))),
        )


def _sleepers(pt: Painter, line: np.ndarray, color: RGB) -> None:
    """Sleepers every 0.55 m (seen only at fine resolution), drawn in one call."""
    seg = np.diff(line, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    s = np.concatenate([[0.0], np.cumsum(seg_len)])
    at = np.arange(0.3, s[-1], 0.55)
    if len(at) == 0:
        return
    x = np.interp(at, s, line[:, 0])
    y = np.interp(at, s, line[:, 1])
    k = np.clip(np.searchsorted(s, at) - 1, 0, len(seg) - 1)
    d = seg[k] / np.maximum(seg_len[k], 1e-9)[:, None]
    nrm = np.stack([-d[:, 1], d[:, 0]], axis=1) * 1.3
    c = np.stack([x, y], axis=1)
    a, b = pt.proj.cv(c - nrm), pt.proj.cv(c + nrm)
    lines = list(np.stack([a, b], axis=1))
    cv2.polylines(pt.img, lines, False, color, 1, AA, SHIFT)


def shift_pixels(img: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """``img`` moved by whole ``cols`` columns and ``rows`` rows, the edges mirrored in
    (``img`` itself when both are 0)."""
    if not (cols or rows):
        return img
    m = np.array([[1.0, 0.0, float(cols)], [0.0, 1.0, float(rows)]], dtype=np.float64)
    h, w = img.shape[:2]
    return cv2.warpAffine(
        img, m, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101
    )


def texture_and_shadows(
    img: np.ndarray,
    rng: np.random.Generator,
    gsd: float,
    style: Style,
    snow: np.ndarray,
    shadow: np.ndarray,
    strength: float,
    *,
    shift_px: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """Fine ground texture (gravel, grass tufts), low-frequency dirt and cast shadows
    (darker, slightly bluish) in one pass; uint8 RGB out. The texture is moved by
    ``shift_px`` (columns, rows) with the ground (a scene's misregistration; ``shadow``
    and ``snow`` are drawn in place already)."""
    h, w = img.shape[:2]
    amp = np.float32(style.texture * np.clip(0.5 / gsd, 0.35, 1.2) ** 0.5)
    tex = shift_pixels(grain(rng, (h, w)), *shift_px)
    tex *= amp
    if snow.any():
        tex *= 1.0 - 0.6 * snow
    dirt = shift_pixels(fractal(rng, (h, w), 25.0 / gsd, octaves=3), *shift_px)
    tufts = shift_pixels(fractal(rng, (h, w), max(4.0, 2.5 / gsd), octaves=2), *shift_px)
    mult = 1.0 + 0.08 * dirt + 0.14 * tufts
    s = shadow.astype(np.float32)
    s *= np.float32(strength / 255.0)
    mult *= 1.0 - s
    tex *= mult
    out8 = []
    for c, plane in enumerate(cv2.split(img)):
        f = plane.astype(np.float32)
        f *= mult
        f += tex
        if c == 2:
            f += s * np.float32(10.0)
        out8.append(cv2.convertScaleAbs(f))
    return cv2.merge(out8)


# ---------------------------------------------------------------------------------
# Objects


def draw_shadows(layer: np.ndarray, pt: Painter, yard: Yard, cars: list[Car], light: Light) -> None:
    """Cast shadows of boxes, trees, masts and cars on the 1-channel shadow layer."""
    tmp = Painter(layer, pt.proj, exact=pt.exact)
    for box in yard.boxes:
        fp = box.corners()
        tmp.poly(swept_hull(fp, fp + light.shadow(box.height)), (255, 0, 0))
    for x, y, r in yard.trees:
        c = np.array([x, y]) + light.shadow(tree_height(r)) * 0.8
        tmp.circle(c, r * 0.95, (230, 0, 0))
    for x, y, hgt in yard.masts:
        base = np.array([[x, y]])
        tip = base + light.shadow(hgt)
        tmp.line(
            np.vstack([base, tip]),
            (255, 0, 0) if hgt < 15 else (180, 0, 0),
            0.45 if hgt < 15 else 0.6,
        )
    for x0, y0, x1, y1, hgt in yard.portals:
        seg = np.array([[x0, y0], [x1, y1]]) + light.shadow(hgt)
        tmp.line(seg, (200, 0, 0), 0.5)
    for car in cars:
        fp = car.corners()
        h = car.height + (1.2 if car.cls == "flat" and car.load in ("tarp", "timber") else 0.0)
        tmp.poly(swept_hull(fp, fp + light.shadow(h - 0.35)), (255, 0, 0))


def shade_lower_neighbours(pt: Painter, cars: list[Car], light: Light, strength: float) -> None:
    """Shadows that tall cars cast on the tops of lower neighbouring cars (a tank car
    beside a flat, a boxcar beside a gondola), drawn after every car."""
    if len(cars) < 2:
        return
    xy = np.array([[c.cx, c.cy] for c in cars])
    heights = np.array([c.height for c in cars])
    reach = float(np.hypot(*light.shadow(5.0))) + 20.0
    h_img, w_img = pt.img.shape[:2]
    for i, j in zip(
        *np.nonzero(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) < reach),
        strict=True,
    ):
        drop = heights[i] - heights[j]
        if i == j or drop < 0.4:
            continue
        top_i = cars[i].corners() + light.lean * heights[i]
        top_j = shapely.Polygon(cars[j].corners() + light.lean * heights[j])
        cast = shapely.Polygon(swept_hull(top_i, top_i + light.shadow(drop)))
        hit = cast.intersection(top_j)
        if hit.is_empty or hit.area < 0.05 or not isinstance(hit, shapely.Polygon):
            continue
        pts = pt.proj.px(np.asarray(hit.exterior.coords))
        x0, y0 = np.floor(pts.min(axis=0)).astype(int) - 1
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w_img), min(y1, h_img)
        if x1 <= x0 or y1 <= y0:
            continue
        if pt.exact:
            cover = polygon_coverage([pts], pt.img.shape)
            if cover is not None:
                (r0, r1, c0, c1), a = cover
                dim = 1.0 - a[..., None] * np.float32(strength * 0.9)
                part = pt.img[r0:r1, c0:c1]
                part[...] = np.clip(part * dim, 0, 255).astype(np.uint8)
            continue
        local = np.zeros((y1 - y0, x1 - x0), np.uint8)
        shifted = Projection(
            pt.proj.width_m,
            pt.proj.height_m,
            pt.proj.gsd,
            pt.proj.dx - x0 * pt.g,
            pt.proj.dy + y0 * pt.g,
        )
        cv2.fillPoly(local, [shifted.cv(np.asarray(hit.exterior.coords))], 255, AA, SHIFT)
        k = 1.0 - local.astype(np.float32)[..., None] * np.float32(strength * 0.9 / 255.0)
        region = pt.img[y0:y1, x0:x1]
        region[...] = np.clip(region * k, 0, 255).astype(np.uint8)


def draw_boxes(
    pt: Painter, boxes: tuple[Box, ...], light: Light, p: SceneParams, rng: np.random.Generator
) -> None:
    """Buildings, container stacks and trucks (with lean and two-tone roofs)."""
    roof_snow = 0.85 * p.snow if p.snow > 0.25 else 0.0
    for box in boxes:
        fp = box.corners()
        lean = light.lean * box.height
        if np.hypot(*lean) * 1.0 > 0.05:
            pt.poly(swept_hull(fp, fp + lean), scale(box.color, 0.62))
        c = np.array([box.cx, box.cy]) + lean
        a = np.array([np.cos(box.angle), np.sin(box.angle)])
        n = np.array([-a[1], a[0]])
        half_l, half_w = box.length / 2, box.width / 2
        if box.kind in ("shed", "house"):
            col = mix(box.color, SNOW, roof_snow)
            k1, k2 = (
                light.shade(n, 0.25 if box.kind == "shed" else 0.5),
                light.shade(-n, 0.25 if box.kind == "shed" else 0.5),
            )
            pt.poly(_rect(c, a, n, -half_l, half_l, 0, half_w), scale(col, k1))
            pt.poly(_rect(c, a, n, -half_l, half_l, -half_w, 0), scale(col, k2))
            if box.kind == "shed" and pt.g < 0.8:
                for u in np.arange(-half_l + 6, half_l - 3, 12.0):
                    pt.poly(
                        _rect(c, a, n, u, u + 1.5, -half_w * 0.6, half_w * 0.6), scale(col, 1.12)
                    )
        elif box.kind == "container":
            col = mix(box.color, SNOW, roof_snow)
            pt.poly(_rect(c, a, n, -half_l, half_l, -half_w, half_w), scale(col, 0.8))
            pt.poly(
                _rect(c, a, n, -half_l + 0.08, half_l - 0.08, -half_w + 0.08, half_w - 0.08), col
            )
        elif box.kind == "vehicle":
            col = mix(box.color, SNOW, roof_snow * 0.5)
            pt.poly(_rect(c, a, n, -half_l, half_l, -half_w, half_w), col)
            pt.poly(_rect(c, a, n, -1.1, 1.0, -half_w + 0.15, half_w - 0.15), scale(col, 0.45))
            pt.poly(_rect(c, a, n, -0.7, 0.6, -half_w + 0.2, half_w - 0.2), scale(col, 1.05))
        else:  # truck: cab + trailer
            cab_l = 2.4
            pt.poly(
                _rect(c, a, n, half_l - cab_l, half_l, -1.2, 1.2),
                (190, 190, 186) if rng.random() < 0.5 else (150, 40, 36),
            )
            trailer = mix(box.color, SNOW, roof_snow * 0.5)
            pt.poly(_rect(c, a, n, -half_l, half_l - cab_l - 0.5, -half_w, half_w), trailer)


def draw_trees_masts(
    pt: Painter, yard: Yard, style: Style, light: Light, p: SceneParams, rng: np.random.Generator
) -> None:
    winter = p.season == "winter"
    base = style.tree if not winter else (82, 76, 66)
    for x, y, r in yard.trees:
        top = np.array([x, y]) + light.lean * tree_height(r)
        col = scale(base, float(rng.uniform(0.8, 1.15)))
        pt.circle(top, r * 0.9, scale(col, 0.85))
        if r * 0.4 > pt.g:  # irregular crown: a few lit lobes toward the sun
            for _ in range(3):
                off = rng.normal(0, 0.3, 2) * r + light.to_sun * r * 0.25
                pt.circle(top + off, r * float(rng.uniform(0.35, 0.55)), scale(col, 1.12))
        else:
            pt.circle(top + light.to_sun * r * 0.3, r * 0.55, scale(col, 1.15))
    for x0, y0, x1, y1, hgt in yard.portals:  # girders and the wires below them
        seg = np.array([[x0, y0], [x1, y1]]) + light.lean * hgt
        pt.line(seg, (96, 96, 98), 0.45, under=(110, 106, 100))
    for x, y, hgt in yard.masts:
        foot = np.array([[x, y]])
        tip = foot + light.lean * hgt
        pt.line(np.vstack([foot, tip + 1e-3]), (70, 70, 72), 0.4)
        pt.circle(tip[0], 0.35, (90, 90, 92))


def draw_car(pt: Painter, car: Car, light: Light, p: SceneParams, paint: Paint) -> None:
    """One railcar: side faces (lean), roof or open top with load, details."""
    rng = np.random.default_rng(car.detail_seed)
    a = np.array([np.cos(car.angle), np.sin(car.angle)])
    n = np.array([-a[1], a[0]])
    lean = light.lean * car.height
    fp = car.corners()
    c = np.array([car.cx, car.cy]) + lean
    hl, hw = car.length / 2, car.width / 2
    body = car.paint
    snow_roof = p.snow > 0.25 and rng.random() < 0.8
    sn = 0.85 * p.snow if snow_roof else 0.0
    if np.hypot(*lean) > 0.05:
        pt.poly(swept_hull(fp, fp + lean), scale(body, 0.55))
    # The body outline (underframe ends, side sills) in dark paint.
    pt.poly(_rect(c, a, n, -hl, hl, -hw, hw), scale(body, 0.82))
    cls = car.cls
    if cls == "boxcar":
        roof = mix(body, (74, 72, 72), 0.55)
        roof = mix(roof, SNOW, sn)
        pt.poly(
            _rect(c, a, n, -hl + 0.15, hl - 0.15, 0, hw - 0.1), scale(roof, light.shade(n, 0.2))
        )
        pt.poly(
            _rect(c, a, n, -hl + 0.15, hl - 0.15, -hw + 0.1, 0), scale(roof, light.shade(-n, 0.2))
        )
        if pt.g < 0.4:
            for u in np.arange(-hl + 1.0, hl - 0.5, 1.35):
                pt.poly(_rect(c, a, n, u, u + 0.12, -hw + 0.15, hw - 0.15), scale(roof, 1.15))
    elif cls == "tank":
        frame: RGB = (46, 44, 42)
        pt.poly(_rect(c, a, n, -hl, hl, -hw * 0.92, hw * 0.92), frame)
        r = 1.5
        bl = hl - 0.6
        col = mix(body, SNOW, sn * 0.6)
        m = 9
        for i in range(m):
            v0, v1 = -r + 2 * r * i / m, -r + 2 * r * (i + 1) / m
            phi = math.asin(max(-1.0, min(1.0, (v0 + v1) / 2 / r)))
            nz = np.cos(phi)
            nh = np.sin(phi)
            dot = np.sin(light.elevation) * nz + np.cos(light.elevation) * nh * float(
                np.dot(n, light.to_sun)
            )
            spec_phi = np.arctan2(
                np.cos(light.elevation) * float(np.dot(n, light.to_sun)),
                1 + np.sin(light.elevation),
            )
            spec = 0.5 * np.exp(-(((phi - spec_phi) / 0.22) ** 2))
            k = 0.42 + 0.7 * max(dot, 0.0)
            shade = scale(col, k)
            shade = mix(shade, (250, 250, 246), spec)
            inset = (1 - math.cos(math.asin(min(1.0, max(abs(v0), abs(v1)) / r)))) * 0.5
            pt.poly(_rect(c, a, n, -bl + inset, bl - inset, v0, v1), shade)
        pt.circle(c + a * 0.0, 0.45, scale(col, 0.8))
        pt.circle(c + light.to_sun * 0.1, 0.3, scale(col, 1.2))
    elif cls == "hopper" and car.load == "roof":
        # a covered hopper (grain, cement): sloped end bays, a ridged roof, its hatches
        roof = mix(body, SNOW, sn)
        pt.poly(_rect(c, a, n, -hl, -hl + 1.3, -hw, hw), scale(roof, 0.78))
        pt.poly(_rect(c, a, n, hl - 1.3, hl, -hw, hw), scale(roof, 0.78))
        pt.poly(
            _rect(c, a, n, -hl + 1.3, hl - 1.3, 0, hw - 0.05), scale(roof, light.shade(n, 0.25))
        )
        pt.poly(
            _rect(c, a, n, -hl + 1.3, hl - 1.3, -hw + 0.05, 0), scale(roof, light.shade(-n, 0.25))
        )
        hatch = mix(car.accent, SNOW, sn * 0.5)
        if rng.random() < 0.5:  # a row of round loading hatches along the ridge
            for u in np.linspace(-hl + 2.3, hl - 2.3, int(rng.integers(4, 9))):
                pt.circle(c + a * u, 0.35, hatch)
        else:  # one long trough hatch
            pt.poly(_rect(c, a, n, -hl + 1.8, hl - 1.8, -0.3, 0.3), hatch)
    elif cls in ("gondola", "hopper"):
        rim = scale(body, 1.05)
        pt.poly(_rect(c, a, n, -hl + 0.2, hl - 0.2, -hw, hw), rim)
        iu, iv = hl - 0.45, hw - 0.2
        if cls == "hopper":
            iu = hl - 0.9
            pt.poly(_rect(c, a, n, -hl, -hl + 0.7, -hw * 0.9, hw * 0.9), (52, 50, 48))
            pt.poly(_rect(c, a, n, hl - 0.7, hl, -hw * 0.9, hw * 0.9), (52, 50, 48))
        _open_top(pt, c, a, n, iu, iv, car, light, sn, rng)
    elif cls == "flat":
        deck = (104, 90, 76) if rng.random() < 0.6 else (86, 84, 82)
        pt.poly(_rect(c, a, n, -hl, hl, -hw, hw), scale(body, 0.8))
        pt.poly(_rect(c, a, n, -hl + 0.25, hl - 0.25, -hw + 0.15, hw - 0.15), mix(deck, SNOW, sn))
        if car.load == "tarp":
            ll = hl * float(rng.uniform(0.6, 0.95))
            _tarp(pt, c, a, n, ll, hw - 0.2, car.accent, light, sn, rng, lumps=True)
        elif car.load == "timber":
            ll = hl - 0.5
            wood = mix(car.accent, SNOW, sn)
            pt.poly(_rect(c, a, n, -ll, ll, -hw + 0.2, hw - 0.2), wood)
            for v in np.linspace(-hw + 0.5, hw - 0.5, 4):
                pt.poly(_rect(c, a, n, -ll, ll, v - 0.05, v + 0.05), scale(wood, 0.8))
    elif cls == "container":
        pt.poly(_rect(c, a, n, -hl, hl, -hw, hw), (60, 58, 56))
        layout = rng.choice([0, 1, 2])
        boxes = (
            [(-6.1, 6.1)]
            if layout == 0
            else ([(-6.4, -0.3), (0.3, 6.4)] if layout == 1 else [(-3.03, 3.03)])
        )
        for u0, u1 in boxes:
            col = CONTAINER_COLORS[int(rng.integers(len(CONTAINER_COLORS)))]
            col = mix(col, SNOW, sn)
            pt.poly(_rect(c, a, n, u0, u1, -1.22, 1.22), scale(col, 0.8))
            pt.poly(_rect(c, a, n, u0 + 0.06, u1 - 0.06, -1.16, 1.16), col)
    elif cls == "locomotive":
        pt.poly(_rect(c, a, n, -hl, hl, -hw, hw), body)
        roof = mix((72, 74, 76), SNOW, sn * 0.4)
        pt.poly(_rect(c, a, n, -hl + 2.6, hl - 2.6, -hw + 0.35, hw - 0.35), roof)
        for u in np.linspace(-hl + 4.0, hl - 4.0, 4):
            pt.circle(c + a * u, 0.6, (40, 40, 42))
        pt.poly(_rect(c, a, n, -hl, -hl + 2.5, -hw + 0.2, hw - 0.2), scale(body, 1.15))
        pt.poly(_rect(c, a, n, hl - 2.5, hl, -hw + 0.2, hw - 0.2), scale(body, 1.15))
    if car.rust > 0 and cls in ("boxcar", "gondola", "hopper") and pt.g < 0.8:
        rust_col = (124, 74, 50)
        for _ in range(int(car.rust * 3)):
            u = float(rng.uniform(-hl + 1, hl - 2))
            v = float(rng.uniform(-hw + 0.1, hw - 0.8))
            du, dv = float(rng.uniform(0.4, 2.0)), float(rng.uniform(0.2, 0.7))
            pt.poly(_rect(c, a, n, u, u + du, v, v + dv), mix(body, rust_col, 0.3))


def _open_top(
    pt: Painter,
    c: np.ndarray,
    a: np.ndarray,
    n: np.ndarray,
    iu: float,
    iv: float,
    car: Car,
    light: Light,
    sn: float,
    rng: np.random.Generator,
) -> None:
    """Inside of a gondola/hopper: empty floor with wall shadow, a load heap, or a tarp."""
    if car.load == "tarp":
        _tarp(pt, c, a, n, iu + 0.25, iv + 0.12, car.accent, light, sn, rng, lumps=False)
        return
    if car.load == "empty":
        floor = mix(scale(car.paint, 0.55), SNOW, sn * 0.8)
        pt.poly(_rect(c, a, n, -iu, iu, -iv, iv), floor)
        # Shadow of the sun-side wall on the floor.
        side = 1.0 if float(np.dot(n, light.to_sun)) > 0 else -1.0
        along = abs(float(np.dot(n, light.to_sun)))
        sw = min(2 * iv, 2.0 / np.tan(light.elevation) * along + 0.3)
        v_edge = side * iv
        pt.poly(_rect(c, a, n, -iu, iu, v_edge - side * sw, v_edge), scale(floor, 0.55))
        return
    load = mix(car.accent, SNOW, sn * 0.7)
    pt.poly(_rect(c, a, n, -iu, iu, -iv, iv), scale(load, 0.9))
    k = int(rng.integers(1, 4))
    for i in range(k):
        u = -iu + (2 * iu) * (i + 0.5) / k
        r_u = iu / k * 0.9
        r_v = iv * 0.8
        if pt.exact:
            pt.ellipse(c + a * u, a, r_u, r_v, load)
            hi_c = c + a * u + light.to_sun * r_v * 0.3
            pt.ellipse(hi_c, a, r_u * 0.6, r_v * 0.5, scale(load, 1.1))
            continue
        ctr = pt.proj.cv(c + a * u)[0]
        axes = (max(1, int(r_u / pt.g * ONE)), max(1, int(r_v / pt.g * ONE)))
        ang = -np.rad2deg(np.arctan2(a[1], a[0]))
        cv2.ellipse(pt.img, (int(ctr[0]), int(ctr[1])), axes, ang, 0, 360, load, -1, AA, SHIFT)
        hi = pt.proj.cv(c + a * u + light.to_sun * r_v * 0.3)[0]
        axes2 = (max(1, int(axes[0] * 0.6)), max(1, int(axes[1] * 0.5)))
        cv2.ellipse(
            pt.img, (int(hi[0]), int(hi[1])), axes2, ang, 0, 360, scale(load, 1.1), -1, AA, SHIFT
        )


def _tarp(
    pt: Painter,
    c: np.ndarray,
    a: np.ndarray,
    n: np.ndarray,
    hl: float,
    hw: float,
    color: RGB,
    light: Light,
    sn: float,
    rng: np.random.Generator,
    *,
    lumps: bool,
) -> None:
    """A tarpaulin: ridge along the car (lit and shaded halves), folds, ropes."""
    col = mix(color, SNOW, sn * 0.6)
    tilt = 0.5 if lumps else 0.3
    k1, k2 = light.shade(n, tilt), light.shade(-n, tilt)
    pt.poly(_rect(c, a, n, -hl, hl, 0, hw), scale(col, k1))
    pt.poly(_rect(c, a, n, -hl, hl, -hw, 0), scale(col, k2))
    for _ in range(int(rng.integers(2, 6))):
        u = float(rng.uniform(-hl + 0.5, hl - 1.0))
        du = float(rng.uniform(0.3, 1.0))
        pt.poly(_rect(c, a, n, u, u + du, -hw, hw), scale(col, float(rng.uniform(0.82, 1.12))))
    if pt.g < 0.45:
        for u in np.linspace(-hl + 1.0, hl - 1.0, int(2 * hl / 2.5)):
            pt.poly(_rect(c, a, n, u, u + 0.06, -hw, hw), scale(col, 0.7))
