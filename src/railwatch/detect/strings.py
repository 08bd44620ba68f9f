"""String support: keep weaker car candidates that continue a string of cars.

Railcars stand coupled in strings along a track: the next car of a string lies one car
length (plus the coupling gap) further along the same axis, on the same line. A centre
peak too weak to be a car on its own is much more likely a car when confident cars sit
exactly where its string neighbours would be (cars on blurred, noisy or hazy images give
low but regular peaks), and a weak peak with no such neighbour is usually clutter.

:func:`support_strings` keeps every candidate at or above ``threshold``, then grows the
kept set like hysteresis thresholding along strings: a candidate scoring at least
``one_side`` is kept when a kept car is its string neighbour on one side, one scoring at
least ``two_sides`` when kept cars are its neighbours on both sides; repeated until
nothing changes (a car kept this way can support the next); with ``pairs`` (the
default detector since v2.7, on fine tiles) two weak cars may continue a string
together. Neighbours must be parallel (axes within ``angle_deg``), on the same line
(centre within ``lateral_m`` of the candidate's axis) and at a centre spacing between
``spacing[0]`` and ``spacing[1]`` times the expected one (mean of the two lengths plus
``gap_m``).

The figures behind the defaults are in docs/detection-history.md ("String support: choosing
the thresholds").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial import cKDTree

from railwatch.detect.base import Detection
from railwatch.errors import InputError

#: Coupling gap between two cars of a string, metres (buffers and couplers, ~1 m).
GAP_M = 1.0
LATERAL_M = 1.5
ANGLE_DEG = 15.0
SPACING = (0.75, 1.35)


def string_neighbours(
    dets: Sequence[Detection],
    gsd: float,
    *,
    lateral_m: float = LATERAL_M,
    angle_deg: float = ANGLE_DEG,
    spacing: tuple[float, float] = SPACING,
    gap_m: float = GAP_M,
) -> list[list[tuple[int, bool]]]:
    """For each detection (pixel coordinates at ``gsd`` m per pixel), its string
    neighbours as ``(index, ahead)``: ``ahead`` says on which side along its own axis."""
    n = len(dets)
    out: list[list[tuple[int, bool]]] = [[] for _ in range(n)]
    if n < 2:
        return out
    if not gsd > 0:
        raise InputError(f"ground sample distance must be positive, got {gsd}")
    xy = np.array([(d.box.cx, d.box.cy) for d in dets], dtype=np.float64)
    length = np.array([d.box.length for d in dets], dtype=np.float64)
    theta = np.deg2rad(np.array([d.box.angle for d in dets], dtype=np.float64))
    gap = gap_m / gsd
    radius = spacing[1] * (float(length.max()) + gap)
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray")
    if not len(pairs):
        return out
    for a, b in ((pairs[:, 0], pairs[:, 1]), (pairs[:, 1], pairs[:, 0])):
        d = xy[b] - xy[a]
        ux, uy = np.cos(theta[a]), np.sin(theta[a])
        along = d[:, 0] * ux + d[:, 1] * uy
        lateral = np.abs(d[:, 0] * uy - d[:, 1] * ux)
        dtheta = np.abs((np.rad2deg(theta[a] - theta[b]) + 90.0) % 180.0 - 90.0)
        expected = (length[a] + length[b]) / 2.0 + gap
        ok = (
            (dtheta <= angle_deg)
            & (lateral * gsd <= lateral_m)
            & (np.abs(along) >= spacing[0] * expected)
            & (np.abs(along) <= spacing[1] * expected)
        )
        for i, j, ahead in zip(
            a[ok].tolist(), b[ok].tolist(), (along[ok] > 0).tolist(), strict=True
        ):
            out[i].append((j, ahead))
    return out


def support_strings(
    dets: Sequence[Detection],
    gsd: float,
    *,
    threshold: float,
    one_side: float,
    two_sides: float,
    lateral_m: float = LATERAL_M,
    angle_deg: float = ANGLE_DEG,
    spacing: tuple[float, float] = SPACING,
    gap_m: float = GAP_M,
    pairs: bool = False,
) -> list[Detection]:
    """``dets`` at or above ``threshold`` plus the weaker ones their strings support (see
    the module docstring), in the input order.

    With ``pairs`` a candidate of at least ``two_sides`` with a kept neighbour on one side
    also counts as supported on the other side by a candidate of at least ``one_side``
    there (which the kept one then supports in turn): two weak cars that continue a
    string together, each inside it but for the end one."""
    if not two_sides <= one_side <= threshold:
        raise InputError(
            f"string thresholds must satisfy two_sides <= one_side <= threshold, got "
            f"{two_sides:g}, {one_side:g}, {threshold:g}"
        )
    pool = [i for i, d in enumerate(dets) if d.score >= two_sides]
    sub = [dets[i] for i in pool]
    kept = [d.score >= threshold for d in sub]
    weak = sorted((i for i, d in enumerate(sub) if not kept[i]), key=lambda i: -sub[i].score)
    if weak:
        neighbours = string_neighbours(
            sub, gsd, lateral_m=lateral_m, angle_deg=angle_deg, spacing=spacing, gap_m=gap_m
        )
        changed = True
        while changed:
            changed = False
            for i in weak:
                if kept[i]:
                    continue
                sides = {ahead for j, ahead in neighbours[i] if kept[j]}
                if pairs and len(sides) == 1:
                    sides |= {ahead for j, ahead in neighbours[i] if sub[j].score >= one_side}
                if len(sides) >= (1 if sub[i].score >= one_side else 2):
                    kept[i] = True
                    changed = True
    return [d for d, k in zip(sub, kept, strict=True) if k]
