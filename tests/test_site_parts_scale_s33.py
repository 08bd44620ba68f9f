"""The 100 km rule for multi-part sites scales to thousands of parts (session 33).

``sites._check_parts_near`` measured every pair of parts (``_gap_km``, O(n²)): a site of
100 parts far apart took 2.9 s, one of 2,000 (a GeoJSON of many small polygons) about
half an hour. Now a floor of the gap (a great-circle distance on a sphere smaller than
the ellipsoid, between the parts' widened boxes) and an STRtree pick the pairs that may
lie within 100 km, and only those are measured. These tests check that the floor never
exceeds the measured gap (across the antimeridian and near the poles too), that the
pre-filter misses no near pair, and that random layouts get the same outcome (accepted,
or the same message naming the same pair) as a brute-force reference, the algorithm of
session 32 that measured every pair."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon

from railwatch import sites
from railwatch.errors import GeometryError
from railwatch.sites import MAX_PARTS_APART_KM, lat_lon_text


def _brute_force(parts: Sequence[Polygon], labels: Sequence[str], what: str) -> None:
    """Session 32's ``_check_parts_near``: every pair measured."""
    n = len(parts)
    gaps: dict[tuple[int, int], float] = {}

    def gap(i: int, j: int) -> float:
        key = (min(i, j), max(i, j))
        if key not in gaps:
            gaps[key] = sites._gap_km(parts[key[0]], parts[key[1]])
        return gaps[key]

    def groups(idx: Sequence[int]) -> list[int]:
        group = list(range(len(idx)))

        def root(i: int) -> int:
            while group[i] != i:
                i = group[i]
            return i

        for a in range(len(idx)):
            for b in range(a + 1, len(idx)):
                if root(a) != root(b) and gap(idx[a], idx[b]) <= MAX_PARTS_APART_KM:
                    group[root(b)] = root(a)
        return [root(i) for i in range(len(idx))]

    group = groups(list(range(n)))
    if len(set(group)) == 1:
        return
    _, i0, far = min(
        (gap(i, j), i, j)
        for i in range(n)
        if group[i] == group[0]
        for j in range(n)
        if group[j] != group[0]
    )
    km = gap(i0, far)
    odd = []
    for i, part in enumerate(parts):
        others = [p for j, p in enumerate(parts) if j != i]
        minx, _, maxx, _ = part.bounds
        if minx < -90.0 or maxx > 90.0:
            continue
        swapped = shapely.transform(part, lambda xy: xy[:, ::-1])
        near = min(sites._gap_km(swapped, o) for o in others)
        rest = [j for j in range(n) if j != i]
        if near <= MAX_PARTS_APART_KM and len(set(groups(rest))) == 1:
            odd.append((i, near))
    if len(odd) == 1 and len(parts) > 2:
        i, near = odd[0]
        away = min(gap(i, j) for j in range(n) if j != i)
        raise GeometryError(f"odd {labels[i]} {away:,.0f} {near:,.1f}")
    if odd:
        raise GeometryError(f"pair {labels[i0]} {labels[far]} {km:,.0f} {odd[0][1]:,.1f}")
    raise GeometryError(f"far {labels[i0]} {labels[far]} {sites._km_text(km)}")


def _outcome(check: Any, parts: Sequence[Polygon]) -> tuple[str, ...]:
    """Accepted, or the message's figures and names, taken from either wording."""
    labels = [f"feature {i}" for i in range(len(parts))]
    try:
        check(parts, labels, "site")
    except GeometryError as err:
        return (_figures(str(err), parts),)
    return ("accepted",)


def _figures(msg: str, parts: Sequence[Polygon]) -> str:
    """The kind of refusal, the parts it names and the distances it gives."""
    import re

    names = re.findall(r"feature \d+", msg)
    if msg.startswith(("odd", "pair", "far")):
        kind = msg.split()[0]
        nums = msg.split()[-2:] if kind != "far" else [msg.split()[-2] + " km"]
        return f"{kind} {names} {nums}"
    if "looks written as lat,lon" in msg:
        m = re.search(r"lies ([\d,]+) km from the rest.*would lie ([\d,.]+) km", msg)
        assert m is not None
        return f"odd {names[:1]} {[m.group(1), m.group(2)]}"
    if "one is written as lat,lon" in msg:
        m = re.search(r"lie ([\d,]+) km apart.*would lie ([\d,.]+) km apart", msg)
        assert m is not None
        return f"pair {names[:2]} {[m.group(1), m.group(2)]}"
    m = re.search(r"lie ([\d,.]+ km) apart at their nearest points", msg)
    assert m is not None, msg
    return f"far {names[:2]} {[m.group(1)]}"


def _part(rng: random.Random, lon: float, lat: float, size_km: float) -> Polygon:
    """A random quadrilateral around lon, lat, about ``size_km`` across, on one side of
    the antimeridian and within ±89.99°."""
    lat = max(-89.9, min(89.9, lat))
    dlat = size_km / 111.0
    dlon = min(size_km / (111.0 * max(math.cos(math.radians(lat)), 0.002)), 60.0)
    pts = []
    for k in range(4):
        ang = k * math.pi / 2 + rng.uniform(-0.5, 0.5)
        r = rng.uniform(0.3, 0.5)
        pts.append((lon + r * dlon * math.cos(ang), lat + r * dlat * math.sin(ang)))
    xs = [x for x, _ in pts]
    shift = 0.0
    if max(xs) > 180.0:
        shift = -(max(xs) - 179.999) if min(xs) - (max(xs) - 179.999) > -180 else 0.0
    if min(xs) < -180.0:
        shift = -180.0 - min(xs) + 0.001
    ys = [max(-89.99, min(89.99, y)) for _, y in pts]
    return Polygon([(x + shift, y) for x, y in zip(xs, ys, strict=True)])


def _layout(rng: random.Random, where: str) -> list[Polygon]:
    """2 to 8 parts around one place, their offsets up to 60, 150 or 250 km (so that gaps
    fall on both sides of 100 km): mid-latitudes (with one part written as lat,lon in
    some), the antimeridian or a pole."""
    if where == "antimeridian":
        lon0, lat0 = rng.choice([-179.8, 179.8]), rng.uniform(-70, 70)
    elif where == "pole":
        lon0, lat0 = rng.uniform(-180, 180), rng.choice([-1, 1]) * rng.uniform(88.0, 89.8)
    else:
        lon0, lat0 = rng.uniform(-80, 80), rng.uniform(-60, 60)
    swap = where == "mid" and rng.random() < 0.3  # one part written as lat,lon
    spread = 60.0 if swap else rng.choice([60.0, 150.0, 250.0])
    parts = []
    for _ in range(rng.randint(2, 8)):
        dist, bearing = rng.uniform(0, spread), rng.uniform(0, 360)
        lon, lat, _ = sites._GEOD.fwd(lon0, lat0, bearing, dist * 1000.0)
        lon = (lon + 180.0) % 360.0 - 180.0
        parts.append(_part(rng, lon, lat, rng.choice([0.5, 3.0, 30.0])))
    if swap:
        k = rng.randrange(len(parts))
        parts[k] = shapely.transform(parts[k], lambda xy: xy[:, ::-1])
    return parts


@pytest.mark.parametrize("where", ["mid", "antimeridian", "pole"])
def test_same_outcome_as_measuring_every_pair(where: str) -> None:
    rng = random.Random(f"s33-{where}")
    kinds = set()
    for _ in range(40):
        parts = _layout(rng, where)
        # the pre-filter misses no pair within 100 km of one another
        boxes = sites._floor_boxes(parts)
        tree = shapely.STRtree(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]))
        for i in range(len(parts)):
            found = set(sites._parts_within(tree, boxes, [i], MAX_PARTS_APART_KM)[1].tolist())
            for j in range(len(parts)):
                if j != i and sites._gap_km(parts[i], parts[j]) <= MAX_PARTS_APART_KM:
                    assert j in found, (where, i, j, parts[i].wkt, parts[j].wkt)
        got = _outcome(sites._check_parts_near, parts)
        assert got == _outcome(_brute_force, parts), [p.wkt for p in parts]
        kinds.add(got[0].split()[0])
    # each layout family saw both outcomes
    assert "accepted" in kinds and "far" in kinds, kinds


def test_floor_never_exceeds_the_gap() -> None:
    rng = random.Random(33)
    places = [(0.0, 10.0), (179.9, 60.0), (-179.9, -60.0), (0.0, 89.5), (120.0, -89.5)]
    for _ in range(300):
        lon0, lat0 = rng.choice(places)
        a = _part(rng, lon0 + rng.uniform(-0.5, 0.5), lat0, rng.choice([0.5, 20.0, 300.0]))
        lon, lat, _ = sites._GEOD.fwd(lon0, lat0, rng.uniform(0, 360), rng.uniform(0, 3e6))
        b = _part(rng, (lon + 180.0) % 360.0 - 180.0, lat, rng.choice([0.5, 20.0, 300.0]))
        boxes = sites._floor_boxes([a, b])
        floor = float(sites._gap_floor_km(boxes[:1], boxes[1:])[0])
        assert floor <= sites._gap_km(a, b) + 1e-9, (a.wkt, b.wkt)


def test_far_apart_parts_are_not_all_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    """400 parts 2° apart (about 170-220 km): session 32 measured 159,600 pairs (and as
    many swapped); the pairs that may be near are a few per part."""
    n = 400
    parts = [
        shapely.box(10 + (k % 40) * 2.0, -20 + (k // 40) * 2.0, 10.01 + (k % 40) * 2.0,
                    -19.99 + (k // 40) * 2.0)
        for k in range(n)
    ]  # fmt: skip
    calls = 0
    measure = sites._gap_km

    def counted(a: Any, b: Any) -> float:
        nonlocal calls
        calls += 1
        if calls > 20 * n:
            raise AssertionError(f"over {20 * n} pairs measured")
        return measure(a, b)

    monkeypatch.setattr(sites, "_gap_km", counted)
    with pytest.raises(GeometryError) as err:
        sites._check_parts_near(parts, [f"feature {i}" for i in range(n)], "site")
    gap = sites._GEOD.inv(10.01, -20.0, 12.0, -20.0)[2] / 1000.0
    assert f"feature 0 and feature 1 lie {gap:,.0f} km apart at their nearest points" in str(
        err.value
    )
    assert lat_lon_text(parts[0]) not in str(err.value)  # the plain wording, no lat,lon


def test_floor_is_zero_for_meeting_boxes() -> None:
    a = np.array([[179.0, 10.0, 180.5, 11.0]])
    b = np.array([[-179.8, 10.5, -179.0, 10.8]])  # across ±180°, within a's widened box
    assert float(sites._gap_floor_km(a, b)[0]) == 0.0
