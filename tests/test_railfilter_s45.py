"""Track evidence (``detect.track_evidence``, 2026-12-07, session 45): an opt-in filter of
the default detector that keeps a box only where the image shows rails along its axis."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from shapely.geometry import Point

import railwatch.detect.default as default_mod
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.default import DefaultDetector
from railwatch.detect.track_evidence import PAIR_MAX_GSD, keep_on_track, track_evidence
from railwatch.sim.params import SceneParams
from railwatch.sim.scene import RenderedScene, render_scene

GSD = 0.3


@pytest.fixture(scope="module")
def scene() -> RenderedScene:
    """A small 0.3 m yard with empty tracks (no cars) and bare ground beside it."""
    return render_scene(
        SceneParams(seed=4501, gsd=GSD, size_px=(900, 900), n_cars=0, n_tracks=3, yard_angle=15.0)
    )


def _pixel_lines(sc: RenderedScene) -> list[np.ndarray]:
    inv = ~sc.transform
    out = []
    for line in sc.tracks:
        pts = np.array([inv @ (x, y) for x, y in line.coords])
        out.append(pts)
    return out


def _boxes(sc: RenderedScene) -> tuple[Detection, Detection]:
    """A car-sized box on the middle of the longest track in the image, and one of the
    same size and direction on bare ground at least 40 m from every track."""
    from shapely.geometry import LineString

    lines = [LineString(p) for p in _pixel_lines(sc)]
    h, w = sc.valid.shape
    frame = LineString([(0, 0), (w, 0), (w, h), (0, h), (0, 0)]).convex_hull
    inside = [ln.intersection(frame) for ln in lines]
    best = max((g for g in inside if g.geom_type == "LineString"), key=lambda g: g.length)
    mid = best.interpolate(0.5, normalized=True)
    a = best.interpolate(0.45, normalized=True)
    b = best.interpolate(0.55, normalized=True)
    angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x)) % 180.0
    on = Detection(OrientedBox(mid.x, mid.y, 14.0 / GSD, 3.1 / GSD, angle), score=0.9)
    far = None
    for y in range(60, h - 60, 20):
        for x in range(60, w - 60, 20):
            p = Point(x, y)
            if sc.valid[y, x] and min(ln.distance(p) for ln in lines) * GSD >= 40.0:
                far = (x, y)
                break
        if far:
            break
    assert far is not None, "the scene has no bare ground 40 m from its tracks"
    off = Detection(OrientedBox(far[0], far[1], 14.0 / GSD, 3.1 / GSD, angle), score=0.9)
    return on, off


def test_box_on_track_kept_box_on_bare_ground_dropped(scene: RenderedScene) -> None:
    on, off = _boxes(scene)
    tracks, looked = track_evidence(scene.image, GSD, [on, off], scene.valid)
    assert tracks[0] >= 1  # rails along the box on the track
    assert tracks[1] == 0 and looked[1] >= 3  # open ground along the other, no rails
    kept = keep_on_track(scene.image, GSD, [on, off], scene.valid)
    assert kept == [on]


def test_coarse_tiles_and_tiles_without_rails_keep_every_box(scene: RenderedScene) -> None:
    on, off = _boxes(scene)
    # rails are not looked for at PAIR_MAX_GSD and coarser
    assert keep_on_track(scene.image, PAIR_MAX_GSD, [on, off], scene.valid) == [on, off]
    # no box with a track in the tile: the test cannot judge, nothing is dropped
    assert keep_on_track(scene.image, GSD, [off], scene.valid) == [off]


def test_option_off_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def spy(image: np.ndarray, gsd: float, dets: Any, valid: Any = None, **kw: Any) -> Any:
        calls.append(len(dets))
        return keep_on_track(image, gsd, dets, valid, **kw)

    monkeypatch.setattr(default_mod, "keep_on_track", spy)
    shipped = DefaultDetector()
    off = DefaultDetector(track_evidence=False)
    assert off.track_evidence is False and shipped.track_evidence is False
    assert off.version == shipped.version  # the shipped detector's version is kept
    sc = render_scene(SceneParams(seed=4502, gsd=GSD, size_px=(600, 600), n_cars=12))
    a = shipped.detect(sc.image, GSD, sc.valid)
    b = off.detect(sc.image, GSD, sc.valid)
    assert a  # cars to filter
    assert calls == []  # the filter never runs when the option is off
    assert [(d.box, d.score) for d in a] == [(d.box, d.score) for d in b]
    on = DefaultDetector(track_evidence=True)
    assert on.version != shipped.version  # processed scenes are redone with the option
    kept = on.detect(sc.image, GSD, sc.valid)
    assert calls  # ... and it runs when it is on
    assert {d.box for d in kept} <= {d.box for d in a}  # it only drops boxes
