"""A third yard renderer, for validation only: never used to train or tune anything.

Written in session 26 (2026-12-05) from the facts in DOMAIN.md alone, without reading or
reusing ``railwatch.sim`` (the benchmark's renderer) or ``railwatch.detect.model_synth``
(the training drawer), so that the default detector can be checked on drawings made by
other means than the two it learned from. What it draws, all at a fine pixel (a third or
a quarter of the target's) then area-averaged:

- ground: two-colour fractal noise in one of five palettes (grass, soil, concrete, snow,
  dry), a few flat-roofed buildings in arbitrary colours, sometimes a road beside the
  tracks;
- a bundle of 3–8 parallel straight tracks (4.6–5.6 m apart) at any angle: a 3.2 m
  ballast bed, two rails 1.52 m apart, sleepers when the fine pixel is under 0.15 m;
- strings of 1–24 coupled cars (gaps 0.8–1.4 m) with DOMAIN.md's lengths and widths:
  gondolas (coal, gravel, empty, or under a green, blue or grey tarpaulin), hoppers
  (bays), tank cars (a shaded cylinder and a dome), boxcars (a roof ridge) and container
  flats (one 40 ft or two 20 ft boxes, bare, or under a tarpaulin);
- the sun at 15–65° elevation (winter at 42° N, Tumangang's latitude, is 20–30° at
  mid-morning): each car casts the hull of its footprint and the footprint moved by its
  height over the tangent of the elevation, darkening the ground to 45 %;
- then a Gaussian blur (sigma 0.4–0.9 px), noise, a gain and offset, and JPEG (quality
  60–89) on half of the scenes.

The truth is every car's body rectangle in pixels (column, row), its type and whether it
is under a tarpaulin; the shadow layer at the output resolution comes with it, so false
boxes on shadows can be counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

#: type: (length m, width m, height m, weight in the mix); DOMAIN.md's dimensions.
TYPES: dict[str, tuple[float, float, float, float]] = {
    "gondola": (13.92, 3.16, 3.5, 3.0),
    "hopper": (14.72, 3.25, 4.4, 2.0),
    "tank": (12.02, 3.25, 4.3, 2.0),
    "flat": (15.02, 2.81, 1.5, 1.0),
    "boxcar": (16.8, 3.2, 4.7, 2.0),
}

PALETTES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "grass": ((92, 110, 70), (120, 125, 85)),
    "soil": ((140, 120, 95), (165, 150, 120)),
    "concrete": ((150, 150, 145), (175, 172, 165)),
    "snow": ((215, 218, 222), (240, 242, 245)),
    "dry": ((170, 155, 120), (195, 180, 145)),
}

GSDS = (0.3, 0.4, 0.5, 0.75, 1.0)
SEED0 = 26_000_000


@dataclass(frozen=True)
class Car:
    cls: str
    box: tuple[float, float, float, float, float]  # cx, cy, length, width (px), angle (deg)
    covered: bool


@dataclass(frozen=True)
class Scene:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    gsd: float
    cars: tuple[Car, ...]
    shadow: np.ndarray  # (H, W) float32, share of each pixel in a car's shadow
    palette: str
    sun_elevation: float  # degrees
    sun_azimuth: float = 0.0  # degrees clockwise from north (north is up in the image)
    #: each track's centreline as two far points (column, row) in output pixels; the
    #: lines run through and beyond the image
    tracks: tuple[tuple[tuple[float, float], tuple[float, float]], ...] = ()


def _fractal(rng: np.random.Generator, n: int, octaves: int = 5) -> np.ndarray:
    out = np.zeros((n, n), np.float32)
    amp = 1.0
    for o in range(octaves):
        s = 2 ** (o + 2)
        small = rng.normal(0, 1, (s, s)).astype(np.float32)
        out += amp * cv2.resize(small, (n, n), interpolation=cv2.INTER_CUBIC)
        amp *= 0.55
    out -= out.mean()
    out /= out.std() + 1e-6
    return out


def _rect(c: np.ndarray, length: float, width: float, angle: float) -> np.ndarray:
    return cv2.boxPoints(((float(c[0]), float(c[1])), (length, width), angle)).astype(np.int32)


def _pick(rng: np.random.Generator, colours: list[tuple[int, int, int]]) -> np.ndarray:
    return np.array(colours[int(rng.integers(len(colours)))], np.float32)


def _draw_car(
    img: np.ndarray,
    rng: np.random.Generator,
    cls: str,
    pm: np.ndarray,
    d: np.ndarray,
    nrm: np.ndarray,
    length: float,
    width: float,
    ang: float,
) -> bool:
    """Draw one car body (fine pixels); True when its load is under a tarpaulin."""
    box = _rect(pm, length, width, ang)
    if cls == "tank":
        col = _pick(rng, [(30, 30, 32), (200, 200, 195), (60, 60, 62), (150, 40, 35)])
        for fr in np.linspace(-1, 1, 9):  # a cylinder lit from one side
            g = 0.6 + 0.6 * max(0.0, math.cos(math.acos(float(fr)) - 0.6))
            pc = pm + nrm * fr * width / 2 * 0.85
            cv2.fillPoly(
                img, [_rect(pc, length * 0.96, width / 8, ang)], np.clip(col * g, 0, 255).tolist()
            )
        r = max(1, round(width / 6.5))
        cv2.circle(img, (int(pm[0]), int(pm[1])), r, np.clip(col * 1.3, 0, 255).tolist(), -1)
        return False
    if cls == "gondola":
        rim = _pick(rng, [(90, 60, 45), (70, 72, 75), (40, 40, 42)])
        cv2.fillPoly(img, [box], rim.tolist())
        r = rng.random()
        covered = 0.35 <= r < 0.6
        if r < 0.35:
            load = np.array((25, 25, 28), np.float32)  # coal
        elif covered:
            load = _pick(rng, [(60, 110, 70), (70, 90, 110), (120, 125, 120)])  # tarpaulin
        elif r < 0.8:
            load = np.array((150, 130, 100), np.float32)  # ore, gravel
        else:
            load = rim * 0.6  # empty
        inner = _rect(pm, length * 0.96, width * 0.84, ang)
        cv2.fillPoly(img, [inner], load.tolist())
        return covered
    if cls == "hopper":
        col = _pick(rng, [(150, 150, 150), (180, 170, 150), (90, 95, 100), (160, 60, 40)])
        cv2.fillPoly(img, [box], col.tolist())
        for j in range(-2, 3):
            pc = pm + d * j * length / 5.5
            cv2.fillPoly(img, [_rect(pc, length / 12, width * 0.7, ang)], (col * 0.75).tolist())
        return False
    if cls == "boxcar":
        col = _pick(
            rng, [(110, 55, 40), (60, 75, 95), (140, 140, 138), (45, 45, 48), (120, 95, 60)]
        )
        cv2.fillPoly(img, [box], col.tolist())
        ridge = _rect(pm, length * 0.97, max(1.0, width / 10), ang)
        cv2.fillPoly(img, [ridge], np.clip(col * 1.25, 0, 255).tolist())
        return False
    # container flat: a deck, then containers, a tarpaulin or nothing
    cv2.fillPoly(img, [box], (80, 70, 60))
    r = rng.random()
    if r < 0.7:
        ccol = _pick(
            rng, [(30, 90, 160), (170, 40, 35), (40, 120, 60), (200, 200, 200), (220, 140, 30)]
        )
        per_m = length / TYPES["flat"][0]
        boxes = [(-1, 6.0), (1, 6.0)] if rng.random() < 0.6 else [(0, 12.0)]
        for j, cl in boxes:
            pc = pm + d * j * 3.2 * per_m
            cv2.fillPoly(img, [_rect(pc, cl * per_m, 2.44 * per_m, ang)], ccol.tolist())
        return False
    if r < 0.85:
        cv2.fillPoly(img, [_rect(pm, length * 0.93, width * 0.93, ang)], (70, 100, 75))
        return True
    return False


def render(
    k: int, gsd: float | None = None, size_m: float = 300.0, fine_m: float | None = None
) -> Scene:
    """Scene ``k`` (its own random stream, seed ``SEED0 + k``), ``size_m`` metres square,
    at ``gsd`` (default: ``GSDS[k % 5]``), drawn at a pixel of about ``fine_m`` metres
    (default: a third of ``gsd`` under 0.5 m, else a quarter; give it for coarse output,
    where a quarter pixel would draw the rails metres wide)."""
    gsd = GSDS[k % len(GSDS)] if gsd is None else gsd
    rng = np.random.default_rng(SEED0 + k)
    f = (4 if gsd >= 0.5 else 3) if fine_m is None else max(1, round(gsd / fine_m))
    fine = gsd / f
    n_out = round(size_m / gsd)
    n = n_out * f

    def px(m: float) -> float:
        return m / fine

    palette = sorted(PALETTES)[int(rng.integers(len(PALETTES)))]
    c0, c1 = (np.array(c, np.float32) for c in PALETTES[palette])
    mix = (np.tanh(_fractal(rng, n) * 0.8) + 1) / 2
    img = c0 * (1 - mix[..., None]) + c1 * mix[..., None]
    img += rng.normal(0, 4, (n, n, 1)).astype(np.float32)
    img = np.ascontiguousarray(img, np.float32)
    for _ in range(int(rng.integers(2, 7))):  # buildings
        c = rng.uniform(0, n, 2)
        cv2.fillPoly(
            img,
            [_rect(c, px(rng.uniform(15, 60)), px(rng.uniform(10, 30)), rng.uniform(0, 180))],
            rng.uniform(80, 220, 3).tolist(),
        )
    theta = rng.uniform(0, math.pi)
    d = np.array([math.cos(theta), math.sin(theta)])
    nrm = np.array([-d[1], d[0]])
    ang = math.degrees(theta)
    centre = np.array([n / 2, n / 2]) + rng.uniform(-0.1, 0.1, 2) * n
    ntracks = int(rng.integers(3, 9))
    spacing = rng.uniform(4.6, 5.6)
    ballast = _pick(rng, [(120, 112, 100), (95, 90, 85), (140, 130, 115), (110, 100, 90)])
    if palette == "snow" and rng.random() < 0.6:
        ballast = ballast * 0.4 + np.array([225, 228, 232], np.float32) * 0.6
    reach = n * 1.5
    offs = (np.arange(ntracks) - (ntracks - 1) / 2) * spacing

    def line(p: np.ndarray, colour: list[float], width: float) -> None:
        a, b = p - d * reach, p + d * reach
        cv2.line(img, tuple(a.astype(int)), tuple(b.astype(int)), colour, max(1, int(width)))

    if rng.random() < 0.5:  # a road beside the bundle
        line(centre + nrm * px(offs[-1] + rng.uniform(8, 15)), [70, 70, 72], px(7))
    for o in offs:
        p = centre + nrm * px(o)
        line(p, ballast.tolist(), px(3.2))
        if fine < 0.15:
            for s in np.arange(-reach, reach, px(0.6)):
                q = p + d * s
                e1, e2 = q - nrm * px(1.3), q + nrm * px(1.3)
                sleeper = (ballast * 0.8).tolist()
                a, b = tuple(e1.astype(int)), tuple(e2.astype(int))
                cv2.line(img, a, b, sleeper, max(1, int(px(0.25))))
        for r in (-0.76, 0.76):
            line(p + nrm * px(r), [60, 58, 55], px(0.08))
    sun_az = rng.uniform(0, 2 * math.pi)
    elevation = rng.uniform(15, 65)
    away = -np.array([math.sin(sun_az), -math.cos(sun_az)])  # shadows fall away from the sun
    placed: list[tuple[str, float, float, float, float, float]] = []
    half = size_m * 0.75
    for o in offs:
        s = -half + rng.uniform(0, 40)
        while s < half:
            if rng.random() < rng.uniform(0.3, 0.6):
                s += rng.uniform(10, 80)
                continue
            names = list(TYPES)
            w = np.array([TYPES[t][3] for t in names])
            for _ in range(int(rng.integers(1, 25))):
                cls = names[int(rng.choice(len(names), p=w / w.sum()))]
                length, width, height, _ = TYPES[cls]
                placed.append((cls, float(o), s + length / 2, length, width, height))
                s += length + rng.uniform(0.8, 1.4)
            s += rng.uniform(5, 60)
    inside = []
    shadows = []
    for cls, o, c, length, width, height in placed:
        pm = centre + nrm * px(o) + d * px(c)
        if not (0 <= pm[0] < n and 0 <= pm[1] < n):
            continue
        box = cv2.boxPoints(((pm[0], pm[1]), (px(length), px(width)), ang))
        cast = box + away * px(height / math.tan(math.radians(elevation)))
        shadows.append(cv2.convexHull(np.vstack([box, cast]).astype(np.float32)).astype(np.int32))
        inside.append((cls, pm, length, width))
    shade = np.zeros((n, n), np.uint8)
    cv2.fillPoly(shade, shadows, 1)
    img *= 1 - 0.55 * shade[..., None]
    cars = []
    for cls, pm, length, width in inside:
        covered = _draw_car(img, rng, cls, pm, d, nrm, px(length), px(width), ang)
        cars.append(Car(cls, (pm[0] / f, pm[1] / f, length / gsd, width / gsd, ang), covered))
    shadow = cv2.resize(shade.astype(np.float32), (n_out, n_out), interpolation=cv2.INTER_AREA)
    small = cv2.resize(img, (n_out, n_out), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.4, 0.9))
    small += rng.normal(0, rng.uniform(1.5, 4.0), small.shape).astype(np.float32)
    small = small * rng.uniform(0.85, 1.1) + rng.uniform(-10, 15)
    out = np.clip(small, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        q = int(rng.integers(60, 90))
        params = [int(cv2.IMWRITE_JPEG_QUALITY), q]
        _, enc = cv2.imencode(".jpg", np.ascontiguousarray(out[..., ::-1]), params)
        decoded = cv2.imdecode(enc, cv2.IMREAD_COLOR)
        assert decoded is not None
        out = np.ascontiguousarray(decoded[..., ::-1])
    tracks = tuple(
        (
            ((p - d * reach)[0] / f, (p - d * reach)[1] / f),
            ((p + d * reach)[0] / f, (p + d * reach)[1] / f),
        )
        for p in (centre + nrm * px(o) for o in offs)
    )
    return Scene(out, gsd, tuple(cars), shadow, palette, elevation, math.degrees(sun_az), tracks)
