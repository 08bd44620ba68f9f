"""Exact painting in the simulator (session 41): ``render_scene(..., exact_paint=True)``
fills polygons, circles and ellipses at their true area, where OpenCV's anti-aliased
filling (the default, unchanged) paints about 0.7 canvas pixels past every edge
(docs/simulator.md, "Known bias")."""

from __future__ import annotations

import hashlib
import math

import cv2
import numpy as np
import pytest
from shapely.geometry import Polygon

from railwatch.sim.cars import COUPLER_GAP, Car
from railwatch.sim.params import SceneParams
from railwatch.sim.render import Painter, Projection, ellipse_coverage, polygon_coverage
from railwatch.sim.scene import render_scene, scene_cars, scene_yard, supersampling


def _rect(rng: np.random.Generator) -> np.ndarray:
    w, h = rng.uniform(0.6, 25.0, 2)
    c = rng.uniform(35.0, 45.0, 2)
    ang = rng.uniform(0, np.pi)
    a = np.array([np.cos(ang), np.sin(ang)])
    n = np.array([-a[1], a[0]])
    uv = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
    return c + uv @ np.array([a, n])


def test_polygon_coverage_is_the_polygon_area() -> None:
    rng = np.random.default_rng(41)
    ratios = []
    for _ in range(200):
        pts = _rect(rng)
        cover = polygon_coverage([pts], (80, 80))
        assert cover is not None
        a = cover[1]
        assert a.dtype == np.float32 and a.min() >= 0.0 and a.max() <= 1.0
        ratios.append(float(a.sum()) / Polygon(pts).area)
    # unbiased on average, each within a few per cent (sampling at 1/8 pixel)
    assert abs(np.mean(ratios) - 1.0) < 0.005
    assert max(abs(r - 1.0) for r in ratios) < 0.08


def test_polygon_coverage_non_convex_and_clipped() -> None:
    # an L shape (non-convex), both orientations: exactly its area on whole pixels
    ell = np.array([[2, 2], [12, 2], [12, 5], [5, 5], [5, 10], [2, 10]], float)
    for pts in (ell, ell[::-1]):
        cover = polygon_coverage([pts], (20, 20))
        assert cover is not None
        (y0, y1, x0, x1), a = cover
        assert (y0, y1, x0, x1) == (2, 10, 2, 12)
        assert float(a.sum()) == pytest.approx(Polygon(pts).area)
        assert set(np.unique(a)) == {0.0, 1.0}
    # half a pixel each side: quarter, half and full pixels
    cover = polygon_coverage([np.array([[1.5, 1.5], [4.5, 1.5], [4.5, 3.5], [1.5, 3.5]])], (8, 8))
    assert cover is not None
    assert cover[1][0, 0] == pytest.approx(0.25) and cover[1][0, 1] == pytest.approx(0.5)
    assert cover[1][1, 1] == pytest.approx(1.0)
    # partly outside the canvas: only the inside part; wholly outside: None
    cover = polygon_coverage([np.array([[-5, -5], [4, -5], [4, 4], [-5, 4]], float)], (10, 10))
    assert cover is not None and float(cover[1].sum()) == pytest.approx(16.0)
    assert polygon_coverage([np.array([[20, 20], [30, 20], [30, 30]], float)], (10, 10)) is None


def test_ellipse_coverage_is_its_area() -> None:
    for r_u, r_v, ang in ((3.0, 3.0, 0.0), (6.2, 1.7, 0.6), (0.8, 0.5, 2.0)):
        axis = np.array([math.cos(ang), math.sin(ang)])
        cover = ellipse_coverage(np.array([20.3, 18.7]), axis, r_u, r_v, (40, 40))
        assert cover is not None
        assert float(cover[1].sum()) == pytest.approx(math.pi * r_u * r_v, rel=0.03)


def _bodies(gsd: float, size: int, exact: bool) -> tuple[float, float]:
    """Drawn / body area of isolated uniformly painted car bodies (nadir, sun at the
    zenith: the body outline is the outermost thing a car paints), on the scene's
    supersampled canvas and area-averaged down as ``render_scene`` does; and the mean
    car share of the pixel at the middle of the gaps between coupled cars."""
    p = SceneParams(seed=5, gsd=gsd, size_px=(size, size), n_cars=40, off_nadir=0.0)
    cars = scene_cars(p, scene_yard(p))
    ss = supersampling(p)
    extent = size * gsd
    proj = Projection(extent, extent, gsd / ss)

    def draw(cs: list[Car]) -> np.ndarray:
        canvas = np.zeros((size * ss, size * ss), np.uint8)
        pt = Painter(canvas, proj, exact=exact)
        for c in cs:
            pt.poly(c.corners(), (255, 0, 0))
        small = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA) if ss > 1 else canvas
        return np.asarray(small, dtype=np.float64) / 255.0

    inside = [c for c in cars if np.all(np.abs(c.corners()) < extent / 2 - 5)][:12]
    assert len(inside) >= 6
    ratio = float(np.mean([draw([c]).sum() * gsd * gsd / (c.length * c.width) for c in inside]))
    img = draw(cars)
    out = Projection(extent, extent, gsd)
    shares = []
    for i, a in enumerate(cars):
        ax = np.array([math.cos(a.angle), math.sin(a.angle)])
        for b in cars[i + 1 :]:
            d = np.array([b.cx - a.cx, b.cy - a.cy])
            along, across = float(d @ ax), abs(float(d[0] * ax[1] - d[1] * ax[0]))
            if across > 0.3 or abs(abs(along) - (a.length + b.length) / 2 - COUPLER_GAP) > 0.2:
                continue
            s = 1.0 if along > 0 else -1.0
            bx = np.array([math.cos(b.angle), math.sin(b.angle)])
            mid = (
                np.array([a.cx, a.cy])
                + ax * s * a.length / 2
                + np.array([b.cx, b.cy])
                - bx * s * b.length / 2
            ) / 2
            col, row = out.px(mid)[0]
            if 0 <= col < size and 0 <= row < size:
                shares.append(img[int(row), int(col)])
    assert len(shares) >= 10
    return ratio, float(np.mean(shares))


@pytest.mark.parametrize(("gsd", "size"), [(0.3, 512), (0.5, 400), (1.0, 300), (3.0, 200)])
def test_exact_paint_draws_cars_at_their_area(gsd: float, size: int) -> None:
    default, gap_default = _bodies(gsd, size, exact=False)
    exact, gap_exact = _bodies(gsd, size, exact=True)
    assert default > 1.1  # the known bias of the default drawing
    assert exact == pytest.approx(1.0, abs=0.02)
    assert gap_exact < gap_default
    if gsd <= 0.5:  # a 0.95 m gap holds a pixel centre that no car covers
        assert gap_exact < 0.05


def test_exact_paint_scene_same_truth_other_pixels() -> None:
    p = SceneParams(seed=11, gsd=0.5, size_px=(256, 256), n_cars=40)
    a = render_scene(p)
    b = render_scene(p, exact_paint=True)
    c = render_scene(p, exact_paint=True)
    assert np.array_equal(b.image, c.image)  # deterministic
    assert np.array_equal(a.labels, b.labels)
    assert [t.polygon_px.wkt for t in a.truth] == [t.polygon_px.wkt for t in b.truth]
    changed = (a.image != b.image).any(axis=2)
    assert 0.01 < changed.mean() < 0.8


#: sha256 of two small scenes' pixels as the default drawing made them before exact
#: painting existed (commit e129480): the default must stay bit-identical (the shipped
#: detector, its calibration and the benchmarks were made on these pixels). If OpenCV or
#: numpy ever change them, that is a new SIM_VERSION, not a new checksum here.
DEFAULT_PIXELS = {
    (11, 0.5, 256): "21587ecf86428ca0057cc7d3253842d7ff13a00013180f4c9ab0ba0fff477c9a",
    (12, 3.0, 160): "e41d14c98b98cc06e9f37abe689c718b17501db80c90683e1812f01c5aef95c4",
}


@pytest.mark.parametrize(("key", "digest"), list(DEFAULT_PIXELS.items()))
def test_default_drawing_unchanged(key: tuple[int, float, int], digest: str) -> None:
    seed, gsd, size = key
    p = SceneParams(seed=seed, gsd=gsd, size_px=(size, size), n_cars=40)
    for sc in (render_scene(p), render_scene(p, exact_paint=False)):
        assert hashlib.sha256(sc.image.tobytes()).hexdigest() == digest
