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
    """A float RGB canvas in metres with a fixed pixel size.

    ``exact``: :meth:`fill` and :meth:`shade` cover each pixel by the share of it inside
    the polygon (``sim.render.polygon_coverage``), so a shape is drawn at its true area;
    otherwise by OpenCV's anti-aliased filling, which paints about half a canvas pixel
    past every outline (cars 1.05-1.18 times their area after the 2x area-averaging of
    :func:`railwatch.detect.train.synth_sample`). Same centres either way."""

    def __init__(
        self, size_m: float, px: float, rng: np.random.Generator, *, exact: bool = False
    ) -> None:
        self.px = px
        self.n = round(size_m / px)
        self.rng = rng
        self.exact = exact
        self.img = np.zeros((self.n, self.n, 3), np.float32)

    def pts(self, poly_m: np.ndarray) -> np.ndarray:
        return np.round(poly_m / self.px * 8).astype(np.int32)

    def _cover(self, poly_m: np.ndarray) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
        """The exact coverage of ``poly_m``, placed where OpenCV's filling puts it (its
        pixel centres are whole numbers, the coverage's corners)."""
        from railwatch.sim.render import polygon_coverage

        return polygon_coverage([self.pts(poly_m) / 8.0 + 0.5], self.img.shape)

    def fill(self, poly_m: np.ndarray, color: tuple[int, ...]) -> None:
        if not self.exact:
            cv2.fillPoly(self.img, [self.pts(poly_m)], color, cv2.LINE_AA, shift=3)
            return
        cover = self._cover(poly_m)
        if cover is None:
            return
        (y0, y1, x0, x1), a = cover
        region = self.img[y0:y1, x0:x1]
        region += (np.asarray(color[:3], np.float32) - region) * a[..., None]

    def shade(self, poly_m: np.ndarray, factor: float) -> None:
        if self.exact:
            cover = self._cover(poly_m)
            if cover is not None:
                (y0, y1, x0, x1), a = cover
                self.img[y0:y1, x0:x1] *= (1 - a * (1 - factor))[..., None]
            return
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


# --- track-side clutter ------------------------------------------------------------------
# Long things beside and parallel to the tracks that are not railcars: platforms with roofs
# or canopies (also island platforms in place of a track), car parks with rows of cars along
# a kerb, service roads and lorry parks, long sheds, loading ramps, noise walls. Sizes in
# metres; colours partly measured on the Muttenz 10 cm orthophoto (its platform roof: gravel
# about (88, 81, 68) in a light rim with cross joints; its car park: concrete about
# (185, 183, 179)). Laid out in track coordinates (t along the tracks, s across) so that
# keeping clear of the drawn cars, shadows included, is interval arithmetic.

#: Kinds of track-side clutter and how often each is picked.
TRACKSIDE_KINDS: dict[str, float] = {
    "platform": 0.3,
    "carpark": 0.2,
    "service": 0.2,
    "shed": 0.15,
    "ramp": 0.08,
    "wall": 0.07,
}
ROOFS = [
    (88, 81, 68),  # gravel (the Muttenz platform roof)
    (100, 110, 70),  # green roof
    (150, 150, 148),  # concrete, light metal sheet
    (205, 205, 202),  # white membrane, canopy glass
    (70, 72, 76),  # dark bitumen
    (120, 70, 55),  # red-brown sheet
    (110, 125, 135),  # blue-grey metal
]
PAVING = [(185, 183, 179), (150, 148, 145), (95, 95, 98), (120, 118, 112)]
VEHICLES = [
    (235, 235, 235),
    (200, 200, 205),
    (150, 150, 155),
    (30, 30, 32),
    (60, 60, 65),
    (40, 60, 120),
    (150, 30, 30),
    (80, 90, 70),
]
#: (length range, width range) in metres: parked cars, vans, lorries (DOMAIN: 8-16.5 m).
PARKED_CAR = ((4.0, 5.0), (1.7, 1.95))
VAN = ((5.0, 7.0), (1.9, 2.2))
LORRY = ((8.0, 16.5), (2.45, 2.55))
#: Nothing track-side (shadows included) comes closer than this to a drawn car (m).
CAR_CLEARANCE = 0.3
#: Per kind: gap from the outermost track's centreline, width across the tracks, height
#: (shadow; 0: flat), each a (low, high) range in metres. A platform's or ramp's edge is
#: 2-2.6 m from its track's centre (a car body reaches 1.65 m).
TRACKSIDE_LAYOUT: dict[str, tuple[tuple[float, float], ...]] = {
    "platform": ((2.0, 2.6), (4.0, 12.0), (0.8, 6.0)),
    "carpark": ((3.0, 9.0), (8.0, 32.0), (0.0, 0.0)),
    "service": ((3.0, 10.0), (6.0, 22.0), (0.0, 0.0)),
    "shed": ((3.0, 12.0), (12.0, 45.0), (5.0, 12.0)),
    "ramp": ((2.0, 2.6), (3.0, 8.0), (0.9, 1.3)),
    "wall": ((3.0, 6.0), (0.25, 0.5), (2.0, 4.0)),
}


class _Track:
    """Track coordinates: t along the tracks from ``o`` (unit vector ``u``), s across
    (``v``); the drawn cars as (t0, t1, s0, s1) boxes and what was drawn."""

    def __init__(
        self, cv: _Canvas, sun: np.ndarray, o: np.ndarray, ang: float, cars: list[SynthCar]
    ) -> None:
        a = np.deg2rad(ang)
        self.cv, self.sun, self.o, self.ang = cv, sun, o, ang
        self.u = np.array([np.cos(a), np.sin(a)])
        self.v = np.array([-np.sin(a), np.cos(a)])
        self.cars = [self.extent(_rect(c.cx, c.cy, c.length, c.width, c.angle)) for c in cars]
        size = cv.n * cv.px
        corners = self.extent(np.array([[0.0, 0.0], [size, 0.0], [size, size], [0.0, size]]))
        self.t_lo, self.t_hi = corners[0] - 10.0, corners[1] + 10.0
        self.drawn: list[np.ndarray] = []

    def extent(self, poly: np.ndarray) -> tuple[float, float, float, float]:
        d = poly - self.o
        t, s = d @ self.u, d @ self.v
        return float(t.min()), float(t.max()), float(s.min()), float(s.max())

    def rect(self, t: float, s: float, length: float, width: float) -> np.ndarray:
        """A rectangle centred at (t, s), ``length`` along the tracks, ``width`` across."""
        q = self.o + self.u * t + self.v * s
        return _rect(float(q[0]), float(q[1]), length, width, self.ang)

    def free(
        self, t0: float, t1: float, s0: float, s1: float, height: float
    ) -> tuple[float, float] | None:
        """The part of [t0, t1] (around its middle, else the longest) where a box across
        [s0, s1] and its shadow of ``height`` keep CAR_CLEARANCE from every drawn car."""
        d = self.sun * height
        dt, ds = float(d @ self.u), float(d @ self.v)
        r_lo, r_hi = max(-dt, 0.0), max(dt, 0.0)
        s_lo, s_hi = s0 - max(-ds, 0.0), s1 + max(ds, 0.0)
        m = CAR_CLEARANCE
        blocked = sorted(
            (b[0] - m - r_hi, b[1] + m + r_lo)
            for b in self.cars
            if b[2] - m < s_hi and b[3] + m > s_lo
        )
        spans: list[tuple[float, float]] = []
        cur = t0
        for a, b in blocked:
            if a > cur:
                spans.append((cur, min(a, t1)))
            cur = max(cur, b)
        if cur < t1:
            spans.append((cur, t1))
        spans = [p for p in spans if p[1] > p[0]]
        if not spans:
            return None
        mid = (t0 + t1) / 2
        for p in spans:
            if p[0] <= mid <= p[1]:
                return p
        return max(spans, key=lambda p: p[1] - p[0])

    def box(
        self,
        t: float,
        s: float,
        length: float,
        width: float,
        color: tuple[int, ...],
        height: float = 0.0,
        shade: float = 0.5,
    ) -> None:
        """A filled box with its shadow (``height`` m; 0: flat, no shadow)."""
        p = self.rect(t, s, length, width)
        if height > 0:
            sh = p + self.sun * height
            self.cv.shade(sh, shade)
            self.drawn.append(sh)
        self.cv.fill(p, color)
        self.drawn.append(p)

    def line_t(self, t: float, s0: float, s1: float, color: tuple[int, ...], w: float) -> None:
        """A line across the tracks' direction at t from s0 to s1."""
        a, b = self.o + self.u * t + self.v * s0, self.o + self.u * t + self.v * s1
        self.cv.line(a, b, color, w)
        self.drawn.append(self.rect(t, (s0 + s1) / 2, w, abs(s1 - s0)))

    def line_s(self, s: float, t0: float, t1: float, color: tuple[int, ...], w: float) -> None:
        """A line along the tracks' direction at s from t0 to t1."""
        a, b = self.o + self.u * t0 + self.v * s, self.o + self.u * t1 + self.v * s
        self.cv.line(a, b, color, w)
        self.drawn.append(self.rect((t0 + t1) / 2, s, abs(t1 - t0), w))


def _tone(col: tuple[int, ...], f: float) -> tuple[int, ...]:
    return tuple(int(min(255, max(0, x * f))) for x in col)


def _platform(tr: _Track, t0: float, t1: float, s0: float, s1: float, height: float) -> None:
    """A platform roof or canopy (or a bare platform): sections between cross joints in
    slightly different tones, a light rim, skylights or roof units."""
    rng = tr.cv.rng
    w, sc = s1 - s0, (s0 + s1) / 2
    roof = _col(rng, ROOFS[rng.integers(len(ROOFS))], 15)
    tr.box((t0 + t1) / 2, sc, t1 - t0, w, roof, height, float(rng.uniform(0.3, 0.6)))
    if rng.random() < 0.6:  # sections between joints, each a little lighter or darker
        step = float(rng.uniform(8.0, 25.0))
        joint = _tone(roof, float(rng.choice([0.6, 1.6])))
        t = t0 + float(rng.uniform(0, step))
        while t < t1 - step:
            f = float(rng.uniform(0.88, 1.12))
            tr.box(t + step / 2, sc, step, w - 0.2, _tone(roof, f))
            tr.line_t(t, s0, s1, joint, float(rng.uniform(0.2, 0.6)))
            t += step
    if rng.random() < 0.6:  # light rim along both long edges
        rim = _col(rng, (215, 215, 210), 15)
        rw = float(rng.uniform(0.3, 0.8))
        tr.line_s(s0 + rw / 2, t0, t1, rim, rw)
        tr.line_s(s1 - rw / 2, t0, t1, rim, rw)
    if rng.random() < 0.3:  # a skylight or ridge strip along the middle
        tr.line_s(sc, t0, t1, _tone(roof, float(rng.choice([0.55, 1.5]))), rng.uniform(0.5, 2))
    if rng.random() < 0.4:  # roof units, lift shafts
        for _ in range(int(rng.integers(1, 6))):
            ln, wd = float(rng.uniform(1.0, 4.0)), float(rng.uniform(1.0, min(3.0, w - 1)))
            t = float(rng.uniform(t0 + ln, t1 - ln)) if t1 - t0 > 2 * ln else (t0 + t1) / 2
            s = float(rng.uniform(s0 + wd / 2 + 0.3, max(s1 - wd / 2 - 0.3, s0 + wd / 2 + 0.3)))
            tr.box(t, s, ln, wd, _col(rng, (150, 150, 150), 50), float(rng.uniform(0.5, 1.5)))


def _vehicle(
    tr: _Track, t: float, s: float, length: float, width: float, along: bool, kind: str
) -> None:
    """A parked car, van or lorry at (t, s), along the tracks or across them."""
    rng = tr.cv.rng
    ln, wd = (length, width) if along else (width, length)
    body = _col(rng, VEHICLES[rng.integers(len(VEHICLES))], 12)
    height = {"car": 1.5, "van": 2.3, "lorry": 3.8}[kind]
    tr.box(t, s, ln, wd, body, height, 0.5)
    sign = 1.0 if rng.random() < 0.5 else -1.0
    if kind == "lorry":  # cab at one end in another colour, a gap, the box or tank behind
        cab = _col(rng, VEHICLES[rng.integers(len(VEHICLES))], 12)
        c = 2.3
        if along:
            tr.box(t + sign * (ln / 2 - c / 2), s, c, wd, cab)
            tr.line_t(t + sign * (ln / 2 - c - 0.2), s - wd / 2, s + wd / 2, (40, 40, 40), 0.3)
        else:
            tr.box(t, s + sign * (wd / 2 - c / 2), ln, c, cab)
            tr.line_s(s + sign * (wd / 2 - c - 0.2), t - ln / 2, t + ln / 2, (40, 40, 40), 0.3)
    else:  # windscreen
        glass = (35, 40, 45)
        f = 0.3 if kind == "car" else 0.15
        if along:
            tr.box(t + sign * length * (0.5 - f), s, length * 0.18, wd * 0.85, glass)
        else:
            tr.box(t, s + sign * length * (0.5 - f), ln * 0.85, length * 0.18, glass)


def _carpark(tr: _Track, t0: float, t1: float, s0: float, s1: float, side: float) -> None:
    """Paving with rows of parked cars along its kerb (bays across the tracks or cars
    parked along the kerb), painted bay lines, a planter strip on the track side."""
    rng = tr.cv.rng
    pave = _col(rng, PAVING[rng.integers(len(PAVING))], 10)
    tr.box((t0 + t1) / 2, (s0 + s1) / 2, t1 - t0, s1 - s0, pave)
    near = s0 if side > 0 else s1  # the edge towards the tracks
    if rng.random() < 0.6:  # kerb or planter strip
        kw = float(rng.uniform(0.3, 2.0))
        col = _col(rng, (80, 105, 60), 20) if kw > 1.0 else _col(rng, (200, 200, 195), 15)
        tr.line_s(near + side * kw / 2, t0, t1, col, kw)
    rows = [near + side * 0.5, s1 - 0.5 if side > 0 else s0 + 0.5]
    if abs(s1 - s0) < 14:
        rows = rows[:1]
    lines = rng.random() < 0.5
    for k, edge in enumerate(rows):
        across = rng.random() < 0.75
        occ = float(rng.uniform(0.3, 0.95))
        d = side if k == 0 else -side  # into the car park from its edge
        pitch = float(rng.uniform(2.4, 2.7)) if across else float(rng.uniform(5.5, 7.0))
        depth = 5.0 if across else 2.2
        t = t0 + float(rng.uniform(0.5, 2.0))
        while t + pitch < t1:
            if lines and across:
                tr.line_t(t, edge, edge + d * depth, (225, 225, 220), 0.12)
            if rng.random() < occ:
                van = rng.random() < 0.1
                dims = VAN if van else PARKED_CAR
                ln, wd = float(rng.uniform(*dims[0])), float(rng.uniform(*dims[1]))
                if ln <= (depth + 1.5 if across else pitch - 0.4):
                    off = (ln if across else wd) / 2 + float(rng.uniform(0.2, 0.6))
                    tc = t + pitch / 2 + float(rng.normal(0, 0.1))
                    _vehicle(tr, tc, edge + d * off, ln, wd, not across, "van" if van else "car")
            t += pitch


def _service(tr: _Track, t0: float, t1: float, s0: float, s1: float) -> None:
    """A service road with lorries, vans and cars along it, or a lorry park: lorries
    side by side, parallel to the tracks."""
    rng = tr.cv.rng
    pave = _col(rng, PAVING[rng.integers(len(PAVING))], 10)
    tr.box((t0 + t1) / 2, (s0 + s1) / 2, t1 - t0, s1 - s0, pave)
    w = s1 - s0
    if w > 12:  # lorry park
        pitch = float(rng.uniform(3.5, 5.0))
        rows = [float(x) for x in np.arange(s0 + pitch / 2, s1 - pitch / 2 + 1e-6, pitch)]
        lines = rng.random() < 0.5
        ln0 = float(rng.uniform(*LORRY[0]))
        t = t0 + float(rng.uniform(1, 10))
        while t + ln0 < t1:
            for s in rows:
                if lines:
                    tr.line_s(s - pitch / 2, t - 0.5, t + ln0 + 0.5, (220, 220, 215), 0.12)
                if rng.random() < 0.7:
                    ln = min(ln0, float(rng.uniform(*LORRY[0])))
                    _vehicle(tr, t + ln0 / 2, s, ln, float(rng.uniform(*LORRY[1])), True, "lorry")
            t += ln0 + float(rng.uniform(3.0, 12.0))
        return
    if rng.random() < 0.5:  # dashed centre line
        for t in np.arange(t0, t1 - 3, 9.0):
            tr.line_s((s0 + s1) / 2, float(t), float(t) + 3.0, (225, 225, 215), 0.15)
    lanes = [s0 + w / 4, s1 - w / 4]
    for s in lanes:
        t = t0 + float(rng.uniform(0, 30))
        while t < t1:
            kind = str(rng.choice(["lorry", "van", "car"], p=[0.5, 0.2, 0.3]))
            dims = {"lorry": LORRY, "van": VAN, "car": PARKED_CAR}[kind]
            ln, wd = float(rng.uniform(*dims[0])), float(rng.uniform(*dims[1]))
            if t + ln > t1:
                break
            _vehicle(tr, t + ln / 2, s + float(rng.normal(0, 0.2)), ln, wd, True, kind)
            t += ln + float(rng.exponential(15.0)) + 1.0


def _shed(tr: _Track, t0: float, t1: float, s0: float, s1: float, height: float) -> None:
    """A long shed or warehouse: a ridge roof in two tones, or a flat roof with rows of
    skylights and roof units."""
    rng = tr.cv.rng
    roof = _col(rng, ROOFS[rng.integers(len(ROOFS))], 15)
    sc, w = (s0 + s1) / 2, s1 - s0
    tr.box((t0 + t1) / 2, sc, t1 - t0, w, roof, height, float(rng.uniform(0.35, 0.6)))
    if rng.random() < 0.4:  # ridge along the tracks: one half lit, one darker
        tr.box((t0 + t1) / 2, (s0 + sc) / 2, t1 - t0, w / 2, _tone(roof, rng.uniform(0.7, 1.3)))
        tr.line_s(sc, t0, t1, _tone(roof, 1.3), 0.4)
    elif rng.random() < 0.7:  # skylight rows across or along
        sky = _col(rng, (210, 215, 220), 20) if rng.random() < 0.6 else _col(rng, (50, 55, 60))
        sw = float(rng.uniform(0.8, 2.0))
        if rng.random() < 0.5:
            for t in np.arange(t0 + 2, t1 - 2, rng.uniform(4.0, 9.0)):
                tr.line_t(float(t), s0 + 1.5, s1 - 1.5, sky, sw)
        else:
            for s in np.arange(s0 + 2.5, s1 - 2.0, rng.uniform(4.0, 8.0)):
                tr.line_s(float(s), t0 + 1.5, t1 - 1.5, sky, sw)
    for _ in range(int(rng.integers(0, 8))):  # HVAC units
        ln, wd = float(rng.uniform(1.5, 5.0)), float(rng.uniform(1.0, 3.0))
        if t1 - t0 < 2 * ln + 2 or w < wd + 2:
            break
        t = float(rng.uniform(t0 + ln, t1 - ln))
        s = float(rng.uniform(s0 + wd / 2 + 1, s1 - wd / 2 - 1))
        tr.box(t, s, ln, wd, _col(rng, (170, 170, 170), 40), float(rng.uniform(0.8, 2.0)))


def _ramp(tr: _Track, t0: float, t1: float, s0: float, s1: float, height: float) -> None:
    """A loading ramp: a raised concrete strip, with pallets or crates on it."""
    rng = tr.cv.rng
    top = _col(rng, (165, 162, 155), 25)
    tr.box((t0 + t1) / 2, (s0 + s1) / 2, t1 - t0, s1 - s0, top, height, 0.55)
    for _ in range(int(rng.integers(0, 6))):
        ln = float(rng.uniform(1.0, 2.5))
        if t1 - t0 < 2 * ln or s1 - s0 < ln + 0.5:
            break
        t = float(rng.uniform(t0 + ln, t1 - ln))
        s = float(rng.uniform(s0 + ln / 2 + 0.2, s1 - ln / 2 - 0.2))
        tr.box(t, s, ln, ln * 0.8, _col(rng, (150, 120, 80), 40), 0.8)


def _wall(tr: _Track, t0: float, t1: float, s0: float, s1: float, height: float) -> None:
    """A noise wall: a thin long wall with a long shadow, posts now and then."""
    rng = tr.cv.rng
    col = _col(rng, [(140, 140, 135), (90, 110, 80), (120, 95, 75)][rng.integers(3)], 15)
    tr.box((t0 + t1) / 2, (s0 + s1) / 2, t1 - t0, s1 - s0, col, height, 0.5)
    if rng.random() < 0.5:
        for t in np.arange(t0 + 1, t1 - 1, rng.uniform(4.0, 6.0)):
            tr.box(float(t), (s0 + s1) / 2, 0.3, (s1 - s0) + 0.3, _tone(col, 0.6))


def _trackside(
    cv: _Canvas,
    sun: np.ndarray,
    centre: np.ndarray,
    ang: float,
    track_s: list[float],
    cars: list[SynthCar],
) -> list[np.ndarray]:
    """Draw track-side clutter beside a bundle whose tracks lie at across offsets
    ``track_s`` (metres from ``centre`` along the normal of ``ang``): one to three things
    on either side, each beyond the previous one, and sometimes an island platform in
    place of an inner track. Nothing (shadows included) comes within CAR_CLEARANCE of a
    car in ``cars``. Returns the drawn polygons (metres)."""
    rng = cv.rng
    tr = _Track(cv, sun, centre, ang, cars)
    kinds = list(TRACKSIDE_KINDS)
    probs = np.array(list(TRACKSIDE_KINDS.values()))
    front = {-1.0: min(track_s), 1.0: max(track_s)}
    placed = {-1.0: 0, 1.0: 0}
    items: list[tuple[str, float, float, float, float]] = []  # kind, side, s0, s1, height
    for _ in range(int(rng.integers(1, 4))):
        kind = str(rng.choice(kinds, p=probs / probs.sum()))
        side = -1.0 if rng.random() < 0.5 else 1.0
        gap, w, h = (float(rng.uniform(*r)) for r in TRACKSIDE_LAYOUT[kind])
        if placed[side] and kind in ("platform", "ramp"):
            gap += 2.0  # beyond something else, not at the track's edge
        near = front[side] + side * gap
        far = near + side * w
        items.append((kind, side, min(near, far), max(near, far), h))
        front[side] = far
        placed[side] += 1
    inner = sorted(track_s)[1:-1]
    if inner and rng.random() < 0.3:  # island platform in place of an inner track
        spacing = (max(track_s) - min(track_s)) / (len(track_s) - 1)
        s = float(inner[rng.integers(len(inner))])
        half = spacing - float(rng.uniform(2.0, 2.6))
        items.append(("platform", 0.0, s - half, s + half, float(rng.uniform(0.8, 5.0))))
    for kind, side, s0, s1, h in items:
        reach = {"carpark": 2.4, "service": 3.9, "shed": h + 2.0, "platform": h + 1.5}
        height = reach.get(kind, h)  # the tallest thing it may hold, for the shadows
        ln = float(rng.uniform(30.0, 400.0)) if kind != "shed" else float(rng.uniform(40, 250))
        tc = float(rng.uniform(tr.t_lo, tr.t_hi))
        t0, t1 = max(tc - ln / 2, tr.t_lo), min(tc + ln / 2, tr.t_hi)
        span = tr.free(t0, t1, s0, s1, height) if t1 > t0 else None
        if span is None or span[1] - span[0] < min(15.0, ln):
            continue
        t0, t1 = span
        if kind == "platform":
            _platform(tr, t0, t1, s0, s1, h)
        elif kind == "carpark":
            _carpark(tr, t0, t1, s0, s1, side)
        elif kind == "service":
            _service(tr, t0, t1, s0, s1)
        elif kind == "shed":
            _shed(tr, t0, t1, s0, s1, h)
        elif kind == "ramp":
            _ramp(tr, t0, t1, s0, s1, h)
        else:
            _wall(tr, t0, t1, s0, s1, h)
    return tr.drawn


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


#: Sleepers (concrete, wood) and rail heads (bright steel, rust) of detailed track.
SLEEPERS = [(150, 148, 142), (128, 126, 120), (72, 62, 52), (95, 82, 66)]
RAILS = [(190, 188, 182), (150, 148, 145), (112, 84, 62), (88, 70, 58)]


def _detailed_track(
    cv: _Canvas,
    centre: np.ndarray,
    ang: float,
    offsets: list[float],
    spacing: float,
    span: float,
) -> None:
    """Track drawn closer to how real track looks from above (``draw_yard(track_detail=)``):
    one ballast bed under the whole bundle with a grain of 0.3–2 m and brown, rusty
    patches; on every track sleepers at 0.6 m (drawn one by one where the pixel is at
    most 0.2 m, else as their average tone over 2.6 m), two rail heads 1.5 m apart,
    bright or rusty, and on some tracks the dark stain between the rails; now and then a
    crossover between neighbouring tracks."""
    rng = cv.rng
    a = np.deg2rad(ang)
    u, v = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    lo, hi = min(offsets) - spacing / 2 - 1.0, max(offsets) + spacing / 2 + 1.0
    bed = _rect(*_xy(centre + v * (lo + hi) / 2), span * 2, hi - lo, ang)
    ballast = np.array(_col(rng, BALLAST[rng.integers(len(BALLAST))], 5), np.float32)
    ballast = np.clip(ballast * rng.uniform(0.85, 1.2), 0, 255)  # grey-brown, lighter or darker
    mask = np.zeros((cv.n, cv.n), np.float32)
    cv2.fillPoly(mask, [cv.pts(bed)], 1.0, cv2.LINE_AA, shift=3)
    tex = ballast + _noise_field(rng, cv.n, rng.uniform(0.3, 2.0) / cv.px)[..., None] * (
        rng.uniform(6, 18)
    )
    rust = _noise_field(rng, cv.n, rng.uniform(4, 20) / cv.px)[..., None]
    tex = tex + np.clip(rust, 0, None) * np.array([14, 4, -6], np.float32) * rng.uniform(0, 1.5)
    cv.img[:] = cv.img * (1 - mask[..., None]) + tex * mask[..., None]
    sleeper = _col(rng, SLEEPERS[rng.integers(len(SLEEPERS))], 10)
    for off in offsets:
        o = centre + v * off
        if cv.px <= 0.2:
            for t in np.arange(-span, span, 0.6) + rng.uniform(0, 0.6):
                q = o + u * t
                cv.line(q - v * 1.3, q + v * 1.3, sleeper, 0.25)
        else:  # sleepers below the pixel: their average tone over the bed they sit in
            mix = tuple(int(0.6 * b + 0.4 * t) for b, t in zip(ballast, sleeper, strict=True))
            cv.fill(_rect(*_xy(o), span * 2, 2.6, ang), _col(rng, mix, 6))
        if rng.random() < 0.5:  # oil and brake dust between the rails
            cv.shade(_rect(*_xy(o), span * 2, rng.uniform(0.8, 1.3), ang), rng.uniform(0.65, 0.9))
        rail = _col(rng, RAILS[rng.integers(len(RAILS))], 12)
        for side in (-0.75, 0.75):
            cv.line(o + v * side - u * span, o + v * side + u * span, rail, 0.07)
    for _ in range(int(rng.integers(0, 3)) if len(offsets) > 1 else 0):
        k = int(rng.integers(len(offsets) - 1))
        t0 = rng.uniform(-span / 3, span / 3)
        run = spacing / np.tan(np.deg2rad(rng.uniform(5, 9)))  # a turnout's shallow angle
        p0 = centre + v * offsets[k] + u * t0
        p1 = centre + v * offsets[k + 1] + u * (t0 + run)
        rail = _col(rng, RAILS[rng.integers(len(RAILS))], 12)
        for side in (-0.75, 0.75):
            cv.line(p0 + v * side, p1 + v * side, rail, 0.07)


def draw_yard(
    rng: np.random.Generator,
    size_m: float,
    px: float,
    *,
    occupied: bool = True,
    trackside: float = 0.0,
    track_detail: float = 0.0,
    exact: bool = False,
) -> tuple[np.ndarray, list[SynthCar]]:
    """Draw one square yard ``size_m`` metres wide at ``px`` metres per pixel; with
    ``occupied=False`` the tracks stay empty. ``trackside`` is the chance that a yard with
    tracks also gets track-side clutter (``_trackside``: platforms, car parks, service
    roads and lorry parks, sheds, ramps, noise walls beside and parallel to the tracks,
    island platforms between them; never over a car). At 0 (the default) nothing is drawn
    and no random number is taken for it: the image and the generator's stream are
    exactly those of the drawer before the option existed. ``track_detail`` is the chance
    that a yard's track is drawn by ``_detailed_track`` (one textured ballast bed,
    sleepers, bright or rusty rail heads, stains, crossovers) instead of a flat bed per
    track with thin rails; at 0 the same holds.

    ``exact`` fills every polygon at its true area (see :class:`_Canvas`); it takes no
    random number, so the yard drawn is the same, only its outlines differ.

    Returns the uint8 RGB image and the cars (metres, same frame as the image)."""
    cv = _Canvas(size_m, px, rng, exact=exact)
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
        detailed = track_detail > 0.0 and rng.random() < track_detail
        if detailed:
            offsets = [off0 + k * spacing for k in range(ntr)]
            _detailed_track(cv, centre, float(ang), offsets, spacing, span)
        for k in range(0 if detailed else ntr):
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
        if trackside > 0.0 and rng.random() < trackside:
            track_s = [off0 + k * spacing for k in range(ntr)]
            _trackside(cv, sun, centre, float(ang), track_s, cars)
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
