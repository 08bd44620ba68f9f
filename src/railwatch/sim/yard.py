"""Yard layout: tracks, ladders and switches, roads, buildings, trees, masts,
container stacks and trucks, in local metres (x east, y north, origin at the
scene centre). Pure geometry; drawing is in :mod:`railwatch.sim.render`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from railwatch.sim.params import RGB, Style

Array = np.ndarray


@dataclass(frozen=True)
class Track:
    """A track centreline (N, 2) in metres; ``slots`` are straight stretches
    where cars may stand: (start point, unit direction, length)."""

    line: Array
    kind: str  # "yard" | "main" | "ladder" | "siding"
    slots: tuple[tuple[Array, Array, float], ...] = ()


@dataclass(frozen=True)
class Box:
    """An oriented box standing on the ground: centre, size, heading, height."""

    cx: float
    cy: float
    length: float
    width: float
    angle: float  # radians, long axis counter-clockwise from east
    height: float
    color: RGB
    kind: str  # "shed" | "house" | "container" | "truck" | "trailer" | "tank"

    def corners(self) -> Array:
        c, s = np.cos(self.angle), np.sin(self.angle)
        u = np.array([c, s]) * self.length / 2.0
        v = np.array([-s, c]) * self.width / 2.0
        p = np.array([self.cx, self.cy])
        return np.stack([p - u - v, p + u - v, p + u + v, p - u + v])


@dataclass(frozen=True)
class Road:
    line: Array
    width: float
    paved: bool


@dataclass(frozen=True)
class Yard:
    """Everything static in a scene (the site), independent of the date."""

    tracks: tuple[Track, ...]
    ballast: tuple[Array, ...]  # polygons of the ballast bed
    pads: tuple[Array, ...]  # concrete/gravel aprons
    roads: tuple[Road, ...]
    boxes: tuple[Box, ...]  # buildings, container stacks, trucks
    trees: Array  # (N, 3): x, y, crown radius
    masts: Array  # (N, 3): x, y, height
    water: tuple[Array, ...]
    portals: Array  # (N, 5): x0, y0, x1, y1, height of catenary portals
    angle: float  # yard axis, radians


def _rot(angle: float) -> Array:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _bezier(p0: Array, p1: Array, p2: Array, n: int = 12) -> Array:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def _arc_extension(p: Array, direction: Array, turn: float, length: float) -> Array:
    """A polyline leaving ``p`` along ``direction`` and turning by ``turn`` radians."""
    n = 16
    pts = [p]
    heading = np.arctan2(direction[1], direction[0])
    step = length / n
    cur = p.copy()
    for i in range(n):
        h = heading + turn * (i + 0.5) / n
        cur = cur + step * np.array([np.cos(h), np.sin(h)])
        pts.append(cur)
    return np.array(pts)


def make_yard(
    rng: np.random.Generator,
    extent: tuple[float, float],
    style: Style,
    *,
    n_tracks: int | None = None,
    angle_deg: float | None = None,
    length_m: float | None = None,
    distractors: bool = True,
) -> Yard:
    """Lay out a freight yard inside a scene of ``extent`` (width, height) metres."""
    w, h = extent
    half_diag = 0.5 * float(np.hypot(w, h))
    angle = np.deg2rad(angle_deg if angle_deg is not None else rng.uniform(0, 180))
    rot = _rot(angle)
    ax = rot[:, 0]
    if n_tracks is None:
        n_tracks = int(rng.integers(5, 17))
    # Track centre offsets across the bundle (v), from the main line outwards.
    spacing = rng.uniform(4.6, 5.3)
    gaps = np.full(n_tracks, spacing) + rng.normal(0, 0.08, n_tracks)
    wide = rng.random(n_tracks) < 0.12
    gaps[wide] += rng.uniform(1.5, 4.0, int(wide.sum()))  # mast lines, walkways
    gaps[0] = spacing
    v_tracks = np.cumsum(gaps)
    width_bundle = float(v_tracks[-1])
    v_shift = -width_bundle / 2.0 + rng.uniform(-0.1, 0.1) * min(w, h)
    u_shift = rng.uniform(-0.08, 0.08) * w
    # Extent of the yard along its axis: fits inside the scene for an axis-aligned
    # yard, runs off the image otherwise (as real yards do).
    ca, sa = abs(np.cos(angle)), abs(np.sin(angle))
    inner = (
        min(w / max(ca, 1e-3), h / max(sa, 1e-3)) if min(ca, sa) > 0.05 else (w if ca > sa else h)
    )
    yard_len = float(np.clip(inner * rng.uniform(0.75, 1.0), 120.0, 2.5 * half_diag))
    if length_m is not None:
        yard_len = float(length_m)
    ladder_angle = np.deg2rad(rng.uniform(12.0, 19.0))
    throat = width_bundle / np.tan(ladder_angle)
    body_len = max(yard_len - throat, 60.0)
    u_left = u_shift - body_len / 2.0 - throat / 2.0
    u_right = u_shift + body_len / 2.0 + throat / 2.0

    def world(u: Array | float, v: Array | float) -> Array:
        uu = np.atleast_1d(np.asarray(u, dtype=float))
        vv = np.atleast_1d(np.asarray(v, dtype=float))
        uv = np.stack(np.broadcast_arrays(uu, vv), axis=-1)
        return uv @ rot.T + rot @ np.array([0.0, v_shift])

    tracks: list[Track] = []
    ext = 2.2 * half_diag
    # Main line with gentle curves beyond the yard ends.
    main_a = world(u_left - 40.0, 0.0)[0]
    main_b = world(u_right + 40.0, 0.0)[0]
    turn_l, turn_r = rng.uniform(-0.35, 0.35), rng.uniform(-0.35, 0.35)
    left = _arc_extension(main_a, -ax, turn_l, ext)[::-1]
    right = _arc_extension(main_b, ax, turn_r, ext)
    tracks.append(Track(np.vstack([left, right]), "main"))
    if rng.random() < 0.6:  # a second running line on the other side
        v2 = -rng.uniform(4.8, 5.5)
        a2, b2 = world(u_left - 40, v2)[0], world(u_right + 40, v2)[0]
        l2 = _arc_extension(a2, -ax, turn_l, ext)[::-1]
        r2 = _arc_extension(b2, ax, turn_r, ext)
        tracks.append(Track(np.vstack([l2, r2]), "main"))

    tan_l = np.tan(ladder_angle)
    # Ladders: straight diagonals from the main line across the bundle.
    lad_l = np.vstack([world(u_left, 0.0), world(u_left + width_bundle / tan_l, width_bundle)])
    lad_r = np.vstack([world(u_right, 0.0), world(u_right - width_bundle / tan_l, width_bundle)])
    tracks.append(Track(lad_l, "ladder"))
    tracks.append(Track(lad_r, "ladder"))
    half = 2.5
    curve = half / np.sin(ladder_angle)
    for v in v_tracks:
        cu_l = u_left + v / tan_l  # where the ladder crosses this track's line
        cu_r = u_right - v / tan_l
        p0 = world(cu_l - half / tan_l, v - half)[0]
        p1 = world(cu_l, v)[0]
        p2 = world(cu_l + curve, v)[0]
        q2 = world(cu_r - curve, v)[0]
        q1 = world(cu_r, v)[0]
        q0 = world(cu_r + half / tan_l, v - half)[0]
        line = np.vstack([_bezier(p0, p1, p2), _bezier(q2, q1, q0)])
        start = world(cu_l + curve + 6.0, v)[0]
        length = float((cu_r - curve - 6.0) - (cu_l + curve + 6.0))
        slots = ((start, ax.copy(), length),) if length > 20 else ()
        tracks.append(Track(line, "yard", slots))
    # Ballast bed: trapezoid over the bundle and the ladders.
    m = 3.2
    ballast = [
        np.vstack(
            [
                world(u_left - 30, -m - (5.5 if len(tracks) > 0 else 0)),
                world(u_right + 30, -m - 5.5),
                world(u_right - width_bundle / tan_l, width_bundle + m),
                world(u_left + width_bundle / tan_l, width_bundle + m),
            ]
        )
    ]
    for t in tracks[:2]:
        ballast.append(t.line)  # marker: main-line beds are drawn as wide lines
    roads: list[Road] = []
    boxes: list[Box] = []
    pads: list[Array] = []
    # Service road along the far side of the bundle.
    v_road = width_bundle + rng.uniform(9.0, 22.0)
    road_line = np.vstack([world(u_left - 200, v_road), world(u_right + 200, v_road)])
    roads.append(Road(road_line[:, :], float(rng.uniform(5.0, 8.0)), bool(rng.random() < 0.6)))
    # Cross roads.
    for _ in range(int(rng.integers(1, 4))):
        c = rng.uniform(-0.45, 0.45, 2) * np.array([w, h])
        a = angle + np.pi / 2 + rng.normal(0, 0.3)
        d = np.array([np.cos(a), np.sin(a)])
        c_uv = np.linalg.solve(rot, c - rot @ np.array([0.0, v_shift]))
        if -20 < c_uv[1] < width_bundle + 8 and u_left - 30 < c_uv[0] < u_right + 30:
            continue  # never across the yard bundle
        roads.append(Road(np.vstack([c - d * ext, c + d * ext]), float(rng.uniform(6, 10)), True))
    # Long sheds parallel to the tracks, a station building, warehouses.
    n_sheds = int(rng.integers(1, 4))
    for _ in range(n_sheds):
        length = float(rng.uniform(40, 160))
        width = float(rng.uniform(12, 26))
        side = 1 if rng.random() < 0.7 else -1
        v_c = (
            (v_road + 8 + width / 2 + rng.uniform(0, 30))
            if side > 0
            else (-12 - width / 2 - rng.uniform(0, 25))
        )
        u_c = _between(rng, u_left + 60, u_right - 60)
        c = world(u_c, v_c)[0]
        boxes.append(
            Box(
                float(c[0]),
                float(c[1]),
                length,
                width,
                float(angle),
                float(rng.uniform(6, 11)),
                _pick(rng, style.roofs),
                "shed",
            )
        )
        if distractors and rng.random() < 0.6:  # a parking lot beside it
            _parking(rng, world, u_c, v_c + side * (width / 2 + 11.0), length, angle, boxes, pads)
    # Houses and outbuildings away from the yard, mostly in a village or two.
    scale_k = min(4.0, max(0.2, w * h / 540_000.0))
    villages = [
        rng.uniform(-0.45, 0.45, 2) * np.array([w, h]) for _ in range(int(rng.integers(1, 3)))
    ]
    for _ in range(int(rng.integers(10, 40) * scale_k)):
        if rng.random() < 0.75:
            c = villages[int(rng.integers(len(villages)))] + rng.normal(0, 45, 2)
        else:
            c = rng.uniform(-0.5, 0.5, 2) * np.array([w, h])
        c_uv = np.linalg.solve(rot, c - rot @ np.array([0.0, v_shift]))
        if -30 < c_uv[1] < v_road + 12:
            continue
        boxes.append(
            Box(
                float(c[0]),
                float(c[1]),
                float(rng.uniform(8, 30)),
                float(rng.uniform(6, 14)),
                float(angle + rng.choice([0.0, np.pi / 2]) + rng.normal(0, 0.05)),
                float(rng.uniform(3, 8)),
                _pick(rng, style.roofs),
                "house",
            )
        )
    if distractors:
        _container_stacks(rng, world, u_left, u_right, v_road, boxes, pads, angle)
        _trucks(rng, roads, boxes)
    for _ in range(int(rng.integers(1, 5))):  # dirt paths across the fields
        c = rng.uniform(-0.5, 0.5, 2) * np.array([w, h])
        a = rng.uniform(0, np.pi)
        steps = np.cumsum(rng.normal(0, 0.15, 30)) + a
        pts = c + np.cumsum(np.stack([np.cos(steps), np.sin(steps)], 1) * 25.0, axis=0)
        uv = np.linalg.solve(rot, (pts - rot @ np.array([0.0, v_shift])).T).T
        if not ((uv[:, 1] > -16) & (uv[:, 1] < v_road + 4)).any():
            roads.append(Road(pts, float(rng.uniform(2.0, 3.5)), False))
    # Masts (catenary or lighting) in some inter-track gaps.
    masts: list[tuple[float, float, float]] = []
    portals: list[tuple[float, float, float, float, float]] = []
    if rng.random() < 0.35:  # an electrified yard: portals spanning the bundle
        for u in np.arange(u_left + width_bundle / tan_l + 30, u_right - 30, rng.uniform(55, 70)):
            a_, b_ = world(u, -3.0)[0], world(u, width_bundle + 3.0)[0]
            portals.append((float(a_[0]), float(a_[1]), float(b_[0]), float(b_[1]), 9.5))
            masts.append((float(a_[0]), float(a_[1]), 9.5))
            masts.append((float(b_[0]), float(b_[1]), 9.5))
    elif rng.random() < 0.6:
        lines = [
            v_tracks[i] - gaps[i] / 2 for i in range(1, n_tracks) if wide[i] or rng.random() < 0.2
        ]
        for v in (-2.6, *lines):
            for u in np.arange(u_left + 20, u_right - 20, rng.uniform(50, 65)):
                p = world(u, v)[0]
                masts.append((float(p[0]), float(p[1]), 9.0))
    for _ in range(int(rng.integers(1, 7))):  # tall lighting towers
        p = world(_between(rng, u_left + 50, u_right - 50), v_road - 4.0)[0]
        masts.append((float(p[0]), float(p[1]), float(rng.uniform(18, 30))))
    trees = _trees(rng, w, h, rot, v_shift, width_bundle, v_road, style)
    water: list[Array] = []
    if rng.random() < 0.3:  # a river band along one edge
        y0 = -h / 2 + rng.uniform(0.0, 0.1) * h
        xs = np.linspace(-w, w, 40)
        wob = rng.normal(0, 8, 40).cumsum() * 0.3
        bank = np.stack([xs, y0 + wob], axis=1)
        water.append(np.vstack([bank, [[w, -h], [-w, -h]]]))
    return Yard(
        tracks=tuple(tracks),
        ballast=(ballast[0],),
        pads=tuple(pads),
        roads=tuple(roads),
        boxes=tuple(boxes),
        trees=np.array(trees, dtype=float).reshape(-1, 3),
        masts=np.array(masts, dtype=float).reshape(-1, 3),
        portals=np.array(portals, dtype=float).reshape(-1, 5),
        water=tuple(water),
        angle=float(angle),
    )


def _between(rng: np.random.Generator, a: float, b: float) -> float:
    """Uniform draw between ``a`` and ``b`` (their midpoint when the range is inverted)."""
    return float(rng.uniform(a, b)) if b > a else (a + b) / 2.0


def _local_rect(
    world: Callable[[float, float], Array], u0: float, v0: float, u1: float, v1: float
) -> Array:
    """The rectangle from ``(u0, v0)`` to ``(u1, v1)`` in the yard's own frame (``u``
    along the tracks, ``v`` across), in scene metres through ``world``: its corners
    (u0, v0), (u1, v0), (u1, v1), (u0, v1), shape (4, 2). A pad (container stacks,
    a parking lot)."""
    return np.vstack([world(u0, v0), world(u1, v0), world(u1, v1), world(u0, v1)])


def _pick(rng: np.random.Generator, colors: tuple[RGB, ...]) -> RGB:
    c = colors[int(rng.integers(len(colors)))]
    j = rng.normal(0, 6) + rng.normal(0, 2, 3)
    return (
        int(np.clip(c[0] + j[0], 0, 255)),
        int(np.clip(c[1] + j[1], 0, 255)),
        int(np.clip(c[2] + j[2], 0, 255)),
    )


CONTAINER_COLORS: tuple[RGB, ...] = (
    (160, 60, 40),
    (40, 80, 140),
    (200, 200, 196),
    (110, 110, 108),
    (60, 110, 70),
    (190, 150, 60),
    (140, 40, 40),
    (90, 60, 50),
    (230, 120, 40),
)


def _container_stacks(
    rng: np.random.Generator,
    world: Callable[[float, float], Array],
    u_left: float,
    u_right: float,
    v_road: float,
    boxes: list[Box],
    pads: list[Array],
    angle: float,
) -> None:
    if rng.random() < 0.25:
        return
    to_world = world
    u0 = _between(rng, u_left + 40, u_right - 200)
    v0 = v_road + rng.uniform(10, 20)
    rows, cols = int(rng.integers(2, 6)), int(rng.integers(4, 12))
    pad_len = cols * 13.0 + 10
    pad_w = rows * 2.9 + 10
    pads.append(_local_rect(to_world, u0 - 5, v0 - 5, u0 + pad_len, v0 + pad_w))
    for r in range(rows):
        for c in range(cols):
            if rng.random() < 0.25:
                continue
            long_box = rng.random() < 0.6
            length = 12.19 if long_box else 6.06
            p = to_world(u0 + c * 13.0 + length / 2, v0 + r * 2.9 + 1.22)[0]
            tiers = int(rng.integers(1, 4))
            boxes.append(
                Box(
                    float(p[0]),
                    float(p[1]),
                    length,
                    2.44,
                    angle,
                    2.6 * tiers,
                    _pick(rng, CONTAINER_COLORS),
                    "container",
                )
            )


VEHICLE_COLORS: tuple[RGB, ...] = (
    (200, 200, 198),
    (40, 40, 44),
    (150, 150, 152),
    (110, 30, 30),
    (40, 60, 110),
    (90, 90, 86),
)


def _parking(
    rng: np.random.Generator,
    world: Callable[[float, float], Array],
    u_c: float,
    v_c: float,
    length: float,
    angle: float,
    boxes: list[Box],
    pads: list[Array],
) -> None:
    """An asphalt lot with two rows of parked cars (4.5 x 1.8 m)."""
    half = min(length, 80.0) / 2.0
    pads.append(_local_rect(world, u_c - half, v_c - 7.5, u_c + half, v_c + 7.5))
    for row in (-4.0, 4.0):
        for u in np.arange(u_c - half + 2.0, u_c + half - 2.0, 2.7):
            if rng.random() < 0.45:
                continue
            p = world(float(u), v_c + row)[0]
            boxes.append(
                Box(
                    float(p[0]),
                    float(p[1]),
                    4.5,
                    1.8,
                    float(angle + np.pi / 2),
                    1.5,
                    _pick(rng, VEHICLE_COLORS),
                    "vehicle",
                )
            )


def _trucks(rng: np.random.Generator, roads: list[Road], boxes: list[Box]) -> None:
    for road in roads:
        a, b = road.line[0], road.line[-1]
        d = b - a
        length = float(np.hypot(*d))
        u = d / max(length, 1e-6)
        n = np.array([-u[1], u[0]])
        for _ in range(int(rng.poisson(3))):
            t = rng.uniform(0.2, 0.8) * length
            side = rng.choice([-1.0, 1.0]) * road.width / 4
            p = a + u * t + n * side
            truck_len = float(rng.uniform(12, 16.5))
            ang = float(np.arctan2(u[1], u[0]))
            boxes.append(
                Box(
                    float(p[0]),
                    float(p[1]),
                    truck_len,
                    2.5,
                    ang,
                    float(rng.uniform(3.0, 4.0)),
                    _pick(rng, (*CONTAINER_COLORS, (200, 200, 200), (180, 180, 176))),
                    "truck",
                )
            )


def _trees(
    rng: np.random.Generator,
    w: float,
    h: float,
    rot: Array,
    v_shift: float,
    width_bundle: float,
    v_road: float,
    style: Style,
) -> list[tuple[float, float, float]]:
    scale_k = min(4.0, max(0.2, w * h / 540_000.0))
    n_clusters = int(rng.integers(4, 14) * (0.3 + style.vegetation) * scale_k)
    out: list[tuple[float, float, float]] = []
    for _ in range(n_clusters):
        c = rng.uniform(-0.5, 0.5, 2) * np.array([w, h])
        spread = rng.uniform(10, 60)
        for _ in range(int(rng.integers(10, 60))):
            p = c + rng.normal(0, spread, 2)
            uv = np.linalg.solve(rot, p - rot @ np.array([0.0, v_shift]))
            if -16 < uv[1] < v_road + 6:
                continue
            out.append((float(p[0]), float(p[1]), float(rng.uniform(2.0, 5.0))))
    # Shrubs: scattered, and along the yard's edges (embankments, fences).
    for _ in range(int(rng.integers(80, 300) * (0.3 + style.vegetation) * scale_k)):
        if rng.random() < 0.5:
            u = rng.uniform(-0.6, 0.6) * max(w, h)
            v = float(rng.choice([-rng.uniform(12, 20), v_road + rng.uniform(5, 12)]))
            p = rot @ np.array([u, v]) + rot @ np.array([0.0, v_shift])
        else:
            p = rng.uniform(-0.5, 0.5, 2) * np.array([w, h])
            uv = np.linalg.solve(rot, p - rot @ np.array([0.0, v_shift]))
            if -12 < uv[1] < v_road + 4:
                continue
        out.append((float(p[0]), float(p[1]), float(rng.uniform(0.6, 1.8))))
    return out


def tree_height(radius: float) -> float:
    """Height (m) of a tree or shrub with a crown of ``radius`` metres."""
    return 2.2 * radius + (3.0 if radius > 2.0 else 0.3)
