"""``render_scene``: from :class:`SceneParams` to pixels, georeferencing and truth."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np
from affine import Affine
from pyproj import Transformer
from shapely.geometry import LineString, Polygon

from railwatch.sim import conditions as cond
from railwatch.sim.cars import Car, class_counts, place_cars
from railwatch.sim.params import PAINTS, STYLES, SceneParams
from railwatch.sim.render import (
    Light,
    Painter,
    Projection,
    draw_boxes,
    draw_car,
    draw_shadows,
    draw_static_ground,
    draw_trees_masts,
    ground,
    make_light,
    shade_lower_neighbours,
    shift_pixels,
    swept_hull,
    texture_and_shadows,
)
from railwatch.sim.yard import Yard, make_yard

#: Stream numbers for independent random generators (changing one layer, e.g. the
#: number of cars, leaves every other layer's pixels unchanged). ``GROUND_STREAM`` is
#: public: :mod:`railwatch.sim.scenario` draws the same ground for its snow cover.
_YARD, _CARS, GROUND_STREAM, _TEXTURE, _STATIC, _ATMOS, _SENSOR, _COVER, _OBJECTS, _CLOUDTEX = (
    range(1, 11)
)


@dataclass(frozen=True)
class TruthCar:
    """One railcar body as drawn: its roof outline in pixels and in the scene CRS."""

    id: int  # value of its pixels in :attr:`RenderedScene.labels`
    cls: str
    covered: bool
    polygon_px: Polygon  # (col, row), (0, 0) = top-left corner of the image
    polygon_crs: Polygon
    length_m: float
    width_m: float
    angle_deg: float  # long axis, counter-clockwise from east (CRS x axis)
    load: str
    valid_fraction: float  # share of its pixels with image data
    clear_fraction: float  # share of its pixels that are clear or snow in the mask


@dataclass(frozen=True, eq=False)
class RenderedScene:
    """A rendered scene: RGB pixels, georeferencing, quality mask and truth."""

    params: SceneParams
    image: np.ndarray  # (H, W, 3) uint8 RGB; 0 where no data
    transform: Affine
    crs: str
    truth: tuple[TruthCar, ...]
    mask: np.ndarray  # (H, W) uint8 quality codes (conditions.MASK_*)
    labels: np.ndarray  # (H, W) int32: car id whose body covers the pixel centre, 0 none
    tracks: tuple[LineString, ...]  # track centrelines in the CRS
    valid: np.ndarray  # (H, W) bool: pixel has data
    layers: dict[str, np.ndarray] = field(default_factory=dict)  # cloud_alpha, haze, ...

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def gsd(self) -> float:
        return float(self.params.gsd)

    def __repr__(self) -> str:
        """One line a notebook can read: what was rendered and where; the pixels, masks
        and each car are members (the dataclass's repr, every array and car with its
        polygons, ran to 8,000 characters for 10 cars; session 46)."""
        p = self.params
        return (
            f"RenderedScene(seed={p.seed}, gsd={p.gsd:g}, size_px=({self.width}, "
            f"{self.height}), crs={self.crs!r}, date={p.date!r}, cars={len(self.truth)}, "
            f"truth_counts={self.truth_counts()!r})"
        )

    def truth_counts(self) -> dict[str, int]:
        """Number of cars by class (all cars drawn, visible or not)."""
        out: dict[str, int] = {}
        for t in self.truth:
            out[t.cls] = out.get(t.cls, 0) + 1
        return out

    @property
    def cloud_fraction(self) -> float:
        return float(np.mean(self.mask == cond.MASK_CLOUD))


def utm_epsg(lon: float, lat: float) -> str:
    """EPSG code of the UTM zone containing (lon, lat), e.g. ``EPSG:32652``."""
    zone = math.floor((lon + 180.0) / 6.0) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


@lru_cache(maxsize=16)
def _to_crs(crs: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def scene_grid(p: SceneParams) -> tuple[str, Affine]:
    """CRS and pixel-aligned geotransform of the scene."""
    lon, lat = p.center_lonlat
    crs = utm_epsg(lon, lat)
    e, n = _to_crs(crs).transform(lon, lat)
    w, h = p.size_px
    x0 = round((e - w * p.gsd / 2.0) / p.gsd) * p.gsd
    y0 = round((n + h * p.gsd / 2.0) / p.gsd) * p.gsd
    return crs, Affine(p.gsd, 0.0, x0, 0.0, -p.gsd, y0)


def supersampling(p: SceneParams) -> int:
    """Internal supersampling factor: coarse scenes are drawn finer and averaged down."""
    w, h = p.size_px
    ss = 1 if p.gsd <= 0.55 else min(4, math.ceil(p.gsd / 0.5))
    while ss > 1 and w * h * ss * ss > 6.5e6:
        ss -= 1
    return ss


def scene_yard(p: SceneParams) -> Yard:
    """The static yard of a scene (a function of ``layout_seed``, extent and style)."""
    w, h = p.size_px
    layout = p.layout_seed if p.layout_seed is not None else p.seed
    return make_yard(
        np.random.default_rng([layout, _YARD]),
        (w * p.gsd, h * p.gsd),
        STYLES[p.style],
        n_tracks=p.n_tracks,
        angle_deg=p.yard_angle,
        length_m=p.yard_length_m,
        distractors=p.distractors,
    )


def scene_cars(p: SceneParams, yard: Yard) -> list[Car]:
    w, h = p.size_px
    rng = np.random.default_rng([p.seed, _CARS])
    counts = class_counts(rng, p.n_cars, p.class_counts())
    return place_cars(
        rng,
        yard,
        counts,
        covered_fraction=p.covered_fraction,
        roofed_hoppers=p.roofed_hoppers,
        paint=PAINTS[p.paint],
        extent=p.car_extent_m or (w * p.gsd, h * p.gsd),
    )


def scene_atmosphere(p: SceneParams) -> cond.Atmosphere:
    """The cloud, cloud shadow and haze of ``p``'s scene, from its seed: what
    :func:`render_scene` draws over the ground and builds its quality mask from, and
    :func:`railwatch.sim.scenario.quality_mask` the same mask without drawing."""
    w, h = p.size_px
    return cond.atmosphere(
        np.random.default_rng([p.seed, _ATMOS]),
        (h, w),
        p.gsd,
        haze=p.haze,
        cloud_cover=p.cloud_cover,
        thin_cloud=p.thin_cloud,
        sun_elevation=p.sun_elevation,
        sun_azimuth=p.sun_azimuth,
    )


def scene_coverage(p: SceneParams) -> np.ndarray:
    """The pixels of ``p``'s scene that have data (the satellite strip's coverage),
    from its seed, as :func:`scene_atmosphere`."""
    w, h = p.size_px
    return cond.coverage_mask(np.random.default_rng([p.seed, _COVER]), (h, w), p.coverage)


def render_scene(params: SceneParams, *, exact_paint: bool = False) -> RenderedScene:
    """Render one scene. Deterministic: the same parameters give the same pixels.

    ``exact_paint``: fill every polygon, circle and ellipse (cars, their shadows,
    buildings, pads, trees) at its exact area instead of with OpenCV's anti-aliased
    filling, which paints about 0.7 canvas pixels past every edge (docs/simulator.md,
    "Known bias"; session 41). Off by default: the shipped detector, the benchmarks and
    the tests use the default pixels (``SIM_VERSION``); the truth is the same either
    way."""
    p = params
    w, h = p.size_px
    layout = p.layout_seed if p.layout_seed is not None else p.seed
    style, paint = STYLES[p.style], PAINTS[p.paint]
    yard = scene_yard(p)
    cars = scene_cars(p, yard)
    light = make_light(p)
    ss = supersampling(p)
    gi = p.gsd / ss
    wi, hi = w * ss, h * ss
    dx, dy = p.misregistration_m
    w_m, h_m = w * p.gsd, h * p.gsd
    proj = Projection(w_m, h_m, gi, dx, dy)
    # The misregistration moves the ground and its texture with what is painted on it
    # (until SIM_VERSION 1.3 the ground stayed put, so that one image of a site could not
    # be registered to another); by whole canvas pixels, so nothing is blurred.
    shift = (round(dx / gi), round(-dy / gi))

    # Ground, tracks, texture, cast shadows.
    canvas, snow_i = ground(np.random.default_rng([layout, GROUND_STREAM]), (hi, wi), gi, style, p)
    canvas, snow_i = shift_pixels(canvas, *shift), shift_pixels(snow_i, *shift)
    pt = Painter(canvas, proj, exact=exact_paint)
    draw_static_ground(pt, yard, style, p, np.random.default_rng([layout, _STATIC]))
    shadow = np.zeros((hi, wi), np.uint8)
    draw_shadows(shadow, pt, yard, cars, light)
    strength = 0.62 * (1.0 - 0.5 * p.haze)
    canvas = texture_and_shadows(
        canvas,
        np.random.default_rng([layout, _TEXTURE]),
        gi,
        style,
        snow_i,
        shadow,
        strength,
        shift_px=shift,
    )
    pt = Painter(canvas, proj, exact=exact_paint)

    # Objects.
    obj_rng = np.random.default_rng([layout, _OBJECTS])
    draw_boxes(pt, yard.boxes, light, p, obj_rng)
    for car in cars:
        draw_car(pt, car, light, p, paint)
    shade_lower_neighbours(pt, cars, light, strength)
    draw_trees_masts(pt, yard, style, light, p, obj_rng)

    if ss > 1:
        canvas = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA)
        snow = cv2.resize(snow_i, (w, h), interpolation=cv2.INTER_AREA)
    else:
        snow = snow_i

    # Atmosphere and sensor.
    atm = scene_atmosphere(p)
    gains = tuple(float(a * b) for a, b in zip(style.light, p.colour_cast, strict=True))
    img = cond.apply_atmosphere(
        canvas,
        atm,
        np.random.default_rng([p.seed, _CLOUDTEX]),
        (gains[0], gains[1], gains[2]),
    )
    image = cond.sensor(
        img,
        np.random.default_rng([p.seed, _SENSOR]),
        blur=p.blur,
        noise=p.noise,
        jpeg_quality=p.jpeg_quality,
    )
    valid = scene_coverage(p)
    np.maximum(image, 1, out=image)
    image[~valid] = 0
    mask = cond.quality_mask(atm, snow if p.snow > 0 else None, valid)

    crs, transform = scene_grid(p)
    out_proj = Projection(w_m, h_m, p.gsd, dx, dy)
    labels, truth = _truth(cars, light, out_proj, transform, (h, w), valid, mask)
    origin = np.array([transform.c + w_m / 2.0, transform.f - h_m / 2.0])
    tracks = tuple(LineString(t.line + origin + np.array([dx, dy])) for t in yard.tracks)
    return RenderedScene(
        params=p,
        image=image,
        transform=transform,
        crs=crs,
        truth=truth,
        mask=mask,
        labels=labels,
        tracks=tracks,
        valid=valid,
        layers={
            "cloud_alpha": atm.cloud_alpha,
            "cloud_shadow": atm.cloud_shadow,
            "haze": atm.haze,
            "snow": snow,
        },
    )


def _truth(
    cars: list[Car],
    light: Light,
    proj: Projection,
    transform: Affine,
    shape: tuple[int, int],
    valid: np.ndarray,
    mask: np.ndarray,
) -> tuple[np.ndarray, tuple[TruthCar, ...]]:
    lean = light.lean
    labels = np.zeros(shape, np.int32)
    roofs: list[np.ndarray] = []
    for car in cars:
        fp = car.corners()
        roof = fp + lean * car.height
        roofs.append(roof)
        if np.hypot(*(lean * car.height)) > 0.05:
            # draw_car paints the car's side faces (the hull of footprint and roof) first,
            # over the roofs of cars drawn before it: those pixels show no roof any more
            # (until session 40 they kept the covered car's id)
            _clear_convex(labels, proj.px(swept_hull(fp, roof)))
        _label_quad(labels, proj.px(roof), car.id)
    flat = labels.ravel()
    where = np.flatnonzero(flat)
    ids = flat[where]
    n = max((c.id for c in cars), default=0) + 1
    total = np.bincount(ids, minlength=n)
    m = mask.ravel()[where]
    in_valid = np.bincount(ids, weights=valid.ravel()[where].astype(np.float64), minlength=n)
    clear = (m == cond.MASK_CLEAR) | (m == cond.MASK_SNOW)
    in_clear = np.bincount(ids, weights=clear.astype(np.float64), minlength=n)
    truth: list[TruthCar] = []
    for car, roof in zip(cars, roofs, strict=True):
        px = proj.px(roof)
        xs = transform.c + transform.a * px[:, 0] + transform.b * px[:, 1]
        ys = transform.f + transform.d * px[:, 0] + transform.e * px[:, 1]
        crs_pts = np.column_stack([xs, ys])
        k = max(int(total[car.id]), 1)
        truth.append(
            TruthCar(
                id=car.id,
                cls=car.cls,
                covered=car.covered,
                polygon_px=Polygon(px),
                polygon_crs=Polygon(crs_pts),
                length_m=round(car.length, 3),
                width_m=round(car.width, 3),
                angle_deg=round(float(np.rad2deg(car.angle)) % 360.0, 3),
                load=car.load,
                valid_fraction=float(in_valid[car.id]) / k,
                clear_fraction=float(in_clear[car.id]) / k,
            )
        )
    return labels, tuple(truth)


def _clear_convex(labels: np.ndarray, poly: np.ndarray) -> None:
    """Set ``labels`` to 0 at pixels whose centre lies inside the convex polygon ``poly``
    (pixel coordinates, either orientation)."""
    h, w = labels.shape
    x0 = max(int(np.floor(poly[:, 0].min())), 0)
    x1 = min(int(np.ceil(poly[:, 0].max())), w)
    y0 = max(int(np.floor(poly[:, 1].min())), 0)
    y1 = min(int(np.ceil(poly[:, 1].max())), h)
    if x1 <= x0 or y1 <= y0 or len(poly) < 3:
        return
    xs, ys = np.meshgrid(np.arange(x0, x1) + 0.5, np.arange(y0, y1) + 0.5)
    nxt = np.roll(poly, -1, axis=0)
    sign = 1.0 if float(np.sum(poly[:, 0] * nxt[:, 1] - nxt[:, 0] * poly[:, 1])) >= 0 else -1.0
    inside = np.ones(xs.shape, bool)
    for (ax, ay), (bx, by) in zip(poly, nxt, strict=True):
        inside &= ((bx - ax) * (ys - ay) - (by - ay) * (xs - ax)) * sign >= 0
    labels[y0:y1, x0:x1][inside] = 0


def _label_quad(labels: np.ndarray, quad: np.ndarray, value: int) -> None:
    """Set ``labels`` to ``value`` at pixels whose centre lies inside the convex
    quadrilateral ``quad`` (pixel coordinates); a car too thin to contain any pixel
    centre gets the pixel under its centre, so every car has at least one pixel."""
    h, w = labels.shape
    x0 = max(int(np.floor(quad[:, 0].min())), 0)
    x1 = min(int(np.ceil(quad[:, 0].max())), w)
    y0 = max(int(np.floor(quad[:, 1].min())), 0)
    y1 = min(int(np.ceil(quad[:, 1].max())), h)
    if x1 <= x0 or y1 <= y0:
        return
    xs, ys = np.meshgrid(np.arange(x0, x1) + 0.5, np.arange(y0, y1) + 0.5)
    inside = np.ones(xs.shape, bool)
    sign = 0.0
    for i in range(4):
        ax, ay = quad[i]
        bx, by = quad[(i + 1) % 4]
        cross = (bx - ax) * (ys - ay) - (by - ay) * (xs - ax)
        if sign == 0.0:
            sign = (
                1.0
                if (bx - ax) * (quad[(i + 2) % 4][1] - ay) - (by - ay) * (quad[(i + 2) % 4][0] - ax)
                >= 0
                else -1.0
            )
        inside &= cross * sign >= 0
    region = labels[y0:y1, x0:x1]
    if inside.any():
        region[inside] = value
    else:
        cx, cy = quad.mean(axis=0)
        labels[min(max(int(cy), 0), h - 1), min(max(int(cx), 0), w - 1)] = value
