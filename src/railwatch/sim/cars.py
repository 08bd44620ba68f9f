"""Rolling stock: 1520 mm-gauge dimensions (DOMAIN.md), loads, paint, and the
placement of cars in coupled strings on the yard's tracks."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from railwatch.sim.params import RGB, SIM_CLASSES, Paint
from railwatch.sim.yard import Yard


@dataclass(frozen=True)
class CarSpec:
    """Length over couplers range (m), body width (m), height above rail top (m)."""

    length: tuple[float, float]
    width: float
    height: float


#: Dimensions by class (DOMAIN.md; heights from type drawings, rounded).
CAR_SPECS: dict[str, CarSpec] = {
    "gondola": CarSpec((13.92, 13.92), 3.16, 3.5),
    "hopper": CarSpec((13.92, 14.72), 3.25, 3.6),
    "tank": CarSpec((12.02, 12.02), 3.25, 4.6),
    "flat": CarSpec((14.62, 14.62), 2.87, 1.35),
    "container": CarSpec((15.02, 15.02), 2.81, 3.95),
    "boxcar": CarSpec((16.0, 17.5), 3.2, 4.7),
    "locomotive": CarSpec((18.2, 21.0), 3.2, 5.0),
}
#: The body drawn (and the truth polygon) is this much shorter than the length
#: over couplers, which leaves about 1 m of ground visible between coupled cars.
COUPLER_GAP = 0.95
OPEN_CLASSES = ("gondola", "hopper", "flat")

#: Relative frequency of classes when only a car count is given.
DEFAULT_MIX: dict[str, float] = {
    "gondola": 0.26,
    "hopper": 0.18,
    "tank": 0.18,
    "flat": 0.1,
    "container": 0.1,
    "boxcar": 0.13,
    "locomotive": 0.05,
}

LOADS = ("empty", "ore", "coal", "gravel", "timber", "tarp", "containers", "roof")
#: Hatch colours of covered hoppers' roofs (``load == "roof"``): dark steel, the body's
#: grey, rust, a light galvanised grey.
ROOF_HATCH_COLORS: tuple[RGB, ...] = ((58, 58, 60), (120, 120, 118), (112, 72, 52), (178, 178, 172))
ORE_COLORS: tuple[RGB, ...] = ((96, 66, 52), (76, 68, 62), (108, 80, 62), (62, 56, 52))
COAL_COLORS: tuple[RGB, ...] = ((36, 36, 38), (46, 44, 44))


@dataclass(frozen=True)
class Car:
    """One railcar placed in the scene (local metres, ground footprint centre)."""

    id: int
    cls: str
    cx: float
    cy: float
    angle: float  # radians
    length: float  # body length (m)
    width: float
    height: float
    covered: bool
    load: str
    paint: RGB
    accent: RGB  # tarp, load or container colour
    rust: float  # 0..1 amount of rust patches
    detail_seed: int

    def corners(self, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
        c, s = np.cos(self.angle), np.sin(self.angle)
        u = np.array([c, s]) * self.length / 2.0
        v = np.array([-s, c]) * self.width / 2.0
        p = np.array([self.cx + dx, self.cy + dy])
        return np.stack([p - u - v, p + u - v, p + u + v, p - u + v])


def _jitter(rng: np.random.Generator, c: RGB, sd: float = 8.0) -> RGB:
    j = rng.normal(0, sd) + rng.normal(0, sd * 0.3, 3)  # mostly brightness, a little hue
    return (
        max(0, min(255, int(c[0] + j[0]))),
        max(0, min(255, int(c[1] + j[1]))),
        max(0, min(255, int(c[2] + j[2]))),
    )


def class_counts(
    rng: np.random.Generator, n_cars: int, exact: tuple[tuple[str, int], ...] | None
) -> dict[str, int]:
    """Counts by class: the exact ones given, or ``n_cars`` drawn with a random mix."""
    if exact is not None:
        return {k: v for k, v in exact if v > 0}
    weights = np.array([DEFAULT_MIX[c] for c in SIM_CLASSES]) * rng.gamma(
        1.2, 1.0, len(SIM_CLASSES)
    )
    weights /= weights.sum()
    drawn = rng.multinomial(n_cars, weights)
    return {c: int(k) for c, k in zip(SIM_CLASSES, drawn, strict=True) if k > 0}


def _strings(rng: np.random.Generator, counts: dict[str, int]) -> list[list[str]]:
    """Split the cars into coupled strings (cuts) of mostly one class."""
    locos = counts.get("locomotive", 0)
    chunks: list[list[str]] = []
    for cls, n in counts.items():
        if cls == "locomotive":
            continue
        left = n
        while left > 0:
            k = min(left, int(rng.integers(3, 30)))
            chunks.append([cls] * k)
            left -= k
    order = rng.permutation(len(chunks))
    chunks = [chunks[i] for i in order]
    # Merge some neighbouring chunks into mixed strings; put locomotives at heads.
    strings: list[list[str]] = []
    for chunk in chunks:
        if strings and rng.random() < 0.3 and len(strings[-1]) + len(chunk) < 45:
            strings[-1].extend(chunk)
        else:
            strings.append(list(chunk))
    for _ in range(locos):
        if strings and rng.random() < 0.8:
            s = strings[int(rng.integers(len(strings)))]
            s.insert(0 if rng.random() < 0.5 else len(s), "locomotive")
        else:
            strings.append(["locomotive"])
    return strings


def place_cars(
    rng: np.random.Generator,
    yard: Yard,
    counts: dict[str, int],
    *,
    covered_fraction: float,
    paint: Paint,
    extent: tuple[float, float],
    margin: float = 8.0,
    roofed_hoppers: float = 0.0,
) -> list[Car]:
    """Put the cars on the yard's tracks as coupled strings with ~1 m gaps.

    Cars that do not fit on the tracks inside the scene are left out, so the
    truth always matches what is drawn.
    """
    w, h = extent
    slots: list[tuple[np.ndarray, np.ndarray, float, float]] = []  # start, dir, lo, hi
    for track in yard.tracks:
        for start, d, length in track.slots:
            lo, hi = _clip_segment(start, d, length, w / 2 - margin, h / 2 - margin)
            if hi - lo > 20.0:
                slots.append((start, d, lo, hi))
    free: list[list[tuple[float, float]]] = [[(lo, hi)] for _, _, lo, hi in slots]
    cars: list[Car] = []
    next_id = 1
    for string in _strings(rng, counts):
        pitches = [float(rng.uniform(*CAR_SPECS[c].length)) for c in string]
        pieces = [(string, pitches)]
        while pieces:
            cls_list, pitch_list = pieces.pop()
            need = sum(pitch_list) + 0.2 * len(pitch_list)
            placed = _find_space(rng, free, need)
            if placed is None:
                if len(cls_list) > 1:  # split the cut and try the halves
                    k = len(cls_list) // 2
                    pieces.append((cls_list[:k], pitch_list[:k]))
                    pieces.append((cls_list[k:], pitch_list[k:]))
                continue
            slot_i, s0 = placed
            start, d, _, _ = slots[slot_i]
            tarp_string = rng.random() < covered_fraction
            # Cars of one string mostly share a livery and a load (block trains).
            livery: dict[str, RGB] = {}
            string_load: dict[str, tuple[str, RGB]] = {}
            s = s0
            for cls, pitch in zip(cls_list, pitch_list, strict=True):
                s += float(rng.uniform(0.0, 0.2))
                centre = start + d * (s + pitch / 2.0)
                s += pitch
                car = _make_car(
                    rng,
                    next_id,
                    cls,
                    centre,
                    d,
                    pitch,
                    tarp_string,
                    covered_fraction,
                    paint,
                    roofed_hoppers,
                )
                key = f"{cls}:{car.covered}"
                if key not in livery:
                    livery[key] = car.paint
                    string_load[key] = (car.load, car.accent)
                elif rng.random() < 0.85:
                    load, accent = car.load, car.accent
                    if rng.random() < 0.8:
                        load, accent = string_load[key]
                        accent = _jitter(rng, accent, 4) if load != "empty" else accent
                    car = replace(car, paint=_jitter(rng, livery[key], 5), load=load, accent=accent)
                cars.append(car)
                next_id += 1
    return cars


def _clip_segment(
    start: np.ndarray, d: np.ndarray, length: float, hx: float, hy: float
) -> tuple[float, float]:
    """Parameter range [lo, hi] of start + t*d (0 <= t <= length) inside |x|<hx, |y|<hy."""
    lo, hi = 0.0, length
    for k, lim in ((0, hx), (1, hy)):
        if abs(d[k]) < 1e-9:
            if abs(start[k]) > lim:
                return 0.0, 0.0
            continue
        t1 = (-lim - start[k]) / d[k]
        t2 = (lim - start[k]) / d[k]
        lo, hi = max(lo, min(t1, t2)), min(hi, max(t1, t2))
    return lo, max(lo, hi)


def _find_space(
    rng: np.random.Generator, free: list[list[tuple[float, float]]], need: float
) -> tuple[int, float] | None:
    options = [
        (i, j) for i, gaps in enumerate(free) for j, (a, b) in enumerate(gaps) if b - a >= need
    ]
    if not options:
        return None
    i, j = options[int(rng.integers(len(options)))]
    a, b = free[i][j]
    # Strings tend to stand near one end of the track (pushed up to a stop).
    slack = b - a - need
    r = rng.random()
    s0 = a if r < 0.35 else (a + slack if r < 0.7 else a + rng.uniform(0, slack))
    gap_before, gap_after = (a, s0), (s0 + need, b)
    new = [g for g in (gap_before, gap_after) if g[1] - g[0] > 12.0]
    free[i][j : j + 1] = new
    return i, float(s0)


def _make_car(
    rng: np.random.Generator,
    car_id: int,
    cls: str,
    centre: np.ndarray,
    d: np.ndarray,
    pitch: float,
    tarp_string: bool,
    covered_fraction: float,
    paint: Paint,
    roofed_hoppers: float = 0.0,
) -> Car:
    spec = CAR_SPECS[cls]
    covered = False
    load = "empty"
    accent: RGB = (0, 0, 0)
    if cls in OPEN_CLASSES:
        p_cover = 0.85 if tarp_string else covered_fraction * 0.15
        covered = bool(rng.random() < p_cover)
        if covered:
            load = "tarp"
            accent = _jitter(rng, paint.tarp[int(rng.integers(len(paint.tarp)))], 10)
        elif cls == "flat":
            load = str(rng.choice(["empty", "empty", "timber"]))
            accent = _jitter(rng, (150, 120, 90), 12)
        elif cls == "hopper" and roofed_hoppers > 0 and rng.random() < roofed_hoppers:
            load = "roof"  # a covered hopper (grain, cement): a roof, not a tarpaulin
            accent = _jitter(rng, ROOF_HATCH_COLORS[int(rng.integers(len(ROOF_HATCH_COLORS)))], 8)
        elif cls == "hopper":  # ore cars: mostly loaded with dark ore or coal
            load = str(rng.choice(["ore"] * 5 + ["coal"] * 3 + ["empty"] * 2 + ["gravel"]))
        else:
            load = str(rng.choice(["empty"] * 3 + ["ore"] * 2 + ["coal"] * 2 + ["gravel"]))
        if load in ("ore", "coal", "gravel"):
            if load == "ore":
                accent = _jitter(rng, ORE_COLORS[int(rng.integers(len(ORE_COLORS)))], 6)
            elif load == "coal":
                accent = _jitter(rng, COAL_COLORS[int(rng.integers(len(COAL_COLORS)))], 3)
            elif load == "gravel":
                accent = _jitter(rng, (132, 126, 118), 8)
    elif cls == "container":
        load = "containers"
        accent = (0, 0, 0)
    if cls == "tank":
        body = paint.tank[int(rng.integers(len(paint.tank)))]
    elif cls == "locomotive":
        body = paint.loco[int(rng.integers(len(paint.loco)))]
    else:
        body = paint.body[int(rng.integers(len(paint.body)))]
    rust = float(rng.uniform(0.2, 1.0)) if rng.random() < paint.rust else 0.0
    height = spec.height + float(rng.normal(0, 0.05))
    if load == "roof":  # a covered hopper's roof stands about a metre above an ore hopper
        height += 1.0
    return Car(
        id=car_id,
        cls=cls,
        cx=float(centre[0] + rng.normal(0, 0.03)),
        cy=float(centre[1] + rng.normal(0, 0.03)),
        angle=float(np.arctan2(d[1], d[0]) + rng.normal(0, 0.002)),
        length=pitch - COUPLER_GAP,
        width=spec.width,
        height=height,
        covered=covered,
        load=load,
        paint=_jitter(rng, body, 7),
        accent=accent,
        rust=rust,
        detail_seed=int(rng.integers(0, 2**31 - 1)),
    )
