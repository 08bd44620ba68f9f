"""Procedural yard drawings used to train the default detector.

This is a second, deliberately different "renderer" next to :mod:`railwatch.sim`: flat
shapes drawn with OpenCV at twice the target resolution and area-averaged down. Mixing
both sources (and strong photometric randomisation) keeps the detector from learning
the look of one renderer. Everything is in metres first and scaled by the ground sample
distance, never in pixel constants.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: (length range m, width range m) per class, from DOMAIN.md with a little slack.
CLASS_DIMS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "boxcar": ((15.5, 17.6), (3.0, 3.3)),
    "gondola": ((13.4, 14.2), (3.05, 3.25)),
    "hopper": ((13.6, 14.9), (3.1, 3.3)),
    "tank": ((11.8, 12.4), (2.9, 3.3)),
    "flat": ((13.0, 19.0), (2.7, 3.0)),
    "container": ((14.6, 19.6), (2.6, 2.9)),
    "locomotive": ((17.0, 21.5), (3.0, 3.3)),
}
ARTICULATED_TANK = ((23.5, 24.3), (3.1, 3.3))


@dataclass(frozen=True)
class SynthCar:
    """One drawn car in metres: centre, length, width, angle (deg, CCW from +x, y down)."""

    cx: float
    cy: float
    length: float
    width: float
    angle: float
    cls: str
    covered: bool


def _col(rng: np.random.Generator, base: tuple[int, ...], jit: int = 25) -> tuple[int, ...]:
    d = rng.integers(-jit, jit + 1, 3).tolist()
    return tuple(min(255, max(0, int(b) + int(e))) for b, e in zip(base, d, strict=False))


def _rect(cx: float, cy: float, length: float, width: float, ang: float) -> np.ndarray:
    a = np.deg2rad(ang)
    u = np.array([np.cos(a), np.sin(a)]) * length / 2
    v = np.array([-np.sin(a), np.cos(a)]) * width / 2
    c = np.array([cx, cy])
    return np.stack([c - u - v, c + u - v, c + u + v, c - u + v])


def _xy(p: np.ndarray) -> tuple[float, float]:
    return float(p[0]), float(p[1])


class _Canvas:
    """A float RGB canvas in metres with a fixed pixel size."""

    def __init__(self, size_m: float, px: float, rng: np.random.Generator) -> None:
        self.px = px
        self.n = round(size_m / px)
        self.rng = rng
        self.img = np.zeros((self.n, self.n, 3), np.float32)

    def pts(self, poly_m: np.ndarray) -> np.ndarray:
        return np.round(poly_m / self.px * 8).astype(np.int32)

    def fill(self, poly_m: np.ndarray, color: tuple[int, ...]) -> None:
        cv2.fillPoly(self.img, [self.pts(poly_m)], color, cv2.LINE_AA, shift=3)

    def shade(self, poly_m: np.ndarray, factor: float) -> None:
        pts = self.pts(poly_m)
        x0, y0 = np.maximum(pts.min(axis=0) // 8 - 1, 0)
        x1, y1 = np.minimum(pts.max(axis=0) // 8 + 2, self.n)
        if x1 <= x0 or y1 <= y0:
            return
        m = np.zeros((int(y1 - y0), int(x1 - x0)), np.float32)
        cv2.fillPoly(m, [pts - np.array([x0, y0]) * 8], 1.0, cv2.LINE_AA, shift=3)
        self.img[y0:y1, x0:x1] *= (1 - m * (1 - factor))[..., None]

    def line(self, a: np.ndarray, b: np.ndarray, color: tuple[int, ...], w_m: float) -> None:
        t = max(1, round(w_m / self.px))
        p = np.round(np.array([a, b]) / self.px * 8).astype(np.int32)
        cv2.line(self.img, tuple(p[0]), tuple(p[1]), color, t, cv2.LINE_AA, shift=3)


def _noise_field(rng: np.random.Generator, n: int, scale_px: float) -> np.ndarray:
    k = max(2, int(n / max(scale_px, 1.0)))
    small = rng.standard_normal((k, k)).astype(np.float32)
    return cv2.resize(small, (n, n), interpolation=cv2.INTER_CUBIC)


GROUNDS = [
    (95, 110, 70),
    (120, 115, 100),
    (150, 145, 135),
    (80, 90, 60),
    (170, 160, 140),
    (110, 95, 80),
    (225, 228, 232),
    (60, 62, 60),
    (130, 125, 95),
]
BALLAST = [(120, 115, 105), (90, 85, 80), (140, 130, 115), (100, 90, 75), (70, 65, 60)]


def _background(cv: _Canvas) -> None:
    rng = cv.rng
    base = np.array(GROUNDS[rng.integers(len(GROUNDS))], np.float32)
    base = base + rng.integers(-20, 21, 3)
    amp = rng.uniform(5, 30)
    cv.img[:] = base
    cv.img += _noise_field(rng, cv.n, cv.n / rng.uniform(3, 12))[..., None] * amp
    cv.img += rng.standard_normal((cv.n, cv.n, 1)).astype(np.float32) * rng.uniform(2, 10)
    size = cv.n * cv.px
    for _ in range(rng.integers(0, 6)):  # patches of other ground
        c = rng.uniform(0, size, 2)
        r = rng.uniform(5, 40, 2)
        t = np.linspace(0, 2 * np.pi, 12)
        poly = c + np.stack([np.cos(t) * r[0], np.sin(t) * r[1]], 1)
        cv.fill(poly, _col(rng, GROUNDS[rng.integers(len(GROUNDS))], 20))


def _distractors(
    cv: _Canvas, sun: np.ndarray, band: tuple[np.ndarray, np.ndarray, float] | None
) -> None:
    """Buildings, roads, lorries, container stacks and trees: things that are not railcars.

    With ``band`` (a point, the unit normal of the tracks, a half width) nothing is drawn
    over the occupied tracks."""
    rng = cv.rng
    size = cv.n * cv.px
    for _ in range(rng.integers(0, 6)):
        kind = rng.choice(["building", "road", "lorries", "stack", "trees", "poles"])
        ang = rng.uniform(0, 180)
        c = rng.uniform(0, size, 2)
        if band is not None:
            margin = 45.0 if kind == "building" else 20.0
            if kind == "road" or abs(float(np.dot(c - band[0], band[1]))) < band[2] + margin:
                continue
        if kind == "road":
            w = rng.uniform(5, 12)
            p = _rect(c[0], c[1], size * 3, w, ang)
            cv.fill(p, _col(rng, (90, 90, 92), 30))
            continue
        if kind == "building":
            ln, wd = float(rng.uniform(8, 80)), float(rng.uniform(6, 30))
            p = _rect(c[0], c[1], ln, wd, ang)
            cv.shade(p + sun * rng.uniform(2, 12), rng.uniform(0.4, 0.7))
            cv.fill(p, _col(rng, (int(rng.integers(60, 230)),) * 3, 40))
            if rng.random() < 0.5:
                ridge = _rect(c[0], c[1], ln, 0.0, ang)
                cv.line(ridge[0], ridge[1], _col(rng, (120, 120, 120), 60), 0.6)
        elif kind in ("lorries", "stack"):
            n = rng.integers(2, 10)
            rows = rng.integers(1, 4)
            ln = float(rng.choice([6.1, 12.2])) if kind == "stack" else rng.uniform(8, 16.5)
            wd = 2.44 if kind == "stack" else 2.5
            a = np.deg2rad(ang)
            u, v = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
            for r in range(rows):
                for i in range(n):
                    if kind == "stack":
                        q = c + u * (i * (wd + 0.3)) + v * (r * (ln + 1.0))
                        p = _rect(q[0], q[1], wd, ln, ang)
                    else:
                        q = c + v * (i * rng.uniform(3.5, 5)) + u * r * (ln + 3)
                        p = _rect(q[0], q[1], ln, wd, ang)
                    cv.shade(p + sun * rng.uniform(1, 4), 0.6)
                    cv.fill(p, _col(rng, tuple(int(x) for x in rng.integers(30, 230, 3)), 10))
        elif kind == "trees":
            for _ in range(rng.integers(3, 25)):
                q = c + rng.normal(0, 12, 2)
                rad = rng.uniform(1.5, 5)
                t = np.linspace(0, 2 * np.pi, 10)
                p = q + np.stack([np.cos(t), np.sin(t)], 1) * rad
                cv.shade(p + sun * rad, 0.55)
                cv.fill(p, _col(rng, (45, 70, 35), 20))
        else:  # catenary poles / masts: thin long lines with shadows
            for i in range(rng.integers(2, 8)):
                a = np.deg2rad(ang)
                q = c + np.array([np.cos(a), np.sin(a)]) * i * rng.uniform(30, 60)
                cv.line(q, q + sun * rng.uniform(6, 14), (40, 40, 40), 0.4)
                cv.line(
                    q - np.array([-np.sin(a), np.cos(a)]) * 12,
                    q + np.array([-np.sin(a), np.cos(a)]) * 12,
                    (70, 70, 70),
                    0.25,
                )


PAL = {
    "boxcar": [
        (120, 60, 45),
        (95, 55, 40),
        (140, 140, 140),
        (60, 80, 120),
        (180, 180, 175),
        (70, 95, 80),
        (160, 90, 50),
    ],
    "gondola": [(90, 50, 35), (60, 60, 60), (110, 70, 50), (70, 85, 95)],
    "hopper": [(150, 150, 145), (110, 75, 55), (170, 160, 130), (90, 90, 95)],
    "tank": [(30, 30, 32), (210, 210, 205), (150, 150, 150), (60, 80, 110), (70, 90, 60)],
    "flat": [(100, 80, 60), (80, 75, 70), (120, 100, 80)],
    "container": [(100, 80, 60), (80, 75, 70)],
    "locomotive": [(170, 40, 35), (40, 70, 140), (50, 110, 70), (200, 170, 40), (120, 120, 125)],
}
TARPS = [(60, 95, 55), (110, 120, 110), (45, 70, 50), (40, 60, 110), (150, 150, 140)]
LOADS = [(25, 25, 25), (120, 60, 40), (140, 130, 120), (90, 80, 70)]


def _draw_car(cv: _Canvas, car: SynthCar, sun: np.ndarray, height: float) -> None:
    rng = cv.rng
    cx, cy, ln, wd, ang = car.cx, car.cy, car.length, car.width, car.angle
    a = np.deg2rad(ang)
    u = np.array([np.cos(a), np.sin(a)])
    v = np.array([-np.sin(a), np.cos(a)])
    c = np.array([cx, cy])
    body = _rect(cx, cy, ln, wd, ang)
    cv.shade(body + sun * height, rng.uniform(0.35, 0.7))
    base = PAL[car.cls][rng.integers(len(PAL[car.cls]))]
    col = _col(rng, base, 20)
    dark = tuple(int(x * 0.6) for x in col)
    light = tuple(int(min(255, x * 1.3 + 10)) for x in col)
    if car.covered:
        cv.fill(body, _col(rng, base, 10))
        tarp = _col(rng, TARPS[rng.integers(len(TARPS))], 15)
        cv.fill(_rect(cx, cy, ln - 0.4, wd - 0.2, ang), tarp)
        tdark = tuple(int(x * 0.75) for x in tarp)
        for t in np.arange(-ln / 2 + 1, ln / 2 - 0.5, rng.uniform(1.0, 3.0)):
            q = c + u * (t + rng.normal(0, 0.2))
            cv.line(q - v * wd / 2, q + v * wd / 2, tdark, 0.12)
        cv.line(c - u * ln / 2.2, c + u * ln / 2.2, tuple(int(x * 1.15) for x in tarp), 0.2)
        return
    if car.cls == "boxcar":
        cv.fill(body, col)
        cv.fill(_rect(cx, cy, ln, wd / 2, ang) + v * wd / 4, light if rng.random() < 0.5 else dark)
        cv.line(c - u * ln / 2, c + u * ln / 2, light, 0.15)
    elif car.cls == "gondola":
        cv.fill(body, col)
        load = LOADS[rng.integers(len(LOADS))] if rng.random() < 0.7 else dark
        cv.fill(_rect(cx, cy, ln - 0.5, wd - 0.4, ang), _col(rng, load, 10))
        for t in np.linspace(-ln / 2, ln / 2, int(rng.integers(5, 10))):
            q = c + u * t
            cv.line(q - v * wd / 2, q + v * wd / 2, col, 0.15)
    elif car.cls == "hopper":
        cv.fill(body, col)
        nb = int(rng.integers(3, 5))
        for i in range(nb):
            t0 = -ln / 2 + (i + 0.5) * ln / nb
            cv.fill(_rect(*_xy(c + u * t0), ln / nb * 0.7, wd - 0.3, ang), dark if i % 2 else light)
        if rng.random() < 0.5:
            cv.line(c - u * ln / 2.2, c + u * ln / 2.2, light, 0.5)
    elif car.cls == "tank":
        for k, f in enumerate(np.linspace(1.0, 0.2, 6)):
            shade = tuple(int(min(255, x * (0.55 + 0.1 * k))) for x in col)
            cv.fill(_rect(cx, cy, ln - (0.6 if k else 0), wd * f, ang), shade)
        cv.line(c - u * ln / 2.3, c + u * ln / 2.3, light, 0.25)
        t = np.linspace(0, 2 * np.pi, 10)
        cv.fill(c + np.stack([np.cos(t), np.sin(t)], 1) * 0.7, dark)
    elif car.cls == "flat":
        cv.fill(body, col)
        for t in np.linspace(-wd / 2.5, wd / 2.5, 4):
            cv.line(c + v * t - u * ln / 2, c + v * t + u * ln / 2, dark, 0.06)
        if rng.random() < 0.4:  # timber or steel load
            cv.fill(
                _rect(cx, cy, ln * rng.uniform(0.4, 0.9), wd * 0.8, ang),
                _col(rng, (150, 120, 80), 40),
            )
    elif car.cls == "container":
        cv.fill(body, col)
        lens = [12.19] if ln > 15.5 and rng.random() < 0.6 else [6.06, 6.06]
        t = -ln / 2 + 0.4
        for cl in lens:
            if rng.random() < 0.85:
                cc = tuple(int(x) for x in rng.integers(30, 230, 3))
                cv.fill(_rect(*_xy(c + u * (t + cl / 2)), cl, 2.44, ang), cc)
                cv.line(
                    c + u * (t + cl / 2) - u * cl / 2.1,
                    c + u * (t + cl / 2) + u * cl / 2.1,
                    tuple(int(x * 0.8) for x in cc),
                    0.1,
                )
            t += cl + 0.3
    else:  # locomotive
        cv.fill(body, col)
        cv.fill(_rect(cx, cy, ln * 0.7, wd * 0.6, ang), _col(rng, (110, 110, 110), 40))
        for t in np.linspace(-ln / 4, ln / 4, int(rng.integers(2, 5))):
            q = c + u * t
            tt = np.linspace(0, 2 * np.pi, 10)
            cv.fill(q + np.stack([np.cos(tt), np.sin(tt)], 1) * 0.6, (40, 40, 40))


def _pick_class(rng: np.random.Generator) -> str:
    classes = ["boxcar", "gondola", "hopper", "tank", "flat", "container"]
    return str(classes[rng.integers(len(classes))])


def draw_yard(
    rng: np.random.Generator, size_m: float, px: float, *, occupied: bool = True
) -> tuple[np.ndarray, list[SynthCar]]:
    """Draw one square yard ``size_m`` metres wide at ``px`` metres per pixel; with
    ``occupied=False`` the tracks stay empty.

    Returns the uint8 RGB image and the cars (metres, same frame as the image)."""
    cv = _Canvas(size_m, px, rng)
    _background(cv)
    sun_az = rng.uniform(0, 2 * np.pi)
    sun = np.array([np.cos(sun_az), np.sin(sun_az)]) * rng.uniform(0.15, 1.3)
    cars: list[SynthCar] = []
    band: tuple[np.ndarray, np.ndarray, float] | None = None
    if rng.random() < (0.9 if occupied else 1.0):
        ang = rng.uniform(0, 180)
        a = np.deg2rad(ang)
        u, v = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
        ntr = int(rng.integers(1, 14))
        spacing = rng.uniform(4.3, 6.0)
        centre = np.array([size_m / 2, size_m / 2]) + rng.uniform(-size_m / 3, size_m / 3, 2)
        off0 = -spacing * (ntr - 1) / 2
        ballast = BALLAST[rng.integers(len(BALLAST))]
        tie = rng.random() < 0.7
        span = size_m * 1.6
        for k in range(ntr):
            o = centre + v * (off0 + k * spacing + rng.normal(0, 0.05))
            cv.fill(_rect(*_xy(o), span * 2, rng.uniform(2.8, 3.8), ang), _col(rng, ballast, 12))
            if tie and px < 0.3:
                tie_col = _col(rng, (85, 75, 65), 10)
                for t in np.arange(-span / 2, span / 2, 0.65):
                    q = o + u * t
                    cv.line(q - v * 1.3, q + v * 1.3, tie_col, 0.18)
            for s in (-0.75, 0.75):
                cv.line(
                    o + v * s - u * span, o + v * s + u * span, _col(rng, (70, 65, 60), 30), 0.1
                )
        band = (centre, v, spacing * ntr / 2 + 2.0)
        _distractors(cv, sun, None)
        p_occ = rng.uniform(0.2, 0.95) if occupied else 0.0
        unit = rng.random() < 0.5
        unit_cls = _pick_class(rng)
        for k in range(ntr):
            if rng.random() > p_occ:
                continue
            o = centre + v * (off0 + k * spacing)
            t = rng.uniform(-span / 2, 0)
            end = rng.uniform(0, span / 2) if rng.random() < 0.5 else span / 2
            tarp_p = rng.uniform(0, 1) if rng.random() < 0.4 else 0.0
            first = True
            while t < end:
                if first and rng.random() < 0.25:
                    cls = "locomotive"
                else:
                    cls = unit_cls if unit and rng.random() < 0.9 else _pick_class(rng)
                first = False
                dims = CLASS_DIMS[cls]
                if cls == "tank" and rng.random() < 0.15:
                    dims = ARTICULATED_TANK
                ln = rng.uniform(*dims[0])
                wd = rng.uniform(*dims[1])
                covered = cls in ("gondola", "flat", "hopper") and rng.random() < tarp_p
                q = o + u * (t + ln / 2)
                car = SynthCar(float(q[0]), float(q[1]), ln, wd, float(ang), cls, bool(covered))
                _draw_car(cv, car, sun, rng.uniform(2.5, 4.5))
                cars.append(car)
                t += ln + rng.uniform(0.6, 1.6)
                if rng.random() < 0.04:
                    t += rng.uniform(5, 60)
    else:
        _distractors(cv, sun, None)
    _distractors(cv, sun, band)
    img = np.clip(cv.img, 0, 255).astype(np.uint8)
    inside = [
        c
        for c in cars
        if -c.length / 3 < c.cx < size_m + c.length / 3
        and -c.length / 3 < c.cy < size_m + c.length / 3
    ]
    return img, inside
